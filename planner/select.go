package planner

import (
	"math"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	driver "github.com/pingcap/tidb/pkg/parser/test_driver"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
	"github.com/strand-db/strand/views"
)

// BuildQuery plans a SELECT or set operation.
func (b *Builder) BuildQuery(stmt ast.StmtNode) (exec.Node, error) {
	rs, ok := stmt.(ast.ResultSetNode)
	if !ok {
		return nil, pgerr.New(pgerr.FeatureNotSupported, "statement %T is not a query", stmt)
	}
	return b.buildQueryIn(rs, nil)
}

// buildQueryIn plans a query whose expressions may refer to outer (nil for
// none).
func (b *Builder) buildQueryIn(q ast.ResultSetNode, outer *scope) (exec.Node, error) {
	switch x := q.(type) {
	case *ast.SelectStmt:
		return b.buildSelect(x, outer)
	case *ast.SetOprStmt:
		return b.buildSetOp(x, outer)
	case *ast.SubqueryExpr:
		return b.buildQueryIn(x.Query, outer)
	}
	return nil, pgerr.New(pgerr.FeatureNotSupported, "query %T is not supported", q)
}

// buildResultSet plans a FROM item and returns the scope of its columns.
func (b *Builder) buildResultSet(n ast.ResultSetNode, outer *scope) (exec.Node, *scope, error) {
	switch x := n.(type) {
	case *ast.TableSource:
		return b.buildTableSource(x, outer)
	case *ast.Join:
		return b.buildJoin(x, outer)
	case *ast.SelectStmt, *ast.SetOprStmt:
		node, err := b.buildQueryIn(x, outer)
		if err != nil {
			return nil, nil, err
		}
		return node, scopeOf(node, ""), nil
	}
	return nil, nil, pgerr.New(pgerr.FeatureNotSupported, "FROM item %T is not supported", n)
}

func scopeOf(n exec.Node, alias string) *scope {
	sc := &scope{}
	for _, c := range n.Columns() {
		sc.cols = append(sc.cols, scopeCol{table: alias, name: c.Name, t: c.T, tableOID: c.Table, attr: c.Attr})
	}
	return sc
}

func (b *Builder) buildTableSource(ts *ast.TableSource, outer *scope) (exec.Node, *scope, error) {
	alias := ts.AsName.O
	var node exec.Node
	var sc *scope
	switch src := ts.Source.(type) {
	case *ast.TableName:
		if alias == "" {
			alias = src.Name.O
		}
		var err error
		if d := b.lookupCTE(src.Name.O); d != nil && src.Schema.O == "" {
			if node, err = b.planCTE(d); err != nil {
				return nil, nil, err
			}
			sc = scopeOf(node, alias)
		} else if node, sc, err = b.scanTable(src, alias); err != nil {
			return nil, nil, err
		}
	case *ast.SelectStmt, *ast.SetOprStmt:
		// ts.Lateral only carries a column alias list here: the front end
		// refuses PostgreSQL's LATERAL (sql/doc.go).
		var err error
		if sel, ok := src.(*ast.SelectStmt); ok {
			// TUMBLE(t, ...) and HOP(t, ...): the query they stand for
			// (windowtvf.go).
			if q, isWindow, err := windowTVF(sel); isWindow {
				if err != nil {
					return nil, nil, err
				}
				if node, err = b.buildQueryIn(q, nil); err != nil {
					return nil, nil, err
				}
				sc = scopeOf(node, alias)
				break
			}
			var isFn bool
			if node, isFn, err = b.tableFunction(sel, outer); isFn && err != nil {
				return nil, nil, err
			}
		}
		if tf, ok := node.(*exec.TableFunction); ok {
			sc = scopeOf(node, alias)
			if len(tf.Cols) == 1 {
				sc.cols[0].scalarItem = true
			}
			break
		}
		if node == nil {
			// A subquery in FROM sees no other FROM item, except after
			// LATERAL (ts.Lateral; buildJoin passes the items before it
			// as outer).
			var in *scope
			if ts.Lateral {
				in = outer
			}
			if node, err = b.buildQueryIn(src, in); err != nil {
				return nil, nil, err
			}
		}
		sc = scopeOf(node, alias)
	default:
		return b.buildResultSet(ts.Source, outer)
	}
	if len(ts.ColumnNames) > 0 {
		if len(ts.ColumnNames) > len(sc.cols) {
			return nil, nil, pgerr.New(pgerr.InvalidColumnReference, "table %q has %d columns available but %d columns specified", alias, len(sc.cols), len(ts.ColumnNames))
		}
		for i, cn := range ts.ColumnNames {
			sc.cols[i].name = cn.O
		}
	}
	return node, sc, nil
}

