package iceberg

import (
	"context"
	"testing"
	"time"

	"github.com/strand-db/strand/log"
)

// BenchmarkCompactPartitioned is BenchmarkCompact's stream with a
// partition spec, to price the split by partition tuple against the
// unpartitioned figure: hour(ts) (benchRows events a millisecond apart
// span about 34 hours, so most records fall in one partition and pass
// through whole) and bucket(8, id) (every record splits eight ways).
//
//	go test ./iceberg -run '^$' -bench CompactPartitioned -benchtime 3x
func BenchmarkCompactPartitioned(b *testing.B) {
	for _, spec := range []string{"hour(ts)", "bucket(8, id)"} {
		b.Run(spec, func(b *testing.B) {
			l := benchLog(b, log.Stream, benchRows)
			td := *l.Catalog().SortedTables()[0]
			td.Options = map[string]string{OptPartitionBy: spec}
			if _, err := l.Commit(context.Background(), &log.Intent{Catalog: func(c *log.Catalog) error {
				return c.ReplaceTable(&td)
			}}); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			var elapsed, cpu time.Duration
			files := 0
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				c, err := New(l, Options{Warehouse: b.TempDir(), Logger: quiet})
				if err != nil {
					b.Fatal(err)
				}
				settle()
				b.StartTimer()
				start, cpu0 := time.Now(), cpuTime()
				if err := c.CompactOnce(context.Background()); err != nil {
					b.Fatal(err)
				}
				elapsed += time.Since(start)
				cpu += cpuTime() - cpu0
				files = int(c.Status()[0].Files)
			}
			b.ReportMetric(float64(benchRows)*float64(b.N)/elapsed.Seconds(), "rows/s")
			b.ReportMetric(float64(benchRows)*float64(b.N)/cpu.Seconds(), "rows/cpu-s")
			b.ReportMetric(float64(files), "files")
		})
	}
}
