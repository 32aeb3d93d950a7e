package types

import (
	"encoding/binary"
	"math"
	"strconv"
	"strings"

	"github.com/cockroachdb/apd/v3"
	"github.com/strand-db/strand/sql/pgerr"
)

// AppendBinary is the type's send function: it appends d in PostgreSQL's
// binary format for t. d must not be nil.
func AppendBinary(buf []byte, t T, d Datum) []byte {
	switch v := d.(type) {
	case bool:
		if v {
			return append(buf, 1)
		}
		return append(buf, 0)
	case int64:
		switch t.OID {
		case Int2OID:
			return binary.BigEndian.AppendUint16(buf, uint16(v))
		case Int4OID, OIDOID:
			return binary.BigEndian.AppendUint32(buf, uint32(v))
		}
		return binary.BigEndian.AppendUint64(buf, uint64(v))
	case float64:
		if v != v {
			if t.OID == Float4OID {
				return binary.BigEndian.AppendUint32(buf, 0x7fc00000)
			}
			return binary.BigEndian.AppendUint64(buf, 0x7ff8000000000000)
		}
		if t.OID == Float4OID {
			return binary.BigEndian.AppendUint32(buf, math.Float32bits(float32(v)))
		}
		return binary.BigEndian.AppendUint64(buf, math.Float64bits(v))
	case string:
		return append(buf, v...)
	case []byte:
		return append(buf, v...)
	case *apd.Decimal:
		return appendNumericBinary(buf, v)
	case UUID:
		return append(buf, v[:]...)
	case JSON:
		return append(buf, v...)
	case JSONB:
		buf = append(buf, 1)
		return append(buf, v...)
	case Date:
		return binary.BigEndian.AppendUint32(buf, uint32(v))
	case TimeOfDay:
		return binary.BigEndian.AppendUint64(buf, uint64(v))
	case Timestamp:
		return binary.BigEndian.AppendUint64(buf, uint64(v))
	case TimestampTZ:
		return binary.BigEndian.AppendUint64(buf, uint64(v))
	case Interval:
		buf = binary.BigEndian.AppendUint64(buf, uint64(v.Micros))
		buf = binary.BigEndian.AppendUint32(buf, uint32(v.Days))
		return binary.BigEndian.AppendUint32(buf, uint32(v.Months))
	case *Array:
		return appendArrayBinary(buf, v)
	case *Record:
		return appendRecordBinary(buf, v)
	}
	panic("types: AppendBinary of unexpected Go type")
}

func badBinary(t T) error {
	return pgerr.New(pgerr.InvalidBinaryRepresentation, "incorrect binary data format for type %s", t)
}

