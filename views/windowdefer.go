package views

import (
	"bytes"
	"fmt"
	"slices"
	"sort"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql/types"
)

// Window operators wait for the end of their view's backfill.
//
// A change of a window's partition costs what it moves: the rows from it
// to the partition's end for running functions (windowrun.go), the whole
// partition for percent_rank or ntile (window.go). A backfill reads its
// sources in key order, which is rarely the window's order, so each step
// lands rows all over every partition: each step recomputed whole
// partitions (and a whole-partition window each row), and a backfill cost
// the square of the table (20,000 rows in 10 partitions: 15 s with
// row_number, 173 s with percent_rank).
//
// So while a view created with this layout (backfillRecord.WindowDefer)
// backfills, its window operators keep their input rows aside, by window
// key, under 'P' op (pendingKey), and emit nothing; writes that reach an
// admitted row add to them in the same way. Once every source is read,
// the backfill's next steps *settle* the windows, bottom up: each step
// takes the next pending rows in key order (whole partitions, except for
// running functions, whose rows can join a partition's end in order) and
// applies them as one change of their partitions, which then holds the
// rows in order: a running function's rows are each computed once, a
// whole partition once. A window's settle cursor (windowSettle.Next)
// divides its keys: below it rows are the operator's and change it as
// usual, from it on they still wait. The view turns live when every
// window is settled.

// windowSettle is how far a window's pending rows have been applied.
type windowSettle struct {
	ID uint8 `json:"id"`
	// Next is the first window key (after the operator's prefix) still
	// pending; Done: none is.
	Next []byte `json:"next,omitempty"`
	Done bool   `json:"done,omitempty"`
}

// windowSettleOf returns a window's entry in the record (nil: no row of
// it has been applied yet).
func (b *backfillRecord) windowSettleOf(id uint8) *windowSettle {
	for i := range b.Settle {
		if b.Settle[i].ID == id {
			return &b.Settle[i]
		}
	}
	return nil
}

// defersWindow reports whether a change of window x's row under key (the
// operator's prefix included) is to wait for the settle.
func (r *run) defersWindow(x *Window, key []byte) bool {
	if r.m.live[r.p.View] {
		return false
	}
	rec := r.recs[r.p.View]
	if rec == nil || rec.State != stateBackfilling || !rec.WindowDefer {
		return false
	}
	s := rec.windowSettleOf(x.ID)
	switch {
	case s == nil:
		return true
	case s.Done:
		return false
	}
	return bytes.Compare(key[len(x.prefix):], s.Next) >= 0
}

// pendingPrefix is where window x's waiting rows are kept.
func (r *run) pendingPrefix(x *Window) []byte { return opPrefix(r.p.View, 'P', x.ID) }

// deferWindow keeps a change of window x's row (key, the operator's
// prefix included) for the settle: its count under the same key in the
// pending range.
func (r *run) deferWindow(x *Window, key []byte, row exec.Row, w int64) error {
	payload, err := types.EncodeRow(nil, x.Types, row)
	if err != nil {
		return err
	}
	k := append(r.pendingPrefix(x), key[len(x.prefix):]...)
	_, after, err := r.ov.addCount(k, w, payload)
	if err == nil && after < 0 {
		err = fmt.Errorf("materialized view %d: negative multiplicity %d of a window's pending row", r.p.View, after)
	}
	return err
}

// settleWindows applies up to about budget of p's pending window rows
// (r.use(p) done): it returns how many it took and whether every window
// is settled.
func (r *run) settleWindows(p *Plan, rec *backfillRecord, budget int) (int, bool, error) {
	took := 0
	for _, x := range p.windows {
		s := rec.windowSettleOf(x.ID)
		if s == nil {
			rec.Settle = append(rec.Settle, windowSettle{ID: x.ID})
			s = &rec.Settle[len(rec.Settle)-1]
		}
		if s.Done {
			continue
		}
		if took >= budget {
			return took, false, nil
		}
		n, err := r.settleWindow(p, x, s, budget-took)
		if err != nil {
			return took, false, err
		}
		took += n
		if !s.Done {
			return took, false, nil
		}
	}
	return took, true, nil
}

