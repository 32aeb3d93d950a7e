package iceberg

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql/types"
)

// StateReader serves the Iceberg tables back to queries as columnar copies
// (log.StateReader): a keyed table's current-state table, a stream's
// events table. A read picks, among the current snapshot and its
// ancestors, the newest one whose watermark is at or below the query's
// snapshot, so the copy never holds a write the query must not see; the
// query reads the log after that watermark itself.
type StateReader struct {
	cat    *Catalog
	mem    memory.Allocator
	tables tableCache
	// rows counts the rows handed to queries, for tests and metrics.
	rows atomic.Int64
}

// stateFresh is how long loaded metadata serves reads that want a newer
// watermark than it has: a query after a compaction sees the new copy
// within this, and until then reads a longer log tail.
const stateFresh = time.Second

// NewStateReader reads columnar copies from the tables of cat.
func NewStateReader(cat *Catalog) *StateReader {
	return &StateReader{cat: cat, mem: memory.DefaultAllocator}
}

// StateReader is the reader of this compactor's tables for queries;
// install it with log.Log.SetStateReader.
func (c *Compactor) StateReader() *StateReader { return c.stateReader }

// RowsRead is the number of rows queries have read from columnar copies.
func (r *StateReader) RowsRead() int64 { return r.rows.Load() }

// ReadState implements log.StateReader.
func (r *StateReader) ReadState(ctx context.Context, td *log.TableDesc, upTo uint64, cols []uint32) (log.StateScan, bool, error) {
	var sh shape
	switch td.Kind {
	case log.Keyed:
		sh = shapeState
	case log.Stream:
		sh = shapeStream
	default:
		return nil, false, nil
	}
	cur := td.Current()
	conv := make([]stateColumn, len(cols))
	for i, id := range cols {
		if id == 0 {
			conv[i] = stateColumn{id: versionField.ID, t: types.Make(types.Int8OID)}
			continue
		}
		var c *log.Column
		for j := range cur.Columns {
			if cur.Columns[j].ID == id {
				c = &cur.Columns[j]
			}
		}
		if c == nil {
			return nil, false, fmt.Errorf("table %s has no column id %d", td.Name, id)
		}
		t := columnType(c)
		if !stateReadable(t) {
			return nil, false, nil
		}
		conv[i] = stateColumn{id: int(id), t: t}
	}
	tbl, err := r.load(ctx, td, sh, upTo)
	if err != nil || tbl == nil {
		return nil, false, err
	}
	snap, wm, ok := snapshotAtOrBelow(tbl, upTo)
	if !ok {
		return nil, false, nil
	}
	isc, ok := snapshotSchema(tbl, snap)
	if !ok {
		return nil, false, nil
	}
	var names []string
	for i := range conv {
		f, ok := isc.FindFieldByID(conv[i].id)
		if !ok {
			conv[i].missing = true
			continue
		}
		conv[i].name = f.Name
		names = append(names, f.Name)
	}
	if len(names) == 0 {
		// A scan that reads no column (count(*)) still needs its rows.
		names = []string{versionField.Name}
	}
	scan := tbl.Scan(table.WithSnapshotID(snap.SnapshotID), table.WithSelectedFields(names...))
	tasks, err := scan.PlanFiles(ctx)
	if err != nil {
		return nil, false, fmt.Errorf("plan %s: %w", identString(tbl.Identifier()), err)
	}
	var rows int64
	var parts []table.FileScanTask
	for _, t := range tasks {
		rows += t.File.Count()
		parts = append(parts, splitTask(t)...)
	}
	return &stateScan{r: r, tbl: tbl, scan: scan, tasks: parts, cols: conv, wm: wm, rows: rows}, true, nil
}

// splitRows is about how many rows a part of a large file holds.
const splitRows = 1 << 20

// splitTask divides a large file's task into byte ranges: a reader reads
// the row groups that start in its range, so the ranges, covering the
// file, read each row group once, and parts of one file run in parallel.
func splitTask(t table.FileScanTask) []table.FileScanTask {
	size := t.File.FileSizeBytes()
	n := t.File.Count() / splitRows
	if n <= 1 || t.Start != 0 || (t.Length != 0 && t.Length != size) || size < n {
		return []table.FileScanTask{t}
	}
	out := make([]table.FileScanTask, 0, n)
	for i := int64(0); i < n; i++ {
		p := t
		p.Start = size * i / n
		p.Length = size*(i+1)/n - p.Start
		out = append(out, p)
	}
	return out
}

