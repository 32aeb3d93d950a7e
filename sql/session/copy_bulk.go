package session

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

// COPY FROM outside a transaction block takes the log's bulk path
// (log/bulk.go): rows are encoded here into chunks of pre-encoded keys and
// rows (exec.BulkEncoder; text fields of integer columns without a Datum
// per value), and each chunk commits as one intent. Two chunks alternate:
// while one commits (sorted, checked, written as SSTables or a batch,
// synced) on its own goroutine, this one parses the next, so the parsing
// core and the committing one work at the same time. Only one chunk is in
// flight: a chunk is submitted after the one before it committed, so a
// failure leaves exactly the chunks before the failing one, and the error
// says how many rows that is. A parse error waits for the chunk in flight,
// whose own failure (on earlier lines) is then the one reported.

const (
	// bulkChunkRows and bulkChunkBytes bound a chunk: large enough that a
	// chunk's fixed costs (a sync, an ingest, three files) are small per
	// row, small enough that two chunks in memory stay modest.
	bulkChunkRows  = 100000
	bulkChunkBytes = 32 << 20
	// bulkViewChunkRows bounds the chunks of a table that a materialized
	// view reads: each becomes one ordinary intent, whose view delta the
	// maintainer computes in one go.
	bulkViewChunkRows = copyChunk
)

// bulkLoad is one COPY's chunks: the one being filled and the one in flight.
type bulkLoad struct {
	ctx     context.Context
	log     *log.Log
	maxRows int
	// cur is being filled; lines[i] is the input line of its row i.
	cur   *log.Bulk
	lines []int64
	// flight is committing; its outcome arrives on done.
	flight      *log.Bulk
	flightLines []int64
	done        chan error
	// spare is a committed chunk's memory, reused for the next one.
	spare      *log.Bulk
	spareLines []int64
	// committed counts the rows of the chunks committed so far.
	committed int64
}

func newBulkLoad(ctx context.Context, l *log.Log, table log.TableID, schemaVersion uint32, maxRows int) *bulkLoad {
	return &bulkLoad{
		ctx: ctx, log: l, maxRows: maxRows,
		cur:   &log.Bulk{Table: table, SchemaVersion: schemaVersion},
		spare: &log.Bulk{Table: table, SchemaVersion: schemaVersion},
		done:  make(chan error, 1),
	}
}

// added records the line of the row just added to cur and submits cur
// when it is full.
func (b *bulkLoad) added(line int64) error {
	b.lines = append(b.lines, line)
	if b.cur.Len() >= b.maxRows || b.cur.Size() >= bulkChunkBytes {
		return b.submit()
	}
	return nil
}

// submit hands cur to a goroutine that commits it, after the chunk in
// flight has committed.
func (b *bulkLoad) submit() error {
	if err := b.wait(); err != nil {
		return err
	}
	if b.cur.Len() == 0 {
		return nil
	}
	b.flight, b.flightLines = b.cur, b.lines
	b.cur, b.lines = b.spare, b.spareLines[:0]
	b.cur.Reset()
	b.spare, b.spareLines = nil, nil
	go func(c *log.Bulk) {
		_, err := b.log.CommitBulk(b.ctx, c)
		b.done <- err
	}(b.flight)
	return nil
}

// wait waits for the chunk in flight. Its failure comes back as a
// *bulkFailure naming the input line of the failing row.
func (b *bulkLoad) wait() error {
	if b.flight == nil {
		return nil
	}
	err := <-b.done
	c, lines := b.flight, b.flightLines
	b.flight, b.flightLines = nil, nil
	if err != nil {
		f := &bulkFailure{err: err, line: lines[0]}
		var re *log.BulkRowError
		if errors.As(err, &re) && re.Row < len(lines) {
			f.line, f.err = lines[re.Row], re.Err
		}
		return f
	}
	b.committed += int64(c.Len())
	b.spare, b.spareLines = c, lines
	return nil
}

// finish commits what is left.
func (b *bulkLoad) finish() error {
	if err := b.submit(); err != nil {
		return err
	}
	return b.wait()
}

// bulkFailure is a chunk's failed commit, at the line of the failing row.
type bulkFailure struct {
	err  error
	line int64
}

func (f *bulkFailure) Error() string { return f.err.Error() }

