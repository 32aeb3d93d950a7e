package types

import (
	"encoding/binary"
	"math"
	"strings"

	"github.com/cockroachdb/apd/v3"
	"github.com/strand-db/strand/sql/pgerr"
)

// Keys are encoded so that comparing encodings bytewise gives Compare's
// order, and so that each encoding finds its own end: a tuple's key is the
// concatenation of its columns' keys.
//
// Every value starts with a marker, keyNull (0x00) or keyValue (0x01), so
// NULL sorts first. Then:
//
//	bool                 0x00 / 0x01
//	int2/int4/int8       big-endian, 2/4/8 bytes, sign bit flipped
//	oid                  big-endian uint32
//	float4/float8        8 bytes: IEEE bits with the sign bit flipped, or all
//	                     bits inverted when negative; -0 as 0; one NaN, last
//	text, bytea, ...     bytes with 0x00 escaped as 0x00 0xFF, then 0x00 0x01
//	                     (bpchar without trailing spaces)
//	numeric              class (-inf, <0, 0, >0, +inf, NaN), then for finite
//	                     non-zero values the decimal exponent and digit pairs,
//	                     inverted when negative
//	date/time/timestamp  big-endian, sign bit flipped
//	interval             days (months as 30 days) and micros of a day, as
//	                     interval_cmp orders them
//	uuid                 16 bytes
//	arrays               per element 0x01+key or 0x02 for NULL, then 0x00
//	jsonb                type rank, sizes, then the elements / key-value
//	                     pairs, in jsonb's own comparison order
//
// Values that are equal under Compare have equal keys: numeric 1.0 and
// 1.00, interval '1 mon' and '30 days', bpchar 'a' and 'a  '. DecodeKey
// therefore returns a canonical representative for those.

const (
	keyNull  = 0x00
	keyValue = 0x01
)

// AppendKey appends the order-preserving key encoding of d (nil is NULL).
func AppendKey(buf []byte, t T, d Datum) []byte {
	if d == nil {
		return append(buf, keyNull)
	}
	return appendKeyBody(append(buf, keyValue), t, d)
}

// AppendKeyPrefix appends the key of a text value without its terminator:
// every text key that starts with prefix starts with these bytes, so a key
// prefix range ("orders/2024/") is a byte range.
func AppendKeyPrefix(buf []byte, prefix string) []byte {
	return appendEscapedBody(append(buf, keyValue), prefix)
}

func appendKeyBody(buf []byte, t T, d Datum) []byte {
	switch v := d.(type) {
	case bool:
		if v {
			return append(buf, 1)
		}
		return append(buf, 0)
	case int64:
		switch t.OID {
		case Int2OID:
			return binary.BigEndian.AppendUint16(buf, uint16(v)^0x8000)
		case Int4OID:
			return binary.BigEndian.AppendUint32(buf, uint32(v)^0x80000000)
		case OIDOID:
			return binary.BigEndian.AppendUint32(buf, uint32(v))
		}
		return binary.BigEndian.AppendUint64(buf, uint64(v)^(1<<63))
	case float64:
		return binary.BigEndian.AppendUint64(buf, floatKey(v))
	case string:
		if t.OID == BpcharOID {
			v = strings.TrimRight(v, " ")
		}
		return appendEscaped(buf, v)
	case []byte:
		return appendEscaped(buf, string(v))
	case JSON:
		return appendEscaped(buf, string(v))
	case *apd.Decimal:
		return appendNumericKey(buf, v)
	case Date:
		return binary.BigEndian.AppendUint32(buf, uint32(v)^0x80000000)
	case TimeOfDay:
		return binary.BigEndian.AppendUint64(buf, uint64(v)^(1<<63))
	case Timestamp:
		return binary.BigEndian.AppendUint64(buf, uint64(v)^(1<<63))
	case TimestampTZ:
		return binary.BigEndian.AppendUint64(buf, uint64(v)^(1<<63))
	case Interval:
		days, micros := intervalSpan(v)
		buf = binary.BigEndian.AppendUint64(buf, uint64(days)^(1<<63))
		return binary.BigEndian.AppendUint64(buf, uint64(micros))
	case UUID:
		return append(buf, v[:]...)
	case JSONB:
		jv, err := parseJSONValue(string(v))
		if err != nil {
			panic("types: invalid jsonb datum: " + err.Error())
		}
		return appendJSONBKey(buf, jv, true)
	case *Array:
		for _, e := range v.Elems {
			if e == nil {
				buf = append(buf, 0x02)
				continue
			}
			buf = appendKeyBody(append(buf, 0x01), v.Elem, e)
		}
		return append(buf, 0x00)
	case *Record:
		return appendRecordKey(buf, v)
	}
	panic("types: AppendKey of unexpected Go type")
}

