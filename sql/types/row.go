package types

import (
	"encoding/binary"
	"math"

	"github.com/cockroachdb/apd/v3"
	"github.com/strand-db/strand/sql/pgerr"
)

// A stored row is:
//
//	uvarint  number of columns n
//	bitmap   (n+7)/8 bytes, bit i set when column i is NULL
//	values   the non-NULL columns in order
//
// with each value: bool one byte; integers, dates, times and timestamps a
// zigzag varint; floats 8 bytes little-endian; strings, bytea, json and
// jsonb a uvarint length and the bytes; uuid 16 bytes; interval three
// varints; numeric a form byte, a varint exponent and the length-prefixed
// big-endian coefficient; arrays a length-prefixed nested row of their
// elements. A row written with fewer columns than cols decodes with NULLs
// for the missing trailing columns (ADD COLUMN).

// EncodeRow appends the storage encoding of row, whose columns have types
// cols. A value of the wrong Go type is an error.
func EncodeRow(buf []byte, cols []T, row []Datum) ([]byte, error) {
	if len(row) != len(cols) {
		return buf, pgerr.New(pgerr.InternalError, "row has %d values for %d columns", len(row), len(cols))
	}
	buf = binary.AppendUvarint(buf, uint64(len(row)))
	at := len(buf)
	for i := 0; i < (len(row)+7)/8; i++ {
		buf = append(buf, 0)
	}
	var err error
	for i, d := range row {
		if d == nil {
			buf[at+i/8] |= 1 << (i % 8)
			continue
		}
		if buf, err = appendRowValue(buf, cols[i], d); err != nil {
			return buf, err
		}
	}
	return buf, nil
}

func appendRowValue(buf []byte, t T, d Datum) ([]byte, error) {
	switch v := d.(type) {
	case bool:
		if v {
			return append(buf, 1), nil
		}
		return append(buf, 0), nil
	case int64:
		return binary.AppendVarint(buf, v), nil
	case float64:
		return binary.LittleEndian.AppendUint64(buf, math.Float64bits(v)), nil
	case string:
		return append(binary.AppendUvarint(buf, uint64(len(v))), v...), nil
	case []byte:
		return append(binary.AppendUvarint(buf, uint64(len(v))), v...), nil
	case JSON:
		return append(binary.AppendUvarint(buf, uint64(len(v))), v...), nil
	case JSONB:
		return append(binary.AppendUvarint(buf, uint64(len(v))), v...), nil
	case UUID:
		return append(buf, v[:]...), nil
	case Date:
		return binary.AppendVarint(buf, int64(v)), nil
	case TimeOfDay:
		return binary.AppendVarint(buf, int64(v)), nil
	case Timestamp:
		return binary.AppendVarint(buf, int64(v)), nil
	case TimestampTZ:
		return binary.AppendVarint(buf, int64(v)), nil
	case Interval:
		buf = binary.AppendVarint(buf, int64(v.Months))
		buf = binary.AppendVarint(buf, int64(v.Days))
		return binary.AppendVarint(buf, v.Micros), nil
	case *apd.Decimal:
		form := byte(0)
		switch v.Form {
		case apd.NaN, apd.NaNSignaling:
			form = 2
		case apd.Infinite:
			form = 3
		}
		if v.Negative {
			form |= 4
		}
		buf = append(buf, form)
		if form&3 != 0 {
			return buf, nil
		}
		buf = binary.AppendVarint(buf, int64(v.Exponent))
		if v.Coeff.IsUint64() {
			buf = append(buf, 0)
			return binary.AppendUvarint(buf, v.Coeff.Uint64()), nil
		}
		c := v.Coeff.Bytes()
		buf = append(buf, 1)
		return append(binary.AppendUvarint(buf, uint64(len(c))), c...), nil
	case *Array:
		inner := make([]byte, 0, 16*len(v.Elems))
		cols := make([]T, len(v.Elems))
		for i := range cols {
			cols[i] = v.Elem
		}
		inner, err := EncodeRow(inner, cols, v.Elems)
		if err != nil {
			return buf, err
		}
		return append(binary.AppendUvarint(buf, uint64(len(inner))), inner...), nil
	}
	return buf, pgerr.New(pgerr.InternalError, "cannot store %T as %s", d, t)
}

func corruptRow() error {
	return pgerr.New(pgerr.DataCorrupted, "corrupt row encoding")
}

// DecodeRow decodes a row written by EncodeRow for columns cols.
func DecodeRow(cols []T, b []byte) ([]Datum, error) {
	row := make([]Datum, len(cols))
	rest, err := decodeRowInto(row, cols, b)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, corruptRow()
	}
	return row, nil
}

// DecodeRowInto is DecodeRow into a caller's slice of len(cols), to avoid
// allocating one per row.
func DecodeRowInto(row []Datum, cols []T, b []byte) error {
	if len(row) != len(cols) {
		return pgerr.New(pgerr.InternalError, "row has %d slots for %d columns", len(row), len(cols))
	}
	rest, err := decodeRowInto(row, cols, b)
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return corruptRow()
	}
	return nil
}

