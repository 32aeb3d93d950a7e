package types

import (
	"sort"
	"strconv"
	"unicode/utf8"

	"github.com/strand-db/strand/sql/pgerr"
)

// JSON is checked by a recursive-descent reader that follows PostgreSQL's
// json lexer (src/common/jsonapi.c) closely enough to accept and reject the
// same texts; jsonb additionally builds a tree, which is printed back the
// way jsonb_out prints: object keys sorted shorter-first then bytewise, the
// last of duplicate keys kept, numbers as numeric prints them, and ", " and
// ": " between items.

type jsonKind uint8

// The kinds, in jsonb's sort order (null lowest, object highest).
const (
	jsonNull jsonKind = iota
	jsonString
	jsonNumber
	jsonBool
	jsonArray
	jsonObject
)

type jsonValue struct {
	kind jsonKind
	str  string // string; number in numeric's text form; bool "true"/"false"
	arr  []jsonValue
	keys []string // object keys, sorted, unique
	vals []jsonValue
}

type jsonParser struct {
	s     string
	i     int
	typ   string // "json" or "jsonb", for messages
	build bool
}

func validateJSON(s, typ string) error {
	p := &jsonParser{s: s, typ: typ}
	_, err := p.document()
	return err
}

func parseJSONB(s string) (Datum, error) {
	v, err := parseJSONValue(s)
	if err != nil {
		return nil, err
	}
	return JSONB(appendJSONValue(nil, v)), nil
}

func parseJSONValue(s string) (jsonValue, error) {
	p := &jsonParser{s: s, typ: "jsonb", build: true}
	return p.document()
}

func (p *jsonParser) fail(detail string) error {
	return pgerr.New(pgerr.InvalidTextRepresentation, "invalid input syntax for type %s", p.typ).WithDetail("%s", detail)
}

func (p *jsonParser) skipSpace() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonParser) document() (jsonValue, error) {
	p.skipSpace()
	v, err := p.value(0)
	if err != nil {
		return v, err
	}
	p.skipSpace()
	if p.i != len(p.s) {
		return v, p.fail("Expected end of input, but found more.")
	}
	return v, nil
}

func (p *jsonParser) value(depth int) (jsonValue, error) {
	if depth > 6400 {
		return jsonValue{}, pgerr.New(pgerr.ProgramLimitExceeded, "stack depth limit exceeded")
	}
	if p.i >= len(p.s) {
		return jsonValue{}, p.fail("The input string ended unexpectedly.")
	}
	switch c := p.s[p.i]; {
	case c == '{':
		return p.object(depth)
	case c == '[':
		return p.array(depth)
	case c == '"':
		s, err := p.str()
		return jsonValue{kind: jsonString, str: s}, err
	case c == '-' || (c >= '0' && c <= '9'):
		return p.number()
	default:
		start := p.i
		for p.i < len(p.s) && isJSONAlnum(p.s[p.i]) {
			p.i++
		}
		switch p.s[start:p.i] {
		case "true":
			return jsonValue{kind: jsonBool, str: "true"}, nil
		case "false":
			return jsonValue{kind: jsonBool, str: "false"}, nil
		case "null":
			return jsonValue{kind: jsonNull}, nil
		}
		if p.i == start {
			p.i++
		}
		return jsonValue{}, p.fail("Token \"" + p.s[start:p.i] + "\" is invalid.")
	}
}

func isJSONAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '$' || c >= 0x80
}

