package vec

import (
	"cmp"
	"math"
	"strings"
	"sync"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/sql/types"
)

// batch is one record batch of a scan as expressions read it: n rows and a
// vector per scan column the query reads (nil for the others), indexed as
// the row engine's scan row (the table's columns, then _version).
type batch struct {
	n    int
	cols []*vector
	env  *exec.Env
}

// vexpr is a compiled expression. eval computes it for the rows of sel
// (ascending row indices of b); the result is defined at those positions.
type vexpr interface {
	eval(b *batch, sel []int32) (*vector, error)
}

// compiler turns row-engine expressions (exec.Expr) over a table scan's
// row into vectorized ones. A compiler is used by one worker: the compiled
// expressions own their output buffers.
type compiler struct {
	// width is the scan row's width; column references beyond it are not
	// this scan's.
	width int
	// cols collects the scan columns the expressions read.
	cols map[int]bool
}

// compile returns the vectorized form of e, or ok=false when vec does not
// handle some part of it.
func (c *compiler) compile(e exec.Expr) (vexpr, bool) {
	if _, ok := kindOf(e.Type()); !ok {
		return nil, false
	}
	if isConstant(e) {
		k, _ := kindOf(e.Type())
		return &constExpr{e: e, t: e.Type(), k: k}, true
	}
	switch x := e.(type) {
	case *exec.ColRef:
		if x.Idx < 0 || x.Idx >= c.width {
			return nil, false
		}
		if c.cols != nil {
			c.cols[x.Idx] = true
		}
		return &colExpr{idx: x.Idx}, true
	case *exec.Call:
		return c.call(x)
	case *exec.Cast:
		return c.cast(x)
	case *exec.BoolOp:
		op := &boolExpr{and: x.And}
		for _, a := range x.Args {
			ca, ok := c.compile(a)
			if !ok {
				return nil, false
			}
			op.args = append(op.args, ca)
		}
		return op, true
	case *exec.Not:
		a, ok := c.compile(x.Arg)
		if !ok {
			return nil, false
		}
		return &notExpr{arg: a}, true
	case *exec.IsNull:
		if _, ok := kindOf(x.Arg.Type()); !ok {
			return nil, false
		}
		a, ok := c.compile(x.Arg)
		if !ok {
			return nil, false
		}
		return &isNullExpr{arg: a, not: x.Not}, true
	}
	return nil, false
}

// isConstant reports whether e reads no row and may be evaluated once per
// execution: literals, parameters, and casts and non-volatile functions of
// them.
func isConstant(e exec.Expr) bool {
	switch x := e.(type) {
	case *exec.Const, *exec.Param:
		return true
	case *exec.Cast:
		return isConstant(x.Arg)
	case *exec.Call:
		if x.Fn.Volatile {
			return false
		}
		for _, a := range x.Args {
			if !isConstant(a) {
				return false
			}
		}
		return true
	}
	return false
}

func (c *compiler) call(x *exec.Call) (vexpr, bool) {
	f := x.Fn
	args := make([]vexpr, len(x.Args))
	for i, a := range x.Args {
		ca, ok := c.compile(a)
		if !ok {
			return nil, false
		}
		args[i] = ca
	}
	argOID := func(i int) types.OID { return x.Args[i].Type().OID }
	isInt := func(o types.OID) bool { return o == types.Int2OID || o == types.Int4OID || o == types.Int8OID }
	switch {
	case len(args) == 2 && f.Op != "" && f.Ret.OID == types.BoolOID && isComparison(f.Op):
		if x.Args[0].Type().OID != x.Args[1].Type().OID {
			return nil, false
		}
		k, _ := kindOf(x.Args[0].Type())
		return &compareExpr{op: f.Op, k: k, a: args[0], b: args[1]}, true
	case len(args) == 2 && isInt(argOID(0)) && argOID(0) == argOID(1) && f.Ret.OID == argOID(0):
		var op byte
		switch f.Name {
		case "int_add":
			op = '+'
		case "int_sub":
			op = '-'
		case "int_mul":
			op = '*'
		case "int_div":
			op = '/'
		case "int_mod", "mod":
			op = '%'
		default:
			return nil, false
		}
		return &intArith{op: op, bits: exec.IntBits(argOID(0)), a: args[0], b: args[1]}, true
	case len(args) == 1 && isInt(argOID(0)) && f.Ret.OID == argOID(0):
		switch f.Name {
		case "int_neg":
			return &intUnary{neg: true, bits: exec.IntBits(argOID(0)), a: args[0]}, true
		case "abs":
			return &intUnary{bits: exec.IntBits(argOID(0)), a: args[0]}, true
		case "int_pos":
			return args[0], true
		}
	case len(args) == 2 && argOID(0) == types.Float8OID && argOID(1) == types.Float8OID && f.Ret.OID == types.Float8OID:
		var op byte
		switch f.Name {
		case "float_add":
			op = '+'
		case "float_sub":
			op = '-'
		case "float_mul":
			op = '*'
		case "float_div":
			op = '/'
		default:
			return nil, false
		}
		return &floatArith{op: op, a: args[0], b: args[1]}, true
	case len(args) == 1 && argOID(0) == types.Float8OID && f.Ret.OID == types.Float8OID:
		switch f.Name {
		case "float_neg":
			return &floatUnary{neg: true, a: args[0]}, true
		case "abs":
			return &floatUnary{a: args[0]}, true
		case "float_pos":
			return args[0], true
		}
	}
	return nil, false
}

