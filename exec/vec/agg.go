package vec

import (
	"cmp"
	"encoding/binary"
	"math"
	"math/big"
	"math/bits"
	"strings"

	"github.com/cockroachdb/apd/v3"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

// aggKind is how an aggregate accumulates.
type aggKind uint8

const (
	aCountStar aggKind = iota
	aCount
	aSumInt   // sum(int2|int4): int8, added in an int64 as the row engine does
	aSumExact // sum(int8): numeric, added in 128 bits
	aSumFloat
	aAvgExact // avg(int2|int4|int8): numeric, 128-bit sum / count
	aAvgFloat
	aMin
	aMax
)

// aggSpec is one aggregate of the query as vec runs it.
type aggSpec struct {
	kind   aggKind
	argT   types.T
	argK   kind
	ret    types.T
	arg    exec.Expr
	filter exec.Expr
}

// planAgg maps a row-engine aggregate onto an accumulator; ok is false for
// what vec does not run (DISTINCT, ORDER BY inside the call, array_agg,
// string_agg, bool_and/or, numeric or float4 arguments...).
func planAgg(a exec.Aggregate) (aggSpec, bool) {
	if a.Distinct || len(a.Order) > 0 || a.Func == nil || a.Func.NonStrict {
		return aggSpec{}, false
	}
	s := aggSpec{ret: a.Func.Ret, arg: a.Arg, filter: a.Filter}
	if a.Func.CountStar {
		s.kind = aCountStar
		return s, true
	}
	if a.Arg == nil {
		return aggSpec{}, false
	}
	s.argT = a.Arg.Type()
	k, ok := kindOf(s.argT)
	if !ok {
		return aggSpec{}, false
	}
	s.argK = k
	oid := s.argT.OID
	isInt := oid == types.Int2OID || oid == types.Int4OID || oid == types.Int8OID
	switch a.Func.Name {
	case "count":
		s.kind = aCount
	case "sum":
		switch {
		case (oid == types.Int2OID || oid == types.Int4OID) && s.ret.OID == types.Int8OID:
			s.kind = aSumInt
		case oid == types.Int8OID && s.ret.OID == types.NumericOID:
			s.kind = aSumExact
		case oid == types.Float8OID && s.ret.OID == types.Float8OID:
			s.kind = aSumFloat
		default:
			return aggSpec{}, false
		}
	case "avg":
		switch {
		case isInt && s.ret.OID == types.NumericOID:
			s.kind = aAvgExact
		case oid == types.Float8OID && s.ret.OID == types.Float8OID:
			s.kind = aAvgFloat
		default:
			return aggSpec{}, false
		}
	case "min", "max":
		if k == kBool || s.ret.OID != oid && !(oid == types.VarcharOID && s.ret.OID == types.TextOID) {
			return aggSpec{}, false
		}
		s.kind = aMin
		if a.Func.Name == "max" {
			s.kind = aMax
		}
	default:
		return aggSpec{}, false
	}
	return s, true
}

// acc holds one aggregate's state for every group of a partial, as
// columns indexed by group.
type acc struct {
	cnt  []int64
	lo   []uint64 // 128-bit sums: lo and hi words
	hi   []int64
	f    []float64
	iv   []int64
	sv   []string
	seen []bool
}

func (a *acc) grow() {
	a.cnt = append(a.cnt, 0)
	a.lo = append(a.lo, 0)
	a.hi = append(a.hi, 0)
	a.f = append(a.f, 0)
	a.iv = append(a.iv, 0)
	a.sv = append(a.sv, "")
	a.seen = append(a.seen, false)
}

// add128 adds x to the 128-bit sum of group g.
func (a *acc) add128(g int32, xlo uint64, xhi int64) {
	lo, carry := bits.Add64(a.lo[g], xlo, 0)
	a.lo[g] = lo
	a.hi[g] += xhi + int64(carry)
}

// update folds the rows of rows (with group ids gids, indexed by row) into
// the state. v is the argument's vector (nil for count(*)). A float8 sum
// that overflows is 22003, as in the row engine.
func (a *acc) update(s *aggSpec, v *vector, rows []int32, gids []int32) error {
	switch s.kind {
	case aCountStar:
		for _, i := range rows {
			a.cnt[gids[i]]++
		}
		return nil
	case aCount:
		for _, i := range rows {
			if !v.null(i) {
				a.cnt[gids[i]]++
			}
		}
		return nil
	}
	if !v.hasNulls() && !v.konst && s.argK == kInt && (s.kind == aSumExact || s.kind == aSumInt) {
		// The common case, a sum over a column without NULLs.
		for _, i := range rows {
			g, x := gids[i], v.ints[i]
			if s.kind == aSumInt {
				a.iv[g] += x
			} else {
				a.add128(g, uint64(x), x>>63)
			}
			a.seen[g] = true
		}
		return nil
	}
	var err error
	for _, i := range rows {
		if v.null(i) {
			continue
		}
		g := gids[i]
		switch s.kind {
		case aSumInt:
			a.iv[g] += v.int(i)
		case aSumExact:
			x := v.int(i)
			a.add128(g, uint64(x), x>>63)
		case aAvgExact:
			x := v.int(i)
			a.add128(g, uint64(x), x>>63)
			a.cnt[g]++
		case aSumFloat:
			if a.f[g], err = exec.FloatAccumulate(a.f[g], v.flt(i)); err != nil {
				return err
			}
		case aAvgFloat:
			if a.f[g], err = exec.FloatAccumulate(a.f[g], v.flt(i)); err != nil {
				return err
			}
			a.cnt[g]++
		case aMin, aMax:
			a.extreme(s, g, v, i)
			continue
		}
		a.seen[g] = true
	}
	return nil
}

// extreme keeps the smaller (min) or larger (max) value; of equal values
// the first stays, as in the row engine.
func (a *acc) extreme(s *aggSpec, g int32, v *vector, i int32) {
	want := 1
	if s.kind == aMin {
		want = -1
	}
	switch s.argK {
	case kInt:
		x := v.int(i)
		if !a.seen[g] || cmp.Compare(x, a.iv[g])*want > 0 {
			a.iv[g] = x
		}
	case kFloat:
		x := v.flt(i)
		if !a.seen[g] || types.CompareFloat(x, a.f[g])*want > 0 {
			a.f[g] = x
		}
	case kText:
		x := v.string(i)
		if !a.seen[g] || strings.Compare(x, a.sv[g])*want > 0 {
			// The batch's buffers go away; keep a copy.
			a.sv[g] = strings.Clone(x)
		}
	}
	a.seen[g] = true
}

// merge folds group h of o into group g of a.
func (a *acc) merge(s *aggSpec, g int32, o *acc, h int32) error {
	switch s.kind {
	case aCountStar, aCount:
		a.cnt[g] += o.cnt[h]
		return nil
	}
	if !o.seen[h] {
		return nil
	}
	switch s.kind {
	case aSumInt:
		a.iv[g] += o.iv[h]
	case aSumExact, aAvgExact:
		a.add128(g, o.lo[h], o.hi[h])
		a.cnt[g] += o.cnt[h]
	case aSumFloat, aAvgFloat:
		var err error
		if a.f[g], err = exec.FloatAccumulate(a.f[g], o.f[h]); err != nil {
			return err
		}
		a.cnt[g] += o.cnt[h]
	case aMin, aMax:
		want := 1
		if s.kind == aMin {
			want = -1
		}
		var c int
		switch s.argK {
		case kInt:
			c = cmp.Compare(o.iv[h], a.iv[g])
		case kFloat:
			c = types.CompareFloat(o.f[h], a.f[g])
		case kText:
			c = strings.Compare(o.sv[h], a.sv[g])
		}
		if a.seen[g] && c*want <= 0 {
			return nil
		}
		a.iv[g], a.f[g], a.sv[g] = o.iv[h], o.f[h], o.sv[h]
	}
	a.seen[g] = true
	return nil
}

// result is the aggregate's value for group g.
func (a *acc) result(s *aggSpec, env *exec.Env, g int32) (types.Datum, error) {
	switch s.kind {
	case aCountStar, aCount:
		return a.cnt[g], nil
	}
	if !a.seen[g] {
		return nil, nil
	}
	switch s.kind {
	case aSumInt:
		return a.iv[g], nil
	case aSumExact:
		return decimal128(a.lo[g], a.hi[g]), nil
	case aAvgExact:
		var n apd.Decimal
		n.SetInt64(a.cnt[g])
		return numericDiv(env, decimal128(a.lo[g], a.hi[g]), &n)
	case aSumFloat:
		return a.f[g], nil
	case aAvgFloat:
		return a.f[g] / float64(a.cnt[g]), nil
	}
	switch s.argK {
	case kInt:
		return intDatum(s.argT, a.iv[g]), nil
	case kFloat:
		return a.f[g], nil
	}
	return a.sv[g], nil
}

// decimal128 is a 128-bit two's complement integer as a numeric.
func decimal128(lo uint64, hi int64) *apd.Decimal {
	d := new(apd.Decimal)
	if hi == int64(lo)>>63 {
		d.SetInt64(int64(lo))
		return d
	}
	b := new(big.Int).SetInt64(hi)
	b.Lsh(b, 64)
	b.Add(b, new(big.Int).SetUint64(lo))
	if b.Sign() < 0 {
		d.Negative = true
		b.Neg(b)
	}
	d.Coeff.SetMathBigInt(b)
	return d
}

// numericDiv divides as the row engine's numeric / operator (and its avg)
// does, with PostgreSQL's result scale.
func numericDiv(env *exec.Env, x, y *apd.Decimal) (types.Datum, error) {
	for _, f := range exec.Overloads("/") {
		if len(f.Args) == 2 && f.Args[0] == types.NumericOID && f.Args[1] == types.NumericOID {
			return f.Impl(env, nil, []types.Datum{x, y})
		}
	}
	return nil, pgerr.New(pgerr.InternalError, "numeric division is not registered")
}

// partial is the aggregate state of one span: its groups in order of their
// first row, each group's key values, and the accumulators.
type partial struct {
	specs []aggSpec
	keyT  []types.T
	keyK  []kind
	// intKeys serves a single integer-like group key; byKey any other.
	intKeys *intTable
	byKey   map[string]int32
	keys    [][]types.Datum
	accs    []acc
	buf     []byte
}

func newPartial(specs []aggSpec, keyT []types.T, keyK []kind) *partial {
	p := &partial{specs: specs, keyT: keyT, keyK: keyK, accs: make([]acc, len(specs))}
	if len(keyK) == 1 && keyK[0] == kInt {
		p.intKeys = newIntTable()
	} else {
		p.byKey = map[string]int32{}
	}
	if len(keyT) == 0 {
		// Without GROUP BY there is exactly one group, even over no rows.
		p.addGroup("", nil)
	}
	return p
}

func (p *partial) groups() int { return len(p.keys) }

func (p *partial) addGroup(key string, vals []types.Datum) int32 {
	g := int32(len(p.keys))
	p.keys = append(p.keys, vals)
	for i := range p.accs {
		p.accs[i].grow()
	}
	if p.byKey != nil {
		p.byKey[key] = g
	}
	return g
}

// assign sets gids[i] to the group of each row i of sel, adding groups for
// keys not seen before.
func (p *partial) assign(keys []*vector, sel []int32, gids []int32) {
	if len(keys) == 0 {
		for _, i := range sel {
			gids[i] = 0
		}
		return
	}
	if p.intKeys != nil {
		kv := keys[0]
		for _, i := range sel {
			if kv.null(i) {
				if p.intKeys.null < 0 {
					p.intKeys.null = p.addGroup("", []types.Datum{nil})
				}
				gids[i] = p.intKeys.null
				continue
			}
			x := kv.int(i)
			g, ok := p.intKeys.find(x)
			if !ok {
				g = p.addGroup("", []types.Datum{intDatum(p.keyT[0], x)})
				p.intKeys.insert(x, g)
			}
			gids[i] = g
		}
		return
	}
	for _, i := range sel {
		b := p.buf[:0]
		for _, kv := range keys {
			b = appendKeyPart(b, kv, i)
		}
		p.buf = b
		g, ok := p.byKey[string(b)]
		if !ok {
			vals := make([]types.Datum, len(keys))
			for c, kv := range keys {
				vals[c] = kv.datum(p.keyT[c], i)
				if s, ok := vals[c].(string); ok {
					vals[c] = strings.Clone(s)
				}
			}
			g = p.addGroup(string(b), vals)
		}
		gids[i] = g
	}
}

// appendKeyPart encodes one key column's value at row i so that equal
// values, and only they, encode equally.
func appendKeyPart(b []byte, v *vector, i int32) []byte {
	if v.null(i) {
		return append(b, 0)
	}
	switch v.kind {
	case kInt:
		return binary.LittleEndian.AppendUint64(append(b, 1), uint64(v.int(i)))
	case kBool:
		if v.boolean(i) {
			return append(b, 1, 1)
		}
		return append(b, 1, 0)
	case kText:
		s := v.string(i)
		return append(binary.AppendUvarint(append(b, 1), uint64(len(s))), s...)
	}
	return binary.LittleEndian.AppendUint64(append(b, 1), math.Float64bits(v.flt(i)))
}

// datumKey encodes a group's key values as appendKeyPart does.
func (p *partial) datumKey(vals []types.Datum) string {
	b := p.buf[:0]
	for c, d := range vals {
		v := constVector(p.keyT[c], p.keyK[c], d)
		b = appendKeyPart(b, v, 0)
	}
	p.buf = b
	return string(b)
}

// merge folds o's groups into p, after p's own: merging the spans'
// partials in span order keeps the groups in order of their first row.
func (p *partial) merge(o *partial) error {
	for h, vals := range o.keys {
		var g int32
		var ok bool
		switch {
		case len(p.keyT) == 0:
			g, ok = 0, true
		case p.intKeys != nil:
			if vals[0] == nil {
				g, ok = p.intKeys.null, p.intKeys.null >= 0
				if !ok {
					g = p.addGroup("", vals)
					p.intKeys.null = g
					ok = true
				}
			} else {
				x := constVector(p.keyT[0], kInt, vals[0]).ints[0]
				if g, ok = p.intKeys.find(x); !ok {
					g = p.addGroup("", vals)
					p.intKeys.insert(x, g)
				}
			}
		default:
			k := p.datumKey(vals)
			if g, ok = p.byKey[k]; !ok {
				g = p.addGroup(k, vals)
			}
		}
		for i := range p.accs {
			if err := p.accs[i].merge(&p.specs[i], g, &o.accs[i], int32(h)); err != nil {
				return err
			}
		}
	}
	return nil
}

// intTable maps int64 group keys to group ids: open addressing with
// linear probing, kept under half full.
type intTable struct {
	slots []int32 // group id + 1; 0 is empty
	keys  []int64
	shift uint
	n     int
	null  int32 // the group of the NULL key, or -1
}

func newIntTable() *intTable {
	t := &intTable{null: -1}
	t.resize(64)
	return t
}

func (t *intTable) resize(size int) {
	old, oldKeys := t.slots, t.keys
	t.slots = make([]int32, size)
	t.keys = make([]int64, size)
	t.shift = uint(64 - bits.TrailingZeros(uint(size)))
	t.n = 0
	for i, s := range old {
		if s != 0 {
			t.insert(oldKeys[i], s-1)
		}
	}
}

func (t *intTable) slot(x int64) uint64 { return (uint64(x) * 0x9E3779B97F4A7C15) >> t.shift }

func (t *intTable) find(x int64) (int32, bool) {
	mask := uint64(len(t.slots) - 1)
	for i := t.slot(x); ; i = (i + 1) & mask {
		s := t.slots[i]
		if s == 0 {
			return 0, false
		}
		if t.keys[i] == x {
			return s - 1, true
		}
	}
}

func (t *intTable) insert(x int64, g int32) {
	if 2*(t.n+1) > len(t.slots) {
		t.resize(2 * len(t.slots))
	}
	mask := uint64(len(t.slots) - 1)
	i := t.slot(x)
	for t.slots[i] != 0 {
		i = (i + 1) & mask
	}
	t.slots[i], t.keys[i] = g+1, x
	t.n++
}