// DecodeBinary is the type's receive function: it reads b in PostgreSQL's
// binary format for t, applying t's modifier. A wrong length is 22P03.
func DecodeBinary(t T, b []byte) (Datum, error) {
	fixed := func(n int) error {
		if len(b) != n {
			return badBinary(t)
		}
		return nil
	}
	switch t.OID {
	case BoolOID:
		if err := fixed(1); err != nil {
			return nil, err
		}
		return b[0] != 0, nil
	case Int2OID:
		if err := fixed(2); err != nil {
			return nil, err
		}
		return int64(int16(binary.BigEndian.Uint16(b))), nil
	case Int4OID:
		if err := fixed(4); err != nil {
			return nil, err
		}
		return int64(int32(binary.BigEndian.Uint32(b))), nil
	case OIDOID:
		if err := fixed(4); err != nil {
			return nil, err
		}
		return int64(binary.BigEndian.Uint32(b)), nil
	case Int8OID:
		if err := fixed(8); err != nil {
			return nil, err
		}
		return int64(binary.BigEndian.Uint64(b)), nil
	case Float4OID:
		if err := fixed(4); err != nil {
			return nil, err
		}
		return float64(math.Float32frombits(binary.BigEndian.Uint32(b))), nil
	case Float8OID:
		if err := fixed(8); err != nil {
			return nil, err
		}
		return math.Float64frombits(binary.BigEndian.Uint64(b)), nil
	case TextOID, UnknownOID, NameOID, VarcharOID, BpcharOID:
		s := string(b)
		if err := checkText(s); err != nil {
			return nil, err
		}
		if t.OID == NameOID {
			if len(s) >= 64 {
				return nil, pgerr.New(pgerr.InvalidBinaryRepresentation, "name too long")
			}
			return s, nil
		}
		if t.OID == VarcharOID || t.OID == BpcharOID {
			return applyCharTypmod(s, t, false)
		}
		return s, nil
	case ByteaOID:
		return append([]byte{}, b...), nil
	case UUIDOID:
		if err := fixed(16); err != nil {
			return nil, err
		}
		var u UUID
		copy(u[:], b)
		return u, nil
	case JSONOID:
		s := string(b)
		if err := checkText(s); err != nil {
			return nil, err
		}
		if err := validateJSON(s, "json"); err != nil {
			return nil, err
		}
		return JSON(s), nil
	case JSONBOID:
		if len(b) == 0 {
			return nil, badBinary(t)
		}
		if b[0] != 1 {
			return nil, pgerr.New(pgerr.InvalidBinaryRepresentation, "unsupported jsonb version number %d", b[0])
		}
		s := string(b[1:])
		if err := checkText(s); err != nil {
			return nil, err
		}
		return parseJSONB(s)
	case DateOID:
		if err := fixed(4); err != nil {
			return nil, err
		}
		d := Date(int32(binary.BigEndian.Uint32(b)))
		if d != DateInfinity && d != DateNegInfinity && (d < minDate || d >= endDate) {
			return nil, pgerr.New(pgerr.DatetimeFieldOverflow, "date out of range")
		}
		return d, nil
	case TimeOID:
		if err := fixed(8); err != nil {
			return nil, err
		}
		v := int64(binary.BigEndian.Uint64(b))
		if v < 0 || v > usecsPerDay {
			return nil, pgerr.New(pgerr.DatetimeFieldOverflow, "time out of range")
		}
		return TimeOfDay(roundTime(v, t.Typmod)), nil
	case TimestampOID, TimestampTZOID:
		if err := fixed(8); err != nil {
			return nil, err
		}
		v := int64(binary.BigEndian.Uint64(b))
		if v != math.MinInt64 && v != math.MaxInt64 {
			if v < minTimestamp || v >= endTimestamp {
				return nil, pgerr.New(pgerr.DatetimeFieldOverflow, "timestamp out of range")
			}
			var ok bool
			if v, ok = roundTimestamp(v, t.Typmod); !ok {
				return nil, pgerr.New(pgerr.DatetimeFieldOverflow, "timestamp out of range")
			}
		}
		if t.OID == TimestampOID {
			return Timestamp(v), nil
		}
		return TimestampTZ(v), nil
	case IntervalOID:
		if err := fixed(16); err != nil {
			return nil, err
		}
		iv := Interval{
			Micros: int64(binary.BigEndian.Uint64(b)),
			Days:   int32(binary.BigEndian.Uint32(b[8:])),
			Months: int32(binary.BigEndian.Uint32(b[12:])),
		}
		return roundInterval(iv, t.Typmod), nil
	case NumericOID:
		d, err := decodeNumericBinary(b)
		if err != nil {
			return nil, err
		}
		return applyNumericTypmod(d, t.Typmod)
	}
	if t.IsArray() {
		return decodeArrayBinary(t, b)
	}
	return nil, pgerr.New(pgerr.FeatureNotSupported, "binary format for type %s is not supported", t)
}

const (
	numericPos  = 0x0000
	numericNeg  = 0x4000
	numericNaN  = 0xC000
	numericPInf = 0xD000
	numericNInf = 0xF000
)

