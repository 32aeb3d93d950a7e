// Package groups tests consumer groups (docs/GROUPS.md) through pgx
// against real servers.
package groups

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/strand-db/strand/tests/strandtest"
)

func keyName(i int) string { return fmt.Sprintf("k%04d", i) }

// TestMemberKilledMidBatch: three members share a group while events keep
// arriving; one member's connection is dropped after it fetched a batch and
// before it acknowledged it. Its keys go to the two others at once (with
// attempt 2), every key's versions are handed out in order across members,
// and every version is acknowledged with no gap.
func TestMemberKilledMidBatch(t *testing.T) {
	s := strandtest.Start(t, "")
	ctx := context.Background()
	admin := s.Connect(t)
	const keys, versions = 200, 10
	mustExec(t, admin,
		`CREATE TABLE ev (k text, seq int) APPEND ONLY KEY (k)`,
		`CREATE CONSUMER GROUP g WITH (lease = '30s', backoff = '10ms') FOR SUBSCRIBE ev`)
	// Half the events exist before the members start, half arrive while
	// they run.
	insertEvents(t, admin, "ev", keys, versions/2, keyName)

	tr := newTracker()
	var stop atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan error, 3)
	var victimKeys []string
	victimFetched := make(chan struct{})
	for m := 0; m < 3; m++ {
		c := s.Connect(t)
		wg.Add(1)
		go func(m int, c *pgx.Conn) {
			defer wg.Done()
			for batch := 0; ; batch++ {
				ds, err := fetch(ctx, c, "g", 25, "100ms")
				if err != nil {
					errs <- fmt.Errorf("member %d fetch: %w", m, err)
					return
				}
				tr.check(m, ds)
				if m == 2 && batch == 3 && len(ds) > 0 {
					// Killed mid-batch: the socket goes away without an
					// ACK or a Terminate message.
					for _, d := range ds {
						victimKeys = append(victimKeys, d.key)
					}
					c.PgConn().Conn().Close()
					close(victimFetched)
					return
				}
				if len(ds) == 0 {
					if stop.Load() {
						return
					}
					continue
				}
				tr.acknowledged(ds)
				if _, err := c.Exec(ctx, ackStatement("ACK", "g", ds)); err != nil {
					errs <- fmt.Errorf("member %d ack: %w", m, err)
					return
				}
			}
		}(m, c)
	}
	select {
	case <-victimFetched:
	case <-time.After(30 * time.Second):
		t.Fatal("the third member never got its fourth batch")
	}
	// More events while the survivors take over.
	for v := versions/2 + 1; v <= versions; v++ {
		var b strings.Builder
		b.WriteString("INSERT INTO ev VALUES ")
		for k := 0; k < keys; k++ {
			if k > 0 {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "('%s', %d)", keyName(k), v)
		}
		mustExec(t, admin, b.String())
	}
	waitFor(t, 60*time.Second, func() bool {
		tr.mu.Lock()
		defer tr.mu.Unlock()
		for k := 0; k < keys; k++ {
			if tr.acked["ev/"+keyName(k)] < versions {
				return false
			}
		}
		return true
	})
	stop.Store(true)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	tr.failIfErrors(t)
	if len(victimKeys) == 0 {
		t.Fatal("the killed member had no keys")
	}
	if tr.redelivered == 0 {
		t.Fatalf("the killed member's %d keys were not redelivered with a second attempt", len(victimKeys))
	}
	if got := tr.deliveries; got < keys*versions {
		t.Fatalf("%d deliveries for %d events", got, keys*versions)
	}
	waitFor(t, 60*time.Second, func() bool {
		return groupStatus(t, admin, "g", "pending_keys") == 0 && groupStatus(t, admin, "g", "members") == 2
	})
	// Every key's progress is durable at its last version.
	var behind int64
	if err := admin.QueryRow(ctx, `SELECT count(*) FROM g_progress WHERE table_id <> 0 AND acked_version <> $1`, versions).Scan(&behind); err != nil {
		t.Fatal(err)
	}
	if behind != 0 {
		t.Fatalf("%d keys' durable progress is not at version %d", behind, versions)
	}
	t.Logf("%d deliveries (%d redelivered) of %d events; the killed member held %d", tr.deliveries, tr.redelivered, keys*versions, len(victimKeys))
}

