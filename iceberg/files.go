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

// fileSet writes the Parquet files of one commit: records go to the open
// file until it holds FileRows rows, then the next file starts. Files are
// written through the table's Iceberg FileIO (a local folder or S3) and
// synced before the commit may refer to them. Unless keep is called, abort
// removes them.
type fileSet struct {
	ctx      context.Context
	c        *Compactor
	tg       *target
	from, to uint64

	fs    icebergio.WriteFileIO
	err   error
	files []string
	kept  bool

	cur struct {
		out  icebergio.FileWriter
		w    *pqarrow.FileWriter
		rows int
	}
}

func (c *Compactor) newFileSet(ctx context.Context, tg *target, from, to uint64) *fileSet {
	fs := &fileSet{ctx: ctx, c: c, tg: tg, from: from, to: to}
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

// maybeFlush writes the builder's rows once a batch is full.
func (f *fileSet) maybeFlush(rb *rowBuilder) error {
	if rb.rows < f.c.opts.BatchRows {
		return nil
	}
	return f.write(rb)
}

// finish writes what is left and closes the last file.
func (f *fileSet) finish(rb *rowBuilder) ([]string, error) {
	if err := f.write(rb); err != nil {
		return nil, err
	}
	if err := f.closeFile(); err != nil {
		return nil, err
	}
	return f.files, nil
}

func (f *fileSet) write(rb *rowBuilder) error {
	if f.err != nil {
		return f.err
	}
	rec := rb.flush()
	if rec == nil {
		return nil
	}
	defer rec.Release()
	if f.cur.w == nil {
		if err := f.openFile(rb.schema); err != nil {
			f.err = err
			return err
		}
	}
	if err := f.cur.w.Write(rec); err != nil {
		f.err = fmt.Errorf("write parquet: %w", err)
		return f.err
	}
	f.cur.rows += int(rec.NumRows())
	if f.cur.rows >= f.c.opts.FileRows {
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
	props := parquet.NewWriterProperties(
		parquet.WithCompression(compress.Codecs.Snappy),
		parquet.WithMaxRowGroupLength(int64(f.c.opts.FileRows)),
		parquet.WithCreatedBy("strand"),
	)
	w, err := pqarrow.NewFileWriter(schema, nopCloser{out}, props, pqarrow.NewArrowWriterProperties(pqarrow.WithStoreSchema()))
	if err != nil {
		out.Close()
		return fmt.Errorf("parquet writer %s: %w", path, err)
	}
	f.cur.out, f.cur.w, f.cur.rows = out, w, 0
	return nil
}

// closeFile finishes the open file: footer, fsync (where the FileIO can),
// close.
func (f *fileSet) closeFile() error {
	if f.cur.w == nil {
		return f.err
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
	if err != nil && f.err == nil {
		f.err = fmt.Errorf("close parquet: %w", err)
	}
	return f.err
}

// keep marks the files as committed (or deliberately left behind).
func (f *fileSet) keep() { f.kept = true }

// abort closes and removes the files of a commit that did not happen.
func (f *fileSet) abort() {
	if f.kept {
		return
	}
	if f.cur.w != nil {
		f.cur.w.Close()
		f.cur.out.Close()
		f.cur.w, f.cur.out = nil, nil
	}
	for _, p := range f.files {
		if err := f.fs.Remove(p); err != nil {
			f.c.opts.Logger.Warn("iceberg: remove unused data file", "path", p, "err", err)
		}
	}
}

// nopCloser keeps pqarrow's Close from closing the file before it is synced.
type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }
