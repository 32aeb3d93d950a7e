package planner

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/sql/pgerr"
)

// aggContext maps expressions above a GROUP BY to the aggregation's output:
// aggregate calls to their result column, expressions equal to a GROUP BY
// expression to its column; any other reference to an input column is a
// grouping error, as in PostgreSQL.
type aggContext struct {
	in        *scope
	post      *scope
	groupText []string
	groupExpr []exec.Expr
	// aggs are the aggregate calls: TiDB's AggregateFuncExpr for the
	// aggregates MySQL knows, a FuncCallExpr for the others (bool_and,
	// bool_or, every).
	aggs []ast.ExprNode
}

func (a *aggContext) lookup(eb *exprBinder, n ast.ExprNode) (exec.Expr, bool, error) {
	if name, ok := aggregateName(n); ok {
		for i, g := range a.aggs {
			if g == n {
				idx := len(a.groupText) + i
				c := a.post.cols[idx]
				return &exec.ColRef{Idx: idx, T: c.t, Name: name}, true, nil
			}
		}
		return nil, true, pgerr.New(pgerr.GroupingError, "aggregate function calls cannot be nested")
	}
	if f, ok := n.(*ast.FuncCallExpr); ok && f.FnName.L == "pg_filter" {
		if inner, ok := f.Args[0].(*ast.AggregateFuncExpr); ok {
			return a.lookup(eb, inner)
		}
	}
	if len(a.groupText) > 0 {
		text := restore(n)
		for i, g := range a.groupText {
			if g == text {
				return &exec.ColRef{Idx: i, T: a.groupExpr[i].Type(), Name: text}, true, nil
			}
		}
	}
	if c, ok := n.(*ast.ColumnNameExpr); ok {
		// A column of this query's FROM that is not grouped.
		if idx, depth, col, err := a.in.resolve(c.Name.Table.O, c.Name.Name.O); err == nil && depth == 0 {
			// The same column spelled differently (t.b for GROUP BY b).
			for i, g := range a.groupExpr {
				if cr, ok := g.(*exec.ColRef); ok && cr.Idx == idx {
					return &exec.ColRef{Idx: i, T: g.Type(), Name: col.name}, true, nil
				}
			}
			name := col.name
			if col.table != "" {
				name = col.table + "." + col.name
			}
			return nil, true, pgerr.New(pgerr.GroupingError, "column %q must appear in the GROUP BY clause or be used in an aggregate function", name)
		}
	}
	return nil, false, nil
}

// collectAggs finds the aggregate calls of a query level (not inside
// subqueries), in order of appearance.
func collectAggs(fields []field, having *ast.HavingClause, order []*ast.ByItem) []ast.ExprNode {
	v := &aggCollector{}
	for _, f := range fields {
		f.expr.Accept(v)
	}
	if having != nil {
		having.Expr.Accept(v)
	}
	for _, o := range order {
		o.Expr.Accept(v)
	}
	return v.found
}

type aggCollector struct{ found []ast.ExprNode }

func (v *aggCollector) Enter(n ast.Node) (ast.Node, bool) {
	if e, ok := n.(ast.ExprNode); ok {
		if _, isAgg := aggregateName(e); isAgg {
			v.found = append(v.found, e)
			return n, true
		}
	}
	if _, ok := n.(*ast.SubqueryExpr); ok {
		return n, true
	}
	return n, false
}

// aggregateName returns the lower-case name of an aggregate call.
func aggregateName(n ast.ExprNode) (string, bool) {
	switch x := n.(type) {
	case *ast.AggregateFuncExpr:
		return strings.ToLower(x.F), true
	case *ast.FuncCallExpr:
		if exec.IsAggregate(x.FnName.L) {
			return x.FnName.L, true
		}
	}
	return "", false
}

func (v *aggCollector) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// bindAggregate binds an aggregate call's argument over the input scope.
func (b *Builder) bindAggregate(eb *exprBinder, n ast.ExprNode) (exec.Aggregate, error) {
	var name string
	var args []ast.ExprNode
	var distinct, ordered bool
	switch a := n.(type) {
	case *ast.AggregateFuncExpr:
		name, args, distinct, ordered = strings.ToLower(a.F), a.Args, a.Distinct, a.Order != nil
	case *ast.FuncCallExpr:
		name, args = a.FnName.L, a.Args
	}
	if name == "string_agg" && len(args) == 2 {
		return b.stringAgg(eb, args, distinct, ordered)
	}
	inner := &exprBinder{b: b, scope: eb.scope, what: "aggregate function calls"}
	star := false
	var arg exec.Expr
	if len(args) == 1 {
		// TiDB writes count(*) as count(1).
		// count(DISTINCT 1) is not count(*): it is 1 (0 on no rows).
		if _, isTiDB := n.(*ast.AggregateFuncExpr); isTiDB && name == "count" && !distinct && isStarArg(args[0]) {
			star = true
		} else {
			var err error
			if arg, err = inner.bind(args[0]); err != nil {
				return exec.Aggregate{}, err
			}
			if arg, err = inner.resolveUnknown(arg, tText); err != nil {
				return exec.Aggregate{}, err
			}
		}
	} else {
		return exec.Aggregate{}, pgerr.New(pgerr.FeatureNotSupported, "aggregate %s with %d arguments is not supported yet", name, len(args))
	}
	var argT = tText
	if arg != nil {
		argT = arg.Type()
	}
	f, err := exec.ResolveAgg(name, argT, star)
	if err != nil {
		return exec.Aggregate{}, err
	}
	if f == nil {
		return exec.Aggregate{}, pgerr.New(pgerr.UndefinedFunction, "function %s does not exist", name)
	}
	if ordered {
		return exec.Aggregate{}, pgerr.New(pgerr.FeatureNotSupported, "ORDER BY inside an aggregate is not supported yet")
	}
	return exec.Aggregate{Func: f, Arg: arg, Distinct: distinct}, nil
}

func isStarArg(n ast.ExprNode) bool {
	if v, ok := n.(interface{ GetValue() any }); ok {
		if i, ok := v.GetValue().(int64); ok && i == 1 {
			return true
		}
	}
	return false
}
