package viewdiff

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/strand-db/strand/tests/strandtest"
)

// A view's state holds rows in the shape of the columns of the tables it
// reads. ALTER TABLE that adds, drops or renames a column, or renames the
// table, while a view reads it is refused (2BP01), and the tables and the
// view go on taking writes and answering as before. (Before the refusal,
// dropping a column no view used made every later UPDATE of the join's
// other side fail with "corrupt row encoding", and adding one made DELETE
// fail under a SELECT * top-N.) Once the views are dropped, the ALTER runs.
func TestAlterTableReadByView(t *testing.T) {
	ctx := context.Background()
	s := strandtest.Start(t, "")
	c := s.Connect(t)
	exec := func(q string) error {
		_, err := c.Exec(ctx, q)
		return err
	}
	strandtest.ExecAll(t, c,
		`CREATE TABLE o (id int PRIMARY KEY, c int NOT NULL, junk text, amt int)`,
		`CREATE TABLE cu (id int PRIMARY KEY, name text)`,
		`CREATE TABLE other (id int PRIMARY KEY)`,
		`INSERT INTO cu VALUES (1, 'a'), (2, 'b')`,
		`INSERT INTO o VALUES (1, 1, 'x', 5), (2, 1, 'y', 6), (3, 2, 'z', 7)`,
		`CREATE MATERIALIZED VIEW oj AS SELECT o.id, cu.name, o.amt FROM o JOIN cu ON cu.id = o.c`,
		`CREATE MATERIALIZED VIEW otop AS SELECT * FROM o ORDER BY amt DESC LIMIT 2`)
	for _, q := range []string{
		`ALTER TABLE o DROP COLUMN junk`,
		`ALTER TABLE o ADD COLUMN z int`,
		`ALTER TABLE o RENAME COLUMN junk TO junk2`,
		`ALTER TABLE o RENAME TO o2`,
		`ALTER TABLE cu ADD COLUMN z int`,
		`ALTER TABLE cu DROP COLUMN name`,
	} {
		err := exec(q)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "2BP01" || !strings.Contains(pe.Message, "materialized view") {
			t.Errorf("%s: got %v, want 2BP01 naming the materialized view", q, err)
		}
	}
	// A view is no table to alter, and a table no view; ALTER
	// MATERIALIZED VIEW renames a view, or its column, that no other view
	// reads.
	strandtest.ExecAll(t, c, `CREATE MATERIALIZED VIEW oj_n AS SELECT count(*) AS n FROM oj`)
	for q, code := range map[string]string{
		`ALTER TABLE oj ADD COLUMN q int`:                     "42809",
		`ALTER MATERIALIZED VIEW o RENAME TO o9`:              "42809",
		`ALTER MATERIALIZED VIEW oj RENAME TO oj2`:            "2BP01",
		`ALTER MATERIALIZED VIEW oj_n RENAME TO otop`:         "42P07",
		`ALTER MATERIALIZED VIEW oj RENAME COLUMN name TO nm`: "2BP01", // oj_n reads it
		`ALTER MATERIALIZED VIEW oj SET SCHEMA public`:        "0A000",
	} {
		var pe *pgconn.PgError
		if err := exec(q); !errors.As(err, &pe) || pe.Code != code {
			t.Errorf("%s: got %v, want %s", q, err, code)
		}
	}
	strandtest.ExecAll(t, c, `ALTER MATERIALIZED VIEW oj_n RENAME TO oj_count`, `ALTER MATERIALIZED VIEW IF EXISTS nosuch RENAME TO x`)
	// What is not a column change still runs, on a table views read too.
	strandtest.ExecAll(t, c,
		`ALTER TABLE o SET (notify = 'true')`,
		`ALTER TABLE o DROP COLUMN IF EXISTS nosuch`,
		`ALTER TABLE other ADD COLUMN v int`,
		`UPDATE cu SET name = 'A' WHERE id = 1`,
		`DELETE FROM o WHERE id = 2`,
		`INSERT INTO o VALUES (4, 2, 'w', 9)`)
	strandtest.ViewMatchesQuery(t, c, "oj", `SELECT o.id, cu.name, o.amt FROM o JOIN cu ON cu.id = o.c`)
	strandtest.ViewMatchesQuery(t, c, "otop", `SELECT * FROM o ORDER BY amt DESC LIMIT 2`)
	strandtest.ViewMatchesQuery(t, c, "oj_count", `SELECT count(*) AS n FROM oj`)
	strandtest.ExecAll(t, c,
		`DROP MATERIALIZED VIEW oj_count, oj, otop`,
		`ALTER TABLE o DROP COLUMN junk`,
		`ALTER TABLE o RENAME TO o2`,
		`UPDATE cu SET name = 'B' WHERE id = 2`,
		`CREATE MATERIALIZED VIEW oj AS SELECT o2.id, cu.name, o2.amt FROM o2 JOIN cu ON cu.id = o2.c`)
	if rows := strandtest.ViewMatchesQuery(t, c, "oj", `SELECT o2.id, cu.name, o2.amt FROM o2 JOIN cu ON cu.id = o2.c`); len(rows) != 3 {
		t.Errorf("oj has %d rows, want 3", len(rows))
	}
}

