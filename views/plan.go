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
	"slices"

	"github.com/cockroachdb/apd/v3"

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
	// Settings are those its expressions evaluate with: the creating
	// session's TimeZone and DateStyle (nil: the defaults, UTC).
	Settings *types.Settings
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
	// dyn are the dynamic filters, settled after each pass (dynfilter.go).
	dyn []*DynFilter
	// windows are the window operators, each after those below it.
	windows []*Window
	// outPrefix is the key prefix of the view's output rows (0x10 view
	// 'o'), and keyBuf scratch for an output key; set by initKeys.
	outPrefix, keyBuf []byte
	// keysKnown: setLayout has run (the view's key layout is known).
	keysKnown bool
	// backfillSources are the sources in the order a backfill reads them
	// (setLayout; backfillOrder).
	backfillSources []log.TableID
	// rowKeyCols (with freshOutput) are the output columns that hold the
	// key of the table row an output row stands for; outKeyCols is them
	// when the view uses short keys: its output rows are keyed by them
	// instead of by the whole row (nil).
	rowKeyCols, outKeyCols []int
	// compact: the view's keys use the compact integer encoding
	// (keyLayout).
	compact bool
	// top, when set, says the view stores no output rows: they derive
	// from the candidates of topNode, its root top-N (topout.go).
	top     *topOutput
	topNode *TopN
	// freshOutput: the view holds each output row at most once, so an
	// output row inserted with no pending change of its key is not stored
	// yet, and one retracted with none is stored once (freshOutput
	// below): output writes either without a read.
	freshOutput bool
	// lsnOutput: the view is a filter or projection of a stream, and each
	// output row is keyed by the LSN of the event it comes from
	// (keyLayout.lsnOutput, output): written without a read, in the
	// order the events came, so its files do not overlap.
	lsnOutput bool
	// temporal is the view's temporal filter, if any (temporal.go; the
	// planner makes at most one).
	temporal *Temporal
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
	// out is the row it hands its parent, reused from one row to the
	// next: operators never keep a row they are handed (they copy what
	// they store), and a parent never feeds back into its input.
	out exec.Row
}

// JoinKind is the kind of a maintained join.
type JoinKind uint8

const (
	InnerJoin JoinKind = iota
	LeftJoin
	RightJoin
	FullJoin
	// SemiJoin keeps each left row that has a match (WHERE EXISTS, IN),
	// AntiJoin each that has none (WHERE NOT EXISTS): once, with its own
	// multiplicity, padded with NULLs for the right side.
	SemiJoin
	AntiJoin
)

// Join is an equi-join of two inputs; its rows are the left row then the
// right row (NULLs for the missing side of an outer join's padded row,
// and for every row of a semi- or anti-join).
type Join struct {
	Kind                  JoinKind
	Left, Right           Node
	LeftTypes, RightTypes []types.T
	// LeftKeys/RightKeys are over each input's own row.
	LeftKeys, RightKeys []exec.Expr
	// On is the rest of the join condition, over the combined row; nil
	// for none.
	On exec.Expr
	// NullSafe: NULL keys match each other (INTERSECT, EXCEPT), where a
	// join's never match.
	NullSafe bool
	ID       uint8
	// fresh says, per side, that an inserted row is never already stored
	// (freshRows): its stored entry is written without a read.
	fresh [2]bool
	// Set by initKeys: the key prefix of the operator's state, the join
	// key types per side, and scratch for keys (which the overlay copies).
	prefix          []byte
	keyTypes        [2][]types.T
	scanBuf, rowBuf []byte
	// rowKey, per side, is the key columns of a keyed table whose rows
	// the side takes unchanged (with their types), when the view uses
	// short keys: a stored row's key then ends with them instead of the
	// whole row (nil: the whole row).
	rowKey      [2][]int
	rowKeyTypes [2][]types.T
	// Band, set by the planner from On's conjuncts, bounds the other
	// side's rows a delta row can match by a column of theirs (an
	// interval join, joinband.go); nil for none. band is Band when the
	// view's layout keys the rows by it (keyLayout.joinBand), else nil.
	Band *JoinBand
	band *JoinBand
	// fact is set when the view keeps this join's matched fact rows only
	// in its output rows (factJoinOf); nil otherwise.
	fact *factJoin
	// decode, per side, decodes that side's stored rows (set by
	// initKeys).
	decode [2]rowDecoder
	// compact: the view's key layout (keyLayout).
	compact bool
	// entries and comb are scratch for join: the other side's entries
	// for a key, and the combined row handed to the parent.
	entries []joinEntry
	comb    exec.Row
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
	// Set by initKeys: the key prefix of the group states, the group,
	// state and output types, and scratch for keys.
	prefix                    []byte
	groupTypes, sts, outTypes []types.T
	stateBuf, outKeyBuf       []byte
	payloadBuf                []byte
	// scratch rows of group (never kept past a call): the group values,
	// the state, the aggregates, and the old and the new output row.
	scratch struct {
		group, state, agg exec.Row
		out               [2]exec.Row
		// dec is a summed value times its weight (read, never kept).
		dec apd.Decimal
	}
	// compact: the view's key layout (keyLayout).
	compact bool
	// merged: the plan's root, with a GROUP BY and no HAVING, keeps each
	// group's state in the value of its output row (one key per group
	// instead of two); with HAVING a group may have state and no row.
	merged bool
}

