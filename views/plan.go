// Package views maintains materialized views inside the commit: the
// sequencer hands every intent's changes to the Maintainer (a
// log.CommitHook), which maps them through each dependent view's
// incremental plan to changes of the view's state, written in the same
// Pebble batch as the base events. When a write is acknowledged, every view
// already reflects it.
//
// A view's state is a Z-set (as in DBSP): rows with multiplicities. A plan
// is a tree of operators whose leaves read base tables or other views. Each
// operator turns an input delta (rows with weights +n/-n) into an output
// delta in work proportional to the delta: a filter or projection maps
// rows; an aggregation keeps per-group state (and, for min and max, the
// multiset of values per group, so the extreme survives deletes); a join
// keeps both inputs indexed by the join key and joins each delta row with
// the other side's current state (processing changes one at a time is the
// bilinear delta rule: d(L⋈R) = dL⋈R + L'⋈dR), and for outer joins also
// each stored row's match count, so the NULL-padded row appears when the
// count falls to zero and disappears when it leaves zero; a top-N keeps the
// ordered multiset of candidates per partition, so a delete refills the
// top from the next candidates. A view's output delta is in turn the
// input delta of the views that read it: the maintainer runs the plans in
// dependency order within one commit.
package views

import (
	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql/types"
)

// Plan is the incremental plan of one view, built by the planner from the
// view's SELECT.
type Plan struct {
	View     log.TableID
	Root     Node
	OutTypes []types.T
	// Distinct views (SELECT DISTINCT) show each row once; the state keeps
	// the multiplicities and the view's output delta (what views over it
	// see) only records a row's appearance and disappearance.
	Distinct bool

	// Set by prepare: the leaves in the order backfill feeds them, each
	// operator's parent, and state ids.
	leaves  []*Scan
	parents map[Node]edge
	// ungrouped are the aggregates without GROUP BY: like PostgreSQL's,
	// they have one output row even over no input rows.
	ungrouped []*Aggregate
}

type edge struct {
	n    Node
	side int
}

// Node is an operator of a view's incremental plan. Each consumes the
// weighted rows its inputs emit and emits weighted rows to its parent (the
// root emits into the view's output Z-set).
type Node interface{ children() []Node }

// Scan is a leaf: the rows of a base table (its columns then _version) or
// of another view (its output columns then a NULL _version), with their
// multiplicities.
type Scan struct {
	Source log.TableID
	// Layout decodes a base table's rows; nil for a view.
	Layout *exec.TableLayout
	// ViewTypes are a source view's output column types.
	ViewTypes    []types.T
	ViewDistinct bool
}

// Filter passes the rows Pred accepts.
type Filter struct {
	Input Node
	Pred  exec.Expr
}

// Project maps each row through Exprs.
type Project struct {
	Input Node
	Exprs []exec.Expr
}

// JoinKind is the kind of a maintained join.
type JoinKind uint8

const (
	InnerJoin JoinKind = iota
	LeftJoin
	RightJoin
	FullJoin
)

// Join is an equi-join of two inputs; its rows are the left row then the
// right row (NULLs for the missing side of an outer join's padded row).
type Join struct {
	Kind                  JoinKind
	Left, Right           Node
	LeftTypes, RightTypes []types.T
	// LeftKeys/RightKeys are over each input's own row.
	LeftKeys, RightKeys []exec.Expr
	// On is the rest of the join condition, over the combined row; nil
	// for none.
	On exec.Expr
	ID uint8
}

// Aggregate groups its input by Group and computes Aggs; Having and Output
// read [group values..., aggregate results...]. At the root of a plan its
// output rows are keyed by the group.
type Aggregate struct {
	Input  Node
	Group  []exec.Expr
	Aggs   []Agg
	Having exec.Expr
	Output []exec.Expr
	ID     uint8
}

// TopN keeps, per partition, the rows at positions [Offset, Offset+N) in
// Order (ties broken by the whole row, so the choice is deterministic).
// With RowNumber, each output row is followed by its position within the
// partition (row_number(), from 1).
type TopN struct {
	Input     Node
	Types     []types.T
	Partition []exec.Expr
	Order     []SortKey
	Offset, N int64
	RowNumber bool
	ID        uint8
}

// SortKey is one ORDER BY key of a TopN.
type SortKey struct {
	Expr       exec.Expr
	Desc       bool
	NullsFirst bool
}

// Union is UNION ALL: every input's rows.
type Union struct{ Inputs []Node }

// Distinct emits a row when its multiplicity becomes positive and retracts
// it when it falls to zero.
type Distinct struct {
	Input Node
	Types []types.T
	ID    uint8
}

func (*Scan) children() []Node        { return nil }
func (f *Filter) children() []Node    { return []Node{f.Input} }
func (p *Project) children() []Node   { return []Node{p.Input} }
func (j *Join) children() []Node      { return []Node{j.Left, j.Right} }
func (a *Aggregate) children() []Node { return []Node{a.Input} }
func (t *TopN) children() []Node      { return []Node{t.Input} }
func (u *Union) children() []Node     { return u.Inputs }
func (d *Distinct) children() []Node  { return []Node{d.Input} }

// Children returns an operator's inputs.
func Children(n Node) []Node { return n.children() }

// Sources lists the tables and views the plan reads, each once.
func (p *Plan) Sources() []log.TableID {
	p.prepare()
	var out []log.TableID
	seen := map[log.TableID]bool{}
	for _, s := range p.leaves {
		if !seen[s.Source] {
			seen[s.Source] = true
			out = append(out, s.Source)
		}
	}
	return out
}

// GroupKeyed returns the root aggregate when the view's output rows are
// keyed by its group.
func (p *Plan) GroupKeyed() *Aggregate {
	a, _ := p.Root.(*Aggregate)
	return a
}

// prepare links each operator to its parent, lists the leaves left to
// right and numbers the stateful operators.
func (p *Plan) prepare() {
	if p.parents != nil {
		return
	}
	p.parents = map[Node]edge{}
	var id uint8
	var walk func(n Node)
	walk = func(n Node) {
		switch x := n.(type) {
		case *Scan:
			p.leaves = append(p.leaves, x)
		case *Join:
			x.ID, id = id, id+1
		case *Aggregate:
			x.ID, id = id, id+1
			if len(x.Group) == 0 {
				p.ungrouped = append(p.ungrouped, x)
			}
		case *TopN:
			x.ID, id = id, id+1
		case *Distinct:
			x.ID, id = id, id+1
		}
		for i, c := range n.children() {
			p.parents[c] = edge{n, i}
			walk(c)
		}
	}
	walk(p.Root)
}

// AggKind is an aggregate the maintainer can keep incrementally.
type AggKind uint8

const (
	AggCountStar AggKind = iota
	AggCount
	AggCountDistinct
	AggSum
	AggAvg
	AggMin
	AggMax
	AggBoolAnd
	AggBoolOr
)

// Agg is one aggregate of an aggregated plan.
type Agg struct {
	Kind AggKind
	Arg  exec.Expr
	// Ret is the result type (int8 for counts, the sum/avg type PostgreSQL
	// gives, the argument type for min/max).
	Ret types.T
}
