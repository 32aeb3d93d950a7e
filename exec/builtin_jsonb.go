package exec

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/cockroachdb/apd/v3"

	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

// jsonb operators and functions. A jsonb Datum is its normalized text, so
// each call parses it into a jsonValue tree, works on the tree and prints
// it back the way jsonb_out does: objects with keys sorted shorter first
// then bytewise, duplicates resolved to the last, ", " and ": "
// separators, numbers as numeric prints them.

type jsonKind byte

const (
	jNull jsonKind = iota
	jBool
	jNumber
	jString
	jArray
	jObject
)

type jsonValue struct {
	kind jsonKind
	b    bool
	num  *apd.Decimal
	str  string
	arr  []*jsonValue
	keys []string // objects: sorted, unique
	vals []*jsonValue
}

var jsonKindName = [...]string{"null", "boolean", "number", "string", "array", "object"}

func invalidJSON(s string) error {
	return pgerr.New(pgerr.InvalidJSONText, "invalid input syntax for type json").WithDetail("%s", s)
}

type jsonReader struct {
	s string
	i int
}

func parseJSON(s string) (*jsonValue, error) {
	r := &jsonReader{s: s}
	v, err := r.value()
	if err != nil {
		return nil, err
	}
	r.space()
	if r.i != len(r.s) {
		return nil, invalidJSON("Expected end of input.")
	}
	return v, nil
}

// mustJSONB parses a jsonb Datum, which is well formed by construction.
func mustJSONB(d types.Datum) *jsonValue {
	v, err := parseJSON(string(d.(types.JSONB)))
	if err != nil {
		panic("exec: malformed jsonb datum: " + err.Error())
	}
	return v
}

func (r *jsonReader) space() {
	for r.i < len(r.s) && (r.s[r.i] == ' ' || r.s[r.i] == '\t' || r.s[r.i] == '\n' || r.s[r.i] == '\r') {
		r.i++
	}
}

func (r *jsonReader) value() (*jsonValue, error) {
	r.space()
	if r.i >= len(r.s) {
		return nil, invalidJSON("The input string ended unexpectedly.")
	}
	switch c := r.s[r.i]; {
	case c == '{':
		r.i++
		obj := map[string]*jsonValue{}
		r.space()
		if r.i < len(r.s) && r.s[r.i] == '}' {
			r.i++
			return newObject(obj), nil
		}
		for {
			r.space()
			if r.i >= len(r.s) || r.s[r.i] != '"' {
				return nil, invalidJSON("Expected string.")
			}
			k, err := r.str()
			if err != nil {
				return nil, err
			}
			r.space()
			if r.i >= len(r.s) || r.s[r.i] != ':' {
				return nil, invalidJSON("Expected \":\".")
			}
			r.i++
			v, err := r.value()
			if err != nil {
				return nil, err
			}
			obj[k] = v
			r.space()
			if r.i < len(r.s) && r.s[r.i] == ',' {
				r.i++
				continue
			}
			if r.i < len(r.s) && r.s[r.i] == '}' {
				r.i++
				return newObject(obj), nil
			}
			return nil, invalidJSON("Expected \",\" or \"}\".")
		}
	case c == '[':
		r.i++
		v := &jsonValue{kind: jArray}
		r.space()
		if r.i < len(r.s) && r.s[r.i] == ']' {
			r.i++
			return v, nil
		}
		for {
			e, err := r.value()
			if err != nil {
				return nil, err
			}
			v.arr = append(v.arr, e)
			r.space()
			if r.i < len(r.s) && r.s[r.i] == ',' {
				r.i++
				continue
			}
			if r.i < len(r.s) && r.s[r.i] == ']' {
				r.i++
				return v, nil
			}
			return nil, invalidJSON("Expected \",\" or \"]\".")
		}
	case c == '"':
		s, err := r.str()
		if err != nil {
			return nil, err
		}
		return &jsonValue{kind: jString, str: s}, nil
	case c == '-' || c >= '0' && c <= '9':
		j := r.i
		for r.i < len(r.s) && strings.IndexByte("+-0123456789.eE", r.s[r.i]) >= 0 {
			r.i++
		}
		d, err := types.NewNumeric(r.s[j:r.i])
		if err != nil {
			return nil, invalidJSON("Token \"" + r.s[j:r.i] + "\" is invalid.")
		}
		return &jsonValue{kind: jNumber, num: d}, nil
	default:
		for _, lit := range []string{"true", "false", "null"} {
			if strings.HasPrefix(r.s[r.i:], lit) {
				r.i += len(lit)
				switch lit {
				case "true":
					return &jsonValue{kind: jBool, b: true}, nil
				case "false":
					return &jsonValue{kind: jBool}, nil
				}
				return &jsonValue{kind: jNull}, nil
			}
		}
		return nil, invalidJSON("Token is invalid.")
	}
}