// intervalSpan is interval_cmp_value as (days, micros within the day).
func intervalSpan(v Interval) (int64, int64) {
	days, micros := floorDiv(v.Micros, usecsPerDay)
	return int64(v.Months)*30 + int64(v.Days) + days, micros
}

func floatKey(f float64) uint64 {
	if f == 0 {
		f = 0 // -0 == 0
	}
	if f != f {
		return math.MaxUint64 // NaN sorts after +Inf
	}
	b := math.Float64bits(f)
	if b&(1<<63) != 0 {
		return ^b
	}
	return b | 1<<63
}

func appendEscaped(buf []byte, s string) []byte {
	return append(appendEscapedBody(buf, s), 0x00, 0x01)
}

func appendEscapedBody(buf []byte, s string) []byte {
	for {
		i := strings.IndexByte(s, 0)
		if i < 0 {
			break
		}
		buf = append(buf, s[:i]...)
		buf = append(buf, 0x00, 0xFF)
		s = s[i+1:]
	}
	return append(buf, s...)
}

// Numeric key classes.
const (
	numKeyNegInf = 0x01
	numKeyNeg    = 0x02
	numKeyZero   = 0x03
	numKeyPos    = 0x04
	numKeyPosInf = 0x05
	numKeyNaN    = 0x06
)

func appendNumericKey(buf []byte, d *apd.Decimal) []byte {
	switch d.Form {
	case apd.NaN, apd.NaNSignaling:
		return append(buf, numKeyNaN)
	case apd.Infinite:
		if d.Negative {
			return append(buf, numKeyNegInf)
		}
		return append(buf, numKeyPosInf)
	}
	var tmp [40]byte
	digits := d.Coeff.Append(tmp[:0], 10)
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	for len(digits) > 0 && digits[0] == '0' {
		digits = digits[1:]
	}
	if len(digits) == 0 {
		return append(buf, numKeyZero)
	}
	adj := int64(len(digits)) + int64(d.Exponent) // value = 0.digits × 10^adj
	for len(digits) > 0 && digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
	}
	var inv byte
	if d.Negative {
		buf = append(buf, numKeyNeg)
		inv = 0xFF
	} else {
		buf = append(buf, numKeyPos)
	}
	e := uint32(int32(adj)) ^ 0x80000000
	if inv != 0 {
		e = ^e
	}
	buf = binary.BigEndian.AppendUint32(buf, e)
	for i := 0; i < len(digits); i += 2 {
		p := (digits[i] - '0') * 10
		if i+1 < len(digits) {
			p += digits[i+1] - '0'
		}
		buf = append(buf, (p+1)^inv)
	}
	return append(buf, 0x00^inv)
}

// jsonb ranks, as jbvType orders them.
const (
	jrNull   = 0x01
	jrString = 0x02
	jrNumber = 0x03
	jrBool   = 0x04
	jrArray  = 0x10
	jrObject = 0x11
)

func appendJSONBKey(buf []byte, v jsonValue, top bool) []byte {
	if top {
		// A top-level scalar is a one-element "raw scalar" array in jsonb,
		// below a real array of the same size.
		switch v.kind {
		case jsonObject:
		case jsonArray:
			buf = append(buf, jrArray)
			buf = binary.BigEndian.AppendUint32(buf, uint32(len(v.arr)))
			buf = append(buf, 1)
			for _, e := range v.arr {
				buf = appendJSONBKey(buf, e, false)
			}
			return buf
		default:
			buf = append(buf, jrArray)
			buf = binary.BigEndian.AppendUint32(buf, 1)
			buf = append(buf, 0)
			return appendJSONBKey(buf, v, false)
		}
	}
	switch v.kind {
	case jsonNull:
		return append(buf, jrNull)
	case jsonString:
		return appendEscaped(append(buf, jrString), v.str)
	case jsonNumber:
		d, _ := parseNumeric(v.str)
		return appendNumericKey(append(buf, jrNumber), d)
	case jsonBool:
		if v.str == "true" {
			return append(buf, jrBool, 1)
		}
		return append(buf, jrBool, 0)
	case jsonArray:
		buf = append(buf, jrArray)
		buf = binary.BigEndian.AppendUint32(buf, uint32(len(v.arr)))
		for _, e := range v.arr {
			buf = appendJSONBKey(buf, e, false)
		}
		return buf
	default:
		buf = append(buf, jrObject)
		buf = binary.BigEndian.AppendUint32(buf, uint32(len(v.keys)))
		for i, k := range v.keys {
			buf = appendEscaped(buf, k)
			buf = appendJSONBKey(buf, v.vals[i], false)
		}
		return buf
	}
}

