package log

import (
	"container/heap"
	"encoding/binary"
	"errors"
	"fmt"
	"sync/atomic"

	"github.com/cockroachdb/pebble/v2"
)

// Snapshot is a consistent, durable state of the log: everything committed
// up to LSN(), nothing after. Methods that take a callback pass values that
// are valid only during the call (copy what you keep); a callback's error
// stops the iteration and is returned (use ErrStop to stop without error).
type Snapshot struct {
	snap *pebble.Snapshot
	cat  *Catalog
	lsn  uint64
	// pub numbers the snapshots the log published, from 1 after Open.
	pub  uint64
	refs atomic.Int32
	// cold reads tiered events (retention.go).
	cold *coldSource
}

// ErrStop stops an iteration early without an error.
var ErrStop = errors.New("stop iteration")

// Release gives the snapshot back; it must not be used afterwards.
func (s *Snapshot) Release() {
	if s.refs.Add(-1) == 0 {
		s.snap.Close()
	}
}

// Retain takes one more reference to the snapshot (each is given back with
// Release), so that it outlives the call that lent it.
func (s *Snapshot) Retain() *Snapshot {
	s.refs.Add(1)
	return s
}

// LSN is the last commit position the snapshot contains.
func (s *Snapshot) LSN() uint64 { return s.lsn }

// Publication numbers the durable states the log published since it was
// opened, in order: unlike the LSN it grows with every batch, also one that
// only a commit hook wrote (a view's backfill step or clock tick).
func (s *Snapshot) Publication() uint64 { return s.pub }

// Catalog is the catalog as of the snapshot.
func (s *Snapshot) Catalog() *Catalog { return s.cat }

// Head returns a key's head; ok is false when the key was never written.
// The returned row is a copy.
func (s *Snapshot) Head(t TableID, key []byte) (h Head, ok bool, err error) {
	hk := headKey(nil, t, key)
	v, closer, err := s.snap.Get(hk)
	if errors.Is(err, pebble.ErrNotFound) {
		return Head{}, false, nil
	}
	if err != nil {
		return Head{}, false, fmt.Errorf("read head %s: %w", describeKey(hk), err)
	}
	defer closer.Close()
	if err := decodeHead(hk, v, &h); err != nil {
		return Head{}, false, err
	}
	if h.Row != nil {
		h.Row = append([]byte(nil), h.Row...)
	}
	return h, true, nil
}

// ScanHeads calls fn for every key of table t whose key starts with prefix
// (nil: all keys), in key order. Tombstones are skipped unless withDeleted.
func (s *Snapshot) ScanHeads(t TableID, prefix []byte, withDeleted bool, fn func(key []byte, h *Head) error) error {
	lower := appendEscapedPrefix(appendTable(nil, nsHead, t), prefix)
	it, err := s.snap.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: prefixEnd(lower)})
	if err != nil {
		return fmt.Errorf("scan table %d: %w", t, err)
	}
	defer it.Close()
	var h Head
	for valid := it.First(); valid; valid = it.Next() {
		k := it.Key()
		v, err := it.ValueAndErr()
		if err != nil {
			return fmt.Errorf("scan %s: %w", describeKey(k), err)
		}
		if err := decodeHead(k, v, &h); err != nil {
			return err
		}
		if h.Tombstone && !withDeleted {
			continue
		}
		uk, _, err := decodeEscaped(k[5:])
		if err != nil {
			return &CorruptionError{describeKey(k), err.Error()}
		}
		if err := fn(uk, &h); err != nil {
			if errors.Is(err, ErrStop) {
				return nil
			}
			return err
		}
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("scan table %d: %w", t, err)
	}
	return nil
}

// History calls fn for the versions from..to (inclusive; to 0 = latest) of
// one key, in version order. Tiered versions come from Iceberg.
func (s *Snapshot) History(t TableID, key []byte, from, to uint64, fn func(e *Event) error) error {
	return s.history(t, key, from, to, fn)
}

// localVersions calls fn with the versions from..to (inclusive; to 0 =
// latest) of one key that Pebble holds, in version order, and their LSNs.
// The version index holds every version but the newest, whose LSN is in the
// head (top; zero when the key has none); data written before that rule
// also indexes the newest, which is reported once.
func (s *Snapshot) localVersions(t TableID, key []byte, top *Head, from, to uint64, fn func(v, lsn uint64) error) error {
	prefix := appendEscaped(appendTable(nil, nsVersion, t), key)
	lower := binary.BigEndian.AppendUint64(append([]byte(nil), prefix...), from)
	upper := prefixEnd(prefix)
	if to != 0 && to < ^uint64(0) {
		upper = binary.BigEndian.AppendUint64(append([]byte(nil), prefix...), to+1)
	}
	it, err := s.snap.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return fmt.Errorf("history of table %d key %q: %w", t, key, err)
	}
	defer it.Close()
	var last uint64
	for valid := it.First(); valid; valid = it.Next() {
		k := it.Key()
		if len(k) != len(prefix)+8 {
			return &CorruptionError{describeKey(k), "bad version key"}
		}
		lsn, err := decodeVersionValue(k, it.Value())
		if err != nil {
			return err
		}
		last = binary.BigEndian.Uint64(k[len(prefix):])
		if err := fn(last, lsn); err != nil {
			return err
		}
	}
	if err := it.Error(); err != nil {
		return fmt.Errorf("history of table %d key %q: %w", t, key, err)
	}
	if top.Version > last && top.Version >= from && (to == 0 || top.Version <= to) {
		return fn(top.Version, top.LSN)
	}
	return nil
}

