package vec

import (
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/strand-db/strand/sql/types"
)

// kind is how a vector stores its values. Integers, dates and timestamps
// are int64 (as Strand stores them), float8 is float64, text and varchar
// are Arrow strings, bool is one Go bool per row.
type kind uint8

const (
	kInt kind = iota
	kFloat
	kBool
	kText
)

// kindOf is the vector kind of a SQL type; ok is false for the types vec
// does not handle.
func kindOf(t types.T) (kind, bool) {
	switch t.OID {
	case types.Int2OID, types.Int4OID, types.Int8OID, types.DateOID, types.TimestampOID, types.TimestampTZOID:
		return kInt, true
	case types.Float8OID:
		return kFloat, true
	case types.BoolOID:
		return kBool, true
	case types.TextOID:
		return kText, true
	case types.VarcharOID:
		// varchar(n) compares and groups as text; only the cast to it
		// would truncate, and casts to varchar are not vectorized.
		return kText, true
	}
	return 0, false
}

// arrowType is the Arrow type a scanned column of kind k is decoded into.
func arrowType(k kind) arrow.DataType {
	switch k {
	case kInt:
		return arrow.PrimitiveTypes.Int64
	case kFloat:
		return arrow.PrimitiveTypes.Float64
	case kBool:
		return arrow.FixedWidthTypes.Boolean
	}
	return arrow.BinaryTypes.String
}

// vector is one column of a batch: a zero-copy view of an Arrow array's
// buffers, or an expression's result. Only the positions of the
// selection it was computed for are defined.
type vector struct {
	kind  kind
	ints  []int64
	flts  []float64
	bools []bool
	text  *array.String
	// valid is an Arrow validity bitmap (bit set: not NULL); nil means no
	// NULLs.
	valid []byte
	// konst: one value for every row, at index 0 of ints/flts/bools or in
	// str; cnull: that value is NULL.
	konst bool
	cnull bool
	str   string
}

func (v *vector) null(i int32) bool {
	if v.konst {
		return v.cnull
	}
	return v.valid != nil && v.valid[i>>3]&(1<<(i&7)) == 0
}

func (v *vector) int(i int32) int64 {
	if v.konst {
		return v.ints[0]
	}
	return v.ints[i]
}

func (v *vector) flt(i int32) float64 {
	if v.konst {
		return v.flts[0]
	}
	return v.flts[i]
}

func (v *vector) boolean(i int32) bool {
	if v.konst {
		return v.bools[0]
	}
	return v.bools[i]
}

func (v *vector) string(i int32) string {
	if v.konst {
		return v.str
	}
	return v.text.Value(int(i))
}

// hasNulls reports whether any position may be NULL.
func (v *vector) hasNulls() bool {
	if v.konst {
		return v.cnull
	}
	return v.valid != nil
}

// fromArrow views an Arrow column as a vector; bools are unpacked into
// buf's storage.
func fromArrow(a arrow.Array, k kind, dst *vector) {
	*dst = vector{kind: k, ints: dst.ints[:0], flts: dst.flts[:0], bools: dst.bools[:0]}
	if a.NullN() > 0 {
		dst.valid = a.NullBitmapBytes()
	}
	switch x := a.(type) {
	case *array.Int64:
		dst.ints = x.Int64Values()
	case *array.Float64:
		dst.flts = x.Float64Values()
	case *array.Boolean:
		n := x.Len()
		if cap(dst.bools) < n {
			dst.bools = make([]bool, n)
		}
		dst.bools = dst.bools[:n]
		for i := 0; i < n; i++ {
			dst.bools[i] = x.Value(i)
		}
	case *array.String:
		dst.text = x
	}
}

// result prepares a kernel's output vector of n rows, reusing its buffers.
type result struct {
	v     vector
	ints  []int64
	flts  []float64
	bools []bool
	valid []byte
}

func (r *result) make(k kind, n int, nullable bool) *vector {
	r.v = vector{kind: k}
	switch k {
	case kInt:
		if cap(r.ints) < n {
			r.ints = make([]int64, n)
		}
		r.v.ints = r.ints[:n]
	case kFloat:
		if cap(r.flts) < n {
			r.flts = make([]float64, n)
		}
		r.v.flts = r.flts[:n]
	case kBool:
		if cap(r.bools) < n {
			r.bools = make([]bool, n)
		}
		r.v.bools = r.bools[:n]
	}
	if nullable {
		nb := (n + 7) / 8
		if cap(r.valid) < nb {
			r.valid = make([]byte, nb)
		}
		r.v.valid = r.valid[:nb]
		clear(r.v.valid)
	}
	return &r.v
}

func setValid(valid []byte, i int32) { valid[i>>3] |= 1 << (i & 7) }

// datum is the value at position i as the row engine represents type t.
func (v *vector) datum(t types.T, i int32) types.Datum {
	if v.null(i) {
		return nil
	}
	switch v.kind {
	case kInt:
		return intDatum(t, v.int(i))
	case kFloat:
		return v.flt(i)
	case kBool:
		return v.boolean(i)
	}
	return v.string(i)
}

// intDatum is an int64-stored value as a Datum of type t.
func intDatum(t types.T, x int64) types.Datum {
	switch t.OID {
	case types.DateOID:
		return types.Date(x)
	case types.TimestampOID:
		return types.Timestamp(x)
	case types.TimestampTZOID:
		return types.TimestampTZ(x)
	}
	return x
}

// constVector holds a Datum of type t as a constant vector.
func constVector(t types.T, k kind, d types.Datum) *vector {
	v := &vector{kind: k, konst: true, cnull: d == nil}
	switch k {
	case kInt:
		v.ints = []int64{0}
	case kFloat:
		v.flts = []float64{0}
	case kBool:
		v.bools = []bool{false}
	}
	if d == nil {
		return v
	}
	switch x := d.(type) {
	case int64:
		v.ints[0] = x
	case types.Date:
		v.ints[0] = int64(x)
	case types.Timestamp:
		v.ints[0] = int64(x)
	case types.TimestampTZ:
		v.ints[0] = int64(x)
	case float64:
		v.flts[0] = x
	case bool:
		v.bools[0] = x
	case string:
		v.str = x
	}
	return v
}
