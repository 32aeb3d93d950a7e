package log

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
)

// Tiering: once a table's events are in Iceberg, the oldest of them may
// leave Pebble while reads still return every row.
//
// A table's TierFloor (in its catalog descriptor) is the LSN of the newest
// event that may leave Pebble. It is raised by RaiseTierFloors, an ordinary
// catalog change through the sequencer, so it is durable and ordered with
// the writes; the caller (the Iceberg compactor) raises it only to an LSN
// its durable Iceberg commits already cover. Only then does DropTiered
// delete the events (0x05) up to the floor and the version-index entries
// (0x04) of their keys, with range deletions, in chunks that each remove,
// atomically, a prefix of the table's events, for every key they touch a
// prefix of its versions, and set the table's tier marker (meta key
// "tier"+table) to the chunk's last LSN. So in every snapshot the events up
// to the marker are gone and every later one is there, and a key's local
// versions are a suffix of its versions. Key heads never leave Pebble:
// point reads, keyed scans and views stay local. DropTiered then publishes
// a snapshot after the deletion with an empty catalog change (readers only
// see snapshots the pipeline publishes).
//
// Reads (Events, History, Histories, a stream's first Span) read what lies
// at or below the marker (for History: below the key's first local
// version) from the ColdReader (Iceberg) and the rest from Pebble: nothing
// twice at the boundary, and nothing from Iceberg while the deletion has
// not happened (a crash between the floor and the deletion only delays
// it: the next DropTiered finds the events still there). Multi-table tails
// (subscriptions, consumer groups) do not read Iceberg: a position below
// the marker is an error (TierError, SQLSTATE 55000). A materialized view
// over a stream with tiered events cannot be backfilled (its backfill
// reads Pebble inside the sequencer) and is refused (0A000).

// ColdReader reads the events tiering moved out of Pebble.
type ColdReader interface {
	// Events calls fn for every event of td with after < LSN <= upTo, in
	// LSN order.
	Events(td *TableDesc, after, upTo uint64, fn func(e *Event) error) error
	// History calls fn for the versions from..to (inclusive) of one key,
	// among its events with LSN <= upTo, in version order.
	History(td *TableDesc, key []byte, from, to, upTo uint64, fn func(e *Event) error) error
}

// coldSource holds the log's ColdReader; snapshots share it.
type coldSource struct {
	v atomic.Value
	// state holds the reader of columnar copies (columnar.go).
	state stateSource
}

type coldBox struct{ r ColdReader }

func (c *coldSource) reader() ColdReader {
	if c == nil {
		return nil
	}
	b, _ := c.v.Load().(coldBox)
	return b.r
}

// SetColdReader installs the reader of tiered events. Set it before
// serving reads: without one, a read that needs tiered events fails.
func (l *Log) SetColdReader(r ColdReader) { l.cold.v.Store(coldBox{r}) }

// TierError is a read of events that left the local log, where Iceberg
// cannot serve it.
type TierError struct {
	Code string
	Msg  string
	// Err is the ColdReader's failure, if that is the cause.
	Err error
}

func (e *TierError) Error() string    { return e.Msg }
func (e *TierError) SQLState() string { return e.Code }
func (e *TierError) Unwrap() error    { return e.Err }

// RaiseTierFloors records, durably and through the sequencer, that each
// table's events up to its LSN in floors are in durable Iceberg commits and
// may leave Pebble: one catalog change for all of them. A floor lower than
// a table's current one changes nothing; a table dropped meanwhile is
// skipped.
func (l *Log) RaiseTierFloors(ctx context.Context, floors map[TableID]uint64) error {
	if len(floors) == 0 {
		return nil
	}
	in := &Intent{Catalog: func(c *Catalog) error {
		for t, floor := range floors {
			// c is the sequencer's private clone: td may change in place.
			if td, ok := c.Table(t); ok {
				td.TierFloor = max(td.TierFloor, floor)
			}
		}
		return nil
	}}
	if _, err := l.Commit(ctx, in); err != nil {
		return fmt.Errorf("raise the tier floors of %d tables: %w", len(floors), err)
	}
	return nil
}

// dropChunk bounds the events one DropTiered batch removes.
const dropChunk = 1 << 16