func (b *Builder) scanTable(tn *ast.TableName, alias string) (exec.Node, *scope, error) {
	if b.System != nil {
		if n, ok := b.System.Lookup(tn.Schema.O, tn.Name.O); ok {
			return n, scopeOf(n, alias), nil
		}
	}
	td, err := b.LookupTable(tn.Schema.O, tn.Name.O)
	if err != nil {
		return nil, nil, err
	}
	b.recordRead(td.ID)
	switch td.Kind {
	case log.Sequence:
		n := sequenceRow(td)
		sc := scopeOf(n, alias)
		return n, sc, nil
	case log.View:
		n, sc := viewRead(td, alias)
		return n, sc, nil
	case log.PlainView:
		return b.readPlainView(td, alias)
	}
	layout := exec.NewTableLayout(td)
	sc := &scope{}
	cols := make([]exec.Column, 0, layout.Width())
	for i, c := range layout.Cur.Columns {
		t := layout.Types[i]
		sc.cols = append(sc.cols, scopeCol{table: alias, name: c.Name, t: t, tableOID: TableOID(td.ID), attr: uint16(i + 1)})
		cols = append(cols, exec.Column{Name: c.Name, T: t, Table: TableOID(td.ID), Attr: uint16(i + 1)})
	}
	sc.cols = append(sc.cols, scopeCol{table: alias, name: exec.VersionColumn, t: tInt8, hidden: true})
	cols = append(cols, exec.Column{Name: exec.VersionColumn, T: tInt8})
	return &exec.Scan{Layout: layout, Cols: cols}, sc, nil
}

// TableOID is the OID a table reports in pg_class and RowDescription.
func TableOID(id log.TableID) uint32 { return 16384 + uint32(id) }

func (b *Builder) buildJoin(j *ast.Join, outer *scope) (exec.Node, *scope, error) {
	if j.Right == nil {
		return b.buildResultSet(j.Left, outer)
	}
	ln, ls, err := b.buildResultSet(j.Left, outer)
	if err != nil {
		return nil, nil, err
	}
	// A LATERAL right side (or a function) may read the left side's
	// columns, as an outer row one level up: then it runs once per left
	// row.
	var lat *scope
	rightOuter := outer
	if ts, ok := j.Right.(*ast.TableSource); ok && ts.Lateral {
		lat = &scope{cols: ls.cols, parent: outer}
		rightOuter = lat
	}
	rn, rs, err := b.buildResultSet(j.Right, rightOuter)
	if err != nil {
		return nil, nil, err
	}
	perRow := lat != nil && (lat.used || lat.correlated)
	kind := exec.InnerJoin
	switch j.Tp {
	case ast.LeftJoin:
		kind = exec.LeftJoin
	case ast.RightJoin:
		kind = exec.RightJoin
	case ast.CrossJoin:
		if j.On == nil && len(j.Using) == 0 && !j.NaturalJoin {
			kind = exec.CrossJoin
		}
	}
	if j.StraightJoin {
		kind = exec.FullJoin // the front end's FULL JOIN (sql/doc.go)
	}
	if name := sharedTable(ls, rs); name != "" {
		return nil, nil, pgerr.New(pgerr.Code("42712") /* duplicate_alias: no constant in sql/pgerr yet */, "table name %q specified more than once", name)
	}
	sc := concatScopes(ls, rs)
	sc.parent = outer
	lw := len(ls.cols)
	if ls.order != nil || rs.order != nil {
		sc.order = ls.starOrder()
		for _, i := range rs.starOrder() {
			sc.order = append(sc.order, lw+i)
		}
	}
	cols := append(append([]exec.Column(nil), ln.Columns()...), rn.Columns()...)
	var on exec.Expr
	var fullUsing []exec.Expr // the merged columns of FULL JOIN ... USING
	if using := usingNames(j, ls, rs); len(using) > 0 {
		eb := &exprBinder{b: b, scope: sc, what: "JOIN/USING"}
		var conds []exec.Expr
		for _, name := range using {
			li, ri := findCol(ls, name), findCol(rs, name)
			if li < 0 || ri < 0 {
				return nil, nil, usingMissing(name, li < 0)
			}
			l := &exec.ColRef{Idx: li, T: ls.cols[li].t, Name: name}
			r := &exec.ColRef{Idx: lw + ri, T: rs.cols[ri].t, Name: name}
			c, err := eb.operator("=", l, r)
			if err != nil {
				return nil, nil, err
			}
			conds = append(conds, c)
		}
		on = andAll(conds)
		// USING columns appear once: unqualified names and * read the left
		// copy (the right one for RIGHT JOIN, COALESCE(left, right) for
		// FULL JOIN), and * lists them first.
		var merged []int
		dup := map[int]bool{}
		for _, name := range using {
			li, ri := findCol(ls, name), lw+findCol(rs, name)
			keep, drop := li, ri
			if kind == exec.RightJoin {
				keep, drop = ri, li
			}
			if kind == exec.FullJoin {
				l := &exec.ColRef{Idx: li, T: sc.cols[li].t, Name: name}
				r := &exec.ColRef{Idx: ri, T: sc.cols[ri].t, Name: name}
				t, err := eb.unify([]exec.Expr{l, r}, "JOIN/USING")
				if err != nil {
					return nil, nil, err
				}
				var le, re exec.Expr
				if le, err = eb.coerce(l, t, "JOIN/USING"); err == nil {
					re, err = eb.coerce(r, t, "JOIN/USING")
				}
				if err != nil {
					return nil, nil, err
				}
				fullUsing = append(fullUsing, &exec.Coalesce{Args: []exec.Expr{le, re}, T: t})
				sc.cols[li].usingDup = true
				keep = len(sc.cols)
				sc.cols = append(sc.cols, scopeCol{name: name, t: t})
			}
			sc.cols[drop].usingDup = true
			merged = append(merged, keep)
			dup[li], dup[ri] = true, true
		}
		sc.order = merged
		for _, i := range ls.starOrder() {
			if !dup[i] {
				sc.order = append(sc.order, i)
			}
		}
		for _, i := range rs.starOrder() {
			if !dup[lw+i] {
				sc.order = append(sc.order, lw+i)
			}
		}
	} else if j.On != nil {
		eb := &exprBinder{b: b, scope: sc, what: "JOIN/ON"}
		if on, err = eb.bindAs(j.On.Expr, tBool, "argument of JOIN/ON"); err != nil {
			return nil, nil, err
		}
	}
	var node exec.Node
	if perRow {
		if kind == exec.RightJoin || kind == exec.FullJoin {
			return nil, nil, pgerr.New(pgerr.InvalidColumnReference, "invalid reference to FROM-clause entry").
				WithDetail("The combining JOIN type must be INNER or LEFT for a LATERAL reference.")
		}
		node = &exec.NestedLoopJoin{Left: ln, Right: rn, Kind: kind, On: on, Cols: cols, PerRow: true}
	} else {
		node = planJoin(ln, rn, kind, on, lw, cols)
	}
	if len(fullUsing) > 0 {
		p := &exec.Project{Input: node}
		for i, c := range cols {
			p.Exprs = append(p.Exprs, &exec.ColRef{Idx: i, T: c.T, Name: c.Name})
			p.Cols = append(p.Cols, c)
		}
		for _, e := range fullUsing {
			p.Exprs = append(p.Exprs, e)
			p.Cols = append(p.Cols, exec.Column{Name: e.String(), T: e.Type()})
		}
		node = p
	}
	return node, sc, nil
}

