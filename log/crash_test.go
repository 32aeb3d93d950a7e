package log

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	randv2 "math/rand/v2"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// crashModel records what writers were told, so that a crashed and
// recovered log can be checked against it.
type crashModel struct {
	mu sync.Mutex
	// acked: "table/key/version" → row, for every acknowledged write.
	acked map[string]string
}

func modelKey(t TableID, key []byte, v uint64) string { return fmt.Sprintf("%d/%s/%d", t, key, v) }

// TestCrashRecovery runs concurrent writers (multi-key, multi-table intents,
// some conditional, some deletes) on a crashable in-memory file system,
// simulates a crash at a random moment (keeping a random part of the data
// that was not yet synced), recovers, checks the recovered log, and goes on
// writing on it: several crashes in a row, for several seeds.
//
// Checked after each crash: every acknowledged write is there with its row;
// every key's versions are dense from 1 and its head agrees with its last
// version; every intent is there entirely or not at all; LSNs are unique and
// new commits continue above them.
func TestCrashRecovery(t *testing.T) {
	seeds := []int64{1, 2, 3, 4, 5}
	if testing.Short() {
		seeds = seeds[:2]
	}
	for _, seed := range seeds {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) { crashRounds(t, seed, 4) })
	}
}

func crashRounds(t *testing.T, seed int64, rounds int) {
	rng := rand.New(rand.NewSource(seed))
	fs := vfs.NewCrashableMem()
	l := openMem(t, fs)
	keyed := createTable(t, l, "keyed", Keyed)
	stream := createTable(t, l, "stream", Stream)
	m := &crashModel{acked: map[string]string{}}
	for round := 0; round < rounds; round++ {
		stop := make(chan struct{})
		var wg sync.WaitGroup
		for w := 0; w < 8; w++ {
			wg.Add(1)
			go func(w int, rng *rand.Rand) {
				defer wg.Done()
				crashWriter(l, m, keyed, stream, round, w, rng, stop)
			}(w, rand.New(rand.NewSource(rng.Int63())))
		}
		time.Sleep(time.Duration(5+rng.Intn(40)) * time.Millisecond)

		m.mu.Lock()
		acked := make(map[string]string, len(m.acked))
		for k, v := range m.acked {
			acked[k] = v
		}
		crashed := fs.CrashClone(vfs.CrashCloneCfg{UnsyncedDataPercent: rng.Intn(101), RNG: randv2.New(randv2.NewPCG(rng.Uint64(), rng.Uint64()))})
		m.mu.Unlock()

		close(stop)
		wg.Wait()
		l.Close()

		fs = crashed
		l = openMem(t, fs)
		recovered := verifyRecovered(t, l, []TableID{keyed, stream}, acked)
		t.Logf("round %d: %d acknowledged writes before the crash, %d writes recovered, lsn %d",
			round, len(acked), recovered, l.Snapshot().LSN())
		// The model continues from what survived.
		m.acked = acked
	}
	l.Close()
}

func crashWriter(l *Log, m *crashModel, keyed, stream TableID, round, w int, rng *rand.Rand, stop chan struct{}) {
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		default:
		}
		n := 1 + rng.Intn(3)
		in := &Intent{}
		for j := 0; j < n; j++ {
			row := fmt.Sprintf("r%d-w%d-i%d-j%d-n%d", round, w, i, j, n)
			wr := Write{Key: []byte(fmt.Sprint("k", rng.Intn(40))), Row: []byte(row)}
			if rng.Intn(2) == 0 {
				wr.Table = keyed
				// Deletes carry no row to name their intent: keep them to
				// single-write intents so atomicity stays checkable.
				if n == 1 && rng.Intn(8) == 0 {
					wr.Delete, wr.Row = true, nil
				}
			} else {
				wr.Table = stream
			}
			if rng.Intn(4) == 0 {
				s := l.Snapshot()
				h, _, err := s.Head(wr.Table, wr.Key)
				s.Release()
				if err != nil {
					panic(err)
				}
				wr.Cond = Cond{Kind: AtVersion, Version: h.Version}
			}
			in.Writes = append(in.Writes, wr)
		}
		res, err := l.Commit(context.Background(), in)
		if err != nil {
			var ce *ConflictError
			if errors.As(err, &ce) {
				continue
			}
			return // closed
		}
		m.mu.Lock()
		for j, ev := range res.Events {
			wr := in.Writes[j]
			m.acked[modelKey(wr.Table, wr.Key, ev.Version)] = string(wr.Row)
		}
		m.mu.Unlock()
	}
}

func verifyRecovered(t *testing.T, l *Log, tables []TableID, acked map[string]string) int {
	t.Helper()
	s := l.Snapshot()
	defer s.Release()
	found := map[string]string{}
	intentParts := map[string]int{} // "r-w-i" → writes seen
	intentSize := map[string]int{}
	lsns := map[uint64]bool{}
	var maxLSN uint64
	for _, tab := range tables {
		var keys [][]byte
		heads := map[string]Head{}
		if err := s.ScanHeads(tab, nil, true, func(k []byte, h *Head) error {
			keys = append(keys, append([]byte(nil), k...))
			hc := *h
			hc.Row = append([]byte(nil), h.Row...)
			heads[string(k)] = hc
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		for _, k := range keys {
			h := heads[string(k)]
			var want uint64 = 1
			var last Event
			if err := s.History(tab, k, 1, 0, func(e *Event) error {
				if e.Version != want {
					t.Fatalf("table %d key %s: version %d where %d was due", tab, k, e.Version, want)
				}
				want++
				if lsns[e.LSN] {
					t.Fatalf("lsn %d used twice", e.LSN)
				}
				lsns[e.LSN] = true
				maxLSN = max(maxLSN, e.LSN)
				found[modelKey(tab, k, e.Version)] = string(e.Row)
				last = *e
				last.Row = append([]byte(nil), e.Row...)
				if e.Row != nil {
					id := string(e.Row[:strings.LastIndex(string(e.Row), "-j")])
					intentParts[id]++
					var n int
					fmt.Sscanf(string(e.Row[strings.LastIndex(string(e.Row), "-n")+2:]), "%d", &n)
					intentSize[id] = n
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if h.Version != want-1 || h.LSN != last.LSN {
				t.Fatalf("table %d key %s: head at version %d lsn %d, history ends at %d lsn %d", tab, k, h.Version, h.LSN, want-1, last.LSN)
			}
			if h.Tombstone != (last.Op == OpDelete) {
				t.Fatalf("table %d key %s: head tombstone %v, last op %s", tab, k, h.Tombstone, last.Op)
			}
			if tab == tables[0] && !h.Tombstone && string(h.Row) != string(last.Row) {
				t.Fatalf("table %d key %s: head row %q, last event row %q", tab, k, h.Row, last.Row)
			}
		}
	}
	for k, row := range acked {
		got, ok := found[k]
		if !ok {
			t.Fatalf("acknowledged write %s (%q) lost in the crash", k, row)
		}
		if got != row {
			t.Fatalf("acknowledged write %s: recovered %q, wrote %q", k, got, row)
		}
	}
	// Atomicity: every recovered intent is recovered whole.
	for id, n := range intentParts {
		if n != intentSize[id] {
			t.Fatalf("intent %s recovered %d of its %d writes", id, n, intentSize[id])
		}
	}
	if s.LSN() < maxLSN {
		t.Fatalf("recovered lsn %d below an event's lsn %d", s.LSN(), maxLSN)
	}
	return len(found)
}
