package views

import (
	"encoding/binary"
	"math"
	"strconv"

	"github.com/cockroachdb/apd/v3"

	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

// A running sum that rows are added to and retracted from must be exact,
// and NaN and the infinities cannot be in it: a float8 sum that 1e20 has
// been added to and retracted from holds 0 whatever the small values
// were, and a sum that a NaN (float or numeric) or an Infinity joined
// stays NaN after that row is deleted (NaN - NaN is NaN). An exact sum
// keeps its finite part in a numeric of numericCtx's 2000 digits and
// counts +Infinity, -Infinity and NaN values apart.
//
// A float value is added as the decimal it prints as (its shortest
// round-trip form as a float8, within half a unit in its last place;
// enough digits for any sum of float8s, whose printed forms span about 650
// decimal places), and the result is that exact sum rounded once to the
// result type, so it does not depend on the order rows came in, which
// PostgreSQL's float sum does (in its last bits: its sum of 0.1, 0.2 and
// 0.3 is 0.6000000000000001, this one 0.6). Integer sums have no NaN and
// keep the plain (count, numeric) state.
//
// A numeric sum prints with the largest display scale of the values in it
// (1.5 + 2.25 is 3.75, and 1.5 after 2.25 is deleted), so the state counts
// the values of each scale: an exact sum that 2.25 left keeps its two
// decimals after 2.25 is gone.
//
// The state after the aggregate's row count: the finite sum, the counts
// of +Infinity, -Infinity and NaN values, and the numeric values' scales
// with their counts (uvarint pairs, by scale).
var exactSumStateTypes = []types.T{tInt8, tNumeric, tInt8, tInt8, tInt8, types.Make(types.ByteaOID)}

// exactSumWidth is the state after the row count, plus one: the slice
// state[f+1 : f+exactSumWidth] is the sum's own state.
const exactSumWidth = 6

// exactSum reports whether a keeps an exact sum state when it is told to
// (Agg.Exact): a sum or avg of float4, float8 or numeric.
func (a *Agg) exactSum() bool {
	return (a.Kind == AggSum || a.Kind == AggAvg) && (isFloat(a.Arg.Type()) || a.Arg.Type().OID == types.NumericOID)
}

// addExact adds w × v (a float64, a numeric or an integer) to an exact
// sum's state (sum, +inf, -inf, NaN, scales) and returns v as the exact
// decimal it added (nil for an infinity or a NaN, which are counted).
func addExact(st []types.Datum, v types.Datum, w int64) (*apd.Decimal, error) {
	switch x := v.(type) {
	case float64:
		switch {
		case math.IsNaN(x):
			st[3] = st[3].(int64) + w
			return nil, nil
		case math.IsInf(x, 1):
			st[1] = st[1].(int64) + w
			return nil, nil
		case math.IsInf(x, -1):
			st[2] = st[2].(int64) + w
			return nil, nil
		}
		// A float4 is added as the float8 it widens to, as PostgreSQL's
		// avg(real) does (0.1::real is 0.10000000149011612).
		d := new(apd.Decimal)
		if _, _, err := d.SetString(strconv.FormatFloat(x, 'E', -1, 64)); err != nil {
			return nil, err
		}
		v = d
	case *apd.Decimal:
		switch {
		case x.Form == apd.NaN || x.Form == apd.NaNSignaling:
			st[3] = st[3].(int64) + w
			return nil, nil
		case x.Form == apd.Infinite && !x.Negative:
			st[1] = st[1].(int64) + w
			return nil, nil
		case x.Form == apd.Infinite:
			st[2] = st[2].(int64) + w
			return nil, nil
		}
		st[4] = addScale(st[4], scaleOf(x), w)
	}
	var wv apd.Decimal
	sum := new(apd.Decimal)
	if _, err := numericCtx.Add(sum, st[0].(*apd.Decimal), weighted(&wv, v, w)); err != nil {
		return nil, err
	}
	st[0] = sum
	switch x := v.(type) {
	case *apd.Decimal:
		return x, nil
	case int64:
		return apd.New(x, 0), nil
	}
	return nil, nil
}

// special is an exact sum's result when an infinity or a NaN is in it,
// as PostgreSQL gives it: NaN with a NaN or both infinities, else the
// infinity; ok false when the sum is finite.
func special(st []types.Datum, ret types.T) (v types.Datum, ok bool) {
	pos, neg, nan := st[1].(int64), st[2].(int64), st[3].(int64)
	var f float64
	switch {
	case nan > 0 || pos > 0 && neg > 0:
		f = math.NaN()
	case pos > 0:
		f = math.Inf(1)
	case neg > 0:
		f = math.Inf(-1)
	default:
		return nil, false
	}
	if isFloat(ret) {
		return f, true
	}
	d := new(apd.Decimal)
	switch {
	case math.IsNaN(f):
		d.Form = apd.NaN
	default:
		d.Form, d.Negative = apd.Infinite, f < 0
	}
	return d, true
}

// floatResult rounds an exact finite sum (or average) to a float result
// type; a sum too large for it is an overflow (22003), as in PostgreSQL.
func floatResult(v *apd.Decimal, ret types.T) (types.Datum, error) {
	bits := 64
	if ret.OID == types.Float4OID {
		bits = 32
	}
	f, err := strconv.ParseFloat(v.Text('E'), bits)
	if math.IsInf(f, 0) {
		return nil, pgerr.New(pgerr.NumericValueOutOfRange, "value out of range: overflow")
	}
	if err != nil {
		return nil, err
	}
	return f, nil
}

// scaleOf is a finite numeric's display scale.
func scaleOf(d *apd.Decimal) uint64 {
	if d.Exponent >= 0 {
		return 0
	}
	return uint64(-d.Exponent)
}

// addScale adds w values of scale sc to the scale counts (nil or []byte:
// uvarint scale, varint count pairs in scale order, none with count 0).
func addScale(v types.Datum, sc uint64, w int64) []byte {
	in, _ := v.([]byte)
	out := make([]byte, 0, len(in)+4)
	done := false
	for len(in) > 0 {
		s, n := binary.Uvarint(in)
		c, m := binary.Varint(in[n:])
		in = in[n+m:]
		if !done && s >= sc {
			done = true
			if s == sc {
				c += w
			} else if w != 0 {
				out = binary.AppendVarint(binary.AppendUvarint(out, sc), w)
			}
		}
		if c != 0 {
			out = binary.AppendVarint(binary.AppendUvarint(out, s), c)
		}
	}
	if !done && w != 0 {
		out = binary.AppendVarint(binary.AppendUvarint(out, sc), w)
	}
	return out
}

// maxScale is the largest scale with values in the scale counts.
func maxScale(v types.Datum) uint64 {
	in, _ := v.([]byte)
	var max uint64
	for len(in) > 0 {
		s, n := binary.Uvarint(in)
		c, m := binary.Varint(in[n:])
		in = in[n+m:]
		if c > 0 && s > max {
			max = s
		}
	}
	return max
}

// numericSum is an exact numeric sum at the display scale of the values
// in it.
func numericSum(st []types.Datum) (*apd.Decimal, error) {
	d := new(apd.Decimal)
	if _, err := numericCtx.Quantize(d, st[0].(*apd.Decimal), -int32(maxScale(st[4]))); err != nil {
		return nil, err
	}
	return d, nil
}
