package iceberg

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"syscall"
	"testing"
	"time"

	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql/types"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// BenchmarkCompact measures compaction throughput for narrow rows
// (bigint key, bigint, text of ~10 bytes): a stream of `rows` events is
// written once, then each iteration compacts all of it into a fresh
// warehouse (read from Pebble, decode, Arrow, Parquet with Snappy, fsync,
// Iceberg commit). It reports rows/s.
//
//	go test ./iceberg -run '^$' -bench Compact -benchtime 3x
func BenchmarkCompact(b *testing.B) {
	for _, kind := range []log.TableKind{log.Stream, log.Keyed} {
		b.Run(kind.String(), func(b *testing.B) {
			const rows = 1_000_000
			l := benchLog(b, kind, rows)
			b.ResetTimer()
			var elapsed, cpu time.Duration
			for i := 0; i < b.N; i++ {
				c, err := New(l, Options{Warehouse: b.TempDir(), Logger: quiet})
				if err != nil {
					b.Fatal(err)
				}
				start, cpu0 := time.Now(), cpuTime()
				if err := c.CompactOnce(context.Background()); err != nil {
					b.Fatal(err)
				}
				elapsed += time.Since(start)
				cpu += cpuTime() - cpu0
			}
			b.ReportMetric(float64(rows)*float64(b.N)/elapsed.Seconds(), "rows/s")
			// The machine is shared: rows per CPU-second of this process
			// says how fast compaction is when it has the cores to itself.
			b.ReportMetric(float64(rows)*float64(b.N)/cpu.Seconds(), "rows/cpu-s")
		})
	}
}

// cpuTime is the CPU time (user + system) the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func benchLog(b *testing.B, kind log.TableKind, rows int) *log.Log {
	b.Helper()
	l, id := narrowLog(b, kind)
	writeNarrow(b, l, id, 0, rows, rows/10) // keyed: ten versions per key
	return l
}

// narrowLog opens a log with one narrow table (bigint key, bigint, text).
func narrowLog(tb testing.TB, kind log.TableKind) (*log.Log, log.TableID) {
	tb.Helper()
	l, err := log.Open(log.Options{Dir: tb.TempDir(), Logger: quiet})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { l.Close() })
	var id log.TableID
	_, err = l.Commit(context.Background(), &log.Intent{Catalog: func(c *log.Catalog) error {
		td := &log.TableDesc{Schema: "public", Name: "narrow", Kind: kind, Versions: []log.SchemaVersion{{
			Version: 1,
			Columns: []log.Column{
				{ID: 1, Name: "k", TypeOID: uint32(types.Int8OID), Typmod: -1, NotNull: true},
				{ID: 2, Name: "n", TypeOID: uint32(types.Int8OID), Typmod: -1},
				{ID: 3, Name: "s", TypeOID: uint32(types.TextOID), Typmod: -1},
			},
			Key: []uint32{1},
		}}, NextColID: 3}
		if err := c.AddTable(td); err != nil {
			return err
		}
		id = td.ID
		return nil
	}})
	if err != nil {
		tb.Fatal(err)
	}
	return l, id
}

// writeNarrow writes rows from..from+n-1 of the narrow table: key i%keys,
// n = i, s = "event-" + i%100000.
func writeNarrow(tb testing.TB, l *log.Log, id log.TableID, from, n, keys int) {
	tb.Helper()
	cols := []types.T{types.Make(types.Int8OID), types.Make(types.Int8OID), types.Make(types.TextOID)}
	const perIntent = 5000
	for at := from; at < from+n; at += perIntent {
		in := &log.Intent{}
		for i := at; i < at+perIntent && i < from+n; i++ {
			k := int64(i % keys)
			row, err := types.EncodeRow(nil, cols, []types.Datum{k, int64(i), fmt.Sprintf("event-%05d", i%100000)})
			if err != nil {
				tb.Fatal(err)
			}
			in.Writes = append(in.Writes, log.Write{Table: id, Key: types.AppendKey(nil, cols[0], k), Row: row})
		}
		if _, err := l.Commit(context.Background(), in); err != nil {
			tb.Fatal(err)
		}
	}
}
