package viewdiff

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/strand-db/strand/tests/strandtest"
)

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