func (r *jsonReader) str() (string, error) {
	r.i++ // opening quote
	var b strings.Builder
	for r.i < len(r.s) {
		c := r.s[r.i]
		switch {
		case c == '"':
			r.i++
			return b.String(), nil
		case c == '\\':
			if r.i+1 >= len(r.s) {
				return "", invalidJSON("The input string ended unexpectedly.")
			}
			e := r.s[r.i+1]
			r.i += 2
			switch e {
			case 'b':
				b.WriteByte('\b')
			case 'f':
				b.WriteByte('\f')
			case 'n':
				b.WriteByte('\n')
			case 'r':
				b.WriteByte('\r')
			case 't':
				b.WriteByte('\t')
			case 'u':
				if r.i+4 > len(r.s) {
					return "", invalidJSON("\"\\u\" must be followed by four hexadecimal digits.")
				}
				v, err := strconv.ParseUint(r.s[r.i:r.i+4], 16, 32)
				if err != nil {
					return "", invalidJSON("\"\\u\" must be followed by four hexadecimal digits.")
				}
				r.i += 4
				cp := rune(v)
				if cp >= 0xd800 && cp < 0xdc00 && strings.HasPrefix(r.s[r.i:], `\u`) && r.i+6 <= len(r.s) {
					if lo, err := strconv.ParseUint(r.s[r.i+2:r.i+6], 16, 32); err == nil && lo >= 0xdc00 && lo < 0xe000 {
						cp = (cp-0xd800)<<10 + (rune(lo) - 0xdc00) + 0x10000
						r.i += 6
					}
				}
				b.WriteRune(cp)
			default:
				b.WriteByte(e)
			}
		default:
			b.WriteByte(c)
			r.i++
		}
	}
	return "", invalidJSON("The input string ended unexpectedly.")
}

func jsonbKeyLess(a, b string) bool {
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return a < b
}

func newObject(m map[string]*jsonValue) *jsonValue {
	v := &jsonValue{kind: jObject}
	for k := range m {
		v.keys = append(v.keys, k)
	}
	sortKeys(v.keys)
	for _, k := range v.keys {
		v.vals = append(v.vals, m[k])
	}
	return v
}

func sortKeys(keys []string) {
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && jsonbKeyLess(keys[j], keys[j-1]); j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
}

func (v *jsonValue) get(key string) *jsonValue {
	for i, k := range v.keys {
		if k == key {
			return v.vals[i]
		}
	}
	return nil
}

func (v *jsonValue) objectMap() map[string]*jsonValue {
	m := make(map[string]*jsonValue, len(v.keys))
	for i, k := range v.keys {
		m[k] = v.vals[i]
	}
	return m
}

func (v *jsonValue) appendTo(buf []byte) []byte {
	switch v.kind {
	case jNull:
		return append(buf, "null"...)
	case jBool:
		return strconv.AppendBool(buf, v.b)
	case jNumber:
		return types.AppendText(buf, tNumeric, v.num, nil)
	case jString:
		return appendJSONString(buf, v.str)
	case jArray:
		buf = append(buf, '[')
		for i, e := range v.arr {
			if i > 0 {
				buf = append(buf, ", "...)
			}
			buf = e.appendTo(buf)
		}
		return append(buf, ']')
	}
	buf = append(buf, '{')
	for i, k := range v.keys {
		if i > 0 {
			buf = append(buf, ", "...)
		}
		buf = appendJSONString(buf, k)
		buf = append(buf, ": "...)
		buf = v.vals[i].appendTo(buf)
	}
	return append(buf, '}')
}

func (v *jsonValue) jsonb() types.JSONB { return types.JSONB(v.appendTo(nil)) }

