package iceberg

import (
	"context"
	"testing"

	"github.com/apache/iceberg-go/table"

	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql/types"
)

// TestColdReadAfterMerges: a stream compacted (and tiered) pass by pass,
// whose small files are merged as they pile up, reads back from Iceberg
// as exactly the events written, in LSN order, whichever files hold them.
func TestColdReadAfterMerges(t *testing.T) {
	ctx := context.Background()
	l, id := narrowLog(t, log.Stream)
	c, err := New(l, Options{Warehouse: t.TempDir(), Logger: quiet, MergeFiles: 2, Tiering: Tiering{On: true}})
	if err != nil {
		t.Fatal(err)
	}
	l.SetColdReader(c.ColdReader())
	const passes, perPass, keys = 12, 250, 7
	for p := range passes {
		writeNarrow(t, l, id, p*perPass, perPass, keys)
		if err := c.CompactOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	// The merges rewrote the early files: the table holds fewer files
	// than commits.
	tbl, err := c.Catalog().LoadTable(ctx, table.Identifier{"public", "narrow"})
	if err != nil {
		t.Fatal(err)
	}
	files, err := dataFiles(ctx, tbl)
	if err != nil || len(files) >= passes {
		t.Fatalf("%d files after %d commits with merging (%v)", len(files), passes, err)
	}
	snap := l.Snapshot()
	defer snap.Release()
	if ev, ver, err := snap.LocalEvents(id); err != nil || ev != 0 || ver != 0 {
		t.Fatalf("%d events, %d versions still local (%v)", ev, ver, err)
	}
	cols := []types.T{types.Make(types.Int8OID), types.Make(types.Int8OID), types.Make(types.TextOID)}
	i := 0
	var lastLSN uint64
	versions := map[int64]uint64{}
	err = snap.Events(id, 0, func(e *log.Event) error {
		vals, err := types.DecodeRow(cols, e.Row)
		if err != nil {
			return err
		}
		k := int64(i % keys)
		versions[k]++
		if e.LSN <= lastLSN || vals[0] != k || vals[1] != int64(i) || e.Version != versions[k] || e.Op != log.OpAppend {
			t.Fatalf("event %d: lsn %d after %d, version %d, row %v", i, e.LSN, lastLSN, e.Version, vals)
		}
		lastLSN = e.LSN
		i++
		return nil
	})
	if err != nil || i != passes*perPass {
		t.Fatalf("read %d events back, want %d: %v", i, passes*perPass, err)
	}
}
