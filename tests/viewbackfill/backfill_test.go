// Package viewbackfill checks that CREATE MATERIALIZED VIEW backfills
// while writes keep committing: writers' commits are acknowledged between
// the backfill's steps, readers of a view that is not live yet get 55000,
// the progress is visible in pg_catalog.strand_views, and every view ends
// equal to PostgreSQL's answer over the same rows; and that a backfill
// interrupted by SIGKILL resumes after the restart and ends exact.
package viewbackfill

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/strand-db/strand/tests/pgoracle"
	"github.com/strand-db/strand/tests/strandtest"
)

// chunkRows makes every backfill take many steps over tables of a few
// thousand rows.
const chunkRows = "96"

const (
	accounts = 300
	events   = 6000
	logRows  = 2000
)

// The views, in creation order; v_over reads v_join and is created while
// v_join backfills, and v_top_sum reads v_top.
var viewDefs = []struct{ name, def string }{
	{"v_group", `SELECT acct, count(*) AS n, sum(amount) AS s, min(amount) AS lo, max(amount) AS hi FROM ev GROUP BY acct`},
	{"v_join", `SELECT e.id, e.amount, a.region FROM ev e JOIN acct a ON e.acct = a.id`},
	{"v_over", `SELECT region, count(*) AS n, sum(amount) AS s FROM v_join GROUP BY region`},
	{"v_top", `SELECT acct, id, amount FROM (SELECT acct, id, amount, row_number() OVER (PARTITION BY acct ORDER BY amount DESC, id) AS rn FROM ev) t WHERE rn <= 3`},
	// v_top's rows are read from its top-N's state (views/topout.go):
	// v_top_sum's backfill reads them partition by partition, while
	// writes move rows in and out of them.
	{"v_top_sum", `SELECT acct, count(*) AS n, sum(amount) AS s, max(id) AS last FROM v_top GROUP BY acct`},
	{"v_stream", `SELECT acct, count(*) AS n, sum(amount) AS s FROM log GROUP BY acct`},
	{"v_self", `SELECT a.id, b.id AS twin FROM ev a JOIN ev b ON a.acct = b.acct AND a.amount = b.amount AND a.id < b.id`},
	{"v_left", `SELECT a.id, a.region, e.id AS eid FROM acct a LEFT JOIN ev e ON e.acct = a.id AND e.amount > 995`},
	// Window operators keep their rows aside until the backfill has read
	// its sources, then take them in their order (views/windowdefer.go),
	// while writes land on both sides of each one's settle cursor:
	// running functions (taken a chunk at a time within a partition),
	// percent_rank (whole partitions), lag, and a window over a window
	// (settled bottom up).
	{"v_running", `SELECT id, acct, row_number() OVER (PARTITION BY acct % 20 ORDER BY amount, id) AS rn, sum(amount) OVER (PARTITION BY acct % 20 ORDER BY amount, id) AS s FROM ev`},
	{"v_prank", `SELECT id, percent_rank() OVER (PARTITION BY acct ORDER BY amount, id) AS pr FROM ev`},
	{"v_lag", `SELECT id, lag(amount) OVER (PARTITION BY acct % 20 ORDER BY amount, id) AS prev FROM ev`},
	{"v_win2", `SELECT id, rn, sum(rn) OVER (PARTITION BY acct % 20 ORDER BY amount DESC, id) AS srn FROM (SELECT id, acct, amount, row_number() OVER (PARTITION BY acct ORDER BY id DESC) AS rn FROM ev) t`},
}

