package iceberg

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/apache/iceberg-go"

	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql/pgerr"
)

// Partitioning.
//
// CREATE TABLE t (...) WITH (partition_by = 'day(ts), region') gives t's
// Iceberg tables (the stream table; for a keyed table both its change log
// and its current state) an Iceberg partition spec. The option is a
// comma-separated list of fields, each
//
//	col | identity(col)          the value itself
//	year(col) month(col) day(col) date, timestamp, timestamptz
//	hour(col)                    timestamp, timestamptz
//	bucket(N, col)               Iceberg's murmur3 hash mod N
//	truncate(W, col)             integers to a multiple of W, strings to W characters
//
// with the transforms and type rules of the Iceberg spec. The option is set
// at CREATE only (ALTER TABLE SET refuses it): Strand never evolves a
// partition spec. Names are resolved against the table's first schema
// version, so a later RENAME COLUMN does not change what the spec means;
// the spec refers to columns by id (Strand's column ids), as Iceberg does.
// Partition field ids start at 1000, Iceberg's convention.

// OptPartitionBy is the table option holding the partition spec.
const OptPartitionBy = "partition_by"

// partitionFieldBase is the first partition field id.
const partitionFieldBase = 1000

// PartitionField is one field of a parsed partition_by option.
type PartitionField struct {
	// Transform is the Iceberg transform; Column the Strand column (its ID
	// is the Iceberg source field id).
	Transform iceberg.Transform
	Column    log.Column
}

// Name is the partition field's name, as Spark and pyiceberg name them:
// the column for identity, col_day, col_bucket, col_trunc, ...
func (f PartitionField) Name() string {
	switch f.Transform.(type) {
	case iceberg.IdentityTransform:
		return f.Column.Name
	case iceberg.YearTransform:
		return f.Column.Name + "_year"
	case iceberg.MonthTransform:
		return f.Column.Name + "_month"
	case iceberg.DayTransform:
		return f.Column.Name + "_day"
	case iceberg.HourTransform:
		return f.Column.Name + "_hour"
	case iceberg.BucketTransform:
		return f.Column.Name + "_bucket"
	case iceberg.TruncateTransform:
		return f.Column.Name + "_trunc"
	}
	return f.Column.Name + "_" + f.Transform.String()
}

// ParsePartitionBy parses a partition_by option against the table's
// columns. Errors carry SQLSTATE 22023 (bad syntax, transform, or a
// transform the column's type does not support) or 42703 (no such column),
// and name the part of the option at fault.
func ParsePartitionBy(spec string, cols []log.Column) ([]PartitionField, error) {
	parts, err := splitTopLevel(spec)
	if err != nil {
		return nil, err
	}
	var out []PartitionField
	seen := map[string]bool{}
	for _, part := range parts {
		f, err := parsePartitionField(part, cols)
		if err != nil {
			return nil, err
		}
		if seen[f.Name()] {
			return nil, pgerr.New(pgerr.InvalidParameterValue, "partition_by: %q repeats partition field %q", part, f.Name())
		}
		seen[f.Name()] = true
		out = append(out, f)
	}
	return out, nil
}

// CheckPartitionBy validates td's partition_by option, if any, for CREATE
// TABLE.
func CheckPartitionBy(td *log.TableDesc) error {
	_, err := tablePartitionFields(td)
	return err
}

// tablePartitionFields parses td's partition_by option against its first
// schema version (nil: not partitioned).
func tablePartitionFields(td *log.TableDesc) ([]PartitionField, error) {
	spec, ok := td.Options[OptPartitionBy]
	if !ok || len(td.Versions) == 0 {
		return nil, nil
	}
	return ParsePartitionBy(spec, td.Versions[0].Columns)
}

// splitTopLevel splits on the commas outside parentheses.
func splitTopLevel(s string) ([]string, error) {
	var out []string
	depth, start := 0, 0
	for i, r := range s {
		switch r {
		case '(':
			depth++
		case ')':
			depth--
			if depth < 0 {
				return nil, pgerr.New(pgerr.InvalidParameterValue, "partition_by: unbalanced parentheses in %q", s)
			}
		case ',':
			if depth == 0 {
				out = append(out, strings.TrimSpace(s[start:i]))
				start = i + 1
			}
		}
	}
	if depth != 0 {
		return nil, pgerr.New(pgerr.InvalidParameterValue, "partition_by: unbalanced parentheses in %q", s)
	}
	out = append(out, strings.TrimSpace(s[start:]))
	for _, p := range out {
		if p == "" {
			return nil, pgerr.New(pgerr.InvalidParameterValue, "partition_by: empty field in %q (want e.g. 'day(ts), region')", s)
		}
	}
	return out, nil
}

