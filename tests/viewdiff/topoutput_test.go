package viewdiff

import (
	"strings"
	"testing"

	"github.com/strand-db/strand/tests/strandtest"
	"github.com/strand-db/strand/views"
)

// A top-N view stores no output rows: its rows are read from the top-N's
// candidates (views/topout.go). The differential test proves the rows
// right; this proves they come from there, and that a view with a
// computed column over the top-N still stores its rows.
func TestTopNViewStoresNoRows(t *testing.T) {
	s := strandtest.Start(t, "")
	c := s.Connect(t)
	strandtest.ExecAll(t, c,
		`CREATE TABLE ev (id bigint PRIMARY KEY, acct bigint NOT NULL, amount bigint NOT NULL)`,
		`CREATE MATERIALIZED VIEW top2 AS SELECT acct, id, amount FROM (SELECT acct, id, amount, row_number() OVER (PARTITION BY acct ORDER BY amount DESC, id) AS rn FROM ev) s WHERE rn <= 2`,
		`CREATE MATERIALIZED VIEW top2rn AS SELECT * FROM (SELECT acct, id, amount, row_number() OVER (PARTITION BY acct ORDER BY amount DESC, id) AS rn FROM ev) s WHERE rn <= 2`,
		`CREATE MATERIALIZED VIEW top2x AS SELECT acct, id, amount * 10 AS tenfold FROM (SELECT acct, id, amount, row_number() OVER (PARTITION BY acct ORDER BY amount DESC, id) AS rn FROM ev) s WHERE rn <= 2`,
		`INSERT INTO ev SELECT i, i % 7, (i * 37) % 101 FROM generate_series(1, 500) AS g(i)`,
		`DELETE FROM ev WHERE id % 5 = 0`)
	stored := func(name string) int {
		td, ok := s.Log.Catalog().Lookup("public", name)
		if !ok {
			t.Fatalf("no view %s", name)
		}
		snap := s.Log.Snapshot()
		defer snap.Release()
		start, end := views.OutputRange(td.ID)
		n := 0
		if err := snap.ScanRange(start, end, func(_, _ []byte) error { n++; return nil }); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := stored("top2"); n != 0 {
		t.Errorf("top2 stores %d output rows, want none", n)
	}
	if n := stored("top2rn"); n != 0 {
		t.Errorf("top2rn (with its row numbers) stores %d output rows, want none", n)
	}
	if n := stored("top2x"); n != 14 {
		t.Errorf("top2x stores %d output rows, want 14 (2 for each of 7 accounts)", n)
	}
	for view, cols := range map[string]string{"top2": "acct, id, amount", "top2rn": "*"} {
		rows := strandtest.ViewMatchesQuery(t, c, view, `SELECT `+cols+` FROM (SELECT acct, id, amount, row_number() OVER (PARTITION BY acct ORDER BY amount DESC, id) AS rn FROM ev) s WHERE rn <= 2`)
		if len(rows) != 14 {
			t.Errorf("%s has %d rows, want 14", view, len(rows))
		}
	}
}

// A lookup by a top-N view's partition reads that partition's window
// only (EXPLAIN says so), and gives the rows a full read gives.
func TestTopNViewLookupByPartition(t *testing.T) {
	s := strandtest.Start(t, "")
	c := s.Connect(t)
	strandtest.ExecAll(t, c,
		`CREATE TABLE ev (id bigint PRIMARY KEY, acct bigint NOT NULL, region text, amount bigint NOT NULL)`,
		`INSERT INTO ev SELECT i, i % 50, 'r' || (i % 3), (i * 37) % 101 FROM generate_series(1, 2000) AS g(i)`,
		`CREATE MATERIALIZED VIEW top3 AS SELECT region, acct, id, amount FROM (SELECT region, acct, id, amount, row_number() OVER (PARTITION BY region, acct ORDER BY amount DESC, id) AS rn FROM ev) s WHERE rn <= 3`,
		`DELETE FROM ev WHERE id % 7 = 0`)
	plan := strings.Join(strandtest.SortedRows(t, c, `EXPLAIN SELECT * FROM top3 WHERE region = 'r1' AND acct = 4`), "\n")
	if !strings.Contains(plan, "Materialized View Key Scan on top3") {
		t.Errorf("lookup by the partition is not a key scan:\n%s", plan)
	}
	for _, where := range []string{`region = 'r1' AND acct = 4`, `region = 'r2'`, `acct = 4 AND region = 'r0'`, `region = 'nowhere'`} {
		got := strandtest.SortedRows(t, c, `SELECT * FROM top3 WHERE `+where)
		want := strandtest.SortedRows(t, c, `SELECT region, acct, id, amount FROM (SELECT region, acct, id, amount, row_number() OVER (PARTITION BY region, acct ORDER BY amount DESC, id) AS rn FROM ev) s WHERE rn <= 3 AND `+where)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("WHERE %s: view gives\n%s\nthe query gives\n%s", where, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if where != `region = 'nowhere'` && len(want) == 0 {
			t.Errorf("WHERE %s: no rows; the test proves nothing", where)
		}
	}
}
