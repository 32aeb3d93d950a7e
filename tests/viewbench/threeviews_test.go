package viewbench

import (
	"context"
	"fmt"
	"os"
	"syscall"
	"testing"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/jackc/pgx/v5"

	strandlog "github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql/session"
	"github.com/strand-db/strand/tests/strandtest"
)

// BenchmarkInsertThreeViews is the bench views suite's workload on one
// connection: single-row INSERTs into ev, which carries a GROUP BY, a join
// and a top-N per group (bench/scripts/views_strand.sql), beside the same
// INSERTs into ev0, which carries nothing. view-ns/insert is the time in
// the view maintainer, which runs on the sequencer's one goroutine.
//
//	go test ./tests/viewbench -run XXX -bench ThreeViews -benchtime 5000x
func BenchmarkInsertThreeViews(b *testing.B) {
	for _, table := range []string{"ev0", "ev"} {
		b.Run("table="+table, func(b *testing.B) { benchThreeViews(b, table) })
	}
}

func benchThreeViews(b *testing.B, table string) {
	ctx := context.Background()
	hook := &timedHook{Maintainer: session.NewMaintainer()}
	s := strandtest.StartWith(b, strandlog.Options{Dir: "/strand", FS: vfs.NewMem(), Hook: hook})
	c, err := pgx.Connect(ctx, s.DSN())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close(ctx)
	for _, f := range []string{"views_common.sql", "views_strand.sql"} {
		data, err := os.ReadFile("../../bench/scripts/" + f)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := c.Exec(ctx, string(data)); err != nil {
			b.Fatalf("%s: %v", f, err)
		}
	}
	insert := fmt.Sprintf(`INSERT INTO %s (id, acct, amount) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, table)
	hook.nanos.Store(0)
	cpu0 := cpuNanos()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// The script's distribution: accounts 1..10,000, amounts 1..1,000.
		id := int64(i)*7919 + 1
		if _, err := c.Exec(ctx, insert, id, id%10_000+1, id*31%1000+1); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(hook.nanos.Load())/float64(b.N), "view-ns/insert")
	// CPU time of the whole process (server and client) per INSERT: on a
	// shared machine it varies far less than the wall time.
	b.ReportMetric(float64(cpuNanos()-cpu0)/float64(b.N), "cpu-ns/insert")
}

// cpuNanos is the process's user and system CPU time.
func cpuNanos() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