// DropTiered deletes from Pebble the given tables' events up to their
// durable tier floors and their keys' version-index entries. It returns how
// many events it removed. It writes beside the sequencer, not through it:
// nothing it deletes is written again (new events and versions sort after
// it); then one empty catalog change publishes a snapshot that holds the
// deletion.
func (l *Log) DropTiered(ctx context.Context, tables ...TableID) (int, error) {
	snap := l.Snapshot()
	cat := snap.cat
	snap.Release()
	total := 0
	for _, t := range tables {
		td, ok := cat.Table(t)
		if !ok || td.TierFloor == 0 || td.Kind == View {
			continue
		}
		for {
			if err := ctx.Err(); err != nil {
				return total, err
			}
			n, err := l.dropTieredChunk(t, td.TierFloor)
			total += n
			if err != nil {
				return total, err
			}
			if n < dropChunk {
				break
			}
		}
	}
	if total > 0 {
		// Readers see only the snapshots the pipeline publishes, and the
		// published one predates the deletion (and pins the deleted data
		// on disk): an empty catalog change publishes one after it.
		if _, err := l.Commit(ctx, &Intent{Catalog: func(*Catalog) error { return nil }}); err != nil {
			return total, fmt.Errorf("publish the drop of tiered events: %w", err)
		}
	}
	return total, nil
}

// dropTieredChunk removes the oldest dropChunk events at or below floor,
// and their keys' versions up to them, in one atomic batch.
func (l *Log) dropTieredChunk(t TableID, floor uint64) (int, error) {
	it, err := l.db.NewIter(&pebble.IterOptions{LowerBound: eventKey(nil, t, 0), UpperBound: eventKey(nil, t, floor+1)})
	if err != nil {
		return 0, fmt.Errorf("drop tiered events of table %d: %w", t, err)
	}
	maxVersion := map[string]uint64{}
	var last uint64
	n := 0
	var e Event
	for valid := it.First(); valid && n < dropChunk; valid = it.Next() {
		v, err := it.ValueAndErr()
		if err == nil {
			err = decodeRecord(it.Key(), v, &e)
		}
		if err != nil {
			it.Close()
			return 0, fmt.Errorf("drop tiered events of table %d: %w", t, err)
		}
		if e.Version > maxVersion[string(e.Key)] {
			maxVersion[string(e.Key)] = e.Version
		}
		last = e.LSN
		n++
	}
	err = it.Error()
	it.Close()
	if err != nil || n == 0 {
		return 0, err
	}
	b := l.db.NewBatch()
	defer b.Close()
	for k, v := range maxVersion {
		if err := b.DeleteRange(versionKey(nil, t, []byte(k), 0), versionKey(nil, t, []byte(k), v+1), nil); err != nil {
			return 0, err
		}
	}
	if err := b.DeleteRange(eventKey(nil, t, 0), eventKey(nil, t, last+1), nil); err != nil {
		return 0, err
	}
	// The marker says exactly which events are gone, in the same batch.
	if err := b.Set(tieredKey(t), binary.BigEndian.AppendUint64(nil, last), nil); err != nil {
		return 0, err
	}
	// Not synced: a deletion lost in a crash is redone by the next call.
	if err := b.Commit(pebble.NoSync); err != nil {
		return 0, fmt.Errorf("drop tiered events of table %d: %w", t, err)
	}
	return n, nil
}

// TierFloor is table t's tier floor as of the snapshot (0: nothing tiered).
func (s *Snapshot) TierFloor(t TableID) uint64 {
	if td, ok := s.cat.Table(t); ok {
		return td.TierFloor
	}
	return 0
}

// LocalEvents counts the events and version-index entries of table t that
// are in Pebble (tiering removes the old ones). It reads them all: for
// status views and tests.
func (s *Snapshot) LocalEvents(t TableID) (events, versions int64, err error) {
	for _, ns := range []byte{nsEvent, nsVersion} {
		lower := appendTable(nil, ns, t)
		it, err := s.snap.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: prefixEnd(lower)})
		if err != nil {
			return 0, 0, err
		}
		var c int64
		for valid := it.First(); valid; valid = it.Next() {
			c++
		}
		err = it.Error()
		it.Close()
		if err != nil {
			return 0, 0, err
		}
		if ns == nsEvent {
			events = c
		} else {
			versions = c
		}
	}
	return events, versions, nil
}

// tieredKey is the meta key holding the LSN of the newest event of table t
// DropTiered deleted: events up to it are gone from Pebble, every later one
// is there.
func tieredKey(t TableID) []byte {
	return binary.BigEndian.AppendUint32([]byte{nsMeta, 't', 'i', 'e', 'r'}, uint32(t))
}

// dropped is the LSN up to which table t's events are gone from Pebble in
// the snapshot (0: none).
func (s *Snapshot) dropped(t TableID) (uint64, error) {
	if s.cat == nil {
		return 0, nil
	}
	if td, ok := s.cat.Table(t); !ok || td.TierFloor == 0 {
		return 0, nil
	}
	k := tieredKey(t)
	v, closer, err := s.snap.Get(k)
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("read tier marker of table %d: %w", t, err)
	}
	defer closer.Close()
	if len(v) != 8 {
		return 0, &CorruptionError{fmt.Sprintf("tier marker of table %d", t), fmt.Sprintf("%d bytes", len(v))}
	}
	return binary.BigEndian.Uint64(v), nil
}

