package views

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

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
		if a.Exact {
			return exactSumStateTypes
		}
		if isFloat(a.Arg.Type()) {
			return []types.T{tInt8, tFloat8}
		}
		return []types.T{tInt8, tNumeric}
	case AggBoolAnd, AggBoolOr:
		return []types.T{tInt8, tInt8}
	case AggVariance:
		return varianceStateTypes
	case AggStringAgg, AggArrayAgg, AggJSONAgg, AggOrderedSet:
		return []types.T{tInt8}
	}
	return nil // count(*): the group's row count; min/max: the multiset
}

// aggStateWidth is the number of state fields of an aggregate.
func aggStateWidth(a Agg) int {
	switch a.Kind {
	case AggCount, AggCountDistinct:
		return 1
	case AggSum, AggAvg:
		if a.Exact {
			return len(exactSumStateTypes)
		}
		return 2
	case AggBoolAnd, AggBoolOr:
		return 2
	case AggVariance:
		return len(varianceStateTypes)
	case AggStringAgg, AggArrayAgg, AggJSONAgg, AggOrderedSet:
		return 1
	}
	return 0
}

func isFloat(t types.T) bool { return t.OID == types.Float4OID || t.OID == types.Float8OID }

// group folds a weighted row into its group's state and emits the change
// of the group's output row: the old row out, the new row in. At the root
// the output row is stored under the group key, so a point lookup by group
// is one read and an update overwrites the row in place.
//
// In an intent of several changes (a multi-row statement, a transaction,
// a COPY chunk, a backfill step) a group's rows are folded into its state
// in memory and its output computed and stored once, when the plan's pass
// settles (flushGroups): a chunk that brings hundreds of rows to a group
// costs one output, not hundreds.
func (r *run) group(p *Aggregate, row exec.Row, w int64) error {
	ov, env, view := r.ov, r.env, r.p.View
	// The group values, the state and the output rows live in the
	// operator's scratch rows: nothing keeps them past the call (emit's
	// operators and record copy what they keep).
	gvals, err := evalInto(p.scratch.group, env, p.Group, row)
	if err != nil {
		return err
	}
	p.scratch.group = gvals
	// The state key is the prefix then the group; gk is the group part
	// (scratch, like the key: the overlay copies keys it keeps).
	p.stateBuf = appendTupleIn(append(p.stateBuf[:0], p.prefix...), p.compact, p.groupTypes, gvals)
	skey := p.stateBuf
	gk := skey[len(p.prefix):]
	fold := r.fold
	if fold {
		if g := r.groups.get(p, gk); g != nil {
			return r.foldRow(p, g.gk, g.state, row, w)
		}
	}
	sts := p.sts
	var state exec.Row
	// A merged aggregate keeps the state in its output row's value; a
	// view stored before that has it under the state key (legacy), which
	// this change moves.
	var v []byte
	var found, legacy bool
	if p.merged {
		p.outKeyBuf = append(append(p.outKeyBuf[:0], r.p.outPrefix...), gk...)
		stored, ok, err := ov.get(p.outKeyBuf)
		if err != nil {
			return err
		}
		if ok {
			if v, found, err = groupState(stored); err != nil {
				return fmt.Errorf("materialized view %d: %w", view, err)
			}
			legacy = !found
		}
	}
	if !p.merged || legacy {
		if v, found, err = ov.get(skey); err != nil {
			return err
		}
	}
	if cap(p.scratch.state) < len(sts) {
		p.scratch.state = make(exec.Row, len(sts))
	}
	state = p.scratch.state[:len(sts)]
	if found {
		if err = types.DecodeRowInto(state, sts, v); err != nil {
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
			default:
				// The scratch row holds the last group's state: an
				// exact sum's scale counts (a bytea) start empty.
				state[i] = nil
			}
		}
	}
	// The old output row is needed to tell what changed; a merged
	// aggregate overwrites its row whatever changed, so it needs it only
	// for the views that read this one and the view's feeds.
	var oldOut exec.Row
	if found && (!p.merged || r.keepsDeltas(view)) {
		if oldOut, err = r.groupOutput(p, gk, state, 0); err != nil {
			return err
		}
	}
	if err := r.foldRow(p, gk, state, row, w); err != nil {
		return err
	}
	if fold {
		r.groups.add(r.p, p, skey, len(p.prefix), state, oldOut, legacy)
		return nil
	}
	return r.finishGroup(p, skey, gk, state, oldOut, legacy)
}

