package iceberg

import (
	"fmt"
	"math"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/decimal128"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
	"github.com/cockroachdb/apd/v3"

	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql/types"
	"github.com/strand-db/strand/sql/types/rowarrow"
)

// rowBuilder turns log events (or key heads) of one table into Arrow
// records in the table's current Iceberg schema. Rows written under older
// schema versions are mapped by column ID, as exec.TableLayout does for
// queries: a column added since is null, a dropped one is left out.
//
// Compaction throughput is decided here: most rows are decoded straight
// from the storage encoding into the Arrow builders (a varint into an
// Int64Builder, the bytes of a string into a StringBuilder), with no
// Datum in between. Only schema versions with a column whose storage form
// needs real work (numeric, interval, arrays) take the Datum path.
type rowBuilder struct {
	sh     shape
	td     *log.TableDesc
	cur    *log.SchemaVersion
	schema *arrow.Schema
	rb     *array.RecordBuilder
	// sys is the number of system columns before the user columns.
	sys      int
	colTypes []types.T
	appendFn []appendFunc
	versions map[uint32]*versionLayout
	vals     []types.Datum
	rows     int
	// bytes estimates the Arrow bytes added since the last flush.
	bytes int
	// reserve is the rows each batch's builders are sized for up front,
	// so they do not grow (and copy) as rows come in.
	reserve int

	// The system columns' builders.
	opB         *array.StringBuilder
	versionB    *array.Int64Builder
	lsnB        *array.Int64Builder
	commitTimeB *array.TimestampBuilder
}

// versionLayout maps the columns of one schema version onto the current ones.
type versionLayout struct {
	types []types.T
	// pos[i] is the current position of column i, or -1 if dropped.
	pos []int
	// keyPos[i] is the current position of key column i.
	keyPos   []int
	keyTypes []types.T
	// vals receives the Datum path's decoded row.
	vals []types.Datum

	// fast is set when every stored column decodes straight into its
	// builder (sql/types/rowarrow, shared with the vectorized query
	// engine); dec does it.
	fast bool
	dec  *rowarrow.Decoder
}

func newRowBuilder(mem memory.Allocator, td *log.TableDesc, sh shape) (*rowBuilder, *iceberg.Schema, error) {
	cur := td.Current()
	isc, err := Schema(td, cur, sh)
	if err != nil {
		return nil, nil, err
	}
	asc, err := table.SchemaToArrowSchema(isc, nil, true, false)
	if err != nil {
		return nil, nil, fmt.Errorf("table %s.%s: arrow schema: %w", td.Schema, td.Name, err)
	}
	b := &rowBuilder{sh: sh, td: td, cur: cur, schema: asc, rb: array.NewRecordBuilder(mem, asc),
		versions: map[uint32]*versionLayout{}, vals: make([]types.Datum, len(cur.Columns))}
	b.sys = len(isc.Fields()) - len(cur.Columns)
	f := 0
	if sh == shapeChanges {
		b.opB = b.rb.Field(0).(*array.StringBuilder)
		f = 1
	}
	b.versionB = b.rb.Field(f).(*array.Int64Builder)
	b.lsnB = b.rb.Field(f + 1).(*array.Int64Builder)
	if sh != shapeState {
		b.commitTimeB = b.rb.Field(f + 2).(*array.TimestampBuilder)
	}
	pos := map[uint32]int{}
	for i := range cur.Columns {
		c := &cur.Columns[i]
		pos[c.ID] = i
		t := columnType(c)
		b.colTypes = append(b.colTypes, t)
		fn, err := appenderFor(t)
		if err != nil {
			return nil, nil, fmt.Errorf("table %s.%s column %q: %w", td.Schema, td.Name, c.Name, err)
		}
		b.appendFn = append(b.appendFn, fn)
	}
	for vi := range td.Versions {
		v := &td.Versions[vi]
		vl := &versionLayout{}
		for i := range v.Columns {
			vl.types = append(vl.types, columnType(&v.Columns[i]))
			p, ok := pos[v.Columns[i].ID]
			if !ok {
				p = -1
			}
			vl.pos = append(vl.pos, p)
		}
		vl.vals = make([]types.Datum, len(vl.types))
		for _, k := range v.Key {
			p, ok := pos[k]
			if !ok {
				p = -1
			}
			vl.keyPos = append(vl.keyPos, p)
			for i := range v.Columns {
				if v.Columns[i].ID == k {
					vl.keyTypes = append(vl.keyTypes, columnType(&v.Columns[i]))
				}
			}
		}
		b.fastLayout(vl)
		b.versions[v.Version] = vl
	}
	return b, isc, nil
}

// fastLayout sets up the direct decoder of a version, if all its columns
// have one.
func (b *rowBuilder) fastLayout(vl *versionLayout) {
	present := make([]bool, len(b.colTypes))
	into := make([]array.Builder, len(vl.types))
	for i, t := range vl.types {
		if p := vl.pos[i]; p >= 0 {
			if b.colTypes[p] != t {
				return // a type change between versions: the Datum path converts
			}
			into[i] = b.rb.Field(b.sys + p)
			present[p] = true
		}
	}
	var missing []array.Builder
	for p, ok := range present {
		if !ok {
			missing = append(missing, b.rb.Field(b.sys+p))
		}
	}
	vl.dec, vl.fast = rowarrow.NewDecoder(vl.types, into, missing)
}

