package session

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/pgwire"
	"github.com/strand-db/strand/sql"
	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

// copyChunk is how many rows COPY FROM commits at once outside a
// transaction block when it cannot take the bulk path (copy_bulk.go: a
// stream whose rows set _version), and the bulk path's chunk for a table
// that views read. Each chunk is atomic and durable; a COPY that fails
// part way keeps the chunks before the failing one (the error says how
// many rows were committed). Inside BEGIN, COPY is part of the
// transaction and all-or-nothing.
const copyChunk = 10000

// copyOptions are the parsed options of a COPY.
type copyOptions struct {
	format    string // text, csv, binary
	delimiter byte
	null      string
	header    bool
	quote     byte
	escape    byte
}

func parseCopyOptions(opts []sql.Option) (copyOptions, error) {
	o := copyOptions{format: "text"}
	nullSet, delimSet := false, false
	for _, op := range opts {
		v := op.Value
		switch op.Name {
		case "format":
			o.format = strings.ToLower(v)
		case "csv":
			o.format = "csv"
		case "binary":
			o.format = "binary"
		case "header":
			o.header = v == "" || v == "true" || v == "on" || v == "1"
		case "delimiter":
			if len(v) != 1 {
				return o, pgerr.New(pgerr.FeatureNotSupported, "COPY delimiter must be a single one-byte character")
			}
			o.delimiter, delimSet = v[0], true
		case "null":
			o.null, nullSet = v, true
		case "quote":
			if len(v) != 1 {
				return o, pgerr.New(pgerr.FeatureNotSupported, "COPY quote must be a single one-byte character")
			}
			o.quote = v[0]
		case "escape":
			if len(v) != 1 {
				return o, pgerr.New(pgerr.FeatureNotSupported, "COPY escape must be a single one-byte character")
			}
			o.escape = v[0]
		case "encoding":
			if !strings.EqualFold(strings.ReplaceAll(v, "-", ""), "utf8") {
				return o, pgerr.New(pgerr.FeatureNotSupported, "COPY encoding %q is not supported", v)
			}
		case "freeze":
		default:
			return o, pgerr.New(pgerr.SyntaxError, "option %q not recognized", op.Name)
		}
	}
	switch o.format {
	case "text":
		if !delimSet {
			o.delimiter = '\t'
		}
		if !nullSet {
			o.null = `\N`
		}
		if o.header {
			return o, pgerr.New(pgerr.FeatureNotSupported, "COPY HEADER available only in CSV mode")
		}
	case "csv":
		if !delimSet {
			o.delimiter = ','
		}
		if o.quote == 0 {
			o.quote = '"'
		}
		if o.escape == 0 {
			o.escape = o.quote
		}
	case "binary":
	default:
		return o, pgerr.New(pgerr.InvalidParameterValue, "COPY format %q not recognized", o.format)
	}
	return o, nil
}

// copyStatement runs COPY; it needs the ResultWriter for the COPY
// sub-protocol.
func (s *Session) copyStatement(ctx context.Context, x *sql.Copy, w pgwire.ResultWriter) error {
	if s.failed {
		return pgerr.New(pgerr.InFailedSQLTransaction, "current transaction is aborted, commands ignored until end of transaction block")
	}
	opts, err := parseCopyOptions(x.Options)
	if err != nil {
		return err
	}
	if x.From {
		n, err := s.copyFrom(ctx, x, opts, w)
		if err != nil {
			return err
		}
		return w.Complete("COPY " + strconv.FormatInt(n, 10))
	}
	n, err := s.copyTo(ctx, x, opts, w)
	if err != nil {
		return err
	}
	return w.Complete("COPY " + strconv.FormatInt(n, 10))
}

