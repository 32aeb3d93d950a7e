package planner

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/mysql"

	"github.com/strand-db/strand/exec"
	strandiceberg "github.com/strand-db/strand/iceberg"
	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql"
	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

// CreateTable turns CREATE TABLE into a catalog change. A table with a
// PRIMARY KEY is keyed; APPEND ONLY KEY (cols) makes an event stream keyed
// by those columns; a table with neither is an append-only stream with no
// key (all its rows form one ordered stream), and UPDATE and DELETE refuse
// it.
func (b *Builder) CreateTable(st *sql.CreateTable) (func(*log.Catalog) error, error) {
	td := &log.TableDesc{Schema: b.CreationSchema(st.Name.Schema), Name: st.Name.Name, Kind: log.Keyed}
	sv := log.SchemaVersion{Version: 1}
	seen := map[string]bool{}
	var seqs []*log.TableDesc
	for _, cd := range st.Columns {
		if seen[cd.Name] {
			return nil, pgerr.New(pgerr.DuplicateColumn, "column %q specified more than once", cd.Name)
		}
		seen[cd.Name] = true
		if cd.Name == exec.VersionColumn {
			return nil, pgerr.New(pgerr.DuplicateColumn, "column name %q conflicts with a system column name", cd.Name)
		}
		col, err := b.columnDef(cd)
		if err != nil {
			return nil, err
		}
		if types.IsSerial(cd.Type) || cd.Identity != "" {
			// serial, bigserial, smallserial and identity columns: a
			// sequence the table owns, read by the column's default.
			seq, err := sequenceDesc(td.Schema, td.Name+"_"+cd.Name+"_seq", types.T{OID: types.OID(col.TypeOID)}, cd.Seq)
			if err != nil {
				return nil, err
			}
			seq.Options[OptSeqOwnedColumn] = cd.Name
			if cd.Identity == "always" {
				seq.Options[OptSeqAlways] = "true"
			}
			seqs = append(seqs, seq)
			// Stored as the front end writes it (ParseStored reads it
			// with TiDB's parser, which has a nextval of its own).
			col.Default = `"nextval"(` + exec.QuoteLiteral(seq.Schema+"."+seq.Name) + ")"
		}
		sv.Columns = append(sv.Columns, col)
		for _, c := range cd.Checks {
			sv.Checks = append(sv.Checks, restore(c.Expr))
		}
	}
	for _, c := range st.Checks {
		sv.Checks = append(sv.Checks, restore(c.Expr))
	}
	keyCols := st.PrimaryKey
	switch {
	case st.AppendOnlyKey != nil:
		if len(st.PrimaryKey) > 0 {
			return nil, pgerr.New(pgerr.InvalidTableDefinition, "an APPEND ONLY table cannot have a PRIMARY KEY; its KEY names the streams")
		}
		td.Kind, keyCols = log.Stream, st.AppendOnlyKey
	case len(st.PrimaryKey) == 0:
		td.Kind = log.Stream
	}
	for i := range sv.Columns {
		sv.Columns[i].ID = uint32(i + 1)
	}
	td.NextColID = uint32(len(sv.Columns))
	for _, k := range keyCols {
		found := false
		for i := range sv.Columns {
			if sv.Columns[i].Name == k {
				sv.Key = append(sv.Key, sv.Columns[i].ID)
				if td.Kind == log.Keyed {
					sv.Columns[i].NotNull = true
				}
				found = true
			}
		}
		if !found {
			return nil, pgerr.New(pgerr.UndefinedColumn, "column %q named in key does not exist", k)
		}
	}
	td.Versions = []log.SchemaVersion{sv}
	for _, o := range st.Options {
		if td.Options == nil {
			td.Options = map[string]string{}
		}
		if o.Name == optLocalRetention {
			if err := checkLocalRetention(o.Value); err != nil {
				return nil, err
			}
		}
		td.Options[o.Name] = o.Value
	}
	// partition_by is the Iceberg partition spec: checked here so a bad
	// spec fails the CREATE, not the compactor later (iceberg/partition.go).
	if err := strandiceberg.CheckPartitionBy(td); err != nil {
		return nil, err
	}
	return addTable(td, st.IfNotExists, func(c *log.Catalog, added *log.TableDesc) error {
		for _, s := range seqs {
			sc := *s
			sc.Options = maps.Clone(s.Options)
			sc.Options[OptSeqOwnedBy] = strconv.FormatUint(uint64(added.ID), 10)
			if err := c.AddTable(&sc); err != nil {
				return err
			}
		}
		return nil
	}), nil
}

