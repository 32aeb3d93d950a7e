package log

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

var quiet = slog.New(slog.DiscardHandler)

// openMem opens a log on an in-memory file system.
func openMem(t testing.TB, fs vfs.FS) *Log {
	t.Helper()
	if fs == nil {
		fs = vfs.NewMem()
	}
	l, err := Open(Options{Dir: "data", FS: fs, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// createTable commits a table with one bigint key column and one text column.
func createTable(t testing.TB, l *Log, name string, kind TableKind) TableID {
	t.Helper()
	var id TableID
	res, err := l.Commit(context.Background(), &Intent{Catalog: func(c *Catalog) error {
		td := &TableDesc{Schema: "public", Name: name, Kind: kind, Versions: []SchemaVersion{{
			Version: 1,
			Columns: []Column{{Name: "id", TypeOID: 20, Typmod: -1, NotNull: true}, {Name: "v", TypeOID: 25, Typmod: -1}},
			Key:     []uint32{1},
		}}}
		if err := c.AddTable(td); err != nil {
			return err
		}
		id = td.ID
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	if res.Catalog == nil {
		t.Fatal("create table: result has no catalog")
	}
	return id
}

func put(t testing.TB, l *Log, tab TableID, key, row string, cond Cond) (*Result, error) {
	t.Helper()
	return l.Commit(context.Background(), &Intent{Writes: []Write{{Table: tab, Key: []byte(key), Row: []byte(row), Cond: cond}}})
}

func TestKeyedTableVersionsAndHeads(t *testing.T) {
	l := openMem(t, nil)
	defer l.Close()
	tab := createTable(t, l, "accounts", Keyed)

	r, err := put(t, l, tab, "k1", "a", Cond{Kind: NotExists})
	if err != nil {
		t.Fatal(err)
	}
	if r.Events[0].Version != 1 || r.Events[0].Op != OpInsert || r.LSN != 1 {
		t.Fatalf("first insert got %+v lsn %d", r.Events[0], r.LSN)
	}
	// A duplicate insert fails with 23505 and appends nothing.
	_, err = put(t, l, tab, "k1", "b", Cond{Kind: NotExists})
	var ce *ConflictError
	if !errors.As(err, &ce) || ce.SQLState() != "23505" || ce.Current.Version != 1 {
		t.Fatalf("duplicate insert: %v", err)
	}
	r, err = put(t, l, tab, "k1", "b", Cond{Kind: AtVersion, Version: 1})
	if err != nil || r.Events[0].Version != 2 || r.Events[0].Op != OpUpdate {
		t.Fatalf("update: %v %+v", err, r)
	}
	// A stale version fails with 40001 naming the current version.
	_, err = put(t, l, tab, "k1", "c", Cond{Kind: AtVersion, Version: 1})
	if !errors.As(err, &ce) || ce.SQLState() != "40001" || ce.Current.Version != 2 {
		t.Fatalf("stale update: %v", err)
	}
	r, err = l.Commit(context.Background(), &Intent{Writes: []Write{{Table: tab, Key: []byte("k1"), Delete: true, Cond: Cond{Kind: Exists}}}})
	if err != nil || r.Events[0].Op != OpDelete || r.Events[0].Version != 3 {
		t.Fatalf("delete: %v %+v", err, r)
	}
	// Deleting again: the key is not live.
	if _, err = l.Commit(context.Background(), &Intent{Writes: []Write{{Table: tab, Key: []byte("k1"), Delete: true}}}); !errors.As(err, &ce) {
		t.Fatalf("delete of deleted key: %v", err)
	}
	// Re-insert continues the numbering.
	r, err = put(t, l, tab, "k1", "d", Cond{Kind: NotExists})
	if err != nil || r.Events[0].Version != 4 || r.Events[0].Op != OpInsert {
		t.Fatalf("reinsert: %v %+v", err, r)
	}

	s := l.Snapshot()
	defer s.Release()
	h, ok, err := s.Head(tab, []byte("k1"))
	if err != nil || !ok || h.Version != 4 || string(h.Row) != "d" || h.Tombstone {
		t.Fatalf("head: %+v %v %v", h, ok, err)
	}
	var hist []string
	err = s.History(tab, []byte("k1"), 1, 0, func(e *Event) error {
		hist = append(hist, fmt.Sprintf("%d:%s:%s", e.Version, e.Op, e.Row))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := fmt.Sprint(hist), "[1:insert:a 2:update:b 3:delete: 4:insert:d]"; got != want {
		t.Fatalf("history %s, want %s", got, want)
	}
	hist = hist[:0]
	s.History(tab, []byte("k1"), 2, 3, func(e *Event) error {
		hist = append(hist, fmt.Sprint(e.Version))
		return nil
	})
	if fmt.Sprint(hist) != "[2 3]" {
		t.Fatalf("history range: %v", hist)
	}
}

func TestStreamAppendsAndExpectedVersion(t *testing.T) {
	l := openMem(t, nil)
	defer l.Close()
	st := createTable(t, l, "events", Stream)
	for i := 0; i < 3; i++ {
		if _, err := put(t, l, st, "acct-7", fmt.Sprint("e", i), Cond{}); err != nil {
			t.Fatal(err)
		}
	}
	// "This event must become version 4": the key is at 3.
	r, err := put(t, l, st, "acct-7", "e3", Cond{Kind: AtVersion, Version: 3})
	if err != nil || r.Events[0].Version != 4 || r.Events[0].Op != OpAppend {
		t.Fatalf("expected-version append: %v %+v", err, r)
	}
	_, err = put(t, l, st, "acct-7", "e4", Cond{Kind: AtVersion, Version: 3})
	var ce *ConflictError
	if !errors.As(err, &ce) || ce.Current.Version != 4 {
		t.Fatalf("stale expected version: %v", err)
	}
	if _, err := l.Commit(context.Background(), &Intent{Writes: []Write{{Table: st, Key: []byte("acct-7"), Delete: true}}}); err == nil {
		t.Fatal("delete from a stream succeeded")
	}
	s := l.Snapshot()
	defer s.Release()
	var rows []string
	s.Events(st, 0, func(e *Event) error {
		rows = append(rows, string(e.Row))
		return nil
	})
	if fmt.Sprint(rows) != "[e0 e1 e2 e3]" {
		t.Fatalf("stream rows %v", rows)
	}
	// A stream's head carries no row: scans read the events.
	h, _, _ := s.Head(st, []byte("acct-7"))
	if h.Row != nil || h.Version != 4 {
		t.Fatalf("stream head %+v", h)
	}
}

func TestIntentIsAtomic(t *testing.T) {
	l := openMem(t, nil)
	defer l.Close()
	a := createTable(t, l, "a", Keyed)
	b := createTable(t, l, "b", Keyed)
	if _, err := put(t, l, b, "x", "old", Cond{}); err != nil {
		t.Fatal(err)
	}
	// The second write's condition fails: the first must not appear.
	_, err := l.Commit(context.Background(), &Intent{Writes: []Write{
		{Table: a, Key: []byte("1"), Row: []byte("new")},
		{Table: b, Key: []byte("x"), Row: []byte("new"), Cond: Cond{Kind: NotExists}},
	}})
	if err == nil {
		t.Fatal("intent with failing condition committed")
	}
	s := l.Snapshot()
	if _, ok, _ := s.Head(a, []byte("1")); ok {
		t.Fatal("half of a failed intent is visible")
	}
	s.Release()
	// Two writes to one key in one intent: versions 1 and 2.
	r, err := l.Commit(context.Background(), &Intent{Writes: []Write{
		{Table: a, Key: []byte("2"), Row: []byte("v1"), Cond: Cond{Kind: NotExists}},
		{Table: a, Key: []byte("2"), Row: []byte("v2"), Cond: Cond{Kind: AtVersion, Version: 1}},
		{Table: b, Key: []byte("x"), Row: []byte("new"), Cond: Cond{Kind: AtVersion, Version: 1}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	if r.Events[1].Version != 2 || r.Events[2].Version != 2 || r.Events[0].LSN+2 != r.Events[2].LSN {
		t.Fatalf("results %+v", r.Events)
	}
}

func TestScanPrefixAndTail(t *testing.T) {
	l := openMem(t, nil)
	defer l.Close()
	a := createTable(t, l, "paths", Keyed)
	b := createTable(t, l, "other", Stream)
	keys := []string{"a/b/c", "a/b", "a/bc", "a\x00z", "b/x", "a/b/d", ""}
	for i, k := range keys {
		if _, err := put(t, l, a, k, fmt.Sprint(i), Cond{}); err != nil {
			t.Fatal(err)
		}
		if _, err := put(t, l, b, k, fmt.Sprint("s", i), Cond{}); err != nil {
			t.Fatal(err)
		}
	}
	s := l.Snapshot()
	defer s.Release()
	scan := func(prefix string) []string {
		var out []string
		if err := s.ScanHeads(a, []byte(prefix), false, func(k []byte, h *Head) error {
			out = append(out, fmt.Sprintf("%q", k))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		return out
	}
	if got := fmt.Sprint(scan("a/b/")); got != `["a/b/c" "a/b/d"]` {
		t.Fatalf("prefix a/b/: %s", got)
	}
	if got := fmt.Sprint(scan("a")); got != `["a\x00z" "a/b" "a/b/c" "a/b/d" "a/bc"]` {
		t.Fatalf("prefix a: %s", got)
	}
	if got := len(scan("")); got != len(keys) {
		t.Fatalf("full scan %d keys", got)
	}
	// Tail merges both tables in commit order.
	var lsns []uint64
	var last uint64
	if err := s.Tail([]TableID{a, b}, 3, func(e *Event) error {
		if e.LSN <= last {
			t.Fatalf("tail out of order: %d after %d", e.LSN, last)
		}
		last = e.LSN
		lsns = append(lsns, e.LSN)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(lsns) != 2*len(keys)-3 || lsns[0] != 4 {
		t.Fatalf("tail lsns %v", lsns)
	}
}

func TestCatalogSurvivesReopenAndDropDeletesData(t *testing.T) {
	fs := vfs.NewMem()
	l := openMem(t, fs)
	a := createTable(t, l, "a", Keyed)
	put(t, l, a, "k", "v", Cond{})
	if _, err := l.Commit(context.Background(), &Intent{Catalog: func(c *Catalog) error {
		td := &TableDesc{Schema: "public", Name: "a", Kind: Keyed, Versions: []SchemaVersion{{Version: 1}}}
		return c.AddTable(td)
	}}); err == nil {
		t.Fatal("duplicate table accepted")
	} else if err.(*CatalogError).SQLState() != "42P07" {
		t.Fatalf("duplicate table error %v", err)
	}
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = openMem(t, fs)
	td, ok := l.Catalog().Lookup("public", "a")
	if !ok || td.ID != a || td.Current().Columns[1].Name != "v" {
		t.Fatalf("catalog after reopen: %+v", td)
	}
	r, err := put(t, l, a, "k", "v2", Cond{Kind: AtVersion, Version: 1})
	if err != nil || r.LSN != 2 {
		t.Fatalf("append after reopen: %v %+v", err, r)
	}
	if _, err := l.Commit(context.Background(), &Intent{Catalog: func(c *Catalog) error { return c.DropTable(a) }}); err != nil {
		t.Fatal(err)
	}
	s := l.Snapshot()
	if _, ok, _ := s.Head(a, []byte("k")); ok {
		t.Fatal("dropped table's head remains")
	}
	s.Release()
	if _, err := put(t, l, a, "k", "v", Cond{}); err == nil {
		t.Fatal("write to dropped table accepted")
	}
	b := createTable(t, l, "a", Keyed)
	if b == a {
		t.Fatal("table id reused")
	}
	l.Close()
}

func TestCorruptValueIsReportedWithLocation(t *testing.T) {
	l := openMem(t, nil)
	defer l.Close()
	a := createTable(t, l, "a", Keyed)
	put(t, l, a, "k", "value", Cond{})
	// Flip a byte of the stored event beneath the log.
	ek := eventKey(nil, a, 1)
	v, closer, err := l.db.Get(ek)
	if err != nil {
		t.Fatal(err)
	}
	bad := append([]byte(nil), v...)
	closer.Close()
	bad[len(bad)-1] ^= 0x40
	l.db.Set(ek, bad, nil)
	// And truncate the head.
	hk := headKey(nil, a, []byte("k"))
	l.db.Set(hk, []byte{1, 2}, nil)

	s := l.db.NewSnapshot()
	snap := &Snapshot{snap: s}
	snap.refs.Store(1)
	defer snap.Release()
	err = snap.Events(a, 0, func(e *Event) error { t.Fatalf("corrupt event returned as data: %q", e.Row); return nil })
	if !errors.Is(err, ErrCorrupt) || !bytes.Contains([]byte(err.Error()), []byte("event table=1 lsn=1")) {
		t.Fatalf("corrupt event: %v", err)
	}
	_, _, err = snap.Head(a, []byte("k"))
	if !errors.Is(err, ErrCorrupt) || !bytes.Contains([]byte(err.Error()), []byte(`head table=1 key="k"`)) {
		t.Fatalf("truncated head: %v", err)
	}
	// The sequencer refuses to build on a corrupt head; other keys stay
	// writable.
	if _, err := put(t, l, a, "k", "x", Cond{}); !errors.Is(err, ErrCorrupt) {
		t.Fatalf("write over corrupt head: %v", err)
	}
	if _, err := put(t, l, a, "k2", "x", Cond{}); err != nil {
		t.Fatalf("write to another key after corruption: %v", err)
	}
}
