package exec

import (
	"context"
	"errors"
	"sort"

	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql/types"
)

// Txn is a transaction's view of the data: a durable log snapshot, taken
// when the transaction starts, plus the transaction's own writes, which it
// reads back (read-your-writes) and commits as one log intent. Every write
// carries the optimistic condition of what the transaction read, so the
// commit fails with 40001 when another commit changed a key in between:
// write-write conflicts fail the later committer (snapshot isolation for
// writes; reads are a consistent snapshot).
type Txn struct {
	Log  *log.Log
	Snap *log.Snapshot
	// writes in order. byKey finds the latest pending write of a key once
	// there are more than linearPending writes; below that a scan does
	// (a single-row INSERT then makes no map).
	writes []pendingWrite
	byKey  map[pendingKey]int
	// Catalog changes, applied in order at commit, and the catalog as the
	// transaction's own DDL left it (nil: the snapshot's).
	catalog []func(*log.Catalog) error
	cat     *log.Catalog
	// Autocommit marks a one-statement transaction that commits as soon as
	// the statement ends: a plain INSERT then leaves the duplicate-key
	// check to the commit's NotExists condition (one lookup, not two).
	Autocommit bool
	// intent and intentWrites back Commit's intent for small
	// transactions, saving two allocations per single-row commit.
	intent       log.Intent
	intentWrites [1]log.Write
}

// linearPending is the number of pending writes up to which a key's
// pending write is found by a scan rather than the byKey map.
const linearPending = 8

type pendingKey struct {
	table log.TableID
	key   string
}

type pendingWrite struct {
	layout *TableLayout
	w      log.Write
	row    Row // the decoded row (nil for deletes)
	// noop: inserted then deleted in this transaction.
	noop bool
}

// NewTxn starts a transaction at the log's current durable state.
func NewTxn(l *log.Log) *Txn {
	return &Txn{Log: l, Snap: l.Snapshot()}
}

// Release ends the transaction's snapshot (after Commit or on rollback).
func (t *Txn) Release() {
	if t.Snap != nil {
		t.Snap.Release()
		t.Snap = nil
	}
}

// Catalog is the catalog the transaction reads.
func (t *Txn) Catalog() *log.Catalog {
	if t.cat != nil {
		return t.cat
	}
	return t.Snap.Catalog()
}

// HasWrites reports whether the transaction wrote anything.
func (t *Txn) HasWrites() bool { return len(t.writes) > 0 || len(t.catalog) > 0 }

// AddCatalogChange queues a catalog change for commit.
// AddCatalogChange applies a catalog change to the transaction's private
// catalog (so its later statements see it) and queues it for commit. At
// commit the change runs again on the catalog of that moment; a table
// created here must get the same ID there, or the commit fails with 40001
// (its writes were planned against that ID).
func (t *Txn) AddCatalogChange(f func(*log.Catalog) error) error {
	c := t.Catalog().Clone()
	next := c.NextTableID
	if err := f(c); err != nil {
		return err
	}
	t.cat = c
	allocates := c.NextTableID != next
	t.catalog = append(t.catalog, func(cur *log.Catalog) error {
		if allocates && cur.NextTableID != next {
			return errCatalogMoved
		}
		return f(cur)
	})
	return nil
}

var errCatalogMoved = &log.TableError{Code: "40001", Msg: "could not serialize access: the catalog changed concurrently"}

// Put queues a write of row under its key with a condition. A second write
// of the same key in the transaction replaces the first one's row and keeps
// its condition (the transaction's read of the key); streams append.
func (t *Txn) Put(l *TableLayout, row Row, del bool, cond log.Cond) error {
	return t.PutKey(l, l.Key(row), row, del, cond)
}

// PutKey is Put for a caller that already encoded row's key.
func (t *Txn) PutKey(l *TableLayout, key []byte, row Row, del bool, cond log.Cond) error {
	return t.putKey(l, key, row, del, cond, false)
}

