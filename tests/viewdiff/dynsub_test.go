package viewdiff

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/strand-db/strand/tests/strandtest"
)

// fetchOps fetches what cursor c's subscription has (waiting up to half
// a second), each change as "op id".
func fetchOps(t *testing.T, c *pgx.Conn) []string {
	t.Helper()
	rows, err := c.Query(context.Background(), `FETCH ALL c WITH (timeout = '500ms')`)
	if err != nil {
		t.Fatal(err)
	}
	var ops []string
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatal(err)
		}
		row := map[string]any{}
		for i, f := range rows.FieldDescriptions() {
			row[f.Name] = vals[i]
		}
		ops = append(ops, fmt.Sprintf("%v %v", row["_op"], row["id"]))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return ops
}

// A subscriber to a view with a dynamic filter sees the rows its bound's
// move lets in and out, in the commit of the write that moved it: here a
// bid far above the average raises it past the bids that were above.
func TestDynamicFilterViewSubscription(t *testing.T) {
	s := strandtest.Start(t, "")
	c, w := s.Connect(t), s.Connect(t)
	strandtest.ExecAll(t, c, `CREATE TABLE dyn_bids (id int PRIMARY KEY, price int)`,
		`INSERT INTO dyn_bids VALUES (1, 10), (2, 20), (3, 30)`,
		`CREATE MATERIALIZED VIEW dyn_high AS SELECT id, price FROM dyn_bids WHERE price > (SELECT avg(price) FROM dyn_bids)`,
		`BEGIN`, `DECLARE c CURSOR FOR SUBSCRIBE dyn_high`)
	fetch := func() []string {
		ops := fetchOps(t, c)
		slices.Sort(ops)
		return ops
	}
	if got := strings.Join(fetch(), ", "); got != "insert 3" {
		t.Fatalf("snapshot: %q, want \"insert 3\" (30 above the average 20)", got)
	}
	// The average becomes 40: 30 falls below it, 100 is above.
	strandtest.ExecAll(t, w, `INSERT INTO dyn_bids VALUES (4, 100)`)
	if got := strings.Join(fetch(), ", "); got != "delete 3, insert 4" {
		t.Errorf("after the bid of 100: %q, want \"delete 3, insert 4\"", got)
	}
	// Back to 20: 30 is above again, 100 is gone.
	strandtest.ExecAll(t, w, `DELETE FROM dyn_bids WHERE id = 4`)
	if got := strings.Join(fetch(), ", "); got != "delete 4, insert 3" {
		t.Errorf("after its delete: %q, want \"delete 4, insert 3\"", got)
	}
}
