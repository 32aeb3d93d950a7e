package viewdiff

import (
	"fmt"
	"math/rand/v2"
	"testing"
)

// TUMBLE(t, ts, size) and HOP(t, ts, slide, size) in FROM, as RisingWave
// writes windows: in queries and in materialized views, through seeded
// inserts, updates and deletes, each equals the same windows written for
// PostgreSQL with date_bin and generate_series.
func TestWindowTableFunctionsEqualPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("differential test against PostgreSQL")
	}
	p := newPair(t)
	p.both(`DROP TABLE IF EXISTS wt_bid CASCADE`,
		`CREATE TABLE wt_bid (id int PRIMARY KEY, auction int, price int, ts timestamp, tz timestamptz)`)
	const (
		tumblePG = `(SELECT b.*, date_bin('10 seconds', ts, '1970-01-01') AS window_start, date_bin('10 seconds', ts, '1970-01-01') + interval '10 seconds' AS window_end FROM wt_bid b) w`
		hopPG    = `(SELECT b.*, s AS window_start, s + interval '15 seconds' AS window_end FROM wt_bid b, generate_series(date_bin('5 seconds', tz, '1970-01-01 00:00:00+00') - interval '10 seconds', date_bin('5 seconds', tz, '1970-01-01 00:00:00+00'), interval '5 seconds') AS s) w`
	)
	views := map[string][2]string{
		"wt_tumble": {`SELECT auction, window_start, window_end, max(price) AS hi, count(*) AS n FROM TUMBLE(wt_bid, ts, INTERVAL '10' SECOND) GROUP BY auction, window_start, window_end`,
			`SELECT auction, window_start, window_end, max(price) AS hi, count(*) AS n FROM ` + tumblePG + ` GROUP BY auction, window_start, window_end`},
		"wt_hop": {`SELECT window_start, window_end, sum(price) AS total FROM HOP(wt_bid, tz, INTERVAL '5' SECOND, INTERVAL '15' SECOND) h GROUP BY 1, 2`,
			`SELECT window_start, window_end, sum(price) AS total FROM ` + hopPG + ` GROUP BY 1, 2`},
		"wt_rows": {`SELECT id, window_start FROM HOP(wt_bid, tz, INTERVAL '5 seconds', INTERVAL '15 seconds') WHERE price > 10`,
			`SELECT id, window_start FROM ` + hopPG + ` WHERE price > 10`},
	}
	for name, q := range views {
		if _, err := p.sc.Exec(t.Context(), "CREATE MATERIALIZED VIEW "+name+" AS "+q[0]); err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
	}
	rng := rand.New(rand.NewPCG(11, 4))
	stamp := func() string {
		s := rng.IntN(120)
		return fmt.Sprintf(`2024-03-01 10:%02d:%02d.%03d`, s/60, s%60, rng.IntN(1000))
	}
	next, checks := 1, 0
	for batch := range 12 {
		for range 10 {
			switch r := rng.IntN(10); {
			case r < 7 || next < 5:
				st := stamp()
				p.both(fmt.Sprintf(`INSERT INTO wt_bid VALUES (%d, %d, %d, '%s', '%s+00')`, next, rng.IntN(4), rng.IntN(30), st, st))
				next++
			case r < 9:
				p.both(fmt.Sprintf(`UPDATE wt_bid SET price = %d, tz = tz + interval '3 seconds' WHERE id = %d`, rng.IntN(30), 1+rng.IntN(next-1)))
			default:
				p.both(fmt.Sprintf(`DELETE FROM wt_bid WHERE id = %d`, 1+rng.IntN(next-1)))
			}
		}
		for name, q := range views {
			p.same(fmt.Sprintf("%s after batch %d", name, batch), "SELECT * FROM "+name, q[1])
			// The same windows read by a query.
			p.same(fmt.Sprintf("query of %s after batch %d", name, batch), q[0], q[1])
			checks += 2
		}
		if batch == 5 {
			p.restart()
		}
	}
	t.Logf("%d checkpoints equal to PostgreSQL", checks)
}