// text is what ->> and #>> give: a string unquoted, JSON null as SQL
// NULL, anything else printed.
func (v *jsonValue) text() types.Datum {
	switch v.kind {
	case jNull:
		return nil
	case jString:
		return v.str
	}
	return string(v.appendTo(nil))
}

func appendJSONString(buf []byte, s string) []byte {
	buf = append(buf, '"')
	for i := 0; i < len(s); {
		c := s[i]
		switch c {
		case '"':
			buf = append(buf, `\"`...)
		case '\\':
			buf = append(buf, `\\`...)
		case '\b':
			buf = append(buf, `\b`...)
		case '\f':
			buf = append(buf, `\f`...)
		case '\n':
			buf = append(buf, `\n`...)
		case '\r':
			buf = append(buf, `\r`...)
		case '\t':
			buf = append(buf, `\t`...)
		default:
			if c < 0x20 {
				buf = append(buf, `\u00`...)
				buf = append(buf, "0123456789abcdef"[c>>4], "0123456789abcdef"[c&15])
			} else {
				_, n := utf8.DecodeRuneInString(s[i:])
				buf = append(buf, s[i:i+n]...)
				i += n
				continue
			}
		}
		i++
	}
	return append(buf, '"')
}

func (v *jsonValue) pretty(buf []byte, indent int) []byte {
	pad := func(b []byte, n int) []byte {
		for i := 0; i < n; i++ {
			b = append(b, "    "...)
		}
		return b
	}
	switch v.kind {
	case jArray:
		buf = append(buf, "[\n"...)
		for i, e := range v.arr {
			if i > 0 {
				buf = append(buf, ",\n"...)
			}
			buf = pad(buf, indent+1)
			buf = e.pretty(buf, indent+1)
		}
		if len(v.arr) > 0 {
			buf = append(buf, '\n')
		}
		buf = pad(buf, indent)
		return append(buf, ']')
	case jObject:
		buf = append(buf, "{\n"...)
		for i, k := range v.keys {
			if i > 0 {
				buf = append(buf, ",\n"...)
			}
			buf = pad(buf, indent+1)
			buf = appendJSONString(buf, k)
			buf = append(buf, ": "...)
			buf = v.vals[i].pretty(buf, indent+1)
		}
		if len(v.keys) > 0 {
			buf = append(buf, '\n')
		}
		buf = pad(buf, indent)
		return append(buf, '}')
	}
	return v.appendTo(buf)
}

func jsonEqual(a, b *jsonValue) bool {
	if a.kind != b.kind {
		return false
	}
	switch a.kind {
	case jNull:
		return true
	case jBool:
		return a.b == b.b
	case jNumber:
		return a.num.Cmp(b.num) == 0
	case jString:
		return a.str == b.str
	case jArray:
		if len(a.arr) != len(b.arr) {
			return false
		}
		for i := range a.arr {
			if !jsonEqual(a.arr[i], b.arr[i]) {
				return false
			}
		}
		return true
	}
	if len(a.keys) != len(b.keys) {
		return false
	}
	for i := range a.keys {
		if a.keys[i] != b.keys[i] || !jsonEqual(a.vals[i], b.vals[i]) {
			return false
		}
	}
	return true
}

// jsonContains is JsonbDeepContains, with the top-level rule that an array
// contains a scalar it has as an element.
func jsonContains(a, b *jsonValue, top bool) bool {
	if top && a.kind == jArray && b.kind != jArray && b.kind != jObject {
		for _, e := range a.arr {
			if jsonEqual(e, b) {
				return true
			}
		}
		return false
	}
	if a.kind != b.kind {
		return false
	}
	switch a.kind {
	case jObject:
		for i, k := range b.keys {
			av := a.get(k)
			if av == nil {
				return false
			}
			bv := b.vals[i]
			if av.kind != bv.kind {
				return false
			}
			if bv.kind == jObject || bv.kind == jArray {
				if !jsonContains(av, bv, false) {
					return false
				}
			} else if !jsonEqual(av, bv) {
				return false
			}
		}
		return true
	case jArray:
		for _, be := range b.arr {
			found := false
			for _, ae := range a.arr {
				if be.kind == jObject || be.kind == jArray {
					if ae.kind == be.kind && jsonContains(ae, be, false) {
						found = true
					}
				} else if jsonEqual(ae, be) {
					found = true
				}
				if found {
					break
				}
			}
			if !found {
				return false
			}
		}
		return true
	}
	return jsonEqual(a, b)
}

