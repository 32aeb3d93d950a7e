package planner

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/sql/pgerr"
)

// tableFunction plans the front end's form of a function in FROM,
// (SELECT pg_table_function(fn(args)) AS col). ok is false for any other
// derived table. The arguments may refer to enclosing queries (outer).
func (b *Builder) tableFunction(sel *ast.SelectStmt, outer *scope) (exec.Node, bool, error) {
	if sel.From != nil || sel.Fields == nil || len(sel.Fields.Fields) != 1 {
		return nil, false, nil
	}
	field := sel.Fields.Fields[0]
	carrier, ok := field.Expr.(*ast.FuncCallExpr)
	if !ok || carrier.FnName.L != "pg_table_function" || len(carrier.Args) != 1 {
		return nil, false, nil
	}
	fn, ok := carrier.Args[0].(*ast.FuncCallExpr)
	if !ok {
		return nil, true, pgerr.New(pgerr.SyntaxError, "a function call is expected in FROM")
	}
	name := strings.ToLower(fn.FnName.O)
	if name == "versions" && fn.Schema.O == "" {
		n, err := b.historyTable(fn)
		return n, true, err
	}
	if s := fn.Schema.O; s != "" && s != "pg_catalog" {
		return nil, true, pgerr.New(pgerr.UndefinedFunction, "function %s.%s does not exist", s, name)
	}
	eb := &exprBinder{b: b, scope: &scope{parent: outer}, what: "functions in FROM"}
	args, err := eb.bindList(fn.Args)
	if err != nil {
		return nil, true, err
	}
	if name != "generate_series" && name != "unnest" {
		return nil, true, pgerr.New(pgerr.FeatureNotSupported, "function %s in FROM is not supported", name)
	}
	args, t, err := eb.setFuncType(name, args)
	if err != nil {
		return nil, true, err
	}
	col := field.AsName.O
	if col == "" {
		col = name
	}
	return &exec.TableFunction{Name: name, Args: args, Col: exec.Column{Name: col, T: t}}, true, nil
}
