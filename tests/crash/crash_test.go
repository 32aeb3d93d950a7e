// Package crash kills a real `strand serve` with SIGKILL under concurrent
// write load, restarts it, and checks that every acknowledged write is
// there exactly once, that each key's versions stay dense, and that
// transactions spanning two tables are all-or-nothing.
package crash

import (
	"context"
	"fmt"
	"math/rand"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/strand-db/strand/tests/strandtest"
)

type ack struct{ writer, seq int64 }

// The views kept under the crashes, and the queries they must equal.
const (
	perWriterSQL = `SELECT writer, count(*) AS n, max(seq) AS last, sum(seq) AS total FROM events GROUP BY writer`
	matchedSQL   = `SELECT d.id, d.amount + c.amount AS both_sides FROM debits d JOIN credits c ON d.id = c.id`
	topSQL       = `SELECT id, amount, rn FROM (SELECT id, amount, row_number() OVER (PARTITION BY amount % 3 ORDER BY amount DESC, id) AS rn FROM debits) s WHERE rn <= 2`
	// A variance state, a top-1 per key (DISTINCT ON) and a semi-join.
	spreadSQL = `SELECT writer, stddev(seq) AS sd, var_pop(seq) AS vp FROM events GROUP BY writer`
	latestSQL = `SELECT DISTINCT ON (writer) writer, seq FROM events ORDER BY writer, seq DESC`
	pairedSQL = `SELECT d.id, d.amount FROM debits d WHERE EXISTS (SELECT 1 FROM credits c WHERE c.id = d.id AND c.amount % 2 = 0)`
	// A window function per partition, and a ROLLUP.
	windowSQL = `SELECT id, amount, lag(id) OVER (PARTITION BY amount % 50 ORDER BY id) AS prev FROM debits`
	// Running functions: each row stored with its values, a change
	// rewriting the rows after it (views/windowrun.go).
	runningSQL = `SELECT writer, seq, sum(seq) OVER w AS total, row_number() OVER w AS n, avg(seq) OVER w AS mean FROM events WINDOW w AS (PARTITION BY writer ORDER BY seq)`
	rollupSQL  = `SELECT writer, count(*) AS n, max(seq) AS last FROM events GROUP BY ROLLUP (writer)`
	// An interval join: each side's rows by seq within a writer
	// (views/joinband.go).
	bandSQL = `SELECT a.writer, a.seq, b.seq AS near FROM events a JOIN events b ON a.writer = b.writer AND b.seq BETWEEN a.seq - 2 AND a.seq`
	// A dynamic filter: the debits above the average.
	aboveSQL = `SELECT id, amount FROM debits WHERE amount > (SELECT avg(amount) FROM debits)`
	// A temporal filter: the events of the last 2 s (NOW is the
	// view's time, as_of, when it is recomputed).
	recentSQL = `SELECT writer, seq FROM events WHERE at > NOW - interval '2 seconds'`
)

func TestKillUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("subprocess crash test")
	}
	dir := filepath.Join(t.TempDir(), "data")
	p := strandtest.StartProcess(t, dir)
	defer p.Kill(t)
	ctx := context.Background()
	setup, err := pgx.Connect(ctx, p.DSN())
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`CREATE TABLE events (writer bigint, seq bigint, payload text, at timestamptz DEFAULT now()) APPEND ONLY KEY (writer)`,
		`CREATE TABLE debits (id text PRIMARY KEY, amount bigint)`,
		`CREATE TABLE credits (id text PRIMARY KEY, amount bigint)`,
		`CREATE MATERIALIZED VIEW per_writer WITH (changelog = true) AS ` + perWriterSQL,
		`CREATE MATERIALIZED VIEW matched WITH (changelog = true) AS ` + matchedSQL,
		`CREATE MATERIALIZED VIEW top_debits AS ` + topSQL,
		`CREATE MATERIALIZED VIEW spread AS ` + spreadSQL,
		`CREATE MATERIALIZED VIEW latest AS ` + latestSQL,
		`CREATE MATERIALIZED VIEW paired AS ` + pairedSQL,
		`CREATE MATERIALIZED VIEW recent AS ` + strings.ReplaceAll(recentSQL, "NOW", "now()"),
		`CREATE MATERIALIZED VIEW windowed AS ` + windowSQL,
		`CREATE MATERIALIZED VIEW running AS ` + runningSQL,
		`CREATE MATERIALIZED VIEW banded AS ` + bandSQL,
		`CREATE MATERIALIZED VIEW rolled AS ` + rollupSQL,
		`CREATE MATERIALIZED VIEW above AS ` + aboveSQL,
	} {
		if _, err := setup.Exec(ctx, q); err != nil {
			t.Fatal(q, err)
		}
	}
	setup.Close(ctx)

	rng := rand.New(rand.NewSource(time.Now().UnixNano()))
	var mu sync.Mutex
	acked := map[ack]bool{}
	txAcked := map[string]bool{}
	const writers = 8
	nextSeq := make([]int64, writers)
	for round := 0; round < 4; round++ {
		var wg sync.WaitGroup
		for w := 0; w < writers; w++ {
			wg.Add(1)
			go func(w int) {
				defer wg.Done()
				c, err := pgx.Connect(ctx, p.DSN())
				if err != nil {
					return
				}
				defer c.Close(ctx)
				for {
					mu.Lock()
					seq := nextSeq[w]
					nextSeq[w]++
					mu.Unlock()
					if seq%5 == 4 {
						// A transaction across two tables.
						id := fmt.Sprintf("w%d-s%d", w, seq)
						tx, err := c.Begin(ctx)
						if err != nil {
							return
						}
						if _, err := tx.Exec(ctx, `INSERT INTO debits VALUES ($1, $2)`, id, seq); err != nil {
							return
						}
						if _, err := tx.Exec(ctx, `INSERT INTO credits VALUES ($1, $2)`, id, seq); err != nil {
							return
						}
						if err := tx.Commit(ctx); err != nil {
							return
						}
						mu.Lock()
						txAcked[id] = true
						mu.Unlock()
						continue
					}
					if _, err := c.Exec(ctx, `INSERT INTO events (writer, seq, payload) VALUES ($1, $2, 'x')`, w, seq); err != nil {
						return // the server died
					}
					mu.Lock()
					acked[ack{int64(w), seq}] = true
					mu.Unlock()
				}
			}(w)
		}
		time.Sleep(time.Duration(300+rng.Intn(700)) * time.Millisecond)
		p.Kill(t)
		wg.Wait()
		p.Restart(t)
		mu.Lock()
		verify(t, p.DSN(), acked, txAcked)
		t.Logf("round %d: %d acknowledged appends and %d transactions survived SIGKILL", round, len(acked), len(txAcked))
		mu.Unlock()
	}
	if err := p.Terminate(t); err != nil {
		t.Fatal(err)
	}
}