// addEvent appends one event as a row: for a stream its row, for a
// change log the op and the row (a delete has only its key columns).
func (b *rowBuilder) addEvent(e *log.Event) error {
	if err := b.addUser(e.SchemaVersion, e.Key, e.Row, e.Op == log.OpDelete); err != nil {
		return fmt.Errorf("event lsn %d: %w", e.LSN, err)
	}
	if b.opB != nil {
		b.opB.Append(e.Op.String())
	}
	b.versionB.Append(int64(e.Version))
	b.lsnB.Append(int64(e.LSN))
	b.commitTimeB.Append(arrow.Timestamp(e.CommitTime))
	b.rows++
	b.bytes += 24 + len(e.Row)
	return nil
}

// addHead appends a key's latest row (the current-state table).
func (b *rowBuilder) addHead(h *log.Head) error {
	if err := b.addUser(h.SchemaVersion, nil, h.Row, false); err != nil {
		return fmt.Errorf("head lsn %d: %w", h.LSN, err)
	}
	b.versionB.Append(int64(h.Version))
	b.lsnB.Append(int64(h.LSN))
	b.rows++
	b.bytes += 16 + len(h.Row)
	return nil
}

// addUser appends the user columns of a stored row (or of a key alone,
// when keyOnly). On error the builders may hold a partial row; the caller
// abandons the whole batch.
func (b *rowBuilder) addUser(schemaVersion uint32, key, row []byte, keyOnly bool) error {
	vl, ok := b.versions[schemaVersion]
	if !ok {
		return fmt.Errorf("table %s.%s: unknown schema version %d", b.td.Schema, b.td.Name, schemaVersion)
	}
	if vl.fast && !keyOnly {
		if err := vl.dec.Decode(row); err != nil {
			return fmt.Errorf("decode row: %w", err)
		}
		return nil
	}
	if err := b.decode(vl, key, row, keyOnly); err != nil {
		return err
	}
	return b.appendUser()
}

// decode fills b.vals with the current columns of a stored row, or with
// just the key columns (decoded from the key) when keyOnly.
func (b *rowBuilder) decode(vl *versionLayout, key, row []byte, keyOnly bool) error {
	clear(b.vals)
	if keyOnly {
		k := key
		for i, t := range vl.keyTypes {
			d, rest, err := types.DecodeKey(t, k)
			if err != nil {
				return fmt.Errorf("decode key: %w", err)
			}
			k = rest
			if p := vl.keyPos[i]; p >= 0 {
				b.vals[p] = d
			}
		}
		return nil
	}
	if err := types.DecodeRowInto(vl.vals, vl.types, row); err != nil {
		return fmt.Errorf("decode row: %w", err)
	}
	for i, p := range vl.pos {
		if p >= 0 {
			b.vals[p] = vl.vals[i]
		}
	}
	return nil
}

func (b *rowBuilder) appendUser() error {
	for i, d := range b.vals {
		fb := b.rb.Field(b.sys + i)
		if d == nil {
			fb.AppendNull()
			continue
		}
		if err := b.appendFn[i](fb, d); err != nil {
			return fmt.Errorf("column %q: %w", b.cur.Columns[i].Name, err)
		}
	}
	return nil
}

// flush returns the rows added since the last flush as a record (nil when
// there are none). The caller releases it.
func (b *rowBuilder) flush() arrow.RecordBatch {
	if b.rows == 0 {
		return nil
	}
	b.rows, b.bytes = 0, 0
	rec := b.rb.NewRecordBatch()
	if b.reserve > 0 {
		b.rb.Reserve(b.reserve)
	}
	return rec
}

func (b *rowBuilder) release() { b.rb.Release() }

// appendFunc appends one non-NULL datum to an Arrow builder.
type appendFunc func(ab array.Builder, d types.Datum) error

// Strand's dates and timestamps count from 2000-01-01, Iceberg's from 1970.
const (
	unixEpochDays   = 10957
	unixEpochMicros = 946684800 * 1000000
)

