package log

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/objstorage/objstorageprovider"
	"github.com/cockroachdb/pebble/v2/sstable"
	"github.com/cockroachdb/pebble/v2/vfs"
)

// Bulk loading: how COPY's chunks become durable.
//
// A Bulk is a chunk of rows for one table, each row already encoded (key
// and row bytes), that commits as one intent: all rows or none, durable
// before the ack, in commit order with every other intent. Every row is an
// insert: into a keyed table with the condition "key must not exist"
// (23505 otherwise, also for a key twice in the chunk), into a stream as
// the key's next event. What makes it cheap is that the sequencer treats
// the chunk as a whole rather than row by row: it sorts the rows by key
// once (a check, when they arrive sorted as bulk loads usually do), finds
// the existing heads of the chunk's keys with one iterator pass over the
// sorted keys (a seek lands on the next existing head, and every chunk key
// before it needs no lookup, so an empty key range costs one seek), and
// writes the events, the version entries of superseded versions and the
// heads in order, without per-row maps, Changes or results.
//
// When the chunk's key range holds no head at all (a fresh table, or keys
// beyond every existing one) and the chunk is large, it does not go through
// the WAL and the memtable at all: it is written as sorted SSTables (heads,
// events, and version entries when a key has several rows: disjoint key
// ranges, so each file overlaps nothing in the memtable), one goroutine
// each, and Pebble ingests them atomically into the lowest level whose
// files they do not overlap. For an ordered load into a new table that is
// the bottom level, also in a log that holds other tables' data, since no
// SSTable spans two tables (tableSpans, keys.go): the rows are never
// flushed or compacted again. The log's last-LSN key is written and synced
// before the ingest (that sync also covers every batch applied before it):
// after a crash between the two, the chunk's LSNs are an unused gap, which
// is harmless, whereas an ingested event above the stored last LSN would
// be reused. The sync goroutine publishes the snapshot taken
// after the ingest in order with the batches around it, and tells live
// subscriptions that they lag, so they read the chunk from that snapshot.
//
// A table that a materialized view reads takes the ordinary path instead:
// the chunk becomes one intent of plain writes, so the view maintainer gets
// it as one large delta inside the same commit. A large chunk's batch (its
// events, heads and the views' state) is then not applied but written as
// SSTables and ingested the same way (ingestbatch.go): the events of a
// stream under a view are not flushed and compacted again either.

// Bulk is a chunk of rows for one table, encoded by the caller (keys with
// the order-preserving key codec, rows with the row codec of SchemaVersion).
type Bulk struct {
	Table TableID
	// SchemaVersion is the version the rows were encoded under; 0 means
	// current.
	SchemaVersion uint32
	data          []byte
	// ends holds, per row, the end of its key and the end of its row in
	// data; a row's key starts where the previous row ends.
	ends []uint32
	// esc holds each key escaped as head and version keys embed it
	// (escEnds[i] is where row i's ends): escaped by the caller's
	// goroutine as rows are added, not on the sequencer's.
	esc     []byte
	escEnds []uint32
}

// Add appends a row; key and row are copied.
func (b *Bulk) Add(key, row []byte) {
	b.data = append(b.data, key...)
	b.ends = append(b.ends, uint32(len(b.data)))
	b.data = append(b.data, row...)
	b.ends = append(b.ends, uint32(len(b.data)))
	b.esc = appendEscaped(b.esc, key)
	b.escEnds = append(b.escEnds, uint32(len(b.esc)))
}

// escaped returns row i's escaped key.
func (b *Bulk) escaped(i int) []byte {
	start := uint32(0)
	if i > 0 {
		start = b.escEnds[i-1]
	}
	return b.esc[start:b.escEnds[i]:b.escEnds[i]]
}

// Len is the number of rows.
func (b *Bulk) Len() int { return len(b.ends) / 2 }

// Size is the number of bytes of keys and rows.
func (b *Bulk) Size() int { return len(b.data) }

