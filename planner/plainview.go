package planner

import (
	"encoding/json"
	"slices"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql"
	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

// A view (CREATE VIEW, log.PlainView) is its definition's text, its
// columns (names and types fixed at CREATE, as PostgreSQL fixes a SELECT
// *), and the search path it was created under. A query that names it
// plans the definition in its place, as the subquery it is, through that
// search path; a materialized view that names it is maintained over the
// tables under it. Nothing is stored but the catalog entry.
//
// The definition is kept as text, not as resolved references, so what it
// names must keep its name and columns: a table or view a view reads
// cannot be renamed or have a column dropped or renamed (2BP01,
// checkNoViewReads), where PostgreSQL's views would follow a rename. It
// can take new columns, as in PostgreSQL: the view keeps its own, found
// by name in what a SELECT * then gives (viewColumnsByName).

// optDefinitionColumns is the names of the columns a view's definition
// gave when the view was made (a JSON array): the view's own names may
// differ (a column list, ALTER VIEW RENAME COLUMN), and its columns are
// found by them when the definition gives more (viewColumnsByName).
const optDefinitionColumns = "definition_columns"

// maxViewDepth bounds views over views: a deeper nesting is refused as
// PostgreSQL refuses runaway recursion in its rewriter.
const maxViewDepth = 64

// CreatePlainView plans CREATE [OR REPLACE] VIEW: it plans the query once
// to check it and fix its columns, and returns the catalog change that
// adds (or replaces) the view.
func (b *Builder) CreatePlainView(st *sql.CreateView) (func(*log.Catalog) error, error) {
	var reads []log.TableID
	b.reads = &reads
	node, err := b.buildQueryIn(st.Query, nil)
	b.reads = nil
	if err != nil {
		return nil, err
	}
	if len(b.params.Types) > 0 {
		return nil, pgerr.New(pgerr.UndefinedParameter, "there is no parameter $1")
	}
	var cols []log.Column
	var defNames []string
	for _, c := range node.Columns() {
		defNames = append(defNames, c.Name)
		t := c.T
		if t.OID == types.UnknownOID {
			// PostgreSQL makes an untyped literal's column text.
			t = tText
		}
		cols = append(cols, log.Column{ID: uint32(len(cols) + 1), Name: c.Name, TypeOID: uint32(t.OID), Typmod: t.Typmod})
	}
	if len(st.Columns) > len(cols) {
		return nil, pgerr.New(pgerr.SyntaxError, "CREATE VIEW specifies more column names than columns")
	}
	for i, n := range st.Columns {
		cols[i].Name = n
	}
	for i, c := range cols {
		for _, d := range cols[:i] {
			if d.Name == c.Name {
				return nil, pgerr.New(pgerr.DuplicateColumn, "column %q specified more than once", c.Name)
			}
		}
	}
	td := &log.TableDesc{
		Schema: b.CreationSchema(st.Name.Schema), Name: st.Name.Name, Kind: log.PlainView,
		Definition: st.QueryText,
		Versions:   []log.SchemaVersion{{Version: 1, Columns: cols}},
		NextColID:  uint32(len(cols)),
		Options:    map[string]string{optViewSearchPath: strings.Join(b.searchPath, ",")},
	}
	if names, err := json.Marshal(defNames); err == nil {
		td.Options[optDefinitionColumns] = string(names)
	}
	for _, id := range reads {
		if !slices.Contains(td.DependsOn, id) {
			td.DependsOn = append(td.DependsOn, id)
		}
	}
	orReplace := st.OrReplace
	return func(c *log.Catalog) error {
		for _, dep := range td.DependsOn {
			if _, ok := c.Table(dep); !ok {
				return pgerr.New(pgerr.UndefinedTable, "a relation the view reads was dropped concurrently")
			}
		}
		old, exists := c.Lookup(td.Schema, td.Name)
		if !exists {
			cp := *td
			return c.AddTable(&cp)
		}
		if !orReplace {
			return pgerr.New(pgerr.DuplicateTable, "relation %q already exists", td.Name)
		}
		if old.Kind != log.PlainView {
			return pgerr.New(pgerr.WrongObjectType, "%q is not a view", td.Name)
		}
		if err := replaceableBy(c, old, td); err != nil {
			return err
		}
		nt := *td
		nt.ID = old.ID
		nt.Versions = []log.SchemaVersion{{Version: old.Current().Version + 1, Columns: td.Versions[0].Columns}}
		return c.ReplaceTable(&nt)
	}, nil
}

// replaceableBy checks CREATE OR REPLACE VIEW's new definition against
// the view it replaces. As in PostgreSQL the new query keeps the old
// columns, in order, with their names and types, and may add columns at
// the end. Beyond PostgreSQL: a view that other views read keeps its
// exact columns (their definitions are text, and a SELECT * over it
// would see the new ones), and a view a materialized view reads, at any
// depth, is not replaced at all (the materialized view's state was
// computed from the old definition). The new definition must not read
// the view itself.
func replaceableBy(c *log.Catalog, old, nt *log.TableDesc) error {
	oc, nc := old.Current().Columns, nt.Versions[0].Columns
	if len(nc) < len(oc) {
		return pgerr.New(pgerr.InvalidTableDefinition, "cannot drop columns from view")
	}
	for i, o := range oc {
		n := nc[i]
		if o.Name != n.Name {
			return pgerr.New(pgerr.InvalidTableDefinition, "cannot change name of view column %q to %q", o.Name, n.Name).
				WithHint("Use ALTER VIEW ... RENAME COLUMN ... to change name of view column instead.")
		}
		if o.TypeOID != n.TypeOID || o.Typmod != n.Typmod {
			return pgerr.New(pgerr.InvalidTableDefinition, "cannot change data type of view column %q from %s to %s", o.Name,
				types.T{OID: types.OID(o.TypeOID), Typmod: o.Typmod}.String(), types.T{OID: types.OID(n.TypeOID), Typmod: n.Typmod}.String())
		}
	}
	if readsRelation(c, nt.DependsOn, old.ID) {
		return pgerr.New(pgerr.InvalidObjectDefinition, "infinite recursion detected in rules for relation %q", old.Name)
	}
	for _, d := range dependentsDeep(c, old.ID) {
		if d.Kind == log.View {
			return pgerr.New(pgerr.DependentObjectsStillExist, "cannot replace view %q because materialized view %q depends on it", old.Name, d.Name).
				WithDetail("The materialized view's state was computed from the view's old definition.").
				WithHint("Drop the materialized view, replace the view, then create the materialized view again.")
		}
	}
	if deps := dependents(c, old.ID); len(deps) > 0 && len(nc) != len(oc) {
		return pgerr.New(pgerr.DependentObjectsStillExist, "cannot add columns to view %q because view %q depends on it", old.Name, deps[0].Name).
			WithHint("Replace the view with the same columns, or drop the views that read it first.")
	}
	return nil
}

// readsRelation reports whether the relations ids, or any view among
// them at any depth, read relation target.
func readsRelation(c *log.Catalog, ids []log.TableID, target log.TableID) bool {
	seen := map[log.TableID]bool{}
	var walk func(id log.TableID) bool
	walk = func(id log.TableID) bool {
		if id == target {
			return true
		}
		if seen[id] {
			return false
		}
		seen[id] = true
		td, ok := c.Table(id)
		if !ok || td.Kind != log.PlainView {
			return false
		}
		return slices.ContainsFunc(td.DependsOn, walk)
	}
	return slices.ContainsFunc(ids, walk)
}

// dependentsDeep lists the views that read relation id, directly or
// through other views.
func dependentsDeep(c *log.Catalog, id log.TableID) []*log.TableDesc {
	var out []*log.TableDesc
	seen := map[log.TableID]bool{}
	var walk func(id log.TableID)
	walk = func(id log.TableID) {
		for _, d := range dependents(c, id) {
			if !seen[d.ID] {
				seen[d.ID] = true
				out = append(out, d)
				walk(d.ID)
			}
		}
	}
	walk(id)
	return out
}

// plainViewBuilder parses view td's definition and returns a builder that
// plans it as its creator did: names resolve through the creator's search
// path, and no WITH query of the reading statement is in scope. The
// reading session's settings apply (a view is a query, run when read).
func (b *Builder) plainViewBuilder(td *log.TableDesc) (ast.ResultSetNode, *Builder, error) {
	if b.viewDepth >= maxViewDepth {
		return nil, nil, pgerr.New(pgerr.ProgramLimitExceeded, "views nested more than %d deep reading view %q", maxViewDepth, td.Name)
	}
	rs, err := parseDefinition(td)
	if err != nil {
		return nil, nil, err
	}
	path := []string{td.Schema, "public"}
	if v := td.Options[optViewSearchPath]; v != "" {
		path = strings.Split(v, ",")
	}
	vb := &Builder{cat: b.cat, searchPath: path, settings: b.settings, params: &Params{}, System: b.System, viewDepth: b.viewDepth + 1}
	return rs, vb, nil
}

// parseDefinition parses a stored view's defining query.
func parseDefinition(td *log.TableDesc) (ast.ResultSetNode, error) {
	stmts, err := sql.Parse(td.Definition)
	if err != nil {
		return nil, err
	}
	if len(stmts) == 1 {
		if q, ok := stmts[0].(*sql.Query); ok {
			if rs, ok := q.AST.(ast.ResultSetNode); ok {
				return rs, nil
			}
		}
	}
	return nil, pgerr.New(pgerr.InternalError, "view %q: stored definition is not a query", td.Name)
}

// nameViewColumns gives the columns a view's definition produced the
// view's names, and checks they still have its types: what a view reads
// cannot change shape while it exists, so a difference is a bug.
func nameViewColumns(td *log.TableDesc, sc *scope) error {
	cols := td.Current().Columns
	var visible []int
	for i, c := range sc.cols {
		if !c.hidden {
			visible = append(visible, i)
		}
	}
	if len(visible) != len(cols) {
		return pgerr.New(pgerr.InternalError, "view %q: its definition gives %d columns, the view has %d", td.Name, len(visible), len(cols))
	}
	for j, i := range visible {
		c := cols[j]
		got := sc.cols[i].t
		if got.OID != types.OID(c.TypeOID) && !(got.OID == types.UnknownOID && types.OID(c.TypeOID) == types.TextOID) {
			return pgerr.New(pgerr.InternalError, "view %q: column %q is %s in its definition, %s in the view", td.Name, c.Name,
				got.String(), types.T{OID: types.OID(c.TypeOID), Typmod: c.Typmod}.String())
		}
		sc.cols[i].name = c.Name
		sc.cols[i].t = types.T{OID: types.OID(c.TypeOID), Typmod: c.Typmod}
	}
	return nil
}

// readPlainView plans a query's read of view td as the subquery its
// definition is.
func (b *Builder) readPlainView(td *log.TableDesc, alias string) (exec.Node, *scope, error) {
	rs, vb, err := b.plainViewBuilder(td)
	if err != nil {
		return nil, nil, err
	}
	node, err := vb.buildQueryIn(rs, nil)
	if err != nil {
		return nil, nil, err
	}
	var gave []string
	for _, c := range node.Columns() {
		gave = append(gave, c.Name)
	}
	pick, err := viewColumnsByName(td, gave)
	if err != nil {
		return nil, nil, err
	}
	if pick != nil {
		got := node.Columns()
		p := &exec.Project{Input: node}
		for _, i := range pick {
			p.Exprs = append(p.Exprs, &exec.ColRef{Idx: i, T: got[i].T, Name: got[i].Name})
			p.Cols = append(p.Cols, got[i])
		}
		node = p
	}
	sc := scopeOf(node, alias)
	if err := nameViewColumns(td, sc); err != nil {
		return nil, nil, err
	}
	return node, sc, nil
}

// viewColumnsByName keeps, of what a view's definition gives, the view's
// own columns, when it gives more: a SELECT * over a table that gained a
// column since (ALTER TABLE ADD COLUMN, which views allow). They are
// found by name, as the definition named them when the view was made;
// the view's column names are its own (a column list, ALTER VIEW RENAME
// COLUMN), so a view whose names differ from its definition's cannot
// follow, and fails on read until it is replaced.
//
// It returns the positions of the view's columns in what the definition
// gave (names), or nil when that is all of them.
func viewColumnsByName(td *log.TableDesc, got []string) ([]int, error) {
	cols := td.Current().Columns
	if len(got) <= len(cols) {
		return nil, nil
	}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	if s := td.Options[optDefinitionColumns]; s != "" {
		var def []string
		if json.Unmarshal([]byte(s), &def) == nil && len(def) == len(cols) {
			names = def
		}
	}
	var pick []int
	for ci := range cols {
		found := -1
		for i, g := range got {
			if g != names[ci] {
				continue
			}
			if found >= 0 {
				found = -2
				break
			}
			found = i
		}
		if found < 0 {
			return nil, pgerr.New(pgerr.InvalidObjectDefinition, "view %q: its definition now gives %d columns where it was made with %d, and column %q is not one of them by name", td.Name, len(got), len(cols), names[ci]).
				WithHint("Replace the view (CREATE OR REPLACE VIEW) with its columns named.")
		}
		pick = append(pick, found)
	}
	return pick, nil
}

// recordRead notes a relation a CREATE VIEW's definition names.
func (b *Builder) recordRead(id log.TableID) {
	if b.reads != nil {
		*b.reads = append(*b.reads, id)
	}
}
