package exec

import (
	"regexp"
	"strings"
	"sync"

	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

// POSIX regular expressions: the ~ operators, regexp_replace and
// regexp_match. PostgreSQL's engine speaks ARE (advanced regular
// expressions); Go's RE2 speaks a near superset of the common subset, so a
// pattern is translated rather than reimplemented: ARE's "." and bracket
// negations match newlines (RE2's (?s)), \y \Y \m \M are word boundaries,
// \Z is the end of the string. What RE2 lacks (back references,
// lookahead) is refused with 2201B, as PostgreSQL refuses a bad pattern.

func init() {
	tArr := types.Make(types.TextArrayOID)
	register(
		&Func{Name: "textregexeq", Op: "~", Args: oids(oText, oText), Ret: tBool, Strict: true, Impl: regexOp(false, false)},
		&Func{Name: "texticregexeq", Op: "~*", Args: oids(oText, oText), Ret: tBool, Strict: true, Impl: regexOp(true, false)},
		&Func{Name: "textregexne", Op: "!~", Args: oids(oText, oText), Ret: tBool, Strict: true, Impl: regexOp(false, true)},
		&Func{Name: "texticregexne", Op: "!~*", Args: oids(oText, oText), Ret: tBool, Strict: true, Impl: regexOp(true, true)},
		fn("regexp_replace", oids(oText, oText, oText), tText, regexpReplace),
		fn("regexp_replace", oids(oText, oText, oText, oText), tText, regexpReplace),
		fn("regexp_match", oids(oText, oText), tArr, regexpMatch),
		fn("regexp_match", oids(oText, oText, oText), tArr, regexpMatch),
	)
}

func regexOp(fold, negate bool) impl {
	return func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
		re, err := compileARE(a[1].(string), reFlags{fold: fold})
		if err != nil {
			return nil, err
		}
		return re.MatchString(a[0].(string)) != negate, nil
	}
}

type reFlags struct {
	fold, newline, literal, global bool
}

// parseREFlags reads a flags argument; allowGlobal is false where 'g'
// makes no sense.
func parseREFlags(s, fname string, allowGlobal bool) (reFlags, error) {
	var f reFlags
	for _, c := range s {
		switch c {
		case 'g':
			if !allowGlobal {
				return f, pgerr.New(pgerr.InvalidParameterValue, "%s() does not support the \"global\" option", fname).
					WithHint("Use the regexp_matches function instead.")
			}
			f.global = true
		case 'i':
			f.fold = true
		case 'c':
			f.fold = false
		case 'n', 'm':
			f.newline = true
		case 's':
			f.newline = false
		case 'q':
			f.literal = true
		case 'p', 'w', 't', 'b', 'e', 'x':
			// partial newline sensitivity, tight syntax and the basic and
			// extended flavours are taken as the advanced default.
		default:
			return f, pgerr.New(pgerr.InvalidParameterValue, "invalid regular expression option: \"%c\"", c)
		}
	}
	return f, nil
}

var reCache struct {
	sync.Mutex
	m map[string]*regexp.Regexp
}

