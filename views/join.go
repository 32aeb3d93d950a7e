package views

import (
	"encoding/binary"
	"fmt"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/sql/types"
)

// A join keeps each input's rows under 'j' op side joinkey row (joinkey
// band row when the join has a band, joinband.go), with the
// row's multiplicity and its match count: how many rows of the other side
// (with multiplicity) share its key and pass the rest of the ON condition.
// A delta row of one side is joined with the other side's rows for its key
// (the bilinear rule, one row at a time), then stored on its own side.
//
// For an outer join the match count decides the NULL-padded row: a
// preserved row with no match is emitted padded; when a delta of the other
// side takes a stored row's count from zero to positive, its padded row is
// retracted, and when it takes the count back to zero the padded row
// returns. A NULL join key matches nothing and is never stored: its padded
// row comes and goes with the row itself. The work per delta row is the
// number of rows sharing its key, which is also the size of the output
// delta.

// joinValue encodes a stored join row: count, matches, encoded row.
func joinValue(n, matches int64, payload []byte) []byte {
	out := binary.AppendVarint(nil, n)
	out = binary.AppendVarint(out, matches)
	return append(out, payload...)
}

// joinRowValue is joinValue with a row's encoding as the payload, in one
// allocation.
func joinRowValue(n, matches int64, ts []types.T, row exec.Row) ([]byte, error) {
	buf := binary.AppendVarint(make([]byte, 0, 24+10*len(row)), n)
	buf = binary.AppendVarint(buf, matches)
	return types.EncodeRow(buf, ts, row)
}

// joinRowDecoder decodes the row of a join entry stored on a side whose
// rows have types ts.
func joinRowDecoder(ts []types.T) rowDecoder {
	return func(v []byte) (exec.Row, error) {
		_, _, payload, err := decodeJoinValue(v)
		if err != nil {
			return nil, err
		}
		return types.DecodeRow(ts, payload)
	}
}

func decodeJoinValue(v []byte) (n, matches int64, payload []byte, err error) {
	n, k := binary.Varint(v)
	if k <= 0 {
		return 0, 0, nil, fmt.Errorf("corrupt join state")
	}
	matches, k2 := binary.Varint(v[k:])
	if k2 <= 0 {
		return 0, 0, nil, fmt.Errorf("corrupt join state")
	}
	return n, matches, v[k+k2:], nil
}

func (j *Join) preserves(side int) bool {
	switch j.Kind {
	case FullJoin:
		return true
	case LeftJoin:
		return side == 0
	case RightJoin:
		return side == 1
	}
	return false
}

// filters reports whether the join only filters its left rows by their
// matches (a semi- or anti-join): it emits no joined rows, only lone ones.
func (j *Join) filters() bool { return j.Kind == SemiJoin || j.Kind == AntiJoin }

// lone reports whether a row of side that matches matches rows of the
// other side is in the output by itself, NULL-padded: an outer join's
// unmatched preserved row, an anti-join's unmatched left row, a
// semi-join's matched one. A change of its match count that changes this
// adds or retracts that row.
func (j *Join) lone(side int, matches int64) bool {
	switch j.Kind {
	case SemiJoin:
		return side == 0 && matches > 0
	case AntiJoin:
		return side == 0 && matches == 0
	}
	return j.preserves(side) && matches == 0
}

// counts reports whether side's stored rows keep match counts that
// decide their lone rows.
func (j *Join) counts(side int) bool { return j.preserves(side) || j.filters() && side == 0 }

type joinEntry struct {
	key     []byte
	row     exec.Row
	n       int64
	matches int64
	payload []byte
}