// settleWindow applies window x's next pending rows, about budget of
// them, and moves its cursor past them; it returns how many it took.
func (r *run) settleWindow(p *Plan, x *Window, s *windowSettle, budget int) (int, error) {
	prefix := r.pendingPrefix(x)
	running := x.runs() != nil
	var taken []runChange
	var lastPart []byte
	s.Done = true
	err := r.ov.merge(append(slices.Clone(prefix), s.Next...), prefixEnd(prefix), func(k, v []byte) error {
		n, payload := decodeCounted(v)
		row, err := types.DecodeRow(x.Types, payload)
		if err != nil {
			return err
		}
		part, err := x.partitionKey(r, row)
		if err != nil {
			return err
		}
		// A running window's rows join their partition's end one
		// chunk at a time; other windows take whole partitions.
		if len(taken) >= budget && (running || !bytes.Equal(part, lastPart)) {
			s.Next, s.Done = slices.Clone(k[len(prefix):]), false
			return log.ErrStop
		}
		lastPart = part
		// olen is where the key's partition ends (the changes of a
		// partition are applied together below).
		taken = append(taken, runChange{key: append(slices.Clone(x.prefix), k[len(prefix):]...), olen: len(part), row: row, w: n})
		return nil
	})
	if err != nil {
		return 0, err
	}
	if s.Done {
		s.Next = nil
	}
	for _, c := range taken {
		r.ov.del(append(slices.Clone(prefix), c.key[len(x.prefix):]...))
	}
	// The cursor has moved past them: the rows are the window's now.
	if running {
		for _, c := range taken {
			if err := r.window(x, c.row, c.w); err != nil {
				return 0, err
			}
		}
		// Applied at the pass's end (flushRunning), one recomputation
		// per partition, emitting the rows' outputs up the plan.
		return len(taken), r.settle(p)
	}
	for i := 0; i < len(taken); {
		j := i + 1
		for j < len(taken) && bytes.Equal(taken[j].key[:taken[j].olen], taken[i].key[:taken[i].olen]) {
			j++
		}
		if err := r.windowPartition(x, taken[i].key[:taken[i].olen], taken[i:j]); err != nil {
			return 0, err
		}
		i = j
	}
	// The outputs' effects above (an aggregate's folded groups) are
	// finished in this plan.
	return len(taken), r.settle(p)
}

// partitionKey is the key prefix of row's partition (the operator's
// prefix included).
func (x *Window) partitionKey(r *run, row exec.Row) ([]byte, error) {
	buf := slices.Clone(x.prefix)
	for i, e := range x.Funcs[0].Partition {
		v, err := e.Eval(r.env, row)
		if err != nil {
			return nil, err
		}
		buf = appendValue(buf, x.partTypes[i], v)
	}
	return buf, nil
}

// windowPartition applies changes of one partition, in key order, each
// key once, to a window that recomputes its partitions (not a running
// one): one read and one recomputation for all of them.
func (r *run) windowPartition(x *Window, partition []byte, changes []runChange) error {
	es, err := x.entries(r, string(partition))
	if err != nil {
		return err
	}
	before, err := x.outputs(r, es)
	if err != nil {
		return err
	}
	after, gone, err := mergeWindowChanges(r.p.View, es, changes)
	if err != nil {
		return err
	}
	for _, k := range gone {
		r.ov.del(k)
	}
	for _, ch := range changes {
		i, found := sort.Find(len(after), func(i int) int { return bytes.Compare(ch.key, after[i].key) })
		if !found {
			continue
		}
		payload, err := types.EncodeRow(nil, x.Types, after[i].row)
		if err != nil {
			return err
		}
		r.ov.set(ch.key, encodeCounted(after[i].n, payload))
	}
	afterRows, err := x.outputs(r, after)
	if err != nil {
		return err
	}
	return r.windowDiff(x, before, afterRows)
}

// mergeWindowChanges applies weighted changes, in key order and one per
// key, to a partition's entries es (in key order, left as they are): the
// entries after them, and the keys whose count fell to zero.
func mergeWindowChanges(view log.TableID, es []windowEntry, changes []runChange) ([]windowEntry, [][]byte, error) {
	after := slices.Clone(es)
	var gone [][]byte
	for _, ch := range changes {
		i, found := sort.Find(len(after), func(i int) int { return bytes.Compare(ch.key, after[i].key) })
		n := ch.w
		if found {
			n += after[i].n
		}
		switch {
		case n < 0:
			return nil, nil, fmt.Errorf("materialized view %d: negative multiplicity %d in a window", view, n)
		case found && n == 0:
			after = slices.Delete(after, i, i+1)
			gone = append(gone, ch.key)
		case found:
			after[i].n = n
		case n > 0:
			after = slices.Insert(after, i, windowEntry{key: ch.key, row: ch.row, n: n})
		}
	}
	return after, gone, nil
}
