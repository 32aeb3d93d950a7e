package planner

import (
	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/sql/types"
	"github.com/strand-db/strand/views"
)

// joinBand finds the bounds a join's ON conditions, besides its
// equalities, put on a column of one side in terms of the other side's
// row (views/joinband.go): `c.ts BETWEEN o.ts - interval '1 hour' AND
// o.ts` bounds c.ts by [o.ts - 1 hour, o.ts] for an order's change, and
// o.ts by [c.ts, c.ts + 1 hour] for a click's. A conjunct `x op y`
// (op one of < <= > >=) bounds a column col of one side when x is col,
// col + k or col - k with k a constant, and y reads only the other side:
// col op y - k (or y + k), which holds exactly when x op y does if adding
// k is a translation of col's type (integers; date + integer; timestamp +
// an interval without months; timestamptz + one without months or days).
// lw is the left side's width. It returns nil when nothing is bounded.
func (eb *exprBinder) joinBand(conds []exec.Expr, lw int) *views.JoinBand {
	type bound struct {
		col   int
		name  string
		expr  exec.Expr
		upper bool
	}
	var found [2][]bound // per side whose column is bounded
	for _, c := range conds {
		call, ok := c.(*exec.Call)
		if !ok || len(call.Args) != 2 {
			continue
		}
		op := call.Fn.Op
		switch op {
		case "<", "<=", ">", ">=":
		default:
			continue
		}
		for flip := 0; flip < 2; flip++ {
			x, y := call.Args[0], call.Args[1]
			if flip == 1 {
				x, y = y, x
			}
			col, k, plus, ok := eb.bandTerm(x)
			if !ok {
				continue
			}
			side := 0
			if col.Idx >= lw {
				side = 1
			}
			other := 1 - side
			if !bandType(col.T) || y.Type().OID != col.T.OID || !readsOnly(y, other, lw) {
				continue
			}
			e := shiftCols(y, -other*lw)
			if k != nil {
				// col + k op y: col op y - k; col - k op y: col op y + k.
				inv := "-"
				if !plus {
					inv = "+"
				}
				var err error
				if e, err = eb.operator(inv, e, k); err != nil || e.Type().OID != col.T.OID {
					continue
				}
			}
			// With x on the right of op, op reads the other way.
			upper := op == "<" || op == "<="
			if flip == 1 {
				upper = !upper
			}
			found[side] = append(found[side], bound{col: col.Idx - side*lw, name: col.Name, expr: e, upper: upper})
		}
	}
	band := &views.JoinBand{Col: [2]int{-1, -1}}
	for side, bs := range found {
		// The column with bounds on both ends, else the first bounded.
		best, bestScore := -1, 0
		for _, b := range bs {
			score := 1
			for _, o := range bs {
				if o.col == b.col && o.upper != b.upper {
					score = 2
				}
			}
			if score > bestScore {
				best, bestScore = b.col, score
			}
		}
		if best < 0 {
			continue
		}
		other := 1 - side
		for _, b := range bs {
			if b.col != best {
				continue
			}
			band.Col[side], band.Name[side] = best, b.name
			if b.upper && band.Upper[other] == nil {
				band.Upper[other] = b.expr
			} else if !b.upper && band.Lower[other] == nil {
				band.Lower[other] = b.expr
			}
		}
	}
	if band.Col[0] < 0 && band.Col[1] < 0 {
		return nil
	}
	return band
}

// bandTerm reads x as col, col + k, k + col or col - k, with k a constant
// whose addition is a translation of col's type; k is nil for col alone.
func (eb *exprBinder) bandTerm(x exec.Expr) (col *exec.ColRef, k exec.Expr, plus, ok bool) {
	if c, isCol := x.(*exec.ColRef); isCol {
		return c, nil, false, true
	}
	call, isCall := x.(*exec.Call)
	if !isCall || len(call.Args) != 2 || (call.Fn.Op != "+" && call.Fn.Op != "-") || x.Type().OID == types.UnknownOID {
		return nil, nil, false, false
	}
	a, b := call.Args[0], call.Args[1]
	c, isCol := a.(*exec.ColRef)
	if !isCol && call.Fn.Op == "+" {
		c, isCol = b.(*exec.ColRef)
		a, b = b, a
	}
	if !isCol || c.T.OID != x.Type().OID {
		return nil, nil, false, false
	}
	if l, r, known := joinSides(b, 0); !known || l || r || hasOuter(b) {
		return nil, nil, false, false
	}
	v, err := b.Eval(&exec.Env{Settings: eb.b.settings}, nil)
	if err != nil || v == nil || !views.ExactOffset(c.T, v) {
		return nil, nil, false, false
	}
	return c, b, call.Fn.Op == "+", true
}

// bandType reports whether a band may order rows by a column of type t:
// its key encoding sorts as its values compare.
func bandType(t types.T) bool {
	switch t.OID {
	case types.Int2OID, types.Int4OID, types.Int8OID, types.NumericOID,
		types.DateOID, types.TimestampOID, types.TimestampTZOID:
		return true
	}
	return false
}

// readsOnly reports whether e reads only columns of side (of a row whose
// left side is lw wide), and nothing that varies between reads.
func readsOnly(e exec.Expr, side, lw int) bool {
	l, r, ok := joinSides(e, lw)
	return ok && !hasOuter(e) && (side == 0 && !r || side == 1 && !l)
}

// joinConditions moves the conjuncts of a WHERE right over an inner join
// that relate its two sides into the join's ON, when the ON then bounds a
// column of a side (joinBand): for an inner join ON and WHERE mean the same, and
// in ON the bounds narrow what a change reads (JOIN c ON c.user_id =
// o.user_id WHERE c.ts BETWEEN o.ts - interval '1 hour' AND o.ts). It
// returns what stays in WHERE.
func (eb *exprBinder) joinConditions(n views.Node, pred exec.Expr) exec.Expr {
	j, ok := n.(*views.Join)
	if !ok || j.Kind != views.InnerJoin || pred == nil {
		return pred
	}
	lw := len(j.LeftTypes)
	var moved, rest []exec.Expr
	for _, c := range conjuncts(pred) {
		if l, r, ok := joinSides(c, lw); ok && l && r && !hasOuter(c) {
			moved = append(moved, c)
		} else {
			rest = append(rest, c)
		}
	}
	if len(moved) == 0 {
		return pred
	}
	on := append(conjuncts(j.On), moved...)
	band := eb.joinBand(on, lw)
	if band == nil {
		return pred
	}
	j.On, j.Band = andAll(on), band
	return andAll(rest)
}
