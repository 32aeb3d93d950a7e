package session

import (
	"context"
	"iter"
	"strconv"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/pgwire"
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
	if c.sub != nil {
		c.sub.close()
	}
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
	if len(f.Options) > 0 && c.sub == nil {
		return nil, "", pgerr.New(pgerr.FeatureNotSupported, "FETCH options apply to SUBSCRIBE cursors only")
	}
	limit := f.Count
	if f.All {
		limit = -1
	}
	var out []exec.Row
	switch {
	case c.sub != nil:
		wait, err := fetchTimeout(f)
		if err != nil {
			return nil, "", err
		}
		if out, err = c.sub.fetch(ctx, s, limit, wait); err != nil {
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

// DescribeCursor implements pgwire.CursorDescriber.
func (s *Session) DescribeCursor(name string) ([]pgwire.Column, bool) {
	c, ok := s.cursors[name]
	if !ok {
		return nil, false
	}
	return (&prepared{cols: c.cols}).pgColumns(), true
}
