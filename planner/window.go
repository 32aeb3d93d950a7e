package planner

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/sql"
	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

// windowContext maps the window function calls of a query level to the
// columns an exec.Window appends after its input's columns. Window
// functions are computed after WHERE, GROUP BY and HAVING and before the
// select list, DISTINCT and ORDER BY, as in PostgreSQL.
type windowContext struct {
	calls []*ast.WindowFuncExpr
	base  int // the Window's first result column
	types []types.T
}

func (w *windowContext) lookup(x *ast.WindowFuncExpr) (exec.Expr, bool) {
	for i, c := range w.calls {
		if c == x {
			return &exec.ColRef{Idx: w.base + i, T: w.types[i], Name: strings.ToLower(x.Name)}, true
		}
	}
	return nil, false
}

// collectWindows finds the window function calls of a query level (not
// inside subqueries), in order of appearance.
func collectWindows(fields []field, order []*ast.ByItem) []*ast.WindowFuncExpr {
	v := &windowCollector{}
	for _, f := range fields {
		f.expr.Accept(v)
	}
	for _, o := range order {
		o.Expr.Accept(v)
	}
	return v.found
}

type windowCollector struct{ found []*ast.WindowFuncExpr }

func (v *windowCollector) Enter(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *ast.WindowFuncExpr:
		v.found = append(v.found, x)
		return n, true
	case *ast.SubqueryExpr:
		return n, true
	}
	return n, false
}

func (v *windowCollector) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// windowNotAllowed is the error for a window function where none may be.
func (eb *exprBinder) windowNotAllowed() error {
	switch eb.what {
	case "window function calls":
		return pgerr.New(pgerr.WindowingError, "window function calls cannot be nested")
	case "aggregate function calls":
		return pgerr.New(pgerr.GroupingError, "aggregate function calls cannot contain window function calls")
	}
	return pgerr.New(pgerr.WindowingError, "window functions are not allowed in %s", eb.what)
}

// buildWindow plans the window functions of a select over input, whose
// columns are the scope post (the FROM row, or the aggregation's output).
func (b *Builder) buildWindow(sel *ast.SelectStmt, calls []*ast.WindowFuncExpr, input exec.Node, post *scope, agg *aggContext) (exec.Node, *windowContext, error) {
	wb := &exprBinder{b: b, scope: post, agg: agg, what: "window function calls"}
	w := &exec.Window{Input: input}
	w.Cols = append(w.Cols, input.Columns()...)
	wc := &windowContext{calls: calls, base: len(w.Cols)}
	for _, c := range calls {
		f, err := b.bindWindowFunc(wb, sel, c)
		if err != nil {
			return nil, nil, err
		}
		w.Funcs = append(w.Funcs, f)
		wc.types = append(wc.types, f.T)
		w.Cols = append(w.Cols, exec.Column{Name: f.Name, T: f.T})
	}
	return w, wc, nil
}

// windowSpec resolves OVER w and OVER (w ...) against the WINDOW clause.
func windowSpec(sel *ast.SelectStmt, spec ast.WindowSpec) (ast.WindowSpec, error) {
	ref := spec.Ref.O
	if spec.OnlyAlias || spec.Name.O != "" && spec.PartitionBy == nil && spec.OrderBy == nil && spec.Frame == nil {
		ref = spec.Name.O
	}
	if ref == "" {
		return spec, nil
	}
	i := windowIndex(sel.WindowSpecs, ref)
	if i < 0 {
		return spec, pgerr.New(pgerr.UndefinedObject, "window %q does not exist", ref)
	}
	b, err := windowDef(sel, i)
	if err != nil || spec.OnlyAlias || spec.Ref.O == "" {
		// OVER w uses w as it is; a frame on w is allowed only here.
		return b, err
	}
	return copyWindow(spec, b, ref)
}

// windowDef resolves the WINDOW clause's i-th definition, which may copy
// one defined before it (WINDOW w2 AS (w1 ORDER BY x)).
func windowDef(sel *ast.SelectStmt, i int) (ast.WindowSpec, error) {
	d := sel.WindowSpecs[i]
	ref := d.Ref.O
	if ref == "" {
		return d, nil
	}
	j := windowIndex(sel.WindowSpecs[:i], ref)
	if j < 0 {
		return d, pgerr.New(pgerr.UndefinedObject, "window %q does not exist", ref)
	}
	b, err := windowDef(sel, j)
	if err != nil {
		return d, err
	}
	return copyWindow(d, b, ref)
}

