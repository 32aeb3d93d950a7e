package log

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/sstable"
)

// A COPY chunk into a table that a materialized view reads is sequenced as
// one ordinary intent (sequenceBulk), so that the view maintainer sees it
// as one delta in the same commit. Applied as a batch, its events, heads
// and the views' rows would go through the WAL and the memtable and then
// be flushed and compacted: for a stream's projection (Nexmark q0), flushes
// and compactions took half of the load's CPU. A large chunk's batch is
// instead written as sorted SSTables, one per key span (tableSpans' spans,
// and a view's kinds of state apart), and ingested atomically, as a chunk
// into a table no view reads is (bulk.go): the events and the views' new
// rows, whose keys only grow, go to the lowest level they fit in. The
// same rules hold: the last LSN is written and synced first (covering every
// batch applied before), the ingest makes the chunk durable at once, and the
// sync goroutine publishes the snapshot taken after it in order.

// sequenceIngested sequences one intent into a batch and commits the batch
// by ingestion (or, when it holds a range deletion, by applying it).
func (l *Log) sequenceIngested(in *Intent) error {
	b := l.db.NewIndexedBatch()
	wrote, err := l.seq.sequence(b, []*Intent{in})
	if err != nil {
		b.Close()
		return fmt.Errorf("sequence bulk chunk: %w", err)
	}
	p := &pendingBatch{cat: l.seq.cat, lsn: l.seq.lastLSN, intents: []*Intent{in}}
	if !wrote {
		b.Close()
		l.toSync <- p
		return nil
	}
	ok, err := l.ingestBatch(b, l.seq.lastLSN)
	switch {
	case err != nil:
		b.Close()
		return err
	case ok:
		b.Close()
		p.snap, p.durable = l.db.NewSnapshot(), true
	default:
		if err := l.db.ApplyNoSyncWait(b, pebble.Sync); err != nil {
			b.Close()
			return fmt.Errorf("apply batch: %w", err)
		}
		p.batch, p.snap = b, l.db.NewSnapshot()
	}
	l.metrics.batchIntents.Observe(1)
	l.toSync <- p
	return nil
}

// ingestBatch writes b's records (but the last LSN, which ingestParts
// writes and syncs beside them) as SSTables, one per key span, and ingests
// them. It reports false, having written nothing, when b holds records
// other than sets and deletes.
func (l *Log) ingestBatch(b *pebble.Batch, last uint64) (bool, error) {
	recs, ok, err := batchRecords(b, nil)
	if err != nil || !ok {
		return false, err
	}
	// Key order; of a key written twice, the later write.
	slices.SortFunc(recs, func(a, b sortedRec) int {
		if c := bytes.Compare(a.key, b.key); c != 0 {
			return c
		}
		return a.ord - b.ord
	})
	wo, noFilter := l.ingestWriterOptions()
	var parts []sstPart
	var run []sortedRec
	for i := range recs {
		if i+1 < len(recs) && bytes.Equal(recs[i].key, recs[i+1].key) || bytes.Equal(recs[i].key, keyLastLSN) {
			continue
		}
		if len(run) > 0 && !bytes.Equal(ingestSpan(run[0].key), ingestSpan(recs[i].key)) {
			parts = append(parts, recordsPart(len(parts), wo, noFilter, run))
			run = nil
		}
		run = append(run, recs[i])
	}
	if len(run) == 0 {
		return false, nil
	}
	parts = append(parts, recordsPart(len(parts), wo, noFilter, run))
	if err := l.ingestParts(last, last, parts); err != nil {
		return false, fmt.Errorf("ingest batch of %d records: %w", len(recs), err)
	}
	return true, nil
}

// recordsPart is the SSTable of a run of sorted records: events are read
// by range or by the LSN a version names, never in vain, so without a
// filter (as bulk.go).
func recordsPart(i int, wo, noFilter sstable.WriterOptions, run []sortedRec) sstPart {
	if run[0].key[0] == nsEvent {
		wo = noFilter
	}
	return sstPart{name: fmt.Sprintf("batch-%03d", i), wo: wo, write: func(w *sstable.Writer) error {
		for _, r := range run {
			var err error
			if r.kind == pebble.InternalKeyKindSet {
				err = w.Set(r.key, r.value)
			} else {
				err = w.Delete(r.key)
			}
			if err != nil {
				return err
			}
		}
		return nil
	}}
}

// ingestSpan is the span of keys an ingested SSTable keeps to: a
// namespace, a table's (or view's) keys in it, and within a view's state
// one kind of it (its output rows, each operator's state).
func ingestSpan(k []byte) []byte {
	switch {
	case len(k) >= 6 && k[0] >= NSHookFirst && k[0] <= NSHookLast:
		return k[:6]
	case len(k) >= 5 && tableScoped(k[0]):
		return k[:5]
	}
	return k[:min(len(k), 1)]
}

// syncLastLSN writes the log's last LSN in a synced batch: the sync also
// makes every batch applied before it durable.
func (l *Log) syncLastLSN(last uint64) error {
	mb := l.db.NewBatch()
	defer mb.Close()
	var lb [8]byte
	putUint64(lb[:], last)
	if err := mb.Set(keyLastLSN, lb[:], nil); err != nil {
		return err
	}
	if err := l.db.Apply(mb, pebble.Sync); err != nil {
		return fmt.Errorf("write last lsn: %w", err)
	}
	return nil
}
