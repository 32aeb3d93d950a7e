package vec

import (
	"context"
	"fmt"
	"runtime"
	"syscall"
	"testing"
	"time"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql/types"
)

// benchRows is the size of the benchmark's table t(id bigint PRIMARY KEY,
// k bigint, v bigint), filled as bench/'s copy suite fills it.
const benchRows = 2_000_000

// BenchmarkScanAggregate measures SELECT k % 100, count(*), sum(v) FROM t
// GROUP BY 1 (the agg suite of go run ./bench) in process, on the
// vectorized engine with one worker and with one per core, and on the row
// engine. rows/s is wall-clock; rows/cpu-s divides by the process's CPU
// time (user+system) during the runs, which holds up better on a busy
// machine.
func BenchmarkScanAggregate(b *testing.B) {
	l := openLog(b, false)
	createTable(b, l, "t", []log.Column{
		{ID: 1, Name: "id", TypeOID: uint32(types.Int8OID), Typmod: -1},
		{ID: 2, Name: "k", TypeOID: uint32(types.Int8OID), Typmod: -1},
		{ID: 3, Name: "v", TypeOID: uint32(types.Int8OID), Typmod: -1},
	}, []uint32{1})
	start := time.Now()
	for i := int64(1); i <= benchRows; {
		txn := exec.NewTxn(l)
		td, _ := txn.Catalog().Lookup("public", "t")
		layout := exec.NewTableLayout(td)
		for n := 0; n < 100_000 && i <= benchRows; n, i = n+1, i+1 {
			if err := txn.Put(layout, exec.Row{i, i * 7919 % 1000003, i % 1000}, false, log.Cond{}); err != nil {
				b.Fatal(err)
			}
		}
		if _, err := txn.Commit(context.Background()); err != nil {
			b.Fatal(err)
		}
		txn.Release()
	}
	waitIdle(b)
	td, _ := l.Catalog().Lookup("public", "t")
	b.Logf("loaded %d rows in %v; %d spans", benchRows, time.Since(start), len(l.SplitRows(td, 8)))
	fx := &fixture{log: l, layout: exec.NewTableLayout(td)}
	k, v := col(fx.layout, "k"), col(fx.layout, "v")
	group := []exec.Expr{call("%", k, konst(int64(100), tInt8))}
	aggs := []exec.Aggregate{agg("count", nil), agg("sum", v)}
	for _, c := range []struct {
		name    string
		workers int
		row     bool
	}{{"vec/workers=1", 1, false}, {fmt.Sprintf("vec/workers=%d", runtime.GOMAXPROCS(0)), 0, false}, {"row", 0, true}} {
		b.Run(c.name, func(b *testing.B) {
			a := fx.plan(b, nil, group, aggs)
			a.Workers = c.workers
			var n exec.Node = a
			if c.row {
				n = a.Fallback
			}
			cpu0 := cpuTime()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				rows, err := run(fx, n)
				if err != nil {
					b.Fatal(err)
				}
				if len(rows) != 100 {
					b.Fatalf("%d groups", len(rows))
				}
			}
			b.StopTimer()
			total := float64(benchRows) * float64(b.N)
			b.ReportMetric(total/b.Elapsed().Seconds(), "rows/s")
			b.ReportMetric(total/(cpuTime()-cpu0).Seconds(), "rows/cpu-s")
		})
	}
}

// waitIdle waits (up to a minute) until the process uses under a tenth of
// a core, so that the flushes and compactions that follow the load do not
// count in the CPU time of the runs.
func waitIdle(b *testing.B) {
	for i := 0; i < 60; i++ {
		c0 := cpuTime()
		time.Sleep(time.Second)
		if cpuTime()-c0 < 100*time.Millisecond {
			return
		}
	}
	b.Log("the process did not go idle after the load")
}

// cpuTime is the process's user+system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