// copyBulk runs COPY FROM outside a transaction on the bulk path. ok is
// false, with nothing read, when the path does not apply (a stream whose
// rows set _version: each would carry its own condition).
func (s *Session) copyBulk(ctx context.Context, td *log.TableDesc, l *exec.TableLayout, target []int, defaults []exec.Expr, checks []exec.RowCheck,
	ttypes []types.T, env *exec.Env, o copyOptions, r io.Reader) (n int64, ok bool, err error) {
	enc := exec.NewBulkEncoder(l, target, defaults, checks, env)
	if td.Kind == log.Stream && enc.SetsVersion() {
		return 0, false, nil
	}
	maxRows := bulkChunkRows
	if viewReadsTable(s.eng.Log.Catalog(), td.ID) {
		maxRows = bulkViewChunkRows
	}
	load := newBulkLoad(ctx, s.eng.Log, td.ID, l.Cur.Version, maxRows)
	defer func() {
		// A chunk still in flight after an error is waited for, so
		// that nothing commits after COPY has answered.
		if load.flight != nil {
			<-load.done
		}
	}()
	// fail reports err at line, with what the COPY committed before it; a
	// chunk in flight is waited for first, since its rows come earlier.
	fail := func(line int64, err error) error {
		drain(r)
		if werr := load.wait(); werr != nil {
			err = werr
		}
		var f *bulkFailure
		if errors.As(err, &f) {
			line, err = f.line, f.err
		}
		var ce *log.ConflictError
		if errors.As(err, &ce) && ce.SQLState() == "23505" {
			err = s.duplicateError(ce)
		}
		e := pgerr.From(err)
		where := fmt.Sprintf("COPY %s, line %d", td.Name, line)
		if load.committed > 0 {
			where += fmt.Sprintf("; %d rows before it were committed", load.committed)
		}
		if e.Detail == "" {
			e.Detail = where
		} else {
			e.Detail += " (" + where + ")"
		}
		return e
	}
	var count int64
	vals := make([]types.Datum, len(target))
	addFields := func(fields [][]byte) error {
		if enc.FastText() {
			return enc.AddText(load.cur, fields, s.vars.types)
		}
		if err := parseFields(ttypes, fields, vals, s.vars.types); err != nil {
			return err
		}
		return enc.AddRow(load.cur, vals)
	}
	switch o.format {
	case "binary":
		err := readBinaryCopy(r, ttypes, func(vals []types.Datum) error {
			if err := enc.AddRow(load.cur, vals); err != nil {
				return err
			}
			count++
			return load.added(count)
		})
		if err != nil {
			return 0, true, fail(count+1, err)
		}
	case "csv":
		line, err := eachRecord(bufio.NewReaderSize(r, 64<<10), o, splitCSV, func(line int64, rec [][]byte) error {
			if err := checkFieldCount(l, target, len(rec)); err != nil {
				return err
			}
			if err := addFields(rec); err != nil {
				return err
			}
			count++
			return load.added(line)
		})
		if err != nil {
			return 0, true, fail(line, err)
		}
	default:
		tr := newTextReader(r, o)
		for {
			fields, err := tr.next()
			if err == io.EOF {
				break
			}
			if err != nil {
				return 0, true, fail(tr.line, err)
			}
			if err := checkFieldCount(l, target, len(fields)); err != nil {
				return 0, true, fail(tr.line, err)
			}
			if err := addFields(fields); err != nil {
				return 0, true, fail(tr.line, err)
			}
			count++
			if err := load.added(tr.line); err != nil {
				return 0, true, fail(tr.line, err)
			}
		}
	}
	if err := load.finish(); err != nil {
		return 0, true, fail(0, err)
	}
	return count, true, nil
}

func viewReadsTable(cat *log.Catalog, t log.TableID) bool {
	for _, d := range cat.Tables {
		if d.Kind == log.View && slices.Contains(d.DependsOn, t) {
			return true
		}
	}
	return false
}

// textReader reads COPY text format records and splits them into fields
// without copying lines that fit its buffer: the fields point into the
// reader's buffer (a field with escapes is unescaped into a copy) and are
// valid until the next call.
type textReader struct {
	br     *bufio.Reader
	o      copyOptions
	line   int64
	long   []byte // a line longer than the buffer
	fields [][]byte
	done   bool
}

func newTextReader(r io.Reader, o copyOptions) *textReader {
	return &textReader{br: bufio.NewReaderSize(r, 256<<10), o: o}
}

// next returns the next record's fields (nil for NULL), or io.EOF.
func (t *textReader) next() ([][]byte, error) {
	if t.done {
		return nil, io.EOF
	}
	raw, err := t.br.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		t.long = append(t.long[:0], raw...)
		for err == bufio.ErrBufferFull {
			raw, err = t.br.ReadSlice('\n')
			t.long = append(t.long, raw...)
		}
		raw = t.long
	}
	if len(raw) == 0 {
		if err == nil || err == io.EOF {
			t.done = true
			return nil, io.EOF
		}
		return nil, err
	}
	if err != nil && err != io.EOF {
		return nil, err
	}
	t.line++
	raw = bytes.TrimSuffix(raw, []byte{'\n'})
	raw = bytes.TrimSuffix(raw, []byte{'\r'})
	if string(raw) == `\.` {
		// The old end-of-data marker: ignore what follows, as PostgreSQL
		// does.
		drain(t.br)
		t.done = true
		return nil, io.EOF
	}
	t.fields = t.fields[:0]
	d := t.o.delimiter
	for {
		i := bytes.IndexByte(raw, d)
		f := raw
		if i >= 0 {
			f = raw[:i]
		}
		switch {
		case string(f) == t.o.null:
			f = nil
		case bytes.IndexByte(f, '\\') >= 0:
			u, err := unescapeText(f)
			if err != nil {
				return nil, err
			}
			f = u
		}
		t.fields = append(t.fields, f)
		if i < 0 {
			return t.fields, nil
		}
		raw = raw[i+1:]
	}
}
