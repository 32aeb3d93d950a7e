package session

import (
	"hash/crc32"
	"sort"
	"strconv"
	"strings"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/planner"
	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
	"github.com/strand-db/strand/views"
)

// systemTables answers pg_catalog and information_schema relations. Each
// is computed when the statement runs, from the catalog snapshot the
// statement was planned on and the session's settings: there is no stored
// copy to keep in step, and a DDL statement is visible to the next query.
//
// OIDs. PostgreSQL's clients join the catalog relations on OIDs, so every
// object gets one, stable for its lifetime:
//
//	tables and views     16384 + table ID (planner.TableOID), as in RowDescription
//	primary key index    oidIndex + table ID (relkind 'i', name "<table>_pkey")
//	primary key          oidConstraint + table ID (pg_constraint)
//	schemas              pg_catalog 11, public 2200, information_schema 13182,
//	                     others oidSchema + a hash of the name
//	roles                the bootstrap superuser "strand" 10, others
//	                     oidRole + a hash of the name
//	system relations     PostgreSQL's own OIDs for the well-known ones
//	types                sql/types' OIDs (PostgreSQL's)
//
// Every relation is owned by role 10. The system column _version is
// listed in pg_attribute with attnum -1, where PostgreSQL lists ctid:
// clients that filter attnum > 0 (psql, JDBC, information_schema) skip it,
// as they skip PostgreSQL's system columns.
type systemTables struct {
	s   *Session
	cat *log.Catalog
}

const (
	oidBootstrapRole = 10
	oidPgCatalog     = 11
	oidPublic        = 2200
	oidInfoSchema    = 13182
	oidIndex         = 0x10000000
	oidConstraint    = 0x20000000
	oidSchema        = 0x30000000
	oidRole          = 0x50000000
	oidSystemRel     = 0x60000000
	oidAttrDef       = 0x68000000
	oidDatabase      = 0x70000000
	oidProc          = 0x08000000
	oidPostgresDB    = 5
	bootstrapRole    = "strand"
)

// Lookup implements planner.SystemTables. Unqualified names find
// pg_catalog relations first, as PostgreSQL searches pg_catalog before the
// search path.
func (st *systemTables) Lookup(schema, name string) (exec.Node, bool) {
	var rel *sysRelation
	switch schema {
	case "", "pg_catalog":
		rel = pgCatalogRels[name]
	case "information_schema":
		rel = infoSchemaRels[name]
	}
	if rel == nil {
		return nil, false
	}
	return &sysScan{rel: rel, st: st}, true
}

// sysScan produces the rows of one system relation.
type sysScan struct {
	rel *sysRelation
	st  *systemTables
}

func (n *sysScan) Columns() []exec.Column { return n.rel.columns() }
func (n *sysScan) Run(rt *exec.Runtime, emit func(exec.Row) error) error {
	if n.rel.rows == nil {
		return nil
	}
	for _, r := range n.rel.rows(n.st) {
		if err := emit(r); err != nil {
			if err == exec.ErrStop {
				return nil
			}
			return err
		}
	}
	return nil
}
func (n *sysScan) Explain(e *exec.Explainer) { e.Add("System Scan on %s.%s", n.rel.schema, n.rel.name) }

// sysRelation is one system relation: its columns and how to compute its
// rows.
type sysRelation struct {
	schema, name string
	oid          uint32
	cols         []sysCol
	rows         func(st *systemTables) []exec.Row
	cached       []exec.Column
}

type sysCol struct {
	name string
	t    types.T
}

func (r *sysRelation) columns() []exec.Column {
	if r.cached == nil {
		for i, c := range r.cols {
			r.cached = append(r.cached, exec.Column{Name: c.name, T: c.t, Table: r.oid, Attr: uint16(i + 1)})
		}
	}
	return r.cached
}

// Column types of the system relations. PostgreSQL's name and "char"
// columns are text here; oidvector and int2vector are oid[] and int2[];
// reg* columns are oid.
var sysTypes = map[string]types.T{
	"oid": types.Make(types.OIDOID), "text": types.Make(types.TextOID), "bool": types.Make(types.BoolOID),
	"int2": types.Make(types.Int2OID), "int4": types.Make(types.Int4OID), "int8": types.Make(types.Int8OID),
	"float4": types.Make(types.Float4OID), "float8": types.Make(types.Float8OID), "timestamptz": types.Make(types.TimestampTZOID),
	"oid[]": types.Make(types.OIDArrayOID), "text[]": types.Make(types.TextArrayOID), "int2[]": types.Make(types.Int2ArrayOID),
	"bytea": types.Make(types.ByteaOID),
}

