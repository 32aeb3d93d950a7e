package views

import (
	"github.com/cockroachdb/apd/v3"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/sql/types"
)

// Group state: [group values..., rows int8, per aggregate its fields].
func (p *Aggregate) stateTypes() []types.T {
	var ts []types.T
	for _, g := range p.Group {
		ts = append(ts, g.Type())
	}
	ts = append(ts, types.Make(types.Int8OID))
	for _, a := range p.Aggs {
		ts = append(ts, aggStateTypes(a)...)
	}
	return ts
}

var (
	tInt8    = types.Make(types.Int8OID)
	tNumeric = types.Make(types.NumericOID)
	tFloat8  = types.Make(types.Float8OID)
)

func aggStateTypes(a Agg) []types.T {
	switch a.Kind {
	case AggCount, AggCountDistinct:
		return []types.T{tInt8}
	case AggSum, AggAvg:
		if isFloat(a.Arg.Type()) {
			return []types.T{tInt8, tFloat8}
		}
		return []types.T{tInt8, tNumeric}
	case AggBoolAnd, AggBoolOr:
		return []types.T{tInt8, tInt8}
	}
	return nil // count(*): the group's row count; min/max: the multiset
}

func isFloat(t types.T) bool { return t.OID == types.Float4OID || t.OID == types.Float8OID }

// group folds a weighted row into its group's state and emits the change
// of the group's output row: the old row out, the new row in. At the root
// the output row is stored under the group key, so a point lookup by group
// is one read and an update overwrites the row in place.
func (r *run) group(p *Aggregate, row exec.Row, w int64) error {
	ov, env, view := r.ov, r.env, r.p.View
	gvals, err := evalAll(env, p.Group, row)
	if err != nil {
		return err
	}
	gts := make([]types.T, len(p.Group))
	for i, g := range p.Group {
		gts[i] = g.Type()
	}
	gk := appendTuple(nil, gts, gvals)
	skey := append(opPrefix(view, 'g', p.ID), gk...)
	sts := p.stateTypes()
	state := make(exec.Row, len(sts))
	v, found, err := ov.get(skey)
	if err != nil {
		return err
	}
	if found {
		if state, err = types.DecodeRow(sts, v); err != nil {
			return err
		}
	} else {
		copy(state, gvals)
		for i := len(gvals); i < len(state); i++ {
			switch sts[i].OID {
			case types.Int8OID:
				state[i] = int64(0)
			case types.NumericOID:
				state[i] = new(apd.Decimal)
			case types.Float8OID:
				state[i] = float64(0)
			}
		}
	}
	var oldOut exec.Row
	if found {
		if oldOut, err = r.groupOutput(p, gk, state); err != nil {
			return err
		}
	}
	ng := len(gvals)
	state[ng] = state[ng].(int64) + w
	f := ng + 1
	for ai, a := range p.Aggs {
		var v types.Datum
		if a.Kind != AggCountStar {
			if v, err = a.Arg.Eval(env, row); err != nil {
				return err
			}
		}
		switch a.Kind {
		case AggCountStar:
		case AggCount:
			if v != nil {
				state[f] = state[f].(int64) + w
			}
		case AggCountDistinct:
			if v != nil {
				dk := append(append(append(opPrefix(view, 'd', p.ID), byte(ai)), gk...), appendValue(nil, a.Arg.Type(), v)...)
				before, after, err := ov.addCount(dk, w, nil)
				if err != nil {
					return err
				}
				if before == 0 && after > 0 {
					state[f] = state[f].(int64) + 1
				} else if before > 0 && after == 0 {
					state[f] = state[f].(int64) - 1
				}
			}
		case AggSum, AggAvg:
			if v != nil {
				state[f] = state[f].(int64) + w
				if isFloat(a.Arg.Type()) {
					state[f+1] = state[f+1].(float64) + float64(w)*v.(float64)
				} else {
					sum := new(apd.Decimal)
					if _, err := numericCtx.Add(sum, state[f+1].(*apd.Decimal), weighted(v, w)); err != nil {
						return err
					}
					state[f+1] = sum
				}
			}
		case AggMin, AggMax:
			if v != nil {
				mk := append(append(append(opPrefix(view, 'm', p.ID), byte(ai)), gk...), appendValue(nil, a.Arg.Type(), v)...)
				// The value itself is kept beside its count: the key
				// encoding normalizes (1.50 and 1.5 share a key) and min
				// and max must return the value as written.
				payload, err := types.EncodeRow(nil, []types.T{a.Arg.Type()}, []types.Datum{v})
				if err != nil {
					return err
				}
				if _, _, err := ov.addCount(mk, w, payload); err != nil {
					return err
				}
			}
		case AggBoolAnd, AggBoolOr:
			if v != nil {
				state[f] = state[f].(int64) + w
				if v == true {
					state[f+1] = state[f+1].(int64) + w
				}
			}
		}
		f += len(aggStateTypes(a))
	}
	var newOut exec.Row
	if state[ng].(int64) > 0 || ng == 0 {
		// An ungrouped aggregate keeps its (possibly empty) state: its
		// row stays, with count 0 and NULL sums, as in PostgreSQL.
		enc, err := types.EncodeRow(nil, sts, state)
		if err != nil {
			return err
		}
		ov.set(skey, enc)
		if newOut, err = r.groupOutput(p, gk, state); err != nil {
			return err
		}
	} else {
		ov.del(skey)
	}
	return r.groupChanged(p, gk, oldOut, newOut)
}

