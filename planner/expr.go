package planner

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/cockroachdb/apd/v3"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"
	driver "github.com/pingcap/tidb/pkg/parser/test_driver"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

var (
	tUnknown = types.Make(types.UnknownOID)
	tBool    = types.Make(types.BoolOID)
	tInt4    = types.Make(types.Int4OID)
	tInt8    = types.Make(types.Int8OID)
	tNumeric = types.Make(types.NumericOID)
	tFloat8  = types.Make(types.Float8OID)
	tText    = types.Make(types.TextOID)
)

// Params tracks the statement's parameters: their types, given by the
// client or inferred from where they are used, and which TiDB marker is
// which $n.
type Params struct {
	Types []types.T
	// Marker maps a TiDB marker's Order to its $n.
	Marker []int
}

func (p *Params) typeOf(n int) types.T {
	if n-1 < len(p.Types) {
		return p.Types[n-1]
	}
	return tUnknown
}

func (p *Params) setType(n int, t types.T) {
	for len(p.Types) < n {
		p.Types = append(p.Types, tUnknown)
	}
	p.Types[n-1] = types.Make(t.OID)
}

// exprBinder types expressions over a scope.
type exprBinder struct {
	b     *Builder
	scope *scope
	// agg, when set, maps aggregate calls and grouped expressions to the
	// output of the aggregation (see select.go).
	agg *aggContext
	// what names the clause, for errors ("WHERE", "JOIN/ON", ...).
	what string
	// win, when set, maps window function calls to the columns the
	// query's exec.Window computes (see window.go).
	win *windowContext
	// srf, when set, takes the set-returning function calls of a select
	// list (see srf.go); without it they are refused.
	srf *srfContext
}

func (eb *exprBinder) bind(n ast.ExprNode) (exec.Expr, error) {
	if x, ok := n.(*ast.WindowFuncExpr); ok {
		if eb.win != nil {
			if e, ok := eb.win.lookup(x); ok {
				return e, nil
			}
		}
		return nil, eb.windowNotAllowed()
	}
	if eb.agg != nil {
		if e, ok, err := eb.agg.lookup(eb, n); ok || err != nil {
			return e, err
		}
	}
	switch x := n.(type) {
	case *ast.ParenthesesExpr:
		return eb.bind(x.Expr)
	case *driver.ParamMarkerExpr:
		num := x.Order + 1
		if x.Order < len(eb.b.params.Marker) {
			num = eb.b.params.Marker[x.Order]
		}
		return &exec.Param{N: num, T: eb.b.params.typeOf(num)}, nil
	case *driver.ValueExpr:
		return literal(x)
	case *ast.ColumnNameExpr:
		return eb.column(x.Name)
	case *ast.BinaryOperationExpr:
		return eb.binary(x)
	case *ast.UnaryOperationExpr:
		return eb.unary(x)
	case *ast.IsNullExpr:
		a, err := eb.bind(x.Expr)
		if err != nil {
			return nil, err
		}
		a, err = eb.resolveUnknown(a, tText)
		if err != nil {
			return nil, err
		}
		return &exec.IsNull{Arg: a, Not: x.Not}, nil
	case *ast.IsTruthExpr:
		a, err := eb.bindAs(x.Expr, tBool, "IS TRUE")
		if err != nil {
			return nil, err
		}
		return &exec.IsBool{Arg: a, Want: x.True != 0, Not: x.Not}, nil
	case *ast.PatternInExpr:
		return eb.in(x)
	case *ast.BetweenExpr:
		return eb.between(x)
	case *ast.PatternLikeOrIlikeExpr:
		return eb.like(x)
	case *ast.CaseExpr:
		return eb.caseExpr(x)
	case *ast.FuncCallExpr:
		return eb.funcCall(x)
	case *ast.AggregateFuncExpr:
		return nil, pgerr.New(pgerr.GroupingError, "aggregate functions are not allowed in %s", eb.what)
	case *ast.SubqueryExpr:
		if e, ok := eb.b.scalarCols[x]; ok {
			return e, nil
		}
		return eb.scalarSubquery(x)
	case *ast.ExistsSubqueryExpr:
		return eb.exists(x)
	case *ast.CompareSubqueryExpr:
		return eb.compareSubquery(x)
	case *ast.DefaultExpr:
		return nil, pgerr.New(pgerr.SyntaxError, "DEFAULT is not allowed in this context")
	case *ast.RowExpr:
		return nil, pgerr.New(pgerr.FeatureNotSupported, "row values are supported only in comparisons, IN and IN (subquery)")
	}
	return nil, pgerr.New(pgerr.FeatureNotSupported, "expression %T is not supported", n)
}

