package exec

import (
	"math"
	"math/big"
	"math/rand/v2"

	"github.com/cockroachdb/apd/v3"

	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

// Mathematical functions and operators. float8 functions follow the C
// library as PostgreSQL calls it, with its error checks (overflow and
// underflow from finite inputs are 22003). numeric functions compute with
// apd at a precision above the result scale PostgreSQL chooses (at least
// 16 significant digits, never fewer decimals than the input shows), then
// round half away from zero to that scale.

const errWidthBucket = pgerr.Code("2201G")

func init() {
	f1 := func(name string, f func(float64) (float64, error)) *Func {
		return fn(name, oids(oFloat8), tFloat8, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return f(a[0].(float64))
		})
	}
	n1 := func(name string, f func(*apd.Decimal) (*apd.Decimal, error)) *Func {
		return fn(name, oids(oNum), tNumeric, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return f(a[0].(*apd.Decimal))
		})
	}
	plain := func(g func(float64) float64) func(float64) (float64, error) {
		return func(x float64) (float64, error) { return g(x), nil }
	}
	register(
		f1("ceil", plain(math.Ceil)), f1("ceiling", plain(math.Ceil)), f1("floor", plain(math.Floor)),
		f1("round", plain(math.RoundToEven)), f1("trunc", plain(math.Trunc)),
		f1("sign", plain(func(x float64) float64 {
			switch {
			case x > 0:
				return 1
			case x < 0:
				return -1
			}
			return 0
		})),
		f1("sqrt", floatSqrt), f1("cbrt", floatCbrt), f1("exp", floatExp),
		f1("ln", floatLog(false)), f1("log", floatLog(true)), f1("log10", floatLog(true)),
		f1("degrees", func(x float64) (float64, error) { return checkFloat(x*(180/math.Pi), !math.IsInf(x, 0), true) }),
		f1("radians", func(x float64) (float64, error) { return checkFloat(x*(math.Pi/180), !math.IsInf(x, 0), x == 0) }),
		f1("sin", trig(math.Sin, false)), f1("cos", trig(math.Cos, false)), f1("tan", trig(math.Tan, false)),
		f1("asin", trig(math.Asin, true)), f1("acos", trig(math.Acos, true)), f1("atan", func(x float64) (float64, error) { return math.Atan(x), nil }),
		f1("cot", func(x float64) (float64, error) {
			if math.IsInf(x, 0) {
				return 0, errFloatInput()
			}
			return 1 / math.Tan(x), nil
		}),
		fn("atan2", oids(oFloat8, oFloat8), tFloat8, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return math.Atan2(a[0].(float64), a[1].(float64)), nil
		}),
		&Func{Name: "pi", Ret: tFloat8, Impl: func(*Env, *Call, []types.Datum) (types.Datum, error) { return math.Pi, nil }},
		&Func{Name: "random", Ret: tFloat8, Volatile: true, Impl: func(*Env, *Call, []types.Datum) (types.Datum, error) { return rand.Float64(), nil }},
		fn("power", oids(oFloat8, oFloat8), tFloat8, floatPow),
		fn("pow", oids(oFloat8, oFloat8), tFloat8, floatPow),
		&Func{Name: "dpow", Op: "^", Args: oids(oFloat8, oFloat8), Ret: tFloat8, Strict: true, Impl: floatPow},
		&Func{Name: "dsqrt", Op: "|/", Args: oids(oFloat8), Ret: tFloat8, Strict: true, Impl: func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) { return floatSqrt(a[0].(float64)) }},
		&Func{Name: "dcbrt", Op: "||/", Args: oids(oFloat8), Ret: tFloat8, Strict: true, Impl: func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) { return floatCbrt(a[0].(float64)) }},
		fn("width_bucket", oids(oFloat8, oFloat8, oFloat8, oInt4), tInt4, widthBucketFloat),
		fn("width_bucket", oids(oNum, oNum, oNum, oInt4), tInt4, widthBucketNumeric),

		n1("ceil", numericRounder(apd.RoundCeiling)), n1("ceiling", numericRounder(apd.RoundCeiling)),
		n1("floor", numericRounder(apd.RoundFloor)), n1("round", numericRounder(apd.RoundHalfUp)),
		n1("trunc", numericRounder(apd.RoundDown)),
		fn("round", oids(oNum, oInt4), tNumeric, numericRoundScale(apd.RoundHalfUp)),
		fn("trunc", oids(oNum, oInt4), tNumeric, numericRoundScale(apd.RoundDown)),
		n1("sign", func(x *apd.Decimal) (*apd.Decimal, error) {
			if x.Form == apd.NaN {
				return x, nil
			}
			r := apd.New(int64(x.Sign()), 0)
			return r, nil
		}),
		n1("sqrt", numericSqrt), n1("exp", numericExp), n1("ln", numericLn),
		n1("log", func(x *apd.Decimal) (*apd.Decimal, error) { return numericLog(apd.New(10, 0), x) }),
		n1("log10", func(x *apd.Decimal) (*apd.Decimal, error) { return numericLog(apd.New(10, 0), x) }),
		fn("log", oids(oNum, oNum), tNumeric, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return numericLog(a[0].(*apd.Decimal), a[1].(*apd.Decimal))
		}),
		fn("power", oids(oNum, oNum), tNumeric, numericPowImpl),
		fn("pow", oids(oNum, oNum), tNumeric, numericPowImpl),
		&Func{Name: "numeric_power", Op: "^", Args: oids(oNum, oNum), Ret: tNumeric, Strict: true, Impl: numericPowImpl},
		fn("div", oids(oNum, oNum), tNumeric, numericDiv),
		fn("gcd", oids(oNum, oNum), tNumeric, numericGCD(false)),
		fn("lcm", oids(oNum, oNum), tNumeric, numericGCD(true)),
		&Func{Name: "numeric_abs", Op: "@", Args: oids(oNum), Ret: tNumeric, Strict: true, Impl: func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			d := new(apd.Decimal)
			d.Abs(a[0].(*apd.Decimal))
			return d, nil
		}},
		&Func{Name: "float8abs", Op: "@", Args: oids(oFloat8), Ret: tFloat8, Strict: true, Impl: func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) { return math.Abs(a[0].(float64)), nil }},
		&Func{Name: "float4abs", Op: "@", Args: oids(types.Float4OID), Ret: tFloat4, Strict: true, Impl: func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) { return math.Abs(a[0].(float64)), nil }},
	)
	for _, it := range []types.T{tInt2, tInt4, tInt8} {
		b := IntBits(it.OID)
		o := it.OID
		register(
			&Func{Name: "int_abs", Op: "@", Args: oids(o), Ret: it, Strict: true, Impl: intAbs(b)},
			&Func{Name: "int_and", Op: "&", Args: oids(o, o), Ret: it, Strict: true, Impl: intBitwise('&')},
			&Func{Name: "int_or", Op: "|", Args: oids(o, o), Ret: it, Strict: true, Impl: intBitwise('|')},
			&Func{Name: "int_xor", Op: "#", Args: oids(o, o), Ret: it, Strict: true, Impl: intBitwise('#')},
			&Func{Name: "int_not", Op: "~", Args: oids(o), Ret: it, Strict: true, Impl: func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) { return ^a[0].(int64), nil }},
			&Func{Name: "int_shl", Op: "<<", Args: oids(o, oInt4), Ret: it, Strict: true, Impl: intShift(b, true)},
			&Func{Name: "int_shr", Op: ">>", Args: oids(o, oInt4), Ret: it, Strict: true, Impl: intShift(b, false)},
		)
		if o != types.Int2OID {
			register(
				fn("gcd", oids(o, o), it, intGCD(b, false)),
				fn("lcm", oids(o, o), it, intGCD(b, true)),
			)
		}
	}
	for _, oid := range comparableTypes {
		typ := types.Make(oid)
		register(
			&Func{Name: "greatest", Args: oids(oid), Variadic: true, Ret: typ, Impl: extremum(typ, 1)},
			&Func{Name: "least", Args: oids(oid), Variadic: true, Ret: typ, Impl: extremum(typ, -1)},
		)
	}
}

