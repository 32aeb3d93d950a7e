package viewfactjoin

import (
	"context"
	"fmt"
	"math/rand"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/strand-db/strand/tests/pgoracle"
	"github.com/strand-db/strand/tests/strandtest"
)

// TestFactJoinBackfillWhileWriting creates a fact-dimension join view (and
// a view over it) in small backfill steps while writers insert, update
// and delete facts and dimension rows, so the moves between the join's
// state and the output happen between steps and on rows the backfill has
// and has not admitted yet; the views must then equal PostgreSQL's answer
// over the final tables.
func TestFactJoinBackfillWhileWriting(t *testing.T) {
	t.Setenv("STRAND_VIEW_BACKFILL_CHUNK_ROWS", "40")
	ctx := context.Background()
	pg := pgoracle.StartT(t)
	s := strandtest.Start(t, "")
	c := s.Connect(t)
	const accounts, events = 100, 2000
	for _, q := range []string{
		`CREATE TABLE acct (id bigint PRIMARY KEY, region text)`,
		`CREATE TABLE ev (id bigint PRIMARY KEY, acct bigint, amount bigint)`,
		fmt.Sprintf(`INSERT INTO acct SELECT i, 'r' || (i %% 7) FROM generate_series(1, %d) AS s(i) WHERE i %% 9 <> 0`, accounts),
		fmt.Sprintf(`INSERT INTO ev SELECT i, i %% %d + 1, i %% 97 FROM generate_series(1, %d) AS s(i)`, accounts+10, events),
	} {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatal(q, err)
		}
	}
	views := []struct{ name, def string }{
		{"vf", `SELECT e.id, e.acct, a.region, e.amount FROM ev e JOIN acct a ON e.acct = a.id`},
		{"vf_regions", `SELECT region, count(*) AS n, sum(amount) AS s FROM vf GROUP BY region`},
	}

	stop := make(chan struct{})
	var wg sync.WaitGroup
	var writes atomic.Int64
	for w := 0; w < 2; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			wc, err := pgx.Connect(ctx, s.DSN())
			if err != nil {
				t.Error(err)
				return
			}
			defer wc.Close(ctx)
			rng := rand.New(rand.NewSource(int64(w)))
			for {
				select {
				case <-stop:
					return
				default:
				}
				a := rng.Intn(accounts+10) + 1
				var q string
				switch rng.Intn(6) {
				case 0:
					q = fmt.Sprintf(`INSERT INTO ev VALUES (%d, %d, %d) ON CONFLICT (id) DO UPDATE SET acct = excluded.acct`, rng.Intn(events*2)+1, a, rng.Intn(100))
				case 1:
					q = fmt.Sprintf(`UPDATE ev SET acct = %d WHERE id = %d`, a, rng.Intn(events)+1)
				case 2:
					q = fmt.Sprintf(`DELETE FROM ev WHERE id = %d`, rng.Intn(events*2)+1)
				case 3:
					q = fmt.Sprintf(`DELETE FROM acct WHERE id = %d`, a)
				case 4:
					q = fmt.Sprintf(`INSERT INTO acct VALUES (%d, 'r%d') ON CONFLICT (id) DO UPDATE SET region = excluded.region`, a, rng.Intn(7))
				default:
					q = fmt.Sprintf(`UPDATE acct SET region = 'r%d' WHERE id = %d`, rng.Intn(7), a)
				}
				if _, err := wc.Exec(ctx, q); err != nil {
					t.Errorf("%s: %v", q, err)
					return
				}
				writes.Add(1)
			}
		}(w)
	}
	for _, v := range views {
		if _, err := c.Exec(ctx, fmt.Sprintf("CREATE MATERIALIZED VIEW %s AS %s", v.name, v.def)); err != nil {
			t.Fatal(err)
		}
	}
	during := writes.Load()
	// Some writes after both are live, then the final state.
	for writes.Load() < during+200 && !t.Failed() {
		if _, err := c.Exec(ctx, `SELECT 1`); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if during == 0 {
		t.Fatal("no write ran while the views backfilled")
	}

	pc := pg.Connect(t)
	for _, q := range []string{`DROP TABLE IF EXISTS acct CASCADE`, `DROP TABLE IF EXISTS ev CASCADE`,
		`CREATE TABLE acct (id bigint PRIMARY KEY, region text)`, `CREATE TABLE ev (id bigint PRIMARY KEY, acct bigint, amount bigint)`} {
		if _, err := pc.Exec(ctx, q); err != nil {
			t.Fatal(q, err)
		}
	}
	for _, tc := range []struct {
		table string
		cols  []string
	}{{"acct", []string{"id", "region"}}, {"ev", []string{"id", "acct", "amount"}}} {
		strandtest.CopyTable(t, c, pc, tc.table, tc.cols)
	}
	for _, v := range views {
		strandtest.MatchView(t, c, pc, v.name, v.def)
	}
	t.Logf("%d writes while the views backfilled, %d in all", during, writes.Load())
}
