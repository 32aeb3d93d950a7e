package planner

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql/types"
	"github.com/strand-db/strand/views"
)

// BuildViewPlan derives the incremental plan of a view's query, a tree of
// views operators: FROM items are tables, other materialized views,
// subqueries, and inner or outer equi-joins of any of them (to any depth);
// WHERE; projection, or GROUP BY with count, count(DISTINCT), sum, avg,
// min, max, bool_and, bool_or and HAVING; DISTINCT; UNION [ALL]; ORDER BY
// ... LIMIT n [OFFSET m] (top-N), and row_number(), rank() or
// dense_rank() OVER (PARTITION BY ... ORDER BY ...) in a subquery whose
// rows the outer WHERE bounds (rn <= n): top-N per group. Anything else
// is refused with 0A000 naming the part.
func (b *Builder) BuildViewPlan(q ast.ResultSetNode) (*viewPlan, error) {
	return b.buildViewPlan(q, true)
}

// buildViewPlan is BuildViewPlan; ties lets a bounded rank() or
// dense_rank() be a top-N with ties (viewTies).
func (b *Builder) buildViewPlan(q ast.ResultSetNode, ties bool) (*viewPlan, error) {
	return b.planView(q, ties, false)
}

// planView is buildViewPlan; windowsOnly plans every window function,
// row_number() too, with the window operator (viewWindowsOnly).
func (b *Builder) planView(q ast.ResultSetNode, ties, windowsOnly bool) (*viewPlan, error) {
	var reads []log.TableID
	b.reads, b.viewTemporal, b.viewTies, b.viewWindowsOnly = &reads, false, ties, windowsOnly
	vq, err := b.viewQuery(q)
	b.reads, b.viewTies, b.viewWindowsOnly = nil, false, false
	if err != nil {
		return nil, err
	}
	p := &views.Plan{Root: vq.node, OutTypes: vq.types, Distinct: vq.distinct}
	if err := checkBounded(p.Root); err != nil {
		switch {
		case ties && hasTiesTopN(p.Root):
			// A rank() that no WHERE bounds: the window operator computes
			// it per partition, at the partition's cost.
			return b.planView(q, false, windowsOnly)
		case !windowsOnly:
			// So does a row_number() that no WHERE bounds; when it runs
			// from its partition's start a change costs the rows after
			// it (views/windowrun.go).
			return b.planView(q, ties, true)
		}
		return nil, err
	}
	// The view depends on the tables its state is computed from, and on
	// the (plain) views its definition names on the way to them.
	deps := p.Sources()
	for _, id := range reads {
		if td, ok := b.cat.Table(id); ok && td.Kind == log.PlainView && !slices.Contains(deps, id) {
			deps = append(deps, id)
		}
	}
	return &viewPlan{plan: p, names: vq.names, deps: deps, ties: hasTiesTopN(p.Root)}, nil
}

// hasTiesTopN reports whether a plan has a top-N with ties.
func hasTiesTopN(n views.Node) bool {
	if t, ok := n.(*views.TopN); ok && t.Ties != views.NoTies {
		return true
	}
	for _, c := range views.Children(n) {
		if hasTiesTopN(c) {
			return true
		}
	}
	return false
}

// viewQuery is a planned query of a view: its operator, output columns,
// and whether it still needs DISTINCT applied (the root keeps
// multiplicities and reads each row once; a subquery gets an operator).
type viewQuery struct {
	node     views.Node
	types    []types.T
	names    []string
	distinct bool
	// rank maps an output column to the top-N whose row_number it is, so
	// that an outer WHERE can bound it.
	rank map[int]*views.TopN
}

// viewRel is a planned FROM item: its operator and the scope of its rows.
type viewRel struct {
	node views.Node
	sc   *scope
	rank map[int]*views.TopN
}

func (r *viewRel) types() []types.T {
	ts := make([]types.T, len(r.sc.cols))
	for i, c := range r.sc.cols {
		ts[i] = c.t
	}
	return ts
}

func (b *Builder) viewQuery(q ast.ResultSetNode) (*viewQuery, error) {
	switch x := q.(type) {
	case *ast.SelectStmt:
		return b.viewSelect(x)
	case *ast.SetOprStmt:
		if x.With != nil {
			pop, err := b.pushViewCTEs(x.With)
			if err != nil {
				return nil, err
			}
			defer pop()
		}
		if x.OrderBy != nil || x.Limit != nil {
			return nil, notMaintainable("ORDER BY or LIMIT on a set operation is not supported yet")
		}
		return b.viewSetOp(x.SelectList)
	case *ast.SubqueryExpr:
		return b.viewQuery(x.Query)
	}
	return nil, notMaintainable("query %T is not supported", q)
}

// viewSetOp plans UNION and UNION ALL, left to right, each branch coerced
// to the unified column types.
func (b *Builder) viewSetOp(list *ast.SetOprSelectList) (*viewQuery, error) {
	operands := make([]*viewQuery, len(list.Selects))
	ops := make([]*ast.SetOprType, len(operands))
	for i, n := range list.Selects {
		var vq *viewQuery
		var err error
		switch x := n.(type) {
		case *ast.SelectStmt:
			vq, err = b.viewSelect(x)
			ops[i] = x.AfterSetOperator
		case *ast.SetOprSelectList:
			vq, err = b.viewSetOp(x)
			ops[i] = x.AfterSetOperator
		default:
			err = notMaintainable("set operand %T is not supported", n)
		}
		if err != nil {
			return nil, err
		}
		operands[i] = subqueryDistinct(vq)
	}
	return foldSetOps(operands, ops, b.viewSetOpCombine)
}

// viewSetOpCombine combines two operands of a set operation, each coerced
// to the unified column types.
func (b *Builder) viewSetOpCombine(acc, vq *viewQuery, op *ast.SetOprType) (*viewQuery, error) {
	if op == nil {
		return nil, notMaintainable("a set operation without an operator is not supported")
	}
	if len(vq.types) != len(acc.types) {
		return nil, notMaintainable("each %s query must have the same number of columns", setOpName(op))
	}
	eb := &exprBinder{b: b, scope: &scope{}, what: setOpName(op)}
	lp, rp := &views.Project{Input: acc.node}, &views.Project{Input: vq.node}
	var ts []types.T
	for c := range acc.types {
		t, err := eb.unify([]exec.Expr{&exec.ColRef{T: acc.types[c]}, &exec.ColRef{T: vq.types[c]}}, "UNION")
		if err != nil {
			return nil, err
		}
		le, err := eb.coerce(&exec.ColRef{Idx: c, T: acc.types[c]}, t, "UNION")
		if err != nil {
			return nil, err
		}
		re, err := eb.coerce(&exec.ColRef{Idx: c, T: vq.types[c]}, t, "UNION")
		if err != nil {
			return nil, err
		}
		lp.Exprs, rp.Exprs = append(lp.Exprs, le), append(rp.Exprs, re)
		ts = append(ts, t)
	}
	switch *op {
	case ast.Intersect, ast.Except:
		return setFilter(lp, rp, ts, acc.names, *op == ast.Except), nil
	case ast.IntersectAll, ast.ExceptAll:
		return &viewQuery{node: &views.SetOpAll{Left: lp, Right: rp, Except: *op == ast.ExceptAll, Types: ts}, types: ts, names: acc.names}, nil
	}
	out := &viewQuery{node: &views.Union{Inputs: []views.Node{lp, rp}}, types: ts, names: acc.names}
	if *op == ast.Union {
		out.distinct = true
		out = subqueryDistinct(out)
	}
	return out, nil
}

