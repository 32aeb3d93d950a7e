package types

import (
	"bytes"
	"encoding/hex"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/cockroachdb/apd/v3"
	"github.com/strand-db/strand/sql/pgerr"
)

// ParseText is the type's input function: it reads s as PostgreSQL 15 reads
// a literal of type t, applying t's modifier (varchar length, numeric
// precision and scale, timestamp precision). Errors carry PostgreSQL's
// SQLSTATE and message.
func ParseText(t T, s string, set *Settings) (Datum, error) {
	if set == nil {
		set = defaultSettings
	}
	switch t.OID {
	case BoolOID:
		return parseBool(s)
	case Int2OID:
		return parseInt(s, 16, "smallint")
	case Int4OID:
		return parseInt(s, 32, "integer")
	case Int8OID:
		return parseInt(s, 64, "bigint")
	case OIDOID:
		return parseOID(s)
	case Float4OID:
		return parseFloat(s, 32)
	case Float8OID:
		return parseFloat(s, 64)
	case NumericOID:
		d, err := parseNumeric(s)
		if err != nil {
			return nil, err
		}
		return applyNumericTypmod(d, t.Typmod)
	case TextOID, UnknownOID:
		return s, checkText(s)
	case VarcharOID, BpcharOID:
		if err := checkText(s); err != nil {
			return nil, err
		}
		return applyCharTypmod(s, t, false)
	case NameOID:
		return truncateName(s), checkText(s)
	case ByteaOID:
		return parseBytea(s)
	case UUIDOID:
		return parseUUID(s)
	case JSONOID:
		if err := checkText(s); err != nil {
			return nil, err
		}
		if err := validateJSON(s, "json"); err != nil {
			return nil, err
		}
		return JSON(s), nil
	case JSONBOID:
		if err := checkText(s); err != nil {
			return nil, err
		}
		return parseJSONB(s)
	case DateOID:
		return parseDate(s, set)
	case TimeOID:
		return parseTime(s, t.Typmod, set)
	case TimestampOID:
		return parseTimestamp(s, t.Typmod, set)
	case TimestampTZOID:
		return parseTimestampTZ(s, t.Typmod, set)
	case IntervalOID:
		return parseInterval(s, t.Typmod, set)
	}
	if t.IsArray() {
		return parseArray(t, s, set)
	}
	return nil, pgerr.New(pgerr.FeatureNotSupported, "type %s is not supported", t)
}

// AppendText is the type's output function: it appends d as PostgreSQL 15
// prints a value of type t. d must not be nil.
func AppendText(buf []byte, t T, d Datum, set *Settings) []byte {
	if set == nil {
		set = defaultSettings
	}
	switch v := d.(type) {
	case bool:
		if v {
			return append(buf, 't')
		}
		return append(buf, 'f')
	case int64:
		return strconv.AppendInt(buf, v, 10)
	case float64:
		if t.OID == Float4OID {
			return appendFloat(buf, v, 32, set.ExtraFloatDigits)
		}
		return appendFloat(buf, v, 64, set.ExtraFloatDigits)
	case string:
		return append(buf, v...)
	case []byte:
		return appendBytea(buf, v, set)
	case *apd.Decimal:
		return appendNumeric(buf, v)
	case UUID:
		return appendUUID(buf, v)
	case JSON:
		return append(buf, v...)
	case JSONB:
		return append(buf, v...)
	case Date:
		return appendDate(buf, v)
	case TimeOfDay:
		return appendTimeOfDay(buf, int64(v))
	case Timestamp:
		return appendTimestamp(buf, v)
	case TimestampTZ:
		return appendTimestampTZ(buf, v, set.loc())
	case Interval:
		return appendInterval(buf, v, set)
	case *Array:
		return appendArray(buf, v, set)
	case *Record:
		return appendRecord(buf, v, set)
	case nil:
		return buf
	}
	panic("types: AppendText of unexpected Go type")
}

// FormatText is AppendText to a string.
func FormatText(t T, d Datum, set *Settings) string {
	return string(AppendText(nil, t, d, set))
}

func invalidSyntax(typ, s string) *pgerr.Error {
	return pgerr.New(pgerr.InvalidTextRepresentation, "invalid input syntax for type %s: %q", typ, s)
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'
}

func trimSpace(s string) string {
	i, j := 0, len(s)
	for i < j && isSpace(s[i]) {
		i++
	}
	for j > i && isSpace(s[j-1]) {
		j--
	}
	return s[i:j]
}

