package subscribe

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/strand-db/strand/tests/strandtest"
)

func run(t *testing.T, c *pgx.Conn, qs ...string) {
	t.Helper()
	for _, q := range qs {
		if _, err := c.Exec(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// fetchRows runs a FETCH and renders each row as its columns' text joined
// by '|' (NULL as "null").
func fetchRows(t *testing.T, c *pgx.Conn, q string) []string {
	t.Helper()
	rows, err := c.Query(context.Background(), q, pgx.QueryResultFormats{pgx.TextFormatCode})
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var parts []string
		for _, v := range rows.RawValues() {
			if v == nil {
				parts = append(parts, "null")
			} else {
				parts = append(parts, string(v))
			}
		}
		out = append(out, strings.Join(parts, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return out
}

// fetchN fetches until n rows arrived (each FETCH waits up to 10s).
func fetchN(t *testing.T, c *pgx.Conn, cursor string, n int) []string {
	t.Helper()
	var out []string
	for len(out) < n {
		got := fetchRows(t, c, fmt.Sprintf(`FETCH %d %s WITH (timeout = '10s')`, n-len(out), cursor))
		if len(got) == 0 {
			t.Fatalf("no change within 10s; have %d of %d: %q", len(out), n, out)
		}
		out = append(out, got...)
	}
	return out
}

// dropPosition strips the leading _position column.
func dropPosition(rows []string) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r[strings.IndexByte(r, '|')+1:]
	}
	return out
}

func same(t *testing.T, what string, got, want []string) {
	t.Helper()
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("%s:\ngot:\n  %s\nwant:\n  %s", what, strings.Join(got, "\n  "), strings.Join(want, "\n  "))
	}
}

// TestSubscribeTablePatterns: shop.* and telemetry.> include tables created
// after the subscription started; rows arrive as jsonb since the tables'
// columns differ.
func TestSubscribeTablePatterns(t *testing.T) {
	s := strandtest.Start(t, "")
	w := s.Connect(t)
	run(t, w,
		`CREATE SCHEMA shop`, `CREATE SCHEMA telemetry`,
		`CREATE TABLE shop.orders (id text PRIMARY KEY, amount int)`,
		`CREATE TABLE public.orders (id text PRIMARY KEY, amount int)`,
		`INSERT INTO shop.orders VALUES ('o1', 10)`)
	c := s.Connect(t)
	run(t, c, `BEGIN`, `DECLARE shop CURSOR FOR SUBSCRIBE shop.*`,
		`DECLARE tele CURSOR FOR SUBSCRIBE telemetry.> WITH (start = 'now')`)
	same(t, "history", dropPosition(fetchN(t, c, "shop", 1)), []string{`shop.orders|o1|1|insert|{"id": "o1", "amount": 10}`})

	run(t, w,
		`INSERT INTO public.orders VALUES ('x', 1)`,
		`CREATE TABLE shop.customers (id text PRIMARY KEY, name text, vip boolean)`,
		`INSERT INTO shop.customers VALUES ('c1', 'Ada', true)`,
		`UPDATE shop.orders SET amount = 11 WHERE id = 'o1'`,
		`CREATE TABLE telemetry.cpu (host text, pct float8) APPEND ONLY KEY (host)`,
		`INSERT INTO telemetry.cpu VALUES ('h1', 0.5)`,
		`DELETE FROM shop.customers WHERE id = 'c1'`)
	same(t, "live, with a table created later", dropPosition(fetchN(t, c, "shop", 3)), []string{
		`shop.customers|c1|1|insert|{"id": "c1", "vip": true, "name": "Ada"}`,
		`shop.orders|o1|2|update|{"id": "o1", "amount": 11}`,
		`shop.customers|c1|2|delete|null`,
	})
	same(t, "telemetry.>", dropPosition(fetchN(t, c, "tele", 1)), []string{`telemetry.cpu|h1|1|append|{"pct": 0.5, "host": "h1"}`})
	// Nothing else is pending: a FETCH with a timeout returns no rows.
	if got := fetchRows(t, c, `FETCH 10 shop WITH (timeout = '50ms')`); len(got) != 0 {
		t.Fatalf("unexpected changes: %q", got)
	}
	run(t, c, `COMMIT`)
	if _, err := c.Exec(context.Background(), `DECLARE bad CURSOR FOR SUBSCRIBE shop.>.x`); err == nil || !strings.Contains(err.Error(), "42601") {
		t.Fatalf("bad pattern: %v", err)
	}
	if _, err := c.Exec(context.Background(), `FETCH 1 shop WITH (timeout = 'soon')`); err == nil || !strings.Contains(err.Error(), "22023") {
		t.Fatalf("bad timeout: %v", err)
	}
}

// TestSubscribeKeyPatternWhereAndOld: a key pattern ('*' one level, '>'
// the rest), a WHERE that sees rows enter and leave it, and old rows.
func TestSubscribeKeyPatternWhereAndOld(t *testing.T) {
	s := strandtest.Start(t, "")
	w := s.Connect(t)
	run(t, w, `CREATE TABLE stock (path text PRIMARY KEY, qty int)`)
	c := s.Connect(t)
	run(t, c, `BEGIN`,
		`DECLARE low CURSOR FOR SUBSCRIBE stock WHERE qty < 10 WITH (key = 'eu/*/>', old = true)`,
		`DECLARE pre CURSOR FOR SUBSCRIBE stock WITH (key_prefix = 'us/')`)
	run(t, w,
		`INSERT INTO stock VALUES ('eu/paris/apples', 5)`, // matches
		`INSERT INTO stock VALUES ('eu/paris', 1)`,        // '>' needs a level more
		`INSERT INTO stock VALUES ('us/nyc/apples', 1)`,   // another prefix
		`INSERT INTO stock VALUES ('eu/rome/pears/red', 50)`,
		`UPDATE stock SET qty = 3 WHERE path = 'eu/rome/pears/red'`, // enters the filter
		`UPDATE stock SET qty = 80 WHERE path = 'eu/paris/apples'`,  // leaves it
		`UPDATE stock SET qty = 90 WHERE path = 'eu/paris/apples'`,  // outside before and after
		`DELETE FROM stock WHERE path = 'eu/rome/pears/red'`)
	same(t, "key pattern and WHERE", dropPosition(fetchN(t, c, "low", 4)), []string{
		`stock|eu/paris/apples|1|insert|eu/paris/apples|5|null`,
		`stock|eu/rome/pears/red|2|update|eu/rome/pears/red|3|{"qty": 50, "path": "eu/rome/pears/red"}`,
		`stock|eu/paris/apples|2|update|eu/paris/apples|80|{"qty": 5, "path": "eu/paris/apples"}`,
		`stock|eu/rome/pears/red|3|delete|null|null|{"qty": 3, "path": "eu/rome/pears/red"}`,
	})
	same(t, "key_prefix", dropPosition(fetchN(t, c, "pre", 1)), []string{`stock|us/nyc/apples|1|insert|us/nyc/apples|1`})
	if got := fetchRows(t, c, `FETCH ALL low WITH (timeout = '50ms')`); len(got) != 0 {
		t.Fatalf("unexpected changes: %q", got)
	}
	run(t, c, `COMMIT`)
	for q, code := range map[string]string{
		`DECLARE x CURSOR FOR SUBSCRIBE stock WHERE nope > 1`:                 "42703",
		`DECLARE x CURSOR FOR SUBSCRIBE stock WITH (key = 'a/>/b')`:           "22023",
		`DECLARE x CURSOR FOR SUBSCRIBE stock WITH (start = 'yesterday')`:     "22023",
		`DECLARE x CURSOR FOR SUBSCRIBE stock WITH (colour = 'blue')`:         "42601",
		`DECLARE x CURSOR FOR SUBSCRIBE nosuch`:                               "42P01",
		`DECLARE x CURSOR FOR SUBSCRIBE stock WHERE qty WITH (start = 'now')`: "42804",
	} {
		if _, err := c.Exec(context.Background(), q); err == nil || !strings.Contains(err.Error(), code) {
			t.Errorf("%s: %v, want %s", q, err, code)
		}
	}
}

// TestSubscribeMaterializedView: the view's rows first, then each change of
// its rows as commits to its base table change them; with old = true,
// each update's and delete's previous row; with a WHERE, the changes of
// rows that pass it before or after.
func TestSubscribeMaterializedView(t *testing.T) {
	s := strandtest.Start(t, "")
	w := s.Connect(t)
	run(t, w,
		`CREATE TABLE sales (id int PRIMARY KEY, region text, amount int)`,
		`INSERT INTO sales VALUES (1, 'eu', 10), (2, 'us', 5)`,
		`CREATE MATERIALIZED VIEW totals AS SELECT region, sum(amount) AS total, count(*) AS n FROM sales GROUP BY region`)
	c := s.Connect(t)
	run(t, c, `BEGIN`, `DECLARE v CURSOR FOR SUBSCRIBE totals`,
		`DECLARE big CURSOR FOR SUBSCRIBE totals WHERE total > 100 WITH (start = 'now')`,
		`DECLARE old CURSOR FOR SUBSCRIBE totals WITH (start = 'now', old = true)`)
	same(t, "initial rows", dropPosition(fetchN(t, c, "v", 2)), []string{
		`totals|eu|null|insert|eu|10|1`,
		`totals|us|null|insert|us|5|1`,
	})
	run(t, w, `INSERT INTO sales VALUES (3, 'eu', 200)`)
	same(t, "group update", dropPosition(fetchN(t, c, "v", 1)), []string{`totals|eu|null|update|eu|210|2`})
	run(t, w, `DELETE FROM sales WHERE id = 2`, `INSERT INTO sales VALUES (4, 'apac', 1)`)
	same(t, "delete and insert", dropPosition(fetchN(t, c, "v", 2)), []string{
		`totals|apac|null|insert|apac|1|1`,
		`totals|us|null|delete|null|null|null`,
	})
	same(t, "WHERE on a view", dropPosition(fetchN(t, c, "big", 1)), []string{`totals|eu|null|update|eu|210|2`})
	same(t, "previous rows", dropPosition(fetchN(t, c, "old", 3)), []string{
		`totals|apac|null|insert|apac|1|1|null`,
		`totals|eu|null|update|eu|210|2|{"n": 1, "total": 10, "region": "eu"}`,
		`totals|us|null|delete|null|null|null|{"n": 1, "total": 5, "region": "us"}`,
	})
	// eu leaves the WHERE: its subscriber learns it.
	run(t, w, `DELETE FROM sales WHERE id = 3`)
	same(t, "a row leaving the WHERE", dropPosition(fetchN(t, c, "big", 1)), []string{`totals|eu|null|update|eu|10|1`})
	same(t, "previous row", dropPosition(fetchN(t, c, "old", 1)), []string{
		`totals|eu|null|update|eu|10|1|{"n": 2, "total": 210, "region": "eu"}`,
	})
	run(t, c, `COMMIT`)
	if _, err := c.Exec(context.Background(), `DECLARE p CURSOR FOR SUBSCRIBE totals WITH (start = '3')`); err == nil || !strings.Contains(err.Error(), "0A000") {
		t.Fatalf("view from a position: %v", err)
	}
	// A FETCH waiting on a view that is dropped ends with 42P01.
	run(t, c, `BEGIN`, `DECLARE w CURSOR FOR SUBSCRIBE totals WITH (start = 'now')`)
	fetched := make(chan error, 1)
	go func() {
		_, err := c.Exec(context.Background(), `FETCH ALL w WITH (timeout = '20s')`)
		fetched <- err
	}()
	time.Sleep(100 * time.Millisecond)
	run(t, w, `DROP MATERIALIZED VIEW totals`)
	select {
	case err := <-fetched:
		if err == nil || !strings.Contains(err.Error(), "42P01") {
			t.Fatalf("FETCH on a dropped view: %v, want 42P01", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("FETCH on a dropped view still waits after 10s")
	}
}

// notifications waits for n table notifications on l and for one with the
// payload "sentinel", and renders the others as "channel table changes".
// Tables' notifications come from a notifier that follows the log, after
// the commit: the sentinel, a plain NOTIFY sent after the writes, may
// overtake them, but it bounds what came before it.
func notifications(t *testing.T, l *pgx.Conn, want int) []string {
	t.Helper()
	var got []string
	sentinel := false
	for len(got) < want || !sentinel {
		wctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		n, err := l.WaitForNotification(wctx)
		cancel()
		if err != nil {
			t.Fatalf("after %q: %v", got, err)
		}
		if n.Payload == "sentinel" {
			sentinel = true
			continue
		}
		var p struct {
			Table    string `json:"table"`
			Position int64  `json:"position"`
			Changes  int    `json:"changes"`
		}
		if err := json.Unmarshal([]byte(n.Payload), &p); err != nil || p.Position <= 0 {
			t.Fatalf("payload %q: %v", n.Payload, err)
		}
		got = append(got, fmt.Sprintf("%s %s %d", n.Channel, p.Table, p.Changes))
	}
	return got
}

// TestTableNotify: a table with notify = 'channel' notifies LISTENers once
// per commit that writes it, with a JSON payload.
func TestTableNotify(t *testing.T) {
	s := strandtest.Start(t, "")
	w := s.Connect(t)
	l := s.Connect(t)
	ctx := context.Background()
	run(t, l, `LISTEN orders_changed`, `LISTEN stock_changed`)
	run(t, w,
		`CREATE TABLE orders (id int PRIMARY KEY, amount int) WITH (notify = 'orders_changed')`,
		`CREATE TABLE stock (id int PRIMARY KEY, qty int)`,
		`INSERT INTO orders VALUES (1, 10)`,
		`INSERT INTO stock VALUES (1, 1)`, // no notify option: silent
		`ALTER TABLE stock SET (notify = 'stock_changed')`,
		`BEGIN`, `INSERT INTO stock VALUES (2, 2), (3, 3)`, `UPDATE orders SET amount = 11 WHERE id = 1`, `COMMIT`,
		`ALTER TABLE stock RESET (notify)`,
		`INSERT INTO stock VALUES (4, 4)`,
		`NOTIFY stock_changed, 'sentinel'`)
	// The notifier runs beside the sessions: order across tables of one
	// commit follows the commit's writes.
	want := []string{
		"orders_changed public.orders 1",
		"stock_changed public.stock 2",
		"orders_changed public.orders 1",
	}
	same(t, "notifications", notifications(t, l, len(want)), want)
	if _, err := w.Exec(ctx, `ALTER TABLE stock SET (colour = 'red')`); err == nil || !strings.Contains(err.Error(), "22023") {
		t.Fatalf("unknown table option: %v", err)
	}
}

// TestSubscribeColumnsFixedAtDeclare: a one-table cursor keeps the columns
// it was declared with across ALTER TABLE (rows written since read a dropped
// column as NULL), while a pattern cursor's jsonb rows have the table's
// columns as they are when fetched.
func TestSubscribeColumnsFixedAtDeclare(t *testing.T) {
	s := strandtest.Start(t, "")
	w := s.Connect(t)
	run(t, w, `CREATE TABLE t (id text PRIMARY KEY, a int, b int)`)
	c := s.Connect(t)
	run(t, c, `BEGIN`, `DECLARE one CURSOR FOR SUBSCRIBE t`, `DECLARE many CURSOR FOR SUBSCRIBE public.*`)
	run(t, w, `INSERT INTO t VALUES ('x', 1, 2)`, `ALTER TABLE t DROP COLUMN a`, `ALTER TABLE t ADD COLUMN c int`,
		`INSERT INTO t VALUES ('y', 3, 4)`)
	same(t, "one table", dropPosition(fetchN(t, c, "one", 2)), []string{`t|x|1|insert|x|1|2`, `t|y|1|insert|y|null|3`})
	same(t, "pattern", dropPosition(fetchN(t, c, "many", 2)), []string{
		`public.t|x|1|insert|{"b": 2, "c": null, "id": "x"}`,
		`public.t|y|1|insert|{"b": 3, "c": 4, "id": "y"}`,
	})
}
