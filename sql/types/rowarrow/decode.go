// Package rowarrow decodes rows in the storage encoding of sql/types
// (types.EncodeRow) straight into Arrow builders, with no Datum per value.
// Readers that turn many stored rows into columns share it: the vectorized
// query engine (exec/vec) and whoever else builds Arrow records from the
// log.
//
// The builder given for a column decides the conversion: a date or a
// timestamp goes into an Int64Builder as Strand stores it (days or
// microseconds since 2000-01-01), into a Date32Builder or TimestampBuilder
// counted from the Unix epoch (what Parquet and Iceberg readers expect);
// int2 and int4 go into an Int32Builder or an Int64Builder; float4 and
// float8 into a Float32Builder or a Float64Builder. Numeric, interval and
// array values have no direct decoder (their storage forms need real
// work); a reader that wants them decodes such rows through Datums.
// Every type can be skipped.
package rowarrow

import (
	"encoding/binary"
	"errors"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/extensions"

	"github.com/strand-db/strand/sql/types"
)

// ErrCorrupt is returned for a row that does not follow the encoding.
var ErrCorrupt = errors.New("corrupt row encoding")

// Strand's dates and timestamps count from 2000-01-01, Unix's from 1970.
const (
	UnixEpochDays   = 10957
	UnixEpochMicros = 946684800 * 1000000
)

// UnixMicros moves a Strand timestamp to the Unix epoch; the infinities
// stay the int64 extremes.
func UnixMicros(us int64) int64 {
	if us == math.MaxInt64 || us == math.MinInt64 {
		return us
	}
	return us + UnixEpochMicros
}

// Decoder decodes the stored rows of one schema version into builders.
type Decoder struct {
	dec     []colDecoder
	null    []func()
	missing []array.Builder
}

// colDecoder decodes one stored value at the start of b (into its builder,
// or nowhere when the column is skipped) and returns the rest of b.
type colDecoder func(b []byte) ([]byte, error)

// NewDecoder prepares the decoding of rows whose columns have types stored.
// into[i] receives stored column i (nil: skip it, for a dropped column or
// one the reader does not need); missing are builders of columns the
// version lacks, which get a NULL per row. ok is false when a column to
// decode has no direct decoder, or its builder does not fit its type: the
// caller then decodes through Datums.
func NewDecoder(stored []types.T, into []array.Builder, missing []array.Builder) (d *Decoder, ok bool) {
	d = &Decoder{missing: missing}
	for i, t := range stored {
		var fb array.Builder
		if i < len(into) {
			fb = into[i]
		}
		var dec colDecoder
		if fb == nil {
			dec = skipper(t)
		} else {
			dec = decoder(t, fb)
		}
		if dec == nil {
			return nil, false
		}
		d.dec = append(d.dec, dec)
		if fb != nil {
			d.null = append(d.null, fb.AppendNull)
		} else {
			d.null = append(d.null, func() {})
		}
	}
	return d, true
}

// Decode appends one stored row to the builders. On error the builders may
// hold a partial row; the caller abandons the batch.
func (d *Decoder) Decode(b []byte) error {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(d.dec)) {
		return ErrCorrupt
	}
	b = b[k:]
	nb := int(n+7) / 8
	if len(b) < nb {
		return ErrCorrupt
	}
	bitmap := b[:nb]
	b = b[nb:]
	var err error
	for i := 0; i < int(n); i++ {
		if bitmap[i/8]&(1<<(i%8)) != 0 {
			d.null[i]()
			continue
		}
		if b, err = d.dec[i](b); err != nil {
			return err
		}
	}
	// A row written before ADD COLUMN within this version's list has
	// fewer columns: the rest are NULL.
	for i := int(n); i < len(d.dec); i++ {
		d.null[i]()
	}
	for _, fb := range d.missing {
		fb.AppendNull()
	}
	if len(b) != 0 {
		return ErrCorrupt
	}
	return nil
}