// groupChanged passes a group's output change up the plan, or stores it
// when the aggregate is the root.
func (r *run) groupChanged(p *Aggregate, gk []byte, oldOut, newOut exec.Row) error {
	ov, view := r.ov, r.p.View
	if oldOut != nil && newOut != nil && sameRow(exprTypes(p.Output), oldOut, newOut) {
		return nil
	}
	if _, hasParent := r.p.parents[p]; hasParent {
		for _, c := range []struct {
			row exec.Row
			w   int64
		}{{oldOut, -1}, {newOut, 1}} {
			if c.row != nil {
				if err := r.emit(p, c.row, c.w); err != nil {
					return err
				}
			}
		}
		return nil
	}
	okey := append(sub(view, 'o'), gk...)
	if oldOut != nil {
		r.record(gk, oldOut, -1)
	}
	if newOut == nil {
		ov.del(okey)
		return nil
	}
	r.record(gk, newOut, 1)
	payload, err := types.EncodeRow(nil, r.p.OutTypes, newOut)
	if err != nil {
		return err
	}
	ov.set(okey, encodeCounted(1, payload))
	return nil
}

var numericCtx = apd.Context{Precision: 2000, MaxExponent: apd.MaxExponent, MinExponent: apd.MinExponent, Rounding: apd.RoundHalfUp, Traps: apd.InvalidOperation}

// weighted returns v × w as a decimal (v is an integer or a numeric).
func weighted(v types.Datum, w int64) *apd.Decimal {
	d := new(apd.Decimal)
	switch x := v.(type) {
	case int64:
		d.SetInt64(x)
	case *apd.Decimal:
		d.Set(x)
	}
	if w != 1 {
		var wd apd.Decimal
		wd.SetInt64(w)
		numericCtx.Mul(d, d, &wd)
	}
	return d
}

func exprTypes(es []exec.Expr) []types.T {
	ts := make([]types.T, len(es))
	for i, e := range es {
		ts[i] = e.Type()
	}
	return ts
}

func sameRow(ts []types.T, a, b exec.Row) bool {
	return string(appendTuple(nil, ts, a)) == string(appendTuple(nil, ts, b))
}

// groupOutput computes a group's output row (nil when HAVING rejects it).
func (r *run) groupOutput(p *Aggregate, gk []byte, state exec.Row) (exec.Row, error) {
	ov, env := r.ov, r.env
	ng := len(p.Group)
	agg := make(exec.Row, ng+len(p.Aggs))
	copy(agg, state[:ng])
	rows := state[ng].(int64)
	f := ng + 1
	for ai, a := range p.Aggs {
		var v types.Datum
		switch a.Kind {
		case AggCountStar:
			v = rows
		case AggCount, AggCountDistinct:
			v = state[f]
		case AggSum:
			if state[f].(int64) > 0 {
				v = sumResult(a, state[f+1])
			}
		case AggAvg:
			if n := state[f].(int64); n > 0 {
				if isFloat(a.Arg.Type()) {
					v = state[f+1].(float64) / float64(n)
				} else {
					var nd apd.Decimal
					nd.SetInt64(n)
					sum := state[f+1].(*apd.Decimal)
					q := new(apd.Decimal)
					scale := exec.NumericDivScale(sum, &nd)
					if _, err := numericCtx.Quo(q, sum, &nd); err != nil {
						return nil, err
					}
					if _, err := numericCtx.Quantize(q, q, -scale); err != nil {
						return nil, err
					}
					v = q
				}
			}
		case AggMin, AggMax:
			prefix := append(append(opPrefix(r.p.View, 'm', p.ID), byte(ai)), gk...)
			k, err := ov.extreme(prefix, a.Kind == AggMax)
			if err != nil {
				return nil, err
			}
			if k != nil {
				raw, _, err := ov.get(k)
				if err != nil {
					return nil, err
				}
				_, payload := decodeCounted(raw)
				vals, err := types.DecodeRow([]types.T{a.Arg.Type()}, payload)
				if err != nil {
					return nil, err
				}
				v = vals[0]
			}
		case AggBoolAnd:
			if n := state[f].(int64); n > 0 {
				v = state[f+1].(int64) == n
			}
		case AggBoolOr:
			if state[f].(int64) > 0 {
				v = state[f+1].(int64) > 0
			}
		}
		agg[ng+ai] = v
		f += len(aggStateTypes(a))
	}
	if p.Having != nil {
		ok, err := exec.EvalBool(p.Having, env, agg)
		if err != nil || !ok {
			return nil, err
		}
	}
	return evalAll(env, p.Output, agg)
}

// sumResult converts the exact running sum to sum()'s result type.
func sumResult(a Agg, sum types.Datum) types.Datum {
	switch a.Ret.OID {
	case types.Int8OID:
		i, err := sum.(*apd.Decimal).Int64()
		if err != nil {
			return sum
		}
		return i
	case types.Float4OID, types.Float8OID:
		return sum
	}
	d := new(apd.Decimal)
	d.Set(sum.(*apd.Decimal))
	return d
}

// initUngrouped gives an aggregate without GROUP BY its empty state and
// output row when the view is created.
func (r *run) initUngrouped(p *Aggregate) error {
	sts := p.stateTypes()
	state := make(exec.Row, len(sts))
	for i := range state {
		switch sts[i].OID {
		case types.Int8OID:
			state[i] = int64(0)
		case types.NumericOID:
			state[i] = new(apd.Decimal)
		case types.Float8OID:
			state[i] = float64(0)
		}
	}
	skey := opPrefix(r.p.View, 'g', p.ID)
	enc, err := types.EncodeRow(nil, sts, state)
	if err != nil {
		return err
	}
	r.ov.set(skey, enc)
	out, err := r.groupOutput(p, nil, state)
	if err != nil {
		return err
	}
	return r.groupChanged(p, nil, nil, out)
}