func (s *Session) copyFrom(ctx context.Context, x *sql.Copy, o copyOptions, w pgwire.ResultWriter) (int64, error) {
	b := s.builder(s.catalog(), nil)
	td, err := b.LookupTable(x.Table.Schema, x.Table.Name)
	if err != nil {
		return 0, err
	}
	switch td.Kind {
	case log.View:
		return 0, pgerr.New(pgerr.WrongObjectType, "cannot copy to materialized view %q", td.Name)
	case log.PlainView:
		return 0, pgerr.New(pgerr.WrongObjectType, "cannot copy to view %q", td.Name)
	case log.Sequence:
		return 0, pgerr.New(pgerr.WrongObjectType, "cannot copy to sequence %q", td.Name)
	}
	l := exec.NewTableLayout(td)
	target, defaults, checks, err := b.CopyTarget(l, x.Columns)
	if err != nil {
		return 0, err
	}
	format := int16(0)
	if o.format == "binary" {
		format = 1
	}
	colFormats := make([]int16, len(target))
	for i := range colFormats {
		colFormats[i] = format
	}
	r, err := w.CopyIn(format, colFormats)
	if err != nil {
		return 0, err
	}
	s.txStart = time.Now()
	env := s.env(nil)
	nt := len(l.Types)
	ttypes := make([]types.T, len(target))
	for i, idx := range target {
		if idx == nt {
			ttypes[i] = types.Make(types.Int8OID)
		} else {
			ttypes[i] = l.Types[idx]
		}
	}
	if s.txn == nil {
		// Outside a transaction block: chunks through the log's bulk path.
		if n, ok, err := s.copyBulk(ctx, td, l, target, defaults, checks, ttypes, env, o, r); ok {
			return n, err
		}
	}
	var (
		count     int64
		committed int64
		txn       = s.txn
		own       = txn == nil
	)
	newTxn := func() {
		if own {
			txn = exec.NewTxn(s.eng.Log)
		}
	}
	flush := func() error {
		if !own {
			return nil
		}
		_, err := txn.Commit(ctx)
		txn.Release()
		if err != nil {
			var ce *log.ConflictError
			if errors.As(err, &ce) && ce.SQLState() == "23505" {
				return s.duplicateError(ce)
			}
			return err
		}
		committed = count
		newTxn()
		return nil
	}
	newTxn()
	defer func() {
		if own && txn != nil {
			txn.Release()
		}
	}()
	rt := &exec.Runtime{Ctx: ctx, Env: env, Tables: txn}
	row := make(exec.Row, nt+1)
	ins := &exec.Insert{Layout: l, Checks: checks}
	var res exec.WriteResult
	put := func(vals []types.Datum) error {
		for i := range row {
			row[i] = nil
		}
		for i := 0; i <= nt; i++ {
			if defaults[i] != nil {
				v, err := defaults[i].Eval(env, nil)
				if err != nil {
					return err
				}
				row[i] = v
			}
		}
		for i, idx := range target {
			row[idx] = vals[i]
		}
		rt.Tables = txn
		if err := ins.PutRow(rt, txn, row, &res); err != nil {
			return err
		}
		count++
		if own && count%copyChunk == 0 {
			return flush()
		}
		return nil
	}
	fail := func(line int64, err error) error {
		e := pgerr.From(err)
		where := fmt.Sprintf("COPY %s, line %d", td.Name, line)
		if own && committed > 0 {
			where += fmt.Sprintf("; %d rows before it were committed", committed)
		}
		if e.Detail == "" {
			e.Detail = where
		} else {
			e.Detail += " (" + where + ")"
		}
		return e
	}
	switch o.format {
	case "binary":
		if err := readBinaryCopy(r, ttypes, put); err != nil {
			drain(r)
			return 0, fail(count+1, err)
		}
	default:
		vals := make([]types.Datum, len(target))
		line, err := eachRecord(bufio.NewReaderSize(r, 64<<10), o, splitRecord, func(_ int64, rec [][]byte) error {
			if err := checkFieldCount(l, target, len(rec)); err != nil {
				return err
			}
			if err := parseFields(ttypes, rec, vals, s.vars.types); err != nil {
				return err
			}
			return put(vals)
		})
		if err != nil {
			drain(r)
			return 0, fail(line, err)
		}
	}
	if err := flush(); err != nil {
		return 0, err
	}
	return count, nil
}

// checkFieldCount is COPY's error for a record with too few or too many
// fields.
func checkFieldCount(l *exec.TableLayout, target []int, n int) error {
	if n < len(target) {
		return pgerr.New(pgerr.BadCopyFileFormat, "missing data for column %q", columnName(l, target[n]))
	}
	if n > len(target) {
		return pgerr.New(pgerr.BadCopyFileFormat, "extra data after last expected column")
	}
	return nil
}