// TestLeaseExpiry: a member that stops acknowledging (without
// disconnecting) loses its keys when the lease ends; another member gets
// them with the next attempt number, and the late member's ACK is ignored.
func TestLeaseExpiry(t *testing.T) {
	s := strandtest.Start(t, "")
	ctx := context.Background()
	a, b := s.Connect(t), s.Connect(t)
	mustExec(t, a,
		`CREATE TABLE ev (k text, seq int) APPEND ONLY KEY (k)`,
		`CREATE CONSUMER GROUP g WITH (lease = '2s', backoff = '0s') FOR SUBSCRIBE ev`,
		`INSERT INTO ev VALUES ('x', 1), ('x', 2)`)
	// The lease starts after this instant (when the server hands the key
	// out), so nothing may reach b before lease has passed since it.
	const lease = 2 * time.Second
	beforeLease := time.Now()
	first, err := fetch(ctx, a, "g", 10, "10s")
	if err != nil || len(first) != 2 {
		t.Fatalf("first fetch: %v %v", first, err)
	}
	// b sees nothing while a holds the key (unless the machine is so slow
	// that the lease has run out already).
	ds, err := fetch(ctx, b, "g", 10, "100ms")
	if err != nil {
		t.Fatal(err)
	}
	if len(ds) == 0 {
		ds, err = fetch(ctx, b, "g", 10, "30s")
	}
	if since := time.Since(beforeLease); len(ds) > 0 && since < lease {
		t.Fatalf("b got x %v after a fetched it, within a's %v lease: %+v", since, lease, ds)
	}
	if err != nil || len(ds) != 2 || ds[0].version != 1 || ds[0].attempt != 2 {
		t.Fatalf("b after the lease: %+v %v", ds, err)
	}
	// a's late ACK of version 1 still counts (at least once: the work was
	// done); b then acknowledges version 2.
	if _, err := a.Exec(ctx, `ACK GROUP g ('ev', 'x', 1)`); err != nil {
		t.Fatal(err)
	}
	if tag, err := b.Exec(ctx, `ACK GROUP g ('ev', 'x', 2)`); err != nil || tag.String() != "ACK 1" {
		t.Fatalf("b's ack: %v %v", tag, err)
	}
	if ds, err := fetch(ctx, a, "g", 10, "100ms"); err != nil || len(ds) != 0 {
		t.Fatalf("after everything is acknowledged: %v %v", ds, err)
	}
}