func varint(b []byte) (int64, []byte, error) {
	// Most stored integers are small: one or two bytes, decoded inline.
	if len(b) > 0 && b[0] < 0x80 {
		u := uint64(b[0])
		return int64(u>>1) ^ -int64(u&1), b[1:], nil
	}
	if len(b) > 1 && b[1] < 0x80 {
		u := uint64(b[0]&0x7f) | uint64(b[1])<<7
		return int64(u>>1) ^ -int64(u&1), b[2:], nil
	}
	v, k := binary.Varint(b)
	if k <= 0 {
		return 0, nil, ErrCorrupt
	}
	return v, b[k:], nil
}

func bytesOf(b []byte) ([]byte, []byte, error) {
	n, k := binary.Uvarint(b)
	if k <= 0 || n > uint64(len(b)-k) {
		return nil, nil, ErrCorrupt
	}
	return b[k : k+int(n)], b[k+int(n):], nil
}

// appendInt64 skips Append's capacity check (a function call per value)
// while the builder has room, as it does for a reader that reserves a
// batch's rows up front.
func appendInt64(ib *array.Int64Builder, v int64) {
	if ib.Len() < ib.Cap() {
		ib.UnsafeAppend(v)
		return
	}
	ib.Append(v)
}

// decoder decodes a stored value of type t into fb; nil when t has no
// direct decoder or fb is not a builder for it.
func decoder(t types.T, fb array.Builder) colDecoder {
	if t.IsArray() {
		return nil
	}
	switch t.OID {
	case types.BoolOID:
		bb, ok := fb.(*array.BooleanBuilder)
		if !ok {
			return nil
		}
		return func(b []byte) ([]byte, error) {
			if len(b) < 1 {
				return nil, ErrCorrupt
			}
			bb.Append(b[0] != 0)
			return b[1:], nil
		}
	case types.Int2OID, types.Int4OID, types.Int8OID, types.OIDOID, types.TimeOID:
		switch ib := fb.(type) {
		case *array.Int64Builder:
			return func(b []byte) ([]byte, error) {
				v, rest, err := varint(b)
				if err == nil {
					appendInt64(ib, v)
				}
				return rest, err
			}
		case *array.Int32Builder:
			if t.OID != types.Int2OID && t.OID != types.Int4OID {
				return nil
			}
			return func(b []byte) ([]byte, error) {
				v, rest, err := varint(b)
				if err == nil {
					ib.Append(int32(v))
				}
				return rest, err
			}
		case *array.Time64Builder:
			if t.OID != types.TimeOID {
				return nil
			}
			return func(b []byte) ([]byte, error) {
				v, rest, err := varint(b)
				if err == nil {
					ib.Append(arrow.Time64(v))
				}
				return rest, err
			}
		}
		return nil
	case types.DateOID:
		switch db := fb.(type) {
		case *array.Int64Builder:
			return func(b []byte) ([]byte, error) {
				v, rest, err := varint(b)
				if err == nil {
					appendInt64(db, v)
				}
				return rest, err
			}
		case *array.Date32Builder:
			return func(b []byte) ([]byte, error) {
				v, rest, err := varint(b)
				if err == nil {
					switch types.Date(v) {
					case types.DateInfinity:
						db.Append(math.MaxInt32)
					case types.DateNegInfinity:
						db.Append(math.MinInt32)
					default:
						db.Append(arrow.Date32(int32(v) + UnixEpochDays))
					}
				}
				return rest, err
			}
		}
		return nil
	case types.TimestampOID, types.TimestampTZOID:
		switch tb := fb.(type) {
		case *array.Int64Builder:
			return func(b []byte) ([]byte, error) {
				v, rest, err := varint(b)
				if err == nil {
					appendInt64(tb, v)
				}
				return rest, err
			}
		case *array.TimestampBuilder:
			return func(b []byte) ([]byte, error) {
				v, rest, err := varint(b)
				if err == nil {
					tb.Append(arrow.Timestamp(UnixMicros(v)))
				}
				return rest, err
			}
		}
		return nil
	case types.Float4OID, types.Float8OID:
		switch x := fb.(type) {
		case *array.Float64Builder:
			return func(b []byte) ([]byte, error) {
				if len(b) < 8 {
					return nil, ErrCorrupt
				}
				x.Append(math.Float64frombits(binary.LittleEndian.Uint64(b)))
				return b[8:], nil
			}
		case *array.Float32Builder:
			return func(b []byte) ([]byte, error) {
				if len(b) < 8 {
					return nil, ErrCorrupt
				}
				x.Append(float32(math.Float64frombits(binary.LittleEndian.Uint64(b))))
				return b[8:], nil
			}
		}
		return nil
	case types.TextOID, types.VarcharOID, types.BpcharOID, types.NameOID,
		types.JSONOID, types.JSONBOID, types.ByteaOID:
		var bb *array.BinaryBuilder
		switch x := fb.(type) {
		case *array.StringBuilder:
			bb = x.BinaryBuilder
		case *array.BinaryBuilder:
			bb = x
		default:
			return nil
		}
		return func(b []byte) ([]byte, error) {
			v, rest, err := bytesOf(b)
			if err == nil {
				bb.Append(v)
			}
			return rest, err
		}
	case types.UUIDOID:
		ub, ok := fb.(*extensions.UUIDBuilder)
		if !ok {
			return nil
		}
		return func(b []byte) ([]byte, error) {
			if len(b) < 16 {
				return nil, ErrCorrupt
			}
			ub.AppendBytes([16]byte(b[:16]))
			return b[16:], nil
		}
	}
	return nil
}

