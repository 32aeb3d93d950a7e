package iceberg

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	icebergio "github.com/apache/iceberg-go/io"

	"github.com/strand-db/strand/log"
)

// fileSet writes the Parquet files of one commit. Scanning the log into
// Arrow records and encoding them as Parquet run in parallel: a scanner
// hands each full record to its filePart, whose writer goroutine appends
// it as a row group to the part's open file until the file reaches the
// target size (Options.TargetFileSize, or FileRows rows when set), then
// starts the next. The compactor's scan feeds the first part; for a large
// range of events, scanEvents adds a second scanner and part that work
// from the other end of the range (see scanEvents), so two cores encode.
// Files are written through the table's Iceberg FileIO (a local folder or
// S3) and synced before the commit may refer to them. Unless keep is
// called, abort removes them.
type fileSet struct {
	ctx      context.Context
	c        *Compactor
	tg       *target
	from, to uint64

	fs   icebergio.WriteFileIO
	kept bool
	// err is a setup error: nothing can be written.
	err error
	// alive, when set, is asked before each full batch is sent: an error
	// (the table was dropped) ends the scan.
	alive func() error
	// seq numbers the files of the commit across parts.
	seq atomic.Int32

	// first is the part of the compactor's own scan; parts.list holds it
	// and the part of scanEvents' second scanner, if any.
	first *filePart
	parts struct {
		sync.Mutex
		list []*filePart
	}
}

// filePart is one writer goroutine and the files it writes, each covering
// a contiguous range of the commit's LSNs.
type filePart struct {
	f *fileSet
	// props are made from the first record's schema.
	props *parquet.WriterProperties

	// recs feeds the writer goroutine; done is closed when it ends.
	recs    chan arrow.RecordBatch
	done    chan struct{}
	started bool
	closed  bool
	// err, files and written belong to the writer goroutine until done
	// is closed. written lists the closed files of a partitioned table.
	err     error
	files   []string
	written []writtenFile

	// part splits records by partition (nil: unpartitioned); open holds
	// the open file of each partition ("" when unpartitioned).
	part *partitioner
	open map[string]*openFile
}

// openFile is a data file being written.
type openFile struct {
	path   string
	out    icebergio.FileWriter
	n      *countingWriter
	w      *pqarrow.FileWriter
	rows   int
	values map[int]any
}

func (c *Compactor) newFileSet(ctx context.Context, tg *target, from, to uint64) *fileSet {
	fs := &fileSet{ctx: ctx, c: c, tg: tg, from: from, to: to}
	fs.first = fs.newPart()
	ifs, err := tg.tbl.FS(ctx)
	if err != nil {
		fs.err = err
		return fs
	}
	wfs, ok := ifs.(icebergio.WriteFileIO)
	if !ok {
		fs.err = fmt.Errorf("%s: file IO %T cannot write", identString(tg.ident), ifs)
		return fs
	}
	fs.fs = wfs
	return fs
}

func (f *fileSet) newPart() *filePart {
	p := &filePart{f: f, recs: make(chan arrow.RecordBatch, 1), done: make(chan struct{}), open: map[string]*openFile{}}
	f.parts.Lock()
	f.parts.list = append(f.parts.list, p)
	f.parts.Unlock()
	return p
}

// parquetProps are the writer settings of the compactor's data files.
//
// Integer, date, time and timestamp columns (the system columns _version,
// _lsn and _commit_time among them) are written DELTA_BINARY_PACKED
// without a dictionary: the system columns rise almost monotonically, so
// their deltas pack into a few bits, and ids, amounts and times of events
// mostly have too many distinct values for a dictionary, whose hash table
// insert per value was then wasted until the writer fell back to plain
// encoding. Packed, the columns leave little for zstd to do: encoding
// BenchmarkCompact's rows got three times faster and the files 40% smaller
// than with dictionary-or-plain pages (BenchmarkParquetEncode,
// bench/README.md). Readers:
// pyarrow, iceberg-go, Spark's own Parquet reader (3.3+), Trino and DuckDB
// read it; Iceberg's vectorized Spark reader since Iceberg 1.10 (older
// runtimes need spark.sql.iceberg.vectorization.enabled=false). Other
// columns keep the dictionary, which pays off for the repetitive strings
// events usually carry, but fall back to plain encoding once their
// dictionary reaches dictPageLimit instead of Parquet's default 1 MiB.
// Zstd at its fastest level compresses better than Snappy at about the
// same speed. Each Arrow record is one row group (Options.BatchRows rows).
func parquetProps(o Options, schema *arrow.Schema) *parquet.WriterProperties {
	props := []parquet.WriterProperty{
		parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithCompressionLevel(1),
		parquet.WithDictionaryPageSizeLimit(dictPageLimit),
		parquet.WithMaxRowGroupLength(int64(o.BatchRows)),
		parquet.WithCreatedBy(createdBy),
	}
	for _, fd := range schema.Fields() {
		switch fd.Type.ID() {
		case arrow.INT32, arrow.INT64, arrow.DATE32, arrow.TIME64, arrow.TIMESTAMP:
			path := parquet.ColumnPath{fd.Name}
			props = append(props, parquet.WithDictionaryPath(path, false),
				parquet.WithEncodingPath(path, parquet.Encodings.DeltaBinaryPacked))
		}
	}
	return parquet.NewWriterProperties(props...)
}

