package exec

import (
	"strings"

	"github.com/strand-db/strand/sql/types"
)

// ProjectSet runs the set-returning functions of a select list, as
// PostgreSQL 10 and later do, below the projection that reads them. For
// each input row it starts every function with its arguments evaluated
// over that row, then emits rows while any function still yields a value,
// reading all of them in lockstep: a function that is exhausted gives
// NULL while the others go on, and the input row yields nothing when all
// of them are empty. An output row is the input row followed by one value
// per function, so the projection above refers to a function's values as
// column len(Input.Columns())+i, and repeats the other expressions on
// every row.
type ProjectSet struct {
	Input Node
	Funcs []SetFunc
	Cols  []Column // Input's columns, then one per function
}

// SetFunc is a set-returning function call of a select list; T is the type
// of its values.
type SetFunc struct {
	Name string
	Args []Expr
	T    types.T
}

func (p *ProjectSet) Columns() []Column { return p.Cols }

func (p *ProjectSet) Run(rt *Runtime, emit func(Row) error) error {
	out := make(Row, len(p.Cols))
	iters := make([]setIter, len(p.Funcs))
	return p.Input.Run(rt, func(r Row) error {
		n := 0
		return expandSet(rt.Env, p.Funcs, r, out, iters, func(out Row) error {
			if n++; n%1024 == 0 {
				if err := ctxErr(rt); err != nil {
					return err
				}
			}
			return emit(out)
		})
	})
}

// ExpandSet calls emit with row followed by the values of the
// set-returning functions funcs over it, once per value, in lockstep (a
// function that runs out gives NULL until all have), as a select list's
// ProjectSet does: a materialized view expands its rows with it
// (views.ProjectSet). The row emit gets is reused from call to call.
func ExpandSet(env *Env, funcs []SetFunc, row Row, emit func(Row) error) error {
	out := make(Row, len(row)+len(funcs))
	return expandSet(env, funcs, row, out, make([]setIter, len(funcs)), emit)
}

func expandSet(env *Env, funcs []SetFunc, r, out Row, iters []setIter, emit func(Row) error) error {
	w := len(out) - len(funcs)
	for i, f := range funcs {
		it, err := startSetFunc(f.Name, f.Args, env, r)
		if err != nil {
			return err
		}
		iters[i] = it
	}
	copy(out, r)
	for {
		live := false
		for i, it := range iters {
			out[w+i] = nil
			if it == nil {
				continue
			}
			v, ok, err := it()
			if err != nil {
				return err
			}
			if !ok {
				iters[i] = nil
				continue
			}
			out[w+i], live = v, true
		}
		if !live {
			return nil
		}
		if err := emit(out); err != nil {
			return err
		}
	}
}

func (p *ProjectSet) Explain(e *Explainer) {
	parts := make([]string, len(p.Funcs))
	for i, f := range p.Funcs {
		args := make([]string, len(f.Args))
		for j, a := range f.Args {
			args[j] = a.String()
		}
		parts[i] = f.Name + "(" + strings.Join(args, ", ") + ")"
	}
	e.Add("ProjectSet")
	e.Detail("Functions: %s", strings.Join(parts, ", "))
	e.Child(p.Input)
}

// FieldSelect is (Arg).Name: field Idx of a record value.
type FieldSelect struct {
	Arg  Expr
	Idx  int
	Name string
	T    types.T
}

func (f *FieldSelect) Type() types.T { return f.T }
func (f *FieldSelect) Eval(env *Env, row Row) (types.Datum, error) {
	v, err := f.Arg.Eval(env, row)
	if v == nil || err != nil {
		return nil, err
	}
	return v.(*types.Record).Fields[f.Idx], nil
}
func (f *FieldSelect) String() string { return "(" + f.Arg.String() + ")." + f.Name }
