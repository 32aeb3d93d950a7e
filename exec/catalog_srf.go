package exec

import (
	"strings"

	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

// TableFunction is a set-returning function in FROM (generate_series,
// unnest), one output column. Its arguments may read enclosing queries'
// rows (Env.Outer), never a row of its own.
type TableFunction struct {
	Name string
	Args []Expr
	// Cols are its columns: one, or the fields of the records it
	// returns (json_each's key and value).
	Cols []Column
}

func (f *TableFunction) Columns() []Column { return f.Cols }

func (f *TableFunction) Run(rt *Runtime, emit func(Row) error) error {
	next, err := startSetFunc(f.Name, f.Args, rt.Env, nil)
	if err != nil {
		return err
	}
	row := make(Row, len(f.Cols))
	for n := 1; ; n++ {
		v, ok, err := next()
		if err != nil || !ok {
			return err
		}
		if n%1024 == 0 {
			if err := ctxErr(rt); err != nil {
				return err
			}
		}
		if len(row) > 1 {
			copy(row, v.(*types.Record).Fields)
		} else {
			row[0] = v
		}
		if err := emit(row); err != nil {
			return runStop(err)
		}
	}
}

func (f *TableFunction) Explain(e *Explainer) {
	parts := make([]string, len(f.Args))
	for i, a := range f.Args {
		parts[i] = a.String()
	}
	e.Add("Function Scan on %s(%s)", f.Name, strings.Join(parts, ", "))
}

// setIter yields a set-returning function's values one by one; ok is
// false once the set is exhausted.
type setIter func() (v types.Datum, ok bool, err error)

// startSetFunc evaluates a set-returning function's arguments over row and
// returns the iterator of its values:
//
//	generate_series(lo, hi [, step])  int8 arguments (the planner casts)
//	unnest(array)                     the elements
//	_pg_expandarray(array)            information_schema's: a record
//	                                  (x elem, n int4) per element, n
//	                                  counting from 1
func startSetFunc(name string, argExprs []Expr, env *Env, row Row) (setIter, error) {
	args := make([]types.Datum, len(argExprs))
	for i, a := range argExprs {
		v, err := a.Eval(env, row)
		if err != nil {
			return nil, err
		}
		args[i] = v
	}
	switch name {
	case "generate_series":
		return seriesIter(args)
	case "unnest", "_pg_expandarray":
		if args[0] == nil {
			return emptySet, nil
		}
		elems, i := args[0].(*types.Array).Elems, 0
		elemT := argExprs[0].Type().ElemType()
		return func() (types.Datum, bool, error) {
			if i >= len(elems) {
				return nil, false, nil
			}
			e := elems[i]
			i++
			if name == "unnest" {
				return e, true, nil
			}
			return &types.Record{Types: []types.T{elemT, types.Make(types.Int4OID)}, Fields: []types.Datum{e, int64(i)}}, true, nil
		}, nil
	}
	if _, ok := JSONSetFuncs[name]; ok {
		return jsonSetIter(name, args[0])
	}
	if name == HopWindowsFunc {
		return hopWindows(args)
	}
	return nil, pgerr.New(pgerr.FeatureNotSupported, "set-returning function %s is not supported", name)
}

func emptySet() (types.Datum, bool, error) { return nil, false, nil }

func seriesIter(args []types.Datum) (setIter, error) {
	for _, a := range args {
		if a == nil {
			return emptySet, nil
		}
	}
	lo, hi, step := args[0].(int64), args[1].(int64), int64(1)
	if len(args) > 2 {
		step = args[2].(int64)
	}
	if step == 0 {
		return nil, pgerr.New(pgerr.InvalidParameterValue, "step size cannot equal zero")
	}
	v, done := lo, false
	return func() (types.Datum, bool, error) {
		if done || step > 0 && v > hi || step < 0 && v < hi {
			return nil, false, nil
		}
		cur := v
		if step > 0 && v > hi-step || step < 0 && v < hi-step {
			done = true // the next step would overflow past hi
		} else {
			v += step
		}
		return cur, true, nil
	}, nil
}
