package viewdiff

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// rank() and dense_rank() bounded by a WHERE are top-Ns that keep the rows
// tied with the N-th. Scores are drawn from a few values, so most rows tie
// with others; the rows come and go by inserts, updates (that move a row
// across the bound and between partitions) and deletes, with a restart
// halfway. Each view, and a view over one of them, equals PostgreSQL's
// query after every batch.
func TestRankTopNEqualsPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("differential test against PostgreSQL")
	}
	p := newPair(t)
	p.both(`DROP TABLE IF EXISTS rk CASCADE`,
		`CREATE TABLE rk (id int PRIMARY KEY, grp int, score int, tag text)`)
	views := map[string]string{
		// Read from the top-N's candidates (no output rows stored).
		"rk_rank":  `SELECT * FROM (SELECT id, grp, score, rank() OVER (PARTITION BY grp ORDER BY score DESC) AS r FROM rk) s WHERE r <= 3`,
		"rk_dense": `SELECT id, grp, tag, d FROM (SELECT id, grp, tag, dense_rank() OVER (PARTITION BY grp ORDER BY tag NULLS FIRST) AS d FROM rk) s WHERE d <= 2`,
		"rk_all":   `SELECT id, score FROM (SELECT id, score, rank() OVER (ORDER BY score) AS r FROM rk) s WHERE r <= 4`,
		"rk_first": `SELECT id, grp FROM (SELECT id, grp, dense_rank() OVER (PARTITION BY grp % 2 ORDER BY score DESC, tag) AS d FROM rk) s WHERE d = 1`,
		// Its changes feed an aggregate.
		"rk_sum": `SELECT grp, count(*) AS n, sum(score) AS s, max(r) AS worst FROM (SELECT grp, score, rank() OVER (PARTITION BY grp ORDER BY score) AS r FROM rk) s WHERE r < 3 GROUP BY grp`,
	}
	for name, q := range views {
		if _, err := p.sc.Exec(t.Context(), "CREATE MATERIALIZED VIEW "+name+" AS "+q); err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
	}
	rng := rand.New(rand.NewPCG(5, 9))
	tag := func() string {
		if rng.IntN(6) == 0 {
			return "NULL"
		}
		return fmt.Sprintf("'t%d'", rng.IntN(4))
	}
	next, checks := 1, 0
	for batch := range 16 {
		for range 25 {
			switch r := rng.IntN(10); {
			case r < 6 || next < 10:
				p.both(fmt.Sprintf(`INSERT INTO rk VALUES (%d, %d, %d, %s)`, next, rng.IntN(5), rng.IntN(6), tag()))
				next++
			case r < 8:
				p.both(fmt.Sprintf(`UPDATE rk SET score = %d WHERE id = %d`, rng.IntN(6), 1+rng.IntN(next-1)))
			case r < 9:
				p.both(fmt.Sprintf(`UPDATE rk SET grp = %d, tag = %s WHERE id = %d`, rng.IntN(5), tag(), 1+rng.IntN(next-1)))
			default:
				p.both(fmt.Sprintf(`DELETE FROM rk WHERE id = %d`, 1+rng.IntN(next-1)))
			}
		}
		for name, q := range views {
			p.same(fmt.Sprintf("%s after batch %d", name, batch), "SELECT * FROM "+name, q)
			checks++
		}
		if batch == 7 {
			p.restart()
		}
	}
	// A lookup by the partition reads one partition's window.
	p.same("rk_rank where grp = 2", `SELECT * FROM rk_rank WHERE grp = 2`, `SELECT * FROM (`+views["rk_rank"]+`) v WHERE grp = 2`)
	t.Logf("%d checkpoints equal to PostgreSQL", checks)
}
