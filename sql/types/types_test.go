package types

import (
	"errors"
	"testing"
	"time"

	"github.com/strand-db/strand/sql/pgerr"
)

// Plain unit tests: these run without PostgreSQL (go test -short).

func TestTypeNames(t *testing.T) {
	for name, want := range map[string]string{
		"int": "integer", "BIGINT": "bigint", "character varying(20)": "character varying(20)",
		"varchar": "character varying", "numeric(10, 2)": "numeric(10,2)", "decimal(5)": "numeric(5,0)",
		"timestamptz": "timestamp with time zone", "timestamp(3) with time zone": "timestamp(3) with time zone",
		"time(2)": "time(2) without time zone", "char": "character(1)", "bpchar": "bpchar", "float(3)": "real",
		"double precision": "double precision", "int8[]": "bigint[]", "varchar(3)[]": "character varying(3)[]",
		`"int4"`: "integer", "serial": "integer", "bigserial": "bigint", "interval(3)": "interval(3)", "_text": "text[]",
	} {
		ty, err := ParseTypeName(name)
		if err != nil || ty.String() != want {
			t.Errorf("%s: %v %v, want %s", name, ty, err, want)
		}
	}
	if _, err := ParseTypeName("nosuch"); pgerr.CodeOf(err) != pgerr.UndefinedObject {
		t.Errorf("nosuch: %v", err)
	}
	if !IsSerial("BIGSERIAL") || IsSerial("bigint") {
		t.Error("IsSerial")
	}
	if Make(Int4OID).Len() != 4 || Make(TextOID).Len() != -1 || ArrayOf(Make(Int4OID)).OID != Int4ArrayOID ||
		ArrayOf(Make(Int4OID)).ElemType() != Make(Int4OID) {
		t.Error("Len/ArrayOf/ElemType")
	}
}

func TestClockInputs(t *testing.T) {
	set := DefaultSettings()
	if _, err := ParseText(Make(DateOID), "today", set); pgerr.CodeOf(err) != pgerr.FeatureNotSupported {
		t.Errorf("today without a clock: %v", err)
	}
	set.Location, _ = LookupZone("europe/berlin")
	set.Now = time.Date(2024, 1, 2, 23, 30, 0, 0, time.UTC) // already Jan 3 in Berlin
	d, err := ParseText(Make(DateOID), "tomorrow", set)
	if err != nil || FormatText(Make(DateOID), d, set) != "2024-01-04" {
		t.Errorf("tomorrow: %v %v", d, err)
	}
	ts, err := ParseText(Make(TimestampTZOID), "now", set)
	if err != nil || ts.(TimestampTZ).Time() != set.Now {
		t.Errorf("now: %v %v", ts, err)
	}
}

func TestIntervalStyles(t *testing.T) {
	iv := Interval{Months: 14, Days: -3, Micros: 4*usecsPerHour + 5*usecsPerMinute + 6500000}
	if got := FormatText(Make(IntervalOID), iv, nil); got != "1 year 2 mons -3 days +04:05:06.5" {
		t.Error(got)
	}
	set := DefaultSettings()
	set.IntervalStyle = "iso_8601"
	if got := FormatText(Make(IntervalOID), iv, set); got != "P1Y2M-3DT4H5M6.5S" {
		t.Error(got)
	}
}

func TestCastErrors(t *testing.T) {
	_, err := Cast(int64(1), Make(Int4OID), Make(DateOID), nil)
	if !errors.Is(err, ErrCannotCast) || pgerr.CodeOf(err) != pgerr.CannotCoerce {
		t.Errorf("int4 -> date: %v", err)
	}
	if _, err := AssignCast("abcd", Make(TextOID), T{VarcharOID, 7}, nil); pgerr.CodeOf(err) != pgerr.StringDataRightTruncation {
		t.Errorf("assignment to varchar(3): %v", err)
	}
	if v, err := Cast("abcd", Make(TextOID), T{VarcharOID, 7}, nil); err != nil || v != "abc" {
		t.Errorf("explicit cast to varchar(3): %v %v", v, err)
	}
}

func TestHashNumericScale(t *testing.T) {
	a, _ := NewNumeric("1.0")
	b, _ := NewNumeric("1.00")
	if !Equal(Make(NumericOID), a, b) || Hash(Make(NumericOID), a) != Hash(Make(NumericOID), b) {
		t.Error("1.0 and 1.00 differ")
	}
}
