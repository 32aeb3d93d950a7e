// Package viewryw checks read-your-writes through materialized views: an
// INSERT's acknowledgement means every view already reflects it.
package viewryw

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/strand-db/strand/tests/strandtest"
)

// TestReadYourWritesThroughViews: 32 clients each insert and at once read
// a view, alternately on the same connection and on a second connection of
// the same client; every read must see the write just acknowledged.
func TestReadYourWritesThroughViews(t *testing.T) {
	tries := 100000
	if testing.Short() {
		tries = 5000
	}
	if v := os.Getenv("RYW_TRIES"); v != "" {
		tries, _ = strconv.Atoi(v)
	}
	s := strandtest.Start(t, "")
	ctx := context.Background()
	c := s.Connect(t)
	for _, q := range []string{
		`CREATE TABLE clicks (client int, seq int, page text) APPEND ONLY KEY (client)`,
		`CREATE MATERIALIZED VIEW clicks_per_client AS SELECT client, count(*) AS n, max(seq) AS last FROM clicks GROUP BY client`,
	} {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	const clients = 32
	var seen, missed atomic.Int64
	var wg sync.WaitGroup
	for cl := 0; cl < clients; cl++ {
		wg.Add(1)
		go func(cl int) {
			defer wg.Done()
			w, err := pgx.Connect(ctx, s.DSN())
			if err != nil {
				t.Error(err)
				return
			}
			defer w.Close(ctx)
			r, err := pgx.Connect(ctx, s.DSN())
			if err != nil {
				t.Error(err)
				return
			}
			defer r.Close(ctx)
			for seq := 1; seq <= tries/clients; seq++ {
				if _, err := w.Exec(ctx, `INSERT INTO clicks VALUES ($1, $2, 'home')`, cl, seq); err != nil {
					t.Error(err)
					return
				}
				reader := w
				if seq%2 == 0 {
					reader = r
				}
				var n, last int64
				if err := reader.QueryRow(ctx, `SELECT n, last FROM clicks_per_client WHERE client = $1`, cl).Scan(&n, &last); err != nil {
					t.Error(err)
					return
				}
				if n != int64(seq) || last != int64(seq) {
					missed.Add(1)
					t.Errorf("client %d: after acknowledged insert %d the view shows n=%d last=%d", cl, seq, n, last)
					return
				}
				seen.Add(1)
			}
		}(cl)
	}
	wg.Wait()
	if missed.Load() > 0 {
		t.Fatalf("%d of %d reads missed their own write", missed.Load(), seen.Load()+missed.Load())
	}
	t.Logf("%d inserts, each read back through the view at once: %s", seen.Load(), fmt.Sprint("100% seen"))
}

// TestDropCascadeDropsDependentViews: DROP TABLE refuses while views read
// the table, and CASCADE drops them (views over views too); writes go on.
func TestDropCascadeDropsDependentViews(t *testing.T) {
	s := strandtest.Start(t, "")
	ctx := context.Background()
	c := s.Connect(t)
	for _, q := range []string{
		`CREATE TABLE base (id int PRIMARY KEY, g int)`,
		`CREATE TABLE other (id int PRIMARY KEY)`,
		`INSERT INTO base VALUES (1, 1), (2, 1)`,
		`CREATE MATERIALIZED VIEW per_g AS SELECT g, count(*) AS n FROM base GROUP BY g`,
		`CREATE MATERIALIZED VIEW big_g AS SELECT g FROM per_g WHERE n > 1`,
	} {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatal(q, err)
		}
	}
	if _, err := c.Exec(ctx, `DROP TABLE base`); err == nil || !strings.Contains(err.Error(), "2BP01") {
		t.Fatalf("drop without cascade: %v", err)
	}
	if _, err := c.Exec(ctx, `DROP TABLE base CASCADE`); err != nil {
		t.Fatal(err)
	}
	for _, v := range []string{"per_g", "big_g"} {
		if _, err := c.Exec(ctx, "SELECT * FROM "+v); err == nil || !strings.Contains(err.Error(), "42P01") {
			t.Fatalf("%s after cascade: %v", v, err)
		}
	}
	if _, err := c.Exec(ctx, `INSERT INTO other VALUES (1)`); err != nil {
		t.Fatalf("write after cascade: %v", err)
	}
}
