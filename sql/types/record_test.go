package types

import (
	"bytes"
	"testing"
)

func TestRecord(t *testing.T) {
	rt := Make(RecordOID)
	r := &Record{Types: []T{Make(TextOID), Make(Int4OID), Make(TextOID), Make(TextOID)}, Fields: []Datum{"a b", int64(1), nil, `x"y`}}
	if got, want := FormatText(rt, r, nil), `("a b",1,,"x""y")`; got != want {
		t.Errorf("text: got %s, want %s", got, want)
	}
	bin := AppendBinary(nil, rt, &Record{Types: []T{Make(Int2OID), Make(Int4OID)}, Fields: []Datum{int64(5), nil}})
	want := []byte{0, 0, 0, 2, 0, 0, 0, 21, 0, 0, 0, 2, 0, 5, 0, 0, 0, 23, 0xff, 0xff, 0xff, 0xff}
	if !bytes.Equal(bin, want) {
		t.Errorf("binary: got %v, want %v", bin, want)
	}
	two := []T{Make(Int4OID), Make(Int4OID)}
	for _, c := range []struct {
		a, b []Datum
		want int
	}{
		{[]Datum{int64(1), int64(2)}, []Datum{int64(2), int64(1)}, -1},
		{[]Datum{int64(1), nil}, []Datum{int64(1), int64(9)}, 1}, // NULL fields sort last
		{[]Datum{int64(1), int64(2)}, []Datum{int64(1), int64(2)}, 0},
	} {
		if got := Compare(rt, &Record{Types: two, Fields: c.a}, &Record{Types: two, Fields: c.b}); got != c.want {
			t.Errorf("Compare(%v, %v) = %d, want %d", c.a, c.b, got, c.want)
		}
	}
	if _, err := ParseText(rt, "(1,2)", nil); err == nil {
		t.Error("ParseText of a record: want an error")
	}
}