func jsonExists(v *jsonValue, key string) bool {
	switch v.kind {
	case jObject:
		return v.get(key) != nil
	case jArray:
		for _, e := range v.arr {
			if e.kind == jString && e.str == key {
				return true
			}
		}
	case jString:
		return v.str == key
	}
	return false
}

func jsonIndex(v *jsonValue, i int64) *jsonValue {
	if v.kind != jArray {
		return nil
	}
	if i < 0 {
		i += int64(len(v.arr))
	}
	if i < 0 || i >= int64(len(v.arr)) {
		return nil
	}
	return v.arr[i]
}

// rootAsArray: a scalar document is stored as a one-element raw-scalar
// array, so element access on it sees that array.
func rootAsArray(v *jsonValue) *jsonValue {
	if v.kind == jArray || v.kind == jObject {
		return v
	}
	return &jsonValue{kind: jArray, arr: []*jsonValue{v}}
}

func jsonPath(v *jsonValue, path []types.Datum) *jsonValue {
	for _, p := range path {
		if p == nil || v == nil {
			return nil
		}
		k := p.(string)
		switch v.kind {
		case jObject:
			v = v.get(k)
		case jArray:
			i, err := strconv.ParseInt(strings.TrimSpace(k), 10, 32)
			if err != nil {
				return nil
			}
			v = jsonIndex(v, i)
		default:
			return nil
		}
	}
	return v
}

func textArray(d types.Datum) []types.Datum { return d.(*types.Array).Elems }

func jsonConcat(a, b *jsonValue) *jsonValue {
	if a.kind == jObject && b.kind == jObject {
		m := a.objectMap()
		for i, k := range b.keys {
			m[k] = b.vals[i]
		}
		return newObject(m)
	}
	elems := func(v *jsonValue) []*jsonValue {
		if v.kind == jArray {
			return v.arr
		}
		return []*jsonValue{v}
	}
	r := &jsonValue{kind: jArray}
	r.arr = append(append(r.arr, elems(a)...), elems(b)...)
	return r
}

func jsonDeleteKeys(v *jsonValue, keys map[string]bool) (*jsonValue, error) {
	switch v.kind {
	case jObject:
		m := v.objectMap()
		for k := range keys {
			delete(m, k)
		}
		return newObject(m), nil
	case jArray:
		r := &jsonValue{kind: jArray}
		for _, e := range v.arr {
			if !(e.kind == jString && keys[e.str]) {
				r.arr = append(r.arr, e)
			}
		}
		return r, nil
	}
	return nil, pgerr.New(pgerr.InvalidParameterValue, "cannot delete from scalar")
}

// toJSON converts a SQL value to JSON as to_jsonb does.
func toJSON(t types.T, d types.Datum, set *types.Settings) (*jsonValue, error) {
	if d == nil {
		return &jsonValue{kind: jNull}, nil
	}
	switch t.OID {
	case types.BoolOID:
		return &jsonValue{kind: jBool, b: d.(bool)}, nil
	case types.Int2OID, types.Int4OID, types.Int8OID, types.OIDOID:
		return &jsonValue{kind: jNumber, num: apd.New(d.(int64), 0)}, nil
	case types.Float4OID, types.Float8OID, types.NumericOID:
		s := types.FormatText(t, d, set)
		n, err := types.NewNumeric(s)
		if err != nil || n.Form != apd.Finite {
			return &jsonValue{kind: jString, str: s}, nil
		}
		return &jsonValue{kind: jNumber, num: n}, nil
	case types.JSONBOID:
		return mustJSONB(d), nil
	case types.JSONOID:
		return parseJSON(string(d.(types.JSON)))
	case types.TimestampOID, types.TimestampTZOID, types.DateOID:
		s := types.FormatText(t, d, set)
		if t.OID != types.DateOID {
			s = xsdTimestamp(s)
		}
		return &jsonValue{kind: jString, str: s}, nil
	}
	if t.IsArray() {
		r := &jsonValue{kind: jArray}
		for _, e := range d.(*types.Array).Elems {
			ev, err := toJSON(t.ElemType(), e, set)
			if err != nil {
				return nil, err
			}
			r.arr = append(r.arr, ev)
		}
		return r, nil
	}
	return &jsonValue{kind: jString, str: types.FormatText(t, d, set)}, nil
}

