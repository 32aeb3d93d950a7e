package log

import (
	"context"
	"encoding/binary"
	"errors"
	"math/rand"
	"sync"
	"sync/atomic"
	"testing"
)

// increment reads a key's counter and writes counter+1 conditioned on the
// version it read, retrying on conflict. It returns the conflicts it saw.
func increment(t testing.TB, l *Log, tab TableID, key []byte) (conflicts int) {
	for {
		s := l.Snapshot()
		h, _, err := s.Head(tab, key)
		s.Release()
		if err != nil {
			t.Error(err)
			return
		}
		var n uint64
		if h.Row != nil {
			n = binary.BigEndian.Uint64(h.Row)
		}
		row := binary.BigEndian.AppendUint64(nil, n+1)
		_, err = l.Commit(context.Background(), &Intent{Writes: []Write{{Table: tab, Key: key, Row: row, Cond: Cond{Kind: AtVersion, Version: h.Version}}}})
		if err == nil {
			return conflicts
		}
		var ce *ConflictError
		if !errors.As(err, &ce) {
			t.Error(err)
			return
		}
		// The failure names the version that beat us.
		if ce.Current.Version <= h.Version {
			t.Errorf("conflict names version %d, but we read %d", ce.Current.Version, h.Version)
			return
		}
		conflicts++
	}
}

func TestOptimisticIncrementsOneKey(t *testing.T) {
	l := openMem(t, nil)
	defer l.Close()
	tab := createTable(t, l, "counters", Keyed)
	const writers, each = 16, 200
	var wg sync.WaitGroup
	var conflicts atomic.Int64
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				conflicts.Add(int64(increment(t, l, tab, []byte("hot"))))
			}
		}()
	}
	wg.Wait()
	s := l.Snapshot()
	defer s.Release()
	h, _, _ := s.Head(tab, []byte("hot"))
	if h.Version != writers*each || binary.BigEndian.Uint64(h.Row) != writers*each {
		t.Fatalf("after %d successful increments: version %d, counter %d", writers*each, h.Version, binary.BigEndian.Uint64(h.Row))
	}
	if conflicts.Load() == 0 {
		t.Fatal("no conflicts among 16 writers on one key: the test did not exercise the condition")
	}
	t.Logf("%d increments, %d conflicts retried", writers*each, conflicts.Load())
}

func TestOptimisticIncrementsManyKeys(t *testing.T) {
	l := openMem(t, nil)
	defer l.Close()
	tab := createTable(t, l, "counters", Keyed)
	const keys, writers, each = 10000, 32, 1000
	var wg sync.WaitGroup
	perKey := make([]atomic.Int64, keys)
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func(seed int64) {
			defer wg.Done()
			rng := rand.New(rand.NewSource(seed))
			for i := 0; i < each; i++ {
				k := rng.Intn(keys)
				increment(t, l, tab, binary.BigEndian.AppendUint32(nil, uint32(k)))
				perKey[k].Add(1)
			}
		}(int64(w))
	}
	wg.Wait()
	s := l.Snapshot()
	defer s.Release()
	var total int64
	for k := range perKey {
		want := perKey[k].Load()
		total += want
		h, _, err := s.Head(tab, binary.BigEndian.AppendUint32(nil, uint32(k)))
		if err != nil {
			t.Fatal(err)
		}
		var got uint64
		if h.Row != nil {
			got = binary.BigEndian.Uint64(h.Row)
		}
		if int64(h.Version) != want || int64(got) != want {
			t.Fatalf("key %d: %d increments acknowledged, version %d, counter %d", k, want, h.Version, got)
		}
	}
	if total != writers*each {
		t.Fatalf("total %d", total)
	}
}
