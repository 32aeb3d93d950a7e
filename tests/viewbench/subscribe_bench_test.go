package viewbench

import (
	"context"
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"

	strandlog "github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql/session"
	"github.com/strand-db/strand/tests/strandtest"
)

// BenchmarkViewSubscription: a subscriber follows a view of rows/2 rows
// (SUBSCRIBE through a cursor); each operation INSERTs one row the view
// takes and FETCHes its change. A delivery should cost the change, not
// the view's size (views/feed.go). sub-heap-MiB is the heap the open
// subscription holds (the server runs in this process): it should not
// grow with the view either.
//
//	go test ./tests/viewbench -run XXX -bench ViewSubscription -benchtime 200x
func BenchmarkViewSubscription(b *testing.B) {
	for _, rows := range []int{10_000, 1_000_000} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			ctx := context.Background()
			s := strandtest.StartWith(b, strandlog.Options{Dir: "/strand", FS: vfs.NewMem(), Hook: session.NewMaintainer()})
			w, sub := s.Connect(b), s.Connect(b)
			loadTable(b, w, []string{
				`CREATE TABLE t (id int8 PRIMARY KEY, g int, v int)`,
				`CREATE MATERIALIZED VIEW low AS SELECT id, g, v FROM t WHERE v % 2 = 0`,
			}, []string{"id", "g", "v"}, rows, func(i int) []any {
				return []any{int64(i), int32(i % groups), int32(i)}
			})
			heap0 := heapAfterGC()
			for _, q := range []string{`BEGIN`, `DECLARE c CURSOR FOR SUBSCRIBE low WITH (start = 'now')`} {
				if _, err := sub.Exec(ctx, q); err != nil {
					b.Fatal(err)
				}
			}
			held := float64(int64(heapAfterGC())-int64(heap0)) / (1 << 20)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				id := int64(rows + 1 + i)
				if _, err := w.Exec(ctx, `INSERT INTO t VALUES ($1, $2, $3)`, id, int32(id%groups), int32(2*i)); err != nil {
					b.Fatal(err)
				}
				var got int64
				if err := sub.QueryRow(ctx, `FETCH 1 c WITH (timeout = '10s')`).Scan(nil, nil, nil, nil, nil, &got, nil, nil); err != nil {
					b.Fatalf("fetch the change of row %d: %v", id, err)
				}
				if got != id {
					b.Fatalf("fetched row %d, want %d", got, id)
				}
			}
			b.StopTimer()
			// After the loop: ResetTimer drops metrics reported before it.
			b.ReportMetric(held, "sub-heap-MiB")
			// A subscription that starts with the view's rows: how fast
			// they come (FETCH 10000 at a time).
			t0 := time.Now()
			if _, err := sub.Exec(ctx, `DECLARE whole CURSOR FOR SUBSCRIBE low`); err != nil {
				b.Fatal(err)
			}
			n := 0
			for {
				tag, err := sub.Exec(ctx, `FETCH 10000 whole WITH (timeout = '0s')`)
				if err != nil {
					b.Fatal(err)
				}
				if tag.RowsAffected() == 0 {
					break
				}
				n += int(tag.RowsAffected())
			}
			if want := rows/2 + b.N; n != want {
				b.Fatalf("the view's rows came as %d inserts, want %d", n, want)
			}
			b.ReportMetric(float64(n)/time.Since(t0).Seconds(), "start-rows/s")
		})
	}
}

// heapAfterGC is the bytes of live heap objects after a collection.
func heapAfterGC() uint64 {
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}