func corruptKey() error {
	return pgerr.New(pgerr.DataCorrupted, "corrupt key encoding")
}

// DecodeKey reads one key of type t from the front of b and returns it
// with the rest of b. Values that Compare treats as equal come back as one
// canonical value (numeric without trailing zeros, interval as days and
// micros, bpchar without trailing spaces).
func DecodeKey(t T, b []byte) (Datum, []byte, error) {
	if len(b) == 0 {
		return nil, nil, corruptKey()
	}
	if b[0] == keyNull {
		return nil, b[1:], nil
	}
	if b[0] != keyValue {
		return nil, nil, corruptKey()
	}
	return decodeKeyBody(t, b[1:])
}

func decodeKeyBody(t T, b []byte) (Datum, []byte, error) {
	need := func(n int) error {
		if len(b) < n {
			return corruptKey()
		}
		return nil
	}
	switch t.OID {
	case BoolOID:
		if err := need(1); err != nil {
			return nil, nil, err
		}
		return b[0] != 0, b[1:], nil
	case Int2OID:
		if err := need(2); err != nil {
			return nil, nil, err
		}
		return int64(int16(binary.BigEndian.Uint16(b) ^ 0x8000)), b[2:], nil
	case Int4OID, DateOID:
		if err := need(4); err != nil {
			return nil, nil, err
		}
		v := int32(binary.BigEndian.Uint32(b) ^ 0x80000000)
		if t.OID == DateOID {
			return Date(v), b[4:], nil
		}
		return int64(v), b[4:], nil
	case OIDOID:
		if err := need(4); err != nil {
			return nil, nil, err
		}
		return int64(binary.BigEndian.Uint32(b)), b[4:], nil
	case Int8OID, TimeOID, TimestampOID, TimestampTZOID:
		if err := need(8); err != nil {
			return nil, nil, err
		}
		v := int64(binary.BigEndian.Uint64(b) ^ (1 << 63))
		switch t.OID {
		case TimeOID:
			return TimeOfDay(v), b[8:], nil
		case TimestampOID:
			return Timestamp(v), b[8:], nil
		case TimestampTZOID:
			return TimestampTZ(v), b[8:], nil
		}
		return v, b[8:], nil
	case Float4OID, Float8OID:
		if err := need(8); err != nil {
			return nil, nil, err
		}
		u := binary.BigEndian.Uint64(b)
		if u == math.MaxUint64 {
			return math.NaN(), b[8:], nil
		}
		if u&(1<<63) != 0 {
			u &^= 1 << 63
		} else {
			u = ^u
		}
		return math.Float64frombits(u), b[8:], nil
	case TextOID, VarcharOID, BpcharOID, NameOID, UnknownOID, ByteaOID, JSONOID:
		s, rest, err := decodeEscaped(b)
		if err != nil {
			return nil, nil, err
		}
		switch t.OID {
		case ByteaOID:
			return []byte(s), rest, nil
		case JSONOID:
			return JSON(s), rest, nil
		}
		return s, rest, nil
	case NumericOID:
		return decodeNumericKey(b)
	case IntervalOID:
		if err := need(16); err != nil {
			return nil, nil, err
		}
		days := int64(binary.BigEndian.Uint64(b) ^ (1 << 63))
		micros := int64(binary.BigEndian.Uint64(b[8:]))
		var iv Interval
		if days >= math.MinInt32 && days <= math.MaxInt32 {
			iv.Days = int32(days)
		} else {
			iv.Months, iv.Days = int32(days/30), int32(days%30)
		}
		iv.Micros = micros
		return iv, b[16:], nil
	case UUIDOID:
		if err := need(16); err != nil {
			return nil, nil, err
		}
		var u UUID
		copy(u[:], b)
		return u, b[16:], nil
	case JSONBOID:
		out, rest, err := decodeJSONBKey(nil, b, true)
		if err != nil {
			return nil, nil, err
		}
		return JSONB(out), rest, nil
	}
	if t.IsArray() {
		elem := t.ElemType()
		arr := &Array{Elem: elem, Elems: []Datum{}}
		for {
			if len(b) == 0 {
				return nil, nil, corruptKey()
			}
			switch b[0] {
			case 0x00:
				return arr, b[1:], nil
			case 0x02:
				arr.Elems = append(arr.Elems, nil)
				b = b[1:]
			case 0x01:
				v, rest, err := decodeKeyBody(elem, b[1:])
				if err != nil {
					return nil, nil, err
				}
				arr.Elems = append(arr.Elems, v)
				b = rest
			default:
				return nil, nil, corruptKey()
			}
		}
	}
	return nil, nil, pgerr.New(pgerr.FeatureNotSupported, "key encoding for type %s is not supported", t)
}

