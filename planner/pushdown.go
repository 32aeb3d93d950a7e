package planner

import (
	"slices"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/exec/vec"
	"github.com/strand-db/strand/views"
)

// A WHERE over a join is applied below it where it can be: a conjunct that
// reads one side only filters that side before the join (where a key
// predicate becomes a key lookup: SELECT ... FROM a JOIN b ON ... WHERE
// a.id = 7 reads one row of a, not all of it), and an equality between
// the two sides of a cross join (FROM a, b WHERE a.x = b.y) makes it a
// hash join instead of a nested loop over every pair. Only inner and
// cross joins take conjuncts on both sides; the preserved side of a LEFT
// or RIGHT join takes its own, since the join's NULL-extended rows are
// what the other side's conjuncts test.

// pushIntoJoin applies pred to a join's output, below the join for what
// can go there; nil when input is no join it can push into.
func (b *Builder) pushIntoJoin(input exec.Node, pred exec.Expr) exec.Node {
	var left, right exec.Node
	var kind exec.JoinKind
	var cols []exec.Column
	var on exec.Expr
	hash, isHash := input.(*exec.HashJoin)
	nl, isNL := input.(*exec.NestedLoopJoin)
	switch {
	case isHash:
		left, right, kind, cols = hash.Left, hash.Right, hash.Kind, hash.Cols
	case isNL:
		left, right, kind, cols, on = nl.Left, nl.Right, nl.Kind, nl.Cols, nl.On
	default:
		return nil
	}
	lw := len(left.Columns())
	toLeft := kind == exec.InnerJoin || kind == exec.CrossJoin || kind == exec.LeftJoin
	toRight := kind == exec.InnerJoin || kind == exec.CrossJoin || kind == exec.RightJoin
	var lp, rp, cross, rest []exec.Expr
	for _, c := range conjuncts(pred) {
		idx, ok := colRefs(c, nil)
		if !ok || volatileCall(c) {
			rest = append(rest, c)
			continue
		}
		lo, hi := true, true
		for _, i := range idx {
			lo = lo && i < lw
			hi = hi && i >= lw
		}
		switch {
		case len(idx) == 0:
			rest = append(rest, c)
		case lo && toLeft:
			lp = append(lp, c)
		case hi && toRight:
			rp = append(rp, shiftCols(c, -lw))
		case !lo && !hi && isNL && !nl.PerRow && (kind == exec.CrossJoin || kind == exec.InnerJoin):
			// (A per-row join's right side reads the left row: it
			// stays a per-row join, and the conjunct above it.)
			cross = append(cross, c)
		default:
			rest = append(rest, c)
		}
	}
	if len(lp) == 0 && len(rp) == 0 && len(cross) == 0 {
		return nil
	}
	if len(lp) > 0 {
		left = b.pushFilter(left, andAll(lp))
	}
	if len(rp) > 0 {
		right = b.pushFilter(right, andAll(rp))
	}
	var node exec.Node
	switch {
	case isHash:
		hj := &exec.HashJoin{Left: left, Right: right, Kind: kind, LeftKeys: hash.LeftKeys, RightKeys: hash.RightKeys, Extra: hash.Extra, Cols: cols}
		node = hj
		if lj := b.lookupJoin(hj); lj != nil {
			node = lj
		}
	case len(cross) > 0:
		// The cross-side conjuncts join the ON; planJoin makes a hash
		// join of their equalities.
		all := append(conjuncts(on), cross...)
		node = planJoin(left, right, exec.InnerJoin, andAll(all), lw, cols)
	default:
		node = &exec.NestedLoopJoin{Left: left, Right: right, Kind: kind, On: on, Cols: cols, PerRow: nl.PerRow}
	}
	if len(rest) > 0 {
		return &exec.Filter{Input: node, Pred: andAll(rest)}
	}
	return node
}

// lookupJoin turns a hash join whose left side is one row (a key lookup)
// and whose right side is a table or view keyed by the join's columns into
// a key lookup of the right side for that row: JOIN bo ON bo.owner =
// a.owner WHERE a.id = 7 reads one row of bo, not all of it. nil when the
// join is not of that shape.
func (b *Builder) lookupJoin(j *exec.HashJoin) exec.Node {
	if (j.Kind != exec.InnerJoin && j.Kind != exec.LeftJoin) || j.Extra != nil || !pointLookup(j.Left) {
		return nil
	}
	eb := &exprBinder{b: b, scope: &scope{}, what: "JOIN/ON"}
	var preds []exec.Expr
	for i, lk := range j.LeftKeys {
		l, lok := lk.(*exec.ColRef)
		r, rok := j.RightKeys[i].(*exec.ColRef)
		if !lok || !rok {
			return nil
		}
		p, err := eb.operator("=", r, &exec.OuterRef{Depth: 1, Idx: l.Idx, T: l.T, Name: l.Name})
		if err != nil {
			return nil
		}
		preds = append(preds, p)
	}
	// The right side may be a view (a subquery): the equalities go into
	// it as far as they can (pushIntoSubquery). With one left row it runs
	// once either way, so a key read anywhere in it is a gain.
	right := b.pushFilter(j.Right, andAll(preds))
	if keyReads(right) <= keyReads(j.Right) {
		return nil // no key lookup came of it
	}
	return &exec.NestedLoopJoin{Left: j.Left, Right: right, Kind: j.Kind, Cols: j.Cols, PerRow: true}
}