// createdBy is the Parquet footer's writer name, in the "app version V
// (build B)" form parquet-mr parses; Spark warns on any other shape.
const createdBy = "strand version 0.1.0 (build go)"

// dictPageLimit bounds a column chunk's dictionary (see parquetProps).
const dictPageLimit = 64 << 10

// maxBatchBytes flushes a batch early when its rows are wide, so a row
// group (and the memory of the records in flight) stays bounded.
const maxBatchBytes = 32 << 20

// full reports whether the builder holds a batch to hand to the writer.
func (f *fileSet) full(rb *rowBuilder) bool {
	return rb.rows >= f.c.opts.BatchRows || rb.bytes >= maxBatchBytes
}

// maybeFlush hands the builder's rows to the first part's writer once a
// batch is full.
func (f *fileSet) maybeFlush(rb *rowBuilder) error {
	if !f.full(rb) {
		return nil
	}
	return f.flushFull(f.first, rb)
}

// flushFull sends a full batch to part p. More are likely to follow, so
// the builders are sized for the next one up front (the first grows as
// rows come in, which keeps a trickle's memory small).
func (f *fileSet) flushFull(p *filePart, rb *rowBuilder) error {
	if f.alive != nil {
		if err := f.alive(); err != nil {
			return err
		}
	}
	rb.reserve = rb.rows
	return p.send(rb)
}

// Splitting a scan: a range is split only when it spans at least
// splitMinChunks chunks of splitChunkLSNs, and into at most splitChunks.
const (
	splitChunks    = 64
	splitMinChunks = 4
	splitChunkLSNs = 4096
)

// scanEvents writes the events of rb's table with LSN in (from, to].
//
// The first scanner reads the range from its start, a chunk of LSNs at a
// time, into rb and the first part. Once it has filled a batch (so the
// table has events enough to be worth it) and at least splitMinChunks
// chunks are left, a second scanner starts on the chunks from the end of
// the range, backwards, into a builder and part of its own; each claims
// its next chunk under a lock, and they stop where they meet. Both
// encode at once, and each part's files still cover a contiguous LSN
// range of their own, disjoint from the other's (the back part's rows run
// in chunk order from the end: files are not sorted, and readers that need
// LSN order sort, as ColdReader does). With Parallelism 1, a range too
// small to split, or a partitioned table (one file per partition value per
// commit), the first scanner reads it all.
func (f *fileSet) scanEvents(snap *log.Snapshot, rb *rowBuilder) error {
	sp := newLSNSplit(f.from, f.to)
	var (
		wg      sync.WaitGroup
		started bool
		backErr error
	)
	startBack := func() {
		// A partitioned table is scanned by one writer, so a commit
		// writes one file per partition value (until the target size),
		// not one per writer.
		if started || f.c.opts.Parallelism < 2 || !sp.worthSplitting() || !f.tg.tbl.Spec().IsUnpartitioned() {
			return
		}
		started = true
		wg.Go(func() {
			backErr = f.scanBack(snap, rb, sp)
			if backErr != nil {
				sp.stop()
			}
		})
	}
	var err error
	for err == nil {
		after, upTo, ok := sp.front()
		if !ok {
			break
		}
		err = f.scanChunk(snap, f.first, rb, sp, after, upTo, startBack)
	}
	if err != nil {
		sp.stop()
	}
	wg.Wait()
	if errors.Is(err, errSplitStopped) {
		return backErr
	}
	return cmp.Or(err, backErr)
}

// scanBack is the second scanner of scanEvents.
func (f *fileSet) scanBack(snap *log.Snapshot, front *rowBuilder, sp *lsnSplit) error {
	rb, _, err := newRowBuilder(f.c.mem, front.td, front.sh)
	if err != nil {
		return err
	}
	defer rb.release()
	p := f.newPart()
	for {
		after, upTo, ok := sp.back()
		if !ok {
			break
		}
		if err := f.scanChunk(snap, p, rb, sp, after, upTo, nil); err != nil {
			return err
		}
	}
	return p.send(rb)
}