// sharedTable returns a relation name both sides of a join define, which
// PostgreSQL refuses (FROM t, t needs an alias).
func sharedTable(ls, rs *scope) string {
	names := map[string]bool{}
	for _, c := range ls.cols {
		names[c.table] = true
	}
	for _, c := range rs.cols {
		if c.table != "" && names[c.table] {
			return c.table
		}
	}
	return ""
}

// planJoin picks a hash join when the condition has equalities between
// the two sides, else a nested loop.
func planJoin(ln, rn exec.Node, kind exec.JoinKind, on exec.Expr, lw int, cols []exec.Column) exec.Node {
	if on != nil && kind != exec.CrossJoin {
		var lk, rk []exec.Expr
		var rest []exec.Expr
		for _, c := range conjuncts(on) {
			if l, r, ok := equiSides(c, lw); ok {
				lk, rk = append(lk, l), append(rk, r)
				continue
			}
			rest = append(rest, c)
		}
		if len(lk) > 0 {
			return &exec.HashJoin{Left: ln, Right: rn, Kind: kind, LeftKeys: lk, RightKeys: rk, Extra: andAll(rest), Cols: cols}
		}
	}
	return &exec.NestedLoopJoin{Left: ln, Right: rn, Kind: kind, On: on, Cols: cols}
}

// equiSides recognizes left.col = right.col, of one type or of two that
// compare in the wider (commonEqType), and returns the two sides (cast to
// that type), the right one re-based to the right input's row.
func equiSides(e exec.Expr, lw int) (exec.Expr, exec.Expr, bool) {
	call, ok := e.(*exec.Call)
	if !ok || call.Fn.Op != "=" {
		return nil, nil, false
	}
	a, aok := eqColumn(call.Args[0])
	b, bok := eqColumn(call.Args[1])
	if !aok || !bok {
		return nil, nil, false
	}
	t, ok := commonEqType(a.T, b.T)
	if !ok {
		return nil, nil, false
	}
	switch {
	case a.Idx < lw && b.Idx >= lw:
		return castCol(a, t), castCol(&exec.ColRef{Idx: b.Idx - lw, T: b.T, Name: b.Name}, t), true
	case b.Idx < lw && a.Idx >= lw:
		return castCol(b, t), castCol(&exec.ColRef{Idx: a.Idx - lw, T: a.T, Name: a.Name}, t), true
	}
	return nil, nil, false
}

// commonEqType is the type both sides of an equality between columns of
// types a and b are compared in, when keys of it are equal exactly when
// the values are (int4 = int8 compares int8s, float4 = float8 float8s,
// int = numeric numerics: the wider type); ok is false for other pairs.
func commonEqType(a, b types.T) (types.T, bool) {
	if a.OID == b.OID {
		return a, true
	}
	isInt := func(o types.OID) bool { return o == types.Int2OID || o == types.Int4OID || o == types.Int8OID }
	isFloat := func(o types.OID) bool { return o == types.Float4OID || o == types.Float8OID }
	switch {
	case isInt(a.OID) && isInt(b.OID):
		// The wider of the two.
		width := map[types.OID]int{types.Int2OID: 2, types.Int4OID: 4, types.Int8OID: 8}
		if width[a.OID] > width[b.OID] {
			return a, true
		}
		return b, true
	case isFloat(a.OID) && isFloat(b.OID):
		return types.Make(types.Float8OID), true
	case isInt(a.OID) && b.OID == types.NumericOID, a.OID == types.NumericOID && isInt(b.OID):
		return types.Make(types.NumericOID), true
	}
	return types.T{}, false
}

