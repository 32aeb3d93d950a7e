package views

import (
	"bytes"
	"context"
	"errors"
	"fmt"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql/types"
)

// RangeScanner reads raw state ranges: the transaction's snapshot. In
// ScanRangeSeek, fn returns a key to go on from (nil: the next key).
type RangeScanner interface {
	ScanRange(ctx context.Context, start, end []byte, fn func(k, v []byte) error) error
	ScanRangeSeek(ctx context.Context, start, end []byte, fn func(k, v []byte) ([]byte, error)) error
}

// Read is the plan node that reads a view: its output rows, each as many
// times as its multiplicity (once for a DISTINCT view).
type Read struct {
	View     *log.TableDesc
	Cols     []exec.Column
	Types    []types.T
	Distinct bool
	// Prefix, if set, evaluates to an encoded key prefix (the group key
	// of an aggregated view, or its leading columns).
	Prefix     exec.Expr
	PrefixDesc string
	// KeyIdx are the output columns that form the key, in key order.
	KeyIdx []int
}

// KeyPrefix encodes group values as an aggregated view's output key
// (prefix).
func KeyPrefix(ts []types.T, vals []types.Datum) []byte { return appendTuple(nil, ts, vals) }

func (r *Read) Columns() []exec.Column { return r.Cols }

// live returns the reader's state and the view's record, refusing a view
// that is still being backfilled: it holds part of its rows (backfill.go).
func (r *Read) live(rt *exec.Runtime) (RangeScanner, *backfillRecord, error) {
	rs, ok := rt.Tables.(RangeScanner)
	if !ok {
		return nil, nil, errors.New("views: this reader cannot read view state")
	}
	scan := func(start, end []byte, fn func(k, v []byte) error) error { return rs.ScanRange(rt.Ctx, start, end, fn) }
	rec, err := readRecord(scan, r.View.ID)
	if err != nil {
		return nil, nil, err
	}
	if rec != nil && rec.State != stateLive {
		return nil, nil, notReady(r.View.Name, rec.status())
	}
	return rs, rec, nil
}

// topSeek is rs as a topScan.
func topSeek(rt *exec.Runtime, rs RangeScanner) topScan {
	return func(start, end []byte, fn func(k, v []byte) ([]byte, error)) error {
		return rs.ScanRangeSeek(rt.Ctx, start, end, fn)
	}
}

// outputRow decodes one output row's value: the row (with the hidden
// _version, NULL) and how many times it is in the view.
func (r *Read) outputRow(v []byte) (exec.Row, int64, error) {
	n, payload, err := outputValue(v)
	if err != nil {
		return nil, 0, err
	}
	row, err := types.DecodeRow(r.Types, payload)
	if err != nil {
		return nil, 0, err
	}
	if r.Distinct && n > 1 {
		n = 1
	}
	return append(row, nil), n, nil
}