// TopN keeps, per partition, the rows at positions [Offset, Offset+N) in
// Order (ties broken by the whole row, or by a keyed table's key with short
// keys, so the choice is deterministic).
// With RowNumber, each output row is followed by its position within the
// partition (row_number(), from 1), or with Ties by its rank().
type TopN struct {
	Input     Node
	Types     []types.T
	Partition []exec.Expr
	Order     []SortKey
	Offset, N int64
	RowNumber bool
	// Ties makes this the top-N of rank() (TiesRank) or dense_rank()
	// (TiesDense) <= N: rows tied in Order share a rank, and the window
	// holds every row whose rank is at most N (Offset is 0). See topn.go.
	Ties Ties
	// ConstRank (with RowNumber): the number is read only by the bound
	// that made this a top-N, so every row carries 1 instead of its
	// position and a row moving within the window changes nothing.
	ConstRank bool
	ID        uint8
	// fresh: an inserted candidate is never already stored (freshRows).
	fresh bool
	// Set by initKeys: the key prefix of the candidates, the partition
	// types, and scratch for keys.
	prefix    []byte
	partTypes []types.T
	keyBuf    []byte
	// items and rankRow are scratch for the window diff (topDiff).
	items   []windowItem
	rankRow exec.Row
	// compact: the view's key layout (keyLayout).
	compact bool
	// rowKey is the key columns of a keyed table whose rows the top-N
	// takes unchanged (with their types), when the view uses short keys:
	// a candidate's key then ends with them instead of the whole row
	// (nil: the whole row).
	rowKey      []int
	rowKeyTypes []types.T
}

// SortKey is one ORDER BY key of a TopN.
type SortKey struct {
	Expr       exec.Expr
	Desc       bool
	NullsFirst bool
}

// Union is UNION ALL: every input's rows.
type Union struct{ Inputs []Node }

// GroupingSets is GROUP BY ROLLUP, CUBE or GROUPING SETS: each input row
// goes to one aggregate per grouping set (Sets, which have no Input of
// their own), and their output rows are this operator's. Its children are
// Input (side 0) and the sets' aggregates (sides 1...), so that every
// walk of the plan numbers and keys them; the maintainer routes a row from
// Input to every set, and a set's output row on to this node's parent.
type GroupingSets struct {
	Input Node
	Sets  []*Aggregate
}

func (g *GroupingSets) children() []Node {
	out := []Node{g.Input}
	for _, a := range g.Sets {
		out = append(out, a)
	}
	return out
}

// Distinct emits a row when its multiplicity becomes positive and retracts
// it when it falls to zero.
type Distinct struct {
	Input Node
	Types []types.T
	ID    uint8
	// compact: the view's key layout (keyLayout).
	compact bool
}