// setFilter is INTERSECT (EXCEPT with except) of l and r, rows of types
// ts: the distinct rows of l that are (are not) among r's, a semi-join
// (anti-join) on every column, where NULLs match as a set operation's do.
func setFilter(l, r views.Node, ts []types.T, names []string, except bool) *viewQuery {
	vj := &views.Join{Kind: views.SemiJoin, Left: l, Right: r, LeftTypes: ts, RightTypes: ts, NullSafe: true}
	if except {
		vj.Kind = views.AntiJoin
	}
	p := &views.Project{Input: vj}
	for i, t := range ts {
		vj.LeftKeys = append(vj.LeftKeys, &exec.ColRef{Idx: i, T: t})
		vj.RightKeys = append(vj.RightKeys, &exec.ColRef{Idx: i, T: t})
		p.Exprs = append(p.Exprs, &exec.ColRef{Idx: i, T: t})
	}
	return subqueryDistinct(&viewQuery{node: p, types: ts, names: names, distinct: true})
}

// subqueryDistinct applies a pending DISTINCT as an operator.
func subqueryDistinct(vq *viewQuery) *viewQuery {
	if !vq.distinct {
		return vq
	}
	out := *vq
	out.node = &views.Distinct{Input: vq.node, Types: vq.types}
	out.distinct = false
	out.rank = nil
	return &out
}

// pushViewCTEs brings a WITH clause's queries into scope for the query it
// belongs to (withScope); pop takes them out again.
func (b *Builder) pushViewCTEs(w *ast.WithClause) (pop func(), err error) {
	if w.IsRecursive {
		return nil, notMaintainable("WITH RECURSIVE is not supported")
	}
	return b.withScope(w, nil)
}

// viewCTE plans a reference to a WITH query as the subquery it stands for,
// in the scope of its definition; nil when name is no WITH query in scope.
func (b *Builder) viewCTE(name, alias string) (*viewRel, error) {
	d := b.lookupCTE(name)
	if d == nil {
		return nil, nil
	}
	saved := b.ctes
	b.ctes = d.env
	vq, err := b.viewQuery(d.cte.Query.Query)
	b.ctes = saved
	if err != nil {
		return nil, err
	}
	rel := queryRel(vq, alias)
	if len(d.cte.ColNameList) > len(rel.sc.cols) {
		return nil, notMaintainable("WITH query %q has %d columns available but %d columns specified", d.name(), len(rel.sc.cols), len(d.cte.ColNameList))
	}
	for j, cn := range d.cte.ColNameList {
		rel.sc.cols[j].name = cn.O
	}
	return rel, nil
}