func (p *jsonParser) object(depth int) (jsonValue, error) {
	p.i++ // {
	v := jsonValue{kind: jsonObject}
	var keys []string
	var vals []jsonValue
	p.skipSpace()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		return v, nil
	}
	for {
		p.skipSpace()
		if p.i >= len(p.s) {
			return v, p.fail("The input string ended unexpectedly.")
		}
		if p.s[p.i] != '"' {
			return v, p.fail("Expected string or \"}\", but found something else.")
		}
		k, err := p.str()
		if err != nil {
			return v, err
		}
		p.skipSpace()
		if p.i >= len(p.s) {
			return v, p.fail("The input string ended unexpectedly.")
		}
		if p.s[p.i] != ':' {
			return v, p.fail("Expected \":\", but found something else.")
		}
		p.i++
		p.skipSpace()
		val, err := p.value(depth + 1)
		if err != nil {
			return v, err
		}
		if p.build {
			keys = append(keys, k)
			vals = append(vals, val)
		}
		p.skipSpace()
		if p.i >= len(p.s) {
			return v, p.fail("The input string ended unexpectedly.")
		}
		if p.s[p.i] == ',' {
			p.i++
			continue
		}
		if p.s[p.i] == '}' {
			p.i++
			break
		}
		return v, p.fail("Expected \",\" or \"}\", but found something else.")
	}
	if p.build {
		// Sort stably by jsonb's key order; of equal keys the last wins.
		idx := make([]int, len(keys))
		for i := range idx {
			idx[i] = i
		}
		sort.SliceStable(idx, func(a, b int) bool { return jsonbKeyLess(keys[idx[a]], keys[idx[b]]) })
		for n, i := range idx {
			if n+1 < len(idx) && keys[idx[n+1]] == keys[i] {
				continue
			}
			v.keys = append(v.keys, keys[i])
			v.vals = append(v.vals, vals[i])
		}
	}
	return v, nil
}

func jsonbKeyLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

func (p *jsonParser) array(depth int) (jsonValue, error) {
	p.i++ // [
	v := jsonValue{kind: jsonArray}
	p.skipSpace()
	if p.i < len(p.s) && p.s[p.i] == ']' {
		p.i++
		return v, nil
	}
	for {
		p.skipSpace()
		e, err := p.value(depth + 1)
		if err != nil {
			return v, err
		}
		if p.build {
			v.arr = append(v.arr, e)
		}
		p.skipSpace()
		if p.i >= len(p.s) {
			return v, p.fail("The input string ended unexpectedly.")
		}
		if p.s[p.i] == ',' {
			p.i++
			continue
		}
		if p.s[p.i] == ']' {
			p.i++
			return v, nil
		}
		return v, p.fail("Expected \",\" or \"]\", but found something else.")
	}
}

func (p *jsonParser) number() (jsonValue, error) {
	start := p.i
	if p.s[p.i] == '-' {
		p.i++
	}
	bad := false
	digit := func() bool { return p.i < len(p.s) && p.s[p.i] >= '0' && p.s[p.i] <= '9' }
	switch {
	case p.i < len(p.s) && p.s[p.i] == '0':
		p.i++
	case digit():
		for digit() {
			p.i++
		}
	default:
		bad = true
	}
	if p.i < len(p.s) && p.s[p.i] == '.' {
		p.i++
		if !digit() {
			bad = true
		}
		for digit() {
			p.i++
		}
	}
	if p.i < len(p.s) && (p.s[p.i] == 'e' || p.s[p.i] == 'E') {
		p.i++
		if p.i < len(p.s) && (p.s[p.i] == '+' || p.s[p.i] == '-') {
			p.i++
		}
		if !digit() {
			bad = true
		}
		for digit() {
			p.i++
		}
	}
	for p.i < len(p.s) && isJSONAlnum(p.s[p.i]) {
		p.i++
		bad = true
	}
	if bad {
		return jsonValue{}, p.fail("Token \"" + p.s[start:p.i] + "\" is invalid.")
	}
	if !p.build {
		return jsonValue{kind: jsonNumber}, nil
	}
	d, err := parseNumeric(p.s[start:p.i])
	if err != nil {
		return jsonValue{}, err
	}
	return jsonValue{kind: jsonNumber, str: string(appendNumeric(nil, d))}, nil
}

