package subscribe

import (
	"context"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/strand-db/strand/tests/strandtest"
)

// TestViewChangelog: a materialized view created WITH (changelog = true)
// keeps its rows' changes as events of its own, one stream per key as a
// keyed table's: a subscription reads them from the beginning or resumes
// after a position, with _version and _old, and a consumer group hands
// them out by key.
func TestViewChangelog(t *testing.T) {
	ctx := context.Background()
	s := strandtest.Start(t, "")
	w, c := s.Connect(t), s.Connect(t)
	run(t, w,
		`CREATE TABLE sales (id int PRIMARY KEY, region text, amount int)`,
		`INSERT INTO sales VALUES (1, 'eu', 10), (2, 'us', 5)`,
		`CREATE MATERIALIZED VIEW totals WITH (changelog = true) AS
			SELECT region, sum(amount) AS total, count(*) AS n FROM sales GROUP BY region`)
	// Shown where psql's \d+ and the views' status look.
	same(t, "catalog", fetchRows(t, c, `SELECT v.changelog::text, c.reloptions::text FROM pg_catalog.strand_views v JOIN pg_class c ON c.relname = v.name WHERE v.name = 'totals'`),
		[]string{`true|{changelog=true}`})
	run(t, c, `BEGIN`, `DECLARE h CURSOR FOR SUBSCRIBE totals WITH (start = 'beginning', old = true)`)
	// The backfill's rows are the changelog's first events.
	first := fetchN(t, c, "h", 2)
	same(t, "backfilled rows", dropPosition(first), []string{
		`totals|eu|1|insert|eu|10|1|null`,
		`totals|us|1|insert|us|5|1|null`,
	})
	pos := first[1][:strings.IndexByte(first[1], '|')]
	run(t, w,
		`INSERT INTO sales VALUES (3, 'eu', 200)`,
		`BEGIN`, `DELETE FROM sales WHERE id = 2`, `INSERT INTO sales VALUES (4, 'apac', 1)`, `COMMIT`)
	same(t, "changes", dropPosition(fetchN(t, c, "h", 3)), []string{
		`totals|eu|2|update|eu|210|2|{"n": 1, "total": 10, "region": "eu"}`,
		`totals|us|2|delete|null|null|null|{"n": 1, "total": 5, "region": "us"}`,
		`totals|apac|1|insert|apac|1|1|null`,
	})
	run(t, c, `COMMIT`)
	// Each key's past rows read with versions(), as a table's.
	same(t, "versions of eu", fetchRows(t, c, `SELECT region, total, n, _version, _op FROM versions('totals') WHERE region = 'eu'`), []string{
		`eu|10|1|1|insert`,
		`eu|210|2|2|update`,
	})
	// A subscriber that stopped at pos resumes after it: nothing lost,
	// nothing repeated.
	run(t, c, `BEGIN`, `DECLARE r CURSOR FOR SUBSCRIBE totals WITH (start = '`+pos+`')`)
	resumed := dropPosition(fetchN(t, c, "r", 3))
	same(t, "resumed after "+pos, resumed, []string{
		`totals|eu|2|update|eu|210|2`,
		`totals|us|2|delete|null|null|null`,
		`totals|apac|1|insert|apac|1|1`,
	})
	if extra := fetchRows(t, c, `FETCH ALL r WITH (timeout = '0s')`); len(extra) != 0 {
		t.Fatalf("after the resumed changes: %q", extra)
	}
	run(t, c, `COMMIT`)
	// A consumer group reads the view by key, from its beginning.
	run(t, w, `CREATE CONSUMER GROUP g FOR SUBSCRIBE totals WITH (start = 'beginning')`)
	got := map[string]int{}
	for tries := 0; len(got) < 3 && tries < 20; tries++ {
		rows := fetchRows(t, c, `FETCH 10 FROM GROUP g WITH (timeout = '2s')`)
		for _, r := range rows {
			f := strings.Split(r, "|")
			got[f[2]]++
			if _, err := strconv.Atoi(f[3]); err != nil {
				t.Fatalf("group row %q: no version", r)
			}
			if _, err := c.Exec(ctx, `ACK GROUP g ('totals', '`+f[2]+`', `+f[3]+`)`); err != nil {
				t.Fatalf("ack %q: %v", r, err)
			}
		}
	}
	if got["eu"] != 2 || got["us"] != 2 || got["apac"] != 1 {
		t.Fatalf("the group handed out, per key: %v", got)
	}
	// The changelog's last row of each key is the view.
	same(t, "the changelog's last rows", replayChangelog(t, c, "totals"), strandtest.SortedRows(t, c, `SELECT * FROM totals`))
}

