package planner

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

// tableFunction plans the front end's form of a function in FROM,
// (SELECT pg_table_function(fn(args)) AS col). ok is false for any other
// derived table. The arguments may refer to enclosing queries (outer).
func (b *Builder) tableFunction(sel *ast.SelectStmt, outer *scope) (exec.Node, bool, error) {
	fn, field, ok, err := tableFunctionCall(sel)
	if !ok || err != nil {
		return nil, ok, err
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
	cols, _ := tableFunctionColumns(name, field.AsName.O, t)
	return &exec.TableFunction{Name: name, Args: args, Cols: cols}, true, nil
}

// tableFunctionCall reads the front end's form of a function in FROM,
// (SELECT pg_table_function(fn(args)) AS col): the call and the field
// that carries it. ok is false for any other derived table.
func tableFunctionCall(sel *ast.SelectStmt) (fn *ast.FuncCallExpr, field *ast.SelectField, ok bool, err error) {
	if sel.From != nil || sel.Fields == nil || len(sel.Fields.Fields) != 1 {
		return nil, nil, false, nil
	}
	field = sel.Fields.Fields[0]
	carrier, isCall := field.Expr.(*ast.FuncCallExpr)
	if !isCall || carrier.FnName.L != "pg_table_function" || len(carrier.Args) != 1 {
		return nil, nil, false, nil
	}
	if fn, isCall = carrier.Args[0].(*ast.FuncCallExpr); !isCall {
		return nil, nil, true, pgerr.New(pgerr.SyntaxError, "a function call is expected in FROM")
	}
	return fn, field, true, nil
}

// tableFunctionColumns names the columns of a set-returning function of
// type t in FROM: a function with OUT parameters names them (json_each's
// key and value, json_array_elements' value), another takes the alias
// the front end carries (col), or its own name. expand reports that the
// values are records whose fields are the columns.
func tableFunctionColumns(name, col string, t types.T) (cols []exec.Column, expand bool) {
	if fields, ok := recordFields(t); ok {
		for _, rf := range fields {
			cols = append(cols, exec.Column{Name: rf.name, T: rf.t})
		}
		return cols, true
	}
	if strings.Contains(name, "_array_elements") {
		col = "value"
	}
	if col == "" {
		col = name
	}
	return []exec.Column{{Name: col, T: t}}, false
}
