package exec

import (
	"math"
	"sort"
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
	// NonStrict aggregates see NULL arguments too (array_agg).
	NonStrict bool
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
			// PostgreSQL has min/max for text and bpchar; varchar and
			// name arguments become text.
			ret = tText
			if arg.OID == types.BpcharOID {
				ret = types.Make(arg.OID)
			}
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
	case "bit_and", "bit_or", "bit_xor":
		switch arg.OID {
		case types.Int2OID, types.Int4OID, types.Int8OID:
			a.Ret, a.New = types.Make(arg.OID), func() Accumulator { return &bitAcc{op: name} }
		default:
			return nil, undefinedAgg(name, arg)
		}
	case "array_agg":
		at := types.ArrayOf(types.Make(arg.OID))
		if arg.IsArray() || at.OID == 0 {
			return nil, pgErr(pgerr.FeatureNotSupported, "array_agg(%s) is not supported", arg)
		}
		a.Ret, a.NonStrict = at, true
		a.New = func() Accumulator { return &arrayAggAcc{elem: types.Make(arg.OID)} }
	case "json_agg", "jsonb_agg":
		return resolveJSONAgg(a), nil
	default:
		if k, ok := varianceKind(name); ok {
			return resolveVariance(a, k)
		}
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
	case "count", "sum", "avg", "min", "max", "bool_and", "bool_or", "every", "string_agg", "array_agg",
		"bit_and", "bit_or", "bit_xor",
		"stddev", "stddev_samp", "stddev_pop", "variance", "var_samp", "var_pop",
		"json_agg", "jsonb_agg", "json_object_agg", "jsonb_object_agg",
		"percentile_cont", "percentile_disc", "mode":
		return true
	}
	return false
}

// bitAcc is bit_and, bit_or or bit_xor of integers (NULL over no
// values).
type bitAcc struct {
	op   string
	v    int64
	seen bool
}

func (a *bitAcc) Add(_ *Env, v types.Datum) error {
	x := v.(int64)
	switch {
	case !a.seen:
		a.v, a.seen = x, true
	case a.op == "bit_and":
		a.v &= x
	case a.op == "bit_or":
		a.v |= x
	default:
		a.v ^= x
	}
	return nil
}

func (a *bitAcc) Result(*Env) (types.Datum, error) {
	if !a.seen {
		return nil, nil
	}
	return a.v, nil
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
	s, err := FloatAccumulate(a.sum, v.(float64))
	a.sum, a.seen = s, true
	return err
}

// FloatAccumulate adds x to a float8 sum as PostgreSQL's sum and avg do:
// a finite sum that overflows to infinity is 22003.
func FloatAccumulate(sum, x float64) (float64, error) {
	s := sum + x
	if math.IsInf(s, 0) && !math.IsInf(sum, 0) && !math.IsInf(x, 0) {
		return s, pgErr(pgerr.NumericValueOutOfRange, "value out of range: overflow")
	}
	return s, nil
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
	return NumericAvg(env, s.(*apd.Decimal), a.n)
}

// NumericAvg is avg's value over integers or numerics from their sum and
// count (NULL for none), with PostgreSQL's division.
func NumericAvg(env *Env, sum *apd.Decimal, n int64) (types.Datum, error) {
	if n == 0 {
		return nil, nil
	}
	var d apd.Decimal
	d.SetInt64(n)
	return numericArith('/')(env, nil, []types.Datum{sum, &d})
}

type floatAvgAcc struct {
	sum float64
	n   int64
}

func (a *floatAvgAcc) Add(_ *Env, v types.Datum) error {
	var err error
	a.sum, err = FloatAccumulate(a.sum, v.(float64))
	a.n++
	return err
}
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
// expression (over the input row), an optional FILTER and DISTINCT, and
// the ORDER BY inside the call, which feeds the group's values to the
// function in that order.
type Aggregate struct {
	Func     *AggFunc
	Arg      Expr
	Filter   Expr
	Distinct bool
	Order    []SortKey
}

// arrayAggAcc is array_agg: every value, NULLs included.
type arrayAggAcc struct {
	elem  types.T
	elems []types.Datum
	seen  bool
}

func (a *arrayAggAcc) Add(_ *Env, v types.Datum) error {
	a.elems = append(a.elems, v)
	a.seen = true
	return nil
}

func (a *arrayAggAcc) Result(*Env) (types.Datum, error) {
	if !a.seen {
		return nil, nil
	}
	return &types.Array{Elem: a.elem, Elems: append([]types.Datum(nil), a.elems...)}, nil
}

// orderedValue is one buffered input of an ordered aggregate.
type orderedValue struct {
	v    types.Datum
	keys []types.Datum
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
	// buf holds the inputs of ordered aggregates until the group ends.
	buf [][]orderedValue
}

func (h *HashAgg) Run(rt *Runtime, emit func(Row) error) error {
	groups := map[string]*aggGroup{}
	var order []*aggGroup
	keyTypes := make([]types.T, len(h.Group))
	for i, g := range h.Group {
		keyTypes[i] = g.Type()
	}
	newGroup := func(key Row) *aggGroup {
		g := &aggGroup{key: key, accs: make([]Accumulator, len(h.Aggs)), seen: make([]map[string]bool, len(h.Aggs)), buf: make([][]orderedValue, len(h.Aggs))}
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
			if v == nil && !a.Func.NonStrict {
				continue
			}
			if len(a.Order) > 0 {
				ov := orderedValue{v: v, keys: make([]types.Datum, len(a.Order))}
				for k, sk := range a.Order {
					if ov.keys[k], err = sk.Expr.Eval(rt.Env, r); err != nil {
						return err
					}
				}
				grp.buf[i] = append(grp.buf[i], ov)
				continue
			}
			if err := grp.feed(rt.Env, i, a, v); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, g := range order {
		for i, a := range h.Aggs {
			if len(a.Order) == 0 {
				continue
			}
			buf := g.buf[i]
			sort.SliceStable(buf, func(x, y int) bool { return compareSortKeys(a.Order, buf[x].keys, buf[y].keys) < 0 })
			for _, ov := range buf {
				if err := g.feed(rt.Env, i, a, ov.v); err != nil {
					return err
				}
			}
			g.buf[i] = nil
		}
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

// feed passes one value to aggregate i, once per distinct value under
// DISTINCT.
func (g *aggGroup) feed(env *Env, i int, a Aggregate, v types.Datum) error {
	if a.Distinct {
		k := string(appendRowKey(nil, a.Arg.Type(), v))
		if g.seen[i][k] {
			return nil
		}
		g.seen[i][k] = true
	}
	return g.accs[i].Add(env, v)
}

// compareSortKeys compares two rows' sort key values as Sort orders them.
func compareSortKeys(keys []SortKey, a, b []types.Datum) int {
	for k, sk := range keys {
		c := CompareNulls(sk.Expr.Type(), a[k], b[k], sk.NullsFirst)
		if sk.Desc && (a[k] == nil) == (b[k] == nil) {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return 0
}
