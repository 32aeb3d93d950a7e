package planner

import (
	"errors"
	"fmt"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
	"github.com/strand-db/strand/views"
)

// A scalar subquery in a view's select list, correlated by equalities,
// is maintained as a LEFT JOIN of the view's rows with what the subquery
// reads, grouped by the subquery's side of the equalities:
//
//	SELECT c.id, (SELECT count(*) FROM orders o WHERE o.customer_id = c.id AND o.amount > 0) FROM customers c
//
// is planned as customers LEFT JOIN (SELECT o.customer_id, count(*) FROM
// orders o WHERE o.amount > 0 GROUP BY o.customer_id) ON the equality,
// the subquery's value read from the joined row (count's NULL of no
// match read as 0, the count of no rows). Without an aggregate the
// subquery must read one keyed table by its whole key (a lookup: at most
// one row, as a scalar subquery must give). Its other conjuncts may read
// its own columns only.

// errUncorrelatedScalar refuses a select-list subquery that does not
// relate to the view's rows: its value is a column of every row, so each
// change of it would rewrite the whole view.
var errUncorrelatedScalar = notMaintainable("a scalar subquery in the select list must relate to the view's rows by equalities in its WHERE: " +
	"one that does not is part of every row, and each change of its value would rewrite the whole view (compare with it in WHERE, a dynamic filter, or read it from a view of its own)")

// scalarJoin is one select-list subquery planned as a join.
type scalarJoin struct {
	sub *ast.SubqueryExpr
	// value is the subquery's value over the joined row.
	value exec.Expr
}

// scalarSubqueries finds the scalar subqueries of a select list.
func scalarSubqueries(fl *ast.FieldList) []*ast.SubqueryExpr {
	v := &scalarFinder{}
	for _, f := range fl.Fields {
		if f.Expr != nil {
			f.Expr.Accept(v)
		}
	}
	return v.found
}

type scalarFinder struct{ found []*ast.SubqueryExpr }

func (v *scalarFinder) Enter(n ast.Node) (ast.Node, bool) {
	if s, ok := n.(*ast.SubqueryExpr); ok {
		v.found = append(v.found, s)
		return n, true
	}
	return n, false
}

