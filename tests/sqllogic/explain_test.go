package sqllogic

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/strand-db/strand/tests/strandtest"
)

// planLines runs EXPLAIN [ANALYZE] and returns its lines.
func planLines(t *testing.T, c *pgx.Conn, q string) []string {
	t.Helper()
	rows, err := c.Query(context.Background(), q, pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var lines []string
	for rows.Next() {
		var l string
		if err := rows.Scan(&l); err != nil {
			t.Fatal(err)
		}
		lines = append(lines, l)
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return lines
}

// The plans a view's readers get: a key predicate on a view goes through
// its projection and GROUP BY to a key lookup of its table, and a point
// lookup joined with a view reads it by key per row. EXPLAIN ANALYZE
// runs the query and reports its rows and times; EXPLAIN EXECUTE shows a
// prepared query's plan.
func TestViewPlansAndExplainAnalyze(t *testing.T) {
	ctx := context.Background()
	c := strandtest.Start(t, "").Connect(t)
	strandtest.ExecAll(t, c,
		`CREATE TABLE xp_t (id int PRIMARY KEY, amount int)`,
		`INSERT INTO xp_t SELECT i, i % 10 FROM generate_series(1, 500) AS s(i)`,
		`CREATE TABLE xp_a (id int PRIMARY KEY, x int)`,
		`INSERT INTO xp_a SELECT i, i * 3 FROM generate_series(1, 50) AS s(i)`,
		`CREATE VIEW xp_v AS SELECT id, amount * 2 AS dbl FROM xp_t WHERE amount >= 0`,
		`CREATE VIEW xp_g AS SELECT id, count(*) AS n, sum(amount) AS s FROM xp_t GROUP BY id`)
	has := func(q string, want ...string) {
		t.Helper()
		plan := strings.Join(planLines(t, c, q), "\n")
		for _, w := range want {
			if !strings.Contains(plan, w) {
				t.Errorf("%s: plan lacks %q:\n%s", q, w, plan)
			}
		}
	}
	has(`EXPLAIN SELECT * FROM xp_v WHERE id = 7`, "Key Lookup on xp_t")
	has(`EXPLAIN SELECT * FROM xp_g WHERE id = 7`, "HashAggregate", "Key Lookup on xp_t")
	has(`EXPLAIN SELECT a.id, v.dbl FROM xp_a a JOIN xp_v v ON v.id = a.x WHERE a.id = 7`,
		"Nested Loop Inner Join (right side per row)", "Key: id = a.x")
	has(`EXPLAIN SELECT a.id, g.s FROM xp_a a LEFT JOIN xp_g g ON g.id = a.x WHERE a.id = 7`,
		"Nested Loop Left Join (right side per row)", "Key: id = a.x")

	var want int
	if err := c.QueryRow(ctx, `SELECT count(*) FROM xp_t WHERE amount < 3`).Scan(&want); err != nil {
		t.Fatal(err)
	}
	lines := planLines(t, c, `EXPLAIN ANALYZE SELECT * FROM xp_t WHERE amount < 3`)
	if len(lines) < 3 || !strings.HasSuffix(lines[0], fmt.Sprintf(" (actual rows=%d loops=1)", want)) ||
		!strings.HasPrefix(lines[len(lines)-2], "Planning Time: ") || !strings.HasPrefix(lines[len(lines)-1], "Execution Time: ") {
		t.Errorf("EXPLAIN ANALYZE (%d rows):\n%s", want, strings.Join(lines, "\n"))
	}

	strandtest.ExecAll(t, c, `PREPARE xp_q AS SELECT * FROM xp_t WHERE id = $1`)
	has(`EXPLAIN EXECUTE xp_q (3)`, "Key: id = $1")
	if lines := planLines(t, c, `EXPLAIN ANALYZE EXECUTE xp_q (3)`); !strings.HasSuffix(lines[0], "(actual rows=1 loops=1)") {
		t.Errorf("EXPLAIN ANALYZE EXECUTE:\n%s", strings.Join(lines, "\n"))
	}

	// ANALYZE runs what it explains: a write is refused, not run.
	_, err := c.Exec(ctx, `EXPLAIN ANALYZE INSERT INTO xp_t VALUES (1000, 1)`)
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "0A000" {
		t.Errorf("EXPLAIN ANALYZE INSERT: got %v, want 0A000", err)
	}
	var n int
	if err := c.QueryRow(ctx, `SELECT count(*) FROM xp_t`).Scan(&n); err != nil || n != 500 {
		t.Errorf("xp_t has %d rows (%v), want 500", n, err)
	}
}

// EXPLAIN CREATE MATERIALIZED VIEW shows how the view would be maintained
// (its incremental plan, each operator with its state) and creates
// nothing; a shape that cannot be maintained fails as CREATE would.
func TestExplainCreateMaterializedView(t *testing.T) {
	ctx := context.Background()
	c := strandtest.Start(t, "").Connect(t)
	strandtest.ExecAll(t, c,
		`CREATE TABLE xm_ev (id bigint PRIMARY KEY, acct bigint, amount bigint, ts timestamptz)`,
		`CREATE TABLE xm_acct (id bigint PRIMARY KEY, region text)`,
		`CREATE TABLE xm_stream (acct bigint, amount bigint) APPEND ONLY KEY (acct)`)
	for q, want := range map[string][]string{
		`EXPLAIN CREATE MATERIALIZED VIEW m1 AS SELECT acct, count(*) AS n, sum(DISTINCT amount) AS s, min(amount) FROM xm_ev GROUP BY acct`: {
			"Materialized View", "State: one row per group", "->  Aggregate", "Group Key: acct",
			"Aggregates: count(*), sum(DISTINCT amount), min(amount)", "a deleted extreme gives way", "  ->  Changes of xm_ev"},
		// A changelog is said, with its key: the group, or the key of
		// the table the rows stand for.
		`EXPLAIN CREATE MATERIALIZED VIEW m50 WITH (changelog = true) AS SELECT acct, count(*) AS n FROM xm_ev GROUP BY acct`: {
			"Materialized View", "Changelog: each key's changes kept as events (key: acct)", "->  Aggregate"},
		`EXPLAIN CREATE MATERIALIZED VIEW m51 WITH (changelog = true) AS SELECT e.id, a.region FROM xm_ev e JOIN xm_acct a ON e.acct = a.id`: {
			"Changelog: each key's changes kept as events (key: id)"},
		`EXPLAIN CREATE MATERIALIZED VIEW m26 AS SELECT acct, amount * 2 FROM xm_stream WHERE amount > 5`: {
			"Materialized View", "State: one row per event of the stream, keyed by its LSN", "->  Filter", "->  Changes of xm_stream"},
		`EXPLAIN CREATE MATERIALIZED VIEW m2 AS SELECT e.id, a.region FROM xm_ev e LEFT JOIN xm_acct a ON a.id = e.acct WHERE e.amount > 5`: {
			"->  Filter", "Condition: (e.amount > 5)", "->  Left Join", "Join Key: e.acct = a.id", "->  Changes of xm_acct",
			// The side a row looks up is read first: an event then
			// finds its account at once, instead of going out
			// NULL-padded and coming back.
			"Backfill: reads xm_acct, then xm_ev"},
		// A fact-dimension join: facts read after their dimension rows
		// go straight into the output (not stored unmatched, then moved).
		`EXPLAIN CREATE MATERIALIZED VIEW m40 AS SELECT e.id, e.acct, a.region, e.amount FROM xm_ev e JOIN xm_acct a ON e.acct = a.id`: {
			"Backfill: reads xm_acct, then xm_ev", "->  Inner Join"},
		`EXPLAIN CREATE MATERIALIZED VIEW m41 AS SELECT a.id, count(e.id) FROM xm_acct a LEFT JOIN xm_ev e ON e.acct = a.id GROUP BY a.id`: {
			"Backfill: reads xm_ev, then xm_acct"},
		`EXPLAIN CREATE MATERIALIZED VIEW m3 AS SELECT * FROM (SELECT acct, id, row_number() OVER (PARTITION BY acct ORDER BY amount DESC, id) AS rn FROM xm_ev) s WHERE rn <= 3`: {
			"->  Top-N", "Partition: acct", "Order: amount DESC, id", "Rows: 3"},
		// rank() and dense_rank() bounded by a WHERE: a top-N that keeps
		// the ties; unbounded, the window operator.
		`EXPLAIN CREATE MATERIALIZED VIEW m21 AS SELECT * FROM (SELECT acct, id, rank() OVER (PARTITION BY acct ORDER BY amount DESC) AS r FROM xm_ev) s WHERE r <= 3`: {
			"->  Top-N", "Partition: acct", "Order: amount DESC", "Rows: rank() <= 3, with ties", "the first 3 of its partition and their ties"},
		`EXPLAIN CREATE MATERIALIZED VIEW m22 AS SELECT id FROM (SELECT id, dense_rank() OVER (ORDER BY amount) AS r FROM xm_ev) s WHERE r = 1`: {
			"->  Top-N", "Rows: dense_rank() <= 1, with ties"},
		`EXPLAIN CREATE MATERIALIZED VIEW m23 AS SELECT * FROM (SELECT id, rank() OVER (PARTITION BY acct ORDER BY amount) AS r FROM xm_ev) s WHERE r % 2 = 0`: {
			"->  Window", "Functions: rank()", "a change recomputes the rows from it (from the first of its peers) to the partition's end, continuing from the row before"},
		// Running functions continue from the row before a change; a
		// float avg cannot (its sum's rounding depends on the order of
		// additions), and recomputes the partition.
		`EXPLAIN CREATE MATERIALIZED VIEW m27 AS SELECT id, row_number() OVER w, sum(amount) OVER (w ROWS UNBOUNDED PRECEDING) FROM xm_ev WINDOW w AS (PARTITION BY acct ORDER BY ts, id)`: {
			"->  Window", "a change recomputes the rows from it to the partition's end"},
		// Without PARTITION BY, when a change costs the rows around it or
		// after it: the table is one partition.
		`EXPLAIN CREATE MATERIALIZED VIEW m29 AS SELECT id, lag(amount) OVER (ORDER BY id) FROM xm_ev`: {
			"->  Window", "Partition: none (the rows are one partition)", "a change reads 1 row on each side of it"},
		`EXPLAIN CREATE MATERIALIZED VIEW m30 AS SELECT id, rank() OVER (ORDER BY amount), count(*) OVER (ORDER BY amount) FROM xm_ev`: {
			"->  Window", "a change recomputes the rows from it (from the first of its peers) to the partition's end"},
		`EXPLAIN CREATE MATERIALIZED VIEW m31 AS SELECT id, amount - lag(amount) OVER w, lead(id, 2) OVER w, sum(amount) OVER w FROM xm_ev WINDOW w AS (PARTITION BY acct ORDER BY id)`: {
			"->  Window", "a change recomputes the rows from the 2 rows before it (from the first of its peers) to the partition's end, continuing from the row before (and the lag of the first from the 1 row before)"},
		`EXPLAIN CREATE MATERIALIZED VIEW m28 AS SELECT id, avg(amount::float8) OVER (PARTITION BY acct ORDER BY ts) FROM xm_ev`: {
			"->  Window", "a change recomputes its partition"},
		// Interval joins: each side's rows by the column ON bounds, a
		// change reading those within its bounds. Over timestamptz, a day
		// is not a fixed time, so e.ts - interval '1 day' <= f.ts does
		// not bound e.ts from above.
		`EXPLAIN CREATE MATERIALIZED VIEW m32 AS SELECT e.id, f.id AS f FROM xm_ev e JOIN xm_ev f ON f.acct = e.acct AND f.ts BETWEEN e.ts - interval '1 hour' AND e.ts`: {
			"->  Inner Join", "Join Key: e.acct = f.acct",
			"left rows by e.ts, a change of the right side reading those >= f.ts and <= (f.ts + '01:00:00'::interval)",
			"right rows by f.ts, a change of the left side reading those >= (e.ts - '01:00:00'::interval) and <= e.ts"},
		`EXPLAIN CREATE MATERIALIZED VIEW m33 AS SELECT e.id FROM xm_ev e WHERE NOT EXISTS (SELECT 1 FROM xm_ev f WHERE f.acct = e.acct AND f.ts BETWEEN e.ts - interval '1 day' AND e.ts AND f.id <> e.id)`: {
			"->  Anti Join", "left rows by e.ts, a change of the right side reading those >= f.ts;",
			"right rows by f.ts, a change of the left side reading those >= (e.ts - '1 day'::interval) and <= e.ts"},
		// The same bounds in WHERE over an inner join move into its ON;
		// a condition on one side stays in WHERE.
		`EXPLAIN CREATE MATERIALIZED VIEW m34 AS SELECT e.id, f.id AS f FROM xm_ev e JOIN xm_ev f ON f.acct = e.acct WHERE f.amount > 5 AND f.ts BETWEEN e.ts - interval '1 hour' AND e.ts`: {
			"->  Filter", "Condition: (f.amount > 5)", "->  Inner Join", "Join Filter: ((f.ts >= (e.ts - '01:00:00'::interval)) AND (f.ts <= e.ts))",
			"right rows by f.ts, a change of the left side reading those >= (e.ts - '01:00:00'::interval) and <= e.ts"},
		// A LATERAL subquery that only filters, compared with the outer
		// rows beside an equality: a join with those conditions in ON.
		`EXPLAIN CREATE MATERIALIZED VIEW m35 AS SELECT a.id, t.amount FROM xm_acct a, LATERAL (SELECT amount FROM xm_ev e WHERE e.acct = a.id AND e.amount > a.id * 2) t`: {
			"->  Inner Join", "Join Key: a.id = t.?lat0", "Join Filter: (t.?lat1 > (a.id * 2))", "right rows by t.?lat1, a change of the left side reading those >= (a.id * 2)"},
		// Two conditions on one of the subquery's columns bound it from
		// both ends: it is carried out once.
		`EXPLAIN CREATE MATERIALIZED VIEW m39 AS SELECT a.id, t.amount FROM xm_acct a, LATERAL (SELECT amount FROM xm_ev e WHERE e.acct = a.id AND e.amount > a.id AND amount < a.id * 10) t`: {
			"Join Filter: ((t.?lat1 > a.id) AND (t.?lat1 < (a.id * 10)))", "right rows by t.?lat1, a change of the left side reading those >= a.id and <= (a.id * 10)"},
		// A condition over a subquery related to the row by equalities.
		`EXPLAIN CREATE MATERIALIZED VIEW m25 AS SELECT id FROM xm_ev e WHERE amount > (SELECT max(amount) FROM xm_ev f WHERE f.acct = e.acct)`: {
			"->  Filter", "->  Left Join", "Join Key: e.acct = f.acct", "->  Aggregate", "Group Key: f.acct"},
		`EXPLAIN CREATE MATERIALIZED VIEW m4 AS SELECT id, lag(amount) OVER (PARTITION BY acct ORDER BY id) FROM xm_ev WHERE ts > now() - interval '1 hour'`: {
			"->  Window", "Functions: lag(amount)", "a change reads 1 row on each side of it", "->  Temporal Filter", "now() < ts + 1h0m0s"},
		`EXPLAIN CREATE MATERIALIZED VIEW m6 AS SELECT id FROM xm_ev WHERE amount > 5 AND ts > (SELECT max(ts) FROM xm_ev) - interval '1 hour'`: {
			"->  Dynamic Filter", "Condition: ts > (the subquery's value)", "the rows between the old and the new", "->  Filter", "Aggregates: max(ts)"},
		`EXPLAIN CREATE MATERIALIZED VIEW m15 AS SELECT id FROM xm_ev WHERE acct NOT IN (SELECT id FROM xm_acct WHERE region = 'eu')`: {
			"->  Dynamic Filter", "NOT IN gate: every row while the subquery has no rows", "->  Anti Join", "Join Key: acct = id",
			"Backfill: reads xm_acct, then xm_ev"},
		`EXPLAIN CREATE MATERIALIZED VIEW m14 AS SELECT a.id, t.amount FROM xm_acct a, LATERAL (SELECT amount FROM xm_ev e WHERE e.acct = a.id ORDER BY amount DESC, id LIMIT 3) t`: {
			"->  Inner Join", "->  Top-N", "Partition: e.acct", "Rows: 3"},
	} {
		plan := strings.Join(planLines(t, c, q), "\n")
		for _, w := range want {
			if !strings.Contains(plan, w) {
				t.Errorf("%s: plan lacks %q:\n%s", q, w, plan)
			}
		}
	}
	var n int
	if err := c.QueryRow(ctx, `SELECT count(*) FROM pg_catalog.strand_views`).Scan(&n); err != nil || n != 0 {
		t.Errorf("EXPLAIN created %d views (err %v)", n, err)
	}
	for _, q := range []string{
		// Unpartitioned, and neither running nor bounded: every change
		// would recompute the table.
		`EXPLAIN CREATE MATERIALIZED VIEW m5 AS SELECT id, avg(amount::float8) OVER (ORDER BY id) FROM xm_ev`,
		`EXPLAIN CREATE MATERIALIZED VIEW m24 AS SELECT id, rank() OVER (ORDER BY amount), percent_rank() OVER (ORDER BY amount) FROM xm_ev`,
		// A dynamic filter's subquery: one aggregate row, uncorrelated.
		// Related to the row by other than equalities.
		`EXPLAIN CREATE MATERIALIZED VIEW m7 AS SELECT id FROM xm_ev e WHERE amount > (SELECT max(amount) FROM xm_ev f WHERE f.acct < e.acct)`,
		`EXPLAIN CREATE MATERIALIZED VIEW m8 AS SELECT id FROM xm_ev WHERE amount > (SELECT max(amount) FROM xm_ev GROUP BY acct)`,
		`EXPLAIN CREATE MATERIALIZED VIEW m9 AS SELECT id FROM xm_ev WHERE amount > (SELECT amount FROM xm_ev WHERE id = 1)`,
		// A LATERAL subquery relates to the items before it by
		// equalities in its WHERE only.
		`EXPLAIN CREATE MATERIALIZED VIEW m10 AS SELECT a.id, t.amount FROM xm_acct a, LATERAL (SELECT amount FROM xm_ev e WHERE e.amount > a.id) t`,
		`EXPLAIN CREATE MATERIALIZED VIEW m11 AS SELECT a.id, t.x FROM xm_acct a, LATERAL (SELECT e.amount + a.id AS x FROM xm_ev e WHERE e.acct = a.id) t`,
		`EXPLAIN CREATE MATERIALIZED VIEW m12 AS SELECT a.id, t.x FROM xm_acct a JOIN LATERAL (SELECT count(*) AS x FROM xm_ev e WHERE e.acct = a.id) t ON t.x > 1`,
		`EXPLAIN CREATE MATERIALIZED VIEW m13 AS SELECT a.id, t.amount FROM xm_acct a, LATERAL (SELECT amount FROM xm_ev e WHERE e.acct = a.id LIMIT 2) t`,
		// Other conditions on the outer rows: only beside an equality, in
		// a subquery that only filters.
		`EXPLAIN CREATE MATERIALIZED VIEW m36 AS SELECT a.id, t.amount FROM xm_acct a, LATERAL (SELECT amount FROM xm_ev e WHERE e.acct = a.id AND e.amount > a.id ORDER BY amount LIMIT 2) t`,
		`EXPLAIN CREATE MATERIALIZED VIEW m37 AS SELECT a.id, t.n FROM xm_acct a, LATERAL (SELECT count(*) AS n FROM xm_ev e WHERE e.acct = a.id AND e.amount > a.id) t`,
		`EXPLAIN CREATE MATERIALIZED VIEW m38 AS SELECT a.id, t.amount FROM xm_acct a, LATERAL (SELECT DISTINCT amount FROM xm_ev e WHERE e.acct = a.id AND e.amount > a.id) t`,
		// Over no rows count(*) + 1 is 1, which an unmatched row's NULL
		// is not.
		`EXPLAIN CREATE MATERIALIZED VIEW m20 AS SELECT a.id, t.n FROM xm_acct a, LATERAL (SELECT count(*) + 1 AS n FROM xm_ev e WHERE e.acct = a.id) t`,
		// Window functions and DISTINCT ON would number or pick across
		// every key's rows at once.
		`EXPLAIN CREATE MATERIALIZED VIEW m18 AS SELECT a.id, t.r FROM xm_acct a, LATERAL (SELECT row_number() OVER (ORDER BY amount) AS r FROM xm_ev e WHERE e.acct = a.id) t`,
		`EXPLAIN CREATE MATERIALIZED VIEW m19 AS SELECT a.id, t.amount FROM xm_acct a, LATERAL (SELECT DISTINCT ON (ts) amount FROM xm_ev e WHERE e.acct = a.id ORDER BY ts, amount) t`,
		// A select-list subquery that does not relate to the row: each
		// change of it would rewrite every row.
		`EXPLAIN CREATE MATERIALIZED VIEW m16 AS SELECT id, amount - (SELECT avg(amount) FROM xm_ev) FROM xm_ev`,
		`EXPLAIN CREATE MATERIALIZED VIEW m17 AS SELECT id, (SELECT count(*) FROM xm_acct WHERE region = 'eu') FROM xm_ev`,
		// A changelog needs a key: EXPLAIN checks it as CREATE does.
		`EXPLAIN CREATE MATERIALIZED VIEW m52 WITH (changelog = true) AS SELECT acct, amount FROM xm_ev`,
	} {
		_, err := c.Exec(ctx, q)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "0A000" {
			t.Errorf("%s: %v, want 0A000", q, err)
		}
	}
}

// A view whose output rows are keyed by some of their columns is read by
// key for equalities on a leading run of them: a fact-dimension join by
// its join key, a filtered projection of a keyed table by that key.
func TestViewOutputKeyLookups(t *testing.T) {
	c := strandtest.Start(t, "").Connect(t)
	strandtest.ExecAll(t, c,
		`CREATE TABLE ok_f (id bigint PRIMARY KEY, dim bigint NOT NULL, amount int)`,
		`CREATE TABLE ok_d (id bigint PRIMARY KEY, label text)`,
		`CREATE MATERIALIZED VIEW ok_fd AS SELECT f.id, f.dim, d.label, f.amount FROM ok_f f JOIN ok_d d ON d.id = f.dim`,
		`CREATE MATERIALIZED VIEW ok_big AS SELECT id, amount FROM ok_f WHERE amount > 50`,
		`CREATE MATERIALIZED VIEW ok_sum AS SELECT dim, sum(amount) AS s FROM ok_f GROUP BY dim`)
	for q, want := range map[string]string{
		`EXPLAIN SELECT * FROM ok_fd WHERE dim = 3`:            "Key: dim = 3",
		`EXPLAIN SELECT * FROM ok_fd WHERE dim = 3 AND id = 7`: "Key: dim = 3 AND id = 7",
		`EXPLAIN SELECT * FROM ok_big WHERE id = 13`:           "Key: id = 13",
		`EXPLAIN SELECT * FROM ok_sum WHERE dim = 2`:           "Key: dim = 2",
		`EXPLAIN SELECT * FROM ok_fd WHERE id = 7`:             "Materialized View Scan",
		`EXPLAIN SELECT * FROM ok_big WHERE amount = 60`:       "Materialized View Scan",
	} {
		plan := strings.Join(planLines(t, c, q), "\n")
		if !strings.Contains(plan, want) {
			t.Errorf("%s: plan lacks %q:\n%s", q, want, plan)
		}
	}
}