// A view's definition resolves names through the creating session's
// search path, when it is created and whenever it is compiled again
// (after every catalog change, and at startup); a new table that would
// make the definition name another table is refused (2BP01) rather than
// switch the view to it.
func TestViewNamesResolveAsCreated(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	s := strandtest.Start(t, dir)
	c := s.Connect(t)
	strandtest.ExecAll(t, c,
		`CREATE SCHEMA sa`, `CREATE SCHEMA sb`,
		`CREATE TABLE sb.t (id int PRIMARY KEY, v int)`,
		`CREATE TABLE t (id int PRIMARY KEY, v int)`,
		`INSERT INTO sb.t VALUES (1, 10), (2, 10)`,
		`INSERT INTO t VALUES (1, 99)`,
		`SET search_path = sa, sb`,
		`CREATE MATERIALIZED VIEW by_v AS SELECT v, count(*) AS n FROM t GROUP BY v`,
		`RESET search_path`,
		`CREATE MATERIALIZED VIEW sa.pub AS SELECT id, v FROM t`)
	for _, q := range []string{`CREATE TABLE sa.t (id int PRIMARY KEY, v int)`} {
		_, err := c.Exec(ctx, q)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "2BP01" {
			t.Errorf("%s: got %v, want 2BP01", q, err)
		}
	}
	s.Stop()
	s = strandtest.Start(t, dir)
	c = s.Connect(t)
	strandtest.ExecAll(t, c, `INSERT INTO sb.t VALUES (3, 20)`, `INSERT INTO t VALUES (2, 98)`)
	strandtest.ViewMatchesQuery(t, c, "sa.by_v", `SELECT v, count(*) AS n FROM sb.t GROUP BY v`)
	if rows := strandtest.ViewMatchesQuery(t, c, "sa.pub", `SELECT id, v FROM public.t`); len(rows) != 2 {
		t.Errorf("sa.pub has %d rows, want public.t's 2", len(rows))
	}
}

