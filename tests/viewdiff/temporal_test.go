package viewdiff

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/strand-db/strand/tests/strandtest"
)

// Views with temporal filters (WHERE ts > now() - interval ...): rows
// enter and leave as time passes. Each such view is at a time, as_of in
// pg_catalog.strand_views, and equals its query run by PostgreSQL with
// now() replaced by that time: after every batch of seeded writes (rows
// stamped from 3 s in the past to 2 s in the future, so that they expire,
// and enter, while the test runs), across a restart, and after the writes
// stop, when only the ticker moves the views' time.
func TestTemporalFiltersEqualPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("differential test against PostgreSQL")
	}
	ctx := context.Background()
	// A view made over existing rows (tf_late, below) backfills in steps
	// of 4 rows, which commit between the writes and the ticks.
	t.Setenv("STRAND_VIEW_BACKFILL_CHUNK_ROWS", "4")
	p := newPair(t)
	sc, both := p.sc, p.both
	both(`DROP TABLE IF EXISTS tf_ev, tf_acct CASCADE`,
		`SET TimeZone = 'UTC'`)
	both(`CREATE TABLE tf_acct (id int PRIMARY KEY, region text NOT NULL)`,
		`CREATE TABLE tf_ev (id int PRIMARY KEY, acct int NOT NULL, amount int, ts timestamptz)`,
		`INSERT INTO tf_acct SELECT i, 'r' || (i % 3) FROM generate_series(1, 8) AS s(i)`)
	// NOW stands for now(); PostgreSQL gets the view's time instead.
	defs := []struct{ name, def string }{
		{"tf_recent", `SELECT id, acct, amount, ts FROM tf_ev WHERE ts > NOW - interval '2 seconds'`},
		// Rows stamped in the future enter when their time comes.
		{"tf_window", `SELECT * FROM tf_ev WHERE ts <= NOW AND ts + interval '1500 milliseconds' > NOW AND amount > 10`},
		{"tf_by_acct", `SELECT acct, count(*) AS n, sum(amount) AS s FROM tf_ev WHERE ts >= NOW - interval '2.5 seconds' GROUP BY acct`},
		{"tf_join", `SELECT e.id, a.region FROM tf_ev e JOIN tf_acct a ON a.id = e.acct WHERE NOW < e.ts + interval '2 seconds' AND NOW >= e.ts - interval '1 second'`},
		// Under a top-N: a row that expires gives its place to the next.
		{"tf_top", `SELECT acct, id, amount FROM (SELECT acct, id, amount, row_number() OVER (PARTITION BY acct ORDER BY amount DESC, id) AS rn FROM tf_ev WHERE ts > NOW - interval '3 seconds') s WHERE rn <= 2`},
		{"tf_day", `SELECT id FROM tf_ev WHERE ts > NOW - interval '1 day' AND ts < NOW + interval '1 day'`},
		// The elapsed time written as now() - ts.
		{"tf_elapsed", `SELECT id, amount FROM tf_ev WHERE NOW - ts < interval '2 seconds' AND interval '0' <= NOW - ts`},
		// Calendar-aligned: this second's rows (and later ones), and the
		// rows before it; rows leave and enter at each boundary.
		{"tf_trunc", `SELECT id, ts FROM tf_ev WHERE ts >= date_trunc('second', NOW)`},
		{"tf_trunc_gt", `SELECT id FROM tf_ev WHERE ts > date_trunc('second', NOW)`},
		{"tf_trunc_past", `SELECT acct, count(*) AS n FROM tf_ev WHERE ts < date_trunc('second', NOW) AND ts >= NOW - interval '2 seconds' GROUP BY acct`},
		{"tf_trunc_le", `SELECT id FROM tf_ev WHERE ts <= date_trunc('second', NOW) AND amount > 20`},
		// With an offset: from the start of the previous second, and
		// before half a second into this one.
		{"tf_trunc_offset", `SELECT id, ts FROM tf_ev WHERE ts >= date_trunc('second', NOW) - interval '1 second' AND ts < interval '500 milliseconds' + date_trunc('second', NOW)`},
	}
	for _, d := range defs {
		if _, err := sc.Exec(ctx, "CREATE MATERIALIZED VIEW "+d.name+" AS "+strings.ReplaceAll(d.def, "NOW", "now()")); err != nil {
			t.Fatalf("create %s: %v", d.name, err)
		}
	}
	// A view over a view with a temporal filter is at that view's time.
	const overDef = `SELECT acct, count(*) AS n FROM (%s) r GROUP BY acct`
	strandtest.ExecAll(t, sc, `CREATE MATERIALIZED VIEW tf_over AS SELECT acct, count(*) AS n FROM tf_recent GROUP BY acct`)

	asOf := func(name string) time.Time {
		t.Helper()
		var at *time.Time
		if err := sc.QueryRow(ctx, `SELECT as_of FROM pg_catalog.strand_views WHERE name = $1`, name).Scan(&at); err != nil {
			t.Fatalf("as_of of %s: %v", name, err)
		}
		if at == nil {
			t.Fatalf("%s has no as_of", name)
		}
		return *at
	}
	// read returns a view's rows and the time they are at: the time read
	// before and after them is the same (else a tick fell between).
	read := func(name, timeOf string) ([]string, time.Time) {
		t.Helper()
		for {
			before := asOf(timeOf)
			rows := strandtest.SortedRows(t, sc, "SELECT * FROM "+name)
			if after := asOf(timeOf); after.Equal(before) {
				return rows, before
			}
		}
	}
	checks, nonEmpty := 0, 0
	check := func(when string) {
		t.Helper()
		for _, d := range defs {
			got, at := read(d.name, d.name)
			lit := fmt.Sprintf("'%s'::timestamptz", at.UTC().Format("2006-01-02 15:04:05.999999Z07:00"))
			want := strandtest.SortedRows(t, p.pc, strings.ReplaceAll(d.def, "NOW", lit))
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Errorf("%s %s, at %s: %d rows, PostgreSQL's query %d\n%s", d.name, when, lit, len(got), len(want), strandtest.RowsDiff(got, want))
			}
			checks++
			if len(got) > 0 {
				nonEmpty++
			}
			if d.name == "tf_recent" {
				got, at := read("tf_over", "tf_recent")
				lit := fmt.Sprintf("'%s'::timestamptz", at.UTC().Format("2006-01-02 15:04:05.999999Z07:00"))
				want := strandtest.SortedRows(t, p.pc, fmt.Sprintf(overDef, strings.ReplaceAll(d.def, "NOW", lit)))
				if strings.Join(got, "\n") != strings.Join(want, "\n") {
					t.Errorf("tf_over %s, at %s:\n%s", when, lit, strandtest.RowsDiff(got, want))
				}
				checks++
			}
		}
	}
	rng := rand.New(rand.NewPCG(5, 17))
	nextID := 1
	stamp := func() string {
		at := time.Now().Add(time.Duration(rng.IntN(5000)-3000) * time.Millisecond)
		if rng.IntN(5) == 0 {
			// On a second's boundary: where >= and > differ.
			at = at.Truncate(time.Second)
		}
		return fmt.Sprintf("'%s'", at.UTC().Format("2006-01-02 15:04:05.999999Z07:00"))
	}
	batch := func() {
		t.Helper()
		for range 12 {
			switch r := rng.IntN(10); {
			case r < 6 || nextID < 5:
				both(fmt.Sprintf(`INSERT INTO tf_ev VALUES (%d, %d, %d, %s)`, nextID, 1+rng.IntN(8), rng.IntN(40), stamp()))
				nextID++
			case r < 7:
				both(fmt.Sprintf(`UPDATE tf_ev SET ts = %s WHERE id = %d`, stamp(), 1+rng.IntN(nextID)))
			case r < 8:
				both(fmt.Sprintf(`UPDATE tf_ev SET amount = %d WHERE id = %d`, rng.IntN(40), 1+rng.IntN(nextID)))
			case r < 9:
				both(fmt.Sprintf(`DELETE FROM tf_ev WHERE id = %d`, 1+rng.IntN(nextID)))
			default:
				both(fmt.Sprintf(`UPDATE tf_acct SET region = 'r%d' WHERE id = %d`, rng.IntN(4), 1+rng.IntN(8)))
			}
		}
		time.Sleep(time.Duration(rng.IntN(600)) * time.Millisecond)
		check(fmt.Sprintf("after %d ids", nextID))
	}
	for range 12 {
		batch()
	}
	late := struct{ name, def string }{"tf_late", `SELECT acct, max(amount) AS m FROM tf_ev WHERE ts + interval '1 second' > NOW GROUP BY acct`}
	if _, err := sc.Exec(ctx, "CREATE MATERIALIZED VIEW "+late.name+" AS "+strings.ReplaceAll(late.def, "NOW", "now()")); err != nil {
		t.Fatalf("create %s: %v", late.name, err)
	}
	defs = append(defs, late)
	check("after tf_late's backfill")
	p.restart()
	sc = p.sc
	check("after a restart")
	// With no write since the restart, the ticker alone moves the time.
	before := asOf("tf_recent")
	time.Sleep(2500 * time.Millisecond)
	if after := asOf("tf_recent"); after.Sub(before) < time.Second {
		t.Errorf("tf_recent's time moved from %s to %s in 2.5 s with no writes after a restart", before, after)
	}
	check("idle after a restart")
	for range 12 {
		batch()
	}
	// No writes: the ticker moves the views' time until every row
	// stamped up to 2 s ahead of its write has entered tf_window and,
	// 1.5 s later, left it.
	lastWrite := time.Now()
	for deadline := lastWrite.Add(20 * time.Second); asOf("tf_window").Before(lastWrite.Add(3600*time.Millisecond)) && time.Now().Before(deadline); {
		time.Sleep(200 * time.Millisecond)
	}
	check("after the rows' times")
	if rows, at := read("tf_window", "tf_window"); len(rows) != 0 {
		t.Errorf("tf_window still holds %d rows at %s, %s after the last write", len(rows), at, at.Sub(lastWrite))
	}
	if rows, _ := read("tf_day", "tf_day"); len(rows) == 0 {
		t.Error("tf_day is empty: its rows are all within a day")
	}
	if nonEmpty < checks/3 {
		t.Errorf("only %d of %d checkpoints saw rows: the workload checked little", nonEmpty, checks)
	}
	t.Logf("%d checkpoints equal to PostgreSQL (%d with rows)", checks, nonEmpty)
}