func errFloatOverflow() error {
	return pgerr.New(pgerr.NumericValueOutOfRange, "value out of range: overflow")
}

func errFloatUnderflow() error {
	return pgerr.New(pgerr.NumericValueOutOfRange, "value out of range: underflow")
}

func errFloatInput() error { return pgerr.New(pgerr.NumericValueOutOfRange, "input is out of range") }

// checkFloat is float_overflow_check and float_underflow_check: an
// infinite result is an error unless an input was infinite (infOK), a zero
// one unless zero was possible (zeroOK).
func checkFloat(r float64, finiteIn, zeroOK bool) (float64, error) {
	if math.IsInf(r, 0) && finiteIn {
		return 0, errFloatOverflow()
	}
	if r == 0 && !zeroOK {
		return 0, errFloatUnderflow()
	}
	return r, nil
}

func floatSqrt(x float64) (float64, error) {
	if x < 0 {
		return 0, pgerr.New(pgerr.InvalidArgumentForPowerFunction, "cannot take square root of a negative number")
	}
	return math.Sqrt(x), nil
}

// floatCbrt is glibc's cbrt (sysdeps/ieee754/dbl-64/s_cbrt.c), which
// PostgreSQL calls: a polynomial and one rational step, not correctly
// rounded (cbrt(27) is 3.0000000000000004), so Go's math.Cbrt differs.
func floatCbrt(x float64) (float64, error) {
	xm, xe := math.Frexp(math.Abs(x))
	if x == 0 || math.IsInf(x, 0) || math.IsNaN(x) {
		return x + x, nil
	}
	u := 0.354895765043919860 + (1.50819193781584896+(-2.11499494167371287+(2.44693122563534430+(-1.83469277483613086+(0.784932344976639262-0.145263899385486377*xm)*xm)*xm)*xm)*xm)*xm
	t2 := u * u * u
	ym := u * (t2 + 2.0*xm) / (2.0*t2 + xm) * cbrtFactor[2+xe%3]
	if x < 0 {
		ym = -ym
	}
	return math.Ldexp(ym, xe/3), nil
}

