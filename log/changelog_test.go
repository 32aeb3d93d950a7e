package log

import (
	"context"
	"errors"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// mirrorHook mirrors every change of a table into view's changelog
// (HookInput.Writes): each key's row, or its deletion, under the view's
// own versions.
type mirrorHook struct {
	view TableID
}

func (h *mirrorHook) PrepareIntent(in *HookInput) ([]Mutation, error) {
	for _, c := range in.Changes {
		in.Writes = append(in.Writes, Write{Table: h.view, Key: c.Key, Row: c.Row, Delete: c.Op == OpDelete,
			// Ignored: a changelog write is unconditional.
			Cond: Cond{Kind: NotExists}})
	}
	return nil, nil
}

func (h *mirrorHook) Prepare(HookState, *Catalog, []Change) ([]Mutation, error) { return nil, nil }

func (h *mirrorHook) OnCatalog(HookState, *Catalog, *Catalog) ([]Mutation, error) { return nil, nil }

// A commit hook's writes to a view's changelog become the view's events in
// the same commit, after the intent's, with versions per key; a view
// without a changelog takes none, and no client writes to one.
func TestHookWritesChangelog(t *testing.T) {
	h := &mirrorHook{}
	l, err := Open(Options{Dir: "data", FS: vfs.NewMem(), Logger: quiet, Hook: h})
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	tab := createTable(t, l, "t", Keyed)
	view := createTable(t, l, "v", View)
	h.view = view
	// Without the option, the view has no event log: the hook's write
	// fails the intent, and nothing of it is written.
	if _, err := put(t, l, tab, "a", "1", Cond{}); err == nil {
		t.Fatal("a changelog write to a view without a changelog committed")
	}
	if _, err := l.Commit(context.Background(), &Intent{Catalog: func(c *Catalog) error {
		td, _ := c.Table(view)
		cp := *td
		cp.Options = map[string]string{OptChangelog: "true"}
		c.Tables[view] = &cp
		return nil
	}}); err != nil {
		t.Fatal(err)
	}
	sub, err := l.Subscribe(SubscriptionSpec{TableIDs: []TableID{view}})
	if err != nil {
		t.Fatal(err)
	}
	defer sub.Close()
	r1, err := put(t, l, tab, "a", "1", Cond{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := put(t, l, tab, "a", "2", Cond{}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.Commit(context.Background(), &Intent{Writes: []Write{{Table: tab, Key: []byte("a"), Delete: true}}}); err != nil {
		t.Fatal(err)
	}
	var got []*Event
	for len(got) < 3 {
		evs, err := sub.Next(context.Background(), 10)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, evs...)
	}
	want := []struct {
		op      Op
		version uint64
		row     string
	}{{OpInsert, 1, "1"}, {OpUpdate, 2, "2"}, {OpDelete, 3, ""}}
	for i, w := range want {
		e := got[i]
		if e.Table != view || string(e.Key) != "a" || e.Op != w.op || e.Version != w.version || string(e.Row) != w.row {
			t.Fatalf("event %d: %+v, want %v", i, e, w)
		}
	}
	// The view's event follows the table's, in the same commit.
	if got[0].LSN != r1.LSN || r1.Events[0].LSN != r1.LSN-1 || len(r1.Events) != 1 {
		t.Fatalf("changelog event at %d, the table's at %d, commit at %d", got[0].LSN, r1.Events[0].LSN, r1.LSN)
	}
	snap := l.Snapshot()
	defer snap.Release()
	if h, ok, err := snap.Head(view, []byte("a")); err != nil || !ok || h.Version != 3 || h.Live() {
		t.Fatalf("the view's head: %+v %v %v", h, ok, err)
	}
	// Clients still cannot write to the view.
	var te *TableError
	if _, err := put(t, l, view, "b", "x", Cond{}); !errors.As(err, &te) || te.Code != "42809" {
		t.Fatalf("a client's write to the view: %v", err)
	}
}