// eqColumn reads a side of an equality as a column, possibly under the
// widening cast the binder put there to compare it with the other side's
// type (not a narrowing one, numeric to int, which rounds).
func eqColumn(e exec.Expr) (*exec.ColRef, bool) {
	switch x := e.(type) {
	case *exec.ColRef:
		return x, true
	case *exec.Cast:
		if c, ok := x.Arg.(*exec.ColRef); ok {
			if t, ok := commonEqType(c.T, x.To); ok && t.OID == x.To.OID {
				return c, true
			}
		}
	}
	return nil, false
}

// castCol is c in type t (c itself when it has it).
func castCol(c *exec.ColRef, t types.T) exec.Expr {
	if c.T.OID == t.OID {
		return c
	}
	return &exec.Cast{Arg: c, To: t, Explicit: true}
}

func conjuncts(e exec.Expr) []exec.Expr {
	if e == nil {
		return nil
	}
	if b, ok := e.(*exec.BoolOp); ok && b.And {
		var out []exec.Expr
		for _, a := range b.Args {
			out = append(out, conjuncts(a)...)
		}
		return out
	}
	return []exec.Expr{e}
}

func andAll(es []exec.Expr) exec.Expr {
	switch len(es) {
	case 0:
		return nil
	case 1:
		return es[0]
	}
	return &exec.BoolOp{And: true, Args: es}
}

// usingNames lists a join's USING columns, or a NATURAL join's common
// ones.
func usingNames(j *ast.Join, ls, rs *scope) []string {
	var using []string
	if j.NaturalJoin {
		for _, lc := range ls.cols {
			if lc.hidden {
				continue
			}
			for _, rc := range rs.cols {
				if !rc.hidden && rc.name == lc.name {
					using = append(using, lc.name)
				}
			}
		}
	}
	for _, u := range j.Using {
		using = append(using, u.Name.O)
	}
	return using
}

// usingMissing is the error for a USING column one side lacks.
func usingMissing(name string, left bool) error {
	side := "right"
	if left {
		side = "left"
	}
	return pgerr.New(pgerr.UndefinedColumn, "column %q specified in USING clause does not exist in %s table", name, side)
}

// findCol finds an unqualified, visible column by name in a scope (-1
// when there is none).
func findCol(sc *scope, name string) int {
	for i, c := range sc.cols {
		if c.name == name && !c.hidden && !c.usingDup {
			return i
		}
	}
	return -1
}

// oneRow is the FROM of a SELECT without FROM.
var oneRow = &exec.Values{Rows: [][]exec.Expr{{}}}

