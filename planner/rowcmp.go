package planner

import (
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/sql/pgerr"
)

// Row constructors compared as PostgreSQL compares them (row-wise
// comparison): (a, b) = (c, d) when every pair is equal, <> when some pair
// differs, and the orderings by the first pair that differs, each NULL
// where a NULL pair decides. They are written as the pairs' comparisons
// joined by AND and OR, whose three-valued logic gives exactly that.

// rowValues returns the values of a row constructor, (a, b) or ROW(a, b).
func rowValues(n ast.ExprNode) ([]ast.ExprNode, bool) {
	if r, ok := n.(*ast.RowExpr); ok {
		return r.Values, true
	}
	return nil, false
}

// bindRowCompare binds l op r for two row constructors.
func (eb *exprBinder) bindRowCompare(op string, l, r []ast.ExprNode) (exec.Expr, error) {
	if len(l) != len(r) {
		return nil, pgerr.New(pgerr.SyntaxError, "unequal number of entries in row expressions")
	}
	ls, err := eb.bindList(l)
	if err != nil {
		return nil, err
	}
	rs, err := eb.bindList(r)
	if err != nil {
		return nil, err
	}
	return eb.rowCompare(op, ls, rs)
}

// rowCompare is ls op rs over bound values, pair by pair.
func (eb *exprBinder) rowCompare(op string, ls, rs []exec.Expr) (exec.Expr, error) {
	pair := func(op string, i int) (exec.Expr, error) { return eb.operator(op, ls[i], rs[i]) }
	switch op {
	case "=", "<>":
		args := make([]exec.Expr, len(ls))
		for i := range ls {
			e, err := pair(op, i)
			if err != nil {
				return nil, err
			}
			args[i] = e
		}
		if len(args) == 1 {
			return args[0], nil
		}
		return &exec.BoolOp{And: op == "=", Args: args}, nil
	case "<", "<=", ">", ">=":
		// From the last pair back: (a1 < b1) OR (a1 = b1 AND (...)),
		// the last pair compared with op itself.
		e, err := pair(op, len(ls)-1)
		if err != nil {
			return nil, err
		}
		for i := len(ls) - 2; i >= 0; i-- {
			strict, err := pair(op[:1], i)
			if err != nil {
				return nil, err
			}
			eq, err := pair("=", i)
			if err != nil {
				return nil, err
			}
			e = &exec.BoolOp{Args: []exec.Expr{strict, &exec.BoolOp{And: true, Args: []exec.Expr{eq, e}}}}
		}
		return e, nil
	}
	return nil, pgerr.New(pgerr.UndefinedFunction, "operator does not exist: record %s record", op)
}
