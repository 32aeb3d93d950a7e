package viewbench

import (
	"context"
	"fmt"
	"math/rand"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/strand-db/strand/tests/strandtest"
)

// BenchmarkBackfillUnderWrites creates a GROUP BY view over a loaded table
// (BACKFILL_ROWS rows, default 500,000; the log on the real disk) while 8
// clients keep INSERTing into the same table, and reports how long the
// backfill took and what the writers got before and during it: commits
// per second and the slowest commit. Run it once:
//
//	go test ./tests/viewbench -run XXX -bench BackfillUnderWrites -benchtime 1x
func BenchmarkBackfillUnderWrites(b *testing.B) {
	rows := 500_000
	if v, err := strconv.Atoi(os.Getenv("BACKFILL_ROWS")); err == nil && v > 0 {
		rows = v
	}
	ctx := context.Background()
	s := strandtest.Start(b, "")
	c := s.Connect(b)
	if _, err := c.Exec(ctx, `CREATE TABLE t (id bigint PRIMARY KEY, k bigint, v bigint)`); err != nil {
		b.Fatal(err)
	}
	for lo := 0; lo < rows; lo += 50_000 {
		var chunk [][]any
		for i := lo; i < min(lo+50_000, rows); i++ {
			chunk = append(chunk, []any{int64(i), int64(i * 7919 % 1000), int64(i % 97)})
		}
		if _, err := c.CopyFrom(ctx, pgx.Identifier{"t"}, []string{"id", "k", "v"}, pgx.CopyFromRows(chunk)); err != nil {
			b.Fatal(err)
		}
	}
	type commit struct {
		at  time.Time
		lat time.Duration
	}
	var mu sync.Mutex
	var commits []commit
	var stop atomic.Bool
	var wg sync.WaitGroup
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			wc, err := pgx.Connect(ctx, s.DSN())
			if err != nil {
				b.Error(err)
				return
			}
			defer wc.Close(ctx)
			rng := rand.New(rand.NewSource(int64(w)))
			for !stop.Load() {
				start := time.Now()
				id := int64(rows) + rng.Int63n(1<<40)
				if _, err := wc.Exec(ctx, `INSERT INTO t VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, id, id%1000, id%97); err != nil {
					b.Error(err)
					return
				}
				mu.Lock()
				commits = append(commits, commit{at: time.Now(), lat: time.Since(start)})
				mu.Unlock()
			}
		}(w)
	}
	time.Sleep(3 * time.Second)
	b.ResetTimer()
	createStart := time.Now()
	if _, err := c.Exec(ctx, `CREATE MATERIALIZED VIEW g AS SELECT k % 100 AS b, count(*) AS n, sum(v) AS s FROM t GROUP BY 1`); err != nil {
		b.Fatal(err)
	}
	createEnd := time.Now()
	b.StopTimer()
	time.Sleep(time.Second)
	stop.Store(true)
	wg.Wait()

	var before, during []time.Duration
	for _, cm := range commits {
		switch {
		case cm.at.Before(createStart) && cm.at.After(createStart.Add(-2*time.Second)):
			before = append(before, cm.lat)
		case cm.at.After(createStart) && cm.at.Before(createEnd):
			during = append(during, cm.lat)
		}
	}
	took := createEnd.Sub(createStart)
	b.ReportMetric(took.Seconds(), "backfill-s")
	b.ReportMetric(float64(rows)/took.Seconds(), "backfill-rows/s")
	b.ReportMetric(float64(len(before))/2, "writes/s-before")
	b.ReportMetric(float64(len(during))/took.Seconds(), "writes/s-during")
	b.ReportMetric(quantile(before, 0.99).Seconds()*1000, "p99-ms-before")
	b.ReportMetric(quantile(during, 0.99).Seconds()*1000, "p99-ms-during")
	b.ReportMetric(quantile(during, 1).Seconds()*1000, "max-ms-during")

	got := strandtest.SortedRows(b, c, `SELECT * FROM g`)
	want := strandtest.SortedRows(b, c, `SELECT k % 100 AS b, count(*) AS n, sum(v) AS s FROM t GROUP BY 1`)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		b.Fatalf("view differs from its query: %d rows vs %d", len(got), len(want))
	}
	fmt.Fprintf(os.Stderr, "backfill of %d rows: %v, %d writes committed during it\n", rows, took, len(during))
}

func quantile(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	sort.Slice(ds, func(i, j int) bool { return ds[i] < ds[j] })
	i := int(q * float64(len(ds)-1))
	return ds[i]
}