// TestRestartKeepsProgress: a group's progress survives SIGKILL of the
// server. What was acknowledged is never handed out again; what was handed
// out but not acknowledged is; nothing is skipped.
func TestRestartKeepsProgress(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	p := strandtest.StartProcess(t, dir)
	defer p.Kill(t)
	ctx := context.Background()
	connect := func() *pgx.Conn {
		c, err := pgx.Connect(ctx, p.DSN())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close(context.Background()) })
		return c
	}
	c := connect()
	const keys, versions = 50, 6
	mustExec(t, c,
		`CREATE TABLE ev (k text, seq int) APPEND ONLY KEY (k)`,
		`CREATE CONSUMER GROUP g WITH (lease = '30s') FOR SUBSCRIBE ev`)
	insertEvents(t, c, "ev", keys, versions, keyName)
	tr := newTracker()
	// Acknowledge a part; hold one batch unacknowledged at the kill.
	acked := 0
	for acked < keys*versions/2 {
		ds, err := fetch(ctx, c, "g", 40, "10s")
		if err != nil || len(ds) == 0 {
			t.Fatalf("fetch: %v %v", len(ds), err)
		}
		tr.check(0, ds)
		tr.acknowledged(ds)
		mustExec(t, c, ackStatement("ACK", "g", ds))
		acked += len(ds)
	}
	held, err := fetch(ctx, c, "g", 40, "10s")
	if err != nil || len(held) == 0 {
		t.Fatalf("held batch: %v %v", held, err)
	}
	tr.check(0, held)
	p.Kill(t)
	p.Restart(t)

	c = connect()
	// More events after the restart.
	mustExec(t, c, `INSERT INTO ev VALUES ('late', 1), ('k0000', 7)`)
	redeliveredHeld := map[string]bool{}
	heldKeys := map[string]int64{}
	for _, d := range held {
		if _, ok := heldKeys[d.key]; !ok {
			heldKeys[d.key] = d.version
		}
	}
	// Drain until every key is acknowledged to its last version (an empty
	// FETCH only means nothing was ready yet: the reopened group may
	// still be reading the log on a slow machine).
	drained := func() bool {
		tr.mu.Lock()
		defer tr.mu.Unlock()
		for k := 0; k < keys; k++ {
			want := int64(versions)
			if k == 0 {
				want = 7
			}
			if tr.acked["ev/"+keyName(k)] < want {
				return false
			}
		}
		return tr.acked["ev/late"] >= 1
	}
	deadline := time.Now().Add(60 * time.Second)
	for !drained() {
		if time.Now().After(deadline) {
			t.Fatal("the group did not drain after the restart")
		}
		ds, err := fetch(ctx, c, "g", 100, "500ms")
		if err != nil {
			t.Fatal(err)
		}
		if len(ds) == 0 {
			continue
		}
		tr.check(1, ds)
		for _, d := range ds {
			if v, ok := heldKeys[d.key]; ok && d.version == v {
				redeliveredHeld[d.key] = true
			}
		}
		tr.acknowledged(ds)
		mustExec(t, c, ackStatement("ACK", "g", ds))
	}
	// Nothing more comes: no version was handed out twice after its ACK.
	if ds, err := fetch(ctx, c, "g", 100, "300ms"); err != nil || len(ds) != 0 {
		t.Fatalf("after the drain: %+v %v", ds, err)
	}
	tr.failIfErrors(t)
	for k := 0; k < keys; k++ {
		want := int64(versions)
		if k == 0 {
			want = 7
		}
		if got := tr.acked["ev/"+keyName(k)]; got != want {
			t.Fatalf("key %s acknowledged up to %d, want %d", keyName(k), got, want)
		}
	}
	if tr.acked["ev/late"] != 1 {
		t.Fatal("the event written after the restart was not delivered")
	}
	if len(redeliveredHeld) != len(heldKeys) {
		t.Fatalf("of %d keys held unacknowledged at the kill, %d were handed out again", len(heldKeys), len(redeliveredHeld))
	}
}

