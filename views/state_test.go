package views

import (
	"bytes"
	"cmp"
	"math"
	"math/rand"
	"testing"

	"github.com/strand-db/strand/sql/types"
)

// TestAppendIntOrder checks the compact integer key encoding: byte order
// is numeric order, no encoding is a prefix of another (keys are tuples
// read by prefix), inverting the bytes reverses the order (descending
// sort keys), and small values are short.
func TestAppendIntOrder(t *testing.T) {
	vals := []int64{math.MinInt64, math.MinInt64 + 1, -1 << 32, -65537, -65536, -65535, -257, -256, -255, -2, -1, 0, 1, 2, 255, 256, 65535, 65536, 1 << 40, math.MaxInt64 - 1, math.MaxInt64}
	rng := rand.New(rand.NewSource(1))
	for i := 0; i < 2000; i++ {
		v := rng.Int63() >> uint(rng.Intn(63))
		if rng.Intn(2) == 0 {
			v = -v
		}
		vals = append(vals, v)
	}
	for _, a := range vals {
		ka := appendInt(nil, a)
		for _, b := range vals[:200] {
			kb := appendInt(nil, b)
			if got, want := bytes.Compare(ka, kb), cmp.Compare(a, b); got != want {
				t.Fatalf("order of %d and %d: bytes %x %x compare %d, want %d", a, b, ka, kb, got, want)
			}
			if a != b && (bytes.HasPrefix(ka, kb) || bytes.HasPrefix(kb, ka)) {
				t.Fatalf("%x (%d) and %x (%d): one is a prefix of the other", ka, a, kb, b)
			}
			if got, want := bytes.Compare(invert(ka), invert(kb)), cmp.Compare(b, a); got != want {
				t.Fatalf("inverted order of %d and %d: %d, want %d", a, b, got, want)
			}
		}
	}
	for _, c := range []struct {
		v int64
		n int
	}{{0, 1}, {-1, 1}, {100, 2}, {-100, 2}, {10_000, 3}, {1_000_000_000, 5}, {math.MinInt64, 9}} {
		if got := len(appendInt(nil, c.v)); got != c.n {
			t.Errorf("appendInt(%d) takes %d bytes, want %d", c.v, got, c.n)
		}
	}
}

// TestRecodeKey checks that a point lookup's prefix, encoded without the
// view's layout, becomes the compact key the view stores.
func TestRecodeKey(t *testing.T) {
	ts := []types.T{types.Make(types.Int8OID), types.Make(types.TextOID), types.Make(types.Int4OID)}
	vals := []types.Datum{int64(-70000), "eu", nil}
	want := appendTupleIn(nil, true, ts, vals)
	got, err := recodeKey(appendTuple(nil, ts, vals), ts)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("recodeKey = %x, %v; want %x", got, err, want)
	}
	// A leading part of the key is a leading part of the stored key.
	got, err = recodeKey(appendTuple(nil, ts[:1], vals[:1]), ts)
	if err != nil || !bytes.HasPrefix(want, got) {
		t.Fatalf("recodeKey of a prefix = %x, %v; want a prefix of %x", got, err, want)
	}
}

func invert(b []byte) []byte {
	out := make([]byte, len(b))
	for i, c := range b {
		out[i] = ^c
	}
	return out
}
