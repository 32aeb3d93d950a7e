package planner

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

// funcCall binds a function call: the front end's pg_* carriers of
// PostgreSQL syntax, then built-in functions.
func (eb *exprBinder) funcCall(x *ast.FuncCallExpr) (exec.Expr, error) {
	name := strings.ToLower(x.FnName.O)
	if setReturning(name, x.Schema.O) {
		return eb.setFuncCall(name, x)
	}
	if name == "pg_field" {
		return eb.fieldSelect(x.Args)
	}
	if e, ok, err := eb.pgCompat(name, x); ok {
		return e, err
	}
	switch name {
	case "pg_cast":
		typName, err := stringArg(x.Args[1])
		if err != nil {
			return nil, err
		}
		t, err := types.ParseTypeName(typName)
		if err != nil {
			return nil, err
		}
		a, err := eb.bind(x.Args[0])
		if err != nil {
			return nil, err
		}
		return eb.explicitCast(a, t)
	case "pg_distinct":
		l, err := eb.bind(x.Args[0])
		if err != nil {
			return nil, err
		}
		r, err := eb.bind(x.Args[1])
		if err != nil {
			return nil, err
		}
		ct, ok := exec.CommonType(l.Type(), r.Type())
		if !ok {
			return nil, pgerr.New(pgerr.UndefinedFunction, "operator does not exist: %s = %s", l.Type(), r.Type())
		}
		if l, err = eb.coerce(l, ct, "IS DISTINCT FROM"); err != nil {
			return nil, err
		}
		if r, err = eb.coerce(r, ct, "IS DISTINCT FROM"); err != nil {
			return nil, err
		}
		return &exec.Distinct{A: l, B: r, T: ct}, nil
	case "pg_op":
		op, err := stringArg(x.Args[0])
		if err != nil {
			return nil, err
		}
		args, err := eb.bindList(x.Args[1:])
		if err != nil {
			return nil, err
		}
		f, args, err := eb.resolve(op, true, args)
		if err != nil {
			return nil, err
		}
		return &exec.Call{Fn: f, Args: args, T: f.Ret}, nil
	case "coalesce":
		defer eb.refuseSRF("set-returning functions are not allowed in COALESCE")()
		args, err := eb.bindList(x.Args)
		if err != nil {
			return nil, err
		}
		t, err := eb.unify(args, "COALESCE")
		if err != nil {
			return nil, err
		}
		for i := range args {
			if args[i], err = eb.coerce(args[i], t, "COALESCE"); err != nil {
				return nil, err
			}
		}
		return &exec.Coalesce{Args: args, T: t}, nil
	case "nullif":
		if len(x.Args) != 2 {
			return nil, pgerr.New(pgerr.SyntaxError, "NULLIF takes two arguments")
		}
		a, err := eb.bind(x.Args[0])
		if err != nil {
			return nil, err
		}
		b, err := eb.bind(x.Args[1])
		if err != nil {
			return nil, err
		}
		eq, err := eb.operator("=", a, b)
		if err != nil {
			return nil, err
		}
		a, _ = eb.resolveUnknown(a, tText)
		return &exec.Case{Whens: []exec.When{{Cond: eq, Then: &exec.Const{T: a.Type()}}}, Else: a, T: a.Type()}, nil
	}
	if exec.IsAggregate(name) {
		return nil, pgerr.New(pgerr.GroupingError, "aggregate functions are not allowed in %s", eb.what)
	}
	if strings.HasPrefix(name, "pg_") && len(exec.Overloads(name)) == 0 {
		return nil, pgerr.New(pgerr.FeatureNotSupported, "%s is not supported yet", strings.TrimPrefix(name, "pg_"))
	}
	args, err := eb.bindList(x.Args)
	if err != nil {
		return nil, err
	}
	f, args, err := eb.resolve(name, false, args)
	if err != nil {
		return nil, err
	}
	return &exec.Call{Fn: f, Args: args, T: f.Ret}, nil
}