// parseFields parses a record's text fields (nil: NULL) into vals.
func parseFields(ttypes []types.T, fields [][]byte, vals []types.Datum, set *types.Settings) error {
	for i, f := range fields {
		if f == nil {
			vals[i] = nil
			continue
		}
		v, err := types.ParseText(ttypes[i], string(f), set)
		if err != nil {
			return err
		}
		vals[i] = v
	}
	return nil
}

func columnName(l *exec.TableLayout, idx int) string {
	if idx >= len(l.Cur.Columns) {
		return exec.VersionColumn
	}
	return l.Cur.Columns[idx].Name
}

// drain reads what the client still sends, so the protocol stays in step.
func drain(r io.Reader) { io.Copy(io.Discard, r) }

// eachRecord reads the records of a text or CSV COPY from br, calling fn
// with each one's line number and fields (valid until the next call). It
// skips the header line (HEADER) and stops at the old end-of-data marker
// `\.`, ignoring what follows, as PostgreSQL does. On an error it returns
// the line the error is on.
func eachRecord(br *bufio.Reader, o copyOptions, split func([]byte, copyOptions, [][]byte) ([][]byte, error), fn func(line int64, rec [][]byte) error) (int64, error) {
	var line int64
	var rec [][]byte
	for {
		raw, err := readRecord(br, o)
		if err == io.EOF && raw == nil {
			return line, nil
		}
		if err != nil && err != io.EOF {
			return line + 1, err
		}
		line++
		if string(raw) == `\.` {
			drain(br)
			return line, nil
		}
		if line == 1 && o.header {
			continue
		}
		if rec, err = split(raw, o, rec[:0]); err != nil {
			return line, err
		}
		if err := fn(line, rec); err != nil {
			return line, err
		}
	}
}

// readRecord reads one line (text) or one record (CSV, where quoted fields
// may span lines), without its newline.
func readRecord(br *bufio.Reader, o copyOptions) ([]byte, error) {
	line, err := br.ReadBytes('\n')
	if len(line) == 0 {
		return nil, err
	}
	if o.format == "csv" {
		for quotesOpen(line, o) {
			more, err2 := br.ReadBytes('\n')
			line = append(line, more...)
			if err2 != nil {
				if len(more) == 0 {
					return nil, pgerr.New(pgerr.BadCopyFileFormat, "unterminated CSV quoted field")
				}
				break
			}
		}
	}
	line = bytes.TrimSuffix(line, []byte{'\n'})
	line = bytes.TrimSuffix(line, []byte{'\r'})
	return line, nil
}

func quotesOpen(b []byte, o copyOptions) bool {
	in := false
	for i := 0; i < len(b); i++ {
		c := b[i]
		if in && c == o.escape && o.escape != o.quote && i+1 < len(b) {
			i++
			continue
		}
		if c == o.quote {
			if in && o.escape == o.quote && i+1 < len(b) && b[i+1] == o.quote {
				i++
				continue
			}
			in = !in
		}
	}
	return in
}

// splitRecord splits a record into fields; a nil field is NULL.
func splitRecord(b []byte, o copyOptions, out [][]byte) ([][]byte, error) {
	if o.format == "csv" {
		return splitCSV(b, o, out)
	}
	for _, f := range bytes.Split(b, []byte{o.delimiter}) {
		if string(f) == o.null {
			out = append(out, nil)
			continue
		}
		v, err := unescapeText(f)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, nil
}

// unescapeText undoes COPY text format's backslash escapes.
func unescapeText(f []byte) ([]byte, error) {
	if bytes.IndexByte(f, '\\') < 0 {
		return f, nil
	}
	out := make([]byte, 0, len(f))
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c != '\\' || i+1 >= len(f) {
			out = append(out, c)
			continue
		}
		i++
		switch e := f[i]; e {
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'v':
			out = append(out, '\v')
		case 'x':
			n, j := 0, i+1
			for ; j < len(f) && j < i+3 && isHex(f[j]); j++ {
				n = n*16 + hexVal(f[j])
			}
			if j == i+1 {
				out = append(out, 'x')
				continue
			}
			out = append(out, byte(n))
			i = j - 1
		default:
			if e >= '0' && e <= '7' {
				n, j := 0, i
				for ; j < len(f) && j < i+3 && f[j] >= '0' && f[j] <= '7'; j++ {
					n = n*8 + int(f[j]-'0')
				}
				out = append(out, byte(n))
				i = j - 1
				continue
			}
			out = append(out, e)
		}
	}
	return out, nil
}

