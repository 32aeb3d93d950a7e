package viewdiff

import (
	"fmt"
	"math/rand"
	"testing"
)

// Interval joins over the types a band orders by that the shared workload
// lacks (date ± days, timestamptz ± hours, numeric ± a fraction), with
// NULLs in the bounded columns and in the bounds, after random inserts,
// updates (which move rows within their key's order) and deletes, in
// transactions, and after a restart: each view equals its query on
// PostgreSQL (views/joinband.go).
func TestIntervalJoinsEqualPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("differential test against PostgreSQL")
	}
	p := newPair(t)
	p.both(`SET TimeZone = 'UTC'`)
	p.both(
		`CREATE TABLE bo (id int PRIMARY KEY, k int, d date, ts timestamptz, x numeric)`,
		`CREATE TABLE bc (id int PRIMARY KEY, k int, d date, ts timestamptz, x numeric)`)
	views := map[string]string{
		"b_date": `SELECT o.id, c.id AS cid FROM bo o JOIN bc c ON c.k = o.k AND c.d BETWEEN o.d - 3 AND o.d + 1`,
		"b_tstz": `SELECT o.id, c.id AS cid, c.ts FROM bo o LEFT JOIN bc c ON c.k = o.k AND c.ts > o.ts - interval '5 hours' AND c.ts <= o.ts`,
		"b_num":  `SELECT o.k, count(c.id) AS n, sum(c.x) AS s FROM bo o LEFT JOIN bc c ON c.k = o.k AND c.x >= o.x - 0.5 AND c.x - 0.25 < o.x GROUP BY o.k`,
		"b_anti": `SELECT o.id FROM bo o WHERE NOT EXISTS (SELECT 1 FROM bc c WHERE c.k = o.k AND c.d >= o.d AND c.d < o.d + 2)`,
		"b_day":  `SELECT o.id, c.id AS cid FROM bo o, bc c WHERE c.k = o.k AND c.ts BETWEEN o.ts - interval '1 day' AND o.ts + interval '2 hours'`,
	}
	for name, q := range views {
		p.both(`CREATE MATERIALIZED VIEW ` + name + ` AS ` + q)
	}
	filled := map[string]bool{}
	check := func(when string) {
		t.Helper()
		for name, q := range views {
			if len(p.same(fmt.Sprintf("%s %s", name, when), `SELECT * FROM `+name, q)) > 0 {
				filled[name] = true
			}
		}
	}
	rng := rand.New(rand.NewSource(11))
	val := func() string {
		if rng.Intn(8) == 0 {
			return "NULL, NULL, NULL"
		}
		day, hour := rng.Intn(10), rng.Intn(24)
		return fmt.Sprintf("'2024-03-%02d', '2024-03-%02d %02d:%02d:00+00', %d.%d", 1+day, 1+day, hour, rng.Intn(60), rng.Intn(6), rng.Intn(100))
	}
	for round := 0; round < 12; round++ {
		stmts := []string{"BEGIN"}
		for i := 0; i < 25; i++ {
			table := []string{"bo", "bc"}[rng.Intn(2)]
			id := rng.Intn(60)
			switch rng.Intn(4) {
			case 0, 1:
				stmts = append(stmts, fmt.Sprintf(`INSERT INTO %s VALUES (%d, %d, %s) ON CONFLICT (id) DO NOTHING`, table, id, rng.Intn(4), val()))
			case 2:
				stmts = append(stmts, fmt.Sprintf(`UPDATE %s SET d = d + %d, ts = ts - interval '%d hours', x = x + 0.25 WHERE id = %d`, table, rng.Intn(5)-2, rng.Intn(7), id))
			default:
				stmts = append(stmts, fmt.Sprintf(`DELETE FROM %s WHERE id = %d`, table, id))
			}
		}
		p.both(append(stmts, "COMMIT")...)
		check(fmt.Sprintf("after round %d", round))
	}
	p.restart()
	p.both(`SET TimeZone = 'UTC'`)
	p.both(`UPDATE bc SET k = (k + 1) % 4 WHERE id % 3 = 0`)
	check("after a restart and a move between keys")
	for name := range views {
		if !filled[name] {
			t.Errorf("%s was empty at every check: the test proves nothing of it", name)
		}
	}
}
