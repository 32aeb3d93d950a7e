package planner

import (
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/strand-db/strand/exec"
)

// BindRowFilter binds a SUBSCRIBE's WHERE over one relation's rows (its
// columns, then _version), as a boolean predicate. A subscription over
// several tables binds it once per table.
func (b *Builder) BindRowFilter(l *exec.TableLayout, where ast.ExprNode) (exec.Expr, error) {
	eb := &exprBinder{b: b, scope: tableScope(l, l.Desc.Name), what: "WHERE"}
	return eb.bindAs(where, tBool, "argument of WHERE")
}
