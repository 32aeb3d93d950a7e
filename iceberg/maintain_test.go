package iceberg

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/iceberg-go/table"

	"github.com/strand-db/strand/log"
)

type trickleResult struct {
	// files are the data files of each Iceberg table's current snapshot.
	files map[string]int
	// commits counts the snapshots that added events.
	commits map[string]int
	written int
}

// trickle writes perSecond rows a second to a narrow table for a simulated
// duration, compacting every opts.Interval of simulated time (the
// compactor's clock is moved, nothing waits), and checks that every
// Iceberg table holds exactly what it must: each event once, and the live
// rows of a keyed table.
func trickle(tb testing.TB, kind log.TableKind, opts Options, dur time.Duration, perSecond int) trickleResult {
	tb.Helper()
	const keys = 1000
	l, id := narrowLog(tb, kind)
	clock := time.Unix(1_700_000_000, 0)
	opts.Warehouse = tb.TempDir()
	opts.Logger = quiet
	opts.Now = func() time.Time { return clock }
	if opts.Interval == 0 {
		opts.Interval = 10 * time.Second
	}
	c, err := New(l, opts)
	if err != nil {
		tb.Fatal(err)
	}
	ctx := context.Background()
	res := trickleResult{files: map[string]int{}, commits: map[string]int{}}
	for at := time.Duration(0); at < dur; at += opts.Interval {
		// The interval's rows; the compactor only sees the log at each
		// pass, so writing them at once is the same as a second at a time.
		n := perSecond * int(opts.Interval/time.Second)
		writeNarrow(tb, l, id, res.written, n, keys)
		res.written += n
		clock = clock.Add(opts.Interval)
		if err := c.CompactOnce(ctx); err != nil {
			tb.Fatal(err)
		}
	}
	// A last pass once the batching delay is over commits the rest.
	clock = clock.Add(opts.CommitDelay)
	if err := c.CompactOnce(ctx); err != nil {
		tb.Fatal(err)
	}
	names := []string{"narrow"}
	if kind == log.Keyed {
		names = append(names, "narrow"+ChangesSuffix)
	}
	for _, name := range names {
		tbl, err := c.Catalog().LoadTable(ctx, table.Identifier{"public", name})
		if err != nil {
			tb.Fatal(err)
		}
		tasks, err := tbl.Scan().PlanFiles(ctx)
		if err != nil {
			tb.Fatal(err)
		}
		res.files[name] = len(tasks)
		for _, s := range tbl.Metadata().Snapshots() {
			if s.Summary != nil && s.Summary.Properties[PropOperation] == "" {
				res.commits[name]++
			}
		}
		want := res.written
		if name == "narrow" && kind == log.Keyed {
			want = min(res.written, keys)
		}
		checkOnce(tb, tbl, want)
	}
	return res
}

// checkOnce scans an Iceberg table and checks it has want rows with
// distinct _lsn values.
func checkOnce(tb testing.TB, tbl *table.Table, want int) {
	tb.Helper()
	at, err := tbl.Scan(table.WithSelectedFields(LSNColumn)).ToArrowTable(context.Background())
	if err != nil {
		tb.Fatal(err)
	}
	defer at.Release()
	seen := map[int64]bool{}
	rows := 0
	tr := array.NewTableReader(at, 1<<16)
	defer tr.Release()
	for tr.Next() {
		col := tr.RecordBatch().Column(0).(*array.Int64)
		for i := 0; i < col.Len(); i++ {
			if seen[col.Value(i)] {
				tb.Fatalf("%s: _lsn %d twice", identString(tbl.Identifier()), col.Value(i))
			}
			seen[col.Value(i)] = true
			rows++
		}
	}
	if rows != want {
		tb.Fatalf("%s: %d rows, want %d", identString(tbl.Identifier()), rows, want)
	}
}

// TestTrickleMerges: six simulated minutes of 100 rows/s compacted every
// 10 s would leave 36 files per table; merging keeps fewer than
// MergeFiles per size tier, and every event is still there exactly once.
func TestTrickleMerges(t *testing.T) {
	for _, kind := range []log.TableKind{log.Stream, log.Keyed} {
		t.Run(kind.String(), func(t *testing.T) {
			r := trickle(t, kind, Options{MergeFiles: 4}, 6*time.Minute, 100)
			for name, files := range r.files {
				// 36 commits of ~1000 rows: all in tier 0, so at most 3
				// small files beside the merged ones (themselves < 4).
				if r.commits[name] != 36 || files > 6 {
					t.Errorf("%s: %d commits, %d files", name, r.commits[name], files)
				}
			}
		})
	}
}

// TestCommitBatching: with CommitDelay, a trickle commits once per delay,
// not once per pass.
func TestCommitBatching(t *testing.T) {
	r := trickle(t, log.Stream, Options{CommitDelay: time.Minute, MergeFiles: -1}, 10*time.Minute, 100)
	// Pass k sees the events first at k*10s and commits 60 s later: one
	// commit per 7 passes (60 passes + the final one).
	if c := r.commits["narrow"]; c < 8 || c > 10 {
		t.Fatalf("%d commits for 10 minutes with a 1 minute commit delay", c)
	}
	// CommitRows: enough rows pending commits at once.
	r = trickle(t, log.Stream, Options{CommitDelay: time.Hour, CommitRows: 3000, MergeFiles: -1}, 10*time.Minute, 100)
	if c := r.commits["narrow"]; c != 20 {
		t.Fatalf("%d commits of 3000 rows for 60000 rows", c)
	}
}

func TestMergeTier(t *testing.T) {
	for _, c := range []struct {
		size int64
		tier int
	}{{0, 0}, {100 << 10, 0}, {511 << 10, 0}, {512 << 10, 1}, {4<<20 - 1, 1}, {4 << 20, 2}, {32 << 20, 3}} {
		if got := mergeTier(c.size); got != c.tier {
			t.Errorf("mergeTier(%d) = %d, want %d", c.size, got, c.tier)
		}
	}
}

// BenchmarkTrickle reports the data files per Iceberg table after a
// simulated hour of a 100 rows/s trickle, compacted every 10 s with the
// default options (no commit batching), and with a one-minute commit
// delay.
//
//	go test ./iceberg -run '^$' -bench Trickle -benchtime 1x
func BenchmarkTrickle(b *testing.B) {
	for _, delay := range []time.Duration{0, time.Minute} {
		b.Run(fmt.Sprintf("delay=%s", delay), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				r := trickle(b, log.Stream, Options{CommitDelay: delay}, time.Hour, 100)
				b.ReportMetric(float64(r.files["narrow"]), "files")
				b.ReportMetric(float64(r.commits["narrow"]), "commits")
			}
		})
	}
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int64{"1": 1, "4096": 4096, "64KiB": 64 << 10, "128MiB": 128 << 20, "2GiB": 2 << 30} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0", "-1", "12MB", "MiB", "99999999999GiB"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) accepted", in)
		}
	}
}
