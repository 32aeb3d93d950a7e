package log

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math/rand"
	randv2 "math/rand/v2"
	"sync/atomic"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// bulkKey is a key that sorts like i.
func bulkKey(i int) []byte { return binary.BigEndian.AppendUint64(nil, uint64(i)) }

func bulkOf(tab TableID, ids ...int) *Bulk {
	b := &Bulk{Table: tab}
	for _, i := range ids {
		b.Add(bulkKey(i), []byte(fmt.Sprint("row", i)))
	}
	return b
}

func span(from, to int) []int {
	var out []int
	for i := from; i < to; i++ {
		out = append(out, i)
	}
	return out
}

func ingests(l *Log) uint64 { return l.db.Metrics().Ingest.Count }

// checkHeads checks that every id has a live head at version ver with its
// row, and that its version entry points at an event with that row.
func checkHeads(t *testing.T, l *Log, tab TableID, ver uint64, ids ...int) {
	t.Helper()
	s := l.Snapshot()
	defer s.Release()
	for _, i := range ids {
		h, ok, err := s.Head(tab, bulkKey(i))
		if err != nil || !ok || !h.Live() || h.Version != ver || string(h.Row) != fmt.Sprint("row", i) {
			t.Fatalf("key %d: head %+v ok=%v err=%v, want version %d", i, h, ok, err, ver)
		}
		var got []string
		err = s.History(tab, bulkKey(i), 0, 0, func(e *Event) error {
			got = append(got, fmt.Sprintf("%d:%s:%s", e.Version, e.Op, e.Row))
			if e.LSN > s.LSN() {
				return fmt.Errorf("event lsn %d above the snapshot's %d", e.LSN, s.LSN())
			}
			return nil
		})
		if err != nil || len(got) != int(ver) || got[ver-1] != fmt.Sprintf("%d:insert:row%d", ver, i) {
			t.Fatalf("key %d: history %v %v", i, got, err)
		}
	}
}

// TestBulkInsertsKeyedTable: a fresh, large chunk is ingested as
// SSTables, one that overlaps existing keys goes through a batch; both
// leave heads, version entries and events as ordinary writes would, with
// consecutive LSNs in chunk order.
func TestBulkInsertsKeyedTable(t *testing.T) {
	l := openMem(t, nil)
	defer l.Close()
	ctx := context.Background()
	tab := createTable(t, l, "t", Keyed)
	if _, err := put(t, l, tab, string(bulkKey(0)), "row0", Cond{Kind: NotExists}); err != nil {
		t.Fatal(err)
	}
	before := l.Snapshot().LSN()
	n0 := ingests(l)
	res, err := l.CommitBulk(ctx, bulkOf(tab, span(1, 5001)...))
	if err != nil {
		t.Fatal(err)
	}
	if res.Rows != 5000 || res.LSN != before+5000 {
		t.Fatalf("result %+v, want 5000 rows up to lsn %d", res, before+5000)
	}
	if ingests(l) != n0+1 {
		t.Fatalf("a fresh chunk of 5000 rows was not ingested")
	}
	checkHeads(t, l, tab, 1, span(0, 5001)...)

	// Unsorted and interleaved with existing keys: the batch path.
	var ids []int
	for i := 9000; i > 5001; i -= 2 {
		ids = append(ids, i)
	}
	n1 := ingests(l)
	if _, err := l.CommitBulk(ctx, bulkOf(tab, ids...)); err != nil {
		t.Fatal(err)
	}
	if ingests(l) != n1 {
		t.Fatalf("a chunk over existing keys was ingested")
	}
	checkHeads(t, l, tab, 1, ids...)

	// Events are in chunk order: the tail shows ids in the order given.
	s := l.Snapshot()
	defer s.Release()
	var tail []int
	var last uint64
	err = s.Events(tab, res.LSN, func(e *Event) error {
		if e.LSN != last+1 && last != 0 {
			return fmt.Errorf("lsn %d after %d", e.LSN, last)
		}
		last = e.LSN
		tail = append(tail, int(binary.BigEndian.Uint64(e.Key)))
		return nil
	})
	if err != nil || fmt.Sprint(tail) != fmt.Sprint(ids) {
		t.Fatalf("tail after the first chunk: %v, want %v (%v)", tail, ids, err)
	}
	if st := l.Stats(); st.Appends != 1+5000+uint64(len(ids)) {
		t.Fatalf("appends metric %d", st.Appends)
	}
}

