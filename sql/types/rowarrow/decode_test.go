package rowarrow

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/strand-db/strand/sql/types"
)

// TestDecodeMatchesDecodeRow decodes random rows (integers of every size,
// floats, text, bools, dates, timestamps, NULLs, numerics to skip) into
// Arrow builders and compares every value with types.DecodeRow.
func TestDecodeMatchesDecodeRow(t *testing.T) {
	cols := []types.T{types.Make(types.Int8OID), types.Make(types.Int4OID), types.Make(types.Float8OID),
		types.Make(types.TextOID), types.Make(types.BoolOID), types.Make(types.DateOID),
		types.Make(types.TimestampOID), types.Make(types.NumericOID), types.Make(types.Int2OID)}
	mem := memory.NewGoAllocator()
	bs := []array.Builder{array.NewInt64Builder(mem), array.NewInt64Builder(mem), array.NewFloat64Builder(mem),
		array.NewStringBuilder(mem), array.NewBooleanBuilder(mem), array.NewInt64Builder(mem),
		array.NewInt64Builder(mem), nil, array.NewInt32Builder(mem)}
	d, ok := NewDecoder(cols, bs, nil)
	if !ok {
		t.Fatal("no decoder")
	}
	r := rand.New(rand.NewPCG(1, 1))
	ints := func() int64 {
		switch r.IntN(4) {
		case 0:
			return r.Int64N(128) - 64
		case 1:
			return r.Int64N(16384) - 8192
		case 2:
			return []int64{math.MaxInt64, math.MinInt64, 0, -1}[r.IntN(4)]
		}
		return r.Int64()
	}
	var want [][]types.Datum
	for i := 0; i < 5000; i++ {
		num, _ := types.NewNumeric("12345678901234567890.5")
		row := []types.Datum{ints(), ints() % math.MaxInt32, r.NormFloat64(), "s" + string(rune('a'+r.IntN(26))),
			r.IntN(2) == 0, types.Date(ints() % 100000), types.Timestamp(ints()), num, ints() % math.MaxInt16}
		for c := range row {
			if r.IntN(8) == 0 {
				row[c] = nil
			}
		}
		enc, err := types.EncodeRow(nil, cols, row)
		if err != nil {
			t.Fatal(err)
		}
		if err := d.Decode(enc); err != nil {
			t.Fatalf("row %d: %v", i, err)
		}
		want = append(want, row)
	}
	arrs := make([]arrow.Array, len(bs))
	for c, b := range bs {
		if b != nil {
			arrs[c] = b.NewArray()
		}
	}
	for i, row := range want {
		for c, w := range row {
			a := arrs[c]
			if a == nil {
				continue
			}
			if w == nil {
				if !a.IsNull(i) {
					t.Fatalf("row %d col %d: want NULL", i, c)
				}
				continue
			}
			var got any
			switch x := a.(type) {
			case *array.Int64:
				got = x.Value(i)
			case *array.Int32:
				got = int64(x.Value(i))
			case *array.Float64:
				got = x.Value(i)
			case *array.String:
				got = x.Value(i)
			case *array.Boolean:
				got = x.Value(i)
			}
			switch v := w.(type) {
			case types.Date:
				w = int64(v)
			case types.Timestamp:
				w = int64(v)
			}
			if got != w {
				t.Fatalf("row %d col %d: got %v, want %v", i, c, got, w)
			}
		}
	}
	// Every strict prefix of a row is an error, not a panic or a row.
	enc, _ := types.EncodeRow(nil, cols, want[0])
	for n := 0; n < len(enc); n++ {
		if err := d.Decode(enc[:n]); err == nil {
			t.Fatalf("a row cut to %d of %d bytes decoded", n, len(enc))
		}
	}
}
