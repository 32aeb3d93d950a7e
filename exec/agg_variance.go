package exec

import (
	"math"

	"github.com/cockroachdb/apd/v3"

	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

// The variance family: var_samp (variance), var_pop, stddev_samp
// (stddev) and stddev_pop, as PostgreSQL computes them. Over integers and
// numeric the state is the count, the sum and the sum of squares, exact,
// and the result a numeric (NumericVariance); over float4 and float8 it
// is PostgreSQL's float8_accum (Youngs-Cramer) and a float8 result.

// VarianceKind says which of the family an aggregate is.
type VarianceKind struct {
	// Sample divides by n - 1 (var_samp, stddev_samp), else by n.
	Sample bool
	// Stddev takes the square root (stddev_samp, stddev_pop).
	Stddev bool
}

func varianceKind(name string) (VarianceKind, bool) {
	switch name {
	case "var_samp", "variance":
		return VarianceKind{Sample: true}, true
	case "var_pop":
		return VarianceKind{}, true
	case "stddev_samp", "stddev":
		return VarianceKind{Sample: true, Stddev: true}, true
	case "stddev_pop":
		return VarianceKind{Stddev: true}, true
	}
	return VarianceKind{}, false
}

// VarianceOf returns the kind of a variance-family aggregate function.
func VarianceOf(name string) (VarianceKind, bool) { return varianceKind(name) }

func resolveVariance(a *AggFunc, k VarianceKind) (*AggFunc, error) {
	switch a.Arg.OID {
	case types.Int2OID, types.Int4OID, types.Int8OID, types.NumericOID:
		a.Ret, a.New = tNumeric, func() Accumulator { return &numVarAcc{k: k} }
	case types.Float4OID, types.Float8OID:
		a.Ret, a.New = tFloat8, func() Accumulator { return &floatVarAcc{k: k} }
	default:
		return nil, undefinedAgg(a.Name, a.Arg)
	}
	return a, nil
}

// numVarAcc keeps n, Σx and Σx² exactly, with NaN and infinities counted.
type numVarAcc struct {
	k         VarianceKind
	n         int64
	sum, sum2 apd.Decimal
	nonFinite int64
}

func (a *numVarAcc) Add(_ *Env, v types.Datum) error {
	a.n++
	var d apd.Decimal
	switch x := v.(type) {
	case int64:
		d.SetInt64(x)
	case *apd.Decimal:
		if x.Form != apd.Finite {
			a.nonFinite++
			return nil
		}
		d.Set(x)
	}
	if _, err := numericCtx.Add(&a.sum, &a.sum, &d); err != nil {
		return err
	}
	var sq apd.Decimal
	if _, err := numericCtx.Mul(&sq, &d, &d); err != nil {
		return err
	}
	_, err := numericCtx.Add(&a.sum2, &a.sum2, &sq)
	return err
}

func (a *numVarAcc) Result(*Env) (types.Datum, error) {
	return NumericVariance(a.n, a.nonFinite > 0, &a.sum, &a.sum2, a.k)
}

// NumericVariance is numeric_stddev_internal: n values whose sum and sum
// of squares are exact (each carrying the display scale of its values:
// the largest of the values', twice that), nonFinite when a NaN or an
// infinity was among them. NULL for fewer than two values (one for the
// population forms), NaN with a NaN or an infinity; else (nΣx² − (Σx)²) /
// (n(n−1)) (n² for the population), rounded to PostgreSQL's division
// scale, and its square root at that scale for the stddev forms.
func NumericVariance(n int64, nonFinite bool, sum, sum2 *apd.Decimal, k VarianceKind) (types.Datum, error) {
	comp := int64(0)
	if k.Sample {
		comp = 1
	}
	if n <= comp {
		return nil, nil
	}
	if nonFinite {
		return &apd.Decimal{Form: apd.NaN}, nil
	}
	var vn, sq, num apd.Decimal
	vn.SetInt64(n)
	if _, err := numericCtx.Mul(&sq, sum, sum); err != nil {
		return nil, overflow()
	}
	if _, err := numericCtx.Mul(&num, &vn, sum2); err != nil {
		return nil, overflow()
	}
	if _, err := numericCtx.Sub(&num, &num, &sq); err != nil {
		return nil, overflow()
	}
	if num.Sign() <= 0 {
		// Roundoff cannot make it negative here (the sums are exact),
		// but PostgreSQL's zero has scale 0 whatever the inputs.
		return apd.New(0, 0), nil
	}
	den := apd.New(n, 0)
	if k.Sample {
		den = apd.New(n*(n-1), 0)
		if n > math.MaxInt32 {
			// n(n−1) in a numeric, where int64 could overflow.
			var m apd.Decimal
			m.SetInt64(n - 1)
			if _, err := numericCtx.Mul(den, &vn, &m); err != nil {
				return nil, overflow()
			}
		}
	} else {
		if _, err := numericCtx.Mul(den, &vn, &vn); err != nil {
			return nil, overflow()
		}
	}
	scale := NumericDivScale(&num, den)
	r := new(apd.Decimal)
	if _, err := numericCtx.Quo(r, &num, den); err != nil {
		return nil, overflow()
	}
	// The variance rounded to the division's scale, and the standard
	// deviation is its square root at the same scale.
	r, err := numericFinish(r, scale)
	if err != nil || !k.Stddev {
		return r, err
	}
	if _, err := numericCtxFor(scale, r, 10).Sqrt(r, r); err != nil {
		return nil, overflow()
	}
	return numericFinish(r, scale)
}

func overflow() error {
	return pgerr.New(pgerr.NumericValueOutOfRange, "value overflows numeric format")
}

// floatVarAcc is PostgreSQL's float8_accum: n, Σx and Sxx, the sum of
// squared differences from the running mean (Youngs-Cramer), so that the
// result is what PostgreSQL gives over the same rows in the same order.
type floatVarAcc struct {
	k          VarianceKind
	n, sx, sxx float64
}

func (a *floatVarAcc) Add(_ *Env, v types.Datum) error {
	x := v.(float64)
	n := a.n + 1
	sx := a.sx + x
	sxx := a.sxx
	if a.n > 0 {
		tmp := x*n - sx
		sxx += tmp * tmp / (n * a.n)
		if math.IsInf(sx, 0) || math.IsInf(sxx, 0) {
			if !math.IsInf(a.sx, 0) && !math.IsInf(x, 0) {
				return pgerr.New(pgerr.NumericValueOutOfRange, "value out of range: overflow")
			}
			sxx = math.NaN()
		}
	} else if math.IsNaN(x) || math.IsInf(x, 0) {
		sxx = math.NaN()
	}
	a.n, a.sx, a.sxx = n, sx, sxx
	return nil
}

func (a *floatVarAcc) Result(*Env) (types.Datum, error) {
	return FloatVariance(a.n, a.sxx, a.k), nil
}

// FloatVariance is float8_var_samp and the rest over n values whose
// squared differences from their mean sum to sxx.
func FloatVariance(n, sxx float64, k VarianceKind) types.Datum {
	d := n
	if k.Sample {
		if n <= 1 {
			return nil
		}
		d = n - 1
	} else if n == 0 {
		return nil
	}
	v := sxx / d
	if k.Stddev {
		v = math.Sqrt(v)
	}
	return v
}
