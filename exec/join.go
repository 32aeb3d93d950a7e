package exec

import "strings"

// JoinKind is the kind of a join.
type JoinKind uint8

const (
	InnerJoin JoinKind = iota
	LeftJoin
	RightJoin
	FullJoin
	CrossJoin
)

func (k JoinKind) String() string {
	return [...]string{"Inner", "Left", "Right", "Full", "Cross"}[k]
}

// NestedLoopJoin joins every left row with every right row that satisfies
// On (nil: all). Output rows are the left columns then the right columns;
// the outer kinds pad the missing side with NULLs. The right side is run
// once and kept in memory, or with PerRow once per left row.
type NestedLoopJoin struct {
	Left, Right Node
	Kind        JoinKind
	On          Expr
	Cols        []Column
	// PerRow runs Right once per left row, with that row as its outer row
	// (Right reads it through OuterRef at depth 1, typically as the key
	// of a key lookup: one lookup per left row instead of a read of all
	// of Right). Inner and left joins only.
	PerRow bool
}

func (j *NestedLoopJoin) Columns() []Column { return j.Cols }
func (j *NestedLoopJoin) Run(rt *Runtime, emit func(Row) error) error {
	var right []Row
	var err error
	if !j.PerRow {
		if right, err = Collect(rt, j.Right); err != nil {
			return err
		}
	}
	lw, rw := len(j.Left.Columns()), len(j.Right.Columns())
	out := make(Row, lw+rw)
	var rightMatched []bool
	if j.Kind == RightJoin || j.Kind == FullJoin {
		rightMatched = make([]bool, len(right))
	}
	err = j.Left.Run(rt, func(l Row) error {
		if j.PerRow {
			// Right runs in an environment of its own whose outer rows
			// end with l; its rows are joined in the caller's.
			inner := *rt.Env
			inner.Outer = append(append([]Row(nil), rt.Env.Outer...), append(Row(nil), l...))
			irt := *rt
			irt.Env = &inner
			var err error
			if right, err = Collect(&irt, j.Right); err != nil {
				return err
			}
		}
		copy(out, l)
		matched := false
		for ri, r := range right {
			copy(out[lw:], r)
			if j.On != nil {
				ok, err := EvalBool(j.On, rt.Env, out)
				if err != nil {
					return err
				}
				if !ok {
					continue
				}
			}
			matched = true
			if rightMatched != nil {
				rightMatched[ri] = true
			}
			if err := emit(out); err != nil {
				return err
			}
		}
		if !matched && (j.Kind == LeftJoin || j.Kind == FullJoin) {
			for i := lw; i < len(out); i++ {
				out[i] = nil
			}
			return emit(out)
		}
		return nil
	})
	if err != nil {
		return runStop(err)
	}
	if j.Kind == RightJoin || j.Kind == FullJoin {
		for i := 0; i < lw; i++ {
			out[i] = nil
		}
		for ri, r := range right {
			if rightMatched[ri] {
				continue
			}
			copy(out[lw:], r)
			if err := emit(out); err != nil {
				return runStop(err)
			}
		}
	}
	return nil
}

func (j *NestedLoopJoin) Explain(e *Explainer) {
	if j.PerRow {
		e.Add("Nested Loop %s Join (right side per row)", j.Kind)
	} else {
		e.Add("Nested Loop %s Join", j.Kind)
	}
	if j.On != nil {
		e.Detail("Join Filter: %s", j.On)
	}
	e.Child(j.Left)
	e.Child(j.Right)
}

// HashJoin joins on equality of LeftKeys and RightKeys (NULL keys never
// match), then checks Extra (nil: none). The right side is hashed.
type HashJoin struct {
	Left, Right         Node
	Kind                JoinKind
	LeftKeys, RightKeys []Expr
	Extra               Expr
	Cols                []Column
}

func (j *HashJoin) Columns() []Column { return j.Cols }
func (j *HashJoin) Run(rt *Runtime, emit func(Row) error) error {
	type entry struct {
		row     Row
		matched bool
	}
	table := map[string][]*entry{}
	var all []*entry
	var kbuf []byte
	keyOf := func(keys []Expr, r Row) (string, bool, error) {
		kbuf = kbuf[:0]
		for i, k := range keys {
			v, err := k.Eval(rt.Env, r)
			if err != nil {
				return "", false, err
			}
			if v == nil {
				return "", false, nil
			}
			kbuf = appendHashKey(kbuf, j.LeftKeys[i].Type(), v)
		}
		return string(kbuf), true, nil
	}
	err := j.Right.Run(rt, func(r Row) error {
		e := &entry{row: append(Row(nil), r...)}
		all = append(all, e)
		k, ok, err := keyOf(j.RightKeys, r)
		if err != nil || !ok {
			return err
		}
		table[k] = append(table[k], e)
		return nil
	})
	if err != nil {
		return err
	}
	lw, rw := len(j.Left.Columns()), len(j.Right.Columns())
	out := make(Row, lw+rw)
	err = j.Left.Run(rt, func(l Row) error {
		copy(out, l)
		matched := false
		k, ok, err := keyOf(j.LeftKeys, l)
		if err != nil {
			return err
		}
		if ok {
			for _, e := range table[k] {
				copy(out[lw:], e.row)
				if j.Extra != nil {
					pass, err := EvalBool(j.Extra, rt.Env, out)
					if err != nil {
						return err
					}
					if !pass {
						continue
					}
				}
				matched = true
				e.matched = true
				if err := emit(out); err != nil {
					return err
				}
			}
		}
		if !matched && (j.Kind == LeftJoin || j.Kind == FullJoin) {
			for i := lw; i < len(out); i++ {
				out[i] = nil
			}
			return emit(out)
		}
		return nil
	})
	if err != nil {
		return runStop(err)
	}
	if j.Kind == RightJoin || j.Kind == FullJoin {
		for i := 0; i < lw; i++ {
			out[i] = nil
		}
		for _, e := range all {
			if e.matched {
				continue
			}
			copy(out[lw:], e.row)
			if err := emit(out); err != nil {
				return runStop(err)
			}
		}
	}
	return nil
}

func (j *HashJoin) Explain(e *Explainer) {
	conds := make([]string, len(j.LeftKeys))
	for i := range j.LeftKeys {
		conds[i] = j.LeftKeys[i].String() + " = " + j.RightKeys[i].String()
	}
	e.Add("Hash %s Join", j.Kind)
	e.Detail("Hash Cond: %s", strings.Join(conds, " AND "))
	e.Child(j.Left)
	e.Child(j.Right)
}
