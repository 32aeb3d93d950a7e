package types

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/cockroachdb/apd/v3"
)

// keyTypes are the types the random tests cover.
var keyTypes = []string{"bool", "int2", "int4", "int8", "float4", "float8", "numeric", "text", "char(4)",
	"bytea", "date", "time", "timestamp", "timestamptz", "interval", "uuid", "jsonb", "json", "int4[]", "text[]", "oid"}

func randomString(r *rand.Rand) string {
	alphabet := []string{"", "a", "b", "/", "\x00", "\xff", "é", " ", "ab", "z", "\x01"}
	var sb strings.Builder
	for n := r.IntN(5); n > 0; n-- {
		sb.WriteString(alphabet[r.IntN(len(alphabet))])
	}
	return sb.String()
}

func randomNumeric(r *rand.Rand) *apd.Decimal {
	switch r.IntN(12) {
	case 0:
		return &apd.Decimal{Form: apd.NaN}
	case 1:
		return &apd.Decimal{Form: apd.Infinite, Negative: r.IntN(2) == 0}
	case 2:
		return &apd.Decimal{Exponent: -int32(r.IntN(3))}
	}
	digits := []byte(fmt.Sprint(r.Int64N(1 << uint(r.IntN(62)+1))))
	for i := r.IntN(3); i > 0; i-- {
		digits = append(digits, '0')
	}
	d, err := makeNumeric(r.IntN(2) == 0, bytes.TrimLeft(digits, "0"), -r.IntN(25))
	if err != nil {
		panic(err)
	}
	return d
}

func randomJSON(r *rand.Rand, depth int) string {
	switch k := r.IntN(7); {
	case k == 0:
		return "null"
	case k == 1:
		return []string{"true", "false"}[r.IntN(2)]
	case k == 2:
		return string(appendJSONString(nil, strings.ToValidUTF8(strings.ReplaceAll(randomString(r), "\x00", ""), "")))
	case k == 3 || depth > 2:
		d := randomNumeric(r)
		if d.Form != apd.Finite {
			return "0"
		}
		return string(appendNumeric(nil, d))
	case k == 4 || k == 5:
		var parts []string
		for n := r.IntN(3); n > 0; n-- {
			parts = append(parts, randomJSON(r, depth+1))
		}
		return "[" + strings.Join(parts, ",") + "]"
	default:
		var parts []string
		for n := r.IntN(3); n > 0; n-- {
			parts = append(parts, fmt.Sprintf("%q:%s", []string{"a", "b", "aa", ""}[r.IntN(4)], randomJSON(r, depth+1)))
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
}

func randomDatum(r *rand.Rand, t T) Datum {
	if r.IntN(10) == 0 {
		return nil
	}
	switch t.OID {
	case BoolOID:
		return r.IntN(2) == 0
	case Int2OID:
		return int64(int16(r.Uint32()))
	case Int4OID:
		return int64(int32(r.Uint32()))
	case Int8OID:
		return int64(r.Uint64()) >> r.IntN(64)
	case OIDOID:
		return int64(r.Uint32())
	case Float4OID, Float8OID:
		special := []float64{0, math.Copysign(0, -1), math.Inf(1), math.Inf(-1), canonicalNaN, 1, -1, 0.1}
		if r.IntN(3) == 0 {
			return special[r.IntN(len(special))]
		}
		f := math.Float64frombits(r.Uint64())
		if t.OID == Float4OID {
			f = float64(float32(f))
		}
		if f != f {
			return canonicalNaN
		}
		return f
	case NumericOID:
		return randomNumeric(r)
	case TextOID:
		return randomString(r)
	case BpcharOID:
		s, _ := applyCharTypmod(strings.ToValidUTF8(randomString(r), ""), t, true)
		return s
	case ByteaOID:
		return []byte(randomString(r))
	case DateOID:
		if r.IntN(20) == 0 {
			return []Date{DateInfinity, DateNegInfinity}[r.IntN(2)]
		}
		return Date(r.Int64N(endDate-minDate) + minDate)
	case TimeOID:
		return TimeOfDay(r.Int64N(usecsPerDay + 1))
	case TimestampOID:
		if r.IntN(20) == 0 {
			return []Timestamp{TimestampInfinity, TimestampNegInfinity}[r.IntN(2)]
		}
		return Timestamp(r.Int64N(endTimestamp/2) - r.Int64N(-minTimestamp))
	case TimestampTZOID:
		return TimestampTZ(r.Int64N(1 << 50))
	case IntervalOID:
		return Interval{Months: int32(r.IntN(2000) - 1000), Days: int32(r.IntN(2000) - 1000), Micros: r.Int64N(1<<40) - 1<<39}
	case UUIDOID:
		var u UUID
		for i := range u {
			u[i] = byte(r.IntN(4))
		}
		return u
	case JSONBOID:
		v, err := parseJSONB(randomJSON(r, 0))
		if err != nil {
			panic(err)
		}
		return v
	case JSONOID:
		return JSON(randomJSON(r, 0))
	}
	if t.IsArray() {
		a := &Array{Elem: t.ElemType(), Elems: []Datum{}}
		for n := r.IntN(4); n > 0; n-- {
			a.Elems = append(a.Elems, randomDatum(r, t.ElemType()))
		}
		return a
	}
	panic(t)
}

func compareNullable(t T, a, b Datum) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		return -1
	case b == nil:
		return 1
	}
	return Compare(t, a, b)
}

func TestKeyOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for _, name := range keyTypes {
		ty := mustType(t, name)
		t.Run(name, func(t *testing.T) {
			vals := make([]Datum, 400)
			for i := range vals {
				vals[i] = randomDatum(r, ty)
			}
			for i := 0; i < 2000; i++ {
				a, b := vals[r.IntN(len(vals))], vals[r.IntN(len(vals))]
				ka, kb := AppendKey(nil, ty, a), AppendKey(nil, ty, b)
				c := compareNullable(ty, a, b)
				if got := bytes.Compare(ka, kb); got != c {
					t.Fatalf("%s: Compare(%v, %v) = %d but keys compare %d (%x, %x)", name, show(ty, a), show(ty, b), c, got, ka, kb)
				}
				if c == 0 && a != nil && b != nil && Hash(ty, a) != Hash(ty, b) {
					t.Fatalf("equal values %v, %v hash differently", show(ty, a), show(ty, b))
				}
				if c != -Compare2(ty, b, a) {
					t.Fatalf("Compare not antisymmetric on %v, %v", show(ty, a), show(ty, b))
				}
				// Self-delimiting, and the decoded value is equal.
				got, rest, err := DecodeKey(ty, append(ka, 0xAB))
				if err != nil || !bytes.Equal(rest, []byte{0xAB}) || compareNullable(ty, got, a) != 0 {
					t.Fatalf("DecodeKey(%x) = %v, %x, %v; want %v", ka, show(ty, got), rest, err, show(ty, a))
				}
			}
		})
	}
}

func Compare2(t T, a, b Datum) int { return compareNullable(t, a, b) }

func show(t T, d Datum) string {
	if d == nil {
		return "NULL"
	}
	return fmt.Sprintf("%q", FormatText(t, d, nil))
}

