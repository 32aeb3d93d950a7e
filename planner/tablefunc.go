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
	if !setReturning(name, "") {
		return nil, true, pgerr.New(pgerr.FeatureNotSupported, "function %s in FROM is not supported", name)
	}
	args, t, err := eb.setFuncType(name, args)
	if err != nil {
		return nil, true, err
	}
	// A function with OUT parameters names its columns (json_each's key
	// and value, json_array_elements' value); another takes the alias,
	// or its own name.
	if fields, ok := recordFields(t); ok {
		f := &exec.TableFunction{Name: name, Args: args}
		for _, rf := range fields {
			f.Cols = append(f.Cols, exec.Column{Name: rf.name, T: rf.t})
		}
		return f, true, nil
	}
	col := field.AsName.O
	if strings.Contains(name, "_array_elements") {
		col = "value"
	}
	if col == "" {
		col = name
	}
	return &exec.TableFunction{Name: name, Args: args, Cols: []exec.Column{{Name: col, T: t}}}, true, nil
}
