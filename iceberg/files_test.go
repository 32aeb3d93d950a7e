package iceberg

import (
	"cmp"
	"context"
	"encoding/binary"
	"slices"
	"testing"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go/table"

	"github.com/strand-db/strand/log"
)

// TestSplitScan compacts a range large enough for scanEvents to split it
// between two scanners, for a stream and for a keyed table's change log,
// with another table's events interleaved (so the table's LSNs have gaps)
// and a second pass that starts mid-log: every event lands exactly once,
// with its values, and the files cover disjoint LSN ranges.
func TestSplitScan(t *testing.T) {
	for _, kind := range []log.TableKind{log.Stream, log.Keyed} {
		t.Run(kind.String(), func(t *testing.T) {
			l, id := narrowLog(t, kind)
			other := addNarrowTable(t, l, "other")
			c, err := New(l, Options{Warehouse: t.TempDir(), Logger: quiet, BatchRows: 1000, Parallelism: 2})
			if err != nil {
				t.Fatal(err)
			}
			const keys = 3000
			written := 0
			for pass := 0; pass < 2; pass++ {
				for i := 0; i < 6; i++ {
					writeNarrow(t, l, id, written, 4000, keys)
					writeNarrow(t, l, other, written, 1000, keys)
					written += 4000
				}
				if err := c.CompactOnce(context.Background()); err != nil {
					t.Fatal(err)
				}
			}
			name := "narrow"
			if kind == log.Keyed {
				state, err := c.Catalog().LoadTable(context.Background(), table.Identifier{"public", name})
				if err != nil {
					t.Fatal(err)
				}
				checkOnce(t, state, keys)
				name += ChangesSuffix
			}
			tbl, err := c.Catalog().LoadTable(context.Background(), table.Identifier{"public", name})
			if err != nil {
				t.Fatal(err)
			}
			checkOnce(t, tbl, written)
			checkValues(t, tbl, written)
			checkDisjointFiles(t, tbl)
		})
	}
}

// addNarrowTable adds a stream with narrowLog's columns.
func addNarrowTable(t *testing.T, l *log.Log, name string) log.TableID {
	t.Helper()
	td := *l.Catalog().SortedTables()[0]
	var id log.TableID
	_, err := l.Commit(context.Background(), &log.Intent{Catalog: func(c *log.Catalog) error {
		nt := &log.TableDesc{Schema: td.Schema, Name: name, Kind: log.Stream, Versions: td.Versions, NextColID: td.NextColID}
		if err := c.AddTable(nt); err != nil {
			return err
		}
		id = nt.ID
		return nil
	}})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

// checkValues checks that the n column holds 0..want-1, each once (what
// writeNarrow wrote).
func checkValues(t *testing.T, tbl *table.Table, want int) {
	t.Helper()
	at, err := tbl.Scan(table.WithSelectedFields("n")).ToArrowTable(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer at.Release()
	var got []int64
	tr := array.NewTableReader(at, 1<<16)
	defer tr.Release()
	for tr.Next() {
		got = append(got, tr.RecordBatch().Column(0).(*array.Int64).Int64Values()...)
	}
	slices.Sort(got)
	if len(got) != want {
		t.Fatalf("%d values of n, want %d", len(got), want)
	}
	for i, v := range got {
		if v != int64(i) {
			t.Fatalf("n: sorted value %d is %d", i, v)
		}
	}
}

// checkDisjointFiles checks that the table has more than one data file
// per commit (the scan was split) and that no two files' _lsn ranges
// overlap.
func checkDisjointFiles(t *testing.T, tbl *table.Table) {
	t.Helper()
	tasks, err := tbl.Scan().PlanFiles(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(tasks) < 4 {
		t.Fatalf("%d data files after two passes: the scans were not split", len(tasks))
	}
	type span struct{ lo, hi int64 }
	var spans []span
	for _, task := range tasks {
		lo, ok1 := task.File.LowerBoundValues()[lsnField.ID]
		hi, ok2 := task.File.UpperBoundValues()[lsnField.ID]
		if !ok1 || !ok2 || len(lo) != 8 || len(hi) != 8 {
			t.Fatalf("%s has no _lsn bounds", task.File.FilePath())
		}
		spans = append(spans, span{int64(binary.LittleEndian.Uint64(lo)), int64(binary.LittleEndian.Uint64(hi))})
	}
	slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.lo, b.lo) })
	for i := 1; i < len(spans); i++ {
		if spans[i].lo <= spans[i-1].hi {
			t.Fatalf("files overlap in _lsn: %v and %v", spans[i-1], spans[i])
		}
	}
}

// TestLSNSplit checks that the chunks handed out from both ends of a range
// cover it exactly, whichever end claims next.
func TestLSNSplit(t *testing.T) {
	for _, r := range []struct{ lo, hi uint64 }{{0, 1}, {5, 4101}, {100, 100 + 64*splitChunkLSNs + 17}, {7, 1_000_007}} {
		sp := newLSNSplit(r.lo, r.hi)
		var fronts, backs [][2]uint64
		for i := 0; ; i++ {
			claim, dst := sp.front, &fronts
			if i%3 == 2 {
				claim, dst = sp.back, &backs
			}
			after, upTo, ok := claim()
			if !ok {
				break
			}
			if upTo <= after || upTo-after > sp.chunk {
				t.Fatalf("%v: chunk (%d, %d] of chunk size %d", r, after, upTo, sp.chunk)
			}
			*dst = append(*dst, [2]uint64{after, upTo})
		}
		slices.Reverse(backs)
		at := r.lo
		for _, c := range append(fronts, backs...) {
			if c[0] != at {
				t.Fatalf("%v: chunk (%d, %d] does not start at %d", r, c[0], c[1], at)
			}
			at = c[1]
		}
		if at != r.hi {
			t.Fatalf("%v: chunks end at %d", r, at)
		}
	}
}