// cbrtFactor is computed at run time, as C computes it: the constants
// rounded to float64 first, then divided (Go would fold the exact quotient).
var cbrtFactor = func() [5]float64 {
	cbrt2, sqrCbrt2 := 1.2599210498948731648, 1.5874010519681994748
	return [5]float64{1.0 / sqrCbrt2, 1.0 / cbrt2, 1.0, cbrt2, sqrCbrt2}
}()

func floatExp(x float64) (float64, error) {
	if math.IsNaN(x) {
		return x, nil
	}
	if math.IsInf(x, 0) {
		if x > 0 {
			return x, nil
		}
		return 0, nil
	}
	r := math.Exp(x)
	if !math.IsInf(r, 0) && r != 0 {
		r = crExp(x)
	}
	if math.IsInf(r, 0) {
		return 0, errFloatOverflow()
	}
	if r == 0 {
		return 0, errFloatUnderflow()
	}
	return r, nil
}

func floatLog(base10 bool) func(float64) (float64, error) {
	return func(x float64) (float64, error) {
		if x == 0 {
			return 0, pgerr.New(pgerr.InvalidArgumentForLogarithm, "cannot take logarithm of zero")
		}
		if x < 0 {
			return 0, pgerr.New(pgerr.InvalidArgumentForLogarithm, "cannot take logarithm of a negative number")
		}
		if math.IsInf(x, 0) || math.IsNaN(x) {
			return x, nil
		}
		if base10 {
			return crLog10(x), nil
		}
		return crLn(x), nil
	}
}

func trig(f func(float64) float64, unitDomain bool) func(float64) (float64, error) {
	return func(x float64) (float64, error) {
		if math.IsNaN(x) {
			return x, nil
		}
		if math.IsInf(x, 0) || unitDomain && (x < -1 || x > 1) {
			return 0, errFloatInput()
		}
		return f(x), nil
	}
}

func floatPow(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
	x, y := a[0].(float64), a[1].(float64)
	if x == 0 && y < 0 {
		return nil, pgerr.New(pgerr.InvalidArgumentForPowerFunction, "zero raised to a negative power is undefined")
	}
	if x < 0 && math.Floor(y) != y && !math.IsInf(y, 0) && !math.IsNaN(y) {
		return nil, pgerr.New(pgerr.InvalidArgumentForPowerFunction, "a negative number raised to a non-integer power yields a complex result")
	}
	if math.IsNaN(x) {
		if y == 0 {
			return 1.0, nil
		}
		return x, nil
	}
	if math.IsNaN(y) {
		if x == 1 {
			return 1.0, nil
		}
		return y, nil
	}
	finite := !math.IsInf(x, 0) && !math.IsInf(y, 0)
	r := math.Pow(x, y)
	if finite && x != 0 && y != 0 && !math.IsInf(r, 0) && r != 0 {
		// Correctly rounded, as glibc's pow; the sign as math.Pow found it.
		e := crPow(x, y)
		if !math.IsNaN(e) {
			r = math.Copysign(e, r)
		}
	}
	if math.IsInf(r, 0) && finite {
		return nil, errFloatOverflow()
	}
	if r == 0 && x != 0 && finite {
		return nil, errFloatUnderflow()
	}
	return r, nil
}

