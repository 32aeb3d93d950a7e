package log

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
)

// memCold is a ColdReader over a copy of the events taken before tiering:
// what Iceberg holds, as far as the log can tell.
type memCold struct {
	events map[TableID][]*Event
	reads  int
}

func (m *memCold) Events(td *TableDesc, after, upTo uint64, fn func(e *Event) error) error {
	m.reads++
	for _, e := range m.events[td.ID] {
		if e.LSN > after && e.LSN <= upTo {
			if err := fn(e); err != nil {
				return err
			}
		}
	}
	return nil
}

func (m *memCold) History(td *TableDesc, key []byte, from, to, upTo uint64, fn func(e *Event) error) error {
	m.reads++
	for _, e := range m.events[td.ID] {
		if string(e.Key) == string(key) && e.LSN <= upTo && e.Version >= from && (to == 0 || e.Version <= to) {
			if err := fn(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// render lists events as text, for comparisons.
func render(evs []*Event) []string {
	var out []string
	for _, e := range evs {
		out = append(out, fmt.Sprintf("%s v%d lsn%d %s %q", e.Key, e.Version, e.LSN, e.Op, e.Row))
	}
	return out
}

func allEvents(t *testing.T, l *Log, tab TableID) []*Event {
	t.Helper()
	snap := l.Snapshot()
	defer snap.Release()
	var out []*Event
	if err := snap.Events(tab, 0, func(e *Event) error { out = append(out, e.clone()); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func allHistories(t *testing.T, l *Log, tab TableID) []*Event {
	t.Helper()
	snap := l.Snapshot()
	defer snap.Release()
	var out []*Event
	if err := snap.Histories(tab, nil, func(_ []byte, e *Event) error { out = append(out, e.clone()); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func keyHistory(t *testing.T, l *Log, tab TableID, key string, from, to uint64) []*Event {
	t.Helper()
	snap := l.Snapshot()
	defer snap.Release()
	var out []*Event
	if err := snap.History(tab, []byte(key), from, to, func(e *Event) error { out = append(out, e.clone()); return nil }); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestTieringKeepsEveryRead(t *testing.T) {
	fs := vfs.NewMem()
	l := openMem(t, fs)
	ctx := context.Background()
	kv := createTable(t, l, "kv", Keyed)
	s := createTable(t, l, "s", Stream)
	for i := range 40 {
		k := fmt.Sprintf("k%d", i%7)
		if _, err := put(t, l, kv, k, fmt.Sprintf("r%d", i), Cond{}); err != nil {
			t.Fatal(err)
		}
		if _, err := put(t, l, s, k, fmt.Sprintf("e%d", i), Cond{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := l.Commit(ctx, &Intent{Writes: []Write{{Table: kv, Key: []byte("k3"), Delete: true}}}); err != nil {
		t.Fatal(err)
	}
	cold := &memCold{events: map[TableID][]*Event{kv: allEvents(t, l, kv), s: allEvents(t, l, s)}}
	wantKV, wantS := allEvents(t, l, kv), allEvents(t, l, s)
	wantHist := allHistories(t, l, kv)
	wantK1 := keyHistory(t, l, kv, "k1", 2, 4)

	// Tier everything up to the 30th event of each table.
	floorKV, floorS := wantKV[29].LSN, wantS[29].LSN
	l.SetColdReader(cold)
	if err := l.RaiseTierFloors(ctx, map[TableID]uint64{kv: floorKV, s: floorS}); err != nil {
		t.Fatal(err)
	}
	// Before the deletion, reads need nothing from Iceberg.
	if got := allEvents(t, l, s); !slices.Equal(render(got), render(wantS)) || cold.reads != 0 {
		t.Fatalf("before the drop: %d events, %d cold reads", len(got), cold.reads)
	}
	if n, err := l.DropTiered(ctx, kv, s); err != nil || n != 60 {
		t.Fatalf("drop tiered: %d events, %v", n, err)
	}
	snap := l.Snapshot()
	ev, ver, err := snap.LocalEvents(s)
	snap.Release()
	// The version index holds every local version but each key's newest
	// (the head's); all 7 keys' newest events are among the local ones.
	newestLocal := map[string]bool{}
	for _, e := range wantS[30:] {
		newestLocal[string(e.Key)] = true
	}
	if err != nil || ev != int64(len(wantS)-30) || ver != ev-int64(len(newestLocal)) {
		t.Fatalf("stream keeps %d events and %d versions locally (%v), want %d and %d", ev, ver, err, len(wantS)-30, len(wantS)-30-len(newestLocal))
	}

	check := func(what string) {
		t.Helper()
		if got := allEvents(t, l, kv); !slices.Equal(render(got), render(wantKV)) {
			t.Fatalf("%s: keyed events\n got %q\nwant %q", what, render(got), render(wantKV))
		}
		if got := allEvents(t, l, s); !slices.Equal(render(got), render(wantS)) {
			t.Fatalf("%s: stream events\n got %q\nwant %q", what, render(got), render(wantS))
		}
		if got := allHistories(t, l, kv); !slices.Equal(render(got), render(wantHist)) {
			t.Fatalf("%s: histories\n got %q\nwant %q", what, render(got), render(wantHist))
		}
		if got := keyHistory(t, l, kv, "k1", 2, 4); !slices.Equal(render(got), render(wantK1)) {
			t.Fatalf("%s: history of k1\n got %q\nwant %q", what, render(got), render(wantK1))
		}
		// A full scan by spans (the vectorized scans) sees every event.
		snap0 := l.Snapshot()
		td, _ := snap0.Catalog().Table(s)
		var rows []string
		for _, sp := range l.SplitRows(td, 4) {
			if err := snap0.ScanSpan(sp, func(_ uint32, v uint64, row []byte) error {
				rows = append(rows, fmt.Sprintf("v%d %q", v, row))
				return nil
			}); err != nil {
				t.Fatal(err)
			}
		}
		snap0.Release()
		var want []string
		for _, e := range wantS {
			want = append(want, fmt.Sprintf("v%d %q", e.Version, e.Row))
		}
		if !slices.Equal(rows, want) {
			t.Fatalf("%s: span scan\n got %q\nwant %q", what, rows, want)
		}
		// The tail after the floor reads Pebble only.
		reads := cold.reads
		snap := l.Snapshot()
		var n int
		err := snap.Events(s, floorS, func(*Event) error { n++; return nil })
		snap.Release()
		if err != nil || n != len(wantS)-30 || cold.reads != reads {
			t.Fatalf("%s: tail after the floor: %d events, %v, %d cold reads", what, n, err, cold.reads-reads)
		}
	}
	check("after tiering")

	// A multi-table tail (subscriptions) from before the floor is refused.
	snap = l.Snapshot()
	err = snap.Tail([]TableID{kv, s}, 0, func(*Event) error { return nil })
	snap.Release()
	var te *TierError
	if !errors.As(err, &te) || te.SQLState() != "55000" {
		t.Fatalf("tail from 0 over tiered tables: %v", err)
	}
	// A view's backfill from the stream is refused.
	snap = l.Snapshot()
	td, _ := snap.Catalog().Table(s)
	err = ScanEventsIn(l.db, td, 0, ^uint64(0), func(*Event) error { return nil })
	snap.Release()
	if !errors.As(err, &te) || te.SQLState() != "0A000" {
		t.Fatalf("backfill from a tiered stream: %v", err)
	}
	// Also with a descriptor from before the floor (a backfill that began
	// before tiering): the marker in the state says events are gone.
	stale := *td
	stale.TierFloor = 0
	err = ScanEventsIn(l.db, &stale, 0, ^uint64(0), func(*Event) error { return nil })
	if !errors.As(err, &te) || te.SQLState() != "0A000" {
		t.Fatalf("backfill from a tiered stream with a stale descriptor: %v", err)
	}

	// The floor and the deletion survive a restart; the floor never moves back.
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	l = openMem(t, fs)
	defer l.Close()
	snap = l.Snapshot()
	err = snap.Events(s, 0, func(*Event) error { return nil })
	snap.Release()
	if !errors.As(err, &te) || te.SQLState() != "55000" {
		t.Fatalf("tiered read without a cold reader: %v", err)
	}
	l.SetColdReader(cold)
	if err := l.RaiseTierFloors(ctx, map[TableID]uint64{s: 1}); err != nil {
		t.Fatal(err)
	}
	snap = l.Snapshot()
	if got := snap.TierFloor(s); got != floorS {
		t.Fatalf("floor after a lower raise: %d, want %d", got, floorS)
	}
	snap.Release()
	check("after a restart")
}

// failingCold is Iceberg out of reach.
type failingCold struct{}

func (failingCold) Events(*TableDesc, uint64, uint64, func(*Event) error) error {
	return errors.New("connection refused")
}

func (failingCold) History(*TableDesc, []byte, uint64, uint64, uint64, func(*Event) error) error {
	return errors.New("connection refused")
}

// TestTieredReadErrors: a cold store that fails is an io_error (58030) that
// says what was being read; a callback's own error comes back unchanged.
func TestTieredReadErrors(t *testing.T) {
	l := openMem(t, nil)
	defer l.Close()
	ctx := context.Background()
	s := createTable(t, l, "s", Stream)
	for i := range 5 {
		if _, err := put(t, l, s, "k", fmt.Sprintf("e%d", i), Cond{}); err != nil {
			t.Fatal(err)
		}
	}
	cold := &memCold{events: map[TableID][]*Event{s: allEvents(t, l, s)}}
	l.SetColdReader(cold)
	if err := l.RaiseTierFloors(ctx, map[TableID]uint64{s: cold.events[s][2].LSN}); err != nil {
		t.Fatal(err)
	}
	if _, err := l.DropTiered(ctx, s); err != nil {
		t.Fatal(err)
	}
	mine := errors.New("the callback's own error")
	snap := l.Snapshot()
	err := snap.Events(s, 0, func(*Event) error { return mine })
	snap.Release()
	if err != mine {
		t.Fatalf("a callback error from a tiered read came back as %v", err)
	}
	l.SetColdReader(failingCold{})
	snap = l.Snapshot()
	defer snap.Release()
	var te *TierError
	err = snap.Events(s, 0, func(*Event) error { return nil })
	if !errors.As(err, &te) || te.SQLState() != "58030" || !strings.Contains(err.Error(), "public.s") {
		t.Fatalf("tiered read with Iceberg out of reach: %v", err)
	}
	err = snap.History(s, []byte("k"), 1, 0, func(*Event) error { return nil })
	if !errors.As(err, &te) || te.SQLState() != "58030" {
		t.Fatalf("tiered history with Iceberg out of reach: %v", err)
	}
}
