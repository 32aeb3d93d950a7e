// Package viewbench measures what a write costs a materialized view as the
// table under it grows: the maintainer's work must follow the delta, not
// the table. Each benchmark loads a table of a given size (with the view
// already maintained), then times single-row INSERTs through pgx, and
// reports the time spent in the view maintainer per INSERT beside the
// end-to-end time. The log runs on an in-memory file system, so fsync does
// not hide the difference.
//
//	go test ./tests/viewbench -run XXX -bench . -benchtime 2000x
package viewbench

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/jackc/pgx/v5"

	strandlog "github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql/session"
	"github.com/strand-db/strand/tests/strandtest"
	"github.com/strand-db/strand/views"
)

// timedHook is the view maintainer with a clock around each intent's
// maintenance (its backfill worker runs as in the server).
type timedHook struct {
	*views.Maintainer
	nanos atomic.Int64
}

func (h *timedHook) PrepareIntent(in *strandlog.HookInput) ([]strandlog.Mutation, error) {
	start := time.Now()
	muts, err := h.Maintainer.PrepareIntent(in)
	h.nanos.Add(int64(time.Since(start)))
	return muts, err
}

const groups = 1000

const groupByView = `CREATE MATERIALIZED VIEW by_g AS SELECT g, count(*) AS n, sum(v) AS total, min(v) AS lo, max(v) AS hi FROM t GROUP BY g`

func BenchmarkInsertGroupByView(b *testing.B) {
	for _, rows := range []int{10_000, 1_000_000} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			benchInsert(b, rows, groupByView, `SELECT sum(n) FROM by_g`, int64(rows))
		})
	}
}

// A dynamic filter: every INSERT moves the average, and the rows between
// the old and the new average (about none) move in or out, however many
// rows the table has.
const aboveAverageView = `CREATE MATERIALIZED VIEW above AS SELECT id, v FROM t WHERE v > (SELECT avg(v) FROM t)`

func BenchmarkInsertDynamicFilterView(b *testing.B) {
	for _, rows := range []int{10_000, 1_000_000} {
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			benchInsert(b, rows, aboveAverageView, `SELECT (SELECT count(*) FROM above) - (SELECT count(*) FROM t WHERE v > (SELECT avg(v) FROM t))`, 0)
		})
	}
}

// rank() <= 3 per group, as a top-N with ties: an INSERT reads its
// group's first rows and their ties, however large the group (10 rows at
// 10,000 rows, 1,000 at 1,000,000). The same bound written so that it
// does not bound the rank (r + 0 <= 3) is the window operator, which
// reads the whole group (the load under it too, so it is measured at
// 10,000 and 100,000 rows).
const rankTopView = `CREATE MATERIALIZED VIEW top3 AS SELECT * FROM (SELECT g, id, v, rank() OVER (PARTITION BY g ORDER BY v DESC) AS r FROM t) s WHERE r <= 3`

const rankWindowView = `CREATE MATERIALIZED VIEW top3 AS SELECT * FROM (SELECT g, id, v, rank() OVER (PARTITION BY g ORDER BY v DESC) AS r FROM t) s WHERE r + 0 <= 3`

const rankCheck = `SELECT (SELECT count(*) FROM top3) - (SELECT count(*) FROM (SELECT rank() OVER (PARTITION BY g ORDER BY v DESC) AS r FROM t) s WHERE r <= 3)`

func BenchmarkInsertRankView(b *testing.B) {
	for _, v := range []struct {
		name, def string
		rows      []int
	}{
		{"topn", rankTopView, []int{10_000, 100_000, 1_000_000}},
		{"window", rankWindowView, []int{10_000, 100_000}},
	} {
		for _, rows := range v.rows {
			b.Run(fmt.Sprintf("%s/rows=%d", v.name, rows), func(b *testing.B) {
				benchInsert(b, rows, v.def, rankCheck, 0)
			})
		}
	}
}

// lag() per group: a change reads the row before and after it (the
// rows within its functions' reach), however large the group (10 rows
// at 10,000 rows, 1,000 at 1,000,000). A running sum (ROWS BETWEEN
// UNBOUNDED PRECEDING) numbers every row of the group, so it reads the
// group: measured at 10,000 and 100,000 rows.
const lagView = `CREATE MATERIALIZED VIEW wv AS SELECT id, g, v - lag(v) OVER (PARTITION BY g ORDER BY id) AS d FROM t`

// A RANGE frame over id: a group's ids are 1,000 apart, so the frame
// holds the row and the 5 before it, and a change reads the 10 on each
// side, at every size.
const rangeView = `CREATE MATERIALIZED VIEW wv AS SELECT id, g, sum(v) OVER (PARTITION BY g ORDER BY id RANGE BETWEEN 5000 PRECEDING AND CURRENT ROW) AS d FROM t`

// Running functions (views/windowrun.go): an INSERT appends at the end
// of its group, so it reads the row before it and writes its own.
const runningView = `CREATE MATERIALIZED VIEW wv AS SELECT id, g, sum(v) OVER (PARTITION BY g ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS d FROM t`