func (*Scan) children() []Node      { return nil }
func (f *Filter) children() []Node  { return []Node{f.Input} }
func (p *Project) children() []Node { return []Node{p.Input} }
func (j *Join) children() []Node    { return []Node{j.Left, j.Right} }
func (a *Aggregate) children() []Node {
	if a.Input == nil {
		return nil // a grouping set's: GroupingSets feeds it
	}
	return []Node{a.Input}
}
func (t *TopN) children() []Node     { return []Node{t.Input} }
func (u *Union) children() []Node    { return u.Inputs }
func (d *Distinct) children() []Node { return []Node{d.Input} }

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
		case *Temporal:
			x.ID, id = id, id+1
			p.temporal = x
		case *Window:
			x.ID, id = id, id+1
			p.windows = append(p.windows, x)
		case *SetOpAll:
			x.ID, id = id, id+1
		case *DynFilter:
			x.ID, id = id, id+1
			x.fresh = freshRows(x.Left)
			p.dyn = append(p.dyn, x)
		}
		for i, c := range n.children() {
			p.parents[c] = edge{n, i}
			walk(c)
		}
	}
	walk(p.Root)
	// Found in preorder, each before those below it: the settle of a
	// backfill takes them the other way round (windowdefer.go).
	slices.Reverse(p.windows)
	// Each empty-input row is emitted into its consumers, which must have
	// their own first: the walk's preorder puts an aggregate before those
	// it reads, except a grouping set's, which comes after its operator's
	// input (its sibling in children()).
	slices.SortStableFunc(p.ungrouped, func(a, b *Aggregate) int { return p.depth(a) - p.depth(b) })
	p.freshOutput, p.rowKeyCols = freshOutput(p)
}

// depth is how many operators n's rows pass through to the view's output,
// a grouping set's own aggregates counted as their operator.
func (p *Plan) depth(n Node) int {
	d := 0
	for {
		e, ok := p.parents[n]
		if !ok {
			return d
		}
		if _, sets := e.n.(*GroupingSets); !sets || e.side == 0 {
			d++
		}
		n = e.n
	}
}

// initKeys computes, once the plan's view is known, the key prefixes of
// its output and of each operator's state, and the types the operators
// encode keys with.
func (p *Plan) initKeys() {
	p.outPrefix = sub(p.View, 'o')
	var walk func(n Node)
	walk = func(n Node) {
		switch x := n.(type) {
		case *Temporal:
			x.prefix = opPrefix(p.View, 'e', x.ID)
		case *Window:
			x.init(opPrefix(p.View, 'W', x.ID))
		case *SetOpAll:
			x.prefix = opPrefix(p.View, 'a', x.ID)
		case *DynFilter:
			x.init(p.View)
		case *Join:
			x.prefix = opPrefix(p.View, 'j', x.ID)
			x.keyTypes = [2][]types.T{exprTypes(x.LeftKeys), exprTypes(x.RightKeys)}
			x.decode = [2]rowDecoder{joinRowDecoder(x.LeftTypes), joinRowDecoder(x.RightTypes)}
		case *Aggregate:
			x.prefix = opPrefix(p.View, 'g', x.ID)
			x.groupTypes, x.sts, x.outTypes = exprTypes(x.Group), x.stateTypes(), exprTypes(x.Output)
			x.merged = n == p.Root && len(x.Group) > 0 && x.Having == nil
		case *TopN:
			x.prefix = opPrefix(p.View, 't', x.ID)
			x.partTypes = exprTypes(x.Partition)
		}
		for _, c := range n.children() {
			walk(c)
		}
	}
	walk(p.Root)
}

// keyLayout is how a view's state is keyed, as its backfill record says:
// a view keeps the layout it was created with.
type keyLayout struct {
	// short: join and top-N state and freshOutput rows are keyed by a
	// keyed table's key columns instead of the whole row.
	short bool
	// factOutput (with short): a fact-dimension join keeps matched fact
	// rows only in the view's output (factJoinOf).
	factOutput bool
	// compact: integers in keys take the bytes their value needs
	// (appendInt), in every key the view's state and output use.
	compact bool
	// top: the view's rows are read from its root top-N's candidates
	// and not stored (topout.go).
	top *topOutput
	// windowOrder: window operators key rows by ORDER BY values too.
	windowOrder bool
	// lsnOutput: a filter or projection of a stream keys its output rows
	// by their events' LSNs (streamRows).
	lsnOutput bool
	// windowRunning: window operators of running functions store their
	// values with each row (windowrun.go).
	windowRunning bool
	// joinBand: joins with a Band key their rows by its column after the
	// join key (joinband.go).
	joinBand bool
}