func (b *Builder) buildSelect(sel *ast.SelectStmt, outer *scope) (exec.Node, error) {
	// A set operation's operand keeps its untyped literals untyped: the
	// set operation types them (combine), not this SELECT.
	setOperand := b.setOperand && sel.OrderBy == nil && sel.Limit == nil && !sel.Distinct
	b.setOperand = false
	if sel.With != nil {
		restore, err := b.withClause(sel.With)
		if err != nil {
			return nil, err
		}
		defer restore()
	}
	if sel.Kind == ast.SelectStmtKindValues {
		return b.buildValues(sel, outer)
	}
	var input exec.Node = oneRow
	in := &scope{parent: outer}
	if sel.From != nil && sel.From.TableRefs != nil {
		var err error
		if input, in, err = b.buildResultSet(sel.From.TableRefs, outer); err != nil {
			return nil, err
		}
		in.parent = outer
	}
	if sel.Where != nil {
		eb := &exprBinder{b: b, scope: in, what: "WHERE"}
		pred, err := eb.bindAs(sel.Where, tBool, "argument of WHERE")
		if err != nil {
			return nil, err
		}
		input = b.pushFilter(input, pred)
	}

	fieldList, distinctOn := splitDistinctOn(sel.Fields)
	fields, err := b.expandFields(fieldList, in)
	if err != nil {
		return nil, err
	}
	var orderItems []*ast.ByItem
	if sel.OrderBy != nil {
		orderItems = sel.OrderBy.Items
	}

	// Aggregation.
	post := in
	var agg *aggContext
	aggs := collectAggs(fields, sel.Having, orderItems)
	if len(aggs) > 0 || sel.GroupBy != nil {
		agg = &aggContext{in: in}
		eb := &exprBinder{b: b, scope: in, what: "GROUP BY"}
		h := &exec.HashAgg{Input: input}
		var sets [][]int
		if sel.GroupBy != nil {
			var groupBy []ast.ExprNode
			if groupBy, sets, err = b.groupingItems(sel.GroupBy.Items); err != nil {
				return nil, err
			}
			for _, item := range groupBy {
				if i, ok := position(item); ok && (i < 1 || i > len(fields)) {
					return nil, pgerr.New(pgerr.InvalidColumnReference, "GROUP BY position %d is not in select list", i)
				}
				gx := resolveOrdinalOrAlias(item, fields)
				e, err := eb.bind(gx)
				if err != nil {
					return nil, err
				}
				if e, err = eb.resolveUnknown(e, tText); err != nil {
					return nil, err
				}
				h.Group = append(h.Group, e)
				agg.groupText = append(agg.groupText, b.groupKey(gx))
				agg.groupExpr = append(agg.groupExpr, e)
				h.Cols = append(h.Cols, exec.Column{Name: "?group", T: e.Type()})
			}
		}
		for _, a := range aggs {
			ag, err := b.bindAggregate(eb, a)
			if err != nil {
				return nil, err
			}
			agg.aggs = append(agg.aggs, a)
			h.Aggs = append(h.Aggs, ag)
			h.Cols = append(h.Cols, exec.Column{Name: ag.Func.Name, T: ag.Func.Ret})
		}
		cols := h.Cols
		if sets != nil {
			input = groupingSetsNode(h, sets)
			cols = input.Columns()
			agg.gidCol = len(cols)
		} else {
			input = vectorize(h)
		}
		post = &scope{parent: outer}
		for i, c := range cols {
			sc := scopeCol{name: c.Name, t: c.T}
			// A grouped column keeps its name, so that a subquery in the
			// select list or HAVING can refer to it (t.b below GROUP BY b).
			if i < len(h.Group) {
				if cr, ok := h.Group[i].(*exec.ColRef); ok {
					sc.table, sc.name = in.cols[cr.Idx].table, in.cols[cr.Idx].name
				}
			}
			sc.hidden = agg.gidCol == i+1
			post.cols = append(post.cols, sc)
		}
		agg.post = post
		if sel.Having != nil {
			hb := &exprBinder{b: b, scope: post, agg: agg, what: "HAVING"}
			pred, err := hb.bindAs(sel.Having.Expr, tBool, "argument of HAVING")
			if err != nil {
				return nil, err
			}
			input = &exec.Filter{Input: input, Pred: pred}
		}
	} else if sel.Having != nil {
		return nil, pgerr.New(pgerr.GroupingError, "HAVING without GROUP BY or aggregates is not supported yet")
	}

	var win *windowContext
	if calls := collectWindows(fields, orderItems); len(calls) > 0 {
		if input, win, err = b.buildWindow(sel, calls, input, post, agg); err != nil {
			return nil, err
		}
	}

	// Projection, with hidden trailing columns for ORDER BY expressions
	// that are not in the select list.
	srf := &srfContext{base: len(input.Columns())}
	pb := &exprBinder{b: b, scope: post, agg: agg, what: "SELECT", win: win, srf: srf}
	proj := &exec.Project{Input: input}
	for _, f := range fields {
		e, err := pb.bind(f.expr)
		if err != nil {
			return nil, err
		}
		if c, ok := e.(*exec.Const); ok && setOperand && c.T.OID == types.UnknownOID {
			// Left untyped for the set operation.
		} else if e, err = pb.resolveUnknown(e, tText); err != nil {
			return nil, err
		}
		proj.Exprs = append(proj.Exprs, e)
		col := exec.Column{Name: f.name, T: e.Type()}
		if cr, ok := e.(*exec.ColRef); ok && agg == nil && cr.Idx < len(post.cols) {
			col.Table, col.Attr = post.cols[cr.Idx].tableOID, post.cols[cr.Idx].attr
		}
		proj.Cols = append(proj.Cols, col)
	}
	if len(srf.funcs) > 0 {
		ps := &exec.ProjectSet{Input: input, Funcs: srf.funcs, Cols: append([]exec.Column(nil), input.Columns()...)}
		for _, f := range srf.funcs {
			ps.Cols = append(ps.Cols, exec.Column{Name: f.Name, T: f.T})
		}
		proj.Input = ps
	}
	srf.refuse = "set-returning functions in ORDER BY or DISTINCT ON are not supported unless they are in the select list"
	visible := len(proj.Exprs)
	var keys []exec.SortKey
	for _, item := range orderItems {
		idx, err := b.orderTarget(item, fields, proj, pb, sel.Distinct)
		if err != nil {
			return nil, err
		}
		asc := !item.Desc
		nullsFirst := !asc // PostgreSQL: NULLS LAST for ASC, FIRST for DESC
		if nf, ok := nullOrder(item); ok {
			nullsFirst = nf
		}
		keys = append(keys, exec.SortKey{Expr: &exec.ColRef{Idx: idx, T: proj.Cols[idx].T, Name: proj.Cols[idx].Name}, Desc: item.Desc, NullsFirst: nullsFirst})
	}
	var out exec.Node = proj
	if sel.Distinct {
		out = &exec.DistinctRows{Input: out}
	}
	var on []int
	if distinctOn != nil {
		if on, keys, err = b.distinctOnKeys(distinctOn, orderItems, keys, fields, proj, pb); err != nil {
			return nil, err
		}
	}
	if len(keys) > 0 {
		out = &exec.Sort{Input: out, Keys: keys}
	}
	if on != nil {
		out = &exec.DistinctRows{Input: out, On: on}
	}
	if sel.Limit != nil {
		lb := &exprBinder{b: b, scope: &scope{parent: outer}, what: "LIMIT"}
		l := &exec.Limit{Input: out}
		if sel.Limit.Count != nil && !noLimit(sel.Limit.Count) {
			if l.Count, err = lb.bindAs(sel.Limit.Count, tInt8, "argument of LIMIT"); err != nil {
				return nil, err
			}
		}
		if sel.Limit.Offset != nil {
			if l.Offset, err = lb.bindAs(sel.Limit.Offset, tInt8, "argument of OFFSET"); err != nil {
				return nil, err
			}
		}
		out = l
	}
	if len(proj.Exprs) > visible {
		trim := &exec.Project{Input: out, Cols: proj.Cols[:visible]}
		for i := 0; i < visible; i++ {
			trim.Exprs = append(trim.Exprs, &exec.ColRef{Idx: i, T: proj.Cols[i].T, Name: proj.Cols[i].Name})
		}
		out = trim
	}
	return out, nil
}

