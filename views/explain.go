package views

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/log"
)

// Explain describes the incremental plan of a view, as EXPLAIN CREATE
// MATERIALIZED VIEW shows it: each operator with what it keeps as state
// and what a change costs, from the view's output down to the tables
// whose changes feed it. name gives a table's or view's name; details
// are said of the view beside how it is maintained (its changelog).
func (p *Plan) Explain(e *exec.Explainer, name func(log.TableID) string, details ...string) {
	what := "one row per output row, with its multiplicity"
	if p.Distinct {
		what += " (read once: DISTINCT)"
	}
	if a, ok := p.Root.(*Aggregate); ok && len(a.Group) > 0 && a.Having == nil {
		what = "one row per group, keyed by the group (a point lookup by the group reads one key)"
	}
	if streamRows(p) {
		// What a view created now does (lsn_output).
		what = "one row per event of the stream, keyed by its LSN (written without a read, in arrival order)"
	}
	e.Add("Materialized View")
	e.Detail("Maintained: inside each write's commit (read-your-writes)")
	e.Detail("State: %s", what)
	for _, d := range details {
		e.Detail("%s", d)
	}
	if !p.keysKnown {
		// A plan explained before it is created: the layout a view
		// created now gets says which joins keep their facts in the
		// output, and so the backfill's order.
		p.layOutAsNew()
	}
	if order := p.backfillSources; len(order) > 1 {
		names := make([]string, len(order))
		for i, src := range order {
			names[i] = name(src)
		}
		e.Detail("Backfill: reads %s (each source whole, in key order)", strings.Join(names, ", then "))
	}
	e.Nest(func() { explainNode(e, p.Root, name) })
}