// addTable is the catalog change that adds (a copy of) td, and nothing
// when its name is taken and ifNotExists; then, when set, also with the
// added table (whose ID the catalog has given it).
func addTable(td *log.TableDesc, ifNotExists bool, also func(c *log.Catalog, added *log.TableDesc) error) func(*log.Catalog) error {
	return func(c *log.Catalog) error {
		if _, ok := c.Lookup(td.Schema, td.Name); ok && ifNotExists {
			return nil
		}
		cp := *td
		if err := c.AddTable(&cp); err != nil || also == nil {
			return err
		}
		return also(c, &cp)
	}
}

func (b *Builder) columnDef(cd *sql.ColumnDef) (log.Column, error) {
	t, err := types.ParseTypeName(cd.Type)
	if err != nil {
		return log.Column{}, err
	}
	col := log.Column{Name: cd.Name, TypeOID: uint32(t.OID), Typmod: t.Typmod, NotNull: cd.NotNull || cd.PrimaryKey}
	if types.IsSerial(cd.Type) || cd.Identity != "" {
		// Its default, nextval of the sequence made with the table, is
		// set by CreateTable.
		if cd.Default != nil {
			return log.Column{}, pgerr.New(pgerr.SyntaxError, "both default and identity specified for column %q", cd.Name)
		}
		col.NotNull = true
		return col, nil
	}
	if cd.Default != nil {
		// Check now that the default binds and fits the column.
		eb := &exprBinder{b: b, scope: &scope{}, what: "DEFAULT expressions"}
		if _, err := eb.bindAs(cd.Default, t, fmt.Sprintf("column %q", cd.Name)); err != nil {
			return log.Column{}, err
		}
		col.Default = restore(cd.Default)
	}
	return col, nil
}

// ParseStored parses an expression stored in the catalog (a default or a
// CHECK). Stored expressions are kept in the front end's translated form,
// which the TiDB parser reads with the front end's SQL mode.
func ParseStored(text string) (ast.ExprNode, error) {
	p := parser.New()
	p.SetSQLMode(mysql.ModeANSIQuotes | mysql.ModeNoBackslashEscapes)
	stmt, err := p.ParseOneStmt("SELECT "+text, "", "")
	if err != nil {
		return nil, fmt.Errorf("stored expression %q: %w", text, err)
	}
	return stmt.(*ast.SelectStmt).Fields.Fields[0].Expr, nil
}

// CreationSchema is the schema a CREATE of a relation in schema (empty
// when the name is unqualified) puts it in: the first of the search path.
func (b *Builder) CreationSchema(schema string) string {
	if schema == "" {
		return b.searchPath[0]
	}
	return schema
}

// Taken reports whether a CREATE of n would find its name in use, which
// PostgreSQL checks before the definition.
func (b *Builder) Taken(n sql.ObjectName) bool {
	_, ok := b.cat.Lookup(b.CreationSchema(n.Schema), n.Name)
	return ok
}

