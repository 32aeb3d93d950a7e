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
	fast := 0
	for _, set := range sets {
		for _, s := range inputs {
			for _, tz := range []bool{false, true} {
				parse := parseTimestamp
				if tz {
					parse = parseTimestampTZ
				}
				isoFastPath = true
				got, gotErr := parse(s, -1, set)
				isoFastPath = false
				want, wantErr := parse(s, -1, set)
				isoFastPath = true
				if (gotErr == nil) != (wantErr == nil) || got != want {
					t.Fatalf("%q (timestamptz %v, %s, %v): fast path %v %v, general parser %v %v", s, tz, set.DateStyle, set.Location, got, gotErr, want, wantErr)
				}
				if _, ok := isoTimestampFields(s, tz); ok {
					fast++
				}
			}
		}
	}
	// Most random fields are out of range (left to the general parser);
	// about a sixth of the parses take the fast path.
	if fast < 10000 {
		t.Fatalf("only %d of %d parses took the fast path: the comparison proves little", fast, 6*len(inputs))
	}
}

// go test ./sql/types -run XXX -bench ParseTimestampISO
func BenchmarkParseTimestampISO(b *testing.B) {
	set := DefaultSettings()
	for _, path := range []struct {
		name string
		fast bool
	}{{"general", false}, {"iso", true}} {
		b.Run(path.name, func(b *testing.B) {
			isoFastPath = path.fast
			defer func() { isoFastPath = true }()
			for i := 0; i < b.N; i++ {
				if _, err := parseTimestamp("2024-01-01 00:16:40.123", -1, set); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
