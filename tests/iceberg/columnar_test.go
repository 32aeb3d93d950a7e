package iceberg_test

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/apache/iceberg-go/table"
	"github.com/jackc/pgx/v5"

	"github.com/strand-db/strand/iceberg"
	"github.com/strand-db/strand/tests/strandtest"
)

// columnar runs the vectorized aggregates of a test twice: once with the
// compactor's StateReader installed, so they read the Iceberg copy and the
// log after its watermark, and once without, so they scan Pebble (the path
// the differential SQL tests compare with PostgreSQL). Both must agree,
// and the first must have read rows from the copy.
type columnar struct {
	t    *testing.T
	srv  *strandtest.Server
	c    *pgx.Conn
	comp *iceberg.Compactor
}

func newColumnar(t *testing.T) *columnar {
	srv := strandtest.Start(t, "")
	comp := newCompactor(t, srv, t.TempDir(), nil)
	srv.Log.SetStateReader(comp.StateReader())
	return &columnar{t: t, srv: srv, c: srv.Connect(t), comp: comp}
}

func (x *columnar) compact() {
	x.t.Helper()
	if err := x.comp.CompactOnce(context.Background()); err != nil {
		x.t.Fatal(err)
	}
}

// check runs each query from the copy and from Pebble, and reports
// whether the copy was read.
func (x *columnar) check(what string, c *pgx.Conn, wantCopy bool, queries ...string) {
	x.t.Helper()
	for _, q := range queries {
		before := x.comp.StateReader().RowsRead()
		got := selectRows(x.t, c, q)
		read := x.comp.StateReader().RowsRead() - before
		if wantCopy != (read > 0) {
			x.t.Fatalf("%s: %s read %d rows from the columnar copy, want copy read %v", what, q, read, wantCopy)
		}
		x.srv.Log.SetStateReader(nil)
		want := selectRows(x.t, c, q)
		x.srv.Log.SetStateReader(x.comp.StateReader())
		if !slices.Equal(got, want) {
			x.t.Fatalf("%s: %s\nfrom the copy: %v\nfrom Pebble:   %v", what, q, got, want)
		}
		if len(got) == 0 {
			x.t.Fatalf("%s: %s returned nothing", what, q)
		}
	}
}

// explainVectorized checks that q runs on the vectorized engine (the one
// that reads columnar copies).
func explainVectorized(t *testing.T, c *pgx.Conn, q string) {
	t.Helper()
	plan := selectRows(t, c, "EXPLAIN "+q)
	for _, l := range plan {
		if slices.Contains([]string{"Vectorized HashAggregate", "Vectorized Aggregate"}, trimPlan(l)) {
			return
		}
	}
	t.Fatalf("%s is not vectorized: %v", q, plan)
}

func trimPlan(l string) string {
	for len(l) > 0 && (l[0] == ' ' || l[0] == '-' || l[0] == '>') {
		l = l[1:]
	}
	return l
}