func (r *run) join(j *Join, side int, row exec.Row, w int64) error {
	keys := j.LeftKeys
	if side == 1 {
		keys = j.RightKeys
	}
	other := 1 - side
	// The other side's rows for the join key: prefix, other side, key
	// (scratch: the overlay copies the keys it keeps).
	buf := append(append(j.scanBuf[:0], j.prefix...), byte(other))
	for i, k := range keys {
		v, err := k.Eval(r.env, row)
		if err != nil {
			return err
		}
		if v == nil && !j.NullSafe {
			if j.lone(side, 0) {
				return r.emit(j, j.padded(side, row), w)
			}
			return nil
		}
		buf = appendValueIn(buf, j.compact, j.keyTypes[side][i], v)
	}
	j.scanBuf = buf
	jk := buf[len(j.prefix)+1:]

	fj := j.fact
	if fj != nil && side != fj.side && w < 0 {
		// A dimension row leaves: its fact rows are the output rows
		// under its key (factJoin).
		return r.dimensionLeaves(j, side, row, w, jk)
	}
	// An outer join rewrites the other side's entries (their match
	// counts), and a fact-dimension join moves the fact rows a dimension
	// row matches into the output: only then are their keys and payloads
	// kept.
	moves := fj != nil && other == fj.side
	keep := j.counts(other) || moves
	// The entries live in the operator's scratch: emit never comes back
	// into this join (a parent never feeds its input).
	entries := j.entries[:0]
	collect := func(k, v []byte, orow exec.Row) error {
		n, matches, payload, err := decodeJoinValue(v)
		if err != nil {
			return err
		}
		e := joinEntry{row: orow, n: n, matches: matches}
		if keep {
			e.key, e.payload = append([]byte(nil), k...), append([]byte(nil), payload...)
		}
		entries = append(entries, e)
		return nil
	}
	var err error
	if lo, hi, banded, none := r.bandRange(j, side, row, buf); !banded {
		err = r.ov.scanRows(buf, j.decode[other], collect)
	} else if !none {
		// Only the rows within the band (joinband.go), read past the
		// cache, which keeps whole prefixes.
		err = r.ov.mergeRows(lo, hi, j.decode[other], collect)
	}
	j.entries = entries
	if err != nil {
		return err
	}
	var matches int64
	for _, e := range entries {
		combined := j.combined(side, row, e.row)
		if j.On != nil {
			ok, err := exec.EvalBool(j.On, r.env, combined)
			if err != nil {
				return err
			}
			if !ok {
				continue
			}
		}
		matches += e.n
		if !j.filters() {
			if err := r.emit(j, combined, w*e.n); err != nil {
				return err
			}
		}
		if moves {
			// The output row now holds the fact row.
			r.ov.del(e.key)
			continue
		}
		if !j.counts(other) {
			continue
		}
		before, after := e.matches, e.matches+w
		if was, is := j.lone(other, before), j.lone(other, after); was != is {
			n := e.n
			if was {
				n = -n
			}
			if err := r.emit(j, j.padded(other, e.row), n); err != nil {
				return err
			}
		}
		r.ov.set(e.key, joinValue(e.n, after, e.payload))
	}

	if fj != nil && side == fj.side && matches > 0 {
		// A matched fact row is its output row (factJoin): it is not
		// stored on its side, and one that leaves is not there.
		return nil
	}
	return r.remember(j, side, row, w, jk, matches)
}

// remember stores (or removes) a delta row on its side of the join, with
// its match count, and emits an outer join's padded row of an unmatched
// one.
func (r *run) remember(j *Join, side int, row exec.Row, w int64, jk []byte, matches int64) error {
	myTypes := j.sideTypes(side)
	// Remember this row on its side, with its match count.
	j.rowBuf = j.storedKey(j.rowBuf[:0], side, jk, row)
	k := j.rowBuf
	// (With short keys an updated row's old version, retracted just
	// before, has the same key: pending, and not fresh.)
	if w > 0 && j.fresh[side] && !r.ov.pendingHas(k) {
		v, err := joinRowValue(w, matches, myTypes, row)
		if err != nil {
			return err
		}
		r.ov.setFresh(k, v)
		if j.lone(side, matches) {
			return r.emit(j, j.padded(side, row), w)
		}
		return nil
	}
	v, found, err := r.ov.get(k)
	if err != nil {
		return err
	}
	var n int64
	if found {
		if n, _, _, err = decodeJoinValue(v); err != nil {
			return err
		}
	}
	switch n += w; {
	case n < 0:
		return fmt.Errorf("materialized view %d: negative join multiplicity %d", r.p.View, n)
	case n == 0:
		r.ov.del(k)
	default:
		v, err := joinRowValue(n, matches, myTypes, row)
		if err != nil {
			return err
		}
		r.ov.set(k, v)
	}
	if j.lone(side, matches) {
		return r.emit(j, j.padded(side, row), w)
	}
	return nil
}