// TestNackBackoffDeadLetter: a NACKed key is redelivered alone after its
// backoff while other keys flow; after max_attempts its event is parked in
// the dead-letter table (SELECT shows it with the reason) and the key
// moves on to its next version.
func TestNackBackoffDeadLetter(t *testing.T) {
	s := strandtest.Start(t, "")
	ctx := context.Background()
	c := s.Connect(t)
	mustExec(t, c,
		`CREATE TABLE ev (k text, seq int) APPEND ONLY KEY (k)`,
		`CREATE CONSUMER GROUP g WITH (max_attempts = 3, backoff = '200ms', lease = '30s') FOR SUBSCRIBE ev`,
		`INSERT INTO ev VALUES ('bad', 1), ('good', 1)`)
	ds, err := fetch(ctx, c, "g", 10, "10s")
	if err != nil || len(ds) != 2 || ds[0].key != "bad" {
		t.Fatalf("first fetch: %+v %v", ds, err)
	}
	// Backoffs are lower bounds: a redelivery of 'bad' must come at least
	// backoff << (failures-1) after the NACK was sent (the server starts
	// the backoff after receiving it). How much later is up to the
	// machine's load, so it is not checked.
	const backoff = 200 * time.Millisecond
	attemptsSeen := []int32{ds[0].attempt}
	start := time.Now()
	mustExec(t, c, `ACK GROUP g ('ev', 'good', 1)`)
	nackSent := time.Now()
	mustExec(t, c, `NACK GROUP g ('ev', 'bad', 1, 'handler failed: boom')`)
	failures := 1
	// 'good' keeps flowing while 'bad' waits out its backoffs.
	mustExec(t, c, `INSERT INTO ev VALUES ('good', 2)`)
	goodAt := -1 // failures of 'bad' when 'good' 2 was handed out
	for failures < 3 || goodAt < 0 {
		ds, err = fetch(ctx, c, "g", 10, "30s")
		if err != nil || len(ds) == 0 {
			t.Fatalf("after %d failures: %+v %v", failures, ds, err)
		}
		badInBatch := 0
		for _, d := range ds {
			if d.key == "bad" {
				badInBatch++
			}
			switch {
			case d.key == "bad" && badInBatch > 1 && d.version == int64(badInBatch):
				// 'bad' 2 comes along with 'bad' 1 once inserted: a key's
				// buffered versions are handed out together, and the NACK
				// of version 1 fails the whole lease.
			case d.key == "good" && d.version == 2 && goodAt < 0:
				goodAt = failures
				mustExec(t, c, `ACK GROUP g ('ev', 'good', 2)`, `INSERT INTO ev VALUES ('bad', 2)`)
			case d.key == "bad" && d.version == 1 && badInBatch == 1 && failures < 3:
				if since, want := time.Since(nackSent), backoff<<(failures-1); since < want {
					t.Fatalf("'bad' redelivered %v after NACK %d, before its %v backoff", since, failures, want)
				}
				attemptsSeen = append(attemptsSeen, d.attempt)
				nackSent = time.Now()
				// Drivers pass the item as parameters.
				if _, err := c.Exec(ctx, `NACK GROUP g ($1, $2, $3, $4)`, "ev", "bad", 1, "handler failed: boom"); err != nil {
					t.Fatal(err)
				}
				failures++
			default:
				t.Fatalf("unexpected delivery after %d failures: %+v", failures, d)
			}
		}
	}
	// 'good' was not held up until 'bad' used its attempts (normally it
	// comes during the first backoff; the second allows for a slow reader).
	if goodAt >= 3 {
		t.Fatalf("'good' 2 was handed out only after 'bad' failed %d times", goodAt)
	}
	if fmt.Sprint(attemptsSeen) != "[1 2 3]" {
		t.Fatalf("attempts %v", attemptsSeen)
	}
	// Parked: the key moves on to version 2.
	ds, err = fetch(ctx, c, "g", 10, "30s")
	if err != nil || len(ds) != 1 || ds[0].key != "bad" || ds[0].version != 2 || ds[0].attempt != 1 {
		t.Fatalf("after parking: %+v %v", ds, err)
	}
	if tag, err := c.Exec(ctx, `ACK GROUP g ($1, $2, $3)`, "ev", "bad", int64(2)); err != nil || tag.String() != "ACK 1" {
		t.Fatalf("ack with parameters: %v %v", tag, err)
	}
	var table, key, reason, row string
	var version, attempts int64
	err = c.QueryRow(ctx, `SELECT source_table, key, version, attempts, error, "row"::text FROM g_dead_letters`).Scan(&table, &key, &version, &attempts, &reason, &row)
	if err != nil {
		t.Fatal(err)
	}
	if table != "ev" || key != "bad" || version != 1 || attempts != 3 || reason != "handler failed: boom" || !strings.Contains(row, `"seq":1`) {
		t.Fatalf("dead letter: %s %s %d %d %q %s", table, key, version, attempts, reason, row)
	}
	if n := groupStatus(t, c, "g", "parked"); n != 1 {
		t.Fatalf("status parked = %d", n)
	}
	t.Logf("three attempts and a park in %v", time.Since(start))
}

