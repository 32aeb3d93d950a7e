package crash

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/strand-db/strand/tests/strandtest"
)

// A serial key hands out no value twice across SIGKILL: writers insert
// rows with serial ids (a duplicate would fail with 23505) until the
// server is killed under them, three times over; every acknowledged row
// is there, each id once.
func TestSerialAcrossKill(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocess crash test")
	}
	ctx := context.Background()
	p := strandtest.StartProcess(t, filepath.Join(t.TempDir(), "data"))
	defer p.Kill(t)
	c, err := pgx.Connect(ctx, p.DSN())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, `CREATE TABLE ser (id bigserial PRIMARY KEY, w int, n int)`); err != nil {
		t.Fatal(err)
	}
	c.Close(ctx)
	acked := 0
	var mu sync.Mutex
	for round := 0; round < 3; round++ {
		var wg sync.WaitGroup
		for w := 0; w < 4; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				c, err := pgx.Connect(ctx, p.DSN())
				if err != nil {
					return
				}
				defer c.Close(ctx)
				for n := 0; ; n++ {
					if _, err := c.Exec(ctx, `INSERT INTO ser (w, n) VALUES ($1, $2)`, w, n); err != nil {
						if pgError(err) == "23505" {
							t.Errorf("a serial id came twice: %v", err)
						}
						return // the server died
					}
					mu.Lock()
					acked++
					mu.Unlock()
				}
			}(w)
		}
		time.Sleep(400 * time.Millisecond)
		p.Kill(t)
		wg.Wait()
		p.Restart(t)
	}
	c, err = pgx.Connect(ctx, p.DSN())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	var rows, distinct int
	if err := c.QueryRow(ctx, `SELECT count(*), count(DISTINCT id) FROM ser`).Scan(&rows, &distinct); err != nil {
		t.Fatal(err)
	}
	// A write the kill cut off after it committed is there unacknowledged.
	if rows < acked || distinct != rows {
		t.Errorf("%d rows (%d distinct ids) after kills, %d inserts acknowledged", rows, distinct, acked)
	}
	t.Logf("%d serial ids handed out across 3 SIGKILLs, each once", rows)
}

// pgError is err's SQLSTATE ("" when it is no PostgreSQL error).
func pgError(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}