// Reset empties the chunk, keeping its memory.
func (b *Bulk) Reset() {
	b.data = b.data[:0]
	b.ends = b.ends[:0]
	b.esc = b.esc[:0]
	b.escEnds = b.escEnds[:0]
}

// Key returns row i's key.
func (b *Bulk) Key(i int) []byte {
	start := uint32(0)
	if i > 0 {
		start = b.ends[2*i-1]
	}
	return b.data[start:b.ends[2*i]:b.ends[2*i]]
}

// Row returns row i's encoded row.
func (b *Bulk) Row(i int) []byte {
	return b.data[b.ends[2*i]:b.ends[2*i+1]:b.ends[2*i+1]]
}

// BulkRowError places a bulk intent's failure on the row (its index in the
// chunk) that caused it: the first one, in chunk order, that the ordinary
// path would have failed on.
type BulkRowError struct {
	Row int
	Err error
}

func (e *BulkRowError) Error() string { return fmt.Sprintf("row %d of the chunk: %v", e.Row, e.Err) }
func (e *BulkRowError) Unwrap() error { return e.Err }

// CommitBulk commits a chunk as one intent and waits until it is durable
// and visible, or failed. The result's Rows is the number of rows appended
// and LSN the last LSN they got (the chunk's rows have consecutive LSNs in
// chunk order). The chunk must not be changed until CommitBulk returns.
func (l *Log) CommitBulk(ctx context.Context, b *Bulk) (*Result, error) {
	if b.Len() == 0 {
		s := l.Snapshot()
		defer s.Release()
		return &Result{LSN: s.LSN()}, nil
	}
	l.bulkAt.Store(b.Table, time.Now())
	in := &Intent{Bulk: b}
	res, err := l.Commit(ctx, in)
	if err != nil {
		return nil, err
	}
	l.bulkAt.Store(b.Table, time.Now())
	if res.Rows == 0 {
		// Committed through the ordinary path (a table with views).
		res.Rows = len(res.Events)
		res.Events = nil
	}
	return res, nil
}

// LastBulk is when table t last began or finished a bulk chunk (COPY)
// since the log was opened, by the wall clock; zero if never. Background
// work (the Iceberg compactor) waits for a load to pause rather than
// convert a table in the middle of it.
func (l *Log) LastBulk(t TableID) time.Time {
	if v, ok := l.bulkAt.Load(t); ok {
		return v.(time.Time)
	}
	return time.Time{}
}

// bulkIngestMin is the smallest chunk written as SSTables: below it the
// three small files would cost more (files to open, a manifest edit, more
// files to compact) than the WAL and memtable path.
const bulkIngestMin = 4096

// bulkPlan is what the sequencer decided for a chunk: the order of its
// keys, the heads they had, their versions and LSNs.
type bulkPlan struct {
	b     *Bulk
	table TableID
	kind  TableKind
	sv    uint32
	// order is the chunk's rows in key order (ties in chunk order); nil
	// when the chunk came sorted.
	order []int32
	// before holds the existing head of each key that has one, by the
	// position (in key order) of the key's first row.
	before map[int]Head
	// ver is each row's version, by row; nil when every row is version 1.
	ver        []uint64
	firstLSN   uint64
	commitTime int64
	// fresh: no head exists in the chunk's key range.
	fresh bool
}

// bulkKey returns the Pebble key of namespace ns for row i's escaped key.
func (p *bulkPlan) bulkKey(dst []byte, ns byte, i int) []byte {
	return append(appendTable(dst, ns, p.table), p.b.escaped(i)...)
}

func (p *bulkPlan) n() int { return p.b.Len() }

// at returns the row at position j in key order.
func (p *bulkPlan) at(j int) int {
	if p.order == nil {
		return j
	}
	return int(p.order[j])
}

func (p *bulkPlan) version(i int) uint64 {
	if p.ver == nil {
		return 1
	}
	return p.ver[i]
}

