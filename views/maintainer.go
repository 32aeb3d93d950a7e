package views

import (
	"fmt"
	"sync"

	"github.com/cockroachdb/apd/v3"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

// Maintainer keeps every materialized view up to date inside the commit.
// It is the log's CommitHook; the sequencer calls it from one goroutine, so
// view maintenance needs no locks and is deterministic.
type Maintainer struct {
	// Compile builds a view's incremental plan from its descriptor (the
	// planner does this; it is set before the first commit).
	Compile func(view *log.TableDesc, cat *log.Catalog) (*Plan, error)

	mu struct {
		sync.Mutex
		cat   *log.Catalog
		plans map[log.TableID]*Plan
	}
}

// NewMaintainer makes a maintainer; set Compile before use.
func NewMaintainer() *Maintainer { return &Maintainer{} }

// plans returns the compiled plans of a catalog's views, compiling them
// once per catalog.
func (m *Maintainer) plans(cat *log.Catalog) (map[log.TableID]*Plan, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mu.cat == cat {
		return m.mu.plans, nil
	}
	plans := map[log.TableID]*Plan{}
	for id, td := range cat.Tables {
		if td.Kind != log.View {
			continue
		}
		p, err := m.Compile(td, cat)
		if err != nil {
			return nil, fmt.Errorf("materialized view %q: %w", td.Name, err)
		}
		plans[id] = p
	}
	m.mu.cat, m.mu.plans = cat, plans
	return plans, nil
}

// Prepare implements log.CommitHook: the changes of one intent become
// changes of every view that reads the tables they touch.
func (m *Maintainer) Prepare(st log.HookState, cat *log.Catalog, changes []log.Change) ([]log.Mutation, error) {
	plans, err := m.plans(cat)
	if err != nil || len(plans) == 0 {
		return nil, err
	}
	ov := newOverlay(st)
	env := &exec.Env{Settings: types.DefaultSettings()}
	for i := range changes {
		ch := &changes[i]
		for _, p := range plans {
			for side, src := range p.Sources {
				if src.Desc.ID != ch.Table {
					continue
				}
				if err := m.applyChange(ov, env, p, side, ch); err != nil {
					return nil, err
				}
			}
		}
	}
	return ov.mutations(), nil
}

// OnCatalog implements log.CommitHook: a new view is backfilled from its
// tables as they stand at this point of the commit order, and a dropped
// view's state is deleted, in the same commit as the catalog change.
func (m *Maintainer) OnCatalog(st log.HookState, old, cur *log.Catalog) ([]log.Mutation, error) {
	var muts []log.Mutation
	for id, td := range old.Tables {
		if _, ok := cur.Tables[id]; !ok && td.Kind == log.View {
			start := viewPrefix(id)
			muts = append(muts, log.Mutation{Key: start, End: prefixEnd(start)})
		}
	}
	plans, err := m.plans(cur)
	if err != nil {
		return nil, pgerr.Wrap(err, pgerr.FeatureNotSupported, "")
	}
	for id, p := range plans {
		if _, existed := old.Tables[id]; existed {
			continue
		}
		ov := newOverlay(st)
		if err := m.backfill(ov, p); err != nil {
			return nil, err
		}
		muts = append(muts, ov.mutations()...)
	}
	return muts, nil
}

// backfill feeds every row of the view's sources through the plan as an
// insertion: source 0 first (the other side empty), then source 1 against
// the full source 0, which is the join's delta rule applied to the whole
// tables.
func (m *Maintainer) backfill(ov *overlay, p *Plan) error {
	env := &exec.Env{Settings: types.DefaultSettings()}
	for side, src := range p.Sources {
		err := log.ScanRowsIn(ov.st, src.Desc, func(key []byte, sv uint32, data []byte, version uint64) error {
			row, err := src.Decode(sv, data, version, nil)
			if err != nil {
				return err
			}
			return m.sourceDelta(ov, env, p, side, row, 1)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// applyChange turns one log change into weighted source rows: an update is
// the old row out and the new row in.
func (m *Maintainer) applyChange(ov *overlay, env *exec.Env, p *Plan, side int, ch *log.Change) error {
	src := p.Sources[side]
	if ch.Before.Live() && ch.Before.Row != nil && src.Desc.Kind == log.Keyed {
		old, err := src.Decode(ch.Before.SchemaVersion, ch.Before.Row, ch.Before.Version, nil)
		if err != nil {
			return err
		}
		if err := m.sourceDelta(ov, env, p, side, old, -1); err != nil {
			return err
		}
	}
	if ch.Op != log.OpDelete {
		row, err := src.Decode(ch.SchemaVersion, ch.Row, ch.Version, nil)
		if err != nil {
			return err
		}
		return m.sourceDelta(ov, env, p, side, row, 1)
	}
	return nil
}

func rowTypes(l *exec.TableLayout) []types.T {
	return append(append([]types.T(nil), l.Types...), types.Make(types.Int8OID))
}

// sourceDelta handles a weighted row of one source: through the join (if
// any) into the rest of the plan.
func (m *Maintainer) sourceDelta(ov *overlay, env *exec.Env, p *Plan, side int, row exec.Row, w int64) error {
	if len(p.Sources) == 1 {
		return m.rowDelta(ov, env, p, row, w)
	}
	keys := p.LeftKeys
	if side == 1 {
		keys = p.RightKeys
	}
	kvals := make([]types.Datum, len(keys))
	kts := make([]types.T, len(keys))
	for i, k := range keys {
		v, err := k.Eval(env, row)
		if err != nil {
			return err
		}
		if v == nil {
			return nil // a NULL key joins nothing
		}
		kvals[i], kts[i] = v, k.Type()
	}
	jk := appendTuple(nil, kts, kvals)
	// Join with the other side's current rows for this key.
	other := 1 - side
	otherPrefix := append(append(sub(p.View, 'j'), byte(other)), jk...)
	otherTypes := rowTypes(p.Sources[other])
	var matches []struct {
		row exec.Row
		n   int64
	}
	err := ov.scan(otherPrefix, func(k, v []byte) error {
		n, payload := decodeCounted(v)
		r, err := types.DecodeRow(otherTypes, payload)
		if err != nil {
			return err
		}
		matches = append(matches, struct {
			row exec.Row
			n   int64
		}{r, n})
		return nil
	})
	if err != nil {
		return err
	}
	lw := len(p.Sources[0].Types) + 1
	combined := make(exec.Row, lw+len(p.Sources[1].Types)+1)
	for _, mt := range matches {
		if side == 0 {
			copy(combined, row)
			copy(combined[lw:], mt.row)
		} else {
			copy(combined, mt.row)
			copy(combined[lw:], row)
		}
		if err := m.rowDelta(ov, env, p, combined, w*mt.n); err != nil {
			return err
		}
	}
	// Remember this row on its side.
	myTypes := rowTypes(p.Sources[side])
	payload, err := types.EncodeRow(nil, myTypes, row)
	if err != nil {
		return err
	}
	k := append(append(append(sub(p.View, 'j'), byte(side)), jk...), appendTuple(nil, myTypes, row)...)
	_, _, err = ov.addCount(k, w, payload)
	return err
}

// rowDelta handles a weighted combined row: filter, then aggregate or
// project into the output.
func (m *Maintainer) rowDelta(ov *overlay, env *exec.Env, p *Plan, row exec.Row, w int64) error {
	if p.Filter != nil {
		ok, err := exec.EvalBool(p.Filter, env, row)
		if err != nil || !ok {
			return err
		}
	}
	if !p.Aggregated {
		out, err := evalAll(env, p.Output, row)
		if err != nil {
			return err
		}
		return m.outputDelta(ov, p, out, w)
	}
	return m.groupDelta(ov, env, p, row, w)
}

func evalAll(env *exec.Env, es []exec.Expr, row exec.Row) (exec.Row, error) {
	out := make(exec.Row, len(es))
	for i, e := range es {
		v, err := e.Eval(env, row)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// outputDelta adds w to an output row's multiplicity.
func (m *Maintainer) outputDelta(ov *overlay, p *Plan, out exec.Row, w int64) error {
	if w == 0 {
		return nil
	}
	payload, err := types.EncodeRow(nil, p.OutTypes, out)
	if err != nil {
		return err
	}
	k := append(sub(p.View, 'o'), appendTuple(nil, p.OutTypes, out)...)
	_, after, err := ov.addCount(k, w, payload)
	if err != nil {
		return err
	}
	if after < 0 {
		return fmt.Errorf("materialized view %d: negative multiplicity %d", p.View, after)
	}
	return nil
}

// Group state: [group values..., rows int8, per aggregate its fields].
func (p *Plan) stateTypes() []types.T {
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

func (m *Maintainer) groupDelta(ov *overlay, env *exec.Env, p *Plan, row exec.Row, w int64) error {
	gvals, err := evalAll(env, p.Group, row)
	if err != nil {
		return err
	}
	gts := make([]types.T, len(p.Group))
	for i, g := range p.Group {
		gts[i] = g.Type()
	}
	gk := appendTuple(nil, gts, gvals)
	skey := append(sub(p.View, 'g'), gk...)
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
		if oldOut, err = m.groupOutput(ov, env, p, gk, state); err != nil {
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
				dk := append(append(append(sub(p.View, 'd'), byte(ai)), gk...), appendValue(nil, a.Arg.Type(), v)...)
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
				mk := append(append(append(sub(p.View, 'm'), byte(ai)), gk...), appendValue(nil, a.Arg.Type(), v)...)
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
	if state[ng].(int64) > 0 {
		enc, err := types.EncodeRow(nil, sts, state)
		if err != nil {
			return err
		}
		ov.set(skey, enc)
		if newOut, err = m.groupOutput(ov, env, p, gk, state); err != nil {
			return err
		}
	} else {
		ov.del(skey)
	}
	// An aggregated view has one output row per group, keyed by the group:
	// a point lookup by group key is one read, and an update overwrites the
	// row in place instead of deleting one key and adding another.
	if oldOut != nil && newOut != nil && sameRow(p.OutTypes, oldOut, newOut) {
		return nil
	}
	okey := append(sub(p.View, 'o'), gk...)
	if newOut == nil {
		ov.del(okey)
		return nil
	}
	payload, err := types.EncodeRow(nil, p.OutTypes, newOut)
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

func sameRow(ts []types.T, a, b exec.Row) bool {
	return string(appendTuple(nil, ts, a)) == string(appendTuple(nil, ts, b))
}

// groupOutput computes a group's output row (nil when HAVING rejects it).
func (m *Maintainer) groupOutput(ov *overlay, env *exec.Env, p *Plan, gk []byte, state exec.Row) (exec.Row, error) {
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
			prefix := append(append(sub(p.View, 'm'), byte(ai)), gk...)
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
