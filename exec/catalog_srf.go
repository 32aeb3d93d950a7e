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
	Col  Column
}

func (f *TableFunction) Columns() []Column { return []Column{f.Col} }

func (f *TableFunction) Run(rt *Runtime, emit func(Row) error) error {
	args := make([]types.Datum, len(f.Args))
	for i, a := range f.Args {
		v, err := a.Eval(rt.Env, nil)
		if err != nil {
			return err
		}
		args[i] = v
	}
	row := make(Row, 1)
	out := func(v types.Datum) error {
		row[0] = v
		return emit(row)
	}
	var err error
	switch f.Name {
	case "generate_series":
		err = generateSeries(rt, args, out)
	case "unnest":
		if args[0] == nil {
			return nil
		}
		for _, e := range args[0].(*types.Array).Elems {
			if err = out(e); err != nil {
				break
			}
		}
	default:
		return pgerr.New(pgerr.FeatureNotSupported, "table function %s is not supported", f.Name)
	}
	return runStop(err)
}

func generateSeries(rt *Runtime, args []types.Datum, out func(types.Datum) error) error {
	for _, a := range args {
		if a == nil {
			return nil
		}
	}
	lo, hi, step := args[0].(int64), args[1].(int64), int64(1)
	if len(args) > 2 {
		step = args[2].(int64)
	}
	if step == 0 {
		return pgerr.New(pgerr.InvalidParameterValue, "step size cannot equal zero")
	}
	for v, n := lo, 0; step > 0 && v <= hi || step < 0 && v >= hi; v += step {
		if n++; n%1024 == 0 {
			if err := ctxErr(rt); err != nil {
				return err
			}
		}
		if err := out(v); err != nil {
			return err
		}
		if step > 0 && v > hi-step || step < 0 && v < hi-step {
			break // the next step would overflow past hi
		}
	}
	return nil
}

func (f *TableFunction) Explain(e *Explainer) {
	parts := make([]string, len(f.Args))
	for i, a := range f.Args {
		parts[i] = a.String()
	}
	e.Add("Function Scan on %s(%s)", f.Name, strings.Join(parts, ", "))
}