// dimensionLeaves applies a dimension row's retraction in a fact-dimension
// join (factJoin): the output rows under its join key are the fact rows
// it matched; each is retracted joined with it and stored again on the
// fact side as unmatched (with the fact columns the view does not read
// NULL). Then the dimension row itself is removed from its side.
func (r *run) dimensionLeaves(j *Join, side int, row exec.Row, w int64, jk []byte) error {
	fj, other := j.fact, 1-side
	fTypes := j.sideTypes(other)
	type matched struct {
		row exec.Row
		n   int64
	}
	var rows []matched
	fj.scanBuf = append(append(fj.scanBuf[:0], r.p.outPrefix...), jk...)
	// Read past the cache (merge, not scan): a dimension row leaves
	// rarely, and a cached range of output rows would make every output
	// write of the view look for ranges to drop.
	err := r.ov.merge(fj.scanBuf, prefixEnd(fj.scanBuf), func(_, v []byte) error {
		n, payload, err := outputValue(v)
		if err != nil {
			return err
		}
		out, err := types.DecodeRow(r.p.OutTypes, payload)
		if err != nil {
			return err
		}
		rows = append(rows, matched{row: out, n: n})
		return nil
	})
	if err != nil {
		return err
	}
	var matches int64
	for _, m := range rows {
		frow := make(exec.Row, len(fTypes))
		for c, o := range fj.outCols {
			if o >= 0 {
				frow[c] = m.row[o]
			}
		}
		if err := r.emit(j, j.combined(side, row, frow), w*m.n); err != nil {
			return err
		}
		matches += m.n
		// Its own side keeps it again. It was not there while matched, so
		// unless this intent changed the key the stored state has none (a
		// dimension row updated in place then writes no tombstone for it
		// when the new version moves the row out again).
		j.rowBuf = j.storedKey(j.rowBuf[:0], other, jk, frow)
		v, err := joinRowValue(m.n, 0, fTypes, frow)
		if err != nil {
			return err
		}
		if r.ov.pendingHas(j.rowBuf) {
			r.ov.set(j.rowBuf, v)
		} else {
			r.ov.setFresh(j.rowBuf, v)
		}
	}
	return r.remember(j, side, row, w, jk, matches)
}

// storedKey appends the key a row of side with join key jk is stored
// under: prefix, side, join key, the banded column's value (when side is
// banded, joinband.go), and the row's identity (appendRowKey).
func (j *Join) storedKey(buf []byte, side int, jk []byte, row exec.Row) []byte {
	buf = append(append(append(buf, j.prefix...), byte(side)), jk...)
	if c := j.bandCol(side); c >= 0 {
		buf = appendValueIn(buf, j.compact, j.sideTypes(side)[c], row[c])
	}
	return appendRowKey(buf, j.compact, j.rowKey[side], j.rowKeyTypes[side], j.sideTypes(side), row)
}

// sideTypes is the column types of a side's rows (0: left, 1: right).
func (j *Join) sideTypes(side int) []types.T {
	if side == 1 {
		return j.RightTypes
	}
	return j.LeftTypes
}

// combined is the joined row of a row of side and a row of the other
// side, in the join's scratch row: the operators it is emitted to never
// keep it, and it is rebuilt for every pair.
func (j *Join) combined(side int, row, other exec.Row) exec.Row {
	if len(j.comb) != len(j.LeftTypes)+len(j.RightTypes) {
		j.comb = make(exec.Row, len(j.LeftTypes)+len(j.RightTypes))
	}
	out := j.comb
	clear(out)
	if side == 0 {
		copy(out, row)
		copy(out[len(j.LeftTypes):], other)
	} else {
		copy(out, other)
		copy(out[len(j.LeftTypes):], row)
	}
	return out
}

// padded is a row of side joined with NULLs for the other side.
func (j *Join) padded(side int, row exec.Row) exec.Row {
	out := make(exec.Row, len(j.LeftTypes)+len(j.RightTypes))
	if side == 0 {
		copy(out, row)
	} else {
		copy(out[len(j.LeftTypes):], row)
	}
	return out
}
