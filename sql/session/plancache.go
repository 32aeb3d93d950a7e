package session

import (
	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/planner"
)

// A prepared query keeps its plan while the catalog it was planned against
// is current, so repeated executions (pgbench -M prepared, every driver's
// prepared statements) skip planning. Only plans made entirely of
// operators and expressions known to keep no state between runs are
// reused; anything else (subqueries cache their results, system tables
// copy session state, window and recursive operators) is planned afresh.
type planCache struct {
	cat  *log.Catalog
	node exec.Node
}

func (p *prepared) cachedPlan(cat *log.Catalog) exec.Node {
	if p.plan != nil && p.plan.cat == cat {
		return p.plan.node
	}
	return nil
}

func (p *prepared) keepPlan(cat *log.Catalog, n exec.Node) {
	if reusableNode(n) {
		p.plan = &planCache{cat: cat, node: n}
	}
}

func reusableNode(n exec.Node) bool {
	switch x := n.(type) {
	case *exec.Scan:
		return x.Prefix == nil || reusableExpr(x.Prefix)
	case *exec.Values:
		for _, row := range x.Rows {
			if !reusableExprs(row) {
				return false
			}
		}
		return true
	case *exec.Filter:
		return reusableExpr(x.Pred) && reusableNode(x.Input)
	case *exec.Project:
		return reusableExprs(x.Exprs) && reusableNode(x.Input)
	case *exec.Limit:
		return (x.Count == nil || reusableExpr(x.Count)) && (x.Offset == nil || reusableExpr(x.Offset)) && reusableNode(x.Input)
	case *exec.Sort:
		for _, k := range x.Keys {
			if !reusableExpr(k.Expr) {
				return false
			}
		}
		return reusableNode(x.Input)
	case *exec.DistinctRows:
		return reusableNode(x.Input)
	}
	return false
}

func reusableExprs(es []exec.Expr) bool {
	for _, e := range es {
		if !reusableExpr(e) {
			return false
		}
	}
	return true
}

func reusableExpr(e exec.Expr) bool {
	switch x := e.(type) {
	case *exec.Const, *exec.ColRef, *exec.Param:
		return true
	case *exec.Call:
		return !x.Fn.Volatile && reusableExprs(x.Args)
	case *exec.Cast:
		return reusableExpr(x.Arg)
	case *exec.BoolOp:
		return reusableExprs(x.Args)
	case *exec.Not:
		return reusableExpr(x.Arg)
	case *exec.IsNull:
		return reusableExpr(x.Arg)
	case *exec.Coalesce:
		return reusableExprs(x.Args)
	case *exec.InList:
		return reusableExpr(x.Arg) && reusableExprs(x.List)
	case *exec.Case:
		for _, w := range x.Whens {
			if !reusableExpr(w.Cond) || !reusableExpr(w.Then) {
				return false
			}
		}
		return x.Else == nil || reusableExpr(x.Else)
	}
	// The planner's key-prefix encoders keep no state either, but are
	// unexported: recognise them by behaviour, conservatively, as not.
	return isKeyPrefix(e)
}

// isKeyPrefix recognises the planner's key prefix expressions (they only
// evaluate their parts).
func isKeyPrefix(e exec.Expr) bool {
	s := e.String()
	return s == "key prefix" || s == "view key prefix"
}

// A prepared write keeps its plan the same way.
type writeCache struct {
	cat *log.Catalog
	w   *planner.Write
}

func (p *prepared) cachedWrite(cat *log.Catalog) *planner.Write {
	if p.write != nil && p.write.cat == cat {
		return p.write.w
	}
	return nil
}

func (p *prepared) keepWrite(cat *log.Catalog, w *planner.Write) {
	if reusableWrite(w) {
		p.write = &writeCache{cat: cat, w: w}
	}
}

func reusableWrite(w *planner.Write) bool {
	if !reusableExprs(w.Returning) {
		return false
	}
	checks := func(cs []exec.RowCheck) bool {
		for _, c := range cs {
			if !reusableExpr(c.Expr) {
				return false
			}
		}
		return true
	}
	assigns := func(as []exec.Assign) bool {
		for _, a := range as {
			if !reusableExpr(a.Expr) {
				return false
			}
		}
		return true
	}
	switch x := w.Plan.(type) {
	case *exec.Insert:
		return reusableNode(x.Source) && checks(x.Checks) && assigns(x.Set) && (x.SetWhere == nil || reusableExpr(x.SetWhere))
	case *exec.Update:
		return reusableNode(x.Source) && checks(x.Checks) && assigns(x.Set)
	case *exec.Delete:
		return reusableNode(x.Source)
	}
	return false
}
