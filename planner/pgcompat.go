package planner

import (
	"fmt"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	driver "github.com/pingcap/tidb/pkg/parser/test_driver"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

// pgCompat binds the front end's carriers that PostgreSQL clients'
// catalog queries depend on: casts to pg_catalog-qualified types and to
// the reg* OID alias types, ARRAY[..], ARRAY(subquery), x op ANY/ALL
// (array), a[i], and the SQL value functions (CURRENT_USER ...). ok is
// false for any other call.
//
// reg* types: 'name'::regclass is the relation's OID (an oid value, read
// with the session's search path); oid::regclass::text (or ::name,
// ::varchar) is the relation's name. A reg* value selected as it stands is
// sent as its OID number, where PostgreSQL would print the name.
func (eb *exprBinder) pgCompat(name string, x *ast.FuncCallExpr) (exec.Expr, bool, error) {
	switch name {
	case "pg_cast":
		if len(x.Args) != 2 {
			return nil, false, nil
		}
		typName, err := stringArg(x.Args[1])
		if err != nil {
			return nil, false, nil
		}
		bare := strings.TrimPrefix(typName, "pg_catalog.")
		if exec.RegTypes[bare] {
			e, err := eb.regCast(x.Args[0], bare)
			return e, true, err
		}
		if kind, ok := regOperand(x.Args[0]); ok && (bare == "text" || bare == "name" || bare == "varchar" || bare == "character varying") {
			inner, err := eb.bind(x.Args[0])
			if err != nil {
				return nil, true, err
			}
			var e exec.Expr = &exec.Call{Fn: exec.RegOutFunc(kind), Args: []exec.Expr{inner}, T: tText}
			if bare != "text" {
				t, err := types.ParseTypeName(bare)
				if err != nil {
					return nil, true, err
				}
				e = &exec.Cast{Arg: e, To: t, Explicit: true}
			}
			return e, true, nil
		}
		if bare == typName {
			return nil, false, nil
		}
		t, err := types.ParseTypeName(bare)
		if err != nil {
			return nil, true, err
		}
		a, err := eb.bind(x.Args[0])
		if err != nil {
			return nil, true, err
		}
		e, err := eb.explicitCast(a, t)
		return e, true, err
	case "pg_array":
		e, err := eb.arrayCtor(x.Args)
		return e, true, err
	case "pg_array_query":
		e, err := eb.arrayQuery(x.Args)
		return e, true, err
	case "pg_any", "pg_all":
		e, err := eb.arrayCompare(x.Args, name == "pg_all")
		return e, true, err
	case "pg_subscript":
		e, err := eb.subscript(x.Args)
		return e, true, err
	case "pg_sqlvalue":
		v, err := stringArg(x.Args[0])
		if err != nil {
			return nil, true, err
		}
		if e, ok, err := eb.timeValue(v, x.Args[1:]); ok || err != nil {
			return e, true, err
		}
		fn := map[string]string{"current_user": "current_user", "user": "current_user", "current_role": "current_user",
			"session_user": "session_user", "current_schema": "current_schema", "current_catalog": "current_database"}[v]
		if fn == "" {
			return nil, false, nil
		}
		f, args, err := eb.resolve(fn, false, nil)
		if err != nil {
			return nil, true, err
		}
		return &exec.Call{Fn: f, Args: args, T: f.Ret}, true, nil
	}
	return nil, false, nil
}

// timeValue binds CURRENT_DATE, CURRENT_TIMESTAMP[(p)], LOCALTIMESTAMP[(p)]
// and LOCALTIME[(p)]: now(), the transaction's start, as that type in the
// session's time zone. CURRENT_TIME is a time with time zone, a type
// Strand does not have. ok is false for the other SQL value functions.
func (eb *exprBinder) timeValue(name string, prec []ast.ExprNode) (e exec.Expr, ok bool, err error) {
	var tn string
	switch name {
	case "current_date":
		tn = "date"
	case "current_timestamp":
		tn = "timestamptz"
	case "localtimestamp":
		tn = "timestamp"
	case "localtime":
		tn = "time"
	case "current_time":
		return nil, true, pgerr.New(pgerr.FeatureNotSupported, "CURRENT_TIME (time with time zone) is not supported").
			WithHint("Use LOCALTIME, or now().")
	default:
		return nil, false, nil
	}
	if len(prec) > 0 {
		v, ok := prec[0].(*driver.ValueExpr)
		if !ok {
			return nil, true, fmt.Errorf("internal: %s precision is %T", name, prec[0])
		}
		tn += fmt.Sprintf("(%v)", v.Datum.GetValue())
	}
	t, err := types.ParseTypeName(tn)
	if err != nil {
		return nil, true, err
	}
	f, args, err := eb.resolve("now", false, nil)
	if err != nil {
		return nil, true, err
	}
	now := &exec.Call{Fn: f, Args: args, T: f.Ret}
	if t.OID == types.TimestampTZOID && t.Typmod < 0 {
		return now, true, nil
	}
	e, err = eb.explicitCast(now, t)
	return e, true, err
}

// regOperand reports whether n is a cast to a reg* type, and which.
func regOperand(n ast.ExprNode) (string, bool) {
	f, ok := unparen(n).(*ast.FuncCallExpr)
	if !ok || strings.ToLower(f.FnName.O) != "pg_cast" || len(f.Args) != 2 {
		return "", false
	}
	s, err := stringArg(f.Args[1])
	if err != nil {
		return "", false
	}
	s = strings.TrimPrefix(s, "pg_catalog.")
	return s, exec.RegTypes[s]
}

// regCast is x::regclass (and the other reg* types): a name is looked up,
// a number is the OID itself.
func (eb *exprBinder) regCast(arg ast.ExprNode, kind string) (exec.Expr, error) {
	a, err := eb.bind(arg)
	if err != nil {
		return nil, err
	}
	switch exec.Category(a.Type().OID) {
	case 'N':
		return eb.explicitCast(a, tOIDCompat)
	case 'S', 'X':
		a, err = eb.coerce(a, tText, "argument")
		if err != nil {
			return nil, err
		}
		return &exec.Call{Fn: exec.RegInFunc(kind), Args: []exec.Expr{a}, T: tOIDCompat}, nil
	}
	return nil, pgerr.New(pgerr.CannotCoerce, "cannot cast type %s to %s", a.Type(), kind)
}

func (eb *exprBinder) arrayCtor(args []ast.ExprNode) (exec.Expr, error) {
	elems, err := eb.bindList(args)
	if err != nil {
		return nil, err
	}
	if len(elems) == 0 {
		return nil, pgerr.New(pgerr.IndeterminateDatatype, "cannot determine type of empty array").
			WithHint("Explicitly cast to the desired type, for example ARRAY[]::integer[].")
	}
	t, err := eb.unify(elems, "ARRAY")
	if err != nil {
		return nil, err
	}
	if t.OID == types.UnknownOID {
		t = tText
	}
	at := types.ArrayOf(t)
	if at.OID == 0 {
		return nil, pgerr.New(pgerr.FeatureNotSupported, "arrays of %s are not supported", t)
	}
	for i := range elems {
		if elems[i], err = eb.coerce(elems[i], t, "ARRAY"); err != nil {
			return nil, err
		}
	}
	return &exec.ArrayExpr{Elems: elems, T: at}, nil
}

func (eb *exprBinder) arrayQuery(args []ast.ExprNode) (exec.Expr, error) {
	if len(args) != 1 {
		return nil, pgerr.New(pgerr.SyntaxError, "ARRAY() needs one subquery")
	}
	sq, ok := args[0].(*ast.SubqueryExpr)
	if !ok {
		return nil, pgerr.New(pgerr.SyntaxError, "ARRAY() needs a subquery")
	}
	outer := &scope{parent: eb.scope, boundary: true}
	n, err := eb.b.buildQueryIn(sq.Query, outer)
	if err != nil {
		return nil, err
	}
	cols := n.Columns()
	if len(cols) != 1 {
		return nil, pgerr.New(pgerr.SyntaxError, "subquery must return only one column")
	}
	et := cols[0].T
	if et.OID == types.UnknownOID {
		et = tText
	}
	at := types.ArrayOf(et)
	if at.OID == 0 {
		return nil, pgerr.New(pgerr.FeatureNotSupported, "arrays of %s are not supported", et)
	}
	sub := &exec.Subquery{Plan: n, Mode: exec.AnySubquery, Correlated: outer.correlated, T: at}
	return &exec.ArraySubquery{Sub: sub, T: at}, nil
}

func (eb *exprBinder) arrayCompare(args []ast.ExprNode, all bool) (exec.Expr, error) {
	if len(args) != 3 {
		return nil, pgerr.New(pgerr.SyntaxError, "ANY/ALL needs an operator and an array")
	}
	op, err := stringArg(args[1])
	if err != nil {
		return nil, err
	}
	x, err := eb.bind(args[0])
	if err != nil {
		return nil, err
	}
	arr, err := eb.bind(args[2])
	if err != nil {
		return nil, err
	}
	at := arr.Type()
	if at.OID == types.UnknownOID {
		// '{a,b}' as the array: read it as an array of x's type.
		xt := x.Type()
		if xt.OID == types.UnknownOID {
			xt = tText
		}
		if at = types.ArrayOf(xt); at.OID == 0 {
			return nil, pgerr.New(pgerr.FeatureNotSupported, "arrays of %s are not supported", xt)
		}
		if arr, err = eb.explicitCast(arr, at); err != nil {
			return nil, err
		}
	}
	if !at.IsArray() {
		return nil, pgerr.New(pgerr.WrongObjectType, "op ANY/ALL (array) requires array on right side")
	}
	et := at.ElemType()
	// An unknown left side takes the element type, as in PostgreSQL.
	if x.Type().OID == types.UnknownOID {
		if x, err = eb.coerce(x, et, "ANY"); err != nil {
			return nil, err
		}
	}
	pair := &scope{cols: []scopeCol{{name: "?l", t: x.Type()}, {name: "?r", t: et}}}
	pb := &exprBinder{b: eb.b, scope: pair, what: eb.what}
	cmp, err := pb.operator(op, &exec.ColRef{Idx: 0, T: x.Type(), Name: x.String()}, &exec.ColRef{Idx: 1, T: et, Name: "element"})
	if err != nil {
		return nil, err
	}
	return &exec.ArrayCompare{Arg: x, Array: arr, Cmp: cmp, All: all}, nil
}

func (eb *exprBinder) subscript(args []ast.ExprNode) (exec.Expr, error) {
	if len(args) != 2 {
		return nil, pgerr.New(pgerr.SyntaxError, "subscript needs an array and an index")
	}
	arr, err := eb.bind(args[0])
	if err != nil {
		return nil, err
	}
	if !arr.Type().IsArray() {
		return nil, pgerr.New(pgerr.DatatypeMismatch, "cannot subscript type %s because it does not support subscripting", arr.Type())
	}
	idx, err := eb.bindAs(args[1], tInt8, "array subscript")
	if err != nil {
		return nil, err
	}
	return &exec.Subscript{Array: arr, Index: idx, T: arr.Type().ElemType()}, nil
}

var tOIDCompat = types.Make(types.OIDOID)

// stringAgg binds string_agg(value, delimiter) (see exec.StringAgg), its
// arguments with inner.
func (b *Builder) stringAgg(inner *exprBinder, args []ast.ExprNode, distinct bool) (exec.Aggregate, error) {
	pair := make([]exec.Expr, 2)
	for i, a := range args {
		e, err := inner.bindAs(a, tText, "string_agg")
		if err != nil {
			return exec.Aggregate{}, err
		}
		pair[i] = e
	}
	return exec.Aggregate{Func: exec.StringAgg(), Arg: &exec.ArrayExpr{Elems: pair, T: types.Make(types.TextArrayOID)}, Distinct: distinct}, nil
}