// stateReadable reports whether a column of type t is given in Strand's
// stored form (see log.StateScan).
func stateReadable(t types.T) bool {
	switch t.OID {
	case types.Int2OID, types.Int4OID, types.Int8OID, types.DateOID, types.TimestampOID, types.TimestampTZOID,
		types.Float8OID, types.BoolOID, types.TextOID, types.VarcharOID:
		return true
	}
	return false
}

// load returns td's table of shape sh, reloaded when the cached metadata
// is older than stateFresh and short of upTo; nil when there is none or it
// belongs to another Strand table of the same name.
func (r *StateReader) load(ctx context.Context, td *log.TableDesc, sh shape, upTo uint64) (*table.Table, error) {
	ident := eventsTable(td, sh)
	key := identString(ident)
	ct, ok := r.tables.get(key)
	if ok && belongsTo(ct.tbl, td) {
		if wm, err := watermark(ct.tbl); err == nil && (wm >= upTo || time.Since(ct.loaded) < stateFresh) {
			return ct.tbl, nil
		}
	}
	exists, err := r.cat.CheckTableExists(ctx, ident)
	if err != nil || !exists {
		return nil, err
	}
	tbl, err := r.cat.LoadTable(ctx, ident)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", key, err)
	}
	r.tables.put(key, tbl)
	if !belongsTo(tbl, td) {
		return nil, nil
	}
	return tbl, nil
}

func belongsTo(tbl *table.Table, td *log.TableDesc) bool {
	return tbl.Properties().Get(PropTableID, "") == strconv.FormatUint(uint64(td.ID), 10)
}

// snapshotAtOrBelow walks back from the current snapshot to the first one
// whose watermark is at most upTo.
func snapshotAtOrBelow(tbl *table.Table, upTo uint64) (*table.Snapshot, uint64, bool) {
	md := tbl.Metadata()
	for s := md.CurrentSnapshot(); s != nil; {
		if s.Summary == nil {
			return nil, 0, false
		}
		wm, err := strconv.ParseUint(s.Summary.Properties.Get(PropLSNTo, ""), 10, 64)
		if err != nil {
			return nil, 0, false
		}
		if wm <= upTo {
			return s, wm, wm > 0
		}
		if s.ParentSnapshotID == nil {
			return nil, 0, false
		}
		s = md.SnapshotByID(*s.ParentSnapshotID)
	}
	return nil, 0, false
}

// snapshotSchema is the schema snapshot s was written under.
func snapshotSchema(tbl *table.Table, s *table.Snapshot) (*iceberg.Schema, bool) {
	md := tbl.Metadata()
	if s.SchemaID == nil {
		return md.CurrentSchema(), true
	}
	for _, sc := range md.Schemas() {
		if sc.ID == *s.SchemaID {
			return sc, true
		}
	}
	return nil, false
}

// stateColumn is one requested column: its Iceberg field ID, Strand type,
// and name in the snapshot's schema (missing: the snapshot predates it).
type stateColumn struct {
	id      int
	t       types.T
	name    string
	missing bool
}

type stateScan struct {
	r     *StateReader
	tbl   *table.Table
	scan  *table.Scan
	tasks []table.FileScanTask
	cols  []stateColumn
	wm    uint64
	rows  int64
}

func (s *stateScan) Watermark() uint64 { return s.wm }
func (s *stateScan) Rows() int64       { return s.rows }
func (s *stateScan) Parts() int        { return len(s.tasks) }

func (s *stateScan) ReadPart(ctx context.Context, i int, fn func(rec arrow.RecordBatch) error) error {
	sc, recs, err := s.scan.ReadTasks(ctx, s.tasks[i:i+1])
	if err != nil {
		return fmt.Errorf("read %s: %w", identString(s.tbl.Identifier()), err)
	}
	pos := make([]int, len(s.cols))
	for c := range s.cols {
		pos[c] = -1
		if !s.cols[c].missing {
			idx := sc.FieldIndices(s.cols[c].name)
			if len(idx) != 1 {
				return fmt.Errorf("read %s: column %q not in the scan's schema", identString(s.tbl.Identifier()), s.cols[c].name)
			}
			pos[c] = idx[0]
		}
	}
	fields := make([]arrow.Field, len(s.cols))
	for c := range s.cols {
		fields[c] = arrow.Field{Name: s.cols[c].name, Type: storedArrowType(s.cols[c].t), Nullable: true}
	}
	schema := arrow.NewSchema(fields, nil)
	for rec, err := range recs {
		if err != nil {
			return fmt.Errorf("read %s: %w", identString(s.tbl.Identifier()), err)
		}
		out, err := s.convert(schema, rec, pos)
		rec.Release()
		if err != nil {
			return fmt.Errorf("read %s: %w", identString(s.tbl.Identifier()), err)
		}
		s.r.rows.Add(out.NumRows())
		err = fn(out)
		out.Release()
		if err != nil {
			return err
		}
	}
	return nil
}

