package exec

import (
	"strings"

	"github.com/cockroachdb/apd/v3"

	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

// AggFunc is an aggregate function resolved for its argument type.
type AggFunc struct {
	Name string
	Arg  types.T
	Ret  types.T
	// New returns a fresh accumulator.
	New func() Accumulator
	// CountStar aggregates rows, not values (count(*)).
	CountStar bool
}

// Accumulator folds values into an aggregate. NULL arguments are skipped
// before Add is called (every aggregate Strand has is strict), except for
// count(*).
type Accumulator interface {
	Add(env *Env, v types.Datum) error
	Result(env *Env) (types.Datum, error)
}

// ResolveAgg finds the aggregate name(arg).
func ResolveAgg(name string, arg types.T, star bool) (*AggFunc, error) {
	name = strings.ToLower(name)
	if star {
		if name != "count" {
			return nil, pgErr(pgerr.WrongObjectType, "%s(*) specified, but %s is not an aggregate function that takes *", name, name)
		}
		return &AggFunc{Name: "count", Ret: tInt8, CountStar: true, New: func() Accumulator { return &countAcc{} }}, nil
	}
	a := &AggFunc{Name: name, Arg: arg}
	switch name {
	case "count":
		a.Ret, a.New = tInt8, func() Accumulator { return &countAcc{} }
	case "sum":
		switch arg.OID {
		case types.Int2OID, types.Int4OID:
			a.Ret, a.New = tInt8, func() Accumulator { return &intSumAcc{} }
		case types.Int8OID, types.NumericOID:
			a.Ret, a.New = tNumeric, func() Accumulator { return &numSumAcc{} }
		case types.Float4OID, types.Float8OID:
			a.Ret, a.New = types.Make(arg.OID), func() Accumulator { return &floatSumAcc{} }
		case types.IntervalOID:
			return nil, pgErr(pgerr.FeatureNotSupported, "sum(interval) is not supported yet")
		default:
			return nil, undefinedAgg(name, arg)
		}
	case "avg":
		switch arg.OID {
		case types.Int2OID, types.Int4OID, types.Int8OID, types.NumericOID:
			a.Ret, a.New = tNumeric, func() Accumulator { return &numAvgAcc{} }
		case types.Float4OID, types.Float8OID:
			a.Ret, a.New = tFloat8, func() Accumulator { return &floatAvgAcc{} }
		default:
			return nil, undefinedAgg(name, arg)
		}
	case "min", "max":
		if Category(arg.OID) == 'U' && arg.OID != types.UUIDOID || arg.OID == types.JSONOID {
			return nil, undefinedAgg(name, arg)
		}
		want := 1
		if name == "min" {
			want = -1
		}
		ret := arg
		if Category(arg.OID) == 'S' {
			ret = types.Make(arg.OID)
		}
		a.Ret, a.New = ret, func() Accumulator { return &extremeAcc{t: arg, want: want} }
	case "bool_and", "every":
		if arg.OID != types.BoolOID {
			return nil, undefinedAgg(name, arg)
		}
		a.Ret, a.New = tBool, func() Accumulator { return &boolAcc{and: true} }
	case "bool_or":
		if arg.OID != types.BoolOID {
			return nil, undefinedAgg(name, arg)
		}
		a.Ret, a.New = tBool, func() Accumulator { return &boolAcc{} }
	default:
		return nil, nil // not an aggregate
	}
	return a, nil
}

func undefinedAgg(name string, arg types.T) error {
	return pgErr(pgerr.UndefinedFunction, "function %s(%s) does not exist", name, arg)
}

// IsAggregate reports whether name is an aggregate function.
func IsAggregate(name string) bool {
	switch strings.ToLower(name) {
	case "count", "sum", "avg", "min", "max", "bool_and", "bool_or", "every", "string_agg", "array_agg":
		return true
	}
	return false
}

type countAcc struct{ n int64 }

func (a *countAcc) Add(*Env, types.Datum) error      { a.n++; return nil }
func (a *countAcc) Result(*Env) (types.Datum, error) { return a.n, nil }

type intSumAcc struct {
	sum  int64
	seen bool
}

func (a *intSumAcc) Add(_ *Env, v types.Datum) error {
	a.sum += v.(int64) // int2/int4 inputs cannot overflow an int8 sum in practice
	a.seen = true
	return nil
}
func (a *intSumAcc) Result(*Env) (types.Datum, error) {
	if !a.seen {
		return nil, nil
	}
	return a.sum, nil
}

// numSumAcc sums int8 or numeric exactly; int8 values are summed in an
// int64 fast path until it would overflow.
type numSumAcc struct {
	fast    int64
	useFast bool
	dec     apd.Decimal
	seen    bool
}

func (a *numSumAcc) Add(_ *Env, v types.Datum) error {
	if !a.seen {
		a.seen = true
		a.useFast = true
	}
	switch x := v.(type) {
	case int64:
		if a.useFast {
			s := a.fast + x
			if (a.fast >= 0) == (x >= 0) && (s >= 0) != (x >= 0) {
				a.spill()
			} else {
				a.fast = s
				return nil
			}
		}
		var d apd.Decimal
		d.SetInt64(x)
		_, err := numericCtx.Add(&a.dec, &a.dec, &d)
		return err
	case *apd.Decimal:
		a.spill()
		_, err := numericCtx.Add(&a.dec, &a.dec, x)
		return err
	}
	return nil
}

func (a *numSumAcc) spill() {
	if a.useFast {
		var d apd.Decimal
		d.SetInt64(a.fast)
		numericCtx.Add(&a.dec, &a.dec, &d)
		a.useFast = false
		a.fast = 0
	}
}

func (a *numSumAcc) Result(*Env) (types.Datum, error) {
	if !a.seen {
		return nil, nil
	}
	a.spill()
	out := new(apd.Decimal)
	out.Set(&a.dec)
	return out, nil
}

type floatSumAcc struct {
	sum  float64
	seen bool
}

func (a *floatSumAcc) Add(_ *Env, v types.Datum) error {
	a.sum += v.(float64)
	a.seen = true
	return nil
}
func (a *floatSumAcc) Result(*Env) (types.Datum, error) {
	if !a.seen {
		return nil, nil
	}
	return a.sum, nil
}

type numAvgAcc struct {
	sum numSumAcc
	n   int64
}

func (a *numAvgAcc) Add(env *Env, v types.Datum) error { a.n++; return a.sum.Add(env, v) }
func (a *numAvgAcc) Result(env *Env) (types.Datum, error) {
	if a.n == 0 {
		return nil, nil
	}
	s, _ := a.sum.Result(env)
	var n apd.Decimal
	n.SetInt64(a.n)
	return numericArith('/')(env, nil, []types.Datum{s, &n})
}

type floatAvgAcc struct {
	sum float64
	n   int64
}

func (a *floatAvgAcc) Add(_ *Env, v types.Datum) error { a.sum += v.(float64); a.n++; return nil }
func (a *floatAvgAcc) Result(*Env) (types.Datum, error) {
	if a.n == 0 {
		return nil, nil
	}
	return a.sum / float64(a.n), nil
}

type extremeAcc struct {
	t    types.T
	want int
	v    types.Datum
}

func (a *extremeAcc) Add(_ *Env, v types.Datum) error {
	if a.v == nil || types.Compare(a.t, v, a.v)*a.want > 0 {
		a.v = v
	}
	return nil
}
func (a *extremeAcc) Result(*Env) (types.Datum, error) { return a.v, nil }

type boolAcc struct {
	and  bool
	v    bool
	seen bool
}

func (a *boolAcc) Add(_ *Env, v types.Datum) error {
	b := v.(bool)
	if !a.seen {
		a.v, a.seen = b, true
		return nil
	}
	if a.and {
		a.v = a.v && b
	} else {
		a.v = a.v || b
	}
	return nil
}
func (a *boolAcc) Result(*Env) (types.Datum, error) {
	if !a.seen {
		return nil, nil
	}
	return a.v, nil
}

// Aggregate is one aggregate call in a GROUP BY: the function, its argument
// expression (over the input row) and an optional FILTER and DISTINCT.
type Aggregate struct {
	Func     *AggFunc
	Arg      Expr
	Filter   Expr
	Distinct bool
}

// HashAgg groups its input by the Group expressions and computes the
// aggregates per group. Output rows are the group values, then the
// aggregate results. With no Group expressions it produces exactly one row.
type HashAgg struct {
	Input Node
	Group []Expr
	Aggs  []Aggregate
	Cols  []Column
}

func (h *HashAgg) Columns() []Column { return h.Cols }

type aggGroup struct {
	key   Row
	accs  []Accumulator
	seen  []map[string]bool // DISTINCT
	order int
}

func (h *HashAgg) Run(rt *Runtime, emit func(Row) error) error {
	groups := map[string]*aggGroup{}
	var order []*aggGroup
	keyTypes := make([]types.T, len(h.Group))
	for i, g := range h.Group {
		keyTypes[i] = g.Type()
	}
	newGroup := func(key Row) *aggGroup {
		g := &aggGroup{key: key, accs: make([]Accumulator, len(h.Aggs)), seen: make([]map[string]bool, len(h.Aggs))}
		for i, a := range h.Aggs {
			g.accs[i] = a.Func.New()
			if a.Distinct {
				g.seen[i] = map[string]bool{}
			}
		}
		order = append(order, g)
		return g
	}
	var kbuf []byte
	keyRow := make(Row, len(h.Group))
	err := h.Input.Run(rt, func(r Row) error {
		kbuf = kbuf[:0]
		for i, g := range h.Group {
			v, err := g.Eval(rt.Env, r)
			if err != nil {
				return err
			}
			keyRow[i] = v
			kbuf = types.AppendKey(kbuf, keyTypes[i], v)
		}
		grp, ok := groups[string(kbuf)]
		if !ok {
			grp = newGroup(append(Row(nil), keyRow...))
			groups[string(kbuf)] = grp
		}
		for i, a := range h.Aggs {
			if a.Filter != nil {
				ok, err := EvalBool(a.Filter, rt.Env, r)
				if err != nil {
					return err
				}
				if !ok {
					continue
				}
			}
			if a.Func.CountStar {
				grp.accs[i].Add(rt.Env, nil)
				continue
			}
			v, err := a.Arg.Eval(rt.Env, r)
			if err != nil {
				return err
			}
			if v == nil {
				continue
			}
			if a.Distinct {
				k := string(types.AppendKey(nil, a.Arg.Type(), v))
				if grp.seen[i][k] {
					continue
				}
				grp.seen[i][k] = true
			}
			if err := grp.accs[i].Add(rt.Env, v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(h.Group) == 0 && len(order) == 0 {
		newGroup(nil)
	}
	out := make(Row, len(h.Group)+len(h.Aggs))
	for _, g := range order {
		copy(out, g.key)
		for i, acc := range g.accs {
			v, err := acc.Result(rt.Env)
			if err != nil {
				return err
			}
			out[len(h.Group)+i] = v
		}
		if err := emit(out); err != nil {
			return runStop(err)
		}
	}
	return nil
}

func (h *HashAgg) Explain(e *Explainer) {
	if len(h.Group) == 0 {
		e.Add("Aggregate")
	} else {
		parts := make([]string, len(h.Group))
		for i, g := range h.Group {
			parts[i] = g.String()
		}
		e.Add("HashAggregate")
		e.Detail("Group Key: %s", strings.Join(parts, ", "))
	}
	e.Child(h.Input)
}
