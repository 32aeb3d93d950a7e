package views

import (
	"encoding/binary"
	"fmt"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/sql/types"
)

// SetOpAll is INTERSECT ALL or EXCEPT ALL of two inputs with rows of the
// same types: a row that its left input has l times and its right input
// r times is in the output min(l, r) times (INTERSECT ALL) or max(l - r,
// 0) times (EXCEPT ALL), NULLs equal to each other as in any set
// operation. It keeps both counts per distinct row ('a' op row → l, r);
// a change of either side moves the row's output count, and the
// difference is emitted.
type SetOpAll struct {
	Left, Right Node
	Except      bool
	Types       []types.T
	ID          uint8

	prefix, keyBuf []byte
}

func (s *SetOpAll) children() []Node { return []Node{s.Left, s.Right} }

func (s *SetOpAll) out(l, r int64) int64 {
	if s.Except {
		return max(l-r, 0)
	}
	return min(l, r)
}

func (r *run) setOpAll(s *SetOpAll, side int, row exec.Row, w int64) error {
	s.keyBuf = appendTuple(append(s.keyBuf[:0], s.prefix...), s.Types, row)
	v, found, err := r.ov.get(s.keyBuf)
	if err != nil {
		return err
	}
	var counts [2]int64
	if found {
		a, n := binary.Varint(v)
		b, m := binary.Varint(v[max(n, 0):])
		if n <= 0 || m <= 0 {
			return fmt.Errorf("materialized view %d: corrupt set operation counts", r.p.View)
		}
		counts = [2]int64{a, b}
	}
	before := s.out(counts[0], counts[1])
	counts[side] += w
	if counts[side] < 0 {
		return fmt.Errorf("materialized view %d: negative multiplicity %d in a set operation", r.p.View, counts[side])
	}
	if counts == [2]int64{} {
		r.ov.del(s.keyBuf)
	} else {
		r.ov.set(s.keyBuf, binary.AppendVarint(binary.AppendVarint(nil, counts[0]), counts[1]))
	}
	if d := s.out(counts[0], counts[1]) - before; d != 0 {
		return r.emit(s, row, d)
	}
	return nil
}