func explainNode(e *exec.Explainer, n Node, name func(log.TableID) string) {
	switch x := n.(type) {
	case *Scan:
		e.Add("Changes of %s", name(x.Source))
		if x.Layout == nil {
			e.Detail("Source: the output changes of materialized view %s, in the same commit", name(x.Source))
		}
		return
	case *Filter:
		e.Add("Filter")
		e.Detail("Condition: %s", x.Pred)
	case *Project:
		e.Add("Project")
		e.Detail("Output: %s", exprList(x.Exprs))
	case *Join:
		kind := [...]string{"Inner", "Left", "Right", "Full", "Semi", "Anti"}[x.Kind]
		e.Add("%s Join", kind)
		var keys []string
		for i := range x.LeftKeys {
			keys = append(keys, fmt.Sprintf("%s = %s", x.LeftKeys[i], x.RightKeys[i]))
		}
		e.Detail("Join Key: %s", strings.Join(keys, " AND "))
		if x.On != nil {
			e.Detail("Join Filter: %s", x.On)
		}
		if x.Band != nil {
			e.Detail("State: both inputs' rows, indexed by the join key, then: %s", x.Band.note())
		} else {
			e.Detail("State: both inputs' rows, indexed by the join key; a change reads the other side's rows with its key")
		}
	case *Aggregate:
		e.Add("Aggregate")
		if len(x.Group) > 0 {
			e.Detail("Group Key: %s", exprList(x.Group))
		}
		var aggs []string
		for _, a := range x.Aggs {
			aggs = append(aggs, a.describe())
		}
		e.Detail("Aggregates: %s", strings.Join(aggs, ", "))
		if x.Having != nil {
			e.Detail("Having: %s", x.Having)
		}
		notes := []string{"each group's running state; a change updates its group"}
		for _, a := range x.Aggs {
			var note string
			switch {
			case a.Kind == AggMin || a.Kind == AggMax:
				note = "min/max keep each group's values, so a deleted extreme gives way to the next"
			case a.Kind == AggStringAgg || a.Kind == AggArrayAgg || a.Kind == AggJSONAgg || a.Kind == AggOrderedSet:
				note = "list aggregates keep each group's values in order, and a change costs the group's size"
			case a.Kind == AggCountDistinct || a.Distinct:
				note = "DISTINCT aggregates keep each group's values with their counts"
			}
			if note != "" && !slices.Contains(notes, note) {
				notes = append(notes, note)
			}
		}
		e.Detail("State: %s", strings.Join(notes, "; "))
	case *TopN:
		e.Add("Top-N")
		if len(x.Partition) > 0 {
			e.Detail("Partition: %s", exprList(x.Partition))
		}
		var order []string
		for _, k := range x.Order {
			s := k.Expr.String()
			if k.Desc {
				s += " DESC"
			}
			order = append(order, s)
		}
		e.Detail("Order: %s", strings.Join(order, ", "))
		switch {
		case x.Ties != NoTies:
			e.Detail("Rows: %s <= %d, with ties", x.Ties, x.N)
		case x.Offset > 0:
			e.Detail("Rows: %d after %d", x.N, x.Offset)
		default:
			e.Detail("Rows: %d", x.N)
		}
		ties := ""
		if x.Ties != NoTies {
			ties = " and their ties"
		}
		e.Detail("State: every input row as a candidate, in order per partition; a change reads the first %d of its partition%s", x.Offset+x.N, ties)
	case *Distinct:
		e.Add("Distinct")
		e.Detail("State: each row's multiplicity")
	case *Union:
		e.Add("Union All")
		e.Nest(func() {
			for _, in := range x.Inputs {
				explainNode(e, in, name)
			}
		})
		return
	case *Temporal:
		e.Add("Temporal Filter")
		var bounds []string
		for _, b := range x.Bounds {
			op := "<"
			if b.Lower {
				op = ">="
			}
			bound := b.Expr.String()
			switch {
			case b.Shift > 0:
				bound += " + " + (time.Duration(b.Shift) * time.Microsecond).String()
			case b.Shift < 0:
				bound += " - " + (time.Duration(-b.Shift) * time.Microsecond).String()
			}
			bounds = append(bounds, fmt.Sprintf("now() %s %s", op, bound))
		}
		e.Detail("Condition: %s", strings.Join(bounds, " AND "))
		e.Detail("State: each row with a change ahead, by the time of that change; the view's time advances with each commit and every second")
	case *Window:
		e.Add("Window")
		var fs []string
		for _, f := range x.Funcs {
			fs = append(fs, f.String())
		}
		e.Detail("Functions: %s", strings.Join(fs, ", "))
		if len(x.Funcs[0].Partition) == 0 {
			e.Detail("Partition: none (the rows are one partition)")
		} else {
			e.Detail("Partition: %s", exprList(x.Funcs[0].Partition))
		}
		rows := func(n int64) string {
			if n == 1 {
				return "1 row"
			}
			return fmt.Sprintf("%d rows", n)
		}
		if rc := reachOf(x.Funcs); rc != nil && rc.rng != nil {
			e.Detail("State: every input row by partition, in ORDER BY order; a change reads the rows whose %s is within the frames' offsets of its own, twice over, and its output changes with those within them once", rc.rng.key.Expr)
		} else if rc != nil {
			e.Detail("State: every input row by partition, in ORDER BY order; a change reads %s on each side of it, and its output changes with the %s before it and the %s after it", rows(rc.back+rc.fwd), rows(rc.fwd), rows(rc.back))
		} else if rs := runningOf(x.Funcs, x.Types); rs != nil {
			from := "it"
			if rs.fwd > 0 {
				from = "the " + rows(rs.fwd) + " before it"
			}
			if rs.peers {
				from += " (from the first of its peers)"
			}
			lag := ""
			if rs.back > 0 {
				lag = fmt.Sprintf(" (and the lag of the first from the %s before)", rows(rs.back))
			}
			e.Detail("State: every input row by partition, in ORDER BY order, with its functions' values; a change recomputes the rows from %s to the partition's end, continuing from the row before%s", from, lag)
		} else {
			e.Detail("State: every input row by partition; a change recomputes its partition")
		}
	case *GroupingSets:
		e.Add("Grouping Sets")
		e.Detail("Sets: %d, each an aggregate of its own, their rows appended", len(x.Sets))
		e.Nest(func() {
			for _, a := range x.Sets {
				explainNode(e, a, name)
			}
			explainNode(e, x.Input, name)
		})
		return
	case *SetOpAll:
		if x.Except {
			e.Add("Except All")
		} else {
			e.Add("Intersect All")
		}
		e.Detail("State: each distinct row's count on both sides")
	case *DynFilter:
		e.Add("Dynamic Filter")
		if x.Desc != "" {
			e.Detail("%s", x.Desc)
		} else {
			e.Detail("Condition: %s %s (the subquery's value)", x.Expr, x.Op)
		}
		e.Detail("State: the input's rows ordered by the compared value, and the subquery's row; a move of the value reads the rows between the old and the new")
	case *ProjectSet:
		e.Add("ProjectSet")
		var fs []string
		for _, f := range x.Funcs {
			fs = append(fs, fmt.Sprintf("%s(%s)", f.Name, exprList(f.Args)))
		}
		e.Detail("Functions: %s", strings.Join(fs, ", "))
	default:
		e.Add("%T", n)
	}
	e.Nest(func() {
		for _, c := range n.children() {
			explainNode(e, c, name)
		}
	})
}

func exprList(es []exec.Expr) string {
	parts := make([]string, len(es))
	for i, x := range es {
		parts[i] = x.String()
	}
	return strings.Join(parts, ", ")
}

// describe names an aggregate as written (its argument, DISTINCT).
func (a Agg) describe() string {
	name := [...]string{"count(*)", "count", "count", "sum", "avg", "min", "max", "bool_and", "bool_or", "", "string_agg", "array_agg", "json_agg", ""}[a.Kind]
	if a.Kind == AggOrderedSet {
		name = a.Func.Name
	}
	if a.Kind == AggCountStar {
		return name
	}
	if a.Kind == AggVariance {
		name = map[exec.VarianceKind]string{{Sample: true}: "var_samp", {}: "var_pop", {Sample: true, Stddev: true}: "stddev_samp", {Stddev: true}: "stddev_pop"}[a.Variance]
	}
	if a.Kind == AggJSONAgg && !a.JSONText {
		name = "jsonb_agg"
	}
	arg := ""
	if a.Arg != nil {
		arg = a.Arg.String()
	}
	if a.Kind == AggCountDistinct || a.Distinct {
		arg = "DISTINCT " + arg
	}
	s := name + "(" + arg + ")"
	if a.Filter != nil {
		s += " FILTER (WHERE " + a.Filter.String() + ")"
	}
	return s
}
