package exec

import (
	"math"
	"math/bits"
	"strings"

	"github.com/cockroachdb/apd/v3"

	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

// Operators on numbers, text and booleans. Comparison operators are
// generic: the planner coerces both sides to their common type and calls
// the comparison of that type.

func init() {
	for _, op := range []string{"=", "<>", "<", "<=", ">", ">="} {
		op := op
		for _, oid := range comparableTypes {
			register(&Func{Name: opName(op), Op: op, Args: []types.OID{oid, oid}, Ret: tBool, Strict: true,
				Impl: compareImpl(op, types.Make(oid))})
		}
	}
	for _, it := range []types.T{tInt2, tInt4, tInt8} {
		bitsz := IntBits(it.OID)
		register(
			&Func{Name: "int_add", Op: "+", Args: []types.OID{it.OID, it.OID}, Ret: it, Strict: true, Impl: intArith('+', bitsz)},
			&Func{Name: "int_sub", Op: "-", Args: []types.OID{it.OID, it.OID}, Ret: it, Strict: true, Impl: intArith('-', bitsz)},
			&Func{Name: "int_mul", Op: "*", Args: []types.OID{it.OID, it.OID}, Ret: it, Strict: true, Impl: intArith('*', bitsz)},
			&Func{Name: "int_div", Op: "/", Args: []types.OID{it.OID, it.OID}, Ret: it, Strict: true, Impl: intArith('/', bitsz)},
			&Func{Name: "int_mod", Op: "%", Args: []types.OID{it.OID, it.OID}, Ret: it, Strict: true, Impl: intArith('%', bitsz)},
			&Func{Name: "int_neg", Op: "-", Args: []types.OID{it.OID}, Ret: it, Strict: true, Impl: intNeg(bitsz)},
			&Func{Name: "int_pos", Op: "+", Args: []types.OID{it.OID}, Ret: it, Strict: true, Impl: identity},
			&Func{Name: "abs", Args: []types.OID{it.OID}, Ret: it, Strict: true, Impl: intAbs(bitsz)},
			&Func{Name: "mod", Args: []types.OID{it.OID, it.OID}, Ret: it, Strict: true, Impl: intArith('%', bitsz)},
		)
	}
	for _, ft := range []types.T{tFloat4, tFloat8} {
		register(
			&Func{Name: "float_add", Op: "+", Args: []types.OID{ft.OID, ft.OID}, Ret: ft, Strict: true, Impl: floatArith('+', ft.OID)},
			&Func{Name: "float_sub", Op: "-", Args: []types.OID{ft.OID, ft.OID}, Ret: ft, Strict: true, Impl: floatArith('-', ft.OID)},
			&Func{Name: "float_mul", Op: "*", Args: []types.OID{ft.OID, ft.OID}, Ret: ft, Strict: true, Impl: floatArith('*', ft.OID)},
			&Func{Name: "float_div", Op: "/", Args: []types.OID{ft.OID, ft.OID}, Ret: ft, Strict: true, Impl: floatArith('/', ft.OID)},
			&Func{Name: "float_neg", Op: "-", Args: []types.OID{ft.OID}, Ret: ft, Strict: true, Impl: func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) { return -a[0].(float64), nil }},
			&Func{Name: "float_pos", Op: "+", Args: []types.OID{ft.OID}, Ret: ft, Strict: true, Impl: identity},
			&Func{Name: "abs", Args: []types.OID{ft.OID}, Ret: ft, Strict: true, Impl: func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) { return math.Abs(a[0].(float64)), nil }},
		)
	}
	register(
		&Func{Name: "numeric_add", Op: "+", Args: []types.OID{types.NumericOID, types.NumericOID}, Ret: tNumeric, Strict: true, Impl: numericArith('+')},
		&Func{Name: "numeric_sub", Op: "-", Args: []types.OID{types.NumericOID, types.NumericOID}, Ret: tNumeric, Strict: true, Impl: numericArith('-')},
		&Func{Name: "numeric_mul", Op: "*", Args: []types.OID{types.NumericOID, types.NumericOID}, Ret: tNumeric, Strict: true, Impl: numericArith('*')},
		&Func{Name: "numeric_div", Op: "/", Args: []types.OID{types.NumericOID, types.NumericOID}, Ret: tNumeric, Strict: true, Impl: numericArith('/')},
		&Func{Name: "numeric_mod", Op: "%", Args: []types.OID{types.NumericOID, types.NumericOID}, Ret: tNumeric, Strict: true, Impl: numericArith('%')},
		&Func{Name: "mod", Args: []types.OID{types.NumericOID, types.NumericOID}, Ret: tNumeric, Strict: true, Impl: numericArith('%')},
		&Func{Name: "numeric_neg", Op: "-", Args: []types.OID{types.NumericOID}, Ret: tNumeric, Strict: true, Impl: func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			d := new(apd.Decimal)
			d.Neg(a[0].(*apd.Decimal))
			return d, nil
		}},
		&Func{Name: "numeric_pos", Op: "+", Args: []types.OID{types.NumericOID}, Ret: tNumeric, Strict: true, Impl: identity},
		&Func{Name: "abs", Args: []types.OID{types.NumericOID}, Ret: tNumeric, Strict: true, Impl: func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			d := new(apd.Decimal)
			d.Abs(a[0].(*apd.Decimal))
			return d, nil
		}},
		&Func{Name: "textcat", Op: "||", Args: []types.OID{types.TextOID, types.TextOID}, Ret: tText, Strict: true, Impl: func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return a[0].(string) + a[1].(string), nil
		}},
		&Func{Name: "byteacat", Op: "||", Args: []types.OID{types.ByteaOID, types.ByteaOID}, Ret: tBytea, Strict: true, Impl: func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return append(append([]byte(nil), a[0].([]byte)...), a[1].([]byte)...), nil
		}},
		&Func{Name: "like", Op: "~~", Args: []types.OID{types.TextOID, types.TextOID}, Ret: tBool, Strict: true, Impl: likeImpl(false, false)},
		&Func{Name: "notlike", Op: "!~~", Args: []types.OID{types.TextOID, types.TextOID}, Ret: tBool, Strict: true, Impl: likeImpl(false, true)},
		&Func{Name: "ilike", Op: "~~*", Args: []types.OID{types.TextOID, types.TextOID}, Ret: tBool, Strict: true, Impl: likeImpl(true, false)},
		&Func{Name: "notilike", Op: "!~~*", Args: []types.OID{types.TextOID, types.TextOID}, Ret: tBool, Strict: true, Impl: likeImpl(true, true)},
	)
}

