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
	var t types.T
	switch name {
	case "generate_series":
		if len(args) < 2 || len(args) > 3 {
			return nil, true, undefinedFunc(name, false, args)
		}
		t = tInt4
		for _, a := range args {
			switch a.Type().OID {
			case types.Int8OID:
				t = tInt8
			case types.Int2OID, types.Int4OID, types.UnknownOID:
			default:
				return nil, true, pgerr.New(pgerr.FeatureNotSupported, "generate_series(%s) is not supported", signature(name, false, args))
			}
		}
		for i := range args {
			if args[i], err = eb.coerce(args[i], tInt8, "generate_series"); err != nil {
				return nil, true, err
			}
		}
	case "unnest":
		if len(args) != 1 || !args[0].Type().IsArray() {
			return nil, true, undefinedFunc(name, false, args)
		}
		t = args[0].Type().ElemType()
	default:
		return nil, true, pgerr.New(pgerr.FeatureNotSupported, "function %s in FROM is not supported", name)
	}
	col := field.AsName.O
	if col == "" {
		col = name
	}
	return &exec.TableFunction{Name: name, Args: args, Col: exec.Column{Name: col, T: t}}, true, nil
}