// A view over a function of the time or the session (now(), CURRENT_DATE,
// age(ts), current_user, pg_backend_pid()) would not be a function of its
// tables: CREATE refuses it with 0A000 naming the part. Functions of
// their arguments alone (to_timestamp(n), age(a, b), date_trunc) are
// maintained.
func TestViewRefusesTimeAndSessionFunctions(t *testing.T) {
	ctx := context.Background()
	s := strandtest.Start(t, "")
	c := s.Connect(t)
	strandtest.ExecAll(t, c, `CREATE TABLE q (id int PRIMARY KEY, ts timestamptz, d date)`)
	for def, part := range map[string]string{
		`SELECT id FROM q WHERE d = current_date`:                                           "WHERE",
		`SELECT id, localtimestamp AS l FROM q`:                                             `column "l"`,
		`SELECT id, now() - ts AS waited FROM q`:                                            `column "waited"`,
		`SELECT id, age(ts) AS a FROM q`:                                                    `column "a"`,
		`SELECT id, current_user AS u FROM q`:                                               `column "u"`,
		`SELECT id FROM q WHERE pg_backend_pid() IS NOT NULL`:                               "WHERE",
		`SELECT id, CASE WHEN random() > 0.5 THEN 1 END AS r FROM q`:                        `column "r"`,
		`SELECT d, count(*) FROM q GROUP BY d HAVING d IN (current_date, current_date - 1)`: "HAVING",
		`SELECT d, sum(extract(epoch from now() - ts)) AS s FROM q GROUP BY d`:              "the argument of sum",
	} {
		_, err := c.Exec(ctx, "CREATE MATERIALIZED VIEW v AS "+def)
		if err == nil {
			strandtest.ExecAll(t, c, "DROP MATERIALIZED VIEW v")
		}
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "0A000" || !strings.Contains(pe.Message, part) || !strings.Contains(pe.Message, "over time or with the session") {
			t.Errorf("%s: got %v, want 0A000 naming %s", def, err, part)
		}
	}
	strandtest.ExecAll(t, c,
		`CREATE MATERIALIZED VIEW ok1 AS SELECT id, to_timestamp(id) AS t, age(ts, timestamptz '2020-01-01') AS a, date_trunc('hour', ts) AS h FROM q`,
		`INSERT INTO q VALUES (1, '2024-03-01 10:30:00+00', '2024-03-01')`)
	strandtest.ViewMatchesQuery(t, c, "ok1", `SELECT id, to_timestamp(id) AS t, age(ts, timestamptz '2020-01-01') AS a, date_trunc('hour', ts) AS h FROM q`)
}

// pg_catalog.strand_views reports each view's state size in sstables
// (state_bytes): after CHECKPOINT, which flushes the memtables, a view
// over 20,000 rows has some, and one over none has none; pg_table_size
// and its kin report tables' and views' sizes the same way.
func TestViewStateBytesAfterCheckpoint(t *testing.T) {
	ctx := context.Background()
	s := strandtest.Start(t, "")
	c := s.Connect(t)
	strandtest.ExecAll(t, c, `CREATE TABLE sb (id int PRIMARY KEY, k int)`,
		`CREATE TABLE sb_empty (id int PRIMARY KEY, k int)`,
		`INSERT INTO sb SELECT i, i % 50 FROM generate_series(1, 20000) AS s(i)`,
		`CREATE MATERIALIZED VIEW sb_rows AS SELECT a.id, b.k FROM sb a JOIN sb b ON b.id = a.k`,
		`CREATE MATERIALIZED VIEW sb_none AS SELECT k, count(*) FROM sb_empty GROUP BY k`,
		`CHECKPOINT`)
	sizes := map[string]int64{}
	rows, err := c.Query(ctx, `SELECT name, state_bytes FROM pg_catalog.strand_views`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var name string
		var n int64
		if err := rows.Scan(&name, &n); err != nil {
			t.Fatal(err)
		}
		sizes[name] = n
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if sizes["sb_rows"] < 100_000 {
		t.Errorf("sb_rows (20,000 joined rows) has %d state bytes after CHECKPOINT", sizes["sb_rows"])
	}
	if sizes["sb_none"] > 1024 {
		t.Errorf("sb_none (no rows) has %d state bytes", sizes["sb_none"])
	}
	// pg_table_size and its kin: a table's log, a view's state (what
	// psql's \dt+ and \dm+ show), NULL for an OID that names nothing.
	var table, empty, view, database int64
	var none *int64
	err = c.QueryRow(ctx, `SELECT pg_table_size('sb'), pg_total_relation_size('sb_empty'::regclass), pg_relation_size('sb_rows'),
		pg_database_size(current_database()), pg_table_size(12345)`).Scan(&table, &empty, &view, &database, &none)
	if err != nil {
		t.Fatal(err)
	}
	if table < 100_000 || empty != 0 || view != sizes["sb_rows"] || database < table+view || none != nil {
		t.Errorf("sizes: sb %d, sb_empty %d, sb_rows %d (state_bytes %d), database %d, OID 12345 %v", table, empty, view, sizes["sb_rows"], database, none)
	}
	var pe *pgconn.PgError
	if _, err := c.Exec(ctx, `SELECT pg_table_size('nope')`); !errors.As(err, &pe) || pe.Code != "42P01" {
		t.Errorf("pg_table_size('nope'): %v, want 42P01", err)
	}
}