// layoutOf is the key layout a view's backfill record gives.
func layoutOf(rec *backfillRecord) keyLayout {
	return keyLayout{short: rec.ShortKeys, factOutput: rec.FactOutput, compact: rec.CompactKeys, top: rec.TopOutput, windowOrder: rec.WindowOrder, lsnOutput: rec.LSNOutput, windowRunning: rec.WindowRunning, joinBand: rec.JoinBand}
}

// setLayout fixes the view's key layout: with short keys, a join side
// or a top-N that takes a keyed table's rows unchanged ends each stored
// row's key with the table's key columns, which identify the row among
// the live ones (a change retracts the old row before it adds the new,
// and the row itself is in the value), instead of with the whole row.
// With factOutput too, a fact-dimension join view's output rows are keyed
// by the join key and then the fact key, and serve as the join's state
// of matched fact rows (factJoinOf).
func (p *Plan) setLayout(l keyLayout) {
	short := l.short
	p.keysKnown = true
	p.compact = l.compact
	p.outKeyCols = nil
	p.top, p.topNode = nil, nil
	p.lsnOutput = l.lsnOutput && streamRows(p)
	if l.top != nil {
		if t := rootTopN(p.Root); t != nil && t.ID == l.top.Op {
			p.top, p.topNode = l.top, t
		}
	}
	if short && p.freshOutput {
		p.outKeyCols = p.rowKeyCols
	}
	var walk func(n Node)
	walk = func(n Node) {
		switch x := n.(type) {
		case *Aggregate:
			x.compact = l.compact
		case *Distinct:
			x.compact = l.compact
		case *Window:
			x.ordered, x.runLayout = l.windowOrder, l.windowRunning
		case *Join:
			x.fact, x.compact, x.band = nil, l.compact, nil
			if l.joinBand {
				x.band = x.Band
			}
			for side, in := range []Node{x.Left, x.Right} {
				x.rowKey[side], x.rowKeyTypes[side] = nil, nil
				if s := keyedScan(in); short && s != nil && freshRows(in) {
					ts := x.LeftTypes
					if side == 1 {
						ts = x.RightTypes
					}
					x.rowKey[side], x.rowKeyTypes[side] = s.Layout.KeyIdx, pick(ts, s.Layout.KeyIdx)
				}
			}
		case *TopN:
			x.rowKey, x.rowKeyTypes, x.compact = nil, nil, l.compact
			if s := keyedScan(x.Input); short && s != nil && freshRows(x.Input) {
				x.rowKey, x.rowKeyTypes = s.Layout.KeyIdx, pick(x.Types, s.Layout.KeyIdx)
				if coversColumns(sortExprs(x.Order), s.Layout.KeyIdx, 0) {
					// The sort key already holds the table key (ORDER BY
					// amount DESC, id): it identifies the row alone.
					x.rowKey, x.rowKeyTypes = []int{}, nil
				}
			}
		}
		for _, c := range n.children() {
			walk(c)
		}
	}
	walk(p.Root)
	if short && l.factOutput {
		if j, fj := factJoinOf(p); j != nil && j.rowKey[fj.side] != nil {
			j.fact = fj
			p.outKeyCols = append(slices.Clone(fj.keyOut), fj.keyCols...)
		}
	}
	p.backfillSources = p.backfillOrder()
}