// TestViewChangelogJoin: a view whose rows stand for a table's rows (the
// orders, each joined with its customer, filtered) is keyed by the
// table's key, and its changelog has each order's changes, also those a
// customer's change makes: an enriched stream.
func TestViewChangelogJoin(t *testing.T) {
	s := strandtest.Start(t, "")
	w, c := s.Connect(t), s.Connect(t)
	run(t, w,
		`CREATE TABLE customers (id int PRIMARY KEY, region text)`,
		`CREATE TABLE orders (id int PRIMARY KEY, cust int, amount int)`,
		`INSERT INTO customers VALUES (1, 'eu'), (2, 'us')`,
		`INSERT INTO orders VALUES (10, 1, 50), (11, 2, 5), (12, 1, 70)`,
		`CREATE MATERIALIZED VIEW big_orders WITH (changelog = true) AS
			SELECT o.id, o.amount, c.region FROM orders o JOIN customers c ON o.cust = c.id WHERE o.amount > 10`)
	run(t, c, `BEGIN`, `DECLARE h CURSOR FOR SUBSCRIBE big_orders WITH (old = true)`)
	same(t, "backfilled rows", sortStrings(dropPosition(fetchN(t, c, "h", 2))), []string{
		`big_orders|10|1|insert|10|50|eu|null`,
		`big_orders|12|1|insert|12|70|eu|null`,
	})
	run(t, w, `UPDATE customers SET region = 'apac' WHERE id = 1`,
		`UPDATE orders SET amount = 60 WHERE id = 11`,
		`DELETE FROM orders WHERE id = 10`)
	same(t, "changes", sortStrings(dropPosition(fetchN(t, c, "h", 4))), []string{
		`big_orders|10|2|update|10|50|apac|{"id": 10, "amount": 50, "region": "eu"}`,
		`big_orders|10|3|delete|null|null|null|{"id": 10, "amount": 50, "region": "apac"}`,
		`big_orders|11|1|insert|11|60|us|null`,
		`big_orders|12|2|update|12|70|apac|{"id": 12, "amount": 70, "region": "eu"}`,
	})
	run(t, c, `COMMIT`)
}

// TestViewChangelogRefusals: a changelog needs a keyed view; the options
// are checked; a view without one offers no position and no group.
func TestViewChangelogRefusals(t *testing.T) {
	s := strandtest.Start(t, "")
	c := s.Connect(t)
	run(t, c, `CREATE TABLE t (id int PRIMARY KEY, g int, v int)`,
		`CREATE MATERIALIZED VIEW plain AS SELECT g, count(*) AS n FROM t GROUP BY g`)
	for q, code := range map[string]string{
		`CREATE MATERIALIZED VIEW a WITH (changelog = true) AS SELECT g, v FROM t`:                         "0A000",
		`CREATE MATERIALIZED VIEW b WITH (changelog = true) AS SELECT count(*) AS n FROM t GROUP BY g`:     "0A000",
		`CREATE MATERIALIZED VIEW c WITH (changelog = maybe) AS SELECT g, count(*) AS n FROM t GROUP BY g`: "22023",
		`CREATE MATERIALIZED VIEW d WITH (fillfactor = 70) AS SELECT g, count(*) AS n FROM t GROUP BY g`:   "22023",
		`CREATE CONSUMER GROUP pg FOR SUBSCRIBE plain`:                                                     "0A000",
		`BEGIN; DECLARE x CURSOR FOR SUBSCRIBE plain WITH (start = '1'); COMMIT`:                           "0A000",
		`INSERT INTO plain VALUES (1, 1)`:                                                                  "42809",
	} {
		_, err := c.Exec(context.Background(), q)
		if err == nil || !strings.Contains(err.Error(), code) {
			t.Errorf("%s: %v, want %s", q, err, code)
		}
		c.Exec(context.Background(), `ROLLBACK`)
	}
	// Off is the default, said or not.
	run(t, c, `CREATE MATERIALIZED VIEW e WITH (changelog = off) AS SELECT g, count(*) AS n FROM t GROUP BY g`)
}