func widthBucketFloat(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
	op, lo, hi, count := a[0].(float64), a[1].(float64), a[2].(float64), a[3].(int64)
	if count <= 0 {
		return nil, pgerr.New(errWidthBucket, "count must be greater than zero")
	}
	if math.IsNaN(op) || math.IsNaN(lo) || math.IsNaN(hi) {
		return nil, pgerr.New(errWidthBucket, "operand, lower bound, and upper bound cannot be NaN")
	}
	if math.IsInf(lo, 0) || math.IsInf(hi, 0) {
		return nil, pgerr.New(errWidthBucket, "lower and upper bounds must be finite")
	}
	c := float64(count)
	var r int64
	switch {
	case lo < hi:
		switch {
		case op < lo:
			r = 0
		case op >= hi:
			r = count + 1
		default:
			if !math.IsInf(hi-lo, 0) {
				r = int64(c * ((op - lo) / (hi - lo)))
			} else {
				r = int64(c * ((op/2 - lo/2) / (hi/2 - lo/2)))
			}
			r = min(r, count-1) + 1
		}
	case lo > hi:
		switch {
		case op > lo:
			r = 0
		case op <= hi:
			r = count + 1
		default:
			if !math.IsInf(lo-hi, 0) {
				r = int64(c * ((lo - op) / (lo - hi)))
			} else {
				r = int64(c * ((lo/2 - op/2) / (lo/2 - hi/2)))
			}
			r = min(r, count-1) + 1
		}
	default:
		return nil, pgerr.New(errWidthBucket, "lower bound cannot equal upper bound")
	}
	if r > math.MaxInt32 {
		return nil, ErrIntRange(32)
	}
	return r, nil
}

func widthBucketNumeric(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
	op, lo, hi, count := a[0].(*apd.Decimal), a[1].(*apd.Decimal), a[2].(*apd.Decimal), a[3].(int64)
	if count <= 0 {
		return nil, pgerr.New(errWidthBucket, "count must be greater than zero")
	}
	if op.Form == apd.NaN || lo.Form == apd.NaN || hi.Form == apd.NaN {
		return nil, pgerr.New(errWidthBucket, "operand, lower bound, and upper bound cannot be NaN")
	}
	if lo.Form != apd.Finite || hi.Form != apd.Finite {
		return nil, pgerr.New(errWidthBucket, "lower and upper bounds must be finite")
	}
	// bucket is count × num / den truncated, plus one.
	bucket := func(num, den *apd.Decimal) int64 {
		scaled, q := new(apd.Decimal), new(apd.Decimal)
		numericCtx.Mul(scaled, num, apd.New(count, 0))
		numericCtx.QuoInteger(q, scaled, den)
		v, _ := q.Int64()
		return min(v, count-1) + 1
	}
	var r int64
	switch lo.Cmp(hi) {
	case -1:
		switch {
		case op.Cmp(lo) < 0:
			r = 0
		case op.Cmp(hi) >= 0:
			r = count + 1
		default:
			d1, d2 := new(apd.Decimal), new(apd.Decimal)
			numericCtx.Sub(d1, op, lo)
			numericCtx.Sub(d2, hi, lo)
			r = bucket(d1, d2)
		}
	case 1:
		switch {
		case op.Cmp(lo) > 0:
			r = 0
		case op.Cmp(hi) <= 0:
			r = count + 1
		default:
			d1, d2 := new(apd.Decimal), new(apd.Decimal)
			numericCtx.Sub(d1, lo, op)
			numericCtx.Sub(d2, lo, hi)
			r = bucket(d1, d2)
		}
	default:
		return nil, pgerr.New(errWidthBucket, "lower bound cannot equal upper bound")
	}
	if r > math.MaxInt32 {
		return nil, ErrIntRange(32)
	}
	return r, nil
}

func intBitwise(op byte) impl {
	return func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
		x, y := a[0].(int64), a[1].(int64)
		switch op {
		case '&':
			return x & y, nil
		case '|':
			return x | y, nil
		}
		return x ^ y, nil
	}
}