// backfillOrder orders the plan's sources for its backfill: first those
// whose rows a join looks up, then the others, each group in leaf order.
// A row that comes before the rows it matches is stored and then changed
// again when they come: a fact-dimension join's fact row stored as
// unmatched, then deleted and moved into the output by its dimension
// row; an outer join's preserved row emitted NULL-padded, then retracted
// with its match count rewritten; a semi- or anti-join's left row
// likewise. Read after them it finds its matches at once: a view joining
// 1,000,000 events with 10,000 accounts wrote 3,000,000 keys (a third of
// them tombstones) reading events first, 1,000,000 reading accounts
// first. A source on the early side of one join and the late side of
// another keeps its place in between.
func (p *Plan) backfillOrder() []log.TableID {
	const early, late = 1, 2
	marks := map[log.TableID]int{}
	var mark func(n Node, m int)
	mark = func(n Node, m int) {
		if s, ok := n.(*Scan); ok {
			marks[s.Source] |= m
			return
		}
		for _, c := range n.children() {
			mark(c, m)
		}
	}
	var walk func(n Node)
	walk = func(n Node) {
		if j, ok := n.(*Join); ok {
			first := -1
			switch {
			case j.fact != nil:
				first = 1 - j.fact.side
			case j.filters():
				first = 1
			case j.preserves(0) && !j.preserves(1):
				first = 1
			case j.preserves(1) && !j.preserves(0):
				first = 0
			}
			if first >= 0 {
				sides := [2]Node{j.Left, j.Right}
				mark(sides[first], early)
				mark(sides[1-first], late)
			}
		}
		for _, c := range n.children() {
			walk(c)
		}
	}
	walk(p.Root)
	rank := func(src log.TableID) int {
		switch marks[src] {
		case early:
			return 0
		case late:
			return 2
		}
		return 1
	}
	out := p.Sources()
	slices.SortStableFunc(out, func(a, b log.TableID) int { return rank(a) - rank(b) })
	return out
}

// streamRows reports whether a view's rows are its stream's events, each
// filtered and projected: every output row then stands for one event, is
// added once and never retracted (a stream's events are never replaced,
// and its deletes reach no view).
func streamRows(p *Plan) bool {
	if p.Distinct {
		return false
	}
	n := p.Root
	for {
		switch x := n.(type) {
		case *Project:
			n = x.Input
		case *Filter:
			n = x.Input
		case *Scan:
			return x.Layout != nil && x.Layout.Desc.Kind == log.Stream
		default:
			return false
		}
	}
}

// rootTopN returns the top-N at a plan's root, under projections only.
func rootTopN(n Node) *TopN {
	for {
		pr, ok := n.(*Project)
		if !ok {
			break
		}
		n = pr.Input
	}
	t, _ := n.(*TopN)
	return t
}

// factJoin is the layout of a fact-dimension join view whose output rows
// double as the join's state of matched fact rows. The view projects an
// inner join, with no other condition and no filter between, of a keyed
// fact table F with a keyed dimension table D on (at least) D's whole
// key, and every output column is a plain column. Each F row then matches
// at most one D row, and the output row of a matched F row holds every F
// column the view reads. So the join stores an F row on its own side only
// while it has no match; the output rows, keyed by the join key and then
// F's key, are the rest: a D row that arrives moves its key's unmatched F
// rows into the output, and one that leaves moves its output rows back
// (F columns the view does not read come back NULL, and nothing reads
// them). This saves a state row per fact row, which for a stream of
// facts is a key and ~40 bytes per INSERT.
type factJoin struct {
	// side is F's side of the join.
	side int
	// outCols gives, per column of F's rows, the output column holding
	// it (-1: none; the view never reads it).
	outCols []int
	// keyOut are the output columns holding F's join key, in join key
	// order, and keyCols those holding F's key: an output row's key is
	// keyOut's values then keyCols'.
	keyOut, keyCols []int
	// scanBuf is scratch for an output prefix.
	scanBuf []byte
}

