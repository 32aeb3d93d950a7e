package log

import (
	"context"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
)

// A StateReader reads a columnar copy of a table's rows (the Iceberg
// tables the compactor writes), so that a query reading every row of a big
// table can read compressed columns instead of visiting each key in
// Pebble. The log only holds it for snapshots; the query engine decides
// when to use it and reads the log's tail itself: a keyed table's copy is
// its live rows as of a watermark W, a stream's its events up to W, and
// everything after W is in the log.
type StateReader interface {
	// ReadState opens the newest columnar copy of td whose watermark is at
	// most upTo, projected to cols: column IDs of td's current schema
	// version, with 0 for _version. ok is false when there is none (no
	// copy yet, or not one for this table, or a column type the copy
	// cannot give): the caller reads the log instead.
	ReadState(ctx context.Context, td *TableDesc, upTo uint64, cols []uint32) (s StateScan, ok bool, err error)
}

// StateScan is one opened columnar copy.
type StateScan interface {
	// Watermark is the LSN the copy is exact at.
	Watermark() uint64
	// Rows is the copy's row count.
	Rows() int64
	// Parts is the number of parts, readable in parallel.
	Parts() int
	// ReadPart calls fn with part i's rows as record batches (released
	// after fn returns), one column per requested column, in Strand's
	// stored form: Int64 for integers, dates (days since 2000-01-01) and
	// timestamps (µs since 2000-01-01), Float64 for float8, Boolean, and
	// String for text. A column the copy predates is all NULL.
	ReadPart(ctx context.Context, i int, fn func(rec arrow.RecordBatch) error) error
}

type stateBox struct{ r StateReader }

// stateSource holds the log's StateReader; snapshots share it.
type stateSource struct{ v atomic.Value }

// SetStateReader installs the reader of columnar copies. Without one,
// every scan reads Pebble.
func (l *Log) SetStateReader(r StateReader) { l.cold.state.v.Store(stateBox{r}) }

// StateReader returns the installed reader of columnar copies, or nil.
func (s *Snapshot) StateReader() StateReader {
	if s.cold == nil {
		return nil
	}
	b, _ := s.cold.state.v.Load().(stateBox)
	return b.r
}