// appendNumericBinary is numeric_send: ndigits, weight, sign, dscale, then
// base-10000 digits, with leading and trailing zero digits stripped.
func appendNumericBinary(buf []byte, d *apd.Decimal) []byte {
	var sign uint16
	switch d.Form {
	case apd.NaN, apd.NaNSignaling:
		sign = numericNaN
	case apd.Infinite:
		sign = numericPInf
		if d.Negative {
			sign = numericNInf
		}
	}
	if sign != 0 {
		buf = binary.BigEndian.AppendUint16(buf, 0)
		buf = binary.BigEndian.AppendUint16(buf, 0)
		buf = binary.BigEndian.AppendUint16(buf, sign)
		if sign != numericNaN {
			// numeric_send reads the display scale of an infinity out of
			// its header bits, which gives 32.
			return binary.BigEndian.AppendUint16(buf, 0x20)
		}
		return binary.BigEndian.AppendUint16(buf, 0)
	}
	digits, exp := numericDigits(d)
	dscale := 0
	if exp < 0 {
		dscale = -exp
	}
	if len(digits) == 0 {
		buf = binary.BigEndian.AppendUint64(buf, 0)
		buf = buf[:len(buf)-2]
		return binary.BigEndian.AppendUint16(buf, uint16(dscale))
	}
	// Place the decimal point on a group boundary: pad the fraction on
	// the right, the integer part on the left, to multiples of 4.
	var s []byte
	frac := 0
	if exp > 0 {
		s = append(append(s, digits...), strings.Repeat("0", exp)...)
	} else {
		frac = -exp
		pad := (4 - frac%4) % 4
		s = append(append(s, digits...), strings.Repeat("0", pad)...)
		frac += pad
	}
	if lead := (4 - len(s)%4) % 4; lead > 0 {
		s = append([]byte(strings.Repeat("0", lead)), s...)
	}
	groups := make([]uint16, len(s)/4)
	for i := range groups {
		g := s[i*4 : i*4+4]
		groups[i] = uint16(g[0]-'0')*1000 + uint16(g[1]-'0')*100 + uint16(g[2]-'0')*10 + uint16(g[3]-'0')
	}
	weight := len(groups) - frac/4 - 1
	for len(groups) > 0 && groups[0] == 0 {
		groups = groups[1:]
		weight--
	}
	for len(groups) > 0 && groups[len(groups)-1] == 0 {
		groups = groups[:len(groups)-1]
	}
	sign = numericPos
	if d.Negative {
		sign = numericNeg
	}
	buf = binary.BigEndian.AppendUint16(buf, uint16(len(groups)))
	buf = binary.BigEndian.AppendUint16(buf, uint16(int16(weight)))
	buf = binary.BigEndian.AppendUint16(buf, sign)
	buf = binary.BigEndian.AppendUint16(buf, uint16(dscale))
	for _, g := range groups {
		buf = binary.BigEndian.AppendUint16(buf, g)
	}
	return buf
}

// decodeNumericBinary is numeric_recv (digits hidden by dscale are
// truncated, as there).
func decodeNumericBinary(b []byte) (*apd.Decimal, error) {
	if len(b) < 8 {
		return nil, badBinary(Make(NumericOID))
	}
	ndigits := int(binary.BigEndian.Uint16(b))
	weight := int(int16(binary.BigEndian.Uint16(b[2:])))
	sign := binary.BigEndian.Uint16(b[4:])
	dscale := int(binary.BigEndian.Uint16(b[6:]))
	if len(b) != 8+2*ndigits {
		return nil, badBinary(Make(NumericOID))
	}
	switch sign {
	case numericPos, numericNeg:
	case numericNaN:
		return &apd.Decimal{Form: apd.NaN}, nil
	case numericPInf:
		return &apd.Decimal{Form: apd.Infinite}, nil
	case numericNInf:
		return &apd.Decimal{Form: apd.Infinite, Negative: true}, nil
	default:
		return nil, pgerr.New(pgerr.InvalidBinaryRepresentation, "invalid sign in external \"numeric\" value")
	}
	if dscale&0x3FFF != dscale {
		return nil, pgerr.New(pgerr.InvalidBinaryRepresentation, "invalid scale in external \"numeric\" value")
	}
	digits := make([]byte, 0, 4*ndigits)
	for i := 0; i < ndigits; i++ {
		g := binary.BigEndian.Uint16(b[8+2*i:])
		if g >= 10000 {
			return nil, pgerr.New(pgerr.InvalidBinaryRepresentation, "invalid digit in external \"numeric\" value")
		}
		digits = append(digits, '0'+byte(g/1000), '0'+byte(g/100%10), '0'+byte(g/10%10), '0'+byte(g%10))
	}
	exp := (weight - ndigits + 1) * 4
	// Truncate (not round) to dscale.
	if exp < -dscale {
		drop := -dscale - exp
		if drop >= len(digits) {
			digits = digits[:0]
		} else {
			digits = digits[:len(digits)-drop]
		}
		exp = -dscale
	}
	for exp > -dscale {
		digits = append(digits, '0')
		exp--
	}
	i := 0
	for i < len(digits) && digits[i] == '0' {
		i++
	}
	return makeNumeric(sign == numericNeg, digits[i:], exp)
}

