package log

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand"
	"testing"
	"time"
)

func createTableIn(t testing.TB, l *Log, schema, name string) TableID {
	t.Helper()
	var id TableID
	_, err := l.Commit(context.Background(), &Intent{Catalog: func(c *Catalog) error {
		c.Schemas[schema] = true
		td := &TableDesc{Schema: schema, Name: name, Kind: Keyed, Versions: []SchemaVersion{{
			Version: 1,
			Columns: []Column{{Name: "id", TypeOID: 25, Typmod: -1, NotNull: true}, {Name: "v", TypeOID: 25, Typmod: -1}},
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
	return id
}

// collect reads n events from s (waiting as needed, bounded by a generous
// deadline so a broken subscription fails instead of hanging).
func collect(t testing.TB, s *Subscription, n int) []*Event {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out []*Event
	for len(out) < n {
		evs, err := s.Next(ctx, n-len(out))
		if err != nil {
			t.Fatalf("after %d of %d events: %v", len(out), n, err)
		}
		out = append(out, evs...)
	}
	return out
}

// expectNothing checks that no further event is pending.
func expectNothing(t testing.TB, s *Subscription) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	evs, err := s.Next(ctx, 10)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("expected no event, got %d events (%v)", len(evs), err)
	}
}

// checkOrder asserts LSN order and, per key, dense versions with no gap.
func checkOrder(t testing.TB, evs []*Event) {
	t.Helper()
	last := map[string]uint64{}
	var lsn uint64
	for _, e := range evs {
		if e.LSN <= lsn {
			t.Fatalf("lsn %d after %d", e.LSN, lsn)
		}
		lsn = e.LSN
		k := fmt.Sprintf("%d/%s", e.Table, e.Key)
		if prev, ok := last[k]; ok && e.Version != prev+1 {
			t.Fatalf("key %s: version %d after %d", k, e.Version, prev)
		}
		last[k] = e.Version
	}
}

func TestSubscribeLiveAndResume(t *testing.T) {
	l := openMem(t, nil)
	defer l.Close()
	tab := createTable(t, l, "t", Keyed)
	for i := range 5 {
		put(t, l, tab, fmt.Sprintf("k%d", i%2), "x", Cond{})
	}
	s, err := l.Subscribe(SubscriptionSpec{TableIDs: []TableID{tab}})
	if err != nil {
		t.Fatal(err)
	}
	// The history first (from the snapshot), then live events.
	got := collect(t, s, 5)
	go func() {
		for i := range 5 {
			put(t, l, tab, fmt.Sprintf("k%d", i%2), "y", Cond{})
		}
	}()
	got = append(got, collect(t, s, 5)...)
	checkOrder(t, got)
	if got[0].Op != OpInsert || got[2].Op != OpUpdate || string(got[9].Row) != "y" {
		t.Fatalf("ops/rows: %+v %+v %+v", got[0], got[2], got[9])
	}
	expectNothing(t, s)
	mid := got[6].LSN
	s.Close()
	if _, err := s.Next(context.Background(), 1); !errors.Is(err, ErrSubscriptionClosed) {
		t.Fatalf("next after close: %v", err)
	}
	// Resume from a position: exactly the events after it.
	r, err := l.Subscribe(SubscriptionSpec{TableIDs: []TableID{tab}, From: mid})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	again := collect(t, r, 3)
	for i, e := range again {
		if e.LSN != got[7+i].LSN {
			t.Fatalf("resume: event %d lsn %d, want %d", i, e.LSN, got[7+i].LSN)
		}
	}
	if r.Position() != got[9].LSN {
		t.Fatalf("position %d, want %d", r.Position(), got[9].LSN)
	}
	expectNothing(t, r)
}

func TestSubscribePatternIncludesLaterTables(t *testing.T) {
	l := openMem(t, nil)
	defer l.Close()
	a := createTableIn(t, l, "shop", "orders")
	other := createTableIn(t, l, "public", "orders")
	all, err := l.Subscribe(SubscriptionSpec{Tables: []string{"shop.*"}})
	if err != nil {
		t.Fatal(err)
	}
	defer all.Close()
	deep, err := l.Subscribe(SubscriptionSpec{Tables: []string{">"}})
	if err != nil {
		t.Fatal(err)
	}
	defer deep.Close()
	put(t, l, a, "1", "a", Cond{})
	put(t, l, other, "1", "o", Cond{})
	// Created after the subscription started: included without resubscribing.
	b := createTableIn(t, l, "shop", "customers")
	put(t, l, b, "1", "b", Cond{})
	got := collect(t, all, 2)
	if got[0].Table != a || got[1].Table != b {
		t.Fatalf("shop.* got tables %d, %d; want %d, %d", got[0].Table, got[1].Table, a, b)
	}
	expectNothing(t, all)
	if got := collect(t, deep, 3); got[1].Table != other {
		t.Fatalf("'>' missed a table: %+v", got)
	}
	for _, p := range []string{"", "a..b", ">.x"} {
		if _, err := l.Subscribe(SubscriptionSpec{Tables: []string{p}}); err == nil {
			t.Fatalf("pattern %q accepted", p)
		}
	}
	for _, c := range []struct {
		p      string
		schema string
		name   string
		want   bool
	}{{"shop.*", "shop", "a", true}, {"shop.*", "shopx", "a", false}, {"*.a", "x", "a", true},
		{"shop.>", "shop", "a", true}, {"shop.>", "shop", "a.b", true}, {"shop.*", "shop", "a.b", false},
		{"shop", "shop", "a", false}, {"shop.a", "shop", "a", true}} {
		toks, _ := parseTablePattern(c.p)
		if got := matchTablePattern(toks, c.schema, c.name); got != c.want {
			t.Errorf("%q on %s.%s: %v", c.p, c.schema, c.name, got)
		}
	}
}

// TestSubscribeKeyPrefixMatchesBruteForce compares prefix subscriptions,
// live and catching up (through the key index and through the event log),
// with a filter over every event.
func TestSubscribeKeyPrefixMatchesBruteForce(t *testing.T) {
	l := openMem(t, nil)
	defer l.Close()
	t1 := createTableIn(t, l, "public", "a")
	t2 := createTableIn(t, l, "public", "b")
	rng := rand.New(rand.NewSource(1))
	var all []*Event
	write := func(n int) {
		for range n {
			tab := []TableID{t1, t2}[rng.Intn(2)]
			key := fmt.Sprintf("%s/%d", []string{"eu", "us", "eu/x"}[rng.Intn(3)], rng.Intn(20))
			if _, err := put(t, l, tab, key, "r", Cond{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	live, err := l.Subscribe(SubscriptionSpec{TableIDs: []TableID{t1, t2}, KeyPrefix: []byte("eu/")})
	if err != nil {
		t.Fatal(err)
	}
	defer live.Close()
	write(400)
	snap := l.Snapshot()
	snap.Tail([]TableID{t1, t2}, 0, func(e *Event) error { all = append(all, e.clone()); return nil })
	snap.Release()
	want := func(from uint64, prefix string) []*Event {
		var out []*Event
		for _, e := range all {
			if e.LSN > from && bytes.HasPrefix(e.Key, []byte(prefix)) {
				out = append(out, e)
			}
		}
		return out
	}
	same := func(what string, got, want []*Event) {
		t.Helper()
		if len(got) != len(want) {
			t.Fatalf("%s: %d events, want %d", what, len(got), len(want))
		}
		for i := range got {
			if got[i].LSN != want[i].LSN || !bytes.Equal(got[i].Key, want[i].Key) || got[i].Version != want[i].Version {
				t.Fatalf("%s: event %d is %d %s v%d, want %d %s v%d", what, i, got[i].LSN, got[i].Key, got[i].Version,
					want[i].LSN, want[i].Key, want[i].Version)
			}
		}
		checkOrder(t, got)
	}
	same("live", collect(t, live, len(want(0, "eu/"))), want(0, "eu/"))
	expectNothing(t, live)
	for _, from := range []uint64{0, 2, 150, 399} {
		for _, prefix := range []string{"eu/", "eu/x/1", "us/"} {
			// Small reads exercise resuming inside a catch-up.
			s, err := l.Subscribe(SubscriptionSpec{TableIDs: []TableID{t1, t2}, KeyPrefix: []byte(prefix), From: from})
			if err != nil {
				t.Fatal(err)
			}
			w := want(from, prefix)
			var got []*Event
			for len(got) < len(w) {
				got = append(got, collect(t, s, min(7, len(w)-len(got)))...)
			}
			same(fmt.Sprintf("catch-up from %d prefix %q", from, prefix), got, w)
			expectNothing(t, s)
			s.Close()
		}
	}
	// The index path is taken when the prefix has few keys for the range.
	snap = l.Snapshot()
	cu, err := buildIndexCatchUp(snap, []TableID{t1, t2}, []byte("eu/x/1"), 0, snap.LSN())
	snap.Release()
	if err != nil || cu == nil {
		t.Fatalf("index catch-up not chosen: %v", err)
	}
}

func TestSubscribeMatchFilter(t *testing.T) {
	l := openMem(t, nil)
	defer l.Close()
	tab := createTable(t, l, "t", Keyed)
	s, err := l.Subscribe(SubscriptionSpec{TableIDs: []TableID{tab}, Match: func(_ TableID, k []byte) bool {
		return bytes.HasSuffix(k, []byte("/keep"))
	}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, k := range []string{"a/drop", "a/keep", "b/drop", "b/keep"} {
		put(t, l, tab, k, "r", Cond{})
	}
	got := collect(t, s, 2)
	if string(got[0].Key) != "a/keep" || string(got[1].Key) != "b/keep" {
		t.Fatalf("got %s %s", got[0].Key, got[1].Key)
	}
	if s.Position() != 4 {
		t.Fatalf("position %d after the filtered-out event, want 4", s.Position())
	}
}

// TestSubscribeSlowSubscriberIsBounded: a subscriber that does not read
// while many events commit keeps at most Buffer of them and reads the rest
// from the snapshot, with no gap and no reordering.
func TestSubscribeSlowSubscriberIsBounded(t *testing.T) {
	l := openMem(t, nil)
	defer l.Close()
	tab := createTable(t, l, "t", Keyed)
	s, err := l.Subscribe(SubscriptionSpec{TableIDs: []TableID{tab}, Buffer: 16})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	const n = 500
	for i := range n {
		put(t, l, tab, fmt.Sprintf("k%d", i%7), "r", Cond{})
		if i == 250 {
			// Reading in the middle mixes buffer, snapshot and live reads.
			collect(t, s, 100)
		}
	}
	s.mu.Lock()
	buffered := len(s.mu.buf)
	s.mu.Unlock()
	if buffered > 16 {
		t.Fatalf("%d events buffered, bound is 16", buffered)
	}
	s2, _ := l.Subscribe(SubscriptionSpec{TableIDs: []TableID{tab}, From: 100})
	defer s2.Close()
	got := collect(t, s2, n-100)
	checkOrder(t, got)
	if got[0].LSN != 101 {
		t.Fatalf("first lsn %d", got[0].LSN)
	}
	rest := collect(t, s, n-100)
	checkOrder(t, rest)
	for i := range rest {
		if rest[i].LSN != got[i].LSN {
			t.Fatalf("slow subscriber event %d lsn %d, want %d", i, rest[i].LSN, got[i].LSN)
		}
	}
}

// TestSubscribeRouterGap: batches that find the router's queue full are
// read from the snapshot.
func TestSubscribeRouterGap(t *testing.T) {
	l := openMem(t, nil)
	defer l.Close()
	tab := createTable(t, l, "t", Keyed)
	s, err := l.Subscribe(SubscriptionSpec{TableIDs: []TableID{tab}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	l.router.q.Lock()
	l.router.maxQueue = 0 // every batch becomes a gap
	l.router.q.Unlock()
	for i := range 50 {
		put(t, l, tab, fmt.Sprintf("k%d", i%3), "r", Cond{})
	}
	got := collect(t, s, 50)
	checkOrder(t, got)
	l.router.q.Lock()
	l.router.maxQueue = 1024
	l.router.q.Unlock()
	put(t, l, tab, "k0", "r", Cond{})
	if e := collect(t, s, 1); e[0].LSN != got[49].LSN+1 {
		t.Fatalf("after the gap: lsn %d", e[0].LSN)
	}
}

// TestSubscribeLargeCommit: a commit whose batch Pebble applies as a large
// batch (half a memtable or more; its contents are gone once applied)
// still reaches a live subscriber in full, read from the snapshot, and the
// stream goes on live after it.
func TestSubscribeLargeCommit(t *testing.T) {
	l := openMem(t, nil)
	defer l.Close()
	tab := createTable(t, l, "t", Keyed)
	s, err := l.Subscribe(SubscriptionSpec{TableIDs: []TableID{tab}})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	put(t, l, tab, "before", "r", Cond{})
	// 6,000 rows of 1 KiB: about 6 MiB of events alone, beyond half of
	// the 8 MiB memtable.
	const n = 6000
	row := bytes.Repeat([]byte("x"), 1024)
	in := &Intent{}
	for i := range n {
		in.Writes = append(in.Writes, Write{Table: tab, Key: []byte(fmt.Sprintf("big%05d", i)), Row: row})
	}
	if _, err := l.Commit(context.Background(), in); err != nil {
		t.Fatal(err)
	}
	put(t, l, tab, "after", "r", Cond{})
	got := collect(t, s, n+2)
	checkOrder(t, got)
	if string(got[0].Key) != "before" || string(got[n+1].Key) != "after" || len(got[n].Row) != 1024 {
		t.Fatalf("events around the large commit: %q, %q, %d-byte row", got[0].Key, got[n+1].Key, len(got[n].Row))
	}
	expectNothing(t, s)
}

func TestSubscribeEndsWhenLogCloses(t *testing.T) {
	l := openMem(t, nil)
	tab := createTable(t, l, "t", Keyed)
	s, err := l.Subscribe(SubscriptionSpec{TableIDs: []TableID{tab}})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() {
		_, err := s.Next(context.Background(), 1)
		done <- err
	}()
	l.Close()
	if err := <-done; !errors.Is(err, ErrSubscriptionClosed) {
		t.Fatalf("next after log close: %v", err)
	}
	if _, err := l.Subscribe(SubscriptionSpec{TableIDs: []TableID{tab}}); err == nil {
		t.Fatal("subscribe on a closed log succeeded")
	}
}

func TestRecordKeyMatchesDecode(t *testing.T) {
	for _, e := range []Event{
		{Key: []byte("k"), Version: 1, Op: OpInsert, CommitTime: 1_700_000_000_000_000, Row: []byte("row")},
		{Key: []byte{}, Version: 1 << 40, Op: OpDelete, SchemaVersion: 300, CommitTime: -5},
		{Key: bytes.Repeat([]byte{0x80}, 200), Version: 127, Op: OpAppend, CommitTime: 128},
	} {
		v := encodeRecord(nil, &e)
		k, ok := recordKey(v)
		if !ok || !bytes.Equal(k, e.Key) {
			t.Fatalf("recordKey(%+v) = %q, %v", e, k, ok)
		}
		if _, ok := recordKey(v[:len(v)-len(e.Row)-1]); ok && len(e.Key) > 0 {
			t.Fatalf("truncated record accepted")
		}
	}
}