// TestBlockOnFailure: with on_failure = 'block' a key that used its
// attempts stays blocked (its later versions wait) while other keys flow,
// until an operator acknowledges the failing version.
func TestBlockOnFailure(t *testing.T) {
	s := strandtest.Start(t, "")
	ctx := context.Background()
	c := s.Connect(t)
	mustExec(t, c,
		`CREATE TABLE ev (k text, seq int) APPEND ONLY KEY (k)`,
		`CREATE CONSUMER GROUP g WITH (max_attempts = 2, backoff = '0s', on_failure = 'block') FOR SUBSCRIBE ev`,
		`INSERT INTO ev VALUES ('bad', 1), ('bad', 2)`)
	for i := 0; i < 2; i++ {
		ds, err := fetch(ctx, c, "g", 1, "10s")
		if err != nil || len(ds) != 1 || ds[0].version != 1 {
			t.Fatalf("attempt %d: %+v %v", i+1, ds, err)
		}
		mustExec(t, c, `NACK GROUP g ('ev', 'bad', 1)`)
	}
	mustExec(t, c, `INSERT INTO ev VALUES ('good', 1)`)
	ds, err := fetch(ctx, c, "g", 10, "10s")
	if err != nil || len(ds) != 1 || ds[0].key != "good" {
		t.Fatalf("while bad is blocked: %+v %v", ds, err)
	}
	mustExec(t, c, `ACK GROUP g ('ev', 'good', 1)`)
	if ds, err := fetch(ctx, c, "g", 10, "300ms"); err != nil || len(ds) != 0 {
		t.Fatalf("a blocked key was handed out: %+v %v", ds, err)
	}
	if n := groupStatus(t, c, "g", "blocked_keys"); n != 1 {
		t.Fatalf("blocked_keys = %d", n)
	}
	var dead int64
	c.QueryRow(ctx, `SELECT count(*) FROM g_dead_letters`).Scan(&dead)
	if dead != 0 {
		t.Fatalf("%d dead letters with on_failure = 'block'", dead)
	}
	// An operator skips the failing version from another session.
	op := s.Connect(t)
	if tag, err := op.Exec(ctx, `ACK GROUP g ('ev', 'bad', 1)`); err != nil || tag.String() != "ACK 1" {
		t.Fatalf("operator ack: %v %v", tag, err)
	}
	ds, err = fetch(ctx, c, "g", 10, "10s")
	if err != nil || len(ds) != 1 || ds[0].key != "bad" || ds[0].version != 2 {
		t.Fatalf("after the operator's ack: %+v %v", ds, err)
	}
}

// TestHeadOfLineIsolation: one key whose handler always fails while 10,000
// other keys flow. Every other key is delivered in full and the failing
// key's events end up parked. (The throughput comparison with a run
// without the failing key is BenchmarkHeadOfLine.)
func TestHeadOfLineIsolation(t *testing.T) {
	s := strandtest.Start(t, "")
	res := runHeadOfLine(t, s, 10000, 2, true)
	if res.otherEvents != 10000*2 {
		t.Fatalf("%d events of the other keys acknowledged, want %d", res.otherEvents, 10000*2)
	}
	if res.parked != 2 {
		t.Fatalf("%d events of the failing key parked, want 2", res.parked)
	}
	t.Logf("%d other events in %v (%.0f/s), failing key handed out %d times", res.otherEvents, res.took, float64(res.otherEvents)/res.took.Seconds(), res.failures)
}

