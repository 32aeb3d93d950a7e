package views

import (
	"fmt"
	"slices"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql/types"
)

// Changelogs: a materialized view created WITH (changelog = true) keeps
// its rows' changes as events of its own, per key, as a keyed table
// keeps its writes. The maintainer turns each intent's output delta of
// the view (record, noteChange) into writes that the log appends in the
// same commit (log.HookInput.Writes): the row each key ends the intent
// with, or its deletion. SUBSCRIBE from a position and consumer groups
// then read the view as they read a table. Only a view keyed by its
// group (GROUP BY columns all in its output) can have one: each key has
// one row, so its changes are an event stream like a table's.

// changelog is what a view's changelog needs to key its rows.
type changelog struct {
	types  []types.T
	keyIdx []int
}

func newChangelog(td *log.TableDesc) *changelog {
	l := exec.NewTableLayout(td)
	return &changelog{types: l.Types, keyIdx: l.KeyIdx}
}

// changelogWrites appends the writes of the changelogs of the views the
// intent changed: per key, in the order the keys first changed, its last
// row, or its deletion when it has none. The changes of views without a
// feed leave feedOut.
func (r *run) changelogWrites(dst []log.Write) ([]log.Write, error) {
	ids := make([]log.TableID, 0, len(r.feedOut))
	for id := range r.feedOut {
		if r.c.logs[id] != nil {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range ids {
		cl, changes := r.c.logs[id], r.feedOut[id]
		if !r.watched[id] {
			delete(r.feedOut, id)
		}
		if len(cl.keyIdx) == 0 {
			return nil, fmt.Errorf("materialized view %d: a changelog needs a key", id)
		}
		// The net weight of each row first: within an intent a row may
		// come and go.
		nets := map[string]int64{}
		var rows []string
		for _, c := range changes {
			k := string(c.Row)
			if _, ok := nets[k]; !ok {
				rows = append(rows, k)
			}
			nets[k] += c.W
		}
		type keyed struct {
			row  []byte // the key's row after the intent (nil: none)
			gone bool   // a row of the key left
		}
		byKey := map[string]*keyed{}
		var keys []string
		for _, row := range rows {
			w := nets[row]
			if w == 0 {
				continue
			}
			vals, err := types.DecodeRow(cl.types, []byte(row))
			if err != nil {
				return nil, fmt.Errorf("materialized view %d: changelog: %w", id, err)
			}
			var key []byte
			for _, i := range cl.keyIdx {
				key = types.AppendKey(key, cl.types[i], vals[i])
			}
			e := byKey[string(key)]
			if e == nil {
				e = &keyed{}
				byKey[string(key)] = e
				keys = append(keys, string(key))
			}
			if w > 0 {
				e.row = []byte(row)
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
	return dst, nil
}