// What a temporal filter cannot be is refused at CREATE with 0A000,
// naming the part: an interval with months (or days, unless the view's
// TimeZone is UTC), now() anywhere but a WHERE conjunct comparing the
// row's time, and two temporal filters in one view.
func TestTemporalFilterRefusals(t *testing.T) {
	ctx := context.Background()
	s := strandtest.Start(t, "")
	c := s.Connect(t)
	strandtest.ExecAll(t, c, `CREATE TABLE tq (id int PRIMARY KEY, ts timestamptz, d date)`)
	for def, part := range map[string]string{
		`SELECT id FROM tq WHERE ts > now() - interval '1 month'`:                                        "months",
		`SELECT id FROM tq WHERE ts > now() - interval '1 hour' OR id = 1`:                               "over time",
		`SELECT id FROM tq WHERE extract(epoch from now() - ts) < 60`:                                    "over time",
		`SELECT id FROM tq WHERE now() - ts < interval '1 hour' + (id * interval '1 second')`:            "over time",
		`SELECT id, now() AS n FROM tq WHERE ts > now() - interval '1 hour'`:                             `column "n"`,
		`SELECT id FROM (SELECT id, ts FROM tq WHERE ts > now() - interval '1 hour') s WHERE ts < now()`: "one temporal filter",
	} {
		_, err := c.Exec(ctx, "CREATE MATERIALIZED VIEW v AS "+def)
		var pe *pgconn.PgError
		if !errors.As(err, &pe) || pe.Code != "0A000" || !strings.Contains(pe.Message, part) {
			t.Errorf("%s: got %v, want 0A000 naming %q", def, err, part)
		}
	}
	strandtest.ExecAll(t, c, `SET TimeZone = 'Europe/Paris'`)
	_, err := c.Exec(ctx, `CREATE MATERIALIZED VIEW v AS SELECT id FROM tq WHERE ts > now() - interval '1 day'`)
	var pe *pgconn.PgError
	if !errors.As(err, &pe) || pe.Code != "0A000" || !strings.Contains(pe.Message, "days") {
		t.Errorf("a day's interval under Europe/Paris: got %v, want 0A000 naming days", err)
	}
	// Hours are a fixed time in any zone.
	strandtest.ExecAll(t, c, `CREATE MATERIALIZED VIEW v AS SELECT id FROM tq WHERE ts > now() - interval '24 hours'`,
		`INSERT INTO tq VALUES (1, now(), current_date), (2, now() - interval '25 hours', current_date)`)
	if got := strandtest.SortedRows(t, c, `SELECT * FROM v`); strings.Join(got, ",") != "1" {
		t.Errorf("v = %v, want [1]", got)
	}
}