// foldRow folds a weighted row into a group's state (and the group's
// keyed state: distinct values, min/max indexes, lists).
func (r *run) foldRow(p *Aggregate, gk []byte, state exec.Row, row exec.Row, w int64) error {
	ov, env, view := r.ov, r.env, r.p.View
	var err error
	ng := len(p.Group)
	state[ng] = state[ng].(int64) + w
	f := ng + 1
	for ai, a := range p.Aggs {
		if a.Filter != nil {
			// FILTER (WHERE ...): a row it does not pass is not this
			// aggregate's, coming or going.
			ok, err := exec.EvalBool(a.Filter, env, row)
			if err != nil {
				return err
			}
			if !ok {
				f += aggStateWidth(a)
				continue
			}
		}
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
				dk := appendValueIn(append(append(opPrefix(view, 'd', p.ID), byte(ai)), gk...), p.compact, a.Arg.Type(), v)
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
			w := w
			if v != nil && a.Distinct {
				dk := appendValueIn(append(append(opPrefix(view, 'd', p.ID), byte(ai)), gk...), p.compact, a.Arg.Type(), v)
				before, after, err := ov.addCount(dk, w, nil)
				switch {
				case err != nil:
					return err
				case before == 0 && after > 0:
					w = 1
				case before > 0 && after == 0:
					w = -1
				default:
					w = 0
				}
			}
			if v != nil && w != 0 {
				state[f] = state[f].(int64) + w
				if a.Exact {
					if _, err := addExact(state[f+1:f+exactSumWidth], v, w); err != nil {
						return err
					}
				} else if isFloat(a.Arg.Type()) {
					state[f+1] = state[f+1].(float64) + float64(w)*v.(float64)
				} else {
					sum := new(apd.Decimal)
					if _, err := numericCtx.Add(sum, state[f+1].(*apd.Decimal), weighted(&p.scratch.dec, v, w)); err != nil {
						return err
					}
					state[f+1] = sum
				}
			}
		case AggMin, AggMax:
			if v != nil {
				mp := append(append(opPrefix(view, 'm', p.ID), byte(ai)), gk...)
				plen := len(mp)
				mk := appendValueIn(mp, p.compact, a.Arg.Type(), v)
				// The value itself is kept beside its count: the key
				// encoding normalizes (1.50 and 1.5 share a key) and min
				// and max must return the value as written.
				payload, err := types.EncodeRow(nil, []types.T{a.Arg.Type()}, []types.Datum{v})
				if err != nil {
					return err
				}
				before, after, err := ov.addCount(mk, w, payload)
				if err != nil {
					return err
				}
				r.movedExtreme(mk[:plen], mk, before, after)
			}
		case AggBoolAnd, AggBoolOr:
			if v != nil {
				state[f] = state[f].(int64) + w
				if v == true {
					state[f+1] = state[f+1].(int64) + w
				}
			}
		case AggVariance:
			if v != nil {
				state[f] = state[f].(int64) + w
				if err := addVariance(state[f+1:f+len(varianceStateTypes)], v, w); err != nil {
					return err
				}
			}
		case AggStringAgg, AggArrayAgg, AggJSONAgg, AggOrderedSet:
			counted, err := r.addListValue(p, a, ai, gk, row, v, w)
			if err != nil {
				return err
			}
			if counted {
				state[f] = state[f].(int64) + w
			}
		}
		f += aggStateWidth(a)
	}
	return nil
}

// finishGroup computes a group's new output row from its state, stores the
// state and emits the output's change.
func (r *run) finishGroup(p *Aggregate, skey, gk []byte, state, oldOut exec.Row, legacy bool) error {
	ov, sts := r.ov, p.sts
	ng := len(p.Group)
	var err error
	var newOut exec.Row
	// An ungrouped aggregate keeps its (possibly empty) state: its row
	// stays, with count 0 and NULL sums, as in PostgreSQL.
	live := state[ng].(int64) > 0 || ng == 0
	if live {
		if newOut, err = r.groupOutput(p, gk, state, 1); err != nil {
			return err
		}
	}
	if p.merged {
		if legacy {
			ov.del(skey)
		}
		return r.mergedChanged(p, gk, state, oldOut, newOut)
	}
	if live {
		enc, err := types.EncodeRow(nil, sts, state)
		if err != nil {
			return err
		}
		ov.set(skey, enc)
	} else {
		ov.del(skey)
	}
	return r.groupChanged(p, gk, oldOut, newOut)
}

