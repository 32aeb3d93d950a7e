package session

import (
	"context"
	"iter"
	"strconv"
	"strings"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/pgwire"
	"github.com/strand-db/strand/planner"
	"github.com/strand-db/strand/sql"
	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

// A cursor is a query whose rows are fetched piecemeal (DECLARE, FETCH,
// CLOSE). A plain cursor lives in its transaction block and reads its
// snapshot lazily; WITH HOLD materializes the rows at DECLARE and outlives
// the transaction. A cursor FOR SUBSCRIBE t returns the table's changes:
// FETCH returns up to n changes that are durable, waiting for at least one
// when none is pending.
type cursor struct {
	name string
	cols []exec.Column
	hold bool
	// rows of a WITH HOLD cursor not yet fetched
	rows []exec.Row
	// next and stop pull a lazy query
	next func() (exec.Row, error, bool)
	stop func()
	sub  *subCursor
}

func (c *cursor) close() {
	if c.stop != nil {
		c.stop()
		c.stop, c.next = nil, nil
	}
}

// closeCursors ends the cursors of a transaction (all but WITH HOLD ones)
// or all of them.
func (s *Session) closeCursors(all bool) {
	for name, c := range s.cursors {
		if all || !c.hold {
			c.close()
			delete(s.cursors, name)
		}
	}
}

func (s *Session) declare(ctx context.Context, d *sql.DeclareCursor, params []types.Datum) error {
	if s.cursors == nil {
		s.cursors = map[string]*cursor{}
	}
	if _, dup := s.cursors[d.Name]; dup {
		return pgerr.New(pgerr.DuplicateCursor, "cursor %q already exists", d.Name)
	}
	c := &cursor{name: d.Name, hold: d.Hold}
	if sub, ok := d.Query.(*sql.Subscribe); ok {
		sc, err := s.newSubCursor(sub)
		if err != nil {
			return err
		}
		c.sub, c.cols, c.hold = sc, sc.cols, true
		s.cursors[d.Name] = c
		return nil
	}
	if s.txn == nil && !d.Hold {
		return pgerr.New(pgerr.NoActiveSQLTransaction, "DECLARE CURSOR can only be used in transaction blocks")
	}
	q, ok := d.Query.(*sql.Query)
	if !ok {
		return pgerr.New(pgerr.FeatureNotSupported, "DECLARE CURSOR for %s is not supported", statementName(d.Query))
	}
	p, err := s.prepare(q, nil)
	if err != nil {
		return err
	}
	// The rows are pulled by later FETCHes: the query must outlive the
	// DECLARE statement's context.
	rows, _, err := s.query(context.WithoutCancel(ctx), p, params, q)
	if err != nil {
		return err
	}
	c.cols = p.cols
	if d.Hold {
		for r, err := range rows {
			if err != nil {
				return err
			}
			c.rows = append(c.rows, append(exec.Row(nil), r...))
		}
	} else {
		c.next, c.stop = iter.Pull2(rows)
	}
	s.cursors[d.Name] = c
	return nil
}

// cursorColumns describes what FETCH from a cursor returns.
func (s *Session) cursorColumns(name string) ([]exec.Column, error) {
	c, ok := s.cursors[name]
	if !ok {
		return nil, pgerr.New(pgerr.InvalidCursorName, "cursor %q does not exist", name)
	}
	return c.cols, nil
}

func (s *Session) fetch(ctx context.Context, f *sql.Fetch) (rowSeq, string, error) {
	c, ok := s.cursors[f.Cursor]
	if !ok {
		return nil, "", pgerr.New(pgerr.InvalidCursorName, "cursor %q does not exist", f.Cursor)
	}
	limit := f.Count
	if f.All {
		limit = -1
	}
	var out []exec.Row
	switch {
	case c.sub != nil:
		var err error
		if out, err = c.sub.fetch(ctx, s, limit); err != nil {
			return nil, "", err
		}
	case c.next == nil:
		n := len(c.rows)
		if limit >= 0 && int(limit) < n {
			n = int(limit)
		}
		out, c.rows = c.rows[:n], c.rows[n:]
	default:
		for limit < 0 || int64(len(out)) < limit {
			r, err, ok := c.next()
			if !ok {
				break
			}
			if err != nil {
				return nil, "", err
			}
			out = append(out, append(exec.Row(nil), r...))
		}
	}
	tag := "FETCH " + strconv.Itoa(len(out))
	return func(yield func(exec.Row, error) bool) {
		for _, r := range out {
			if !yield(r, nil) {
				return
			}
		}
	}, tag, nil
}

func (s *Session) closeCursor(cl *sql.Close) error {
	if cl.All {
		s.closeCursors(true)
		return nil
	}
	c, ok := s.cursors[cl.Cursor]
	if !ok {
		return pgerr.New(pgerr.InvalidCursorName, "cursor %q does not exist", cl.Cursor)
	}
	c.close()
	delete(s.cursors, cl.Cursor)
	return nil
}

// subCursor is a subscription read by FETCH.
type subCursor struct {
	table     log.TableID
	name      string
	pos       uint64
	keyPrefix string
	cols      []exec.Column
}

func (s *Session) newSubCursor(sub *sql.Subscribe) (*subCursor, error) {
	b := s.builder(s.catalog(), nil)
	td, err := b.LookupTable(sub.Target.Schema, sub.Target.Name)
	if err != nil {
		return nil, err
	}
	if td.Kind == log.View {
		return nil, pgerr.New(pgerr.FeatureNotSupported, "SUBSCRIBE to a materialized view is not supported yet")
	}
	sc := &subCursor{table: td.ID, name: td.Name}
	if sc.pos, sc.keyPrefix, err = s.subscribeOptions(sub); err != nil {
		return nil, err
	}
	text, int8 := types.Make(types.TextOID), types.Make(types.Int8OID)
	sc.cols = []exec.Column{{Name: "_position", T: int8}, {Name: "_table", T: text}, {Name: "_key", T: text}, {Name: exec.VersionColumn, T: int8}, {Name: "_op", T: text}}
	l := exec.NewTableLayout(td)
	for i, c := range l.Cur.Columns {
		sc.cols = append(sc.cols, exec.Column{Name: c.Name, T: l.Types[i], Table: planner.TableOID(td.ID), Attr: uint16(i + 1)})
	}
	return sc, nil
}

// fetch returns up to limit (-1: all pending) changes after the cursor's
// position, waiting for the first one when none is durable yet.
func (sc *subCursor) fetch(ctx context.Context, s *Session, limit int64) ([]exec.Row, error) {
	for {
		changed := s.eng.Log.Changed()
		snap := s.eng.Log.Snapshot()
		td, ok := snap.Catalog().Table(sc.table)
		if !ok {
			snap.Release()
			return nil, pgerr.New(pgerr.UndefinedTable, "relation %q was dropped", sc.name)
		}
		l := exec.NewTableLayout(td)
		var out []exec.Row
		err := snap.Events(sc.table, sc.pos, func(e *log.Event) error {
			if limit >= 0 && int64(len(out)) >= limit {
				return log.ErrStop
			}
			sc.pos = e.LSN
			key := l.KeyText(e.Key)
			if sc.keyPrefix != "" && !strings.HasPrefix(key, sc.keyPrefix) {
				return nil
			}
			row := exec.Row{int64(e.LSN), td.Name, key, int64(e.Version), e.Op.String()}
			if e.Op == log.OpDelete {
				row = append(row, make(exec.Row, len(l.Types))...)
			} else {
				vals, err := l.Decode(e.SchemaVersion, e.Row, e.Version, nil)
				if err != nil {
					return err
				}
				row = append(row, vals[:len(l.Types)]...)
			}
			out = append(out, row)
			return nil
		})
		snap.Release()
		if err != nil {
			return nil, err
		}
		if len(out) > 0 || limit == 0 {
			return out, nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return nil, context.Cause(ctx)
		}
	}
}

// DescribeCursor implements pgwire.CursorDescriber.
func (s *Session) DescribeCursor(name string) ([]pgwire.Column, bool) {
	c, ok := s.cursors[name]
	if !ok {
		return nil, false
	}
	return (&prepared{cols: c.cols}).pgColumns(), true
}