// intShift shifts as the C compiler PostgreSQL is built with does on
// x86-64: int2 and int4 shift an int32 by the count mod 32, int8 by the
// count mod 64; int2 results are truncated back to 16 bits.
func intShift(b int, left bool) impl {
	return func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
		x, n := a[0].(int64), uint(a[1].(int64))
		if b == 64 {
			if left {
				return x << (n & 63), nil
			}
			return x >> (n & 63), nil
		}
		v := int32(x)
		if left {
			v <<= n & 31
		} else {
			v >>= n & 31
		}
		if b == 16 {
			return int64(int16(v)), nil
		}
		return int64(v), nil
	}
}

func intGCD(b int, lcm bool) impl {
	return func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
		x, y := a[0].(int64), a[1].(int64)
		g := new(big.Int).GCD(nil, nil, new(big.Int).Abs(big.NewInt(x)), new(big.Int).Abs(big.NewInt(y)))
		r := g
		if lcm {
			if x == 0 || y == 0 {
				return int64(0), nil
			}
			r = new(big.Int).Mul(big.NewInt(x), big.NewInt(y))
			r.Abs(r).Quo(r, g)
		}
		if !r.IsInt64() || !FitsIntBits(r.Int64(), b) {
			return nil, ErrIntRange(b)
		}
		return r.Int64(), nil
	}
}

func extremum(typ types.T, sign int) impl {
	return func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
		var best types.Datum
		for _, v := range a {
			if v != nil && (best == nil || types.Compare(typ, v, best)*sign > 0) {
				best = v
			}
		}
		return best, nil
	}
}

// numericFinish rounds r half away from zero to scale decimals and drops
// a negative zero, which numeric does not have.
func numericFinish(r *apd.Decimal, scale int32) (*apd.Decimal, error) {
	if r.Form != apd.Finite {
		return r, nil
	}
	c := apd.BaseContext.WithPrecision(uint32(max(int64(r.NumDigits())+int64(r.Exponent)+int64(scale)+2, 1)))
	c.Rounding = apd.RoundHalfUp
	c.MaxExponent, c.MinExponent = apd.MaxExponent, apd.MinExponent
	if _, err := c.Quantize(r, r, -scale); err != nil {
		return nil, pgerr.New(pgerr.NumericValueOutOfRange, "value overflows numeric format")
	}
	if r.IsZero() {
		r.Negative = false
	}
	return r, nil
}

func numericRounder(mode apd.Rounder) func(*apd.Decimal) (*apd.Decimal, error) {
	return func(x *apd.Decimal) (*apd.Decimal, error) {
		if mode != apd.RoundCeiling && mode != apd.RoundFloor {
			return numericRoundTo(x, 0, mode)
		}
		// apd's ceiling and floor rounding lose a fraction whose first
		// digits are zeros (0.0001 → 0), so: truncate, then step.
		r, err := numericRoundTo(x, 0, apd.RoundDown)
		if err != nil || x.Form != apd.Finite || r.Cmp(x) == 0 {
			return r, err
		}
		if mode == apd.RoundCeiling && x.Sign() > 0 {
			numericCtx.Add(r, r, apd.New(1, 0))
		} else if mode == apd.RoundFloor && x.Sign() < 0 {
			numericCtx.Sub(r, r, apd.New(1, 0))
		}
		return numericFinish(r, 0)
	}
}

// numericRoundTo rounds x at scale decimals (negative: left of the point)
// and displays it with max(scale, 0) decimals, as round(numeric, int) and
// trunc(numeric, int) do.
func numericRoundTo(x *apd.Decimal, scale int64, mode apd.Rounder) (*apd.Decimal, error) {
	if x.Form != apd.Finite {
		return x, nil
	}
	scale = max(min(scale, 1000), -1000)
	r := new(apd.Decimal)
	c := apd.BaseContext.WithPrecision(uint32(max(int64(x.NumDigits())+int64(x.Exponent)+scale+2, 1)))
	c.Rounding = mode
	c.MaxExponent, c.MinExponent = apd.MaxExponent, apd.MinExponent
	if _, err := c.Quantize(r, x, int32(-scale)); err != nil {
		return nil, pgerr.New(pgerr.NumericValueOutOfRange, "value overflows numeric format")
	}
	if scale < 0 {
		// Display scale 0: write out the zeros the exponent stands for.
		if _, err := c.WithPrecision(uint32(r.NumDigits()-int64(scale)+1)).Quantize(r, r, 0); err != nil {
			return nil, pgerr.New(pgerr.NumericValueOutOfRange, "value overflows numeric format")
		}
	}
	if r.IsZero() {
		r.Negative = false
	}
	return r, nil
}