// factJoinOf recognizes a fact-dimension join view (factJoin) and returns
// its join and layout (nil when the view is not one).
func factJoinOf(p *Plan) (*Join, *factJoin) {
	if !p.freshOutput || p.Distinct {
		return nil, nil
	}
	pr, ok := p.Root.(*Project)
	if !ok {
		return nil, nil
	}
	j, ok := pr.Input.(*Join)
	if !ok || j.Kind != InnerJoin || j.On != nil {
		return nil, nil
	}
	for _, e := range pr.Exprs {
		if _, ok := e.(*exec.ColRef); !ok {
			return nil, nil
		}
	}
	for side := 0; side < 2; side++ {
		fIn, dIn, fKeys, dKeys, fTypes, off := j.Left, j.Right, j.LeftKeys, j.RightKeys, j.LeftTypes, 0
		if side == 1 {
			fIn, dIn, fKeys, dKeys, fTypes, off = j.Right, j.Left, j.RightKeys, j.LeftKeys, j.RightTypes, len(j.LeftTypes)
		}
		f, d := keyedScan(fIn), keyedScan(dIn)
		if f == nil || d == nil || !freshRows(fIn) || !coversColumns(dKeys, d.Layout.KeyIdx, 0) || !coversColumns(pr.Exprs, f.Layout.KeyIdx, off) {
			continue
		}
		fj := &factJoin{side: side, outCols: make([]int, len(fTypes)), keyCols: columnsAt(pr.Exprs, f.Layout.KeyIdx, off)}
		for c := range fj.outCols {
			fj.outCols[c] = outputOf(pr.Exprs, off+c)
		}
		// The join key's bytes must be the output key's: the same types
		// on both sides and in the output.
		for i, e := range fKeys {
			c, ok := e.(*exec.ColRef)
			if !ok || c.Idx >= len(fTypes) || fj.outCols[c.Idx] < 0 {
				fj = nil
				break
			}
			o := fj.outCols[c.Idx]
			if j.keyTypes[0][i].OID != j.keyTypes[1][i].OID || p.OutTypes[o].OID != j.keyTypes[side][i].OID {
				fj = nil
				break
			}
			fj.keyOut = append(fj.keyOut, o)
		}
		if fj != nil {
			return j, fj
		}
	}
	return nil, nil
}

// outputOf returns the position in es of a plain reference to column
// col, or -1.
func outputOf(es []exec.Expr, col int) int {
	for i, e := range es {
		if c, ok := e.(*exec.ColRef); ok && c.Idx == col {
			return i
		}
	}
	return -1
}

func sortExprs(ks []SortKey) []exec.Expr {
	out := make([]exec.Expr, len(ks))
	for i, k := range ks {
		out[i] = k.Expr
	}
	return out
}

func pick(ts []types.T, idx []int) []types.T {
	out := make([]types.T, len(idx))
	for i, j := range idx {
		out[i] = ts[j]
	}
	return out
}