func (b *Builder) viewSelect(sel *ast.SelectStmt) (*viewQuery, error) {
	if sel.With != nil {
		pop, err := b.pushViewCTEs(sel.With)
		if err != nil {
			return nil, err
		}
		defer pop()
	}
	switch {
	case sel.Kind == ast.SelectStmtKindValues:
		return nil, notMaintainable("VALUES is not supported")
	case sel.From == nil || sel.From.TableRefs == nil:
		return nil, notMaintainable("a view needs a FROM clause")
	case sel.Limit != nil && sel.OrderBy == nil:
		return nil, notMaintainable("LIMIT without ORDER BY picks arbitrary rows")
	}
	// The FROM and WHERE to plan: the statement itself is not changed
	// (parsed statements are cached and shared, sql/cache.go).
	from, where := sel.From.TableRefs, sel.Where
	var semis []semiTest
	if where != nil && hasSubquery(where) {
		var err error
		if semis, where, err = splitSemiTests(where); err != nil {
			return nil, err
		}
	}
	// Conditions over subqueries that relate to the row by equalities:
	// left joins with them, then a filter (view_scalar.go).
	var corr []ast.ExprNode
	if where != nil && hasSubquery(where) {
		corr, where = b.splitCorrelated(where)
	}
	var dyns, havingDyns []dynTest
	if where != nil && hasSubquery(where) {
		var err error
		if dyns, where, err = splitDynTests(where); err != nil {
			return nil, err
		}
	}
	var having ast.ExprNode
	if sel.Having != nil {
		having = sel.Having.Expr
		if hasSubquery(having) {
			var err error
			if havingDyns, having, err = splitDynTests(having); err != nil {
				return nil, err
			}
		}
	}
	if (where != nil && hasSubquery(where)) || (sel.Fields != nil && otherSubqueries(sel.Fields)) || (having != nil && hasSubquery(having)) {
		return nil, notMaintainable("subqueries in expressions are not supported yet (in WHERE, EXISTS, NOT EXISTS, IN (subquery) and a comparison with an aggregate's subquery are, as conditions of their own)")
	}
	var fromNode ast.ResultSetNode = from
	fromNode, where = b.commaJoins(fromNode, where)
	in, err := b.viewFrom(fromNode)
	if err != nil {
		return nil, err
	}
	for _, t := range semis {
		if in, err = b.viewSemiJoin(in, t); err != nil {
			return nil, err
		}
	}
	node := in.node
	sc := in.sc
	if where != nil {
		eb := &exprBinder{b: b, scope: sc, what: "WHERE"}
		pred, err := eb.bindAs(where, tBool, "argument of WHERE")
		if err != nil {
			return nil, err
		}
		pred = eb.joinConditions(node, pred)
		// Conjuncts over now() make a temporal filter (views/temporal.go),
		// under the filter of the rest (which a top-N's rank bounds may
		// empty, constRanks).
		pred, bounds, err := b.temporalFilter(pred)
		if err != nil {
			return nil, err
		}
		if bounds != nil {
			if b.viewTemporal {
				return nil, notMaintainable("a view may have one temporal filter (conditions over now()) in one WHERE")
			}
			b.viewTemporal = true
			node = &views.Temporal{Input: node, Bounds: bounds, Types: in.types()}
		}
		if pred != nil {
			boundRanks(b, pred, in.rank)
			node = &views.Filter{Input: node, Pred: pred}
		}
	}
	for i, c := range corr {
		if node, sc, err = b.viewCorrelatedFilter(&viewRel{node: node, sc: sc}, c, 100*(i+1)); err != nil {
			return nil, err
		}
	}
	// Comparisons with a subquery's value: after the plain conditions,
	// so that the rows they keep are only those that pass the rest.
	for _, t := range dyns {
		if node, err = b.viewDynFilter(&viewRel{node: node, sc: sc}, t, nil); err != nil {
			return nil, err
		}
	}

	fieldList, distinctOn := splitDistinctOn(sel.Fields)
	// Scalar subqueries of the select list: left joins of the rows so
	// far (view_scalar.go); the binder reads each one's value from the
	// joined row.
	if subs := scalarSubqueries(fieldList); len(subs) > 0 {
		if sel.GroupBy != nil || sel.Having != nil || windowIn(fieldList) != nil {
			return nil, notMaintainable("a scalar subquery in a select list with GROUP BY or a window function is not supported")
		}
		cur := &viewRel{node: node, sc: sc}
		cols := map[*ast.SubqueryExpr]exec.Expr{}
		for i, sq := range subs {
			var v exec.Expr
			if cur, v, err = b.viewScalarJoin(cur, sq, i+1); err != nil {
				return nil, err
			}
			cols[sq] = v
		}
		// Set once every subquery is planned (each is a query of its own,
		// planned with none of these).
		b.scalarCols = cols
		defer func() { b.scalarCols = nil }()
		node, sc = cur.node, cur.sc
	}
	fields, err := b.expandFields(fieldList, sc)
	if err != nil {
		return nil, err
	}
	vq := &viewQuery{}
	// row_number() OVER (...) alone: a top-N per partition over the
	// input rows, whose position the projection reads as an extra
	// column. Other window functions: a window operator that computes
	// them per partition (views/window.go), its values extra columns.
	// With GROUP BY or aggregates, window functions run over the
	// aggregation's rows, as in PostgreSQL (planned below, groupWindow).
	var win *views.TopN
	var wc *windowContext
	var groupWindow *views.Window
	post := sc
	calls := collectWindows(fields, nil)
	aggs := collectAggs(fields, sel.Having, nil)
	grouped := sel.GroupBy != nil || sel.Having != nil || len(aggs) > 0
	general := b.generalWindows(calls, fields) || (len(calls) > 0 && grouped)
	if general && !grouped {
		var wn *views.Window
		if wn, wc, err = b.viewWindow(sel, calls, node, sc, nil); err != nil {
			return nil, err
		}
		node = wn
		post = &scope{cols: append([]scopeCol(nil), sc.cols...)}
		for _, t := range wc.types {
			post.cols = append(post.cols, scopeCol{name: "?window", t: t})
		}
	} else if !general {
		if win, err = b.viewRowNumber(sel, fields, sc, node); err != nil {
			return nil, err
		}
		if win != nil {
			node = win
			post = &scope{cols: append(append([]scopeCol(nil), sc.cols...), scopeCol{name: "?row_number", t: tInt8})}
		}
	}

	if len(aggs) > 0 && len(b.scalarCols) > 0 {
		return nil, notMaintainable("a scalar subquery in an aggregated select list is not supported")
	}
	var agg *aggContext
	var aggNode *views.Aggregate
	// sets are the GROUP BY's grouping sets (ROLLUP, CUBE, GROUPING
	// SETS) as positions in aggNode.Group; nil for a plain GROUP BY.
	var sets [][]int
	eb := &exprBinder{b: b, scope: sc, what: "a materialized view"}
	if len(aggs) > 0 || sel.GroupBy != nil {
		if win != nil {
			return nil, notMaintainable("row_number() with GROUP BY is not supported yet")
		}
		aggNode = &views.Aggregate{Input: node}
		agg = &aggContext{in: sc}
		post = &scope{}
		if sel.GroupBy != nil {
			var items []ast.ExprNode
			if items, sets, err = b.groupingItems(sel.GroupBy.Items); err != nil {
				return nil, err
			}
			for _, item := range items {
				gx := resolveOrdinalOrAlias(item, fields)
				e, err := eb.bind(gx)
				if err != nil {
					return nil, err
				}
				if e, err = eb.resolveUnknown(e, tText); err != nil {
					return nil, err
				}
				if err := timeVarying("GROUP BY", e); err != nil {
					return nil, err
				}
				aggNode.Group = append(aggNode.Group, e)
				agg.groupText = append(agg.groupText, b.groupKey(gx))
				agg.groupExpr = append(agg.groupExpr, e)
				post.cols = append(post.cols, scopeCol{name: "?group", t: e.Type()})
			}
		}
		for _, a := range aggs {
			va, err := b.viewAggregate(eb, a)
			if err != nil {
				return nil, err
			}
			aggNode.Aggs = append(aggNode.Aggs, va)
			agg.aggs = append(agg.aggs, a)
			post.cols = append(post.cols, scopeCol{name: "?agg", t: va.Ret})
		}
		if sets != nil {
			// GROUPING() reads the set's id, a hidden last column.
			post.cols = append(post.cols, scopeCol{name: "?grouping", t: tInt8, hidden: true})
			agg.gidCol = len(post.cols)
		}
		agg.post = post
		if having != nil {
			hb := &exprBinder{b: b, scope: post, agg: agg, what: "HAVING"}
			if aggNode.Having, err = hb.bindAs(having, tBool, "argument of HAVING"); err != nil {
				return nil, err
			}
			if err := timeVarying("HAVING", aggNode.Having); err != nil {
				return nil, err
			}
		}
	} else if sel.Having != nil {
		return nil, notMaintainable("HAVING without GROUP BY is not supported")
	}
	if general && grouped {
		if groupWindow, wc, err = b.viewWindow(sel, calls, nil, post, agg); err != nil {
			return nil, err
		}
		post = &scope{cols: append([]scopeCol(nil), post.cols...)}
		for _, t := range wc.types {
			post.cols = append(post.cols, scopeCol{name: "?window", t: t})
		}
	}
	pb := &exprBinder{b: b, scope: post, agg: agg, what: "a materialized view", win: wc}
	// Set-returning functions in the select list (unnest(tags)): a
	// ProjectSet under the projection expands each row (not after an
	// aggregation or window functions).
	var srf *srfContext
	if aggNode == nil && win == nil && wc == nil {
		srf = &srfContext{base: len(post.cols)}
		pb.srf = srf
	}
	proj := &exec.Project{}
	for _, f := range fields {
		var e exec.Expr
		if _, isWin := f.expr.(*ast.WindowFuncExpr); isWin && win != nil {
			e = &exec.ColRef{Idx: len(sc.cols), T: tInt8, Name: f.name}
			if vq.rank == nil {
				vq.rank = map[int]*views.TopN{}
			}
			vq.rank[len(proj.Exprs)] = win
		} else {
			if e, err = pb.bind(f.expr); err != nil {
				return nil, err
			}
			if e, err = pb.resolveUnknown(e, tText); err != nil {
				return nil, err
			}
		}
		if err := timeVarying(fmt.Sprintf("column %q", f.name), e); err != nil {
			return nil, err
		}
		proj.Exprs = append(proj.Exprs, e)
		proj.Cols = append(proj.Cols, exec.Column{Name: f.name, T: e.Type()})
		vq.types = append(vq.types, e.Type())
		vq.names = append(vq.names, f.name)
	}
	visible := len(proj.Exprs)

	// ORDER BY ... LIMIT: a top-N over the output rows (with hidden
	// columns for keys that are not in the select list). ORDER BY alone
	// does not change a view's rows and is ignored.
	var top *views.TopN
	if distinctOn != nil || sel.Limit != nil {
		var items []*ast.ByItem
		if sel.OrderBy != nil {
			items = sel.OrderBy.Items
		}
		keys, err := b.viewSortKeys(items, fields, proj, pb)
		if err != nil {
			return nil, err
		}
		what := "ORDER BY"
		if distinctOn != nil {
			// DISTINCT ON (a, ...) ... ORDER BY a, ..., b: each
			// partition's first row in that order, a top-1 per partition
			// (ties, which PostgreSQL breaks arbitrarily, broken by the
			// row).
			if sel.Limit != nil {
				return nil, notMaintainable("DISTINCT ON with LIMIT is not supported")
			}
			on, all, err := b.distinctOnKeys(distinctOn, items, keys, fields, proj, pb)
			if err != nil {
				return nil, err
			}
			top = &views.TopN{N: 1}
			for _, i := range on {
				top.Partition = append(top.Partition, &exec.ColRef{Idx: i, T: proj.Cols[i].T})
			}
			keys, what = all, "DISTINCT ON"
		} else {
			if sel.Distinct {
				return nil, notMaintainable("SELECT DISTINCT with LIMIT is not supported yet")
			}
			top = &views.TopN{N: -1}
			lb := &exprBinder{b: b, scope: &scope{}, what: "LIMIT"}
			if top.N, err = b.viewLimitValue(lb, sel.Limit.Count, "LIMIT", -1); err != nil {
				return nil, err
			}
			if top.N < 0 {
				return nil, notMaintainable("a top-N view needs LIMIT n")
			}
			if top.Offset, err = b.viewLimitValue(lb, sel.Limit.Offset, "OFFSET", 0); err != nil {
				return nil, err
			}
		}
		for _, k := range keys {
			top.Order = append(top.Order, views.SortKey{Expr: k.Expr, Desc: k.Desc, NullsFirst: k.NullsFirst})
		}
		for _, e := range proj.Exprs[visible:] {
			if err := timeVarying(what, e); err != nil {
				return nil, err
			}
		}
		for _, c := range proj.Cols {
			top.Types = append(top.Types, c.T)
		}
	}

	switch {
	case aggNode != nil && (sets != nil || groupWindow != nil || len(havingDyns) > 0):
		// The aggregation's rows (its groups, aggregates and, for
		// grouping sets, the grouping id), then the window functions
		// over them, then the select list.
		if sets != nil {
			node = viewGroupingSets(aggNode, sets)
			if aggNode.Having != nil {
				node = &views.Filter{Input: node, Pred: aggNode.Having}
			}
		} else {
			for i, c := range agg.post.cols {
				aggNode.Output = append(aggNode.Output, &exec.ColRef{Idx: i, T: c.t})
			}
			node = aggNode
		}
		// HAVING's comparisons with a subquery's value, over the
		// groups' rows (before any window function, as in SQL).
		for _, t := range havingDyns {
			if node, err = b.viewDynFilter(&viewRel{node: node, sc: agg.post}, t, agg); err != nil {
				return nil, err
			}
		}
		if groupWindow != nil {
			groupWindow.Input = node
			node = groupWindow
		}
		node = &views.Project{Input: node, Exprs: proj.Exprs}
	case aggNode != nil:
		aggNode.Output = proj.Exprs
		node = aggNode
	default:
		if srf != nil && len(srf.funcs) > 0 {
			for _, f := range srf.funcs {
				for _, a := range f.Args {
					if err := timeVarying("the arguments of "+f.Name, a); err != nil {
						return nil, err
					}
				}
			}
			node = &views.ProjectSet{Input: node, Funcs: srf.funcs}
		}
		node = &views.Project{Input: node, Exprs: proj.Exprs}
	}
	if top != nil {
		top.Input = node
		node = top
		if len(proj.Exprs) > visible {
			trim := &views.Project{Input: node}
			for i := 0; i < visible; i++ {
				trim.Exprs = append(trim.Exprs, &exec.ColRef{Idx: i, T: proj.Cols[i].T})
			}
			node = trim
		}
	}
	if win == nil && aggNode == nil && top == nil && len(in.rank) > 0 && from.Right == nil && len(semis) == 0 && len(dyns) == 0 && len(corr) == 0 {
		constRanks(b, in.rank, where != nil, node, proj.Exprs)
	}
	vq.node = node
	if sel.Distinct {
		if aggNode != nil {
			return nil, notMaintainable("SELECT DISTINCT with GROUP BY is not supported yet")
		}
		vq.distinct = true
	}
	return vq, nil
}

