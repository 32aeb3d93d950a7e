package iceberg_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/strand-db/strand/tests/strandtest"
)

// Tiering end to end: a server writes, compacts and (restarted with
// --local-retention 0s) moves every compacted event out of its log; SELECT
// and versions() must still return exactly what they did, also after
// another restart and with new writes on top.

func TestTieringLocalWarehouse(t *testing.T) {
	runTiering(t, []string{"--warehouse", filepath.Join(t.TempDir(), "wh")})
}

func TestTieringS3Warehouse(t *testing.T) {
	s3 := startS3(t)
	runTiering(t, []string{"--warehouse", s3.Warehouse("tier"), "--s3-endpoint", s3.Endpoint})
}

// tierQueries are the reads compared before and after tiering.
var tierQueries = []string{
	`SELECT *, _version FROM s`,
	`SELECT *, _version FROM kv`,
	`SELECT * FROM versions('s')`,
	`SELECT * FROM versions('kv')`,
	`SELECT * FROM versions('kv') WHERE k = 3`,
	`SELECT * FROM versions('s') WHERE k = 4`,
	`SELECT count(*), sum(n), max(ts) FROM s`,
	`SELECT k, v FROM s WHERE k = 2`,
}

func runTiering(t *testing.T, warehouse []string) {
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "data")
	p := strandtest.StartProcess(t, dir, append(slices.Clone(warehouse), "--compact-every", "100ms")...)
	defer p.Kill(t)
	c := connect(t, p)
	exec(t, c, `SET TimeZone = 'UTC'`,
		`CREATE TABLE s (k bigint, v text, n numeric(10,2), ts timestamptz, d date, f double precision, b boolean,
			j jsonb, iv interval, tags text[], u uuid, bin bytea, big numeric) APPEND ONLY KEY (k)`,
		`CREATE TABLE kv (k bigint PRIMARY KEY, v text, n integer)`)
	for i := range 120 {
		exec(t, c, fmt.Sprintf(`INSERT INTO s VALUES (%d, 'v%d', %d.25, '2024-03-01 10:00:00+00'::timestamptz + %d * interval '1 minute',
			'2024-03-01'::date + %d, %d.5, %t, '{"i": %d}', '%d days 01:02:03', ARRAY['a%d', NULL], 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd38%04d', '\x%02x', %d.123456789)`,
			i%9, i, i, i, i, i, i%2 == 0, i, i, i, i, i%256, i))
		exec(t, c, fmt.Sprintf(`INSERT INTO kv VALUES (%d, 'v%d', %d) ON CONFLICT (k) DO UPDATE SET v = 'u%d', n = %d`, i%23, i, i, i, i))
	}
	exec(t, c, `DELETE FROM kv WHERE k % 5 = 0`)
	waitCompacted(t, c)
	// Schema evolution: the files written so far lack the new columns.
	exec(t, c, `ALTER TABLE s ADD COLUMN extra text`, `ALTER TABLE kv ADD COLUMN note text`)
	for i := range 40 {
		exec(t, c, fmt.Sprintf(`INSERT INTO s (k, v, extra) VALUES (%d, 'w%d', 'x%d')`, i%9, i, i))
		exec(t, c, fmt.Sprintf(`INSERT INTO kv VALUES (%d, 'w%d', %d, 'note%d') ON CONFLICT (k) DO UPDATE SET v = 'w%d', note = 'n%d'`, i%30, i, i, i, i, i))
	}
	exec(t, c, `DELETE FROM kv WHERE k = 7`, `ALTER TABLE kv RENAME COLUMN note TO remark`)
	waitCompacted(t, c)
	before := map[string][]string{}
	for _, q := range tierQueries {
		before[q] = selectRows(t, c, q)
		if len(before[q]) == 0 {
			t.Fatalf("%s: no rows", q)
		}
	}
	for _, st := range tierStatus(t, c) {
		if st.floor != 0 || st.localEvents == 0 {
			t.Fatalf("%s: tiered without a retention: %+v", st.name, st)
		}
	}
	c.Close(ctx)
	if err := p.Terminate(t); err != nil {
		t.Fatal(err)
	}

	// Restart with every compacted event tiered.
	p.Args = append(slices.Clone(warehouse), "--compact-every", "100ms", "--local-retention", "0s")
	p.Restart(t)
	c = connect(t, p)
	deadline := time.Now().Add(30 * time.Second)
	for {
		sts := tierStatus(t, c)
		done := len(sts) == 2
		for _, st := range sts {
			done = done && st.floor > 0 && st.localEvents == 0 && st.localVersions == 0
		}
		if done {
			for _, st := range sts {
				if st.retention != "0s" || st.files == 0 || st.watermark < st.floor || st.lastError != "" {
					t.Fatalf("status of %s: %+v", st.name, st)
				}
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the events never left the log: %+v; log:\n%s", sts, p.Log())
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, q := range tierQueries {
		equalRows(t, "tiered: "+q, selectRows(t, c, q), before[q])
	}
	metrics := strandtest.HTTPGet(t, "http://"+p.HTTPAddr+"/metrics")
	for _, m := range []string{`strand_iceberg_tier_floor_lsn{table="public.s"}`, `strand_iceberg_lag_rows{table="public.kv"}`} {
		if !strings.Contains(metrics, m) {
			t.Fatalf("/metrics lacks %s", m)
		}
	}

	// A view over the keyed table is backfilled from its heads (local);
	// one over the tiered stream is refused.
	exec(t, c, `CREATE MATERIALIZED VIEW kv_count AS SELECT count(*) AS c, sum(n) AS total FROM kv`)
	equalRows(t, "view over a tiered keyed table", selectRows(t, c, `SELECT * FROM kv_count`), selectRows(t, c, `SELECT count(*), sum(n) FROM kv`))
	wantCode(t, c, `CREATE MATERIALIZED VIEW s_count AS SELECT k, count(*) FROM s GROUP BY k`, "0A000")
	// Following the stream from before its local log is refused.
	tx, err := c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	exec(t, tx.Conn(), `DECLARE sub CURSOR FOR SUBSCRIBE s WITH (start = 'beginning')`)
	wantCode(t, tx.Conn(), `FETCH 10 sub WITH (timeout = '1s')`, "55000")
	tx.Rollback(ctx)
	// So is a consumer group starting there.
	exec(t, c, `CREATE CONSUMER GROUP g FOR SUBSCRIBE s`)
	wantCode(t, c, `FETCH 10 FROM GROUP g WITH (timeout = '1s')`, "55000")

	// New writes land in the local log, on top of the tiered ones: reads
	// merge both (the new versions of kv's keys follow their tiered ones).
	for i := range 10 {
		exec(t, c, fmt.Sprintf(`INSERT INTO s (k, v, extra) VALUES (%d, 'late%d', 'y')`, i%3, i))
	}
	exec(t, c, `UPDATE kv SET v = 'late' WHERE k = 3`)
	wantS := slices.Clone(selectRows(t, c, `SELECT k, v FROM s WHERE k = 2`))
	if got, want := len(wantS), len(before[`SELECT k, v FROM s WHERE k = 2`])+3; got != want {
		t.Fatalf("stream key 2 after new writes: %d rows, want %d", got, want)
	}
	k3 := selectRows(t, c, `SELECT _version, _op, v FROM versions('kv') WHERE k = 3 ORDER BY _version`)
	if len(k3) != len(before[`SELECT * FROM versions('kv') WHERE k = 3`])+1 || k3[len(k3)-1] != fmt.Sprintf("%d|update|late", len(k3)) {
		t.Fatalf("history of kv key 3 after an update: %q", k3)
	}
	after := map[string][]string{}
	for _, q := range tierQueries {
		after[q] = selectRows(t, c, q)
	}
	floors := map[string]int64{}
	for _, st := range tierStatus(t, c) {
		floors[st.name] = st.floor
	}
	c.Close(ctx)
	if err := p.Terminate(t); err != nil {
		t.Fatal(err)
	}

	// And after a restart, with the floor and the deletions recovered.
	p.Restart(t)
	c = connect(t, p)
	defer c.Close(ctx)
	for _, q := range tierQueries {
		equalRows(t, "restarted: "+q, selectRows(t, c, q), after[q])
	}
	// The floors are durable (they only grow).
	for _, st := range tierStatus(t, c) {
		if f, ok := floors[st.name]; ok && st.floor < f {
			t.Fatalf("%s: retention floor %d after the restart, %d before", st.name, st.floor, f)
		}
	}
}

func connect(t *testing.T, p *strandtest.Process) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(context.Background(), p.DSN())
	if err != nil {
		t.Fatal(err)
	}
	exec(t, c, `SET TimeZone = 'UTC'`)
	return c
}

type tableTier struct {
	name                             string
	watermark, floor, lagRows, files int64
	localEvents, localVersions       int64
	retention, lastError             string
	compacted                        bool
}

// tierStatus reads pg_catalog.strand_iceberg_tables.
func tierStatus(t *testing.T, c *pgx.Conn) []tableTier {
	t.Helper()
	rows, err := c.Query(context.Background(), `SELECT name, watermark_lsn, retention_floor, lag_rows, files, local_events,
		local_versions, local_retention, last_error FROM pg_catalog.strand_iceberg_tables WHERE schema = 'public' ORDER BY name`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []tableTier
	for rows.Next() {
		var st tableTier
		var wm, lag, files *int64
		var ret, lastErr *string
		if err := rows.Scan(&st.name, &wm, &st.floor, &lag, &files, &st.localEvents, &st.localVersions, &ret, &lastErr); err != nil {
			t.Fatal(err)
		}
		if wm != nil && lag != nil && files != nil && ret != nil {
			st.compacted, st.watermark, st.lagRows, st.files, st.retention = true, *wm, *lag, *files, *ret
		}
		if lastErr != nil {
			st.lastError = *lastErr
		}
		out = append(out, st)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// waitCompacted waits until every event of s and kv is in Iceberg.
func waitCompacted(t *testing.T, c *pgx.Conn) {
	t.Helper()
	last := map[string]int64{}
	for _, name := range []string{"s", "kv"} {
		var lsn int64
		if err := c.QueryRow(context.Background(), fmt.Sprintf(`SELECT max(_lsn) FROM versions('%s')`, name)).Scan(&lsn); err != nil {
			t.Fatal(err)
		}
		last[name] = lsn
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		sts := tierStatus(t, c)
		done := len(sts) == 2
		for _, st := range sts {
			done = done && st.compacted && st.watermark >= last[st.name] && st.lagRows == 0 && st.lastError == ""
		}
		if done {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("compaction never caught up: %+v", sts)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func wantCode(t *testing.T, c *pgx.Conn, sql, code string) {
	t.Helper()
	_, err := c.Exec(context.Background(), sql)
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != code {
		t.Fatalf("%s: got %v, want SQLSTATE %s", sql, err, code)
	}
}

// TestTableOptionLocalRetention: the local_retention table option tiers a
// table whatever the server's default, ALTER TABLE SET changes it, and bad
// values are refused.
func TestTableOptionLocalRetention(t *testing.T) {
	ctx := context.Background()
	srv := strandtest.Start(t, "")
	c := srv.Connect(t)
	comp := newCompactor(t, srv, t.TempDir(), nil) // the server default: no tiering
	srv.Log.SetColdReader(comp.ColdReader())
	exec(t, c,
		`CREATE TABLE a (k bigint, v text) APPEND ONLY KEY (k) WITH (local_retention = '0s')`,
		`CREATE TABLE b (k bigint, v text) APPEND ONLY KEY (k)`,
		`CREATE TABLE kv (k bigint PRIMARY KEY, v text)`)
	wantCode(t, c, `CREATE TABLE bad (k bigint) WITH (local_retention = 'soon')`, "22023")
	wantCode(t, c, `ALTER TABLE kv SET (local_retention = '-1h')`, "22023")
	for i := range 50 {
		exec(t, c, fmt.Sprintf(`INSERT INTO a VALUES (%d, 'a%d')`, i%4, i), fmt.Sprintf(`INSERT INTO b VALUES (%d, 'b%d')`, i%4, i),
			fmt.Sprintf(`INSERT INTO kv VALUES (%d, 'v%d') ON CONFLICT (k) DO UPDATE SET v = 'u%d'`, i%6, i, i))
	}
	queries := []string{`SELECT *, _version FROM a`, `SELECT * FROM versions('a')`, `SELECT *, _version FROM kv`, `SELECT * FROM versions('kv')`}
	before := map[string][]string{}
	for _, q := range queries {
		before[q] = selectRows(t, c, q)
	}
	floors := func() map[string][2]int64 {
		out := map[string][2]int64{}
		rows, err := c.Query(ctx, `SELECT name, retention_floor, local_events FROM pg_catalog.strand_iceberg_tables WHERE schema = 'public'`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		for rows.Next() {
			var name string
			var floor, local int64
			if err := rows.Scan(&name, &floor, &local); err != nil {
				t.Fatal(err)
			}
			out[name] = [2]int64{floor, local}
		}
		return out
	}
	if err := comp.CompactOnce(ctx); err != nil {
		t.Fatal(err)
	}
	f := floors()
	if f["a"][0] == 0 || f["a"][1] != 0 || f["b"][0] != 0 || f["b"][1] != 50 || f["kv"][0] != 0 || f["kv"][1] != 50 {
		t.Fatalf("after a pass with only a tiered: %v", f)
	}
	exec(t, c, `ALTER TABLE kv SET (local_retention = '0s')`)
	if err := comp.CompactOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if f = floors(); f["kv"][0] == 0 || f["kv"][1] != 0 {
		t.Fatalf("after ALTER TABLE kv SET (local_retention = '0s'): %v", f)
	}
	// A retention of an hour keeps the next events local.
	exec(t, c, `ALTER TABLE kv SET (local_retention = '1h')`, `UPDATE kv SET v = 'late' WHERE k = 1`)
	if err := comp.CompactOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if g := floors(); g["kv"][0] != f["kv"][0] || g["kv"][1] != 1 {
		t.Fatalf("after ALTER TABLE kv SET (local_retention = '1h') and an update: %v, before %v", g, f)
	}
	for _, q := range queries[:2] {
		equalRows(t, "tiered by the table option: "+q, selectRows(t, c, q), before[q])
	}
	// The keyed table's history is its tiered versions plus the new one.
	hist := selectRows(t, c, `SELECT * FROM versions('kv')`)
	var extra []string
	for _, r := range hist {
		if !slices.Contains(before[`SELECT * FROM versions('kv')`], r) {
			extra = append(extra, r)
		}
	}
	if len(hist) != len(before[`SELECT * FROM versions('kv')`])+1 || len(extra) != 1 || !strings.HasPrefix(extra[0], "1|late|") {
		t.Fatalf("versions('kv') after tiering and an update: %d rows, new %q", len(hist), extra)
	}
}
