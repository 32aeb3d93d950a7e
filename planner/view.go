package planner

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql"
	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
	"github.com/strand-db/strand/views"
)

// notMaintainable refuses a view shape at CREATE time, naming the part.
func notMaintainable(format string, args ...any) error {
	return pgerr.New(pgerr.FeatureNotSupported, "materialized view cannot be maintained incrementally: "+format, args...)
}

// CreateView plans CREATE MATERIALIZED VIEW: it checks that the query can
// be maintained incrementally and returns the catalog change that adds the
// view (the maintainer backfills it in the same commit).
func (b *Builder) CreateView(st *sql.CreateMaterializedView) (func(*log.Catalog) error, error) {
	p, err := b.BuildViewPlan(st.Query)
	if err != nil {
		return nil, err
	}
	schema := st.Name.Schema
	if schema == "" {
		schema = b.searchPath[0]
	}
	td := &log.TableDesc{Schema: schema, Name: st.Name.Name, Kind: log.View, Definition: st.QueryText}
	sv := log.SchemaVersion{Version: 1}
	names := p.names
	if len(st.Columns) > 0 {
		if len(st.Columns) > len(names) {
			return nil, pgerr.New(pgerr.SyntaxError, "too many column names were specified")
		}
		copy(names, st.Columns)
	}
	seen := map[string]bool{}
	for i, t := range p.plan.OutTypes {
		if seen[names[i]] {
			return nil, pgerr.New(pgerr.DuplicateColumn, "column %q specified more than once", names[i])
		}
		seen[names[i]] = true
		sv.Columns = append(sv.Columns, log.Column{ID: uint32(i + 1), Name: names[i], TypeOID: uint32(t.OID), Typmod: t.Typmod})
	}
	td.NextColID = uint32(len(sv.Columns))
	// An aggregated view is keyed by its group: when every GROUP BY
	// expression is an output column, those columns are the view's key
	// and lookups by them read one row.
	if p.plan.Aggregated && len(p.plan.Group) > 0 {
		var key []uint32
		for gi := range p.plan.Group {
			found := false
			for oi, e := range p.plan.Output {
				if cr, ok := e.(*exec.ColRef); ok && cr.Idx == gi {
					key = append(key, sv.Columns[oi].ID)
					found = true
					break
				}
			}
			if !found {
				key = nil
				break
			}
		}
		sv.Key = key
	}
	td.Versions = []log.SchemaVersion{sv}
	if p.plan.Distinct {
		// Readers show each row once; the state keeps multiplicities.
		td.Options = map[string]string{"distinct": "true"}
	}
	for _, s := range p.plan.Sources {
		td.DependsOn = append(td.DependsOn, s.Desc.ID)
	}
	ifNotExists := st.IfNotExists
	return func(c *log.Catalog) error {
		if _, ok := c.Lookup(td.Schema, td.Name); ok && ifNotExists {
			return nil
		}
		for _, dep := range td.DependsOn {
			if _, ok := c.Table(dep); !ok {
				return pgerr.New(pgerr.UndefinedTable, "a table the view reads was dropped concurrently")
			}
		}
		cp := *td
		return c.AddTable(&cp)
	}, nil
}

type viewPlan struct {
	plan  *views.Plan
	names []string
}

// CompileView rebuilds a stored view's plan (at startup and after catalog
// changes).
func (b *Builder) CompileView(td *log.TableDesc) (*views.Plan, error) {
	stmts, err := sql.Parse(td.Definition)
	if err != nil {
		return nil, err
	}
	q, ok := stmts[0].(*sql.Query)
	if !ok || len(stmts) != 1 {
		return nil, pgerr.New(pgerr.InternalError, "view %q: stored definition is not a query", td.Name)
	}
	rs, ok := q.AST.(ast.ResultSetNode)
	if !ok {
		return nil, pgerr.New(pgerr.InternalError, "view %q: stored definition is not a query", td.Name)
	}
	vp, err := b.BuildViewPlan(rs)
	if err != nil {
		return nil, err
	}
	vp.plan.View = td.ID
	return vp.plan, nil
}

