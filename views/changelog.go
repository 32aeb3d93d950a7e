package views

import (
	"slices"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/log"
)

// Changelogs: a materialized view created WITH (changelog = true) keeps
// its rows' changes as events of its own, per key, as a keyed table
// keeps its writes. The maintainer turns each intent's output delta of
// the view (record) into writes that the log appends in the same commit
// (log.HookInput.Writes): the row each key ends the intent with, or its
// deletion. SUBSCRIBE from a position and consumer groups then read the
// view as they read a table. Only a view with a key can have one (its
// group, or the key of the keyed table its rows stand for): each key has
// one row, so its changes are an event stream like a table's.

// changelog is what a view's changelog needs to key its rows: the key
// encoding of the view's table layout (exec.TableLayout.Key).
type changelog struct {
	layout *exec.TableLayout
}

func newChangelog(td *log.TableDesc) *changelog {
	return &changelog{layout: exec.NewTableLayout(td)}
}

// loggedChange is an output change of a view with a changelog: its row
// (encoded) under its key, added w times (removed when w is negative).
type loggedChange struct {
	key, row []byte
	w        int64
}

// logChange keeps an output change (out, encoded as row) of the view
// being maintained for its changelog.
func (r *run) logChange(cl *changelog, out exec.Row, row []byte, w int64) {
	if r.logOut == nil {
		r.logOut = map[log.TableID][]loggedChange{}
	}
	r.logOut[r.p.View] = append(r.logOut[r.p.View], loggedChange{key: cl.layout.Key(out), row: row, w: w})
}

// changelogWrites appends the writes of the changelogs of the views the
// intent changed: per key, in the order the keys first changed, its last
// row, or its deletion when it has none.
func (r *run) changelogWrites(dst []log.Write) []log.Write {
	ids := make([]log.TableID, 0, len(r.logOut))
	for id := range r.logOut {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		changes := r.logOut[id]
		// The net weight of each row first: within an intent a row may
		// come and go.
		nets := map[string]int64{}
		for _, c := range changes {
			nets[string(c.row)] += c.w
		}
		type keyed struct {
			row  []byte // the key's row after the intent (nil: none)
			gone bool   // a row of the key left
		}
		byKey := map[string]*keyed{}
		var keys []string
		for _, c := range changes {
			w := nets[string(c.row)]
			if w == 0 {
				continue
			}
			e := byKey[string(c.key)]
			if e == nil {
				e = &keyed{}
				byKey[string(c.key)] = e
				keys = append(keys, string(c.key))
			}
			if w > 0 {
				e.row = c.row
			} else {
				e.gone = true
			}
		}
		for _, k := range keys {
			e := byKey[k]
			if e.row != nil {
				dst = append(dst, log.Write{Table: id, Key: []byte(k), Row: e.row})
			} else if e.gone {
				dst = append(dst, log.Write{Table: id, Key: []byte(k), Delete: true})
			}
		}
	}
	return dst
}
