package exec

import (
	"crypto/md5"
	"encoding/hex"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

// String functions. Strand's databases use the C locale, as the oracle
// does: case mapping (lower, upper, initcap) touches ASCII letters only,
// and lengths and positions count characters, not bytes.

// anyArg is the pseudo-type "any" in a signature (the planner's anyOID):
// the argument keeps its own type, which Impl reads from call.Args.
const anyArg = types.OID(2276)

type impl = func(*Env, *Call, []types.Datum) (types.Datum, error)

// strFn1 adapts a function of one text argument.
func strFn1(f func(string) types.Datum) impl {
	return func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) { return f(a[0].(string)), nil }
}

// fn is a strict function overload.
func fn(name string, args []types.OID, ret types.T, f impl) *Func {
	return &Func{Name: name, Args: args, Ret: ret, Strict: true, Impl: f}
}

// stable marks f as depending on the transaction or the session (Func.Stable).
func stable(f *Func) *Func {
	f.Stable = true
	return f
}

func oids(o ...types.OID) []types.OID { return o }

const (
	oText   = types.TextOID
	oInt4   = types.Int4OID
	oInt8   = types.Int8OID
	oFloat8 = types.Float8OID
	oNum    = types.NumericOID
	oBytea  = types.ByteaOID
)

func init() {
	length := strFn1(func(s string) types.Datum { return int64(utf8.RuneCountInString(s)) })
	for _, n := range []string{"length", "char_length", "character_length"} {
		register(fn(n, oids(oText), tInt4, length))
	}
	register(
		fn("length", oids(oBytea), tInt4, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return int64(len(a[0].([]byte))), nil
		}),
		fn("octet_length", oids(oText), tInt4, strFn1(func(s string) types.Datum { return int64(len(s)) })),
		fn("octet_length", oids(oBytea), tInt4, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return int64(len(a[0].([]byte))), nil
		}),
		fn("lower", oids(oText), tText, strFn1(func(s string) types.Datum { return asciiLower(s) })),
		fn("upper", oids(oText), tText, strFn1(func(s string) types.Datum { return asciiUpper(s) })),
		fn("initcap", oids(oText), tText, strFn1(func(s string) types.Datum { return initcap(s) })),
		fn("substr", oids(oText, oInt4), tText, substrImpl),
		fn("substr", oids(oText, oInt4, oInt4), tText, substrImpl),
		fn("substring", oids(oText, oInt4), tText, substrImpl),
		fn("substring", oids(oText, oInt4, oInt4), tText, substrImpl),
		fn("strpos", oids(oText, oText), tInt4, strposImpl),
		fn("position", oids(oText, oText), tInt4, func(e *Env, c *Call, a []types.Datum) (types.Datum, error) {
			// position(sub IN s) is position(s, sub) once parsed.
			return strposImpl(e, c, a)
		}),
		fn("left", oids(oText, oInt4), tText, leftRight(true)),
		fn("right", oids(oText, oInt4), tText, leftRight(false)),
		fn("lpad", oids(oText, oInt4), tText, padImpl(true)),
		fn("lpad", oids(oText, oInt4, oText), tText, padImpl(true)),
		fn("rpad", oids(oText, oInt4), tText, padImpl(false)),
		fn("rpad", oids(oText, oInt4, oText), tText, padImpl(false)),
		fn("ltrim", oids(oText), tText, trimImpl(true, false)),
		fn("ltrim", oids(oText, oText), tText, trimImpl(true, false)),
		fn("rtrim", oids(oText), tText, trimImpl(false, true)),
		fn("rtrim", oids(oText, oText), tText, trimImpl(false, true)),
		fn("btrim", oids(oText), tText, trimImpl(true, true)),
		fn("btrim", oids(oText, oText), tText, trimImpl(true, true)),
		fn("trim", oids(oText), tText, trimImpl(true, true)),
		fn("trim", oids(oText, oText), tText, trimImpl(true, true)),
		fn("replace", oids(oText, oText, oText), tText, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			s, from, to := a[0].(string), a[1].(string), a[2].(string)
			if from == "" {
				return s, nil
			}
			return strings.ReplaceAll(s, from, to), nil
		}),
		fn("repeat", oids(oText, oInt4), tText, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			s, n := a[0].(string), a[1].(int64)
			if n <= 0 || s == "" {
				return "", nil
			}
			if int64(len(s))*n > 1<<30-1 {
				return nil, pgerr.New(pgerr.ProgramLimitExceeded, "requested length too large")
			}
			return strings.Repeat(s, int(n)), nil
		}),
		fn("reverse", oids(oText), tText, strFn1(func(s string) types.Datum {
			r := []rune(s)
			for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
				r[i], r[j] = r[j], r[i]
			}
			return string(r)
		})),
		fn("split_part", oids(oText, oText, oInt4), tText, splitPart),
		&Func{Name: "concat", Args: oids(anyArg), Variadic: true, Ret: tText, Impl: concatImpl},
		&Func{Name: "concat_ws", Args: oids(oText, anyArg), Variadic: true, Ret: tText, Impl: concatWSImpl},
		&Func{Name: "format", Args: oids(oText), Ret: tText, Impl: formatImpl},
		&Func{Name: "format", Args: oids(oText, anyArg), Variadic: true, Ret: tText, Impl: formatImpl},
		fn("md5", oids(oText), tText, strFn1(func(s string) types.Datum {
			h := md5.Sum([]byte(s))
			return hex.EncodeToString(h[:])
		})),
		fn("md5", oids(oBytea), tText, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			h := md5.Sum(a[0].([]byte))
			return hex.EncodeToString(h[:]), nil
		}),
		fn("ascii", oids(oText), tInt4, strFn1(func(s string) types.Datum {
			if s == "" {
				return int64(0)
			}
			r, _ := utf8.DecodeRuneInString(s)
			return int64(r)
		})),
		fn("chr", oids(oInt4), tText, chrImpl),
		fn("starts_with", oids(oText, oText), tBool, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return strings.HasPrefix(a[0].(string), a[1].(string)), nil
		}),
		fn("translate", oids(oText, oText, oText), tText, translateImpl),
		fn("quote_ident", oids(oText), tText, strFn1(func(s string) types.Datum { return quoteIdent(s) })),
		fn("quote_literal", oids(oText), tText, strFn1(func(s string) types.Datum { return quoteLiteralE(s) })),
		fn("quote_literal", oids(anyArg), tText, func(env *Env, c *Call, a []types.Datum) (types.Datum, error) {
			return quoteLiteralE(argText(env, c, 0, a[0])), nil
		}),
		&Func{Name: "quote_nullable", Args: oids(oText), Ret: tText, Impl: func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			if a[0] == nil {
				return "NULL", nil
			}
			return quoteLiteralE(a[0].(string)), nil
		}},
		fn("to_hex", oids(oInt4), tText, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return strconv.FormatUint(uint64(uint32(a[0].(int64))), 16), nil
		}),
		fn("to_hex", oids(oInt8), tText, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return strconv.FormatUint(uint64(a[0].(int64)), 16), nil
		}),
		&Func{Name: "textanycat", Op: "||", Args: oids(oText, anyArg), Ret: tText, Strict: true, Impl: func(env *Env, c *Call, a []types.Datum) (types.Datum, error) {
			return a[0].(string) + castText(env, c, 1, a[1]), nil
		}},
		&Func{Name: "anytextcat", Op: "||", Args: oids(anyArg, oText), Ret: tText, Strict: true, Impl: func(env *Env, c *Call, a []types.Datum) (types.Datum, error) {
			return castText(env, c, 0, a[0]) + a[1].(string), nil
		}},
	)
}

