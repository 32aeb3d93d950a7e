package views

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql/types"
)

// DynFilter is a filter whose bound is a subquery's value,
// `WHERE expr op (SELECT max(x) FROM t)`: RisingWave's dynamic filter. Its
// left input's rows are kept ordered by expr's value ('F' op, the value's
// key encoding, the row → count and row); its right input has one row,
// the bound. A left row passes when expr op bound holds. When the bound
// moves from a to b, only the rows whose value lies between a and b enter
// or leave the output, found by a range read of the state, so a change of
// the bound costs the rows that cross it, not the input.
//
// The comparison is made on the key encodings of both values
// (types.AppendKey, whose byte order is the values' order and equal
// values' keys are equal), for a change of a left row as for a move of the
// bound, so the two never disagree. NULL on either side passes nothing.
//
// A change of the right input is not applied at once: the subquery's
// aggregate retracts its old row just before it adds the new one, and
// moving the bound to "no row" in between would retract and re-add every
// passing row. The right rows are counted ('f' op 0x00 → each value's key and count) and
// the node marked; settle, once the plan's changes are in, moves the
// output from the bound it was computed for ('f' op 0x01 → the key) to
// the one the right rows now give. Left rows that arrive in between are
// judged by the bound the output was computed for.
type DynFilter struct {
	Left, Right Node
	// Expr is the compared value, over a left row; the right input's
	// one column has the same type, T.
	Expr  exec.Expr
	Op    DynOp
	T     types.T
	Types []types.T // the left rows'
	ID    uint8
	// AllWhenNull: a NULL bound passes every row, NULL values too (x >
	// ALL of no rows), where otherwise it passes none.
	AllWhenNull bool
	// Desc, when set, is what EXPLAIN says the filter is for (NOT IN's
	// gate), in place of its condition.
	Desc string

	rowsPrefix, rightKey, appliedKey, keyBuf []byte
	// dirty: the right input changed since the last settle.
	dirty bool
	// fresh: the left rows are a table's (freshRows).
	fresh bool
}

// DynOp is a dynamic filter's comparison, left value op bound.
type DynOp uint8

const (
	DynLT DynOp = iota
	DynLE
	DynGT
	DynGE
	DynEQ
)

func (o DynOp) String() string { return [...]string{"<", "<=", ">", ">=", "="}[o] }

func (d *DynFilter) children() []Node { return []Node{d.Left, d.Right} }

func (d *DynFilter) init(view log.TableID) {
	d.rowsPrefix = opPrefix(view, 'F', d.ID)
	d.rightKey = append(opPrefix(view, 'f', d.ID), 0x00)
	d.appliedKey = append(opPrefix(view, 'f', d.ID), 0x01)
}

// passing is the range [lo, hi) of row keys that pass with the bound
// whose key encoding is bound (nil: no bound); empty when lo >= hi.
func (d *DynFilter) passing(bound []byte) (lo, hi []byte) {
	if len(bound) > 0 && bound[0] == 0x00 && d.AllWhenNull {
		return d.rowsPrefix, prefixEnd(d.rowsPrefix)
	}
	if len(bound) == 0 || bound[0] != 0x01 {
		// No row, or a NULL bound: nothing passes.
		return nil, nil
	}
	at := append(append([]byte(nil), d.rowsPrefix...), bound...)
	after := prefixEnd(at)
	values := append(append([]byte(nil), d.rowsPrefix...), 0x01) // non-NULL values
	end := append(append([]byte(nil), d.rowsPrefix...), 0x02)
	switch d.Op {
	case DynLT:
		return values, at
	case DynLE:
		return values, after
	case DynGT:
		return after, end
	case DynGE:
		return at, end
	}
	return at, after
}

// passes reports whether the row stored under k is in passing(bound),
// without building the range: k's value encoding follows the rows
// prefix, and the encodings are prefix-free, so the value equals the
// bound's when it starts with it, and otherwise compares as its bytes.
func (d *DynFilter) passes(bound, k []byte) bool {
	v := k[len(d.rowsPrefix):]
	if len(bound) > 0 && bound[0] == 0x00 && d.AllWhenNull {
		return true
	}
	if len(bound) == 0 || bound[0] != 0x01 || v[0] != 0x01 {
		return false // no bound, a NULL bound, or a NULL value
	}
	eq := bytes.HasPrefix(v, bound)
	cmp := bytes.Compare(v, bound)
	switch d.Op {
	case DynLT:
		return !eq && cmp < 0
	case DynLE:
		return eq || cmp < 0
	case DynGT:
		return !eq && cmp > 0
	case DynGE:
		return eq || cmp > 0
	}
	return eq
}

// dynApplied is the key encoding of the bound the output was computed
// for (the overlay's: valid until it changes).
func (r *run) dynApplied(d *DynFilter) ([]byte, error) {
	v, found, err := r.ov.get(d.appliedKey)
	if err != nil || !found {
		return nil, err
	}
	return v, nil
}

func (r *run) dynFilter(d *DynFilter, side int, row exec.Row, w int64) error {
	if side == 1 {
		return r.dynRight(d, row, w)
	}
	v, err := d.Expr.Eval(r.env, row)
	if err != nil {
		return err
	}
	d.keyBuf = types.AppendKey(append(d.keyBuf[:0], d.rowsPrefix...), d.T, v)
	d.keyBuf = appendTuple(d.keyBuf, d.Types, row)
	if w > 0 && d.fresh && !r.ov.pendingHas(d.keyBuf) {
		// A new version of a table's row: stored nowhere yet, so no
		// read of its count (freshRows).
		v, err := countedRow(w, d.Types, row)
		if err != nil {
			return err
		}
		r.ov.setFresh(d.keyBuf, v)
	} else {
		payload, err := types.EncodeRow(nil, d.Types, row)
		if err != nil {
			return err
		}
		_, after, err := r.ov.addCount(d.keyBuf, w, payload)
		if err != nil {
			return err
		}
		if after < 0 {
			return fmt.Errorf("materialized view %d: negative multiplicity %d in a dynamic filter", r.p.View, after)
		}
	}
	applied, err := r.dynApplied(d)
	if err != nil {
		return err
	}
	if d.passes(applied, d.keyBuf) {
		return r.emit(d, row, w)
	}
	return nil
}