// BuildViewPlan derives the incremental plan of a view's SELECT: one table,
// or an inner equi-join of two; WHERE; projection or GROUP BY with
// count, count(DISTINCT), sum, avg, min, max, bool_and, bool_or; HAVING;
// DISTINCT. Anything else is refused with 0A000 naming the part.
func (b *Builder) BuildViewPlan(q ast.ResultSetNode) (*viewPlan, error) {
	sel, ok := q.(*ast.SelectStmt)
	if !ok {
		return nil, notMaintainable("set operations (UNION, INTERSECT, EXCEPT) are not supported yet")
	}
	switch {
	case sel.With != nil:
		return nil, notMaintainable("WITH is not supported yet")
	case sel.Limit != nil:
		return nil, notMaintainable("LIMIT (top-N) is not supported yet")
	case sel.From == nil || sel.From.TableRefs == nil:
		return nil, notMaintainable("a view needs a FROM clause")
	case sel.WindowSpecs != nil:
		return nil, notMaintainable("window functions are not supported yet")
	}
	if hasSubquery(sel) {
		return nil, notMaintainable("subqueries are not supported yet")
	}
	p := &views.Plan{}
	var sc *scope
	var joinOn ast.ExprNode
	refs := sel.From.TableRefs
	switch {
	case refs.Right == nil:
		l, s, err := b.viewSource(refs.Left)
		if err != nil {
			return nil, err
		}
		p.Sources, sc = []*exec.TableLayout{l}, s
	default:
		if refs.Tp == ast.LeftJoin || refs.Tp == ast.RightJoin {
			return nil, notMaintainable("outer joins are not supported yet")
		}
		if len(refs.Using) > 0 || refs.NaturalJoin {
			return nil, notMaintainable("JOIN ... USING is not supported yet; use ON")
		}
		if _, nested := refs.Left.(*ast.Join); nested {
			return nil, notMaintainable("joins of more than two tables are not supported yet")
		}
		l, ls, err := b.viewSource(refs.Left)
		if err != nil {
			return nil, err
		}
		r, rs, err := b.viewSource(refs.Right)
		if err != nil {
			return nil, err
		}
		p.Sources = []*exec.TableLayout{l, r}
		sc = concatScopes(ls, rs)
		if refs.On != nil {
			joinOn = refs.On.Expr
		}
	}
	eb := &exprBinder{b: b, scope: sc, what: "a materialized view"}
	var conds []exec.Expr
	for _, n := range []ast.ExprNode{joinOn, sel.Where} {
		if n == nil {
			continue
		}
		e, err := eb.bindAs(n, tBool, "argument of WHERE")
		if err != nil {
			return nil, err
		}
		conds = append(conds, conjuncts(e)...)
	}
	if len(p.Sources) == 2 {
		lw := len(p.Sources[0].Types) + 1
		var rest []exec.Expr
		for _, c := range conds {
			if l, r, ok := equiSides(c, lw); ok {
				p.LeftKeys, p.RightKeys = append(p.LeftKeys, l), append(p.RightKeys, r)
				continue
			}
			rest = append(rest, c)
		}
		if len(p.LeftKeys) == 0 {
			return nil, notMaintainable("a join needs an equality between the two tables' columns")
		}
		conds = rest
	}
	p.Filter = andAll(conds)
	if p.Filter != nil && volatile(p.Filter) {
		return nil, notMaintainable("WHERE uses a function whose result changes over time")
	}

	fields, err := b.expandFields(sel.Fields, sc)
	if err != nil {
		return nil, err
	}
	vp := &viewPlan{plan: p}
	aggs := collectAggs(fields, sel.Having, nil)
	post := sc
	var agg *aggContext
	if len(aggs) > 0 || sel.GroupBy != nil {
		p.Aggregated = true
		agg = &aggContext{in: sc}
		post = &scope{}
		if sel.GroupBy != nil {
			for _, item := range sel.GroupBy.Items {
				gx := resolveOrdinalOrAlias(item.Expr, fields)
				e, err := eb.bind(gx)
				if err != nil {
					return nil, err
				}
				if e, err = eb.resolveUnknown(e, tText); err != nil {
					return nil, err
				}
				p.Group = append(p.Group, e)
				agg.groupText = append(agg.groupText, restore(gx))
				agg.groupExpr = append(agg.groupExpr, e)
				post.cols = append(post.cols, scopeCol{name: "?group", t: e.Type()})
			}
		}
		for _, a := range aggs {
			va, err := b.viewAggregate(eb, a)
			if err != nil {
				return nil, err
			}
			p.Aggs = append(p.Aggs, va)
			agg.aggs = append(agg.aggs, a)
			post.cols = append(post.cols, scopeCol{name: "?agg", t: va.Ret})
		}
		agg.post = post
		if sel.Having != nil {
			hb := &exprBinder{b: b, scope: post, agg: agg, what: "HAVING"}
			if p.Having, err = hb.bindAs(sel.Having.Expr, tBool, "argument of HAVING"); err != nil {
				return nil, err
			}
		}
	}
	pb := &exprBinder{b: b, scope: post, agg: agg, what: "a materialized view"}
	for _, f := range fields {
		e, err := pb.bind(f.expr)
		if err != nil {
			return nil, err
		}
		if e, err = pb.resolveUnknown(e, tText); err != nil {
			return nil, err
		}
		if volatile(e) {
			return nil, notMaintainable("column %q uses a function whose result changes over time", f.name)
		}
		p.Output = append(p.Output, e)
		p.OutTypes = append(p.OutTypes, e.Type())
		vp.names = append(vp.names, f.name)
	}
	if sel.Distinct {
		if p.Aggregated {
			return nil, notMaintainable("SELECT DISTINCT with GROUP BY is not supported yet")
		}
		p.Distinct = true
	}
	return vp, nil
}

