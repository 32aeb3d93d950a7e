package planner

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/format"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

// Builder plans one statement against one catalog snapshot.
type Builder struct {
	cat        *log.Catalog
	searchPath []string
	settings   *types.Settings
	params     *Params
	// System resolves pg_catalog and information_schema relations.
	System SystemTables
	// ctes are the WITH queries in scope, innermost last (see cte.go).
	ctes []*cteDef
	// reads, while CREATE VIEW plans its definition, collects the
	// relations it names (plainview.go).
	reads *[]log.TableID
	// scalarCols are a view's select-list subqueries planned as joins,
	// by the expression their value is read with (view_scalar.go).
	scalarCols map[*ast.SubqueryExpr]exec.Expr
	// setOperand tells buildSelect that it plans an operand of a set
	// operation (setop.go).
	setOperand bool
	// viewDepth counts the views whose definitions this builder plans
	// inside (plainview.go).
	viewDepth int
	// viewTemporal: the view being planned has its temporal filter
	// (view_temporal.go).
	viewTemporal bool
	// viewTies: the view being planned makes a single rank() or
	// dense_rank() column that an outer WHERE bounds a top-N with ties
	// (views/topties.go) instead of a window operator. Views made before
	// that was done keep the window operator (optTiesTopN).
	viewTies bool
	// viewWindowsOnly: the view being planned computes every window
	// function with the window operator, a row_number() too: one that no
	// outer WHERE bounds is no top-N.
	viewWindowsOnly bool
}

// SystemTables provides virtual relations (pg_catalog, information_schema)
// built from the catalog.
type SystemTables interface {
	Lookup(schema, name string) (exec.Node, bool)
}

// NewBuilder makes a builder. params may carry client-given types; it is
// filled with inferred ones.
func NewBuilder(cat *log.Catalog, searchPath []string, settings *types.Settings, params *Params) *Builder {
	if params == nil {
		params = &Params{}
	}
	if len(searchPath) == 0 {
		searchPath = []string{"public"}
	}
	return &Builder{cat: cat, searchPath: searchPath, settings: settings, params: params}
}

// Params returns the statement's parameters with their final types.
// Parameters whose type nothing decided are text, as PostgreSQL does for
// unknown parameters in a select list.
func (b *Builder) Params() *Params {
	for i, t := range b.params.Types {
		if t.OID == types.UnknownOID || t.OID == 0 {
			b.params.Types[i] = tText
		}
	}
	return b.params
}

// LookupTable finds a table by possibly qualified name along the search
// path.
func (b *Builder) LookupTable(schema, name string) (*log.TableDesc, error) {
	if schema != "" {
		if td, ok := b.cat.Lookup(schema, name); ok {
			return td, nil
		}
		if !b.cat.Schemas[schema] {
			return nil, pgerr.New(pgerr.UndefinedSchema, "schema %q does not exist", schema)
		}
		return nil, pgerr.New(pgerr.UndefinedTable, "relation \"%s.%s\" does not exist", schema, name)
	}
	for _, s := range b.searchPath {
		if td, ok := b.cat.Lookup(s, name); ok {
			return td, nil
		}
	}
	return nil, pgerr.New(pgerr.UndefinedTable, "relation %q does not exist", name)
}

// restore prints an AST node back to SQL text, for matching GROUP BY
// expressions and for view definitions.
func restore(n ast.Node) string {
	var sb strings.Builder
	ctx := format.NewRestoreCtx(format.RestoreStringSingleQuotes|format.RestoreNameDoubleQuotes|format.RestoreKeyWordUppercase, &sb)
	if err := n.Restore(ctx); err != nil {
		return ""
	}
	return sb.String()
}

// BindValue binds an expression that reads no row (an EXECUTE argument)
// as a value of type t, converted as an assignment converts it.
func (b *Builder) BindValue(e ast.ExprNode, t types.T, what string) (exec.Expr, error) {
	eb := &exprBinder{b: b, scope: &scope{}, what: what}
	x, err := eb.bind(e)
	if err != nil {
		return nil, err
	}
	if t.OID == types.UnknownOID {
		return eb.resolveUnknown(x, tText)
	}
	return eb.coerce(x, t, what)
}
