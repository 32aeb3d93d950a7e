package planner

import (
	"fmt"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

// GROUP BY ROLLUP, CUBE and GROUPING SETS (the front end writes them as
// pg_rollup, pg_cube and pg_grouping_sets of pg_gset lists, sql/doc.go).
// The query groups by every expression any set names; each set is an
// aggregation of its own over the same input, whose rows carry NULL for
// the expressions the set leaves out and a hidden grouping id (a bit per
// expression left out), and the sets' rows are appended: HAVING, the
// select list and ORDER BY then run over them as over any GROUP BY.
// GROUPING(e, ...) reads the grouping id.

// groupingItems flattens GROUP BY items into the distinct expressions
// they name and, when a grouping-set construct is among them, the sets
// as positions in that list (nil otherwise: a plain GROUP BY).
func (b *Builder) groupingItems(items []*ast.ByItem) ([]ast.ExprNode, [][]int, error) {
	var exprs []ast.ExprNode
	index := map[string]int{}
	pos := func(e ast.ExprNode) int {
		k := b.groupKey(e)
		if i, ok := index[k]; ok {
			return i
		}
		index[k] = len(exprs)
		exprs = append(exprs, e)
		return len(exprs) - 1
	}
	// Each item is a list of alternatives (sets); the query's sets are
	// their cross product.
	sets := [][]int{{}}
	grouping := false
	for _, item := range items {
		var alts [][]int
		f, ok := item.Expr.(*ast.FuncCallExpr)
		switch name := ""; {
		case ok && (f.FnName.L == "pg_rollup" || f.FnName.L == "pg_cube" || f.FnName.L == "pg_grouping_sets"):
			name = f.FnName.L
			grouping = true
			var elems [][]int
			for _, a := range f.Args {
				g, ok := a.(*ast.FuncCallExpr)
				if !ok || g.FnName.L != "pg_gset" {
					return nil, nil, pgerr.New(pgerr.InternalError, "malformed %s", name)
				}
				var set []int
				for _, e := range g.Args {
					set = append(set, pos(e))
				}
				elems = append(elems, set)
			}
			switch name {
			case "pg_rollup":
				for n := len(elems); n >= 0; n-- {
					alts = append(alts, concatSets(elems[:n]))
				}
			case "pg_cube":
				if len(elems) > 12 {
					return nil, nil, pgerr.New(pgerr.ProgramLimitExceeded, "CUBE is limited to 12 elements")
				}
				for mask := (1 << len(elems)) - 1; mask >= 0; mask-- {
					var chosen [][]int
					for i := range elems {
						if mask&(1<<(len(elems)-1-i)) != 0 {
							chosen = append(chosen, elems[i])
						}
					}
					alts = append(alts, concatSets(chosen))
				}
			default:
				alts = elems
			}
		default:
			alts = [][]int{{pos(item.Expr)}}
		}
		var next [][]int
		for _, s := range sets {
			for _, a := range alts {
				next = append(next, concatSets([][]int{s, a}))
			}
		}
		sets = next
		if len(sets) > 4096 {
			return nil, nil, pgerr.New(pgerr.ProgramLimitExceeded, "too many grouping sets present")
		}
	}
	if !grouping {
		return exprs, nil, nil
	}
	return exprs, sets, nil
}

// concatSets is the union of sets, in order, each position once.
func concatSets(sets [][]int) []int {
	out := []int{}
	seen := map[int]bool{}
	for _, s := range sets {
		for _, i := range s {
			if !seen[i] {
				seen[i] = true
				out = append(out, i)
			}
		}
	}
	return out
}

// groupingSetsNode aggregates input once per grouping set, as h (grouped
// by every expression) would, and appends the sets' rows: h's columns,
// then the grouping id.
func groupingSetsNode(h *exec.HashAgg, sets [][]int) exec.Node {
	ng := len(h.Group)
	var out exec.Node
	for _, set := range sets {
		hs := &exec.HashAgg{Input: h.Input, Aggs: h.Aggs}
		at := map[int]int{}
		for j, gi := range set {
			at[gi] = j
			hs.Group = append(hs.Group, h.Group[gi])
			hs.Cols = append(hs.Cols, h.Cols[gi])
		}
		hs.Cols = append(hs.Cols, h.Cols[ng:]...)
		p := &exec.Project{Input: vectorize(hs)}
		var gid int64
		for gi := range h.Group {
			t := h.Cols[gi].T
			if j, ok := at[gi]; ok {
				p.Exprs = append(p.Exprs, &exec.ColRef{Idx: j, T: t})
			} else {
				p.Exprs = append(p.Exprs, &exec.Const{Val: nil, T: t})
				gid |= 1 << gi
			}
		}
		for ai := range h.Aggs {
			p.Exprs = append(p.Exprs, &exec.ColRef{Idx: len(set) + ai, T: h.Cols[ng+ai].T})
		}
		p.Exprs = append(p.Exprs, &exec.Const{Val: gid, T: tInt8})
		p.Cols = append(append([]exec.Column(nil), h.Cols...), exec.Column{Name: "?grouping", T: tInt8})
		if out == nil {
			out = p
		} else {
			out = &exec.SetOp{Left: out, Right: p, Kind: exec.UnionAll, All: true}
		}
	}
	return out
}

// groupingCall binds GROUPING(e, ...): for each argument, a GROUP BY
// expression, a bit that is 1 when the row's set leaves it out (the
// first argument the most significant).
func (a *aggContext) groupingCall(eb *exprBinder, f *ast.FuncCallExpr) (exec.Expr, error) {
	if len(f.Args) == 0 || len(f.Args) > 31 {
		return nil, pgerr.New(pgerr.SyntaxError, "GROUPING must have between 1 and 31 arguments")
	}
	g := &groupingBits{}
	for _, arg := range f.Args {
		text := eb.b.groupKey(arg)
		found := -1
		for i, t := range a.groupText {
			if t == text {
				found = i
			}
		}
		if found < 0 {
			return nil, pgerr.New(pgerr.GroupingError, "arguments to GROUPING must be grouping expressions of the associated query level")
		}
		g.bits = append(g.bits, found)
	}
	if a.gidCol > 0 {
		g.gid = &exec.ColRef{Idx: a.gidCol - 1, T: tInt8, Name: "grouping"}
	}
	return g, nil
}

// groupingBits is GROUPING(...) over a row's grouping id (gid nil: a
// plain GROUP BY, where every expression is grouped and it is 0).
type groupingBits struct {
	gid  exec.Expr
	bits []int
}

func (g *groupingBits) Type() types.T { return types.Make(types.Int4OID) }

func (g *groupingBits) Eval(env *exec.Env, row exec.Row) (types.Datum, error) {
	if g.gid == nil {
		return int64(0), nil
	}
	v, err := g.gid.Eval(env, row)
	if err != nil || v == nil {
		return nil, err
	}
	id := v.(int64)
	var out int64
	for _, b := range g.bits {
		out = out<<1 | (id>>b)&1
	}
	return out, nil
}

func (g *groupingBits) String() string {
	parts := make([]string, len(g.bits))
	for i, b := range g.bits {
		parts[i] = fmt.Sprint(b)
	}
	return "grouping(" + strings.Join(parts, ", ") + ")"
}