// xsdTimestamp turns ISO output ("2024-03-05 14:35:12.5+01") into the XSD
// form JSON uses ("2024-03-05T14:35:12.5+01:00").
func xsdTimestamp(s string) string {
	if s == "infinity" || s == "-infinity" {
		return s
	}
	bc := strings.HasSuffix(s, " BC")
	s = strings.TrimSuffix(s, " BC")
	s = strings.Replace(s, " ", "T", 1)
	if i := strings.LastIndexAny(s, "+-"); i > 10 && len(s)-i == 3 {
		s += ":00"
	}
	if bc {
		s += " BC"
	}
	return s
}

func setOf(d types.Datum) map[string]bool {
	m := map[string]bool{}
	for _, e := range textArray(d) {
		if e != nil {
			m[e.(string)] = true
		}
	}
	return m
}

func init() {
	oJ := types.JSONBOID
	oTArr := types.TextArrayOID
	jop := func(name, op string, args []types.OID, ret types.T, f impl) *Func {
		return &Func{Name: name, Op: op, Args: args, Ret: ret, Strict: true, Impl: f}
	}
	orNull := func(v *jsonValue) types.Datum {
		if v == nil {
			return nil
		}
		return v.jsonb()
	}
	textOrNull := func(v *jsonValue) types.Datum {
		if v == nil {
			return nil
		}
		return v.text()
	}
	register(
		jop("jsonb_object_field", "->", oids(oJ, oText), tJSONB, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			v := mustJSONB(a[0])
			if v.kind != jObject {
				return nil, nil
			}
			return orNull(v.get(a[1].(string))), nil
		}),
		jop("jsonb_array_element", "->", oids(oJ, oInt4), tJSONB, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return orNull(jsonIndex(rootAsArray(mustJSONB(a[0])), a[1].(int64))), nil
		}),
		jop("jsonb_object_field_text", "->>", oids(oJ, oText), tText, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			v := mustJSONB(a[0])
			if v.kind != jObject {
				return nil, nil
			}
			return textOrNull(v.get(a[1].(string))), nil
		}),
		jop("jsonb_array_element_text", "->>", oids(oJ, oInt4), tText, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return textOrNull(jsonIndex(rootAsArray(mustJSONB(a[0])), a[1].(int64))), nil
		}),
		jop("jsonb_extract_path_op", "#>", oids(oJ, oTArr), tJSONB, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return orNull(jsonPath(mustJSONB(a[0]), textArray(a[1]))), nil
		}),
		jop("jsonb_extract_path_text_op", "#>>", oids(oJ, oTArr), tText, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return textOrNull(jsonPath(mustJSONB(a[0]), textArray(a[1]))), nil
		}),
		&Func{Name: "jsonb_extract_path", Args: oids(oJ, oText), Variadic: true, Ret: tJSONB, Impl: func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			if a[0] == nil {
				return nil, nil
			}
			return orNull(jsonPath(mustJSONB(a[0]), a[1:])), nil
		}},
		&Func{Name: "jsonb_extract_path_text", Args: oids(oJ, oText), Variadic: true, Ret: tText, Impl: func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			if a[0] == nil {
				return nil, nil
			}
			return textOrNull(jsonPath(mustJSONB(a[0]), a[1:])), nil
		}},
		jop("jsonb_contains", "@>", oids(oJ, oJ), tBool, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return jsonContains(mustJSONB(a[0]), mustJSONB(a[1]), true), nil
		}),
		jop("jsonb_contained", "<@", oids(oJ, oJ), tBool, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return jsonContains(mustJSONB(a[1]), mustJSONB(a[0]), true), nil
		}),
		jop("jsonb_exists", "?", oids(oJ, oText), tBool, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return jsonExists(mustJSONB(a[0]), a[1].(string)), nil
		}),
		jop("jsonb_exists_any", "?|", oids(oJ, oTArr), tBool, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			v := mustJSONB(a[0])
			for _, k := range textArray(a[1]) {
				if k != nil && jsonExists(v, k.(string)) {
					return true, nil
				}
			}
			return false, nil
		}),
		jop("jsonb_exists_all", "?&", oids(oJ, oTArr), tBool, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			v := mustJSONB(a[0])
			for _, k := range textArray(a[1]) {
				if k != nil && !jsonExists(v, k.(string)) {
					return false, nil
				}
			}
			return true, nil
		}),
		jop("jsonb_concat", "||", oids(oJ, oJ), tJSONB, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return jsonConcat(mustJSONB(a[0]), mustJSONB(a[1])).jsonb(), nil
		}),
		jop("jsonb_delete", "-", oids(oJ, oText), tJSONB, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			r, err := jsonDeleteKeys(mustJSONB(a[0]), map[string]bool{a[1].(string): true})
			if err != nil {
				return nil, err
			}
			return r.jsonb(), nil
		}),
		jop("jsonb_delete_keys", "-", oids(oJ, oTArr), tJSONB, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			r, err := jsonDeleteKeys(mustJSONB(a[0]), setOf(a[1]))
			if err != nil {
				return nil, err
			}
			return r.jsonb(), nil
		}),
		jop("jsonb_delete_index", "-", oids(oJ, oInt4), tJSONB, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			v := mustJSONB(a[0])
			switch v.kind {
			case jObject:
				return nil, pgerr.New(pgerr.InvalidParameterValue, "cannot delete from object using integer index")
			case jArray:
			default:
				return nil, pgerr.New(pgerr.InvalidParameterValue, "cannot delete from scalar")
			}
			i := a[1].(int64)
			if i < 0 {
				i += int64(len(v.arr))
			}
			if i < 0 || i >= int64(len(v.arr)) {
				return v.jsonb(), nil
			}
			r := &jsonValue{kind: jArray, arr: append(append([]*jsonValue{}, v.arr[:i]...), v.arr[i+1:]...)}
			return r.jsonb(), nil
		}),
		fn("jsonb_typeof", oids(oJ), tText, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return jsonKindName[mustJSONB(a[0]).kind], nil
		}),
		fn("json_typeof", oids(types.JSONOID), tText, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			v, err := parseJSON(string(a[0].(types.JSON)))
			if err != nil {
				return nil, err
			}
			return jsonKindName[v.kind], nil
		}),
		fn("jsonb_array_length", oids(oJ), tInt4, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			v := mustJSONB(a[0])
			switch v.kind {
			case jArray:
				return int64(len(v.arr)), nil
			case jObject:
				return nil, pgerr.New(pgerr.InvalidParameterValue, "cannot get array length of a non-array")
			}
			return nil, pgerr.New(pgerr.InvalidParameterValue, "cannot get array length of a scalar")
		}),
		fn("jsonb_strip_nulls", oids(oJ), tJSONB, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return stripNulls(mustJSONB(a[0])).jsonb(), nil
		}),
		fn("jsonb_pretty", oids(oJ), tText, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return string(mustJSONB(a[0]).pretty(nil, 0)), nil
		}),
		fn("jsonb_set", oids(oJ, oTArr, oJ), tJSONB, jsonbSet),
		fn("jsonb_set", oids(oJ, oTArr, oJ, types.BoolOID), tJSONB, jsonbSet),
		&Func{Name: "to_jsonb", Args: oids(anyArg), Ret: tJSONB, Strict: true, Impl: func(e *Env, c *Call, a []types.Datum) (types.Datum, error) {
			v, err := toJSON(c.Args[0].Type(), a[0], settingsOf(e))
			if err != nil {
				return nil, err
			}
			return v.jsonb(), nil
		}},
		&Func{Name: "jsonb_build_array", Ret: tJSONB, Impl: jsonbBuildArray},
		&Func{Name: "jsonb_build_array", Args: oids(anyArg), Variadic: true, Ret: tJSONB, Impl: jsonbBuildArray},
		&Func{Name: "jsonb_build_object", Ret: tJSONB, Impl: jsonbBuildObject},
		&Func{Name: "jsonb_build_object", Args: oids(anyArg), Variadic: true, Ret: tJSONB, Impl: jsonbBuildObject},
	)
}