// scanChunk adds the events with LSN in (after, upTo] to rb, handing full
// batches to p (and calling onFull after each, when set).
func (f *fileSet) scanChunk(snap *log.Snapshot, p *filePart, rb *rowBuilder, sp *lsnSplit, after, upTo uint64, onFull func()) error {
	return snap.Events(rb.td.ID, after, func(e *log.Event) error {
		if e.LSN > upTo {
			return log.ErrStop
		}
		if err := rb.addEvent(e); err != nil {
			return err
		}
		if !f.full(rb) {
			return nil
		}
		if sp.stopped() {
			return errSplitStopped
		}
		if err := f.flushFull(p, rb); err != nil {
			return err
		}
		if onFull != nil {
			onFull()
		}
		return nil
	})
}

// errSplitStopped ends a scanner whose partner failed; the partner's error
// is the one reported.
var errSplitStopped = errors.New("the other scanner of the range failed")

// lsnSplit hands out the chunks of an LSN range (lo, hi] to two scanners,
// one from each end.
type lsnSplit struct {
	chunk uint64
	mu    struct {
		sync.Mutex
		// (lo, hi] is not claimed yet.
		lo, hi uint64
	}
	failed atomic.Bool
}

func newLSNSplit(lo, hi uint64) *lsnSplit {
	sp := &lsnSplit{chunk: max((hi-lo)/splitChunks, splitChunkLSNs)}
	sp.mu.lo, sp.mu.hi = lo, hi
	return sp
}

// front claims the next chunk from the start.
func (sp *lsnSplit) front() (after, upTo uint64, ok bool) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.mu.lo >= sp.mu.hi {
		return 0, 0, false
	}
	after = sp.mu.lo
	upTo = sp.mu.hi
	if upTo-after > sp.chunk {
		upTo = after + sp.chunk
	}
	sp.mu.lo = upTo
	return after, upTo, true
}

// back claims the next chunk from the end.
func (sp *lsnSplit) back() (after, upTo uint64, ok bool) {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	if sp.mu.lo >= sp.mu.hi {
		return 0, 0, false
	}
	upTo = sp.mu.hi
	after = sp.mu.lo
	if upTo-after > sp.chunk {
		after = upTo - sp.chunk
	}
	sp.mu.hi = after
	return after, upTo, true
}

// worthSplitting reports whether enough of the range is left to give a
// second scanner.
func (sp *lsnSplit) worthSplitting() bool {
	sp.mu.Lock()
	defer sp.mu.Unlock()
	return sp.mu.hi-sp.mu.lo >= splitMinChunks*sp.chunk
}

// stop ends the split: no chunk is handed out after it.
func (sp *lsnSplit) stop() {
	sp.failed.Store(true)
	sp.mu.Lock()
	sp.mu.hi = sp.mu.lo
	sp.mu.Unlock()
}

func (sp *lsnSplit) stopped() bool { return sp.failed.Load() }

// finish writes what is left in rb, closes the last files and returns all
// the files of the commit (and, for a partitioned table, each file's
// partition values and footer).
func (f *fileSet) finish(rb *rowBuilder) ([]string, []writtenFile, error) {
	if err := f.first.send(rb); err != nil {
		return nil, nil, err
	}
	f.stop()
	f.parts.Lock()
	defer f.parts.Unlock()
	var (
		files   []string
		written []writtenFile
	)
	for _, p := range f.parts.list {
		if p.err != nil {
			return nil, nil, p.err
		}
		files = append(files, p.files...)
		written = append(written, p.written...)
	}
	return files, written, nil
}

// stop ends the writer goroutines and waits for them.
func (f *fileSet) stop() {
	f.parts.Lock()
	defer f.parts.Unlock()
	for _, p := range f.parts.list {
		p.stop()
	}
}

// keep marks the files as committed (or deliberately left behind).
func (f *fileSet) keep() { f.kept = true }

// abort closes and removes the files of a commit that did not happen.
func (f *fileSet) abort() {
	f.stop()
	if f.kept {
		return
	}
	f.parts.Lock()
	defer f.parts.Unlock()
	for _, p := range f.parts.list {
		for _, path := range p.files {
			if err := f.fs.Remove(path); err != nil {
				f.c.opts.Logger.Warn("iceberg: remove unused data file", "path", path, "err", err)
			}
		}
	}
}

