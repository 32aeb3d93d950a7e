package views

import (
	"bytes"
	"fmt"
	"slices"
	"sort"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/sql/types"
)

// Window computes window functions (lag, lead, rank, running sums, ...)
// over its input's rows, partition by partition: every function has the
// same PARTITION BY, which may be empty only when a change does not
// recompute its partition (RecomputesPartition). It keeps every input row
// under its partition ('W' op partition row → count, row); a delta row
// reads its partition's rows, computes the functions over them as a query
// would (exec.ComputeWindows) before and after the change, and emits the
// difference. The cost of a change is its partition's size, not the
// delta's: a new row in a partition moves the running sum, the rank or
// the lead of the rows around it, which a query computes from the whole
// partition too. (A bounded row_number() is a top-N instead, topn.go,
// whose cost is its N.)
//
// The rows of a partition are read in key order, the order of their
// encoding, so the functions see them in an order that is a function of
// the partition's rows alone: a change's "before" is what the last change
// emitted. Rows that tie in a function's ORDER BY are therefore ordered by
// their values, where PostgreSQL's order of ties is arbitrary.
type Window struct {
	Input Node
	Funcs []*exec.WindowFunc
	// Types are the input rows' column types.
	Types []types.T
	ID    uint8

	// ordered (the view's key layout, keyLayout.windowOrder): a row's key
	// is its partition, then its ORDER BY values (order), then the row,
	// so that key order is the functions' order. Views made before keep
	// partition and row.
	ordered bool
	order   []SortKey
	// reach, when every function shares one ORDER BY and reads a bounded
	// number of rows around its own (lag and lead by constant offsets,
	// ROWS frames bounded on both sides): the most rows it reads before
	// (back) and after (fwd). With ordered keys a change then costs
	// back+fwd rows on each side of it (windowNear), not its partition.
	reach *windowReach
	// running, when every function is a running one (row_number, rank,
	// a running sum, ...; windowrun.go) and the view's layout has them
	// (runLayout): each row's value carries the functions' values, and a
	// change recomputes the rows from it to its partition's end.
	running   *runningSpec
	runLayout bool

	prefix     []byte
	partTypes  []types.T
	outTypes   []types.T
	keyBuf     []byte
	decodeRows rowDecoder
}

func (w *Window) children() []Node { return []Node{w.Input} }

// RecomputesPartition reports whether a change recomputes its whole
// partition: some function neither reads a bounded reach around its row
// (windowNear) nor runs from the partition's start (windowRunning).
func (w *Window) RecomputesPartition() bool {
	return reachOf(w.Funcs) == nil && runningOf(w.Funcs, w.Types) == nil
}

func (w *Window) init(prefix []byte) {
	w.prefix = prefix
	w.order = w.order[:0]
	for _, k := range w.Funcs[0].Order {
		w.order = append(w.order, SortKey{Expr: k.Expr, Desc: k.Desc, NullsFirst: k.NullsFirst})
	}
	w.reach = reachOf(w.Funcs)
	w.running = runningOf(w.Funcs, w.Types)
	w.partTypes = exprTypes(w.Funcs[0].Partition)
	w.outTypes = append([]types.T(nil), w.Types...)
	for _, f := range w.Funcs {
		w.outTypes = append(w.outTypes, f.T)
	}
	ts := w.Types
	w.decodeRows = func(v []byte) (exec.Row, error) {
		_, payload := decodeCounted(v)
		return types.DecodeRow(ts, payload)
	}
}

