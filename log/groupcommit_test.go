package log

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"testing"
)

// TestIntentRepeatsKeys writes each key of an intent several times, with
// few keys (the sequencer scans its touched heads) and with more than
// linearHeads keys (it indexes them in a map): every write sees the one
// before it, and the next intent sees the last.
func TestIntentRepeatsKeys(t *testing.T) {
	for _, keys := range []int{3, linearHeads + 5} {
		t.Run(fmt.Sprintf("keys=%d", keys), func(t *testing.T) {
			l := openMem(t, nil)
			defer l.Close()
			tab := createTable(t, l, "t", Keyed)
			const rounds = 3
			var writes []Write
			for r := 0; r < rounds; r++ {
				for k := 0; k < keys; k++ {
					writes = append(writes, Write{Table: tab, Key: []byte(fmt.Sprintf("k%02d", k)), Row: []byte(fmt.Sprintf("r%d", r))})
				}
			}
			res, err := l.Commit(context.Background(), &Intent{Writes: writes})
			if err != nil {
				t.Fatal(err)
			}
			for i, ev := range res.Events {
				want := uint64(i/keys + 1)
				if ev.Version != want {
					t.Fatalf("write %d (key %s): version %d, want %d", i, writes[i].Key, ev.Version, want)
				}
			}
			for k := 0; k < keys; k++ {
				r, err := put(t, l, tab, fmt.Sprintf("k%02d", k), "next", Cond{Kind: AtVersion, Version: rounds})
				if err != nil || r.Events[0].Version != rounds+1 {
					t.Fatalf("key %d after the intent: %v %+v", k, err, r)
				}
			}
		})
	}
}

// TestConcurrentCommitsShareBatches commits from many goroutines at once
// on a real disk: every commit is acknowledged with its own key's version,
// intents share batches (the held batch collects what arrives during an
// fsync), and everything acknowledged is there after a reopen.
func TestConcurrentCommitsShareBatches(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(Options{Dir: dir, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	tab := createTable(t, l, "t", Keyed)
	before := l.Stats()
	const writers, each = 32, 100
	runWriters(t, writers, each, func(w, i int) error {
		key := binary.BigEndian.AppendUint32(nil, uint32(w*each+i))
		res, err := l.Commit(context.Background(), &Intent{Writes: []Write{{Table: tab, Key: key, Row: []byte("v"), Cond: Cond{Kind: NotExists}}}})
		if err == nil && (len(res.Events) != 1 || res.Events[0].Version != 1) {
			err = fmt.Errorf("key %x: got %+v", key, res.Events)
		}
		return err
	})
	after := l.Stats()
	intents, batches := after.Intents-before.Intents, after.Batches-before.Batches
	if intents != writers*each || after.Appends-before.Appends != writers*each {
		t.Fatalf("%d intents and %d appends, want %d", intents, after.Appends-before.Appends, writers*each)
	}
	if batches >= intents {
		t.Fatalf("%d intents took %d batches: no group commit", intents, batches)
	}
	t.Logf("%d intents in %d batches, %d WAL fsyncs", intents, batches, after.Fsyncs-before.Fsyncs)
	l = reopen(t, l, dir)
	defer l.Close()
	snap := l.Snapshot()
	defer snap.Release()
	for k := 0; k < writers*each; k++ {
		h, ok, err := snap.Head(tab, binary.BigEndian.AppendUint32(nil, uint32(k)))
		if err != nil || !ok || h.Version != 1 {
			t.Fatalf("key %d after reopen: %v %v %+v", k, err, ok, h)
		}
	}
}

// runWriters runs writers goroutines, each calling fn(w, i) for i in
// 0..each-1 until it fails, and fails the test with the errors.
func runWriters(t *testing.T, writers, each int, fn func(w, i int) error) {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, writers)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			for i := 0; i < each; i++ {
				if err := fn(w, i); err != nil {
					errs <- err
					return
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
}

// reopen closes l and opens the log in dir again (on the real disk).
func reopen(t *testing.T, l *Log, dir string) *Log {
	t.Helper()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l, err := Open(Options{Dir: dir, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return l
}
