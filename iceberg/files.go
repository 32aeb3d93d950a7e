package iceberg

import (
	"context"
	"fmt"
	"io"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/parquet"
	"github.com/apache/arrow-go/v18/parquet/compress"
	"github.com/apache/arrow-go/v18/parquet/pqarrow"
	icebergio "github.com/apache/iceberg-go/io"
)

// fileSet writes the Parquet files of one commit. The scan that builds
// Arrow records and the Parquet encoding run in parallel: records go
// through a channel to a writer goroutine, which appends each as a row
// group to the open file until the file reaches the target size
// (Options.TargetFileSize, or FileRows rows when set), then starts the
// next. Files are written through the table's Iceberg FileIO (a local
// folder or S3) and synced before the commit may refer to them. Unless
// keep is called, abort removes them.
type fileSet struct {
	ctx      context.Context
	c        *Compactor
	tg       *target
	from, to uint64
	props    *parquet.WriterProperties

	fs   icebergio.WriteFileIO
	kept bool

	// recs feeds the writer goroutine; done is closed when it ends.
	recs    chan arrow.RecordBatch
	done    chan struct{}
	started bool
	closed  bool
	// err and files belong to the writer goroutine until done is closed
	// (setup errors are set before it starts).
	err   error
	files []string

	cur struct {
		out  icebergio.FileWriter
		n    *countingWriter
		w    *pqarrow.FileWriter
		rows int
	}
}

func (c *Compactor) newFileSet(ctx context.Context, tg *target, from, to uint64) *fileSet {
	fs := &fileSet{ctx: ctx, c: c, tg: tg, from: from, to: to,
		recs: make(chan arrow.RecordBatch, 1), done: make(chan struct{})}
	fs.props = parquetProps(c.opts)
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

// parquetProps are the writer settings of the compactor's data files.
//
// Zstd at its fastest level compresses better than Snappy at about the
// same speed. The system columns _version, _lsn and _commit_time almost
// never repeat within a row group, so a dictionary there only costs a hash
// table insert per value before the writer falls back to plain encoding;
// they are written without one (user columns keep the dictionary, which
// pays off for the repetitive values events usually carry), but a column
// chunk falls back to plain encoding once its dictionary reaches
// dictPageLimit: an id or amount column with thousands of distinct values
// stops hashing early instead of at Parquet's default 1 MiB. Each Arrow
// record is one row group (Options.BatchRows rows).
func parquetProps(o Options) *parquet.WriterProperties {
	return parquet.NewWriterProperties(
		parquet.WithCompression(compress.Codecs.Zstd),
		parquet.WithCompressionLevel(1),
		parquet.WithDictionaryFor(VersionColumn, false),
		parquet.WithDictionaryFor(LSNColumn, false),
		parquet.WithDictionaryFor(CommitTimeColumn, false),
		parquet.WithDictionaryPageSizeLimit(dictPageLimit),
		parquet.WithMaxRowGroupLength(int64(o.BatchRows)),
		parquet.WithCreatedBy("strand"),
	)
}

// dictPageLimit bounds a column chunk's dictionary (see parquetProps).
const dictPageLimit = 64 << 10

// maxBatchBytes flushes a batch early when its rows are wide, so a row
// group (and the memory of the two records in flight) stays bounded.
const maxBatchBytes = 32 << 20

// maybeFlush hands the builder's rows to the writer once a batch is full.
func (f *fileSet) maybeFlush(rb *rowBuilder) error {
	if rb.rows < f.c.opts.BatchRows && rb.bytes < maxBatchBytes {
		return nil
	}
	// A full batch: more are likely to follow, so size the builders for
	// the next one up front (the first grows as rows come in, which keeps
	// a trickle's memory small).
	rb.reserve = rb.rows
	return f.send(rb)
}

// send passes the builder's rows to the writer goroutine.
func (f *fileSet) send(rb *rowBuilder) error {
	if f.fs == nil {
		return f.err // setup failed
	}
	rec := rb.flush()
	if rec == nil {
		return nil
	}
	if !f.started {
		f.started = true
		go f.writer(rb.schema)
	}
	select {
	case f.recs <- rec:
		return nil
	case <-f.done:
		rec.Release()
		return f.err
	}
}

// finish writes what is left, closes the last file and returns the files.
func (f *fileSet) finish(rb *rowBuilder) ([]string, error) {
	if err := f.send(rb); err != nil {
		return nil, err
	}
	f.stop()
	if f.err != nil {
		return nil, f.err
	}
	return f.files, nil
}

// stop ends the writer goroutine and waits for it.
func (f *fileSet) stop() {
	if f.closed {
		return
	}
	f.closed = true
	close(f.recs)
	if f.started {
		<-f.done
	}
	for rec := range f.recs { // left behind by a writer that failed
		rec.Release()
	}
}

// writer is the goroutine that encodes records into Parquet files.
func (f *fileSet) writer(schema *arrow.Schema) {
	defer close(f.done)
	for rec := range f.recs {
		err := f.write(schema, rec)
		rec.Release()
		if err != nil {
			f.err = err
			f.closeFile()
			return
		}
	}
	if err := f.closeFile(); err != nil {
		f.err = err
	}
}

func (f *fileSet) write(schema *arrow.Schema, rec arrow.RecordBatch) error {
	if err := f.ctx.Err(); err != nil {
		return err
	}
	if f.cur.w == nil {
		if err := f.openFile(schema); err != nil {
			return err
		}
	}
	if err := f.cur.w.Write(rec); err != nil {
		return fmt.Errorf("write parquet: %w", err)
	}
	f.cur.rows += int(rec.NumRows())
	if f.cur.n.n >= f.c.opts.TargetFileSize || f.c.opts.FileRows > 0 && f.cur.rows >= f.c.opts.FileRows {
		return f.closeFile()
	}
	return nil
}

func (f *fileSet) openFile(schema *arrow.Schema) error {
	path := dataDir(f.tg.tbl) + "/" + newFileName(f.from, f.to, len(f.files))
	out, err := f.fs.Create(path)
	if err != nil {
		return fmt.Errorf("create %s: %w", path, err)
	}
	f.files = append(f.files, path)
	n := &countingWriter{w: out}
	w, err := pqarrow.NewFileWriter(schema, n, f.props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		out.Close()
		return fmt.Errorf("parquet writer %s: %w", path, err)
	}
	f.cur.out, f.cur.n, f.cur.w, f.cur.rows = out, n, w, 0
	return nil
}

// closeFile finishes the open file: footer, fsync (where the FileIO can),
// close.
func (f *fileSet) closeFile() error {
	if f.cur.w == nil {
		return nil
	}
	w, out := f.cur.w, f.cur.out
	f.cur.w, f.cur.out = nil, nil
	err := w.Close()
	if s, ok := out.(interface{ Sync() error }); ok && err == nil {
		err = s.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("close parquet: %w", err)
	}
	return nil
}

// keep marks the files as committed (or deliberately left behind).
func (f *fileSet) keep() { f.kept = true }

// abort closes and removes the files of a commit that did not happen.
func (f *fileSet) abort() {
	f.stop()
	if f.kept {
		return
	}
	for _, p := range f.files {
		if err := f.fs.Remove(p); err != nil {
			f.c.opts.Logger.Warn("iceberg: remove unused data file", "path", p, "err", err)
		}
	}
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