const rowNumberView = `CREATE MATERIALIZED VIEW wv AS SELECT id, g, row_number() OVER (PARTITION BY g ORDER BY id) AS d FROM t`

// The same view with a float avg, which cannot continue from the row
// before (its sum's rounding depends on the order of additions): a change
// recomputes its partition.
const floatAvgView = `CREATE MATERIALIZED VIEW wv AS SELECT id, g, sum(v) OVER w AS d, avg(v::float8) OVER w AS a FROM t WINDOW w AS (PARTITION BY g ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)`

func BenchmarkInsertWindowView(b *testing.B) {
	for _, v := range []struct {
		name, def, fn string
		rows          []int
	}{
		{"lag", lagView, `v - lag(v) OVER (PARTITION BY g ORDER BY id)`, []int{10_000, 100_000, 1_000_000}},
		{"range", rangeView, `sum(v) OVER (PARTITION BY g ORDER BY id RANGE BETWEEN 5000 PRECEDING AND CURRENT ROW)`, []int{10_000, 100_000, 1_000_000}},
		{"running", runningView, `sum(v) OVER (PARTITION BY g ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)`, []int{10_000, 100_000, 1_000_000}},
		{"row_number", rowNumberView, `row_number() OVER (PARTITION BY g ORDER BY id)`, []int{10_000, 100_000, 1_000_000}},
		{"float_avg", floatAvgView, `sum(v) OVER (PARTITION BY g ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)`, []int{10_000, 100_000}},
	} {
		check := `SELECT ((SELECT sum(d) FROM wv) - (SELECT sum(d) FROM (SELECT ` + v.fn + ` AS d FROM t) s))::bigint`
		for _, rows := range v.rows {
			b.Run(fmt.Sprintf("%s/rows=%d", v.name, rows), func(b *testing.B) {
				benchInsert(b, rows, v.def, check, 0)
			})
		}
	}
}

// An interval join: each row of t with the rows of its group up to 5,000
// ids before it (6 rows, its own included, as ids of a group are 1,000
// apart). Each group holds rows/1,000 rows; a change reads the 6 within
// its band, not its group (views/joinband.go).
const bandJoinView = `CREATE MATERIALIZED VIEW jv AS SELECT a.id, b.id AS near FROM t a JOIN t b ON a.g = b.g AND b.id BETWEEN a.id - 5000 AND a.id`

func BenchmarkInsertIntervalJoinView(b *testing.B) {
	for _, rows := range []int{10_000, 100_000, 1_000_000} {
		// Row i pairs with the rows of its group among the 6 ids
		// i - 5000, ..., i that exist.
		var want int64
		for i := 1; i <= rows; i++ {
			want += int64(min(6, (i-1)/groups+1))
		}
		b.Run(fmt.Sprintf("rows=%d", rows), func(b *testing.B) {
			benchInsert(b, rows, bandJoinView, `SELECT count(*) FROM jv`, want)
		})
	}
}

// benchInsert loads rows into t under view, checks that check gives want
// (the view equal to its query), then times single-row INSERTs.
func benchInsert(b *testing.B, rows int, view, check string, want int64) {
	ctx := context.Background()
	hook := &timedHook{Maintainer: session.NewMaintainer()}
	s := strandtest.StartWith(b, strandlog.Options{Dir: "/strand", FS: vfs.NewMem(), Hook: hook})
	c, err := pgx.Connect(ctx, s.DSN())
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close(ctx)
	loadTable(b, c, []string{`CREATE TABLE t (id int8 PRIMARY KEY, g int, v int)`, view}, []string{"id", "g", "v"}, rows, func(i int) []any {
		return []any{int64(i), int32(i % groups), int32(i % 997)}
	})
	var n int64
	if err := c.QueryRow(ctx, check).Scan(&n); err != nil || n != want {
		b.Fatalf("%s: %d, want %d (%v)", check, n, want, err)
	}
	hook.nanos.Store(0)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := int64(rows + 1 + i)
		if _, err := c.Exec(ctx, `INSERT INTO t VALUES ($1, $2, $3)`, id, int32(id%groups), int32(id%997)); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(hook.nanos.Load())/float64(b.N), "view-ns/insert")
}

// loadTable runs ddl (a CREATE TABLE t, views) and COPYs rows rows into
// t's columns cols, row(i) being row i's values (i from 1).
func loadTable(b *testing.B, c *pgx.Conn, ddl, cols []string, rows int, row func(i int) []any) {
	b.Helper()
	ctx := context.Background()
	for _, q := range ddl {
		if _, err := c.Exec(ctx, q); err != nil {
			b.Fatal(err)
		}
	}
	i := 0
	src := pgx.CopyFromFunc(func() ([]any, error) {
		if i == rows {
			return nil, nil
		}
		i++
		return row(i), nil
	})
	if _, err := c.CopyFrom(ctx, pgx.Identifier{"t"}, cols, src); err != nil {
		b.Fatal(err)
	}
}