// mergedChanged stores a merged aggregate's group: its output row with its
// state, or nothing once the group is empty.
func (r *run) mergedChanged(p *Aggregate, gk []byte, state, oldOut, newOut exec.Row) error {
	if oldOut == nil || newOut == nil || !sameRow(p.outTypes, oldOut, newOut) {
		if oldOut != nil {
			if err := r.record(gk, oldOut, -1); err != nil {
				return err
			}
		}
		if newOut != nil {
			if err := r.record(gk, newOut, 1); err != nil {
				return err
			}
		}
	}
	p.outKeyBuf = append(append(p.outKeyBuf[:0], r.p.outPrefix...), gk...)
	if newOut == nil {
		r.ov.del(p.outKeyBuf)
		return nil
	}
	var err error
	if p.payloadBuf, err = types.EncodeRow(p.payloadBuf[:0], r.p.OutTypes, newOut); err != nil {
		return err
	}
	v := binary.AppendVarint(make([]byte, 0, 24+len(p.payloadBuf)+10*len(state)), groupedMarker)
	v = binary.AppendUvarint(v, uint64(len(p.payloadBuf)))
	v = append(v, p.payloadBuf...)
	if v, err = types.EncodeRow(v, p.sts, state); err != nil {
		return err
	}
	r.ov.set(p.outKeyBuf, v)
	return nil
}

// groupedMarker, as the count of an output value, marks a merged
// aggregate's group: the value then holds the output row (length-prefixed)
// and the group's state, and the row counts once.
const groupedMarker = -1

// outputValue returns a stored output row's multiplicity and encoding.
func outputValue(v []byte) (int64, []byte, error) {
	n, row, _, grouped, err := splitOutput(v)
	if grouped {
		n = 1
	}
	return n, row, err
}

// groupState returns the group state a merged aggregate's output value
// holds (ok false: a value stored before aggregates were merged, with
// the state under its own key).
func groupState(v []byte) (state []byte, ok bool, err error) {
	_, _, state, ok, err = splitOutput(v)
	return state, ok, err
}

// splitOutput splits a stored output value: its count and row, and, for a
// merged aggregate's group (grouped), the group's state after the row.
func splitOutput(v []byte) (n int64, row, state []byte, grouped bool, err error) {
	n, rest := decodeCounted(v)
	if n != groupedMarker {
		return n, rest, nil, false, nil
	}
	l, k := binary.Uvarint(rest)
	if k <= 0 || uint64(len(rest)-k) < l {
		return 0, nil, nil, false, errors.New("corrupt grouped output value")
	}
	return n, rest[k : k+int(l)], rest[k+int(l):], true, nil
}

