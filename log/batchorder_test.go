package log

import (
	"bytes"
	"context"
	"fmt"
	"testing"
)

// TestSharedBatchesKeepOrder commits from many goroutines at once on a
// real disk, so that intents share batches (which the pipeline applies to
// Pebble in key order, and reads heads from through one iterator), each
// intent writing the same few keys of two tables in either order. A
// subscription on both tables sees every event once in LSN order with
// dense versions per key; every key's head is its last event, before and
// after a reopen.
func TestSharedBatchesKeepOrder(t *testing.T) {
	dir := t.TempDir()
	l, err := Open(Options{Dir: dir, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	ta, tb := createTableIn(t, l, "s", "a"), createTableIn(t, l, "s", "b")
	sub, err := l.Subscribe(SubscriptionSpec{TableIDs: []TableID{ta, tb}, From: l.Stats().DurableLSN})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	before := l.Stats()
	const writers, each, keys = 16, 50, 6
	runWriters(t, writers, each, func(w, i int) error {
		k := []byte(fmt.Sprintf("k%d", (w+i)%keys))
		row := []byte(fmt.Sprintf("w%d-%d", w, i))
		writes := []Write{{Table: ta, Key: k, Row: row}, {Table: tb, Key: k, Row: row}}
		if i%2 == 1 {
			writes[0], writes[1] = writes[1], writes[0]
		}
		_, err := l.Commit(context.Background(), &Intent{Writes: writes})
		return err
	})
	after := l.Stats()
	if intents, batches := after.Intents-before.Intents, after.Batches-before.Batches; batches >= intents {
		t.Fatalf("%d intents took %d batches: no shared batches, nothing tested", intents, batches)
	}

	evs := collect(t, sub, 2*writers*each)
	expectNothing(t, sub)
	checkOrder(t, evs)
	last := map[string]*Event{}
	for _, e := range evs {
		last[fmt.Sprintf("%d/%s", e.Table, e.Key)] = e
	}
	check := func(l *Log, when string) {
		t.Helper()
		snap := l.Snapshot()
		defer snap.Release()
		for _, tab := range []TableID{ta, tb} {
			for k := 0; k < keys; k++ {
				key := []byte(fmt.Sprintf("k%d", k))
				want := last[fmt.Sprintf("%d/%s", tab, key)]
				h, ok, err := snap.Head(tab, key)
				if err != nil || !ok || want == nil {
					t.Fatalf("%s: table %d key %s: %v %v, last event %+v", when, tab, key, err, ok, want)
				}
				if h.Version != want.Version || h.LSN != want.LSN || !bytes.Equal(h.Row, want.Row) {
					t.Fatalf("%s: table %d key %s: head %d@%d %q, last event %d@%d %q",
						when, tab, key, h.Version, h.LSN, h.Row, want.Version, want.LSN, want.Row)
				}
			}
		}
	}
	check(l, "before reopen")
	sub.Close()
	l = reopen(t, l, dir)
	defer l.Close()
	check(l, "after reopen")
}