// A subscription to a view with a temporal filter delivers the rows that
// enter and leave as its time passes, with no write to wake it: a row
// stamped 0.5 s ahead is inserted when its time comes and deleted 1.5 s
// later.
func TestTemporalViewSubscription(t *testing.T) {
	s := strandtest.Start(t, "")
	c, w := s.Connect(t), s.Connect(t)
	strandtest.ExecAll(t, c, `CREATE TABLE ts_ev (id int PRIMARY KEY, ts timestamptz)`,
		`CREATE MATERIALIZED VIEW ts_now AS SELECT id FROM ts_ev WHERE ts <= now() AND ts > now() - interval '1500 milliseconds'`,
		`BEGIN`, `DECLARE c CURSOR FOR SUBSCRIBE ts_now`)
	strandtest.ExecAll(t, w, `INSERT INTO ts_ev VALUES (1, now() + interval '500 milliseconds')`)
	var ops []string
	deadline := time.Now().Add(10 * time.Second)
	for len(ops) < 2 && time.Now().Before(deadline) {
		ops = append(ops, fetchOps(t, c)...)
	}
	if got := strings.Join(ops, ", "); got != "insert 1, delete 1" {
		t.Errorf("subscription delivered %q, want \"insert 1, delete 1\"", got)
	}
}