// str reads a string token; with build it returns the decoded text.
func (p *jsonParser) str() (string, error) {
	p.i++ // "
	var out []byte
	start := p.i
	hi := -1
	for {
		if p.i >= len(p.s) {
			return "", p.fail("The input string ended unexpectedly.")
		}
		c := p.s[p.i]
		if c == '"' {
			if hi != -1 && p.build {
				return "", p.fail("Unicode low surrogate must follow a high surrogate.")
			}
			p.i++
			if p.build && out == nil {
				return p.s[start : p.i-1], nil
			}
			return string(out), nil
		}
		if c < 0x20 {
			return "", p.fail("Character with value 0x" + hex2(c) + " must be escaped.")
		}
		if c != '\\' {
			if hi != -1 && p.build {
				return "", p.fail("Unicode low surrogate must follow a high surrogate.")
			}
			if out != nil {
				out = append(out, c)
			}
			p.i++
			continue
		}
		if p.build && out == nil {
			out = append([]byte{}, p.s[start:p.i]...)
		}
		p.i++
		if p.i >= len(p.s) {
			return "", p.fail("The input string ended unexpectedly.")
		}
		e := p.s[p.i]
		p.i++
		if e == 'u' {
			if p.i+4 > len(p.s) {
				return "", p.fail("\"\\u\" must be followed by four hexadecimal digits.")
			}
			ch, err := strconv.ParseUint(p.s[p.i:p.i+4], 16, 32)
			if err != nil || !isHex4(p.s[p.i:p.i+4]) {
				return "", p.fail("\"\\u\" must be followed by four hexadecimal digits.")
			}
			p.i += 4
			r := rune(ch)
			if !p.build {
				// json only checks the syntax of escapes.
				continue
			}
			switch {
			case r >= 0xd800 && r <= 0xdbff:
				if hi != -1 {
					return "", p.fail("Unicode high surrogate must not follow a high surrogate.")
				}
				hi = int(r)
				continue
			case r >= 0xdc00 && r <= 0xdfff:
				if hi == -1 {
					return "", p.fail("Unicode low surrogate must follow a high surrogate.")
				}
				r = 0x10000 + rune(hi&0x3ff)<<10 + (r & 0x3ff)
				hi = -1
			}
			if hi != -1 {
				return "", p.fail("Unicode low surrogate must follow a high surrogate.")
			}
			if p.build {
				if r == 0 {
					return "", pgerr.New(pgerr.UntranslatableCharacter, "unsupported Unicode escape sequence").
						WithDetail("\\u0000 cannot be converted to text.")
				}
				out = utf8.AppendRune(out, r)
			}
			continue
		}
		if hi != -1 && p.build {
			return "", p.fail("Unicode low surrogate must follow a high surrogate.")
		}
		var b byte
		switch e {
		case '"', '\\', '/':
			b = e
		case 'b':
			b = '\b'
		case 'f':
			b = '\f'
		case 'n':
			b = '\n'
		case 'r':
			b = '\r'
		case 't':
			b = '\t'
		default:
			return "", p.fail("Escape sequence \"\\" + string(e) + "\" is invalid.")
		}
		if p.build {
			out = append(out, b)
		}
	}
}

func isHex4(s string) bool {
	for i := 0; i < 4; i++ {
		if _, ok := unhex(s[i]); !ok {
			return false
		}
	}
	return true
}

func hex2(c byte) string {
	const d = "0123456789abcdef"
	return string([]byte{d[c>>4], d[c&15]})
}

func appendJSONValue(buf []byte, v jsonValue) []byte {
	switch v.kind {
	case jsonNull:
		return append(buf, "null"...)
	case jsonString:
		return appendJSONString(buf, v.str)
	case jsonNumber, jsonBool:
		return append(buf, v.str...)
	case jsonArray:
		buf = append(buf, '[')
		for i, e := range v.arr {
			if i > 0 {
				buf = append(buf, ", "...)
			}
			buf = appendJSONValue(buf, e)
		}
		return append(buf, ']')
	default:
		buf = append(buf, '{')
		for i, k := range v.keys {
			if i > 0 {
				buf = append(buf, ", "...)
			}
			buf = appendJSONString(buf, k)
			buf = append(buf, ": "...)
			buf = appendJSONValue(buf, v.vals[i])
		}
		return append(buf, '}')
	}
}

// appendJSONString is escape_json.
func appendJSONString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '\b':
			buf = append(buf, '\\', 'b')
		case '\f':
			buf = append(buf, '\\', 'f')
		case '\n':
			buf = append(buf, '\\', 'n')
		case '\r':
			buf = append(buf, '\\', 'r')
		case '\t':
			buf = append(buf, '\\', 't')
		case '"':
			buf = append(buf, '\\', '"')
		case '\\':
			buf = append(buf, '\\', '\\')
		default:
			if c < 0x20 {
				buf = append(buf, '\\', 'u', '0', '0', "0123456789abcdef"[c>>4], "0123456789abcdef"[c&15])
			} else {
				buf = append(buf, c)
			}
		}
	}
	return append(buf, '"')
}