func (v *scalarFinder) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// viewScalarJoin plans sub, a scalar subquery of the select list, as a
// left join of in with it; the rel returned has in's columns, then the
// subquery's (unnamed).
func (b *Builder) viewScalarJoin(in *viewRel, sub *ast.SubqueryExpr, n int) (*viewRel, exec.Expr, error) {
	sel, ok := sub.Query.(*ast.SelectStmt)
	switch {
	case !ok:
		return nil, nil, notMaintainable("a set operation as a scalar subquery is not supported")
	case sel.With != nil || sel.Limit != nil || sel.GroupBy != nil || sel.Having != nil || sel.Distinct || sel.WindowSpecs != nil:
		return nil, nil, notMaintainable("a scalar subquery with WITH, LIMIT, GROUP BY, HAVING, DISTINCT or WINDOW is not supported")
	case sel.From == nil || sel.From.TableRefs == nil:
		return nil, nil, notMaintainable("a scalar subquery needs a FROM clause")
	case sel.Fields == nil || len(sel.Fields.Fields) != 1 || sel.Fields.Fields[0].WildCard != nil:
		return nil, nil, notMaintainable("a scalar subquery must return one column")
	case (sel.Where != nil && hasSubquery(sel.Where)) || hasSubquery(sel.Fields):
		return nil, nil, notMaintainable("a scalar subquery related to the view's rows may not have a subquery of its own")
	case sel.Where == nil:
		return nil, nil, errUncorrelatedScalar
	}
	// Which conjuncts relate the subquery to the outer row: bind each in
	// the subquery's scope, the outer row's columns one level up.
	r, err := b.viewFrom(sel.From.TableRefs)
	if err != nil {
		return nil, nil, err
	}
	outer := &scope{cols: in.sc.cols}
	inner := &scope{cols: r.sc.cols, parent: outer}
	ib := &exprBinder{b: b, scope: inner, what: "WHERE"}
	innerSides, outerSides, own, err := ib.correlatedEqualities(sel.Where, "a scalar subquery")
	if err != nil {
		return nil, nil, err
	}
	if len(innerSides) == 0 {
		return nil, nil, errUncorrelatedScalar
	}
	value := sel.Fields.Fields[0].Expr
	aggName, bare := aggregateName(value)
	aggregated := len(collectAggs([]field{{expr: value}}, nil, nil)) > 0
	if aggregated && !bare {
		// An expression over an aggregate would read the join's NULL of
		// no rows where the aggregate of no rows is meant (count's 0).
		return nil, nil, notMaintainable("a scalar subquery's value must be an aggregate call or a column, not an expression over one")
	}
	if !aggregated && !keyLookup(b, sel.From.TableRefs, innerSides) {
		return nil, nil, notMaintainable("a scalar subquery without an aggregate must read one keyed table by its whole key (so that it gives at most one row)")
	}
	// The subquery, grouped by its side of the equalities.
	fields := &ast.FieldList{}
	var group []*ast.ByItem
	for i, e := range innerSides {
		fields.Fields = append(fields.Fields, &ast.SelectField{Expr: e, AsName: ast.NewCIStr(fmt.Sprintf("k%d", i+1))})
		group = append(group, &ast.ByItem{Expr: e})
	}
	fields.Fields = append(fields.Fields, &ast.SelectField{Expr: value, AsName: ast.NewCIStr("v")})
	grouped := &ast.SelectStmt{SelectStmtOpts: sel.SelectStmtOpts, Kind: ast.SelectStmtKindSelect, From: sel.From, Where: andOf(own), Fields: fields}
	if aggregated {
		grouped.GroupBy = &ast.GroupByClause{Items: group}
	}
	vq, err := b.viewQuery(grouped)
	if err != nil {
		return nil, nil, err
	}
	rel := queryRel(vq, "")
	lw := len(in.sc.cols)
	vj := &views.Join{Kind: views.LeftJoin, Left: in.node, Right: rel.node, LeftTypes: in.types(), RightTypes: rel.types()}
	ob := &exprBinder{b: b, scope: &scope{cols: in.sc.cols}, what: "scalar subquery"}
	for i, e := range outerSides {
		le, err := ob.bind(e)
		if err != nil {
			return nil, nil, err
		}
		rt := vq.types[i]
		if le, err = ob.resolveUnknown(le, rt); err != nil {
			return nil, nil, err
		}
		if le.Type().OID != rt.OID {
			return nil, nil, notMaintainable("a scalar subquery's equality compares %s with %s; cast one side", le.Type(), rt)
		}
		vj.LeftKeys = append(vj.LeftKeys, le)
		// Named for EXPLAIN as the subquery writes it.
		vj.RightKeys = append(vj.RightKeys, &exec.ColRef{Idx: i, T: rt, Name: strings.ReplaceAll(restore(innerSides[i]), `"`, "")})
	}
	sc := &scope{cols: append([]scopeCol(nil), in.sc.cols...)}
	for _, t := range vq.types {
		sc.cols = append(sc.cols, scopeCol{name: fmt.Sprintf("?subquery%d", n), t: t, hidden: true})
	}
	vi := len(innerSides)
	var out exec.Expr = &exec.ColRef{Idx: lw + vi, T: vq.types[vi], Name: "(subquery)"}
	if aggName == "count" {
		// The count of no rows is 0, where the join gives NULL.
		out = &exec.Coalesce{Args: []exec.Expr{out, &exec.Const{Val: int64(0), T: types.Make(types.Int8OID)}}, T: types.Make(types.Int8OID)}
	}
	return &viewRel{node: vj, sc: sc}, out, nil
}

