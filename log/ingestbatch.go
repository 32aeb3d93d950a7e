package log

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/objstorage/objstorageprovider"
	"github.com/cockroachdb/pebble/v2/sstable"
	"github.com/cockroachdb/pebble/v2/vfs"
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

// ingestRec is one record of a batch being ingested.
type ingestRec struct {
	kind       pebble.InternalKeyKind
	key, value []byte
	ord        int
}

// ingestBatch writes b's records (but the last LSN, which it writes and
// syncs beside them) as SSTables and ingests them. It reports false, having
// written nothing, when b holds records other than sets and deletes.
func (l *Log) ingestBatch(b *pebble.Batch, last uint64) (bool, error) {
	var recs []ingestRec
	rd := b.Reader()
	for ord := 0; ; ord++ {
		kind, k, v, ok, err := rd.Next()
		if err != nil {
			return false, fmt.Errorf("read batch: %w", err)
		}
		if !ok {
			break
		}
		if kind != pebble.InternalKeyKindSet && kind != pebble.InternalKeyKindDelete {
			return false, nil
		}
		if bytes.Equal(k, keyLastLSN) {
			continue
		}
		recs = append(recs, ingestRec{kind: kind, key: k, value: v, ord: ord})
	}
	// Key order; of a key written twice, the later write.
	slices.SortFunc(recs, func(a, b ingestRec) int {
		if c := bytes.Compare(a.key, b.key); c != 0 {
			return c
		}
		return a.ord - b.ord
	})
	runs := [][]ingestRec{}
	for i := 0; i < len(recs); i++ {
		if i+1 < len(recs) && bytes.Equal(recs[i].key, recs[i+1].key) {
			continue
		}
		if n := len(runs); n == 0 || !bytes.Equal(ingestSpan(runs[n-1][0].key), ingestSpan(recs[i].key)) {
			runs = append(runs, nil)
		}
		runs[len(runs)-1] = append(runs[len(runs)-1], recs[i])
	}
	if len(runs) == 0 {
		return false, nil
	}
	fs := l.fs()
	dir := filepath.Join(l.opts.Dir, bulkDir)
	if err := fs.MkdirAll(dir, 0o755); err != nil {
		return false, fmt.Errorf("ingest batch: %w", err)
	}
	wo := l.pebbleOpts.MakeWriterOptions(0, l.db.TableFormat())
	wo.Compression = bulkCompression
	var wg sync.WaitGroup
	errs := make([]error, len(runs)+1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		errs[len(runs)] = l.syncLastLSN(last)
	}()
	paths := make([]string, len(runs))
	for i, run := range runs {
		paths[i] = filepath.Join(dir, fmt.Sprintf("%020d-batch-%03d.sst", last, i))
		o := wo
		if run[0].key[0] == nsEvent {
			// Events are read by range or by the LSN a version
			// names, never in vain: no filter (as bulk.go).
			o.FilterPolicy = nil
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = writeRecords(fs, paths[i], o, run)
		}()
	}
	wg.Wait()
	defer func() {
		for _, path := range paths {
			_ = fs.Remove(path)
		}
	}()
	if err := errors.Join(errs...); err != nil {
		return false, fmt.Errorf("ingest batch: %w", err)
	}
	if err := l.db.Ingest(context.Background(), paths); err != nil {
		return false, fmt.Errorf("ingest batch of %d records: %w", len(recs), err)
	}
	return true, nil
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

// writeRecords writes sorted records as an SSTable and syncs it.
func writeRecords(fs vfs.FS, path string, wo sstable.WriterOptions, recs []ingestRec) error {
	f, err := fs.Create(path, vfs.WriteCategoryUnspecified)
	if err != nil {
		return err
	}
	w := sstable.NewWriter(objstorageprovider.NewFileWritable(f), wo)
	for _, r := range recs {
		if r.kind == pebble.InternalKeyKindSet {
			err = w.Set(r.key, r.value)
		} else {
			err = w.Delete(r.key)
		}
		if err != nil {
			w.Close()
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}