func appenderFor(t types.T) (appendFunc, error) {
	if t.IsArray() {
		elem, err := appenderFor(t.ElemType())
		if err != nil {
			return nil, err
		}
		return func(ab array.Builder, d types.Datum) error {
			lb := ab.(*array.ListBuilder)
			a := d.(*types.Array)
			lb.Append(true)
			vb := lb.ValueBuilder()
			for _, e := range a.Elems {
				if e == nil {
					vb.AppendNull()
					continue
				}
				if err := elem(vb, e); err != nil {
					return err
				}
			}
			return nil
		}, nil
	}
	switch t.OID {
	case types.BoolOID:
		return func(ab array.Builder, d types.Datum) error {
			ab.(*array.BooleanBuilder).Append(d.(bool))
			return nil
		}, nil
	case types.Int2OID, types.Int4OID:
		return func(ab array.Builder, d types.Datum) error {
			ab.(*array.Int32Builder).Append(int32(d.(int64)))
			return nil
		}, nil
	case types.Int8OID, types.OIDOID:
		return func(ab array.Builder, d types.Datum) error {
			ab.(*array.Int64Builder).Append(d.(int64))
			return nil
		}, nil
	case types.Float4OID:
		return func(ab array.Builder, d types.Datum) error {
			ab.(*array.Float32Builder).Append(float32(d.(float64)))
			return nil
		}, nil
	case types.Float8OID:
		return func(ab array.Builder, d types.Datum) error {
			ab.(*array.Float64Builder).Append(d.(float64))
			return nil
		}, nil
	case types.NumericOID:
		if _, s, ok := decimalOf(t); ok {
			return func(ab array.Builder, d types.Datum) error {
				n, ok, err := toDecimal128(d.(*apd.Decimal), s)
				if err != nil {
					return err
				}
				if !ok {
					ab.AppendNull()
					return nil
				}
				ab.(*array.Decimal128Builder).Append(n)
				return nil
			}, nil
		}
		return textAppender(t, nil), nil
	case types.TextOID, types.VarcharOID, types.BpcharOID, types.NameOID:
		return func(ab array.Builder, d types.Datum) error {
			ab.(*array.StringBuilder).Append(d.(string))
			return nil
		}, nil
	case types.JSONOID:
		return func(ab array.Builder, d types.Datum) error {
			ab.(*array.StringBuilder).Append(string(d.(types.JSON)))
			return nil
		}, nil
	case types.JSONBOID:
		return func(ab array.Builder, d types.Datum) error {
			ab.(*array.StringBuilder).Append(string(d.(types.JSONB)))
			return nil
		}, nil
	case types.IntervalOID:
		set := types.DefaultSettings()
		set.IntervalStyle = "iso_8601"
		return textAppender(t, set), nil
	case types.ByteaOID:
		return func(ab array.Builder, d types.Datum) error {
			ab.(*array.BinaryBuilder).Append(d.([]byte))
			return nil
		}, nil
	case types.DateOID:
		return func(ab array.Builder, d types.Datum) error {
			v := d.(types.Date)
			switch v {
			case types.DateInfinity:
				ab.(*array.Date32Builder).Append(math.MaxInt32)
			case types.DateNegInfinity:
				ab.(*array.Date32Builder).Append(math.MinInt32)
			default:
				ab.(*array.Date32Builder).Append(arrow.Date32(int32(v) + unixEpochDays))
			}
			return nil
		}, nil
	case types.TimeOID:
		return func(ab array.Builder, d types.Datum) error {
			ab.(*array.Time64Builder).Append(arrow.Time64(d.(types.TimeOfDay)))
			return nil
		}, nil
	case types.TimestampOID:
		return func(ab array.Builder, d types.Datum) error {
			ab.(*array.TimestampBuilder).Append(arrow.Timestamp(unixMicros(int64(d.(types.Timestamp)))))
			return nil
		}, nil
	case types.TimestampTZOID:
		return func(ab array.Builder, d types.Datum) error {
			ab.(*array.TimestampBuilder).Append(arrow.Timestamp(unixMicros(int64(d.(types.TimestampTZ)))))
			return nil
		}, nil
	case types.UUIDOID:
		return func(ab array.Builder, d types.Datum) error {
			ab.(*extensions.UUIDBuilder).AppendBytes(d.(types.UUID))
			return nil
		}, nil
	}
	return nil, fmt.Errorf("type %s has no Iceberg mapping", t)
}

// unixMicros moves a Strand timestamp to the Unix epoch; the infinities
// stay the int64 extremes.
func unixMicros(us int64) int64 {
	if us == math.MaxInt64 || us == math.MinInt64 {
		return us
	}
	return us + unixEpochMicros
}

func textAppender(t types.T, set *types.Settings) appendFunc {
	return func(ab array.Builder, d types.Datum) error {
		ab.(*array.StringBuilder).Append(types.FormatText(t, d, set))
		return nil
	}
}

// toDecimal128 rescales d to scale s; ok is false for NaN and the
// infinities, which an Iceberg decimal cannot hold.
func toDecimal128(d *apd.Decimal, s int) (decimal128.Num, bool, error) {
	if d.Form != apd.Finite {
		return decimal128.Num{}, false, nil
	}
	var q apd.Decimal
	ctx := apd.BaseContext.WithPrecision(60)
	if _, err := ctx.Quantize(&q, d, -int32(s)); err != nil {
		return decimal128.Num{}, false, fmt.Errorf("rescale %s to scale %d: %w", d, s, err)
	}
	bi := q.Coeff.MathBigInt()
	if q.Negative {
		bi.Neg(bi)
	}
	return decimal128.FromBigInt(bi), true, nil
}