// noLimit recognizes the front end's LIMIT 18446744073709551615, its
// spelling of OFFSET without LIMIT (TiDB's grammar has no bare OFFSET).
func noLimit(e ast.ExprNode) bool {
	v, ok := e.(*driver.ValueExpr)
	return ok && v.Datum.Kind() == driver.KindUint64 && v.Datum.GetUint64() == math.MaxUint64
}

// pushFilter adds a filter; a filter on the key columns of a scan becomes a
// key range (see keyrange.go).
func (b *Builder) pushFilter(input exec.Node, pred exec.Expr) exec.Node {
	if scan, ok := input.(*exec.Scan); ok {
		if n := planKeyScan(scan, pred); n != nil {
			return n
		}
	}
	if h, ok := input.(*exec.History); ok {
		if n := planHistoryKeyScan(h, pred); n != nil {
			return n
		}
	}
	if r, ok := input.(*views.Read); ok {
		if n := planViewKeyScan(r, pred); n != nil {
			return n
		}
	}
	if n := b.pushIntoJoin(input, pred); n != nil {
		return n
	}
	if n := b.pushIntoSubquery(input, pred); n != nil {
		return n
	}
	return &exec.Filter{Input: input, Pred: pred}
}

// field is one output column of a select list, after * expansion.
type field struct {
	expr ast.ExprNode
	name string
}

func (b *Builder) expandFields(fl *ast.FieldList, in *scope) ([]field, error) {
	var out []field
	for _, f := range fl.Fields {
		if f.WildCard != nil {
			table := f.WildCard.Table.O
			n := 0
			order := in.starOrder()
			if table != "" {
				order = nil
				for i := range in.cols {
					order = append(order, i)
				}
			}
			for _, i := range order {
				c := in.cols[i]
				if c.hidden || (table != "" && c.table != table) || (table == "" && c.usingDup) {
					continue
				}
				n++
				cn := &ast.ColumnName{Name: ast.NewCIStr(c.name)}
				if c.table != "" {
					cn.Table = ast.NewCIStr(c.table)
				}
				if _, _, _, err := in.resolve(c.table, c.name); err != nil {
					// A name * cannot spell unambiguously: the column
					// itself, as PostgreSQL's * expands to columns.
					if in.starCols == nil {
						in.starCols = map[*ast.ColumnName]int{}
					}
					in.starCols[cn] = i
				}
				out = append(out, field{expr: &ast.ColumnNameExpr{Name: cn}, name: c.name})
			}
			if table != "" && n == 0 && !in.hasTable(table) {
				return nil, pgerr.New(pgerr.UndefinedTable, "missing FROM-clause entry for table %q", table)
			}
			if table == "" && len(in.cols) == 0 {
				return nil, pgerr.New(pgerr.SyntaxError, "SELECT * with no tables specified is not valid")
			}
			continue
		}
		name := f.AsName.O
		if name == "" {
			name = columnLabel(f.Expr)
		}
		out = append(out, field{expr: f.Expr, name: name})
	}
	return out, nil
}

// columnLabel is the name PostgreSQL gives an unnamed select-list column.
func columnLabel(e ast.ExprNode) string {
	name, _ := figureLabel(e)
	return name
}