func decodeEscaped(b []byte) (string, []byte, error) {
	var out []byte
	for i := 0; ; {
		j := indexByte(b[i:], 0)
		if j < 0 || i+j+1 >= len(b) {
			return "", nil, corruptKey()
		}
		j += i
		switch b[j+1] {
		case 0x01:
			if out == nil {
				return string(b[:j]), b[j+2:], nil
			}
			out = append(out, b[i:j]...)
			return string(out), b[j+2:], nil
		case 0xFF:
			out = append(out, b[i:j]...)
			out = append(out, 0)
			i = j + 2
		default:
			return "", nil, corruptKey()
		}
	}
}

func indexByte(b []byte, c byte) int {
	for i, x := range b {
		if x == c {
			return i
		}
	}
	return -1
}

func decodeNumericKey(b []byte) (Datum, []byte, error) {
	if len(b) == 0 {
		return nil, nil, corruptKey()
	}
	switch b[0] {
	case numKeyNaN:
		return &apd.Decimal{Form: apd.NaN}, b[1:], nil
	case numKeyPosInf:
		return &apd.Decimal{Form: apd.Infinite}, b[1:], nil
	case numKeyNegInf:
		return &apd.Decimal{Form: apd.Infinite, Negative: true}, b[1:], nil
	case numKeyZero:
		return &apd.Decimal{}, b[1:], nil
	case numKeyPos, numKeyNeg:
	default:
		return nil, nil, corruptKey()
	}
	neg := b[0] == numKeyNeg
	var inv byte
	if neg {
		inv = 0xFF
	}
	if len(b) < 5 {
		return nil, nil, corruptKey()
	}
	e := binary.BigEndian.Uint32(b[1:])
	if neg {
		e = ^e
	}
	adj := int(int32(e ^ 0x80000000))
	if adj > numericMaxIntDigits || adj < -numericMaxDscale {
		return nil, nil, corruptKey()
	}
	b = b[5:]
	var digits []byte
	for {
		if len(b) == 0 {
			return nil, nil, corruptKey()
		}
		c := b[0] ^ inv
		b = b[1:]
		if c == 0 {
			break
		}
		if c > 100 {
			return nil, nil, corruptKey()
		}
		c--
		digits = append(digits, '0'+c/10, '0'+c%10)
	}
	for len(digits) > 0 && digits[len(digits)-1] == '0' {
		digits = digits[:len(digits)-1]
	}
	if len(digits) == 0 || digits[0] == '0' {
		return nil, nil, corruptKey()
	}
	d, err := makeNumeric(neg, digits, adj-len(digits))
	if err != nil {
		return nil, nil, corruptKey()
	}
	return d, b, nil
}

