package planner

import (
	"errors"
	"fmt"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
	"github.com/strand-db/strand/views"
)

// A WHERE conjunct that compares an expression of the view's rows with an
// uncorrelated scalar subquery whose value is one aggregate row,
//
//	SELECT * FROM bids WHERE price > (SELECT avg(price) FROM bids)
//
// is a dynamic filter (views.DynFilter): the rows kept ordered by the
// compared value, the subquery maintained as a view plan of its own, and a
// move of its value costing the rows between the old and the new value.

// dynTest is one such conjunct: expr op bound, where bound's only
// subquery is sub.
type dynTest struct {
	expr, bound ast.ExprNode
	sub         *ast.SubqueryExpr
	op          views.DynOp
	// all: op ALL (subquery), whose NULL bound passes every row
	// (quantifiedTest).
	all bool
}

var dynOps = map[opcode.Op]views.DynOp{opcode.LT: views.DynLT, opcode.LE: views.DynLE, opcode.GT: views.DynGT, opcode.GE: views.DynGE, opcode.EQ: views.DynEQ}

// mirrored is the operator with its sides swapped: (sub) < x is x > (sub).
var mirrored = map[views.DynOp]views.DynOp{views.DynLT: views.DynGT, views.DynLE: views.DynGE, views.DynGT: views.DynLT, views.DynGE: views.DynLE, views.DynEQ: views.DynEQ}

// splitDynTests takes the comparisons with a scalar subquery out of where;
// rest is what remains. The subquery's side may compute with its value
// ((SELECT max(ts) FROM t) - interval '1 hour'); the other side has no
// subquery.
func splitDynTests(where ast.ExprNode) (tests []dynTest, rest ast.ExprNode, err error) {
	var keep []ast.ExprNode
	for _, c := range andParts(where) {
		x := unparen(c)
		if e, ok := x.(*ast.CompareSubqueryExpr); ok {
			// x > ANY (SELECT v ...) holds when some v is below x: x >
			// the least v (NULLs, which min skips, decide nothing in a
			// WHERE), and no v means no row. x > ALL (...) holds when
			// there is no v, or none is NULL and x > the greatest.
			if op, ok := dynOps[e.Op]; ok && op != views.DynEQ {
				t, err := quantifiedTest(e, op)
				if err != nil {
					return nil, nil, err
				}
				tests = append(tests, t)
				continue
			}
		}
		if e, ok := x.(*ast.BetweenExpr); ok && !e.Not && !hasSubquery(e.Expr) && (hasSubquery(e.Left) || hasSubquery(e.Right)) {
			// x BETWEEN a AND b is x >= a AND x <= b: each side with a
			// subquery a dynamic filter, a plain one a condition.
			parts := []struct {
				bound ast.ExprNode
				op    views.DynOp
				cmp   opcode.Op
			}{{e.Left, views.DynGE, opcode.GE}, {e.Right, views.DynLE, opcode.LE}}
			split := true
			for _, p := range parts {
				if hasSubquery(p.bound) && oneScalarSubquery(p.bound) == nil {
					split = false
				}
			}
			if split {
				for _, p := range parts {
					if sub := oneScalarSubquery(p.bound); sub != nil {
						tests = append(tests, dynTest{expr: e.Expr, bound: p.bound, sub: sub, op: p.op})
					} else {
						keep = append(keep, &ast.BinaryOperationExpr{Op: p.cmp, L: e.Expr, R: p.bound})
					}
				}
				continue
			}
		}
		if e, ok := x.(*ast.BinaryOperationExpr); ok {
			if op, ok := dynOps[e.Op]; ok {
				lsub, rsub := oneScalarSubquery(e.L), oneScalarSubquery(e.R)
				switch {
				case rsub != nil && !hasSubquery(e.L):
					tests = append(tests, dynTest{expr: e.L, bound: e.R, sub: rsub, op: op})
					continue
				case lsub != nil && !hasSubquery(e.R):
					tests = append(tests, dynTest{expr: e.R, bound: e.L, sub: lsub, op: mirrored[op]})
					continue
				}
			}
		}
		keep = append(keep, c)
	}
	return tests, andOf(keep), nil
}

// quantifiedTest is x op ANY (subquery) as x op (SELECT min(v) ...) for >
// and >=, max for < and <=; x op ALL (subquery) as x op (SELECT max(v)
// ...) for > and >= (min for < and <=) when the subquery has rows and no
// NULL, every row (a NULL x too) when it has none, and no row when it has
// a NULL: its value is NULL when it has no rows (a DynFilter with
// AllWhenNull passes everything then), and a HAVING leaves it no row when
// it has a NULL. The subquery is written out with its value aggregated and
// parsed again.
func quantifiedTest(e *ast.CompareSubqueryExpr, op views.DynOp) (dynTest, error) {
	what := "ANY"
	if e.All {
		what = "ALL"
	}
	sel, err := semiSelect(e.R)
	if err != nil {
		return dynTest{}, err
	}
	if len(sel.Fields.Fields) != 1 || sel.Fields.Fields[0].WildCard != nil {
		return dynTest{}, notMaintainable("an %s subquery must return one column", what)
	}
	low := op == views.DynGT || op == views.DynGE // the bound is below x
	agg := "min"
	if low == e.All {
		agg = "max"
	}
	value, from, where, ok := valueSubqueryText(sel)
	if !ok {
		return dynTest{}, notMaintainable("this %s subquery could not be planned", what)
	}
	text := fmt.Sprintf("SELECT %s(%s) FROM %s%s", agg, value, from, where)
	if e.All {
		text = fmt.Sprintf("SELECT CASE WHEN count(*) = 0 THEN NULL ELSE %s(%s) END FROM %s%s HAVING count(*) = count(%s)", agg, value, from, where, value)
	}
	q, err := parseRewrite(text, what)
	if err != nil {
		return dynTest{}, err
	}
	sub := &ast.SubqueryExpr{Query: q}
	return dynTest{expr: e.L, bound: sub, sub: sub, op: op, all: e.All}, nil
}

