// Package viewfactjoin checks fact-dimension join views against
// PostgreSQL 15. Such a view (a projection of plain columns over an inner
// join of a keyed table with another keyed table on the latter's key,
// keeping the join key and the fact table's key) keeps a matched fact row
// only in its output row (views/plan.go, factJoin): a dimension row that
// arrives moves its unmatched fact rows into the output, one that leaves
// moves them back. The seeded workload below drives every one of those
// moves (dimension rows inserted, updated, deleted and re-inserted; fact
// rows whose join key changes, becomes NULL or names no dimension row), in
// single statements and in transactions, with the views created over
// existing data (backfill) and a view reading one of them.
package viewfactjoin

import (
	"context"
	"fmt"
	"math/rand"
	"strconv"
	"strings"
	"testing"

	"github.com/strand-db/strand/tests/pgoracle"
	"github.com/strand-db/strand/tests/strandtest"
)

var viewDefs = []string{
	// The fact table on the left, and on the right.
	`SELECT o.id, o.customer_id, c.name, c.tier, o.amount FROM orders o JOIN customers c ON o.customer_id = c.id`,
	`SELECT c.tier, c.id AS cid, o.customer_id, o.id, o.status FROM customers c JOIN orders o ON c.id = o.customer_id`,
	// A self join: each order with its parent order.
	`SELECT o.id, o.parent, p.status AS parent_status, p.amount AS parent_amount FROM orders o JOIN orders p ON o.parent = p.id`,
	// A view over the first: it sees every move as output deltas.
	`SELECT tier, count(*) AS n, sum(amount) AS total FROM v0 GROUP BY tier`,
	// Controls over the same workload, maintained by the general join: a
	// condition beside the key equality, and a computed column.
	`SELECT o.id, o.customer_id, c.region FROM orders o JOIN customers c ON o.customer_id = c.id AND c.tier <> 'bronze'`,
	`SELECT o.id, o.customer_id, c.name || '!' AS shout FROM orders o JOIN customers c ON o.customer_id = c.id`,
	// Integer keys in every place a view keys by a value (views made now
	// write integers in as few bytes as they need, views/state.go
	// appendInt), with negative and large amounts: a group keyed by an
	// integer (read by point lookups below), min/max multisets and a
	// descending top-N sort key.
	`SELECT customer_id, count(*) AS n, min(amount) AS lo, max(amount) AS hi FROM orders GROUP BY customer_id`,
	`SELECT customer_id, id, amount FROM (SELECT customer_id, id, amount, row_number() OVER (PARTITION BY customer_id ORDER BY amount DESC, id) AS rn FROM orders) s WHERE rn <= 2`,
}

// groupByCustomer is the view above keyed by customer_id.
const groupByCustomer = 6

func TestFactJoinViewsEqualPostgres(t *testing.T) {
	pg := pgoracle.StartT(t)
	for _, seed := range []int64{1, 2} {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) { runSeed(t, pg, seed) })
	}
}

