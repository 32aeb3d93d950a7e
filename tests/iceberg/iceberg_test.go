// Package iceberg_test checks the Iceberg compaction end to end: rows
// written through SQL, compacted, and read back with iceberg-go's own scan
// must equal what SELECT returns.
package iceberg_test

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/catalog/rest"
	"github.com/apache/iceberg-go/table"
	"github.com/jackc/pgx/v5"

	"github.com/strand-db/strand/iceberg"
	"github.com/strand-db/strand/tests/strandtest"
)

func exec(t *testing.T, c *pgx.Conn, sqls ...string) {
	t.Helper()
	for _, s := range sqls {
		if _, err := c.Exec(context.Background(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func newCompactor(t *testing.T, srv *strandtest.Server, warehouse string, hook func(table.Identifier, []string) error) *iceberg.Compactor {
	t.Helper()
	c, err := iceberg.New(srv.Log, iceberg.Options{Warehouse: warehouse, BeforeCommit: hook, FileRows: 1000, BatchRows: 300})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// selectRows runs q on Strand and returns its rows sorted, as text.
func selectRows(t *testing.T, c *pgx.Conn, q string) []string {
	return strandtest.SortedRows(t, c, q)
}

// scanRows reads an Iceberg table with iceberg-go and renders the named
// columns as PostgreSQL would print them, sorted.
func scanRows(t *testing.T, comp *iceberg.Compactor, ident table.Identifier, cols ...string) []string {
	t.Helper()
	ctx := context.Background()
	tbl, err := comp.Catalog().LoadTable(ctx, ident)
	if err != nil {
		t.Fatal(err)
	}
	at, err := tbl.Scan().ToArrowTable(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer at.Release()
	return arrowRows(t, at, cols)
}

// pgText renders one Arrow value in PostgreSQL's text output (UTC, ISO).
func pgText(col arrow.Array, i int) string {
	if col.IsNull(i) {
		return "NULL"
	}
	switch a := col.(type) {
	case *array.Int32:
		return fmt.Sprint(a.Value(i))
	case *array.Int64:
		return fmt.Sprint(a.Value(i))
	case *array.String:
		return a.Value(i)
	case *array.LargeString:
		return a.Value(i)
	case *array.Boolean:
		if a.Value(i) {
			return "t"
		}
		return "f"
	case *array.Decimal128:
		return a.Value(i).ToString(a.DataType().(*arrow.Decimal128Type).Scale)
	case *array.Timestamp:
		if a.Value(i) == math.MaxInt64 {
			return "infinity"
		}
		tm := time.UnixMicro(int64(a.Value(i))).UTC()
		if a.DataType().(*arrow.TimestampType).TimeZone != "" {
			return tm.Format("2006-01-02 15:04:05.999999") + "+00"
		}
		return tm.Format("2006-01-02 15:04:05.999999")
	case *array.Time64:
		return a.Value(i).ToTime(arrow.Microsecond).Format("15:04:05.999999")
	case *array.Binary:
		return fmt.Sprint(a.Value(i))
	case *array.Float32, *array.Float64:
		return col.ValueStr(i)
	case *array.Date32:
		return a.Value(i).ToTime().Format("2006-01-02")
	case *array.List:
		start, end := a.ValueOffsets(i)
		vals := a.ListValues()
		var parts []string
		for j := int(start); j < int(end); j++ {
			parts = append(parts, pgText(vals, j))
		}
		return "{" + strings.Join(parts, ",") + "}"
	}
	return col.ValueStr(i)
}

func equalRows(t *testing.T, what string, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("%s: Iceberg has %d rows, SELECT %d\niceberg: %q\nselect:  %q", what, len(got), len(want), got, want)
	}
}

// TestStreamMatchesSelect writes a stream through SQL in several rounds,
// compacting between them, and compares the Iceberg table with SELECT.
func TestStreamMatchesSelect(t *testing.T) {
	srv := strandtest.Start(t, "")
	c := srv.Connect(t)
	wh := t.TempDir()
	comp := newCompactor(t, srv, wh, nil)
	ctx := context.Background()
	exec(t, c, `SET TimeZone = 'UTC'`,
		`CREATE TABLE ev (acct bigint, kind text, amount numeric(12,2), ok boolean, at timestamptz, day date, n integer, tags text[]) APPEND ONLY KEY (acct)`)
	const q = `SELECT acct, kind, amount, ok, at, day, n, tags, _version FROM ev`
	cols := []string{"acct", "kind", "amount", "ok", "at", "day", "n", "tags", "_version"}
	for round := 0; round < 3; round++ {
		for i := 0; i < 700; i++ {
			exec(t, c, fmt.Sprintf(`INSERT INTO ev (acct, kind, amount, ok, at, day, n, tags) VALUES (%d, %s, %d.%02d, %v, '2024-01-%02d 10:00:%02d.123456+00', '2023-12-%02d', %d, ARRAY['a%d', NULL])`,
				i%17, nullable(i%5 == 0, fmt.Sprintf("'k%d'", i)), round*1000+i, i%100, i%2 == 0, i%28+1, i%60, i%28+1, -i, i))
		}
		if err := comp.CompactOnce(ctx); err != nil {
			t.Fatal(err)
		}
		equalRows(t, fmt.Sprintf("round %d", round), scanRows(t, comp, table.Identifier{"public", "ev"}, cols...), selectRows(t, c, q))
	}
	st := comp.Status()
	if len(st) != 1 || st[0].Rows != 2100 || st[0].LastError != "" || st[0].Files < 3 {
		t.Fatalf("status: %+v", st)
	}
	// _lsn is strictly increasing per key and every event is there once.
	lsns := scanRows(t, comp, table.Identifier{"public", "ev"}, "_lsn")
	if len(slices.Compact(lsns)) != 2100 {
		t.Fatalf("duplicate _lsn values")
	}
	// Nothing new: no new snapshot.
	tbl, _ := comp.Catalog().LoadTable(ctx, table.Identifier{"public", "ev"})
	before := tbl.CurrentSnapshot().SnapshotID
	if err := comp.CompactOnce(ctx); err != nil {
		t.Fatal(err)
	}
	tbl, _ = comp.Catalog().LoadTable(ctx, table.Identifier{"public", "ev"})
	if tbl.CurrentSnapshot().SnapshotID != before {
		t.Fatal("a pass with no new events committed a snapshot")
	}
}

func nullable(null bool, v string) string {
	if null {
		return "NULL"
	}
	return v
}

// TestKeyedTable checks a keyed table's two Iceberg tables: the current
// state equals SELECT, and the change log has every version once, in
// order, and replays to that same state.
func TestKeyedTable(t *testing.T) {
	srv := strandtest.Start(t, "")
	c := srv.Connect(t)
	comp := newCompactor(t, srv, t.TempDir(), nil)
	ctx := context.Background()
	exec(t, c, `CREATE TABLE accounts (id bigint PRIMARY KEY, owner text, balance numeric(12,2))`)
	state := table.Identifier{"public", "accounts"}
	changes := table.Identifier{"public", "accounts" + iceberg.ChangesSuffix}
	const q = `SELECT id, owner, balance, _version FROM accounts`
	cols := []string{"id", "owner", "balance", "_version"}
	events, deletes := 0, 0
	for round := 0; round < 3; round++ {
		for i := 0; i < 200; i++ {
			exec(t, c, fmt.Sprintf(`INSERT INTO accounts VALUES (%d, 'o%d', %d.50) ON CONFLICT (id) DO UPDATE SET balance = accounts.balance + 1`, round*100+i, i, i))
			events++
		}
		tag, err := c.Exec(ctx, fmt.Sprintf(`DELETE FROM accounts WHERE id %% 7 = %d`, round))
		if err != nil {
			t.Fatal(err)
		}
		events += int(tag.RowsAffected())
		deletes += int(tag.RowsAffected())
		if err := comp.CompactOnce(ctx); err != nil {
			t.Fatal(err)
		}
		want := selectRows(t, c, q)
		equalRows(t, fmt.Sprintf("state round %d", round), scanRows(t, comp, state, cols...), want)

		// Replay the change log: the last version of each key, unless deleted.
		log := scanRows(t, comp, changes, "id", "_version", "_op", "owner", "balance")
		if len(log) != events {
			t.Fatalf("round %d: change log has %d events, want %d", round, len(log), events)
		}
		type ev struct {
			version int
			op, row string
		}
		last := map[string]ev{}
		ndel := 0
		for _, l := range log {
			f := strings.Split(l, "|")
			var v int
			fmt.Sscan(f[1], &v)
			if prev, ok := last[f[0]]; ok && v != prev.version+1 || !ok && v != 1 {
				t.Fatalf("key %s: version %d after %+v", f[0], v, prev)
			}
			if f[2] == "delete" {
				ndel++
				if f[3] != "NULL" || f[4] != "NULL" {
					t.Fatalf("delete event carries a row: %s", l)
				}
			}
			last[f[0]] = ev{v, f[2], f[0] + "|" + f[3] + "|" + f[4] + "|" + f[1]}
		}
		if ndel != deletes {
			t.Fatalf("change log has %d deletes, want %d", ndel, deletes)
		}
		var replay []string
		for _, e := range last {
			if e.op != "delete" {
				replay = append(replay, e.row)
			}
		}
		slices.Sort(replay)
		equalRows(t, fmt.Sprintf("replayed change log round %d", round), replay, want)
	}
	st := comp.Status()
	if len(st) != 1 || st[0].LastError != "" || st[0].Watermark != srv.Log.Stats().DurableLSN {
		t.Fatalf("status %+v, durable lsn %d", st, srv.Log.Stats().DurableLSN)
	}
}

// countFiles counts the Parquet files under a table's data folder.
func countFiles(t *testing.T, dir string) int {
	t.Helper()
	n := 0
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		if strings.HasSuffix(p, ".parquet") {
			n++
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestCrashBetweenUploadAndCommit fails compaction after the Parquet files
// are written and before the catalog commit, as a crash there would, then
// restarts the compactor: nothing is lost, nothing is duplicated, and the
// orphaned files are gone.
func TestCrashBetweenUploadAndCommit(t *testing.T) {
	srv := strandtest.Start(t, "")
	c := srv.Connect(t)
	wh := t.TempDir()
	ctx := context.Background()
	exec(t, c, `CREATE TABLE s (k integer, v text) APPEND ONLY KEY (k)`,
		`CREATE TABLE kv (k integer PRIMARY KEY, v text)`)
	insert := func(from, to int) {
		for i := from; i < to; i++ {
			exec(t, c, fmt.Sprintf(`INSERT INTO s VALUES (%d, 'v%d')`, i%10, i),
				fmt.Sprintf(`INSERT INTO kv VALUES (%d, 'v%d') ON CONFLICT (k) DO UPDATE SET v = 'u%d'`, i%50, i, i))
		}
	}
	insert(0, 500)

	// Crash 1: before the first commit of every table.
	crash := errors.New("injected crash")
	var orphans []string
	comp := newCompactor(t, srv, wh, func(id table.Identifier, files []string) error {
		orphans = append(orphans, files...)
		return crash
	})
	if err := comp.CompactOnce(ctx); !errors.Is(err, crash) {
		t.Fatalf("compaction with an injected crash: %v", err)
	}
	if len(orphans) == 0 {
		t.Fatal("no files were written before the crash")
	}
	for _, f := range orphans {
		if _, err := os.Stat(localPath(f)); err != nil {
			t.Fatalf("orphan %s: %v", f, err)
		}
	}
	if st := comp.Status(); st[0].LastError == "" {
		t.Fatalf("status does not show the error: %+v", st)
	}

	// Crash 2: a new process; more writes; the change log of kv commits,
	// then the crash hits before its state table commits.
	insert(500, 800)
	comp = newCompactor(t, srv, wh, func(id table.Identifier, files []string) error {
		if id[1] == "kv" {
			orphans = append(orphans, files...)
			return crash
		}
		return nil
	})
	if err := comp.CompactOnce(ctx); !errors.Is(err, crash) {
		t.Fatalf("compaction with an injected crash: %v", err)
	}

	// Restart with no faults: everything is there once, orphans are gone.
	insert(800, 900)
	comp = newCompactor(t, srv, wh, nil)
	if err := comp.CompactOnce(ctx); err != nil {
		t.Fatal(err)
	}
	equalRows(t, "stream", scanRows(t, comp, table.Identifier{"public", "s"}, "k", "v", "_version"),
		selectRows(t, c, `SELECT k, v, _version FROM s`))
	equalRows(t, "keyed state", scanRows(t, comp, table.Identifier{"public", "kv"}, "k", "v", "_version"),
		selectRows(t, c, `SELECT k, v, _version FROM kv`))
	if got := len(scanRows(t, comp, table.Identifier{"public", "kv" + iceberg.ChangesSuffix}, "_lsn")); got != 900 {
		t.Fatalf("change log has %d events, want 900", got)
	}
	for _, f := range orphans {
		if _, err := os.Stat(localPath(f)); !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("orphan %s still there (%v)", f, err)
		}
	}
	for _, name := range []string{"s", "kv", "kv" + iceberg.ChangesSuffix} {
		tbl, err := comp.Catalog().LoadTable(ctx, table.Identifier{"public", name})
		if err != nil {
			t.Fatal(err)
		}
		tasks, err := tbl.Scan().PlanFiles(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n := countFiles(t, filepath.Join(wh, "public", name, "data")); n != len(tasks) {
			t.Fatalf("%s: %d Parquet files on disk, %d in the snapshot", name, n, len(tasks))
		}
	}

	// A crash right after a commit: the next process reads the watermark
	// back and has nothing to write.
	comp = newCompactor(t, srv, wh, func(id table.Identifier, files []string) error {
		t.Errorf("nothing new, yet %v was about to commit %v", id, files)
		return nil
	})
	if err := comp.CompactOnce(ctx); err != nil {
		t.Fatal(err)
	}
}

// TestSchemaEvolution follows ALTER TABLE: Iceberg field ids are Strand's
// column IDs, rows written before ADD COLUMN read with nulls, a renamed
// column keeps its data, a dropped one disappears.
func TestSchemaEvolution(t *testing.T) {
	srv := strandtest.Start(t, "")
	c := srv.Connect(t)
	comp := newCompactor(t, srv, t.TempDir(), nil)
	ctx := context.Background()
	compact := func() {
		t.Helper()
		if err := comp.CompactOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	ident := table.Identifier{"public", "s"}
	exec(t, c, `CREATE TABLE s (k bigint, v text, gone integer) APPEND ONLY KEY (k)`,
		`INSERT INTO s VALUES (1, 'a', 10), (2, 'b', 20)`)
	compact()
	exec(t, c, `ALTER TABLE s ADD COLUMN note text`,
		`INSERT INTO s VALUES (3, 'c', 30, 'n3'), (1, 'd', 40, NULL)`)
	compact()
	equalRows(t, "after ADD COLUMN", scanRows(t, comp, ident, "k", "v", "gone", "note", "_version"),
		selectRows(t, c, `SELECT k, v, gone, note, _version FROM s`))
	exec(t, c, `ALTER TABLE s RENAME COLUMN v TO val`, `ALTER TABLE s DROP COLUMN gone`,
		`INSERT INTO s VALUES (4, 'e', 'n4')`)
	compact()
	equalRows(t, "after RENAME and DROP", scanRows(t, comp, ident, "k", "val", "note", "_version"),
		selectRows(t, c, `SELECT k, val, note, _version FROM s`))
	tbl, err := comp.Catalog().LoadTable(ctx, ident)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, f := range tbl.Schema().Fields() {
		got = append(got, fmt.Sprintf("%d:%s", f.ID, f.Name))
	}
	want := []string{"1073741826:_version", "1073741827:_lsn", "1073741828:_commit_time", "1:k", "2:val", "4:note"}
	if !slices.Equal(got, want) {
		t.Fatalf("Iceberg fields %v, want %v", got, want)
	}
}

func localPath(p string) string { return strings.TrimPrefix(p, "file://") }

// TestRESTCatalog serves the warehouse through the Iceberg REST catalog
// endpoint and reads it with iceberg-go's REST client, as Spark or
// pyiceberg would.
func TestRESTCatalog(t *testing.T) {
	srv := strandtest.Start(t, "")
	c := srv.Connect(t)
	comp := newCompactor(t, srv, t.TempDir(), nil)
	ctx := context.Background()
	exec(t, c, `CREATE TABLE s (k bigint, v text) APPEND ONLY KEY (k)`,
		`CREATE TABLE kv (k bigint PRIMARY KEY, v text)`,
		`INSERT INTO s VALUES (1, 'a'), (2, 'b'), (1, 'c')`,
		`INSERT INTO kv VALUES (1, 'x'), (2, 'y')`, `UPDATE kv SET v = 'z' WHERE k = 2`)
	if err := comp.CompactOnce(ctx); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/iceberg/", http.StripPrefix("/iceberg", iceberg.NewHandler(comp.Catalog())))
	hs := httptest.NewServer(mux)
	defer hs.Close()

	rc, err := rest.NewCatalog(ctx, "strand", hs.URL+"/iceberg")
	if err != nil {
		t.Fatal(err)
	}
	nss, err := rc.ListNamespaces(ctx, nil)
	if err != nil || len(nss) != 1 || nss[0][0] != "public" {
		t.Fatalf("namespaces %v, %v", nss, err)
	}
	var names []string
	for id, err := range rc.ListTables(ctx, table.Identifier{"public"}) {
		if err != nil {
			t.Fatal(err)
		}
		names = append(names, strings.Join(id, "."))
	}
	slices.Sort(names)
	if want := []string{"public.kv", "public.kv__changes", "public.s"}; !slices.Equal(names, want) {
		t.Fatalf("tables %v, want %v", names, want)
	}
	for _, q := range []struct {
		name, sql string
	}{{"s", `SELECT k, v, _version FROM s`}, {"kv", `SELECT k, v, _version FROM kv`}} {
		tbl, err := rc.LoadTable(ctx, table.Identifier{"public", q.name})
		if err != nil {
			t.Fatal(err)
		}
		at, err := tbl.Scan(table.WithSelectedFields("k", "v", "_version")).ToArrowTable(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		tr := array.NewTableReader(at, 100)
		k, v, ver := at.Schema().FieldIndices("k")[0], at.Schema().FieldIndices("v")[0], at.Schema().FieldIndices("_version")[0]
		for tr.Next() {
			rec := tr.RecordBatch()
			for r := 0; r < int(rec.NumRows()); r++ {
				got = append(got, pgText(rec.Column(k), r)+"|"+pgText(rec.Column(v), r)+"|"+pgText(rec.Column(ver), r))
			}
		}
		tr.Release()
		at.Release()
		slices.Sort(got)
		equalRows(t, "REST "+q.name, got, selectRows(t, c, q.sql))
	}
	if _, err := rc.LoadTable(ctx, table.Identifier{"public", "nope"}); !errors.Is(err, catalog.ErrNoSuchTable) {
		t.Fatalf("loading a missing table: %v", err)
	}
}

// TestMoreTypes round-trips the remaining mapped types through Parquet.
func TestMoreTypes(t *testing.T) {
	srv := strandtest.Start(t, "")
	c := srv.Connect(t)
	comp := newCompactor(t, srv, t.TempDir(), nil)
	exec(t, c, `SET TimeZone = 'UTC'`,
		`CREATE TABLE m (id integer, u uuid, b bytea, tm time, ts timestamp, f real, d double precision, j jsonb, i interval, num numeric, nn numeric(5,2), s smallint)`,
		`INSERT INTO m VALUES (1, 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '\x0102', '12:34:56.5', '2024-02-29 23:59:59.25', 1.5, 2.25, '{"a": [1, 2]}', '1 year 2 days 03:04:05', 123.456, 'NaN', -3)`,
		`INSERT INTO m VALUES (2, NULL, NULL, NULL, 'infinity', NULL, NULL, NULL, NULL, NULL, 1.5, NULL)`)
	if err := comp.CompactOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	got := scanRows(t, comp, table.Identifier{"public", "m"}, "id", "u", "b", "tm", "ts", "f", "d", "j", "i", "num", "nn", "s")
	want := []string{
		`1|a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11|[1 2]|12:34:56.5|2024-02-29 23:59:59.25|1.5|2.25|{"a": [1, 2]}|P1Y2DT3H4M5S|123.456|NULL|-3`,
		`2|NULL|NULL|NULL|infinity|NULL|NULL|NULL|NULL|NULL|1.50|NULL`,
	}
	equalRows(t, "types", got, want)
}

// TestViewChangelogTables: a materialized view that keeps a changelog is
// compacted into Iceberg as a keyed table is: its rows (the view, as
// SELECT shows it) and its changes, whose replay is the view too.
func TestViewChangelogTables(t *testing.T) {
	srv := strandtest.Start(t, "")
	c := srv.Connect(t)
	comp := newCompactor(t, srv, t.TempDir(), nil)
	ctx := context.Background()
	exec(t, c, `CREATE TABLE sales (id bigint PRIMARY KEY, region text, amount bigint)`,
		`CREATE MATERIALIZED VIEW totals WITH (changelog = true) AS SELECT region, sum(amount) AS total, count(*) AS n FROM sales GROUP BY region`,
		`CREATE MATERIALIZED VIEW quiet AS SELECT region, count(*) AS n FROM sales GROUP BY region`)
	for round := 0; round < 3; round++ {
		for i := 0; i < 100; i++ {
			exec(t, c, fmt.Sprintf(`INSERT INTO sales VALUES (%d, 'r%d', %d)`, round*100+i, (round*100+i)%7, i))
		}
		exec(t, c, fmt.Sprintf(`DELETE FROM sales WHERE region = 'r%d'`, round))
		if err := comp.CompactOnce(ctx); err != nil {
			t.Fatal(err)
		}
		want := selectRows(t, c, `SELECT region, total, n FROM totals`)
		equalRows(t, fmt.Sprintf("view rows, round %d", round), scanRows(t, comp, table.Identifier{"public", "totals"}, "region", "total", "n"), want)
		last := map[string]string{}
		evs := scanRows(t, comp, table.Identifier{"public", "totals" + iceberg.ChangesSuffix}, "_version", "region", "_op", "total", "n")
		// Per key, the highest version wins.
		type ev struct {
			v   int
			row string
		}
		best := map[string]ev{}
		for _, l := range evs {
			f := strings.Split(l, "|")
			var v int
			fmt.Sscan(f[0], &v)
			if b, ok := best[f[1]]; !ok || v > b.v {
				row := ""
				if f[2] != "delete" {
					row = f[1] + "|" + f[3] + "|" + f[4]
				}
				best[f[1]] = ev{v, row}
			}
		}
		for k, e := range best {
			if e.row != "" {
				last[k] = e.row
			}
		}
		var replay []string
		for _, r := range last {
			replay = append(replay, r)
		}
		slices.Sort(replay)
		equalRows(t, fmt.Sprintf("replayed changes, round %d", round), replay, want)
	}
	// A view without a changelog has no events to compact.
	if _, err := comp.Catalog().LoadTable(ctx, table.Identifier{"public", "quiet"}); err == nil {
		t.Fatal("a view without a changelog was compacted")
	}
}