func sortStrings(xs []string) []string {
	out := append([]string(nil), xs...)
	sort.Strings(out)
	return out
}

// TestViewChangelogCopy: rows loaded by COPY (large chunks are ingested
// as SSTables with the views' state) reach the view's changelog too.
func TestViewChangelogCopy(t *testing.T) {
	ctx := context.Background()
	s := strandtest.Start(t, "")
	c := s.Connect(t)
	run(t, c, `CREATE TABLE ev (id bigint PRIMARY KEY, acct int, amount int)`,
		`CREATE MATERIALIZED VIEW per_acct WITH (changelog = true) AS SELECT acct, count(*) AS n, sum(amount) AS total FROM ev GROUP BY acct`)
	const rows = 60_000
	var data [][]any
	for i := 0; i < rows; i++ {
		data = append(data, []any{int64(i), int32(i % 997), int32(i % 13)})
	}
	if _, err := c.CopyFrom(ctx, pgx.Identifier{"ev"}, []string{"id", "acct", "amount"}, pgx.CopyFromRows(data)); err != nil {
		t.Fatal(err)
	}
	run(t, c, `DELETE FROM ev WHERE acct = 5`)
	want := strandtest.SortedRows(t, c, `SELECT acct, n, total FROM per_acct`)
	if len(want) != 996 {
		t.Fatalf("the view has %d rows", len(want))
	}
	// Replay the changelog: the last row of each key is the view.
	same(t, "the changelog's last rows", replayChangelog(t, c, "per_acct"), want)
}

// replayChangelog reads a view's changelog from its beginning up to its
// last event (versions() says which) and returns each key's last row,
// sorted, as strandtest.SortedRows renders rows.
func replayChangelog(t *testing.T, c *pgx.Conn, view string) []string {
	t.Helper()
	end := fetchRows(t, c, `SELECT max(_lsn) FROM versions('`+view+`')`)[0]
	run(t, c, `BEGIN`, `DECLARE replay CURSOR FOR SUBSCRIBE `+view)
	latest := map[string]string{}
	for pos := ""; pos != end; {
		rows := fetchRows(t, c, `FETCH 5000 replay WITH (timeout = '10s')`)
		if len(rows) == 0 {
			t.Fatalf("%s's changelog: nothing after position %s within 10s; its last event is at %s", view, pos, end)
		}
		for _, r := range rows {
			// _position|_table|_key|_version|_op|the view's columns
			f := strings.Split(r, "|")
			pos = f[0]
			if f[4] == "delete" {
				delete(latest, f[2])
			} else {
				latest[f[2]] = strings.Join(f[5:], "|")
			}
		}
	}
	run(t, c, `COMMIT`)
	var out []string
	for _, v := range latest {
		out = append(out, v)
	}
	return sortStrings(out)
}

// TestViewChangelogNotify: a view with a changelog and notify = 'channel'
// NOTIFYs the channel once per commit that changes it, as a table does.
func TestViewChangelogNotify(t *testing.T) {
	ctx := context.Background()
	s := strandtest.Start(t, "")
	w, l := s.Connect(t), s.Connect(t)
	run(t, l, `LISTEN totals_changed`)
	run(t, w,
		`CREATE TABLE sales (id int PRIMARY KEY, region text, amount int)`,
		`CREATE MATERIALIZED VIEW totals WITH (changelog = true, notify = 'totals_changed') AS
			SELECT region, sum(amount) AS total FROM sales GROUP BY region`,
		`INSERT INTO sales VALUES (1, 'eu', 10), (2, 'us', 5)`,
		`UPDATE sales SET amount = 11 WHERE id = 1`,
		`NOTIFY totals_changed, 'sentinel'`)
	same(t, "notifications", notifications(t, l, 2), []string{"totals_changed public.totals 2", "totals_changed public.totals 1"})
	if _, err := w.Exec(ctx, `CREATE MATERIALIZED VIEW quiet WITH (notify = 'x') AS SELECT region, count(*) AS n FROM sales GROUP BY region`); err == nil || !strings.Contains(err.Error(), "0A000") {
		t.Fatalf("notify without a changelog: %v", err)
	}
}