func numericRoundScale(mode apd.Rounder) impl {
	return func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
		return numericRoundTo(a[0].(*apd.Decimal), a[1].(int64), mode)
	}
}

// numericLog10Approx is log10(x) for a positive x, in float64 without
// overflow, for choosing result scales.
func numericLog10Approx(x *apd.Decimal) float64 {
	s := x.Coeff.String()
	n := min(len(s), 17)
	f, _ := new(big.Float).SetString(s[:n])
	v, _ := f.Float64()
	return math.Log10(v) + float64(int(x.Exponent)+len(s)-n)
}

func numericCtxFor(scale int32, x *apd.Decimal, extra int64) *apd.Context {
	digits := int64(x.NumDigits()) + int64(x.Exponent)
	p := max(int64(scale)+max(digits, 0)+extra+20, 30)
	c := apd.BaseContext.WithPrecision(uint32(p))
	c.MaxExponent, c.MinExponent = apd.MaxExponent, apd.MinExponent
	c.Rounding = apd.RoundHalfUp
	return c
}

func numericSqrt(x *apd.Decimal) (*apd.Decimal, error) {
	if x.Sign() < 0 {
		return nil, pgerr.New(pgerr.InvalidArgumentForPowerFunction, "cannot take square root of a negative number")
	}
	if x.Form != apd.Finite {
		return x, nil
	}
	w, _ := numericWeight(x)
	sweight := (w+1)*4/2 - 1
	rscale := clampScale(int64(16-sweight), x)
	r := new(apd.Decimal)
	if _, err := numericCtxFor(rscale, x, 0).Sqrt(r, x); err != nil {
		return nil, err
	}
	return numericFinish(r, rscale)
}

func clampScale(rscale int64, inputs ...*apd.Decimal) int32 {
	for _, in := range inputs {
		rscale = max(rscale, int64(numericScale(in)))
	}
	return int32(min(max(rscale, 0), 1000))
}

func numericExp(x *apd.Decimal) (*apd.Decimal, error) {
	switch x.Form {
	case apd.NaN:
		return x, nil
	case apd.Infinite:
		if x.Negative {
			return apd.New(0, 0), nil
		}
		return x, nil
	}
	f, _ := x.Float64()
	val := f * 0.434294481903252
	if math.Abs(val) > 1000*3*0.434294481903252 {
		if val > 0 {
			return nil, pgerr.New(pgerr.NumericValueOutOfRange, "value overflows numeric format")
		}
		r := new(apd.Decimal)
		r.Exponent = -1000
		return r, nil
	}
	val = max(min(val, 1000), -1000)
	rscale := clampScale(int64(16-int(val)), x)
	r := new(apd.Decimal)
	if _, err := numericCtxFor(rscale, apd.New(1, int32(max(val, 0))), 0).Exp(r, x); err != nil {
		return nil, pgerr.New(pgerr.NumericValueOutOfRange, "value overflows numeric format")
	}
	return numericFinish(r, rscale)
}

// lnDWeight is estimate_ln_dweight: the decimal weight of ln(x).
func lnDWeight(x *apd.Decimal) int {
	if x.Sign() <= 0 || x.Form != apd.Finite {
		return 0
	}
	lo, hi := apd.New(9, -1), apd.New(11, -1)
	if x.Cmp(lo) >= 0 && x.Cmp(hi) <= 0 {
		d := new(apd.Decimal)
		numericCtx.Sub(d, x, apd.New(1, 0))
		if d.IsZero() {
			return 0
		}
		return int(math.Floor(numericLog10Approx(d) + 1e-12))
	}
	// PostgreSQL uses the first two base-10000 digits.
	w, _ := numericWeight(x)
	s := x.Coeff.String()
	intDigits := len(s) + int(x.Exponent)
	// x ≈ digits × 10^dweight, digits being the leading two base-10000
	// digits (eight decimal digits).
	start := intDigits - (w+1)*4
	var v float64
	for i := start; i < start+8; i++ {
		v *= 10
		if i >= 0 && i < len(s) {
			v += float64(s[i] - '0')
		}
	}
	dweight := w*4 - 4
	lnv := math.Log(v) + float64(dweight)*math.Ln10
	return int(math.Log10(math.Abs(lnv)))
}