// explicitCast is CAST(a AS t) / a::t. An unknown literal is read directly
// as t (so '1 day'::interval is an input, not a cast from text).
func (eb *exprBinder) explicitCast(a exec.Expr, t types.T) (exec.Expr, error) {
	if c, ok := a.(*exec.Const); ok && c.T.OID == types.UnknownOID {
		if c.Val == nil {
			return &exec.Const{T: t}, nil
		}
		// Read the text as the base type, then cast explicitly to the
		// typmod: 'abc'::varchar(2) is 'ab', not an error.
		base := types.Make(t.OID)
		v, err := types.ParseText(base, c.Val.(string), eb.b.settings)
		if err != nil {
			return nil, err
		}
		if t.Typmod >= 0 {
			if v, err = types.Cast(v, base, t, eb.b.settings); err != nil {
				return nil, err
			}
		}
		return &exec.Const{Val: v, T: t}, nil
	}
	if p, ok := a.(*exec.Param); ok && p.T.OID == types.UnknownOID {
		return eb.coerce(p, t, "parameter")
	}
	if !exec.CanCast(a.Type().OID, t.OID) {
		return nil, pgerr.New(pgerr.CannotCoerce, "cannot cast type %s to %s", a.Type(), t)
	}
	return &exec.Cast{Arg: a, To: t, Explicit: true}, nil
}

// subqueries

func (eb *exprBinder) subPlan(q ast.ResultSetNode) (exec.Node, *scope, error) {
	inner := &scope{parent: eb.scope, boundary: true}
	n, sc, err := eb.b.buildResultSet(q, inner)
	if err != nil {
		return nil, nil, err
	}
	return n, sc, nil
}

func (eb *exprBinder) scalarSubquery(x *ast.SubqueryExpr) (exec.Expr, error) {
	outer := &scope{parent: eb.scope, boundary: true}
	n, err := eb.b.buildQueryIn(x.Query, outer)
	if err != nil {
		return nil, err
	}
	cols := n.Columns()
	if len(cols) != 1 {
		return nil, pgerr.New(pgerr.SyntaxError, "subquery must return only one column")
	}
	return &exec.Subquery{Plan: n, Mode: exec.ScalarSubquery, Correlated: outer.correlated, T: cols[0].T}, nil
}

func (eb *exprBinder) exists(x *ast.ExistsSubqueryExpr) (exec.Expr, error) {
	sq, ok := x.Sel.(*ast.SubqueryExpr)
	if !ok {
		return nil, pgerr.New(pgerr.SyntaxError, "EXISTS needs a subquery")
	}
	outer := &scope{parent: eb.scope, boundary: true}
	n, err := eb.b.buildQueryIn(sq.Query, outer)
	if err != nil {
		return nil, err
	}
	var e exec.Expr = &exec.Subquery{Plan: n, Mode: exec.ExistsSubquery, Correlated: outer.correlated, T: tBool}
	if x.Not {
		e = &exec.Not{Arg: e}
	}
	return e, nil
}

func (eb *exprBinder) inSubquery(x *ast.PatternInExpr) (exec.Expr, error) {
	sq, ok := x.Sel.(*ast.SubqueryExpr)
	if !ok {
		return nil, pgerr.New(pgerr.SyntaxError, "IN needs a subquery")
	}
	e, err := eb.quantified(x.Expr, "=", sq, false)
	if err != nil {
		return nil, err
	}
	if x.Not {
		e = &exec.Not{Arg: e}
	}
	return e, nil
}

func (eb *exprBinder) compareSubquery(x *ast.CompareSubqueryExpr) (exec.Expr, error) {
	op, ok := binaryOps[x.Op]
	if !ok {
		return nil, pgerr.New(pgerr.FeatureNotSupported, "operator %s with a subquery is not supported", x.Op)
	}
	sq, ok := x.R.(*ast.SubqueryExpr)
	if !ok {
		return nil, pgerr.New(pgerr.FeatureNotSupported, "ANY/ALL over a non-subquery is not supported here")
	}
	return eb.quantified(x.L, op, sq, x.All)
}