// decodeJSONBKey turns a jsonb key back into jsonb text.
func decodeJSONBKey(out, b []byte, top bool) ([]byte, []byte, error) {
	if len(b) == 0 {
		return nil, nil, corruptKey()
	}
	rank := b[0]
	b = b[1:]
	count := func() (int, error) {
		if len(b) < 4 {
			return 0, corruptKey()
		}
		n := int(binary.BigEndian.Uint32(b))
		b = b[4:]
		if n > len(b) {
			return 0, corruptKey()
		}
		return n, nil
	}
	switch rank {
	case jrNull:
		return append(out, "null"...), b, nil
	case jrString:
		s, rest, err := decodeEscaped(b)
		if err != nil {
			return nil, nil, err
		}
		return appendJSONString(out, s), rest, nil
	case jrNumber:
		d, rest, err := decodeNumericKey(b)
		if err != nil {
			return nil, nil, err
		}
		return appendNumeric(out, d.(*apd.Decimal)), rest, nil
	case jrBool:
		if len(b) == 0 {
			return nil, nil, corruptKey()
		}
		if b[0] == 1 {
			return append(out, "true"...), b[1:], nil
		}
		return append(out, "false"...), b[1:], nil
	case jrArray:
		n, err := count()
		if err != nil {
			return nil, nil, err
		}
		raw := false
		if top {
			if len(b) == 0 {
				return nil, nil, corruptKey()
			}
			raw = b[0] == 0
			b = b[1:]
		}
		if raw {
			if n != 1 {
				return nil, nil, corruptKey()
			}
			return decodeJSONBKey(out, b, false)
		}
		out = append(out, '[')
		for i := 0; i < n; i++ {
			if i > 0 {
				out = append(out, ", "...)
			}
			if out, b, err = decodeJSONBKey(out, b, false); err != nil {
				return nil, nil, err
			}
		}
		return append(out, ']'), b, nil
	case jrObject:
		n, err := count()
		if err != nil {
			return nil, nil, err
		}
		out = append(out, '{')
		for i := 0; i < n; i++ {
			if i > 0 {
				out = append(out, ", "...)
			}
			k, rest, err := decodeEscaped(b)
			if err != nil {
				return nil, nil, err
			}
			out = appendJSONString(out, k)
			out = append(out, ": "...)
			if out, b, err = decodeJSONBKey(out, rest, false); err != nil {
				return nil, nil, err
			}
		}
		return append(out, '}'), b, nil
	}
	return nil, nil, corruptKey()
}

// CompareFloat orders floats as PostgreSQL does: NaN equals NaN and sorts
// above every number.
func CompareFloat(x, y float64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	case x == y:
		return 0
	case x != x && y != y:
		return 0
	case x != x:
		return 1
	}
	return -1
}

// Compare orders two non-NULL values of type t as PostgreSQL's btree
// comparison does (text in C collation; NaN above every number).
func Compare(t T, a, b Datum) int {
	switch x := a.(type) {
	case int64:
		return cmp3(x, b.(int64))
	case float64:
		return CompareFloat(x, b.(float64))
	case string:
		y := b.(string)
		if t.OID == BpcharOID {
			x, y = strings.TrimRight(x, " "), strings.TrimRight(y, " ")
		}
		return strings.Compare(x, y)
	case bool:
		y := b.(bool)
		switch {
		case x == y:
			return 0
		case y:
			return -1
		}
		return 1
	case []byte:
		return strings.Compare(string(x), string(b.([]byte)))
	case Date:
		return cmp3(x, b.(Date))
	case TimeOfDay:
		return cmp3(x, b.(TimeOfDay))
	case Timestamp:
		return cmp3(x, b.(Timestamp))
	case TimestampTZ:
		return cmp3(x, b.(TimestampTZ))
	case UUID:
		y := b.(UUID)
		return strings.Compare(string(x[:]), string(y[:]))
	case JSON:
		return strings.Compare(string(x), string(b.(JSON)))
	case Interval:
		y := b.(Interval)
		xd, xm := intervalSpan(x)
		yd, ym := intervalSpan(y)
		if c := cmp3(xd, yd); c != 0 {
			return c
		}
		return cmp3(xm, ym)
	case *apd.Decimal:
		y := b.(*apd.Decimal)
		xn, yn := x.Form == apd.NaN || x.Form == apd.NaNSignaling, y.Form == apd.NaN || y.Form == apd.NaNSignaling
		switch {
		case xn && yn:
			return 0
		case xn:
			return 1
		case yn:
			return -1
		}
		return x.Cmp(y)
	}
	var ka, kb [64]byte
	return strings.Compare(string(appendKeyBody(ka[:0], t, a)), string(appendKeyBody(kb[:0], t, b)))
}

func cmp3[N ~int64 | ~int32](a, b N) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Equal reports whether two non-NULL values are equal under Compare.
func Equal(t T, a, b Datum) bool { return Compare(t, a, b) == 0 }

// Hash hashes d consistently with Equal (numeric 1.0 and 1.00 hash alike);
// NULL hashes to a fixed value. It is stable across processes.
func Hash(t T, d Datum) uint64 {
	var tmp [64]byte
	k := AppendKey(tmp[:0], t, d)
	h := uint64(14695981039346656037) // FNV-1a
	for _, c := range k {
		h ^= uint64(c)
		h *= 1099511628211
	}
	return h
}