func TestBackfillWhileWriting(t *testing.T) {
	if testing.Short() {
		t.Skip("end-to-end backfill test")
	}
	t.Setenv("STRAND_VIEW_BACKFILL_CHUNK_ROWS", chunkRows)
	ctx := context.Background()
	pg := pgoracle.StartT(t)
	s := strandtest.Start(t, "")
	c := s.Connect(t)
	load(t, c)

	// Writers run from before the first CREATE to after the last one.
	var stop atomic.Bool
	var acksBetween, acksInterleaved, writes atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 16)
	for w := 0; w < 3; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			wc, err := pgx.Connect(ctx, s.DSN())
			if err != nil {
				errs <- err
				return
			}
			defer wc.Close(ctx)
			rng := rand.New(rand.NewSource(int64(w)))
			nextID := int64(events + 1 + w*1_000_000)
			for !stop.Load() {
				before, err := backfilling(ctx, wc)
				if err != nil {
					errs <- err
					return
				}
				q := writeStatement(rng, &nextID)
				if _, err := wc.Exec(ctx, q); err != nil {
					errs <- fmt.Errorf("%s: %w", q, err)
					return
				}
				writes.Add(1)
				after, err := backfilling(ctx, wc)
				if err != nil {
					errs <- err
					return
				}
				// The write was acknowledged after some step of a view's
				// backfill and before its last one.
				for name, done := range before {
					if a, ok := after[name]; ok && done > 0 {
						acksBetween.Add(1)
						if a > done {
							acksInterleaved.Add(1)
						}
						break
					}
				}
			}
		}(w)
	}
	// A reader of the views: each read is either the view's rows, 55000
	// while it backfills, or 42P01 before it exists.
	var notReady atomic.Int64
	wg.Add(1)
	go func() {
		defer wg.Done()
		rc, err := pgx.Connect(ctx, s.DSN())
		if err != nil {
			errs <- err
			return
		}
		defer rc.Close(ctx)
		for i := 0; !stop.Load(); i++ {
			v := viewDefs[i%len(viewDefs)].name
			_, err := rc.Exec(ctx, "SELECT count(*) FROM "+v)
			var pe *pgconn.PgError
			switch {
			case err == nil:
			case errors.As(err, &pe) && pe.Code == "55000":
				notReady.Add(1)
			case errors.As(err, &pe) && pe.Code == "42P01":
			default:
				errs <- fmt.Errorf("read %s: %w", v, err)
				return
			}
		}
	}()

	start := time.Now()
	for i := 0; i < len(viewDefs); i++ {
		v := viewDefs[i]
		if v.name == "v_join" {
			// v_over is created from another session while v_join
			// backfills, and waits for it.
			over := viewDefs[i+1]
			done := make(chan error, 1)
			go func() { done <- create(ctx, s.DSN(), v.name, v.def) }()
			waitBackfilling(t, c, v.name)
			if err := create(ctx, s.DSN(), over.name, over.def); err != nil {
				t.Fatal(err)
			}
			if err := <-done; err != nil {
				t.Fatal(err)
			}
			i++
			continue
		}
		if err := create(ctx, s.DSN(), v.name, v.def); err != nil {
			t.Fatal(err)
		}
	}
	took := time.Since(start)
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	t.Logf("%d views backfilled in %v; %d writes, %d acknowledged between two steps of a backfill (%d with steps before and after), %d reads refused with 55000",
		len(viewDefs), took, writes.Load(), acksBetween.Load(), acksInterleaved.Load(), notReady.Load())
	if acksInterleaved.Load() < 5 {
		t.Errorf("only %d writes were acknowledged between backfill steps; backfill blocks writers", acksInterleaved.Load())
	}
	if notReady.Load() == 0 {
		t.Errorf("no read of a backfilling view was refused with 55000")
	}

	// Every view is live, its progress complete, and equal to PostgreSQL.
	for _, row := range strandtest.SortedRows(t, c, `SELECT name, state, rows_done >= 0, started IS NOT NULL, finished >= started FROM pg_catalog.strand_views`) {
		if !strings.HasSuffix(row, "|live|t|t|t") {
			t.Errorf("strand_views: %s", row)
		}
	}
	compareWithPostgres(t, c, pg)
}

// load creates and fills the base tables.
func load(t *testing.T, c *pgx.Conn) {
	ctx := context.Background()
	for _, q := range []string{
		`CREATE TABLE acct (id bigint PRIMARY KEY, region text)`,
		`CREATE TABLE ev (id bigint PRIMARY KEY, acct bigint, amount bigint)`,
		`CREATE TABLE log (acct bigint, amount bigint) APPEND ONLY KEY (acct)`,
	} {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatal(q, err)
		}
	}
	rng := rand.New(rand.NewSource(1))
	var rows [][]any
	for i := 1; i <= accounts; i++ {
		rows = append(rows, []any{int64(i), regions[i%len(regions)]})
	}
	copyRows(t, c, "acct", []string{"id", "region"}, rows)
	rows = nil
	for i := 1; i <= events; i++ {
		rows = append(rows, []any{int64(i), int64(1 + rng.Intn(accounts)), int64(rng.Intn(1000))})
	}
	copyRows(t, c, "ev", []string{"id", "acct", "amount"}, rows)
	rows = nil
	for i := 1; i <= logRows; i++ {
		rows = append(rows, []any{int64(1 + rng.Intn(accounts)), int64(rng.Intn(1000))})
	}
	copyRows(t, c, "log", []string{"acct", "amount"}, rows)
}

var regions = []string{"eu", "us", "ap", "sa"}