func runSeed(t *testing.T, pg *pgoracle.Server, seed int64) {
	ctx := context.Background()
	s := strandtest.Start(t, "")
	sc := s.Connect(t)
	pc := pg.Connect(t)
	for _, q := range []string{`DROP TABLE IF EXISTS orders CASCADE`, `DROP TABLE IF EXISTS customers CASCADE`} {
		if _, err := pc.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	both := func(q string) {
		t.Helper()
		if _, err := sc.Exec(ctx, q); err != nil {
			t.Fatalf("strand: %s: %v", q, err)
		}
		if _, err := pc.Exec(ctx, q); err != nil {
			t.Fatalf("postgres: %s: %v", q, err)
		}
	}
	both(`CREATE TABLE orders (id int PRIMARY KEY, customer_id int, parent int, amount int, status text)`)
	both(`CREATE TABLE customers (id int PRIMARY KEY, name text, tier text, region text)`)

	w := &workload{rng: rand.New(rand.NewSource(seed))}
	for i := 0; i < 80; i++ {
		both(w.next())
	}
	for i, def := range viewDefs {
		if _, err := sc.Exec(ctx, fmt.Sprintf("CREATE MATERIALIZED VIEW v%d AS %s", i, def)); err != nil {
			t.Fatalf("view %d (%s): %v", i, def, err)
		}
		if _, err := pc.Exec(ctx, fmt.Sprintf("CREATE VIEW v%d AS %s", i, def)); err != nil {
			t.Fatalf("postgres view %d: %v", i, err)
		}
	}
	seen := map[int]bool{}
	checkpoints := 0
	compare := func() {
		t.Helper()
		for i := range viewDefs {
			got := strandtest.SortedRows(t, sc, fmt.Sprintf("SELECT * FROM v%d", i))
			want := strandtest.SortedRows(t, pc, fmt.Sprintf("SELECT * FROM v%d", i))
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("view %d (%s) after %d statements differs from PostgreSQL:\nstrand:   %v\npostgres: %v", i, viewDefs[i], w.n, got, want)
			}
			if len(got) > 0 {
				seen[i] = true
			}
			checkpoints++
		}
	}
	compare()
	for b := 0; b < 80; b++ {
		if w.rng.Intn(4) == 0 {
			commit := w.rng.Intn(3) > 0
			both("BEGIN")
			for i := 0; i < 1+w.rng.Intn(6); i++ {
				both(w.next())
			}
			if commit {
				both("COMMIT")
			} else {
				both("ROLLBACK")
			}
		} else {
			for i := 0; i < 1+w.rng.Intn(6); i++ {
				both(w.next())
			}
		}
		compare()
	}
	inTxn := false
	// Moves within one transaction: orders of a customer that does not
	// exist (stored on the join's side), the customer inserted, deleted
	// and inserted again (the orders move out, back and out), then an
	// order deleted while matched, and the customer deleted and
	// re-inserted, updated in place, and a matched order moved to
	// another customer and back.
	for _, q := range []string{
		`INSERT INTO orders VALUES (900, 77, NULL, 5, 'open'), (901, 77, 900, 6, 'paid'), (902, 78, 901, 7, 'void') ON CONFLICT (id) DO NOTHING`,
		`BEGIN`,
		`INSERT INTO customers VALUES (77, 'c77', 'gold', 'eu')`,
		`DELETE FROM customers WHERE id = 77`,
		`INSERT INTO customers VALUES (77, 'c77b', 'silver', 'us')`,
		`COMMIT`,
		`DELETE FROM orders WHERE id = 900`,
		`BEGIN`,
		`DELETE FROM customers WHERE id = 77`,
		`INSERT INTO customers VALUES (77, 'c77c', 'gold', 'eu'), (78, 'c78', 'bronze', 'us')`,
		`UPDATE customers SET name = 'c77d' WHERE id = 77`,
		`COMMIT`,
		`UPDATE orders SET customer_id = 78 WHERE id = 901`,
		`BEGIN`,
		`UPDATE orders SET customer_id = 77 WHERE id = 901`,
		`DELETE FROM customers WHERE id = 78`,
		`COMMIT`,
	} {
		both(q)
		switch q {
		case `BEGIN`:
			inTxn = true
		case `COMMIT`:
			inTxn = false
		}
		if !inTxn {
			compare()
		}
	}
	// Point lookups by the group key read one row through the key.
	for k := -1; k <= 10; k++ {
		q := fmt.Sprintf("SELECT * FROM v%d WHERE customer_id = %d", groupByCustomer, k)
		got, want := strandtest.SortedRows(t, sc, q), strandtest.SortedRows(t, pc, q)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("%s: strand %v, postgres %v", q, got, want)
		}
	}
	for i := range viewDefs {
		if !seen[i] {
			t.Errorf("view %d (%s) was empty at every checkpoint", i, viewDefs[i])
		}
	}
	if w.dimDeletes == 0 || w.dimInserts == 0 || w.factMoves == 0 {
		t.Fatalf("the workload missed a move: %d dimension deletes, %d dimension inserts, %d fact join key changes", w.dimDeletes, w.dimInserts, w.factMoves)
	}
	t.Logf("seed %d: %d statements, %d view checkpoints equal to PostgreSQL", seed, w.n, checkpoints)
}

var (
	statuses = []string{"open", "paid", "void"}
	tiers    = []string{"gold", "silver", "bronze"}
	regions  = []string{"eu", "us"}
)

// workload generates statements that mean the same on both servers.
type workload struct {
	rng                               *rand.Rand
	n                                 int
	dimDeletes, dimInserts, factMoves int
}

func (w *workload) maybeNull(s string) string {
	if w.rng.Intn(8) == 0 {
		return "NULL"
	}
	return s
}

// amount is mostly small, sometimes negative, sometimes near int4's
// bounds.
func (w *workload) amount() int {
	switch w.rng.Intn(6) {
	case 0:
		return -w.rng.Intn(70000)
	case 1:
		return 2147483647 - w.rng.Intn(3)
	case 2:
		return -2147483648 + w.rng.Intn(3)
	}
	return w.rng.Intn(300)
}

func (w *workload) next() string {
	w.n++
	r := w.rng
	pick := func(xs []string) string { return xs[r.Intn(len(xs))] }
	switch r.Intn(10) {
	case 0, 1, 2:
		return fmt.Sprintf(`INSERT INTO orders VALUES (%d, %s, %s, %d, '%s') ON CONFLICT (id) DO NOTHING`,
			r.Intn(60), w.maybeNull(strconv.Itoa(r.Intn(10))), w.maybeNull(strconv.Itoa(r.Intn(60))), w.amount(), pick(statuses))
	case 3:
		w.factMoves++
		return fmt.Sprintf(`UPDATE orders SET customer_id = %s, amount = %d WHERE id %% 5 = %d`, w.maybeNull(strconv.Itoa(r.Intn(10))), w.amount(), r.Intn(5))
	case 4:
		return fmt.Sprintf(`UPDATE orders SET status = '%s', parent = %d WHERE id = %d`, pick(statuses), r.Intn(60), r.Intn(60))
	case 5:
		return fmt.Sprintf(`DELETE FROM orders WHERE id = %d`, r.Intn(60))
	case 6, 7:
		w.dimInserts++
		return fmt.Sprintf(`INSERT INTO customers VALUES (%d, 'c%d', '%s', '%s') ON CONFLICT (id) DO UPDATE SET tier = excluded.tier, name = excluded.name`,
			r.Intn(10), r.Intn(100), pick(tiers), pick(regions))
	case 8:
		return fmt.Sprintf(`UPDATE customers SET region = '%s' WHERE id = %d`, pick(regions), r.Intn(10))
	default:
		w.dimDeletes++
		return fmt.Sprintf(`DELETE FROM customers WHERE id %% 4 = %d`, r.Intn(4))
	}
}