// argText is argument i printed by its type's output function, as
// concat and the text || anynonarray operators see it.
func argText(env *Env, c *Call, i int, v types.Datum) string {
	var set *types.Settings
	if env != nil {
		set = env.Settings
	}
	return types.FormatText(c.Args[i].Type(), v, set)
}

// castText is argument i cast to text, as the text || anynonarray
// operators do (a boolean is 'true', not the output function's 't').
func castText(env *Env, c *Call, i int, v types.Datum) string {
	if t := c.Args[i].Type(); t.OID == types.BoolOID {
		return strconv.FormatBool(v.(bool))
	}
	return argText(env, c, i, v)
}

func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'A' && c <= 'Z' {
			b[i] = c + 32
		}
	}
	return string(b)
}

func asciiUpper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 32
		}
	}
	return string(b)
}

func isASCIIAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// initcap upper-cases the first letter of each run of alphanumerics and
// lower-cases the rest; under the C locale non-ASCII bytes separate words.
func initcap(s string) string {
	b := []byte(s)
	inWord := false
	for i, c := range b {
		switch {
		case c >= 'a' && c <= 'z' && !inWord:
			b[i] = c - 32
		case c >= 'A' && c <= 'Z' && inWord:
			b[i] = c + 32
		}
		inWord = isASCIIAlnum(c)
	}
	return string(b)
}

func substrImpl(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
	s := a[0].(string)
	start := a[1].(int64)
	r := []rune(s)
	end := int64(len(r)) + 1
	if len(a) == 3 {
		n := a[2].(int64)
		if n < 0 {
			return nil, pgerr.New(pgerr.SubstringError, "negative substring length not allowed")
		}
		end = start + n
	}
	if start < 1 {
		start = 1
	}
	if end > int64(len(r))+1 {
		end = int64(len(r)) + 1
	}
	if end <= start {
		return "", nil
	}
	return string(r[start-1 : end-1]), nil
}

