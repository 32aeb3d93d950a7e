package sqllogic

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/strand-db/strand/tests/strandtest"
)

// TestVectorizedPlans checks that the queries of vec_aggregates.test run
// on the vectorized engine (their results are compared with PostgreSQL by
// TestFiles), and that what the vectorized engine does not handle stays on
// the row engine.
func TestVectorizedPlans(t *testing.T) {
	f, err := os.Open("testdata/vec_aggregates.test")
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := ParseFile(f)
	f.Close()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c := strandtest.Start(t, "").Connect(t)
	explain := func(sql string) string { return strings.Join(planLines(t, c, "EXPLAIN "+sql), "\n") }
	queries := 0
	for _, b := range blocks {
		if b.Kind == StatementOK {
			if _, err := c.Exec(ctx, b.SQL); err != nil {
				t.Fatalf("line %d: %v", b.Line, err)
			}
			continue
		}
		if !strings.HasPrefix(b.SQL, "SELECT") {
			continue
		}
		queries++
		if plan := explain(b.SQL); !strings.Contains(plan, "Vectorized") {
			t.Errorf("line %d: %s\nis not vectorized:\n%s", b.Line, b.SQL, plan)
		}
	}
	if queries < 50 {
		t.Fatalf("only %d queries in vec_aggregates.test", queries)
	}
	plan := explain("SELECT k % 100, count(*), sum(id) FROM big WHERE h > 0 GROUP BY 1")
	for _, want := range []string{"Vectorized HashAggregate", "Group Key: (k % 100)", "Vectorized Seq Scan on big", "Columns: id, k, h", "Filter: (h > "} {
		if !strings.Contains(plan, want) {
			t.Errorf("plan lacks %q:\n%s", want, plan)
		}
	}
	// Row engine: DISTINCT aggregates, numeric and float4 arguments,
	// float keys, string_agg, joins, key lookups, functions vec lacks.
	for _, sql := range []string{
		"SELECT count(DISTINCT k) FROM big",
		"SELECT sum(n) FROM v",
		"SELECT f, count(*) FROM v GROUP BY f",
		"SELECT string_agg(s, ',') FROM v",
		"SELECT count(*) FROM v JOIN big ON v.id = big.id",
		"SELECT count(*) FROM big WHERE id = 7",
		"SELECT lower(s), count(*) FROM v GROUP BY 1",
	} {
		plan := explain(sql)
		if strings.Contains(plan, "Vectorized") || !strings.Contains(plan, "Aggregate") {
			t.Errorf("%s: want the row engine's aggregate:\n%s", sql, plan)
		}
	}
}