// A WHERE condition over scalar subqueries that relate to the view's
// rows by equalities, as a scalar subquery of the select list does,
//
//	SELECT id FROM orders o WHERE amount > (SELECT avg(amount) FROM orders p WHERE p.customer_id = o.customer_id)
//
// is the same left join of the rows so far with each subquery grouped
// by its side of the equalities, then a filter that reads the subquery's
// value from the joined row. A change of a customer's average then costs
// that customer's rows, as it changes all of their answers.

// splitCorrelated takes out of where its conjuncts whose subqueries are
// all scalar and correlated; rest is what remains.
func (b *Builder) splitCorrelated(where ast.ExprNode) (corr []ast.ExprNode, rest ast.ExprNode) {
	var keep []ast.ExprNode
	for _, c := range andParts(where) {
		subs, plain := plainScalarSubqueries(c)
		ok := plain && len(subs) > 0
		for _, sq := range subs {
			ok = ok && b.correlatedSubquery(sq)
		}
		if ok {
			corr = append(corr, c)
		} else {
			keep = append(keep, c)
		}
	}
	return corr, andOf(keep)
}

// plainScalarSubqueries returns the scalar subqueries in e; plain is
// false when e has a subquery of another kind (EXISTS, IN, ANY/ALL).
func plainScalarSubqueries(e ast.ExprNode) (subs []*ast.SubqueryExpr, plain bool) {
	v := &plainScalarFinder{plain: true}
	e.Accept(v)
	return v.found, v.plain
}

type plainScalarFinder struct {
	found []*ast.SubqueryExpr
	plain bool
}

func (v *plainScalarFinder) Enter(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *ast.ExistsSubqueryExpr, *ast.CompareSubqueryExpr:
		v.plain = false
		return n, true
	case *ast.PatternInExpr:
		if x.Sel != nil {
			v.plain = false
			return n, true
		}
	case *ast.SubqueryExpr:
		if x.Exists {
			v.plain = false
		} else {
			v.found = append(v.found, x)
		}
		return n, true
	}
	return n, false
}

func (v *plainScalarFinder) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// correlatedSubquery reports whether sub refers to the outer query's
// rows: planned alone, it cannot find a name.
func (b *Builder) correlatedSubquery(sub *ast.SubqueryExpr) bool {
	saved := b.viewTemporal
	_, err := b.viewQuery(sub.Query)
	b.viewTemporal = saved
	var pe *pgerr.Error
	return errors.As(err, &pe) && (pe.Code == pgerr.UndefinedColumn || pe.Code == pgerr.UndefinedTable)
}

// viewCorrelatedFilter plans cond, a WHERE condition over correlated
// scalar subqueries, over in's rows: a left join with each subquery
// (hidden columns numbered from n), then a filter.
func (b *Builder) viewCorrelatedFilter(in *viewRel, cond ast.ExprNode, n int) (views.Node, *scope, error) {
	subs, _ := plainScalarSubqueries(cond)
	cur := in
	cols := map[*ast.SubqueryExpr]exec.Expr{}
	for i, sq := range subs {
		var v exec.Expr
		var err error
		if cur, v, err = b.viewScalarJoin(cur, sq, n+i); err != nil {
			return nil, nil, err
		}
		cols[sq] = v
	}
	saved := b.scalarCols
	b.scalarCols = cols
	pred, err := (&exprBinder{b: b, scope: cur.sc, what: "WHERE"}).bindAs(cond, tBool, "argument of WHERE")
	b.scalarCols = saved
	if err != nil {
		return nil, nil, err
	}
	if err := timeVarying("WHERE", pred); err != nil {
		return nil, nil, err
	}
	return &views.Filter{Input: cur.node, Pred: pred}, cur.sc, nil
}

// correlatedEqualities splits a subquery's WHERE, bound by eb (the
// subquery's own columns, the outer row's one level up), into its own
// conjuncts and the equalities that relate it to the outer row: of each,
// its own side (inner) and the outer row's (outer). Any other condition
// on the outer row is refused, what naming the subquery.
func (eb *exprBinder) correlatedEqualities(where ast.ExprNode, what string) (inner, outer, own []ast.ExprNode, err error) {
	inner, outer, own, _, err = eb.correlatedConditions(where, what, false)
	return inner, outer, own, err
}