func copyRows(t *testing.T, c *pgx.Conn, table string, cols []string, rows [][]any) {
	t.Helper()
	if _, err := c.CopyFrom(context.Background(), pgx.Identifier{table}, cols, pgx.CopyFromRows(rows)); err != nil {
		t.Fatalf("copy %s: %v", table, err)
	}
}

// writeStatement is a random write over every base table: keys below
// and past any backfill cursor, inserts, updates and deletes.
func writeStatement(rng *rand.Rand, nextID *int64) string {
	switch rng.Intn(6) {
	case 0, 1:
		*nextID++
		return fmt.Sprintf(`INSERT INTO ev VALUES (%d, %d, %d)`, *nextID, 1+rng.Intn(accounts), rng.Intn(1000))
	case 2:
		return fmt.Sprintf(`UPDATE ev SET amount = %d WHERE id = %d`, rng.Intn(1000), 1+rng.Intn(events))
	case 3:
		return fmt.Sprintf(`DELETE FROM ev WHERE id = %d`, 1+rng.Intn(events))
	case 4:
		return fmt.Sprintf(`INSERT INTO log VALUES (%d, %d)`, 1+rng.Intn(accounts), rng.Intn(1000))
	default:
		return fmt.Sprintf(`UPDATE acct SET region = '%s' WHERE id = %d`, regions[rng.Intn(len(regions))], 1+rng.Intn(accounts))
	}
}

// backfilling returns the views now backfilling with their rows done.
func backfilling(ctx context.Context, c *pgx.Conn) (map[string]int64, error) {
	rows, err := c.Query(ctx, `SELECT name, rows_done FROM pg_catalog.strand_views WHERE state = 'backfilling'`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var name string
		var done int64
		if err := rows.Scan(&name, &done); err != nil {
			return nil, err
		}
		out[name] = done
	}
	return out, rows.Err()
}

func create(ctx context.Context, dsn, name, def string) error {
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, fmt.Sprintf("CREATE MATERIALIZED VIEW %s AS %s", name, def)); err != nil {
		return fmt.Errorf("create %s: %w", name, err)
	}
	return nil
}

// waitBackfilling waits until a view is backfilling with some rows done.
func waitBackfilling(t *testing.T, c *pgx.Conn, name string) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		m, err := backfilling(context.Background(), c)
		if err != nil {
			t.Fatal(err)
		}
		if m[name] > 0 {
			return
		}
		time.Sleep(2 * time.Millisecond)
	}
	t.Fatalf("view %s never showed as backfilling", name)
}

// compareWithPostgres copies Strand's base tables into PostgreSQL, defines
// the views there as plain views, and compares every view's rows.
func compareWithPostgres(t *testing.T, c *pgx.Conn, pg *pgoracle.Server) {
	ctx := context.Background()
	pc := pg.Connect(t)
	for _, q := range []string{
		`CREATE TABLE acct (id bigint PRIMARY KEY, region text)`,
		`CREATE TABLE ev (id bigint PRIMARY KEY, acct bigint, amount bigint)`,
		`CREATE TABLE log (acct bigint, amount bigint)`,
	} {
		if _, err := pc.Exec(ctx, q); err != nil {
			t.Fatal(q, err)
		}
	}
	for _, tc := range []struct {
		table string
		cols  []string
	}{{"acct", []string{"id", "region"}}, {"ev", []string{"id", "acct", "amount"}}, {"log", []string{"acct", "amount"}}} {
		strandtest.CopyTable(t, c, pc, tc.table, tc.cols)
	}
	for _, v := range viewDefs {
		strandtest.MatchView(t, c, pc, v.name, v.def)
	}
}

