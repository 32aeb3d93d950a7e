package session_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/jackc/pgx/v5"

	strandlog "github.com/strand-db/strand/log"
	"github.com/strand-db/strand/tests/strandtest"
)

// BenchmarkInsertPrepared runs the bench suite's INSERT (a prepared
// `INSERT ... ON CONFLICT DO NOTHING` of a random key, each its own
// commit) through pgx against an in-process server, with 1 and 32
// connections. The log is on an in-memory file system, so the figures are
// the CPU of the path (wire, session, plan, sequencer, Pebble) without the
// disk: cpu-µs/op is the process's CPU time per INSERT (server and pgx
// client together), allocs/op the allocations per INSERT.
//
//	go test ./sql/session -run '^$' -bench InsertPrepared -benchtime 20000x
func BenchmarkInsertPrepared(b *testing.B) {
	for _, clients := range []int{1, 32} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) { benchInsert(b, clients) })
	}
}

func benchInsert(b *testing.B, clients int) {
	ctx := context.Background()
	s := strandtest.StartWith(b, strandlog.Options{Dir: "/strand", FS: vfs.NewMem()})
	url := s.DSN()
	conns := make([]*pgx.Conn, clients)
	for i := range conns {
		c, err := pgx.Connect(ctx, url)
		if err != nil {
			b.Fatal(err)
		}
		defer c.Close(ctx)
		conns[i] = c
	}
	if _, err := conns[0].Exec(ctx, `CREATE TABLE kv (id bigint PRIMARY KEY, v text)`); err != nil {
		b.Fatal(err)
	}
	const insert = `INSERT INTO kv (id, v) VALUES ($1, 'strand-bench-payload-0123456789') ON CONFLICT DO NOTHING`
	for _, c := range conns {
		if _, err := c.Prepare(ctx, "ins", insert); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	var next atomic.Int64
	cpu0 := cpuTime()
	b.ResetTimer()
	var wg sync.WaitGroup
	for _, c := range conns {
		wg.Add(1)
		go func(pc *pgx.Conn) {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(rand.Uint64(), 1))
			for next.Add(1) <= int64(b.N) {
				if _, err := pc.Exec(ctx, "ins", rng.Int64N(1_000_000_000)+1); err != nil {
					b.Error(err)
					return
				}
			}
		}(c)
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
	runtime.KeepAlive(conns)
}

// cpuTime is the process's user and system CPU time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
