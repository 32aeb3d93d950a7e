package session

import (
	"strconv"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql/types"
)

// information_schema, SQL-standard names over the same catalog. As in
// PostgreSQL, materialized views are not in information_schema.tables and
// system columns (_version) are not in .columns.

func infoSchemaInit() {
	const is = "information_schema"
	relISSchemata = sysRel(is, "schemata", 0, `catalog_name, schema_name, schema_owner, default_character_set_catalog,
		default_character_set_schema, default_character_set_name, sql_path`, func(st *systemTables) []exec.Row {
		var out []exec.Row
		for _, s := range st.schemas() {
			out = append(out, relISSchemata.row("catalog_name", st.CurrentDatabase(), "schema_name", s, "schema_owner", bootstrapRole))
		}
		return out
	})
	relISTables = sysRel(is, "tables", 0, `table_catalog, table_schema, table_name, table_type, self_referencing_column_name,
		reference_generation, user_defined_type_catalog, user_defined_type_schema, user_defined_type_name,
		is_insertable_into, is_typed, commit_action`, func(st *systemTables) []exec.Row {
		var out []exec.Row
		for _, td := range st.cat.SortedTables() {
			switch td.Kind {
			case log.View, log.Sequence:
				// PostgreSQL lists no materialized views or sequences here.
				continue
			case log.PlainView:
				out = append(out, relISTables.row("table_catalog", st.CurrentDatabase(), "table_schema", td.Schema, "table_name", td.Name,
					"table_type", "VIEW", "is_insertable_into", "NO", "is_typed", "NO"))
				continue
			}
			out = append(out, relISTables.row("table_catalog", st.CurrentDatabase(), "table_schema", td.Schema, "table_name", td.Name,
				"table_type", "BASE TABLE", "is_insertable_into", "YES", "is_typed", "NO"))
		}
		for _, sr := range sortedSysRels() {
			out = append(out, relISTables.row("table_catalog", st.CurrentDatabase(), "table_schema", sr.schema, "table_name", sr.name,
				"table_type", "VIEW", "is_insertable_into", "NO", "is_typed", "NO"))
		}
		return out
	})
	relISColumns = sysRel(is, "columns", 0, `table_catalog, table_schema, table_name, column_name, ordinal_position int4,
		column_default, is_nullable, data_type, character_maximum_length int4, character_octet_length int4,
		numeric_precision int4, numeric_precision_radix int4, numeric_scale int4, datetime_precision int4, interval_type,
		interval_precision int4, character_set_catalog, character_set_schema, character_set_name, collation_catalog,
		collation_schema, collation_name, domain_catalog, domain_schema, domain_name, udt_catalog, udt_schema, udt_name,
		scope_catalog, scope_schema, scope_name, maximum_cardinality int4, dtd_identifier, is_self_referencing, is_identity,
		identity_generation, identity_start, identity_increment, identity_maximum, identity_minimum, identity_cycle,
		is_generated, generation_expression, is_updatable`, func(st *systemTables) []exec.Row {
		var out []exec.Row
		db := st.CurrentDatabase()
		for _, td := range st.cat.SortedTables() {
			if td.Kind == log.View || td.Kind == log.Sequence {
				continue
			}
			cur := td.Current()
			key := map[uint32]bool{}
			for _, id := range cur.Key {
				key[id] = true
			}
			for i, c := range cur.Columns {
				t := types.T{OID: types.OID(c.TypeOID), Typmod: c.Typmod}
				nullable := "YES"
				if c.NotNull || (td.Kind == log.Keyed && key[c.ID]) {
					nullable = "NO"
				}
				var def any
				if c.Default != "" {
					def = st.displayDefault(c.Default)
				}
				kv := []any{"table_catalog", db, "table_schema", td.Schema, "table_name", td.Name, "column_name", c.Name,
					"ordinal_position", i + 1, "column_default", def, "is_nullable", nullable, "data_type", dataType(t),
					"udt_catalog", db, "udt_schema", "pg_catalog", "udt_name", udtName(t), "dtd_identifier", itoa(i + 1),
					"is_self_referencing", "NO", "is_identity", "NO", "identity_cycle", "NO", "is_generated", "NEVER",
					"is_updatable", map[bool]string{true: "YES", false: "NO"}[td.Kind.HasEvents()]}
				kv = append(kv, typeFacts(t)...)
				out = append(out, relISColumns.row(kv...))
			}
		}
		return out
	})
	relISTableConstraints = sysRel(is, "table_constraints", 0, `constraint_catalog, constraint_schema, constraint_name,
		table_catalog, table_schema, table_name, constraint_type, is_deferrable, initially_deferred, enforced,
		nulls_distinct`, func(st *systemTables) []exec.Row {
		var out []exec.Row
		db := st.CurrentDatabase()
		for _, td := range st.cat.SortedTables() {
			if !hasPrimaryKey(td) {
				continue
			}
			out = append(out, relISTableConstraints.row("constraint_catalog", db, "constraint_schema", td.Schema,
				"constraint_name", td.Name+"_pkey", "table_catalog", db, "table_schema", td.Schema, "table_name", td.Name,
				"constraint_type", "PRIMARY KEY", "is_deferrable", "NO", "initially_deferred", "NO", "enforced", "YES"))
		}
		return out
	})
	relISKeyColumnUsage = sysRel(is, "key_column_usage", 0, `constraint_catalog, constraint_schema, constraint_name,
		table_catalog, table_schema, table_name, column_name, ordinal_position int4, position_in_unique_constraint int4`,
		func(st *systemTables) []exec.Row {
			var out []exec.Row
			db := st.CurrentDatabase()
			for _, td := range st.cat.SortedTables() {
				if !hasPrimaryKey(td) {
					continue
				}
				for i, c := range keyColumns(td) {
					out = append(out, relISKeyColumnUsage.row("constraint_catalog", db, "constraint_schema", td.Schema,
						"constraint_name", td.Name+"_pkey", "table_catalog", db, "table_schema", td.Schema, "table_name", td.Name,
						"column_name", c, "ordinal_position", i+1))
				}
			}
			return out
		})
	relISViews = sysRel(is, "views", 0, `table_catalog, table_schema, table_name, view_definition, check_option, is_updatable,
		is_insertable_into, is_trigger_updatable, is_trigger_deletable, is_trigger_insertable_into`, func(st *systemTables) []exec.Row {
		var out []exec.Row
		for _, td := range st.cat.SortedTables() {
			if td.Kind == log.PlainView {
				def, _ := st.ViewDef(relOID(td))
				out = append(out, relISViews.row("table_catalog", st.CurrentDatabase(), "table_schema", td.Schema, "table_name", td.Name,
					"view_definition", def, "check_option", "NONE", "is_updatable", "NO", "is_insertable_into", "NO",
					"is_trigger_updatable", "NO", "is_trigger_deletable", "NO", "is_trigger_insertable_into", "NO"))
			}
		}
		return out
	})
	sysRel(is, "referential_constraints", 0, `constraint_catalog, constraint_schema, constraint_name,
		unique_constraint_catalog, unique_constraint_schema, unique_constraint_name, match_option, update_rule, delete_rule`, nil)
}

