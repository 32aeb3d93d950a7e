package viewbench

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/jackc/pgx/v5"

	strandlog "github.com/strand-db/strand/log"
	"github.com/strand-db/strand/pgwire"
	"github.com/strand-db/strand/sql/session"
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
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	hook := &timedHook{Maintainer: session.NewMaintainer()}
	l, err := strandlog.Open(strandlog.Options{Dir: "/strand", FS: vfs.NewMem(), Logger: quiet, Hook: hook})
	if err != nil {
		b.Fatal(err)
	}
	pg, err := pgwire.New(pgwire.Config{Addr: "127.0.0.1:0", Backend: session.NewEngine(l, quiet), Auth: pgwire.AuthTrust, Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	go pg.Serve(ln)
	defer func() {
		sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		pg.Shutdown(sctx)
		l.Close()
	}()
	c, err := pgx.Connect(ctx, fmt.Sprintf("postgres://strand@%s/strand?sslmode=disable", ln.Addr()))
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