// figureLabel follows PostgreSQL's FigureColnameInternal: it returns a
// label and its strength: 2 for a name taken from a column, function or
// subquery, 1 for a fallback ("case", a cast's type name), 0 for none
// ("?column?"). A cast or a CASE keeps the label of its operand (of its
// ELSE) only when that is strong.
func figureLabel(e ast.ExprNode) (string, int) {
	switch x := e.(type) {
	case *ast.ColumnNameExpr:
		return x.Name.Name.O, 2
	case *ast.ParenthesesExpr:
		return figureLabel(x.Expr)
	case *ast.FuncCallExpr:
		switch x.FnName.L {
		case "pg_cast":
			if inner, strength := figureLabel(x.Args[0]); strength > 1 {
				return inner, strength
			}
			if s, err := stringArg(x.Args[1]); err == nil {
				if t, err := types.ParseTypeName(s); err == nil {
					return pgTypeLabel(t), 1
				}
			}
			return "?column?", 0
		case "pg_sqlvalue":
			if s, err := stringArg(x.Args[0]); err == nil {
				return s, 2
			}
		case "pg_filter", "pg_agg_order", "pg_agg_distinct", "pg_within_group":
			return figureLabel(x.Args[0])
		case "pg_array":
			return "array", 1
		case "pg_array_query":
			return "array", 2
		case "pg_extract":
			return "extract", 2
		case "pg_subscript", "pg_slice":
			return figureLabel(x.Args[0])
		case "pg_field":
			if s, err := stringArg(x.Args[1]); err == nil {
				return s, 2
			}
		case "pg_op", "pg_distinct", "pg_any", "pg_all":
			return "?column?", 0
		}
		return x.FnName.O, 2
	case *ast.AggregateFuncExpr:
		return strings.ToLower(x.F), 2
	case *ast.WindowFuncExpr:
		return strings.ToLower(x.Name), 2
	case *ast.CaseExpr:
		if x.ElseClause != nil {
			if inner, strength := figureLabel(x.ElseClause); strength > 1 {
				return inner, strength
			}
		}
		return "case", 1
	case *ast.ExistsSubqueryExpr:
		return "exists", 2
	case *ast.SubqueryExpr:
		// A scalar subquery is named after its one output column.
		if sel, ok := x.Query.(*ast.SelectStmt); ok && sel.Fields != nil && len(sel.Fields.Fields) > 0 {
			f := sel.Fields.Fields[0]
			switch {
			case f.AsName.O != "":
				return f.AsName.O, 2
			case f.WildCard == nil:
				if name, strength := figureLabel(f.Expr); strength > 0 {
					return name, 2
				}
			}
		}
	}
	return "?column?", 0
}

// pgTypeLabel is the column label of a bare cast: PostgreSQL names it after
// the type's internal name (int4, numeric, text...).
func pgTypeLabel(t types.T) string {
	switch t.OID {
	case types.Int2OID:
		return "int2"
	case types.Int4OID:
		return "int4"
	case types.Int8OID:
		return "int8"
	case types.Float4OID:
		return "float4"
	case types.Float8OID:
		return "float8"
	case types.BoolOID:
		return "bool"
	case types.VarcharOID:
		return "varchar"
	case types.BpcharOID:
		return "bpchar"
	case types.TimestampTZOID:
		return "timestamptz"
	case types.TimeOID:
		return "time"
	}
	s := t.String()
	if i := len(s); i > 0 {
		for j := 0; j < len(s); j++ {
			if s[j] == '(' {
				return s[:j]
			}
		}
	}
	return s
}

// resolveOrdinalOrAlias maps GROUP BY 1 / GROUP BY alias to the select
// list expression, as PostgreSQL does.
func resolveOrdinalOrAlias(e ast.ExprNode, fields []field) ast.ExprNode {
	if i, ok := position(e); ok && i >= 1 && i <= len(fields) {
		return fields[i-1].expr
	}
	return e
}

// position reads a select-list position: GROUP BY 2, ORDER BY 2. The TiDB
// parser gives ORDER BY and GROUP BY positions as PositionExpr; inside the
// front end's pg_nulls_first/last they stay integer literals.
func position(e ast.ExprNode) (int, bool) {
	switch x := e.(type) {
	case *ast.ParenthesesExpr:
		return position(x.Expr)
	case *ast.UnaryOperationExpr:
		// -6 and - (-7) are constants to PostgreSQL's grammar, which folds
		// a minus into the number it negates.
		if x.Op == opcode.Minus {
			if n, ok := position(x.V); ok {
				return -n, true
			}
		}
	case *ast.PositionExpr:
		if x.P == nil {
			return x.N, true
		}
	case *driver.ValueExpr:
		if x.Datum.Kind() == driver.KindInt64 {
			return int(x.Datum.GetInt64()), true
		}
	}
	return 0, false
}

// orderTarget returns the projection column an ORDER BY item sorts by,
// adding a hidden column for expressions not in the select list.
func (b *Builder) orderTarget(item *ast.ByItem, fields []field, proj *exec.Project, pb *exprBinder, distinct bool) (int, error) {
	x := stripNullOrder(item.Expr)
	if i, ok := position(x); ok {
		if i < 1 || i > len(fields) {
			return 0, pgerr.New(pgerr.InvalidColumnReference, "ORDER BY position %d is not in select list", i)
		}
		return i - 1, nil
	}
	if c, ok := x.(*ast.ColumnNameExpr); ok && c.Name.Table.O == "" {
		match := -1
		for i, f := range fields {
			if f.name == c.Name.Name.O {
				if match >= 0 {
					if restore(fields[match].expr) != restore(f.expr) {
						return 0, pgerr.New(pgerr.AmbiguousColumn, "ORDER BY %q is ambiguous", c.Name.Name.O)
					}
					continue
				}
				match = i
			}
		}
		if match >= 0 {
			return match, nil
		}
	}
	text := restore(x)
	for i, f := range fields {
		if restore(f.expr) == text {
			return i, nil
		}
	}
	if distinct {
		return 0, pgerr.New(pgerr.InvalidColumnReference, "for SELECT DISTINCT, ORDER BY expressions must appear in select list")
	}
	e, err := pb.bind(x)
	if err != nil {
		return 0, err
	}
	if e, err = pb.resolveUnknown(e, tText); err != nil {
		return 0, err
	}
	proj.Exprs = append(proj.Exprs, e)
	proj.Cols = append(proj.Cols, exec.Column{Name: "?order", T: e.Type()})
	return len(proj.Exprs) - 1, nil
}

