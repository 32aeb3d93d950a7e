package clients

import (
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/strand-db/strand/tests/toolcache"
)

// TestPgbench runs a custom INSERT/SELECT script (testdata/pgbench.sql,
// with \set variables) from 16 clients on 2 threads, in the simple and the
// prepared protocol, and requires that no transaction failed.
func TestPgbench(t *testing.T) {
	pgbench := toolcache.Tool(t, "pgbench")
	p := serve(t)
	ctx := context.Background()
	c, err := pgx.Connect(ctx, p.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	for _, q := range []string{
		`CREATE TABLE bench_events (account_id bigint, amount int, note text) APPEND ONLY KEY (account_id)`,
		`CREATE TABLE bench_accounts (id bigint PRIMARY KEY, balance int)`,
	} {
		if _, err := c.Exec(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	failed := regexp.MustCompile(`number of failed transactions: (\d+)`)
	processed := regexp.MustCompile(`number of transactions actually processed: (\d+)/(\d+)`)
	total := int64(0)
	for _, mode := range []string{"simple", "prepared"} {
		t.Run(mode, func(t *testing.T) {
			out := run(t, 2*time.Minute, "", pgbench, "-n", "-f", "testdata/pgbench.sql", "-c", "16", "-j", "2", "-t", "200", "-M", mode, p.DSN())
			if m := failed.FindStringSubmatch(out); m != nil && m[1] != "0" {
				t.Fatalf("pgbench -M %s: %s failed transactions\n%s", mode, m[1], out)
			}
			m := processed.FindStringSubmatch(out)
			if m == nil || m[1] != m[2] || m[1] != "3200" {
				t.Fatalf("pgbench -M %s did not process every transaction:\n%s", mode, out)
			}
			if strings.Contains(out, "ERROR") {
				t.Fatalf("pgbench -M %s reported errors:\n%s", mode, out)
			}
			total += 3200
		})
	}
	var n int64
	if err := c.QueryRow(ctx, `SELECT count(*) FROM bench_events`).Scan(&n); err != nil || n != total {
		t.Errorf("bench_events has %d rows (%v), want %d", n, err, total)
	}
}