func (r *Read) Run(rt *exec.Runtime, emit func(exec.Row) error) error {
	rs, rec, err := r.live(rt)
	if err != nil {
		return err
	}
	if rec != nil && rec.TopOutput != nil {
		return r.runTop(rt, topSeek(rt, rs), rec.TopOutput, emit)
	}
	start, end := OutputRange(r.View.ID)
	if r.Prefix != nil {
		kp, err := r.keyPrefix(rt, rec != nil && rec.CompactKeys)
		if err != nil || kp == nil {
			return err
		}
		start = append(start, kp...)
		end = prefixEnd(start)
	}
	err = rs.ScanRange(rt.Ctx, start, end, func(k, v []byte) error {
		row, n, err := r.outputRow(v)
		if err != nil {
			return err
		}
		for i := int64(0); i < n; i++ {
			if err := emit(row); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, exec.ErrStop) {
		return nil
	}
	return err
}

// RunChunk reads the view's rows in the order of its state, from the
// position from (nil: the first row) until at least max rows were handed
// to emit, and returns where the next chunk starts (nil: the view was
// read to its end). emit gets each row with the key of the state it comes
// from (valid during the call): the same key at two snapshots is the same
// row of a keyed view, and the copies of a row share it. A chunk ends
// between keys or, for a view read from its top-N's candidates, between
// partitions. It reads no view that is still being backfilled, and no
// lookup (Prefix).
func (r *Read) RunChunk(rt *exec.Runtime, from []byte, max int, emit func(key []byte, row exec.Row) error) (next []byte, err error) {
	rs, rec, err := r.live(rt)
	if err != nil {
		return nil, err
	}
	n := 0
	if rec != nil && rec.TopOutput != nil {
		var last []byte
		err := rec.TopOutput.scan(r.View.ID, topSeek(rt, rs), from, nil, func(key, partEnd []byte, row exec.Row) error {
			if n >= max && !bytes.Equal(partEnd, last) {
				next = last
				return log.ErrStop
			}
			last = append(last[:0], partEnd...)
			n++
			out := make(exec.Row, len(row)+1)
			copy(out, row)
			return emit(key, out)
		})
		return next, err
	}
	start, end := OutputRange(r.View.ID)
	prefixLen := len(start)
	start = append(start, from...)
	err = rs.ScanRange(rt.Ctx, start, end, func(k, v []byte) error {
		if n >= max {
			next = append([]byte(nil), k[prefixLen:]...)
			return log.ErrStop
		}
		row, c, err := r.outputRow(v)
		if err != nil {
			return err
		}
		for i := int64(0); i < c; i++ {
			if err := emit(k[prefixLen:], row); err != nil {
				return err
			}
		}
		n += int(c)
		return nil
	})
	if errors.Is(err, log.ErrStop) {
		err = nil
	}
	return next, err
}

// keyPrefix evaluates a lookup's key prefix in the view's key encoding
// (compact: the view's keys use compact integers); nil when a value is
// NULL, which matches nothing.
func (r *Read) keyPrefix(rt *exec.Runtime, compact bool) ([]byte, error) {
	v, err := r.Prefix.Eval(rt.Env, nil)
	if err != nil || v == nil {
		return nil, err
	}
	kp := v.([]byte)
	if !compact {
		return kp, nil
	}
	ts := make([]types.T, len(r.KeyIdx))
	for i, c := range r.KeyIdx {
		ts[i] = r.Types[c]
	}
	if kp, err = recodeKey(kp, ts); err != nil {
		return nil, fmt.Errorf("view %s: %w", r.View.Name, err)
	}
	return kp, nil
}

// runTop reads a view whose rows derive from its top-N's candidates
// (topout.go).
func (r *Read) runTop(rt *exec.Runtime, scan topScan, top *topOutput, emit func(exec.Row) error) error {
	if len(top.Cols) != len(r.Types) {
		return fmt.Errorf("view %s: %d columns, its top-N gives %d", r.View.Name, len(r.Types), len(top.Cols))
	}
	// A lookup by the view's key (TopOutputKey: the partition's leading
	// values) reads those partitions only.
	var from, to []byte
	if r.Prefix != nil {
		var err error
		if from, err = r.keyPrefix(rt, top.Compact); err != nil || from == nil {
			return err
		}
		to = prefixEnd(from)
	}
	err := top.scan(r.View.ID, scan, from, to, func(_, _ []byte, row exec.Row) error {
		// The hidden _version column of a view reads NULL.
		out := make(exec.Row, len(row)+1)
		copy(out, row)
		return emit(out)
	})
	if errors.Is(err, exec.ErrStop) {
		return nil
	}
	return err
}

func (r *Read) Explain(e *exec.Explainer) {
	if r.Prefix != nil {
		e.Add("Materialized View Key Scan on %s", r.View.Name)
		e.Detail("Key: %s", r.PrefixDesc)
		return
	}
	e.Add("Materialized View Scan on %s", r.View.Name)
}