// TestGroupDDL covers errors and DROP.
func TestGroupDDL(t *testing.T) {
	s := strandtest.Start(t, "")
	ctx := context.Background()
	c := s.Connect(t)
	mustExec(t, c, `CREATE TABLE ev (k text, seq int) APPEND ONLY KEY (k)`)
	for q, code := range map[string]string{
		`CREATE CONSUMER GROUP g FOR SUBSCRIBE nope`:                           "42P01",
		`CREATE CONSUMER GROUP g WITH (on_failure = 'retry') FOR SUBSCRIBE ev`: "22023",
		`CREATE CONSUMER GROUP g WITH (max_attempts = 0) FOR SUBSCRIBE ev`:     "22023",
		`CREATE CONSUMER GROUP g WITH (lease = 'soon') FOR SUBSCRIBE ev`:       "22023",
		`CREATE CONSUMER GROUP g WITH (colour = 'red') FOR SUBSCRIBE ev`:       "42601",
		`CREATE CONSUMER GROUP g FOR SUBSCRIBE ev WITH (start = 'yesterday')`:  "22023",
		`FETCH 1 FROM GROUP nope`:                                              "42704",
		`ACK GROUP nope ('ev', 'a', 1)`:                                        "42704",
		`DROP CONSUMER GROUP nope`:                                             "42704",
		`ACK GROUP g ('ev', 'a')`:                                              "42601",
	} {
		if _, err := c.Exec(ctx, q); err == nil || !strings.Contains(err.Error(), code) {
			t.Errorf("%s: %v, want %s", q, err, code)
		}
	}
	mustExec(t, c,
		`CREATE CONSUMER GROUP g FOR SUBSCRIBE ev WITH (start = 'now')`,
		`CREATE CONSUMER GROUP IF NOT EXISTS g FOR SUBSCRIBE ev`,
		`INSERT INTO ev VALUES ('a', 1)`)
	if _, err := c.Exec(ctx, `CREATE CONSUMER GROUP g FOR SUBSCRIBE ev`); err == nil || !strings.Contains(err.Error(), "42P07") {
		t.Fatalf("duplicate group: %v", err)
	}
	if _, err := c.Exec(ctx, `CREATE CONSUMER GROUP h FOR SUBSCRIBE g_progress`); err == nil || !strings.Contains(err.Error(), "42809") {
		t.Fatalf("group over a group's table: %v", err)
	}
	ds, err := fetch(ctx, c, "g", 10, "10s")
	if err != nil || len(ds) != 1 || ds[0].key != "a" || *ds[0].row != `{"k":"a","seq":1}` {
		t.Fatalf("fetch: %+v %v", ds, err)
	}
	mustExec(t, c, `DROP CONSUMER GROUP g`, `DROP CONSUMER GROUP IF EXISTS g`)
	if _, err := c.Exec(ctx, `SELECT * FROM g_dead_letters`); err == nil {
		t.Fatal("the dead-letter table outlived its group")
	}
	if _, err := fetch(ctx, c, "g", 1, "0s"); err == nil || !strings.Contains(err.Error(), "42704") {
		t.Fatalf("fetch from a dropped group: %v", err)
	}
}

func waitFor(t *testing.T, d time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("condition not met within %v", d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// TestGroupOverPattern: a group over "shop.*" includes a table created
// after the group, and never its own progress and dead-letter tables (which
// live in the same schema and match the pattern).
func TestGroupOverPattern(t *testing.T) {
	s := strandtest.Start(t, "")
	ctx := context.Background()
	c := s.Connect(t)
	mustExec(t, c,
		`CREATE SCHEMA shop`,
		`CREATE TABLE shop.orders (id int PRIMARY KEY, total int)`,
		`CREATE CONSUMER GROUP shop.g WITH (lease = '30s') FOR SUBSCRIBE shop.*`,
		`INSERT INTO shop.orders VALUES (1, 10)`)
	ds, err := fetch(ctx, c, "shop.g", 10, "10s")
	if err != nil || len(ds) != 1 || ds[0].table != "shop.orders" || ds[0].key != "1" {
		t.Fatalf("first fetch: %+v %v", ds, err)
	}
	mustExec(t, c, ackStatement("ACK", "shop.g", ds),
		`CREATE TABLE shop.refunds (id int PRIMARY KEY, amount int)`,
		`INSERT INTO shop.refunds VALUES (7, 3)`,
		`UPDATE shop.orders SET total = 11 WHERE id = 1`)
	var got []string
	for len(got) < 2 {
		ds, err := fetch(ctx, c, "shop.g", 10, "10s")
		if err != nil || len(ds) == 0 {
			t.Fatalf("fetch: %v %v (so far %v)", ds, err, got)
		}
		for _, d := range ds {
			got = append(got, fmt.Sprintf("%s/%s/%d/%s", d.table, d.key, d.version, *d.row))
		}
		mustExec(t, c, ackStatement("ACK", "shop.g", ds))
	}
	want := `[shop.refunds/7/1/{"id":7,"amount":3} shop.orders/1/2/{"id":1,"total":11}]`
	if fmt.Sprint(got) != want {
		t.Fatalf("got %v, want %s", got, want)
	}
	// The ACKs above wrote progress rows to shop.g_progress; none of them
	// comes back as an event.
	if ds, err := fetch(ctx, c, "shop.g", 10, "300ms"); err != nil || len(ds) != 0 {
		t.Fatalf("the group's own tables leaked in: %+v %v", ds, err)
	}
}
