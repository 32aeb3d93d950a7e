package iceberg

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/compute"
	"github.com/apache/arrow-go/v18/arrow/extensions"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/arrow-go/v18/parquet/metadata"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"
)

// partitioner splits the records of a partitioned Iceberg table by
// partition tuple, so that each data file holds exactly one partition's
// rows and its manifest entry can record the partition values (which
// readers prune on). It applies iceberg-go's own transforms to each row's
// source values, so the values are exactly those readers derive from
// predicates.
type partitioner struct {
	fields []partitionColumn
	mem    memory.Allocator
}

type partitionColumn struct {
	field iceberg.PartitionField
	// col is the source column's index in the records.
	col int
}

// partChunk is the rows of one record that belong to one partition.
type partChunk struct {
	key    string
	values map[int]any
	rec    arrow.RecordBatch
}

// newPartitioner returns nil for an unpartitioned spec. Source columns are
// found by their field ids, which the records' schema carries.
func newPartitioner(mem memory.Allocator, spec iceberg.PartitionSpec, schema *arrow.Schema) (*partitioner, error) {
	if spec.IsUnpartitioned() {
		return nil, nil
	}
	byID := map[int]int{}
	for i, f := range schema.Fields() {
		if v, ok := f.Metadata.GetValue("PARQUET:field_id"); ok {
			if id, err := strconv.Atoi(v); err == nil {
				byID[id] = i
			}
		}
	}
	p := &partitioner{mem: mem}
	for _, f := range spec.Fields() {
		col, ok := byID[f.SourceID()]
		if !ok {
			return nil, fmt.Errorf("partition field %s: source column %d is not in the table's schema", f.Name, f.SourceID())
		}
		p.fields = append(p.fields, partitionColumn{field: f, col: col})
	}
	return p, nil
}

// split groups rec's rows by partition. A record whose rows all fall in
// one partition (the common case for a time transform over recent events)
// is passed through without copying; otherwise each partition's rows are
// taken into a record of their own, keeping their order. The caller
// releases the chunks' records.
func (p *partitioner) split(rec arrow.RecordBatch) ([]partChunk, error) {
	n := int(rec.NumRows())
	var (
		chunks []partChunk
		rows   [][]int64
		index  = map[string]int{}
		key    []byte
		vals   = make([]any, len(p.fields))
	)
	for r := 0; r < n; r++ {
		key = key[:0]
		for i, f := range p.fields {
			v, err := partitionValue(rec.Column(f.col), r, f.field.Transform)
			if err != nil {
				return nil, fmt.Errorf("partition field %s: %w", f.field.Name, err)
			}
			vals[i] = v
			key = appendKey(key, v)
		}
		ci, ok := index[string(key)]
		if !ok {
			k := string(key)
			ci = len(chunks)
			index[k] = ci
			m := make(map[int]any, len(p.fields))
			for i, f := range p.fields {
				if vals[i] != nil {
					m[f.field.FieldID] = vals[i]
				}
			}
			chunks = append(chunks, partChunk{key: k, values: m})
			rows = append(rows, nil)
		}
		rows[ci] = append(rows[ci], int64(r))
	}
	if len(chunks) == 1 {
		rec.Retain()
		chunks[0].rec = rec
		return chunks, nil
	}
	for i := range chunks {
		rec, err := p.take(rec, rows[i])
		if err != nil {
			for _, c := range chunks[:i] {
				c.rec.Release()
			}
			return nil, err
		}
		chunks[i].rec = rec
	}
	return chunks, nil
}

func (p *partitioner) take(rec arrow.RecordBatch, rows []int64) (arrow.RecordBatch, error) {
	b := array.NewInt64Builder(p.mem)
	defer b.Release()
	b.AppendValues(rows, nil)
	idx := b.NewInt64Array()
	defer idx.Release()
	ctx := compute.WithAllocator(context.Background(), p.mem)
	out, err := compute.Take(ctx, *compute.DefaultTakeOptions(), compute.NewDatum(rec), compute.NewDatum(idx))
	if err != nil {
		return nil, fmt.Errorf("split record by partition: %w", err)
	}
	rd, ok := out.(*compute.RecordDatum)
	if !ok {
		out.Release()
		return nil, fmt.Errorf("split record by partition: take returned %T", out)
	}
	return rd.Value, nil
}

