package planner

import (
	"fmt"
	"slices"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
	"github.com/strand-db/strand/views"
)

// A view's WHERE may test its rows against a subquery, as a conjunct of
// its own: EXISTS (SELECT ... FROM b WHERE b.k = a.k ...), NOT EXISTS
// (...), or a.k IN (SELECT b.k FROM b ...). Each is maintained as a
// semi-join (anti-join for NOT EXISTS) of the FROM rows with the
// subquery's FROM rows: the subquery's WHERE, with the outer row's columns
// in it, is the join condition, and needs an equality between a column of
// each side. A left row is in the view while it has a match (has none),
// with its own multiplicity, however many rows match it. NOT IN is
// refused: a NULL among the subquery's values makes it NULL for every
// row, which is not a join.

// semiTest is one subquery conjunct of a view's WHERE.
type semiTest struct {
	sub  *ast.SelectStmt
	anti bool
	// notIn: NOT IN (subquery), an anti-join on the IN's equality gated
	// by NULLs (notInGate).
	notIn bool
	// in is the left side of IN (nil for EXISTS).
	in ast.ExprNode
}

// splitSemiTests takes the EXISTS, NOT EXISTS and IN (subquery)
// conjuncts out of where; rest is what remains.
func splitSemiTests(where ast.ExprNode) (tests []semiTest, rest ast.ExprNode, err error) {
	var keep []ast.ExprNode
	for _, c := range andParts(where) {
		x := unparen(c)
		not := false
		if u, ok := x.(*ast.UnaryOperationExpr); ok && u.Op == opcode.Not {
			not, x = true, unparen(u.V)
		}
		switch e := x.(type) {
		case *ast.ExistsSubqueryExpr:
			sel, err := semiSelect(e.Sel)
			if err != nil {
				return nil, nil, err
			}
			tests = append(tests, semiTest{sub: sel, anti: e.Not != not})
			continue
		case *ast.PatternInExpr:
			if e.Sel == nil {
				break
			}
			sel, err := semiSelect(e.Sel)
			if err != nil {
				return nil, nil, err
			}
			notIn := e.Not != not
			tests = append(tests, semiTest{sub: sel, in: e.Expr, anti: notIn, notIn: notIn})
			continue
		case *ast.CompareSubqueryExpr:
			// x = ANY (subquery) is x IN (subquery); x <> ALL is NOT IN.
			anyEq, allNe := e.Op == opcode.EQ && !e.All, e.Op == opcode.NE && e.All
			if anyEq || allNe {
				sel, err := semiSelect(e.R)
				if err != nil {
					return nil, nil, err
				}
				notIn := anyEq == not
				tests = append(tests, semiTest{sub: sel, in: e.L, anti: notIn, notIn: notIn})
				continue
			}
		}
		keep = append(keep, c)
	}
	return tests, andOf(keep), nil
}

// semiSelect checks that a WHERE subquery is one a semi-join can
// maintain: a SELECT whose rows matter only by existence.
func semiSelect(n ast.ExprNode) (*ast.SelectStmt, error) {
	sq, ok := n.(*ast.SubqueryExpr)
	if !ok {
		return nil, notMaintainable("EXISTS/IN of %T is not supported", n)
	}
	sel, ok := sq.Query.(*ast.SelectStmt)
	switch {
	case !ok:
		return nil, notMaintainable("a set operation in an EXISTS or IN subquery is not supported")
	case sel.With != nil:
		return nil, notMaintainable("WITH in an EXISTS or IN subquery is not supported")
	case sel.From == nil || sel.From.TableRefs == nil:
		return nil, notMaintainable("an EXISTS or IN subquery needs a FROM clause")
	case sel.GroupBy != nil || sel.Having != nil || hasAggregate(sel.Fields):
		return nil, notMaintainable("GROUP BY or aggregates in an EXISTS or IN subquery are not supported")
	case sel.Limit != nil:
		return nil, notMaintainable("LIMIT in an EXISTS or IN subquery is not supported")
	case sel.WindowSpecs != nil || windowIn(sel.Fields) != nil:
		return nil, notMaintainable("window functions in an EXISTS or IN subquery are not supported")
	case (sel.Where != nil && hasSubquery(sel.Where)) || hasSubquery(sel.Fields):
		return nil, notMaintainable("a subquery inside an EXISTS or IN subquery is not supported")
	}
	return sel, nil
}

