package viewbackfill

import (
	"context"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/strand-db/strand/tests/strandtest"
)

// TestIdleBackfillGrowsSteps: with no writer, the backfill worker doubles
// each step's budget (views/backfill.go, stepScale), so a GROUP BY over
// 200,000 rows in 10,000 groups, whose every step writes the state of
// each group its rows touch, takes fewer steps than the base budget of
// 10,000 rows a step allows (20). The steps are intents of the log,
// counted by its metrics around the CREATE; the view must equal its
// query.
func TestIdleBackfillGrowsSteps(t *testing.T) {
	t.Setenv("STRAND_VIEW_BACKFILL_CHUNK_ROWS", "")
	p := strandtest.StartProcess(t, filepath.Join(t.TempDir(), "data"))
	defer p.Kill(t)
	c := connect(t, p)
	ctx := context.Background()
	for _, q := range []string{
		`CREATE TABLE ev (id bigint PRIMARY KEY, acct bigint, amount bigint)`,
		`INSERT INTO ev SELECT g, g % 10000, g % 1000 FROM generate_series(1, 200000) g`,
	} {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatal(q, err)
		}
	}
	intents := func() int64 {
		t.Helper()
		body := strandtest.HTTPGet(t, "http://"+p.HTTPAddr+"/metrics")
		for _, line := range strings.Split(body, "\n") {
			if v, ok := strings.CutPrefix(line, "strand_log_intents_total "); ok {
				n, err := strconv.ParseFloat(v, 64)
				if err != nil {
					t.Fatal(line, err)
				}
				return int64(n)
			}
		}
		t.Fatal("/metrics has no strand_log_intents_total")
		return 0
	}
	const def = `SELECT acct, count(*) AS n, sum(amount) AS total FROM ev GROUP BY acct`
	before := intents()
	if _, err := c.Exec(ctx, `CREATE MATERIALIZED VIEW by_acct AS `+def); err != nil {
		t.Fatal(err)
	}
	steps := intents() - before
	t.Logf("CREATE over 200,000 rows took %d intents", steps)
	if steps >= 20 {
		t.Errorf("the backfill took %d intents with no writer: its steps did not grow past 10,000 rows", steps)
	}
	sameAsQuery(t, c, "by_acct", def)
}
