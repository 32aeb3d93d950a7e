package viewdiff

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql/session"
	"github.com/strand-db/strand/tests/strandtest"
)

// viewSubscribers follow views through SUBSCRIBE cursors on one
// connection, each view's delivered changes applied to a copy of its rows.
type viewSubscribers struct {
	c *pgx.Conn
	// rows holds, per view, its rows (text, joined by |) under their key
	// (the subscription's _key): one row under a key of a keyed view, the
	// row's copies under it otherwise.
	rows map[string]map[string][]string
	// defs are the views' definitions, for messages.
	defs map[string]string
}

// subscribeViews opens a cursor on each view (name → definition) that
// starts with its rows, with each update's and delete's previous row
// (_old).
func subscribeViews(t *testing.T, c *pgx.Conn, defs map[string]string) *viewSubscribers {
	t.Helper()
	ctx := context.Background()
	if _, err := c.Exec(ctx, `BEGIN`); err != nil {
		t.Fatal(err)
	}
	s := &viewSubscribers{c: c, rows: map[string]map[string][]string{}, defs: defs}
	for name, def := range defs {
		if _, err := c.Exec(ctx, fmt.Sprintf(`DECLARE c_%s CURSOR FOR SUBSCRIBE %s WITH (old = true)`, name, name)); err != nil {
			t.Fatalf("subscribe to %s (%s): %v", name, def, err)
		}
		s.rows[name] = map[string][]string{}
	}
	return s
}

// check fetches what view name's cursor has and compares the rows it adds
// up to with want (the view's sorted rows).
// A view's changelog reaches its subscribers through the log's router,
// just after the commit: check waits that long, a little at a time.
func (s *viewSubscribers) check(t *testing.T, name string, want []string, statements int) {
	t.Helper()
	for tries := 0; ; tries++ {
		wait := "0s"
		if tries > 0 {
			wait = "100ms"
		}
		s.drain(t, name, "ALL", wait)
		var got []string
		for _, rs := range s.rows[name] {
			got = append(got, rs...)
		}
		sort.Strings(got)
		if strings.Join(got, "\n") == strings.Join(want, "\n") {
			return
		}
		if tries == 50 {
			t.Fatalf("%s (%s) after %d statements: its subscription's changes add up to\n%v\nnot its rows\n%v", name, s.defs[name], statements, got, want)
		}
	}
}

// drain fetches (FETCH count) from view name's cursor until it has
// nothing more, applying the changes to the view's rows; the first FETCH
// waits up to wait for a change.
func (s *viewSubscribers) drain(t *testing.T, name, count, wait string) {
	t.Helper()
	for s.fetch(t, name, count, wait) > 0 {
		wait = "0s"
	}
}