// viewSemiJoin plans one subquery test of a view's WHERE as a semi- or
// anti-join of in (the FROM rows so far) with the subquery's FROM rows.
// The rows it gives are in's, with the subquery's columns after them
// unnamed (NULL), so that the rest of the query sees in's columns alone.
func (b *Builder) viewSemiJoin(in *viewRel, t semiTest) (*viewRel, error) {
	what := "EXISTS"
	if t.anti {
		what = "NOT EXISTS"
	}
	if t.in != nil {
		what = "IN"
	}
	if t.notIn {
		what = "NOT IN"
	}
	from, subWhere := b.commaJoins(t.sub.From.TableRefs, t.sub.Where)
	r, err := b.viewFrom(from)
	if err != nil {
		return nil, err
	}
	lw := len(in.sc.cols)
	// The subquery's names resolve in its own FROM first, then in the
	// outer row's (as OuterRefs one level up).
	outer := &scope{cols: in.sc.cols}
	inner := &scope{cols: r.sc.cols, parent: outer}
	ib := &exprBinder{b: b, scope: inner, what: "WHERE"}
	var conds []exec.Expr
	if subWhere != nil {
		w, err := ib.bindAs(subWhere, tBool, "argument of WHERE")
		if err != nil {
			return nil, err
		}
		conds = append(conds, conjuncts(w)...)
	}
	correlated := false
	for _, c := range conds {
		if depths, ok := outerRefs(c, nil); !ok || len(depths) > 0 {
			correlated = true
		}
	}
	if t.in != nil {
		fields, err := b.expandFields(t.sub.Fields, inner)
		if err != nil {
			return nil, err
		}
		// (a, b) IN (SELECT x, y ...): an equality per column.
		lefts := []ast.ExprNode{t.in}
		if lv, ok := rowValues(t.in); ok {
			lefts = lv
		}
		switch {
		case len(lefts) == 1 && len(fields) != 1:
			return nil, notMaintainable("an IN subquery must return one column")
		case len(fields) > len(lefts):
			return nil, pgerr.New(pgerr.SyntaxError, "subquery has too many columns")
		case len(fields) < len(lefts):
			return nil, pgerr.New(pgerr.SyntaxError, "subquery has too few columns")
		case len(lefts) > 1 && t.notIn:
			return nil, notMaintainable("NOT IN over a row of values is not supported (NOT EXISTS with an equality per column is)")
		}
		ob := &exprBinder{b: b, scope: outer, what: "IN"}
		for i, l := range lefts {
			re, err := ib.bind(fields[i].expr)
			if err != nil {
				return nil, err
			}
			le, err := ob.bind(l)
			if err != nil {
				return nil, err
			}
			// The IN's left side is the outer row's: as the subquery sees it.
			le = mapCols(le, func(c *exec.ColRef) exec.Expr {
				return &exec.OuterRef{Depth: 1, Idx: c.Idx, T: c.T, Name: c.Name}
			})
			eq, err := ob.operator("=", le, re)
			if err != nil {
				return nil, err
			}
			conds = append(conds, eq)
		}
	}
	vj := &views.Join{Kind: views.SemiJoin, Left: in.node, LeftTypes: in.types(), RightTypes: r.types()}
	if t.anti {
		vj.Kind = views.AntiJoin
	}
	right := r.node
	var rest []exec.Expr
	for _, c := range conds {
		// Over the joined row: the outer row's columns first.
		c, ok := joinedRow(c, lw)
		if !ok {
			return nil, notMaintainable("the %s subquery refers to a query outside the view's own", what)
		}
		if err := timeVarying(what+" subquery", c); err != nil {
			return nil, err
		}
		if le, re, ok := equiSides(c, lw); ok {
			vj.LeftKeys, vj.RightKeys = append(vj.LeftKeys, le), append(vj.RightKeys, re)
			continue
		}
		if le, re, ok := exprEquiSides(c, lw); ok {
			// An equality of expressions of each side (x IN (SELECT a % 12 ...)).
			vj.LeftKeys, vj.RightKeys = append(vj.LeftKeys, le), append(vj.RightKeys, re)
			continue
		}
		if idx, ok := colRefs(c, nil); ok && len(idx) > 0 && !volatileCall(c) && minInt(idx) >= lw {
			// The subquery's own filter: its rows are filtered before
			// they are kept.
			right = &views.Filter{Input: right, Pred: shiftCols(c, -lw)}
			continue
		}
		rest = append(rest, c)
	}
	if len(vj.LeftKeys) == 0 {
		return nil, notMaintainable("the %s subquery needs an equality between one of its columns and a column of the outer query", what)
	}
	vj.Right = right
	vj.On = andAll(rest)
	vj.Band = ib.joinBand(rest, lw)
	sc := &scope{cols: append([]scopeCol(nil), in.sc.cols...)}
	for _, c := range r.sc.cols {
		sc.cols = append(sc.cols, scopeCol{name: "?" + what, t: c.t, hidden: true})
	}
	rel := &viewRel{node: vj, sc: sc, rank: in.rank}
	switch {
	case t.notIn && correlated:
		return b.notInPerKey(rel, t, ib, from, subWhere)
	case t.notIn:
		return b.notInGate(rel, in.sc, t)
	}
	return rel, nil
}