// bindAs binds n and coerces it to t (assignment-style, implicit casts).
func (eb *exprBinder) bindAs(n ast.ExprNode, t types.T, ctx string) (exec.Expr, error) {
	e, err := eb.bind(n)
	if err != nil {
		return nil, err
	}
	return eb.coerce(e, t, ctx)
}

func (eb *exprBinder) column(c *ast.ColumnName) (exec.Expr, error) {
	if i, ok := eb.scope.starCols[c]; ok {
		col := eb.scope.cols[i]
		return &exec.ColRef{Idx: i, T: col.t, Name: col.name}, nil
	}
	table := c.Table.O
	if c.Schema.O != "" {
		// schema.table.column: the table's alias is its name.
		table = c.Table.O
	}
	return eb.scope.ref(table, c.Name.O)
}

// literal types a TiDB literal as PostgreSQL would: strings are unknown
// until context decides, integers int4/int8/numeric by size, decimals
// numeric.
func literal(v *driver.ValueExpr) (exec.Expr, error) {
	d := v.Datum
	switch d.Kind() {
	case driver.KindNull:
		return &exec.Const{Val: nil, T: tUnknown}, nil
	case driver.KindInt64:
		i := d.GetInt64()
		if i >= -1<<31 && i < 1<<31 {
			return &exec.Const{Val: i, T: tInt4}, nil
		}
		return &exec.Const{Val: i, T: tInt8}, nil
	case driver.KindUint64:
		dec, err := types.NewNumeric(strconv.FormatUint(d.GetUint64(), 10))
		if err != nil {
			return nil, err
		}
		return &exec.Const{Val: dec, T: tNumeric}, nil
	case driver.KindMysqlDecimal:
		dec, err := types.NewNumeric(d.GetMysqlDecimal().String())
		if err != nil {
			return nil, err
		}
		return &exec.Const{Val: dec, T: tNumeric}, nil
	case driver.KindFloat64, driver.KindFloat32:
		// 1e3 in PostgreSQL is numeric.
		dec, err := types.NewNumeric(strconv.FormatFloat(d.GetFloat64(), 'g', -1, 64))
		if err != nil {
			return nil, err
		}
		return &exec.Const{Val: dec, T: tNumeric}, nil
	case driver.KindString, driver.KindBytes:
		return &exec.Const{Val: d.GetString(), T: tUnknown}, nil
	}
	return nil, pgerr.New(pgerr.FeatureNotSupported, "literal of kind %d is not supported", d.Kind())
}

// coerce converts e to t the way an assignment or a function argument is
// converted: unknown literals are read as t, parameters of unknown type
// become t, other types need an implicit cast.
func (eb *exprBinder) coerce(e exec.Expr, t types.T, ctx string) (exec.Expr, error) {
	from := e.Type()
	if from == t {
		return e, nil
	}
	switch x := e.(type) {
	case *exec.Const:
		if from.OID == types.UnknownOID {
			if x.Val == nil {
				return &exec.Const{Val: nil, T: t}, nil
			}
			v, err := types.ParseText(t, x.Val.(string), eb.b.settings)
			if err != nil {
				return nil, err
			}
			return &exec.Const{Val: v, T: t}, nil
		}
	case *exec.Param:
		if from.OID == types.UnknownOID {
			eb.b.params.setType(x.N, t)
			x.T = types.Make(t.OID)
			if t.Typmod >= 0 {
				return &exec.Cast{Arg: x, To: t}, nil
			}
			return x, nil
		}
	}
	if from.OID == t.OID {
		if t.Typmod < 0 {
			return e, nil
		}
		return &exec.Cast{Arg: e, To: t}, nil
	}
	if exec.ImplicitCast(from.OID, t.OID) || assignmentCast(from.OID, t.OID) {
		return &exec.Cast{Arg: e, To: t}, nil
	}
	return nil, pgerr.New(pgerr.DatatypeMismatch, "%s is of type %s but expression is of type %s", ctx, t, from).
		WithHint("You will need to rewrite or cast the expression.")
}

