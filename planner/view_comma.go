package planner

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"
)

// commaJoins rewrites a view's comma join (FROM a, b, c WHERE a.x = b.y
// AND b.z = c.w) as the inner joins it means, each WHERE conjunct that
// relates an item to the ones before it becoming part of that join's ON:
// a view's joins are maintained on ON equalities (viewJoin). The other
// conjuncts stay in WHERE. When some item would be joined with no
// condition, or a column cannot be placed, the query is left as written
// (and refused as a join without ON). It returns the FROM and WHERE to
// plan; the statement is not changed (parsed statements are cached and
// shared, sql/cache.go).
func (b *Builder) commaJoins(from ast.ResultSetNode, where ast.ExprNode) (ast.ResultSetNode, ast.ExprNode) {
	if where == nil || from == nil {
		return from, where
	}
	items := commaItems(from)
	if len(items) < 2 {
		return from, where
	}
	// Which item has which columns: plan each alone.
	owners := make([]map[string]bool, len(items)) // "table.col" and "col"
	for i, it := range items {
		rel, err := b.viewFrom(it)
		if err != nil {
			return from, where
		}
		owners[i] = map[string]bool{}
		for _, c := range rel.sc.cols {
			owners[i][strings.ToLower(c.table+"."+c.name)] = true
			owners[i][strings.ToLower(c.name)] = true
		}
	}
	on := make([][]ast.ExprNode, len(items))
	var rest []ast.ExprNode
	for _, c := range andParts(where) {
		last, n, ok := itemsOf(c, owners)
		if !ok || n < 2 {
			rest = append(rest, c)
			continue
		}
		on[last] = append(on[last], c)
	}
	cur := items[0]
	for k := 1; k < len(items); k++ {
		if len(on[k]) == 0 {
			return from, where
		}
		cur = &ast.Join{Left: cur, Right: items[k], Tp: ast.CrossJoin, On: &ast.OnCondition{Expr: andOf(on[k])}}
	}
	return cur, andOf(rest)
}

// commaItems lists the items of a chain of comma (cross, condition-less)
// joins, left to right; a single item for anything else.
func commaItems(n ast.ResultSetNode) []ast.ResultSetNode {
	j, ok := n.(*ast.Join)
	if !ok {
		return []ast.ResultSetNode{n}
	}
	if j.Right == nil {
		return commaItems(j.Left)
	}
	if j.Tp != ast.CrossJoin || j.On != nil || j.NaturalJoin || len(j.Using) > 0 || j.StraightJoin {
		return []ast.ResultSetNode{n}
	}
	return append(commaItems(j.Left), j.Right)
}

// itemsOf finds the items a conjunct reads: the last of them and how many;
// ok is false when a column belongs to no item or to several. (A WHERE
// with a subquery is refused before this.)
func itemsOf(e ast.ExprNode, owners []map[string]bool) (last, n int, ok bool) {
	v := &colFinder{}
	e.Accept(v)
	seen := map[int]bool{}
	last = -1
	for _, c := range v.cols {
		key := c.Name.L
		if c.Table.L != "" {
			key = c.Table.L + "." + c.Name.L
		}
		found := -1
		for i, o := range owners {
			if o[key] {
				if found >= 0 {
					return 0, 0, false
				}
				found = i
			}
		}
		if found < 0 {
			return 0, 0, false
		}
		seen[found] = true
		last = max(last, found)
	}
	return last, len(seen), true
}

// colFinder collects the column names an expression reads.
type colFinder struct{ cols []*ast.ColumnName }

func (v *colFinder) Enter(n ast.Node) (ast.Node, bool) {
	if x, ok := n.(*ast.ColumnNameExpr); ok {
		v.cols = append(v.cols, x.Name)
	}
	return n, false
}

func (v *colFinder) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// andParts splits a condition into its AND-ed parts.
func andParts(e ast.ExprNode) []ast.ExprNode {
	switch x := e.(type) {
	case *ast.BinaryOperationExpr:
		if x.Op == opcode.LogicAnd {
			return append(andParts(x.L), andParts(x.R)...)
		}
	case *ast.ParenthesesExpr:
		if parts := andParts(x.Expr); len(parts) > 1 {
			return parts
		}
	}
	return []ast.ExprNode{e}
}

// andOf AND-s conditions together (nil for none).
func andOf(es []ast.ExprNode) ast.ExprNode {
	if len(es) == 0 {
		return nil
	}
	out := es[0]
	for _, e := range es[1:] {
		out = &ast.BinaryOperationExpr{Op: opcode.LogicAnd, L: out, R: e}
	}
	return out
}
