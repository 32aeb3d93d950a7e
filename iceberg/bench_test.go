package iceberg

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"syscall"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"

	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql/types"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// benchRows is the size of BenchmarkCompact's table: large enough that
// the fixed costs of a pass (loading the catalog, the commit) are a small
// part of what is measured.
const benchRows = 2_000_000

// BenchmarkCompact measures compaction throughput, end to end from the log
// to a committed Iceberg snapshot, for narrow rows: a bigint key, an int,
// a bigint and a timestamptz, plus the system columns. The table's
// benchRows events are written once; each iteration compacts all of them
// into a fresh local warehouse (read from Pebble, decode, Arrow, Parquet,
// fsync, Iceberg commit). A keyed table has ten versions per key and
// becomes two Iceberg tables: its change log (every event) and its current
// state (a tenth of them). It reports rows/s of wall time and rows per
// CPU-second of the process (the machine is shared: the latter says how
// fast compaction is with the cores to itself).
//
//	go test ./iceberg -run '^$' -bench Compact -benchtime 3x
func BenchmarkCompact(b *testing.B) {
	for _, kind := range []log.TableKind{log.Stream, log.Keyed} {
		b.Run(kind.String(), func(b *testing.B) {
			l := benchLog(b, kind, benchRows)
			b.ResetTimer()
			var elapsed, cpu time.Duration
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
			}
			b.ReportMetric(float64(benchRows)*float64(b.N)/elapsed.Seconds(), "rows/s")
			b.ReportMetric(float64(benchRows)*float64(b.N)/cpu.Seconds(), "rows/cpu-s")
		})
	}
}

// BenchmarkParquetEncode measures the Parquet encoding of BenchmarkCompact's
// rows alone (parquetProps, to io.Discard): the writer goroutine's share of
// compaction, and the bytes per row it writes.
//
//	go test ./iceberg -run '^$' -bench ParquetEncode -benchtime 5x
func BenchmarkParquetEncode(b *testing.B) {
	const rows = 1 << 20
	l := benchLog(b, log.Stream, rows)
	snap := l.Snapshot()
	defer snap.Release()
	td := snap.Catalog().SortedTables()[0]
	rb, _, err := newRowBuilder(memory.DefaultAllocator, td, shapeStream)
	if err != nil {
		b.Fatal(err)
	}
	defer rb.release()
	var recs []arrow.RecordBatch
	err = snap.Events(td.ID, 0, func(e *log.Event) error {
		if err := rb.addEvent(e); err != nil {
			return err
		}
		if rb.rows == 128<<10 {
			recs = append(recs, rb.flush())
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if rec := rb.flush(); rec != nil {
		recs = append(recs, rec)
	}
	defer func() {
		for _, rec := range recs {
			rec.Release()
		}
	}()
	props := parquetProps(Options{BatchRows: 128 << 10}, rb.schema)
	settle()
	b.ResetTimer()
	var size int64
	start, cpu0 := time.Now(), cpuTime()
	for i := 0; i < b.N; i++ {
		n := &countingWriter{w: io.Discard}
		w, err := pqarrow.NewFileWriter(rb.schema, n, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
		if err != nil {
			b.Fatal(err)
		}
		for _, rec := range recs {
			if err := w.Write(rec); err != nil {
				b.Fatal(err)
			}
		}
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
		size = n.n
	}
	elapsed, cpu := time.Since(start), cpuTime()-cpu0
	b.ReportMetric(float64(size)/rows, "bytes/row")
	b.ReportMetric(float64(rows)*float64(b.N)/elapsed.Seconds(), "rows/s")
	b.ReportMetric(float64(rows)*float64(b.N)/cpu.Seconds(), "rows/cpu-s")
}

// settle waits (up to a minute) until the process is idle, so that
// Pebble's flushes and compactions of the benchmark's setup, and the
// garbage of the last iteration, are not counted in the next measurement.
func settle() {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		c0 := cpuTime()
		time.Sleep(200 * time.Millisecond)
		if cpuTime()-c0 < 10*time.Millisecond {
			return
		}
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

// benchLog opens a log with one table of rows narrow events: id bigint
// (the key; a keyed table has rows/10 keys), qty int (0-99), amount
// bigint (random), ts timestamptz (a millisecond apart, with jitter).
func benchLog(b *testing.B, kind log.TableKind, rows int) *log.Log {
	b.Helper()
	l, err := log.Open(log.Options{Dir: b.TempDir(), Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { l.Close() })
	cols := []types.T{types.Make(types.Int8OID), types.Make(types.Int4OID), types.Make(types.Int8OID), types.Make(types.TimestampTZOID)}
	var id log.TableID
	_, err = l.Commit(context.Background(), &log.Intent{Catalog: func(c *log.Catalog) error {
		td := &log.TableDesc{Schema: "public", Name: "events", Kind: kind, Versions: []log.SchemaVersion{{
			Version: 1,
			Columns: []log.Column{
				{ID: 1, Name: "id", TypeOID: uint32(types.Int8OID), Typmod: -1, NotNull: true},
				{ID: 2, Name: "qty", TypeOID: uint32(types.Int4OID), Typmod: -1},
				{ID: 3, Name: "amount", TypeOID: uint32(types.Int8OID), Typmod: -1},
				{ID: 4, Name: "ts", TypeOID: uint32(types.TimestampTZOID), Typmod: -1},
			},
			Key: []uint32{1},
		}}, NextColID: 4}
		if err := c.AddTable(td); err != nil {
			return err
		}
		id = td.ID
		return nil
	}})
	if err != nil {
		b.Fatal(err)
	}
	keys := rows / 10
	ts0 := int64(820_000_000_000_000) // 2026, in microseconds since 2000
	const perIntent = 10_000
	vals := make([]types.Datum, len(cols))
	// Values from a xorshift generator: arithmetic progressions would
	// compress to nothing and flatter the encoder.
	x := uint64(88172645463325252)
	for at := 0; at < rows; at += perIntent {
		in := &log.Intent{}
		for i := at; i < at+perIntent && i < rows; i++ {
			x ^= x << 13
			x ^= x >> 7
			x ^= x << 17
			k := int64(i % keys)
			vals[0], vals[1], vals[2] = k, int64(x%100), int64(x>>8%1_000_000)
			vals[3] = types.TimestampTZ(ts0 + int64(i)*1000 + int64(x>>40%1000))
			row, err := types.EncodeRow(nil, cols, vals)
			if err != nil {
				b.Fatal(err)
			}
			in.Writes = append(in.Writes, log.Write{Table: id, Key: types.AppendKey(nil, cols[0], k), Row: row})
		}
		if _, err := l.Commit(context.Background(), in); err != nil {
			b.Fatal(err)
		}
	}
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