func windowIndex(specs []ast.WindowSpec, name string) int {
	for i := range specs {
		if specs[i].Name.O == name {
			return i
		}
	}
	return -1
}

// copyWindow is spec over the window b it names (ref), as PostgreSQL
// copies one: b's PARTITION BY, and its ORDER BY unless spec has one.
func copyWindow(spec, b ast.WindowSpec, ref string) (ast.WindowSpec, error) {
	if spec.PartitionBy != nil {
		return spec, pgerr.New(pgerr.WindowingError, "cannot override PARTITION BY clause of window %q", ref)
	}
	if spec.OrderBy != nil && b.OrderBy != nil {
		return spec, pgerr.New(pgerr.WindowingError, "cannot override ORDER BY clause of window %q", ref)
	}
	if b.Frame != nil {
		return spec, pgerr.New(pgerr.WindowingError, "cannot copy window %q because it has a frame clause", ref)
	}
	out := spec
	out.PartitionBy = b.PartitionBy
	if out.OrderBy == nil {
		out.OrderBy = b.OrderBy
	}
	return out, nil
}

func (b *Builder) bindWindowFunc(wb *exprBinder, sel *ast.SelectStmt, x *ast.WindowFuncExpr) (*exec.WindowFunc, error) {
	name := strings.ToLower(x.Name)
	if x.IgnoreNull || x.FromLast {
		return nil, pgerr.New(pgerr.FeatureNotSupported, "IGNORE NULLS and FROM LAST are not supported")
	}
	if x.Distinct {
		return nil, pgerr.New(pgerr.FeatureNotSupported, "DISTINCT is not implemented for window functions")
	}
	spec, err := windowSpec(sel, x.Spec)
	if err != nil {
		return nil, err
	}
	f := &exec.WindowFunc{Name: name, Frame: exec.DefaultFrame}
	if spec.PartitionBy != nil {
		for _, item := range spec.PartitionBy.Items {
			e, err := bindWindowKey(wb, item.Expr)
			if err != nil {
				return nil, err
			}
			if e, err = wb.resolveUnknown(e, tText); err != nil {
				return nil, err
			}
			f.Partition = append(f.Partition, e)
		}
	}
	if spec.OrderBy != nil {
		for _, item := range spec.OrderBy.Items {
			e, err := bindWindowKey(wb, stripNullOrder(item.Expr))
			if err != nil {
				return nil, err
			}
			if e, err = wb.resolveUnknown(e, tText); err != nil {
				return nil, err
			}
			nf := item.Desc
			if v, ok := nullOrder(item); ok {
				nf = v
			}
			f.Order = append(f.Order, exec.SortKey{Expr: e, Desc: item.Desc, NullsFirst: nf})
		}
	}
	args := x.Args
	var filter ast.ExprNode
	if n := len(args); n > 0 {
		// FILTER (WHERE c), which the parse left as a last argument
		// (sql.WindowFilter, unwrapWindowCarrier).
		if c, ok := args[n-1].(*ast.FuncCallExpr); ok && c.FnName.L == sql.WindowFilter && len(c.Args) == 1 {
			args, filter = args[:n-1], c.Args[0]
		}
	}
	if err := b.bindWindowArgs(wb, f, args); err != nil {
		return nil, err
	}
	if filter != nil {
		if f.Agg == nil {
			return nil, pgerr.New(pgerr.FeatureNotSupported, "FILTER is not implemented for non-aggregate window functions")
		}
		fb := &exprBinder{b: b, scope: wb.scope, agg: wb.agg, what: "FILTER"}
		if f.Filter, err = fb.bindAs(filter, tBool, "argument of FILTER"); err != nil {
			return nil, err
		}
	}
	if spec.Frame != nil {
		if f.Frame, err = b.bindFrame(spec.Frame, f.Order); err != nil {
			return nil, err
		}
	}
	return f, nil
}