// keyReads counts the key lookups and key scans in a plan's chain of
// single-input nodes: how a pushed equality shows that it found a key.
func keyReads(n exec.Node) int {
	switch x := n.(type) {
	case *exec.Scan:
		if x.Prefix != nil {
			return 1
		}
	case *views.Read:
		if x.Prefix != nil {
			return 1
		}
	case *exec.Filter:
		return keyReads(x.Input)
	case *exec.Project:
		return keyReads(x.Input)
	case *exec.Sort:
		return keyReads(x.Input)
	case *exec.HashAgg:
		return keyReads(x.Input)
	}
	return 0
}

// pointLookup reports whether n reads at most one row: a key lookup.
func pointLookup(n exec.Node) bool {
	f, ok := n.(*exec.Filter)
	if !ok {
		return false
	}
	s, ok := f.Input.(*exec.Scan)
	return ok && s.Point
}

// volatileCall reports whether e calls a volatile function (random()),
// which a filter below a join would call a different number of times.
func volatileCall(e exec.Expr) bool {
	return callsFunc(e, func(f *exec.Func) bool { return f.Volatile })
}

// colRefs appends the row columns e reads to idx; ok is false when e holds
// an expression exprParts does not know (a subquery, say), which then
// stays where it is.
func colRefs(e exec.Expr, idx []int) ([]int, bool) {
	if c, ok := e.(*exec.ColRef); ok {
		return append(idx, c.Idx), true
	}
	parts, ok := exprParts(e)
	if !ok {
		return idx, false
	}
	for _, a := range parts {
		if idx, ok = colRefs(a, idx); !ok {
			return idx, false
		}
	}
	return idx, true
}

// shiftCols returns e with every row column index moved by d; e holds only
// what exprParts knows.
func shiftCols(e exec.Expr, d int) exec.Expr {
	return mapCols(e, func(c *exec.ColRef) exec.Expr {
		return copyWith(c, func(c *exec.ColRef) { c.Idx += d })
	})
}

// mapCols returns e with every row column replaced by what f gives for it;
// e holds only what exprParts knows. Each node is copied with its parts
// mapped.
func mapCols(e exec.Expr, f func(*exec.ColRef) exec.Expr) exec.Expr {
	return mapRefs(e, func(r exec.Expr) exec.Expr {
		if c, ok := r.(*exec.ColRef); ok {
			return f(c)
		}
		return r
	})
}

// mapRefs is mapCols for row columns and outer references alike: f gets
// each *exec.ColRef and *exec.OuterRef.
func mapRefs(e exec.Expr, f func(exec.Expr) exec.Expr) exec.Expr {
	s := func(a exec.Expr) exec.Expr { return mapRefs(a, f) }
	all := func(as []exec.Expr) []exec.Expr {
		out := make([]exec.Expr, len(as))
		for i, a := range as {
			out[i] = mapRefs(a, f)
		}
		return out
	}
	switch x := e.(type) {
	case *exec.ColRef, *exec.OuterRef:
		return f(x)
	case *exec.Call:
		return copyWith(x, func(c *exec.Call) { c.Args = all(x.Args) })
	case *exec.Cast:
		return copyWith(x, func(c *exec.Cast) { c.Arg = s(x.Arg) })
	case *exec.BoolOp:
		return copyWith(x, func(c *exec.BoolOp) { c.Args = all(x.Args) })
	case *exec.Not:
		return &exec.Not{Arg: s(x.Arg)}
	case *exec.IsNull:
		return copyWith(x, func(c *exec.IsNull) { c.Arg = s(x.Arg) })
	case *exec.IsBool:
		return copyWith(x, func(c *exec.IsBool) { c.Arg = s(x.Arg) })
	case *exec.Distinct:
		return copyWith(x, func(c *exec.Distinct) { c.A, c.B = s(x.A), s(x.B) })
	case *exec.Case:
		return copyWith(x, func(c *exec.Case) {
			c.Else = s(x.Else)
			c.Whens = make([]exec.When, len(x.Whens))
			for i, w := range x.Whens {
				c.Whens[i] = exec.When{Cond: s(w.Cond), Then: s(w.Then)}
			}
		})
	case *exec.Coalesce:
		return copyWith(x, func(c *exec.Coalesce) { c.Args = all(x.Args) })
	case *exec.InList:
		return copyWith(x, func(c *exec.InList) { c.Arg, c.List = s(x.Arg), all(x.List) })
	case *exec.ArrayExpr:
		return copyWith(x, func(c *exec.ArrayExpr) { c.Elems = all(x.Elems) })
	case *exec.ArrayCompare:
		// Cmp reads a pair of values of its own, not the row.
		return copyWith(x, func(c *exec.ArrayCompare) { c.Arg, c.Array = s(x.Arg), s(x.Array) })
	case *exec.Subscript:
		return copyWith(x, func(c *exec.Subscript) { c.Array, c.Index = s(x.Array), s(x.Index) })
	case *exec.FieldSelect:
		return copyWith(x, func(c *exec.FieldSelect) { c.Arg = s(x.Arg) })
	}
	return e // nil, a constant, a parameter
}