func strposImpl(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
	s, sub := a[0].(string), a[1].(string)
	i := strings.Index(s, sub)
	if i < 0 {
		return int64(0), nil
	}
	return int64(utf8.RuneCountInString(s[:i]) + 1), nil
}

func leftRight(left bool) impl {
	return func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
		r := []rune(a[0].(string))
		n := a[1].(int64)
		k := int64(len(r))
		if n >= 0 {
			k = min(n, k)
		} else {
			k = max(k+n, 0)
		}
		if left {
			return string(r[:k]), nil
		}
		return string(r[int64(len(r))-k:]), nil
	}
}

func padImpl(left bool) impl {
	return func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
		r := []rune(a[0].(string))
		n := a[1].(int64)
		fill := []rune(" ")
		if len(a) == 3 {
			fill = []rune(a[2].(string))
		}
		if n <= 0 {
			return "", nil
		}
		if n > 1<<28 {
			return nil, pgerr.New(pgerr.ProgramLimitExceeded, "requested length too large")
		}
		if int64(len(r)) >= n || len(fill) == 0 {
			return string(r[:min(int64(len(r)), n)]), nil
		}
		pad := make([]rune, 0, n-int64(len(r)))
		for i := 0; int64(len(pad)) < n-int64(len(r)); i++ {
			pad = append(pad, fill[i%len(fill)])
		}
		if left {
			return string(pad) + string(r), nil
		}
		return string(r) + string(pad), nil
	}
}

func trimImpl(left, right bool) impl {
	return func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
		s := a[0].(string)
		set := " "
		if len(a) == 2 {
			set = a[1].(string)
		}
		if left {
			s = strings.TrimLeft(s, set)
		}
		if right {
			s = strings.TrimRight(s, set)
		}
		return s, nil
	}
}

func splitPart(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
	s, delim, n := a[0].(string), a[1].(string), a[2].(int64)
	if n == 0 {
		return nil, pgerr.New(pgerr.InvalidParameterValue, "field position must not be zero")
	}
	if s == "" {
		return "", nil
	}
	var parts []string
	if delim == "" {
		parts = []string{s}
	} else {
		parts = strings.Split(s, delim)
	}
	if n < 0 {
		n += int64(len(parts)) + 1
	}
	if n < 1 || n > int64(len(parts)) {
		return "", nil
	}
	return parts[n-1], nil
}

func concatImpl(env *Env, c *Call, a []types.Datum) (types.Datum, error) {
	var b strings.Builder
	for i, v := range a {
		if v != nil {
			b.WriteString(argText(env, c, i, v))
		}
	}
	return b.String(), nil
}

func concatWSImpl(env *Env, c *Call, a []types.Datum) (types.Datum, error) {
	if a[0] == nil {
		return nil, nil
	}
	sep := a[0].(string)
	var b strings.Builder
	first := true
	for i := 1; i < len(a); i++ {
		if a[i] == nil {
			continue
		}
		if !first {
			b.WriteString(sep)
		}
		first = false
		b.WriteString(argText(env, c, i, a[i]))
	}
	return b.String(), nil
}

