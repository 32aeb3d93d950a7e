package planner

import (
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

// buildSetOp plans UNION / INTERSECT / EXCEPT [ALL], left to right.
func (b *Builder) buildSetOp(s *ast.SetOprStmt, outer *scope) (exec.Node, error) {
	if s.With != nil {
		restore, err := b.withClause(s.With)
		if err != nil {
			return nil, err
		}
		defer restore()
	}
	nodes := make([]exec.Node, len(s.SelectList.Selects))
	ops := make([]*ast.SetOprType, len(nodes))
	for i, n := range s.SelectList.Selects {
		var err error
		switch x := n.(type) {
		case *ast.SelectStmt:
			b.setOperand = true
			nodes[i], err = b.buildSelect(x, outer)
			b.setOperand = false
			ops[i] = x.AfterSetOperator
		case *ast.SetOprSelectList:
			nodes[i], err = b.buildSetOp(&ast.SetOprStmt{SelectList: x}, outer)
			ops[i] = x.AfterSetOperator
		default:
			err = pgerr.New(pgerr.FeatureNotSupported, "set operand %T is not supported", n)
		}
		if err != nil {
			return nil, err
		}
	}
	acc, err := foldSetOps(nodes, ops, func(acc, node exec.Node, op *ast.SetOprType) (exec.Node, error) {
		if len(node.Columns()) != len(acc.Columns()) {
			return nil, pgerr.New(pgerr.SyntaxError, "each %s query must have the same number of columns", setOpName(op))
		}
		return b.combine(acc, node, op)
	})
	if err != nil {
		return nil, err
	}
	if s.OrderBy != nil || s.Limit != nil {
		sc := scopeOf(acc, "")
		sc.parent = outer
		eb := &exprBinder{b: b, scope: sc, what: "ORDER BY"}
		if s.OrderBy != nil {
			var keys []exec.SortKey
			for _, item := range s.OrderBy.Items {
				x := stripNullOrder(item.Expr)
				var e exec.Expr
				if i, ok := position(x); ok {
					cols := acc.Columns()
					if i < 1 || i > len(cols) {
						return nil, pgerr.New(pgerr.InvalidColumnReference, "ORDER BY position %d is not in select list", i)
					}
					e = &exec.ColRef{Idx: i - 1, T: cols[i-1].T, Name: cols[i-1].Name}
				} else {
					var err error
					if e, err = eb.bind(x); err != nil {
						return nil, err
					}
				}
				nf := item.Desc
				if v, ok := nullOrder(item); ok {
					nf = v
				}
				keys = append(keys, exec.SortKey{Expr: e, Desc: item.Desc, NullsFirst: nf})
			}
			acc = &exec.Sort{Input: acc, Keys: keys}
		}
		if s.Limit != nil {
			l := &exec.Limit{Input: acc}
			var err error
			if s.Limit.Count != nil && !noLimit(s.Limit.Count) {
				if l.Count, err = eb.bindAs(s.Limit.Count, tInt8, "argument of LIMIT"); err != nil {
					return nil, err
				}
			}
			if s.Limit.Offset != nil {
				if l.Offset, err = eb.bindAs(s.Limit.Offset, tInt8, "argument of OFFSET"); err != nil {
					return nil, err
				}
			}
			acc = l
		}
	}
	return acc, nil
}

// typeLiteralColumn gives column i of operand n, when it is an untyped
// literal, type t (text when t is untyped too).
func typeLiteralColumn(eb *exprBinder, n exec.Node, i int, t types.T) error {
	p, ok := n.(*exec.Project)
	if !ok {
		return nil
	}
	c, ok := p.Exprs[i].(*exec.Const)
	if !ok || c.T.OID != types.UnknownOID {
		return nil
	}
	if t.OID == types.UnknownOID {
		t = tText
	}
	e, err := eb.coerce(c, t, "UNION")
	if err != nil {
		return err
	}
	p.Exprs[i] = e
	p.Cols[i].T = t
	return nil
}

func setOpName(op *ast.SetOprType) string {
	if op == nil {
		return "UNION"
	}
	switch *op {
	case ast.Intersect, ast.IntersectAll:
		return "INTERSECT"
	case ast.Except, ast.ExceptAll:
		return "EXCEPT"
	}
	return "UNION"
}

// combine unifies the column types of two inputs and applies the set
// operation.
func (b *Builder) combine(l, r exec.Node, op *ast.SetOprType) (exec.Node, error) {
	lc, rc := l.Columns(), r.Columns()
	eb := &exprBinder{b: b, scope: &scope{}, what: setOpName(op)}
	// An operand's untyped literal column (SELECT NULL, SELECT 'a') takes
	// the other side's type, as in PostgreSQL: 'a' against an integer is
	// read as one (and fails as one).
	for i := range lc {
		if err := typeLiteralColumn(eb, l, i, rc[i].T); err != nil {
			return nil, err
		}
		if err := typeLiteralColumn(eb, r, i, lc[i].T); err != nil {
			return nil, err
		}
	}
	lc, rc = l.Columns(), r.Columns()
	lp := &exec.Project{Input: l}
	rp := &exec.Project{Input: r}
	for i := range lc {
		t, err := eb.unify([]exec.Expr{&exec.ColRef{T: lc[i].T}, &exec.ColRef{T: rc[i].T}}, setOpName(op))
		if err != nil {
			return nil, err
		}
		le, err := eb.coerce(&exec.ColRef{Idx: i, T: lc[i].T, Name: lc[i].Name}, t, setOpName(op))
		if err != nil {
			return nil, err
		}
		re, err := eb.coerce(&exec.ColRef{Idx: i, T: rc[i].T, Name: rc[i].Name}, t, setOpName(op))
		if err != nil {
			return nil, err
		}
		lp.Exprs, rp.Exprs = append(lp.Exprs, le), append(rp.Exprs, re)
		lp.Cols = append(lp.Cols, exec.Column{Name: lc[i].Name, T: t})
		rp.Cols = append(rp.Cols, exec.Column{Name: lc[i].Name, T: t})
	}
	kind := exec.UnionAll
	all := false
	if op != nil {
		switch *op {
		case ast.Union:
			kind = exec.UnionAll
		case ast.UnionAll:
			kind, all = exec.UnionAll, true
		case ast.Intersect:
			kind = exec.IntersectSet
		case ast.IntersectAll:
			kind, all = exec.IntersectSet, true
		case ast.Except:
			kind = exec.ExceptSet
		case ast.ExceptAll:
			kind, all = exec.ExceptSet, true
		}
	}
	var n exec.Node = &exec.SetOp{Left: lp, Right: rp, Kind: kind, All: all}
	if kind == exec.UnionAll && !all {
		n = &exec.DistinctRows{Input: n}
	}
	return n, nil
}

// foldSetOps combines the operands of a set operation, ops[i] being the
// operator before operand i: INTERSECT [ALL] binds tighter than UNION and
// EXCEPT, as in PostgreSQL (A EXCEPT B INTERSECT C is A EXCEPT (B
// INTERSECT C)), and operators of one precedence combine left to right.
func foldSetOps[T any](operands []T, ops []*ast.SetOprType, combine func(acc, next T, op *ast.SetOprType) (T, error)) (T, error) {
	intersect := func(op *ast.SetOprType) bool {
		return op != nil && (*op == ast.Intersect || *op == ast.IntersectAll)
	}
	var zero T
	terms := []T{operands[0]}
	termOps := []*ast.SetOprType{nil}
	for i := 1; i < len(operands); i++ {
		if intersect(ops[i]) {
			t, err := combine(terms[len(terms)-1], operands[i], ops[i])
			if err != nil {
				return zero, err
			}
			terms[len(terms)-1] = t
			continue
		}
		terms, termOps = append(terms, operands[i]), append(termOps, ops[i])
	}
	acc := terms[0]
	for j := 1; j < len(terms); j++ {
		var err error
		if acc, err = combine(acc, terms[j], termOps[j]); err != nil {
			return zero, err
		}
	}
	return acc, nil
}
