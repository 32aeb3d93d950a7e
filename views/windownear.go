package views

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/cockroachdb/apd/v3"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql/types"
)

// Most window functions read a bounded neighbourhood of their row: lag
// and lead a constant number of rows away, an aggregate or
// first_value/last_value/nth_value over a ROWS frame bounded on both
// sides. When every function of a window operator does, and they share
// one ORDER BY, a change at position p can only change the outputs of
// the rows within fwd before p and back after it (the rows whose reach
// covers p), and those rows' outputs read only rows within back+fwd of
// p. So a change reads back+fwd rows (counting repeats) on each side of
// it, in key order, which is the functions' order when the view keys its
// rows by partition and ORDER BY values (Window.ordered), computes the
// outputs of those rows before and after with the query engine's code,
// and emits the difference. Its cost is its reach, not the partition.
//
// Ranking functions (row_number, rank, ...), running aggregates and any
// frame unbounded on a side number or sum every row before or after, so
// a change there moves its partition: they keep the whole-partition path.

// windowReach is how far a window operator's functions read: back rows
// before their own, fwd after; or with rng, the rows whose ORDER BY value
// is within before (back in sort order) and after (forward) of their own.
type windowReach struct {
	back, fwd int64
	rng       *rangeReach
}

// rangeReach is the reach of RANGE frames with offsets (and CURRENT ROW,
// the peers) over one ORDER BY key. Only offsets whose arithmetic is a
// translation qualify (integers, numerics; intervals without months over
// dates and timestamps, of a fixed length over timestamptz), so that a
// row q's frame [v_q - before, v_q + after] holds t exactly when v_q is in
// [t - after, t + before].
type rangeReach struct {
	key           SortKey
	before, after types.Datum
}

// reachOf returns how far funcs read, or nil when some function reads an
// unbounded number of rows, or they do not share one ORDER BY.
func reachOf(funcs []*exec.WindowFunc) *windowReach {
	if rr := rangeReachOf(funcs); rr != nil {
		return &windowReach{rng: rr}
	}
	var r windowReach
	for _, f := range funcs {
		if len(f.Order) == 0 || !sameSortKeys(f.Order, funcs[0].Order) {
			return nil
		}
		if !addReach(f, &r.back, &r.fwd) {
			return nil
		}
	}
	return &r
}

// addReach widens back and fwd to the rows f reads before and after its
// own, and reports false when that is not a bounded number: f is lag or
// lead by a constant offset, or an aggregate or value function over a
// ROWS frame bounded on both sides.
func addReach(f *exec.WindowFunc, back, fwd *int64) bool {
	switch {
	case f.Name == "lag" || f.Name == "lead":
		return addOffset(f, back, fwd)
	case f.Agg != nil || f.Name == "first_value" || f.Name == "last_value" || f.Name == "nth_value":
		if f.Frame.Mode != exec.FrameRows {
			return false
		}
		for _, b := range []exec.FrameBound{f.Frame.Start, f.Frame.End} {
			switch b.Kind {
			case exec.CurrentRow:
			case exec.OffsetPreceding, exec.OffsetFollowing:
				v, ok := constInt(b.Offset)
				if !ok || v < 0 {
					return false
				}
				if b.Kind == exec.OffsetPreceding {
					*back = max(*back, v)
				} else {
					*fwd = max(*fwd, v)
				}
			default:
				return false
			}
		}
		return true
	}
	return false
}

// rangeReachOf returns the reach of funcs when each is an aggregate or a
// value function over a RANGE frame whose bounds are CURRENT ROW or
// offsets (one PRECEDING and one FOLLOWING offset among them all), over
// one shared ORDER BY key of a type whose offsets translate exactly.
func rangeReachOf(funcs []*exec.WindowFunc) *rangeReach {
	var rr rangeReach
	for i, f := range funcs {
		if len(f.Order) != 1 || !sameSortKeys(f.Order, funcs[0].Order) || f.Frame.Mode != exec.FrameRange {
			return nil
		}
		if f.Agg == nil && f.Name != "first_value" && f.Name != "last_value" && f.Name != "nth_value" {
			return nil
		}
		if i == 0 {
			k := f.Order[0]
			rr.key = SortKey{Expr: k.Expr, Desc: k.Desc, NullsFirst: k.NullsFirst}
		}
		for _, b := range []exec.FrameBound{f.Frame.Start, f.Frame.End} {
			var into *types.Datum
			switch b.Kind {
			case exec.CurrentRow:
				continue
			case exec.OffsetPreceding:
				into = &rr.before
			case exec.OffsetFollowing:
				into = &rr.after
			default:
				return nil
			}
			v, ok := constDatum(b.Offset)
			if !ok || !ExactOffset(rr.key.Expr.Type(), v) {
				return nil
			}
			if *into != nil && !sameOffset(*into, v) {
				return nil
			}
			*into = v
		}
	}
	return &rr
}