// storedArrowType is the Arrow type of a column of Strand type t in
// Strand's stored form.
func storedArrowType(t types.T) arrow.DataType {
	switch t.OID {
	case types.Float8OID:
		return arrow.PrimitiveTypes.Float64
	case types.BoolOID:
		return arrow.FixedWidthTypes.Boolean
	case types.TextOID, types.VarcharOID:
		return arrow.BinaryTypes.String
	}
	return arrow.PrimitiveTypes.Int64
}

// convert turns a record of the Iceberg scan into one in Strand's stored
// form: same-typed columns are shared, the others rebuilt.
func (s *stateScan) convert(schema *arrow.Schema, rec arrow.RecordBatch, pos []int) (arrow.RecordBatch, error) {
	n := int(rec.NumRows())
	cols := make([]arrow.Array, len(s.cols))
	defer func() {
		for _, c := range cols {
			if c != nil {
				c.Release()
			}
		}
	}()
	for c := range s.cols {
		if pos[c] < 0 {
			cols[c] = array.MakeArrayOfNull(s.r.mem, storedArrowType(s.cols[c].t), n)
			continue
		}
		a, err := storedArray(s.r.mem, s.cols[c].t, rec.Column(pos[c]))
		if err != nil {
			return nil, fmt.Errorf("column %q: %w", s.cols[c].name, err)
		}
		cols[c] = a
	}
	return array.NewRecordBatch(schema, cols, int64(n)), nil
}

// storedArray converts an Iceberg-typed Arrow column of Strand type t into
// its stored form (a new reference the caller releases).
func storedArray(mem memory.Allocator, t types.T, col arrow.Array) (arrow.Array, error) {
	bad := func() (arrow.Array, error) {
		return nil, fmt.Errorf("type %s read from Arrow %s", t, col.DataType())
	}
	switch c := col.(type) {
	case *array.Int64:
		if t.OID == types.Int8OID {
			c.Retain()
			return c, nil
		}
	case *array.Float64:
		if t.OID == types.Float8OID {
			c.Retain()
			return c, nil
		}
	case *array.Boolean:
		if t.OID == types.BoolOID {
			c.Retain()
			return c, nil
		}
	case *array.String:
		if t.OID == types.TextOID || t.OID == types.VarcharOID {
			c.Retain()
			return c, nil
		}
	case *array.Int32:
		if t.OID == types.Int2OID || t.OID == types.Int4OID {
			return mapInt64(mem, c, func(i int) int64 { return int64(c.Value(i)) }), nil
		}
	case *array.Date32:
		if t.OID == types.DateOID {
			return mapInt64(mem, c, func(i int) int64 {
				switch v := int32(c.Value(i)); v {
				case math.MaxInt32:
					return int64(types.DateInfinity)
				case math.MinInt32:
					return int64(types.DateNegInfinity)
				default:
					return int64(v - unixEpochDays)
				}
			}), nil
		}
	case *array.Timestamp:
		if t.OID == types.TimestampOID || t.OID == types.TimestampTZOID {
			return mapInt64(mem, c, func(i int) int64 { return strandMicros(int64(c.Value(i))) }), nil
		}
	}
	return bad()
}

// mapInt64 builds an Int64 column from col's validity and f's values.
func mapInt64(mem memory.Allocator, col arrow.Array, f func(i int) int64) arrow.Array {
	b := array.NewInt64Builder(mem)
	defer b.Release()
	n := col.Len()
	b.Reserve(n)
	for i := 0; i < n; i++ {
		if col.IsNull(i) {
			b.UnsafeAppendBoolToBitmap(false)
			continue
		}
		b.UnsafeAppend(f(i))
	}
	return b.NewArray()
}