// notInPerKey completes x NOT IN (subquery) when the subquery relates to
// the outer row by equalities (WHERE s.k = t.k): the gate of notInGate,
// per value of those equalities. The anti-join's rows are LEFT joined with
// the subquery's rows counted per key (count(*) and count(v), v its
// value), and a row passes when its key has no subquery rows, or when none
// of them is NULL and its x is not NULL.
func (b *Builder) notInPerKey(rel *viewRel, t semiTest, ib *exprBinder, from ast.ResultSetNode, subWhere ast.ExprNode) (*viewRel, error) {
	innerAST, outerAST, ownAST, err := ib.correlatedEqualities(subWhere, "a NOT IN subquery")
	if err != nil {
		return nil, err
	}
	var innerKeys, outerKeys, own []string
	for i := range innerAST {
		innerKeys = append(innerKeys, restore(innerAST[i]))
		outerKeys = append(outerKeys, restore(outerAST[i]))
	}
	for _, c := range ownAST {
		own = append(own, "("+restore(c)+")")
	}
	value, fromText := restore(t.sub.Fields.Fields[0].Expr), restore(from)
	if value == "" || fromText == "" || slices.Contains(innerKeys, "") || slices.Contains(outerKeys, "") || slices.Contains(own, "()") {
		return nil, notMaintainable("this NOT IN subquery could not be planned")
	}
	var cols []string
	for i, k := range innerKeys {
		cols = append(cols, fmt.Sprintf(`%s AS "?k%d"`, k, i))
	}
	text := fmt.Sprintf(`SELECT %s, count(*) AS "?c", count(%s) AS "?cv" FROM %s`, strings.Join(cols, ", "), value, fromText)
	if len(own) > 0 {
		text += " WHERE " + strings.Join(own, " AND ")
	}
	text += " GROUP BY " + strings.Join(innerKeys, ", ")
	q, err := parseRewrite(text, "NOT IN")
	if err != nil {
		return nil, err
	}
	alias := ast.NewCIStr("?notin")
	col := func(name string) ast.ExprNode {
		return &ast.ColumnNameExpr{Name: &ast.ColumnName{Table: alias, Name: ast.NewCIStr(name)}}
	}
	var on ast.ExprNode
	for i, o := range outerAST {
		on = andExpr(on, &ast.BinaryOperationExpr{Op: opcode.EQ, L: o, R: col(fmt.Sprintf("?k%d", i))})
	}
	joined, err := b.viewJoinOf(&ast.Join{Right: &ast.TableSource{Source: q, AsName: alias}, Tp: ast.LeftJoin, On: &ast.OnCondition{Expr: on}}, rel)
	if err != nil {
		return nil, err
	}
	for i := len(rel.sc.cols); i < len(joined.sc.cols); i++ {
		joined.sc.cols[i].hidden = true
	}
	gate := &ast.BinaryOperationExpr{Op: opcode.LogicOr,
		L: &ast.IsNullExpr{Expr: col("?c")},
		R: &ast.BinaryOperationExpr{Op: opcode.LogicAnd,
			L: &ast.BinaryOperationExpr{Op: opcode.EQ, L: col("?c"), R: col("?cv")},
			R: &ast.IsNullExpr{Expr: t.in, Not: true}},
	}
	pred, err := (&exprBinder{b: b, scope: joined.sc, what: "NOT IN"}).bindAs(gate, tBool, "NOT IN")
	if err != nil {
		return nil, err
	}
	return &viewRel{node: &views.Filter{Input: joined.node, Pred: pred}, sc: joined.sc, rank: rel.rank}, nil
}

