package exec

import (
	"strings"

	"github.com/strand-db/strand/sql/types"
)

// Array expressions that PostgreSQL clients' catalog queries use: ARRAY[..],
// ARRAY(subquery), x op ANY/ALL (array) and a[i]. Arrays are
// one-dimensional with lower bound 1 (types.Array).

// ArrayExpr is ARRAY[e, ...].
type ArrayExpr struct {
	Elems []Expr
	T     types.T
}

func (a *ArrayExpr) Type() types.T { return a.T }
func (a *ArrayExpr) Eval(env *Env, row Row) (types.Datum, error) {
	out := &types.Array{Elem: a.T.ElemType(), Elems: make([]types.Datum, len(a.Elems))}
	for i, e := range a.Elems {
		v, err := e.Eval(env, row)
		if err != nil {
			return nil, err
		}
		out.Elems[i] = v
	}
	return out, nil
}
func (a *ArrayExpr) String() string {
	parts := make([]string, len(a.Elems))
	for i, e := range a.Elems {
		parts[i] = e.String()
	}
	return "ARRAY[" + strings.Join(parts, ", ") + "]"
}

// ArraySubquery is ARRAY(subquery): the first column of every row.
type ArraySubquery struct {
	Sub *Subquery
	T   types.T
}

func (a *ArraySubquery) Type() types.T { return a.T }
func (a *ArraySubquery) Eval(env *Env, row Row) (types.Datum, error) {
	rows, err := a.Sub.run(env, row)
	if err != nil {
		return nil, err
	}
	out := &types.Array{Elem: a.T.ElemType(), Elems: make([]types.Datum, len(rows))}
	for i, r := range rows {
		out.Elems[i] = r[0]
	}
	return out, nil
}
func (a *ArraySubquery) String() string { return "ARRAY(SubPlan)" }

// ArrayCompare is Arg op ANY (Array) or Arg op ALL (Array). Cmp compares
// column 0 (Arg's value) with column 1 (an element).
type ArrayCompare struct {
	Arg, Array Expr
	Cmp        Expr
	All        bool
}

func (a *ArrayCompare) Type() types.T { return types.Make(types.BoolOID) }
func (a *ArrayCompare) Eval(env *Env, row Row) (types.Datum, error) {
	x, err := a.Arg.Eval(env, row)
	if err != nil {
		return nil, err
	}
	v, err := a.Array.Eval(env, row)
	if err != nil || v == nil {
		return nil, err
	}
	arr := v.(*types.Array)
	if len(arr.Elems) == 0 {
		return a.All, nil
	}
	sawNull := false
	pair := Row{x, nil}
	for _, e := range arr.Elems {
		var r types.Datum
		if x != nil && e != nil {
			pair[1] = e
			if r, err = a.Cmp.Eval(env, pair); err != nil {
				return nil, err
			}
		}
		switch {
		case r == nil:
			sawNull = true
		case r == true && !a.All:
			return true, nil
		case r == false && a.All:
			return false, nil
		}
	}
	if sawNull {
		return nil, nil
	}
	return a.All, nil
}
func (a *ArrayCompare) String() string {
	q := "ANY"
	if a.All {
		q = "ALL"
	}
	return a.Arg.String() + " " + q + " (" + a.Array.String() + ")"
}

// Subscript is a[i]: NULL when i is out of bounds.
type Subscript struct {
	Array, Index Expr
	T            types.T
}

func (s *Subscript) Type() types.T { return s.T }
func (s *Subscript) Eval(env *Env, row Row) (types.Datum, error) {
	v, err := s.Array.Eval(env, row)
	if err != nil || v == nil {
		return nil, err
	}
	i, err := s.Index.Eval(env, row)
	if err != nil || i == nil {
		return nil, err
	}
	arr := v.(*types.Array)
	n := i.(int64)
	if n < 1 || n > int64(len(arr.Elems)) {
		return nil, nil
	}
	return arr.Elems[n-1], nil
}
func (s *Subscript) String() string { return s.Array.String() + "[" + s.Index.String() + "]" }