// coldUpTo returns hi > after when table t's events in (after, hi] are
// gone from Pebble (tiered), else 0.
func (s *Snapshot) coldUpTo(t TableID, after uint64) (uint64, error) {
	hi, err := s.dropped(t)
	if err != nil || hi <= after {
		return 0, err
	}
	return hi, nil
}

// checkLocal fails when a tail of tables from after would need events that
// are only in Iceberg.
func (s *Snapshot) checkLocal(tables []TableID, after uint64) error {
	for _, t := range tables {
		hi, err := s.coldUpTo(t, after)
		if err != nil {
			return err
		}
		if hi > 0 {
			name := fmt.Sprintf("table %d", t)
			if td, ok := s.cat.Table(t); ok {
				name = td.Schema + "." + td.Name
			}
			return &TierError{Code: "55000", Msg: fmt.Sprintf(
				"position %d is before the local log of %s: its events up to LSN %d were tiered to Iceberg (local retention); start at LSN %d or later, or read them with SELECT",
				after, name, hi, hi)}
		}
	}
	return nil
}

// cold returns the snapshot's ColdReader, or an error naming the table.
func (s *Snapshot) coldReader(td *TableDesc) (ColdReader, error) {
	if r := s.cold.reader(); r != nil {
		return r, nil
	}
	return nil, &TierError{Code: "55000", Msg: fmt.Sprintf(
		"events of %s.%s up to LSN %d were tiered to Iceberg, and no Iceberg warehouse is configured to read them from",
		td.Schema, td.Name, td.TierFloor)}
}

// readCold runs a ColdReader call with fn as its callback. The callback's
// ErrStop stops it (stopped: the local part is not read either); the
// callback's own error comes back as it was (with its SQLSTATE); a failure
// of the reader (Iceberg unreachable, a file missing) becomes a TierError
// with SQLSTATE 58030 (io_error).
func readCold(td *TableDesc, call func(func(*Event) error) error, fn func(*Event) error) (stopped bool, err error) {
	var fnErr error
	err = call(func(e *Event) error {
		if err := fn(e); err != nil {
			fnErr = err
			return err
		}
		return nil
	})
	switch {
	case fnErr != nil && errors.Is(fnErr, ErrStop):
		return true, nil
	case fnErr != nil:
		return false, fnErr
	case err != nil:
		return false, &TierError{Code: "58030", Err: err, Msg: fmt.Sprintf(
			"read the tiered events of %s.%s from Iceberg: %v", td.Schema, td.Name, err)}
	}
	return false, nil
}

// events is Events: the tiered part from the ColdReader, then Pebble.
func (s *Snapshot) events(t TableID, after uint64, fn func(e *Event) error) error {
	hi, err := s.coldUpTo(t, after)
	if err != nil {
		return err
	}
	if hi > 0 {
		td, _ := s.cat.Table(t)
		r, err := s.coldReader(td)
		if err != nil {
			return err
		}
		stopped, err := readCold(td, func(fn func(*Event) error) error { return r.Events(td, after, hi, fn) }, fn)
		if stopped || err != nil {
			return err
		}
		after = hi
	}
	return s.Tail([]TableID{t}, after, fn)
}

// scanTiered calls fn for the tiered events of stream t, in LSN order:
// the part of a full scan (ScanSpan) that left Pebble. stop reports that fn
// stopped the scan.
func (s *Snapshot) scanTiered(t TableID, fn func(schemaVersion uint32, version uint64, row []byte) error) (stop bool, err error) {
	hi, err := s.coldUpTo(t, 0)
	if err != nil || hi == 0 {
		return false, err
	}
	td, _ := s.cat.Table(t)
	r, err := s.coldReader(td)
	if err != nil {
		return false, err
	}
	return readCold(td, func(fn func(*Event) error) error { return r.Events(td, 0, hi, fn) },
		func(e *Event) error { return fn(e.SchemaVersion, e.Version, e.Row) })
}

// firstLocalVersion is the key's oldest version at or after from whose
// event is still in Pebble (its LSN above gone, the table's tier marker).
// An update that supersedes a version indexes it when it commits, which may
// be after the tiering dropped its event: such entries are skipped here.
func (s *Snapshot) firstLocalVersion(t TableID, key []byte, top *Head, from, gone uint64) (uint64, bool, error) {
	var first uint64
	err := s.localVersions(t, key, top, from, 0, func(v, lsn uint64) error {
		if lsn <= gone {
			return nil
		}
		first = v
		return ErrStop
	})
	if err != nil && !errors.Is(err, ErrStop) {
		return 0, false, err
	}
	return first, first != 0, nil
}