func parsePartitionField(part string, cols []log.Column) (PartitionField, error) {
	fn, args := "identity", []string{part}
	if open := strings.IndexByte(part, '('); open >= 0 {
		if !strings.HasSuffix(part, ")") {
			return PartitionField{}, pgerr.New(pgerr.InvalidParameterValue, "partition_by: cannot parse %q (want transform(column))", part)
		}
		fn = strings.ToLower(strings.TrimSpace(part[:open]))
		args = strings.Split(part[open+1:len(part)-1], ",")
		for i := range args {
			args[i] = strings.TrimSpace(args[i])
		}
	}
	var (
		tr    iceberg.Transform
		nargs = 1
	)
	switch fn {
	case "identity":
		tr = iceberg.IdentityTransform{}
	case "year", "years":
		tr = iceberg.YearTransform{}
	case "month", "months":
		tr = iceberg.MonthTransform{}
	case "day", "days":
		tr = iceberg.DayTransform{}
	case "hour", "hours":
		tr = iceberg.HourTransform{}
	case "bucket", "truncate":
		nargs = 2
	default:
		return PartitionField{}, pgerr.New(pgerr.InvalidParameterValue,
			"partition_by: unknown transform %q in %q (want identity, year, month, day, hour, bucket or truncate)", fn, part)
	}
	if len(args) != nargs {
		want := "transform(column)"
		if nargs == 2 {
			want = fn + "(N, column)"
		}
		return PartitionField{}, pgerr.New(pgerr.InvalidParameterValue, "partition_by: %q takes %d argument(s) (want %s)", part, nargs, want)
	}
	if nargs == 2 {
		n, err := strconv.Atoi(args[0])
		if err != nil || n <= 0 {
			return PartitionField{}, pgerr.New(pgerr.InvalidParameterValue, "partition_by: %q: %q is not a positive integer", part, args[0])
		}
		if fn == "bucket" {
			tr = iceberg.BucketTransform{NumBuckets: n}
		} else {
			tr = iceberg.TruncateTransform{Width: n}
		}
		args = args[1:]
	}
	name := args[0]
	if len(name) >= 2 && name[0] == '"' && name[len(name)-1] == '"' {
		name = name[1 : len(name)-1]
	} else {
		name = strings.ToLower(name)
	}
	var col *log.Column
	for i := range cols {
		if cols[i].Name == name {
			col = &cols[i]
		}
	}
	if col == nil {
		return PartitionField{}, pgerr.New(pgerr.UndefinedColumn, "partition_by: column %q named in %q does not exist", name, part)
	}
	t := columnType(col)
	it, err := IcebergType(t, col.ID)
	if err != nil {
		return PartitionField{}, pgerr.New(pgerr.InvalidParameterValue, "partition_by: %q: column %q: %v", part, name, err)
	}
	if _, ok := it.(iceberg.PrimitiveType); !ok || !tr.CanTransform(it) {
		return PartitionField{}, pgerr.New(pgerr.InvalidParameterValue, "partition_by: %q: transform %s cannot apply to column %q of type %s", part, tr, name, t)
	}
	return PartitionField{Transform: tr, Column: *col}, nil
}

// partitionSpec is the Iceberg spec of td's partition_by (unpartitioned
// without one).
func partitionSpec(td *log.TableDesc) (iceberg.PartitionSpec, error) {
	fields, err := tablePartitionFields(td)
	if err != nil {
		return iceberg.PartitionSpec{}, fmt.Errorf("table %s.%s: %w", td.Schema, td.Name, err)
	}
	if len(fields) == 0 {
		return *iceberg.UnpartitionedSpec, nil
	}
	pf := make([]iceberg.PartitionField, len(fields))
	for i, f := range fields {
		pf[i] = iceberg.PartitionField{
			SourceIDs: []int{int(f.Column.ID)},
			FieldID:   partitionFieldBase + i,
			Name:      f.Name(),
			Transform: f.Transform,
		}
	}
	return iceberg.NewPartitionSpecID(0, pf...), nil
}