// quantified is l op ANY/ALL (subquery), IN too; l may be a row, (a, b)
// IN (SELECT x, y ...), compared with each of the subquery's rows as a
// row.
func (eb *exprBinder) quantified(l ast.ExprNode, op string, sq *ast.SubqueryExpr, all bool) (exec.Expr, error) {
	lv, isRow := rowValues(l)
	if !isRow {
		lv = []ast.ExprNode{l}
	}
	args, err := eb.bindList(lv)
	if err != nil {
		return nil, err
	}
	outer := &scope{parent: eb.scope, boundary: true}
	n, err := eb.b.buildQueryIn(sq.Query, outer)
	if err != nil {
		return nil, err
	}
	cols := n.Columns()
	switch {
	case len(cols) > len(args):
		return nil, pgerr.New(pgerr.SyntaxError, "subquery has too many columns")
	case len(cols) < len(args):
		return nil, pgerr.New(pgerr.SyntaxError, "subquery has too few columns")
	}
	sub := &exec.Subquery{Plan: n, Mode: exec.AnySubquery, Correlated: outer.correlated, T: tBool}
	if all {
		sub.Mode = exec.AllSubquery
	}
	if isRow {
		sub.Args = args
		sub.Cmp, err = eb.rowAgainst(op, args, cols)
	} else {
		sub.Arg, sub.Cmp, err = eb.valueAgainst(op, args[0], cols[0].T)
	}
	return sub, err
}

// valueAgainst returns arg coerced to the common type with a subquery's
// column of type t, and the comparison, which reads (arg, subquery value)
// as a two-column row.
func (eb *exprBinder) valueAgainst(op string, arg exec.Expr, t types.T) (exec.Expr, exec.Expr, error) {
	ct, ok := exec.CommonType(arg.Type(), t)
	if !ok {
		return nil, nil, pgerr.New(pgerr.UndefinedFunction, "operator does not exist: %s %s %s", arg.Type(), op, t)
	}
	arg, err := eb.coerce(arg, ct, "IN")
	if err != nil {
		return nil, nil, err
	}
	pairScope := &scope{cols: []scopeCol{{name: "?l", t: ct}, {name: "?r", t: t}}}
	pb := &exprBinder{b: eb.b, scope: pairScope, what: eb.what}
	r, err := pb.coerce(&exec.ColRef{Idx: 1, T: t, Name: "subquery"}, ct, "IN")
	if err != nil {
		return nil, nil, err
	}
	cmp, err := pb.operator(op, &exec.ColRef{Idx: 0, T: ct, Name: arg.String()}, r)
	return arg, cmp, err
}

// rowAgainst is the row-wise comparison of a row's values with a
// subquery's row, reading the values, then the subquery's columns.
func (eb *exprBinder) rowAgainst(op string, args []exec.Expr, cols []exec.Column) (exec.Expr, error) {
	pairScope := &scope{}
	ls, rs := make([]exec.Expr, len(args)), make([]exec.Expr, len(args))
	for i, a := range args {
		pairScope.cols = append(pairScope.cols, scopeCol{name: "?l", t: a.Type()})
		ls[i] = &exec.ColRef{Idx: i, T: a.Type(), Name: a.String()}
		rs[i] = &exec.ColRef{Idx: len(args) + i, T: cols[i].T, Name: "subquery"}
	}
	for _, c := range cols {
		pairScope.cols = append(pairScope.cols, scopeCol{name: "?r", t: c.T})
	}
	pb := &exprBinder{b: eb.b, scope: pairScope, what: eb.what}
	return pb.rowCompare(op, ls, rs)
}