func (b *Builder) bindWindowArgs(wb *exprBinder, f *exec.WindowFunc, args []ast.ExprNode) error {
	bindArg := func(i int) (exec.Expr, error) {
		e, err := wb.bind(args[i])
		if err != nil {
			return nil, err
		}
		return wb.resolveUnknown(e, tText)
	}
	want := func(n ...int) error {
		for _, k := range n {
			if len(args) == k {
				return nil
			}
		}
		return pgerr.New(pgerr.UndefinedFunction, "function %s with %d arguments does not exist", f.Name, len(args))
	}
	switch f.Name {
	case "row_number", "rank", "dense_rank":
		f.T = tInt8
		return want(0)
	case "percent_rank", "cume_dist":
		f.T = tFloat8
		return want(0)
	case "ntile":
		if err := want(1); err != nil {
			return err
		}
		a, err := wb.bindAs(args[0], tInt4, "argument of ntile")
		if err != nil {
			return err
		}
		f.Args, f.T = []exec.Expr{a}, tInt4
		return nil
	case "lag", "lead":
		if err := want(1, 2, 3); err != nil {
			return err
		}
		v, err := bindArg(0)
		if err != nil {
			return err
		}
		f.Args = []exec.Expr{v}
		if len(args) > 1 {
			off, err := wb.bindAs(args[1], tInt4, "argument of "+f.Name)
			if err != nil {
				return err
			}
			f.Args = append(f.Args, off)
		}
		f.T = v.Type()
		if len(args) > 2 {
			def, err := wb.bind(args[2])
			if err != nil {
				return err
			}
			t, err := wb.unify([]exec.Expr{v, def}, f.Name)
			if err != nil {
				return err
			}
			if f.Args[0], err = wb.coerce(v, t, f.Name); err != nil {
				return err
			}
			if def, err = wb.coerce(def, t, f.Name); err != nil {
				return err
			}
			f.Args = append(f.Args, def)
			f.T = t
		}
		return nil
	case "first_value", "last_value", "nth_value":
		if f.Name == "nth_value" {
			if err := want(2); err != nil {
				return err
			}
		} else if err := want(1); err != nil {
			return err
		}
		v, err := bindArg(0)
		if err != nil {
			return err
		}
		f.Args, f.T = []exec.Expr{v}, v.Type()
		if f.Name == "nth_value" {
			n, err := wb.bindAs(args[1], tInt4, "argument of nth_value")
			if err != nil {
				return err
			}
			f.Args = append(f.Args, n)
		}
		return nil
	}
	if len(args) == 2 && (f.Name == "string_agg" || f.Name == "json_object_agg" || f.Name == "jsonb_object_agg") {
		// Two-argument aggregates take their arguments as one value, as
		// in a GROUP BY (bindAggregateCall).
		ag, err := b.twoArgAggregate(&exprBinder{b: b, scope: wb.scope, agg: wb.agg, what: "window function calls"}, f.Name, args, false)
		if err != nil {
			return err
		}
		f.Args, f.Agg, f.T = []exec.Expr{ag.Arg}, ag.Func, ag.Func.Ret
		return nil
	}
	if len(args) != 1 {
		return pgerr.New(pgerr.UndefinedFunction, "function %s with %d arguments does not exist", f.Name, len(args))
	}
	star := f.Name == "count" && isStarArg(args[0])
	argT := tText
	if !star {
		inner := &exprBinder{b: b, scope: wb.scope, agg: wb.agg, what: "window function calls"}
		a, err := inner.bind(args[0])
		if err != nil {
			return err
		}
		if a, err = inner.resolveUnknown(a, tText); err != nil {
			return err
		}
		f.Args, argT = []exec.Expr{a}, a.Type()
	}
	agg, err := exec.ResolveAgg(f.Name, argT, star)
	if err != nil {
		return err
	}
	if agg == nil {
		if len(exec.Overloads(f.Name)) > 0 {
			return pgerr.New(pgerr.WrongObjectType, "OVER specified, but %s is not a window function nor an aggregate function", f.Name)
		}
		return pgerr.New(pgerr.UndefinedFunction, "function %s does not exist", f.Name)
	}
	f.Agg, f.T = agg, agg.Ret
	return nil
}

