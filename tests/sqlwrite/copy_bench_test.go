package sqlwrite

import (
	"bytes"
	"context"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/strand-db/strand/tests/strandtest"
)

// copyText is the text COPY input of bench's copy suite: id from..to-1, k
// a scattered number below 1,000,003, v = id % 1000.
func copyText(from, to int) []byte {
	var b []byte
	for id := from; id < to; id++ {
		b = strconv.AppendInt(b, int64(id), 10)
		b = append(b, '\t')
		b = strconv.AppendInt(b, int64(id)*7919%1000003, 10)
		b = append(b, '\t')
		b = strconv.AppendInt(b, int64(id%1000), 10)
		b = append(b, '\n')
	}
	return b
}

// BenchmarkCopyText loads 1,000,000 rows per iteration into a fresh
// t(id bigint PRIMARY KEY, k bigint, v bigint) of an in-process server with
// pgx's text COPY (the input bench's copy suite gives psql), and reports
// rows/s and rows per CPU-second of the whole process (server and client).
// Profile it with -cpuprofile.
func BenchmarkCopyText(b *testing.B) {
	const rows = 1000000
	s := strandtest.Start(b, "")
	ctx := context.Background()
	c := s.Connect(b)
	data := copyText(1, rows+1)
	var cpu time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		for _, q := range []string{`DROP TABLE IF EXISTS t`, `CREATE TABLE t (id bigint PRIMARY KEY, k bigint, v bigint)`} {
			if _, err := c.Exec(ctx, q); err != nil {
				b.Fatal(err)
			}
		}
		before := cpuTime()
		b.StartTimer()
		tag, err := c.PgConn().CopyFrom(ctx, bytes.NewReader(data), `COPY t FROM STDIN`)
		if err != nil || tag.RowsAffected() != rows {
			b.Fatalf("copy: %v %v", tag, err)
		}
		b.StopTimer()
		cpu += cpuTime() - before
		b.StartTimer()
	}
	b.ReportMetric(float64(b.N*rows)/b.Elapsed().Seconds(), "rows/s")
	b.ReportMetric(float64(b.N*rows)/cpu.Seconds(), "rows/cpu-s")
}

// cpuTime is the CPU time (user and system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
