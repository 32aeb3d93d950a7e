package iceberg

import (
	"cmp"
	"context"
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
	"github.com/cockroachdb/apd/v3"

	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql/types"
)

// ColdReader reads tiered events back from the warehouse (log.ColdReader):
// a stream's events from its Iceberg table, a keyed table's from its change
// log (`name__changes`), as log.Events whose rows are encoded under the
// table's current schema version, so every reader of the log decodes them
// as it decodes local events. Columns a Parquet file lacks (added after it
// was written) read as NULL, as an old schema version's rows do locally.
//
// Events come in LSN order. Data files are read in groups whose _lsn
// ranges (from the manifests' column bounds) overlap, each group sorted in
// memory: files the compactor writes cover disjoint ranges, so a group is
// usually one file, and a merged file overlaps only the files it sits
// between. Memory is thus bounded by the largest group, not the table.
type ColdReader struct {
	cat *Catalog
	// tables caches the loaded Iceberg tables by name; a table is
	// reloaded when it does not cover the LSN a read needs, when it is
	// older than cacheFor, and after a read from it failed.
	tables tableCache
}

type cachedTable struct {
	tbl    *table.Table
	loaded time.Time
}

// tableCache keeps loaded Iceberg tables by name, with when they were
// loaded; each reader decides when a cached table is too old.
type tableCache struct {
	mu sync.Mutex
	m  map[string]cachedTable
}

func (c *tableCache) get(key string) (cachedTable, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ct, ok := c.m[key]
	return ct, ok
}

func (c *tableCache) put(key string, tbl *table.Table) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[string]cachedTable{}
	}
	c.m[key] = cachedTable{tbl: tbl, loaded: time.Now()}
}

func (c *tableCache) forget(key string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, key)
}

// cacheFor bounds how long a loaded table's metadata is read from: files
// merged away stay until their snapshots expire (a day by default), so a
// somewhat stale snapshot still reads; a failed read reloads at once.
const cacheFor = time.Minute

// NewColdReader reads tiered events from the tables of cat.
func NewColdReader(cat *Catalog) *ColdReader {
	return &ColdReader{cat: cat}
}

// ColdReader is the reader of the events this compactor's tiering moved
// out of the log; install it with log.Log.SetColdReader.
func (c *Compactor) ColdReader() *ColdReader { return c.cold }

// Events implements log.ColdReader.
func (r *ColdReader) Events(td *log.TableDesc, after, upTo uint64, fn func(e *log.Event) error) error {
	return r.read(context.Background(), td, after, upTo, nil, fn)
}

// History implements log.ColdReader. It reads the key's events among all
// tiered events of the table (Parquet files are in LSN order, not key
// order, so their statistics cannot single out a key).
func (r *ColdReader) History(td *log.TableDesc, key []byte, from, to, upTo uint64, fn func(e *log.Event) error) error {
	match := func(e *log.Event) bool {
		return string(e.Key) == string(key) && e.Version >= from && (to == 0 || e.Version <= to)
	}
	return r.read(context.Background(), td, 0, upTo, match, fn)
}

// read calls fn for the events of td with LSN in (after, upTo] that match
// (nil: all), in LSN order. A read that fails (a file of a cached, stale
// snapshot expired meanwhile, say) is retried once on freshly loaded
// metadata, from after the last event it passed on.
func (r *ColdReader) read(ctx context.Context, td *log.TableDesc, after, upTo uint64, match func(*log.Event) bool, fn func(e *log.Event) error) error {
	sh := shapeStream
	if td.Kind == log.Keyed {
		sh = shapeChanges
	}
	var fnErr error
	last := after
	pass := func(e *log.Event) error {
		last = e.LSN
		fnErr = fn(e)
		return fnErr
	}
	err := r.readOnce(ctx, td, sh, after, upTo, match, pass)
	if err == nil || fnErr != nil || ctx.Err() != nil {
		return err
	}
	r.forget(td, sh)
	if err := r.readOnce(ctx, td, sh, last, upTo, match, pass); err != nil {
		return err
	}
	return nil
}