// AlterTable turns ALTER TABLE into a catalog change: a new schema
// version; rows written under older versions stay readable.
func (b *Builder) AlterTable(st *sql.AlterTable) (func(*log.Catalog) error, error) {
	td, err := b.LookupTable(st.Name.Schema, st.Name.Name)
	if err != nil {
		if st.IfExists && pgerr.CodeOf(err) == pgerr.UndefinedTable {
			return func(*log.Catalog) error { return nil }, nil
		}
		return nil, err
	}
	if objectKind(td.Kind) != st.Object {
		// A view's columns are its query's: ALTER MATERIALIZED VIEW
		// renames it, ALTER VIEW renames it or its columns, and nothing
		// else alters them.
		return nil, wrongObject(td, st.Object)
	}
	id := td.ID
	actions := st.Actions
	// SET DEFAULT: the expression must bind and fit the column now.
	defaults := map[int]string{}
	for i, a := range actions {
		if a.Kind != sql.AlterSetDefault {
			continue
		}
		var t types.T
		found := false
		for _, c := range td.Current().Columns {
			if c.Name == a.Name {
				t, found = types.T{OID: types.OID(c.TypeOID), Typmod: c.Typmod}, true
			}
		}
		if !found {
			return nil, pgerr.New(pgerr.UndefinedColumn, "column %q of relation %q does not exist", a.Name, td.Name)
		}
		eb := &exprBinder{b: b, scope: &scope{}, what: "DEFAULT expressions"}
		if _, err := eb.bindAs(a.Column.Default, t, fmt.Sprintf("column %q", a.Name)); err != nil {
			return nil, err
		}
		defaults[i] = restore(a.Column.Default)
	}
	var newCols []log.Column
	for _, a := range actions {
		if a.Kind == sql.AlterAddColumn {
			col, err := b.columnDef(a.Column)
			if err != nil {
				return nil, err
			}
			if col.Default != "" {
				return nil, pgerr.New(pgerr.FeatureNotSupported, "ADD COLUMN with a DEFAULT is not supported yet")
			}
			if col.NotNull {
				return nil, pgerr.New(pgerr.NotNullViolation, "column %q of relation %q contains null values", col.Name, td.Name)
			}
			newCols = append(newCols, col)
		}
	}
	return func(c *log.Catalog) error {
		cur, ok := c.Table(id)
		if !ok {
			return pgerr.New(pgerr.UndefinedTable, "relation %q does not exist", st.Name.Name)
		}
		nt := *cur
		nt.Versions = append([]log.SchemaVersion(nil), cur.Versions...)
		last := nt.Versions[len(nt.Versions)-1]
		sv := log.SchemaVersion{Version: last.Version + 1, Columns: append([]log.Column(nil), last.Columns...), Key: last.Key, Checks: last.Checks}
		find := func(name string) int {
			for i, col := range sv.Columns {
				if col.Name == name {
					return i
				}
			}
			return -1
		}
		ci := 0
		schemaChanged := false
		for ai, a := range actions {
			if a.Kind != sql.AlterSetOptions && a.Kind != sql.AlterResetOptions {
				schemaChanged = true
			}
			switch a.Kind {
			case sql.AlterAddColumn:
				col := newCols[ci]
				ci++
				if find(col.Name) >= 0 {
					if a.IfNotExists {
						continue
					}
					return pgerr.New(pgerr.DuplicateColumn, "column %q of relation %q already exists", col.Name, nt.Name)
				}
				if err := checkNoViewReads(c, cur, a); err != nil {
					return err
				}
				nt.NextColID++
				col.ID = nt.NextColID
				sv.Columns = append(sv.Columns, col)
			case sql.AlterDropColumn:
				i := find(a.Name)
				if i < 0 {
					if a.IfExists {
						continue
					}
					return pgerr.New(pgerr.UndefinedColumn, "column %q of relation %q does not exist", a.Name, nt.Name)
				}
				if err := checkNoViewReads(c, cur, a); err != nil {
					return err
				}
				for _, k := range sv.Key {
					if k == sv.Columns[i].ID {
						return pgerr.New(pgerr.DependentObjectsStillExist, "cannot drop column %q of relation %q: it is part of the key", a.Name, nt.Name)
					}
				}
				if err := checkNotPartitionSource(&nt, sv.Columns[i]); err != nil {
					return err
				}
				sv.Columns = append(sv.Columns[:i:i], sv.Columns[i+1:]...)
			case sql.AlterRenameColumn:
				i := find(a.Name)
				if i < 0 {
					return pgerr.New(pgerr.UndefinedColumn, "column %q does not exist", a.Name)
				}
				if find(a.NewName) >= 0 {
					return pgerr.New(pgerr.DuplicateColumn, "column %q of relation %q already exists", a.NewName, nt.Name)
				}
				if err := checkNoViewReads(c, cur, a); err != nil {
					return err
				}
				// A serial or identity column's sequence follows it.
				if s, ok := OwnedSequence(c, cur.ID, a.Name); ok {
					ns := *s
					ns.Options = maps.Clone(s.Options)
					ns.Options[OptSeqOwnedColumn] = a.NewName
					if err := c.ReplaceTable(&ns); err != nil {
						return err
					}
				}
				sv.Columns[i].Name = a.NewName
			case sql.AlterRenameTable:
				if err := checkNoViewReads(c, cur, a); err != nil {
					return err
				}
				nt.Name = a.NewName
			case sql.AlterSetOptions, sql.AlterResetOptions:
				if err := setTableOptions(&nt, a); err != nil {
					return err
				}
			case sql.AlterSetDefault, sql.AlterDropDefault, sql.AlterDropNotNull:
				// Only the rows written from now on see it: nothing
				// stored changes.
				i := find(a.Name)
				if i < 0 {
					return pgerr.New(pgerr.UndefinedColumn, "column %q of relation %q does not exist", a.Name, nt.Name)
				}
				switch a.Kind {
				case sql.AlterSetDefault:
					sv.Columns[i].Default = defaults[ai]
				case sql.AlterDropDefault:
					sv.Columns[i].Default = ""
				case sql.AlterDropNotNull:
					if slices.Contains(sv.Key, sv.Columns[i].ID) && nt.Kind == log.Keyed {
						return pgerr.New(pgerr.InvalidTableDefinition, "column %q is in a primary key", a.Name)
					}
					sv.Columns[i].NotNull = false
				}
			}
		}
		if schemaChanged {
			nt.Versions = append(nt.Versions, sv)
		}
		return c.ReplaceTable(&nt)
	}, nil
}