func TestColumnarKeyed(t *testing.T) {
	x := newColumnar(t)
	c := x.c
	exec(t, c, `CREATE TABLE m (id bigint PRIMARY KEY, g integer, v bigint, s text, d date, ts timestamp, f float8, b boolean)`,
		`INSERT INTO m SELECT i, i % 7, i * 3, 's' || (i % 5), DATE '2026-01-01' + (i % 40), TIMESTAMP '2026-01-01 00:00:00' + i * INTERVAL '1 minute',
		        i / 4.0, i % 3 = 0 FROM generate_series(1, 3000) AS i`)
	queries := []string{
		`SELECT g, count(*), sum(v), min(s), max(d), max(ts), sum(f), count(*) FILTER (WHERE b) FROM m GROUP BY g`,
		`SELECT s, count(*), avg(v) FROM m WHERE g > 2 GROUP BY s`,
		`SELECT count(*), sum(id), max(_version) FROM m`,
		`SELECT d, count(*) FROM m WHERE b GROUP BY d`,
	}
	for _, q := range queries {
		explainVectorized(t, c, q)
	}
	x.check("before any compaction", c, false, queries...)
	x.compact()
	x.check("at the watermark", c, true, queries...)

	// Changes after the watermark: updated, deleted and new keys.
	exec(t, c, `UPDATE m SET v = v + 1000, s = 'updated' WHERE id % 10 = 0`,
		`DELETE FROM m WHERE id % 13 = 0`,
		`INSERT INTO m SELECT i, i % 7, i, 'new', DATE '2027-01-01', TIMESTAMP '2027-01-01 00:00:00', 0.5, true FROM generate_series(3001, 3100) AS i`,
		`INSERT INTO m VALUES (13, 100, 1, 'back', NULL, NULL, NULL, NULL)`)
	x.check("with a log tail", c, true, queries...)

	// A column added after the copy: NULL in the copy's rows.
	exec(t, c, `ALTER TABLE m ADD COLUMN extra integer`, `UPDATE m SET extra = id % 4 WHERE id % 3 = 1`)
	x.check("with a column added since", c, true, `SELECT extra, count(*), sum(v) FROM m GROUP BY extra`)
	x.compact()
	x.check("after compacting the tail", c, true, `SELECT extra, count(*), sum(v) FROM m GROUP BY extra`, queries[0])

	// A transaction's snapshot older than the newest copy reads an older one.
	tx, err := c.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(context.Background())
	q := `SELECT g, count(*), sum(v) FROM m GROUP BY g`
	before := selectRows(t, tx.Conn(), q)
	other := x.srv.Connect(t)
	exec(t, other, `INSERT INTO m (id, g, v, s) SELECT i, i % 7, i, 'later' FROM generate_series(5001, 5500) AS i`)
	x.compact()
	// Past the reader's metadata cache (a second), a query outside the
	// transaction loads the newest copy, which is past the transaction's
	// snapshot: the transaction must read its parent snapshot's copy.
	time.Sleep(1100 * time.Millisecond)
	x.check("the newest copy", other, true, q)
	x.check("a snapshot older than the copy", tx.Conn(), true, q)
	if got := selectRows(t, tx.Conn(), q); !slices.Equal(got, before) {
		t.Fatalf("transaction saw later rows: %v, before %v", got, before)
	}
	if err := tx.Rollback(context.Background()); err != nil {
		t.Fatal(err)
	}

	// A tail much longer than the copy: Pebble is read instead.
	for i := 0; i < 3; i++ {
		exec(t, c, `UPDATE m SET v = v + 1`)
	}
	x.check("a long tail", c, false, q)
	// Pending writes of the query's own transaction: Pebble with them.
	tx2, err := c.Begin(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer tx2.Rollback(context.Background())
	if _, err := tx2.Exec(context.Background(), `INSERT INTO m VALUES (9999, 1, 1, 'mine', NULL, NULL, NULL, NULL, NULL)`); err != nil {
		t.Fatal(err)
	}
	rows := selectRows(t, tx2.Conn(), `SELECT count(*) FROM m WHERE s = 'mine'`)
	if !slices.Equal(rows, []string{"1"}) {
		t.Fatalf("own pending write not counted: %v", rows)
	}
}

func TestColumnarTextKeyAndStream(t *testing.T) {
	x := newColumnar(t)
	c := x.c
	exec(t, c, `CREATE TABLE tk (k text PRIMARY KEY, n bigint)`,
		`INSERT INTO tk SELECT 'key' || i, i FROM generate_series(1, 2500) AS i`,
		`CREATE TABLE ev (dev text, seq bigint, temp integer) APPEND ONLY KEY (dev)`,
		`INSERT INTO ev SELECT 'd' || (i % 9), i, i % 50 FROM generate_series(1, 2500) AS i`)
	qs := []string{
		`SELECT n % 10, count(*), sum(n) FROM tk GROUP BY 1`,
		`SELECT dev, count(*), sum(temp), max(seq), max(_version) FROM ev GROUP BY dev`,
		`SELECT count(*) FROM ev`,
	}
	x.compact()
	x.check("at the watermark", c, true, qs...)
	exec(t, c, `UPDATE tk SET n = n * 100 WHERE n % 7 = 0`, `DELETE FROM tk WHERE n % 11 = 0`,
		`INSERT INTO ev SELECT 'd' || (i % 4), i, 99 FROM generate_series(2501, 2600) AS i`)
	x.check("with a log tail", c, true, qs...)
	// A composite key cannot drop tail keys by value: Pebble.
	exec(t, c, `CREATE TABLE ck (a integer, b text, n bigint, PRIMARY KEY (a, b))`,
		`INSERT INTO ck SELECT i % 50, 'b' || i, i FROM generate_series(1, 500) AS i`)
	x.compact()
	q := `SELECT a % 5, count(*), sum(n) FROM ck GROUP BY 1`
	x.check("composite key at the watermark", c, true, q)
	exec(t, c, `UPDATE ck SET n = 0 WHERE a = 1`)
	x.check("composite key with a tail", c, false, q)
}

// TestColumnarRenamedAndRecreated: a renamed column is found by its field
// ID, and a table dropped and created again under the same name never
// reads the old table's copy.
func TestColumnarRenamedAndRecreated(t *testing.T) {
	x := newColumnar(t)
	c := x.c
	exec(t, c, `CREATE TABLE r (id bigint PRIMARY KEY, g integer, v bigint)`,
		`INSERT INTO r SELECT i, i % 4, i FROM generate_series(1, 1000) AS i`)
	x.compact()
	exec(t, c, `ALTER TABLE r RENAME COLUMN v TO amount`)
	x.check("after RENAME COLUMN", c, true, `SELECT g, count(*), sum(amount) FROM r GROUP BY g`)

	exec(t, c, `DROP TABLE r`, `CREATE TABLE r (id bigint PRIMARY KEY, g integer, amount bigint)`,
		`INSERT INTO r SELECT i, i % 3, -i FROM generate_series(1, 50) AS i`)
	q := `SELECT g, count(*), sum(amount) FROM r GROUP BY g`
	x.check("recreated, not compacted", c, false, q)
	want := []string{"0|16|-408", "1|17|-425", "2|17|-442"}
	if got := selectRows(t, c, q); !slices.Equal(got, want) {
		t.Fatalf("recreated table: %v, want %v", got, want)
	}
	// The compactor takes the dropped table's Iceberg tables over: their
	// snapshots go, and they hold the new table's rows only.
	x.compact()
	x.check("recreated and compacted", c, true, q)
	if got := selectRows(t, c, q); !slices.Equal(got, want) {
		t.Fatalf("recreated table after compaction: %v, want %v", got, want)
	}
	equalRows(t, "recreated table's state", scanRows(t, x.comp, table.Identifier{"public", "r"}, "id", "g", "amount"),
		selectRows(t, c, `SELECT id, g, amount FROM r`))
	if n := len(scanRows(t, x.comp, table.Identifier{"public", "r" + iceberg.ChangesSuffix}, "_lsn")); n != 50 {
		t.Fatalf("recreated table's change log has %d events, want 50", n)
	}
}
