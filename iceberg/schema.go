package iceberg

import (
	"fmt"

	"github.com/apache/iceberg-go"

	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql/types"
)

// Field IDs. A user column's Iceberg field id is its Strand column ID, which
// is stable across renames and never reused, so Iceberg's own schema
// evolution rules (match by id, never by name) hold as ALTER TABLE changes
// the table. The system columns and the element fields of lists take ids in
// ranges Strand's column IDs never reach.
const (
	// systemFieldBase+n are the system columns.
	systemFieldBase = 1 << 30
	// elementFieldBase+c is the element field of array column c.
	elementFieldBase = 1 << 29
)

// The system columns. _op is in change logs only.
const (
	OpColumn         = "_op"
	VersionColumn    = "_version"
	LSNColumn        = "_lsn"
	CommitTimeColumn = "_commit_time"
)

var (
	opField         = iceberg.NestedField{ID: systemFieldBase + 1, Name: OpColumn, Type: iceberg.PrimitiveTypes.String, Required: true, Doc: "insert, update or delete"}
	versionField    = iceberg.NestedField{ID: systemFieldBase + 2, Name: VersionColumn, Type: iceberg.PrimitiveTypes.Int64, Required: true, Doc: "the key's version (1, 2, 3, ...)"}
	lsnField        = iceberg.NestedField{ID: systemFieldBase + 3, Name: LSNColumn, Type: iceberg.PrimitiveTypes.Int64, Required: true, Doc: "the event's commit position in the Strand log"}
	commitTimeField = iceberg.NestedField{ID: systemFieldBase + 4, Name: CommitTimeColumn, Type: iceberg.PrimitiveTypes.TimestampTz, Required: true, Doc: "the event's commit time"}
)

// shape is which Iceberg table of a Strand table is meant.
type shape uint8

const (
	// shapeStream: every event of a stream is a row (+ _version, _lsn, _commit_time).
	shapeStream shape = iota
	// shapeChanges: every event of a keyed table is a row
	// (_op, _version, _lsn, _commit_time + the row; deletes carry only the key).
	shapeChanges
	// shapeState: the live rows of a keyed table (+ _version, _lsn).
	shapeState
)

// IcebergType is the Iceberg type a Strand column type maps to, exactly:
//
//	boolean                      boolean
//	smallint, integer            int
//	bigint, oid                  long
//	real                         float
//	double precision             double
//	numeric(p,s), p <= 38        decimal(p,s)   (NaN is written as null)
//	numeric, numeric(p>38,s)     string         (PostgreSQL's text form, exact)
//	text, varchar, char, name    string
//	bytea                        binary
//	date                         date           (±infinity: the int32 extremes)
//	time                         time
//	timestamp                    timestamp      (±infinity: the int64 extremes)
//	timestamptz                  timestamptz    (±infinity: the int64 extremes)
//	interval                     string         (ISO 8601, "P1Y2M3DT4H5M6S")
//	uuid                         uuid
//	json, jsonb                  string
//	T[]                          list<T>        (element id 2^29 + column id)
//
// User columns are optional in Iceberg (the key columns of a current-state
// table excepted): change logs carry deletes as rows with only the key set,
// and Iceberg cannot make an optional column required later.
func IcebergType(t types.T, colID uint32) (iceberg.Type, error) {
	if t.IsArray() {
		elem, err := IcebergType(t.ElemType(), colID)
		if err != nil {
			return nil, err
		}
		return &iceberg.ListType{ElementID: elementFieldBase + int(colID), Element: elem}, nil
	}
	switch t.OID {
	case types.BoolOID:
		return iceberg.PrimitiveTypes.Bool, nil
	case types.Int2OID, types.Int4OID:
		return iceberg.PrimitiveTypes.Int32, nil
	case types.Int8OID, types.OIDOID:
		return iceberg.PrimitiveTypes.Int64, nil
	case types.Float4OID:
		return iceberg.PrimitiveTypes.Float32, nil
	case types.Float8OID:
		return iceberg.PrimitiveTypes.Float64, nil
	case types.NumericOID:
		if p, s, ok := decimalOf(t); ok {
			return iceberg.DecimalTypeOf(p, s), nil
		}
		return iceberg.PrimitiveTypes.String, nil
	case types.TextOID, types.VarcharOID, types.BpcharOID, types.NameOID,
		types.JSONOID, types.JSONBOID, types.IntervalOID:
		return iceberg.PrimitiveTypes.String, nil
	case types.ByteaOID:
		return iceberg.PrimitiveTypes.Binary, nil
	case types.DateOID:
		return iceberg.PrimitiveTypes.Date, nil
	case types.TimeOID:
		return iceberg.PrimitiveTypes.Time, nil
	case types.TimestampOID:
		return iceberg.PrimitiveTypes.Timestamp, nil
	case types.TimestampTZOID:
		return iceberg.PrimitiveTypes.TimestampTz, nil
	case types.UUIDOID:
		return iceberg.PrimitiveTypes.UUID, nil
	}
	return nil, fmt.Errorf("type %s has no Iceberg mapping", t)
}