// skipper steps over a stored value of type t without decoding it; every
// type the row encoding stores has one.
func skipper(t types.T) colDecoder {
	skipVarints := func(n int) colDecoder {
		return func(b []byte) ([]byte, error) {
			var err error
			for i := 0; i < n && err == nil; i++ {
				_, b, err = varint(b)
			}
			return b, err
		}
	}
	skipBytes := func(b []byte) ([]byte, error) {
		_, rest, err := bytesOf(b)
		return rest, err
	}
	skipFixed := func(n int) colDecoder {
		return func(b []byte) ([]byte, error) {
			if len(b) < n {
				return nil, ErrCorrupt
			}
			return b[n:], nil
		}
	}
	if t.IsArray() {
		return skipBytes
	}
	switch t.OID {
	case types.BoolOID:
		return skipFixed(1)
	case types.Int2OID, types.Int4OID, types.Int8OID, types.OIDOID, types.DateOID, types.TimeOID,
		types.TimestampOID, types.TimestampTZOID:
		return skipVarints(1)
	case types.Float4OID, types.Float8OID:
		return skipFixed(8)
	case types.TextOID, types.VarcharOID, types.BpcharOID, types.NameOID, types.UnknownOID,
		types.ByteaOID, types.JSONOID, types.JSONBOID:
		return skipBytes
	case types.UUIDOID:
		return skipFixed(16)
	case types.IntervalOID:
		return skipVarints(3)
	case types.NumericOID:
		// form byte; finite numbers add a varint exponent, a kind byte and
		// a uvarint coefficient (kind 0) or length-prefixed bytes (kind 1).
		return func(b []byte) ([]byte, error) {
			if len(b) < 1 {
				return nil, ErrCorrupt
			}
			form := b[0]
			b = b[1:]
			if form&3 != 0 {
				return b, nil
			}
			_, b, err := varint(b)
			if err != nil || len(b) < 1 {
				return nil, ErrCorrupt
			}
			kind := b[0]
			b = b[1:]
			switch kind {
			case 0:
				_, k := binary.Uvarint(b)
				if k <= 0 {
					return nil, ErrCorrupt
				}
				return b[k:], nil
			case 1:
				return skipBytes(b)
			}
			return nil, ErrCorrupt
		}
	}
	return nil
}