var comparableTypes = []types.OID{
	types.BoolOID, types.Int2OID, types.Int4OID, types.Int8OID, types.Float4OID, types.Float8OID,
	types.NumericOID, types.TextOID, types.ByteaOID, types.DateOID, types.TimeOID, types.TimestampOID,
	types.TimestampTZOID, types.IntervalOID, types.UUIDOID, types.JSONBOID, types.OIDOID,
}

func opName(op string) string {
	switch op {
	case "=":
		return "eq"
	case "<>":
		return "ne"
	case "<":
		return "lt"
	case "<=":
		return "le"
	case ">":
		return "gt"
	case ">=":
		return "ge"
	}
	return op
}

func identity(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) { return a[0], nil }

func compareImpl(op string, typ types.T) func(*Env, *Call, []types.Datum) (types.Datum, error) {
	switch op {
	case "=":
		return func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return types.Compare(typ, a[0], a[1]) == 0, nil
		}
	case "<>":
		return func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return types.Compare(typ, a[0], a[1]) != 0, nil
		}
	case "<":
		return func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return types.Compare(typ, a[0], a[1]) < 0, nil
		}
	case "<=":
		return func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return types.Compare(typ, a[0], a[1]) <= 0, nil
		}
	case ">":
		return func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return types.Compare(typ, a[0], a[1]) > 0, nil
		}
	default:
		return func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return types.Compare(typ, a[0], a[1]) >= 0, nil
		}
	}
}

