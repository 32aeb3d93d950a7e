package exec

import (
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/cockroachdb/apd/v3"

	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

// Row is one row: a value per column.
type Row = []types.Datum

// Env is what expressions may read besides their row: the statement's
// parameters, the session settings and the transaction's clock.
type Env struct {
	Params   []types.Datum
	Settings *types.Settings
	// Now is the transaction start time (now(), CURRENT_TIMESTAMP).
	Now time.Time
	// Outer holds the rows of enclosing queries, innermost last, for
	// correlated subqueries.
	Outer []Row
	// RunSubquery evaluates a subquery plan (set by the session).
	RunSubquery func(env *Env, n Node, limit int) ([]Row, error)
	// Catalog answers the catalog functions (set by the session).
	Catalog CatalogReader
}

// Expr is a typed expression. Eval returns the value for one row; NULL is
// nil.
type Expr interface {
	Type() types.T
	Eval(env *Env, row Row) (types.Datum, error)
	String() string
}

// Const is a constant.
type Const struct {
	Val types.Datum
	T   types.T
}

func (c *Const) Type() types.T                       { return c.T }
func (c *Const) Eval(*Env, Row) (types.Datum, error) { return c.Val, nil }
func (c *Const) String() string {
	if c.Val == nil {
		return "NULL"
	}
	if bareConst(c) {
		// As PostgreSQL's EXPLAIN shows a non-negative integer or
		// numeric constant.
		return types.FormatText(c.T, c.Val, nil)
	}
	return fmt.Sprintf("%s::%s", QuoteLiteral(types.FormatText(c.T, c.Val, nil)), c.T)
}

// bareConst reports whether a constant prints without quotes and type:
// a non-negative integer (int4, or int8 beyond int4) or numeric, as
// PostgreSQL deparses them.
func bareConst(c *Const) bool {
	switch v := c.Val.(type) {
	case int64:
		return v >= 0 && (c.T.OID == types.Int4OID || c.T.OID == types.Int8OID && v > math.MaxInt32)
	case *apd.Decimal:
		return c.T.OID == types.NumericOID && !v.Negative && v.Form == apd.Finite && c.T.Typmod < 0
	}
	return false
}

// QuoteLiteral writes s as a SQL string literal.
func QuoteLiteral(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

// ColRef reads column Idx of the row.
type ColRef struct {
	Idx  int
	T    types.T
	Name string
}

func (c *ColRef) Type() types.T { return c.T }
func (c *ColRef) Eval(_ *Env, row Row) (types.Datum, error) {
	return row[c.Idx], nil
}
func (c *ColRef) String() string { return c.Name }

// OuterRef reads a column of an enclosing query's row (Depth 1 = the
// nearest enclosing query).
type OuterRef struct {
	Depth, Idx int
	T          types.T
	Name       string
}

func (c *OuterRef) Type() types.T { return c.T }
func (c *OuterRef) Eval(env *Env, _ Row) (types.Datum, error) {
	return env.Outer[len(env.Outer)-c.Depth][c.Idx], nil
}
func (c *OuterRef) String() string { return c.Name }

// Param is $N (1-based).
type Param struct {
	N int
	T types.T
}

func (p *Param) Type() types.T { return p.T }
func (p *Param) Eval(env *Env, _ Row) (types.Datum, error) {
	if p.N < 1 || p.N > len(env.Params) {
		return nil, pgerr.New(pgerr.UndefinedParameter, "there is no parameter $%d", p.N)
	}
	return env.Params[p.N-1], nil
}
func (p *Param) String() string { return fmt.Sprintf("$%d", p.N) }

// Call is a resolved function or operator call.
type Call struct {
	Fn   *Func
	Args []Expr
	T    types.T
	// scratch for argument values; Eval is not used concurrently on one
	// Call (every statement execution has its own plan instance or uses
	// EvalArgs into fresh slices).
}

func (c *Call) Type() types.T { return c.T }
func (c *Call) Eval(env *Env, row Row) (types.Datum, error) {
	var buf [4]types.Datum
	args := buf[:0]
	if len(c.Args) > len(buf) {
		args = make([]types.Datum, 0, len(c.Args))
	}
	for _, a := range c.Args {
		v, err := a.Eval(env, row)
		if err != nil {
			return nil, err
		}
		if v == nil && c.Fn.Strict {
			return nil, nil
		}
		args = append(args, v)
	}
	return c.Fn.Impl(env, c, args)
}
func (c *Call) String() string {
	parts := make([]string, len(c.Args))
	for i, a := range c.Args {
		parts[i] = a.String()
	}
	if c.Fn.Op != "" && len(parts) == 2 {
		return "(" + parts[0] + " " + c.Fn.Op + " " + parts[1] + ")"
	}
	if c.Fn.Op != "" && len(parts) == 1 {
		return "(" + c.Fn.Op + " " + parts[0] + ")"
	}
	return c.Fn.Name + "(" + strings.Join(parts, ", ") + ")"
}

// Func is one overload of a function or operator.
type Func struct {
	Name string
	// Op is the operator symbol, for operators.
	Op   string
	Args []types.OID
	// Variadic: the last argument type repeats.
	Variadic bool
	Ret      types.T
	// Strict functions return NULL when any argument is NULL, without
	// being called.
	Strict bool
	// Volatile functions (now() is stable, random() volatile) are not
	// folded.
	Volatile bool
	// Stable functions depend on the transaction's time (now(), age(ts))
	// or the session and its catalog (current_user, pg_backend_pid): a
	// materialized view, maintained outside any session and over time,
	// may not call them.
	Stable bool
	Impl   func(env *Env, call *Call, args []types.Datum) (types.Datum, error)
}

// Cast converts its argument to type To (CAST, ::, and implicit coercions).
type Cast struct {
	Arg Expr
	To  types.T
	// Explicit casts truncate varchar(n) silently; implicit (assignment)
	// casts raise 22001.
	Explicit bool
}

func (c *Cast) Type() types.T { return c.To }
func (c *Cast) Eval(env *Env, row Row) (types.Datum, error) {
	v, err := c.Arg.Eval(env, row)
	if err != nil || v == nil {
		return nil, err
	}
	return castDatum(env, v, c.Arg.Type(), c.To, c.Explicit)
}
func (c *Cast) String() string {
	if k, ok := c.Arg.(*Const); ok && bareConst(k) && k.T.OID == types.Int4OID && (c.To.OID == types.Int8OID || c.To.OID == types.NumericOID) {
		// A literal widened to the other side's type reads as the
		// literal (PostgreSQL compares int8 with int4 directly).
		return k.String()
	}
	return c.Arg.String() + "::" + c.To.String()
}

func castDatum(env *Env, v types.Datum, from, to types.T, explicit bool) (types.Datum, error) {
	if from == to {
		return v, nil
	}
	if explicit {
		return types.Cast(v, from, to, env.Settings)
	}
	return types.AssignCast(v, from, to, env.Settings)
}

// BoolOp is AND or OR with SQL's three-valued logic.
type BoolOp struct {
	And  bool
	Args []Expr
}

func (b *BoolOp) Type() types.T { return types.Make(types.BoolOID) }
func (b *BoolOp) Eval(env *Env, row Row) (types.Datum, error) {
	sawNull := false
	for _, a := range b.Args {
		v, err := a.Eval(env, row)
		if err != nil {
			return nil, err
		}
		if v == nil {
			sawNull = true
			continue
		}
		if v.(bool) != b.And {
			return !b.And, nil
		}
	}
	if sawNull {
		return nil, nil
	}
	return b.And, nil
}
func (b *BoolOp) String() string {
	op := " OR "
	if b.And {
		op = " AND "
	}
	parts := make([]string, len(b.Args))
	for i, a := range b.Args {
		parts[i] = a.String()
	}
	return "(" + strings.Join(parts, op) + ")"
}

// Not is NOT.
type Not struct{ Arg Expr }

func (n *Not) Type() types.T { return types.Make(types.BoolOID) }
func (n *Not) Eval(env *Env, row Row) (types.Datum, error) {
	v, err := n.Arg.Eval(env, row)
	if err != nil || v == nil {
		return nil, err
	}
	return !v.(bool), nil
}
func (n *Not) String() string { return "(NOT " + n.Arg.String() + ")" }

// IsNull is IS [NOT] NULL.
type IsNull struct {
	Arg Expr
	Not bool
}

func (n *IsNull) Type() types.T { return types.Make(types.BoolOID) }
func (n *IsNull) Eval(env *Env, row Row) (types.Datum, error) {
	v, err := n.Arg.Eval(env, row)
	if err != nil {
		return nil, err
	}
	return (v == nil) != n.Not, nil
}
func (n *IsNull) String() string {
	if n.Not {
		return "(" + n.Arg.String() + " IS NOT NULL)"
	}
	return "(" + n.Arg.String() + " IS NULL)"
}

// IsBool is IS [NOT] TRUE/FALSE/UNKNOWN.
type IsBool struct {
	Arg Expr
	// Want is true, false, or nil for UNKNOWN.
	Want types.Datum
	Not  bool
}

func (n *IsBool) Type() types.T { return types.Make(types.BoolOID) }
func (n *IsBool) Eval(env *Env, row Row) (types.Datum, error) {
	v, err := n.Arg.Eval(env, row)
	if err != nil {
		return nil, err
	}
	return (v == n.Want) != n.Not, nil
}
func (n *IsBool) String() string { return fmt.Sprintf("(%s IS %v)", n.Arg, n.Want) }

// Distinct is IS [NOT] DISTINCT FROM: equality where NULL equals NULL.
type Distinct struct {
	A, B Expr
	Not  bool
	// T is the common type both sides were coerced to.
	T types.T
}

func (d *Distinct) Type() types.T { return types.Make(types.BoolOID) }
func (d *Distinct) Eval(env *Env, row Row) (types.Datum, error) {
	a, err := d.A.Eval(env, row)
	if err != nil {
		return nil, err
	}
	b, err := d.B.Eval(env, row)
	if err != nil {
		return nil, err
	}
	var distinct bool
	switch {
	case a == nil && b == nil:
		distinct = false
	case a == nil || b == nil:
		distinct = true
	default:
		distinct = types.Compare(d.T, a, b) != 0
	}
	return distinct != d.Not, nil
}
func (d *Distinct) String() string {
	return fmt.Sprintf("(%s IS DISTINCT FROM %s)", d.A, d.B)
}

// Case is CASE [operand] WHEN ... THEN ... [ELSE ...] END. With an operand,
// each When is a comparison the planner already built.
type Case struct {
	Whens []When
	Else  Expr
	T     types.T
}

// When is one arm of a CASE.
type When struct{ Cond, Then Expr }

func (c *Case) Type() types.T { return c.T }
func (c *Case) Eval(env *Env, row Row) (types.Datum, error) {
	for _, w := range c.Whens {
		v, err := w.Cond.Eval(env, row)
		if err != nil {
			return nil, err
		}
		if v == true {
			return w.Then.Eval(env, row)
		}
	}
	if c.Else == nil {
		return nil, nil
	}
	return c.Else.Eval(env, row)
}
func (c *Case) String() string {
	var b strings.Builder
	b.WriteString("CASE")
	for _, w := range c.Whens {
		fmt.Fprintf(&b, " WHEN %s THEN %s", w.Cond, w.Then)
	}
	if c.Else != nil {
		fmt.Fprintf(&b, " ELSE %s", c.Else)
	}
	b.WriteString(" END")
	return b.String()
}

// Coalesce returns its first non-NULL argument.
type Coalesce struct {
	Args []Expr
	T    types.T
}

func (c *Coalesce) Type() types.T { return c.T }
func (c *Coalesce) Eval(env *Env, row Row) (types.Datum, error) {
	for _, a := range c.Args {
		v, err := a.Eval(env, row)
		if err != nil || v != nil {
			return v, err
		}
	}
	return nil, nil
}
func (c *Coalesce) String() string { return fmt.Sprintf("COALESCE%v", c.Args) }

// InList is x [NOT] IN (a, b, ...), with SQL's NULL rules.
type InList struct {
	Arg  Expr
	List []Expr
	Not  bool
	T    types.T
}

func (n *InList) Type() types.T { return types.Make(types.BoolOID) }
func (n *InList) Eval(env *Env, row Row) (types.Datum, error) {
	x, err := n.Arg.Eval(env, row)
	if err != nil {
		return nil, err
	}
	if x == nil {
		return nil, nil
	}
	sawNull := false
	for _, e := range n.List {
		v, err := e.Eval(env, row)
		if err != nil {
			return nil, err
		}
		if v == nil {
			sawNull = true
			continue
		}
		if types.Compare(n.T, x, v) == 0 {
			return !n.Not, nil
		}
	}
	if sawNull {
		return nil, nil
	}
	return n.Not, nil
}
func (n *InList) String() string { return fmt.Sprintf("(%s IN %v)", n.Arg, n.List) }

// EvalBool evaluates a predicate: only TRUE passes.
func EvalBool(e Expr, env *Env, row Row) (bool, error) {
	v, err := e.Eval(env, row)
	if err != nil {
		return false, err
	}
	return v == true, nil
}