// checkText rejects what a UTF8 database cannot hold.
func checkText(s string) error {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == 0 {
			return pgerr.New(pgerr.CharacterNotInRepertoire, "invalid byte sequence for encoding \"UTF8\": 0x00")
		}
		if c >= utf8.RuneSelf {
			if !utf8.ValidString(s[i:]) {
				return pgerr.New(pgerr.CharacterNotInRepertoire, "invalid byte sequence for encoding \"UTF8\"")
			}
			return nil
		}
	}
	return nil
}

// parseInt is pg_strtoint16/32/64: optional whitespace, sign, digits,
// whitespace.
func parseInt(s string, bits int, typ string) (Datum, error) {
	i := 0
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		neg = s[i] == '-'
		i++
	}
	start := i
	// Accumulate negatively so the minimum fits.
	var v int64
	lim := int64(math.MinInt64) >> (64 - bits)
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		d := int64(s[i] - '0')
		if v < (lim+d)/10 {
			return nil, pgerr.New(pgerr.NumericValueOutOfRange, "value %q is out of range for type %s", s, typ)
		}
		v = v*10 - d
		i++
	}
	if i == start {
		return nil, invalidSyntax(typ, s)
	}
	for i < len(s) && isSpace(s[i]) {
		i++
	}
	if i != len(s) {
		return nil, invalidSyntax(typ, s)
	}
	if !neg {
		if v == lim {
			return nil, pgerr.New(pgerr.NumericValueOutOfRange, "value %q is out of range for type %s", s, typ)
		}
		v = -v
	}
	return v, nil
}

func parseOID(s string) (Datum, error) {
	// oidin accepts what strtoul accepts, including negative numbers
	// down to INT_MIN (which wrap around).
	t := trimSpace(s)
	v, err := strconv.ParseInt(t, 10, 64)
	if err != nil || t == "" {
		if e, ok := err.(*strconv.NumError); ok && e.Err == strconv.ErrRange {
			return nil, pgerr.New(pgerr.NumericValueOutOfRange, "value %q is out of range for type oid", s)
		}
		return nil, invalidSyntax("oid", s)
	}
	if v > math.MaxUint32 || v < math.MinInt32 {
		return nil, pgerr.New(pgerr.NumericValueOutOfRange, "value %q is out of range for type oid", s)
	}
	return int64(uint32(v)), nil
}

// parseBool is boolin: any unique prefix of true/false/yes/no, on/off, 1/0.
func parseBool(s string) (Datum, error) {
	v := strings.ToLower(trimSpace(s))
	n := len(v)
	if n > 0 {
		switch v[0] {
		case 't':
			if strings.HasPrefix("true", v) {
				return true, nil
			}
		case 'f':
			if strings.HasPrefix("false", v) {
				return false, nil
			}
		case 'y':
			if strings.HasPrefix("yes", v) {
				return true, nil
			}
		case 'n':
			if strings.HasPrefix("no", v) {
				return false, nil
			}
		case 'o':
			if n >= 2 && strings.HasPrefix("on", v) {
				return true, nil
			}
			if n >= 2 && strings.HasPrefix("off", v) {
				return false, nil
			}
		case '1':
			if n == 1 {
				return true, nil
			}
		case '0':
			if n == 1 {
				return false, nil
			}
		}
	}
	return nil, pgerr.New(pgerr.InvalidTextRepresentation, "invalid input syntax for type boolean: %q", s)
}