// viewSortKeys resolves a view's ORDER BY items to sort keys over its
// projection (with hidden columns for keys that are not in the select
// list).
func (b *Builder) viewSortKeys(items []*ast.ByItem, fields []field, proj *exec.Project, pb *exprBinder) ([]exec.SortKey, error) {
	var keys []exec.SortKey
	for _, item := range items {
		idx, err := b.orderTarget(item, fields, proj, pb, false)
		if err != nil {
			return nil, err
		}
		nullsFirst := item.Desc
		if nf, ok := nullOrder(item); ok {
			nullsFirst = nf
		}
		keys = append(keys, exec.SortKey{Expr: &exec.ColRef{Idx: idx, T: proj.Cols[idx].T}, Desc: item.Desc, NullsFirst: nullsFirst})
	}
	return keys, nil
}

// viewLimitValue evaluates a constant LIMIT or OFFSET (def when absent).
func (b *Builder) viewLimitValue(eb *exprBinder, n ast.ExprNode, what string, def int64) (int64, error) {
	if n == nil || noLimit(n) {
		return def, nil
	}
	e, err := eb.bindAs(n, tInt8, "argument of "+what)
	if err != nil {
		return 0, err
	}
	if !rowFree(e) {
		return 0, notMaintainable("%s must be a constant", what)
	}
	if _, isParam := e.(*exec.Param); isParam {
		return 0, notMaintainable("%s must be a constant", what)
	}
	v, err := e.Eval(&exec.Env{Settings: b.settings}, nil)
	if err != nil {
		return 0, err
	}
	i, ok := v.(int64)
	if !ok || i < 0 {
		return 0, notMaintainable("%s must be a non-negative constant", what)
	}
	return i, nil
}

// viewFrom plans a FROM item.
func (b *Builder) viewFrom(n ast.ResultSetNode) (*viewRel, error) {
	switch x := n.(type) {
	case *ast.TableSource:
		return b.viewTableSource(x)
	case *ast.Join:
		if x.Right == nil {
			return b.viewFrom(x.Left)
		}
		return b.viewJoin(x)
	case *ast.SelectStmt, *ast.SetOprStmt:
		vq, err := b.viewQuery(x)
		if err != nil {
			return nil, err
		}
		return queryRel(vq, ""), nil
	}
	return nil, notMaintainable("FROM item %T is not supported", n)
}

