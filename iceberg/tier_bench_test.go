package iceberg

import (
	"context"
	"testing"
	"time"

	"github.com/strand-db/strand/log"
)

// tierBenchRows is the size of BenchmarkTieredScan's stream.
const tierBenchRows = 1_000_000

// BenchmarkTieredScan measures a full read of a stream's events
// (Snapshot.Events, what SELECT over a stream reads) from the local log
// and, once every event was tiered out of it, from the Iceberg tables in
// a local warehouse (ColdReader: plan, Parquet, Arrow, back to events). It
// reports rows/s of wall time and rows per CPU-second.
//
//	go test ./iceberg -run '^$' -bench TieredScan -benchtime 3x
func BenchmarkTieredScan(b *testing.B) {
	l := benchLog(b, log.Stream, tierBenchRows)
	snap := l.Snapshot()
	var id log.TableID
	for _, td := range snap.Catalog().SortedTables() {
		id = td.ID
	}
	snap.Release()
	scan := func(b *testing.B) {
		var elapsed, cpu time.Duration
		for i := 0; i < b.N; i++ {
			b.StopTimer()
			settle()
			b.StartTimer()
			start, cpu0 := time.Now(), cpuTime()
			snap := l.Snapshot()
			n := 0
			err := snap.Events(id, 0, func(*log.Event) error { n++; return nil })
			snap.Release()
			if err != nil || n != tierBenchRows {
				b.Fatalf("read %d events: %v", n, err)
			}
			elapsed += time.Since(start)
			cpu += cpuTime() - cpu0
		}
		b.ReportMetric(float64(tierBenchRows)*float64(b.N)/elapsed.Seconds(), "rows/s")
		b.ReportMetric(float64(tierBenchRows)*float64(b.N)/cpu.Seconds(), "rows/cpu-s")
	}
	b.Run("local", scan)
	c, err := New(l, Options{Warehouse: b.TempDir(), Logger: quiet, Tiering: Tiering{On: true}})
	if err != nil {
		b.Fatal(err)
	}
	l.SetColdReader(c.ColdReader())
	if err := c.CompactOnce(context.Background()); err != nil {
		b.Fatal(err)
	}
	snap = l.Snapshot()
	ev, _, err := snap.LocalEvents(id)
	snap.Release()
	if err != nil || ev != 0 {
		b.Fatalf("%d events still local after tiering: %v", ev, err)
	}
	b.Run("tiered", scan)
}