// constDatum returns the value of a constant (a literal, possibly cast).
func constDatum(e exec.Expr) (types.Datum, bool) {
	switch x := e.(type) {
	case *exec.Const:
		return x.Val, x.Val != nil
	case *exec.Cast:
		if _, ok := constDatum(x.Arg); !ok {
			return nil, false
		}
		v, err := x.Eval(&exec.Env{Settings: types.DefaultSettings()}, nil)
		return v, err == nil && v != nil
	}
	return nil, false
}

// ExactOffset reports whether moving a value of type t by off is a
// translation (every value moves by the same amount), so that a reach or a
// bound computed from a value and the offset is exact: a window's RANGE
// reach, an interval join's bounds (planner/view_band.go).
func ExactOffset(t types.T, off types.Datum) bool {
	switch t.OID {
	case types.Int2OID, types.Int4OID, types.Int8OID, types.NumericOID:
		return true
	case types.DateOID, types.TimestampOID:
		if _, ok := off.(int64); ok && t.OID == types.DateOID {
			return true // date ± integer days
		}
		iv, ok := off.(types.Interval)
		return ok && iv.Months == 0
	case types.TimestampTZOID:
		iv, ok := off.(types.Interval)
		return ok && iv.Months == 0 && iv.Days == 0
	}
	return false
}

func sameOffset(a, b types.Datum) bool {
	if x, ok := a.(*apd.Decimal); ok {
		y, ok := b.(*apd.Decimal)
		return ok && x.Cmp(y) == 0
	}
	return a == b
}

// addOffset widens back or fwd to the rows lag or lead f reads, and
// reports false when its offset is not a constant.
func addOffset(f *exec.WindowFunc, back, fwd *int64) bool {
	off := int64(1)
	if len(f.Args) > 1 {
		v, ok := constInt(f.Args[1])
		if !ok {
			return false
		}
		off = v
	}
	if f.Name == "lag" {
		off = -off
	}
	if off < 0 {
		*back = max(*back, -off)
	} else {
		*fwd = max(*fwd, off)
	}
	return true
}

// constInt returns the value of a constant integer expression (a literal,
// possibly cast).
func constInt(e exec.Expr) (int64, bool) {
	for {
		c, ok := e.(*exec.Cast)
		if !ok {
			break
		}
		e = c.Arg
	}
	c, ok := e.(*exec.Const)
	if !ok {
		return 0, false
	}
	v, ok := c.Val.(int64)
	return v, ok
}

func sameSortKeys(a, b []exec.SortKey) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Desc != b[i].Desc || a[i].NullsFirst != b[i].NullsFirst ||
			a[i].Expr.String() != b[i].Expr.String() || a[i].Expr.Type() != b[i].Expr.Type() {
			return false
		}
	}
	return true
}

// windowNear applies a weighted input row (its key k, whose partition
// prefix is k[:plen]) to a window whose functions have a bounded reach,
// reading only the rows within reach of it. It returns false, having
// done nothing, when the change must recompute its partition instead (a
// RANGE frame's NULL value, or a bound out of range).
func (r *run) windowNear(x *Window, k []byte, plen int, row exec.Row, w int64) (bool, error) {
	var rd nearRead
	if rr := x.reach.rng; rr != nil {
		ok, err := rd.ranged(r, rr, row)
		if !ok || err != nil {
			return ok, err
		}
	} else {
		rd.rows(x.reach)
	}
	part := k[:plen]
	// take reads rows into es until rd says the read is done.
	take := func(es *[]windowEntry, n *int64, back bool) func(key, v []byte) error {
		return func(key, v []byte) error {
			c, payload := decodeCounted(v)
			rw, err := types.DecodeRow(x.Types, payload)
			if err != nil {
				return fmt.Errorf("materialized view %d: window row: %w", r.p.View, err)
			}
			e := windowEntry{key: bytes.Clone(key), row: rw, n: c}
			more, keep, err := rd.next(r, &e, *n, back)
			if err != nil {
				return err
			}
			if keep {
				*es = append(*es, e)
				*n += c
			}
			if !more {
				return log.ErrStop
			}
			return nil
		}
	}
	// The rows before k, read backwards, then put in order.
	var pre []windowEntry
	var preN int64
	if !rd.noRead {
		if err := r.ov.mergeBack(part, k, take(&pre, &preN, true)); err != nil {
			return true, err
		}
		slices.Reverse(pre)
	}
	// The row's own count, then the rows after it.
	var had int64
	var post []windowEntry
	var postN int64
	readPost := take(&post, &postN, false)
	err := r.ov.merge(k, prefixEnd(part), func(key, v []byte) error {
		if !bytes.Equal(key, k) {
			return readPost(key, v)
		}
		had, _ = decodeCounted(v)
		if rd.noRead {
			return log.ErrStop
		}
		return nil
	})
	if err != nil {
		return true, err
	}
	n := had + w
	if n < 0 {
		return true, fmt.Errorf("materialized view %d: negative multiplicity %d in a window", r.p.View, n)
	}
	if n == 0 {
		r.ov.del(k)
	} else {
		payload, err := types.EncodeRow(nil, x.Types, row)
		if err != nil {
			return true, err
		}
		r.ov.set(k, encodeCounted(n, payload))
	}
	outputs := func(count int64) ([]exec.Row, error) {
		es := slices.Clone(pre)
		if count > 0 {
			es = append(es, windowEntry{key: k, row: row, n: count, near: true})
		}
		es = append(es, post...)
		all, err := x.outputs(r, es)
		if err != nil {
			return nil, err
		}
		return rd.region(es, all, preN, count), nil
	}
	before, err := outputs(had)
	if err != nil {
		return true, err
	}
	after, err := outputs(n)
	if err != nil {
		return true, err
	}
	return true, r.windowDiff(x, before, after)
}

