package exec

import "github.com/strand-db/strand/sql/types"

// SetOpKind is the kind of a set operation.
type SetOpKind uint8

const (
	UnionAll SetOpKind = iota
	IntersectSet
	ExceptSet
)

// SetOp combines two inputs of the same columns. UNION is UnionAll under a
// Distinct; INTERSECT and EXCEPT count rows by value (ALL keeps
// multiplicities, else each row at most once).
type SetOp struct {
	Left, Right Node
	Kind        SetOpKind
	All         bool
}

func (s *SetOp) Columns() []Column { return s.Left.Columns() }

func (s *SetOp) Run(rt *Runtime, emit func(Row) error) error {
	if s.Kind == UnionAll {
		if err := s.Left.Run(rt, emit); err != nil {
			return err
		}
		return s.Right.Run(rt, emit)
	}
	cols := s.Columns()
	counts := map[string]int{}
	var kbuf []byte
	key := func(r Row) string {
		kbuf = kbuf[:0]
		for i, c := range cols {
			kbuf = appendRowKey(kbuf, c.T, r[i])
		}
		return string(kbuf)
	}
	if err := s.Right.Run(rt, func(r Row) error { counts[key(r)]++; return nil }); err != nil {
		return err
	}
	seen := map[string]bool{}
	return runStop(s.Left.Run(rt, func(r Row) error {
		k := key(r)
		n := counts[k]
		switch s.Kind {
		case IntersectSet:
			if n == 0 {
				return nil
			}
			if s.All {
				counts[k] = n - 1
			} else {
				if seen[k] {
					return nil
				}
				seen[k] = true
			}
		case ExceptSet:
			if s.All {
				if n > 0 {
					counts[k] = n - 1
					return nil
				}
			} else {
				if n > 0 || seen[k] {
					return nil
				}
				seen[k] = true
			}
		}
		return emit(r)
	}))
}

func (s *SetOp) Explain(e *Explainer) {
	e.Add("SetOp %v", [...]string{"Append", "Intersect", "Except"}[s.Kind])
	e.Child(s.Left)
	e.Child(s.Right)
}

// appendRowKey encodes a value, NULL included, for grouping rows by value:
// NULLs are equal to each other here, as in DISTINCT and set operations.
func appendRowKey(buf []byte, t types.T, v types.Datum) []byte {
	if v == nil {
		return append(buf, 0)
	}
	return types.AppendKey(append(buf, 1), t, v)
}

// DistinctRows passes each distinct row once (NULLs equal), in first-seen
// order. With On, rows are distinct by those columns only and the first
// row of each wins (SELECT DISTINCT ON, over sorted input).
type DistinctRows struct {
	Input Node
	On    []int
}

func (d *DistinctRows) Columns() []Column { return d.Input.Columns() }
func (d *DistinctRows) Run(rt *Runtime, emit func(Row) error) error {
	cols := d.Columns()
	on := d.On
	if on == nil {
		on = make([]int, len(cols))
		for i := range on {
			on[i] = i
		}
	}
	seen := map[string]bool{}
	var kbuf []byte
	return d.Input.Run(rt, func(r Row) error {
		kbuf = kbuf[:0]
		for _, i := range on {
			kbuf = appendRowKey(kbuf, cols[i].T, r[i])
		}
		if seen[string(kbuf)] {
			return nil
		}
		seen[string(kbuf)] = true
		return emit(r)
	})
}
func (d *DistinctRows) Explain(e *Explainer) {
	e.Add("HashAggregate (distinct)")
	e.Child(d.Input)
}
