// Package types is Strand's PostgreSQL type system: type OIDs and modifiers,
// the Go representation of values (Datum), PostgreSQL 15's text and binary
// input/output functions, comparison and hashing, casts, an order-preserving
// key encoding and a compact row encoding for storage.
//
// Every layer codes against the representation fixed here, so it is small
// and exact: a Datum is one of a handful of Go types, chosen per type OID
// (see Datum).
package types

import (
	"strconv"
	"strings"

	"github.com/strand-db/strand/sql/pgerr"
)

// OID is a PostgreSQL type OID.
type OID uint32

// Type OIDs, as in PostgreSQL's pg_type.
const (
	InvalidOID     OID = 0
	BoolOID        OID = 16
	ByteaOID       OID = 17
	NameOID        OID = 19
	Int8OID        OID = 20
	Int2OID        OID = 21
	Int4OID        OID = 23
	TextOID        OID = 25
	OIDOID         OID = 26
	JSONOID        OID = 114
	Float4OID      OID = 700
	Float8OID      OID = 701
	UnknownOID     OID = 705
	BpcharOID      OID = 1042
	VarcharOID     OID = 1043
	DateOID        OID = 1082
	TimeOID        OID = 1083
	TimestampOID   OID = 1114
	TimestampTZOID OID = 1184
	IntervalOID    OID = 1186
	NumericOID     OID = 1700
	UUIDOID        OID = 2950
	JSONBOID       OID = 3802

	BoolArrayOID        OID = 1000
	ByteaArrayOID       OID = 1001
	NameArrayOID        OID = 1003
	Int2ArrayOID        OID = 1005
	Int4ArrayOID        OID = 1007
	TextArrayOID        OID = 1009
	BpcharArrayOID      OID = 1014
	VarcharArrayOID     OID = 1015
	Int8ArrayOID        OID = 1016
	Float4ArrayOID      OID = 1021
	Float8ArrayOID      OID = 1022
	OIDArrayOID         OID = 1028
	JSONArrayOID        OID = 199
	DateArrayOID        OID = 1182
	TimeArrayOID        OID = 1183
	TimestampArrayOID   OID = 1115
	TimestampTZArrayOID OID = 1185
	IntervalArrayOID    OID = 1187
	NumericArrayOID     OID = 1231
	UUIDArrayOID        OID = 2951
	JSONBArrayOID       OID = 3807
)

// T is a type: an OID and a type modifier, encoded as PostgreSQL encodes
// atttypmod (-1 when there is none): varchar(n) and char(n) are n+4,
// numeric(p,s) is ((p<<16)|s)+4, time/timestamp/interval(p) is p. An array
// type carries its element's modifier.
type T struct {
	OID    OID
	Typmod int32
}

// Make is the type oid with no modifier.
func Make(oid OID) T { return T{OID: oid, Typmod: -1} }

// info is what the package knows about each scalar type.
type info struct {
	name  string // format_type name
	len   int16  // typlen
	array OID
}

var scalars = map[OID]info{
	BoolOID:        {"boolean", 1, BoolArrayOID},
	ByteaOID:       {"bytea", -1, ByteaArrayOID},
	NameOID:        {"name", 64, NameArrayOID},
	Int8OID:        {"bigint", 8, Int8ArrayOID},
	Int2OID:        {"smallint", 2, Int2ArrayOID},
	Int4OID:        {"integer", 4, Int4ArrayOID},
	TextOID:        {"text", -1, TextArrayOID},
	OIDOID:         {"oid", 4, OIDArrayOID},
	JSONOID:        {"json", -1, JSONArrayOID},
	Float4OID:      {"real", 4, Float4ArrayOID},
	Float8OID:      {"double precision", 8, Float8ArrayOID},
	UnknownOID:     {"unknown", -2, 0},
	BpcharOID:      {"character", -1, BpcharArrayOID},
	VarcharOID:     {"character varying", -1, VarcharArrayOID},
	DateOID:        {"date", 4, DateArrayOID},
	TimeOID:        {"time without time zone", 8, TimeArrayOID},
	TimestampOID:   {"timestamp without time zone", 8, TimestampArrayOID},
	TimestampTZOID: {"timestamp with time zone", 8, TimestampTZArrayOID},
	IntervalOID:    {"interval", 16, IntervalArrayOID},
	NumericOID:     {"numeric", -1, NumericArrayOID},
	UUIDOID:        {"uuid", 16, UUIDArrayOID},
	JSONBOID:       {"jsonb", -1, JSONBArrayOID},
	RecordOID:      {"record", -1, 0},
}