// TestBulkDuplicateKeys: a key that exists, or that appears twice in the
// chunk, fails the whole chunk with 23505 on the first such row in chunk
// order, and nothing of it is written; a deleted key can be inserted again.
func TestBulkDuplicateKeys(t *testing.T) {
	l := openMem(t, nil)
	defer l.Close()
	ctx := context.Background()
	tab := createTable(t, l, "t", Keyed)
	if _, err := l.CommitBulk(ctx, bulkOf(tab, span(0, 5000)...)); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		ids  []int
		row  int
	}{
		{"existing key", append(span(6000, 11000), 42), 5000},
		{"twice in a fresh chunk", append(span(6000, 11000), 7000), 5000},
		{"twice, unsorted", []int{20003, 20001, 20002, 20001, 20003}, 3},
		{"existing after twice", []int{30001, 30001, 4999}, 1},
		{"existing before twice", []int{30001, 4999, 30001}, 1},
	} {
		lsn := l.Snapshot().LSN()
		_, err := l.CommitBulk(ctx, bulkOf(tab, c.ids...))
		var re *BulkRowError
		var ce *ConflictError
		if !errors.As(err, &re) || re.Row != c.row || !errors.As(err, &ce) || ce.SQLState() != "23505" {
			t.Fatalf("%s: %v, want 23505 at row %d", c.name, err, c.row)
		}
		if want := bulkKey(c.ids[c.row]); string(ce.Key) != string(want) {
			t.Fatalf("%s: conflict on key %x, want %x", c.name, ce.Key, want)
		}
		s := l.Snapshot()
		_, ok, _ := s.Head(tab, bulkKey(c.ids[0]))
		if s.LSN() != lsn || (ok && c.ids[0] >= 5000) {
			t.Fatalf("%s: a failed chunk wrote something (lsn %d → %d)", c.name, lsn, s.LSN())
		}
		s.Release()
	}

	if _, err := l.Commit(ctx, &Intent{Writes: []Write{{Table: tab, Key: bulkKey(7), Delete: true}}}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.CommitBulk(ctx, bulkOf(tab, 7, 5000)); err != nil {
		t.Fatal(err)
	}
	checkHeads(t, l, tab, 3, 7)
	checkHeads(t, l, tab, 1, 5000)
}

// TestBulkStream: a stream's rows append to their keys in chunk order.
func TestBulkStream(t *testing.T) {
	l := openMem(t, nil)
	defer l.Close()
	ctx := context.Background()
	tab := createTable(t, l, "s", Stream)
	if _, err := put(t, l, tab, "b", "b1", Cond{}); err != nil {
		t.Fatal(err)
	}
	b := &Bulk{Table: tab}
	for i, k := range []string{"b", "a", "b", "c", "a"} {
		b.Add([]byte(k), []byte(fmt.Sprintf("%s%d", k, i)))
	}
	if _, err := l.CommitBulk(ctx, b); err != nil {
		t.Fatal(err)
	}
	s := l.Snapshot()
	defer s.Release()
	var got []string
	s.Events(tab, 0, func(e *Event) error {
		got = append(got, fmt.Sprintf("%s:v%d:%s:%s", e.Key, e.Version, e.Op, e.Row))
		return nil
	})
	want := "[b:v1:append:b1 b:v2:append:b0 a:v1:append:a1 b:v3:append:b2 c:v1:append:c3 a:v2:append:a4]"
	if fmt.Sprint(got) != want {
		t.Fatalf("events %v\nwant %s", got, want)
	}
	for k, v := range map[string]uint64{"a": 2, "b": 3, "c": 1} {
		h, _, _ := s.Head(tab, []byte(k))
		var hist []uint64
		s.History(tab, []byte(k), 0, 0, func(e *Event) error { hist = append(hist, e.Version); return nil })
		if h.Version != v || len(hist) != int(v) || hist[v-1] != v {
			t.Fatalf("key %s: head %+v history %v", k, h, hist)
		}
	}
}

// TestBulkCrash: chunks (ingested and batched) interleaved with ordinary
// intents, then a crash that keeps a random part of what was not synced:
// every acknowledged chunk is there whole, every other chunk is there
// whole or not at all, and new commits continue above every stored LSN.
func TestBulkCrash(t *testing.T) {
	for seed := int64(1); seed <= 4; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) {
			rng := rand.New(rand.NewSource(seed))
			fs := vfs.NewCrashableMem()
			l := openMem(t, fs)
			ctx := context.Background()
			tab := createTable(t, l, "t", Keyed)
			const chunk = 4096
			crashed, ackedAtCrash := crashDuringChunks(t, rng, fs, l, 40, func(c int) error {
				ids := span(c*chunk, (c+1)*chunk)
				if c%3 == 2 {
					// Reversed: not sorted, and above nothing yet,
					// but planned through the sort.
					for i, j := 0, len(ids)-1; i < j; i, j = i+1, j-1 {
						ids[i], ids[j] = ids[j], ids[i]
					}
				}
				if c%4 == 3 {
					ids = ids[:100] // small: the batch path
				}
				if _, err := l.CommitBulk(ctx, bulkOf(tab, ids...)); err != nil {
					return err
				}
				_, err := put(t, l, tab, fmt.Sprint("single", c), "x", Cond{})
				return err
			})

			l = openMem(t, crashed)
			defer l.Close()
			whole := checkRecoveredChunks(t, l, tab, 40, chunk, ackedAtCrash)
			t.Logf("%d chunks acknowledged at the crash, %d recovered whole", ackedAtCrash, whole)
		})
	}
}