// cols reads "name type, name type, ..." (type defaults to text).
func cols(spec string) []sysCol {
	var out []sysCol
	for _, part := range strings.Split(spec, ",") {
		f := strings.Fields(part)
		if len(f) == 0 {
			continue
		}
		t := sysTypes["text"]
		if len(f) > 1 {
			var ok bool
			if t, ok = sysTypes[f[1]]; !ok {
				panic("system relation column type " + f[1])
			}
		}
		out = append(out, sysCol{name: f[0], t: t})
	}
	return out
}

// Object OIDs.

func hashOID(base uint32, name string) int64 {
	return int64(base | crc32.ChecksumIEEE([]byte(name))&0x07ffffff)
}

func schemaOID(name string) int64 {
	switch name {
	case "pg_catalog":
		return oidPgCatalog
	case "public":
		return oidPublic
	case "information_schema":
		return oidInfoSchema
	case "pg_toast":
		return 99
	}
	return hashOID(oidSchema, name)
}

func roleOID(name string) int64 {
	if name == bootstrapRole {
		return oidBootstrapRole
	}
	return hashOID(oidRole, name)
}

func relOID(td *log.TableDesc) int64   { return int64(planner.TableOID(td.ID)) }
func indexOID(td *log.TableDesc) int64 { return oidIndex + int64(td.ID) }
func conOID(td *log.TableDesc) int64   { return oidConstraint + int64(td.ID) }
func databaseOID(name string) int64 {
	if name == "postgres" {
		return oidPostgresDB
	}
	return hashOID(oidDatabase, name)
}

// hasPrimaryKey reports whether a table shows a primary key: keyed
// tables do; streams (whose key is not unique) and views do not.
func hasPrimaryKey(td *log.TableDesc) bool {
	return td.Kind == log.Keyed && len(td.Current().Key) > 0
}

func keyColumns(td *log.TableDesc) []string {
	cur := td.Current()
	var out []string
	for _, id := range cur.Key {
		for _, c := range cur.Columns {
			if c.ID == id {
				out = append(out, c.Name)
			}
		}
	}
	return out
}

func keyAttnums(td *log.TableDesc) []int {
	cur := td.Current()
	var out []int
	for _, id := range cur.Key {
		for i, c := range cur.Columns {
			if c.ID == id {
				out = append(out, i+1)
			}
		}
	}
	return out
}

// schemas lists the user schemas and the system ones, sorted.
func (st *systemTables) schemas() []string {
	out := []string{"pg_catalog", "information_schema"}
	for s, ok := range st.cat.Schemas {
		if ok {
			out = append(out, s)
		}
	}
	sort.Strings(out)
	return out
}