// fetch fetches once, waiting up to wait for a change, and applies the
// changes; it returns how many came.
func (s *viewSubscribers) fetch(t *testing.T, name, count, wait string) int {
	t.Helper()
	def := s.defs[name]
	rows, err := s.c.Query(context.Background(), fmt.Sprintf(`FETCH %s c_%s WITH (timeout = '%s')`, count, name, wait), pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		t.Fatalf("fetch %s: %v", name, err)
	}
	n := 0
	byKey := s.rows[name]
	var cols []string
	for _, f := range rows.FieldDescriptions() {
		cols = append(cols, f.Name)
	}
	for rows.Next() {
		// _position, _relation, _key, _version, _op, then the view's
		// columns, then _old.
		vals := rows.RawValues()
		key, op := string(vals[2]), string(vals[4])
		last := len(vals) - 1
		parts := make([]string, 0, last-5)
		for _, v := range vals[5:last] {
			if v == nil {
				parts = append(parts, "NULL")
			} else {
				parts = append(parts, string(v))
			}
		}
		row := strings.Join(parts, "|")
		if op == "insert" && vals[last] != nil {
			t.Fatalf("%s (%s): insert of key %q with _old %s", name, def, key, vals[last])
		}
		if op == "update" || op == "delete" {
			// _old is the row the key had (one of them, without a key).
			have := byKey[key]
			if len(have) == 0 {
				t.Fatalf("%s (%s): %s of key %q, which has no row", name, def, op, key)
			}
			if err := sameRow(cols[5:last], have[0], vals[last]); err != nil {
				t.Fatalf("%s (%s): %s of key %q: _old %s is not its row %s: %v", name, def, op, key, vals[last], have[0], err)
			}
		}
		switch op {
		case "insert":
			byKey[key] = append(byKey[key], row)
		case "update":
			if len(byKey[key]) != 1 {
				t.Fatalf("%s (%s): update of key %q, which has %d rows", name, def, key, len(byKey[key]))
			}
			byKey[key] = []string{row}
		case "delete":
			have := byKey[key]
			if len(have) == 1 {
				delete(byKey, key)
			} else {
				byKey[key] = have[1:]
			}
		default:
			t.Fatalf("%s: op %q", name, op)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("fetch %s: %v", name, err)
	}
	return n
}

// sameRow checks that old (a row as a jsonb object) holds the values of
// row (its columns' text, joined by |): strings as they are, numbers
// equal as numbers, booleans as t or f, null as NULL; nested JSON is
// not compared.
func sameRow(cols []string, row string, old []byte) error {
	if old == nil {
		return fmt.Errorf("_old is NULL")
	}
	d := json.NewDecoder(bytes.NewReader(old))
	d.UseNumber()
	var obj map[string]any
	if err := d.Decode(&obj); err != nil {
		return err
	}
	vals := strings.Split(row, "|")
	if len(vals) != len(cols) || len(obj) != len(cols) {
		return fmt.Errorf("%d values, %d columns, %d in _old", len(vals), len(cols), len(obj))
	}
	for i, c := range cols {
		v, ok := obj[c]
		if !ok {
			return fmt.Errorf("no %q", c)
		}
		want := vals[i]
		switch v := v.(type) {
		case nil:
			ok = want == "NULL"
		case string:
			ok = v == want
		case bool:
			ok = (v && want == "t") || (!v && want == "f")
		case json.Number:
			a, err1 := strconv.ParseFloat(v.String(), 64)
			b, err2 := strconv.ParseFloat(want, 64)
			ok = err1 == nil && err2 == nil && (a == b || math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b)))
		}
		if !ok {
			return fmt.Errorf("column %s: %v, want %s", c, v, want)
		}
	}
	return nil
}

// TestViewSubscriptionChunks: a subscription that starts with a view's
// rows hands them out a chunk per FETCH (a large view is not held in
// memory at once), a top-N view's between partitions; changes committed
// while the rows are still being fetched come after them, and all of it
// adds up to the view's rows. With a small feed, those changes overflow
// it, and the subscriber compares the view it delivered with the view
// now, a chunk at a time too.
func TestViewSubscriptionChunks(t *testing.T) {
	for _, feedBytes := range []int{0, 4096} {
		t.Run(fmt.Sprint("feedBytes", feedBytes), func(t *testing.T) {
			m := session.NewMaintainer()
			m.FeedBytes = feedBytes
			testViewSubscriptionChunks(t, strandtest.StartWith(t, log.Options{Dir: t.TempDir(), Hook: m}))
		})
	}
}

func testViewSubscriptionChunks(t *testing.T, s *strandtest.Server) {
	ctx := context.Background()
	c := s.Connect(t)
	defs := map[string]string{
		// Copies of a row, without a key.
		"copies": `SELECT g, v FROM t`,
		"top3":   `SELECT g, id, v FROM (SELECT g, id, v, row_number() OVER (PARTITION BY g ORDER BY v DESC, id) AS rn FROM t) s WHERE rn <= 3`,
		"groups": `SELECT g, count(*) AS n, sum(v) AS total FROM t GROUP BY g`,
	}
	stmts := []string{
		`CREATE TABLE t (id int PRIMARY KEY, g int, v int)`,
		`INSERT INTO t SELECT i, i % 500, i % 7 FROM generate_series(1, 3000) AS s(i)`,
	}
	for name, def := range defs {
		stmts = append(stmts, fmt.Sprintf(`CREATE MATERIALIZED VIEW %s AS %s`, name, def))
	}
	for _, q := range stmts {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	subs := subscribeViews(t, s.Connect(t), defs)
	for name := range defs {
		if n := subs.fetch(t, name, "7", "0s"); n != 7 {
			t.Fatalf("%s: the first FETCH 7 gave %d rows", name, n)
		}
	}
	for _, q := range []string{
		`INSERT INTO t SELECT i, i % 500, 6 FROM generate_series(3001, 3100) AS s(i)`,
		`DELETE FROM t WHERE id % 13 = 0`,
		`UPDATE t SET v = v + 1 WHERE id % 17 = 0`,
	} {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for name := range defs {
		subs.drain(t, name, "100", "0s")
		subs.check(t, name, strandtest.SortedRows(t, c, "SELECT * FROM "+name), 3)
	}
}