// IntBits is the width of an integer type: 16, 32 or 64.
func IntBits(oid types.OID) int {
	switch oid {
	case types.Int2OID:
		return 16
	case types.Int4OID:
		return 32
	}
	return 64
}

func intTypeName(b int) string {
	switch b {
	case 16:
		return "smallint"
	case 32:
		return "integer"
	}
	return "bigint"
}

// ErrIntRange is 22003 for a b-bit integer type.
func ErrIntRange(b int) error {
	return pgerr.New(pgerr.NumericValueOutOfRange, "%s out of range", intTypeName(b))
}

// ErrDivisionByZero is 22012.
func ErrDivisionByZero() error { return pgerr.New(pgerr.DivisionByZero, "division by zero") }

// FitsIntBits says whether v fits a b-bit integer type.
func FitsIntBits(v int64, b int) bool {
	switch b {
	case 16:
		return v >= math.MinInt16 && v <= math.MaxInt16
	case 32:
		return v >= math.MinInt32 && v <= math.MaxInt32
	}
	return true
}

func intArith(op byte, b int) func(*Env, *Call, []types.Datum) (types.Datum, error) {
	return func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
		r, err := IntArith(op, b, a[0].(int64), a[1].(int64))
		if err != nil {
			return nil, err
		}
		return r, nil
	}
}

// IntArith is x op y (op one of + - * / %) on b-bit integers with
// PostgreSQL's errors: 22003 on overflow, 22012 on division by zero, and
// x % -1 = 0. The row engine and the vectorized one both call it.
func IntArith(op byte, b int, x, y int64) (int64, error) {
	var r int64
	switch op {
	case '+':
		r = x + y
		if (x >= 0) == (y >= 0) && (r >= 0) != (x >= 0) {
			return 0, ErrIntRange(b)
		}
	case '-':
		r = x - y
		if (x >= 0) != (y >= 0) && (r >= 0) != (x >= 0) {
			return 0, ErrIntRange(b)
		}
	case '*':
		hi, lo := bits.Mul64(uint64(abs64(x)), uint64(abs64(y)))
		neg := (x < 0) != (y < 0)
		if hi != 0 || (lo > math.MaxInt64 && !(neg && lo == 1<<63)) || x == math.MinInt64 && y != 1 && y != 0 || y == math.MinInt64 && x != 1 && x != 0 {
			return 0, ErrIntRange(b)
		}
		r = x * y
	case '/':
		if y == 0 {
			return 0, ErrDivisionByZero()
		}
		if y == -1 {
			if x == MinIntOf(b) {
				return 0, ErrIntRange(b)
			}
			r = -x
		} else {
			r = x / y
		}
	case '%':
		if y == 0 {
			return 0, ErrDivisionByZero()
		}
		if y == -1 {
			return 0, nil
		}
		r = x % y
	}
	if !FitsIntBits(r, b) {
		return 0, ErrIntRange(b)
	}
	return r, nil
}

// MinIntOf is the smallest b-bit integer.
func MinIntOf(b int) int64 {
	switch b {
	case 16:
		return math.MinInt16
	case 32:
		return math.MinInt32
	}
	return math.MinInt64
}

func abs64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

func intNeg(b int) func(*Env, *Call, []types.Datum) (types.Datum, error) {
	return func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
		x := a[0].(int64)
		if x == MinIntOf(b) {
			return nil, ErrIntRange(b)
		}
		return -x, nil
	}
}

func intAbs(b int) func(*Env, *Call, []types.Datum) (types.Datum, error) {
	return func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
		x := a[0].(int64)
		if x == MinIntOf(b) {
			return nil, ErrIntRange(b)
		}
		return abs64(x), nil
	}
}

func floatArith(op byte, oid types.OID) func(*Env, *Call, []types.Datum) (types.Datum, error) {
	return func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
		r, err := FloatArith(op, oid == types.Float4OID, a[0].(float64), a[1].(float64))
		if err != nil {
			return nil, err
		}
		return r, nil
	}
}