// appendKey appends a partition value to a row's key: a tag and the
// value, without fmt for the common types (it runs once per row and field).
func appendKey(key []byte, v any) []byte {
	switch x := v.(type) {
	case nil:
		return append(key, 0, 'n')
	case int32:
		return strconv.AppendInt(append(key, 0, 'i'), int64(x), 10)
	case int64:
		return strconv.AppendInt(append(key, 0, 'l'), x, 10)
	case iceberg.Date:
		return strconv.AppendInt(append(key, 0, 'd'), int64(x), 10)
	case string:
		return append(strconv.AppendInt(append(key, 0, 's'), int64(len(x)), 10), x...)
	case []byte:
		return append(strconv.AppendInt(append(key, 0, 'b'), int64(len(x)), 10), x...)
	}
	return fmt.Appendf(append(key, 0, 'v'), "%T:%v", v, v)
}

// partitionValue is the transformed partition value of row r of col (nil
// for null).
func partitionValue(col arrow.Array, r int, tr iceberg.Transform) (any, error) {
	if col.IsNull(r) {
		return nil, nil
	}
	var lit iceberg.Literal
	switch a := col.(type) {
	case *array.Boolean:
		lit = iceberg.NewLiteral(a.Value(r))
	case *array.Int32:
		lit = iceberg.NewLiteral(a.Value(r))
	case *array.Int64:
		lit = iceberg.NewLiteral(a.Value(r))
	case *array.Float32:
		lit = iceberg.NewLiteral(a.Value(r))
	case *array.Float64:
		lit = iceberg.NewLiteral(a.Value(r))
	case *array.Date32:
		lit = iceberg.NewLiteral(iceberg.Date(a.Value(r)))
	case *array.Time64:
		lit = iceberg.NewLiteral(iceberg.Time(a.Value(r)))
	case *array.Timestamp:
		lit = iceberg.NewLiteral(iceberg.Timestamp(a.Value(r)))
	case *array.String:
		lit = iceberg.NewLiteral(a.Value(r))
	case *array.LargeString:
		lit = iceberg.NewLiteral(a.Value(r))
	case *array.Binary:
		lit = iceberg.NewLiteral(append([]byte(nil), a.Value(r)...))
	case *array.LargeBinary:
		lit = iceberg.NewLiteral(append([]byte(nil), a.Value(r)...))
	case *array.Decimal128:
		lit = iceberg.NewLiteral(iceberg.Decimal{Val: a.Value(r), Scale: int(a.DataType().(*arrow.Decimal128Type).Scale)})
	case *extensions.UUIDArray:
		lit = iceberg.NewLiteral(a.Value(r))
	case *array.FixedSizeBinary:
		lit = iceberg.NewLiteral(append([]byte(nil), a.Value(r)...))
	default:
		return nil, fmt.Errorf("cannot partition on a column of Arrow type %s", col.DataType())
	}
	out := tr.Apply(iceberg.Optional[iceberg.Literal]{Valid: true, Val: lit})
	if !out.Valid {
		return nil, nil
	}
	return out.Val.Any(), nil
}

// writtenFile is a closed data file of a partitioned table, with what its
// manifest entry needs.
type writtenFile struct {
	path   string
	size   int64
	meta   *metadata.FileMetaData
	values map[int]any
}

// partitionedDataFiles turns the written files of a partitioned table into
// Iceberg data files carrying their partition values, from the Parquet
// footers in memory (no file is read back).
func partitionedDataFiles(tbl *table.Table, files []writtenFile) ([]iceberg.DataFile, error) {
	out := make([]iceberg.DataFile, 0, len(files))
	for _, f := range files {
		df, err := table.DataFileFromMetadata(table.DataFileArgs{
			Schema:          tbl.Schema(),
			Spec:            tbl.Spec(),
			Format:          iceberg.ParquetFile,
			Metadata:        f.meta,
			FilePath:        f.path,
			FileSize:        f.size,
			Content:         iceberg.EntryContentData,
			PartitionValues: f.values,
			Properties:      tbl.Properties(),
			FormatVersion:   tbl.Metadata().Version(),
		})
		if err != nil {
			return nil, fmt.Errorf("data file %s: %w", f.path, err)
		}
		out = append(out, df)
	}
	return out, nil
}

// partitionKey renders a data file's partition tuple for grouping (merges
// stay within one partition).
func partitionKey(df iceberg.DataFile) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d", df.SpecID())
	part := df.Partition()
	for _, id := range slices.Sorted(maps.Keys(part)) {
		fmt.Fprintf(&b, "\x00%d=%T:%v", id, part[id], part[id])
	}
	return b.String()
}