func queryRel(vq *viewQuery, alias string) *viewRel {
	vq = subqueryDistinct(vq)
	sc := &scope{}
	for i, t := range vq.types {
		sc.cols = append(sc.cols, scopeCol{table: alias, name: vq.names[i], t: t})
	}
	return &viewRel{node: vq.node, sc: sc, rank: vq.rank}
}

func (b *Builder) viewTableSource(ts *ast.TableSource) (*viewRel, error) {
	alias := ts.AsName.O
	var rel *viewRel
	switch src := ts.Source.(type) {
	case *ast.TableName:
		if alias == "" {
			alias = src.Name.O
		}
		if src.Schema.O == "" {
			cte, err := b.viewCTE(src.Name.O, alias)
			if err != nil {
				return nil, err
			}
			if cte != nil {
				rel = cte
				break
			}
		}
		if b.System != nil {
			if _, ok := b.System.Lookup(src.Schema.O, src.Name.O); ok {
				return nil, notMaintainable("system catalog %q cannot be read by a materialized view", src.Name.O)
			}
		}
		td, err := b.LookupTable(src.Schema.O, src.Name.O)
		if err != nil {
			return nil, err
		}
		b.recordRead(td.ID)
		if td.Kind == log.PlainView {
			// A view is the subquery its definition is; the
			// materialized view is maintained over what it reads.
			rs, vb, err := b.plainViewBuilder(td)
			if err != nil {
				return nil, err
			}
			vq, err := vb.viewQuery(rs)
			if err != nil {
				return nil, err
			}
			pick, err := viewColumnsByName(td, vq.names)
			if err != nil {
				return nil, err
			}
			if pick != nil {
				vq = subqueryDistinct(vq)
				p := &views.Project{Input: vq.node}
				var ts []types.T
				var names []string
				for _, i := range pick {
					p.Exprs = append(p.Exprs, &exec.ColRef{Idx: i, T: vq.types[i], Name: vq.names[i]})
					ts, names = append(ts, vq.types[i]), append(names, vq.names[i])
				}
				vq = &viewQuery{node: p, types: ts, names: names}
			}
			rel = queryRel(vq, alias)
			if err := nameViewColumns(td, rel.sc); err != nil {
				return nil, err
			}
			break
		}
		if td.Kind == log.View {
			_, sc := viewRead(td, alias)
			scan := &views.Scan{Source: td.ID, ViewDistinct: td.Options["distinct"] == "true"}
			for _, c := range sc.cols[:len(sc.cols)-1] {
				scan.ViewTypes = append(scan.ViewTypes, c.t)
			}
			rel = &viewRel{node: scan, sc: sc}
		} else {
			l := exec.NewTableLayout(td)
			rel = &viewRel{node: &views.Scan{Source: td.ID, Layout: l}, sc: tableScope(l, alias)}
		}
	case *ast.SelectStmt, *ast.SetOprStmt:
		// ts.Lateral only carries a column alias list (sql/doc.go).
		var q ast.ResultSetNode = src
		if sel, ok := src.(*ast.SelectStmt); ok {
			// TUMBLE(t, ...) and HOP(t, ...): the query they stand for
			// (windowtvf.go).
			if w, isWindow, err := windowTVF(sel); isWindow {
				if err != nil {
					return nil, err
				}
				q = w
			}
		}
		vq, err := b.viewQuery(q)
		if err != nil {
			return nil, err
		}
		rel = queryRel(vq, alias)
	default:
		return b.viewFrom(ts.Source)
	}
	if len(ts.ColumnNames) > 0 {
		if len(ts.ColumnNames) > len(rel.sc.cols) {
			return nil, notMaintainable("table %q has %d columns available but %d columns specified", alias, len(rel.sc.cols), len(ts.ColumnNames))
		}
		for i, cn := range ts.ColumnNames {
			rel.sc.cols[i].name = cn.O
		}
	}
	return rel, nil
}

// viewJoin plans an equi-join of two FROM items; a chain of joins nests
// left-deep (each join keeps both of its inputs' state).
func (b *Builder) viewJoin(j *ast.Join) (*viewRel, error) {
	l, err := b.viewFrom(j.Left)
	if err != nil {
		return nil, err
	}
	return b.viewJoinOf(j, l)
}

// viewJoinOf is viewJoin with j's left side planned as l.
func (b *Builder) viewJoinOf(j *ast.Join, l *viewRel) (*viewRel, error) {
	if rel, ok, err := b.viewTableFunction(j, l); ok || err != nil {
		return rel, err
	}
	if rel, ok, err := b.viewLateral(j, l); ok || err != nil {
		return rel, err
	}
	r, err := b.viewFrom(j.Right)
	if err != nil {
		return nil, err
	}
	if name := sharedTable(l.sc, r.sc); name != "" {
		return nil, notMaintainable("table name %q specified more than once", name)
	}
	vj := &views.Join{Left: l.node, Right: r.node, LeftTypes: l.types(), RightTypes: r.types()}
	switch j.Tp {
	case ast.LeftJoin:
		vj.Kind = views.LeftJoin
	case ast.RightJoin:
		vj.Kind = views.RightJoin
	}
	if j.StraightJoin {
		// The front end writes FULL [OUTER] JOIN as STRAIGHT_JOIN, which
		// TiDB's grammar has (sql/doc.go); without this it read as inner.
		vj.Kind = views.FullJoin
	}
	if using := usingNames(j, l.sc, r.sc); len(using) > 0 || j.NaturalJoin {
		return viewUsing(vj, l, r, using)
	}
	sc := concatScopes(l.sc, r.sc)
	if j.On == nil {
		return nil, notMaintainable("a join needs an equality between the two sides (in ON, or in WHERE for a comma join)")
	}
	eb := &exprBinder{b: b, scope: sc, what: "JOIN/ON"}
	on, err := eb.bindAs(j.On.Expr, tBool, "argument of JOIN/ON")
	if err != nil {
		return nil, err
	}
	if err := timeVarying("JOIN/ON", on); err != nil {
		return nil, err
	}
	lw := len(l.sc.cols)
	var rest []exec.Expr
	for _, c := range conjuncts(on) {
		if le, re, ok := equiSides(c, lw); ok {
			vj.LeftKeys, vj.RightKeys = append(vj.LeftKeys, le), append(vj.RightKeys, re)
			continue
		}
		if le, re, ok := exprEquiSides(c, lw); ok {
			vj.LeftKeys, vj.RightKeys = append(vj.LeftKeys, le), append(vj.RightKeys, re)
			continue
		}
		rest = append(rest, c)
	}
	if len(vj.LeftKeys) == 0 {
		return nil, notMaintainable("a join needs an equality between the two sides' columns")
	}
	vj.On = andAll(rest)
	vj.Band = eb.joinBand(rest, lw)
	return &viewRel{node: vj, sc: sc}, nil
}

