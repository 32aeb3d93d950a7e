package exec

import (
	"bytes"
	"fmt"
	"math"
	"math/rand"
	"testing"

	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

func intTable(notNull bool) *TableLayout {
	return NewTableLayout(&log.TableDesc{ID: 1, Name: "t", Kind: log.Keyed, Versions: []log.SchemaVersion{{
		Version: 1,
		Columns: []log.Column{
			{ID: 1, Name: "a", TypeOID: uint32(types.Int4OID), Typmod: -1, NotNull: true},
			{ID: 2, Name: "b", TypeOID: uint32(types.Int8OID), Typmod: -1, NotNull: notNull},
			{ID: 3, Name: "c", TypeOID: uint32(types.Int2OID), Typmod: -1},
		},
		Key: []uint32{2, 1},
	}}})
}

// TestBulkEncoderFastTextMatchesDatums: the fast text path gives the same
// key and row bytes as parsing to Datums and encoding them (the INSERT
// path), and the same errors, for edge values and random ones.
func TestBulkEncoderFastTextMatchesDatums(t *testing.T) {
	l := intTable(false)
	target := []int{2, 0, 1} // c, a, b
	defaults := make([]Expr, 4)
	fast := NewBulkEncoder(l, target, defaults, nil, &Env{})
	if !fast.FastText() {
		t.Fatal("three integer columns, all listed: no fast path")
	}
	slow := NewBulkEncoder(l, target, defaults, []RowCheck{{Expr: &Const{Val: true, T: types.Make(types.BoolOID)}, Name: "ok"}}, &Env{})
	if slow.FastText() {
		t.Fatal("a table with a CHECK took the fast path")
	}
	values := []string{"0", "1", "-1", "+7", "007", " 12", "12 ", "-0", "", "-", "+", "x", "1x", "1.5",
		"32767", "32768", "-32768", "-32769", "2147483647", "2147483648", "-2147483648", "-2147483649",
		"9223372036854775807", "9223372036854775808", "-9223372036854775808", "-9223372036854775809",
		"999999999999999999", "1000000000000000000", "00000000000000000001"}
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 300; i++ {
		values = append(values, fmt.Sprint(rng.Int63n(math.MaxInt64)-rng.Int63n(math.MaxInt64)), fmt.Sprint(rng.Intn(1<<17)-1<<16))
	}
	var fb, sb log.Bulk
	for i, c := range values {
		a := values[(i*7)%len(values)]
		b := values[(i*13)%len(values)]
		fields := [][]byte{[]byte(c), []byte(a), []byte(b)}
		if i%5 == 0 {
			fields[0] = nil
		}
		fb.Reset()
		sb.Reset()
		ferr := fast.AddText(&fb, fields, nil)
		var serr error
		vals := make([]types.Datum, 3)
		for j, f := range fields {
			if f == nil {
				continue
			}
			v, err := types.ParseText(l.Types[target[j]], string(f), nil)
			if err != nil {
				serr = err
				break
			}
			vals[j] = v
		}
		if serr == nil {
			serr = slow.AddRow(&sb, vals)
		}
		if (ferr == nil) != (serr == nil) || ferr != nil && ferr.Error() != serr.Error() {
			t.Fatalf("fields %q: fast error %v, Datum error %v", fields, ferr, serr)
		}
		if ferr != nil {
			continue
		}
		if !bytes.Equal(fb.Key(0), sb.Key(0)) || !bytes.Equal(fb.Row(0), sb.Row(0)) {
			t.Fatalf("fields %q: fast %x/%x, Datum %x/%x", fields, fb.Key(0), fb.Row(0), sb.Key(0), sb.Row(0))
		}
	}
}

// TestBulkEncoderChecks: NOT NULL, CHECK, defaults and _version behave as
// they do for INSERT.
func TestBulkEncoderChecks(t *testing.T) {
	l := intTable(true)
	var b log.Bulk
	fast := NewBulkEncoder(l, []int{0, 1, 2}, make([]Expr, 4), nil, &Env{})
	err := fast.AddText(&b, [][]byte{[]byte("1"), nil, []byte("3")}, nil)
	if pgerr.From(err).Code != pgerr.NotNullViolation {
		t.Fatalf("NULL into NOT NULL b: %v", err)
	}

	// c unlisted, defaulting to 5; a CHECK that c < a.
	defaults := make([]Expr, 4)
	defaults[2] = &Const{Val: int64(5), T: types.Make(types.Int2OID)}
	check := RowCheck{Name: "c_below_a", Expr: &checkCBelowA{}}
	enc := NewBulkEncoder(l, []int{0, 1}, defaults, []RowCheck{check}, &Env{})
	if enc.FastText() {
		t.Fatal("a column left to its default took the fast path")
	}
	if err := enc.AddRow(&b, []types.Datum{int64(9), int64(1)}); err != nil {
		t.Fatal(err)
	}
	want, _ := types.EncodeRow(nil, l.Types, []types.Datum{int64(9), int64(1), int64(5)})
	if !bytes.Equal(b.Row(0), want) {
		t.Fatalf("row with default: %x, want %x", b.Row(0), want)
	}
	if err := enc.AddRow(&b, []types.Datum{int64(2), int64(1)}); pgerr.From(err).Code != pgerr.CheckViolation {
		t.Fatalf("CHECK violated: %v", err)
	}
	ver := NewBulkEncoder(l, []int{0, 1, 2, 3}, make([]Expr, 4), nil, &Env{})
	if !ver.SetsVersion() || ver.FastText() {
		t.Fatal("_version listed: SetsVersion false or fast path")
	}
	if err := ver.AddRow(&b, []types.Datum{int64(1), int64(1), nil, int64(3)}); pgerr.From(err).Code != pgerr.FeatureNotSupported {
		t.Fatalf("_version into a keyed table: %v", err)
	}
	if b.Len() != 1 {
		t.Fatalf("failed rows were added: %d rows", b.Len())
	}
}

// checkCBelowA is the CHECK (c < a) over a row of intTable.
type checkCBelowA struct{}

func (checkCBelowA) Type() types.T  { return types.Make(types.BoolOID) }
func (checkCBelowA) String() string { return "c < a" }
func (checkCBelowA) Eval(_ *Env, row Row) (types.Datum, error) {
	if row[0] == nil || row[2] == nil {
		return nil, nil
	}
	return row[2].(int64) < row[0].(int64), nil
}