// DropTables turns DROP TABLE into a catalog change; the tables' data goes
// in the same commit.
func (b *Builder) DropTables(st *sql.Drop) (func(*log.Catalog) error, error) {
	var ids []log.TableID
	for _, n := range st.Names {
		td, err := b.LookupTable(n.Schema, n.Name)
		if err != nil {
			if st.IfExists && (pgerr.CodeOf(err) == pgerr.UndefinedTable || pgerr.CodeOf(err) == pgerr.UndefinedSchema) {
				continue
			}
			return nil, err
		}
		if objectKind(td.Kind) != st.Kind {
			return nil, wrongObject(td, st.Kind)
		}
		if owner := td.Options[OptSeqOwnedBy]; td.Kind == log.Sequence && owner != "" {
			return nil, pgerr.New(pgerr.DependentObjectsStillExist, "cannot drop sequence %q because a column default of the table that owns it depends on it", td.Name).
				WithHint("Drop the table (its sequence goes with it).")
		}
		ids = append(ids, td.ID)
	}
	return func(c *log.Catalog) error {
		for _, id := range ids {
			if err := dropWithDependents(c, id, st.Cascade); err != nil {
				return err
			}
		}
		return nil
	}, nil
}

// dropWithDependents drops a table or view; the views that read it are
// dropped first (and theirs, transitively) with CASCADE, else the drop is
// refused as PostgreSQL refuses it.
func dropWithDependents(c *log.Catalog, id log.TableID, cascade bool) error {
	t, ok := c.Table(id)
	if !ok {
		return nil // already dropped by an earlier cascade
	}
	for _, seq := range ownedSequences(c, id) {
		if err := c.DropTable(seq); err != nil {
			return err
		}
	}
	for _, other := range dependents(c, id) {
		if !cascade {
			return pgerr.New(pgerr.DependentObjectsStillExist, "cannot drop %q because %s %q depends on it", t.Name, viewKind(other), other.Name).
				WithHint("Use DROP ... CASCADE to drop the dependent objects too.")
		}
		if err := dropWithDependents(c, other.ID, true); err != nil {
			return err
		}
	}
	return c.DropTable(id)
}

// objectKind is the kind of object DROP and ALTER name a table kind by.
func objectKind(k log.TableKind) sql.ObjectKind {
	switch k {
	case log.View:
		return sql.ObjMaterializedView
	case log.PlainView:
		return sql.ObjView
	case log.Sequence:
		return sql.ObjSequence
	}
	return sql.ObjTable
}

// wrongObject is PostgreSQL's error for a DROP or ALTER of one kind of
// object that names another, with its hint.
func wrongObject(td *log.TableDesc, want sql.ObjectKind) error {
	err := pgerr.New(pgerr.WrongObjectType, "%q is not a %s", td.Name, strings.ToLower(string(want)))
	switch objectKind(td.Kind) {
	case sql.ObjView:
		return err.WithHint("Use DROP VIEW to remove a view.")
	case sql.ObjSequence:
		return err.WithHint("Use DROP SEQUENCE to remove a sequence.")
	case sql.ObjMaterializedView:
		return err.WithHint("Use DROP MATERIALIZED VIEW to remove a materialized view.")
	}
	return err.WithHint("Use DROP TABLE to remove a table.")
}