func (r *ColdReader) readOnce(ctx context.Context, td *log.TableDesc, sh shape, after, upTo uint64, match func(*log.Event) bool, fn func(e *log.Event) error) error {
	if upTo <= after {
		return nil
	}
	tbl, err := r.load(ctx, td, sh, upTo)
	if err != nil {
		return err
	}
	lsnRef := iceberg.Reference(LSNColumn)
	scan := tbl.Scan(table.WithRowFilter(iceberg.NewAnd(
		iceberg.GreaterThan(lsnRef, int64(after)), iceberg.LessThanEqual(lsnRef, int64(upTo)))))
	tasks, err := scan.PlanFiles(ctx)
	if err != nil {
		return fmt.Errorf("plan %s: %w", identString(tbl.Identifier()), err)
	}
	proj, err := scan.Projection()
	if err != nil {
		return fmt.Errorf("%s: projection: %w", identString(tbl.Identifier()), err)
	}
	dec, err := newEventDecoder(td, proj, sh)
	if err != nil {
		return err
	}
	for _, group := range lsnGroups(tasks) {
		_, recs, err := scan.ReadTasks(ctx, group)
		if err != nil {
			return fmt.Errorf("read %s: %w", identString(tbl.Identifier()), err)
		}
		var evs []*log.Event
		for rec, err := range recs {
			if err != nil {
				return fmt.Errorf("read %s: %w", identString(tbl.Identifier()), err)
			}
			evs, err = dec.decode(rec, after, upTo, match, evs)
			rec.Release()
			if err != nil {
				return fmt.Errorf("read %s: %w", identString(tbl.Identifier()), err)
			}
		}
		slices.SortFunc(evs, func(a, b *log.Event) int { return cmp.Compare(a.LSN, b.LSN) })
		for _, e := range evs {
			if err := fn(e); err != nil {
				return err
			}
		}
	}
	return nil
}

// eventsTable names the Iceberg table holding td's events.
func eventsTable(td *log.TableDesc, sh shape) table.Identifier {
	name := td.Name
	if sh == shapeChanges {
		name += ChangesSuffix
	}
	return table.Identifier{td.Schema, name}
}

// forget drops the cached metadata of td's events table.
func (r *ColdReader) forget(td *log.TableDesc, sh shape) {
	r.tables.forget(identString(eventsTable(td, sh)))
}

// load returns the Iceberg table holding td's events, covering upTo.
func (r *ColdReader) load(ctx context.Context, td *log.TableDesc, sh shape, upTo uint64) (*table.Table, error) {
	ident := eventsTable(td, sh)
	key := identString(ident)
	ct, ok := r.tables.get(key)
	if ok && time.Since(ct.loaded) < cacheFor {
		if wm, err := watermark(ct.tbl); err == nil && wm >= upTo {
			return ct.tbl, nil
		}
	}
	tbl, err := r.cat.LoadTable(ctx, ident)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", key, err)
	}
	if !belongsTo(tbl, td) {
		return nil, fmt.Errorf("Iceberg table %s belongs to Strand table id %q, not %d (was the table renamed after its events were tiered?)", key, tbl.Properties().Get(PropTableID, ""), td.ID)
	}
	wm, err := watermark(tbl)
	if err != nil {
		return nil, err
	}
	if wm < upTo {
		return nil, fmt.Errorf("Iceberg table %s covers the log up to LSN %d, short of the tiered LSN %d", key, wm, upTo)
	}
	r.tables.put(key, tbl)
	return tbl, nil
}

