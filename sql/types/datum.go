package types

import (
	"math"
	"time"
)

// Datum is a non-NULL or NULL value. Its Go type is fixed by the value's
// type OID:
//
//	NULL                          nil
//	bool                          bool
//	int2, int4, int8, oid         int64
//	float4, float8                float64
//	numeric                       *apd.Decimal (NaN, ±Infinity in apd's forms;
//	                              Exponent = -display scale)
//	text, varchar, bpchar, name   string
//	bytea                         []byte
//	date                          Date
//	time                          TimeOfDay
//	timestamp                     Timestamp
//	timestamptz                   TimestampTZ
//	interval                      Interval
//	uuid                          UUID
//	json                          JSON
//	jsonb                         JSONB
//	arrays                        *Array
//	record                        *Record
type Datum = any

// Date is days since 2000-01-01; DateInfinity and DateNegInfinity are the
// infinities.
type Date int32

// TimeOfDay is microseconds since midnight, 0 to 24:00:00 inclusive.
type TimeOfDay int64

// Timestamp is microseconds since 2000-01-01 00:00:00, with no time zone.
type Timestamp int64

// TimestampTZ is microseconds since 2000-01-01 00:00:00 UTC.
type TimestampTZ int64

// Interval is PostgreSQL's interval: months, days and microseconds are
// kept apart because their lengths vary.
type Interval struct {
	Months int32
	Days   int32
	Micros int64
}

// UUID is a uuid's 16 bytes.
type UUID [16]byte

// JSON is json: the text as given, validated.
type JSON string

// JSONB is jsonb, held as its normalized text: what PostgreSQL prints.
type JSONB string

// Array is a one-dimensional array (lower bound 1); elements may be nil.
type Array struct {
	Elem  T
	Elems []Datum
}

// The infinities of the date and time types.
const (
	DateInfinity         Date        = math.MaxInt32
	DateNegInfinity      Date        = math.MinInt32
	TimestampInfinity    Timestamp   = math.MaxInt64
	TimestampNegInfinity Timestamp   = math.MinInt64
	TimestampTZInfinity  TimestampTZ = math.MaxInt64
	TimestampTZNegInf    TimestampTZ = math.MinInt64
)

// canonicalNaN is the NaN PostgreSQL produces (and sends): the quiet NaN
// with no payload, which Go's math.NaN is not.
var canonicalNaN = math.Float64frombits(0x7ff8000000000000)

// Settings are the session settings that change how values are read and
// printed.
type Settings struct {
	// Location is TimeZone; nil means UTC.
	Location *time.Location
	// DateStyle: "ISO, MDY" (default); the output part ISO is the only one
	// implemented; the order part (MDY, DMY, YMD) steers input.
	DateStyle string
	// IntervalStyle: "postgres" (default) or "iso_8601".
	IntervalStyle string
	// ExtraFloatDigits: > 0 prints floats in shortest round-trip form.
	ExtraFloatDigits int
	// ByteaOutput: "hex" (default) or "escape".
	ByteaOutput string
	// Now is the transaction's start time, for 'now', 'today', ...; the zero
	// time makes those inputs fail with 0A000.
	Now time.Time
}

// DefaultSettings are PostgreSQL's defaults with TimeZone UTC.
func DefaultSettings() *Settings {
	return &Settings{
		Location:         time.UTC,
		DateStyle:        "ISO, MDY",
		IntervalStyle:    "postgres",
		ExtraFloatDigits: 1,
		ByteaOutput:      "hex",
	}
}

var defaultSettings = DefaultSettings()

func (s *Settings) loc() *time.Location {
	if s == nil || s.Location == nil {
		return time.UTC
	}
	return s.Location
}

// dateOrder is the DateStyle field order: 'M' (MDY), 'D' (DMY) or 'Y' (YMD).
func (s *Settings) dateOrder() byte {
	if s == nil {
		return 'M'
	}
	ds := s.DateStyle
	for i := 0; i+2 < len(ds); i++ {
		switch upper(ds[i : i+3]) {
		case "DMY", "EUR":
			return 'D'
		case "YMD":
			return 'Y'
		case "MDY", "US":
			return 'M'
		}
	}
	return 'M'
}

func upper(s string) string {
	b := []byte(s)
	for i, c := range b {
		if c >= 'a' && c <= 'z' {
			b[i] = c - 32
		}
	}
	return string(b)
}