func (b *Builder) viewSource(n ast.ResultSetNode) (*exec.TableLayout, *scope, error) {
	ts, ok := n.(*ast.TableSource)
	if !ok {
		return nil, nil, notMaintainable("FROM item %T is not supported", n)
	}
	tn, ok := ts.Source.(*ast.TableName)
	if !ok {
		return nil, nil, notMaintainable("subqueries in FROM are not supported yet")
	}
	td, err := b.LookupTable(tn.Schema.O, tn.Name.O)
	if err != nil {
		return nil, nil, err
	}
	if td.Kind == log.View {
		return nil, nil, notMaintainable("views over views are not supported yet")
	}
	alias := ts.AsName.O
	if alias == "" {
		alias = td.Name
	}
	l := exec.NewTableLayout(td)
	return l, tableScope(l, alias), nil
}

func (b *Builder) viewAggregate(eb *exprBinder, a ast.ExprNode) (views.Agg, error) {
	ag, err := b.bindAggregate(eb, a)
	if err != nil {
		return views.Agg{}, err
	}
	va := views.Agg{Arg: ag.Arg, Ret: ag.Func.Ret}
	switch ag.Func.Name {
	case "count":
		va.Kind = views.AggCount
		if ag.Func.CountStar {
			va.Kind = views.AggCountStar
		} else if ag.Distinct {
			va.Kind = views.AggCountDistinct
		}
	case "sum":
		va.Kind = views.AggSum
	case "avg":
		va.Kind = views.AggAvg
	case "min":
		va.Kind = views.AggMin
	case "max":
		va.Kind = views.AggMax
	case "bool_and", "every":
		va.Kind = views.AggBoolAnd
	case "bool_or":
		va.Kind = views.AggBoolOr
	default:
		return views.Agg{}, notMaintainable("aggregate %s is not supported", ag.Func.Name)
	}
	if ag.Filter != nil {
		return views.Agg{}, notMaintainable("aggregate FILTER is not supported yet")
	}
	if ag.Distinct && va.Kind != views.AggCountDistinct {
		return views.Agg{}, notMaintainable("%s(DISTINCT ...) is not supported yet", ag.Func.Name)
	}
	return va, nil
}

