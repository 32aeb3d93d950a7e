package groups

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/jackc/pgx/v5"
)

// delivery is one row of FETCH ... FROM GROUP.
type delivery struct {
	position int64
	table    string
	key      string
	version  int64
	op       string
	attempt  int32
	row      *string
}

// fetch runs FETCH n FROM GROUP g with a wait timeout.
func fetch(ctx context.Context, c *pgx.Conn, group string, n int, timeout string) ([]delivery, error) {
	rows, err := c.Query(ctx, fmt.Sprintf(`FETCH %d FROM GROUP %s WITH (timeout = '%s')`, n, group, timeout))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []delivery
	for rows.Next() {
		var d delivery
		if err := rows.Scan(&d.position, &d.table, &d.key, &d.version, &d.op, &d.attempt, &d.row); err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

func quote(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// ackStatement acknowledges the last version of each key in a batch (ACK
// is cumulative per key).
func ackStatement(verb, group string, ds []delivery) string {
	last := map[[2]string]int64{}
	var order [][2]string
	for _, d := range ds {
		k := [2]string{d.table, d.key}
		if _, ok := last[k]; !ok {
			order = append(order, k)
		}
		last[k] = d.version
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s GROUP %s ", verb, group)
	for i, k := range order {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "(%s, %s, %d)", quote(k[0]), quote(k[1]), last[k])
	}
	return b.String()
}

// tracker checks, across all members of a run, that each key's versions
// are handed out in order and acknowledged without a gap.
type tracker struct {
	mu          sync.Mutex
	acked       map[string]int64 // table/key → last version acknowledged
	deliveries  int
	redelivered int
	errs        []string
}

func newTracker() *tracker { return &tracker{acked: map[string]int64{}} }

// check verifies a batch: within it a key's versions are consecutive, and
// its first one follows the key's last acknowledged version (the key's
// previous versions were all acknowledged before this one was handed out).
func (tr *tracker) check(member int, ds []delivery) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	prev := map[string]int64{}
	for _, d := range ds {
		k := d.table + "/" + d.key
		tr.deliveries++
		if d.attempt > 1 {
			tr.redelivered++
		}
		want := tr.acked[k] + 1
		if p, ok := prev[k]; ok {
			want = p + 1
		}
		if d.version != want && len(tr.errs) < 20 {
			tr.errs = append(tr.errs, fmt.Sprintf("member %d got %s version %d, expected %d", member, k, d.version, want))
		}
		prev[k] = d.version
	}
}

// acknowledged records a batch as acknowledged (called just before the ACK
// is sent, so that a fetch racing with it is not misjudged).
func (tr *tracker) acknowledged(ds []delivery) {
	tr.mu.Lock()
	defer tr.mu.Unlock()
	for _, d := range ds {
		k := d.table + "/" + d.key
		if d.version > tr.acked[k] {
			tr.acked[k] = d.version
		}
	}
}

func (tr *tracker) failIfErrors(t *testing.T) {
	t.Helper()
	tr.mu.Lock()
	defer tr.mu.Unlock()
	if len(tr.errs) > 0 {
		t.Fatalf("order violations:\n%s", strings.Join(tr.errs, "\n"))
	}
}

func mustExec(t testing.TB, c *pgx.Conn, qs ...string) {
	t.Helper()
	for _, q := range qs {
		if _, err := c.Exec(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// groupStatus reads one column of a group's row in the status view.
func groupStatus(t testing.TB, c *pgx.Conn, group, column string) int64 {
	t.Helper()
	var v int64
	if err := c.QueryRow(context.Background(), fmt.Sprintf(`SELECT %s FROM strand_consumer_groups WHERE name = $1`, column), group).Scan(&v); err != nil {
		t.Fatalf("status %s of %s: %v", column, group, err)
	}
	return v
}

// insertEvents appends versions 1..versions to each of keys keys of a
// stream table ev(k text, seq int), in multi-row INSERTs.
func insertEvents(t testing.TB, c *pgx.Conn, table string, keys, versions int, keyName func(int) string) {
	t.Helper()
	const per = 500
	var b strings.Builder
	n := 0
	flush := func() {
		if n == 0 {
			return
		}
		mustExec(t, c, b.String())
		b.Reset()
		n = 0
	}
	for v := 1; v <= versions; v++ {
		for k := 0; k < keys; k++ {
			if n == 0 {
				fmt.Fprintf(&b, "INSERT INTO %s VALUES ", table)
			} else {
				b.WriteString(", ")
			}
			fmt.Fprintf(&b, "(%s, %d)", quote(keyName(k)), v)
			n++
			if n == per {
				flush()
			}
		}
	}
	flush()
}