// The front end carries NULLS FIRST/LAST as pg_nulls_first(e) /
// pg_nulls_last(e) around the ORDER BY expression.
func nullOrder(item *ast.ByItem) (nullsFirst, ok bool) {
	if f, isCall := item.Expr.(*ast.FuncCallExpr); isCall {
		switch f.FnName.L {
		case "pg_nulls_first":
			return true, true
		case "pg_nulls_last":
			return false, true
		}
	}
	return false, false
}

func stripNullOrder(e ast.ExprNode) ast.ExprNode {
	if f, ok := e.(*ast.FuncCallExpr); ok && (f.FnName.L == "pg_nulls_first" || f.FnName.L == "pg_nulls_last") {
		return f.Args[0]
	}
	return e
}

func (b *Builder) buildValues(sel *ast.SelectStmt, outer *scope) (exec.Node, error) {
	eb := &exprBinder{b: b, scope: &scope{parent: outer}, what: "VALUES"}
	v := &exec.Values{}
	width := -1
	for _, row := range sel.Lists {
		exprs, err := eb.bindList(row.Values)
		if err != nil {
			return nil, err
		}
		if width >= 0 && len(exprs) != width {
			return nil, pgerr.New(pgerr.SyntaxError, "VALUES lists must all be the same length")
		}
		width = len(exprs)
		v.Rows = append(v.Rows, exprs)
	}
	for c := 0; c < width; c++ {
		col := make([]exec.Expr, len(v.Rows))
		for r := range v.Rows {
			col[r] = v.Rows[r][c]
		}
		t, err := eb.unify(col, "VALUES")
		if err != nil {
			return nil, err
		}
		for r := range v.Rows {
			if v.Rows[r][c], err = eb.coerce(v.Rows[r][c], t, "VALUES"); err != nil {
				return nil, err
			}
		}
		v.Cols = append(v.Cols, exec.Column{Name: "column" + itoa(c+1), T: t})
	}
	var out exec.Node = v
	if sel.OrderBy != nil || sel.Limit != nil {
		return nil, pgerr.New(pgerr.FeatureNotSupported, "ORDER BY/LIMIT on VALUES is not supported yet")
	}
	return out, nil
}

func itoa(i int) string {
	const digits = "0123456789"
	if i < 10 {
		return digits[i : i+1]
	}
	return itoa(i/10) + digits[i%10:i%10+1]
}

// splitDistinctOn removes the front end's pg_distinct_on(e, ...) from the
// head of a select list (sql/doc.go) and returns its expressions. The
// list is copied, not changed: parsed statements are shared.
func splitDistinctOn(fl *ast.FieldList) (*ast.FieldList, []ast.ExprNode) {
	if len(fl.Fields) == 0 {
		return fl, nil
	}
	f, ok := fl.Fields[0].Expr.(*ast.FuncCallExpr)
	if !ok || f.FnName.L != "pg_distinct_on" {
		return fl, nil
	}
	return &ast.FieldList{Fields: fl.Fields[1:]}, f.Args
}

// distinctOnKeys resolves DISTINCT ON expressions like ORDER BY items and
// returns their projection columns and the sort that brings each group's
// first row first: the ORDER BY, which must begin with the DISTINCT ON
// expressions, then any of them it leaves out.
func (b *Builder) distinctOnKeys(exprs []ast.ExprNode, order []*ast.ByItem, keys []exec.SortKey, fields []field, proj *exec.Project, pb *exprBinder) ([]int, []exec.SortKey, error) {
	var on []int
	in := map[int]bool{}
	for _, e := range exprs {
		idx := -1
		text := restore(e)
		for i, item := range order {
			if restore(stripNullOrder(item.Expr)) == text {
				idx = keys[i].Expr.(*exec.ColRef).Idx
				break
			}
		}
		if idx < 0 {
			var err error
			if idx, err = b.orderTarget(&ast.ByItem{Expr: e}, fields, proj, pb, false); err != nil {
				return nil, nil, err
			}
		}
		if !in[idx] {
			on = append(on, idx)
			in[idx] = true
		}
	}
	mismatch := pgerr.New(pgerr.InvalidColumnReference, "SELECT DISTINCT ON expressions must match initial ORDER BY expressions")
	skipped := false
	sorted := map[int]bool{}
	for i := range order {
		idx := keys[i].Expr.(*exec.ColRef).Idx
		if !in[idx] {
			skipped = true
			continue
		}
		if skipped {
			return nil, nil, mismatch
		}
		sorted[idx] = true
	}
	for _, idx := range on {
		if sorted[idx] {
			continue
		}
		if skipped {
			return nil, nil, mismatch
		}
		keys = append(keys, exec.SortKey{Expr: &exec.ColRef{Idx: idx, T: proj.Cols[idx].T, Name: proj.Cols[idx].Name}})
	}
	return on, keys, nil
}