// viewUsing makes a JOIN ... USING (or NATURAL JOIN) of l and r: the
// USING columns are its keys, and each appears once, as in PostgreSQL: an
// unqualified name and * read the left copy (the right one for RIGHT
// JOIN), listed first; FULL JOIN ... USING's is COALESCE(left, right).
func viewUsing(vj *views.Join, l, r *viewRel, using []string) (*viewRel, error) {
	if len(using) == 0 {
		return nil, notMaintainable("a NATURAL join needs a column name both sides have")
	}
	sc := concatScopes(l.sc, r.sc)
	lw := len(l.sc.cols)
	var merged []int
	dup := map[int]bool{}
	// FULL JOIN: each USING column is COALESCE(left, right), a column a
	// projection appends (both copies stay, reachable qualified).
	var full *views.Project
	if vj.Kind == views.FullJoin {
		full = &views.Project{Input: vj}
		for i, c := range sc.cols {
			full.Exprs = append(full.Exprs, &exec.ColRef{Idx: i, T: c.t, Name: c.name})
		}
	}
	for _, name := range using {
		li, ri := findCol(l.sc, name), findCol(r.sc, name)
		if li < 0 || ri < 0 {
			return nil, usingMissing(name, li < 0)
		}
		lt, rt := l.sc.cols[li].t, r.sc.cols[ri].t
		if lt.OID != rt.OID {
			return nil, notMaintainable("JOIN ... USING (%s) compares %s with %s; use ON with a cast", name, lt, rt)
		}
		vj.LeftKeys = append(vj.LeftKeys, &exec.ColRef{Idx: li, T: lt, Name: name})
		vj.RightKeys = append(vj.RightKeys, &exec.ColRef{Idx: ri, T: rt, Name: name})
		dup[li], dup[lw+ri] = true, true
		if full != nil {
			sc.cols[li].usingDup, sc.cols[lw+ri].usingDup = true, true
			full.Exprs = append(full.Exprs, &exec.Coalesce{Args: []exec.Expr{
				&exec.ColRef{Idx: li, T: lt, Name: name}, &exec.ColRef{Idx: lw + ri, T: rt, Name: name}}, T: lt})
			merged = append(merged, len(sc.cols))
			sc.cols = append(sc.cols, scopeCol{name: name, t: lt})
			continue
		}
		keep, drop := li, lw+ri
		if vj.Kind == views.RightJoin {
			keep, drop = lw+ri, li
		}
		sc.cols[drop].usingDup = true
		merged = append(merged, keep)
	}
	sc.order = merged
	for _, i := range l.sc.starOrder() {
		if !dup[i] {
			sc.order = append(sc.order, i)
		}
	}
	for _, i := range r.sc.starOrder() {
		if !dup[lw+i] {
			sc.order = append(sc.order, lw+i)
		}
	}
	if full != nil {
		return &viewRel{node: full, sc: sc}, nil
	}
	return &viewRel{node: vj, sc: sc}, nil
}

// viewRowNumber recognizes row_number() OVER (PARTITION BY ... ORDER BY
// ...) in a select list (or rank() or dense_rank(), with viewTies) and
// returns the top-N that numbers the rows; its N is set when an outer
// WHERE bounds the number.
func (b *Builder) viewRowNumber(sel *ast.SelectStmt, fields []field, sc *scope, input views.Node) (*views.TopN, error) {
	var w *ast.WindowFuncExpr
	for _, f := range fields {
		found := windowIn(f.expr)
		if found == nil {
			continue
		}
		x, direct := f.expr.(*ast.WindowFuncExpr)
		if !direct || w != nil {
			return nil, notMaintainable("window functions are supported only as one row_number() column")
		}
		w = x
	}
	if w == nil {
		return nil, nil
	}
	// A named window is resolved; a frame is ignored, as ranking
	// functions ignore it.
	spec, err := windowSpec(sel, w.Spec)
	if err != nil {
		return nil, err
	}
	ties, numbering := b.numberingFunc(w.Name)
	switch {
	case !numbering || len(w.Args) > 0:
		return nil, notMaintainable("window function %s is not supported; row_number() is", w.Name)
	case spec.OrderBy == nil:
		return nil, notMaintainable("%s needs ORDER BY in its window", ties)
	}
	eb := &exprBinder{b: b, scope: sc, what: "window definition"}
	t := &views.TopN{Input: input, N: -1, RowNumber: true, Ties: ties}
	for _, c := range sc.cols {
		t.Types = append(t.Types, c.t)
	}
	if spec.PartitionBy != nil {
		for _, item := range spec.PartitionBy.Items {
			e, err := eb.bind(item.Expr)
			if err != nil {
				return nil, err
			}
			if e, err = eb.resolveUnknown(e, tText); err != nil {
				return nil, err
			}
			t.Partition = append(t.Partition, e)
		}
	}
	for _, item := range spec.OrderBy.Items {
		e, err := eb.bind(stripNullOrder(item.Expr))
		if err != nil {
			return nil, err
		}
		if e, err = eb.resolveUnknown(e, tText); err != nil {
			return nil, err
		}
		nullsFirst := item.Desc
		if nf, ok := nullOrder(item); ok {
			nullsFirst = nf
		}
		t.Order = append(t.Order, views.SortKey{Expr: e, Desc: item.Desc, NullsFirst: nullsFirst})
	}
	for _, e := range append(append([]exec.Expr(nil), t.Partition...), sortExprs(t.Order)...) {
		if err := timeVarying("the window", e); err != nil {
			return nil, err
		}
	}
	return t, nil
}

func sortExprs(ks []views.SortKey) []exec.Expr {
	out := make([]exec.Expr, len(ks))
	for i, k := range ks {
		out[i] = k.Expr
	}
	return out
}

func windowIn(n ast.Node) *ast.WindowFuncExpr {
	v := &windowFinder{}
	n.Accept(v)
	return v.found
}

type windowFinder struct{ found *ast.WindowFuncExpr }

func (v *windowFinder) Enter(n ast.Node) (ast.Node, bool) {
	if w, ok := n.(*ast.WindowFuncExpr); ok && v.found == nil {
		v.found = w
		return n, true
	}
	return n, false
}
func (v *windowFinder) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// boundRanks sets the N of a row_number top-N from a WHERE conjunct
// rn <= n, rn < n or rn = 1 over its column.
func boundRanks(b *Builder, pred exec.Expr, rank map[int]*views.TopN) {
	if len(rank) == 0 {
		return
	}
	env := &exec.Env{Settings: b.settings}
	for _, c := range conjuncts(pred) {
		call, ok := c.(*exec.Call)
		if !ok || len(call.Args) != 2 {
			continue
		}
		col, colOK := call.Args[0].(*exec.ColRef)
		op := call.Fn.Op
		val := call.Args[1]
		if !colOK {
			if col, colOK = call.Args[1].(*exec.ColRef); !colOK {
				continue
			}
			val = call.Args[0]
			op = map[string]string{"<=": ">=", ">=": "<=", "<": ">", ">": "<", "=": "="}[op]
		}
		t := rank[col.Idx]
		if t == nil || !rowFree(val) {
			continue
		}
		if _, isParam := val.(*exec.Param); isParam {
			continue
		}
		v, err := val.Eval(env, nil)
		if err != nil {
			continue
		}
		n, ok := v.(int64)
		if !ok {
			continue
		}
		switch op {
		case "<=":
		case "<":
			n--
		case "=":
			if n != 1 {
				continue
			}
		default:
			continue
		}
		if n < 0 {
			n = 0
		}
		if t.N < 0 || n < t.N {
			t.N = n
		}
	}
}

