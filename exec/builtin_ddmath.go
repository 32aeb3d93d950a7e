package exec

import "math"

// Correctly rounded exp, ln, log10 and pow for float8. PostgreSQL calls
// glibc, whose exp, log and pow are correctly rounded in practice; Go's
// math package is off by an ulp now and then, which extra_float_digits
// makes visible. These evaluate in double-double arithmetic (a value is
// an unevaluated sum hi + lo of two float64s, about 106 bits) and round
// once at the end.

type dd struct{ hi, lo float64 }

func twoSum(a, b float64) dd {
	s := a + b
	bb := s - a
	return dd{s, (a - (s - bb)) + (b - bb)}
}

func quickTwoSum(a, b float64) dd {
	s := a + b
	return dd{s, b - (s - a)}
}

func ddAdd(a, b dd) dd {
	s := twoSum(a.hi, b.hi)
	t := twoSum(a.lo, b.lo)
	s.lo += t.hi
	s = quickTwoSum(s.hi, s.lo)
	s.lo += t.lo
	return quickTwoSum(s.hi, s.lo)
}

func ddMul(a, b dd) dd {
	p := a.hi * b.hi
	e := math.FMA(a.hi, b.hi, -p)
	e += a.hi*b.lo + a.lo*b.hi
	return quickTwoSum(p, e)
}

func ddMulF(a dd, b float64) dd {
	p := a.hi * b
	e := math.FMA(a.hi, b, -p)
	e += a.lo * b
	return quickTwoSum(p, e)
}

var (
	ddLn2      = dd{6.931471805599452862e-01, 2.319046813846299558e-17}
	ddInvLn10  = dd{4.342944819032518167e-01, 1.098319650216765073e-17}
	ddOne      = dd{1, 0}
	ddInvFacts = func() []dd {
		// 1/n! for n = 0..14, each as a double-double.
		out := make([]dd, 15)
		f := dd{1, 0}
		for n := 0; n < len(out); n++ {
			if n > 0 {
				f = ddMulF(f, float64(n))
			}
			q := 1 / f.hi
			// One Newton step refines the reciprocal to double-double.
			r := ddAdd(ddOne, ddMulF(f, -q))
			out[n] = ddAdd(dd{q, 0}, ddMulF(r, q))
		}
		return out
	}()
)

// ddExp is e^x for |x.hi| below about 745; the caller checks the range.
func ddExp(x dd) dd {
	k := math.Round(x.hi / ddLn2.hi)
	r := ddAdd(x, ddMulF(ddLn2, -k))
	// exp(r) = exp(r/1024)^1024, the series on a tiny argument.
	r = dd{r.hi / 1024, r.lo / 1024}
	sum := ddInvFacts[len(ddInvFacts)-1]
	for n := len(ddInvFacts) - 2; n >= 0; n-- {
		sum = ddAdd(ddMul(sum, r), ddInvFacts[n])
	}
	for i := 0; i < 10; i++ {
		sum = ddMul(sum, sum)
	}
	return dd{math.Ldexp(sum.hi, int(k)), math.Ldexp(sum.lo, int(k))}
}

// ddLog is ln(x) for a finite x > 0: math.Log refined by a Newton step
// y + (x·e^-y − 1).
func ddLog(x float64) dd {
	y := math.Log(x)
	// Scale x to avoid overflow in x·e^-y near the ends of the range.
	m, e := math.Frexp(x)
	ym := ddAdd(dd{y, 0}, ddMulF(ddLn2, -float64(e)))
	t := ddAdd(ddMulF(ddExp(dd{-ym.hi, -ym.lo}), m), dd{-1, 0})
	// ln(1+t) = t − t²/2 + …, and t is about 1e-16.
	t = ddAdd(t, dd{-t.hi * t.hi / 2, 0})
	return ddAdd(dd{y, 0}, t)
}

// roundDD is the float64 nearest hi + lo, with lo's subnormal precision
// handled by a final addition.
func roundDD(v dd) float64 { return v.hi + v.lo }

func crExp(x float64) float64 { return roundDD(ddExp(dd{x, 0})) }

func crLn(x float64) float64 { return roundDD(ddLog(x)) }

func crLog10(x float64) float64 { return roundDD(ddMul(ddLog(x), ddInvLn10)) }

// crPow is |x|^y for finite x ≠ 0 and y, or NaN when the result
// leaves the float64 range (the caller then uses math.Pow's answer for
// the overflow and underflow checks).
func crPow(x, y float64) float64 {
	l := ddMulF(ddLog(math.Abs(x)), y)
	if l.hi > 709 || l.hi < -708 {
		return math.NaN()
	}
	return roundDD(ddExp(l))
}
