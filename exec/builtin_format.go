package exec

import (
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/cockroachdb/apd/v3"

	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

// to_char, to_timestamp and to_date: PostgreSQL's formatting templates.
// A template is read left to right; at each position the longest
// template pattern that matches wins (FM before a pattern drops its
// padding, TH/th after a number adds the ordinal suffix), double-quoted
// text is copied, and anything else is copied as is.

// dtPatterns are the date/time patterns, longest first within a prefix,
// as PostgreSQL's keyword table orders them.
var dtPatterns = []string{
	"A.D.", "A.M.", "AD", "AM", "B.C.", "BC", "CC", "DAY", "DDD", "DD", "DY", "Day", "Dy", "D",
	"FF1", "FF2", "FF3", "FF4", "FF5", "FF6", "FX", "HH24", "HH12", "HH", "IDDD", "ID", "IW", "IYYY", "IYY", "IY", "I",
	"J", "MI", "MM", "MONTH", "MON", "MS", "Month", "Mon", "OF", "P.M.", "PM", "Q", "RM", "SSSSS", "SSSS", "SS",
	"TZH", "TZM", "TZ", "US", "WW", "W", "Y,YYY", "YYYY", "YYY", "YY", "Y",
	"a.d.", "a.m.", "ad", "am", "b.c.", "bc", "cc", "day", "ddd", "dd", "dy", "d",
	"ff1", "ff2", "ff3", "ff4", "ff5", "ff6", "fx", "hh24", "hh12", "hh", "iddd", "id", "iw", "iyyy", "iyy", "iy", "i",
	"j", "mi", "mm", "month", "mon", "ms", "of", "p.m.", "pm", "q", "rm", "sssss", "ssss", "ss",
	"tzh", "tzm", "tz", "us", "ww", "w", "y,yyy", "yyyy", "yyy", "yy", "y",
}

var monthNames = []string{"January", "February", "March", "April", "May", "June", "July", "August",
	"September", "October", "November", "December"}
var dayNames = []string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"}
var romanMonths = []string{"I", "II", "III", "IV", "V", "VI", "VII", "VIII", "IX", "X", "XI", "XII"}

func init() {
	register(
		fn("to_char", oids(oTS, oText), tText, func(e *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			us := int64(a[0].(types.Timestamp))
			if !tsFinite(us) {
				return nil, nil
			}
			return formatDateTime(a[1].(string), dtFields{t: splitTS(us), noTZ: true})
		}),
		fn("to_char", oids(oTSTZ, oText), tText, func(e *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			us := int64(a[0].(types.TimestampTZ))
			if !tsFinite(us) {
				return nil, nil
			}
			loc := sessionLoc(e)
			local, off := toLocal(loc, us)
			abbr, _ := time.Unix(floorSec(us)+unixToPG, 0).In(loc).Zone()
			return formatDateTime(a[1].(string), dtFields{t: splitTS(local), off: off, abbr: abbr})
		}),
		fn("to_char", oids(oIntv, oText), tText, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			iv := a[0].(types.Interval)
			hour := iv.Micros / usPerHour
			rest := iv.Micros - hour*usPerHour
			var t tm
			t.year, t.mon, t.mday = int(iv.Months/12), int(iv.Months%12), int(iv.Days)
			t.hour, t.min = int(hour), int(rest/usPerMin)
			rest -= int64(t.min) * usPerMin
			t.sec, t.usec = int(rest/usPerSec), rest%usPerSec
			return formatDateTime(a[1].(string), dtFields{t: t, interval: true, noTZ: true})
		}),
		fn("to_char", oids(oNum, oText), tText, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return formatNumber(a[1].(string), numArg{dec: a[0].(*apd.Decimal)}), nil
		}),
		fn("to_char", oids(oInt4, oText), tText, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return formatNumber(a[1].(string), numArg{dec: apd.New(a[0].(int64), 0)}), nil
		}),
		fn("to_char", oids(oInt8, oText), tText, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return formatNumber(a[1].(string), numArg{dec: apd.New(a[0].(int64), 0)}), nil
		}),
		fn("to_char", oids(oFloat8, oText), tText, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return formatNumber(a[1].(string), numArg{float: true, f: a[0].(float64)}), nil
		}),
		fn("to_timestamp", oids(oText, oText), tTimestampTZ, func(e *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			t, tz, err := parseDateTimeTemplate(a[0].(string), a[1].(string))
			if err != nil {
				return nil, err
			}
			us, ok := joinTS(t)
			if !ok {
				return nil, errTimestampRange()
			}
			if tz != nil {
				return types.TimestampTZ(us - int64(*tz)*usPerSec), nil
			}
			return types.TimestampTZ(fromLocal(sessionLoc(e), us)), nil
		}),
		fn("to_date", oids(oText, oText), tDate, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			t, _, err := parseDateTimeTemplate(a[0].(string), a[1].(string))
			if err != nil {
				return nil, err
			}
			j := date2j(t.year, t.mon, t.mday)
			if j < minDateJ || j >= endDateJ {
				return nil, pgerr.New(pgerr.DatetimeFieldOverflow, "date out of range: \"%s\"", a[0].(string))
			}
			return types.Date(j - pgEpochJ), nil
		}),
	)
}