// PutKeyIfAbsent queues an insert that the commit skips when the key
// exists by then (log.Write.SkipIfExists), rather than failing: ON CONFLICT
// DO NOTHING without reading the key first. The key must have no pending
// write in this transaction.
func (t *Txn) PutKeyIfAbsent(l *TableLayout, key []byte, row Row) error {
	return t.putKey(l, key, row, false, log.Cond{Kind: log.NotExists}, true)
}

func (t *Txn) putKey(l *TableLayout, key []byte, row Row, del bool, cond log.Cond, skip bool) error {
	var data []byte
	if !del {
		var err error
		if data, err = l.Encode(row); err != nil {
			return err
		}
	}
	pw := pendingWrite{layout: l, w: log.Write{Table: l.Desc.ID, Key: key, Delete: del, Cond: cond, SchemaVersion: l.Cur.Version, Row: data, SkipIfExists: skip}}
	if !del {
		pw.row = append(Row(nil), row[:len(l.Types)]...)
	}
	if i, ok := t.pendingIndex(l.Desc.ID, key); ok && l.Desc.Kind == log.Keyed {
		prev := t.writes[i]
		pw.w.Cond = prev.w.Cond
		if del && prev.w.Cond.Kind == log.NotExists && !prev.w.Delete {
			// Inserted and deleted in the same transaction: nothing to
			// commit for this key.
			pw.noop = true
		}
		t.writes[i] = pw
		return nil
	}
	t.writes = append(t.writes, pw)
	switch {
	case t.byKey != nil:
		t.byKey[pendingKey{l.Desc.ID, string(key)}] = len(t.writes) - 1
	case len(t.writes) > linearPending:
		// In write order, so that a stream key's latest write wins.
		t.byKey = make(map[pendingKey]int, 2*len(t.writes))
		for i := range t.writes {
			w := &t.writes[i].w
			t.byKey[pendingKey{w.Table, string(w.Key)}] = i
		}
	}
	return nil
}

// pendingIndex returns the position in t.writes of the latest pending
// write of a key.
func (t *Txn) pendingIndex(id log.TableID, key []byte) (int, bool) {
	if t.byKey != nil {
		i, ok := t.byKey[pendingKey{id, string(key)}]
		return i, ok
	}
	for i := len(t.writes) - 1; i >= 0; i-- {
		if w := &t.writes[i].w; w.Table == id && string(w.Key) == string(key) {
			return i, true
		}
	}
	return 0, false
}

// Pending returns the transaction's pending row for a key of a keyed
// table: found reports a pending write, row is nil for a pending delete.
func (t *Txn) Pending(l *TableLayout, key []byte) (row Row, found bool) {
	i, ok := t.pendingIndex(l.Desc.ID, key)
	if !ok {
		return nil, false
	}
	w := t.writes[i]
	if w.w.Delete {
		return nil, true
	}
	return w.row, true
}

// Get reads one key of a keyed table: the pending write if any, else the
// snapshot. It returns the row with _version (NULL for a pending row, as a
// scan shows it: the version is assigned at commit).
func (t *Txn) Get(l *TableLayout, key []byte) (Row, bool, error) {
	if r, ok := t.Pending(l, key); ok {
		if r == nil {
			return nil, false, nil
		}
		out := append(append(Row(nil), r...), nil)
		return out, true, nil
	}
	h, ok, err := t.Snap.Head(l.Desc.ID, key)
	if err != nil || !ok || !h.Live() {
		return nil, false, err
	}
	row, err := l.Decode(h.SchemaVersion, h.Row, h.Version, nil)
	return row, err == nil, err
}

// Head returns a key's head in the snapshot.
func (t *Txn) Head(l *TableLayout, key []byte) (log.Head, bool, error) {
	return t.Snap.Head(l.Desc.ID, key)
}