// appendArrayBinary is array_send.
func appendArrayBinary(buf []byte, a *Array) []byte {
	if len(a.Elems) == 0 {
		buf = binary.BigEndian.AppendUint32(buf, 0)
		buf = binary.BigEndian.AppendUint32(buf, 0)
		return binary.BigEndian.AppendUint32(buf, uint32(a.Elem.OID))
	}
	hasNull := uint32(0)
	for _, e := range a.Elems {
		if e == nil {
			hasNull = 1
			break
		}
	}
	buf = binary.BigEndian.AppendUint32(buf, 1)
	buf = binary.BigEndian.AppendUint32(buf, hasNull)
	buf = binary.BigEndian.AppendUint32(buf, uint32(a.Elem.OID))
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(a.Elems)))
	buf = binary.BigEndian.AppendUint32(buf, 1)
	for _, e := range a.Elems {
		if e == nil {
			buf = binary.BigEndian.AppendUint32(buf, math.MaxUint32)
			continue
		}
		at := len(buf)
		buf = append(buf, 0, 0, 0, 0)
		buf = AppendBinary(buf, a.Elem, e)
		binary.BigEndian.PutUint32(buf[at:], uint32(len(buf)-at-4))
	}
	return buf
}

// decodeArrayBinary is array_recv for one-dimensional arrays.
func decodeArrayBinary(t T, b []byte) (Datum, error) {
	elem := t.ElemType()
	if len(b) < 12 {
		return nil, badBinary(t)
	}
	ndim := int32(binary.BigEndian.Uint32(b))
	flags := binary.BigEndian.Uint32(b[4:])
	eoid := OID(binary.BigEndian.Uint32(b[8:]))
	b = b[12:]
	if ndim < 0 || ndim > 6 {
		return nil, pgerr.New(pgerr.InvalidBinaryRepresentation, "invalid number of dimensions: %d", ndim)
	}
	if flags != 0 && flags != 1 {
		return nil, pgerr.New(pgerr.InvalidBinaryRepresentation, "invalid array flags")
	}
	if eoid != elem.OID {
		return nil, pgerr.New(pgerr.DatatypeMismatch, "binary data has array element type %d instead of expected %d", eoid, elem.OID)
	}
	arr := &Array{Elem: elem, Elems: []Datum{}}
	if ndim == 0 {
		if len(b) != 0 {
			return nil, badBinary(t)
		}
		return arr, nil
	}
	if ndim != 1 {
		return nil, pgerr.New(pgerr.FeatureNotSupported, "multidimensional arrays are not supported")
	}
	if len(b) < 8 {
		return nil, badBinary(t)
	}
	n := int32(binary.BigEndian.Uint32(b))
	b = b[8:] // the lower bound is not kept
	if n < 0 || int64(n)*4 > int64(len(b)) {
		return nil, badBinary(t)
	}
	arr.Elems = make([]Datum, 0, n)
	for i := int32(0); i < n; i++ {
		if len(b) < 4 {
			return nil, badBinary(t)
		}
		l := int32(binary.BigEndian.Uint32(b))
		b = b[4:]
		if l == -1 {
			arr.Elems = append(arr.Elems, nil)
			continue
		}
		if l < 0 || int(l) > len(b) {
			return nil, badBinary(t)
		}
		v, err := DecodeBinary(elem, b[:l])
		if err != nil {
			return nil, err
		}
		arr.Elems = append(arr.Elems, v)
		b = b[l:]
	}
	if len(b) != 0 {
		return nil, badBinary(t)
	}
	return arr, nil
}

var _ = strconv.Itoa