// numberingFunc reports whether a window function is one a top-N
// computes (row_number(), and rank() and dense_rank() with viewTies), and
// how it ranks ties.
func (b *Builder) numberingFunc(name string) (views.Ties, bool) {
	if b.viewWindowsOnly {
		return views.NoTies, false
	}
	switch strings.ToLower(name) {
	case "row_number":
		return views.NoTies, true
	case "rank":
		return views.TiesRank, b.viewTies
	case "dense_rank":
		return views.TiesDense, b.viewTies
	}
	return views.NoTies, false
}

// checkBounded refuses a row_number() that no outer WHERE bounds: every
// change could renumber a whole partition.
func checkBounded(n views.Node) error {
	if t, ok := n.(*views.TopN); ok && t.N < 0 {
		return notMaintainable("%s needs an outer WHERE rn <= n bounding it (top-N per group)", t.Ties)
	}
	for _, c := range views.Children(n) {
		if err := checkBounded(c); err != nil {
			return err
		}
	}
	return nil
}

// constRanks marks the row_number top-Ns whose number the query reads only
// in the WHERE conjuncts that bound it (rn <= n): any number that passes
// the bound gives the same rows, so the top-N emits a constant one and
// the rows entering and leaving a partition's window are its whole delta
// (numbering them would move every row below an insertion).
//
// The bound conjuncts (constant rank or not) are dropped from the WHERE:
// the top-N's N is the tightest of them, so every row it emits passes
// them all (its number, 1 or its position up to N, is within each), and
// a view whose rows are a top-N's window under plain projections is read
// from the top-N's state instead of storing its rows (views/topout.go),
// which a filter above the top-N would prevent.
func constRanks(b *Builder, rank map[int]*views.TopN, hasWhere bool, node views.Node, out []exec.Expr) {
	var pred exec.Expr
	var pr *views.Project
	var f *views.Filter
	if hasWhere {
		// The WHERE is the Filter under the projection.
		var ok bool
		if pr, ok = node.(*views.Project); !ok {
			return
		}
		if f, ok = pr.Input.(*views.Filter); !ok {
			return
		}
		pred = f.Pred
	}
	for idx, t := range rank {
		if t.N < 0 {
			continue
		}
		only := true
		for _, e := range out {
			if readsColumn(e, idx) {
				only = false
			}
		}
		if pred == nil {
			t.ConstRank = only
			continue
		}
		var keep []exec.Expr
		for _, c := range conjuncts(pred) {
			if !readsColumn(c, idx) {
				keep = append(keep, c)
				continue
			}
			probe := &views.TopN{N: -1}
			boundRanks(b, c, map[int]*views.TopN{idx: probe})
			if probe.N < 0 {
				// Not a bound (rn > 1, say): the number matters.
				only = false
				keep = append(keep, c)
			}
		}
		t.ConstRank = only
		pred = andAll(keep)
	}
	if f != nil {
		if pred == nil {
			pr.Input = f.Input
		} else {
			f.Pred = pred
		}
	}
}

// readsColumn reports whether e may read input column idx; it answers yes for
// expressions it does not know.
func readsColumn(e exec.Expr, idx int) bool {
	switch x := e.(type) {
	case *exec.ColRef:
		return x.Idx == idx
	case *exec.Const, *exec.Param:
		return false
	case *exec.Call:
		for _, a := range x.Args {
			if readsColumn(a, idx) {
				return true
			}
		}
		return false
	case *exec.Cast:
		return readsColumn(x.Arg, idx)
	case *exec.BoolOp:
		for _, a := range x.Args {
			if readsColumn(a, idx) {
				return true
			}
		}
		return false
	case *exec.Not:
		return readsColumn(x.Arg, idx)
	}
	return true
}

// generalWindows reports whether a select list's window functions need
// the window operator: all but a single row_number() column (or rank()
// or dense_rank(), numberingFunc), which is a top-N.
func (b *Builder) generalWindows(calls []*ast.WindowFuncExpr, fields []field) bool {
	if len(calls) == 0 {
		return false
	}
	if _, numbering := b.numberingFunc(calls[0].Name); len(calls) == 1 && numbering {
		for _, f := range fields {
			if f.expr == ast.ExprNode(calls[0]) {
				return false
			}
		}
	}
	return true
}

// viewWindow plans a view's window functions over input (rows of scope
// sc; with agg, the aggregation's rows, input set by the caller) as one
// window operator: every function partitioned alike, and partitioned
// unless a change costs only the rows around it or after it (running and
// bounded-reach functions; otherwise it costs its partition's size,
// views/window.go).
func (b *Builder) viewWindow(sel *ast.SelectStmt, calls []*ast.WindowFuncExpr, input views.Node, sc *scope, agg *aggContext) (*views.Window, *windowContext, error) {
	wb := &exprBinder{b: b, scope: sc, agg: agg, what: "window function calls"}
	w := &views.Window{Input: input}
	for _, c := range sc.cols {
		w.Types = append(w.Types, c.t)
	}
	wc := &windowContext{calls: calls, base: len(sc.cols)}
	for _, c := range calls {
		f, err := b.bindWindowFunc(wb, sel, c)
		if err != nil {
			return nil, nil, err
		}
		if len(w.Funcs) > 0 && !sameExprs(w.Funcs[0].Partition, f.Partition) {
			return nil, nil, notMaintainable("window functions need the same PARTITION BY")
		}
		parts := append(append(append([]exec.Expr(nil), f.Args...), f.Partition...), sortKeyExprs(f.Order)...)
		if f.Filter != nil {
			parts = append(parts, f.Filter)
		}
		for _, b := range []exec.FrameBound{f.Frame.Start, f.Frame.End} {
			if b.Offset != nil {
				parts = append(parts, b.Offset)
			}
		}
		for _, e := range parts {
			if err := timeVarying("the window", e); err != nil {
				return nil, nil, err
			}
		}
		w.Funcs = append(w.Funcs, f)
		wc.types = append(wc.types, f.T)
	}
	if len(w.Funcs[0].Partition) == 0 && w.RecomputesPartition() {
		return nil, nil, notMaintainable("window function %s needs PARTITION BY: without it every change would recompute the whole table", w.Funcs[0].Name)
	}
	return w, wc, nil
}

func sameExprs(a, b []exec.Expr) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].String() != b[i].String() || a[i].Type() != b[i].Type() {
			return false
		}
	}
	return true
}

func sortKeyExprs(ks []exec.SortKey) []exec.Expr {
	out := make([]exec.Expr, len(ks))
	for i, k := range ks {
		out[i] = k.Expr
	}
	return out
}