func isComparison(op string) bool {
	switch op {
	case "=", "<>", "<", "<=", ">", ">=":
		return true
	}
	return false
}

func (c *compiler) cast(x *exec.Cast) (vexpr, bool) {
	from, to := x.Arg.Type(), x.To
	a, ok := c.compile(x.Arg)
	if !ok {
		return nil, false
	}
	isInt := func(o types.OID) bool { return o == types.Int2OID || o == types.Int4OID || o == types.Int8OID }
	switch {
	case from.OID == to.OID && from.Typmod == to.Typmod:
		return a, true
	case isInt(from.OID) && isInt(to.OID):
		if exec.IntBits(to.OID) >= exec.IntBits(from.OID) {
			return a, true
		}
		return &intNarrow{bits: exec.IntBits(to.OID), a: a}, true
	case isInt(from.OID) && to.OID == types.Float8OID:
		return &intToFloat{a: a}, true
	case (from.OID == types.VarcharOID || from.OID == types.TextOID) && to.OID == types.TextOID:
		return a, true
	}
	return nil, false
}

// colExpr reads a scan column.
type colExpr struct{ idx int }

func (c *colExpr) eval(b *batch, _ []int32) (*vector, error) { return b.cols[c.idx], nil }

// constExpr is a row-independent expression, evaluated by the row engine
// the first time a row needs it (so that 1/0 over no rows is no error, as
// in the row engine) and then reused.
type constExpr struct {
	e    exec.Expr
	t    types.T
	k    kind
	once sync.Once
	v    *vector
	err  error
}

func (c *constExpr) eval(b *batch, sel []int32) (*vector, error) {
	if len(sel) == 0 {
		return &vector{kind: c.k, konst: true, cnull: true, ints: []int64{0}, flts: []float64{0}, bools: []bool{false}}, nil
	}
	c.once.Do(func() {
		d, err := c.e.Eval(b.env, nil)
		if err != nil {
			c.err = err
			return
		}
		c.v = constVector(c.t, c.k, d)
	})
	return c.v, c.err
}

// nullable reports whether the result of a strict operation over a and b
// may have NULLs, and allocates r's output accordingly.
func strictResult(r *result, k kind, n int, a, b *vector) *vector {
	return r.make(k, n, a.hasNulls() || (b != nil && b.hasNulls()))
}

// intArith is +, -, *, / and % on int2, int4 or int8 with the row engine's
// (PostgreSQL's) checks: 22003 on overflow of the type, 22012 on a zero
// divisor, x % -1 = 0.
type intArith struct {
	op   byte
	bits int
	a, b vexpr
	r    result
}