// historyLocal is History from Pebble alone; top is the key's head.
func (s *Snapshot) historyLocal(t TableID, key []byte, top *Head, from, to uint64, fn func(e *Event) error) error {
	var e Event
	ek := make([]byte, 0, 13)
	err := s.localVersions(t, key, top, from, to, func(v, lsn uint64) error {
		ek = eventKey(ek[:0], t, lsn)
		val, closer, err := s.snap.Get(ek)
		if err != nil {
			if errors.Is(err, pebble.ErrNotFound) {
				return &CorruptionError{describeKey(versionKey(nil, t, key, v)), fmt.Sprintf("version points at missing event lsn %d", lsn)}
			}
			return fmt.Errorf("read %s: %w", describeKey(ek), err)
		}
		defer closer.Close()
		if err := decodeRecord(ek, val, &e); err != nil {
			return err
		}
		return fn(&e)
	})
	if errors.Is(err, ErrStop) {
		return nil
	}
	return err
}

// Events calls fn for every event of table t with LSN > after, in LSN order.
// For a stream this is its rows; for any table it is its change log.
// Tiered events come from Iceberg.
func (s *Snapshot) Events(t TableID, after uint64, fn func(e *Event) error) error {
	return s.events(t, after, fn)
}

// Tail calls fn for every event of the given tables with LSN > after, in
// global commit order (LSN), merging the tables' logs. Events that were
// tiered out of Pebble are not read: a TierError says so.
func (s *Snapshot) Tail(tables []TableID, after uint64, fn func(e *Event) error) error {
	if err := s.checkLocal(tables, after); err != nil {
		return err
	}
	h := make(tailHeap, 0, len(tables))
	defer func() {
		for _, c := range h {
			c.it.Close()
		}
	}()
	for _, t := range tables {
		lower := eventKey(nil, t, after+1)
		if after == ^uint64(0) {
			continue
		}
		it, err := s.snap.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: prefixEnd(appendTable(nil, nsEvent, t))})
		if err != nil {
			return fmt.Errorf("tail table %d: %w", t, err)
		}
		if !it.First() {
			err := it.Error()
			it.Close()
			if err != nil {
				return fmt.Errorf("tail table %d: %w", t, err)
			}
			continue
		}
		h = append(h, &tailCursor{it: it})
	}
	heap.Init(&h)
	var e Event
	for len(h) > 0 {
		c := h[0]
		k := c.it.Key()
		v, err := c.it.ValueAndErr()
		if err != nil {
			return fmt.Errorf("tail %s: %w", describeKey(k), err)
		}
		if err := decodeRecord(k, v, &e); err != nil {
			return err
		}
		if err := fn(&e); err != nil {
			if errors.Is(err, ErrStop) {
				return nil
			}
			return err
		}
		if c.it.Next() {
			heap.Fix(&h, 0)
		} else {
			if err := c.it.Error(); err != nil {
				return err
			}
			c.it.Close()
			heap.Pop(&h)
		}
	}
	return nil
}

type tailCursor struct{ it *pebble.Iterator }

// tailHeap orders cursors by the LSN of their current event.
type tailHeap []*tailCursor

func (h tailHeap) Len() int { return len(h) }
func (h tailHeap) Less(i, j int) bool {
	return binary.BigEndian.Uint64(h[i].it.Key()[5:]) < binary.BigEndian.Uint64(h[j].it.Key()[5:])
}
func (h tailHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *tailHeap) Push(x any)   { *h = append(*h, x.(*tailCursor)) }
func (h *tailHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}

// ScanRange calls fn for every key in [start, end) of the hook namespaces
// (view state), in key order. Keys and values are valid during the call.
func (s *Snapshot) ScanRange(start, end []byte, fn func(k, v []byte) error) error {
	return scanRange(s.snap, start, end, fn)
}

type iterSource interface {
	NewIter(o *pebble.IterOptions) (*pebble.Iterator, error)
}

// ScanRangeSeek is ScanRange where fn may return a key to go on from
// instead of the next key: the scan moves to the first key at or after
// it (a seek of the same iterator, which costs less than a new scan).
func (s *Snapshot) ScanRangeSeek(start, end []byte, fn func(k, v []byte) (seek []byte, err error)) error {
	return scanRangeSeek(s.snap, start, end, fn)
}

func scanRange(src iterSource, start, end []byte, fn func(k, v []byte) error) error {
	return scanRangeSeek(src, start, end, func(k, v []byte) ([]byte, error) { return nil, fn(k, v) })
}

func scanRangeSeek(src iterSource, start, end []byte, fn func(k, v []byte) ([]byte, error)) error {
	if len(start) == 0 || start[0] < NSHookFirst || start[0] > NSHookLast {
		return fmt.Errorf("scan outside the hook namespaces: %x", start)
	}
	it, err := src.NewIter(&pebble.IterOptions{LowerBound: start, UpperBound: end})
	if err != nil {
		return err
	}
	defer it.Close()
	for valid := it.First(); valid; {
		v, err := it.ValueAndErr()
		if err != nil {
			return err
		}
		seek, err := fn(it.Key(), v)
		if err != nil {
			if errors.Is(err, ErrStop) {
				return nil
			}
			return err
		}
		if seek != nil {
			valid = it.SeekGE(seek)
		} else {
			valid = it.Next()
		}
	}
	return it.Error()
}

// ScanHookRange is ScanRange over a commit hook's state.
func ScanHookRange(st HookState, start, end []byte, fn func(k, v []byte) error) error {
	return scanRange(st, start, end, fn)
}
