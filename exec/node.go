package exec

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/strand-db/strand/sql/types"
)

// Node is a plan operator. Operators push rows: Run calls emit for every
// output row, in order. A row passed to emit is valid only during the call
// (operators reuse buffers); emit returns ErrStop to end the run early
// without error. Runs are independent: a Node may be run many times
// (correlated subqueries, the inner side of a nested loop).
type Node interface {
	Columns() []Column
	Run(rt *Runtime, emit func(Row) error) error
	// Explain describes the node and its children for EXPLAIN.
	Explain(e *Explainer)
}

// Column describes an output column.
type Column struct {
	Name string
	T    types.T
	// Table and Attr identify a source table column (for RowDescription),
	// or are zero.
	Table uint32
	Attr  uint16
}

// ErrStop ends a Run early without an error.
var ErrStop = errors.New("stop")

// Runtime is one statement execution: its context, environment and the
// data it reads.
type Runtime struct {
	Ctx    context.Context
	Env    *Env
	Tables TableSource
}

// TableSource reads tables as of the statement's snapshot, including the
// transaction's own writes.
type TableSource interface {
	// Scan calls fn for every live row of the table whose encoded key starts
	// with prefix (nil: all), in key order for keyed tables and commit order
	// for streams.
	Scan(ctx context.Context, l *TableLayout, prefix []byte, fn func(Row) error) error
}

// Explainer collects EXPLAIN lines.
type Explainer struct {
	Lines []string
	depth int
}

// Add writes a line for the current node.
func (e *Explainer) Add(format string, args ...any) {
	prefix := strings.Repeat("  ", e.depth)
	if e.depth > 0 {
		prefix = strings.Repeat("  ", e.depth-1) + "->  "
	}
	e.Lines = append(e.Lines, prefix+fmt.Sprintf(format, args...))
}

// Detail writes an indented property line of the current node.
func (e *Explainer) Detail(format string, args ...any) {
	e.Lines = append(e.Lines, strings.Repeat("  ", e.depth+1)+fmt.Sprintf(format, args...))
}

// Nest runs fn one level deeper (for trees that are not exec.Nodes: a
// materialized view's incremental plan).
func (e *Explainer) Nest(fn func()) {
	e.depth++
	fn()
	e.depth--
}

// Child explains a child node one level deeper.
func (e *Explainer) Child(n Node) {
	e.depth++
	n.Explain(e)
	e.depth--
}

// Collect runs n and returns copies of all its rows.
func Collect(rt *Runtime, n Node) ([]Row, error) {
	var out []Row
	err := n.Run(rt, func(r Row) error {
		out = append(out, append(Row(nil), r...))
		return nil
	})
	return out, err
}

func runStop(err error) error {
	if errors.Is(err, ErrStop) {
		return nil
	}
	return err
}

// Scan reads a table. Prefix, if set, is an encoded key prefix (a point
// lookup when it covers the whole key).
type Scan struct {
	Layout *TableLayout
	Cols   []Column
	Prefix Expr // evaluates to the encoded prefix ([]byte), or nil
	// PrefixDesc describes the prefix for EXPLAIN.
	PrefixDesc string
	// Point: the prefix fixes every key column of a keyed table, so the
	// scan is one key lookup.
	Point bool
}

// PointReader reads one key of a keyed table: the row and _version, or
// found=false.
type PointReader interface {
	Get(l *TableLayout, key []byte) (Row, bool, error)
}

func (s *Scan) Columns() []Column { return s.Cols }
func (s *Scan) Run(rt *Runtime, emit func(Row) error) error {
	var prefix []byte
	if s.Prefix != nil {
		v, err := s.Prefix.Eval(rt.Env, nil)
		if err != nil {
			return err
		}
		if v == nil {
			return nil // a NULL key matches nothing
		}
		prefix = v.([]byte)
		if pr, ok := rt.Tables.(PointReader); ok && s.Point {
			row, found, err := pr.Get(s.Layout, prefix)
			if err != nil || !found {
				return err
			}
			return runStop(emit(row))
		}
	}
	return runStop(rt.Tables.Scan(rt.Ctx, s.Layout, prefix, emit))
}
func (s *Scan) Explain(e *Explainer) {
	if s.Prefix != nil && s.Point {
		e.Add("Key Lookup on %s", s.Layout.Desc.Name)
		e.Detail("Key: %s", s.PrefixDesc)
		return
	}
	if s.Prefix != nil {
		e.Add("Key Scan on %s", s.Layout.Desc.Name)
		e.Detail("Key: %s", s.PrefixDesc)
		return
	}
	e.Add("Seq Scan on %s", s.Layout.Desc.Name)
}

// Values produces literal rows.
type Values struct {
	Cols []Column
	Rows [][]Expr
}

func (v *Values) Columns() []Column { return v.Cols }
func (v *Values) Run(rt *Runtime, emit func(Row) error) error {
	row := make(Row, len(v.Cols))
	for _, exprs := range v.Rows {
		for i, e := range exprs {
			d, err := e.Eval(rt.Env, nil)
			if err != nil {
				return err
			}
			row[i] = d
		}
		if err := emit(row); err != nil {
			return runStop(err)
		}
	}
	return nil
}
func (v *Values) Explain(e *Explainer) { e.Add("Values Scan (%d rows)", len(v.Rows)) }

// Filter passes the rows for which Pred is true.
type Filter struct {
	Input Node
	Pred  Expr
}