var elemOf = func() map[OID]OID {
	m := make(map[OID]OID)
	for oid, in := range scalars {
		if in.array != 0 {
			m[in.array] = oid
		}
	}
	return m
}()

// IsArray reports whether t is an array type.
func (t T) IsArray() bool { _, ok := elemOf[t.OID]; return ok }

// ElemType is the element type of an array type (with the array's
// modifier), or the zero T when t is not an array.
func (t T) ElemType() T {
	if e, ok := elemOf[t.OID]; ok {
		return T{OID: e, Typmod: t.Typmod}
	}
	return T{}
}

// ArrayOf is the array type whose elements are t, or the zero T when there
// is none (arrays of arrays are the same array type in PostgreSQL).
func ArrayOf(t T) T {
	if t.IsArray() {
		return t
	}
	if in, ok := scalars[t.OID]; ok && in.array != 0 {
		return T{OID: in.array, Typmod: t.Typmod}
	}
	return T{}
}

// Known reports whether t is a type this package implements.
func (t T) Known() bool {
	if _, ok := scalars[t.OID]; ok {
		return true
	}
	return t.IsArray()
}

// Len is typlen, as sent in RowDescription: the fixed size in bytes, -1 for
// variable length (varlena), -2 for C strings (unknown).
func (t T) Len() int16 {
	if t.IsArray() {
		return -1
	}
	if in, ok := scalars[t.OID]; ok {
		return in.len
	}
	return -1
}

// String is PostgreSQL's format_type(oid, typmod).
func (t T) String() string {
	if t.IsArray() {
		return t.ElemType().String() + "[]"
	}
	in, ok := scalars[t.OID]
	if !ok {
		return "oid " + strconv.FormatUint(uint64(t.OID), 10)
	}
	m := t.Typmod
	switch t.OID {
	case BpcharOID:
		if m < 0 {
			return "bpchar"
		}
		return "character(" + strconv.Itoa(int(m-4)) + ")"
	case VarcharOID:
		if m >= 4 {
			return "character varying(" + strconv.Itoa(int(m-4)) + ")"
		}
	case NumericOID:
		if m >= 4 {
			p, s := NumericTypmod(m)
			return "numeric(" + strconv.Itoa(p) + "," + strconv.Itoa(s) + ")"
		}
	case TimeOID, TimestampOID, TimestampTZOID:
		if m >= 0 {
			base, zone, _ := strings.Cut(in.name, " ")
			return base + "(" + strconv.Itoa(int(m)) + ") " + zone
		}
	case IntervalOID:
		if m >= 0 {
			return "interval(" + strconv.Itoa(int(m)) + ")"
		}
	}
	return in.name
}

// NumericTypmod splits a numeric typmod into precision and scale; a typmod
// of -1 gives (0, 0).
func NumericTypmod(typmod int32) (precision, scale int) {
	if typmod < 4 {
		return 0, 0
	}
	v := typmod - 4
	p := int(v>>16) & 0xffff
	s := int(((v & 0x7ff) ^ 1024) - 1024) // sign-extend 11 bits, as PG15
	return p, s
}

// MakeNumericTypmod is the typmod of numeric(precision, scale).
func MakeNumericTypmod(precision, scale int) int32 {
	return int32((precision<<16)|(scale&0x7ff)) + 4
}

// VarcharLen is the n of varchar(n)/char(n), or -1.
func (t T) VarcharLen() int {
	if t.Typmod < 4 {
		return -1
	}
	return int(t.Typmod - 4)
}