func numericLn(x *apd.Decimal) (*apd.Decimal, error) {
	if err := checkLogArg(x); err != nil {
		return nil, err
	}
	if x.Form != apd.Finite {
		return x, nil
	}
	rscale := clampScale(int64(16-lnDWeight(x)), x)
	r := new(apd.Decimal)
	if _, err := numericCtxFor(rscale, apd.New(1, 3), 0).Ln(r, x); err != nil {
		return nil, err
	}
	return numericFinish(r, rscale)
}

func checkLogArg(x *apd.Decimal) error {
	if x.Form == apd.NaN {
		return nil
	}
	if x.IsZero() {
		return pgerr.New(pgerr.InvalidArgumentForLogarithm, "cannot take logarithm of zero")
	}
	if x.Sign() < 0 {
		return pgerr.New(pgerr.InvalidArgumentForLogarithm, "cannot take logarithm of a negative number")
	}
	return nil
}

func numericLog(base, x *apd.Decimal) (*apd.Decimal, error) {
	if base.Form == apd.NaN || x.Form == apd.NaN {
		return &apd.Decimal{Form: apd.NaN}, nil
	}
	if err := checkLogArg(base); err != nil {
		return nil, err
	}
	if err := checkLogArg(x); err != nil {
		return nil, err
	}
	if base.Form != apd.Finite || x.Form != apd.Finite {
		switch {
		case base.Form == apd.Finite && base.Cmp(apd.New(1, 0)) == 0:
			return nil, ErrDivisionByZero()
		case base.Form == apd.Finite:
			return numInf(base.Cmp(apd.New(1, 0)) < 0), nil
		case x.Form == apd.Finite:
			return apd.New(0, 0), nil
		}
		return &apd.Decimal{Form: apd.NaN}, nil
	}
	if base.Cmp(apd.New(1, 0)) == 0 {
		return nil, ErrDivisionByZero()
	}
	rdw := lnDWeight(x) - lnDWeight(base)
	rscale := clampScale(int64(16-rdw), base, x)
	c := numericCtxFor(rscale, apd.New(1, 3), int64(abs64(int64(rdw))))
	c = c.WithPrecision(c.Precision + 20)
	lb, lx, r := new(apd.Decimal), new(apd.Decimal), new(apd.Decimal)
	if _, err := c.Ln(lb, base); err != nil {
		return nil, err
	}
	if _, err := c.Ln(lx, x); err != nil {
		return nil, err
	}
	if _, err := c.Quo(r, lx, lb); err != nil {
		return nil, err
	}
	return numericFinish(r, rscale)
}

func numericPowImpl(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
	return numericPow(a[0].(*apd.Decimal), a[1].(*apd.Decimal))
}