// TestTupleKeyOrder sorts random tuples by Compare, column by column, and
// by their concatenated keys.
func TestTupleKeyOrder(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	cols := []T{mustType(t, "text"), mustType(t, "int8"), mustType(t, "numeric"), mustType(t, "bytea")}
	type tuple struct {
		vals []Datum
		key  []byte
	}
	tuples := make([]tuple, 2000)
	for i := range tuples {
		var k []byte
		vals := make([]Datum, len(cols))
		for j, c := range cols {
			vals[j] = randomDatum(r, c)
			k = AppendKey(k, c, vals[j])
		}
		tuples[i] = tuple{vals, k}
	}
	byCompare := slices.Clone(tuples)
	slices.SortStableFunc(byCompare, func(a, b tuple) int {
		for j, c := range cols {
			if x := compareNullable(c, a.vals[j], b.vals[j]); x != 0 {
				return x
			}
		}
		return 0
	})
	for i := 1; i < len(byCompare); i++ {
		if bytes.Compare(byCompare[i-1].key, byCompare[i].key) > 0 {
			t.Fatalf("tuple keys out of order at %d: %x > %x", i, byCompare[i-1].key, byCompare[i].key)
		}
	}
	for _, tu := range tuples[:200] {
		b := tu.key
		for j, c := range cols {
			var v Datum
			var err error
			v, b, err = DecodeKey(c, b)
			if err != nil || compareNullable(c, v, tu.vals[j]) != 0 {
				t.Fatalf("decode column %d: %v %v", j, show(c, v), err)
			}
		}
		if len(b) != 0 {
			t.Fatalf("left over %x", b)
		}
	}
}

func TestKeyPrefix(t *testing.T) {
	tt := Make(TextOID)
	paths := []string{"orders", "orders/", "orders/2024", "orders/2024/01", "orders/2025", "orders0", "order", "orders/2024\x00x", "p"}
	prefix := AppendKeyPrefix(nil, "orders/2024")
	for _, p := range paths {
		k := AppendKey(nil, tt, p)
		if got, want := bytes.HasPrefix(k, prefix), strings.HasPrefix(p, "orders/2024"); got != want {
			t.Errorf("%q: key has prefix %v, string has prefix %v", p, got, want)
		}
	}
	// Tuples: (path, version) with path under a prefix form a range.
	k := AppendKey(AppendKey(nil, tt, "orders/2024/01"), Make(Int8OID), int64(3))
	if !bytes.HasPrefix(k, prefix) {
		t.Errorf("tuple key %x lacks prefix %x", k, prefix)
	}
}

func TestRowRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var cols []T
	for _, name := range keyTypes {
		cols = append(cols, mustType(t, name))
	}
	for i := 0; i < 500; i++ {
		row := make([]Datum, len(cols))
		for j, c := range cols {
			row[j] = randomDatum(r, c)
		}
		enc, err := EncodeRow(nil, cols, row)
		if err != nil {
			t.Fatal(err)
		}
		dec, err := DecodeRow(cols, enc)
		if err != nil {
			for j, c := range cols {
				one, _ := EncodeRow(nil, cols[j:j+1], row[j:j+1])
				if _, err := DecodeRow(cols[j:j+1], one); err != nil {
					t.Errorf("%s %v: %v", c, show(c, row[j]), err)
				}
			}
			t.Fatal(err)
		}
		for j, c := range cols {
			if compareNullable(c, dec[j], row[j]) != 0 || FormatText(c, dec[j], nil) != FormatText(c, row[j], nil) {
				t.Fatalf("column %s: got %v want %v", c, show(c, dec[j]), show(c, row[j]))
			}
		}
		// Every truncation is an error, never a panic.
		for cut := 0; cut < len(enc); cut++ {
			if _, err := DecodeRow(cols, enc[:cut]); err == nil {
				t.Fatalf("truncated row (%d of %d bytes) decoded", cut, len(enc))
			}
		}
	}
	// A row written before ADD COLUMN decodes with NULL for the new column.
	enc, _ := EncodeRow(nil, cols[:2], []Datum{true, int64(7)})
	dec, err := DecodeRow(cols[:3], enc)
	if err != nil || dec[0] != true || dec[1] != int64(7) || dec[2] != nil {
		t.Fatalf("short row: %v %v", dec, err)
	}
}