// parseFloat is float4in/float8in: strtod's decimal syntax and the
// spellings of NaN and Infinity, with whitespace around.
func parseFloat(s string, bits int) (Datum, error) {
	typ := "double precision"
	if bits == 32 {
		typ = "real"
	}
	t := trimSpace(s)
	if t == "" {
		return nil, invalidSyntax(typ, s)
	}
	switch strings.ToLower(t) {
	case "nan", "+nan", "-nan":
		return canonicalNaN, nil
	case "infinity", "+infinity", "inf", "+inf":
		return math.Inf(1), nil
	case "-infinity", "-inf":
		return math.Inf(-1), nil
	}
	// Check the syntax ourselves: Go's ParseFloat takes underscores and
	// hex forms that strtod reads differently.
	i := 0
	if t[i] == '+' || t[i] == '-' {
		i++
	}
	digits, nonzero := 0, false
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		nonzero = nonzero || t[i] != '0'
		i++
		digits++
	}
	if i < len(t) && t[i] == '.' {
		i++
		for i < len(t) && t[i] >= '0' && t[i] <= '9' {
			nonzero = nonzero || t[i] != '0'
			i++
			digits++
		}
	}
	if digits == 0 {
		return nil, invalidSyntax(typ, s)
	}
	if i < len(t) && (t[i] == 'e' || t[i] == 'E') {
		j := i + 1
		if j < len(t) && (t[j] == '+' || t[j] == '-') {
			j++
		}
		if j < len(t) && t[j] >= '0' && t[j] <= '9' {
			for j < len(t) && t[j] >= '0' && t[j] <= '9' {
				j++
			}
			i = j
		}
	}
	if i != len(t) {
		return nil, invalidSyntax(typ, s)
	}
	f, err := strconv.ParseFloat(t, bits)
	if err != nil || math.IsInf(f, 0) || (f == 0 && nonzero) {
		return nil, pgerr.New(pgerr.NumericValueOutOfRange, "%q is out of range for type %s", s, typ)
	}
	return f, nil
}

// appendFloat is float4out/float8out.
func appendFloat(buf []byte, f float64, bits int, extra int) []byte {
	switch {
	case math.IsNaN(f):
		return append(buf, "NaN"...)
	case math.IsInf(f, 1):
		return append(buf, "Infinity"...)
	case math.IsInf(f, -1):
		return append(buf, "-Infinity"...)
	}
	if extra <= 0 {
		prec := 15 + extra
		if bits == 32 {
			prec = 6 + extra
		}
		if prec < 1 {
			prec = 1
		}
		return strconv.AppendFloat(buf, f, 'g', prec, bits)
	}
	// Shortest round-trip digits, laid out as PostgreSQL's Ryu code does:
	// fixed notation for decimal exponents in [-4, 15) (float4: [-4, 6)).
	var tmp [32]byte
	e := strconv.AppendFloat(tmp[:0], f, 'e', -1, bits)
	neg := e[0] == '-'
	if neg {
		e = e[1:]
	}
	mant, exps, _ := bytes.Cut(e, []byte{'e'})
	exp, _ := strconv.Atoi(string(exps))
	digits := make([]byte, 0, 24)
	for _, c := range mant {
		if c != '.' {
			digits = append(digits, c)
		}
	}
	maxExp := 15
	if bits == 32 {
		maxExp = 6
	}
	if neg {
		buf = append(buf, '-')
	}
	if exp < -4 || exp >= maxExp {
		buf = append(buf, digits[0])
		if len(digits) > 1 {
			buf = append(buf, '.')
			buf = append(buf, digits[1:]...)
		}
		buf = append(buf, 'e')
		if exp < 0 {
			buf = append(buf, '-')
			exp = -exp
		} else {
			buf = append(buf, '+')
		}
		if exp < 10 {
			buf = append(buf, '0')
		}
		return strconv.AppendInt(buf, int64(exp), 10)
	}
	if exp < 0 {
		buf = append(buf, '0', '.')
		for i := -1; i > exp; i-- {
			buf = append(buf, '0')
		}
		return append(buf, digits...)
	}
	if len(digits) <= exp+1 {
		buf = append(buf, digits...)
		for i := len(digits); i <= exp; i++ {
			buf = append(buf, '0')
		}
		return buf
	}
	buf = append(buf, digits[:exp+1]...)
	buf = append(buf, '.')
	return append(buf, digits[exp+1:]...)
}

// applyCharTypmod is varchar(n)/char(n) input: a longer value is an error
// (22001) unless the excess is spaces, or when explicit (a cast), in which
// case it is truncated; char(n) pads with spaces.
func applyCharTypmod(s string, t T, explicit bool) (string, error) {
	n := t.VarcharLen()
	if n < 0 {
		return s, nil
	}
	count := utf8.RuneCountInString(s)
	if count > n {
		cut := 0
		for i := 0; i < n; i++ {
			_, size := utf8.DecodeRuneInString(s[cut:])
			cut += size
		}
		if !explicit {
			for i := cut; i < len(s); i++ {
				if s[i] != ' ' {
					name := "character varying"
					if t.OID == BpcharOID {
						name = "character"
					}
					return "", pgerr.New(pgerr.StringDataRightTruncation, "value too long for type %s(%d)", name, n)
				}
			}
		}
		s = s[:cut]
		count = n
	}
	if t.OID == BpcharOID && count < n {
		s += strings.Repeat(" ", n-count)
	}
	return s, nil
}