// notInGate completes x NOT IN (subquery), whose anti-join on x = the
// subquery's value lets through the rows whose x matches none of its
// values, NULL x included. NOT IN is true for those only when the
// subquery has no NULL value and x is not NULL, and for every row when the
// subquery has no rows at all: a gate over the whole subquery, a dynamic
// filter whose bound is
//
//	CASE WHEN count(*) = 0 THEN 1 WHEN count(*) = count(v) THEN 0 ELSE -1 END
//
// over the subquery's rows, and whose rows' value is 1 for a NULL x and 0
// otherwise, passing when the value is at most the bound. The bound moves
// only when the subquery gains or loses its first row or its first NULL,
// and then every row's answer changes, as it does in PostgreSQL.
func (b *Builder) notInGate(rel *viewRel, outer *scope, t semiTest) (*viewRel, error) {
	value, from, where, ok := valueSubqueryText(t.sub)
	if !ok {
		return nil, notMaintainable("this NOT IN subquery could not be planned")
	}
	text := fmt.Sprintf(`SELECT CASE WHEN count(*) = 0 THEN 1 WHEN count(*) = count("?v") THEN 0 ELSE -1 END FROM (SELECT %s AS "?v" FROM %s%s) AS "?notin"`, value, from, where)
	q, err := parseRewrite(text, "NOT IN")
	if err != nil {
		return nil, err
	}
	vq, err := b.viewQuery(q)
	if err != nil {
		return nil, err
	}
	x, err := (&exprBinder{b: b, scope: outer, what: "NOT IN"}).bind(t.in)
	if err != nil {
		return nil, err
	}
	tInt4 := types.Make(types.Int4OID)
	bound := exec.Expr(&exec.ColRef{T: vq.types[0], Name: "gate"})
	if vq.types[0].OID != types.Int4OID {
		return nil, pgerr.New(pgerr.InternalError, "planning NOT IN: the gate is %s", vq.types[0])
	}
	isNull := &exec.Case{
		Whens: []exec.When{{Cond: &exec.IsNull{Arg: x}, Then: &exec.Const{Val: int64(1), T: tInt4}}},
		Else:  &exec.Const{Val: int64(0), T: tInt4}, T: tInt4,
	}
	node := &views.DynFilter{
		Left:  rel.node,
		Right: &views.Project{Input: vq.node, Exprs: []exec.Expr{bound}},
		Expr:  isNull, Op: views.DynLE, T: tInt4, Types: rel.types(),
		Desc: fmt.Sprintf("NOT IN gate: every row while the subquery has no rows, those with %s not NULL while it has no NULL, none while it has one", x),
	}
	return &viewRel{node: node, sc: rel.sc, rank: rel.rank}, nil
}

// joinedRow rewrites a condition bound in a subquery over the row of its
// join with the outer query: the outer row's columns (OuterRefs one level
// up) come first, the subquery's after them. ok is false for a reference
// further out, or a part exprParts does not know.
func joinedRow(e exec.Expr, lw int) (exec.Expr, bool) {
	if !onlyOuterDepth(e, 1) {
		return nil, false
	}
	return mapRefs(e, func(r exec.Expr) exec.Expr {
		switch x := r.(type) {
		case *exec.ColRef:
			return copyWith(x, func(c *exec.ColRef) { c.Idx += lw })
		case *exec.OuterRef:
			return &exec.ColRef{Idx: x.Idx, T: x.T, Name: x.Name}
		}
		return r
	}), true
}

// onlyOuterDepth reports whether e holds only parts exprParts knows, and
// outer references depth levels up only.
func onlyOuterDepth(e exec.Expr, depth int) bool {
	depths, ok := outerRefs(e, nil)
	return ok && !slices.ContainsFunc(depths, func(d int) bool { return d != depth })
}

// outerRefs appends the depths of e's outer references to depths; ok is
// false when e holds a part exprParts does not know (colRefs' twin).
func outerRefs(e exec.Expr, depths []int) ([]int, bool) {
	if o, ok := e.(*exec.OuterRef); ok {
		return append(depths, o.Depth), true
	}
	parts, ok := exprParts(e)
	if !ok {
		return depths, false
	}
	for _, p := range parts {
		if depths, ok = outerRefs(p, depths); !ok {
			return depths, false
		}
	}
	return depths, true
}

// hasAggregate reports whether a select list calls an aggregate.
func hasAggregate(fl *ast.FieldList) bool {
	if fl == nil {
		return false
	}
	var fields []field
	for _, f := range fl.Fields {
		if f.Expr != nil {
			fields = append(fields, field{expr: f.Expr})
		}
	}
	return len(collectAggs(fields, nil, nil)) > 0
}

func minInt(xs []int) int {
	m := xs[0]
	for _, x := range xs[1:] {
		m = min(m, x)
	}
	return m
}
