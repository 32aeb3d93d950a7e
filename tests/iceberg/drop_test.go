package iceberg_test

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/apache/iceberg-go/table"
	"github.com/jackc/pgx/v5"

	"github.com/strand-db/strand/iceberg"
	"github.com/strand-db/strand/sql/session"
	"github.com/strand-db/strand/tests/strandtest"
)

// TestDropDuringCompaction drops a table in the middle of a compaction pass,
// after the pass took its snapshot and before it reached the table: the pass
// stops converting the dropped table at its first full batch (it never
// reaches the point where files are committed), leaves no file and no status
// behind, returns no error, and still commits the other tables.
func TestDropDuringCompaction(t *testing.T) {
	srv := strandtest.Start(t, "")
	c := srv.Connect(t)
	drop := srv.Connect(t)
	ctx := context.Background()
	exec(t, c,
		`CREATE TABLE a_first (id bigint PRIMARY KEY, v text)`,
		`CREATE TABLE b_gone (id bigint PRIMARY KEY, v text)`,
		`INSERT INTO a_first SELECT i, 'a' || i FROM generate_series(1, 50) AS s(i)`,
		// More rows than one batch (BatchRows 300), so the scan hands
		// over a full batch before it ends.
		`INSERT INTO b_gone SELECT i, 'b' || i FROM generate_series(1, 2000) AS s(i)`)
	wh := t.TempDir()
	var (
		mu      sync.Mutex
		reached []string
		dropped bool
	)
	// Parallelism 1: tables one at a time, in catalog order, so a_first's
	// commits come before b_gone's scan.
	comp, err := iceberg.New(srv.Log, iceberg.Options{Warehouse: wh, FileRows: 1000, BatchRows: 300, Parallelism: 1,
		BeforeCommit: func(id table.Identifier, _ []string) error {
			mu.Lock()
			defer mu.Unlock()
			reached = append(reached, id[1])
			if !dropped {
				dropped = true
				if _, err := drop.Exec(context.Background(), `DROP TABLE b_gone`); err != nil {
					return fmt.Errorf("drop: %w", err)
				}
			}
			return nil
		}})
	if err != nil {
		t.Fatal(err)
	}
	if err := comp.CompactOnce(ctx); err != nil {
		t.Fatalf("pass with a dropped table: %v", err)
	}
	for _, name := range reached {
		if name == "b_gone" || name == "b_gone"+iceberg.ChangesSuffix {
			t.Errorf("the dropped table's files were written to the end (commit reached for %s)", name)
		}
	}
	for _, name := range []string{"b_gone", "b_gone" + iceberg.ChangesSuffix} {
		if n := countFiles(t, filepath.Join(wh, "public", name, "data")); n != 0 {
			t.Errorf("%s: %d data files left behind", name, n)
		}
	}
	var names []string
	for _, st := range comp.Status() {
		names = append(names, st.Name)
		if st.LastError != "" {
			t.Errorf("status of %s: %s", st.Name, st.LastError)
		}
	}
	if !slices.Equal(names, []string{"a_first"}) {
		t.Errorf("status lists %v, want a_first only", names)
	}
	equalRows(t, "a_first", scanRows(t, comp, table.Identifier{"public", "a_first"}, "id", "v"),
		selectRows(t, c, `SELECT id, v FROM a_first`))
}

// TestLoadIsConvertedAfterIt: a table that took a COPY chunk less than
// LoadQuiet ago is left for a later pass, while a table written by plain
// INSERTs in the same pass is converted; once the load has been quiet for
// LoadQuiet, the next pass converts it.
func TestLoadIsConvertedAfterIt(t *testing.T) {
	srv := strandtest.Start(t, "")
	c := srv.Connect(t)
	ctx := context.Background()
	exec(t, c,
		`CREATE TABLE loaded (id bigint PRIMARY KEY, v text)`,
		`CREATE TABLE plain (id bigint PRIMARY KEY, v text)`,
		`INSERT INTO plain SELECT i, 'p' || i FROM generate_series(1, 100) AS s(i)`)
	const quiet = 2 * time.Second
	comp, err := iceberg.New(srv.Log, iceberg.Options{Warehouse: t.TempDir(), LoadQuiet: quiet})
	if err != nil {
		t.Fatal(err)
	}
	rows := make([][]any, 5000)
	for i := range rows {
		rows[i] = []any{int64(i), fmt.Sprint("l", i)}
	}
	if _, err := c.CopyFrom(ctx, pgx.Identifier{"loaded"}, []string{"id", "v"}, pgx.CopyFromRows(rows)); err != nil {
		t.Fatal(err)
	}
	copied := time.Now()
	if err := comp.CompactOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if time.Since(copied) < quiet {
		// Only meaningful while the load is still recent.
		st := statusByName(t, comp)
		if st["plain"].Rows != 100 {
			t.Errorf("plain: %d rows in Iceberg after the first pass, want 100", st["plain"].Rows)
		}
		if st["loaded"].Rows != 0 || st["loaded"].Watermark >= st["loaded"].DurableLSN {
			t.Errorf("loaded: converted in the pass right after its COPY: %+v", st["loaded"])
		}
	}
	time.Sleep(quiet - time.Since(copied) + 50*time.Millisecond)
	if err := comp.CompactOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if st := statusByName(t, comp)["loaded"]; st.Rows != 5000 || st.Watermark != st.DurableLSN {
		t.Fatalf("loaded: after the quiet time, %+v, want 5000 rows up to the durable LSN", st)
	}
	equalRows(t, "loaded", scanRows(t, comp, table.Identifier{"public", "loaded"}, "id", "v"),
		selectRows(t, c, `SELECT id, v FROM loaded`))
}