// volatile reports whether an expression calls a volatile or stable
// function (now(), random()): a view over it would not be a function of
// its tables.
func volatile(e exec.Expr) bool {
	switch x := e.(type) {
	case *exec.Call:
		if x.Fn.Volatile || x.Fn.Name == "now" || strings.HasSuffix(x.Fn.Name, "timestamp") {
			return true
		}
		for _, a := range x.Args {
			if volatile(a) {
				return true
			}
		}
	case *exec.Cast:
		return volatile(x.Arg)
	case *exec.BoolOp:
		for _, a := range x.Args {
			if volatile(a) {
				return true
			}
		}
	case *exec.Not:
		return volatile(x.Arg)
	case *exec.Case:
		for _, w := range x.Whens {
			if volatile(w.Cond) || volatile(w.Then) {
				return true
			}
		}
		return x.Else != nil && volatile(x.Else)
	case *exec.Coalesce:
		for _, a := range x.Args {
			if volatile(a) {
				return true
			}
		}
	}
	return false
}

func hasSubquery(n ast.Node) bool {
	v := &subqueryFinder{}
	n.Accept(v)
	return v.found
}

type subqueryFinder struct{ found bool }

func (v *subqueryFinder) Enter(n ast.Node) (ast.Node, bool) {
	switch n.(type) {
	case *ast.SubqueryExpr, *ast.ExistsSubqueryExpr:
		v.found = true
		return n, true
	}
	return n, false
}
func (v *subqueryFinder) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// viewRead is the plan node reading a view.
func viewRead(td *log.TableDesc, alias string) (exec.Node, *scope) {
	cur := td.Current()
	r := &views.Read{View: td, Distinct: td.Options["distinct"] == "true"}
	sc := &scope{}
	for i, c := range cur.Columns {
		t := types.T{OID: types.OID(c.TypeOID), Typmod: c.Typmod}
		r.Types = append(r.Types, t)
		r.Cols = append(r.Cols, exec.Column{Name: c.Name, T: t, Table: TableOID(td.ID), Attr: uint16(i + 1)})
		sc.cols = append(sc.cols, scopeCol{table: alias, name: c.Name, t: t, tableOID: TableOID(td.ID), attr: uint16(i + 1)})
	}
	for _, id := range cur.Key {
		for i, c := range cur.Columns {
			if c.ID == id {
				r.KeyIdx = append(r.KeyIdx, i)
			}
		}
	}
	r.Cols = append(r.Cols, exec.Column{Name: exec.VersionColumn, T: tInt8})
	sc.cols = append(sc.cols, scopeCol{table: alias, name: exec.VersionColumn, t: tInt8, hidden: true})
	return r, sc
}

// planViewKeyScan turns equalities on a leading run of a view's key
// columns into a key lookup of its output rows.
func planViewKeyScan(r *views.Read, pred exec.Expr) exec.Node {
	if len(r.KeyIdx) == 0 {
		return nil
	}
	fixed := map[int]exec.Expr{}
	for _, c := range conjuncts(pred) {
		call, ok := c.(*exec.Call)
		if !ok || call.Fn.Op != "=" {
			continue
		}
		col, val := keyEquality(call)
		if col == nil || col.Idx >= len(r.Types) || col.T.OID != r.Types[col.Idx].OID {
			continue
		}
		fixed[col.Idx] = val
	}
	kp := &viewKeyPrefix{}
	var desc []string
	for _, ki := range r.KeyIdx {
		v, ok := fixed[ki]
		if !ok {
			break
		}
		kp.parts = append(kp.parts, v)
		kp.ts = append(kp.ts, r.Types[ki])
		desc = append(desc, r.Cols[ki].Name+" = "+v.String())
	}
	if len(kp.parts) == 0 {
		return nil
	}
	kr := *r
	kr.Prefix, kr.PrefixDesc = kp, strings.Join(desc, " AND ")
	return &exec.Filter{Input: &kr, Pred: pred}
}

type viewKeyPrefix struct {
	parts []exec.Expr
	ts    []types.T
}

func (k *viewKeyPrefix) Type() types.T { return types.Make(types.ByteaOID) }
func (k *viewKeyPrefix) Eval(env *exec.Env, row exec.Row) (types.Datum, error) {
	vals := make([]types.Datum, len(k.parts))
	for i, p := range k.parts {
		v, err := p.Eval(env, row)
		if err != nil || v == nil {
			return nil, err
		}
		vals[i] = v
	}
	return views.KeyPrefix(k.ts, vals), nil
}
func (k *viewKeyPrefix) String() string { return "view key prefix" }
