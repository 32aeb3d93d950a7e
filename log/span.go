package log

import (
	"bytes"
	"errors"
	"fmt"
	"sort"

	"github.com/cockroachdb/pebble/v2"
)

// A Span is a contiguous part of one table's rows, so that a scan of the
// whole table can be divided between goroutines: a range of a keyed
// table's key heads, or of a stream's events. The spans SplitRows returns
// cover the table exactly, in order, whatever snapshot reads them.
type Span struct {
	kind         TableKind
	table        TableID
	lower, upper []byte
}

// SplitRows divides the rows of td into at most n spans of about the same
// size, in key order (LSN order for a stream). The cuts are the bounds of
// the table's sstables (weighted by their size), read from the database's
// current state: an estimate that only decides how even the spans are, not
// which rows a scan sees. A table that lives in the memtables is one span.
func (l *Log) SplitRows(td *TableDesc, n int) []Span {
	ns := nsHead
	if td.Kind == Stream {
		ns = nsEvent
	}
	lower := appendTable(nil, ns, td.ID)
	upper := prefixEnd(lower)
	whole := []Span{{kind: td.Kind, table: td.ID, lower: lower, upper: upper}}
	if n <= 1 {
		return whole
	}
	levels, err := l.db.SSTables(pebble.WithKeyRangeFilter(lower, upper))
	if err != nil {
		return whole
	}
	type bound struct {
		key  []byte
		size uint64
	}
	var bounds []bound
	var total uint64
	for _, level := range levels {
		for _, f := range level {
			k := f.Smallest.UserKey
			if bytes.Compare(k, lower) <= 0 || bytes.Compare(k, upper) >= 0 {
				k = nil // starts before the table: its size still counts
			}
			bounds = append(bounds, bound{key: k, size: f.Size})
			total += f.Size
		}
	}
	sort.Slice(bounds, func(i, j int) bool { return bytes.Compare(bounds[i].key, bounds[j].key) < 0 })
	var out []Span
	from := lower
	var acc uint64
	for _, b := range bounds {
		// A cut at b.key puts the files before it in the span that ends.
		if b.key != nil && acc >= total/uint64(n)*uint64(len(out)+1) && bytes.Compare(b.key, from) > 0 && len(out) < n-1 {
			out = append(out, Span{kind: td.Kind, table: td.ID, lower: from, upper: b.key})
			from = b.key
		}
		acc += b.size
	}
	return append(out, Span{kind: td.Kind, table: td.ID, lower: from, upper: upper})
}

// ScanSpan calls fn for every live row in sp as of the snapshot, in order:
// the schema version it was written under, its version and its encoded
// row (valid only during the call). It reads neither the key nor deleted
// keys, which makes it the fast path of full-table scans.
func (s *Snapshot) ScanSpan(sp Span, fn func(schemaVersion uint32, version uint64, row []byte) error) error {
	if sp.kind == Stream && bytes.Equal(sp.lower, appendTable(nil, nsEvent, sp.table)) {
		// A stream's first span starts with its tiered events (retention.go).
		if stop, err := s.scanTiered(sp.table, fn); stop || err != nil {
			return err
		}
	}
	it, err := s.snap.NewIter(&pebble.IterOptions{LowerBound: sp.lower, UpperBound: sp.upper})
	if err != nil {
		return fmt.Errorf("scan table %d: %w", sp.table, err)
	}
	defer it.Close()
	if sp.kind == Stream {
		var e Event
		for valid := it.First(); valid; valid = it.Next() {
			v, err := it.ValueAndErr()
			if err != nil {
				return fmt.Errorf("scan %s: %w", describeKey(it.Key()), err)
			}
			if err := decodeRecord(it.Key(), v, &e); err != nil {
				return err
			}
			if err := fn(e.SchemaVersion, e.Version, e.Row); err != nil {
				if errors.Is(err, ErrStop) {
					return nil
				}
				return err
			}
		}
		return it.Error()
	}
	var h Head
	for valid := it.First(); valid; valid = it.Next() {
		v, err := it.ValueAndErr()
		if err != nil {
			return fmt.Errorf("scan %s: %w", describeKey(it.Key()), err)
		}
		if err := decodeHead(it.Key(), v, &h); err != nil {
			return err
		}
		if h.Tombstone {
			continue
		}
		if err := fn(h.SchemaVersion, h.Version, h.Row); err != nil {
			if errors.Is(err, ErrStop) {
				return nil
			}
			return err
		}
	}
	return it.Error()
}
