package log

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// countingHook stands in for the view maintainer of a view over one
// table: per change it writes an output row keyed by the event's LSN,
// deletes the output row of the event 3,000 LSNs before (a retraction: a
// tombstone in an ingested batch), and adds one to a counter per key group
// that it reads back from the state (so a chunk must see the ones before).
type countingHook struct{}

var hookView = []byte{NSHookFirst, 0, 0, 0, 9}

func hookOut(lsn uint64) []byte {
	return binary.BigEndian.AppendUint64(append(bytes.Clone(hookView), 'o'), lsn)
}

// hookGroup is the counter a key counts in: its last byte % 4.
func hookGroup(k []byte) uint64 { return uint64(k[len(k)-1]) % 4 }

func hookCounter(i uint64) []byte { return append(append(bytes.Clone(hookView), 'g'), byte(i)) }

func (countingHook) Prepare(st HookState, _ *Catalog, changes []Change) ([]Mutation, error) {
	var muts []Mutation
	counts := map[uint64]uint64{}
	for _, c := range changes {
		muts = append(muts, Mutation{Key: hookOut(c.LSN), Value: c.Row})
		if c.LSN > 3000 {
			muts = append(muts, Mutation{Key: hookOut(c.LSN - 3000), Delete: true})
		}
		g := hookGroup(c.Key)
		if _, ok := counts[g]; !ok {
			v, closer, err := st.Get(hookCounter(g))
			switch {
			case errors.Is(err, pebble.ErrNotFound):
			case err != nil:
				return nil, err
			default:
				counts[g] = binary.BigEndian.Uint64(v)
				closer.Close()
			}
		}
		counts[g]++
	}
	for g, n := range counts {
		muts = append(muts, Mutation{Key: hookCounter(g), Value: binary.BigEndian.AppendUint64(nil, n)})
	}
	return muts, nil
}

func (countingHook) OnCatalog(HookState, *Catalog, *Catalog) ([]Mutation, error) { return nil, nil }

// openViewed opens a log with countingHook and, the first time, a table t
// and a view that reads it.
func openViewed(t testing.TB, fs vfs.FS) (*Log, TableID) {
	t.Helper()
	l, err := Open(Options{Dir: "data", FS: fs, Logger: quiet, Hook: countingHook{}})
	if err != nil {
		t.Fatal(err)
	}
	if td, ok := l.Snapshot().Catalog().Lookup("public", "t"); ok {
		return l, td.ID
	}
	tab := createTable(t, l, "t", Keyed)
	if _, err := l.Commit(context.Background(), &Intent{Catalog: func(c *Catalog) error {
		return c.AddTable(&TableDesc{Schema: "public", Name: "v", Kind: View, DependsOn: []TableID{tab}, Versions: []SchemaVersion{{
			Version: 1, Columns: []Column{{Name: "v", TypeOID: 25, Typmod: -1}},
		}}})
	}}); err != nil {
		t.Fatal(err)
	}
	return l, tab
}

// checkViewed checks the hook's state against the rows of table t that a
// snapshot holds: an output row per event but those retracted, and the
// counters.
func checkViewed(t *testing.T, l *Log, tab TableID) (rows int) {
	t.Helper()
	s := l.Snapshot()
	defer s.Release()
	var lsns []uint64
	counts := map[uint64]uint64{}
	if err := s.Events(tab, 0, func(e *Event) error {
		lsns = append(lsns, e.LSN)
		counts[hookGroup(e.Key)]++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	live := map[uint64]bool{}
	for _, lsn := range lsns {
		live[lsn] = true
	}
	for _, lsn := range lsns {
		if lsn > 3000 {
			delete(live, lsn-3000)
		}
	}
	got := map[uint64]bool{}
	prefix := append(bytes.Clone(hookView), 'o')
	if err := s.ScanRange(prefix, prefixEnd(prefix), func(k, _ []byte) error {
		got[binary.BigEndian.Uint64(k[len(prefix):])] = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(got) != len(live) {
		t.Fatalf("%d output rows, want %d (events %d)", len(got), len(live), len(lsns))
	}
	for lsn := range live {
		if !got[lsn] {
			t.Fatalf("no output row for the event at lsn %d", lsn)
		}
	}
	for g := uint64(0); g < 4; g++ {
		var n uint64
		if err := s.ScanRange(hookCounter(g), prefixEnd(hookCounter(g)), func(_, v []byte) error {
			n = binary.BigEndian.Uint64(v)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if n != counts[g] {
			t.Fatalf("counter %d = %d, want %d", g, n, counts[g])
		}
	}
	return len(lsns)
}

// A large chunk into a table a view reads is ingested with the view's
// state: the hook sees it as one delta, its writes (tombstones too) land
// with the chunk, and a small chunk or a single write between goes
// through a batch as before.
func TestBulkIntoViewedTableIngests(t *testing.T) {
	fs := vfs.NewMem()
	l, tab := openViewed(t, fs)
	ctx := context.Background()
	before := ingests(l)
	next := 0
	for c := 0; c < 6; c++ {
		n := 5000
		if c == 3 {
			n = 100 // below bulkIngestMin: a batch
		}
		if _, err := l.CommitBulk(ctx, bulkOf(tab, span(next, next+n)...)); err != nil {
			t.Fatal(err)
		}
		next += n
		if _, err := put(t, l, tab, fmt.Sprint("single", c), "x", Cond{}); err != nil {
			t.Fatal(err)
		}
		checkViewed(t, l, tab)
	}
	if got := ingests(l) - before; got != 5 {
		t.Fatalf("%d ingests, want 5 (one per large chunk)", got)
	}
	// A chunk with a key that exists fails whole, view state included.
	if _, err := l.CommitBulk(ctx, bulkOf(tab, span(next-10, next+5000)...)); err == nil {
		t.Fatal("a chunk over existing keys committed")
	}
	rows := checkViewed(t, l, tab)
	l.Close()
	l, tab = openViewed(t, fs)
	defer l.Close()
	if got := checkViewed(t, l, tab); got != rows {
		t.Fatalf("after reopening: %d rows, want %d", got, rows)
	}
}

// A crash at any point leaves each chunk into a viewed table whole or
// absent, with the view's state to match, and no acknowledged chunk lost.
func TestBulkIntoViewedTableCrash(t *testing.T) {
	for seed := int64(1); seed <= 4; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			rng := rand.New(rand.NewSource(seed))
			fs := vfs.NewCrashableMem()
			l, tab := openViewed(t, fs)
			ctx := context.Background()
			const chunk = 4096
			crashed, ackedAtCrash := crashDuringChunks(t, rng, fs, l, 30, func(c int) error {
				ids := span(c*chunk, (c+1)*chunk)
				if c%4 == 3 {
					ids = ids[:100]
				}
				if _, err := l.CommitBulk(ctx, bulkOf(tab, ids...)); err != nil {
					return err
				}
				_, err := put(t, l, tab, fmt.Sprint("single", c), "x", Cond{})
				return err
			})

			l, tab = openViewed(t, crashed)
			defer l.Close()
			checkViewed(t, l, tab)
			checkRecoveredChunks(t, l, tab, 30, chunk, ackedAtCrash)
			checkViewed(t, l, tab)
		})
	}
}