func verify(t *testing.T, dsn string, acked map[ack]bool, txAcked map[string]bool) {
	t.Helper()
	ctx := context.Background()
	c, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(ctx)
	rows, err := c.Query(ctx, `SELECT writer, seq, _version FROM events ORDER BY writer, _version`)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[ack]int{}
	lastVersion := map[int64]int64{}
	for rows.Next() {
		var w, seq, v int64
		if err := rows.Scan(&w, &seq, &v); err != nil {
			t.Fatal(err)
		}
		seen[ack{w, seq}]++
		if v != lastVersion[w]+1 {
			t.Fatalf("writer %d: version %d follows %d (versions must be dense)", w, v, lastVersion[w])
		}
		lastVersion[w] = v
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for a, n := range seen {
		if n > 1 {
			t.Fatalf("append %v present %d times", a, n)
		}
	}
	for a := range acked {
		if seen[a] != 1 {
			t.Fatalf("acknowledged append %v lost", a)
		}
	}
	debits := ids(t, c, "debits")
	credits := ids(t, c, "credits")
	for id := range debits {
		if !credits[id] {
			t.Fatalf("transaction %s: debit without credit after crash", id)
		}
	}
	for id := range credits {
		if !debits[id] {
			t.Fatalf("transaction %s: credit without debit after crash", id)
		}
	}
	for id := range txAcked {
		if !debits[id] {
			t.Fatalf("acknowledged transaction %s lost", id)
		}
	}
	// Every view equals its query recomputed over the recovered tables.
	for view, q := range map[string]string{"per_writer": perWriterSQL, "matched": matchedSQL, "top_debits": topSQL,
		"spread": spreadSQL, "latest": latestSQL, "paired": pairedSQL, "windowed": windowSQL, "running": runningSQL, "banded": bandSQL, "rolled": rollupSQL, "above": aboveSQL} {
		got, want := lines(t, c, "SELECT * FROM "+view), lines(t, c, q)
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("view %s after crash:\n%v\nrecomputed:\n%v", view, got, want)
		}
	}
	// The changelogs (a GROUP BY's, a join's), written in the commits
	// that changed the views, end each key with the view's row.
	for _, view := range []string{"per_writer", "matched"} {
		if got, want := changelogRows(t, c, view), lines(t, c, "SELECT * FROM "+view); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("%s's changelog after crash ends with\n%v\nthe view is\n%v", view, got, want)
		}
	}
	// The temporal view equals its query at its time, read before and
	// after it (a tick between them: read again).
	asOf := func() string {
		var at string
		if err := c.QueryRow(ctx, `SELECT as_of::text FROM pg_catalog.strand_views WHERE name = 'recent'`).Scan(&at); err != nil {
			t.Fatal(err)
		}
		return at
	}
	for {
		at := asOf()
		got := lines(t, c, "SELECT * FROM recent")
		if asOf() != at {
			continue
		}
		want := lines(t, c, strings.ReplaceAll(recentSQL, "NOW", "'"+at+"'::timestamptz"))
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("view recent after crash, at %s:\n%v\nrecomputed:\n%v", at, got, want)
		}
		t.Logf("view recent after crash: %d rows at %s", len(got), at)
		break
	}
}

func lines(t *testing.T, c *pgx.Conn, q string) []string {
	rows, err := c.Query(context.Background(), q, pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		t.Fatal(q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var parts []string
		for _, v := range rows.RawValues() {
			parts = append(parts, string(v))
		}
		out = append(out, strings.Join(parts, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(q, err)
	}
	sort.Strings(out)
	return out
}

// changelogRows replays a view's changelog from its beginning up to its
// last event (versions() says which) and returns each key's last row
// (sorted, as lines renders rows).
func changelogRows(t *testing.T, c *pgx.Conn, view string) []string {
	t.Helper()
	ctx := context.Background()
	var end int64
	if err := c.QueryRow(ctx, `SELECT coalesce(max(_lsn), 0) FROM versions('`+view+`')`).Scan(&end); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Exec(ctx, `BEGIN`); err != nil {
		t.Fatal(err)
	}
	defer c.Exec(ctx, `COMMIT`)
	if _, err := c.Exec(ctx, `DECLARE log_`+view+` CURSOR FOR SUBSCRIBE `+view); err != nil {
		t.Fatal(err)
	}
	last := map[string]string{}
	for pos := int64(0); pos < end; {
		rows, err := c.Query(ctx, `FETCH 10000 log_`+view+` WITH (timeout = '10s')`, pgx.QueryExecModeSimpleProtocol)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for rows.Next() {
			n++
			// _position, _table, _key, _version, _op, then the columns.
			vals := rows.RawValues()
			pos, _ = strconv.ParseInt(string(vals[0]), 10, 64)
			key, op := string(vals[2]), string(vals[4])
			if op == "delete" {
				delete(last, key)
				continue
			}
			var parts []string
			for _, v := range vals[5:] {
				parts = append(parts, string(v))
			}
			last[key] = strings.Join(parts, "|")
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if n == 0 {
			t.Fatalf("%s's changelog: nothing after position %d within 10s; its last event is at %d", view, pos, end)
		}
	}
	var out []string
	for _, r := range last {
		out = append(out, r)
	}
	sort.Strings(out)
	return out
}

func ids(t *testing.T, c *pgx.Conn, table string) map[string]bool {
	rows, err := c.Query(context.Background(), "SELECT id FROM "+table)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]bool{}
	for rows.Next() {
		var id string
		rows.Scan(&id)
		out[id] = true
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