func isHex(c byte) bool { return c >= '0' && c <= '9' || c|0x20 >= 'a' && c|0x20 <= 'f' }
func hexVal(c byte) int {
	if c <= '9' {
		return int(c - '0')
	}
	return int(c|0x20-'a') + 10
}

func splitCSV(b []byte, o copyOptions, out [][]byte) ([][]byte, error) {
	i := 0
	for {
		var field []byte
		quoted := false
		if i < len(b) && b[i] == o.quote {
			quoted = true
			i++
			field = []byte{}
			for {
				if i >= len(b) {
					return nil, pgerr.New(pgerr.BadCopyFileFormat, "unterminated CSV quoted field")
				}
				c := b[i]
				if c == o.escape && i+1 < len(b) && (b[i+1] == o.quote || (o.escape != o.quote && b[i+1] == o.escape)) {
					field = append(field, b[i+1])
					i += 2
					continue
				}
				if c == o.quote {
					i++
					break
				}
				field = append(field, c)
				i++
			}
		}
		start := i
		for i < len(b) && b[i] != o.delimiter {
			i++
		}
		if !quoted {
			field = b[start:i]
			if string(field) == o.null {
				field = nil
			}
		} else if i > start {
			return nil, pgerr.New(pgerr.BadCopyFileFormat, "extra data after closing quote of a CSV field")
		}
		out = append(out, field)
		if i >= len(b) {
			return out, nil
		}
		i++ // delimiter
	}
}

var binarySignature = []byte("PGCOPY\n\xff\r\n\x00")

// readBinaryCopy reads COPY BINARY data.
func readBinaryCopy(r io.Reader, ts []types.T, put func([]types.Datum) error) error {
	br := bufio.NewReaderSize(r, 64<<10)
	head := make([]byte, len(binarySignature)+8)
	if _, err := io.ReadFull(br, head); err != nil || !bytes.Equal(head[:len(binarySignature)], binarySignature) {
		return pgerr.New(pgerr.BadCopyFileFormat, "COPY file signature not recognized")
	}
	ext := binary.BigEndian.Uint32(head[len(binarySignature)+4:])
	if _, err := io.CopyN(io.Discard, br, int64(ext)); err != nil {
		return pgerr.New(pgerr.BadCopyFileFormat, "invalid COPY file header (missing extension)")
	}
	vals := make([]types.Datum, len(ts))
	var buf [4]byte
	var field []byte
	for {
		if _, err := io.ReadFull(br, buf[:2]); err != nil {
			if err == io.EOF {
				return nil
			}
			return pgerr.New(pgerr.BadCopyFileFormat, "unexpected EOF in COPY data")
		}
		n := int16(binary.BigEndian.Uint16(buf[:2]))
		if n == -1 {
			drain(br)
			return nil
		}
		if int(n) != len(ts) {
			return pgerr.New(pgerr.BadCopyFileFormat, "row field count is %d, expected %d", n, len(ts))
		}
		for i := range ts {
			if _, err := io.ReadFull(br, buf[:4]); err != nil {
				return pgerr.New(pgerr.BadCopyFileFormat, "unexpected EOF in COPY data")
			}
			l := int32(binary.BigEndian.Uint32(buf[:4]))
			if l == -1 {
				vals[i] = nil
				continue
			}
			if l < 0 || l > 1<<30 {
				return pgerr.New(pgerr.BadCopyFileFormat, "invalid field size")
			}
			if cap(field) < int(l) {
				field = make([]byte, l)
			}
			field = field[:l]
			if _, err := io.ReadFull(br, field); err != nil {
				return pgerr.New(pgerr.BadCopyFileFormat, "unexpected EOF in COPY data")
			}
			v, err := types.DecodeBinary(ts[i], field)
			if err != nil {
				return err
			}
			vals[i] = v
		}
		if err := put(vals); err != nil {
			return err
		}
	}
}