// history is History: versions that left Pebble come from the ColdReader.
func (s *Snapshot) history(t TableID, key []byte, from, to uint64, fn func(e *Event) error) error {
	gone, err := s.dropped(t)
	if err != nil {
		return err
	}
	top, _, err := s.Head(t, key)
	if err != nil {
		return err
	}
	if gone == 0 {
		return s.historyLocal(t, key, &top, from, to, fn)
	}
	td, _ := s.cat.Table(t)
	from = max(from, 1)
	v0, found, err := s.firstLocalVersion(t, key, &top, from, gone)
	if err != nil {
		return err
	}
	if found && v0 == from {
		return s.historyLocal(t, key, &top, from, to, fn)
	}
	// Versions from..v0-1 are not in Pebble: tiered (or never written).
	coldTo := to
	if found && (to == 0 || v0-1 < to) {
		coldTo = v0 - 1
	}
	r, err := s.coldReader(td)
	if err != nil {
		return err
	}
	next := from
	stopped, err := readCold(td, func(fn func(*Event) error) error { return r.History(td, key, from, coldTo, gone, fn) },
		func(e *Event) error {
			next = e.Version + 1
			return fn(e)
		})
	if stopped || err != nil {
		return err
	}
	start := max(next, v0)
	if !found || (to != 0 && start > to) {
		return nil
	}
	return s.historyLocal(t, key, &top, start, to, fn)
}

// Histories calls fn for every version of every key of table t whose key
// starts with prefix (deleted keys included), in key order and, per key,
// in version order: what History of each key returns, with one read of the
// tiered events for all keys instead of one per key.
func (s *Snapshot) Histories(t TableID, prefix []byte, fn func(key []byte, e *Event) error) error {
	var keys [][]byte
	var tops []Head // without rows: only versions and LSNs are read
	if err := s.ScanHeads(t, prefix, true, func(k []byte, h *Head) error {
		keys = append(keys, append([]byte(nil), k...))
		tops = append(tops, Head{Version: h.Version, LSN: h.LSN})
		return nil
	}); err != nil {
		return err
	}
	gone, err := s.dropped(t)
	if err != nil {
		return err
	}
	var cold map[string][]*Event
	if gone > 0 {
		td, _ := s.cat.Table(t)
		// The keys whose oldest versions left Pebble.
		need := map[string]bool{}
		for i, k := range keys {
			v0, found, err := s.firstLocalVersion(t, k, &tops[i], 1, gone)
			if err != nil {
				return err
			}
			if !found || v0 > 1 {
				need[string(k)] = true
			}
		}
		if len(need) > 0 {
			r, err := s.coldReader(td)
			if err != nil {
				return err
			}
			cold = map[string][]*Event{}
			if _, err := readCold(td, func(fn func(*Event) error) error { return r.Events(td, 0, gone, fn) },
				func(e *Event) error {
					if need[string(e.Key)] {
						cold[string(e.Key)] = append(cold[string(e.Key)], e.clone())
					}
					return nil
				}); err != nil {
				return err
			}
		}
	}
	for i, k := range keys {
		next := uint64(1)
		for _, e := range cold[string(k)] {
			if err := fn(k, e); err != nil {
				return stopErr(err)
			}
			next = e.Version + 1
		}
		stopped := false
		err := s.historyLocal(t, k, &tops[i], next, 0, func(e *Event) error {
			if err := fn(k, e); err != nil {
				stopped = errors.Is(err, ErrStop)
				return err
			}
			return nil
		})
		if err != nil || stopped {
			return err
		}
	}
	return nil
}

func stopErr(err error) error {
	if errors.Is(err, ErrStop) {
		return nil
	}
	return err
}

// refuseTieredBackfill stops a view's backfill from a stream whose oldest
// events left Pebble: the backfill reads Pebble inside the commit. The
// tier marker in st catches a descriptor older than the floor (a backfill
// that started before tiering), so no row is ever silently missed.
func refuseTieredBackfill(st HookState, td *TableDesc) error {
	if td.Kind != Stream {
		return nil
	}
	floor := td.TierFloor
	if floor == 0 && st != nil {
		v, closer, err := st.Get(tieredKey(td.ID))
		switch {
		case errors.Is(err, pebble.ErrNotFound):
		case err != nil:
			return fmt.Errorf("read tier marker of %s.%s: %w", td.Schema, td.Name, err)
		default:
			if len(v) == 8 {
				floor = binary.BigEndian.Uint64(v)
			}
			closer.Close()
		}
	}
	if floor == 0 {
		return nil
	}
	return &TierError{Code: "0A000", Msg: fmt.Sprintf(
		"cannot backfill a materialized view from stream %s.%s: its events up to LSN %d were tiered to Iceberg (local retention) and a view is backfilled from the local log; create views over a stream before its events are tiered",
		td.Schema, td.Name, floor)}
}
