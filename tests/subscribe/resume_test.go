package subscribe

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/strand-db/strand/tests/strandtest"
)

// psqlPath finds psql (PostgreSQL 15's, or on PATH); the test fails without
// it.
func psqlPath(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("/usr/lib/postgresql/15/bin/psql"); err == nil {
		return p
	}
	p, err := exec.LookPath("psql")
	if err != nil {
		t.Fatalf("psql is not installed: %v", err)
	}
	return p
}

type change struct {
	pos     int64
	key     string // table/key
	version int64
}

func parseChange(t *testing.T, line string) change {
	t.Helper()
	f := strings.Split(line, "|")
	if len(f) < 5 {
		t.Fatalf("bad change line %q", line)
	}
	pos, err1 := strconv.ParseInt(f[0], 10, 64)
	v, err2 := strconv.ParseInt(f[3], 10, 64)
	if err1 != nil || err2 != nil {
		t.Fatalf("bad change line %q", line)
	}
	return change{pos: pos, key: f[1] + "/" + f[2], version: v}
}

// TestSubscribeResumeAfterRestart: a subscriber reads part of a pattern
// subscription through pgx, the server is killed (SIGKILL) and restarted
// while writers go on, and psql resumes from the last position: together
// the two reads hold every key's versions exactly once, in order.
func TestSubscribeResumeAfterRestart(t *testing.T) {
	psql := psqlPath(t)
	dir := filepath.Join(t.TempDir(), "data")
	p := strandtest.StartProcess(t, dir)
	defer p.Kill(t)
	ctx := context.Background()
	connect := func() *pgx.Conn {
		c, err := pgx.Connect(ctx, p.DSN())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	w := connect()
	run(t, w, `CREATE TABLE accounts (id text PRIMARY KEY, balance int)`,
		`CREATE TABLE events (k text, n int) APPEND ONLY KEY (k)`)
	written := 0
	// Each round is two commits of ten changes each.
	write := func(w *pgx.Conn, rounds int) {
		for r := 0; r < rounds; r++ {
			var acc, ev []string
			for k := 0; k < 10; k++ {
				acc = append(acc, fmt.Sprintf(`('a%d', %d)`, k, r))
				ev = append(ev, fmt.Sprintf(`('e%d', %d)`, k, r))
			}
			run(t, w, `INSERT INTO accounts VALUES `+strings.Join(acc, ", ")+` ON CONFLICT (id) DO UPDATE SET balance = excluded.balance`,
				`INSERT INTO events VALUES `+strings.Join(ev, ", "))
			written += 20
		}
	}
	write(w, 10)

	r := connect()
	run(t, r, `BEGIN`, `DECLARE c CURSOR FOR SUBSCRIBE public.*`)
	var seen []change
	for _, line := range fetchN(t, r, "c", 150) {
		seen = append(seen, parseChange(t, line))
	}
	last := seen[len(seen)-1].pos
	r.Close(ctx)

	write(w, 5)
	w.Close(ctx)
	p.Kill(t)
	p.Restart(t)
	w = connect()
	defer w.Close(ctx)
	write(w, 5)

	// psql resumes after the last position it was given.
	args := []string{"-X", "-q", "-A", "-t", "-F", "|", "-v", "ON_ERROR_STOP=1", "-d", p.DSN(),
		"-c", "BEGIN", "-c", fmt.Sprintf(`DECLARE c CURSOR FOR SUBSCRIBE public.* WITH (start = '%d')`, last)}
	// Everything is durable already: the first FETCH returns it all and the
	// second finds nothing more.
	args = append(args, "-c", `FETCH ALL c WITH (timeout = '10s')`, "-c", `FETCH ALL c WITH (timeout = '100ms')`, "-c", "COMMIT")
	cctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	out, err := exec.CommandContext(cctx, psql, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("psql: %v\n%s", err, out)
	}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if line != "" {
			seen = append(seen, parseChange(t, line))
		}
	}
	if len(seen) != written {
		t.Fatalf("read %d changes across the restart, wrote %d", len(seen), written)
	}
	versions := map[string]int64{}
	var pos int64
	for _, c := range seen {
		if c.pos <= pos {
			t.Fatalf("position %d after %d", c.pos, pos)
		}
		pos = c.pos
		if c.version != versions[c.key]+1 {
			t.Fatalf("%s: version %d after %d", c.key, c.version, versions[c.key])
		}
		versions[c.key] = c.version
	}
	for k, v := range versions {
		if v != 20 {
			t.Fatalf("%s ends at version %d, want 20", k, v)
		}
	}
}