// roles lists the roles: the bootstrap superuser, the catalog's roles and
// the session's user.
func (st *systemTables) roles() []*log.RoleDesc {
	seen := map[string]bool{}
	var out []*log.RoleDesc
	add := func(r *log.RoleDesc) {
		if !seen[r.Name] {
			seen[r.Name] = true
			out = append(out, r)
		}
	}
	add(&log.RoleDesc{Name: bootstrapRole, Superuser: true, Login: true})
	for _, r := range st.cat.Roles {
		add(r)
	}
	if u := st.s.info.User; u != "" {
		add(&log.RoleDesc{Name: u, Superuser: true, Login: true})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// The exec.CatalogReader the catalog functions read.

var _ exec.CatalogReader = (*systemTables)(nil)

func (st *systemTables) RoleName(oid int64) (string, bool) {
	for _, r := range st.roles() {
		if roleOID(r.Name) == oid {
			return r.Name, true
		}
	}
	return "", false
}

func (st *systemTables) tableByOID(oid int64) (*log.TableDesc, bool) {
	if oid < 16384 || oid >= oidIndex {
		return nil, false
	}
	return st.cat.Table(log.TableID(oid - 16384))
}

func (st *systemTables) RelationVisible(oid int64) bool {
	if oid >= oidIndex && oid < oidConstraint {
		oid = oid - oidIndex + 16384
	}
	td, ok := st.tableByOID(oid)
	if !ok {
		r := sysRelByOID(oid)
		return r != nil && r.schema == "pg_catalog"
	}
	for _, s := range st.s.vars.searchPath() {
		if found, ok := st.cat.Lookup(s, td.Name); ok {
			return found.ID == td.ID
		}
	}
	return false
}

func (st *systemTables) IndexDef(oid int64, col int) (string, bool) {
	td, ok := st.tableByOID(oid - oidIndex + 16384)
	if !ok || !hasPrimaryKey(td) {
		return "", false
	}
	keys := keyColumns(td)
	if col > 0 {
		if col > len(keys) {
			return "", false
		}
		return quoteIdent(keys[col-1]), true
	}
	return "CREATE UNIQUE INDEX " + quoteIdent(td.Name+"_pkey") + " ON " + quoteIdent(td.Schema) + "." + quoteIdent(td.Name) +
		" USING btree (" + quoteList(keys) + ")", true
}

func (st *systemTables) ConstraintDef(oid int64) (string, bool) {
	td, ok := st.tableByOID(oid - oidConstraint + 16384)
	if !ok || !hasPrimaryKey(td) {
		return "", false
	}
	return "PRIMARY KEY (" + quoteList(keyColumns(td)) + ")", true
}

// RelationSize implements exec.CatalogReader: a table's heads, versions
// and events, or a materialized view's state, in sstables.
func (st *systemTables) RelationSize(oid int64) (int64, bool, error) {
	td, ok := st.tableByOID(oid)
	if !ok {
		return 0, false, nil
	}
	var n uint64
	var err error
	if td.Kind == log.View {
		n, err = st.s.eng.Log.DiskUsage(views.StateRange(td.ID))
	} else {
		n, err = st.s.eng.Log.TableDiskUsage(td.ID)
	}
	return int64(n), true, err
}

// DatabaseSize implements exec.CatalogReader: every key of the log.
func (st *systemTables) DatabaseSize() (int64, error) {
	n, err := st.s.eng.Log.DiskUsage([]byte{0}, []byte{0xff})
	return int64(n), err
}

// Description implements exec.CatalogReader.
func (st *systemTables) Description(oid int64, col int) (string, bool) {
	td, ok := st.tableByOID(oid)
	if !ok {
		return "", false
	}
	return planner.Description(td, col)
}

func (st *systemTables) ViewDef(oid int64) (string, bool) {
	td, ok := st.tableByOID(oid)
	if !ok || td.Definition == "" {
		return "", false
	}
	def := strings.TrimSpace(td.Definition)
	if !strings.HasSuffix(def, ";") {
		def += ";"
	}
	return " " + def, true
}

func (st *systemTables) RegIn(kind, name string) (int64, error) {
	switch kind {
	case "regclass":
		schema, rel := splitQualified(name)
		if schema == "" || schema == "pg_catalog" {
			if r := pgCatalogRels[rel]; r != nil {
				return int64(r.oid), nil
			}
		}
		if schema == "information_schema" {
			if r := infoSchemaRels[rel]; r != nil {
				return int64(r.oid), nil
			}
		}
		path := st.s.vars.searchPath()
		if schema != "" {
			path = []string{schema}
		}
		for _, s := range path {
			if td, ok := st.cat.Lookup(s, rel); ok {
				return relOID(td), nil
			}
			if strings.HasSuffix(rel, "_pkey") {
				if td, ok := st.cat.Lookup(s, strings.TrimSuffix(rel, "_pkey")); ok && hasPrimaryKey(td) {
					return indexOID(td), nil
				}
			}
		}
		return 0, pgerr.New(pgerr.UndefinedTable, "relation %q does not exist", name)
	case "regtype":
		n := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(name)), "pg_catalog.")
		for _, ty := range pgTypes() {
			if ty.name == n {
				return int64(ty.oid), nil
			}
		}
		t, err := types.ParseTypeName(n)
		if err != nil {
			return 0, pgerr.New(pgerr.UndefinedObject, "type %q does not exist", name)
		}
		return int64(t.OID), nil
	case "regnamespace":
		n := unquoteIdent(name)
		if n == "pg_catalog" || n == "information_schema" || st.cat.Schemas[n] {
			return schemaOID(n), nil
		}
		return 0, pgerr.New(pgerr.UndefinedSchema, "schema %q does not exist", name)
	case "regrole":
		n := unquoteIdent(name)
		for _, r := range st.roles() {
			if r.Name == n {
				return roleOID(n), nil
			}
		}
		return 0, pgerr.New(pgerr.UndefinedObject, "role %q does not exist", name)
	case "regproc", "regprocedure":
		_, n := splitQualified(name)
		if i := strings.IndexByte(n, '('); i >= 0 {
			n = n[:i]
		}
		for _, p := range procs() {
			if p.name == n {
				return p.oid, nil
			}
		}
		return 0, pgerr.New(pgerr.UndefinedFunction, "function %q does not exist", name)
	}
	return 0, pgerr.New(pgerr.FeatureNotSupported, "type %s is not supported", kind)
}