// viewKind names a dependent view's kind in messages.
func viewKind(td *log.TableDesc) string {
	if td.Kind == log.PlainView {
		return "view"
	}
	return "materialized view"
}

// dependents are the views (of either kind) that read table id, by name.
func dependents(c *log.Catalog, id log.TableID) []*log.TableDesc {
	var out []*log.TableDesc
	for _, other := range c.SortedTables() {
		if slices.Contains(other.DependsOn, id) {
			out = append(out, other)
		}
	}
	return out
}

// checkNoViewReads refuses a change of a table's columns or name while a
// materialized view reads the table. A view's state holds rows in the
// shape of the table's columns (a join's sides, top-N candidates, a
// SELECT *), and its definition names the table and columns as written:
// after such a change the recompiled view would no longer match its state
// (PostgreSQL's views follow renames and stop a DROP COLUMN the view uses;
// here the view is dropped and created again).
func checkNoViewReads(c *log.Catalog, t *log.TableDesc, a sql.AlterAction) error {
	deps := dependents(c, t.ID)
	if a.Kind == sql.AlterAddColumn && !slices.ContainsFunc(deps, func(d *log.TableDesc) bool { return d.Kind != log.PlainView }) {
		// Views (not materialized) keep the columns they were created
		// with, found by name in what their definitions give
		// (nameViewColumns): a new column is not among them, as in
		// PostgreSQL.
		return nil
	}
	if len(deps) == 0 {
		return nil
	}
	what := "alter table " + strconv.Quote(t.Name)
	switch a.Kind {
	case sql.AlterAddColumn:
		what = fmt.Sprintf("add column %q to table %q", a.Column.Name, t.Name)
	case sql.AlterDropColumn:
		what = fmt.Sprintf("drop column %q of table %q", a.Name, t.Name)
	case sql.AlterRenameColumn:
		what = fmt.Sprintf("rename column %q of table %q", a.Name, t.Name)
	case sql.AlterRenameTable:
		what = fmt.Sprintf("rename %s %q", strings.ToLower(string(objectKind(t.Kind))), t.Name)
	}
	if a.Kind == sql.AlterRenameColumn && (t.Kind == log.PlainView || t.Kind == log.View) {
		what = fmt.Sprintf("rename column %q of %s %q", a.Name, viewKind(t), t.Name)
	}
	err := pgerr.New(pgerr.DependentObjectsStillExist, "cannot %s because %s %q depends on it", what, viewKind(deps[0]), deps[0].Name)
	if deps[0].Kind == log.PlainView {
		return err.WithDetail("A view's definition names what it reads as written.").
			WithHint("Drop the view, make the change, then create the view again.")
	}
	return err.WithDetail("A materialized view's definition names what it reads as written, and its state holds rows in the shape of their columns.").
		WithHint("Drop the materialized view, make the change, then create the view again.")
}

// CreateSchema and DropSchemas change the schema list.
func CreateSchema(st *sql.CreateSchema) func(*log.Catalog) error {
	return func(c *log.Catalog) error {
		if c.Schemas[st.Name] {
			if st.IfNotExists {
				return nil
			}
			return pgerr.New(pgerr.DuplicateSchema, "schema %q already exists", st.Name)
		}
		c.Schemas[st.Name] = true
		return nil
	}
}

// DropSchemas drops schemas; CASCADE drops their tables too.
func DropSchemas(st *sql.Drop) func(*log.Catalog) error {
	return func(c *log.Catalog) error {
		for _, n := range st.Names {
			if !c.Schemas[n.Name] {
				if st.IfExists {
					continue
				}
				return pgerr.New(pgerr.UndefinedSchema, "schema %q does not exist", n.Name)
			}
			for _, t := range c.SortedTables() {
				if t.Schema != n.Name {
					continue
				}
				if !st.Cascade {
					return pgerr.New(pgerr.DependentObjectsStillExist, "cannot drop schema %s because other objects depend on it", n.Name).
						WithHint("Use DROP ... CASCADE to drop the dependent objects too.")
				}
				if err := dropWithDependents(c, t.ID, true); err != nil {
					return err
				}
			}
			delete(c.Schemas, n.Name)
		}
		return nil
	}
}

