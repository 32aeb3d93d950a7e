package log

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// TestMemFilterNeverHidesAHead: with tiny filter generations, keys move
// out of the filter into sstables over and over; every key written, by
// INSERT or by bulk chunk, and after a reopen (WAL replay), must still be
// found by the head check: a second insert of it conflicts and an update
// gets the next version. The fast path must have been taken.
func TestMemFilterNeverHidesAHead(t *testing.T) {
	fs := vfs.NewMem()
	open := func() *Log {
		l, err := Open(Options{Dir: "data", FS: fs, Logger: quiet, filterPerGen: 40})
		if err != nil {
			t.Fatal(err)
		}
		return l
	}
	l := open()
	ctx := context.Background()
	kv := createTable(t, l, "kv", Keyed)
	const n = 400
	for i := range n {
		if _, err := put(t, l, kv, fmt.Sprintf("k%04d", i), "a", Cond{Kind: NotExists}); err != nil {
			t.Fatal(err)
		}
		if i%50 == 0 {
			// Let a flush end now and then, so generations retire.
			time.Sleep(2 * time.Millisecond)
		}
	}
	b := &Bulk{Table: kv}
	for i := n; i < n+100; i++ {
		b.Add([]byte(fmt.Sprintf("k%04d", i)), []byte("bulk"))
	}
	if _, err := l.CommitBulk(ctx, b); err != nil {
		t.Fatal(err)
	}
	check := func(what string, wantVersion uint64) {
		t.Helper()
		for i := range n + 100 {
			k := fmt.Sprintf("k%04d", i)
			_, err := put(t, l, kv, k, "dup", Cond{Kind: NotExists})
			var ce *ConflictError
			if !errors.As(err, &ce) || ce.Current.Version != wantVersion {
				t.Fatalf("%s: second insert of %s: %v, want a conflict at version %d", what, k, err, wantVersion)
			}
		}
	}
	check("after the inserts", 1)
	// A generation retires at a read after its flush ends; on a loaded
	// machine that may take a while.
	f := l.seq.filter
	for deadline := time.Now().Add(20 * time.Second); (f.fastReads == 0 || f.retired == 0) && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
		check("after the inserts", 1)
	}
	if f.fastReads == 0 || f.retired == 0 {
		t.Fatalf("the filter's fast path was not taken: %d fast reads, %d generations retired", f.fastReads, f.retired)
	}
	// Every key once more, then reopen without a flush.
	for i := range n + 100 {
		if _, err := put(t, l, kv, fmt.Sprintf("k%04d", i), "b", Cond{Kind: AtVersion, Version: 1}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = open()
	defer l.Close()
	check("after the reopen", 2)
}

// stallFS holds the creation of sstables while stalled is set: Pebble's
// flushes wait, and their memtables stay unflushed.
type stallFS struct {
	vfs.FS
	mu      sync.Mutex
	stalled bool
	release chan struct{}
}

func (s *stallFS) Create(name string, cat vfs.DiskWriteCategory) (vfs.File, error) {
	if strings.HasSuffix(name, ".sst") {
		s.mu.Lock()
		ch, stalled := s.release, s.stalled
		s.mu.Unlock()
		if stalled {
			<-ch
		}
	}
	return s.FS.Create(name, cat)
}

func (s *stallFS) stall() {
	s.mu.Lock()
	s.stalled, s.release = true, make(chan struct{})
	s.mu.Unlock()
}

func (s *stallFS) resume() {
	s.mu.Lock()
	if s.stalled {
		s.stalled = false
		close(s.release)
	}
	s.mu.Unlock()
}

// TestMemFilterKeepsKeysUntilFlushed: a closed generation keeps answering
// until the flush it asked for is done, however long that takes.
func TestMemFilterKeepsKeysUntilFlushed(t *testing.T) {
	fs := &stallFS{FS: vfs.NewMem()}
	l, err := Open(Options{Dir: "data", FS: fs, Logger: quiet, filterPerGen: 40})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	defer fs.resume() // before the Close: a failed check leaves the stall
	kv := createTable(t, l, "kv", Keyed)
	insert := func(from, to int) {
		for i := from; i < to; i++ {
			if _, err := put(t, l, kv, fmt.Sprintf("k%04d", i), "a", Cond{Kind: NotExists}); err != nil {
				t.Fatal(err)
			}
		}
	}
	check := func(what string, to int) {
		t.Helper()
		for i := range to {
			_, err := put(t, l, kv, fmt.Sprintf("k%04d", i), "dup", Cond{Kind: NotExists})
			var ce *ConflictError
			if !errors.As(err, &ce) {
				t.Fatalf("%s: second insert of k%04d: %v, want a conflict", what, i, err)
			}
		}
	}
	insert(0, 100)
	check("before the stall", 100)
	// Stall only once no flush the filter asked for is pending (the one at
	// open included): the next generation's flush is the one stalled.
	f := l.seq.filter
	for deadline := time.Now().Add(20 * time.Second); (f.startup != nil || f.closed != nil) && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
		check("before the stall", 100)
	}
	fs.stall()
	insert(100, 200)
	if f.closed == nil {
		t.Fatal("no generation waits for its flush")
	}
	check("during the stall", 200)
	fast := f.fastReads
	fs.resume()
	// The generation retires at a read after its flush ends.
	for deadline := time.Now().Add(20 * time.Second); f.closed != nil && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
		check("after the stall", 200)
	}
	check("after the stall", 200)
	if f.closed != nil || f.fastReads == fast {
		t.Fatalf("after the flush: generation still closed %v, fast reads %d -> %d", f.closed != nil, fast, f.fastReads)
	}
}
