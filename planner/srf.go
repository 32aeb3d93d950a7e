package planner

import (
	"strings"
	"sync"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

// Set-returning functions in a select list (SELECT generate_series(1, 3),
// (information_schema._pg_expandarray(i.indkey)).n, ...) run in an
// exec.ProjectSet between the query's input (after any aggregation and
// window functions) and its projection, as in PostgreSQL 10 and later.
// While the select list is bound, each such call becomes a column of the
// ProjectSet (srfContext.funcs) and the expression around it reads that
// column, so the other select-list expressions are repeated on every row
// the functions produce. Elsewhere (WHERE, ON, VALUES, aggregate
// arguments, CASE, COALESCE, ORDER BY expressions not in the select list,
// arguments of another set-returning function) a call is 0A000, naming
// where.

// srfContext collects the set-returning functions of one select list.
type srfContext struct {
	base  int // width of the ProjectSet's input: function i is column base+i
	funcs []exec.SetFunc
	// refuse, when set, is the 0A000 message for a call here.
	refuse string
}

// setReturning reports whether a call of name in schema is one of the
// set-returning functions Strand implements.
func setReturning(name, schema string) bool {
	switch name {
	case "generate_series", "unnest":
		return schema == "" || schema == "pg_catalog"
	case "_pg_expandarray":
		return schema == "information_schema"
	}
	if _, ok := exec.JSONSetFuncs[name]; ok {
		return schema == "" || schema == "pg_catalog"
	}
	return name == exec.HopWindowsFunc && schema == ""
}

// setFuncCall binds a set-returning call in a select list to its
// ProjectSet column.
func (eb *exprBinder) setFuncCall(name string, x *ast.FuncCallExpr) (exec.Expr, error) {
	if eb.srf == nil {
		return nil, pgerr.New(pgerr.FeatureNotSupported, "set-returning functions are not allowed in %s", eb.what)
	}
	if eb.srf.refuse != "" {
		return nil, pgerr.New(pgerr.FeatureNotSupported, "%s", eb.srf.refuse)
	}
	defer eb.refuseSRF("set-returning functions in the arguments of a set-returning function are not supported")()
	args, err := eb.bindList(x.Args)
	if err != nil {
		return nil, err
	}
	args, t, err := eb.setFuncType(name, args)
	if err != nil {
		return nil, err
	}
	eb.srf.funcs = append(eb.srf.funcs, exec.SetFunc{Name: name, Args: args, T: t})
	return &exec.ColRef{Idx: eb.srf.base + len(eb.srf.funcs) - 1, T: t, Name: name}, nil
}

// refuseSRF makes set-returning calls 0A000 with msg until the returned
// function is called (CASE, COALESCE: PostgreSQL 10 and later refuse them
// there, since a call in a branch may not run).
func (eb *exprBinder) refuseSRF(msg string) func() {
	if eb.srf == nil || eb.srf.refuse != "" {
		return func() {}
	}
	eb.srf.refuse = msg
	return func() { eb.srf.refuse = "" }
}

// setFuncType checks a set-returning function's arguments, casts them to
// what exec.startSetFunc reads, and returns the type of its values.
func (eb *exprBinder) setFuncType(name string, args []exec.Expr) ([]exec.Expr, types.T, error) {
	var err error
	switch name {
	case "generate_series":
		if len(args) < 2 || len(args) > 3 {
			return nil, types.T{}, undefinedFunc(name, false, args)
		}
		t := tInt4
		for _, a := range args {
			switch a.Type().OID {
			case types.Int8OID:
				t = tInt8
			case types.Int2OID, types.Int4OID, types.UnknownOID:
			default:
				return nil, types.T{}, pgerr.New(pgerr.FeatureNotSupported, "generate_series(%s) is not supported", signature(name, false, args))
			}
		}
		for i := range args {
			if args[i], err = eb.coerce(args[i], tInt8, "generate_series"); err != nil {
				return nil, types.T{}, err
			}
		}
		return args, t, nil
	case "unnest", "_pg_expandarray":
		if len(args) != 1 || !args[0].Type().IsArray() {
			return nil, types.T{}, undefinedFunc(name, false, args)
		}
		et := args[0].Type().ElemType()
		if name == "unnest" {
			return args, et, nil
		}
		return args, recordType([]recordField{{"x", types.Make(et.OID)}, {"n", tInt4}}), nil
	}
	if name == exec.HopWindowsFunc {
		if len(args) != 3 {
			return nil, types.T{}, undefinedFunc(name, false, args)
		}
		t := args[0].Type()
		if t.OID != types.TimestampOID && t.OID != types.TimestampTZOID {
			return nil, types.T{}, pgerr.New(pgerr.DatatypeMismatch, "HOP's time column must be a timestamp or timestamptz, not %s", t)
		}
		for i := 1; i < 3; i++ {
			if args[i], err = eb.coerce(args[i], types.Make(types.IntervalOID), "HOP"); err != nil {
				return nil, types.T{}, err
			}
		}
		return args, t, nil
	}
	if j, ok := exec.JSONSetFuncs[name]; ok {
		if len(args) != 1 || (args[0].Type().OID != j.Arg && args[0].Type().OID != types.UnknownOID) {
			return nil, types.T{}, undefinedFunc(name, false, args)
		}
		if args[0], err = eb.coerce(args[0], types.Make(j.Arg), name); err != nil {
			return nil, types.T{}, err
		}
		if j.Record {
			return args, recordType([]recordField{{"key", tText}, {"value", exec.JSONSetFuncType(name)}}), nil
		}
		return args, exec.JSONSetFuncType(name), nil
	}
	return nil, types.T{}, pgerr.New(pgerr.FeatureNotSupported, "set-returning function %s is not supported", name)
}

// fieldSelect binds the front end's pg_field(x, 'name'), (x).name.
func (eb *exprBinder) fieldSelect(args []ast.ExprNode) (exec.Expr, error) {
	if len(args) != 2 {
		return nil, pgerr.New(pgerr.SyntaxError, "field selection needs a value and a field name")
	}
	name, err := stringArg(args[1])
	if err != nil {
		return nil, err
	}
	arg, err := eb.bind(args[0])
	if err != nil {
		if c, ok := unparen(args[0]).(*ast.ColumnNameExpr); ok && c.Name.Table.O == "" && eb.scope.hasTable(c.Name.Name.O) {
			// (t).col with t a FROM item: a whole-row reference.
			return nil, pgerr.New(pgerr.FeatureNotSupported, "whole-row references (%s) are not supported", c.Name.Name.O)
		}
		return nil, err
	}
	t := arg.Type()
	if t.OID != types.RecordOID {
		return nil, pgerr.New(pgerr.WrongObjectType, "column notation .%s applied to type %s, which is not a composite type", name, t)
	}
	fields, ok := recordFields(t)
	if !ok {
		return nil, pgerr.New(pgerr.FeatureNotSupported, "field selection from a record of unknown shape is not supported")
	}
	for i, f := range fields {
		if f.name == name {
			return &exec.FieldSelect{Arg: arg, Idx: i, Name: name, T: f.t}, nil
		}
	}
	return nil, pgerr.New(pgerr.UndefinedColumn, "could not identify column %q in record data type", name)
}

func unparen(n ast.ExprNode) ast.ExprNode {
	for {
		p, ok := n.(*ast.ParenthesesExpr)
		if !ok {
			return n
		}
		n = p.Expr
	}
}

// A record type's Typmod names its shape, as PostgreSQL's typmod of a
// "blessed" anonymous record indexes its backend's record cache. Shapes
// are interned for the life of the process; only built-in functions make
// them (one per element type of _pg_expandarray), so the table stays
// small. A record with Typmod -1 has no known shape.
var recordShapes struct {
	sync.Mutex
	index map[string]int32
	list  [][]recordField
}

type recordField struct {
	name string
	t    types.T
}

// recordType is the record type of the given shape.
func recordType(fields []recordField) types.T {
	var key strings.Builder
	for _, f := range fields {
		key.WriteString(f.name)
		key.WriteByte(0)
		key.WriteString(itoa(int(f.t.OID)))
		key.WriteByte(':')
		key.WriteString(itoa(int(f.t.Typmod + 1)))
		key.WriteByte(0)
	}
	s := &recordShapes
	s.Lock()
	defer s.Unlock()
	if s.index == nil {
		s.index = map[string]int32{}
	}
	n, ok := s.index[key.String()]
	if !ok {
		n = int32(len(s.list))
		s.list = append(s.list, fields)
		s.index[key.String()] = n
	}
	return types.T{OID: types.RecordOID, Typmod: n}
}

// recordFields is the shape of a record type, if known.
func recordFields(t types.T) ([]recordField, bool) {
	s := &recordShapes
	s.Lock()
	defer s.Unlock()
	if t.OID != types.RecordOID || t.Typmod < 0 || int(t.Typmod) >= len(s.list) {
		return nil, false
	}
	return s.list[t.Typmod], true
}
