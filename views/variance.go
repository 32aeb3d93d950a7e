package views

import (
	"math"

	"github.com/cockroachdb/apd/v3"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/sql/types"
)

// The variance family (var_samp, var_pop, stddev_samp, stddev_pop) keeps
// the exact sum's state (exactsum.go: the finite sum, the infinities and
// NaNs counted apart, the numeric values' scales) and beside it the exact
// sum of the finite values' squares, so that rows leave it as exactly as
// they came. Over integers and numeric the result is PostgreSQL's
// (exec.NumericVariance, from the sums at the values' display scale).
// Over floats it is the exact variance of the values (each the decimal it
// prints as) rounded once to float8: PostgreSQL's float8_accum result
// depends on the order rows came in, in its last bits, and equals this
// one where its arithmetic is exact.
var varianceStateTypes = append(append([]types.T(nil), exactSumStateTypes...), tNumeric)

// addVariance adds w × v to a variance state after its count: the exact
// sum's fields, then the sum of squares.
func addVariance(st []types.Datum, v types.Datum, w int64) error {
	n := len(st)
	// The decimal the sum took is the one squared: a float is turned
	// into its decimal once.
	d, err := addExact(st[:n-1], v, w)
	if err != nil || d == nil {
		return err
	}
	sq := new(apd.Decimal)
	if _, err := numericCtx.Mul(sq, d, d); err != nil {
		return err
	}
	var wd apd.Decimal
	sum2 := new(apd.Decimal)
	if _, err := numericCtx.Add(sum2, st[n-1].(*apd.Decimal), weighted(&wd, sq, w)); err != nil {
		return err
	}
	st[n-1] = sum2
	return nil
}

// varianceResult is an AggVariance's value for n (a count) values with
// state st.
func varianceResult(a Agg, n types.Datum, st []types.Datum) (types.Datum, error) {
	cnt := n.(int64)
	k := a.Variance
	nonFinite := st[1].(int64)+st[2].(int64)+st[3].(int64) > 0
	if !isFloat(a.Arg.Type()) {
		sum, err := numericSum(st[:len(st)-1])
		if err != nil {
			return nil, err
		}
		sum2 := new(apd.Decimal)
		if _, err := numericCtx.Quantize(sum2, st[len(st)-1].(*apd.Decimal), -2*int32(maxScale(st[4]))); err != nil {
			return nil, err
		}
		return exec.NumericVariance(cnt, nonFinite, sum, sum2, k)
	}
	if cnt == 0 || k.Sample && cnt == 1 {
		return nil, nil
	}
	if nonFinite {
		return math.NaN(), nil
	}
	// (nΣx² − (Σx)²) / (n·d), d = n − 1 or n, exactly, then rounded.
	var vn, sq, num, den apd.Decimal
	vn.SetInt64(cnt)
	sum, sum2 := st[0].(*apd.Decimal), st[len(st)-1].(*apd.Decimal)
	if _, err := numericCtx.Mul(&sq, sum, sum); err != nil {
		return nil, err
	}
	if _, err := numericCtx.Mul(&num, &vn, sum2); err != nil {
		return nil, err
	}
	if _, err := numericCtx.Sub(&num, &num, &sq); err != nil {
		return nil, err
	}
	if num.Sign() <= 0 {
		return float64(0), nil
	}
	d := cnt
	if k.Sample {
		d--
	}
	var dd apd.Decimal
	dd.SetInt64(d)
	if _, err := numericCtx.Mul(&den, &vn, &dd); err != nil {
		return nil, err
	}
	r := new(apd.Decimal)
	c := numericCtx.WithPrecision(40)
	if _, err := c.Quo(r, &num, &den); err != nil {
		return nil, err
	}
	if k.Stddev {
		if _, err := c.Sqrt(r, r); err != nil {
			return nil, err
		}
	}
	return floatResult(r, tFloat8)
}
