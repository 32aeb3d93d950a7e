package iceberg_test

// Compaction into an s3:// warehouse on a real S3 server (versitygw, see
// tests/s3server), and the faults the issue names: the S3 server killed in
// the middle of compaction, and Strand SIGKILLed between the upload of a
// commit's files and the catalog commit.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/catalog/rest"
	"github.com/apache/iceberg-go/table"
	"github.com/jackc/pgx/v5"

	"github.com/strand-db/strand/iceberg"
	"github.com/strand-db/strand/tests/s3server"
	"github.com/strand-db/strand/tests/strandtest"
)

// startS3 starts the S3 server and points this process's AWS SDK at it.
func startS3(t *testing.T) *s3server.Server {
	t.Helper()
	s := s3server.Start(t)
	s.SetEnv(t)
	return s
}

func newS3Compactor(t *testing.T, srv *strandtest.Server, s3 *s3server.Server, prefix string, hook func(table.Identifier, []string) error) *iceberg.Compactor {
	t.Helper()
	c, err := iceberg.New(srv.Log, iceberg.Options{
		Warehouse: s3.Warehouse(prefix), S3: iceberg.S3Config{Endpoint: s3.Endpoint},
		BeforeCommit: hook, FileRows: 1000, BatchRows: 300,
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// scanCatalog is scanRows for any catalog.
func scanCatalog(t *testing.T, cat catalog.Catalog, ident table.Identifier, cols ...string) ([]string, error) {
	t.Helper()
	ctx := context.Background()
	tbl, err := cat.LoadTable(ctx, ident)
	if err != nil {
		return nil, err
	}
	at, err := tbl.Scan(table.WithSelectedFields(cols...)).ToArrowTable(ctx)
	if err != nil {
		return nil, err
	}
	defer at.Release()
	return arrowRows(t, at, cols), nil
}

func mustScan(t *testing.T, cat catalog.Catalog, ident table.Identifier, cols ...string) []string {
	t.Helper()
	rows, err := scanCatalog(t, cat, ident, cols...)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// dataKeys lists the data files in the bucket for one Iceberg table, as
// s3:// locations.
func dataKeys(t *testing.T, s *s3server.Server, prefix string, ident table.Identifier) []string {
	t.Helper()
	var out []string
	for _, k := range s.Keys(t, prefix+"/"+strings.Join(ident, "/")+"/data/") {
		out = append(out, "s3://"+s.Bucket+"/"+k)
	}
	return out
}

// referenced lists the data files any snapshot of the table refers to.
func referenced(t *testing.T, cat catalog.Catalog, ident table.Identifier) map[string]bool {
	t.Helper()
	ctx := context.Background()
	tbl, err := cat.LoadTable(ctx, ident)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for _, s := range tbl.Metadata().Snapshots() {
		tasks, err := tbl.Scan(table.WithSnapshotID(s.SnapshotID)).PlanFiles(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, task := range tasks {
			out[task.File.FilePath()] = true
		}
	}
	return out
}

// checkNoOrphans: every data file in the bucket belongs to a snapshot.
func checkNoOrphans(t *testing.T, s *s3server.Server, prefix string, cat catalog.Catalog, ident table.Identifier) {
	t.Helper()
	refs := referenced(t, cat, ident)
	for _, k := range dataKeys(t, s, prefix, ident) {
		if !refs[k] {
			t.Fatalf("%v: %s is in the bucket but in no snapshot (an orphan)", ident, k)
		}
	}
}

// TestS3StreamAndKeyed compacts an append-only stream and a keyed table
// (with updates and deletes) into an S3 warehouse over several passes and
// reads them back with iceberg-go, directly and through the REST catalog
// (which must tell the client where S3 is).
func TestS3StreamAndKeyed(t *testing.T) {
	s3 := startS3(t)
	srv := strandtest.Start(t, "")
	c := srv.Connect(t)
	comp := newS3Compactor(t, srv, s3, "wh", nil)
	ctx := context.Background()
	exec(t, c, `SET TimeZone = 'UTC'`,
		`CREATE TABLE ev (acct bigint, kind text, amount numeric(12,2), at timestamptz) APPEND ONLY KEY (acct)`,
		`CREATE TABLE accounts (id bigint PRIMARY KEY, owner text, balance numeric(12,2))`)
	ev, acc, changes := table.Identifier{"public", "ev"}, table.Identifier{"public", "accounts"}, table.Identifier{"public", "accounts" + iceberg.ChangesSuffix}
	const qev, qacc = `SELECT acct, kind, amount, at, _version FROM ev`, `SELECT id, owner, balance, _version FROM accounts`
	evCols, accCols := []string{"acct", "kind", "amount", "at", "_version"}, []string{"id", "owner", "balance", "_version"}
	events := 0
	for round := 0; round < 3; round++ {
		var vals []string
		for i := 0; i < 1500; i++ {
			vals = append(vals, fmt.Sprintf("(%d, %s, %d.%02d, '2024-03-%02d 10:00:00.5+00')", i%23, nullable(i%7 == 0, fmt.Sprintf("'k%d'", i)), round*1000+i, i%100, i%28+1))
		}
		exec(t, c, `INSERT INTO ev VALUES `+strings.Join(vals, ", "))
		for i := 0; i < 150; i++ {
			exec(t, c, fmt.Sprintf(`INSERT INTO accounts VALUES (%d, 'o%d', %d.50) ON CONFLICT (id) DO UPDATE SET balance = accounts.balance + 1`, round*50+i, i, i))
			events++
		}
		tag, err := c.Exec(ctx, fmt.Sprintf(`DELETE FROM accounts WHERE id %% 5 = %d`, round))
		if err != nil {
			t.Fatal(err)
		}
		events += int(tag.RowsAffected())
		tag, err = c.Exec(ctx, `UPDATE accounts SET owner = owner || 'u' WHERE id % 3 = 0`)
		if err != nil {
			t.Fatal(err)
		}
		events += int(tag.RowsAffected())
		if err := comp.CompactOnce(ctx); err != nil {
			t.Fatal(err)
		}
		equalRows(t, fmt.Sprintf("stream, round %d", round), mustScan(t, comp.Catalog(), ev, evCols...), selectRows(t, c, qev))
		equalRows(t, fmt.Sprintf("keyed, round %d", round), mustScan(t, comp.Catalog(), acc, accCols...), selectRows(t, c, qacc))
		lsns := mustScan(t, comp.Catalog(), changes, "_lsn")
		if len(lsns) != events || len(slices.Compact(lsns)) != events {
			t.Fatalf("round %d: change log has %d events (%d distinct), want %d", round, len(lsns), len(slices.Compact(lsns)), events)
		}
	}
	// The files are in the bucket, under the warehouse prefix.
	for _, id := range []table.Identifier{ev, acc, changes} {
		if n := len(dataKeys(t, s3, "wh", id)); n == 0 {
			t.Fatalf("%v: no data files in the bucket", id)
		}
		checkNoOrphans(t, s3, "wh", comp.Catalog(), id)
	}
	tbl, err := comp.Catalog().LoadTable(ctx, ev)
	if err != nil {
		t.Fatal(err)
	}
	if want := "s3://" + s3.Bucket + "/wh/public/ev"; tbl.Location() != want || !strings.HasPrefix(tbl.MetadataLocation(), want+"/metadata/v") {
		t.Fatalf("location %s, metadata %s", tbl.Location(), tbl.MetadataLocation())
	}

	// Through the REST catalog: loadTable's config tells the client the
	// endpoint and addressing; credentials come from the client's own
	// AWS_* environment.
	mux := http.NewServeMux()
	mux.Handle("/iceberg/", http.StripPrefix("/iceberg", iceberg.NewHandler(comp.Catalog())))
	hs := httptest.NewServer(mux)
	defer hs.Close()
	resp, err := http.Get(hs.URL + "/iceberg/v1/namespaces/public/tables/ev")
	if err != nil {
		t.Fatal(err)
	}
	var load struct {
		Config map[string]string `json:"config"`
	}
	err = json.NewDecoder(resp.Body).Decode(&load)
	resp.Body.Close()
	if err != nil || load.Config["s3.endpoint"] != s3.Endpoint || load.Config["s3.path-style-access"] != "true" || load.Config["s3.region"] != s3.Region {
		t.Fatalf("loadTable config %v (%v)", load.Config, err)
	}
	for k := range load.Config {
		if strings.Contains(k, "secret") || strings.Contains(k, "access-key") {
			t.Fatalf("loadTable config hands out credentials: %v", load.Config)
		}
	}
	rc, err := rest.NewCatalog(ctx, "strand", hs.URL+"/iceberg")
	if err != nil {
		t.Fatal(err)
	}
	equalRows(t, "stream through REST", mustScan(t, rc, ev, evCols...), selectRows(t, c, qev))
	equalRows(t, "keyed through REST", mustScan(t, rc, acc, accCols...), selectRows(t, c, qacc))

	// Aggregates read the copies from the bucket, with a log tail.
	srv.Log.SetStateReader(comp.StateReader())
	x := &columnar{t: t, srv: srv, c: c, comp: comp}
	exec(t, c, `UPDATE accounts SET owner = 'tail' WHERE id % 4 = 1`)
	x.check("aggregates over S3", c, true,
		`SELECT acct % 5, count(*), max(at), max(_version) FROM ev GROUP BY 1`,
		`SELECT owner, count(*), max(id) FROM accounts GROUP BY owner`)
}

// TestS3SchemaEvolution adds a column mid-stream: rows written before read
// with nulls for it, through iceberg-go's scan of the S3 warehouse.
func TestS3SchemaEvolution(t *testing.T) {
	s3 := startS3(t)
	srv := strandtest.Start(t, "")
	c := srv.Connect(t)
	comp := newS3Compactor(t, srv, s3, "evo", nil)
	ctx := context.Background()
	ident := table.Identifier{"public", "s"}
	exec(t, c, `CREATE TABLE s (k bigint, v text) APPEND ONLY KEY (k)`,
		`INSERT INTO s VALUES (1, 'a'), (2, 'b')`)
	if err := comp.CompactOnce(ctx); err != nil {
		t.Fatal(err)
	}
	exec(t, c, `ALTER TABLE s ADD COLUMN note text`, `INSERT INTO s VALUES (3, 'c', 'n3'), (1, 'd', NULL)`)
	if err := comp.CompactOnce(ctx); err != nil {
		t.Fatal(err)
	}
	got := mustScan(t, comp.Catalog(), ident, "k", "v", "note", "_version")
	want := []string{"1|a|NULL|1", "1|d|NULL|2", "2|b|NULL|1", "3|c|n3|1"}
	equalRows(t, "after ADD COLUMN", got, want)
	equalRows(t, "after ADD COLUMN vs SELECT", got, selectRows(t, c, `SELECT k, v, note, _version FROM s`))
	// A fresh reader (another process) sees the same.
	cat, err := iceberg.OpenCatalog(ctx, s3.Warehouse("evo"), iceberg.S3Config{Endpoint: s3.Endpoint}, nil)
	if err != nil {
		t.Fatal(err)
	}
	equalRows(t, "fresh reader", mustScan(t, cat, ident, "k", "v", "note", "_version"), want)
}

// TestS3ServerKilledMidCompaction kills the S3 server in the middle of
// compaction twice, once while data files are being uploaded and once
// between the upload and the catalog commit, then brings it back:
// compaction resumes, and nothing is lost or duplicated.
func TestS3ServerKilledMidCompaction(t *testing.T) {
	s3 := startS3(t)
	srv := strandtest.Start(t, "")
	c := srv.Connect(t)
	ctx := context.Background()
	exec(t, c, `CREATE TABLE big (k bigint, v text, pad text) APPEND ONLY KEY (k)`,
		`CREATE TABLE kv (k bigint PRIMARY KEY, v text)`)
	big, kv, kvChanges := table.Identifier{"public", "big"}, table.Identifier{"public", "kv"}, table.Identifier{"public", "kv" + iceberg.ChangesSuffix}
	pad := strings.Repeat("x", 200)
	kvEvents := 0
	write := func(round, rows int) {
		t.Helper()
		for off := 0; off < rows; off += 2000 {
			var vals []string
			for i := off; i < min(off+2000, rows); i++ {
				vals = append(vals, fmt.Sprintf("(%d, 'r%d-%d', '%s')", i%101, round, i, pad))
			}
			exec(t, c, `INSERT INTO big VALUES `+strings.Join(vals, ", "))
		}
		for i := 0; i < 100; i++ {
			exec(t, c, fmt.Sprintf(`INSERT INTO kv VALUES (%d, 'v%d-%d') ON CONFLICT (k) DO UPDATE SET v = 'u%d-%d'`, i%40, round, i, round, i))
			kvEvents++
		}
		tag, err := c.Exec(ctx, fmt.Sprintf(`DELETE FROM kv WHERE k %% 9 = %d`, round))
		if err != nil {
			t.Fatal(err)
		}
		kvEvents += int(tag.RowsAffected())
	}
	check := func(what string, cat catalog.Catalog) {
		t.Helper()
		equalRows(t, what+": big", mustScan(t, cat, big, "k", "v", "_version"), selectRows(t, c, `SELECT k, v, _version FROM big`))
		equalRows(t, what+": kv", mustScan(t, cat, kv, "k", "v", "_version"), selectRows(t, c, `SELECT k, v, _version FROM kv`))
		lsns := mustScan(t, cat, kvChanges, "_lsn")
		if len(lsns) != kvEvents || len(slices.Compact(lsns)) != kvEvents {
			t.Fatalf("%s: kv change log has %d events (%d distinct), want %d", what, len(lsns), len(slices.Compact(lsns)), kvEvents)
		}
	}

	// 1. Killed while the data files of the first pass are uploading: a
	// watcher kills the server as soon as the first Parquet file of
	// public.big lands in the bucket, with a dozen still to go.
	write(0, 12000)
	comp := newS3Compactor(t, srv, s3, "wh", nil)
	dataDir := filepath.Join(s3.Dir, s3.Bucket, "wh", "public", "big", "data")
	killed := make(chan struct{})
	stopWatch := make(chan struct{})
	go func() {
		defer close(killed)
		for {
			select {
			case <-stopWatch:
				return
			default:
			}
			if ents, _ := os.ReadDir(dataDir); len(ents) > 0 {
				s3.Stop()
				return
			}
			time.Sleep(time.Millisecond)
		}
	}()
	err := comp.CompactOnce(ctx)
	close(stopWatch)
	<-killed
	if err == nil {
		t.Fatal("compaction succeeded although the S3 server was killed while it uploaded")
	}
	t.Logf("pass with the server killed mid-upload: %v", err)
	s3.Restart()
	if err := comp.CompactOnce(ctx); err != nil {
		t.Fatalf("compaction after the server came back: %v", err)
	}
	check("after a kill mid-upload", comp.Catalog())

	// 2. Killed after the upload, before the commit (the hook runs there).
	write(1, 5000)
	var uploaded []string
	comp2 := newS3Compactor(t, srv, s3, "wh", func(id table.Identifier, files []string) error {
		if len(uploaded) == 0 {
			uploaded = append(uploaded, files...)
			s3.Stop()
		}
		return nil
	})
	if err := comp2.CompactOnce(ctx); err == nil {
		t.Fatal("compaction succeeded although the S3 server was killed before the commit")
	}
	s3.Restart()
	if err := comp2.CompactOnce(ctx); err != nil {
		t.Fatalf("compaction after the server came back: %v", err)
	}
	check("after a kill before the commit", comp2.Catalog())

	// Files of the failed passes are orphans; a new process (a fresh
	// compactor) removes them the first time it writes to each table.
	write(2, 100)
	comp3 := newS3Compactor(t, srv, s3, "wh", nil)
	if err := comp3.CompactOnce(ctx); err != nil {
		t.Fatal(err)
	}
	check("after a clean pass", comp3.Catalog())
	for _, id := range []table.Identifier{big, kv, kvChanges} {
		checkNoOrphans(t, s3, "wh", comp3.Catalog(), id)
	}
	if len(uploaded) == 0 {
		t.Fatal("the hook saw no uploaded files")
	}
}

// TestS3SigkillBetweenUploadAndCommit runs `strand serve` with an S3
// warehouse and a failpoint that SIGKILLs it after a commit's files are
// uploaded and before the catalog commit. After a restart without it,
// the Iceberg tables equal SELECT (nothing lost, nothing twice) and the
// files of the killed commit are gone.
func TestS3SigkillBetweenUploadAndCommit(t *testing.T) {
	s3 := startS3(t)
	ctx := context.Background()
	const prefix = "kill"
	t.Setenv("STRAND_FAILPOINT", "iceberg-before-commit")
	p := strandtest.StartProcess(t, filepath.Join(t.TempDir(), "data"),
		"--warehouse", s3.Warehouse(prefix), "--s3-endpoint", s3.Endpoint, "--compact-every", "50ms")
	defer p.Kill(t)

	// Write until the process dies at its first commit.
	conn, err := pgx.Connect(ctx, p.DSN())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE s (k bigint, v text) APPEND ONLY KEY (k)`); err != nil {
		t.Fatal(err)
	}
	if _, err := conn.Exec(ctx, `CREATE TABLE kv (k bigint PRIMARY KEY, v text)`); err != nil {
		t.Fatal(err)
	}
	died := false
	for i := 0; i < 100000 && !died; i++ {
		_, err := conn.Exec(ctx, fmt.Sprintf(`INSERT INTO s VALUES (%d, 'v%d'); INSERT INTO kv VALUES (%d, 'v%d') ON CONFLICT (k) DO UPDATE SET v = 'u%d'`, i%10, i, i%30, i, i))
		died = err != nil
	}
	conn.Close(ctx)
	if !died {
		t.Fatalf("the failpoint never fired; log:\n%s", p.Log())
	}
	p.Kill(t)
	if !strings.Contains(p.Log(), "failpoint: killing the process") {
		t.Fatalf("the process died, but not at the failpoint; log:\n%s", p.Log())
	}
	var orphans []string
	for _, name := range []string{"s", "kv", "kv__changes"} {
		orphans = append(orphans, dataKeys(t, s3, prefix, table.Identifier{"public", name})...)
	}
	if len(orphans) == 0 {
		t.Fatal("no files were uploaded before the kill")
	}

	// Restart without the failpoint, write more (updates and deletes too),
	// and wait for compaction to catch up.
	t.Setenv("STRAND_FAILPOINT", "")
	p.Restart(t)
	conn, err = pgx.Connect(ctx, p.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	for i := 0; i < 200; i++ {
		if _, err := conn.Exec(ctx, fmt.Sprintf(`INSERT INTO s VALUES (%d, 'w%d'); INSERT INTO kv VALUES (%d, 'w%d') ON CONFLICT (k) DO UPDATE SET v = 'x%d'`, i%10, i, i%30, i, i)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := conn.Exec(ctx, `DELETE FROM kv WHERE k % 4 = 0`); err != nil {
		t.Fatal(err)
	}
	cat, err := iceberg.OpenCatalog(ctx, s3.Warehouse(prefix), iceberg.S3Config{Endpoint: s3.Endpoint}, nil)
	if err != nil {
		t.Fatal(err)
	}
	type check struct {
		ident table.Identifier
		cols  []string
		sql   string
	}
	checks := []check{
		{table.Identifier{"public", "s"}, []string{"k", "v", "_version"}, `SELECT k, v, _version FROM s`},
		{table.Identifier{"public", "kv"}, []string{"k", "v", "_version"}, `SELECT k, v, _version FROM kv`},
	}
	deadline := time.Now().Add(60 * time.Second)
	for _, ch := range checks {
		want := selectRows(t, conn, ch.sql)
		for {
			got, err := scanCatalog(t, cat, ch.ident, ch.cols...)
			if err == nil && slices.Equal(got, want) {
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("%v never caught up with SELECT (%d rows vs %d, %v); log:\n%s", ch.ident, len(got), len(want), err, p.Log())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
	// The state table is written after the change log in the same pass,
	// so the change log is complete too: each key's versions are exactly
	// 1..n, once each, and a live key's n is its current _version.
	versions := map[string][]int{}
	for _, l := range mustScan(t, cat, table.Identifier{"public", "kv__changes"}, "k", "_version") {
		k, v, _ := strings.Cut(l, "|")
		var ver int
		fmt.Sscan(v, &ver)
		versions[k] = append(versions[k], ver)
	}
	live := map[string]int{}
	for _, l := range selectRows(t, conn, `SELECT k, _version FROM kv`) {
		k, v, _ := strings.Cut(l, "|")
		var ver int
		fmt.Sscan(v, &ver)
		live[k] = ver
	}
	for k, vs := range versions {
		slices.Sort(vs)
		for i, v := range vs {
			if v != i+1 {
				t.Fatalf("key %s: change log versions %v", k, vs)
			}
		}
		if n, ok := live[k]; ok && n != len(vs) {
			t.Fatalf("key %s: version %d in SELECT, %d in the change log", k, n, len(vs))
		}
	}
	for k := range live {
		if _, ok := versions[k]; !ok {
			t.Fatalf("key %s missing from the change log", k)
		}
	}
	// The killed commit's files are gone; everything left is referenced.
	keys := map[string]bool{}
	for _, name := range []string{"s", "kv", "kv__changes"} {
		id := table.Identifier{"public", name}
		checkNoOrphans(t, s3, prefix, cat, id)
		for _, k := range dataKeys(t, s3, prefix, id) {
			keys[k] = true
		}
	}
	for _, o := range orphans {
		if keys[o] {
			t.Fatalf("orphan %s survived the restart", o)
		}
	}
}

// TestStaleWriterCannotDuplicate is the lost-answer case: a compactor
// whose last commit's answer never arrived (here: a second compactor
// committed behind its back) works from a stale view of the table. Its
// next commit must be refused, not replayed on top of the new head (which
// would add events that are already there), and the pass after that must
// reload the table and carry on from the real watermark. On a local
// warehouse and on S3.
func TestStaleWriterCannotDuplicate(t *testing.T) {
	s3 := startS3(t)
	for _, where := range []string{"local", "s3"} {
		t.Run(where, func(t *testing.T) {
			wh := t.TempDir()
			srv := strandtest.Start(t, "")
			c := srv.Connect(t)
			ctx := context.Background()
			open := func() *iceberg.Compactor {
				if where == "s3" {
					return newS3Compactor(t, srv, s3, "stale", nil)
				}
				return newCompactor(t, srv, wh, nil)
			}
			exec(t, c, `CREATE TABLE s (k bigint, v text) APPEND ONLY KEY (k)`, `CREATE TABLE kv (k bigint PRIMARY KEY, v text)`)
			insert := func(from, to int) {
				for i := from; i < to; i++ {
					exec(t, c, fmt.Sprintf(`INSERT INTO s VALUES (%d, 'v%d')`, i%7, i),
						fmt.Sprintf(`INSERT INTO kv VALUES (%d, 'v%d') ON CONFLICT (k) DO UPDATE SET v = 'u%d'`, i%13, i, i))
				}
			}
			insert(0, 50)
			stale := open()
			if err := stale.CompactOnce(ctx); err != nil {
				t.Fatal(err)
			}
			insert(50, 100)
			if err := open().CompactOnce(ctx); err != nil { // commits behind stale's back
				t.Fatal(err)
			}
			insert(100, 150)
			err := stale.CompactOnce(ctx)
			// Refused either as a conflict on the branch head (iceberg-go's
			// retries then give up) or, should a retry replay the files on
			// the new head, by the catalog's watermark check.
			if !errors.Is(err, iceberg.ErrWatermarkMoved) && !errors.Is(err, table.ErrCommitFailed) {
				t.Fatalf("a commit from a stale view: %v, want a refusal", err)
			}
			if err := stale.CompactOnce(ctx); err != nil {
				t.Fatalf("the pass after a refused commit: %v", err)
			}
			cat := stale.Catalog()
			equalRows(t, "stream", mustScan(t, cat, table.Identifier{"public", "s"}, "k", "v", "_version"), selectRows(t, c, `SELECT k, v, _version FROM s`))
			equalRows(t, "keyed", mustScan(t, cat, table.Identifier{"public", "kv"}, "k", "v", "_version"), selectRows(t, c, `SELECT k, v, _version FROM kv`))
			if lsns := mustScan(t, cat, table.Identifier{"public", "kv" + iceberg.ChangesSuffix}, "_lsn"); len(lsns) != 150 || len(slices.Compact(lsns)) != 150 {
				t.Fatalf("change log has %d events, want 150 distinct", len(lsns))
			}
		})
	}
}