// names maps PostgreSQL's spellings (lower case, single-spaced) to OIDs.
var names = map[string]OID{
	"bool": BoolOID, "boolean": BoolOID,
	"bytea": ByteaOID,
	"name":  NameOID,
	"int8":  Int8OID, "bigint": Int8OID, "bigserial": Int8OID, "serial8": Int8OID,
	"int2": Int2OID, "smallint": Int2OID, "smallserial": Int2OID, "serial2": Int2OID,
	"int4": Int4OID, "int": Int4OID, "integer": Int4OID, "serial": Int4OID, "serial4": Int4OID,
	"text":   TextOID,
	"oid":    OIDOID,
	"json":   JSONOID,
	"float4": Float4OID, "real": Float4OID,
	"float8": Float8OID, "double precision": Float8OID, "float": Float8OID,
	"unknown": UnknownOID,
	"bpchar":  BpcharOID, "char": BpcharOID, "character": BpcharOID,
	"varchar": VarcharOID, "character varying": VarcharOID, "char varying": VarcharOID,
	"date":                   DateOID,
	"time":                   TimeOID,
	"time without time zone": TimeOID,
	"timestamp":              TimestampOID, "timestamp without time zone": TimestampOID,
	"timestamptz": TimestampTZOID, "timestamp with time zone": TimestampTZOID,
	"interval": IntervalOID,
	"numeric":  NumericOID, "decimal": NumericOID, "dec": NumericOID,
	"uuid":  UUIDOID,
	"jsonb": JSONBOID,
}

var serials = map[string]bool{
	"serial": true, "serial4": true, "bigserial": true, "serial8": true, "smallserial": true, "serial2": true,
}

// ParseTypeName parses a type name as written in SQL, in any of
// PostgreSQL's spellings ("int", "character varying(20)", "numeric(10,2)",
// "timestamp(3) with time zone", "text[]", `"int4"`, ...). serial,
// smallserial and bigserial give their integer type; see IsSerial. An
// unknown name is 42704.
func ParseTypeName(s string) (T, error) {
	t, _, err := parseTypeName(s)
	return t, err
}

// IsSerial reports whether s names a serial pseudo-type (serial,
// bigserial, smallserial and their serialN spellings).
func IsSerial(s string) bool {
	_, serial, err := parseTypeName(s)
	return err == nil && serial
}

func parseTypeName(s string) (T, bool, error) {
	orig := s
	// Lower-case outside quotes, drop the quotes, single-space the rest.
	var b strings.Builder
	quoted := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"':
			if quoted && i+1 < len(s) && s[i+1] == '"' {
				b.WriteByte('"')
				i++
				continue
			}
			quoted = !quoted
		case quoted:
			b.WriteByte(c)
		case c >= 'A' && c <= 'Z':
			b.WriteByte(c + 'a' - 'A')
		default:
			b.WriteByte(c)
		}
	}
	s = strings.TrimSpace(b.String())
	// Array suffixes: [] or [n], any number of them.
	array := false
	for strings.HasSuffix(s, "]") {
		i := strings.LastIndexByte(s, '[')
		if i < 0 {
			return T{}, false, syntaxError(orig)
		}
		dim := strings.TrimSpace(s[i+1 : len(s)-1])
		if dim != "" {
			if _, err := strconv.Atoi(dim); err != nil {
				return T{}, false, syntaxError(orig)
			}
		}
		array = true
		s = strings.TrimSpace(s[:i])
	}
	if strings.HasSuffix(s, " array") {
		array = true
		s = strings.TrimSpace(strings.TrimSuffix(s, " array"))
	}
	// Modifiers: one parenthesized list, possibly mid-name
	// ("timestamp(3) with time zone").
	var mods []int
	hasMods := false
	if i := strings.IndexByte(s, '('); i >= 0 {
		j := strings.IndexByte(s[i:], ')')
		if j < 0 {
			return T{}, false, syntaxError(orig)
		}
		j += i
		for _, f := range strings.Split(s[i+1:j], ",") {
			n, err := strconv.Atoi(strings.TrimSpace(f))
			if err != nil {
				return T{}, false, syntaxError(orig)
			}
			mods = append(mods, n)
		}
		hasMods = true
		s = s[:i] + " " + s[j+1:]
	}
	s = strings.Join(strings.Fields(s), " ")
	s = strings.TrimPrefix(s, "pg_catalog.")
	oid, ok := names[s]
	if !ok && strings.HasPrefix(s, "_") {
		// Internal array type names: _int4, _text, ...
		if e, found := names[s[1:]]; found && scalars[e].array != 0 && !serials[s[1:]] && !strings.Contains(s, " ") {
			oid, ok, array = e, true, true
		}
	}
	if !ok {
		return T{}, false, pgerr.New(pgerr.UndefinedObject, "type %q does not exist", strings.TrimSpace(orig))
	}
	serial := serials[s]
	t := T{OID: oid, Typmod: -1}
	if hasMods || s == "char" || s == "character" {
		var err error
		t, err = applyTypmodArgs(t, s, mods, hasMods)
		if err != nil {
			return T{}, false, err
		}
	}
	if array {
		if serial {
			return T{}, false, pgerr.New(pgerr.FeatureNotSupported, "array of serial is not implemented")
		}
		t = ArrayOf(t)
	}
	return t, serial, nil
}