// bindFrame checks a frame clause as PostgreSQL's grammar and parser do
// and binds its offsets, which may not refer to columns.
func (b *Builder) bindFrame(fc *ast.FrameClause, order []exec.SortKey) (exec.WindowFrame, error) {
	var fr exec.WindowFrame
	switch fc.Type {
	case ast.Rows:
		fr.Mode = exec.FrameRows
	case ast.Groups:
		fr.Mode = exec.FrameGroups
	default:
		fr.Mode = exec.FrameRange
	}
	kind := func(fb ast.FrameBound) exec.BoundKind {
		switch {
		case fb.Type == ast.CurrentRow:
			return exec.CurrentRow
		case fb.Type == ast.Preceding && fb.UnBounded:
			return exec.UnboundedPreceding
		case fb.Type == ast.Preceding:
			return exec.OffsetPreceding
		case fb.UnBounded:
			return exec.UnboundedFollowing
		}
		return exec.OffsetFollowing
	}
	fr.Start.Kind, fr.End.Kind = kind(fc.Extent.Start), kind(fc.Extent.End)
	switch {
	case fr.Start.Kind == exec.UnboundedFollowing:
		return fr, pgerr.New(pgerr.WindowingError, "frame start cannot be UNBOUNDED FOLLOWING")
	case fr.End.Kind == exec.UnboundedPreceding:
		return fr, pgerr.New(pgerr.WindowingError, "frame end cannot be UNBOUNDED PRECEDING")
	case fr.Start.Kind == exec.CurrentRow && fr.End.Kind == exec.OffsetPreceding:
		return fr, pgerr.New(pgerr.WindowingError, "frame starting from current row cannot have preceding rows")
	case fr.Start.Kind == exec.OffsetFollowing && (fr.End.Kind == exec.OffsetPreceding || fr.End.Kind == exec.CurrentRow):
		return fr, pgerr.New(pgerr.WindowingError, "frame starting from following row cannot have preceding rows")
	}
	if fr.Mode == exec.FrameGroups && len(order) == 0 {
		return fr, pgerr.New(pgerr.WindowingError, "GROUPS mode requires an ORDER BY clause")
	}
	ob := &exprBinder{b: b, scope: &scope{}, what: "window frame offsets"}
	bindOff := func(fb ast.FrameBound, into *exec.FrameBound) error {
		if into.Kind != exec.OffsetPreceding && into.Kind != exec.OffsetFollowing {
			return nil
		}
		what := map[exec.FrameMode]string{exec.FrameRows: "ROWS", exec.FrameGroups: "GROUPS", exec.FrameRange: "RANGE"}[fr.Mode]
		e, err := ob.bind(fb.Expr)
		if err != nil {
			if pe, ok := err.(*pgerr.Error); ok && pe.Code == pgerr.UndefinedColumn {
				return pgerr.New(pgerr.InvalidColumnReference, "argument of %s must not contain variables", what)
			}
			return err
		}
		if fr.Mode != exec.FrameRange {
			into.Offset, err = ob.coerce(e, tInt8, "argument of "+what)
			return err
		}
		if len(order) != 1 {
			return pgerr.New(pgerr.WindowingError, "RANGE with offset PRECEDING/FOLLOWING requires exactly one ORDER BY column")
		}
		col := order[0].Expr.Type()
		var offT types.T
		switch col.OID {
		case types.Int2OID, types.Int4OID, types.Int8OID:
			offT = tInt8
		case types.Float4OID, types.Float8OID:
			offT = tFloat8
		case types.NumericOID:
			offT = tNumeric
		case types.DateOID, types.TimestampOID, types.TimestampTZOID:
			offT = types.Make(types.IntervalOID)
		default:
			return pgerr.New(pgerr.FeatureNotSupported, "RANGE with offset PRECEDING/FOLLOWING is not supported for column type %s", col)
		}
		et := e.Type()
		if et.OID != types.UnknownOID && et.OID != offT.OID && !(exec.Category(et.OID) == 'N' && exec.ImplicitCast(et.OID, offT.OID)) {
			return pgerr.New(pgerr.FeatureNotSupported, "RANGE with offset PRECEDING/FOLLOWING is not supported for column type %s and offset type %s", col, et).
				WithHint("Cast the offset value to an appropriate type.")
		}
		into.Offset, err = ob.coerce(e, offT, "argument of RANGE")
		return err
	}
	if err := bindOff(fc.Extent.Start, &fr.Start); err != nil {
		return fr, err
	}
	if err := bindOff(fc.Extent.End, &fr.End); err != nil {
		return fr, err
	}
	return fr, nil
}

// bindWindowKey binds a PARTITION BY or ORDER BY item of a window, where
// an integer is a constant, not a select-list position (TiDB parses it as
// a position).
func bindWindowKey(wb *exprBinder, n ast.ExprNode) (exec.Expr, error) {
	if p, ok := n.(*ast.PositionExpr); ok && p.P == nil {
		return &exec.Const{Val: int64(p.N), T: tInt4}, nil
	}
	return wb.bind(n)
}