func truncateName(s string) string {
	if len(s) <= 63 {
		return s
	}
	cut := 63
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// parseBytea is byteain: \x hex format, or the escape format.
func parseBytea(s string) (Datum, error) {
	if len(s) >= 2 && s[0] == '\\' && s[1] == 'x' {
		out := make([]byte, 0, (len(s)-2)/2)
		for i := 2; i < len(s); {
			c := s[i]
			if c == ' ' || c == '\n' || c == '\t' || c == '\r' {
				i++
				continue
			}
			hi, ok := unhex(c)
			if !ok {
				return nil, pgerr.New(pgerr.InvalidParameterValue, "invalid hexadecimal digit: %q", s[i:i+1])
			}
			if i+1 >= len(s) {
				return nil, pgerr.New(pgerr.InvalidParameterValue, "invalid hexadecimal data: odd number of digits")
			}
			lo, ok := unhex(s[i+1])
			if !ok {
				return nil, pgerr.New(pgerr.InvalidParameterValue, "invalid hexadecimal digit: %q", s[i+1:i+2])
			}
			out = append(out, hi<<4|lo)
			i += 2
		}
		return out, nil
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		c := s[i]
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		if i+1 < len(s) && s[i+1] == '\\' {
			out = append(out, '\\')
			i += 2
			continue
		}
		if i+3 < len(s) && s[i+1] >= '0' && s[i+1] <= '3' && s[i+2] >= '0' && s[i+2] <= '7' && s[i+3] >= '0' && s[i+3] <= '7' {
			out = append(out, (s[i+1]-'0')<<6|(s[i+2]-'0')<<3|(s[i+3]-'0'))
			i += 4
			continue
		}
		return nil, invalidSyntax("bytea", s)
	}
	return out, nil
}

func unhex(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

func appendBytea(buf []byte, b []byte, set *Settings) []byte {
	if set.ByteaOutput == "escape" {
		for _, c := range b {
			switch {
			case c == '\\':
				buf = append(buf, '\\', '\\')
			case c < 0x20 || c > 0x7e:
				buf = append(buf, '\\', '0'+c>>6, '0'+(c>>3)&7, '0'+c&7)
			default:
				buf = append(buf, c)
			}
		}
		return buf
	}
	buf = append(buf, '\\', 'x')
	n := len(buf)
	buf = append(buf, make([]byte, 2*len(b))...)
	hex.Encode(buf[n:], b)
	return buf
}

// parseUUID is uuid_in: 32 hex digits, a hyphen allowed after any group of
// four, optionally in braces.
func parseUUID(s string) (Datum, error) {
	var u UUID
	src := s
	braces := false
	if len(src) > 0 && src[0] == '{' {
		src = src[1:]
		braces = true
	}
	for i := 0; i < 16; i++ {
		if len(src) < 2 {
			return nil, invalidSyntax("uuid", s)
		}
		hi, ok1 := unhex(src[0])
		lo, ok2 := unhex(src[1])
		if !ok1 || !ok2 {
			return nil, invalidSyntax("uuid", s)
		}
		u[i] = hi<<4 | lo
		src = src[2:]
		if len(src) > 0 && src[0] == '-' && i%2 == 1 && i < 15 {
			src = src[1:]
		}
	}
	if braces {
		if len(src) == 0 || src[0] != '}' {
			return nil, invalidSyntax("uuid", s)
		}
		src = src[1:]
	}
	if src != "" {
		return nil, invalidSyntax("uuid", s)
	}
	return u, nil
}

func appendUUID(buf []byte, u UUID) []byte {
	const digits = "0123456789abcdef"
	for i, c := range u {
		if i == 4 || i == 6 || i == 8 || i == 10 {
			buf = append(buf, '-')
		}
		buf = append(buf, digits[c>>4], digits[c&15])
	}
	return buf
}

// parseArray is array_in for one-dimensional arrays.
func parseArray(t T, s string, set *Settings) (Datum, error) {
	elem := t.ElemType()
	malformed := func(detail string) error {
		return pgerr.New(pgerr.InvalidTextRepresentation, "malformed array literal: %q", s).WithDetail("%s", detail)
	}
	p := trimSpace(s)
	if strings.HasPrefix(p, "[") {
		// Explicit bounds: only [1:n]= is representable.
		eq := strings.IndexByte(p, '=')
		if eq < 0 {
			return nil, malformed("Missing \"=\" after array dimensions.")
		}
		dims := strings.TrimSpace(p[:eq])
		if strings.Count(dims, "[") != 1 || !strings.HasPrefix(dims, "[1:") {
			return nil, pgerr.New(pgerr.FeatureNotSupported, "only one-dimensional arrays with lower bound 1 are supported")
		}
		p = trimSpace(p[eq+1:])
	}
	if len(p) == 0 || p[0] != '{' {
		return nil, malformed("Array value must start with \"{\" or dimension information.")
	}
	arr := &Array{Elem: elem, Elems: []Datum{}}
	i := 1
	skip := func() {
		for i < len(p) && isSpace(p[i]) {
			i++
		}
	}
	skip()
	if i < len(p) && p[i] == '}' {
		i++
		skip()
		if i != len(p) {
			return nil, malformed("Junk after closing right brace.")
		}
		return arr, nil
	}
	var sb strings.Builder
	for {
		skip()
		if i >= len(p) {
			return nil, malformed("Unexpected end of input.")
		}
		if p[i] == '{' {
			return nil, pgerr.New(pgerr.FeatureNotSupported, "multidimensional arrays are not supported")
		}
		sb.Reset()
		quoted, sawQuote, escaped := false, false, false
		lastNonSpace := 0 // length of sb up to the last char that is not trailing unquoted space
		for {
			if i >= len(p) {
				return nil, malformed("Unexpected end of input.")
			}
			c := p[i]
			if c == '\\' {
				if i+1 >= len(p) {
					return nil, malformed("Unexpected end of input.")
				}
				sb.WriteByte(p[i+1])
				escaped = true
				i += 2
				lastNonSpace = sb.Len()
				continue
			}
			if c == '"' {
				if !quoted && sawQuote {
					return nil, malformed("Unexpected array element.")
				}
				if !quoted && sb.Len() > 0 {
					return nil, malformed("Unexpected array element.")
				}
				quoted = !quoted
				sawQuote = true
				i++
				lastNonSpace = sb.Len()
				continue
			}
			if quoted {
				sb.WriteByte(c)
				i++
				lastNonSpace = sb.Len()
				continue
			}
			if c == ',' || c == '}' {
				break
			}
			if c == '{' {
				return nil, malformed("Unexpected \"{\" character.")
			}
			if sawQuote && !isSpace(c) {
				return nil, malformed("Incorrectly quoted array element.")
			}
			sb.WriteByte(c)
			if !isSpace(c) {
				lastNonSpace = sb.Len()
			}
			i++
		}
		raw := sb.String()[:lastNonSpace]
		if !sawQuote && raw == "" {
			return nil, malformed("Unexpected \",\" character.")
		}
		if !sawQuote && !escaped && strings.EqualFold(raw, "NULL") {
			arr.Elems = append(arr.Elems, nil)
		} else {
			v, err := ParseText(elem, raw, set)
			if err != nil {
				return nil, err
			}
			arr.Elems = append(arr.Elems, v)
		}
		c := p[i]
		i++
		if c == '}' {
			break
		}
	}
	skip()
	if i != len(p) {
		return nil, malformed("Junk after closing right brace.")
	}
	return arr, nil
}

// appendArray is array_out for one-dimensional arrays.
func appendArray(buf []byte, a *Array, set *Settings) []byte {
	buf = append(buf, '{')
	var tmp []byte
	for i, e := range a.Elems {
		if i > 0 {
			buf = append(buf, ',')
		}
		if e == nil {
			buf = append(buf, "NULL"...)
			continue
		}
		tmp = AppendText(tmp[:0], a.Elem, e, set)
		if needsQuote(tmp) {
			buf = append(buf, '"')
			for _, c := range tmp {
				if c == '"' || c == '\\' {
					buf = append(buf, '\\')
				}
				buf = append(buf, c)
			}
			buf = append(buf, '"')
		} else {
			buf = append(buf, tmp...)
		}
	}
	return append(buf, '}')
}

func needsQuote(s []byte) bool {
	if len(s) == 0 || (len(s) == 4 && strings.EqualFold(string(s), "NULL")) {
		return true
	}
	for _, c := range s {
		switch c {
		case '{', '}', ',', '"', '\\':
			return true
		}
		if isSpace(c) {
			return true
		}
	}
	return false
}