type dtFields struct {
	t        tm
	off      int
	abbr     string
	noTZ     bool
	interval bool
}

func matchPattern(s string, pats []string) string {
	for _, p := range pats {
		if strings.HasPrefix(s, p) {
			return p
		}
	}
	return ""
}

func ordinal(n int64, upper bool) string {
	s := "th"
	if n%100 < 11 || n%100 > 13 {
		switch n % 10 {
		case 1:
			s = "st"
		case 2:
			s = "nd"
		case 3:
			s = "rd"
		}
	}
	if upper {
		return asciiUpper(s)
	}
	return s
}

// caseLike renders name in the case of the pattern: all upper, capitalized
// or all lower.
func caseLike(pat, name string) string {
	switch {
	case pat == asciiUpper(pat):
		return asciiUpper(name)
	case pat[1] >= 'a' && pat[1] <= 'z' && pat[0] >= 'A' && pat[0] <= 'Z':
		return name
	}
	return asciiLower(name)
}

func formatDateTime(format string, f dtFields) (types.Datum, error) {
	if format == "" {
		return nil, nil
	}
	var b strings.Builder
	t := f.t
	year := t.year
	if !f.interval && year <= 0 {
		year = -(year - 1)
	}
	for i := 0; i < len(format); {
		fm := false
		if strings.HasPrefix(format[i:], "FM") || strings.HasPrefix(format[i:], "fm") {
			fm = true
			i += 2
		}
		if i >= len(format) {
			break
		}
		if format[i] == '"' {
			i++
			for i < len(format) && format[i] != '"' {
				if format[i] == '\\' && i+1 < len(format) {
					i++
				}
				b.WriteByte(format[i])
				i++
			}
			i++
			continue
		}
		if format[i] == '\\' && i+1 < len(format) && format[i+1] == '"' {
			b.WriteByte('"')
			i += 2
			continue
		}
		p := matchPattern(format[i:], dtPatterns)
		if p == "" {
			b.WriteByte(format[i])
			i++
			continue
		}
		i += len(p)
		up := asciiUpper(p)
		// num prints as C's %0*d: the width counts the minus sign.
		num := func(v int64, width int) {
			s := strconv.FormatInt(abs64(v), 10)
			w := width
			if v < 0 {
				w--
			}
			if !fm && len(s) < w {
				s = strings.Repeat("0", w-len(s)) + s
			}
			if v < 0 {
				s = "-" + s
			}
			b.WriteString(s)
			if strings.HasPrefix(format[i:], "TH") || strings.HasPrefix(format[i:], "th") {
				b.WriteString(ordinal(abs64(v), format[i] == 'T'))
				i += 2
			}
		}
		name := func(s string, width int) {
			if !fm && len(s) < width {
				s += strings.Repeat(" ", width-len(s))
			}
			b.WriteString(s)
		}
		doy := 0
		wday := 0
		if !f.interval {
			doy = date2j(t.year, t.mon, t.mday) - date2j(t.year, 1, 1) + 1
			wday = j2day(date2j(t.year, t.mon, t.mday))
		}
		// Hours, minutes and seconds of a negative interval keep two
		// digits after the sign.
		w2 := func(v int) int {
			if v < 0 {
				return 3
			}
			return 2
		}
		if f.interval {
			switch up {
			case "MONTH", "MON", "DAY", "DY":
				return nil, pgerr.New(pgerr.InvalidDatetimeFormat, "invalid format specification for an interval value").
					WithHint("Intervals are not tied to specific calendar dates.")
			}
		}
		switch up {
		case "HH24":
			num(int64(t.hour), w2(t.hour))
		case "HH12", "HH":
			h := t.hour % 12
			if h == 0 {
				h = 12
			}
			num(int64(h), w2(h))
		case "MI":
			num(int64(t.min), w2(t.min))
		case "SS":
			num(int64(t.sec), w2(t.sec))
		case "MS", "US", "FF1", "FF2", "FF3", "FF4", "FF5", "FF6":
			// Fractions keep their digits under FM.
			n := 3
			if up == "US" {
				n = 6
			} else if up[0] == 'F' {
				n = int(up[2] - '0')
			}
			fm = false
			num(t.usec/int64(math.Pow10(6-n)), n)
		case "SSSS", "SSSSS":
			num(int64(t.hour*3600+t.min*60+t.sec), 0)
		case "AM", "PM":
			s := "AM"
			if t.hour%24 >= 12 {
				s = "PM"
			}
			if p[0] >= 'a' {
				s = asciiLower(s)
			}
			b.WriteString(s)
		case "A.M.", "P.M.":
			s := "A.M."
			if t.hour%24 >= 12 {
				s = "P.M."
			}
			if p[0] >= 'a' {
				s = asciiLower(s)
			}
			b.WriteString(s)
		case "AD", "BC":
			s := "AD"
			if t.year <= 0 {
				s = "BC"
			}
			if p[0] >= 'a' {
				s = asciiLower(s)
			}
			b.WriteString(s)
		case "A.D.", "B.C.":
			s := "A.D."
			if t.year <= 0 {
				s = "B.C."
			}
			if p[0] >= 'a' {
				s = asciiLower(s)
			}
			b.WriteString(s)
		case "Y,YYY":
			b.WriteString(strconv.Itoa(year/1000) + "," + pad3(year%1000))
		case "YYYY":
			num(int64(year), 4)
		case "YYY":
			num(int64(year%1000), 3)
		case "YY":
			num(int64(year%100), 2)
		case "Y":
			num(int64(year%10), 1)
		case "IYYY", "IYY", "IY", "I":
			_, iy := isoWeek(t.year, t.mon, t.mday)
			if iy <= 0 {
				iy = -(iy - 1)
			}
			w := len(up)
			num(int64(iy)%int64(math.Pow10(w)), w)
		case "MM":
			num(int64(t.mon), 2)
		case "MONTH", "MON":
			if t.mon == 0 {
				break
			}
			s := monthNames[t.mon-1]
			w := 9
			if up == "MON" {
				s, w = s[:3], 3
			}
			name(caseLike(p, s), w)
		case "DD":
			num(int64(t.mday), 2)
		case "DDD":
			num(int64(doy), 3)
		case "IDDD":
			w, _ := isoWeek(t.year, t.mon, t.mday)
			isodow := wday
			if isodow == 0 {
				isodow = 7
			}
			num(int64((w-1)*7+isodow), 3)
		case "D":
			num(int64(wday+1), 1)
		case "ID":
			d := wday
			if d == 0 {
				d = 7
			}
			num(int64(d), 1)
		case "DAY", "DY":
			s := dayNames[wday]
			w := 9
			if up == "DY" {
				s, w = s[:3], 3
			}
			name(caseLike(p, s), w)
		case "W":
			num(int64((t.mday-1)/7+1), 1)
		case "WW":
			num(int64((doy-1)/7+1), 2)
		case "IW":
			w, _ := isoWeek(t.year, t.mon, t.mday)
			num(int64(w), 2)
		case "CC":
			var c int
			if f.interval {
				c = t.year / 100
			} else if t.year > 0 {
				c = (t.year-1)/100 + 1
			} else {
				c = t.year/100 - 1
			}
			num(int64(c), w2(c))
		case "Q":
			if t.mon == 0 {
				break
			}
			num(int64((t.mon-1)/3+1), 1)
		case "J":
			num(int64(date2j(t.year, t.mon, t.mday)), 0)
		case "RM":
			if t.mon == 0 {
				break
			}
			s := romanMonths[t.mon-1]
			if p[0] >= 'a' {
				s = asciiLower(s)
			}
			name(s, 4)
		case "TZ":
			if !f.noTZ {
				if p[0] >= 'a' {
					b.WriteString(asciiLower(f.abbr))
				} else {
					b.WriteString(f.abbr)
				}
			}
		case "OF":
			b.WriteString(formatOffset(f.off))
		case "TZH":
			s := "+"
			if f.off < 0 {
				s = "-"
			}
			b.WriteString(s + pad2(abs(f.off)/3600))
		case "TZM":
			b.WriteString(pad2(abs(f.off) / 60 % 60))
		case "FX":
		}
	}
	return b.String(), nil
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

func pad2(v int) string {
	if v < 10 {
		return "0" + strconv.Itoa(v)
	}
	return strconv.Itoa(v)
}

func pad3(v int) string {
	s := strconv.Itoa(v)
	return strings.Repeat("0", max(3-len(s), 0)) + s
}

func formatOffset(off int) string {
	s := "+"
	if off < 0 {
		s = "-"
	}
	a := abs(off)
	s += pad2(a / 3600)
	if a%3600 != 0 {
		s += ":" + pad2(a/60%60)
	}
	return s
}

type numArg struct {
	dec   *apd.Decimal
	float bool
	f     float64
}

// formatNumber is to_char for numbers, for the patterns 9 0 . , D G S MI
// PL SG and FM: digits are right-aligned under the 9s and 0s before the
// decimal point (0 pads with zeros from its position on), the sign sits
// just before the first digit unless placed by S, MI, PL or SG, and a
// value too wide for the template prints as #s.
func formatNumber(format string, n numArg) string {
	if format == "" {
		return ""
	}
	var pre, post int
	fm := false
	// A leading S is anchored: the sign (+ or -) goes right before the
	// first digit, where the blank or minus would be.
	anchored := false
	seenPoint := false
	firstZero := -1
	signPat := ""
	upper := asciiUpper(format)
	for i := 0; i < len(format); i++ {
		switch c := upper[i]; {
		case c == '9' || c == '0':
			if seenPoint {
				post++
			} else {
				if c == '0' && firstZero < 0 {
					firstZero = pre
				}
				pre++
			}
		case c == '.' || c == 'D':
			seenPoint = true
		case strings.HasPrefix(upper[i:], "FM"):
			fm = true
			i++
		case strings.HasPrefix(upper[i:], "MI") || strings.HasPrefix(upper[i:], "PL") || strings.HasPrefix(upper[i:], "SG"):
			signPat = upper[i : i+2]
			i++
		case c == 'S':
			signPat = "S"
			anchored = pre == 0 && !seenPoint
		}
	}
	// The value's digits, rounded to post decimals.
	var neg bool
	var digits string
	if n.float {
		f := n.f
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return strings.Repeat("#", pre+post+btoi(post > 0)+1)
		}
		// Only DBL_DIG (15) digits are printed; the template's decimals
		// beyond them print nothing.
		intLen := len(strconv.FormatFloat(math.Abs(f), 'f', 0, 64))
		fpost := post
		if intLen >= 15 {
			fpost = 0
		} else if intLen+post > 15 {
			fpost = 15 - intLen
		}
		digits = strconv.FormatFloat(math.Abs(f), 'f', fpost, 64)
		if fpost == 0 && post > 0 {
			digits += "."
		}
		neg = math.Signbit(f) // as printf shows it: -0.0001 at 2 decimals is -0.00
	} else {
		d := n.dec
		switch d.Form {
		case apd.NaN:
			// NaN stands where the integer digits would.
			if fm {
				return "NaN"
			}
			sign := " "
			if anchored {
				sign = "+"
			}
			return strings.Repeat(" ", max(pre-3, 0)) + sign + "NaN"
		case apd.Infinite:
			neg = d.Negative
			digits = strings.Repeat("9", pre+1) // wider than the template: all #
		default:
			r, _ := numericRoundTo(d, int64(post), apd.RoundHalfUp)
			neg = r.Negative && !r.IsZero()
			a := new(apd.Decimal).Abs(r)
			digits = a.Text('f')
		}
	}
	intPart, fracPart, _ := strings.Cut(digits, ".")
	for len(fracPart) < post && !n.float {
		fracPart += "0"
	}
	if intPart == "0" && (post > 0 || pre == 0) {
		intPart = ""
	}
	if intPart == "" && post == 0 && pre > 0 {
		intPart = "0"
	}
	overflow := len(intPart) > pre
	// Digits right-aligned over the pre positions; zero padding from the
	// first 0 pattern on.
	start := pre - len(intPart) // first position holding a real digit
	if firstZero >= 0 && firstZero < start {
		start = firstZero
	}
	var b strings.Builder
	signDone := signPat != "" && signPat != "PL" && !anchored
	writeSign := func() {
		if signDone {
			return
		}
		signDone = true
		switch {
		case neg:
			b.WriteByte('-')
		case anchored:
			b.WriteByte('+')
		case !fm:
			b.WriteByte(' ')
		}
	}
	pos, fpos := 0, 0
	seenPoint = false
	for i := 0; i < len(format); i++ {
		c := upper[i]
		switch {
		case strings.HasPrefix(upper[i:], "FM"):
			i++
		case c == '9' || c == '0':
			if seenPoint {
				switch {
				case overflow:
					b.WriteByte('#')
				case fpos < len(fracPart):
					b.WriteByte(fracPart[fpos])
				}
				fpos++
				continue
			}
			switch {
			case overflow:
				writeSign()
				b.WriteByte('#')
			case pos < start:
				if !fm {
					b.WriteByte(' ')
				}
			default:
				writeSign()
				if k := pos - (pre - len(intPart)); k >= 0 {
					b.WriteByte(intPart[k])
				} else {
					b.WriteByte('0')
				}
			}
			pos++
		case c == '.' || c == 'D':
			writeSign()
			seenPoint = true
			b.WriteByte('.')
		case c == ',' || c == 'G':
			if pos > start || overflow {
				b.WriteByte(',')
			} else if !fm {
				b.WriteByte(' ')
			}
		case strings.HasPrefix(upper[i:], "MI"):
			i++
			if neg {
				b.WriteByte('-')
			} else if !fm {
				b.WriteByte(' ')
			}
		case strings.HasPrefix(upper[i:], "PL"):
			i++
			if !neg {
				b.WriteByte('+')
			} else if !fm {
				b.WriteByte(' ')
			}
		case strings.HasPrefix(upper[i:], "SG"):
			i++
			if neg {
				b.WriteByte('-')
			} else {
				b.WriteByte('+')
			}
		case c == 'S':
			if anchored {
				continue
			}
			if neg {
				b.WriteByte('-')
			} else {
				b.WriteByte('+')
			}
		default:
			b.WriteByte(format[i])
		}
	}
	writeSign()
	out := b.String()
	if fm && post > 0 && !overflow {
		// FM drops trailing zeros that 9s (not 0s) produced.
		dot := strings.LastIndexByte(out, '.')
		if dot >= 0 {
			pat := format[strings.LastIndexAny(upper, ".D")+1:]
			keep := 0
			cnt := 0
			for _, pc := range asciiUpper(pat) {
				if pc == '9' || pc == '0' {
					cnt++
					if pc == '0' {
						keep = cnt
					}
				}
			}
			end := dot + 1
			j := dot + 1 + post
			for j > dot+1+keep && j <= len(out) && out[j-1] == '0' {
				j--
			}
			if j < end {
				j = end
			}
			if dot+1+post <= len(out) {
				out = out[:j] + out[dot+1+post:]
			}
		}
	}
	return out
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// parseDateTimeTemplate is to_timestamp/to_date's reading of s by the
// template: numbers are read up to the pattern's width (or up to a
// non-digit), separators and spaces in the template skip any one
// separator or run of spaces in the input.
func parseDateTimeTemplate(s, format string) (tm, *int, error) {
	t := tm{year: 0, mon: 1, mday: 1} // no year given is year 0, 1 BC
	var tz *int
	pm, hasAMPM, bc, hour12 := false, false, false, false
	si := 0
	skipSpaces := func() {
		for si < len(s) && s[si] == ' ' {
			si++
		}
	}
	readNum := func(pat string, width int) (int64, error) {
		skipSpaces()
		j := si
		if j < len(s) && (s[j] == '-' || s[j] == '+') {
			j++
		}
		for j < len(s) && s[j] >= '0' && s[j] <= '9' && (width <= 0 || j-si < width) {
			j++
		}
		if j == si {
			bad := ""
			if si < len(s) {
				bad = s[si:]
			}
			return 0, pgerr.New(pgerr.InvalidDatetimeFormat, "invalid value \"%s\" for \"%s\"", bad, pat).
				WithDetail("Value must be an integer.")
		}
		v, err := strconv.ParseInt(s[si:j], 10, 64)
		if err != nil {
			return 0, pgerr.New(pgerr.DatetimeFieldOverflow, "value for \"%s\" in source string is out of range", pat)
		}
		si = j
		return v, nil
	}
	readName := func(pat string, names []string, n int) (int, error) {
		skipSpaces()
		for i, nm := range names {
			cand := nm
			if n > 0 {
				cand = nm[:n]
			}
			if len(s)-si >= len(cand) && strings.EqualFold(s[si:si+len(cand)], cand) {
				si += len(cand)
				return i, nil
			}
		}
		return 0, pgerr.New(pgerr.InvalidDatetimeFormat, "invalid value \"%s\" for \"%s\"", s[si:min(len(s), si+len(names[0]))], pat).
			WithDetail("The given value did not match any of the allowed values for this field.")
	}
	yday := 0
	// Reading stops at the end of the input; the template's remaining
	// fields keep their defaults.
	for fi := 0; fi < len(format) && si < len(s); {
		if strings.HasPrefix(format[fi:], "FM") || strings.HasPrefix(format[fi:], "fm") {
			fi += 2
			continue
		}
		p := matchPattern(format[fi:], dtPatterns)
		if p == "" {
			c := format[fi]
			fi++
			switch {
			case c == ' ':
				skipSpaces()
			case c == '"':
				for fi < len(format) && format[fi] != '"' {
					fi++
					if si < len(s) {
						si++
					}
				}
				fi++
			case si < len(s) && !isASCIIAlnum(s[si]):
				si++
			}
			continue
		}
		fi += len(p)
		up := asciiUpper(p)
		var err error
		var v int64
		switch up {
		case "YYYY", "IYYY":
			w := 0
			if matchPattern(format[fi:], dtPatterns) != "" {
				w = 4 // no separator: the year is exactly 4 digits
			}
			v, err = readNum(up, w)
			t.year = int(v)
		case "Y,YYY":
			var th int64
			if th, err = readNum(up, 0); err == nil && si < len(s) && s[si] == ',' {
				si++
				v, err = readNum(up, 3)
				t.year = int(th*1000 + v)
			}
		case "YYY", "YY", "Y":
			v, err = readNum(up, len(up))
			switch up {
			case "YY":
				if v < 70 {
					v += 2000
				} else if v < 100 {
					v += 1900
				}
			case "YYY":
				if v < 100 {
					v += 2000
				} else if v < 1000 {
					v += 1000
				}
			case "Y":
				v += 2000
			}
			t.year = int(v)
		case "MM":
			v, err = readNum(up, 2)
			t.mon = int(v)
		case "DD":
			v, err = readNum(up, 2)
			t.mday = int(v)
		case "DDD":
			v, err = readNum(up, 3)
			yday = int(v)
		case "HH24":
			v, err = readNum(up, 2)
			t.hour = int(v)
		case "HH12", "HH":
			v, err = readNum(up, 2)
			t.hour = int(v)
			hour12 = true
		case "MI":
			v, err = readNum(up, 2)
			t.min = int(v)
		case "SS":
			v, err = readNum(up, 2)
			t.sec = int(v)
		case "MS", "US", "FF1", "FF2", "FF3", "FF4", "FF5", "FF6":
			skipSpaces()
			j := si
			width := 3
			if up == "US" {
				width = 6
			} else if up[0] == 'F' {
				width = int(up[2] - '0')
			}
			v, err = readNum(up, width)
			n := si - j
			scale := int64(math.Pow10(6 - n))
			if up == "MS" {
				scale = int64(math.Pow10(3-n)) * 1000
			}
			t.usec += v * scale
		case "SSSS", "SSSSS":
			v, err = readNum(up, 0)
			t.hour, t.min, t.sec = int(v/3600), int(v/60%60), int(v%60)
		case "AM", "PM", "A.M.", "P.M.":
			skipSpaces()
			hasAMPM = true
			w := len(p)
			if si+w > len(s) {
				err = pgerr.New(pgerr.InvalidDatetimeFormat, "invalid value \"%s\" for \"%s\"", s[si:], p)
				break
			}
			switch strings.ToUpper(s[si : si+w]) {
			case "AM", "A.M.":
			case "PM", "P.M.":
				pm = true
			default:
				err = pgerr.New(pgerr.InvalidDatetimeFormat, "invalid value \"%s\" for \"%s\"", s[si:si+w], p)
			}
			si += w
		case "AD", "BC", "A.D.", "B.C.":
			skipSpaces()
			w := len(p)
			if si+w <= len(s) {
				u := strings.ToUpper(s[si : si+w])
				bc = u == "BC" || u == "B.C."
				si += w
			}
		case "MONTH":
			var m int
			m, err = readName(p, monthNames, 0)
			t.mon = m + 1
		case "MON":
			var m int
			m, err = readName(p, monthNames, 3)
			t.mon = m + 1
		case "DAY":
			_, err = readName(p, dayNames, 0)
		case "DY":
			_, err = readName(p, dayNames, 3)
		case "TZH":
			v, err = readNum(up, 3)
			off := int(v) * 3600
			tz = &off
		case "TZM":
			v, err = readNum(up, 2)
			if tz != nil {
				if *tz < 0 || strings.Contains(s, "-") && *tz == 0 {
					*tz -= int(v) * 60
				} else {
					*tz += int(v) * 60
				}
			}
		case "D", "ID", "W", "WW", "IW", "Q", "CC", "IDDD", "IYY", "IY", "I", "J", "RM", "TZ", "OF":
			if up == "TZ" || up == "OF" {
				return t, nil, pgerr.New(pgerr.FeatureNotSupported, "formatting field \"%s\" is only supported in to_char", p)
			}
			if up == "RM" {
				_, err = readName(p, romanMonths, 0)
			} else {
				v, err = readNum(up, 0)
				if up == "J" {
					t.year, t.mon, t.mday = j2date(int(v))
				}
			}
		}
		if err != nil {
			return t, nil, err
		}
	}
	if hour12 || hasAMPM {
		if t.hour < 1 || t.hour > 12 {
			return t, nil, pgerr.New(pgerr.InvalidDatetimeFormat, "hour \"%d\" is invalid for the 12-hour clock", t.hour).
				WithHint("Use the 24-hour clock, or give an hour between 1 and 12.")
		}
		if pm && t.hour < 12 {
			t.hour += 12
		} else if !pm && t.hour == 12 {
			t.hour = 0
		}
	}
	if bc && t.year > 0 {
		t.year = -t.year + 1
	}
	if yday > 0 {
		t.year, t.mon, t.mday = j2date(date2j(t.year, 1, 1) + yday - 1)
	}
	if t.mon < 1 || t.mon > 12 || t.mday < 1 || t.mday > daysIn(t.year, t.mon) ||
		t.hour < 0 || t.hour > 24 || t.min < 0 || t.min > 59 || t.sec < 0 || t.sec > 60 {
		return t, nil, pgerr.New(pgerr.DatetimeFieldOverflow, "date/time field value out of range: \"%s\"", s)
	}
	return t, tz, nil
}