// nearRead says which rows around a change windowNear reads, and whose
// outputs it compares.
type nearRead struct {
	// Rows: span positions on each side; the region is the fwd before
	// the row, its copies, and the back after it. Each of those reads at
	// most back rows before it and fwd after it, all within the rows read
	// (or the partition ends there).
	span, back, fwd int64
	// noRead: only the row's own count is read.
	noRead bool
	// RANGE: the rows whose values are within [lo, hi] are read, and
	// those within [regionLo, regionHi] are the region (rr).
	rr                 *rangeReach
	lo, hi             types.Datum
	regionLo, regionHi types.Datum
}

func (rd *nearRead) rows(reach *windowReach) {
	rd.span, rd.back, rd.fwd = reach.back+reach.fwd, reach.back, reach.fwd
	rd.noRead = rd.span == 0
}

// ranged sets the RANGE reach of a change to row: a row q's frame holds
// the row's value t when q's value is within [t - after, t + before] (the
// region), and those rows' frames are within [t - after - before, t +
// before + after] (what is read). It reports false when the partition
// must be recomputed instead.
func (rd *nearRead) ranged(r *run, rr *rangeReach, row exec.Row) (bool, error) {
	rd.rr = rr
	t, err := rr.key.Expr.Eval(r.env, row)
	if err != nil {
		return true, err
	}
	if t == nil {
		// NULLs' frames are their peers, wherever they sort.
		return false, nil
	}
	shift := func(v, off types.Datum, forward bool) types.Datum {
		if err != nil {
			return nil
		}
		v, err = exec.RangeShift(r.env, v, off, forward, rr.key.Desc)
		return v
	}
	rd.regionLo = shift(t, rr.after, false)
	rd.lo = shift(rd.regionLo, rr.before, false)
	rd.regionHi = shift(t, rr.before, true)
	rd.hi = shift(rd.regionHi, rr.after, true)
	// A bound out of range: the partition's recomputation reports it as a
	// query would.
	return err == nil, nil
}

// place is value v's place relative to bound in sort order.
func (rd *nearRead) place(v, bound types.Datum) int {
	c := exec.RangeCmp(rd.rr.key.Expr.Type(), v, bound)
	if rd.rr.key.Desc {
		return -c
	}
	return c
}

// next judges a row read back (or forward) from the change, n positions
// read before it: keep it, and read more. With RANGE frames it notes
// whether the change can move the row's outputs (e.near).
func (rd *nearRead) next(r *run, e *windowEntry, n int64, back bool) (more, keep bool, err error) {
	if rd.rr == nil {
		return n+e.n < rd.span, true, nil
	}
	v, err := rd.rr.key.Expr.Eval(r.env, e.row)
	if err != nil {
		return false, false, err
	}
	switch {
	case v == nil:
		// NULLs sort before or after every value: the read has passed
		// the values.
		return false, false, nil
	case back && rd.place(v, rd.lo) < 0, !back && rd.place(v, rd.hi) > 0:
		return false, false, nil
	}
	e.near = rd.place(v, rd.regionLo) >= 0 && rd.place(v, rd.regionHi) <= 0
	return true, true, nil
}

// region returns the outputs (all, one per copy of es's rows in order)
// of the rows whose outputs a change can move; pre is how many positions
// come before the changed row, count its copies.
func (rd *nearRead) region(es []windowEntry, all []exec.Row, pre, count int64) []exec.Row {
	if rd.rr == nil {
		lo := max(pre-rd.fwd, 0)
		hi := min(pre+count+rd.back, int64(len(all)))
		return all[lo:hi]
	}
	var out []exec.Row
	i := 0
	for _, e := range es {
		if e.near {
			out = append(out, all[i:i+int(e.n)]...)
		}
		i += int(e.n)
	}
	return out
}
