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
	// freshOutput: an output row inserted with no pending change of its
	// key is not stored yet (freshOutput below), so output writes it
	// without a read.
	freshOutput bool
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
	// fresh says, per side, that an inserted row is never already stored
	// (freshRows): its stored entry is written without a read.
	fresh [2]bool
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
	// ConstRank (with RowNumber): the number is read only by the bound
	// that made this a top-N, so every row carries 1 instead of its
	// position and a row moving within the window changes nothing.
	ConstRank bool
	ID        uint8
	// fresh: an inserted candidate is never already stored (freshRows).
	fresh bool
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
			x.fresh = [2]bool{freshRows(x.Left), freshRows(x.Right)}
		case *Aggregate:
			x.ID, id = id, id+1
			if len(x.Group) == 0 {
				p.ungrouped = append(p.ungrouped, x)
			}
		case *TopN:
			x.ID, id = id, id+1
			x.fresh = freshRows(x.Input)
		case *Distinct:
			x.ID, id = id, id+1
		}
		for i, c := range n.children() {
			p.parents[c] = edge{n, i}
			walk(c)
		}
	}
	walk(p.Root)
	p.freshOutput = freshOutput(p)
}

// freshOutput recognizes a view that projects an inner join of a keyed
// table F with a keyed table D on D's whole primary key (filters allowed
// anywhere below the projection), keeping F's key columns: a fact table
// joined with a dimension. Each F row then matches at most one D row, so
// at most one output row carries a given F key, and a change replaces it
// by first retracting the old row (pending in the intent) and then adding
// the new one. An added row whose key has no pending change therefore is
// not stored, and need not be read. (Not for outer joins: a padded row
// and a joined row may be equal while both are stored.)
func freshOutput(p *Plan) bool {
	pr, ok := p.Root.(*Project)
	if !ok || p.Distinct {
		return false
	}
	j, ok := unfiltered(pr.Input).(*Join)
	if !ok || j.Kind != InnerJoin {
		return false
	}
	for side := 0; side < 2; side++ {
		f, d := keyedScan(j.Left), keyedScan(j.Right)
		dKeys, off := j.RightKeys, 0
		if side == 1 {
			f, d = d, f
			dKeys, off = j.LeftKeys, len(j.LeftTypes)
		}
		if f == nil || d == nil || !coversColumns(dKeys, d.Layout.KeyIdx, 0) || !coversColumns(pr.Exprs, f.Layout.KeyIdx, off) {
			continue
		}
		return true
	}
	return false
}

func unfiltered(n Node) Node {
	for {
		f, ok := n.(*Filter)
		if !ok {
			return n
		}
		n = f.Input
	}
}

// keyedScan returns the scan of a keyed table with a key under filters.
func keyedScan(n Node) *Scan {
	s, ok := unfiltered(n).(*Scan)
	if !ok || s.Layout == nil || s.Layout.Desc.Kind != log.Keyed || len(s.Layout.KeyIdx) == 0 {
		return nil
	}
	return s
}

// coversColumns reports whether es include, as plain column references,
// every column off+i for i in idx.
func coversColumns(es []exec.Expr, idx []int, off int) bool {
	for _, i := range idx {
		found := false
		for _, e := range es {
			if c, ok := e.(*exec.ColRef); ok && c.Idx == off+i {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
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

// freshRows reports whether a node emits base-table rows unchanged (a
// table scan, possibly filtered). Such a row carries its key and its
// _version, and a key's version is used once: a row inserted with weight
// +1 (a new version, or a row a backfill step admits) has never been
// stored before, so operators that store rows need not read whether it
// is (a point read of a key that cannot exist costs a seek through every
// memtable and level).
func freshRows(n Node) bool {
	switch x := n.(type) {
	case *Scan:
		return x.Layout != nil
	case *Filter:
		return freshRows(x.Input)
	}
	return false
}
