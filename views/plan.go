// Package views maintains materialized views inside the commit: the
// sequencer hands every intent's changes to the Maintainer (a
// log.CommitHook), which maps them through each dependent view's
// incremental plan to changes of the view's state, written in the same
// Pebble batch as the base events. When a write is acknowledged, every view
// already reflects it.
//
// A view's state is a Z-set (as in DBSP): rows with multiplicities. Each
// operator turns an input delta (rows with weights +n/-n) into an output
// delta in work proportional to the delta: a filter or projection maps
// rows; an aggregation keeps per-group state (and, for min and max, the
// multiset of values per group, so the extreme survives deletes); a join
// keeps both inputs indexed by the join key and joins each delta row with
// the other side's current state (processing changes one at a time is the
// bilinear delta rule: d(L⋈R) = dL⋈R + L'⋈dR).
package views

import (
	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql/types"
)

// Plan is the incremental plan of one view, built by the planner from the
// view's SELECT. Rows flowing through it are the concatenation of the
// sources' rows (each source row is its table's columns then _version).
type Plan struct {
	View    log.TableID
	Sources []*exec.TableLayout
	// LeftKeys/RightKeys join Sources[0] and Sources[1] on equality
	// (expressions over each source's own row).
	LeftKeys, RightKeys []exec.Expr
	// Filter is over the combined row; nil passes everything.
	Filter exec.Expr
	// Aggregated plans group the filtered rows by Group and compute Aggs;
	// Output (and Having) then read [group values..., aggregate results...].
	// Otherwise Output reads the combined row.
	Aggregated bool
	Group      []exec.Expr
	Aggs       []Agg
	Having     exec.Expr
	Output     []exec.Expr
	OutTypes   []types.T
	// Distinct views (SELECT DISTINCT) show each row once.
	Distinct bool
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
