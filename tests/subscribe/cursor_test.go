package subscribe

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/strand-db/strand/tests/strandtest"
)

// TestCursors: DECLARE/FETCH/CLOSE over a query in a transaction, WITH HOLD
// across it, and a cursor FOR SUBSCRIBE whose FETCH waits for new changes.
func TestCursors(t *testing.T) {
	s := strandtest.Start(t, "")
	ctx := context.Background()
	c := s.Connect(t)
	for _, q := range []string{
		`CREATE TABLE items (id int PRIMARY KEY, name text)`,
		`INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 10) g`,
	} {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatal(q, err)
		}
	}
	ids := func(q string) string {
		rows, err := c.Query(ctx, q)
		if err != nil {
			t.Fatal(q, err)
		}
		var out []string
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				t.Fatal(err)
			}
			out = append(out, fmt.Sprint(id))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(q, err)
		}
		return strings.Join(out, ",")
	}
	if _, err := c.Exec(ctx, `DECLARE nope CURSOR FOR SELECT id FROM items`); err == nil || !strings.Contains(err.Error(), "25P01") {
		t.Fatalf("DECLARE outside a transaction: %v", err)
	}
	c.Exec(ctx, `BEGIN`)
	if _, err := c.Exec(ctx, `DECLARE cur CURSOR FOR SELECT id FROM items WHERE id > $1 ORDER BY id`, 2); err != nil {
		t.Fatal(err)
	}
	if got := ids(`FETCH 3 FROM cur`); got != "3,4,5" {
		t.Fatalf("first fetch: %s", got)
	}
	if got := ids(`FETCH 2 cur`); got != "6,7" {
		t.Fatalf("second fetch: %s", got)
	}
	if got := ids(`FETCH ALL FROM cur`); got != "8,9,10" {
		t.Fatalf("fetch all: %s", got)
	}
	if got := ids(`FETCH 1 FROM cur`); got != "" {
		t.Fatalf("fetch past the end: %s", got)
	}
	c.Exec(ctx, `DECLARE held CURSOR WITH HOLD FOR SELECT id FROM items ORDER BY id DESC`)
	c.Exec(ctx, `COMMIT`)
	if _, err := c.Exec(ctx, `FETCH 1 FROM cur`); err == nil || !strings.Contains(err.Error(), "34000") {
		t.Fatalf("cursor after commit: %v", err)
	}
	if got := ids(`FETCH 2 FROM held`); got != "10,9" {
		t.Fatalf("held cursor after commit: %s", got)
	}
	if _, err := c.Exec(ctx, `CLOSE held`); err != nil {
		t.Fatal(err)
	}

	// A subscription cursor: history first, then FETCH waits for the next
	// change.
	if _, err := c.Exec(ctx, `DECLARE changes CURSOR FOR SUBSCRIBE items WITH (start = '5')`); err != nil {
		t.Fatal(err)
	}
	keys := func(q string) string {
		rows, err := c.Query(ctx, q)
		if err != nil {
			t.Fatal(q, err)
		}
		var out []string
		for rows.Next() {
			v, _ := rows.Values()
			out = append(out, fmt.Sprint(v[2]))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(q, err)
		}
		return strings.Join(out, ",")
	}
	if got := keys(`FETCH 3 FROM changes`); got != "6,7,8" {
		t.Fatalf("subscription history: %s", got)
	}
	keys(`FETCH ALL FROM changes`)
	// Nothing is pending: a FETCH with a wait timeout returns no rows, not
	// before the timeout and without hanging (how long after the timeout
	// is up to the machine's load, so it is not checked).
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	start := time.Now()
	rows, err := c.Query(wctx, `FETCH 10 FROM changes WITH (timeout = '100ms')`)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		t.Fatalf("FETCH with nothing pending returned %v", rows.RawValues())
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("FETCH with a 100ms timeout: %v", err)
	}
	cancel()
	if waited := time.Since(start); waited < 100*time.Millisecond {
		t.Fatalf("FETCH with a 100ms timeout returned after %v", waited)
	}
	// A FETCH without a timeout waits for the next change (the UPDATE
	// normally commits while it waits; if the machine is slow enough it
	// is already buffered, and the FETCH returns it at once).
	w := s.Connect(t)
	wrote := make(chan error, 1)
	go func() {
		time.Sleep(100 * time.Millisecond)
		_, err := w.Exec(ctx, `UPDATE items SET name = 'renamed' WHERE id = 3`)
		wrote <- err
	}()
	defer func() {
		if err := <-wrote; err != nil {
			t.Error(err)
		}
	}()
	rows, err = c.Query(ctx, `FETCH 10 FROM changes`)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for rows.Next() {
		v, _ := rows.Values()
		got = append(got, fmt.Sprint(v[2], " ", v[3], " ", v[4], " ", v[6]))
	}
	if rows.Err() != nil || len(got) != 1 || got[0] != "3 2 update renamed" {
		t.Fatalf("live change through the cursor: %v %v", got, rows.Err())
	}
}
