package types

import (
	"fmt"
	"math/rand"
	"testing"
	"time"
)

// The ISO fast path gives what the general parser gives, for timestamp and
// timestamptz, under DateStyles and time zones that steer the general
// parser, for strings in the ISO form with fields in and out of range,
// fractions of any length and UTC offsets of every shape.
func TestISOTimestampMatchesGeneralParser(t *testing.T) {
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	sets := []*Settings{DefaultSettings(), {Location: ny, DateStyle: "ISO, DMY"}, {Location: time.UTC, DateStyle: "ISO, YMD"}}
	rng := rand.New(rand.NewSource(1))
	pick := func(xs ...string) string { return xs[rng.Intn(len(xs))] }
	var inputs []string
	for i := 0; i < 20000; i++ {
		year := pick("0001", "1969", "1999", "2000", "2024", "2023", "9999", "0000", "12345")
		s := fmt.Sprintf("%s-%02d-%02d %02d:%02d:%02d", year, rng.Intn(14), rng.Intn(33), rng.Intn(26), rng.Intn(61), rng.Intn(62))
		if rng.Intn(2) == 0 {
			s += "." + fmt.Sprint(rng.Int63())[:1+rng.Intn(8)]
		}
		s += pick("", "", "+00", "-05", "+05:30", "-03:45", "+14:00", "+16", "-09:61", "Z", " UTC", "+0530", "+5")
		inputs = append(inputs, s)
	}
	inputs = append(inputs, "2024-02-29 23:59:59.999999", "2023-02-29 00:00:00", "2024-03-10 02:30:00", "2024-11-03 01:30:00",
		"2024-01-01 24:00:00", "2024-01-01 23:59:60", "2024-01-01T10:00:00", "2024-01-01 10:00:00.", "2024-01-01 10:00:00.1234567")
	// An input the ISO path refuses goes to the general parser alone;
	// one it takes must give what the general parser's fields give.
	fast := 0
	for _, set := range sets {
		for _, s := range inputs {
			for _, tz := range []bool{false, true} {
				iso, ok := isoTimestampFields(s, tz)
				if !ok {
					continue
				}
				fast++
				typ := "timestamp"
				if tz {
					typ = "timestamp with time zone"
				}
				general, err := parseDateTimeFields(s, set, typ, false)
				if err != nil {
					t.Fatalf("%q (%s, %s, %v): the ISO path takes what the general parser refuses: %v", s, typ, set.DateStyle, set.Location, err)
				}
				finish := func(tm *tmFields) (Datum, error) { return timestampOf(tm, s, -1) }
				if tz {
					finish = func(tm *tmFields) (Datum, error) { return timestampTZOf(tm, s, -1, set) }
				}
				got, gotErr := finish(&iso)
				want, wantErr := finish(general)
				if (gotErr == nil) != (wantErr == nil) || got != want {
					t.Fatalf("%q (%s, %s, %v): ISO path %v %v, general parser %v %v", s, typ, set.DateStyle, set.Location, got, gotErr, want, wantErr)
				}
			}
		}
	}
	// Most random fields are out of range (left to the general parser);
	// about a sixth of the parses take the ISO path.
	if fast < 10000 {
		t.Fatalf("only %d of %d parses took the ISO path: the comparison proves little", fast, 6*len(inputs))
	}
}

// go test ./sql/types -run XXX -bench ParseTimestampISO
func BenchmarkParseTimestampISO(b *testing.B) {
	set := DefaultSettings()
	const s = "2024-01-01 00:16:40.123"
	b.Run("general", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			tm, err := parseDateTimeFields(s, set, "timestamp", false)
			if err == nil {
				_, err = timestampOf(tm, s, -1)
			}
			if err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("iso", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			if _, err := parseTimestamp(s, -1, set); err != nil {
				b.Fatal(err)
			}
		}
	})
}