func syntaxError(s string) error {
	return pgerr.New(pgerr.SyntaxError, "syntax error in type name %q", s)
}

func applyTypmodArgs(t T, name string, mods []int, hasMods bool) (T, error) {
	bad := func() (T, error) {
		return T{}, pgerr.New(pgerr.SyntaxError, "invalid type modifier")
	}
	switch t.OID {
	case BpcharOID, VarcharOID:
		n := 1
		if hasMods {
			if len(mods) != 1 {
				return bad()
			}
			n = mods[0]
		} else if name == "bpchar" {
			return t, nil
		}
		tn := "char"
		if t.OID == VarcharOID {
			tn = "varchar"
		}
		if n < 1 {
			return T{}, pgerr.New(pgerr.InvalidParameterValue, "length for type %s must be at least 1", tn)
		}
		if n > 10485760 {
			return T{}, pgerr.New(pgerr.InvalidParameterValue, "length for type %s cannot exceed 10485760", tn)
		}
		t.Typmod = int32(n + 4)
	case NumericOID:
		if len(mods) < 1 || len(mods) > 2 {
			return bad()
		}
		p, s := mods[0], 0
		if len(mods) == 2 {
			s = mods[1]
		}
		if p < 1 || p > 1000 {
			return T{}, pgerr.New(pgerr.InvalidParameterValue, "NUMERIC precision %d must be between 1 and 1000", p)
		}
		if s < -1000 || s > 1000 {
			return T{}, pgerr.New(pgerr.InvalidParameterValue, "NUMERIC scale %d must be between -1000 and 1000", s)
		}
		t.Typmod = MakeNumericTypmod(p, s)
	case TimeOID, TimestampOID, TimestampTZOID, IntervalOID:
		if len(mods) != 1 {
			return bad()
		}
		p := mods[0]
		if p < 0 {
			return T{}, pgerr.New(pgerr.InvalidParameterValue, "%s(%d) precision must not be negative", strings.ToUpper(strings.Fields(name)[0]), p)
		}
		if p > 6 {
			p = 6 // PostgreSQL warns and reduces to the maximum
		}
		t.Typmod = int32(p)
	case Float8OID:
		if name != "float" || len(mods) != 1 {
			return bad()
		}
		p := mods[0]
		switch {
		case p < 1:
			return T{}, pgerr.New(pgerr.InvalidParameterValue, "precision for type float must be at least 1 bit")
		case p <= 24:
			t.OID = Float4OID
		case p <= 53:
		default:
			return T{}, pgerr.New(pgerr.InvalidParameterValue, "precision for type float must be less than 54 bits")
		}
	default:
		return T{}, pgerr.New(pgerr.SyntaxError, "type modifier is not allowed for type %q", name)
	}
	return t, nil
}
