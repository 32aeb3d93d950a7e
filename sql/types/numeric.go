package types

import (
	"strconv"
	"strings"

	"github.com/cockroachdb/apd/v3"
	"github.com/strand-db/strand/sql/pgerr"
)

// Numerics are held as *apd.Decimal with Exponent = -dscale (the display
// scale PostgreSQL keeps with each value: 1.50 is 150e-2). The arithmetic
// here works on decimal digit strings, which keeps rounding exact and
// obviously PostgreSQL's (half away from zero).

// numericLimit is PostgreSQL's storage range: a base-10000 weight in int16
// and a display scale of at most 16383.
const (
	numericMaxIntDigits = (32767 + 1) * 4
	numericMaxDscale    = 16383
)

// NewNumeric makes a numeric datum from its text form, as numeric_in.
func NewNumeric(s string) (*apd.Decimal, error) {
	return parseNumeric(s)
}

func parseNumeric(s string) (*apd.Decimal, error) {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	rest := s[i:]
	special := func(word string, form apd.Form, neg bool) (*apd.Decimal, bool) {
		if len(rest) >= len(word) && strings.EqualFold(rest[:len(word)], word) && trimSpace(rest[len(word):]) == "" {
			return &apd.Decimal{Form: form, Negative: neg}, true
		}
		return nil, false
	}
	for _, sp := range []struct {
		w    string
		form apd.Form
		neg  bool
	}{{"NaN", apd.NaN, false}, {"Infinity", apd.Infinite, false}, {"+Infinity", apd.Infinite, false},
		{"-Infinity", apd.Infinite, true}, {"inf", apd.Infinite, false}, {"+inf", apd.Infinite, false}, {"-inf", apd.Infinite, true}} {
		if d, ok := special(sp.w, sp.form, sp.neg); ok {
			return d, nil
		}
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	digits := make([]byte, 0, len(s))
	frac, ndig := 0, 0
	seenPoint := false
	for ; i < len(s); i++ {
		c := s[i]
		if c >= '0' && c <= '9' {
			ndig++
			if len(digits) > 0 || c != '0' {
				digits = append(digits, c)
			}
			if seenPoint {
				frac++
			}
			continue
		}
		if c == '.' && !seenPoint {
			seenPoint = true
			continue
		}
		break
	}
	if ndig == 0 {
		return nil, invalidSyntax("numeric", s)
	}
	exp := -frac
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		j := i + 1
		for j < len(s) && isSpace(s[j]) {
			j++
		}
		eneg := false
		if j < len(s) && (s[j] == '+' || s[j] == '-') {
			eneg = s[j] == '-'
			j++
		}
		start := j
		var e int64
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			if e < 1<<40 {
				e = e*10 + int64(s[j]-'0')
			}
			j++
		}
		if j == start {
			return nil, invalidSyntax("numeric", s)
		}
		if e >= 1<<30-1 {
			return nil, pgerr.New(pgerr.NumericValueOutOfRange, "value overflows numeric format")
		}
		if eneg {
			e = -e
		}
		exp += int(e)
		i = j
	}
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	if i != len(s) {
		return nil, invalidSyntax("numeric", s)
	}
	return makeNumeric(neg, digits, exp)
}

// makeNumeric builds the datum for ±digits×10^exp, giving it PostgreSQL's
// display scale max(0, -exp), and checks the storage limits.
func makeNumeric(neg bool, digits []byte, exp int) (*apd.Decimal, error) {
	if exp > 0 {
		if len(digits) > 0 {
			if len(digits)+exp > numericMaxIntDigits {
				return nil, pgerr.New(pgerr.NumericValueOutOfRange, "value overflows numeric format")
			}
			for k := 0; k < exp; k++ {
				digits = append(digits, '0')
			}
		}
		exp = 0
	}
	if -exp > numericMaxDscale {
		// PostgreSQL's display scale cannot exceed 16383.
		return nil, pgerr.New(pgerr.NumericValueOutOfRange, "value overflows numeric format")
	}
	if len(digits)+exp > numericMaxIntDigits {
		return nil, pgerr.New(pgerr.NumericValueOutOfRange, "value overflows numeric format")
	}
	d := &apd.Decimal{Exponent: int32(exp)}
	if len(digits) == 0 {
		return d, nil
	}
	d.Negative = neg
	if len(digits) <= 18 {
		v, _ := strconv.ParseInt(string(digits), 10, 64)
		d.Coeff.SetInt64(v)
	} else if _, ok := d.Coeff.SetString(string(digits), 10); !ok {
		return nil, pgerr.New(pgerr.InternalError, "bad numeric digits")
	}
	return d, nil
}