func numericPow(x, y *apd.Decimal) (*apd.Decimal, error) {
	if x.Form == apd.NaN || y.Form == apd.NaN {
		one := apd.New(1, 0)
		if x.Form == apd.Finite && x.Cmp(one) == 0 || y.Form == apd.Finite && y.IsZero() {
			return one, nil
		}
		return &apd.Decimal{Form: apd.NaN}, nil
	}
	if x.IsZero() && x.Form == apd.Finite && y.Sign() < 0 {
		return nil, pgerr.New(pgerr.InvalidArgumentForPowerFunction, "zero raised to a negative power is undefined")
	}
	yInt := y.Form == apd.Finite && isIntegral(y)
	if x.IsZero() && y.IsZero() && x.Form == apd.Finite && y.Form == apd.Finite {
		return numericFinish(apd.New(1, 0), clampScale(16, x))
	}
	if x.Sign() < 0 && y.Form == apd.Finite && !yInt {
		return nil, pgerr.New(pgerr.InvalidArgumentForPowerFunction, "a negative number raised to a non-integer power yields a complex result")
	}
	if x.Form != apd.Finite || y.Form != apd.Finite {
		xf, _ := x.Float64()
		yf, _ := y.Float64()
		r, err := floatPow(nil, nil, []types.Datum{xf, yf})
		if err != nil {
			return nil, err
		}
		d := new(apd.Decimal)
		if _, err := d.SetFloat64(r.(float64)); err != nil {
			return nil, err
		}
		if math.IsInf(r.(float64), 0) {
			d.Form, d.Negative = apd.Infinite, r.(float64) < 0
		}
		return d, nil
	}
	if yInt {
		if yi, err := y.Int64(); err == nil && yi >= math.MinInt32 && yi <= math.MaxInt32 {
			rscale := clampScale(16, x)
			ax := new(apd.Decimal).Abs(x)
			val := float64(yi) * numericLog10Approx(ax)
			if !x.IsZero() && val > 131072*4 {
				return nil, pgerr.New(pgerr.NumericValueOutOfRange, "value overflows numeric format")
			}
			r := new(apd.Decimal)
			c := numericCtxFor(rscale, apd.New(1, int32(max(val, 0))), 10)
			if _, err := c.Pow(r, x, y); err != nil {
				return nil, pgerr.New(pgerr.NumericValueOutOfRange, "value overflows numeric format")
			}
			return numericFinish(r, rscale)
		}
	}
	if x.IsZero() {
		if y.IsZero() {
			return apd.New(1, 0), nil
		}
		return numericFinish(apd.New(0, 0), clampScale(16, x, y))
	}
	// The decimal weight of the result, approximately, computed as
	// power_var does: ln(base) at a low scale, times the exponent, as a
	// double.
	ax := new(apd.Decimal).Abs(x)
	lscale := int32(8 - lnDWeight(ax))
	lnBase, lnNum := new(apd.Decimal), new(apd.Decimal)
	lc := numericCtxFor(max(lscale, 0), apd.New(1, 3), 0)
	if _, err := lc.Ln(lnBase, ax); err != nil {
		return nil, err
	}
	lc.Quantize(lnBase, lnBase, -lscale)
	lc.Mul(lnNum, lnBase, y)
	lc.Quantize(lnNum, lnNum, -lscale)
	lnf, _ := lnNum.Float64()
	val := lnf * 0.434294481903252
	if val > 3*1000*0.434294481903252*1.01 || val > 131072*4 {
		return nil, pgerr.New(pgerr.NumericValueOutOfRange, "value overflows numeric format")
	}
	if val < -1001 {
		r := new(apd.Decimal)
		r.Exponent = -1000
		return r, nil
	}
	rscale := clampScale(int64(16-int(val)), x, y)
	r := new(apd.Decimal)
	c := numericCtxFor(rscale, apd.New(1, int32(max(val, 0))), 10)
	if _, err := c.Pow(r, x, y); err != nil {
		return nil, pgerr.New(pgerr.NumericValueOutOfRange, "value overflows numeric format")
	}
	return numericFinish(r, rscale)
}

func isIntegral(d *apd.Decimal) bool {
	if d.Exponent >= 0 {
		return true
	}
	var frac apd.Decimal
	var i apd.Decimal
	d.Modf(&i, &frac)
	return frac.IsZero()
}

func numericDiv(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
	x, y := a[0].(*apd.Decimal), a[1].(*apd.Decimal)
	if y.Form == apd.Finite && y.IsZero() {
		return nil, ErrDivisionByZero()
	}
	if x.Form != apd.Finite || y.Form != apd.Finite {
		r := numericSpecialDiv('/', x, y)
		return r, nil
	}
	r := new(apd.Decimal)
	c := numericCtx
	if _, err := c.QuoInteger(r, x, y); err != nil {
		return nil, pgerr.New(pgerr.NumericValueOutOfRange, "value overflows numeric format")
	}
	return numericFinish(r, 0)
}

func numericGCD(lcm bool) impl {
	return func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
		x, y := a[0].(*apd.Decimal), a[1].(*apd.Decimal)
		if x.Form != apd.Finite || y.Form != apd.Finite {
			return &apd.Decimal{Form: apd.NaN}, nil
		}
		scale := max(numericScale(x), numericScale(y))
		toInt := func(d *apd.Decimal) *big.Int {
			v := new(apd.Decimal)
			numericCtx.Quantize(v, d, -scale)
			b := new(big.Int).SetBytes(v.Coeff.Bytes())
			return b
		}
		xi, yi := toInt(x), toInt(y)
		g := new(big.Int).GCD(nil, nil, xi, yi)
		if lcm {
			if xi.Sign() == 0 || yi.Sign() == 0 {
				g.SetInt64(0)
			} else {
				g = new(big.Int).Quo(new(big.Int).Mul(xi, yi), g)
			}
		}
		r := new(apd.Decimal)
		r.Coeff.SetMathBigInt(g)
		r.Exponent = -scale
		return r, nil
	}
}