func decodeRowInto(row []Datum, cols []T, b []byte) ([]byte, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(cols)) {
		return nil, corruptRow()
	}
	b = b[k:]
	nb := int(n+7) / 8
	if len(b) < nb {
		return nil, corruptRow()
	}
	bitmap := b[:nb]
	b = b[nb:]
	for i := 0; i < int(n); i++ {
		if bitmap[i/8]&(1<<(i%8)) != 0 {
			row[i] = nil
			continue
		}
		var err error
		if row[i], b, err = decodeRowValue(cols[i], b); err != nil {
			return nil, err
		}
	}
	for i := int(n); i < len(cols); i++ {
		row[i] = nil
	}
	return b, nil
}

func decodeRowValue(t T, b []byte) (Datum, []byte, error) {
	varint := func() (int64, error) {
		v, k := binary.Varint(b)
		if k <= 0 {
			return 0, corruptRow()
		}
		b = b[k:]
		return v, nil
	}
	bytesOf := func() ([]byte, error) {
		n, k := binary.Uvarint(b)
		if k <= 0 || n > uint64(len(b)-k) {
			return nil, corruptRow()
		}
		v := b[k : k+int(n)]
		b = b[k+int(n):]
		return v, nil
	}
	switch t.OID {
	case BoolOID:
		if len(b) < 1 {
			return nil, nil, corruptRow()
		}
		return b[0] != 0, b[1:], nil
	case Int2OID, Int4OID, Int8OID, OIDOID, DateOID, TimeOID, TimestampOID, TimestampTZOID:
		v, err := varint()
		if err != nil {
			return nil, nil, err
		}
		switch t.OID {
		case DateOID:
			return Date(v), b, nil
		case TimeOID:
			return TimeOfDay(v), b, nil
		case TimestampOID:
			return Timestamp(v), b, nil
		case TimestampTZOID:
			return TimestampTZ(v), b, nil
		}
		return v, b, nil
	case Float4OID, Float8OID:
		if len(b) < 8 {
			return nil, nil, corruptRow()
		}
		return math.Float64frombits(binary.LittleEndian.Uint64(b)), b[8:], nil
	case TextOID, VarcharOID, BpcharOID, NameOID, UnknownOID, ByteaOID, JSONOID, JSONBOID:
		v, err := bytesOf()
		if err != nil {
			return nil, nil, err
		}
		switch t.OID {
		case ByteaOID:
			return append([]byte{}, v...), b, nil
		case JSONOID:
			return JSON(v), b, nil
		case JSONBOID:
			return JSONB(v), b, nil
		}
		return string(v), b, nil
	case UUIDOID:
		if len(b) < 16 {
			return nil, nil, corruptRow()
		}
		var u UUID
		copy(u[:], b)
		return u, b[16:], nil
	case IntervalOID:
		m, err1 := varint()
		d, err2 := varint()
		us, err3 := varint()
		if err1 != nil || err2 != nil || err3 != nil || int64(int32(m)) != m || int64(int32(d)) != d {
			return nil, nil, corruptRow()
		}
		return Interval{Months: int32(m), Days: int32(d), Micros: us}, b, nil
	case NumericOID:
		if len(b) < 1 {
			return nil, nil, corruptRow()
		}
		form := b[0]
		b = b[1:]
		dec := &apd.Decimal{Negative: form&4 != 0}
		switch form & 3 {
		case 2:
			dec.Form = apd.NaN
			return dec, b, nil
		case 3:
			dec.Form = apd.Infinite
			return dec, b, nil
		case 1:
			return nil, nil, corruptRow()
		}
		e, err := varint()
		if err != nil || int64(int32(e)) != e || len(b) < 1 {
			return nil, nil, corruptRow()
		}
		dec.Exponent = int32(e)
		kind := b[0]
		b = b[1:]
		switch kind {
		case 0:
			u, k := binary.Uvarint(b)
			if k <= 0 {
				return nil, nil, corruptRow()
			}
			b = b[k:]
			dec.Coeff.SetUint64(u)
		case 1:
			c, err := bytesOf()
			if err != nil {
				return nil, nil, err
			}
			dec.Coeff.SetBytes(c)
		default:
			return nil, nil, corruptRow()
		}
		return dec, b, nil
	}
	if t.IsArray() {
		inner, err := bytesOf()
		if err != nil {
			return nil, nil, err
		}
		n, k := binary.Uvarint(inner)
		if k <= 0 || n > uint64(len(inner))*8 {
			return nil, nil, corruptRow()
		}
		elem := t.ElemType()
		cols := make([]T, n)
		for i := range cols {
			cols[i] = elem
		}
		elems := make([]Datum, n)
		rest, err := decodeRowInto(elems, cols, inner)
		if err != nil {
			return nil, nil, err
		}
		if len(rest) != 0 {
			return nil, nil, corruptRow()
		}
		return &Array{Elem: elem, Elems: elems}, b, nil
	}
	return nil, nil, pgerr.New(pgerr.FeatureNotSupported, "row encoding for type %s is not supported", t)
}
