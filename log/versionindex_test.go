package log

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// The version index holds every version but each key's newest: a first
// write of a key adds no entry, and each later write indexes the version it
// supersedes. History still returns every version, in order.
func TestVersionIndexLeavesOutNewest(t *testing.T) {
	l := openMem(t, vfs.NewMem())
	ctx := context.Background()
	kv := createTable(t, l, "kv", Keyed)
	for i := range 5 {
		if _, err := put(t, l, kv, fmt.Sprintf("k%d", i), "r", Cond{}); err != nil {
			t.Fatal(err)
		}
	}
	snap := l.Snapshot()
	ev, ver, err := snap.LocalEvents(kv)
	snap.Release()
	if err != nil || ev != 5 || ver != 0 {
		t.Fatalf("after 5 new keys: %d events, %d version entries (%v), want 5 and 0", ev, ver, err)
	}
	// Two updates of k1 in one transaction and one delete of k2.
	if _, err := l.Commit(ctx, &Intent{Writes: []Write{
		{Table: kv, Key: []byte("k1"), Row: []byte("r2")},
		{Table: kv, Key: []byte("k1"), Row: []byte("r3")},
		{Table: kv, Key: []byte("k2"), Delete: true},
	}}); err != nil {
		t.Fatal(err)
	}
	snap = l.Snapshot()
	ev, ver, err = snap.LocalEvents(kv)
	snap.Release()
	if err != nil || ev != 8 || ver != 3 {
		t.Fatalf("after 3 more writes: %d events, %d version entries (%v), want 8 and 3", ev, ver, err)
	}
	want := []string{`k1 v1 lsn2 insert "r"`, `k1 v2 lsn6 update "r2"`, `k1 v3 lsn7 update "r3"`}
	if got := render(keyHistory(t, l, kv, "k1", 0, 0)); !slices.Equal(got, want) {
		t.Fatalf("history of k1\n got %q\nwant %q", got, want)
	}
	if got := render(keyHistory(t, l, kv, "k1", 3, 3)); !slices.Equal(got, want[2:]) {
		t.Fatalf("history of k1 version 3: %q", got)
	}
	if got := render(keyHistory(t, l, kv, "k1", 1, 2)); !slices.Equal(got, want[:2]) {
		t.Fatalf("history of k1 versions 1..2: %q", got)
	}
	if got := keyHistory(t, l, kv, "k2", 0, 0); len(got) != 2 || got[1].Op != OpDelete {
		t.Fatalf("history of deleted k2: %q", render(got))
	}
	if got := keyHistory(t, l, kv, "nope", 0, 0); len(got) != 0 {
		t.Fatalf("history of a key never written: %q", render(got))
	}

	// A data directory written before the rule indexes the newest version
	// too: History reports it once.
	if err := l.db.Set(versionKey(nil, kv, []byte("k1"), 3), encodeVersionValue(nil, 7), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if err := l.db.Set(versionKey(nil, kv, []byte("k0"), 1), encodeVersionValue(nil, 1), pebble.Sync); err != nil {
		t.Fatal(err)
	}
	if _, err := put(t, l, kv, "k4", "r2", Cond{}); err != nil { // publishes a snapshot with the entries
		t.Fatal(err)
	}
	if got := render(keyHistory(t, l, kv, "k1", 0, 0)); !slices.Equal(got, want) {
		t.Fatalf("history of k1 with the old layout\n got %q\nwant %q", got, want)
	}
	if got := render(allHistories(t, l, kv)); len(got) != 9 || !slices.Equal(got[1:4], want) {
		t.Fatalf("all histories with the old layout: %q", got)
	}
}

// A key whose newest version was tiered out of Pebble, then updated: the
// update indexes the dropped version, and History reads it from the cold
// copy rather than calling the missing event corruption.
func TestUpdateAfterTieringTheNewestVersion(t *testing.T) {
	l := openMem(t, vfs.NewMem())
	ctx := context.Background()
	kv := createTable(t, l, "kv", Keyed)
	for i := range 4 {
		if _, err := put(t, l, kv, fmt.Sprintf("k%d", i%2), fmt.Sprintf("r%d", i), Cond{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := put(t, l, kv, "other", "x", Cond{}); err != nil {
		t.Fatal(err)
	}
	all := allEvents(t, l, kv)
	cold := &memCold{events: map[TableID][]*Event{kv: all}}
	l.SetColdReader(cold)
	// Tier every event of k0 and k1, including their newest versions.
	floor := all[3].LSN
	if err := l.RaiseTierFloors(ctx, map[TableID]uint64{kv: floor}); err != nil {
		t.Fatal(err)
	}
	if n, err := l.DropTiered(ctx, kv); err != nil || n != 4 {
		t.Fatalf("drop tiered: %d events, %v", n, err)
	}
	if _, err := put(t, l, kv, "k0", "new", Cond{}); err != nil {
		t.Fatal(err)
	}
	want := []string{`k0 v1 lsn1 insert "r0"`, `k0 v2 lsn3 update "r2"`, `k0 v3 lsn6 update "new"`}
	if got := render(keyHistory(t, l, kv, "k0", 0, 0)); !slices.Equal(got, want) {
		t.Fatalf("history of k0\n got %q\nwant %q", got, want)
	}
	if got := render(keyHistory(t, l, kv, "k0", 3, 0)); !slices.Equal(got, want[2:]) {
		t.Fatalf("history of k0 from version 3: %q", got)
	}
	var k0 []string
	for _, e := range allHistories(t, l, kv) {
		if string(e.Key) == "k0" {
			k0 = append(k0, render([]*Event{e})...)
		}
	}
	if !slices.Equal(k0, want) {
		t.Fatalf("histories, k0\n got %q\nwant %q", k0, want)
	}
}