// assignmentCast covers pg_cast entries with castcontext 'a': allowed when
// storing into a column (numeric → int, float → int, etc.).
func assignmentCast(from, to types.OID) bool {
	rf, rt := exec.Category(from), exec.Category(to)
	if rf == 'N' && rt == 'N' {
		return true
	}
	if rt == 'S' {
		return true // anything has an assignment cast to text via its output function
	}
	if from == types.TimestampTZOID && (to == types.TimestampOID || to == types.DateOID || to == types.TimeOID) {
		return true
	}
	if from == types.TimestampOID && (to == types.DateOID || to == types.TimeOID) {
		return true
	}
	if (from == types.JSONOID && to == types.JSONBOID) || (from == types.JSONBOID && to == types.JSONOID) {
		return true
	}
	return false
}

// resolveUnknown gives an unknown literal or parameter the type def.
func (eb *exprBinder) resolveUnknown(e exec.Expr, def types.T) (exec.Expr, error) {
	if e.Type().OID != types.UnknownOID {
		return e, nil
	}
	return eb.coerce(e, def, "expression")
}

var binaryOps = map[opcode.Op]string{
	opcode.Plus: "+", opcode.Minus: "-", opcode.Mul: "*", opcode.Div: "/", opcode.Mod: "%",
	opcode.EQ: "=", opcode.NE: "<>", opcode.LT: "<", opcode.LE: "<=", opcode.GT: ">", opcode.GE: ">=",
}

func (eb *exprBinder) binary(x *ast.BinaryOperationExpr) (exec.Expr, error) {
	switch x.Op {
	case opcode.LogicAnd, opcode.LogicOr:
		l, err := eb.bindAs(x.L, tBool, "argument of "+strings.ToUpper(x.Op.String()))
		if err != nil {
			return nil, err
		}
		r, err := eb.bindAs(x.R, tBool, "argument of "+strings.ToUpper(x.Op.String()))
		if err != nil {
			return nil, err
		}
		and := x.Op == opcode.LogicAnd
		// Flatten nested ANDs/ORs for shorter plans.
		var args []exec.Expr
		for _, e := range []exec.Expr{l, r} {
			if b, ok := e.(*exec.BoolOp); ok && b.And == and {
				args = append(args, b.Args...)
			} else {
				args = append(args, e)
			}
		}
		return &exec.BoolOp{And: and, Args: args}, nil
	}
	op, ok := binaryOps[x.Op]
	if !ok {
		return nil, pgerr.New(pgerr.FeatureNotSupported, "operator %s is not supported", x.Op)
	}
	if lv, ok := rowValues(x.L); ok {
		if rv, ok := rowValues(x.R); ok {
			return eb.bindRowCompare(op, lv, rv)
		}
	}
	l, err := eb.bind(x.L)
	if err != nil {
		return nil, err
	}
	r, err := eb.bind(x.R)
	if err != nil {
		return nil, err
	}
	return eb.operator(op, l, r)
}

// operator resolves a binary operator over bound operands.
func (eb *exprBinder) operator(op string, l, r exec.Expr) (exec.Expr, error) {
	f, args, err := eb.resolve(op, true, []exec.Expr{l, r})
	if err != nil {
		return nil, err
	}
	return &exec.Call{Fn: f, Args: args, T: f.Ret}, nil
}

func (eb *exprBinder) unary(x *ast.UnaryOperationExpr) (exec.Expr, error) {
	switch x.Op {
	case opcode.Not, opcode.Not2:
		a, err := eb.bindAs(x.V, tBool, "argument of NOT")
		if err != nil {
			return nil, err
		}
		return &exec.Not{Arg: a}, nil
	case opcode.Minus, opcode.Plus:
		// Fold -literal so that -2147483648 is an int4, as in PostgreSQL.
		if v, ok := x.V.(*driver.ValueExpr); ok && x.Op == opcode.Minus {
			c, err := literal(v)
			if err != nil {
				return nil, err
			}
			if neg, ok := negateConst(c.(*exec.Const)); ok {
				return neg, nil
			}
		}
		a, err := eb.bind(x.V)
		if err != nil {
			return nil, err
		}
		op := "-"
		if x.Op == opcode.Plus {
			op = "+"
		}
		f, args, err := eb.resolve(op, true, []exec.Expr{a})
		if err != nil {
			return nil, err
		}
		return &exec.Call{Fn: f, Args: args, T: f.Ret}, nil
	}
	return nil, pgerr.New(pgerr.FeatureNotSupported, "unary operator %s is not supported", x.Op)
}

// minInt8Neg is the literal 9223372036854775808: -minInt8Neg is an int8.
var minInt8Neg, _, _ = apd.NewFromString("9223372036854775808")

