package views

import (
	"encoding/binary"
	"fmt"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/sql/types"
)

// A join keeps each input's rows under 'j' op side joinkey row, with the
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

type joinEntry struct {
	key     []byte
	row     exec.Row
	n       int64
	matches int64
	payload []byte
}

func (r *run) join(j *Join, side int, row exec.Row, w int64) error {
	keys, myTypes, otherTypes := j.LeftKeys, j.LeftTypes, j.RightTypes
	if side == 1 {
		keys, myTypes, otherTypes = j.RightKeys, j.RightTypes, j.LeftTypes
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
		if v == nil {
			if j.preserves(side) {
				return r.emit(j, j.padded(side, row), w)
			}
			return nil
		}
		buf = appendValue(buf, j.keyTypes[side][i], v)
	}
	j.scanBuf = buf
	jk := buf[len(j.prefix)+1:]

	// An outer join rewrites the other side's entries (their match
	// counts): only then are their keys and payloads kept.
	keep := j.preserves(other)
	var entries []joinEntry
	err := r.ov.scan(buf, func(k, v []byte) error {
		n, matches, payload, err := decodeJoinValue(v)
		if err != nil {
			return err
		}
		orow, err := types.DecodeRow(otherTypes, payload)
		if err != nil {
			return err
		}
		e := joinEntry{row: orow, n: n, matches: matches}
		if keep {
			e.key, e.payload = append([]byte(nil), k...), append([]byte(nil), payload...)
		}
		entries = append(entries, e)
		return nil
	})
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
		if err := r.emit(j, combined, w*e.n); err != nil {
			return err
		}
		matches += e.n
		if !j.preserves(other) {
			continue
		}
		before, after := e.matches, e.matches+w
		switch {
		case before == 0 && after > 0:
			err = r.emit(j, j.padded(other, e.row), -e.n)
		case before > 0 && after == 0:
			err = r.emit(j, j.padded(other, e.row), e.n)
		}
		if err != nil {
			return err
		}
		r.ov.set(e.key, joinValue(e.n, after, e.payload))
	}

	// Remember this row on its side, with its match count.
	j.rowBuf = appendRowKey(append(append(append(j.rowBuf[:0], j.prefix...), byte(side)), jk...), j.rowKey[side], j.rowKeyTypes[side], myTypes, row)
	k := j.rowBuf
	// (With short keys an updated row's old version, retracted just
	// before, has the same key: pending, and not fresh.)
	if w > 0 && j.fresh[side] && !r.ov.pendingHas(k) {
		v, err := joinRowValue(w, matches, myTypes, row)
		if err != nil {
			return err
		}
		r.ov.setFresh(k, v)
		if matches == 0 && j.preserves(side) {
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
	if matches == 0 && j.preserves(side) {
		return r.emit(j, j.padded(side, row), w)
	}
	return nil
}

// combined is the joined row of a row of side and a row of the other side.
func (j *Join) combined(side int, row, other exec.Row) exec.Row {
	out := make(exec.Row, len(j.LeftTypes)+len(j.RightTypes))
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