// FloatArith is x op y (op one of + - * /) in float8, or rounded to float4,
// with PostgreSQL's checks: 22012 on a zero divisor, 22003 on overflow to
// infinity or underflow to zero from finite inputs. The vectorized engine
// calls it too.
func FloatArith(op byte, float4 bool, x, y float64) (float64, error) {
	var r float64
	switch op {
	case '+':
		r = x + y
	case '-':
		r = x - y
	case '*':
		r = x * y
	case '/':
		if y == 0 {
			return 0, ErrDivisionByZero()
		}
		r = x / y
	}
	if float4 {
		r = float64(float32(r))
	}
	if math.IsInf(r, 0) && !math.IsInf(x, 0) && !math.IsInf(y, 0) {
		return 0, pgerr.New(pgerr.NumericValueOutOfRange, "value out of range: overflow")
	}
	if r == 0 && op != '+' && op != '-' && x != 0 && !math.IsInf(y, 0) && (op == '*' && y != 0 || op == '/') {
		return 0, pgerr.New(pgerr.NumericValueOutOfRange, "value out of range: underflow")
	}
	return r, nil
}

// numericCtx computes exactly (add, sub, mul) with ample precision; division
// is rounded to PostgreSQL's result scale by hand.
var numericCtx = apd.Context{Precision: 2000, MaxExponent: apd.MaxExponent, MinExponent: apd.MinExponent, Rounding: apd.RoundHalfUp, Traps: apd.InvalidOperation}

func numericArith(op byte) func(*Env, *Call, []types.Datum) (types.Datum, error) {
	return func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
		x, y := a[0].(*apd.Decimal), a[1].(*apd.Decimal)
		r := new(apd.Decimal)
		var err error
		switch op {
		case '+':
			_, err = numericCtx.Add(r, x, y)
		case '-':
			_, err = numericCtx.Sub(r, x, y)
		case '*':
			_, err = numericCtx.Mul(r, x, y)
		case '/', '%':
			if y.IsZero() && y.Form == apd.Finite {
				return nil, ErrDivisionByZero()
			}
			if x.Form != apd.Finite || y.Form != apd.Finite {
				return numericSpecialDiv(op, x, y), nil
			}
			if op == '%' {
				_, err = numericCtx.Rem(r, x, y)
				break
			}
			err = NumericQuo(r, x, y)
		}
		if err != nil {
			return nil, pgerr.New(pgerr.NumericValueOutOfRange, "value overflows numeric format")
		}
		return r, nil
	}
}

func numericSpecialDiv(op byte, x, y *apd.Decimal) *apd.Decimal {
	r := new(apd.Decimal)
	switch {
	case x.Form == apd.NaN || y.Form == apd.NaN:
		r.Form = apd.NaN
	case x.Form == apd.Infinite && y.Form == apd.Infinite:
		r.Form = apd.NaN
	case x.Form == apd.Infinite:
		if op == '%' {
			r.Form = apd.NaN
		} else {
			r.Form = apd.Infinite
			r.Negative = x.Negative != y.Negative
		}
	default: // finite / ±inf
		if op == '%' {
			r.Set(x)
		}
	}
	return r
}

// NumericQuo sets r to x / y as PostgreSQL's numeric division gives it:
// rounded half away from zero at NumericDivScale digits after the point.
// The quotient is computed truncated to one digit past that scale and
// then rounded, so it costs the digits kept: computing it to the context's
// 2000 digits first made each avg() of a view's group (and each numeric
// division) cost tens of microseconds. Truncating cannot round twice: a
// digit left out never carries into the ones kept.
func NumericQuo(r, x, y *apd.Decimal) error {
	scale := NumericDivScale(x, y)
	// The quotient's leading digit is at most at 10^(adj(x)-adj(y)+1),
	// and digits down to 10^-(scale+1) are needed.
	digits := (x.NumDigits() + int64(x.Exponent)) - (y.NumDigits() + int64(y.Exponent)) + 2 + int64(scale) + 1
	c := numericCtx
	c.Precision = uint32(min(max(digits, 1), int64(numericCtx.Precision)))
	c.Rounding = apd.RoundDown
	if _, err := c.Quo(r, x, y); err != nil {
		return err
	}
	_, err := numericCtx.Quantize(r, r, -scale)
	return err
}