// lsnGroups orders the files by their lowest _lsn and groups those whose
// _lsn ranges overlap; a file without bounds overlaps everything.
func lsnGroups(tasks []table.FileScanTask) [][]table.FileScanTask {
	type span struct {
		lo, hi int64
		t      table.FileScanTask
	}
	spans := make([]span, 0, len(tasks))
	for _, t := range tasks {
		lo, okLo := boundInt64(t.File.LowerBoundValues(), lsnField.ID)
		hi, okHi := boundInt64(t.File.UpperBoundValues(), lsnField.ID)
		if !okLo || !okHi {
			lo, hi = math.MinInt64, math.MaxInt64
		}
		spans = append(spans, span{lo, hi, t})
	}
	slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.lo, b.lo) })
	var out [][]table.FileScanTask
	var curHi int64
	for i, s := range spans {
		if i == 0 || s.lo > curHi {
			out = append(out, nil)
			curHi = s.hi
		}
		curHi = max(curHi, s.hi)
		out[len(out)-1] = append(out[len(out)-1], s.t)
	}
	return out
}

// boundInt64 reads a long column bound (Iceberg's single-value binary
// form: 8 bytes little-endian).
func boundInt64(bounds map[int][]byte, id int) (int64, bool) {
	b, ok := bounds[id]
	if !ok || len(b) != 8 {
		return 0, false
	}
	return int64(binary.LittleEndian.Uint64(b)), true
}

// eventDecoder turns Arrow rows of an Iceberg table back into log events.
type eventDecoder struct {
	td  *log.TableDesc
	cur *log.SchemaVersion
	sh  shape
	// Record columns by field id: -1 when the projection lacks it.
	op, version, lsn, commitTime int
	// cols[i] is the record column of current column i (-1: NULL).
	cols     []int
	colTypes []types.T
	// enc[i] encodes current column i into the stored row.
	enc []valueEncoder
	// keyCols are the current positions of the key columns, in key order.
	keyCols []int
	vals    []types.Datum
}

func newEventDecoder(td *log.TableDesc, proj *iceberg.Schema, sh shape) (*eventDecoder, error) {
	cur := td.Current()
	byID := map[int]int{}
	for i, f := range proj.Fields() {
		byID[f.ID] = i
	}
	col := func(id int) int {
		if i, ok := byID[id]; ok {
			return i
		}
		return -1
	}
	d := &eventDecoder{td: td, cur: cur, sh: sh, op: col(opField.ID), version: col(versionField.ID),
		lsn: col(lsnField.ID), commitTime: col(commitTimeField.ID), vals: make([]types.Datum, len(cur.Columns))}
	if d.version < 0 || d.lsn < 0 || d.commitTime < 0 || (sh == shapeChanges && d.op < 0) {
		return nil, fmt.Errorf("table %s.%s: Iceberg table lacks the system columns", td.Schema, td.Name)
	}
	pos := map[uint32]int{}
	for i := range cur.Columns {
		c := &cur.Columns[i]
		pos[c.ID] = i
		d.cols = append(d.cols, col(int(c.ID)))
		d.colTypes = append(d.colTypes, columnType(c))
		d.enc = append(d.enc, encoderFor(columnType(c)))
	}
	for _, k := range cur.Key {
		p, ok := pos[k]
		if !ok {
			return nil, fmt.Errorf("table %s.%s: key column %d is not a column", td.Schema, td.Name, k)
		}
		d.keyCols = append(d.keyCols, p)
	}
	return d, nil
}