// send passes the builder's rows to the part's writer goroutine.
func (p *filePart) send(rb *rowBuilder) error {
	if p.f.fs == nil {
		return p.f.err // setup failed
	}
	rec := rb.flush()
	if rec == nil {
		return nil
	}
	if !p.started {
		part, err := newPartitioner(p.f.c.mem, p.f.tg.tbl.Spec(), rb.schema)
		if err != nil {
			rec.Release()
			return fmt.Errorf("%s: %w", identString(p.f.tg.ident), err)
		}
		p.started = true
		p.part = part
		p.props = parquetProps(p.f.c.opts, rb.schema)
		go p.writer(rb.schema)
	}
	select {
	case p.recs <- rec:
		return nil
	case <-p.done:
		rec.Release()
		return p.err
	}
}

// stop ends the writer goroutine and waits for it.
func (p *filePart) stop() {
	if p.closed {
		return
	}
	p.closed = true
	close(p.recs)
	if p.started {
		<-p.done
	}
	for rec := range p.recs { // left behind by a writer that failed
		rec.Release()
	}
}

// writer is the goroutine that encodes records into Parquet files.
func (p *filePart) writer(schema *arrow.Schema) {
	defer close(p.done)
	for rec := range p.recs {
		err := p.write(schema, rec)
		rec.Release()
		if err != nil {
			p.err = err
			p.closeAll()
			return
		}
	}
	if err := p.closeAll(); err != nil {
		p.err = err
	}
}

// write appends rec to the open file, or, for a partitioned table, each
// partition's rows of it to that partition's open file.
func (p *filePart) write(schema *arrow.Schema, rec arrow.RecordBatch) error {
	if err := p.f.ctx.Err(); err != nil {
		return err
	}
	if p.part == nil {
		return p.writeTo("", nil, schema, rec)
	}
	chunks, err := p.part.split(rec)
	if err != nil {
		return err
	}
	for i, c := range chunks {
		err = p.writeTo(c.key, c.values, schema, c.rec)
		c.rec.Release()
		if err != nil {
			for _, c := range chunks[i+1:] {
				c.rec.Release()
			}
			return err
		}
	}
	return nil
}

func (p *filePart) writeTo(key string, values map[int]any, schema *arrow.Schema, rec arrow.RecordBatch) error {
	of := p.open[key]
	if of == nil {
		var err error
		if of, err = p.openFile(schema, values); err != nil {
			return err
		}
		p.open[key] = of
	}
	if err := of.w.Write(rec); err != nil {
		return fmt.Errorf("write parquet: %w", err)
	}
	of.rows += int(rec.NumRows())
	o := p.f.c.opts
	if of.n.n >= o.TargetFileSize || o.FileRows > 0 && of.rows >= o.FileRows {
		delete(p.open, key)
		return p.closeFile(of)
	}
	return nil
}

func (p *filePart) openFile(schema *arrow.Schema, values map[int]any) (*openFile, error) {
	f := p.f
	path := dataDir(f.tg.tbl) + "/" + newFileName(f.from, f.to, int(f.seq.Add(1)-1))
	out, err := f.fs.Create(path)
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", path, err)
	}
	p.files = append(p.files, path)
	n := &countingWriter{w: out}
	w, err := pqarrow.NewFileWriter(schema, n, p.props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		out.Close()
		return nil, fmt.Errorf("parquet writer %s: %w", path, err)
	}
	return &openFile{path: path, out: out, n: n, w: w, values: values}, nil
}

// closeAll closes every open file; the first error is returned.
func (p *filePart) closeAll() error {
	var first error
	for key, of := range p.open {
		delete(p.open, key)
		if err := p.closeFile(of); err != nil && first == nil {
			first = err
		}
	}
	return first
}

// closeFile finishes an open file: footer, fsync (where the FileIO can),
// close. A partitioned table's file is listed in written with its footer.
func (p *filePart) closeFile(of *openFile) error {
	err := of.w.Close()
	if s, ok := of.out.(interface{ Sync() error }); ok && err == nil {
		err = s.Sync()
	}
	if cerr := of.out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("close parquet: %w", err)
	}
	if p.part != nil {
		meta, err := of.w.FileMetadata()
		if err != nil {
			return fmt.Errorf("parquet footer of %s: %w", of.path, err)
		}
		p.written = append(p.written, writtenFile{path: of.path, size: of.n.n, meta: meta, values: of.values})
	}
	return nil
}

// countingWriter counts the bytes written to a file; its Close is a no-op
// so pqarrow's Close does not close the file before it is synced.
type countingWriter struct {
	w io.Writer
	n int64
}

func (c *countingWriter) Write(p []byte) (int, error) {
	n, err := c.w.Write(p)
	c.n += int64(n)
	return n, err
}

func (*countingWriter) Close() error { return nil }