// NumericDivScale is PostgreSQL's select_div_scale: the result scale of
// numeric division, which gives at least 16 significant digits.
func NumericDivScale(x, y *apd.Decimal) int32 {
	w1, f1 := numericWeight(x)
	w2, f2 := numericWeight(y)
	qweight := w1 - w2
	if f1 <= f2 {
		qweight--
	}
	rscale := int32(16 - qweight*4)
	s1, s2 := numericScale(x), numericScale(y)
	rscale = max(rscale, s1, s2, 0)
	return min(rscale, 1000)
}

// numericScale is the display scale: digits after the decimal point.
func numericScale(d *apd.Decimal) int32 {
	if d.Exponent < 0 {
		return -d.Exponent
	}
	return 0
}

// numericWeight returns the weight (in base-10000 digits) of d's first
// nonzero base-10000 digit, and that digit.
func numericWeight(d *apd.Decimal) (weight int, first int64) {
	if d.IsZero() {
		return 0, 0
	}
	s := d.Coeff.String() // decimal digits of the coefficient
	// The value is s × 10^Exponent. Position of the decimal point counted
	// from the left of s:
	intDigits := len(s) + int(d.Exponent) // digits before the point (may be <= 0)
	// Base-10000 groups are aligned on the decimal point.
	var w int
	if intDigits > 0 {
		w = (intDigits - 1) / 4
	} else {
		w = -((-intDigits)/4 + 1)
	}
	// The first group's digits: from position (w+1)*4 digits left of the
	// point.
	start := intDigits - (w+1)*4 // index in s where the group starts (may be negative)
	var v int64
	for i := start; i < start+4; i++ {
		v *= 10
		if i >= 0 && i < len(s) {
			v += int64(s[i] - '0')
		}
	}
	return w, v
}

func likeImpl(fold, negate bool) func(*Env, *Call, []types.Datum) (types.Datum, error) {
	return func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
		s, p := a[0].(string), a[1].(string)
		if fold {
			s, p = strings.ToLower(s), strings.ToLower(p)
		}
		m, err := likeMatch(s, p)
		if err != nil {
			return nil, err
		}
		return m != negate, nil
	}
}

// likeMatch matches LIKE patterns (% any run, _ one character, \ escapes).
func likeMatch(s, p string) (bool, error) {
	sr, pr := []rune(s), []rune(p)
	var match func(i, j int) (bool, error)
	memo := map[[2]int]bool{}
	match = func(i, j int) (bool, error) {
		for j < len(pr) {
			switch pr[j] {
			case '%':
				for j < len(pr) && pr[j] == '%' {
					j++
				}
				if j == len(pr) {
					return true, nil
				}
				for k := i; k <= len(sr); k++ {
					key := [2]int{k, j}
					if v, ok := memo[key]; ok {
						if v {
							return true, nil
						}
						continue
					}
					ok, err := match(k, j)
					if err != nil {
						return false, err
					}
					memo[key] = ok
					if ok {
						return true, nil
					}
				}
				return false, nil
			case '_':
				if i >= len(sr) {
					return false, nil
				}
				i++
				j++
			case '\\':
				if j+1 >= len(pr) {
					return false, pgerr.New(pgerr.InvalidEscapeSequence, "LIKE pattern must not end with escape character")
				}
				if i >= len(sr) || sr[i] != pr[j+1] {
					return false, nil
				}
				i++
				j += 2
			default:
				if i >= len(sr) || sr[i] != pr[j] {
					return false, nil
				}
				i++
				j++
			}
		}
		return i == len(sr), nil
	}
	return match(0, 0)
}
