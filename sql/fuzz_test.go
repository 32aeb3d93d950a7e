package sql

import (
	"errors"
	"testing"
	"unicode/utf8"

	"github.com/strand-db/strand/sql/pgerr"
)

// FuzzParse checks that no input makes the front end panic, and that every
// error carries a SQLSTATE and a position inside the input.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"SELECT 1",
		"SELECT a->>'k', x::int[], -1::int FROM t WHERE a = ANY($1) ORDER BY b NULLS FIRST",
		"INSERT INTO t VALUES ($1) ON CONFLICT (id) DO UPDATE SET v = excluded.v RETURNING *",
		"SELECT E'\\x41', $q$x$q$, 'a'\n'b' /* /* */ */ -- c",
		"CREATE TABLE t (a numeric(10,2) DEFAULT 0 CHECK (a > 0), PRIMARY KEY (a)) APPEND ONLY KEY (a)",
		"COPY t FROM STDIN WITH (FORMAT csv); SET x TO 1; SHOW ALL",
		"SELECT count(*) FILTER (WHERE x > 0) OVER (ORDER BY a ROWS BETWEEN 1 PRECEDING AND CURRENT ROW)",
		"SELECT CASE WHEN a IS DISTINCT FROM b THEN ARRAY[[1]] END, INTERVAL '1' day",
		"SELECT * FROM (VALUES (1, 'a'), (2, NULL)) AS v (x, y), LATERAL (SELECT v.x) q JOIN (t JOIN u ON t.a = u.a) ON true",
		"SELECT a, percentile_cont(0.5) WITHIN GROUP (ORDER BY b DESC), grouping(a) FROM t GROUP BY ROLLUP (a, (b, c)), CUBE (d), GROUPING SETS ((), (e))",
		"CREATE OR REPLACE VIEW v (a) AS SELECT 1; CREATE TABLE x (a, b) AS SELECT 1, 2 WITH NO DATA; TRUNCATE ONLY t *",
		"ALTER TABLE t ALTER COLUMN a SET DEFAULT 1, ALTER b DROP NOT NULL; PREPARE p (int) AS SELECT $1; EXECUTE p (1)",
		"TRUNCATE t RESTART IDENTITY CASCADE; CHECKPOINT; ALTER MATERIALIZED VIEW v RENAME COLUMN a TO b; EXPLAIN CREATE MATERIALIZED VIEW m AS SELECT 1 FROM t",
		"SELECT x FROM t LEFT JOIN LATERAL jsonb_each(t.j) AS e ON true WHERE now() - ts < interval '1 hour' INTERSECT ALL SELECT 1 EXCEPT ALL SELECT 2",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, sql string) {
		stmts, err := ParseUncached(sql)
		if err != nil {
			var pe *pgerr.Error
			if !errors.As(err, &pe) || pe.Code == "" {
				t.Fatalf("error without SQLSTATE: %v", err)
			}
			if pe.Position < 0 || pe.Position > utf8.RuneCountInString(sql)+1 {
				t.Fatalf("position %d outside input of %d characters: %v", pe.Position, utf8.RuneCountInString(sql), err)
			}
			return
		}
		for _, s := range stmts {
			if s.StmtInfo().Text == "" {
				t.Fatalf("statement without text")
			}
		}
	})
}