// A WHERE over a subquery in FROM (a view is one) is applied inside it
// where it can be, as PostgreSQL does: through a projection, with its
// columns replaced by the expressions they name; through a sort; and
// merged with a filter below, so that SELECT * FROM v WHERE id = 7, over
// a view that projects and filters a table, is a key lookup of the table.
// A conjunct with a volatile call, or over a projected expression with
// one or one exprParts does not know (a subquery), stays above. Below a
// GROUP BY go the conjuncts on its group columns alone, as conditions on
// the grouped expressions: a group is made of its own rows only, so SELECT
// * FROM by_account WHERE account = 7, over a view that groups a table by
// its key, reads one account's rows. Nothing goes below a LIMIT, a window,
// DISTINCT or a set operation: none is a node this looks into.

// pushIntoSubquery applies pred to input below the projection, sort or
// filter on top of it where it can; nil when input is none of those or
// nothing could go below.
func (b *Builder) pushIntoSubquery(input exec.Node, pred exec.Expr) exec.Node {
	switch x := input.(type) {
	case *exec.Filter:
		// The filter below first: its conjuncts may guard the new ones
		// (WHERE x <> 0 under WHERE 10 / x > 1).
		return b.pushFilter(x.Input, andAll(append(conjuncts(x.Pred), conjuncts(pred)...)))
	case *exec.Sort:
		return &exec.Sort{Input: b.pushFilter(x.Input, pred), Keys: x.Keys}
	case *exec.HashAgg:
		return b.pushIntoGroups(x, pred)
	case *vec.Aggregate:
		h, ok := x.Fallback.(*exec.HashAgg)
		if !ok {
			return nil
		}
		return b.pushIntoGroups(h, pred)
	case *exec.Project:
		var down, rest []exec.Expr
		for _, c := range conjuncts(pred) {
			if m, ok := throughProject(c, x); ok {
				down = append(down, m)
			} else {
				rest = append(rest, c)
			}
		}
		if len(down) == 0 {
			return nil
		}
		var out exec.Node = &exec.Project{Input: b.pushFilter(x.Input, andAll(down)), Exprs: x.Exprs, Cols: x.Cols}
		if len(rest) > 0 {
			out = &exec.Filter{Input: out, Pred: andAll(rest)}
		}
		return out
	}
	return nil
}

// pushIntoGroups applies pred to a grouped aggregate's output, its
// conjuncts on group columns alone below it; nil when none can go.
func (b *Builder) pushIntoGroups(h *exec.HashAgg, pred exec.Expr) exec.Node {
	ng := len(h.Group)
	if ng == 0 {
		// An aggregate without GROUP BY has its row even over no rows.
		return nil
	}
	groups := &exec.Project{Exprs: h.Group}
	var down, rest []exec.Expr
	for _, c := range conjuncts(pred) {
		idx, ok := colRefs(c, nil)
		if ok && len(idx) > 0 && slices.Max(idx) < ng {
			if m, ok := throughProject(c, groups); ok {
				down = append(down, m)
				continue
			}
		}
		rest = append(rest, c)
	}
	if len(down) == 0 {
		return nil
	}
	nh := *h
	nh.Input = b.pushFilter(h.Input, andAll(down))
	out := vectorize(&nh)
	if len(rest) > 0 {
		out = &exec.Filter{Input: out, Pred: andAll(rest)}
	}
	return out
}

// throughProject rewrites a conjunct over p's output as one over p's
// input, when it can be evaluated there with the same result.
func throughProject(c exec.Expr, p *exec.Project) (exec.Expr, bool) {
	idx, ok := colRefs(c, nil)
	if !ok || len(idx) == 0 || volatileCall(c) {
		return nil, false
	}
	for _, i := range idx {
		if i >= len(p.Exprs) {
			return nil, false
		}
		e := p.Exprs[i]
		if _, ok := colRefs(e, nil); !ok || volatileCall(e) {
			return nil, false
		}
	}
	return mapCols(c, func(r *exec.ColRef) exec.Expr { return p.Exprs[r.Idx] }), true
}

// copyWith returns a copy of *x changed by set.
func copyWith[T any](x *T, set func(*T)) *T {
	c := *x
	set(&c)
	return &c
}
