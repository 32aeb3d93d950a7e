package log

import (
	"bytes"
	"context"
	"fmt"
	"testing"
)

// writeAndFlush gives table tab n keys with two versions each (heads,
// version entries and events), then flushes the memtable into L0 files.
func writeAndFlush(t *testing.T, l *Log, tab TableID, n int) {
	t.Helper()
	for i := 0; i < n; i++ {
		k := fmt.Sprintf("k%05d", i)
		if _, err := put(t, l, tab, k, "a", Cond{Kind: NotExists}); err != nil {
			t.Fatal(err)
		}
		if _, err := put(t, l, tab, k, "b", Cond{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := l.db.Flush(); err != nil {
		t.Fatal(err)
	}
}

// spanPrefix is the part of a key that names its namespace and, where the
// namespace is keyed by table, its table.
func spanPrefix(k []byte) []byte {
	if len(k) >= 5 && tableScoped(k[0]) {
		return k[:5]
	}
	return k[:1]
}

// TestFilesDoNotSpanTables: flushes and compactions end an output file at
// every namespace and table boundary, so no SSTable holds keys of two
// tables, or a table's heads and its events.
func TestFilesDoNotSpanTables(t *testing.T) {
	l := openMem(t, nil)
	defer l.Close()
	a := createTable(t, l, "a", Keyed)
	b := createTable(t, l, "b", Keyed)
	writeAndFlush(t, l, a, 200)
	writeAndFlush(t, l, b, 200)
	check := func(when string) {
		levels, err := l.db.SSTables()
		if err != nil {
			t.Fatal(err)
		}
		files := 0
		for lvl, infos := range levels {
			for _, f := range infos {
				files++
				lo, hi := f.Smallest.UserKey, f.Largest.UserKey
				if !bytes.Equal(spanPrefix(lo), spanPrefix(hi)) {
					t.Errorf("%s: L%d file %s spans %s .. %s", when, lvl, f.FileNum, describeKey(lo), describeKey(hi))
				}
			}
		}
		// meta, catalog, and heads, version entries and events of
		// two tables: at least eight files.
		if files < 8 {
			t.Errorf("%s: %d files, want at least 8", when, files)
		}
	}
	check("after flushes")
	if err := l.db.Compact(context.Background(), []byte{0}, []byte{0xff}, true); err != nil {
		t.Fatal(err)
	}
	check("after a full compaction")
}

// TestBulkIntoNewTableIngestsAtTheBottom: after ordinary writes to one table
// are flushed and compacted to the bottom level, a fresh chunk for a newer
// table overlaps no file's bounds and is ingested into the bottom level. A
// chunk that only overlaps the bounds of a bottom file (no data) cannot go
// into that level and lands above it, in L0 while the LSM is small, to be
// compacted down again with the file it overlapped.
func TestBulkIntoNewTableIngestsAtTheBottom(t *testing.T) {
	l := openMem(t, nil)
	defer l.Close()
	old := createTable(t, l, "old", Keyed)
	writeAndFlush(t, l, old, 300)
	if err := l.db.Compact(context.Background(), []byte{0}, []byte{0xff}, true); err != nil {
		t.Fatal(err)
	}
	fresh := createTable(t, l, "fresh", Keyed)
	before := l.db.Metrics().Levels
	if _, err := l.CommitBulk(context.Background(), bulkOf(fresh, span(1, 2*bulkIngestMin)...)); err != nil {
		t.Fatal(err)
	}
	after := l.db.Metrics().Levels
	var above, bottom uint64
	for lvl := range after {
		n := after[lvl].TablesIngested - before[lvl].TablesIngested
		if lvl == len(after)-1 {
			bottom += n
		} else {
			above += n
			if n > 0 {
				t.Errorf("%d ingested files went to L%d", n, lvl)
			}
		}
	}
	if bottom == 0 || above != 0 {
		t.Fatalf("ingested files: %d at the bottom, %d above it", bottom, above)
	}
	checkHeads(t, l, fresh, 1, span(1, 2*bulkIngestMin)...)
}