// groupChanged passes a group's output change up the plan, or stores it
// when the aggregate is the root.
func (r *run) groupChanged(p *Aggregate, gk []byte, oldOut, newOut exec.Row) error {
	ov := r.ov
	if oldOut != nil && newOut != nil && sameRow(p.outTypes, oldOut, newOut) {
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
	p.outKeyBuf = append(append(p.outKeyBuf[:0], r.p.outPrefix...), gk...)
	okey := p.outKeyBuf
	if oldOut != nil {
		if err := r.record(gk, oldOut, -1); err != nil {
			return err
		}
	}
	if newOut == nil {
		ov.del(okey)
		return nil
	}
	if err := r.record(gk, newOut, 1); err != nil {
		return err
	}
	v, err := countedRow(1, r.p.OutTypes, newOut)
	if err != nil {
		return err
	}
	ov.set(okey, v)
	return nil
}

var numericCtx = apd.Context{Precision: 2000, MaxExponent: apd.MaxExponent, MinExponent: apd.MinExponent, Rounding: apd.RoundHalfUp, Traps: apd.InvalidOperation}

// weighted sets d to v × w (v is an integer or a numeric) and returns it.
func weighted(d *apd.Decimal, v types.Datum, w int64) *apd.Decimal {
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

// sameRow reports whether two rows have equal keys (integers, the usual
// case, compare without encoding).
func sameRow(ts []types.T, a, b exec.Row) bool {
	for i := range a {
		x, y := a[i], b[i]
		if xi, ok := x.(int64); ok {
			if yi, ok := y.(int64); ok {
				if xi != yi {
					return false
				}
				continue
			}
		}
		if (x == nil) != (y == nil) {
			return false
		}
		if x != nil && string(appendValue(nil, ts[i], x)) != string(appendValue(nil, ts[i], y)) {
			return false
		}
	}
	return true
}

// groupOutput computes a group's output row (nil when HAVING rejects it)
// into the operator's scratch output row slot (0: the old row, 1: the
// new one; both are alive at once).
func (r *run) groupOutput(p *Aggregate, gk []byte, state exec.Row, slot int) (exec.Row, error) {
	ov, env := r.ov, r.env
	ng := len(p.Group)
	if cap(p.scratch.agg) < ng+len(p.Aggs) {
		p.scratch.agg = make(exec.Row, ng+len(p.Aggs))
	}
	agg := p.scratch.agg[:ng+len(p.Aggs)]
	copy(agg, state[:ng])
	rows := state[ng].(int64)
	f := ng + 1
	for ai, a := range p.Aggs {
		var v types.Datum
		var err error
		switch a.Kind {
		case AggCountStar:
			v = rows
		case AggCount, AggCountDistinct:
			v = state[f]
		case AggSum:
			if state[f].(int64) > 0 {
				if a.Exact {
					v, err = exactResult(state[f+1:f+exactSumWidth], a.Ret, 0)
				} else {
					v = sumResult(a, state[f+1])
				}
			}
		case AggAvg:
			if n := state[f].(int64); n > 0 {
				switch {
				case a.Exact:
					v, err = exactResult(state[f+1:f+exactSumWidth], a.Ret, n)
				case isFloat(a.Arg.Type()):
					v = state[f+1].(float64) / float64(n)
				default:
					v, err = numericAvg(state[f+1].(*apd.Decimal), n)
				}
			}
		case AggMin, AggMax:
			prefix := append(append(opPrefix(r.p.View, 'm', p.ID), byte(ai)), gk...)
			k, err := r.extreme(prefix, a.Kind == AggMax)
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
		case AggVariance:
			v, err = varianceResult(a, state[f], state[f+1:f+len(varianceStateTypes)])
		case AggStringAgg, AggArrayAgg, AggJSONAgg, AggOrderedSet:
			if state[f].(int64) > 0 {
				v, err = r.listResult(p, a, ai, gk)
			}
		}
		if err != nil {
			return nil, err
		}
		agg[ng+ai] = v
		f += aggStateWidth(a)
	}
	if p.Having != nil {
		ok, err := exec.EvalBool(p.Having, env, agg)
		if err != nil || !ok {
			return nil, err
		}
	}
	out, err := evalInto(p.scratch.out[slot], env, p.Output, agg)
	p.scratch.out[slot] = out
	return out, err
}

// numericAvg is avg()'s numeric result: sum / n at PostgreSQL's scale.
func numericAvg(sum *apd.Decimal, n int64) (*apd.Decimal, error) {
	q := new(apd.Decimal)
	if err := exec.NumericQuo(q, sum, apd.New(n, 0)); err != nil {
		return nil, err
	}
	return q, nil
}

// exactResult is the result of a sum (n 0) or avg over n rows kept in an
// exact state (exactsum.go).
func exactResult(st []types.Datum, ret types.T, n int64) (types.Datum, error) {
	if v, ok := special(st, ret); ok {
		return v, nil
	}
	if isFloat(ret) {
		sum := st[0].(*apd.Decimal)
		if n > 0 {
			q := new(apd.Decimal)
			if _, err := numericCtx.Quo(q, sum, apd.New(n, 0)); err != nil {
				return nil, err
			}
			sum = q
		}
		return floatResult(sum, ret)
	}
	sum, err := numericSum(st)
	if err != nil || n == 0 {
		return sum, err
	}
	return numericAvg(sum, n)
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
	out, err := r.groupOutput(p, nil, state, 1)
	if err != nil {
		return err
	}
	return r.groupChanged(p, nil, nil, out)
}

// extremeMemo is what an intent learned of one min/max index (a group's
// values of one aggregate): its first and last keys, when known (a nil
// key known: the index is empty).
type extremeMemo struct {
	lo, hi     []byte
	loOK, hiOK bool
}

// extreme is the overlay's first (or last) key under a min/max index
// prefix, remembered for the rest of the intent: a backfill step or a
// multi-row write adds many values to the same groups, and each would
// otherwise seek the index again.
func (r *run) extreme(prefix []byte, last bool) ([]byte, error) {
	m := r.extremes[string(prefix)]
	if m != nil {
		if !last && m.loOK {
			return m.lo, nil
		}
		if last && m.hiOK {
			return m.hi, nil
		}
	}
	k, err := r.ov.extreme(prefix, last)
	if err != nil {
		return nil, err
	}
	if m == nil {
		if r.extremes == nil {
			r.extremes = map[string]*extremeMemo{}
		}
		m = &extremeMemo{}
		r.extremes[string(prefix)] = m
	}
	if last {
		m.hi, m.hiOK = k, true
	} else {
		m.lo, m.loOK = k, true
	}
	return k, nil
}

// movedExtreme tells the memo of a min/max index that key's count went
// from before to after: a key that appears may become an end, an end
// that goes is no longer known.
func (r *run) movedExtreme(prefix, key []byte, before, after int64) {
	m := r.extremes[string(prefix)]
	switch {
	case m == nil:
	case before <= 0 && after > 0:
		if m.loOK && (m.lo == nil || bytes.Compare(key, m.lo) < 0) {
			m.lo = bytes.Clone(key)
		}
		if m.hiOK && (m.hi == nil || bytes.Compare(key, m.hi) > 0) {
			m.hi = bytes.Clone(key)
		}
	case before > 0 && after <= 0:
		if bytes.Equal(key, m.lo) {
			m.lo, m.loOK = nil, false
		}
		if bytes.Equal(key, m.hi) {
			m.hi, m.hiOK = nil, false
		}
	}
}

// foldedGroup is a group whose rows an intent folds in memory (group): its
// keys, its state as folded so far, and its output row before the intent.
type foldedGroup struct {
	plan     *Plan
	p        *Aggregate
	skey, gk []byte
	state    exec.Row
	oldOut   exec.Row
	legacy   bool
}

// foldedGroups are the groups of a plan's pass folded in memory, in the
// order they were first met (flushGroups finishes them in that order, so
// that the emitted changes are deterministic).
type foldedGroups struct {
	order []*foldedGroup
	byKey map[*Aggregate]map[string]*foldedGroup
}

func (f *foldedGroups) get(p *Aggregate, gk []byte) *foldedGroup {
	return f.byKey[p][string(gk)]
}

// add keeps a group met for the first time, copying what lives in the
// operator's scratch rows.
func (f *foldedGroups) add(plan *Plan, p *Aggregate, skey []byte, plen int, state, oldOut exec.Row, legacy bool) {
	k := bytes.Clone(skey)
	g := &foldedGroup{plan: plan, p: p, skey: k, gk: k[plen:], state: slices.Clone(state), legacy: legacy}
	if oldOut != nil {
		g.oldOut = slices.Clone(oldOut)
	}
	if f.byKey == nil {
		f.byKey = map[*Aggregate]map[string]*foldedGroup{}
	}
	m := f.byKey[p]
	if m == nil {
		m = map[string]*foldedGroup{}
		f.byKey[p] = m
	}
	m[string(g.gk)] = g
	f.order = append(f.order, g)
}

// flushGroups finishes the folded groups (settle), in the order they were
// first met, and reports whether there were any: their outputs may reach
// operators above. A group stays findable until it is finished: a group
// finished earlier in the loop may send rows (through a join, say) to one
// still waiting, and they must fold into its state, not start another
// copy from the stored one. Groups those rows start are appended and
// finished in the same loop.
//
// Every operator keeps its own state and maps each delta it is handed
// to its output delta against that state, so a group's changes may reach
// the operators above later in the pass than its rows came in: the pass
// ends with each operator's state that of all its input.
func (r *run) flushGroups() (bool, error) {
	gs := &r.groups
	if len(gs.order) == 0 {
		return false, nil
	}
	defer func() { r.groups = foldedGroups{} }()
	for i := 0; i < len(gs.order); i++ {
		g := gs.order[i]
		gs.order[i] = nil
		if g.plan != r.p {
			// Every pass settles its plan's groups before the next
			// plan's: a group of another plan here is a bug.
			return true, fmt.Errorf("materialized view %d: a group of view %d was left folded", r.p.View, g.plan.View)
		}
		delete(gs.byKey[g.p], string(g.gk))
		if err := r.finishGroup(g.p, g.skey, g.gk, g.state, g.oldOut, g.legacy); err != nil {
			return true, err
		}
	}
	return true, nil
}