func negateConst(c *exec.Const) (exec.Expr, bool) {
	switch v := c.Val.(type) {
	case *apd.Decimal:
		// 9223372036854775808 is a numeric literal, but its negation is
		// the smallest int8, and PostgreSQL's grammar folds it to one.
		if v.Cmp(minInt8Neg) == 0 {
			return &exec.Const{Val: int64(math.MinInt64), T: tInt8}, true
		}
	case int64:
		n := -v
		if n >= -1<<31 && n < 1<<31 {
			return &exec.Const{Val: n, T: tInt4}, true
		}
		return &exec.Const{Val: n, T: tInt8}, true
	}
	return nil, false
}

func (eb *exprBinder) in(x *ast.PatternInExpr) (exec.Expr, error) {
	if x.Sel != nil {
		return eb.inSubquery(x)
	}
	if lv, ok := rowValues(x.Expr); ok {
		// (a, b) IN ((1, 2), (3, 4)): the row equal to one of them.
		alts := make([]exec.Expr, len(x.List))
		for i, n := range x.List {
			rv, ok := rowValues(n)
			if !ok {
				rv = []ast.ExprNode{n}
			}
			e, err := eb.bindRowCompare("=", lv, rv)
			if err != nil {
				return nil, err
			}
			alts[i] = e
		}
		var e exec.Expr = &exec.BoolOp{Args: alts}
		if x.Not {
			e = &exec.Not{Arg: e}
		}
		return e, nil
	}
	a, err := eb.bind(x.Expr)
	if err != nil {
		return nil, err
	}
	list := make([]exec.Expr, len(x.List))
	common := a.Type()
	for i, n := range x.List {
		if list[i], err = eb.bind(n); err != nil {
			return nil, err
		}
		if c, ok := exec.CommonType(common, list[i].Type()); ok {
			common = c
		} else {
			return nil, pgerr.New(pgerr.DatatypeMismatch, "IN types %s and %s cannot be matched", common, list[i].Type())
		}
	}
	if common.OID == types.UnknownOID {
		common = tText
	}
	if a, err = eb.coerce(a, common, "IN"); err != nil {
		return nil, err
	}
	for i := range list {
		if list[i], err = eb.coerce(list[i], common, "IN"); err != nil {
			return nil, err
		}
	}
	return &exec.InList{Arg: a, List: list, Not: x.Not, T: common}, nil
}

func (eb *exprBinder) between(x *ast.BetweenExpr) (exec.Expr, error) {
	a, err := eb.bind(x.Expr)
	if err != nil {
		return nil, err
	}
	lo, err := eb.bind(x.Left)
	if err != nil {
		return nil, err
	}
	hi, err := eb.bind(x.Right)
	if err != nil {
		return nil, err
	}
	ge, err := eb.operator(">=", a, lo)
	if err != nil {
		return nil, err
	}
	le, err := eb.operator("<=", a, hi)
	if err != nil {
		return nil, err
	}
	var e exec.Expr = &exec.BoolOp{And: true, Args: []exec.Expr{ge, le}}
	if x.Not {
		e = &exec.Not{Arg: e}
	}
	return e, nil
}

func (eb *exprBinder) like(x *ast.PatternLikeOrIlikeExpr) (exec.Expr, error) {
	a, err := eb.bindAs(x.Expr, tText, "LIKE")
	if err != nil {
		return nil, err
	}
	p, err := eb.bindAs(x.Pattern, tText, "LIKE")
	if err != nil {
		return nil, err
	}
	if x.Escape != '\\' && x.Escape != 0 {
		return nil, pgerr.New(pgerr.FeatureNotSupported, "LIKE ... ESCAPE is not supported yet")
	}
	op := "~~"
	if !x.IsLike {
		op = "~~*"
	}
	if x.Not {
		op = "!" + op
	}
	return eb.operator(op, a, p)
}

