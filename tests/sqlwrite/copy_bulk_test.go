package sqlwrite

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/strand-db/strand/tests/strandtest"
)

// COPY FROM outside a transaction commits in chunks of copyChunkRows rows
// (sql/session/copy_bulk.go), each through the log's bulk path.
const copyChunkRows = 100000

// copyIn sends text COPY data and returns the tag or the server's error.
func copyIn(t *testing.T, c *pgx.Conn, sql string, data []byte) (int64, *pgconn.PgError) {
	t.Helper()
	tag, err := c.PgConn().CopyFrom(context.Background(), bytes.NewReader(data), sql)
	if err == nil {
		return tag.RowsAffected(), nil
	}
	var pe *pgconn.PgError
	if !errors.As(err, &pe) {
		t.Fatalf("%s: %v", sql, err)
	}
	return 0, pe
}

// replaceLine replaces line n (from 1) of text COPY data.
func replaceLine(data []byte, n int, line string) []byte {
	lines := strings.SplitAfter(string(data), "\n")
	lines[n-1] = line + "\n"
	return []byte(strings.Join(lines, ""))
}

func count(t *testing.T, c *pgx.Conn, q string) int64 {
	t.Helper()
	var n int64
	if err := c.QueryRow(context.Background(), q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// wantCopyError checks a failed COPY's SQLSTATE, the line and the number of
// committed rows its detail names, and what the table holds after it.
func wantCopyError(t *testing.T, pe *pgconn.PgError, code string, line int, committed int64) {
	t.Helper()
	if pe == nil || pe.Code != code {
		t.Fatalf("got %v, want SQLSTATE %s", pe, code)
	}
	where := fmt.Sprintf(", line %d", line)
	if committed > 0 {
		where += fmt.Sprintf("; %d rows before it were committed", committed)
	}
	if !strings.Contains(pe.Detail, where) || (committed == 0 && strings.Contains(pe.Detail, "committed")) {
		t.Fatalf("detail %q does not say %q", pe.Detail, where)
	}
}

// TestCopyBulkDuplicateKeys: a key twice in the input, in the same chunk or
// in different ones, and a key that already exists, fail COPY with 23505 at
// the line of the offending row; the chunks before it stay committed and
// nothing after it does.
func TestCopyBulkDuplicateKeys(t *testing.T) {
	s := strandtest.Start(t, "")
	ctx := context.Background()
	c := s.Connect(t)
	if _, err := c.Exec(ctx, `CREATE TABLE t (id bigint PRIMARY KEY, k bigint, v bigint)`); err != nil {
		t.Fatal(err)
	}
	// Line 150,001 repeats id 150,000 (same chunk); ingested chunks.
	data := replaceLine(copyText(1, 250001), 150001, "150000\t1\t1")
	_, pe := copyIn(t, c, `COPY t FROM STDIN`, data)
	wantCopyError(t, pe, "23505", 150001, copyChunkRows)
	if !strings.Contains(pe.Detail, "Key (id)=(150000) already exists.") || pe.ConstraintName != "t_pkey" {
		t.Fatalf("duplicate error: %+v", pe)
	}
	if n := count(t, c, `SELECT count(*) FROM t`); n != copyChunkRows {
		t.Fatalf("%d rows after the failed COPY, want %d", n, copyChunkRows)
	}
	if n := count(t, c, `SELECT max(id) FROM t`); n != copyChunkRows {
		t.Fatalf("max id %d after the failed COPY", n)
	}

	// Line 250,000 repeats line 10's id, two chunks before it.
	data = replaceLine(copyText(100001, 400001), 250000, "100010\t1\t1")
	_, pe = copyIn(t, c, `COPY t FROM STDIN`, data)
	wantCopyError(t, pe, "23505", 250000, 2*copyChunkRows)
	if n := count(t, c, `SELECT count(*) FROM t`); n != 3*copyChunkRows {
		t.Fatalf("%d rows, want %d", n, 3*copyChunkRows)
	}

	// An existing key in the second chunk.
	data = replaceLine(copyText(300001, 500001), 100007, "42\t1\t1")
	_, pe = copyIn(t, c, `COPY t FROM STDIN`, data)
	wantCopyError(t, pe, "23505", 100007, copyChunkRows)
	if !strings.Contains(pe.Detail, "Key (id)=(42) already exists.") {
		t.Fatalf("duplicate error: %+v", pe)
	}

	// Small and unsorted (the batch path): a key twice, and an existing one.
	_, pe = copyIn(t, c, `COPY t FROM STDIN`, []byte("900003\t0\t0\n900001\t0\t0\n900002\t0\t0\n900001\t0\t0\n"))
	wantCopyError(t, pe, "23505", 4, 0)
	_, pe = copyIn(t, c, `COPY t FROM STDIN`, []byte("900005\t0\t0\n7\t0\t0\n900004\t0\t0\n"))
	wantCopyError(t, pe, "23505", 2, 0)
	if n := count(t, c, `SELECT count(*) FROM t WHERE id > 800000`); n != 0 {
		t.Fatalf("%d rows of failed small COPYs", n)
	}

	// What was committed reads back whole: rows, versions and history.
	if n := count(t, c, `SELECT count(*) FROM t`); n != 4*copyChunkRows {
		t.Fatalf("%d rows, want %d", n, 4*copyChunkRows)
	}
	if n := count(t, c, `SELECT sum(v) FROM t WHERE id <= 1000`); n != 499500 {
		t.Fatalf("sum(v) of ids 1..1000: %d", n)
	}
	if n := count(t, c, `SELECT count(*) FROM versions('t') WHERE _version = 1 AND _op = 'insert'`); n != 4*copyChunkRows {
		t.Fatalf("%d version-1 inserts in versions('t')", n)
	}
	var k, ver int64
	if err := c.QueryRow(ctx, `SELECT k, _version FROM t WHERE id = 123457`).Scan(&k, &ver); err != nil || k != 123457*7919%1000003 || ver != 1 {
		t.Fatalf("row 123457: k=%d _version=%d %v", k, ver, err)
	}
	// A deleted key can be copied in again: version 3.
	if _, err := c.Exec(ctx, `DELETE FROM t WHERE id = 5`); err != nil {
		t.Fatal(err)
	}
	if n, pe := copyIn(t, c, `COPY t FROM STDIN`, []byte("5\t50\t500\n")); pe != nil || n != 1 {
		t.Fatalf("copy over a deleted key: %d %v", n, pe)
	}
	if err := c.QueryRow(ctx, `SELECT k, _version FROM t WHERE id = 5`).Scan(&k, &ver); err != nil || k != 50 || ver != 3 {
		t.Fatalf("row 5: k=%d _version=%d %v", k, ver, err)
	}
	// INSERT sees the copied keys.
	if _, err := c.Exec(ctx, `INSERT INTO t VALUES (399999, 0, 0)`); sqlstate(err) != "23505" {
		t.Fatalf("insert of a copied key: %v", err)
	}
}

// TestCopyBulkConstraints: NOT NULL, CHECK, DEFAULT and bad input behave
// as for INSERT, at the right line, with whole chunks committed before.
func TestCopyBulkConstraints(t *testing.T) {
	s := strandtest.Start(t, "")
	ctx := context.Background()
	c := s.Connect(t)
	if _, err := c.Exec(ctx, `CREATE TABLE c (id int PRIMARY KEY, a bigint NOT NULL, b int CHECK (b > 0), d text DEFAULT 'x' || 'y', e bigint)`); err != nil {
		t.Fatal(err)
	}
	rows := func(from, to int) []byte {
		var b []byte
		for i := from; i < to; i++ {
			b = fmt.Appendf(b, "%d\t%d\t%d\n", i, i*2, i%7+1)
		}
		return b
	}
	_, pe := copyIn(t, c, `COPY c (id, a, b) FROM STDIN`, replaceLine(rows(1, 150001), 120000, "120000\t1\t0"))
	wantCopyError(t, pe, "23514", 120000, copyChunkRows)
	if !strings.Contains(pe.Message, `violates check constraint`) {
		t.Fatalf("check violation: %+v", pe)
	}
	if n := count(t, c, `SELECT count(*) FROM c WHERE d = 'xy' AND e IS NULL`); n != copyChunkRows {
		t.Fatalf("%d rows with the default, want %d", n, copyChunkRows)
	}
	_, pe = copyIn(t, c, `COPY c (id, a, b) FROM STDIN`, replaceLine(rows(100001, 100101), 50, `100050	\N	1`))
	wantCopyError(t, pe, "23502", 50, 0)
	if pe.Message != `null value in column "a" of relation "c" violates not-null constraint` {
		t.Fatalf("not null: %+v", pe)
	}
	// Every column listed, all integers: the text fast path.
	all := func(from, to int) []byte {
		var b []byte
		for i := from; i < to; i++ {
			b = fmt.Appendf(b, "%d\t%d\t%d\tz\t%d\n", i, i, 1, -i)
		}
		return b
	}
	_, pe = copyIn(t, c, `COPY c FROM STDIN`, replaceLine(all(100001, 100101), 30, "100030\t\\N\t1\tz\t1"))
	wantCopyError(t, pe, "23502", 30, 0)
	_, pe = copyIn(t, c, `COPY c FROM STDIN`, replaceLine(all(100001, 100101), 31, "100031\t12x\t1\tz\t1"))
	wantCopyError(t, pe, "22P02", 31, 0)
	if pe.Message != `invalid input syntax for type bigint: "12x"` {
		t.Fatalf("bad input: %+v", pe)
	}
	_, pe = copyIn(t, c, `COPY c FROM STDIN`, replaceLine(all(100001, 100101), 32, "100032\t1\t99999999999\tz\t1"))
	wantCopyError(t, pe, "22003", 32, 0)
	_, pe = copyIn(t, c, `COPY c FROM STDIN`, replaceLine(all(100001, 100101), 33, "100033\t1\t1"))
	wantCopyError(t, pe, "22P04", 33, 0)
	if n, pe := copyIn(t, c, `COPY c FROM STDIN`, all(100001, 100101)); pe != nil || n != 100 {
		t.Fatalf("copy: %d %v", n, pe)
	}
	if n := count(t, c, `SELECT sum(e) FROM c WHERE id > 100000`); n != -(100001+100100)*50 {
		t.Fatalf("sum(e) = %d", n)
	}
	// Escapes, NULLs and CSV take the same path.
	if n, pe := copyIn(t, c, `COPY c FROM STDIN`, []byte("200001\t1\t1\ta\\tb\\\\\t\\N\n")); pe != nil || n != 1 {
		t.Fatalf("copy with escapes: %d %v", n, pe)
	}
	if n, pe := copyIn(t, c, `COPY c FROM STDIN (FORMAT csv)`, []byte("200002,1,1,\"q,\"\"r\",\n")); pe != nil || n != 1 {
		t.Fatalf("copy csv: %d %v", n, pe)
	}
	got := strandtest.SortedRows(t, c, `SELECT id, d, e FROM c WHERE id > 200000`)
	if fmt.Sprint(got) != `[200001|a	b\|NULL 200002|q,"r|NULL]` {
		t.Fatalf("rows: %q", got)
	}
}

// TestCopyBulkViewsStayExact: COPY into a table that materialized views
// read keeps them exact, also when it fails part way.
func TestCopyBulkViewsStayExact(t *testing.T) {
	s := strandtest.Start(t, "")
	ctx := context.Background()
	c := s.Connect(t)
	for _, q := range []string{
		`CREATE TABLE t (id bigint PRIMARY KEY, k bigint, v bigint)`,
		`CREATE TABLE other (id bigint PRIMARY KEY, v bigint)`,
		`CREATE MATERIALIZED VIEW agg AS SELECT v % 10 AS b, count(*) AS n, sum(k) AS s FROM t GROUP BY v % 10`,
	} {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatal(q, err)
		}
	}
	check := func() {
		t.Helper()
		view := strandtest.SortedRows(t, c, `SELECT b, n, s FROM agg`)
		direct := strandtest.SortedRows(t, c, `SELECT v % 10, count(*), sum(k) FROM t GROUP BY v % 10`)
		if fmt.Sprint(view) != fmt.Sprint(direct) || len(view) == 0 {
			t.Fatalf("view %v\ntable %v", view, direct)
		}
	}
	if n, pe := copyIn(t, c, `COPY t FROM STDIN`, copyText(1, 25001)); pe != nil || n != 25000 {
		t.Fatalf("copy: %d %v", n, pe)
	}
	check()
	// Chunks of a table with views are 10,000 rows.
	_, pe := copyIn(t, c, `COPY t FROM STDIN`, replaceLine(copyText(25001, 60001), 21000, "3\t1\t1"))
	wantCopyError(t, pe, "23505", 21000, 20000)
	check()
	if n := count(t, c, `SELECT count(*) FROM t`); n != 45000 {
		t.Fatalf("%d rows", n)
	}
	// A table no view reads takes the bulk path beside it.
	if n, pe := copyIn(t, c, `COPY other FROM STDIN`, []byte("1\t1\n2\t2\n")); pe != nil || n != 2 {
		t.Fatalf("copy other: %d %v", n, pe)
	}
	check()
}

// TestCopyBulkStream: COPY into a stream appends each row to its key, in
// input order.
func TestCopyBulkStream(t *testing.T) {
	s := strandtest.Start(t, "")
	ctx := context.Background()
	c := s.Connect(t)
	if _, err := c.Exec(ctx, `CREATE TABLE ev (acct bigint, amount bigint) APPEND ONLY KEY (acct)`); err != nil {
		t.Fatal(err)
	}
	var data []byte
	for i := 0; i < 20000; i++ {
		data = fmt.Appendf(data, "%d\t%d\n", i%3, i)
	}
	if n, pe := copyIn(t, c, `COPY ev FROM STDIN`, data); pe != nil || n != 20000 {
		t.Fatalf("copy: %d %v", n, pe)
	}
	if n, pe := copyIn(t, c, `COPY ev FROM STDIN`, []byte("1\t-1\n")); pe != nil || n != 1 {
		t.Fatalf("copy: %d %v", n, pe)
	}
	got := strandtest.SortedRows(t, c, `SELECT acct, count(*), max(_version), min(_version) FROM ev GROUP BY acct`)
	if fmt.Sprint(got) != "[0|6667|6667|1 1|6668|6668|1 2|6666|6666|1]" {
		t.Fatalf("per key: %v", got)
	}
	// Versions follow input order: version n of key 1 has amount 3(n-1)+1.
	if n := count(t, c, `SELECT count(*) FROM ev WHERE acct = 1 AND _version <= 6667 AND amount <> 3 * (_version - 1) + 1`); n != 0 {
		t.Fatalf("%d events of key 1 out of order", n)
	}
	if n := count(t, c, `SELECT amount FROM ev WHERE acct = 1 AND _version = 6668`); n != -1 {
		t.Fatalf("last event of key 1: %d", n)
	}
}

// TestCopyBulkSubscriptionSeesRows: a live subscription receives every
// row of an ingested COPY, in order.
func TestCopyBulkSubscriptionSeesRows(t *testing.T) {
	s := strandtest.Start(t, "")
	ctx := context.Background()
	c := s.Connect(t)
	if _, err := c.Exec(ctx, `CREATE TABLE t (id bigint PRIMARY KEY, k bigint, v bigint)`); err != nil {
		t.Fatal(err)
	}
	sub := s.Connect(t)
	tx, err := sub.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `DECLARE c CURSOR FOR SUBSCRIBE t`); err != nil {
		t.Fatal(err)
	}
	const rows = 30000
	if n, pe := copyIn(t, c, `COPY t FROM STDIN`, copyText(1, rows+1)); pe != nil || n != rows {
		t.Fatalf("copy: %d %v", n, pe)
	}
	next := int64(1)
	deadline := time.Now().Add(15 * time.Second)
	for next <= rows && time.Now().Before(deadline) {
		r, err := tx.Query(ctx, `FETCH 10000 c WITH (timeout = '1s')`)
		if err != nil {
			t.Fatal(err)
		}
		idCol := -1
		for i, f := range r.FieldDescriptions() {
			if f.Name == "id" {
				idCol = i
			}
		}
		for r.Next() {
			vals, err := r.Values()
			if err != nil {
				t.Fatal(err)
			}
			id, err := strconv.ParseInt(fmt.Sprint(vals[idCol]), 10, 64)
			if err != nil || id != next {
				t.Fatalf("subscription: id %v (%v), want %d", vals[idCol], err, next)
			}
			next++
		}
		if err := r.Err(); err != nil {
			t.Fatal(err)
		}
	}
	if next != rows+1 {
		t.Fatalf("subscription saw %d of %d rows", next-1, rows)
	}
}