// formatImpl is format(): %s, %I, %L and %%, with optional n$ argument
// positions and a width (with - for left alignment, * from an argument).
func formatImpl(env *Env, c *Call, a []types.Datum) (types.Datum, error) {
	if a[0] == nil {
		return nil, nil
	}
	f := a[0].(string)
	args := a[1:]
	var b strings.Builder
	next := 0
	bad := func(msg string) error { return pgerr.New(pgerr.InvalidParameterValue, "%s", msg) }
	for i := 0; i < len(f); i++ {
		if f[i] != '%' {
			b.WriteByte(f[i])
			continue
		}
		i++
		if i >= len(f) {
			return nil, bad("unterminated format() type specifier")
		}
		if f[i] == '%' {
			b.WriteByte('%')
			continue
		}
		// [n$][-][width]type
		readNum := func() (int, bool) {
			j := i
			for i < len(f) && f[i] >= '0' && f[i] <= '9' {
				i++
			}
			if j == i {
				return 0, false
			}
			n, _ := strconv.Atoi(f[j:i])
			return n, true
		}
		argIdx := -1
		save := i
		if n, ok := readNum(); ok && i < len(f) && f[i] == '$' {
			if n == 0 {
				return nil, bad("format specifies argument 0, but arguments are numbered from 1")
			}
			argIdx = n - 1
			i++
		} else {
			i = save
		}
		left := false
		if i < len(f) && f[i] == '-' {
			left = true
			i++
		}
		width := 0
		if i < len(f) && f[i] == '*' {
			i++
			if next >= len(args) {
				return nil, bad("too few arguments for format()")
			}
			if args[next] != nil {
				w := int(args[next].(int64))
				if w < 0 {
					left, w = true, -w
				}
				width = w
			}
			next++
		} else if n, ok := readNum(); ok {
			width = n
		}
		if i >= len(f) {
			return nil, bad("unterminated format() type specifier")
		}
		if argIdx < 0 {
			argIdx = next
		}
		next = argIdx + 1
		conv := f[i]
		if conv != 's' && conv != 'I' && conv != 'L' {
			return nil, pgerr.New(pgerr.InvalidParameterValue, "unrecognized format() type specifier \"%c\"", conv).
				WithHint("For a single \"%%\" use \"%%%%\".")
		}
		if argIdx >= len(args) {
			return nil, bad("too few arguments for format()")
		}
		v := args[argIdx]
		var s string
		switch {
		case v == nil && conv == 'I':
			return nil, pgerr.New(pgerr.NullValueNotAllowed, "null values cannot be formatted as an SQL identifier")
		case v == nil && conv == 'L':
			s = "NULL"
		case v == nil:
		default:
			s = argText(env, c, argIdx+1, v)
			switch conv {
			case 'I':
				s = quoteIdent(s)
			case 'L':
				s = quoteLiteralE(s)
			}
		}
		if pad := width - utf8.RuneCountInString(s); pad > 0 {
			if left {
				s += strings.Repeat(" ", pad)
			} else {
				s = strings.Repeat(" ", pad) + s
			}
		}
		b.WriteString(s)
	}
	return b.String(), nil
}

func chrImpl(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
	v := a[0].(int64)
	switch {
	case v < 0:
		return nil, pgerr.New(pgerr.InvalidParameterValue, "character number must be positive")
	case v == 0:
		return nil, pgerr.New(pgerr.ProgramLimitExceeded, "null character not permitted")
	case v > 0x10ffff:
		return nil, pgerr.New(pgerr.ProgramLimitExceeded, "requested character too large for encoding: %d", v)
	case v >= 0xd800 && v <= 0xdfff:
		return nil, pgerr.New(pgerr.ProgramLimitExceeded, "requested character not valid for encoding: %d", v)
	}
	return string(rune(v)), nil
}

func translateImpl(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
	s, from, to := a[0].(string), []rune(a[1].(string)), []rune(a[2].(string))
	var b strings.Builder
	for _, r := range s {
		idx := -1
		for i, f := range from {
			if f == r {
				idx = i
				break
			}
		}
		switch {
		case idx < 0:
			b.WriteRune(r)
		case idx < len(to):
			b.WriteRune(to[idx])
		}
	}
	return b.String(), nil
}

// quoteIdent is quote_ident: quotes unless s is a lower-case identifier
// that is not a reserved keyword.
func quoteIdent(s string) string {
	safe := s != "" && (s[0] >= 'a' && s[0] <= 'z' || s[0] == '_')
	for i := 0; safe && i < len(s); i++ {
		c := s[i]
		safe = c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_'
	}
	if safe && !reservedKeywords[s] {
		return s
	}
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// reservedKeywords are PostgreSQL's keywords that quote_ident quotes: all
// but the unreserved ones.
var reservedKeywords = func() map[string]bool {
	m := map[string]bool{}
	for _, k := range strings.Fields(`all analyse analyze and any array as asc asymmetric authorization
		between bigint binary bit boolean both case cast char character check coalesce collate collation
		column concurrently constraint create cross current_catalog current_date current_role current_schema
		current_time current_timestamp current_user dec decimal default deferrable desc distinct do else end
		except exists extract false fetch float for foreign freeze from full grant greatest group grouping
		having ilike in initially inner inout int integer intersect interval into is isnull join lateral
		leading least left like limit localtime localtimestamp national natural nchar none normalize not
		notnull null nullif numeric offset on only or order out outer overlaps overlay placing position
		precision primary real references returning right row select session_user setof similar smallint
		some substring symmetric table tablesample then time timestamp to trailing treat trim true union
		unique user using values varchar variadic verbose when where window with xmlattributes xmlconcat
		xmlelement xmlexists xmlforest xmlnamespaces xmlparse xmlpi xmlroot xmlserialize xmltable`) {
		m[k] = true
	}
	return m
}()

// quoteLiteralE is quote_literal: single quotes doubled, and with an E
// prefix and doubled backslashes when s has a backslash.
func quoteLiteralE(s string) string {
	q := "'" + strings.ReplaceAll(s, "'", "''") + "'"
	if strings.Contains(s, `\`) {
		q = "E" + strings.ReplaceAll(q, `\`, `\\`)
	}
	return q
}
