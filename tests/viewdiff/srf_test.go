package viewdiff

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/strand-db/strand/tests/strandtest"
)

// Views that expand rows with set-returning functions (unnest, the JSON
// functions, generate_series), in the select list or in FROM after the
// table they read: through seeded inserts, updates and deletes and a
// restart, each equals its SELECT run by PostgreSQL over the same data.
func TestSetReturningViewsEqualPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("differential test against PostgreSQL")
	}
	ctx := context.Background()
	p := newPair(t)
	sc, both := p.sc, p.both
	both(`DROP TABLE IF EXISTS sr_docs CASCADE`,
		`CREATE TABLE sr_docs (id int PRIMARY KEY, n int, tags text[], doc jsonb)`)
	defs := map[string]string{
		"sr_tags":   `SELECT id, unnest(tags) AS tag, generate_series(1, n) AS g FROM sr_docs`,
		"sr_counts": `SELECT tag, count(*) AS c FROM sr_docs, unnest(tags) AS tag GROUP BY tag`,
		"sr_each":   `SELECT d.id, e.key, e.value FROM sr_docs d CROSS JOIN LATERAL jsonb_each(d.doc) AS e`,
		"sr_xs":     `SELECT id, x::int AS v FROM sr_docs, jsonb_array_elements_text(doc->'xs') AS x WHERE x::int > 2`,
		"sr_keys":   `SELECT k, count(*) AS c, sum(n) AS s FROM sr_docs JOIN jsonb_object_keys(doc) AS k ON k <> 'xs' GROUP BY k`,
		// A row whose array is empty stays, with a NULL tag.
		"sr_left": `SELECT d.id, t.tag, e.key FROM sr_docs d LEFT JOIN LATERAL unnest(d.tags) AS t(tag) ON true LEFT JOIN LATERAL jsonb_each(d.doc) AS e ON true`,
	}
	for name, def := range defs {
		if _, err := sc.Exec(ctx, "CREATE MATERIALIZED VIEW "+name+" AS "+def); err != nil {
			t.Fatalf("create %s: %v", name, err)
		}
	}
	rng := rand.New(rand.NewPCG(3, 9))
	words := []string{"a", "b", "c", "d"}
	value := func() string {
		var tags []string
		for range rng.IntN(4) {
			tags = append(tags, words[rng.IntN(len(words))])
		}
		var xs []string
		for range rng.IntN(4) {
			xs = append(xs, fmt.Sprint(rng.IntN(6)))
		}
		doc := fmt.Sprintf(`{"xs": [%s], "%s": %d}`, strings.Join(xs, ", "), words[rng.IntN(len(words))], rng.IntN(3))
		if rng.IntN(6) == 0 {
			doc = `{}`
		}
		return fmt.Sprintf(`%d, '{%s}', '%s'`, rng.IntN(3), strings.Join(tags, ","), doc)
	}
	nextID, checks := 1, 0
	batch := func() {
		t.Helper()
		for range 10 {
			switch r := rng.IntN(10); {
			case r < 6 || nextID < 5:
				both(fmt.Sprintf(`INSERT INTO sr_docs VALUES (%d, %s)`, nextID, value()))
				nextID++
			case r < 8:
				id := 1 + rng.IntN(nextID-1)
				both(fmt.Sprintf(`DELETE FROM sr_docs WHERE id = %d`, id), fmt.Sprintf(`INSERT INTO sr_docs VALUES (%d, %s) ON CONFLICT (id) DO NOTHING`, id, value()))
			default:
				both(fmt.Sprintf(`DELETE FROM sr_docs WHERE id = %d`, 1+rng.IntN(nextID-1)))
			}
		}
		for name, def := range defs {
			p.same(fmt.Sprintf("%s after %d ids", name, nextID), "SELECT * FROM "+name, def)
			checks++
		}
	}
	for range 8 {
		batch()
	}
	p.restart()
	sc = p.sc
	for range 8 {
		batch()
	}
	for name := range defs {
		if got := strandtest.SortedRows(t, sc, "SELECT * FROM "+name); len(got) == 0 {
			t.Errorf("%s is empty: the workload checked nothing", name)
		}
	}
	t.Logf("%d checkpoints equal to PostgreSQL", checks)
}