// Scan implements TableSource: the snapshot's rows merged with the
// transaction's pending writes of the table.
func (t *Txn) Scan(ctx context.Context, l *TableLayout, prefix []byte, fn func(Row) error) error {
	var pend []pendingWrite
	for _, w := range t.writes {
		if w.w.Table == l.Desc.ID && hasPrefix(w.w.Key, prefix) {
			pend = append(pend, w)
		}
	}
	row := make(Row, l.Width())
	if l.Desc.Kind == log.Stream {
		err := t.Snap.Events(l.Desc.ID, 0, func(e *log.Event) error {
			if prefix != nil && !hasPrefix(e.Key, prefix) {
				return nil
			}
			if err := ctx.Err(); err != nil {
				return context.Cause(ctx)
			}
			r, err := l.Decode(e.SchemaVersion, e.Row, e.Version, row)
			if err != nil {
				return err
			}
			return fn(r)
		})
		if err != nil {
			return err
		}
		for _, w := range pend {
			copy(row, w.row)
			row[len(l.Types)] = nil
			if err := fn(row); err != nil {
				return err
			}
		}
		return nil
	}
	sort.SliceStable(pend, func(i, j int) bool { return string(pend[i].w.Key) < string(pend[j].w.Key) })
	pi := 0
	emitPending := func(upTo []byte, inclusive bool) error {
		for pi < len(pend) {
			k := pend[pi].w.Key
			if upTo != nil && (string(k) > string(upTo) || (!inclusive && string(k) == string(upTo))) {
				return nil
			}
			w := pend[pi]
			pi++
			if w.w.Delete {
				continue
			}
			copy(row, w.row)
			row[len(l.Types)] = nil
			if err := fn(row); err != nil {
				return err
			}
		}
		return nil
	}
	n := 0
	err := t.Snap.ScanHeads(l.Desc.ID, prefix, false, func(key []byte, h *log.Head) error {
		if n++; n%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return context.Cause(ctx)
			}
		}
		if err := emitPending(key, false); err != nil {
			return err
		}
		if pi < len(pend) && string(pend[pi].w.Key) == string(key) {
			return nil // replaced by a pending write, emitted in order above/below
		}
		r, err := l.Decode(h.SchemaVersion, h.Row, h.Version, row)
		if err != nil {
			return err
		}
		return fn(r)
	})
	if err != nil {
		return err
	}
	return emitPending(nil, true)
}

func hasPrefix(k, p []byte) bool {
	return len(k) >= len(p) && string(k[:len(p)]) == string(p)
}

// ErrConflict marks a commit that failed an optimistic condition.
var ErrConflict = errors.New("conflict")

// Commit makes the transaction's writes durable as one intent.
func (t *Txn) Commit(ctx context.Context) (*log.Result, error) {
	if !t.HasWrites() {
		return &log.Result{LSN: t.Snap.LSN()}, nil
	}
	t.intent = log.Intent{}
	in := &t.intent
	if len(t.writes) <= len(t.intentWrites) {
		in.Writes = t.intentWrites[:0]
	} else {
		in.Writes = make([]log.Write, 0, len(t.writes))
	}
	if len(t.catalog) > 0 {
		changes := t.catalog
		in.Catalog = func(c *log.Catalog) error {
			for _, f := range changes {
				if err := f(c); err != nil {
					return err
				}
			}
			return nil
		}
	}
	for _, w := range t.writes {
		if !w.noop {
			in.Writes = append(in.Writes, w.w)
		}
	}
	return t.Log.Commit(ctx, in)
}

// RowTypes returns the types of a layout's columns plus _version.
func RowTypes(l *TableLayout) []types.T {
	return append(append([]types.T(nil), l.Types...), types.Make(types.Int8OID))
}

// ScanRange reads raw state (materialized views) as of the transaction's
// snapshot. Views reflect committed writes only: a transaction does not see
// its own pending writes in a view.
func (t *Txn) ScanRange(ctx context.Context, start, end []byte, fn func(k, v []byte) error) error {
	return t.Snap.ScanRange(start, end, fn)
}

// ScanRangeSeek is ScanRange where fn may return a key to go on from
// (log.Snapshot.ScanRangeSeek).
func (t *Txn) ScanRangeSeek(ctx context.Context, start, end []byte, fn func(k, v []byte) ([]byte, error)) error {
	return t.Snap.ScanRangeSeek(start, end, fn)
}