// viewReads reports whether a materialized view reads table t.
func viewReads(cat *Catalog, t TableID) bool {
	for _, d := range cat.Tables {
		if d.Kind == View && slices.Contains(d.DependsOn, t) {
			return true
		}
	}
	return false
}

// planBulk checks a chunk against the state and plans its writes. It
// returns nil (and no error) when the chunk must take the ordinary path
// because a view reads the table. A failed condition is returned as a
// BulkRowError on the first row, in chunk order, that fails.
func (s *sequencer) planBulk(st HookState, b *Bulk) (*bulkPlan, error) {
	cat := s.cat
	t, ok := cat.Table(b.Table)
	if !ok {
		return nil, &TableError{Table: b.Table, Code: "42P01", Msg: fmt.Sprintf("relation with id %d does not exist", b.Table)}
	}
	if t.Kind == View {
		return nil, &TableError{Table: b.Table, Code: "42809", Msg: fmt.Sprintf("cannot write to materialized view %q", t.Name)}
	}
	sv := b.SchemaVersion
	if sv == 0 {
		sv = t.Current().Version
	} else if t.Version(sv) == nil {
		return nil, &TableError{Table: b.Table, Code: "XX000", Msg: fmt.Sprintf("table %q has no schema version %d", t.Name, sv)}
	}
	if s.hook != nil && viewReads(cat, b.Table) {
		return nil, nil
	}
	n := b.Len()
	p := &bulkPlan{b: b, table: b.Table, kind: t.Kind, sv: sv, firstLSN: s.lastLSN + 1, commitTime: s.now(), fresh: true}
	for i := 1; i < n; i++ {
		if bytes.Compare(b.Key(i-1), b.Key(i)) > 0 {
			p.order = make([]int32, n)
			for j := range p.order {
				p.order[j] = int32(j)
			}
			slices.SortFunc(p.order, func(x, y int32) int {
				if c := bytes.Compare(b.Key(int(x)), b.Key(int(y))); c != 0 {
					return c
				}
				return int(x) - int(y)
			})
			break
		}
	}

	// One pass over the sorted keys finds their existing heads.
	lower := p.bulkKey(nil, nsHead, p.at(0))
	upper := append(p.bulkKey(nil, nsHead, p.at(n-1)), 0)
	it, err := st.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, fatalError{fmt.Errorf("bulk: read heads of table %d: %w", b.Table, err)}
	}
	defer it.Close()
	fail := -1 // the first failing row, in chunk order
	var failErr error
	conflict := func(i int, key []byte, cur Head) {
		if fail < 0 || i < fail {
			fail = i
			failErr = &ConflictError{Table: b.Table, Key: append([]byte(nil), key...), Cond: Cond{Kind: NotExists}, Current: cur}
		}
	}
	var hk []byte
	valid := it.First()
	err = p.keyRuns(func(j, end int) error {
		i := p.at(j)
		key := b.Key(i)
		var before Head
		if valid {
			hk = p.bulkKey(hk[:0], nsHead, i)
			c := bytes.Compare(it.Key(), hk)
			if c < 0 {
				valid = it.SeekGE(hk)
				if valid {
					c = bytes.Compare(it.Key(), hk)
				}
			}
			if valid && c == 0 {
				p.fresh = false
				v, err := it.ValueAndErr()
				if err != nil {
					return fatalError{fmt.Errorf("bulk: read head %s: %w", describeKey(hk), err)}
				}
				if err := decodeHead(hk, v, &before); err != nil {
					// A corrupt head fails this chunk, not the log.
					return &BulkRowError{Row: i, Err: err}
				}
				before.Row = nil
				if p.before == nil {
					p.before = map[int]Head{}
				}
				p.before[j] = before
			}
		}
		if t.Kind == Keyed {
			if before.Live() {
				conflict(i, key, before)
			}
			if end > j+1 {
				// The key's second row in chunk order fails, against
				// the first as the ordinary path would have left it.
				conflict(p.at(j+1), key, Head{Version: before.Version + 1, LSN: p.firstLSN + uint64(i), FirstVersion: max(before.FirstVersion, 1)})
			}
		}
		if before.Version > 0 || end > j+1 {
			if p.ver == nil {
				p.ver = make([]uint64, n)
				for x := range p.ver {
					p.ver[x] = 1
				}
			}
			for x := j; x < end; x++ {
				p.ver[p.at(x)] = before.Version + uint64(x-j) + 1
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := it.Error(); err != nil {
		return nil, fatalError{fmt.Errorf("bulk: read heads of table %d: %w", b.Table, err)}
	}
	if fail >= 0 {
		return nil, &BulkRowError{Row: fail, Err: failErr}
	}
	return p, nil
}

// bulkWriter is where a plan's key-value pairs go: a batch or an SSTable.
type bulkWriter func(key, value []byte) error

// writeEvents writes the chunk's events in LSN (chunk) order.
func (p *bulkPlan) writeEvents(w bulkWriter) error {
	var kb, vb []byte
	op := OpInsert
	if p.kind == Stream {
		op = OpAppend
	}
	ev := Event{Table: p.table, Op: op, SchemaVersion: p.sv, CommitTime: p.commitTime}
	for i := 0; i < p.n(); i++ {
		ev.Key, ev.Row, ev.Version, ev.LSN = p.b.Key(i), p.b.Row(i), p.version(i), p.firstLSN+uint64(i)
		kb = eventKey(kb[:0], p.table, ev.LSN)
		vb = encodeRecord(vb, &ev)
		if err := w(kb, vb); err != nil {
			return fmt.Errorf("write event: %w", err)
		}
	}
	return nil
}

// writeVersions writes the chunk's version entries in key order: the
// version index holds every version of a key but its newest (the head's),
// so a key gets entries for the version it had before the chunk and for
// each of its rows in the chunk but the last.
func (p *bulkPlan) writeVersions(w bulkWriter) error {
	var kb, vb []byte
	put := func(i int, v, lsn uint64) error {
		kb = binary.BigEndian.AppendUint64(p.bulkKey(kb[:0], nsVersion, i), v)
		vb = encodeVersionValue(vb, lsn)
		if err := w(kb, vb); err != nil {
			return fmt.Errorf("write version: %w", err)
		}
		return nil
	}
	return p.keyRuns(func(first, end int) error {
		if before := p.before[first]; before.Version > 0 {
			if err := put(p.at(first), before.Version, before.LSN); err != nil {
				return err
			}
		}
		for j := first; j < end-1; j++ {
			i := p.at(j)
			if err := put(i, p.version(i), p.firstLSN+uint64(i)); err != nil {
				return err
			}
		}
		return nil
	})
}

// hasVersions reports whether writeVersions writes anything: only when a
// key had a head already or has several rows in the chunk, which is also
// when rows get versions other than 1.
func (p *bulkPlan) hasVersions() bool { return p.ver != nil }

// writeHeads writes each key's head, as its last row in the chunk leaves
// it, in key order.
func (p *bulkPlan) writeHeads(w bulkWriter) error {
	var kb, vb []byte
	return p.keyRuns(func(first, end int) error {
		i := p.at(end - 1)
		before := p.before[first]
		h := Head{Version: p.version(i), LSN: p.firstLSN + uint64(i), FirstVersion: max(before.FirstVersion, 1)}
		if p.kind == Keyed {
			h.SchemaVersion, h.Row = p.sv, p.b.Row(i)
		}
		kb = p.bulkKey(kb[:0], nsHead, i)
		vb = encodeHead(vb, &h)
		if err := w(kb, vb); err != nil {
			return fmt.Errorf("write head: %w", err)
		}
		return nil
	})
}

// keyRuns calls fn with each key's rows, positions first..end-1 in key
// order (the chunk order among rows of one key), key after key.
func (p *bulkPlan) keyRuns(fn func(first, end int) error) error {
	n := p.n()
	for first := 0; first < n; {
		key := p.b.Key(p.at(first))
		end := first + 1
		for end < n && bytes.Equal(p.b.Key(p.at(end)), key) {
			end++
		}
		if err := fn(first, end); err != nil {
			return err
		}
		first = end
	}
	return nil
}

// sequenceBulk commits one bulk intent: planned by the sequencer, then
// written as SSTables and ingested, or as one batch into the pipeline.
func (l *Log) sequenceBulk(in *Intent) error {
	if err := l.broken(); err != nil {
		return err
	}
	s := l.seq
	p, err := s.planBulk(l.db, in.Bulk)
	if err != nil {
		if isFatal(err) {
			return err
		}
		in.err = err
		l.toSync <- &pendingBatch{cat: s.cat, lsn: s.lastLSN, intents: []*Intent{in}}
		return nil
	}
	if p == nil {
		// A view reads the table: one ordinary intent of plain writes,
		// which a large chunk commits by ingestion (ingestBatch).
		b := in.Bulk
		in.Writes = make([]Write, b.Len())
		cond := Cond{Kind: NotExists}
		if t, _ := s.cat.Table(b.Table); t != nil && t.Kind == Stream {
			cond = Cond{}
		}
		for i := range in.Writes {
			in.Writes[i] = Write{Table: b.Table, Key: b.Key(i), Cond: cond, SchemaVersion: b.SchemaVersion, Row: b.Row(i)}
		}
		if b.Len() >= bulkIngestMin {
			return l.sequenceIngested(in)
		}
		return l.sequenceRun([]*Intent{in})
	}
	if f := s.filter; f != nil {
		// The chunk's heads are written (or ingested) without going
		// through the filter.
		f.addBulk(p.table, p.n())
	}
	last := p.firstLSN + uint64(p.n()) - 1
	if p.fresh && p.n() >= bulkIngestMin {
		if err := l.ingestBulk(p, last); err != nil {
			return err
		}
		s.lastLSN = last
		in.result = Result{LSN: last, Rows: p.n()}
		l.toSync <- &pendingBatch{snap: l.db.NewSnapshot(), durable: true, cat: s.cat, lsn: last, intents: []*Intent{in}}
		l.metrics.batchIntents.Observe(1)
		return nil
	}
	// About two keys and two copies of each row, plus the batch's
	// per-record overhead.
	b := l.db.NewBatchWithSize(3*in.Bulk.Size() + 100*p.n())
	set := func(k, v []byte) error { return b.Set(k, v, nil) }
	err = p.writeEvents(set)
	if err == nil {
		err = p.writeVersions(set)
	}
	if err == nil {
		err = p.writeHeads(set)
	}
	if err == nil {
		var lb [8]byte
		putUint64(lb[:], last)
		err = b.Set(keyLastLSN, lb[:], nil)
	}
	if err != nil {
		b.Close()
		return fmt.Errorf("bulk: %w", err)
	}
	if err := l.db.ApplyNoSyncWait(b, pebble.Sync); err != nil {
		b.Close()
		return fmt.Errorf("bulk: apply batch: %w", err)
	}
	s.lastLSN = last
	in.result = Result{LSN: last, Rows: p.n()}
	l.toSync <- &pendingBatch{batch: b, snap: l.db.NewSnapshot(), cat: s.cat, lsn: last, intents: []*Intent{in}}
	l.metrics.batchIntents.Observe(1)
	return nil
}

// bulkCompression is the block compression of ingested chunks.
var bulkCompression = sstable.SnappyCompression

// bulkDir is where chunks are written as SSTables before Pebble links them
// into its own directory.
const bulkDir = "bulk"

// ingestBulk writes a fresh chunk as two or three SSTables (heads, events,
// and versions when any key has more than one row) and ingests them.
func (l *Log) ingestBulk(p *bulkPlan, last uint64) error {
	// Only heads keep the bloom filter: they take the point reads of keys
	// that may not exist (INSERT's check). Version entries are read by
	// range, events by the LSN a version entry names, never in vain.
	wo, noFilter := l.ingestWriterOptions()
	parts := []sstPart{
		{"heads", wo, func(w *sstable.Writer) error { return p.writeHeads(w.Set) }},
		{"events", noFilter, func(w *sstable.Writer) error { return p.writeEvents(w.Set) }},
	}
	if p.hasVersions() {
		// Pebble refuses to ingest an empty SSTable.
		parts = append(parts, sstPart{"versions", noFilter, func(w *sstable.Writer) error { return p.writeVersions(w.Set) }})
	}
	if err := l.ingestParts(p.firstLSN, last, parts); err != nil {
		return fmt.Errorf("bulk: ingest %d rows: %w", p.n(), err)
	}
	return nil
}

// ingestWriterOptions are the options of ingested SSTables, with the
// log's bloom filter and without it.
func (l *Log) ingestWriterOptions() (wo, noFilter sstable.WriterOptions) {
	wo = l.pebbleOpts.MakeWriterOptions(0, l.db.TableFormat())
	wo.Compression = bulkCompression
	noFilter = wo
	noFilter.FilterPolicy = nil
	return wo, noFilter
}

// sstPart is one SSTable of an ingest: its name (in its file's name), its
// writer options, and what it holds, in key order.
type sstPart struct {
	name  string
	wo    sstable.WriterOptions
	write func(w *sstable.Writer) error
}

// ingestParts writes parts as SSTables, one goroutine each, and ingests
// them atomically. The last LSN is written and synced (see the comment at
// the top) while the files are written: the fsync overlaps their CPU work.
func (l *Log) ingestParts(first, last uint64, parts []sstPart) error {
	fs := l.fs()
	dir := filepath.Join(l.opts.Dir, bulkDir)
	if err := fs.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	var wg sync.WaitGroup
	errs := make([]error, len(parts)+1)
	wg.Add(1)
	go func() {
		defer wg.Done()
		errs[len(parts)] = l.syncLastLSN(last)
	}()
	paths := make([]string, len(parts))
	for k, part := range parts {
		paths[k] = filepath.Join(dir, fmt.Sprintf("%020d-%s.sst", first, part.name))
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[k] = writeSST(fs, paths[k], part.wo, part.write)
		}()
	}
	wg.Wait()
	defer func() {
		for _, path := range paths {
			_ = fs.Remove(path)
		}
	}()
	if err := errors.Join(errs...); err != nil {
		return err
	}
	return l.db.Ingest(context.Background(), paths)
}

// writeSST writes one sorted run of key-value pairs as an SSTable and syncs
// it.
func writeSST(fs vfs.FS, path string, wo sstable.WriterOptions, write func(w *sstable.Writer) error) error {
	f, err := fs.Create(path, vfs.WriteCategoryUnspecified)
	if err != nil {
		return err
	}
	w := sstable.NewWriter(objstorageprovider.NewFileWritable(f), wo)
	if err := write(w); err != nil {
		w.Close()
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	return nil
}

// fs is the file system Pebble uses.
func (l *Log) fs() vfs.FS {
	if l.pebbleOpts != nil && l.pebbleOpts.FS != nil {
		return l.pebbleOpts.FS
	}
	return vfs.Default
}

// removeBulkLeftovers deletes SSTables a crash left before their ingest.
func removeBulkLeftovers(fs vfs.FS, dir string) {
	_ = fs.RemoveAll(filepath.Join(dir, bulkDir))
}

// enqueueGap tells the router that a published commit's events are not in
// a batch it can read (an ingested chunk): every subscriber lags and reads
// them from the snapshot.
func (r *router) enqueueGap(cat *Catalog, lsn uint64) {
	r.q.Lock()
	if !r.q.closed {
		r.q.items = append(r.q.items, routeItem{cat: cat, lsn: lsn})
	}
	r.q.Unlock()
	select {
	case r.ready <- struct{}{}:
	default:
	}
}
