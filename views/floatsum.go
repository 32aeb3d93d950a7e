package views

import (
	"math"
	"strconv"

	"github.com/cockroachdb/apd/v3"

	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

// A float sum that rows are added to and retracted from cannot be kept as
// a float: once 1e20 has been added to 0.6 and retracted, the float holds
// 0, and the error stays in the view for good. An exact sum can: each
// value is added as the decimal it prints as (its shortest round-trip
// form as a float8, within half a unit in the last place of the value),
// the finite part in a numeric of numericCtx's 2000 digits (enough for
// any sum of float8s, whose printed forms span about 650 decimal places),
// the infinities and NaNs counted apart. The result is that exact sum
// rounded once to the result type, so it does not depend on the order
// rows came in, which PostgreSQL's float sum does (in its last bits: its
// sum of 0.1, 0.2 and 0.3 is 0.6000000000000001, this one 0.6).
//
// The state after the aggregate's row count: the finite sum, then the
// counts of +Infinity, -Infinity and NaN values.
var floatSumStateTypes = []types.T{tInt8, tNumeric, tInt8, tInt8, tInt8}

// floatSumWidth is the state after the row count, plus one: the slice
// state[f+1 : f+floatSumWidth] is the sum's own state.
const floatSumWidth = 5

// addFloat adds w × x to a float sum's state (sum, +inf, -inf, NaN).
func addFloat(st []types.Datum, x float64, w int64) error {
	switch {
	case math.IsNaN(x):
		st[3] = st[3].(int64) + w
	case math.IsInf(x, 1):
		st[1] = st[1].(int64) + w
	case math.IsInf(x, -1):
		st[2] = st[2].(int64) + w
	default:
		// A float4 is added as the float8 it widens to, as PostgreSQL's
		// avg(real) does (0.1::real is 0.10000000149011612).
		var d apd.Decimal
		if _, _, err := d.SetString(strconv.FormatFloat(x, 'E', -1, 64)); err != nil {
			return err
		}
		if w != 1 {
			if _, err := numericCtx.Mul(&d, &d, apd.New(w, 0)); err != nil {
				return err
			}
		}
		sum := new(apd.Decimal)
		if _, err := numericCtx.Add(sum, st[0].(*apd.Decimal), &d); err != nil {
			return err
		}
		st[0] = sum
	}
	return nil
}

// floatSum is a float sum's result of type ret: the sum, or with n > 0
// the average over n rows. Like PostgreSQL's, a sum over an infinity is
// that infinity, over both or a NaN it is NaN, and a finite sum too large
// for the type is an overflow (22003).
func floatSum(st []types.Datum, ret types.T, n int64) (types.Datum, error) {
	pos, neg, nan := st[1].(int64), st[2].(int64), st[3].(int64)
	switch {
	case nan > 0 || pos > 0 && neg > 0:
		return math.NaN(), nil
	case pos > 0:
		return math.Inf(1), nil
	case neg > 0:
		return math.Inf(-1), nil
	}
	v := st[0].(*apd.Decimal)
	if n > 0 {
		q := new(apd.Decimal)
		if _, err := numericCtx.Quo(q, v, apd.New(n, 0)); err != nil {
			return nil, err
		}
		v = q
	}
	bits := 64
	if ret.OID == types.Float4OID {
		bits = 32
	}
	f, err := strconv.ParseFloat(v.Text('E'), bits)
	if err != nil && !math.IsInf(f, 0) {
		return nil, err
	}
	if math.IsInf(f, 0) {
		return nil, pgerr.New(pgerr.NumericValueOutOfRange, "value out of range: overflow")
	}
	return f, nil
}