// dataType is information_schema's data_type: the type's SQL name
// without modifiers, "ARRAY" for arrays.
func dataType(t types.T) string {
	if t.IsArray() {
		return "ARRAY"
	}
	return types.Make(t.OID).String()
}

func udtName(t types.T) string {
	if t.IsArray() {
		return "_" + typeNames[t.ElemType().OID]
	}
	return typeNames[t.OID]
}

// typeFacts are the length, precision and scale columns of
// information_schema.columns.
func typeFacts(t types.T) []any {
	switch t.OID {
	case types.VarcharOID, types.BpcharOID:
		if t.Typmod >= 4 {
			n := int(t.Typmod - 4)
			return []any{"character_maximum_length", n, "character_octet_length", n * 4}
		}
		return []any{"character_octet_length", 1073741824}
	case types.TextOID:
		return []any{"character_octet_length", 1073741824}
	case types.Int2OID:
		return []any{"numeric_precision", 16, "numeric_precision_radix", 2, "numeric_scale", 0}
	case types.Int4OID:
		return []any{"numeric_precision", 32, "numeric_precision_radix", 2, "numeric_scale", 0}
	case types.Int8OID:
		return []any{"numeric_precision", 64, "numeric_precision_radix", 2, "numeric_scale", 0}
	case types.Float4OID:
		return []any{"numeric_precision", 24, "numeric_precision_radix", 2}
	case types.Float8OID:
		return []any{"numeric_precision", 53, "numeric_precision_radix", 2}
	case types.NumericOID:
		if t.Typmod >= 4 {
			p, s := types.NumericTypmod(t.Typmod)
			return []any{"numeric_precision", p, "numeric_precision_radix", 10, "numeric_scale", s}
		}
		return []any{"numeric_precision_radix", 10}
	case types.DateOID:
		return []any{"datetime_precision", 0}
	case types.TimeOID, types.TimestampOID, types.TimestampTZOID, types.IntervalOID:
		p := 6
		if t.Typmod >= 0 {
			p = int(t.Typmod)
		}
		return []any{"datetime_precision", p}
	}
	return nil
}

func itoa(n int) string { return strconv.Itoa(n) }