// valueSubqueryText writes out a one-column subquery's parts for a
// rewrite to aggregate: its value, its FROM and its " WHERE …" (or "").
func valueSubqueryText(sel *ast.SelectStmt) (value, from, where string, ok bool) {
	value, from = restore(sel.Fields.Fields[0].Expr), restore(sel.From.TableRefs)
	if sel.Where != nil {
		if w := restore(sel.Where); w != "" {
			where = " WHERE " + w
		} else {
			return "", "", "", false
		}
	}
	return value, from, where, value != "" && from != ""
}

// oneScalarSubquery returns the scalar subquery in e when e has exactly
// one subquery and it is scalar.
func oneScalarSubquery(e ast.ExprNode) *ast.SubqueryExpr {
	v := &scalarFinder{}
	e.Accept(v)
	if len(v.found) != 1 || v.found[0].Exists {
		return nil
	}
	f := &subqueryFinder{skip: v.found[0]}
	e.Accept(f)
	if f.found {
		return nil
	}
	return v.found[0]
}

// viewDynFilter plans t over in's rows: a WHERE's, or with agg a
// HAVING's over the groups' rows.
func (b *Builder) viewDynFilter(in *viewRel, t dynTest, agg *aggContext) (views.Node, error) {
	vq, err := b.viewQuery(t.sub.Query)
	if err != nil {
		return nil, correlated(err)
	}
	vq = subqueryDistinct(vq)
	if len(vq.types) != 1 {
		return nil, notMaintainable("a scalar subquery must return one column")
	}
	if !t.all && !aggregateRow(vq.node) {
		return nil, notMaintainable("a scalar subquery compared in WHERE must be an aggregate without GROUP BY (one row)")
	}
	what := "operator " + t.op.String()
	eb := &exprBinder{b: b, scope: in.sc, agg: agg, what: "WHERE"}
	if agg != nil {
		eb.what = "HAVING"
	}
	le, err := eb.bind(t.expr)
	if err != nil {
		return nil, err
	}
	// The bound is computed from the subquery's row alone: bound in a
	// scope without the view's columns, the subquery read as column 0.
	saved := b.scalarCols
	b.scalarCols = map[*ast.SubqueryExpr]exec.Expr{t.sub: &exec.ColRef{T: vq.types[0], Name: "subquery"}}
	re, err := (&exprBinder{b: b, scope: &scope{}, what: "WHERE"}).bind(t.bound)
	b.scalarCols = saved
	if err != nil {
		return nil, correlated(err)
	}
	ct, err := eb.unify([]exec.Expr{le, re}, what)
	if err != nil {
		return nil, err
	}
	if !keyOrdered(ct) {
		return nil, notMaintainable("comparing %s with a subquery's value is not supported", ct)
	}
	if le, err = eb.coerce(le, ct, what); err != nil {
		return nil, err
	}
	if re, err = eb.coerce(re, ct, what); err != nil {
		return nil, err
	}
	return &views.DynFilter{
		Left:  in.node,
		Right: &views.Project{Input: vq.node, Exprs: []exec.Expr{re}},
		Expr:  le, Op: t.op, T: ct, Types: in.types(), AllWhenNull: t.all,
	}, nil
}

// correlated turns a name the subquery (or the expression of its value)
// could not find into the refusal it most likely is: a reference to the
// view's own rows, which a dynamic filter's bound may not make.
func correlated(err error) error {
	var pe *pgerr.Error
	if errors.As(err, &pe) && (pe.Code == pgerr.UndefinedColumn || pe.Code == pgerr.UndefinedTable) {
		return notMaintainable("a scalar subquery compared in WHERE must not refer to the outer query's rows (%s)", pe.Message)
	}
	return err
}

// aggregateRow reports whether a plan's output is always one row: an aggregate
// without GROUP BY, under projections.
func aggregateRow(n views.Node) bool {
	for {
		switch x := n.(type) {
		case *views.Project:
			n = x.Input
		case *views.Aggregate:
			return len(x.Group) == 0 && x.Having == nil && x.Input != nil
		default:
			return false
		}
	}
}

// keyOrdered reports whether t's key encoding orders its values as
// comparison does (types.AppendKey), which the dynamic filter's ranges
// rely on.
func keyOrdered(t types.T) bool {
	switch t.OID {
	case types.Int2OID, types.Int4OID, types.Int8OID, types.Float4OID, types.Float8OID, types.NumericOID,
		types.TextOID, types.VarcharOID, types.DateOID, types.TimestampOID, types.TimestampTZOID, types.BoolOID:
		return true
	}
	return false
}
