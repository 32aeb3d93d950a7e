package sqlwrite

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/strand-db/strand/tests/strandtest"
)

// TestOnConflictDoNothingCounts checks the command tag of INSERT ... ON
// CONFLICT DO NOTHING (decided at commit outside a transaction, by a read
// inside one) and that racing inserts of the same keys insert each key once.
func TestOnConflictDoNothingCounts(t *testing.T) {
	s := strandtest.Start(t, "")
	ctx := context.Background()
	c := s.Connect(t)
	if _, err := c.Exec(ctx, `CREATE TABLE oc (id bigint PRIMARY KEY, v text)`); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		sql  string
		args []any
		want int64
	}{
		{`INSERT INTO oc VALUES (1, 'a') ON CONFLICT DO NOTHING`, nil, 1},
		{`INSERT INTO oc VALUES (1, 'b') ON CONFLICT DO NOTHING`, nil, 0},
		{`INSERT INTO oc VALUES (1, 'c'), (2, 'c') ON CONFLICT (id) DO NOTHING`, nil, 1},
		{`INSERT INTO oc VALUES (3, 'first'), (3, 'second') ON CONFLICT DO NOTHING`, nil, 1},
		{`INSERT INTO oc VALUES ($1, $2) ON CONFLICT DO NOTHING`, []any{4, "p"}, 1},
		{`INSERT INTO oc VALUES ($1, $2) ON CONFLICT DO NOTHING`, []any{4, "q"}, 0},
	} {
		tag, err := c.Exec(ctx, step.sql, step.args...)
		if err != nil {
			t.Fatalf("%s: %v", step.sql, err)
		}
		if tag.RowsAffected() != step.want {
			t.Fatalf("%s %v: tag %q, want %d rows", step.sql, step.args, tag, step.want)
		}
	}
	// Inside a transaction the same statements count the same way.
	tx, err := c.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for key, want := range map[int]int64{1: 0, 5: 1} {
		tag, err := tx.Exec(ctx, `INSERT INTO oc VALUES ($1, 'tx') ON CONFLICT DO NOTHING`, key)
		if err != nil || tag.RowsAffected() != want {
			t.Fatalf("in a transaction, key %d: %q %v, want %d rows", key, tag, err, want)
		}
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	rows, err := c.Query(ctx, `SELECT id, v FROM oc ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	got := map[int64]string{}
	for rows.Next() {
		var id int64
		var v string
		if err := rows.Scan(&id, &v); err != nil {
			t.Fatal(err)
		}
		got[id] = v
	}
	want := map[int64]string{1: "a", 2: "c", 3: "first", 4: "p", 5: "tx"}
	if len(got) != len(want) {
		t.Fatalf("rows %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("rows %v, want %v", got, want)
		}
	}

	// 8 clients insert the same 200 keys: every key is inserted once, and
	// the tags add up to the number of keys.
	if _, err := c.Exec(ctx, `CREATE TABLE race (id bigint PRIMARY KEY, by int)`); err != nil {
		t.Fatal(err)
	}
	const clients, keys = 8, 200
	var inserted atomic.Int64
	var wg sync.WaitGroup
	for w := range clients {
		wg.Add(1)
		cc := s.Connect(t)
		go func() {
			defer wg.Done()
			for k := range keys {
				tag, err := cc.Exec(ctx, `INSERT INTO race VALUES ($1, $2) ON CONFLICT DO NOTHING`, k, w)
				if err != nil {
					t.Error(err)
					return
				}
				inserted.Add(tag.RowsAffected())
			}
		}()
	}
	wg.Wait()
	var n int64
	if err := c.QueryRow(ctx, `SELECT count(*) FROM race`).Scan(&n); err != nil {
		t.Fatal(err)
	}
	if n != keys || inserted.Load() != keys {
		t.Fatalf("%d rows, tags sum to %d; want %d", n, inserted.Load(), keys)
	}
}