func FuzzDecodeRow(f *testing.F) {
	cols := []T{Make(BoolOID), Make(Int8OID), Make(TextOID), Make(NumericOID), Make(Float8OID),
		Make(IntervalOID), Make(UUIDOID), ArrayOf(Make(Int4OID)), Make(JSONBOID), Make(TimestampTZOID)}
	r := rand.New(rand.NewPCG(7, 8))
	for i := 0; i < 8; i++ {
		row := make([]Datum, len(cols))
		for j, c := range cols {
			row[j] = randomDatum(r, c)
		}
		enc, _ := EncodeRow(nil, cols, row)
		f.Add(enc)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		row, err := DecodeRow(cols, b)
		if err != nil {
			return
		}
		// What decodes re-encodes to the same bytes.
		enc, err := EncodeRow(nil, cols, row)
		if err != nil {
			t.Fatal(err)
		}
		if again, err := DecodeRow(cols, enc); err != nil || len(again) != len(row) {
			t.Fatalf("re-decode: %v", err)
		}
	})
}

func FuzzDecodeKey(f *testing.F) {
	ty := []T{Make(TextOID), Make(NumericOID), Make(JSONBOID), ArrayOf(Make(TextOID))}
	f.Add([]byte{1, 'a', 0, 1}, uint8(0))
	f.Add(AppendKey(nil, Make(NumericOID), randomNumeric(rand.New(rand.NewPCG(1, 1)))), uint8(1))
	f.Fuzz(func(t *testing.T, b []byte, which uint8) {
		DecodeKey(ty[int(which)%len(ty)], b)
	})
}

// TestOracleRandom prints random values with AppendText and checks that
// PostgreSQL reads them back to the same text and binary.
func TestOracleRandom(t *testing.T) {
	c := oracleConn(t, "Europe/Berlin")
	set := settingsFor("Europe/Berlin")
	r := rand.New(rand.NewPCG(9, 10))
	for _, name := range []string{"float4", "float8", "numeric", "date", "timestamp", "timestamptz", "interval", "time", "jsonb", "text[]", "bytea", "int8", "bool", "uuid"} {
		ty := mustType(t, name)
		for i := 0; i < 150; i++ {
			d := randomDatum(r, ty)
			if d == nil {
				continue
			}
			s := FormatText(ty, d, set)
			if ty.OID == TextArrayOID && strings.ContainsRune(s, 0) || !utf8Valid(s) {
				continue
			}
			checkAgainstOracle(t, c, set, Make(TextOID), ty, s)
		}
	}
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "") == s && !strings.ContainsRune(s, 0) }

func BenchmarkEncodeRow(b *testing.B) {
	cols := []T{Make(Int8OID), Make(TextOID), Make(Float8OID), Make(TimestampTZOID), Make(BoolOID)}
	row := []Datum{int64(123456), "hello world", 3.25, TimestampFromTime(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)), true}
	buf := make([]byte, 0, 128)
	b.ReportAllocs()
	for b.Loop() {
		buf, _ = EncodeRow(buf[:0], cols, row)
	}
}

func BenchmarkDecodeRow(b *testing.B) {
	cols := []T{Make(Int8OID), Make(TextOID), Make(Float8OID), Make(TimestampTZOID), Make(BoolOID)}
	row := []Datum{int64(123456), "hello world", 3.25, TimestampFromTime(time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC)), true}
	enc, _ := EncodeRow(nil, cols, row)
	b.ReportAllocs()
	for b.Loop() {
		DecodeRow(cols, enc)
	}
}

func BenchmarkAppendKey(b *testing.B) {
	buf := make([]byte, 0, 64)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendKey(buf[:0], Make(TextOID), "orders/2024/01/00042")
		buf = AppendKey(buf, Make(Int8OID), int64(42))
	}
}

func BenchmarkAppendTextInt(b *testing.B) {
	buf := make([]byte, 0, 64)
	set := DefaultSettings()
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendText(buf[:0], Make(Int8OID), int64(1234567890), set)
		buf = AppendText(buf, Make(TextOID), "hello", set)
	}
}

func BenchmarkParseTextInt(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		ParseText(Make(Int4OID), "123456", nil)
	}
}

var _ = context.Background