// viewTableFunction plans a join with a set-returning function in FROM
// that reads the items before it (FROM t, unnest(t.tags) AS tag, or CROSS
// JOIN LATERAL jsonb_array_elements(t.doc)): a ProjectSet that expands
// each row of the left side by the function's values, then the join's ON
// as a filter. ok is false when the right side is not a function.
func (b *Builder) viewTableFunction(j *ast.Join, l *viewRel) (rel *viewRel, ok bool, err error) {
	ts, isSource := j.Right.(*ast.TableSource)
	if !isSource {
		return nil, false, nil
	}
	sel, isSelect := ts.Source.(*ast.SelectStmt)
	if !isSelect {
		return nil, false, nil
	}
	fn, field, ok, err := tableFunctionCall(sel)
	if !ok || err != nil {
		return nil, ok, err
	}
	name := strings.ToLower(fn.FnName.O)
	// LEFT JOIN LATERAL f(...) ON true keeps a row the function gives
	// nothing for, padded with NULL.
	outer := j.Tp == ast.LeftJoin && j.On != nil && b.isTrue(j.On.Expr)
	if (j.Tp != ast.CrossJoin && !outer) || j.StraightJoin || j.NaturalJoin || j.Using != nil {
		return nil, true, notMaintainable("a function in FROM may only be joined by a comma, CROSS JOIN, an inner JOIN or LEFT JOIN ... ON true")
	}
	if s := fn.Schema.O; (s != "" && s != "pg_catalog") || !setReturning(name, "") {
		return nil, true, notMaintainable("function %s in FROM is not supported", name)
	}
	eb := &exprBinder{b: b, scope: l.sc, what: "functions in FROM"}
	args, err := eb.bindList(fn.Args)
	if err != nil {
		return nil, true, err
	}
	args, t, err := eb.setFuncType(name, args)
	if err != nil {
		return nil, true, err
	}
	for _, a := range args {
		if err := timeVarying("the arguments of "+name, a); err != nil {
			return nil, true, err
		}
	}
	cols, expand := tableFunctionColumns(name, field.AsName.O, t)
	alias := ts.AsName.O
	if alias == "" {
		alias = name
	}
	sc := &scope{cols: append([]scopeCol(nil), l.sc.cols...)}
	if l.sc.order != nil {
		sc.order = append([]int(nil), l.sc.order...)
	}
	for i, c := range cols {
		name := c.Name
		if i < len(ts.ColumnNames) {
			name = ts.ColumnNames[i].O
		}
		if sc.order != nil {
			sc.order = append(sc.order, len(sc.cols))
		}
		sc.cols = append(sc.cols, scopeCol{table: alias, name: name, t: c.T, scalarItem: !expand})
	}
	rel = &viewRel{node: &views.ProjectSet{Input: l.node, Funcs: []exec.SetFunc{{Name: name, Args: args, T: t}}, Expand: expand, Outer: outer, Pad: len(cols)}, sc: sc, rank: l.rank}
	if j.On != nil && !outer {
		eb := &exprBinder{b: b, scope: sc, what: "JOIN/ON"}
		on, err := eb.bindAs(j.On.Expr, tBool, "argument of JOIN/ON")
		if err != nil {
			return nil, true, err
		}
		if err := timeVarying("JOIN/ON", on); err != nil {
			return nil, true, err
		}
		rel.node = &views.Filter{Input: rel.node, Pred: on}
	}
	return rel, true, nil
}

// exprEquiSides reads an equality between an expression of the left
// side's columns and one of the right side's (lower(a.email) =
// lower(b.email), b.n::int = a.id) as join keys: each side's rows are
// keyed by their expression's value. ok is false for another conjunct.
func exprEquiSides(e exec.Expr, lw int) (exec.Expr, exec.Expr, bool) {
	call, ok := e.(*exec.Call)
	if !ok || call.Fn.Op != "=" || len(call.Args) != 2 || call.Args[0].Type().OID != call.Args[1].Type().OID {
		return nil, nil, false
	}
	side := func(x exec.Expr) int {
		l, r, ok := joinSides(x, lw)
		switch {
		case !ok || l == r:
			return -1
		case l:
			return 0
		}
		return 1
	}
	a, b := call.Args[0], call.Args[1]
	sa, sb := side(a), side(b)
	switch {
	case sa == 0 && sb == 1:
		return a, shiftCols(b, -lw), true
	case sa == 1 && sb == 0:
		return b, shiftCols(a, -lw), true
	}
	return nil, nil, false
}

// joinSides reports which sides of a join's row (the left one lw wide) e
// reads; ok is false when e holds a part colRefs does not know or varies
// between reads (volatile).
func joinSides(e exec.Expr, lw int) (left, right, ok bool) {
	refs, known := colRefs(e, nil)
	if !known || volatile(e) {
		return false, false, false
	}
	for _, r := range refs {
		left, right = left || r < lw, right || r >= lw
	}
	return left, right, true
}

// isTrue reports whether e is a constant that is true (ON true).
func (b *Builder) isTrue(e ast.ExprNode) bool {
	eb := &exprBinder{b: b, scope: &scope{}, what: "JOIN/ON"}
	x, err := eb.bindAs(e, tBool, "argument of JOIN/ON")
	if err != nil || volatile(x) {
		return false
	}
	if refs, ok := colRefs(x, nil); !ok || len(refs) > 0 {
		return false
	}
	v, err := x.Eval(&exec.Env{Settings: b.settings}, nil)
	return err == nil && v == true
}

// viewGroupingSets maintains GROUP BY ROLLUP, CUBE or GROUPING SETS as
// one aggregate per grouping set over the same input, whose rows are
// appended (views.GroupingSets): each set's rows have h's groups (NULL for those
// the set leaves out), then its aggregates, then the set's grouping id (a
// bit per group left out), the columns HAVING and the select list read
// (planner/groupingsets.go's rows, as queries make them). A set without
// groups has its one row, as PostgreSQL's has, even over no rows.
func viewGroupingSets(h *views.Aggregate, sets [][]int) views.Node {
	u := &views.GroupingSets{Input: h.Input}
	for _, set := range sets {
		a := &views.Aggregate{Aggs: h.Aggs}
		at := map[int]int{}
		for j, gi := range set {
			at[gi] = j
			a.Group = append(a.Group, h.Group[gi])
		}
		var gid int64
		for gi, g := range h.Group {
			if j, ok := at[gi]; ok {
				a.Output = append(a.Output, &exec.ColRef{Idx: j, T: g.Type()})
			} else {
				a.Output = append(a.Output, &exec.Const{Val: nil, T: g.Type()})
				gid |= 1 << gi
			}
		}
		for ai, ag := range h.Aggs {
			a.Output = append(a.Output, &exec.ColRef{Idx: len(set) + ai, T: ag.Ret})
		}
		a.Output = append(a.Output, &exec.Const{Val: gid, T: tInt8})
		u.Sets = append(u.Sets, a)
	}
	return u
}