func (r *run) moveBound(d *DynFilter) error {
	// The bound is the right input's row when it has exactly one.
	rows, err := r.rightRows(d)
	if err != nil {
		return err
	}
	var bound []byte
	if len(rows) == 1 && rows[0].n == 1 {
		bound = rows[0].key
	}
	applied, err := r.dynApplied(d)
	if err != nil {
		return err
	}
	if bytes.Equal(applied, bound) {
		return nil
	}
	lo1, hi1 := d.passing(applied)
	lo2, hi2 := d.passing(bound)
	if bound == nil {
		r.ov.del(d.appliedKey)
	} else {
		r.ov.set(d.appliedKey, bound)
	}
	// What passed and no longer does, then what passes now and did not:
	// each a difference of two ranges, at most two ranges.
	for _, c := range []struct {
		lo, hi, lo2, hi2 []byte
		w                int64
	}{{lo1, hi1, lo2, hi2, -1}, {lo2, hi2, lo1, hi1, 1}} {
		for _, part := range rangeMinus(c.lo, c.hi, c.lo2, c.hi2) {
			if err := r.dynEmitRange(d, part[0], part[1], c.w); err != nil {
				return err
			}
		}
	}
	return nil
}

// rightRow is a row of the right input: its value's key encoding and
// its count.
type rightRow struct {
	key []byte
	n   int64
}

// dynRight counts a row of the right input. Its rows (one, or none or two
// while the subquery's row is replaced) are kept in one state entry: keyed
// by value, every replaced value would leave a deleted key behind, and
// the read of the current one would step over all of them.
func (r *run) dynRight(d *DynFilter, row exec.Row, w int64) error {
	rows, err := r.rightRows(d)
	if err != nil {
		return err
	}
	d.keyBuf = types.AppendKey(d.keyBuf[:0], d.T, row[0])
	i := slices.IndexFunc(rows, func(x rightRow) bool { return bytes.Equal(x.key, d.keyBuf) })
	if i < 0 {
		rows = append(rows, rightRow{key: d.keyBuf, n: 0})
		i = len(rows) - 1
	}
	rows[i].n += w
	switch {
	case rows[i].n < 0:
		return fmt.Errorf("materialized view %d: negative multiplicity %d of a subquery's row", r.p.View, rows[i].n)
	case rows[i].n == 0:
		rows = slices.Delete(rows, i, i+1)
	}
	var enc []byte
	for _, x := range rows {
		enc = binary.AppendVarint(enc, x.n)
		enc = binary.AppendUvarint(enc, uint64(len(x.key)))
		enc = append(enc, x.key...)
	}
	r.ov.set(d.rightKey, enc)
	d.dirty = true
	return nil
}

// rightRows reads the right input's rows.
func (r *run) rightRows(d *DynFilter) ([]rightRow, error) {
	v, _, err := r.ov.get(d.rightKey)
	if err != nil {
		return nil, err
	}
	rows, err := decodeRightRows(v)
	if err != nil {
		return nil, fmt.Errorf("materialized view %d: %w", r.p.View, err)
	}
	return rows, nil
}

func decodeRightRows(v []byte) ([]rightRow, error) {
	var rows []rightRow
	for len(v) > 0 {
		n, a := binary.Varint(v)
		if a <= 0 {
			return nil, errors.New("corrupt dynamic filter state")
		}
		l, b := binary.Uvarint(v[a:])
		if b <= 0 || uint64(len(v)-a-b) < l {
			return nil, errors.New("corrupt dynamic filter state")
		}
		v = v[a+b:]
		rows = append(rows, rightRow{key: append([]byte(nil), v[:l]...), n: n})
		v = v[l:]
	}
	return rows, nil
}

// rangeMinus is [lo, hi) without [lo2, hi2), as up to two ranges (a nil
// lo is an empty range).
func rangeMinus(lo, hi, lo2, hi2 []byte) [][2][]byte {
	if lo == nil || bytes.Compare(lo, hi) >= 0 {
		return nil
	}
	if lo2 == nil || bytes.Compare(lo2, hi2) >= 0 || bytes.Compare(hi2, lo) <= 0 || bytes.Compare(lo2, hi) >= 0 {
		return [][2][]byte{{lo, hi}}
	}
	var out [][2][]byte
	if bytes.Compare(lo, lo2) < 0 {
		out = append(out, [2][]byte{lo, lo2})
	}
	if bytes.Compare(hi2, hi) < 0 {
		out = append(out, [2][]byte{hi2, hi})
	}
	return out
}

// dynEmitRange emits every stored left row in [lo, hi) with its count
// times w.
func (r *run) dynEmitRange(d *DynFilter, lo, hi []byte, w int64) error {
	type counted struct {
		row exec.Row
		n   int64
	}
	var rows []counted
	err := r.ov.merge(lo, hi, func(_, v []byte) error {
		n, payload := decodeCounted(v)
		row, err := types.DecodeRow(d.Types, payload)
		if err != nil {
			return err
		}
		rows = append(rows, counted{row, n})
		return nil
	})
	if err != nil {
		return err
	}
	for _, c := range rows {
		if err := r.emit(d, c.row, w*c.n); err != nil {
			return err
		}
	}
	return nil
}
