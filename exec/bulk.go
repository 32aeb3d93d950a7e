package exec

import (
	"encoding/binary"

	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

// BulkEncoder turns COPY rows into the pre-encoded rows of a log.Bulk: the
// key and the stored row of each, after the checks INSERT makes (NOT NULL,
// CHECK, defaults for columns COPY does not list). The key-exists check is
// the log's, at commit.
//
// When every column of the table is listed, of type smallint, integer or
// bigint, with no CHECK constraint and no _version, text fields are parsed
// and encoded straight to bytes (AddText), without a Datum per value: the
// common shape of bulk loads of ids and counters. Anything else goes
// through Datums (AddRow), as INSERT does.
type BulkEncoder struct {
	l        *TableLayout
	target   []int
	defaults []Expr
	checks   []RowCheck
	rt       Runtime

	fast bool

	row      Row
	key, enc []byte
	ints     []int64
	nulls    []bool
}

// NewBulkEncoder prepares the encoding of rows whose values are given for
// the columns target (positions in l, len(l.Types) for _version); defaults
// has, per table column, the default of unlisted columns (nil: NULL).
func NewBulkEncoder(l *TableLayout, target []int, defaults []Expr, checks []RowCheck, env *Env) *BulkEncoder {
	nt := len(l.Types)
	e := &BulkEncoder{l: l, target: target, defaults: defaults, checks: checks, rt: Runtime{Env: env}, row: make(Row, nt+1)}
	e.fast = len(checks) == 0 && len(target) == nt
	listed := make([]bool, nt)
	for _, c := range target {
		if c >= nt || listed[c] {
			e.fast = false
			continue
		}
		listed[c] = true
	}
	for _, t := range l.Types {
		switch t.OID {
		case types.Int2OID, types.Int4OID, types.Int8OID:
		default:
			e.fast = false
		}
	}
	e.ints = make([]int64, nt)
	e.nulls = make([]bool, nt)
	return e
}

// SetsVersion reports whether the rows give _version, which the bulk path
// does not take for streams (each row would carry its own condition).
func (e *BulkEncoder) SetsVersion() bool {
	for _, c := range e.target {
		if c == len(e.l.Types) {
			return true
		}
	}
	return false
}

// FastText reports whether AddText may be used.
func (e *BulkEncoder) FastText() bool { return e.fast }

// AddText adds a row given as unescaped text fields (nil is NULL), one per
// target column. Only when FastText. set is the session's type settings,
// for the errors of values the fast parser leaves to types.ParseText.
func (e *BulkEncoder) AddText(b *log.Bulk, fields [][]byte, set *types.Settings) error {
	l := e.l
	// Fields are parsed in input order and NOT NULL checked after, in
	// column order, as INSERT does: the first error is the same one.
	for f, c := range e.target {
		e.nulls[c] = fields[f] == nil
		if e.nulls[c] {
			continue
		}
		t := l.Types[c]
		v, ok := parseIntFast(fields[f], t.OID)
		if !ok {
			d, err := types.ParseText(t, string(fields[f]), set)
			if err != nil {
				return err
			}
			v = d.(int64)
		}
		e.ints[c] = v
	}
	for c := range l.Types {
		if e.nulls[c] && l.Cur.Columns[c].NotNull {
			return notNull(l, c)
		}
	}
	// The key: types.AppendKey's encoding of each key column.
	e.key = e.key[:0]
	for _, c := range l.KeyIdx {
		if e.nulls[c] {
			e.key = append(e.key, 0x00)
			continue
		}
		e.key = appendIntKey(append(e.key, 0x01), l.Types[c].OID, e.ints[c])
	}
	// The row: types.EncodeRow's layout (count, NULL bitmap, zigzag varints).
	nt := len(l.Types)
	e.enc = binary.AppendUvarint(e.enc[:0], uint64(nt))
	at := len(e.enc)
	for i := 0; i < (nt+7)/8; i++ {
		e.enc = append(e.enc, 0)
	}
	for c := 0; c < nt; c++ {
		if e.nulls[c] {
			e.enc[at+c/8] |= 1 << (c % 8)
			continue
		}
		e.enc = binary.AppendVarint(e.enc, e.ints[c])
	}
	b.Add(e.key, e.enc)
	return nil
}

// AddRow adds a row given as Datums, one per target column.
func (e *BulkEncoder) AddRow(b *log.Bulk, vals []types.Datum) error {
	l := e.l
	nt := len(l.Types)
	row := e.row
	for i := range row {
		row[i] = nil
	}
	for i := 0; i < nt; i++ {
		if e.defaults[i] != nil {
			v, err := e.defaults[i].Eval(e.rt.Env, nil)
			if err != nil {
				return err
			}
			row[i] = v
		}
	}
	for i, c := range e.target {
		row[c] = vals[i]
	}
	if err := checkRow(&e.rt, l, row, e.checks); err != nil {
		return err
	}
	if row[nt] != nil {
		if l.Desc.Kind == log.Keyed {
			return pgerr.New(pgerr.FeatureNotSupported, "cannot set _version when inserting into keyed table %q; use UPDATE ... WHERE _version = n", l.Desc.Name)
		}
		return pgerr.New(pgerr.FeatureNotSupported, "bulk load of %q cannot set _version", l.Desc.Name)
	}
	e.key = e.key[:0]
	for _, c := range l.KeyIdx {
		e.key = types.AppendKey(e.key, l.Types[c], row[c])
	}
	var err error
	if e.enc, err = types.EncodeRow(e.enc[:0], l.Types, row[:nt]); err != nil {
		return err
	}
	b.Add(e.key, e.enc)
	return nil
}

func notNull(l *TableLayout, c int) error {
	return pgerr.New(pgerr.NotNullViolation, "null value in column %q of relation %q violates not-null constraint", l.Cur.Columns[c].Name, l.Desc.Name)
}

// parseIntFast parses the plain form of an integer, an optional sign and
// 1 to 18 digits, within the type's range. Anything else (spaces, more
// digits, out of range, not a number) reports !ok and is left to
// types.ParseText, which accepts or rejects it as PostgreSQL does.
func parseIntFast(f []byte, oid types.OID) (int64, bool) {
	i, neg := 0, false
	if len(f) > 0 && (f[0] == '-' || f[0] == '+') {
		neg, i = f[0] == '-', 1
	}
	if i == len(f) || len(f)-i > 18 {
		return 0, false
	}
	var v int64
	for ; i < len(f); i++ {
		c := f[i] - '0'
		if c > 9 {
			return 0, false
		}
		v = v*10 + int64(c)
	}
	if neg {
		v = -v
	}
	switch oid {
	case types.Int2OID:
		return v, v >= -1<<15 && v < 1<<15
	case types.Int4OID:
		return v, v >= -1<<31 && v < 1<<31
	}
	return v, true
}

// appendIntKey is types.AppendKey's body for an integer of type oid:
// big-endian with the sign bit flipped.
func appendIntKey(buf []byte, oid types.OID, v int64) []byte {
	switch oid {
	case types.Int2OID:
		return binary.BigEndian.AppendUint16(buf, uint16(v)^0x8000)
	case types.Int4OID:
		return binary.BigEndian.AppendUint32(buf, uint32(v)^0x80000000)
	}
	return binary.BigEndian.AppendUint64(buf, uint64(v)^(1<<63))
}
