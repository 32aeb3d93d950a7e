package vec

import (
	"context"
	"fmt"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
	"github.com/strand-db/strand/sql/types/rowarrow"
)

// BatchRows is the number of rows per record batch.
const BatchRows = 64 << 10

// scanner reads spans of one table into Arrow record batches holding the
// columns a query reads. Rows written under older schema versions are
// mapped by column ID as exec.TableLayout maps them: a column added since
// is NULL, a dropped one is skipped.
type scanner struct {
	layout *exec.TableLayout
	// need lists the scan row positions read (the table's columns, then
	// _version at len(layout.Types)), ascending; kinds their vector kinds.
	need   []int
	kinds  []kind
	schema *arrow.Schema
	rb     *array.RecordBuilder
	// verB receives _version when it is read.
	verB *array.Int64Builder
	decs map[uint32]*rowarrow.Decoder
}

func newScanner(layout *exec.TableLayout, need []int) (*scanner, error) {
	s := &scanner{layout: layout, need: need, decs: map[uint32]*rowarrow.Decoder{}}
	fields := make([]arrow.Field, len(need))
	for i, p := range need {
		t := types.Make(types.Int8OID)
		name := exec.VersionColumn
		if p < len(layout.Types) {
			t, name = layout.Types[p], layout.Cur.Columns[p].Name
		}
		k, ok := kindOf(t)
		if !ok {
			return nil, fmt.Errorf("vectorized scan of %s: column %q of type %s", layout.Desc.Name, name, t)
		}
		s.kinds = append(s.kinds, k)
		fields[i] = arrow.Field{Name: name, Type: arrowType(k), Nullable: true}
	}
	s.schema = arrow.NewSchema(fields, nil)
	// Builders grow as rows come; only after a full batch are the next
	// batches' builders sized up front, so that a small table (and the
	// plan-time check of a scanner) costs no batch-sized buffers.
	s.rb = array.NewRecordBuilder(newBufferPool(), s.schema)
	if len(need) > 0 && need[len(need)-1] == len(layout.Types) {
		s.verB = s.rb.Field(len(need) - 1).(*array.Int64Builder)
	}
	for vi := range layout.Desc.Versions {
		v := &layout.Desc.Versions[vi]
		dec, err := s.decoder(v)
		if err != nil {
			s.rb.Release()
			return nil, err
		}
		s.decs[v.Version] = dec
	}
	return s, nil
}

// decoder maps the stored columns of schema version v onto the builders.
func (s *scanner) decoder(v *log.SchemaVersion) (*rowarrow.Decoder, error) {
	field := map[uint32]int{} // column ID → builder index
	for i, p := range s.need {
		if p < len(s.layout.Types) {
			field[s.layout.Cur.Columns[p].ID] = i
		}
	}
	stored := make([]types.T, len(v.Columns))
	into := make([]array.Builder, len(v.Columns))
	present := map[int]bool{}
	for i, c := range v.Columns {
		stored[i] = types.T{OID: types.OID(c.TypeOID), Typmod: c.Typmod}
		if f, ok := field[c.ID]; ok {
			if stored[i].OID != s.layout.Types[s.need[f]].OID {
				return nil, fmt.Errorf("vectorized scan of %s: column %q changed type", s.layout.Desc.Name, c.Name)
			}
			into[i] = s.rb.Field(f)
			present[f] = true
		}
	}
	var missing []array.Builder
	for f, p := range s.need {
		if p < len(s.layout.Types) && !present[f] {
			missing = append(missing, s.rb.Field(f))
		}
	}
	dec, ok := rowarrow.NewDecoder(stored, into, missing)
	if !ok {
		return nil, fmt.Errorf("vectorized scan of %s: schema version %d has no direct decoder", s.layout.Desc.Name, v.Version)
	}
	return dec, nil
}

func (s *scanner) release() { s.rb.Release() }

// scan reads one span of the snapshot and calls fn with each record batch
// (released after fn returns).
func (s *scanner) scan(ctx context.Context, snap *log.Snapshot, sp log.Span, fn func(rec arrow.RecordBatch, n int) error) error {
	b := batcher{s: s, ctx: ctx, fn: fn}
	if err := snap.ScanSpan(sp, b.add); err != nil {
		return err
	}
	return b.flush()
}

// rows decodes stored rows (keys' heads, or a stream's events in head form)
// into record batches, as scan does a span's.
func (s *scanner) rows(ctx context.Context, rows []log.Head, fn func(rec arrow.RecordBatch, n int) error) error {
	b := batcher{s: s, ctx: ctx, fn: fn}
	for i := range rows {
		if err := b.add(rows[i].SchemaVersion, rows[i].Version, rows[i].Row); err != nil {
			return err
		}
	}
	return b.flush()
}

// batcher decodes stored rows into the scanner's builders and hands each
// full batch to fn.
type batcher struct {
	s    *scanner
	ctx  context.Context
	fn   func(rec arrow.RecordBatch, n int) error
	rows int
}

func (b *batcher) add(schemaVersion uint32, version uint64, row []byte) error {
	s := b.s
	dec, ok := s.decs[schemaVersion]
	if !ok {
		return fmt.Errorf("table %s: unknown schema version %d", s.layout.Desc.Name, schemaVersion)
	}
	if err := dec.Decode(row); err != nil {
		return pgerr.New(pgerr.DataCorrupted, "table %s: decode row: %v", s.layout.Desc.Name, err)
	}
	if s.verB != nil {
		s.verB.Append(int64(version))
	}
	if b.rows++; b.rows == BatchRows {
		return b.flush()
	}
	return nil
}

func (b *batcher) flush() error {
	if b.rows == 0 {
		return nil
	}
	n := b.rows
	b.rows = 0
	rec := b.s.rb.NewRecordBatch()
	defer rec.Release()
	if n == BatchRows {
		b.s.rb.Reserve(BatchRows)
	}
	if err := b.ctx.Err(); err != nil {
		return context.Cause(b.ctx)
	}
	return b.fn(rec, n)
}