func (f *Filter) Columns() []Column { return f.Input.Columns() }
func (f *Filter) Run(rt *Runtime, emit func(Row) error) error {
	return f.Input.Run(rt, func(r Row) error {
		ok, err := EvalBool(f.Pred, rt.Env, r)
		if err != nil || !ok {
			return err
		}
		return emit(r)
	})
}
func (f *Filter) Explain(e *Explainer) {
	e.Add("Filter")
	e.Detail("Filter: %s", f.Pred)
	e.Child(f.Input)
}

// Project computes output columns from each input row.
type Project struct {
	Input Node
	Exprs []Expr
	Cols  []Column
}

func (p *Project) Columns() []Column { return p.Cols }
func (p *Project) Run(rt *Runtime, emit func(Row) error) error {
	out := make(Row, len(p.Exprs))
	return p.Input.Run(rt, func(r Row) error {
		for i, e := range p.Exprs {
			v, err := e.Eval(rt.Env, r)
			if err != nil {
				return err
			}
			out[i] = v
		}
		return emit(out)
	})
}
func (p *Project) Explain(e *Explainer) {
	parts := make([]string, len(p.Exprs))
	for i, x := range p.Exprs {
		parts[i] = x.String()
	}
	e.Add("Project")
	e.Detail("Output: %s", strings.Join(parts, ", "))
	e.Child(p.Input)
}

// Limit passes at most Count rows after skipping Offset (nil: none).
type Limit struct {
	Input         Node
	Count, Offset Expr
}

func (l *Limit) Columns() []Column { return l.Input.Columns() }
func (l *Limit) Run(rt *Runtime, emit func(Row) error) error {
	count, offset := int64(-1), int64(0)
	if l.Count != nil {
		v, err := l.Count.Eval(rt.Env, nil)
		if err != nil {
			return err
		}
		if v != nil {
			count = v.(int64)
			if count < 0 {
				return pgErr("2201W", "LIMIT must not be negative")
			}
		}
	}
	if l.Offset != nil {
		v, err := l.Offset.Eval(rt.Env, nil)
		if err != nil {
			return err
		}
		if v != nil {
			offset = v.(int64)
			if offset < 0 {
				return pgErr("2201X", "OFFSET must not be negative")
			}
		}
	}
	if count == 0 {
		return nil
	}
	var seen, sent int64
	return runStop(l.Input.Run(rt, func(r Row) error {
		seen++
		if seen <= offset {
			return nil
		}
		sent++
		if err := emit(r); err != nil {
			return err
		}
		if count >= 0 && sent >= count {
			return ErrStop
		}
		return nil
	}))
}
func (l *Limit) Explain(e *Explainer) {
	e.Add("Limit")
	e.Child(l.Input)
}

// SortKey orders by one expression.
type SortKey struct {
	Expr       Expr
	Desc       bool
	NullsFirst bool
}

// Sort orders its input (stable, so ties keep input order).
type Sort struct {
	Input Node
	Keys  []SortKey
}

func (s *Sort) Columns() []Column { return s.Input.Columns() }
func (s *Sort) Run(rt *Runtime, emit func(Row) error) error {
	type keyed struct {
		row  Row
		keys []types.Datum
	}
	var rows []keyed
	err := s.Input.Run(rt, func(r Row) error {
		k := keyed{row: append(Row(nil), r...), keys: make([]types.Datum, len(s.Keys))}
		for i, sk := range s.Keys {
			v, err := sk.Expr.Eval(rt.Env, r)
			if err != nil {
				return err
			}
			k.keys[i] = v
		}
		rows = append(rows, k)
		return nil
	})
	if err != nil {
		return err
	}
	sort.SliceStable(rows, func(i, j int) bool {
		for k, sk := range s.Keys {
			c := CompareNulls(sk.Expr.Type(), rows[i].keys[k], rows[j].keys[k], sk.NullsFirst)
			if sk.Desc {
				c = -c
				// NULLS FIRST/LAST is about the output order, not the
				// value order: undo the flip for NULLs.
				if (rows[i].keys[k] == nil) != (rows[j].keys[k] == nil) {
					c = -c
				}
			}
			if c != 0 {
				return c < 0
			}
		}
		return false
	})
	for _, r := range rows {
		if err := ctxErr(rt); err != nil {
			return err
		}
		if err := emit(r.row); err != nil {
			return runStop(err)
		}
	}
	return nil
}
func (s *Sort) Explain(e *Explainer) {
	parts := make([]string, len(s.Keys))
	for i, k := range s.Keys {
		parts[i] = k.Expr.String()
		if k.Desc {
			parts[i] += " DESC"
		}
	}
	e.Add("Sort")
	e.Detail("Sort Key: %s", strings.Join(parts, ", "))
	e.Child(s.Input)
}

// CompareNulls compares two values where either may be NULL; NULL sorts
// first when nullsFirst, else last.
func CompareNulls(t types.T, a, b types.Datum, nullsFirst bool) int {
	switch {
	case a == nil && b == nil:
		return 0
	case a == nil:
		if nullsFirst {
			return -1
		}
		return 1
	case b == nil:
		if nullsFirst {
			return 1
		}
		return -1
	}
	return types.Compare(t, a, b)
}

func ctxErr(rt *Runtime) error {
	if rt.Ctx == nil {
		return nil
	}
	select {
	case <-rt.Ctx.Done():
		return context.Cause(rt.Ctx)
	default:
		return nil
	}
}