// checkNotPartitionSource refuses to drop a column the table's Iceberg
// partition spec is computed from: the Iceberg tables would lose the
// source of their partitions.
func checkNotPartitionSource(td *log.TableDesc, col log.Column) error {
	spec, ok := td.Options[strandiceberg.OptPartitionBy]
	if !ok || len(td.Versions) == 0 {
		return nil
	}
	fields, err := strandiceberg.ParsePartitionBy(spec, td.Versions[0].Columns)
	if err != nil {
		return nil // validated at CREATE; nothing to protect
	}
	for _, f := range fields {
		if f.Column.ID == col.ID {
			return pgerr.New(pgerr.DependentObjectsStillExist, "cannot drop column %q of relation %q: the table is partitioned by it (partition_by = '%s')", col.Name, td.Name, spec)
		}
	}
	return nil
}

// setTableOptions applies ALTER TABLE SET/RESET (options) to a copy of the
// descriptor. notify = 'channel' makes every commit that writes the table
// NOTIFY that channel (sql/session/notify.go).
func setTableOptions(nt *log.TableDesc, a sql.AlterAction) error {
	opts := make(map[string]string, len(nt.Options)+len(a.Options))
	for k, v := range nt.Options {
		opts[k] = v
	}
	for _, o := range a.Options {
		if o.Name != "notify" && o.Name != optLocalRetention {
			return pgerr.New(pgerr.InvalidParameterValue, "unrecognized parameter %q", o.Name)
		}
		if a.Kind == sql.AlterResetOptions {
			delete(opts, o.Name)
			continue
		}
		if o.Name == optLocalRetention {
			if err := checkLocalRetention(o.Value); err != nil {
				return err
			}
			opts[o.Name] = o.Value
			continue
		}
		if o.Value == "" {
			return pgerr.New(pgerr.InvalidParameterValue, "notify channel name cannot be empty")
		}
		opts[o.Name] = o.Value
	}
	if len(opts) == 0 {
		opts = nil
	}
	nt.Options = opts
	return nil
}

// Comment turns COMMENT ON into a catalog change: the text in the
// relation's options (optComment, or optComment and the column's ID for a
// column, so that it follows a rename); NULL removes it.
func (b *Builder) Comment(st *sql.Comment) (func(*log.Catalog) error, error) {
	td, err := b.LookupTable(st.Name.Schema, st.Name.Name)
	if err != nil {
		return nil, err
	}
	key := optComment
	if st.Column != "" {
		if td.Kind == log.Sequence {
			return nil, pgerr.New(pgerr.WrongObjectType, "%q is a sequence, whose columns take no comments", td.Name)
		}
		found := false
		for _, c := range td.Current().Columns {
			if c.Name == st.Column {
				key, found = optComment+":"+strconv.FormatUint(uint64(c.ID), 10), true
			}
		}
		if !found {
			return nil, pgerr.New(pgerr.UndefinedColumn, "column %q of relation %q does not exist", st.Column, td.Name)
		}
	} else if objectKind(td.Kind) != st.Kind {
		return nil, pgerr.New(pgerr.WrongObjectType, "%q is not a %s", td.Name, strings.ToLower(string(st.Kind)))
	}
	id, text := td.ID, st.Text
	return func(c *log.Catalog) error {
		cur, ok := c.Table(id)
		if !ok {
			return pgerr.New(pgerr.UndefinedTable, "relation %q does not exist", st.Name.Name)
		}
		nt := *cur
		nt.Options = maps.Clone(cur.Options)
		if nt.Options == nil {
			nt.Options = map[string]string{}
		}
		if text == nil {
			delete(nt.Options, key)
		} else {
			nt.Options[key] = *text
		}
		return c.ReplaceTable(&nt)
	}, nil
}

// optComment is the option holding a relation's COMMENT (with ":" and a
// column ID after it, a column's).
const optComment = "comment"

// Description is a relation's (col 0) or a column's comment.
func Description(td *log.TableDesc, col int) (string, bool) {
	key := optComment
	if col > 0 {
		cols := td.Current().Columns
		if col > len(cols) {
			return "", false
		}
		key += ":" + strconv.FormatUint(uint64(cols[col-1].ID), 10)
	}
	v, ok := td.Options[key]
	return v, ok
}