// numericDigits returns the decimal digits of d's coefficient (no leading
// zeros, empty for zero) and its exponent.
func numericDigits(d *apd.Decimal) ([]byte, int) {
	b := d.Coeff.Append(nil, 10)
	if len(b) > 0 && b[0] == '-' {
		b = b[1:]
	}
	i := 0
	for i < len(b) && b[i] == '0' {
		i++
	}
	return b[i:], int(d.Exponent)
}

// roundDigits rounds digits×10^exp to the exponent target (half away from
// zero), returning the new digits (no leading zeros) at exponent target.
func roundDigits(digits []byte, exp, target int) []byte {
	if exp >= target {
		for k := exp; k > target && len(digits) > 0; k-- {
			digits = append(digits, '0')
		}
		return digits
	}
	drop := target - exp
	if drop > len(digits) {
		return digits[:0]
	}
	keep := digits[:len(digits)-drop]
	roundUp := digits[len(digits)-drop] >= '5'
	out := append([]byte(nil), keep...)
	if roundUp {
		k := len(out) - 1
		for ; k >= 0; k-- {
			if out[k] == '9' {
				out[k] = '0'
				continue
			}
			out[k]++
			break
		}
		if k < 0 {
			out = append([]byte{'1'}, out...)
		}
	}
	i := 0
	for i < len(out) && out[i] == '0' {
		i++
	}
	return out[i:]
}

// applyNumericTypmod is apply_typmod: round to the scale, then check that
// the value fits the precision.
func applyNumericTypmod(d *apd.Decimal, typmod int32) (*apd.Decimal, error) {
	if typmod < 4 || d.Form == apd.NaN {
		return d, nil
	}
	p, s := NumericTypmod(typmod)
	if d.Form == apd.Infinite {
		return nil, pgerr.New(pgerr.NumericValueOutOfRange, "numeric field overflow").
			WithDetail("A field with precision %d, scale %d cannot hold an infinite value.", p, s)
	}
	digits, exp := numericDigits(d)
	digits = roundDigits(digits, exp, -s)
	// Adjusted exponent: the value is 0.ddd × 10^adj.
	if len(digits) > 0 && len(digits)-s > p-s {
		maxd := p - s
		if maxd != 0 {
			return nil, pgerr.New(pgerr.NumericValueOutOfRange, "numeric field overflow").
				WithDetail("A field with precision %d, scale %d must round to an absolute value less than 10^%d.", p, s, maxd)
		}
		return nil, pgerr.New(pgerr.NumericValueOutOfRange, "numeric field overflow").
			WithDetail("A field with precision %d, scale %d must round to an absolute value less than 1.", p, s)
	}
	return makeNumeric(d.Negative, digits, -s)
}

// appendNumeric is numeric_out: plain notation at the display scale.
func appendNumeric(buf []byte, d *apd.Decimal) []byte {
	switch d.Form {
	case apd.NaN, apd.NaNSignaling:
		return append(buf, "NaN"...)
	case apd.Infinite:
		if d.Negative {
			return append(buf, "-Infinity"...)
		}
		return append(buf, "Infinity"...)
	}
	start := len(buf)
	if d.Negative {
		buf = append(buf, '-')
	}
	ds := len(buf)
	buf = d.Coeff.Append(buf, 10)
	if len(buf) > ds && buf[ds] == '-' { // a coefficient should not carry the sign
		buf = append(buf[:ds], buf[ds+1:]...)
	}
	if d.Negative && len(buf) == ds+1 && buf[ds] == '0' {
		buf = append(buf[:start], '0') // no negative zero
		ds = start
	}
	exp := int(d.Exponent)
	if exp > 0 {
		if !(len(buf) == ds+1 && buf[ds] == '0') {
			for ; exp > 0; exp-- {
				buf = append(buf, '0')
			}
		}
		return buf
	}
	frac := -exp
	if frac == 0 {
		return buf
	}
	n := len(buf) - ds
	if n <= frac {
		// 0.000ddd
		pad := frac - n
		digits := append([]byte(nil), buf[ds:]...)
		buf = append(buf[:ds], '0', '.')
		for ; pad > 0; pad-- {
			buf = append(buf, '0')
		}
		return append(buf, digits...)
	}
	buf = append(buf, 0)
	copy(buf[len(buf)-frac:], buf[len(buf)-frac-1:len(buf)-1])
	buf[len(buf)-frac-1] = '.'
	return buf
}

// numericIsZero reports whether a finite numeric is zero.
func numericIsZero(d *apd.Decimal) bool {
	return d.Form == apd.Finite && d.Coeff.Sign() == 0
}