// BenchmarkBulk commits fresh sorted chunks of 100,000 rows (about 25
// bytes each, like COPY of three bigints).
func BenchmarkBulk(b *testing.B) {
	for _, name := range []string{"ingest", "batch"} {
		b.Run(name, func(b *testing.B) {
			l, err := Open(Options{Dir: b.TempDir(), Logger: quiet})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			tab := createTable(b, l, "t", Keyed)
			const chunk = 100000
			bulk := &Bulk{Table: tab}
			row := make([]byte, 14)
			b.ResetTimer()
			for c := 0; c < b.N; c++ {
				bulk.Reset()
				for i := 0; i < chunk; i++ {
					id := c*chunk + i
					if name == "batch" {
						// Descending within the chunk and interleaved
						// with the chunk before: never a fresh range.
						id = (chunk-i)*1000 + c
					}
					bulk.Add(bulkKey(id), row)
				}
				if _, err := l.CommitBulk(context.Background(), bulk); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*chunk)/b.Elapsed().Seconds(), "rows/s")
		})
	}
}

// crashDuringChunks runs commit(0), ..., commit(n-1) on l in the
// background, takes a crash image of fs once the log has ingested a
// (seeded) few chunks, lets the writer finish and closes l. It returns the
// image and how many commits had returned when it was taken.
func crashDuringChunks(t *testing.T, rng *rand.Rand, fs *vfs.MemFS, l *Log, n int, commit func(c int) error) (vfs.FS, int) {
	t.Helper()
	var acked atomic.Int64
	done := make(chan struct{})
	go func() {
		defer close(done)
		for c := 0; c < n; c++ {
			if commit(c) != nil {
				return
			}
			acked.Store(int64(c + 1))
		}
	}()
	for ingests(l) < uint64(2+rng.Intn(10)) {
		select {
		case <-done:
		default:
			continue
		}
		break
	}
	crashed := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: rng.Intn(101), RNG: randv2.New(randv2.NewPCG(rng.Uint64(), rng.Uint64()))})
	ackedAtCrash := int(acked.Load())
	<-done
	l.Close()
	return crashed, ackedAtCrash
}

// checkRecoveredChunks checks a log recovered from crashDuringChunks: each
// of its chunks (every fourth one 100 rows, the others chunk rows) whole
// or absent, none of the first acked absent, no event above the recovered
// LSN, and a commit after recovery above them all. It returns how many
// chunks were recovered whole.
func checkRecoveredChunks(t *testing.T, l *Log, tab TableID, chunks, chunk, acked int) (whole int) {
	t.Helper()
	s := l.Snapshot()
	for c := 0; c < chunks; c++ {
		n := chunk
		if c%4 == 3 {
			n = 100
		}
		found := 0
		for i := c * chunk; i < c*chunk+n; i++ {
			if _, ok, err := s.Head(tab, bulkKey(i)); err != nil {
				t.Fatal(err)
			} else if ok {
				found++
			}
		}
		if found != 0 && found != n {
			t.Fatalf("chunk %d: %d of its %d rows recovered", c, found, n)
		}
		if found == 0 && c < acked {
			t.Fatalf("acknowledged chunk %d lost (%d acknowledged)", c, acked)
		}
		if found == n {
			whole++
		}
	}
	lsn := s.LSN()
	var maxLSN uint64
	s.Events(tab, 0, func(e *Event) error { maxLSN = max(maxLSN, e.LSN); return nil })
	s.Release()
	if maxLSN > lsn {
		t.Fatalf("an event at lsn %d above the recovered lsn %d", maxLSN, lsn)
	}
	res, err := put(t, l, tab, "after", "x", Cond{})
	if err != nil || res.LSN <= maxLSN {
		t.Fatalf("commit after recovery: %+v %v (max event lsn %d)", res, err, maxLSN)
	}
	return whole
}