// TestCopyBulkKilledMidway: SIGKILL during a large COPY leaves whole chunks
// only (a prefix of the input, a multiple of the chunk size), each with
// its rows, versions and events, and the server takes writes after it.
func TestCopyBulkKilledMidway(t *testing.T) {
	p := strandtest.StartProcess(t, t.TempDir())
	ctx := context.Background()
	c, err := pgx.Connect(ctx, p.DSN())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, `CREATE TABLE t (id bigint PRIMARY KEY, k bigint, v bigint)`); err != nil {
		t.Fatal(err)
	}
	const rows = 3000000
	data := copyText(1, rows+1)
	done := make(chan error, 1)
	go func() {
		_, err := c.PgConn().CopyFrom(ctx, bytes.NewReader(data), `COPY t FROM STDIN`)
		done <- err
	}()
	// Kill once a chunk or two is durable, long before the end.
	watch, err := pgx.Connect(ctx, p.DSN())
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		var n int64
		if err := watch.QueryRow(ctx, `SELECT count(*) FROM t WHERE id = 100000`).Scan(&n); err == nil && n > 0 {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	watch.Close(ctx)
	p.Kill(t)
	if err := <-done; err == nil {
		t.Fatal("the COPY finished before the kill: make the input larger")
	}
	c.Close(ctx)
	p.Restart(t)
	defer p.Terminate(t)
	c, err = pgx.Connect(ctx, p.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	n := count(t, c, `SELECT count(*) FROM t`)
	if n == 0 || n%copyChunkRows != 0 || n >= rows {
		t.Fatalf("%d rows after the kill: not whole chunks of %d", n, copyChunkRows)
	}
	if m := count(t, c, `SELECT max(id) FROM t`); m != n {
		t.Fatalf("max id %d with %d rows: not a prefix of the input", m, n)
	}
	if h := count(t, c, `SELECT count(*) FROM versions('t')`); h != n {
		t.Fatalf("%d versions for %d rows", h, n)
	}
	// The next COPY continues above every recovered LSN and key.
	if m, pe := copyIn(t, c, `COPY t FROM STDIN`, copyText(int(n)+1, int(n)+5001)); pe != nil || m != 5000 {
		t.Fatalf("copy after recovery: %d %v", m, pe)
	}
	if h := count(t, c, `SELECT count(*) FROM versions('t') WHERE id > 0`); h != n+5000 {
		t.Fatalf("%d versions after the next COPY, want %d", h, n+5000)
	}
	t.Logf("%d rows (%d chunks) survived the kill", n, n/copyChunkRows)
}