func (eb *exprBinder) caseExpr(x *ast.CaseExpr) (exec.Expr, error) {
	defer eb.refuseSRF("set-returning functions are not allowed in CASE")()
	var operand exec.Expr
	var err error
	if x.Value != nil {
		if operand, err = eb.bind(x.Value); err != nil {
			return nil, err
		}
	}
	c := &exec.Case{}
	results := make([]exec.Expr, 0, len(x.WhenClauses)+1)
	for _, w := range x.WhenClauses {
		var cond exec.Expr
		if operand != nil {
			v, err := eb.bind(w.Expr)
			if err != nil {
				return nil, err
			}
			if cond, err = eb.operator("=", operand, v); err != nil {
				return nil, err
			}
		} else if cond, err = eb.bindAs(w.Expr, tBool, "argument of CASE/WHEN"); err != nil {
			return nil, err
		}
		then, err := eb.bind(w.Result)
		if err != nil {
			return nil, err
		}
		c.Whens = append(c.Whens, exec.When{Cond: cond, Then: then})
		results = append(results, then)
	}
	if x.ElseClause != nil {
		if c.Else, err = eb.bind(x.ElseClause); err != nil {
			return nil, err
		}
		results = append(results, c.Else)
	}
	t, err := eb.unify(results, "CASE")
	if err != nil {
		return nil, err
	}
	for i := range c.Whens {
		if c.Whens[i].Then, err = eb.coerce(c.Whens[i].Then, t, "CASE"); err != nil {
			return nil, err
		}
	}
	if c.Else != nil {
		if c.Else, err = eb.coerce(c.Else, t, "CASE"); err != nil {
			return nil, err
		}
	}
	c.T = t
	return c, nil
}

// unify picks the result type of CASE, COALESCE, UNION and VALUES columns
// (PostgreSQL's select_common_type): unknowns become text when nothing else
// decides.
func (eb *exprBinder) unify(es []exec.Expr, ctx string) (types.T, error) {
	t := tUnknown
	for _, e := range es {
		et := e.Type()
		if et.OID == types.UnknownOID {
			continue
		}
		if t.OID == types.UnknownOID {
			t = et
			continue
		}
		c, ok := exec.CommonType(t, et)
		if !ok {
			return types.T{}, pgerr.New(pgerr.DatatypeMismatch, "%s types %s and %s cannot be matched", ctx, t, et)
		}
		t = c
	}
	if t.OID == types.UnknownOID {
		t = tText
	}
	return t, nil
}

func (eb *exprBinder) bindList(ns []ast.ExprNode) ([]exec.Expr, error) {
	out := make([]exec.Expr, len(ns))
	for i, n := range ns {
		e, err := eb.bind(n)
		if err != nil {
			return nil, err
		}
		out[i] = e
	}
	return out, nil
}

// stringArg reads a literal string argument of a pg_* carrier function.
func stringArg(n ast.ExprNode) (string, error) {
	if v, ok := n.(*driver.ValueExpr); ok && (v.Datum.Kind() == driver.KindString || v.Datum.Kind() == driver.KindBytes) {
		return v.Datum.GetString(), nil
	}
	return "", fmt.Errorf("internal: expected a string literal, got %T", n)
}

// exprParts are the expressions e is made of that read the row (nil
// entries are absent parts); known is false for an expression kind it
// does not list (a subquery, say), whose parts a caller cannot see.
// ArrayCompare's Cmp is not a part: it compares a pair of values of its
// own, not the row.
func exprParts(e exec.Expr) (parts []exec.Expr, known bool) {
	switch x := e.(type) {
	case nil, *exec.ColRef, *exec.Const, *exec.Param, *exec.OuterRef:
		return nil, true
	case *exec.Call:
		return x.Args, true
	case *exec.Cast:
		return []exec.Expr{x.Arg}, true
	case *exec.BoolOp:
		return x.Args, true
	case *exec.Not:
		return []exec.Expr{x.Arg}, true
	case *exec.IsNull:
		return []exec.Expr{x.Arg}, true
	case *exec.IsBool:
		return []exec.Expr{x.Arg}, true
	case *exec.Distinct:
		return []exec.Expr{x.A, x.B}, true
	case *exec.Case:
		out := []exec.Expr{x.Else}
		for _, w := range x.Whens {
			out = append(out, w.Cond, w.Then)
		}
		return out, true
	case *exec.Coalesce:
		return x.Args, true
	case *exec.InList:
		return append([]exec.Expr{x.Arg}, x.List...), true
	case *exec.ArrayExpr:
		return x.Elems, true
	case *exec.ArrayCompare:
		return []exec.Expr{x.Arg, x.Array}, true
	case *exec.Subscript:
		return []exec.Expr{x.Array, x.Index}, true
	case *exec.FieldSelect:
		return []exec.Expr{x.Arg}, true
	}
	return nil, false
}

// callsFunc reports whether e calls a function that is (a Call anywhere
// among its known parts).
func callsFunc(e exec.Expr, is func(*exec.Func) bool) bool {
	if c, ok := e.(*exec.Call); ok && is(c.Fn) {
		return true
	}
	parts, _ := exprParts(e)
	for _, a := range parts {
		if callsFunc(a, is) {
			return true
		}
	}
	return false
}