func settingsOf(e *Env) *types.Settings {
	if e == nil {
		return nil
	}
	return e.Settings
}

func stripNulls(v *jsonValue) *jsonValue {
	switch v.kind {
	case jObject:
		m := map[string]*jsonValue{}
		for i, k := range v.keys {
			if v.vals[i].kind != jNull {
				m[k] = stripNulls(v.vals[i])
			}
		}
		return newObject(m)
	case jArray:
		r := &jsonValue{kind: jArray}
		for _, e := range v.arr {
			r.arr = append(r.arr, stripNulls(e))
		}
		return r
	}
	return v
}

func jsonbBuildArray(e *Env, c *Call, a []types.Datum) (types.Datum, error) {
	r := &jsonValue{kind: jArray}
	for i, d := range a {
		v, err := toJSON(c.Args[i].Type(), d, settingsOf(e))
		if err != nil {
			return nil, err
		}
		r.arr = append(r.arr, v)
	}
	return r.jsonb(), nil
}

func jsonbBuildObject(e *Env, c *Call, a []types.Datum) (types.Datum, error) {
	if len(a)%2 != 0 {
		return nil, pgerr.New(pgerr.InvalidParameterValue, "argument list must have even number of elements").
			WithHint("The arguments of jsonb_build_object() must consist of alternating keys and values.")
	}
	m := map[string]*jsonValue{}
	for i := 0; i < len(a); i += 2 {
		if a[i] == nil {
			return nil, pgerr.New(pgerr.InvalidParameterValue, "argument %d: key must not be null", i+1)
		}
		kt := c.Args[i].Type()
		if kt.IsArray() || kt.OID == types.JSONOID || kt.OID == types.JSONBOID {
			return nil, pgerr.New(pgerr.InvalidParameterValue, "key value must be scalar, not array, composite, or json")
		}
		kv, err := toJSON(kt, a[i], settingsOf(e))
		if err != nil {
			return nil, err
		}
		k := kv.str
		if kv.kind != jString {
			k = string(kv.appendTo(nil))
		}
		v, err := toJSON(c.Args[i+1].Type(), a[i+1], settingsOf(e))
		if err != nil {
			return nil, err
		}
		m[k] = v
	}
	return newObject(m).jsonb(), nil
}

