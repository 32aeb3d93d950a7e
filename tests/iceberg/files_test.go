package iceberg_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/apache/iceberg-go/table"

	"github.com/strand-db/strand/iceberg"
	"github.com/strand-db/strand/tests/strandtest"
)

// TestMergeAndExpire compacts many small commits with aggressive merging
// and expiry, and checks after every pass that the stream, the keyed
// table's live rows and its change log are exactly what SELECT says (every
// event once), that small files were merged, and that the files of expired
// snapshots are gone from the warehouse; then a restarted compactor
// (which removes orphans first) carries on from the merged tables'
// watermarks without losing or repeating anything.
func TestMergeAndExpire(t *testing.T) {
	srv := strandtest.Start(t, "")
	c := srv.Connect(t)
	wh := t.TempDir()
	ctx := context.Background()
	opts := iceberg.Options{Warehouse: wh, MergeFiles: 3, SnapshotRetention: time.Nanosecond, KeepSnapshots: 1}
	newComp := func() *iceberg.Compactor {
		comp, err := iceberg.New(srv.Log, opts)
		if err != nil {
			t.Fatal(err)
		}
		return comp
	}
	comp := newComp()
	exec(t, c, `CREATE TABLE s (k bigint, v text) APPEND ONLY KEY (k)`,
		`CREATE TABLE kv (k bigint PRIMARY KEY, v text, n integer)`)
	s := table.Identifier{"public", "s"}
	kv := table.Identifier{"public", "kv"}
	changes := table.Identifier{"public", "kv" + iceberg.ChangesSuffix}
	events := 0
	check := func(round int) {
		t.Helper()
		what := fmt.Sprintf("round %d", round)
		equalRows(t, what+" stream", scanRows(t, comp, s, "k", "v", "_version"), selectRows(t, c, `SELECT k, v, _version FROM s`))
		equalRows(t, what+" keyed state", scanRows(t, comp, kv, "k", "v", "n", "_version"), selectRows(t, c, `SELECT k, v, n, _version FROM kv`))
		lsns := scanRows(t, comp, changes, "_lsn")
		if len(lsns) != events || len(slices.Compact(lsns)) != events {
			t.Fatalf("%s: change log has %d events (%d distinct), want %d", what, len(lsns), len(slices.Compact(lsns)), events)
		}
		// KeepSnapshots 1 and a retention of 1ns: only the current
		// snapshot is left, and the data folder holds its files only.
		for _, id := range []table.Identifier{s, kv, changes} {
			tbl, err := comp.Catalog().LoadTable(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			if n := len(tbl.Metadata().Snapshots()); n != 1 {
				t.Fatalf("%s %v: %d snapshots after expiry", what, id, n)
			}
			tasks, err := tbl.Scan().PlanFiles(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if n := countFiles(t, filepath.Join(wh, id[0], id[1], "data")); n != len(tasks) {
				t.Fatalf("%s %v: %d Parquet files on disk, %d in the snapshot", what, id, n, len(tasks))
			}
		}
	}
	const rounds = 12
	for round := 0; round < rounds; round++ {
		if round == rounds/2 {
			// A new process: orphan cleanup runs before its first write
			// and must leave every live file alone.
			comp = newComp()
		}
		for i := 0; i < 20; i++ {
			exec(t, c, fmt.Sprintf(`INSERT INTO s VALUES (%d, 'r%d-%d')`, i%7, round, i),
				fmt.Sprintf(`INSERT INTO kv VALUES (%d, 'r%d', %d) ON CONFLICT (k) DO UPDATE SET v = 'u%d', n = kv.n + 1`, i+round*5, round, i, round))
			events++
		}
		tag, err := c.Exec(ctx, fmt.Sprintf(`DELETE FROM kv WHERE k %% 11 = %d`, round%11))
		if err != nil {
			t.Fatal(err)
		}
		events += int(tag.RowsAffected())
		if err := comp.CompactOnce(ctx); err != nil {
			t.Fatal(err)
		}
		check(round)
	}
	// Twelve commits of tiny files, merged whenever three pile up: at
	// most two are left beside the merged one.
	for _, id := range []table.Identifier{s, changes} {
		tbl, err := comp.Catalog().LoadTable(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		tasks, err := tbl.Scan().PlanFiles(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(tasks) > 3 {
			t.Fatalf("%v: %d files after %d commits with merging", id, len(tasks), rounds)
		}
		if op := tbl.CurrentSnapshot().Summary; op == nil {
			t.Fatalf("%v: current snapshot without a summary", id)
		}
	}
	st := comp.Status()
	for _, x := range st {
		if x.LastError != "" || x.Watermark != srv.Log.Stats().DurableLSN {
			t.Fatalf("status %+v, durable lsn %d", x, srv.Log.Stats().DurableLSN)
		}
	}
}
