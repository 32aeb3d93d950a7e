package planner

import (
	"math"
	"strconv"
	"strings"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql"
	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

// Sequences (CREATE SEQUENCE, and serial and identity columns, whose
// default is nextval of a sequence the table owns) are catalog entries of
// kind Sequence: their options here, the values they hand out kept by
// the session engine (sql/session/sequences.go), which records in the
// catalog how far it has allocated.

// Sequence option names in TableDesc.Options.
const (
	OptSeqStart     = "seq_start"
	OptSeqIncrement = "seq_increment"
	OptSeqMin       = "seq_min"
	OptSeqMax       = "seq_max"
	// OptSeqAllocated is the last value the sequence may have handed out
	// (absent: none yet); values after it are free.
	OptSeqAllocated = "seq_allocated"
	// OptSeqOwnedBy is the ID of the table whose column default reads
	// the sequence: dropped with it.
	OptSeqOwnedBy = "seq_owned_by"
	// OptSeqOwnedColumn is the name of the column whose default reads it
	// (pg_get_serial_sequence).
	OptSeqOwnedColumn = "seq_owned_column"
	// OptSeqAlways marks the sequence of a GENERATED ALWAYS AS IDENTITY
	// column: INSERT takes no other value for it without OVERRIDING
	// SYSTEM VALUE, and UPDATE none (alwaysIdentity).
	OptSeqAlways = "seq_always"
	// OptSeqType is the OID of the sequence's type (smallint, integer or
	// bigint), whose range bounds it.
	OptSeqType = "seq_type"
)

// alwaysColumns names table td's GENERATED ALWAYS AS IDENTITY columns
// (nil for none; a table with no nextval default is not looked further
// into, so a write to it costs nothing here).
func alwaysColumns(c *log.Catalog, td *log.TableDesc) map[string]bool {
	seq := false
	for _, col := range td.Current().Columns {
		seq = seq || strings.Contains(col.Default, "nextval")
	}
	if !seq {
		return nil
	}
	out := map[string]bool{}
	for _, id := range ownedSequences(c, td.ID) {
		if s, _ := c.Table(id); s.Options[OptSeqAlways] == "true" {
			out[s.Options[OptSeqOwnedColumn]] = true
		}
	}
	return out
}

// identityAlwaysErr is PostgreSQL's refusal of a value for a GENERATED
// ALWAYS identity column.
func identityAlwaysErr(col string, update bool) error {
	msg := "cannot insert a non-DEFAULT value into column %q"
	if update {
		msg = "column %q can only be updated to DEFAULT"
	}
	err := pgerr.New(pgerr.Code("428C9"), msg, col).WithDetail("Column %q is an identity column defined as GENERATED ALWAYS.", col)
	if !update {
		return err.WithHint("Use OVERRIDING SYSTEM VALUE to override.")
	}
	return err
}

// sequenceDesc makes a sequence's catalog entry, its bounds those of
// type t (bigint for a plain CREATE SEQUENCE).
func sequenceDesc(schema, name string, t types.T, o sql.SequenceOptions) (*log.TableDesc, error) {
	inc := int64(1)
	if o.Increment != nil {
		inc = *o.Increment
	}
	if inc == 0 {
		return nil, pgerr.New(pgerr.InvalidParameterValue, "INCREMENT must not be zero")
	}
	if t.OID != types.Int2OID && t.OID != types.Int4OID {
		t = types.Make(types.Int8OID)
	}
	top := int64(math.MaxInt64)
	switch t.OID {
	case types.Int2OID:
		top = math.MaxInt16
	case types.Int4OID:
		top = math.MaxInt32
	}
	lo, hi := int64(1), top
	if inc < 0 {
		lo, hi = -top, -1
	}
	if o.Min != nil {
		lo = *o.Min
	}
	if o.Max != nil {
		hi = *o.Max
	}
	start := lo
	if inc < 0 {
		start = hi
	}
	if o.Start != nil {
		start = *o.Start
	}
	if lo >= hi {
		return nil, pgerr.New(pgerr.InvalidParameterValue, "MINVALUE (%d) must be less than MAXVALUE (%d)", lo, hi)
	}
	if start < lo || start > hi {
		return nil, pgerr.New(pgerr.InvalidParameterValue, "START value (%d) cannot be outside the range (%d to %d)", start, lo, hi)
	}
	i8 := types.Make(types.Int8OID)
	return &log.TableDesc{Schema: schema, Name: name, Kind: log.Sequence,
		Versions: []log.SchemaVersion{{Version: 1, Columns: []log.Column{
			{ID: 1, Name: "last_value", TypeOID: uint32(i8.OID), Typmod: -1, NotNull: true},
			{ID: 2, Name: "log_cnt", TypeOID: uint32(i8.OID), Typmod: -1, NotNull: true},
			{ID: 3, Name: "is_called", TypeOID: uint32(types.BoolOID), Typmod: -1, NotNull: true},
		}}},
		NextColID: 3,
		Options: map[string]string{
			OptSeqStart: strconv.FormatInt(start, 10), OptSeqIncrement: strconv.FormatInt(inc, 10),
			OptSeqMin: strconv.FormatInt(lo, 10), OptSeqMax: strconv.FormatInt(hi, 10),
			OptSeqType: strconv.FormatUint(uint64(t.OID), 10),
		},
	}, nil
}

// CreateSequence plans CREATE SEQUENCE.
func (b *Builder) CreateSequence(st *sql.CreateSequence) (func(*log.Catalog) error, error) {
	t := types.Make(types.Int8OID)
	if st.Options.Type != "" {
		var err error
		if t, err = types.ParseTypeName(st.Options.Type); err != nil {
			return nil, err
		}
		if t.OID != types.Int2OID && t.OID != types.Int4OID && t.OID != types.Int8OID {
			return nil, pgerr.New(pgerr.InvalidParameterValue, "sequence type must be smallint, integer, or bigint")
		}
	}
	td, err := sequenceDesc(b.CreationSchema(st.Name.Schema), st.Name.Name, t, st.Options)
	if err != nil {
		return nil, err
	}
	return addTable(td, st.IfNotExists, nil), nil
}

// OwnedSequence is the sequence behind table id's column col (a serial
// or identity column), if any.
func OwnedSequence(c *log.Catalog, id log.TableID, col string) (*log.TableDesc, bool) {
	for _, sid := range ownedSequences(c, id) {
		if s, ok := c.Table(sid); ok && s.Options[OptSeqOwnedColumn] == col {
			return s, true
		}
	}
	return nil, false
}

// OwnedSequences are the sequences table id owns (serial and identity
// columns): TRUNCATE ... RESTART IDENTITY starts them over.
func OwnedSequences(c *log.Catalog, id log.TableID) []log.TableID { return ownedSequences(c, id) }

// ownedSequences are the sequences table id owns (serial and identity
// columns).
func ownedSequences(c *log.Catalog, id log.TableID) []log.TableID {
	var out []log.TableID
	want := strconv.FormatUint(uint64(id), 10)
	for _, t := range c.Tables {
		if t.Kind == log.Sequence && t.Options[OptSeqOwnedBy] == want {
			out = append(out, t.ID)
		}
	}
	return out
}

// sequenceRow is what SELECT * FROM a sequence reads, as PostgreSQL's one
// row: last_value (the last value allocated, ahead of what sessions have
// handed out, as a PostgreSQL sequence with a cache shows; its start
// before any), log_cnt 0, and is_called.
func sequenceRow(td *log.TableDesc) exec.Node {
	last, called := td.Options[OptSeqAllocated], true
	if last == "" {
		last, called = td.Options[OptSeqStart], false
	}
	v, _ := strconv.ParseInt(last, 10, 64)
	i8, b := types.Make(types.Int8OID), types.Make(types.BoolOID)
	oid := TableOID(td.ID)
	return &exec.Values{
		Cols: []exec.Column{{Name: "last_value", T: i8, Table: oid, Attr: 1}, {Name: "log_cnt", T: i8, Table: oid, Attr: 2}, {Name: "is_called", T: b, Table: oid, Attr: 3}},
		Rows: [][]exec.Expr{{&exec.Const{Val: v, T: i8}, &exec.Const{Val: int64(0), T: i8}, &exec.Const{Val: called, T: b}}},
	}
}