func (e *intArith) eval(bt *batch, sel []int32) (*vector, error) {
	a, err := e.a.eval(bt, sel)
	if err != nil {
		return nil, err
	}
	b, err := e.b.eval(bt, sel)
	if err != nil {
		return nil, err
	}
	out := strictResult(&e.r, kInt, bt.n, a, b)
	// The common case, a column and a constant divisor or operand with no
	// NULLs, runs without per-row branches on the operands' shape.
	if !a.konst && a.valid == nil && b.konst && !b.cnull && e.bits == 64 {
		y := b.ints[0]
		switch {
		case e.op == '%' && y != 0 && y != -1:
			for _, i := range sel {
				out.ints[i] = a.ints[i] % y
			}
			return out, nil
		case e.op == '/' && y != 0 && y != -1:
			for _, i := range sel {
				out.ints[i] = a.ints[i] / y
			}
			return out, nil
		}
	}
	for _, i := range sel {
		if a.null(i) || b.null(i) {
			continue
		}
		r, err := exec.IntArith(e.op, e.bits, a.int(i), b.int(i))
		if err != nil {
			return nil, err
		}
		out.ints[i] = r
		if out.valid != nil {
			setValid(out.valid, i)
		}
	}
	return out, nil
}

// intUnary is -x (neg) or abs(x).
type intUnary struct {
	neg  bool
	bits int
	a    vexpr
	r    result
}

func (e *intUnary) eval(bt *batch, sel []int32) (*vector, error) {
	a, err := e.a.eval(bt, sel)
	if err != nil {
		return nil, err
	}
	out := strictResult(&e.r, kInt, bt.n, a, nil)
	for _, i := range sel {
		if a.null(i) {
			continue
		}
		x := a.int(i)
		if x == exec.MinIntOf(e.bits) {
			return nil, exec.ErrIntRange(e.bits)
		}
		if e.neg || x < 0 {
			x = -x
		}
		out.ints[i] = x
		if out.valid != nil {
			setValid(out.valid, i)
		}
	}
	return out, nil
}

// intNarrow casts to a smaller integer type: 22003 when out of its range.
type intNarrow struct {
	bits int
	a    vexpr
}

func (e *intNarrow) eval(bt *batch, sel []int32) (*vector, error) {
	a, err := e.a.eval(bt, sel)
	if err != nil {
		return nil, err
	}
	for _, i := range sel {
		if !a.null(i) && !exec.FitsIntBits(a.int(i), e.bits) {
			return nil, exec.ErrIntRange(e.bits)
		}
	}
	return a, nil
}

type intToFloat struct {
	a vexpr
	r result
}

func (e *intToFloat) eval(bt *batch, sel []int32) (*vector, error) {
	a, err := e.a.eval(bt, sel)
	if err != nil {
		return nil, err
	}
	out := strictResult(&e.r, kFloat, bt.n, a, nil)
	for _, i := range sel {
		if a.null(i) {
			continue
		}
		out.flts[i] = float64(a.int(i))
		if out.valid != nil {
			setValid(out.valid, i)
		}
	}
	return out, nil
}

// floatArith is float8 +, -, *, / with PostgreSQL's checks: 22012 on a
// zero divisor, 22003 on overflow to infinity or underflow to zero from
// finite inputs.
type floatArith struct {
	op   byte
	a, b vexpr
	r    result
}

func (e *floatArith) eval(bt *batch, sel []int32) (*vector, error) {
	a, err := e.a.eval(bt, sel)
	if err != nil {
		return nil, err
	}
	b, err := e.b.eval(bt, sel)
	if err != nil {
		return nil, err
	}
	out := strictResult(&e.r, kFloat, bt.n, a, b)
	for _, i := range sel {
		if a.null(i) || b.null(i) {
			continue
		}
		r, err := exec.FloatArith(e.op, false, a.flt(i), b.flt(i))
		if err != nil {
			return nil, err
		}
		out.flts[i] = r
		if out.valid != nil {
			setValid(out.valid, i)
		}
	}
	return out, nil
}

type floatUnary struct {
	neg bool
	a   vexpr
	r   result
}

func (e *floatUnary) eval(bt *batch, sel []int32) (*vector, error) {
	a, err := e.a.eval(bt, sel)
	if err != nil {
		return nil, err
	}
	out := strictResult(&e.r, kFloat, bt.n, a, nil)
	for _, i := range sel {
		if a.null(i) {
			continue
		}
		x := a.flt(i)
		if e.neg {
			x = -x
		} else {
			x = math.Abs(x)
		}
		out.flts[i] = x
		if out.valid != nil {
			setValid(out.valid, i)
		}
	}
	return out, nil
}

// compareExpr compares two values of the same type: integers, dates and
// timestamps as integers, float8 with NaN above everything and equal to
// itself, text by code point, false before true.
type compareExpr struct {
	op   string
	k    kind
	a, b vexpr
	r    result
}