// TestBackfillResumesAfterKill kills `strand serve` in the middle of a
// backfill, under writes, restarts it, and checks that the backfill
// finishes by itself and the view equals its query over the recovered
// tables.
func TestBackfillResumesAfterKill(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocess crash test")
	}
	p, c := startLoaded(t, "64")
	defer p.Kill(t)
	ctx := context.Background()
	const groupDef = `SELECT acct, count(*) AS n, sum(amount) AS s, max(amount) AS hi FROM ev GROUP BY acct`
	const joinDef = `SELECT e.id, e.amount, a.region FROM ev e JOIN acct a ON e.acct = a.id`
	if err := create(ctx, p.DSN(), "v_group", groupDef); err != nil {
		t.Fatal(err)
	}
	// Writers keep going through the kill; their errors after it are
	// expected.
	var stop atomic.Bool
	var wg sync.WaitGroup
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			wc, err := pgx.Connect(ctx, p.DSN())
			if err != nil {
				return
			}
			defer wc.Close(ctx)
			rng := rand.New(rand.NewSource(int64(w)))
			nextID := int64(events + 1 + w*1_000_000)
			for !stop.Load() {
				if _, err := wc.Exec(ctx, writeStatement(rng, &nextID)); err != nil {
					return
				}
			}
		}(w)
	}
	go create(ctx, p.DSN(), "v_join", joinDef) // ends with the kill
	waitBackfilling(t, c, "v_join")
	// Let it get well into the table, then kill it.
	deadline := time.Now().Add(10 * time.Second)
	var doneAtKill int64
	for time.Now().Before(deadline) {
		m, err := backfilling(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		if doneAtKill = m["v_join"]; doneAtKill > events/4 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	p.Kill(t)
	stop.Store(true)
	wg.Wait()
	c.Close(ctx)

	p.Restart(t)
	c = connect(t, p)
	var state string
	var rowsDone int64
	// The progress the last durable step recorded survived: the backfill
	// resumes from its cursor rather than starting again.
	if err := c.QueryRow(ctx, `SELECT state, rows_done FROM pg_catalog.strand_views WHERE name = 'v_join'`).Scan(&state, &rowsDone); err != nil {
		t.Fatal(err)
	}
	if rowsDone < doneAtKill {
		t.Errorf("after the restart v_join is %s with %d rows done; %d were durable before the kill", state, rowsDone, doneAtKill)
	}
	rowsDone = waitLive(t, c, "v_join")
	t.Logf("killed with about %d rows of v_join done; it resumed and went live with %d rows read", doneAtKill, rowsDone)
	sameAsQuery(t, c, "v_group", groupDef)
	sameAsQuery(t, c, "v_join", joinDef)
}

// connect connects to p; the connection closes when the test ends.
func connect(t *testing.T, p *strandtest.Process) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(context.Background(), p.DSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}

// waitLive waits up to a minute for a view to be live and returns its
// rows done.
func waitLive(t *testing.T, c *pgx.Conn, name string) int64 {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var state string
		var rowsDone int64
		if err := c.QueryRow(context.Background(), `SELECT state, rows_done FROM pg_catalog.strand_views WHERE name = $1`, name).Scan(&state, &rowsDone); err != nil {
			t.Fatal(err)
		}
		if state == "live" {
			return rowsDone
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s still %s after the restart (%d rows done)", name, state, rowsDone)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// sameAsQuery reports a view whose rows differ from its query's.
func sameAsQuery(t *testing.T, c *pgx.Conn, name, def string) {
	t.Helper()
	got := strandtest.SortedRows(t, c, "SELECT * FROM "+name)
	want := strandtest.SortedRows(t, c, def)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("view %s differs from its query after the restart: %d rows vs %d\n%s", name, len(got), len(want), strandtest.RowsDiff(got, want))
	}
}

// TestWindowSettleResumesAfterKill kills `strand serve` while a view's
// window operators take their rows, after the backfill has read its
// source (views/windowdefer.go): the settle resumes from the cursors its
// last durable step recorded, and the view ends equal to its query.
func TestWindowSettleResumesAfterKill(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocess crash test")
	}
	p, c := startLoaded(t, "32")
	defer p.Kill(t)
	ctx := context.Background()
	// Two windows, the upper one over the lower one's rows: each settles
	// in many steps.
	const def = `SELECT id, rn, sum(rn) OVER (PARTITION BY acct % 20 ORDER BY amount DESC, id) AS srn FROM (SELECT id, acct, amount, row_number() OVER (PARTITION BY acct % 30 ORDER BY amount, id) AS rn FROM ev) t`
	go create(ctx, p.DSN(), "v_settle", def) // ends with the kill
	// Every row of ev read, and still backfilling: the windows are
	// settling.
	deadline := time.Now().Add(30 * time.Second)
	for {
		m, err := backfilling(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		if m["v_settle"] == events {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("v_settle never seen backfilling with all %d rows read (last: %v)", events, m)
		}
		time.Sleep(time.Millisecond)
	}
	p.Kill(t)
	c.Close(ctx)

	p.Restart(t)
	c = connect(t, p)
	waitLive(t, c, "v_settle")
	sameAsQuery(t, c, "v_settle", def)
}

// startLoaded starts `strand serve` with backfill steps of chunkRows rows
// and loads the base tables through c.
func startLoaded(t *testing.T, chunkRows string) (*strandtest.Process, *pgx.Conn) {
	t.Helper()
	t.Setenv("STRAND_VIEW_BACKFILL_CHUNK_ROWS", chunkRows)
	p := strandtest.StartProcess(t, filepath.Join(t.TempDir(), "data"))
	c, err := pgx.Connect(context.Background(), p.DSN())
	if err != nil {
		p.Kill(t)
		t.Fatal(err)
	}
	load(t, c)
	return p, c
}

// TestCreateInTransaction creates views inside a transaction that also
// writes their tables before and after the CREATE, over more rows than one
// backfill step takes: the creating commit's own writes must count once.
func TestCreateInTransaction(t *testing.T) {
	t.Setenv("STRAND_VIEW_BACKFILL_CHUNK_ROWS", "8")
	s := strandtest.Start(t, "")
	c := s.Connect(t)
	ctx := context.Background()
	const sumDef = `SELECT k % 7 AS b, count(*) AS n, sum(v) AS s FROM kv GROUP BY 1`
	const overDef = `SELECT n, count(*) AS groups FROM sums GROUP BY n`
	const streamDef = `SELECT k, count(*) AS n, sum(v) AS s FROM st GROUP BY k`
	for _, q := range []string{
		`CREATE TABLE kv (k bigint PRIMARY KEY, v bigint)`,
		`CREATE TABLE st (k bigint, v bigint) APPEND ONLY KEY (k)`,
		`INSERT INTO kv SELECT g, g * 3 FROM generate_series(1, 100) g`,
		`INSERT INTO st SELECT g % 5, g FROM generate_series(1, 60) g`,
		`BEGIN`,
		`INSERT INTO kv VALUES (101, 1), (102, 2)`,
		`UPDATE kv SET v = v + 1000 WHERE k IN (3, 50, 99)`,
		`INSERT INTO st VALUES (1, 500)`,
		`CREATE MATERIALIZED VIEW sums AS ` + sumDef,
		`CREATE MATERIALIZED VIEW over_sums AS ` + overDef,
		`CREATE MATERIALIZED VIEW st_sums AS ` + streamDef,
		`DELETE FROM kv WHERE k IN (4, 60, 101)`,
		`INSERT INTO kv VALUES (103, 7)`,
		`INSERT INTO st VALUES (2, 700), (9, 900)`,
		`COMMIT`,
		`UPDATE kv SET v = 0 WHERE k < 10`,
		`INSERT INTO st VALUES (3, 5)`,
	} {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatal(q, err)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		var n int64
		if err := c.QueryRow(ctx, `SELECT count(*) FROM pg_catalog.strand_views WHERE state <> 'live'`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("views did not go live")
		}
		time.Sleep(5 * time.Millisecond)
	}
	for _, v := range []struct{ name, def string }{{"sums", sumDef}, {"over_sums", overDef}, {"st_sums", streamDef}} {
		got := strandtest.SortedRows(t, c, "SELECT * FROM "+v.name)
		want := strandtest.SortedRows(t, c, strings.ReplaceAll(v.def, "FROM sums", "FROM ("+sumDef+") sums"))
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("view %s differs from its query: %d rows vs %d\n%s", v.name, len(got), len(want), strandtest.RowsDiff(got, want))
		}
	}
}

// TestFailedBackfillDropsView: a row past the first backfill step breaks
// the view's expression; CREATE returns that error (its SQLSTATE) and the
// view is gone, while the table stays writable.
func TestFailedBackfillDropsView(t *testing.T) {
	t.Setenv("STRAND_VIEW_BACKFILL_CHUNK_ROWS", "8")
	s := strandtest.Start(t, "")
	c := s.Connect(t)
	ctx := context.Background()
	for _, q := range []string{
		`CREATE TABLE kv (k bigint PRIMARY KEY, v bigint)`,
		`INSERT INTO kv SELECT g, g FROM generate_series(1, 200) g`,
	} {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatal(q, err)
		}
	}
	_, err := c.Exec(ctx, `CREATE MATERIALIZED VIEW q AS SELECT k, 1000 / (v - 150) AS r FROM kv`)
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "22012" {
		t.Fatalf("CREATE over a row that divides by zero: got %v, want 22012", err)
	}
	var n int64
	if err := c.QueryRow(ctx, `SELECT count(*) FROM pg_catalog.strand_views WHERE name = 'q'`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("the failed view is still in the catalog")
	}
	if _, err := c.Exec(ctx, `INSERT INTO kv VALUES (201, 150)`); err != nil {
		t.Fatal(err)
	}
}