func compileARE(pat string, f reFlags) (*regexp.Regexp, error) {
	key := string([]byte{flagByte(f.fold), flagByte(f.newline), flagByte(f.literal)}) + pat
	reCache.Lock()
	re, ok := reCache.m[key]
	reCache.Unlock()
	if ok {
		return re, nil
	}
	var src string
	if f.literal {
		src = regexp.QuoteMeta(pat)
	} else {
		var err error
		if src, err = translateARE(pat, f.fold); err != nil {
			return nil, err
		}
	}
	prefix := "(?s)"
	if f.newline {
		prefix = "(?m)"
	}
	if f.fold && f.literal {
		prefix += "(?i)"
	}
	re, err := regexp.Compile(prefix + src)
	if err != nil {
		return nil, pgerr.New(pgerr.InvalidRegularExpression, "invalid regular expression: %s", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
	}
	reCache.Lock()
	if reCache.m == nil || len(reCache.m) > 512 {
		reCache.m = map[string]*regexp.Regexp{}
	}
	reCache.m[key] = re
	reCache.Unlock()
	return re, nil
}

// translateARE rewrites an ARE for RE2. With fold, ASCII letters match
// both cases; other letters only themselves, as under the C locale
// (RE2's (?i) would fold all of Unicode).
func translateARE(p string, fold bool) (string, error) {
	var b strings.Builder
	inBracket := false
	for i := 0; i < len(p); i++ {
		c := p[i]
		switch {
		case c == '\\':
			if i+1 >= len(p) {
				return "", pgerr.New(pgerr.InvalidRegularExpression, "invalid regular expression: invalid escape \\ sequence")
			}
			i++
			e := p[i]
			switch {
			case inBracket:
				b.WriteByte('\\')
				b.WriteByte(e)
			case e == 'y' || e == 'm' || e == 'M':
				b.WriteString(`\b`)
			case e == 'Y':
				b.WriteString(`\B`)
			case e == 'Z':
				b.WriteString(`\z`)
			case e >= '1' && e <= '9':
				return "", pgerr.New(pgerr.InvalidRegularExpression, "invalid regular expression: back references are not supported")
			default:
				b.WriteByte('\\')
				b.WriteByte(e)
			}
		case c == '[' && !inBracket:
			inBracket = true
			b.WriteByte(c)
			// A ] right after [ or [^ is a literal.
			if i+1 < len(p) && p[i+1] == '^' {
				i++
				b.WriteByte('^')
			}
			if i+1 < len(p) && p[i+1] == ']' {
				i++
				b.WriteString(`\]`)
			}
		case c == '[' && inBracket && i+1 < len(p) && (p[i+1] == ':' || p[i+1] == '.' || p[i+1] == '='):
			end := strings.Index(p[i+2:], string(p[i+1])+"]")
			if end < 0 {
				return "", pgerr.New(pgerr.InvalidRegularExpression, "invalid regular expression: brackets [] not balanced")
			}
			b.WriteString(p[i : i+2+end+2])
			i += 2 + end + 1
		case c == '{' && !inBracket:
			j := i + 1
			for j < len(p) && (p[j] >= '0' && p[j] <= '9' || p[j] == ',') {
				j++
			}
			if j == i+1 || j >= len(p) || p[j] != '}' {
				return "", pgerr.New(pgerr.InvalidRegularExpression, "invalid regular expression: invalid repetition count(s)")
			}
			b.WriteString(p[i : j+1])
			i = j
		case c == ']' && inBracket:
			inBracket = false
			b.WriteByte(c)
		case c == '(' && !inBracket && strings.HasPrefix(p[i:], "(?="), c == '(' && !inBracket && strings.HasPrefix(p[i:], "(?!"):
			return "", pgerr.New(pgerr.InvalidRegularExpression, "invalid regular expression: lookahead constraints are not supported")
		case fold && isASCIILetter(c) && inBracket:
			if i+2 < len(p) && p[i+1] == '-' && isASCIILetter(p[i+2]) {
				b.WriteString(p[i : i+3])
				b.WriteByte(otherCase(c))
				b.WriteByte('-')
				b.WriteByte(otherCase(p[i+2]))
				i += 2
				continue
			}
			b.WriteByte(c)
			b.WriteByte(otherCase(c))
		case fold && isASCIILetter(c):
			b.WriteByte('[')
			b.WriteByte(c)
			b.WriteByte(otherCase(c))
			b.WriteByte(']')
		default:
			b.WriteByte(c)
		}
	}
	if inBracket {
		return "", pgerr.New(pgerr.InvalidRegularExpression, "invalid regular expression: brackets [] not balanced")
	}
	return b.String(), nil
}

func regexpReplace(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
	s, pat, repl := a[0].(string), a[1].(string), a[2].(string)
	var f reFlags
	if len(a) == 4 {
		var err error
		if f, err = parseREFlags(a[3].(string), "regexp_replace", true); err != nil {
			return nil, err
		}
	}
	re, err := compileARE(pat, f)
	if err != nil {
		return nil, err
	}
	var b strings.Builder
	last := 0
	for _, m := range regexMatches(re, s, f.global) {
		b.WriteString(s[last:m[0]])
		appendReplacement(&b, s, repl, m)
		last = m[1]
		if !f.global {
			break
		}
	}
	b.WriteString(s[last:])
	return b.String(), nil
}

// appendReplacement expands \1..\9 and \& in repl; \\ is a backslash and
// any other backslash is kept.
func appendReplacement(b *strings.Builder, s, repl string, m []int) {
	for i := 0; i < len(repl); i++ {
		c := repl[i]
		if c != '\\' || i+1 >= len(repl) {
			b.WriteByte(c)
			continue
		}
		e := repl[i+1]
		switch {
		case e >= '1' && e <= '9':
			g := int(e - '0')
			if 2*g+1 < len(m) && m[2*g] >= 0 {
				b.WriteString(s[m[2*g]:m[2*g+1]])
			}
			i++
		case e == '&':
			b.WriteString(s[m[0]:m[1]])
			i++
		case e == '\\':
			b.WriteByte('\\')
			i++
		default:
			b.WriteByte('\\')
		}
	}
}

func regexpMatch(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
	s, pat := a[0].(string), a[1].(string)
	var f reFlags
	if len(a) == 3 {
		var err error
		if f, err = parseREFlags(a[2].(string), "regexp_match", false); err != nil {
			return nil, err
		}
	}
	re, err := compileARE(pat, f)
	if err != nil {
		return nil, err
	}
	m := re.FindStringSubmatchIndex(s)
	if m == nil {
		return nil, nil
	}
	arr := &types.Array{Elem: tText}
	if len(m) == 2 {
		arr.Elems = append(arr.Elems, s[m[0]:m[1]])
		return arr, nil
	}
	for g := 1; 2*g < len(m); g++ {
		if m[2*g] < 0 {
			arr.Elems = append(arr.Elems, nil)
		} else {
			arr.Elems = append(arr.Elems, s[m[2*g]:m[2*g+1]])
		}
	}
	return arr, nil
}

func flagByte(b bool) byte {
	if b {
		return '1'
	}
	return '0'
}

// regexMatches are the successive matches PostgreSQL's replacement loop
// finds: after a non-empty match, an empty match right where it ended
// counts too (Go's FindAll skips it).
func regexMatches(re *regexp.Regexp, s string, all bool) [][]int {
	if !all {
		if m := re.FindStringSubmatchIndex(s); m != nil {
			return [][]int{m}
		}
		return nil
	}
	ms := re.FindAllStringSubmatchIndex(s, -1)
	var out [][]int
	for i, m := range ms {
		out = append(out, m)
		e := m[1]
		if m[0] == e || i+1 < len(ms) && ms[i+1][0] == e {
			continue
		}
		if m2 := re.FindStringSubmatchIndex(s[e:]); m2 != nil && m2[0] == 0 && m2[1] == 0 {
			for j := range m2 {
				if m2[j] >= 0 {
					m2[j] += e
				}
			}
			out = append(out, m2)
		}
	}
	return out
}

func isASCIILetter(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }

func otherCase(c byte) byte { return c ^ 0x20 }
