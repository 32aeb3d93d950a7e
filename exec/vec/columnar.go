package vec

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"

	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql/types"
)

// Reading a table's columnar copy (log.StateReader: the Iceberg tables the
// compactor writes) instead of its rows in Pebble. The copy is exact at its
// watermark W, at or below the query's snapshot S; the log's events in
// (W, S] complete it:
//
//   - a stream's copy holds its events up to W; the events after W are read
//     from the log and added;
//   - a keyed table's copy holds its live rows at W; every key with an event
//     in (W, S] is dropped from the copy's rows and its head at S (if live)
//     added, so an updated row counts once and a deleted one not at all.
//
// The copy is used only when the tail is small next to it (maxTail), and,
// for a keyed table with a tail, when the key is one integer or text column
// (dropping keys compares the copy's key column with the tail's keys).

// copyReadError is a failure to read the columnar copy itself (not an
// error of the query): the aggregate then scans Pebble instead.
type copyReadError struct{ err error }

func (e *copyReadError) Error() string { return e.err.Error() }

var errTailTooLong = errors.New("tail too long")

// maxTail is the most log events after the copy's watermark a columnar
// read takes on: past it, reading the tail key by key costs more than
// scanning Pebble.
func maxTail(copyRows int64) int {
	return int(copyRows/16) + 4096
}

// columnarUnits returns the units of work that read the table's columnar
// copy and its log tail, or nil when the table has no usable copy.
func (a *Aggregate) columnarUnits(ctx context.Context, snap *log.Snapshot) ([]unit, error) {
	sr := snap.StateReader()
	if sr == nil {
		return nil, nil
	}
	l := a.Layout
	td := l.Desc
	cols := make([]uint32, len(a.need))
	for i, p := range a.need {
		if p < len(l.Types) {
			cols[i] = l.Cur.Columns[p].ID
		}
	}
	// keyCol is the position of the single key column in the copy's
	// records, when keys can be dropped by value.
	keyCol := -1
	var keyT types.T
	if td.Kind == log.Keyed && len(l.KeyIdx) == 1 {
		kp := l.KeyIdx[0]
		switch keyT = l.Types[kp]; keyT.OID {
		case types.Int2OID, types.Int4OID, types.Int8OID, types.TextOID, types.VarcharOID:
			keyCol = len(cols)
			cols = append(cols, l.Cur.Columns[kp].ID)
		}
	}
	st, ok, err := sr.ReadState(ctx, td, snap.LSN(), cols)
	if err != nil {
		slog.Warn("columnar copy unavailable, scanning the log", slog.String("table", td.Name), slog.Any("err", err))
		return nil, nil
	}
	if !ok {
		return nil, nil
	}
	// The tail: a stream's events after the watermark, a keyed table's
	// keys written after it.
	var tail []log.Head
	keys := map[string]struct{}{}
	limit := maxTail(st.Rows())
	n := 0
	err = snap.Events(td.ID, st.Watermark(), func(e *log.Event) error {
		if n++; n > limit {
			return errTailTooLong
		}
		if td.Kind == log.Stream {
			tail = append(tail, log.Head{Version: e.Version, SchemaVersion: e.SchemaVersion, Row: append([]byte(nil), e.Row...)})
		} else {
			keys[string(e.Key)] = struct{}{}
		}
		return nil
	})
	if errors.Is(err, errTailTooLong) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("scan %s after LSN %d: %w", td.Name, st.Watermark(), err)
	}
	var keep func(rec arrow.RecordBatch, sel []int32) ([]int32, error)
	if len(keys) > 0 {
		if keyCol < 0 {
			return nil, nil
		}
		if keep, err = keyFilter(keyT, keyCol, keys); err != nil {
			return nil, fmt.Errorf("table %s: %w", td.Name, err)
		}
		for k := range keys {
			h, ok, err := snap.Head(td.ID, []byte(k))
			if err != nil {
				return nil, err
			}
			if ok && h.Live() {
				tail = append(tail, h)
			}
		}
	}
	units := make([]unit, 0, st.Parts()+1)
	for i := 0; i < st.Parts(); i++ {
		units = append(units, func(ctx context.Context, w *worker, p *partial) error {
			var fnErr error
			// The reader's buffers come back to the worker's pool as
			// batches are released, instead of to the garbage collector.
			err := st.ReadPart(compute.WithAllocator(ctx, w.pool), i, func(rec arrow.RecordBatch) error {
				var k func([]int32) ([]int32, error)
				if keep != nil {
					k = func(sel []int32) ([]int32, error) { return keep(rec, sel) }
				}
				fnErr = w.consume(rec, int(rec.NumRows()), k, p)
				return fnErr
			})
			if err != nil && fnErr == nil && ctx.Err() == nil {
				return &copyReadError{err}
			}
			return err
		})
	}
	if len(tail) > 0 {
		units = append(units, func(ctx context.Context, w *worker, p *partial) error {
			return w.sc.rows(ctx, tail, func(rec arrow.RecordBatch, n int) error {
				return w.consume(rec, n, nil, p)
			})
		})
	}
	return units, nil
}

// keyFilter returns a selection filter dropping the rows whose key (column
// keyCol, of type t) is among keys (encoded keys).
func keyFilter(t types.T, keyCol int, keys map[string]struct{}) (func(rec arrow.RecordBatch, sel []int32) ([]int32, error), error) {
	switch t.OID {
	case types.Int2OID, types.Int4OID, types.Int8OID:
		return dropKeys[int64, *array.Int64](t, keyCol, keys)
	default:
		return dropKeys[string, *array.String](t, keyCol, keys)
	}
}

// dropKeys is keyFilter for keys whose values are Ts in a column of Arrow
// type A.
func dropKeys[T comparable, A interface{ Value(int) T }](t types.T, keyCol int, keys map[string]struct{}) (func(rec arrow.RecordBatch, sel []int32) ([]int32, error), error) {
	drop := make(map[T]struct{}, len(keys))
	for k := range keys {
		d, _, err := types.DecodeKey(t, []byte(k))
		if err != nil {
			return nil, err
		}
		v, ok := d.(T)
		if !ok {
			return nil, fmt.Errorf("key %x decodes to %T", k, d)
		}
		drop[v] = struct{}{}
	}
	return func(rec arrow.RecordBatch, sel []int32) ([]int32, error) {
		col, ok := rec.Column(keyCol).(A)
		if !ok {
			return nil, &copyReadError{fmt.Errorf("key column read as %s", rec.Column(keyCol).DataType())}
		}
		out := sel[:0]
		for _, r := range sel {
			if _, hit := drop[col.Value(int(r))]; !hit {
				out = append(out, r)
			}
		}
		return out, nil
	}, nil
}