// TestStatusOfARecreatedTable: after DROP TABLE and CREATE TABLE of the same
// name, the compaction status does not show the dropped table's figures
// (caught up, its row count) for the new table until a pass has reached it.
func TestStatusOfARecreatedTable(t *testing.T) {
	srv := strandtest.Start(t, "")
	c := srv.Connect(t)
	ctx := context.Background()
	comp, err := iceberg.New(srv.Log, iceberg.Options{Warehouse: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	exec(t, c, `CREATE TABLE t (id bigint PRIMARY KEY, v text)`,
		`INSERT INTO t SELECT i, 'old' FROM generate_series(1, 300) AS s(i)`)
	if err := comp.CompactOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if st, ok := statusByName(t, comp)["t"]; !ok || st.Rows != 300 || st.LagRows != 0 {
		t.Fatalf("status after the first pass: %+v (listed %v)", st, ok)
	}
	exec(t, c, `DROP TABLE t`, `CREATE TABLE t (id bigint PRIMARY KEY, v text)`,
		`INSERT INTO t SELECT i, 'new' FROM generate_series(1, 50) AS s(i)`)
	if st, ok := statusByName(t, comp)["t"]; ok {
		t.Fatalf("the new t is listed before any pass reached it, with the dropped table's figures: %+v", st)
	}
	if err := comp.CompactOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if st := statusByName(t, comp)["t"]; st.Rows != 50 || st.LagRows != 0 {
		t.Fatalf("status of the new t after a pass: %+v", st)
	}
}

// TestLiveLagRows: pg_catalog.strand_iceberg_tables counts, in lag_rows,
// the events committed since the compactor's last pass as well as those
// it left behind: a table the last pass found caught up is behind as soon
// as it is written again.
func TestLiveLagRows(t *testing.T) {
	srv := strandtest.Start(t, "")
	comp, err := iceberg.New(srv.Log, iceberg.Options{Warehouse: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	srv.Engine.IcebergStatus = func() []session.IcebergTableStatus {
		var out []session.IcebergTableStatus
		for _, st := range comp.Status() {
			out = append(out, session.IcebergTableStatus{Schema: st.Schema, Name: st.Name, Watermark: st.Watermark,
				LagRows: st.LagRows, Lag: st.Lag, DurableLSN: st.DurableLSN})
		}
		return out
	}
	c := srv.Connect(t)
	ctx := context.Background()
	lagRows := func() int64 {
		var n *int64
		if err := c.QueryRow(ctx, `SELECT lag_rows FROM pg_catalog.strand_iceberg_tables WHERE name = 't'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == nil {
			return -1
		}
		return *n
	}
	exec(t, c, `CREATE TABLE t (id bigint PRIMARY KEY, v text)`,
		`INSERT INTO t SELECT i, 'a' FROM generate_series(1, 10) AS s(i)`)
	if n := lagRows(); n != -1 {
		t.Fatalf("lag_rows before any pass = %d, want NULL", n)
	}
	if err := comp.CompactOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if n := lagRows(); n != 0 {
		t.Fatalf("lag_rows after a pass = %d, want 0", n)
	}
	exec(t, c, `INSERT INTO t SELECT i, 'b' FROM generate_series(11, 30) AS s(i)`,
		`UPDATE t SET v = 'c' WHERE id <= 5`)
	if n := lagRows(); n != 25 {
		t.Fatalf("lag_rows after 25 more events, with no pass = %d, want 25", n)
	}
	if err := comp.CompactOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if n := lagRows(); n != 0 {
		t.Fatalf("lag_rows after the second pass = %d, want 0", n)
	}
}

// statusByName is the compactor's status by table name; a table with an
// error fails the test.
func statusByName(t *testing.T, comp *iceberg.Compactor) map[string]iceberg.TableStatus {
	t.Helper()
	out := map[string]iceberg.TableStatus{}
	for _, st := range comp.Status() {
		if st.LastError != "" {
			t.Fatalf("status of %s: %s", st.Name, st.LastError)
		}
		out[st.Name] = st
	}
	return out
}