// correlatedConditions is correlatedEqualities that, with others, returns
// the other conditions on the outer row (ranges, say) in rest instead of
// refusing them.
func (eb *exprBinder) correlatedConditions(where ast.ExprNode, what string, others bool) (inner, outer, own, rest []ast.ExprNode, err error) {
	if where == nil {
		return nil, nil, nil, nil, nil
	}
	for _, c := range andParts(where) {
		e, err := eb.bindAs(c, tBool, "argument of WHERE")
		if err != nil {
			return nil, nil, nil, nil, err
		}
		if !onlyOuterDepth(e, 1) {
			return nil, nil, nil, nil, notMaintainable("%s refers to a query outside the view's own", what)
		}
		if !hasOuter(e) {
			own = append(own, c)
			continue
		}
		bin, isEq := unparen(c).(*ast.BinaryOperationExpr)
		call, isCall := e.(*exec.Call)
		if !isEq || bin.Op != opcode.EQ || !isCall || call.Fn.Op != "=" {
			if others {
				rest = append(rest, c)
				continue
			}
			return nil, nil, nil, nil, notMaintainable("%s's conditions on the outer rows must be equalities", what)
		}
		l, r := call.Args[0], call.Args[1]
		switch {
		case !hasOuter(l) && onlyOuter(r):
			inner, outer = append(inner, bin.L), append(outer, bin.R)
		case !hasOuter(r) && onlyOuter(l):
			inner, outer = append(inner, bin.R), append(outer, bin.L)
		default:
			if others {
				rest = append(rest, c)
				continue
			}
			return nil, nil, nil, nil, notMaintainable("%s's equality must have its own columns on one side and the outer row's on the other", what)
		}
	}
	return inner, outer, own, rest, nil
}

// hasOuter reports whether e reads the outer row.
func hasOuter(e exec.Expr) bool {
	depths, _ := outerRefs(e, nil)
	return len(depths) > 0
}

// onlyOuter reports whether e reads the outer row and no column of its
// own.
func onlyOuter(e exec.Expr) bool {
	idx, ok := colRefs(e, nil)
	return ok && len(idx) == 0 && hasOuter(e)
}

// otherSubqueries reports whether a select list has a subquery other
// than scalar ones (EXISTS, IN, ANY/ALL as values).
func otherSubqueries(fl *ast.FieldList) bool {
	v := &subqueryFinder{}
	for _, f := range fl.Fields {
		if f.Expr == nil {
			continue
		}
		f.Expr.Accept(&skipScalars{v})
	}
	return v.found
}

// skipScalars walks an expression for subqueryFinder without entering
// scalar subqueries.
type skipScalars struct{ v *subqueryFinder }

func (s *skipScalars) Enter(n ast.Node) (ast.Node, bool) {
	if _, ok := n.(*ast.SubqueryExpr); ok {
		return n, true
	}
	return s.v.Enter(n)
}

func (s *skipScalars) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// keyLookup reports whether from is one keyed table and the equalities'
// sides on it are its whole key, as plain columns.
func keyLookup(b *Builder, from *ast.Join, sides []ast.ExprNode) bool {
	if from.Right != nil {
		return false
	}
	ts, ok := from.Left.(*ast.TableSource)
	if !ok {
		return false
	}
	tn, ok := ts.Source.(*ast.TableName)
	if !ok {
		return false
	}
	td, err := b.LookupTable(tn.Schema.O, tn.Name.O)
	if err != nil || td.Kind != log.Keyed {
		return false
	}
	cur := td.Current()
	covered := map[uint32]bool{}
	for _, s := range sides {
		c, ok := s.(*ast.ColumnNameExpr)
		if !ok {
			return false
		}
		for _, col := range cur.Columns {
			if col.Name == c.Name.Name.O {
				covered[col.ID] = true
			}
		}
	}
	for _, id := range cur.Key {
		if !covered[id] {
			return false
		}
	}
	return len(cur.Key) > 0
}