// appendRowKey appends the part of a stored row's key that identifies
// the row: its key columns (idx) when set, else the whole row.
func appendRowKey(buf []byte, compact bool, idx []int, idxTypes, ts []types.T, row exec.Row) []byte {
	if idx == nil {
		return appendTupleIn(buf, compact, ts, row)
	}
	for i, j := range idx {
		buf = appendValueIn(buf, compact, idxTypes[i], row[j])
	}
	return buf
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
func freshOutput(p *Plan) (bool, []int) {
	if p.Distinct {
		return false, nil
	}
	if cols := rowPerKey(p); cols != nil {
		return true, cols
	}
	pr, ok := p.Root.(*Project)
	if !ok {
		return false, nil
	}
	j, ok := unfiltered(pr.Input).(*Join)
	if !ok || j.Kind != InnerJoin {
		return false, nil
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
		return true, columnsAt(pr.Exprs, f.Layout.KeyIdx, off)
	}
	return false, nil
}

// rowPerKey recognizes the other shape whose inserted output rows need no
// read: projections, filters and top-Ns over one keyed table, with the
// table's key columns kept (as plain columns) in the output. Each output
// row then stands for one row of the table, a table row is in the output
// at most once (a top-N's candidates are distinct rows, each counted
// once), and a change of a table row retracts the output row of its old
// version before it adds the new one (a top-N emits retractions first).
// An output row added with no pending change of its key was therefore
// not in the output before the intent. Rows a top-N pushes out of or
// pulls into its window follow the same rule: an output row is only ever
// added when it is not in the output.
func rowPerKey(p *Plan) []int {
	// cols[i] is the column of the current node's rows that output column
	// i is (-1: not a plain column).
	cols := make([]int, len(p.OutTypes))
	for i := range cols {
		cols[i] = i
	}
	n := p.Root
	for {
		switch x := n.(type) {
		case *Project:
			throughProject(cols, x)
			n = x.Input
		case *Filter:
			n = x.Input
		case *TopN:
			// Its rows are its input's, then (with row_number) the
			// position, which is no input column.
			for i, c := range cols {
				if c >= len(x.Types) {
					cols[i] = -1
				}
			}
			n = x.Input
		case *Scan:
			s := keyedScan(x)
			if s == nil {
				return nil
			}
			var at []int
			for _, k := range s.Layout.KeyIdx {
				i := slices.Index(cols, k)
				if i < 0 {
					return nil
				}
				at = append(at, i)
			}
			return at
		default:
			return nil
		}
	}
}

// throughProject maps cols, the columns of a projection's rows that
// some output columns are, to the columns of its input's rows they are
// (-1: not a plain column of the input).
func throughProject(cols []int, pr *Project) {
	for i, c := range cols {
		cols[i] = -1
		if c >= 0 && c < len(pr.Exprs) {
			if ref, ok := pr.Exprs[c].(*exec.ColRef); ok {
				cols[i] = ref.Idx
			}
		}
	}
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
// columnsAt returns, for each column off+i (i in idx), the position in es
// of a plain reference to it (coversColumns holds).
func columnsAt(es []exec.Expr, idx []int, off int) []int {
	out := make([]int, len(idx))
	for n, i := range idx {
		for e, x := range es {
			if c, ok := x.(*exec.ColRef); ok && c.Idx == off+i {
				out[n] = e
				break
			}
		}
	}
	return out
}

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
	// AggVariance is var_samp, var_pop, stddev_samp or stddev_pop
	// (Agg.Variance says which), kept exact (variance.go).
	AggVariance
	// AggStringAgg, AggArrayAgg and AggJSONAgg (json_agg, jsonb_agg)
	// keep their values in order (listagg.go).
	AggStringAgg
	AggArrayAgg
	AggJSONAgg
	// AggOrderedSet is percentile_cont, percentile_disc or mode (Agg.Func
	// says which): its values are kept in order as a list aggregate's
	// are, and the query engine's function reads them (listagg.go).
	AggOrderedSet
)

// Agg is one aggregate of an aggregated plan.
type Agg struct {
	Kind AggKind
	Arg  exec.Expr
	// Ret is the result type (int8 for counts, the sum/avg type PostgreSQL
	// gives, the argument type for min/max).
	Ret types.T
	// Filter, when set, is the aggregate's FILTER (WHERE ...): the rows it
	// does not pass are skipped. (count(*) with a FILTER is a count of a
	// constant, since count(*) reads the group's row count.)
	Filter exec.Expr
	// Exact: a sum or avg of float4, float8 or numeric keeps an exact
	// running sum with its infinities and NaNs counted apart
	// (exactsum.go). Views created before it keep a float8 or numeric
	// sum, which a retraction of a large value, a NaN or an infinity
	// leaves wrong.
	Exact bool
	// Variance is which of the variance family an AggVariance is.
	Variance exec.VarianceKind
	// Order is a string_agg's, array_agg's or json_agg's ORDER BY, over
	// the input row.
	Order []SortKey
	// JSONText: an AggJSONAgg is json_agg (else jsonb_agg).
	JSONText bool
	// Func is an AggOrderedSet's function, fed the group's values in
	// order (its fraction a constant).
	Func *exec.AggFunc
	// Distinct: a sum or avg of DISTINCT values (each value's
	// multiplicity is counted as count(DISTINCT)'s is, and the sum takes
	// a value when its count leaves zero and gives it back when it
	// returns there), or a list of DISTINCT values (each listed once).
	Distinct bool
}

// ExactSums reports whether the plan has a sum or avg that keeps an exact
// state when told to (of float4, float8 or numeric).
func (p *Plan) ExactSums() bool {
	found := false
	p.eachAgg(func(a *Agg) { found = found || a.exactSum() })
	return found
}

// KeepExactSums makes the plan's sums and averages of float4, float8 and
// numeric keep exact states; call it before the plan is used.
func (p *Plan) KeepExactSums() {
	p.eachAgg(func(a *Agg) { a.Exact = a.exactSum() })
}

func (p *Plan) eachAgg(fn func(*Agg)) {
	var walk func(Node)
	walk = func(n Node) {
		if x, ok := n.(*Aggregate); ok {
			for i := range x.Aggs {
				fn(&x.Aggs[i])
			}
		}
		for _, c := range n.children() {
			walk(c)
		}
	}
	walk(p.Root)
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