// copyTo writes a table or a query's rows in COPY format.
func (s *Session) copyTo(ctx context.Context, x *sql.Copy, o copyOptions, w pgwire.ResultWriter) (int64, error) {
	var p *prepared
	var err error
	if sub, ok := x.Query.(*sql.Subscribe); ok {
		return s.subscribe(ctx, sub, o, w)
	}
	if x.Query != nil {
		if p, err = s.prepare(x.Query, nil); err != nil {
			return 0, err
		}
	} else {
		q := "SELECT * FROM " + x.Table.String()
		if len(x.Columns) > 0 {
			parts := make([]string, len(x.Columns))
			for i, c := range x.Columns {
				parts[i] = sql.ObjectName{Name: c}.String()
			}
			q = "SELECT " + strings.Join(parts, ", ") + " FROM " + x.Table.String()
		}
		stmts, err := sql.Parse(q)
		if err != nil {
			return 0, err
		}
		if p, err = s.prepare(stmts[0], nil); err != nil {
			return 0, err
		}
	}
	if p.cols == nil {
		return 0, pgerr.New(pgerr.FeatureNotSupported, "COPY query must return rows")
	}
	format := int16(0)
	if o.format == "binary" {
		format = 1
	}
	colFormats := make([]int16, len(p.cols))
	for i := range colFormats {
		colFormats[i] = format
	}
	rows, _, err := s.execStatement(ctx, p, nil)
	if err != nil {
		return 0, err
	}
	out, err := w.CopyOut(format, colFormats)
	if err != nil {
		return 0, err
	}
	var buf []byte
	if format == 1 {
		buf = append(append(buf, binarySignature...), 0, 0, 0, 0, 0, 0, 0, 0)
		if _, err := out.Write(buf); err != nil {
			return 0, err
		}
	}
	if o.format == "csv" && o.header {
		buf = buf[:0]
		for i, c := range p.cols {
			if i > 0 {
				buf = append(buf, o.delimiter)
			}
			buf = appendCSV(buf, []byte(c.Name), o)
		}
		buf = append(buf, '\n')
		if _, err := out.Write(buf); err != nil {
			return 0, err
		}
	}
	var n int64
	var val []byte
	for row, err := range rows {
		if err != nil {
			return n, err
		}
		buf = buf[:0]
		if format == 1 {
			buf = binary.BigEndian.AppendUint16(buf, uint16(len(p.cols)))
		}
		for i, c := range p.cols {
			if format == 1 {
				if row[i] == nil {
					buf = binary.BigEndian.AppendUint32(buf, 0xFFFFFFFF)
					continue
				}
				val = types.AppendBinary(val[:0], c.T, row[i])
				buf = binary.BigEndian.AppendUint32(buf, uint32(len(val)))
				buf = append(buf, val...)
				continue
			}
			if i > 0 {
				buf = append(buf, o.delimiter)
			}
			if row[i] == nil {
				buf = append(buf, o.null...)
				continue
			}
			val = types.AppendText(val[:0], c.T, row[i], s.vars.types)
			if o.format == "csv" {
				buf = appendCSV(buf, val, o)
			} else {
				buf = escapeText(buf, val, o.delimiter)
			}
		}
		if format != 1 {
			buf = append(buf, '\n')
		}
		if _, err := out.Write(buf); err != nil {
			return n, err
		}
		n++
	}
	if format == 1 {
		if _, err := out.Write([]byte{0xFF, 0xFF}); err != nil {
			return n, err
		}
	}
	return n, nil
}

func escapeText(buf, v []byte, delim byte) []byte {
	for _, c := range v {
		switch c {
		case '\\':
			buf = append(buf, '\\', '\\')
		case '\n':
			buf = append(buf, '\\', 'n')
		case '\r':
			buf = append(buf, '\\', 'r')
		case '\t':
			buf = append(buf, '\\', 't')
		default:
			if c == delim {
				buf = append(buf, '\\', c)
			} else {
				buf = append(buf, c)
			}
		}
	}
	return buf
}

func appendCSV(buf, v []byte, o copyOptions) []byte {
	need := len(v) == 0 && o.null == "" || string(v) == o.null
	for _, c := range v {
		if c == o.delimiter || c == o.quote || c == '\n' || c == '\r' || c == o.escape {
			need = true
			break
		}
	}
	if !need {
		return append(buf, v...)
	}
	buf = append(buf, o.quote)
	for _, c := range v {
		if c == o.quote || (c == o.escape && o.escape != o.quote) {
			buf = append(buf, o.escape)
		}
		buf = append(buf, c)
	}
	return append(buf, o.quote)
}
