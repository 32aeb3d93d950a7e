package viewbench

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/strand-db/strand/tests/strandtest"
)

// BenchmarkWindowBackfill times CREATE MATERIALIZED VIEW (which returns
// once the view is live) of window views over a table whose rows come in
// the reverse of the windows' order: the backfill reads by key, so each
// step's rows land before every row already in their partitions. Window
// operators keep their rows aside until the sources are read
// (views/windowdefer.go).
//
//	go test ./tests/viewbench -run XXX -bench WindowBackfill -benchtime 1x
func BenchmarkWindowBackfill(b *testing.B) {
	views := []struct{ name, def string }{
		{"running", `SELECT id, g, row_number() OVER (PARTITION BY g ORDER BY ts) AS rn, sum(v) OVER (PARTITION BY g ORDER BY ts) AS s FROM t`},
		{"percent_rank", `SELECT id, g, percent_rank() OVER (PARTITION BY g ORDER BY ts) AS pr FROM t`},
		{"lag", `SELECT id, g, lag(v) OVER (PARTITION BY g ORDER BY ts) AS l FROM t`},
	}
	for _, rows := range []int{20_000, 200_000} {
		for _, v := range views {
			b.Run(fmt.Sprintf("%s/rows=%d", v.name, rows), func(b *testing.B) {
				ctx := context.Background()
				s := strandtest.Start(b, "")
				c := s.Connect(b)
				loadTable(b, c, []string{`CREATE TABLE t (id int8 PRIMARY KEY, g int, ts int8, v int)`}, []string{"id", "g", "ts", "v"}, rows, func(i int) []any {
					return []any{int64(i), int32(i % 10), int64(rows - i), int32(i % 97)}
				})
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					name := fmt.Sprintf("w%d", i)
					start := time.Now()
					if _, err := c.Exec(ctx, `CREATE MATERIALIZED VIEW `+name+` AS `+v.def); err != nil {
						b.Fatal(err)
					}
					b.ReportMetric(time.Since(start).Seconds(), "s/backfill")
					var n int64
					if err := c.QueryRow(ctx, `SELECT count(*) FROM `+name).Scan(&n); err != nil || n != int64(rows) {
						b.Fatalf("%s has %d rows, want %d (%v)", name, n, rows, err)
					}
				}
			})
		}
	}
}
