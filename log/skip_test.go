package log

import (
	"context"
	"testing"
)

// A SkipIfExists write is left out when its key is live at commit, and the
// intent's other writes still commit; a deleted key takes it.
func TestSkipIfExists(t *testing.T) {
	l := openMem(t, nil)
	defer l.Close()
	tab := createTable(t, l, "kv", Keyed)
	if _, err := put(t, l, tab, "a", "a1", Cond{Kind: NotExists}); err != nil {
		t.Fatal(err)
	}
	skip := func(key, row string) Write {
		return Write{Table: tab, Key: []byte(key), Row: []byte(row), Cond: Cond{Kind: NotExists}, SkipIfExists: true}
	}
	res, err := l.Commit(context.Background(), &Intent{Writes: []Write{skip("a", "a2"), skip("b", "b1"), skip("b", "b2")}})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Events) != 3 || !res.Events[0].Skipped || res.Events[1].Skipped || res.Events[1].Version != 1 || !res.Events[2].Skipped {
		t.Fatalf("events %+v: want a skipped, b inserted at version 1, the second b skipped", res.Events)
	}
	s := l.Snapshot()
	for key, want := range map[string]string{"a": "a1", "b": "b1"} {
		h, ok, err := s.Head(tab, []byte(key))
		if err != nil || !ok || string(h.Row) != want || h.Version != 1 {
			t.Fatalf("head of %s: %+v %v %v, want row %s at version 1", key, h, ok, err, want)
		}
	}
	s.Release()

	// Only skipped writes: nothing appended, the position stays.
	before := res.LSN
	res, err = l.Commit(context.Background(), &Intent{Writes: []Write{skip("a", "a3")}})
	if err != nil || !res.Events[0].Skipped || res.LSN != before {
		t.Fatalf("all-skipped intent: %+v %v (LSN before %d)", res, err, before)
	}

	// A deleted key is not live: the write goes in.
	if _, err := l.Commit(context.Background(), &Intent{Writes: []Write{{Table: tab, Key: []byte("a"), Delete: true}}}); err != nil {
		t.Fatal(err)
	}
	res, err = l.Commit(context.Background(), &Intent{Writes: []Write{skip("a", "a4")}})
	if err != nil || res.Events[0].Skipped || res.Events[0].Version != 3 {
		t.Fatalf("insert over a tombstone: %+v %v", res, err)
	}
}
