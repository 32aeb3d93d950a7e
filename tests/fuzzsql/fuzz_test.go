// Package fuzzsql fuzzes whole statements through a running server: the
// front end, the planner and the executors, where sql.FuzzParse stops at
// the parse. Run it with
//
//	go test ./tests/fuzzsql -run XXX -fuzz FuzzStatements -fuzztime 5m
//
// Without -fuzz, go test runs the seeds below.
package fuzzsql

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/strand-db/strand/tests/strandtest"
)

// FuzzStatements checks that no statement crashes the server or its
// connection, and that every error is a PostgreSQL error with a SQLSTATE
// other than an internal one (class XX).
func FuzzStatements(f *testing.F) {
	for _, s := range []string{
		"SELECT a, sum(b) OVER w, bool_or(a > 1) FILTER (WHERE b > 0) OVER (ORDER BY a) FROM t WINDOW w AS ()",
		"SELECT * FROM t WHERE (a, b) > (1, 2) AND (a, s) IN ((1, 'x'), (2, 'y'))",
		"SELECT (a, b) = ANY (SELECT a, b FROM u) FROM t",
		"SELECT a, row_number() OVER (PARTITION BY b ORDER BY a), lag(s, 2, 'z') OVER (ORDER BY a, b) FROM t",
		"SELECT b, string_agg(s, ',') OVER (ORDER BY a ROWS BETWEEN 1 PRECEDING AND 1 FOLLOWING) FROM t",
		"SELECT sum(a) OVER (ORDER BY d RANGE BETWEEN INTERVAL '1 day' PRECEDING AND CURRENT ROW) FROM t",
		"SELECT count(DISTINCT s), percentile_cont(0.5) WITHIN GROUP (ORDER BY a) FROM t GROUP BY ROLLUP (b)",
		"WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT * FROM r",
		"SELECT j->'k', j->>'k', jsonb_array_elements(j->'l') FROM t",
		"SELECT DISTINCT ON (b) b, a FROM t ORDER BY b, a DESC LIMIT 2 OFFSET 1",
		"EXPLAIN CREATE MATERIALIZED VIEW mv AS SELECT b, sum(a) OVER (PARTITION BY b ORDER BY a) FROM t",
		"CREATE MATERIALIZED VIEW IF NOT EXISTS mc WITH (changelog = true, notify = 'c') AS SELECT b, count(*) AS n FROM t GROUP BY b",
		"BEGIN; DECLARE cl CURSOR FOR SUBSCRIBE vc WITH (start = '2', old = true); FETCH 5 cl WITH (timeout = '0s'); COMMIT",
		"SELECT * FROM t JOIN u ON t.a = u.a AND t.d BETWEEN u.d - interval '1 hour' AND u.d",
		"SELECT lower(s) OVER () FROM t",
		"INSERT INTO t VALUES (10, 2, 'q', now(), '{}') ON CONFLICT (a) DO UPDATE SET b = excluded.b RETURNING *",
	} {
		f.Add(s)
	}
	ctx := context.Background()
	s := strandtest.Start(f, "")
	c := s.Connect(f).PgConn()
	for _, q := range []string{
		`SET statement_timeout = '2s'`,
		`CREATE TABLE t (a int PRIMARY KEY, b int, s text, d timestamptz, j jsonb)`,
		`CREATE TABLE u (a int, b int, d timestamptz)`,
		`INSERT INTO t VALUES (1, 1, 'x', '2024-01-01', '{"k": 1, "l": [1, 2]}'), (2, NULL, NULL, NULL, NULL), (3, 1, 'y', '2024-01-02', '{"k": "v"}')`,
		`INSERT INTO u VALUES (1, 1, '2024-01-01'), (NULL, 2, NULL)`,
		`CREATE MATERIALIZED VIEW v AS SELECT b, count(*) AS n, sum(a) AS total FROM t GROUP BY b`,
		`CREATE MATERIALIZED VIEW vc WITH (changelog = true) AS SELECT a, b, s FROM t WHERE b IS NOT NULL`,
	} {
		if _, err := c.Exec(ctx, q).ReadAll(); err != nil {
			f.Fatalf("%s: %v", q, err)
		}
	}
	f.Fuzz(func(t *testing.T, q string) {
		if strings.ContainsRune(q, 0) {
			return // PostgreSQL's protocol cannot carry it
		}
		qctx, cancel := context.WithTimeout(ctx, 20*time.Second)
		defer cancel()
		_, err := c.Exec(qctx, q).ReadAll()
		if err == nil {
			return
		}
		var pe *pgconn.PgError
		switch {
		case !errors.As(err, &pe):
			t.Fatalf("%q: the connection broke: %v", q, err)
		case pe.Code == "" || strings.HasPrefix(pe.Code, "XX"):
			t.Fatalf("%q: %s %s", q, pe.Code, pe.Message)
		}
		// An aborted transaction block would make every later input fail.
		if c.TxStatus() != 'I' {
			if _, err := c.Exec(ctx, "ROLLBACK").ReadAll(); err != nil {
				t.Fatalf("ROLLBACK after %q: %v", q, err)
			}
		}
	})
}