// decimalOf reports whether a numeric type maps to an Iceberg decimal: it
// needs a declared precision within Iceberg's 38 digits and a scale Iceberg
// accepts (0 <= s <= p; PostgreSQL also allows negative scales and s > p).
func decimalOf(t types.T) (p, s int, ok bool) {
	if t.OID != types.NumericOID || t.Typmod < 4 {
		return 0, 0, false
	}
	p, s = types.NumericTypmod(t.Typmod)
	if p < 1 || p > 38 || s < 0 || s > p {
		return 0, 0, false
	}
	return p, s, true
}

// columnType is a Strand column's type.
func columnType(c *log.Column) types.T { return types.T{OID: types.OID(c.TypeOID), Typmod: c.Typmod} }

// Schema is the Iceberg schema of one shape of a table under schema version
// sv: the system columns, then sv's columns with their Strand IDs.
func Schema(td *log.TableDesc, sv *log.SchemaVersion, sh shape) (*iceberg.Schema, error) {
	var fields []iceberg.NestedField
	if sh == shapeChanges {
		fields = append(fields, opField)
	}
	fields = append(fields, versionField, lsnField)
	if sh != shapeState {
		// A key's head, which the state is built from, has no commit time.
		fields = append(fields, commitTimeField)
	}
	reserved := map[string]bool{OpColumn: true, VersionColumn: true, LSNColumn: true, CommitTimeColumn: true}
	for i := range sv.Columns {
		c := &sv.Columns[i]
		if reserved[c.Name] {
			return nil, fmt.Errorf("table %s.%s: column %q has the name of an Iceberg system column", td.Schema, td.Name, c.Name)
		}
		if c.ID == 0 || c.ID >= elementFieldBase {
			return nil, fmt.Errorf("table %s.%s: column %q has id %d, outside Iceberg's user range", td.Schema, td.Name, c.Name, c.ID)
		}
		it, err := IcebergType(columnType(c), c.ID)
		if err != nil {
			return nil, fmt.Errorf("table %s.%s column %q: %w", td.Schema, td.Name, c.Name, err)
		}
		fields = append(fields, iceberg.NestedField{ID: int(c.ID), Name: c.Name, Type: it})
	}
	// The key columns identify a row of the current state (Iceberg's
	// identifier fields must be required, so only the state table, whose
	// keys are never null, declares them; and they cannot be floats).
	var ids []int
	if sh == shapeState {
		for _, k := range sv.Key {
			ids = append(ids, int(k))
		}
		for i := range fields {
			for _, k := range ids {
				if fields[i].ID == k {
					switch fields[i].Type.(type) {
					case iceberg.Float32Type, iceberg.Float64Type, *iceberg.ListType:
						ids = nil
					}
				}
			}
		}
		for i := range fields {
			for _, k := range ids {
				if fields[i].ID == k {
					fields[i].Required = true
				}
			}
		}
	}
	return iceberg.NewSchemaWithIdentifiers(0, ids, fields...), nil
}