// decode appends the events of rec with LSN in (after, upTo] that match.
func (d *eventDecoder) decode(rec arrow.RecordBatch, after, upTo uint64, match func(*log.Event) bool, out []*log.Event) ([]*log.Event, error) {
	lsns, ok1 := rec.Column(d.lsn).(*array.Int64)
	vers, ok2 := rec.Column(d.version).(*array.Int64)
	cts, ok3 := rec.Column(d.commitTime).(*array.Timestamp)
	if !ok1 || !ok2 || !ok3 {
		return out, fmt.Errorf("table %s.%s: unexpected Arrow types of the system columns", d.td.Schema, d.td.Name)
	}
	var ops *array.String
	if d.sh == shapeChanges {
		if ops, ok1 = rec.Column(d.op).(*array.String); !ok1 {
			return out, fmt.Errorf("table %s.%s: unexpected Arrow type of %s", d.td.Schema, d.td.Name, OpColumn)
		}
	}
	for i := 0; i < int(rec.NumRows()); i++ {
		lsn := uint64(lsns.Value(i))
		if lsn <= after || lsn > upTo {
			continue
		}
		e := &log.Event{Table: d.td.ID, Version: uint64(vers.Value(i)), LSN: lsn, Op: log.OpAppend,
			SchemaVersion: d.cur.Version, CommitTime: int64(cts.Value(i))}
		if ops != nil {
			switch ops.Value(i) {
			case "insert":
				e.Op = log.OpInsert
			case "update":
				e.Op = log.OpUpdate
			case "delete":
				e.Op = log.OpDelete
			default:
				return out, fmt.Errorf("lsn %d: unknown %s %q", lsn, OpColumn, ops.Value(i))
			}
		}
		// The key first: a key's history skips every other row here.
		e.Key = []byte{}
		for _, p := range d.keyCols {
			if err := d.column(rec, i, p); err != nil {
				return out, fmt.Errorf("lsn %d: %w", lsn, err)
			}
			e.Key = types.AppendKey(e.Key, d.colTypes[p], d.vals[p])
		}
		if match != nil && !match(e) {
			continue
		}
		if e.Op != log.OpDelete {
			row, err := d.encodeRow(rec, i)
			if err != nil {
				return out, fmt.Errorf("lsn %d: %w", lsn, err)
			}
			e.Row = row
		}
		out = append(out, e)
	}
	return out, nil
}

// encodeRow encodes row i of rec in the storage encoding (types.EncodeRow)
// of the current columns, straight from the Arrow values.
func (d *eventDecoder) encodeRow(rec arrow.RecordBatch, i int) ([]byte, error) {
	n := len(d.cols)
	buf := make([]byte, 0, 8+8*n)
	buf = binary.AppendUvarint(buf, uint64(n))
	at := len(buf)
	for range (n + 7) / 8 {
		buf = append(buf, 0)
	}
	var err error
	for c, rc := range d.cols {
		if rc < 0 || rec.Column(rc).IsNull(i) {
			buf[at+c/8] |= 1 << (c % 8)
			continue
		}
		if buf, err = d.enc[c](buf, rec.Column(rc), i); err != nil {
			return nil, fmt.Errorf("column %q: %w", d.cur.Columns[c].Name, err)
		}
	}
	return buf, nil
}

// valueEncoder appends the storage encoding of row i (not NULL) of an
// Arrow column the compactor wrote (appenderFor's inverse).
type valueEncoder func(buf []byte, col arrow.Array, i int) ([]byte, error)