func jsonbSet(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
	v := mustJSONB(a[0])
	path := textArray(a[1])
	nv := mustJSONB(a[2])
	create := len(a) < 4 || a[3].(bool)
	if v.kind != jObject && v.kind != jArray {
		return nil, pgerr.New(pgerr.InvalidParameterValue, "cannot set path in scalar")
	}
	for i, p := range path {
		if p == nil {
			return nil, pgerr.New(pgerr.NullValueNotAllowed, "path element at position %d is null", i+1)
		}
	}
	if len(path) == 0 {
		return v.jsonb(), nil
	}
	r, err := setPath(v, path, 0, nv, create)
	if err != nil {
		return nil, err
	}
	return r.jsonb(), nil
}

func setPath(v *jsonValue, path []types.Datum, level int, nv *jsonValue, create bool) (*jsonValue, error) {
	key := path[level].(string)
	last := level == len(path)-1
	switch v.kind {
	case jObject:
		m := v.objectMap()
		cur, ok := m[key]
		switch {
		case ok && last:
			m[key] = nv
		case ok:
			sub, err := setPath(cur, path, level+1, nv, create)
			if err != nil {
				return nil, err
			}
			m[key] = sub
		case last && create:
			m[key] = nv
		}
		return newObject(m), nil
	case jArray:
		idx, err := strconv.ParseInt(strings.TrimSpace(key), 10, 32)
		if err != nil {
			return nil, pgerr.New(pgerr.InvalidTextRepresentation, "path element at position %d is not an integer: \"%s\"", level+1, key)
		}
		n := int64(len(v.arr))
		if idx < 0 {
			idx += n
		}
		r := &jsonValue{kind: jArray, arr: append([]*jsonValue{}, v.arr...)}
		switch {
		case idx >= 0 && idx < n:
			if last {
				r.arr[idx] = nv
			} else {
				sub, err := setPath(v.arr[idx], path, level+1, nv, create)
				if err != nil {
					return nil, err
				}
				r.arr[idx] = sub
			}
		case last && create && idx < 0:
			r.arr = append([]*jsonValue{nv}, r.arr...)
		case last && create:
			r.arr = append(r.arr, nv)
		}
		return r, nil
	}
	return v, nil
}