func (e *compareExpr) eval(bt *batch, sel []int32) (*vector, error) {
	a, err := e.a.eval(bt, sel)
	if err != nil {
		return nil, err
	}
	b, err := e.b.eval(bt, sel)
	if err != nil {
		return nil, err
	}
	out := strictResult(&e.r, kBool, bt.n, a, b)
	test := cmpTest(e.op)
	for _, i := range sel {
		if a.null(i) || b.null(i) {
			continue
		}
		var c int
		switch e.k {
		case kInt:
			x, y := a.int(i), b.int(i)
			c = cmp.Compare(x, y)
		case kFloat:
			c = types.CompareFloat(a.flt(i), b.flt(i))
		case kText:
			c = strings.Compare(a.string(i), b.string(i))
		case kBool:
			c = cmpBool(a.boolean(i), b.boolean(i))
		}
		out.bools[i] = test(c)
		if out.valid != nil {
			setValid(out.valid, i)
		}
	}
	return out, nil
}

func cmpTest(op string) func(int) bool {
	switch op {
	case "=":
		return func(c int) bool { return c == 0 }
	case "<>":
		return func(c int) bool { return c != 0 }
	case "<":
		return func(c int) bool { return c < 0 }
	case "<=":
		return func(c int) bool { return c <= 0 }
	case ">":
		return func(c int) bool { return c > 0 }
	}
	return func(c int) bool { return c >= 0 }
}

func cmpBool(x, y bool) int {
	switch {
	case x == y:
		return 0
	case y:
		return -1
	}
	return 1
}

// boolExpr is AND or OR in three-valued logic. Like the row engine, it
// evaluates each argument only on the rows the arguments before it left
// undecided (AND stops at false, OR at true; NULL decides nothing), so an
// argument that would raise an error on a row decided earlier does not.
type boolExpr struct {
	and  bool
	args []vexpr
	r    result
	// sawNull marks rows where an argument was NULL; live holds the
	// undecided rows.
	sawNull []bool
	live    []int32
	next    []int32
}

func (e *boolExpr) eval(bt *batch, sel []int32) (*vector, error) {
	out := e.r.make(kBool, bt.n, true)
	if cap(e.sawNull) < bt.n {
		e.sawNull = make([]bool, bt.n)
	}
	sawNull := e.sawNull[:bt.n]
	for _, i := range sel {
		sawNull[i] = false
	}
	live := append(e.live[:0], sel...)
	for _, arg := range e.args {
		if len(live) == 0 {
			break
		}
		v, err := arg.eval(bt, live)
		if err != nil {
			return nil, err
		}
		next := e.next[:0]
		for _, i := range live {
			switch {
			case v.null(i):
				sawNull[i] = true
				next = append(next, i)
			case v.boolean(i) != e.and:
				// Decided: false for AND, true for OR.
				out.bools[i] = !e.and
				setValid(out.valid, i)
			default:
				next = append(next, i)
			}
		}
		e.next = live
		live = next
	}
	for _, i := range live {
		if !sawNull[i] {
			out.bools[i] = e.and
			setValid(out.valid, i)
		}
	}
	e.live = live
	return out, nil
}

type notExpr struct {
	arg vexpr
	r   result
}

func (e *notExpr) eval(bt *batch, sel []int32) (*vector, error) {
	a, err := e.arg.eval(bt, sel)
	if err != nil {
		return nil, err
	}
	out := strictResult(&e.r, kBool, bt.n, a, nil)
	for _, i := range sel {
		if a.null(i) {
			continue
		}
		out.bools[i] = !a.boolean(i)
		if out.valid != nil {
			setValid(out.valid, i)
		}
	}
	return out, nil
}

type isNullExpr struct {
	arg vexpr
	not bool
	r   result
}

func (e *isNullExpr) eval(bt *batch, sel []int32) (*vector, error) {
	a, err := e.arg.eval(bt, sel)
	if err != nil {
		return nil, err
	}
	out := e.r.make(kBool, bt.n, false)
	for _, i := range sel {
		out.bools[i] = a.null(i) != e.not
	}
	return out, nil
}

// filter returns the rows of sel where the predicate's value is true
// (not false, not NULL), appended to dst.
func filter(dst []int32, v *vector, sel []int32) []int32 {
	for _, i := range sel {
		if !v.null(i) && v.boolean(i) {
			dst = append(dst, i)
		}
	}
	return dst
}
