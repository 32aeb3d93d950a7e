package viewdiff

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/strand-db/strand/tests/strandtest"
)

// Materialized views over (plain) views: Strand maintains them over the
// tables under the views, through seeded inserts, updates and deletes and
// a restart, and after every batch each equals the same SELECT run by
// PostgreSQL over the same views and data. What the views are read by
// cannot be replaced or dropped under them (2BP01), and a view has no
// changes to subscribe to (0A000).
func TestMaterializedViewsOverViews(t *testing.T) {
	if testing.Short() {
		t.Skip("differential test against PostgreSQL")
	}
	ctx := context.Background()
	p := newPair(t)
	sc, both := p.sc, p.both
	both(`DROP TABLE IF EXISTS pv_ev, pv_acct CASCADE`)
	both(`CREATE TABLE pv_acct (id int PRIMARY KEY, region text NOT NULL)`,
		`CREATE TABLE pv_ev (id int PRIMARY KEY, acct int NOT NULL, amount int)`,
		`INSERT INTO pv_acct SELECT i, 'r' || (i % 3) FROM generate_series(1, 20) AS s(i)`,
		// A filter with an expression, a join of it with a table, and a
		// view over both views.
		`CREATE VIEW pv_big AS SELECT id, acct, amount * 10 AS amt10 FROM pv_ev WHERE amount > 20`,
		`CREATE VIEW pv_region (id, acct, region, amt10) AS SELECT b.id, b.acct, a.region, b.amt10 FROM pv_big b JOIN pv_acct a ON a.id = b.acct`,
		`CREATE VIEW pv_ids AS SELECT id FROM pv_big UNION ALL SELECT id FROM pv_region`)
	mats := map[string]string{
		"pv_by_region": `SELECT region, count(*) AS n, sum(amt10) AS total FROM pv_region GROUP BY region`,
		"pv_top":       `SELECT acct, id, amt10 FROM (SELECT acct, id, amt10, row_number() OVER (PARTITION BY acct ORDER BY amt10 DESC, id) AS rn FROM pv_big) s WHERE rn <= 2`,
		"pv_ids_n":     `SELECT id, count(*) AS c FROM pv_ids GROUP BY id`,
	}
	for name, def := range mats {
		if _, err := sc.Exec(ctx, "CREATE MATERIALIZED VIEW "+name+" AS "+def); err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
	}
	rng := rand.New(rand.NewPCG(7, 11))
	nextID := 1
	checks := 0
	batch := func() {
		t.Helper()
		for range 30 {
			switch r := rng.IntN(10); {
			case r < 6 || nextID < 10:
				both(fmt.Sprintf(`INSERT INTO pv_ev VALUES (%d, %d, %d)`, nextID, 1+rng.IntN(20), rng.IntN(50)))
				nextID++
			case r < 8:
				both(fmt.Sprintf(`UPDATE pv_ev SET amount = %d WHERE id = %d`, rng.IntN(50), 1+rng.IntN(nextID)))
			case r < 9:
				both(fmt.Sprintf(`DELETE FROM pv_ev WHERE id = %d`, 1+rng.IntN(nextID)))
			default:
				both(fmt.Sprintf(`UPDATE pv_acct SET region = 'r%d' WHERE id = %d`, rng.IntN(4), 1+rng.IntN(20)))
			}
		}
		for name, def := range mats {
			p.same(fmt.Sprintf("%s after %d ids", name, nextID), "SELECT * FROM "+name, def)
			checks++
		}
	}
	for range 10 {
		batch()
	}
	p.restart()
	sc = p.sc
	for range 10 {
		batch()
	}
	if got := strandtest.SortedRows(t, sc, "SELECT * FROM pv_region"); len(got) == 0 {
		t.Error("pv_region is empty: the workload checked nothing")
	}
	t.Logf("%d checkpoints equal to PostgreSQL", checks)

	for q, code := range map[string]string{
		// pv_by_region reads pv_region: its definition cannot change,
		// even with the same columns, nor can pv_big's under it.
		`CREATE OR REPLACE VIEW pv_region AS SELECT b.id, b.acct, a.region, b.amt10 FROM pv_big b JOIN pv_acct a ON a.id = b.acct WHERE b.id > 0`: "2BP01",
		`CREATE OR REPLACE VIEW pv_big AS SELECT id, acct, amount * 10 AS amt10 FROM pv_ev WHERE amount > 30`:                                     "2BP01",
		`DROP VIEW pv_big`:                                 "2BP01",
		`DROP TABLE pv_acct`:                               "2BP01",
		`ALTER TABLE pv_ev ADD COLUMN note text`:           "2BP01",
		`ALTER VIEW pv_region RENAME COLUMN region TO reg`: "2BP01",
		// A definition that reads the view itself.
		`CREATE OR REPLACE VIEW pv_ids AS SELECT id FROM pv_ids`: "42P17",
		`COPY (SUBSCRIBE pv_big) TO STDOUT`:                      "0A000",
		`CREATE CONSUMER GROUP pv_g FOR SUBSCRIBE pv_big`:        "0A000",
		`INSERT INTO pv_big VALUES (1000, 1, 1)`:                 "55000",
		`COPY pv_big FROM STDIN`:                                 "42809",
	} {
		_, err := sc.Exec(ctx, q)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != code {
			t.Errorf("%s: got %v, want %s", q, err, code)
		}
	}
	// Dropping a view with CASCADE drops the materialized views over it.
	strandtest.ExecAll(t, sc, `DROP VIEW pv_big CASCADE`)
	var n int
	if err := sc.QueryRow(ctx, `SELECT count(*) FROM pg_class WHERE relname LIKE 'pv\_%' AND relkind IN ('v', 'm')`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d views left after DROP VIEW pv_big CASCADE, want 0", n)
	}
}
