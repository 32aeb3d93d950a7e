package groups

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/strand-db/strand/tests/strandtest"
)

// holResult is one run of the head-of-line scenario.
type holResult struct {
	otherEvents int64 // events of the healthy keys acknowledged
	parked      int64 // events of the failing key parked
	failures    int64 // deliveries of the failing key (all NACKed)
	took        time.Duration
	// cpu is the CPU time this process (server and clients) spent until
	// the last healthy event was acknowledged.
	cpu time.Duration
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

var holRun atomic.Int64

// runHeadOfLine writes versions events to each of keys keys (and, with
// failing, to one key whose handler always fails), then lets two members
// consume them: the healthy keys are acknowledged in batches, the failing
// key is NACKed every time until it is parked. took is the time until the
// last healthy event was acknowledged.
func runHeadOfLine(tb testing.TB, s *strandtest.Server, keys, versions int, failing bool) holResult {
	ctx := context.Background()
	n := holRun.Add(1)
	table, group := fmt.Sprintf("hol%d", n), fmt.Sprintf("hol%d_g", n)
	admin := s.Connect(tb)
	mustExec(tb, admin,
		fmt.Sprintf(`CREATE TABLE %s (k text, seq int) APPEND ONLY KEY (k)`, table),
		fmt.Sprintf(`CREATE CONSUMER GROUP %s WITH (max_attempts = 3, backoff = '20ms', lease = '30s') FOR SUBSCRIBE %s`, group, table))
	if failing {
		// The failing key's events come first, so every healthy key is
		// behind it in commit order.
		insertEvents(tb, admin, table, 1, versions, func(int) string { return "poison" })
	}
	insertEvents(tb, admin, table, keys, versions, keyName)

	want := int64(keys * versions)
	var res holResult
	var done atomic.Bool
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	start, startCPU := time.Now(), cpuTime()
	var finished, finishedCPU atomic.Int64
	for m := 0; m < 2; m++ {
		c := s.Connect(tb)
		wg.Add(1)
		go func(c *pgx.Conn) {
			defer wg.Done()
			for !done.Load() {
				ds, err := fetch(ctx, c, group, 1000, "50ms")
				if err != nil {
					errs <- err
					return
				}
				var ok []delivery
				var bad []delivery
				for _, d := range ds {
					if d.key == "poison" {
						bad = append(bad, d)
					} else {
						ok = append(ok, d)
					}
				}
				if len(ok) > 0 {
					if _, err := c.Exec(ctx, ackStatement("ACK", group, ok)); err != nil {
						errs <- err
						return
					}
					if atomic.AddInt64(&res.otherEvents, int64(len(ok))) == want {
						finished.Store(int64(time.Since(start)))
						finishedCPU.Store(int64(cpuTime() - startCPU))
					}
				}
				if len(bad) > 0 {
					atomic.AddInt64(&res.failures, 1)
					// The handler fails on the first event of the batch.
					if _, err := c.Exec(ctx, ackStatement("NACK", group, bad[:1])); err != nil {
						errs <- err
						return
					}
				}
				if atomic.LoadInt64(&res.otherEvents) >= want && (!failing || parkedCount(c, group) >= int64(versions)) {
					done.Store(true)
				}
			}
		}(c)
	}
	deadline := time.After(5 * time.Minute)
	waitDone := make(chan struct{})
	go func() { wg.Wait(); close(waitDone) }()
	select {
	case <-waitDone:
	case <-deadline:
		done.Store(true)
		<-waitDone
		tb.Fatalf("head-of-line run did not finish: %d of %d healthy events", atomic.LoadInt64(&res.otherEvents), want)
	}
	close(errs)
	for err := range errs {
		tb.Fatal(err)
	}
	res.took, res.cpu = time.Duration(finished.Load()), time.Duration(finishedCPU.Load())
	res.parked = parkedCount(admin, group)
	// Nothing was lost: every healthy key's progress is at its last version.
	var behind int64
	q := fmt.Sprintf(`SELECT count(*) FROM %s_progress WHERE table_id <> 0 AND key <> 'poison' AND acked_version <> %d`, group, versions)
	if err := admin.QueryRow(ctx, q).Scan(&behind); err != nil {
		tb.Fatal(err)
	}
	if behind != 0 {
		tb.Fatalf("%d healthy keys not acknowledged to version %d", behind, versions)
	}
	mustExec(tb, admin, fmt.Sprintf(`DROP CONSUMER GROUP %s`, group), fmt.Sprintf(`DROP TABLE %s`, table))
	return res
}

// parkedCount counts a group's dead letters (-1 when the query fails).
func parkedCount(c *pgx.Conn, group string) int64 {
	var n int64
	if err := c.QueryRow(context.Background(), fmt.Sprintf(`SELECT count(*) FROM %s_dead_letters`, group)).Scan(&n); err != nil {
		return -1
	}
	return n
}

// BenchmarkHeadOfLine compares the throughput of 10,000 healthy keys (5
// events each) with and without one key whose handler always fails, run
// alternately on one server with two members. It reports the median rates
// (events/s of wall time), the median ratio of back-to-back pairs, and the
// same per CPU second of the process (server and clients), which a busy
// machine disturbs less than wall time.
//
//	go test ./tests/groups -run '^$' -bench HeadOfLine -benchtime 5x
func BenchmarkHeadOfLine(b *testing.B) {
	s := strandtest.Start(b, "")
	const keys, versions = 10000, 5
	var healthy, withFailing, pairs, cpuPairs []float64
	for i := 0; i < b.N; i++ {
		var h, f, hc, fc float64
		for _, failing := range []bool{i%2 == 1, i%2 == 0} {
			r := runHeadOfLine(b, s, keys, versions, failing)
			rate := float64(r.otherEvents) / r.took.Seconds()
			cpuRate := float64(r.otherEvents) / r.cpu.Seconds()
			if failing {
				withFailing, f, fc = append(withFailing, rate), rate, cpuRate
			} else {
				healthy, h, hc = append(healthy, rate), rate, cpuRate
			}
		}
		pairs, cpuPairs = append(pairs, f/h), append(cpuPairs, fc/hc)
	}
	b.ReportMetric(median(healthy), "healthy-events/s")
	b.ReportMetric(median(withFailing), "failing-events/s")
	// The median of each back-to-back pair's ratio is steadier than the
	// ratio of the medians on a machine whose load drifts.
	b.ReportMetric(median(pairs), "ratio")
	b.ReportMetric(median(cpuPairs), "cpu-ratio")
	b.Logf("healthy runs %s events/s; with a failing key %s events/s; pair ratios %s; per-CPU-second pair ratios %s",
		rates(healthy), rates(withFailing), ratios(pairs), ratios(cpuPairs))
}

func median(xs []float64) float64 {
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s) == 0 {
		return 0
	}
	return s[len(s)/2]
}

func rates(xs []float64) string {
	var parts []string
	for _, x := range xs {
		parts = append(parts, fmt.Sprintf("%.0f", x))
	}
	return strings.Join(parts, " ")
}

func ratios(xs []float64) string {
	var parts []string
	for _, x := range xs {
		parts = append(parts, fmt.Sprintf("%.2f", x))
	}
	return strings.Join(parts, " ")
}
