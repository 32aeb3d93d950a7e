package planner

import (
	"strconv"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	driver "github.com/pingcap/tidb/pkg/parser/test_driver"

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
	// gidCol is the position (plus one) of the grouping id among the
	// aggregation's columns, under grouping sets (0: none).
	gidCol int
}

func (a *aggContext) lookup(eb *exprBinder, n ast.ExprNode) (exec.Expr, bool, error) {
	if f, ok := n.(*ast.FuncCallExpr); ok && f.FnName.L == "grouping" {
		e, err := a.groupingCall(eb, f)
		return e, true, err
	}
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
	if len(a.groupText) > 0 {
		text := eb.b.groupKey(n)
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

// aggCall is an aggregate call with the front end's modifiers peeled off
// (sql/doc.go): pg_filter(call, cond), pg_agg_order(call, key, ...),
// pg_agg_distinct(call).
type aggCall struct {
	core     ast.ExprNode
	filter   ast.ExprNode
	order    []ast.ExprNode
	distinct bool
	// within: an ordered-set aggregate's WITHIN GROUP (ORDER BY order[0]).
	within bool
}

func peelAgg(n ast.ExprNode) aggCall {
	c := aggCall{core: n}
	peel := func(name string) bool {
		f, ok := c.core.(*ast.FuncCallExpr)
		if !ok || f.FnName.L != name || len(f.Args) == 0 {
			return false
		}
		switch name {
		case "pg_filter":
			if len(f.Args) == 2 {
				c.filter = f.Args[1]
			}
		case "pg_agg_order":
			c.order = f.Args[1:]
		case "pg_within_group":
			c.order, c.within = f.Args[1:], true
		case "pg_agg_distinct":
			c.distinct = true
		}
		c.core = f.Args[0]
		return true
	}
	peel("pg_filter")
	peel("pg_within_group")
	peel("pg_agg_order")
	peel("pg_agg_distinct")
	return c
}

// aggregateName returns the lower-case name of an aggregate call.
func aggregateName(n ast.ExprNode) (string, bool) {
	switch x := peelAgg(n).core.(type) {
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
	call := peelAgg(n)
	var name string
	var args []ast.ExprNode
	distinct := call.distinct
	switch a := call.core.(type) {
	case *ast.AggregateFuncExpr:
		name, args, distinct = strings.ToLower(a.F), a.Args, distinct || a.Distinct
		if a.Order != nil {
			return exec.Aggregate{}, pgerr.New(pgerr.FeatureNotSupported, "ORDER BY inside %s is not supported", name)
		}
	case *ast.FuncCallExpr:
		name, args = a.FnName.L, a.Args
	}
	if call.within || exec.IsOrderedSetAgg(name) {
		return b.bindOrderedSet(eb, call, name, args)
	}
	ag, err := b.bindAggregateCall(eb, n, name, args, distinct)
	if err != nil {
		return exec.Aggregate{}, err
	}
	inner := &exprBinder{b: b, scope: eb.scope, what: "aggregate function calls"}
	if call.filter != nil {
		fb := &exprBinder{b: b, scope: eb.scope, what: "FILTER"}
		if ag.Filter, err = fb.bindAs(call.filter, tBool, "argument of FILTER"); err != nil {
			return exec.Aggregate{}, err
		}
	}
	for _, k := range call.order {
		k, sk := aggSortKey(k)
		if distinct && !inArgs(k, args) {
			return exec.Aggregate{}, pgerr.New(pgerr.InvalidColumnReference, "in an aggregate with DISTINCT, ORDER BY expressions must appear in argument list")
		}
		e, err := inner.bind(k)
		if err != nil {
			return exec.Aggregate{}, err
		}
		if sk.Expr, err = inner.resolveUnknown(e, tText); err != nil {
			return exec.Aggregate{}, err
		}
		ag.Order = append(ag.Order, sk)
	}
	return ag, nil
}

// bindOrderedSet binds an ordered-set aggregate, fn(fraction) WITHIN
// GROUP (ORDER BY value): the value is its argument and its one sort key,
// the fraction a constant.
func (b *Builder) bindOrderedSet(eb *exprBinder, call aggCall, name string, args []ast.ExprNode) (exec.Aggregate, error) {
	// PostgreSQL finds no such function either way (its ordered-set
	// aggregates take the sort key as an argument).
	if !call.within {
		return exec.Aggregate{}, pgerr.New(pgerr.UndefinedFunction, "function %s() does not exist", name).
			WithHint("%s is an ordered-set aggregate: %s(...) WITHIN GROUP (ORDER BY ...).", name, name)
	}
	if !exec.IsOrderedSetAgg(name) {
		return exec.Aggregate{}, pgerr.New(pgerr.UndefinedFunction, "function %s does not exist as an ordered-set aggregate", name).
			WithHint("The ordered-set aggregates are percentile_cont, percentile_disc and mode.")
	}
	inner := &exprBinder{b: b, scope: eb.scope, what: "aggregate function calls"}
	k, sk := aggSortKey(call.order[0])
	value, err := inner.bind(k)
	if err != nil {
		return exec.Aggregate{}, err
	}
	if value, err = inner.resolveUnknown(value, tText); err != nil {
		return exec.Aggregate{}, err
	}
	var fraction exec.Expr
	want := 1
	if name == "mode" {
		want = 0
	}
	if len(args) != want {
		return exec.Aggregate{}, pgerr.New(pgerr.UndefinedFunction, "function %s with %d direct arguments does not exist", name, len(args))
	}
	if want == 1 {
		if fraction, err = inner.bindAs(args[0], tFloat8, "argument of "+name); err != nil {
			return exec.Aggregate{}, err
		}
		if idx, ok := colRefs(fraction, nil); !ok || len(idx) > 0 {
			return exec.Aggregate{}, pgerr.New(pgerr.FeatureNotSupported, "the fraction of %s must be a constant", name)
		}
	}
	if name == "percentile_cont" {
		if value, err = inner.coerce(value, tFloat8, "argument of percentile_cont"); err != nil {
			return exec.Aggregate{}, err
		}
	}
	f, err := exec.OrderedSetAgg(name, value.Type(), fraction)
	if err != nil {
		return exec.Aggregate{}, err
	}
	sk.Expr = value
	ag := exec.Aggregate{Func: f, Arg: value, Order: []exec.SortKey{sk}}
	if call.filter != nil {
		fb := &exprBinder{b: b, scope: eb.scope, what: "FILTER"}
		if ag.Filter, err = fb.bindAs(call.filter, tBool, "argument of FILTER"); err != nil {
			return exec.Aggregate{}, err
		}
	}
	return ag, nil
}

// aggSortKey reads an ORDER BY key of pg_agg_order: the expression under
// its pg_desc and pg_nulls_first/last wrappers, and the direction they
// give (NULLs sort high by default, as in PostgreSQL).
func aggSortKey(k ast.ExprNode) (ast.ExprNode, exec.SortKey) {
	var sk exec.SortKey
	nullsSet := false
	for {
		f, ok := k.(*ast.FuncCallExpr)
		if !ok || len(f.Args) != 1 {
			break
		}
		switch f.FnName.L {
		case "pg_nulls_first", "pg_nulls_last":
			sk.NullsFirst, nullsSet = f.FnName.L == "pg_nulls_first", true
		case "pg_desc":
			sk.Desc = true
		default:
			ok = false
		}
		if !ok {
			break
		}
		k = f.Args[0]
	}
	if !nullsSet {
		sk.NullsFirst = sk.Desc
	}
	return k, sk
}

func inArgs(k ast.ExprNode, args []ast.ExprNode) bool {
	text := restore(k)
	for _, a := range args {
		if restore(a) == text {
			return true
		}
	}
	return false
}

// twoArgAggregate binds string_agg(value, delimiter) and
// json(b)_object_agg(key, value), whose two arguments are one value to the
// aggregate (exec.StringAgg, exec.JSONPair), with inner binding the
// arguments (over the aggregation's rows for a window's).
func (b *Builder) twoArgAggregate(inner *exprBinder, name string, args []ast.ExprNode, distinct bool) (exec.Aggregate, error) {
	if name == "string_agg" {
		return b.stringAgg(inner, args, distinct)
	}
	pair := &exec.JSONPair{}
	var err error
	if pair.Key, err = inner.bind(args[0]); err == nil {
		if pair.Key, err = inner.resolveUnknown(pair.Key, tText); err == nil {
			if pair.Value, err = inner.bind(args[1]); err == nil {
				pair.Value, err = inner.resolveUnknown(pair.Value, tText)
			}
		}
	}
	if err != nil {
		return exec.Aggregate{}, err
	}
	return exec.Aggregate{Func: exec.JSONObjectAgg(name == "jsonb_object_agg"), Arg: pair, Distinct: distinct}, nil
}

// bindAggregateCall binds the function and argument of an aggregate call.
func (b *Builder) bindAggregateCall(eb *exprBinder, n ast.ExprNode, name string, args []ast.ExprNode, distinct bool) (exec.Aggregate, error) {
	if len(args) == 2 && (name == "string_agg" || name == "json_object_agg" || name == "jsonb_object_agg") {
		return b.twoArgAggregate(&exprBinder{b: b, scope: eb.scope, what: "aggregate function calls"}, name, args, distinct)
	}
	inner := &exprBinder{b: b, scope: eb.scope, what: "aggregate function calls"}
	star := false
	var arg exec.Expr
	if len(args) == 1 {
		// TiDB writes count(*) as count(1).
		// count(DISTINCT 1) is not count(*): it is 1 (0 on no rows).
		if _, isTiDB := peelAgg(n).core.(*ast.AggregateFuncExpr); isTiDB && name == "count" && !distinct && isStarArg(args[0]) {
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

// groupKey is the text that matches an expression to a GROUP BY
// expression: its SQL text, plus the numbers of the parameters in it,
// since every parameter restores as "?" ($1 and $2 are different).
func (b *Builder) groupKey(n ast.ExprNode) string {
	text := restore(n)
	v := &paramFinder{}
	n.Accept(v)
	for _, m := range v.found {
		num := m.Order + 1
		if m.Order < len(b.params.Marker) {
			num = b.params.Marker[m.Order]
		}
		text += "\x00$" + strconv.Itoa(num)
	}
	return text
}

type paramFinder struct{ found []*driver.ParamMarkerExpr }

func (v *paramFinder) Enter(n ast.Node) (ast.Node, bool) {
	if m, ok := n.(*driver.ParamMarkerExpr); ok {
		v.found = append(v.found, m)
	}
	return n, false
}

func (v *paramFinder) Leave(n ast.Node) (ast.Node, bool) { return n, true }