// encoderFor encodes the common types directly; the others (numeric,
// interval, arrays) go through their Datum.
func encoderFor(t types.T) valueEncoder {
	bad := func(col arrow.Array) error { return fmt.Errorf("type %s read from Arrow %s", t, col.DataType()) }
	varint := func(buf []byte, v int64) ([]byte, error) { return binary.AppendVarint(buf, v), nil }
	bytesOf := func(buf, b []byte) ([]byte, error) {
		return append(binary.AppendUvarint(buf, uint64(len(b))), b...), nil
	}
	if !t.IsArray() {
		switch t.OID {
		case types.BoolOID:
			return func(buf []byte, col arrow.Array, i int) ([]byte, error) {
				c, ok := col.(*array.Boolean)
				if !ok {
					return buf, bad(col)
				}
				if c.Value(i) {
					return append(buf, 1), nil
				}
				return append(buf, 0), nil
			}
		case types.Int2OID, types.Int4OID:
			return func(buf []byte, col arrow.Array, i int) ([]byte, error) {
				if c, ok := col.(*array.Int32); ok {
					return varint(buf, int64(c.Value(i)))
				}
				return buf, bad(col)
			}
		case types.Int8OID, types.OIDOID:
			return func(buf []byte, col arrow.Array, i int) ([]byte, error) {
				if c, ok := col.(*array.Int64); ok {
					return varint(buf, c.Value(i))
				}
				return buf, bad(col)
			}
		case types.Float4OID, types.Float8OID:
			return func(buf []byte, col arrow.Array, i int) ([]byte, error) {
				var v float64
				switch c := col.(type) {
				case *array.Float32:
					v = float64(c.Value(i))
				case *array.Float64:
					v = c.Value(i)
				default:
					return buf, bad(col)
				}
				return binary.LittleEndian.AppendUint64(buf, math.Float64bits(v)), nil
			}
		case types.TextOID, types.VarcharOID, types.BpcharOID, types.NameOID, types.JSONOID, types.JSONBOID:
			return func(buf []byte, col arrow.Array, i int) ([]byte, error) {
				if c, ok := col.(*array.String); ok {
					v := c.Value(i)
					return append(binary.AppendUvarint(buf, uint64(len(v))), v...), nil
				}
				return buf, bad(col)
			}
		case types.ByteaOID:
			return func(buf []byte, col arrow.Array, i int) ([]byte, error) {
				if c, ok := col.(*array.Binary); ok {
					return bytesOf(buf, c.Value(i))
				}
				return buf, bad(col)
			}
		case types.DateOID:
			return func(buf []byte, col arrow.Array, i int) ([]byte, error) {
				c, ok := col.(*array.Date32)
				if !ok {
					return buf, bad(col)
				}
				switch v := int32(c.Value(i)); v {
				case math.MaxInt32, math.MinInt32:
					return varint(buf, int64(v))
				default:
					return varint(buf, int64(v-unixEpochDays))
				}
			}
		case types.TimeOID:
			return func(buf []byte, col arrow.Array, i int) ([]byte, error) {
				if c, ok := col.(*array.Time64); ok {
					return varint(buf, int64(c.Value(i)))
				}
				return buf, bad(col)
			}
		case types.TimestampOID, types.TimestampTZOID:
			return func(buf []byte, col arrow.Array, i int) ([]byte, error) {
				if c, ok := col.(*array.Timestamp); ok {
					return varint(buf, strandMicros(int64(c.Value(i))))
				}
				return buf, bad(col)
			}
		}
	}
	one := []types.T{t}
	return func(buf []byte, col arrow.Array, i int) ([]byte, error) {
		d, err := datumOf(t, col, i)
		if err != nil {
			return buf, err
		}
		// A one-column row is a 1 (the count), a 0 (no NULL) and the value.
		row, err := types.EncodeRow(nil, one, []types.Datum{d})
		if err != nil {
			return buf, err
		}
		return append(buf, row[2:]...), nil
	}
}

// column decodes current column c of row i into d.vals[c].
func (d *eventDecoder) column(rec arrow.RecordBatch, i, c int) error {
	d.vals[c] = nil
	rc := d.cols[c]
	if rc < 0 {
		return nil
	}
	v, err := datumOf(d.colTypes[c], rec.Column(rc), i)
	if err != nil {
		return fmt.Errorf("column %q: %w", d.cur.Columns[c].Name, err)
	}
	d.vals[c] = v
	return nil
}