func (st *systemTables) RegOut(kind string, oid int64) string {
	if oid == 0 {
		return "-"
	}
	switch kind {
	case "regclass":
		if td, ok := st.tableByOID(oid); ok {
			if st.RelationVisible(oid) {
				return quoteIdent(td.Name)
			}
			return quoteIdent(td.Schema) + "." + quoteIdent(td.Name)
		}
		if td, ok := st.tableByOID(oid - oidIndex + 16384); ok {
			return quoteIdent(td.Name + "_pkey")
		}
		if r := sysRelByOID(oid); r != nil {
			if r.schema == "pg_catalog" {
				return r.name
			}
			return r.schema + "." + r.name
		}
	case "regtype":
		return exec.FormatType(uint32(oid), -1)
	case "regnamespace":
		for _, s := range st.schemas() {
			if schemaOID(s) == oid {
				return quoteIdent(s)
			}
		}
	case "regrole":
		if n, ok := st.RoleName(oid); ok {
			return quoteIdent(n)
		}
	case "regproc", "regprocedure":
		for _, p := range procs() {
			if p.oid == oid {
				return p.name
			}
		}
	}
	return strconv.FormatInt(oid, 10)
}

func (st *systemTables) CurrentUser() string { return st.s.info.User }
func (st *systemTables) SessionUser() string { return st.s.info.User }
func (st *systemTables) CurrentDatabase() string {
	if st.s.info.Database == "" {
		return st.s.info.User
	}
	return st.s.info.Database
}
func (st *systemTables) SearchPath(implicit bool) []string {
	var out []string
	if implicit {
		out = append(out, "pg_catalog")
	}
	for _, s := range st.s.vars.searchPath() {
		if st.cat.Schemas[s] {
			out = append(out, s)
		}
	}
	return out
}
func (st *systemTables) BackendPID() int64 { return int64(st.s.info.ProcessID) }
func (st *systemTables) ServerVersion() string {
	return "PostgreSQL 15.0 (Strand " + Version + ") on x86_64-pc-linux-gnu, compiled by Go"
}

// catalogReader is what the catalog functions of a statement read.
func (s *Session) catalogReader() exec.CatalogReader {
	return s.catalogReaderFor(s.catalog())
}

// catalogReaderFor is catalogReader for a known catalog; the reader (it
// keeps no state of its own) is reused while the catalog is the same.
func (s *Session) catalogReaderFor(cat *log.Catalog) exec.CatalogReader {
	if s.sysTables == nil || s.sysTables.cat != cat {
		s.sysTables = &systemTables{s: s, cat: cat}
	}
	return s.sysTables
}

func splitQualified(name string) (string, string) {
	name = strings.TrimSpace(name)
	// A dot outside double quotes separates the schema.
	inQuote := false
	for i := 0; i < len(name); i++ {
		switch name[i] {
		case '"':
			inQuote = !inQuote
		case '.':
			if !inQuote {
				return unquoteIdent(name[:i]), unquoteIdent(name[i+1:])
			}
		}
	}
	return "", unquoteIdent(name)
}

func unquoteIdent(s string) string {
	s = strings.TrimSpace(s)
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		return strings.ReplaceAll(s[1:len(s)-1], `""`, `"`)
	}
	return strings.ToLower(s)
}

func quoteIdent(s string) string { return exec.QuoteIdent(s) }

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = quoteIdent(n)
	}
	return strings.Join(q, ", ")
}