// window applies a weighted input row to its partition and emits how the
// partition's output rows changed.
func (r *run) window(x *Window, row exec.Row, w int64) error {
	buf := append(x.keyBuf[:0], x.prefix...)
	for i, e := range x.Funcs[0].Partition {
		v, err := e.Eval(r.env, row)
		if err != nil {
			return err
		}
		buf = appendValue(buf, x.partTypes[i], v)
	}
	plen := len(buf)
	if x.ordered {
		var err error
		if buf, err = appendSortKeys(buf, r.env, row, x.order, false); err != nil {
			return err
		}
	}
	olen := len(buf)
	buf = appendTuple(buf, x.Types, row)
	x.keyBuf = buf
	if r.defersWindow(x, buf) {
		return r.deferWindow(x, buf, row, w)
	}
	if x.runs() != nil {
		return r.deferRunning(x, buf, plen, olen, row, w)
	}
	if x.ordered && x.reach != nil {
		if done, err := r.windowNear(x, buf, plen, row, w); done || err != nil {
			return err
		}
	}
	partition := string(buf[:plen])

	// One read of the partition gives the rows before the change, the
	// changed row's count, and (with that count moved) the rows after it,
	// in the order a second read would give them.
	es, err := x.entries(r, partition)
	if err != nil {
		return err
	}
	before, err := x.outputs(r, es)
	if err != nil {
		return err
	}
	i, found := sort.Find(len(es), func(i int) int { return bytes.Compare(buf, es[i].key) })
	n := w
	if found {
		n += es[i].n
	}
	if n < 0 {
		return fmt.Errorf("materialized view %d: negative multiplicity %d in a window", r.p.View, n)
	}
	payload, err := types.EncodeRow(nil, x.Types, row)
	if err != nil {
		return err
	}
	after := slices.Clone(es)
	switch {
	case n == 0:
		r.ov.del(buf)
		after = slices.Delete(after, i, i+1)
	default:
		r.ov.set(buf, encodeCounted(n, payload))
		if found {
			after[i].n = n
		} else {
			after = slices.Insert(after, i, windowEntry{key: bytes.Clone(buf), row: slices.Clone(row), n: n})
		}
	}
	afterRows, err := x.outputs(r, after)
	if err != nil {
		return err
	}
	return r.windowDiff(x, before, afterRows)
}

// windowDiff emits the difference between a partition's output rows
// before and after a change: retractions first (so a downstream count
// never dips below zero), each in encoding order (a deterministic
// emission).
func (r *run) windowDiff(x *Window, before, afterRows []exec.Row) error {
	counts := map[string]int64{}
	rows := map[string]exec.Row{}
	for _, side := range []struct {
		rows []exec.Row
		w    int64
	}{{before, -1}, {afterRows, 1}} {
		for _, o := range side.rows {
			enc, err := types.EncodeRow(nil, x.outTypes, o)
			if err != nil {
				return err
			}
			k := string(enc)
			counts[k] += side.w
			rows[k] = o
		}
	}
	keys := make([]string, 0, len(counts))
	for k, c := range counts {
		if c != 0 {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, retract := range []bool{true, false} {
		for _, k := range keys {
			if c := counts[k]; (c < 0) == retract {
				if err := r.emit(x, rows[k], c); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// windowEntry is one distinct row of a partition, with its key and count.
type windowEntry struct {
	key []byte
	row exec.Row
	n   int64
	// near (windowNear, RANGE frames): a change can move the row's
	// outputs, as its value says when the row is read.
	near bool
}

// entries reads a partition's rows in key order. The rows are shared
// (the state cache's): outputs copies them.
func (x *Window) entries(r *run, partition string) ([]windowEntry, error) {
	var es []windowEntry
	err := r.ov.scanRows(unsafeBytes(partition), x.decodeRows, func(k, v []byte, row exec.Row) error {
		n, _ := decodeCounted(v)
		es = append(es, windowEntry{key: bytes.Clone(k), row: row, n: n})
		return nil
	})
	return es, err
}

// outputs returns a partition's rows, each as many times as it counts,
// with the functions' values appended.
func (x *Window) outputs(r *run, es []windowEntry) ([]exec.Row, error) {
	return x.outputsOf(r, es, x.Funcs)
}

// outputsOf is outputs with funcs' values.
func (x *Window) outputsOf(r *run, es []windowEntry, funcs []*exec.WindowFunc) ([]exec.Row, error) {
	var out []exec.Row
	inW := len(x.Types)
	for _, e := range es {
		for range e.n {
			o := make(exec.Row, inW+len(funcs))
			copy(o, e.row)
			out = append(out, o)
		}
	}
	if len(out) == 0 {
		return nil, nil
	}
	if err := exec.ComputeWindows(r.env, funcs, out, inW); err != nil {
		return nil, err
	}
	return out, nil
}