// datumOf converts row i of an Arrow column written by the compactor (see
// appenderFor) back into the Datum of Strand type t; NULL is nil.
func datumOf(t types.T, col arrow.Array, i int) (types.Datum, error) {
	if col.IsNull(i) {
		return nil, nil
	}
	if t.IsArray() {
		l, ok := col.(*array.List)
		if !ok {
			return nil, fmt.Errorf("want a list, have %s", col.DataType())
		}
		start, end := l.ValueOffsets(i)
		a := &types.Array{Elem: t.ElemType(), Elems: make([]types.Datum, 0, end-start)}
		vals := l.ListValues()
		for j := int(start); j < int(end); j++ {
			d, err := datumOf(t.ElemType(), vals, j)
			if err != nil {
				return nil, err
			}
			a.Elems = append(a.Elems, d)
		}
		return a, nil
	}
	bad := func() (types.Datum, error) {
		return nil, fmt.Errorf("type %s read from Arrow %s", t, col.DataType())
	}
	switch t.OID {
	case types.BoolOID:
		if c, ok := col.(*array.Boolean); ok {
			return c.Value(i), nil
		}
	case types.Int2OID, types.Int4OID:
		if c, ok := col.(*array.Int32); ok {
			return int64(c.Value(i)), nil
		}
	case types.Int8OID, types.OIDOID:
		if c, ok := col.(*array.Int64); ok {
			return c.Value(i), nil
		}
	case types.Float4OID:
		if c, ok := col.(*array.Float32); ok {
			return float64(c.Value(i)), nil
		}
	case types.Float8OID:
		if c, ok := col.(*array.Float64); ok {
			return c.Value(i), nil
		}
	case types.NumericOID:
		if _, s, ok := decimalOf(t); ok {
			c, ok := col.(*array.Decimal128)
			if !ok {
				return bad()
			}
			var coeff apd.BigInt
			coeff.SetMathBigInt(c.Value(i).BigInt())
			return apd.NewWithBigInt(&coeff, -int32(s)), nil
		}
		if c, ok := col.(*array.String); ok {
			return types.ParseText(t, c.Value(i), nil)
		}
	case types.TextOID, types.VarcharOID, types.BpcharOID, types.NameOID:
		if c, ok := col.(*array.String); ok {
			return c.Value(i), nil
		}
	case types.JSONOID:
		if c, ok := col.(*array.String); ok {
			return types.JSON(c.Value(i)), nil
		}
	case types.JSONBOID:
		if c, ok := col.(*array.String); ok {
			return types.JSONB(c.Value(i)), nil
		}
	case types.IntervalOID:
		if c, ok := col.(*array.String); ok {
			return types.ParseText(t, c.Value(i), nil)
		}
	case types.ByteaOID:
		if c, ok := col.(*array.Binary); ok {
			return append([]byte{}, c.Value(i)...), nil
		}
	case types.DateOID:
		if c, ok := col.(*array.Date32); ok {
			switch v := int32(c.Value(i)); v {
			case math.MaxInt32:
				return types.DateInfinity, nil
			case math.MinInt32:
				return types.DateNegInfinity, nil
			default:
				return types.Date(v - unixEpochDays), nil
			}
		}
	case types.TimeOID:
		if c, ok := col.(*array.Time64); ok {
			return types.TimeOfDay(c.Value(i)), nil
		}
	case types.TimestampOID:
		if c, ok := col.(*array.Timestamp); ok {
			return types.Timestamp(strandMicros(int64(c.Value(i)))), nil
		}
	case types.TimestampTZOID:
		if c, ok := col.(*array.Timestamp); ok {
			return types.TimestampTZ(strandMicros(int64(c.Value(i)))), nil
		}
	case types.UUIDOID:
		switch c := col.(type) {
		case *extensions.UUIDArray:
			return types.UUID(c.Value(i)), nil
		case *array.FixedSizeBinary:
			if b := c.Value(i); len(b) == 16 {
				return types.UUID(b), nil
			}
		}
	}
	return bad()
}

// strandMicros is unixMicros's inverse: Unix microseconds to Strand's
// 2000-based ones, the infinities kept.
func strandMicros(us int64) int64 {
	if us == math.MaxInt64 || us == math.MinInt64 {
		return us
	}
	return us - unixEpochMicros
}
