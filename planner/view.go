package planner

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

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

// ExplainView describes how CREATE MATERIALIZED VIEW st would maintain its
// view (EXPLAIN CREATE MATERIALIZED VIEW): its incremental plan, each
// operator with the state it keeps, after the checks CREATE makes.
func (b *Builder) ExplainView(st *sql.CreateMaterializedView) ([]string, error) {
	p, td, err := b.viewDesc(st)
	if err != nil {
		return nil, err
	}
	var details []string
	if td.LogsChanges() {
		details = append(details, "Changelog: each key's changes kept as events (key: "+exec.NewTableLayout(td).KeyNames()+")")
	}
	var e exec.Explainer
	p.plan.Explain(&e, func(id log.TableID) string {
		if td, ok := b.cat.Table(id); ok {
			return td.Name
		}
		return fmt.Sprintf("relation %d", id)
	}, details...)
	return e.Lines, nil
}

// CreateView plans CREATE MATERIALIZED VIEW: it checks that the query can
// be maintained incrementally and returns the catalog change that adds the
// view (the maintainer backfills it in steps that commit between writes;
// views/backfill.go).
func (b *Builder) CreateView(st *sql.CreateMaterializedView) (func(*log.Catalog) error, error) {
	_, td, err := b.viewDesc(st)
	if err != nil {
		return nil, err
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

// viewDesc plans the view of CREATE MATERIALIZED VIEW st and describes it:
// its columns, key and options, checked as CREATE checks them.
func (b *Builder) viewDesc(st *sql.CreateMaterializedView) (*viewPlan, *log.TableDesc, error) {
	p, err := b.BuildViewPlan(st.Query)
	if err != nil {
		return nil, nil, err
	}
	td := &log.TableDesc{Schema: b.CreationSchema(st.Name.Schema), Name: st.Name.Name, Kind: log.View, Definition: st.QueryText}
	sv := log.SchemaVersion{Version: 1}
	names := p.names
	if len(st.Columns) > 0 {
		if len(st.Columns) > len(names) {
			return nil, nil, pgerr.New(pgerr.SyntaxError, "too many column names were specified")
		}
		copy(names, st.Columns)
	}
	seen := map[string]bool{}
	for i, t := range p.plan.OutTypes {
		if seen[names[i]] {
			return nil, nil, pgerr.New(pgerr.DuplicateColumn, "column %q specified more than once", names[i])
		}
		seen[names[i]] = true
		sv.Columns = append(sv.Columns, log.Column{ID: uint32(i + 1), Name: names[i], TypeOID: uint32(t.OID), Typmod: t.Typmod})
	}
	td.NextColID = uint32(len(sv.Columns))
	// An aggregated view is keyed by its group: when every GROUP BY
	// expression is an output column, those columns are the view's key
	// and lookups by them read one row.
	if agg := p.plan.GroupKeyed(); agg != nil && len(agg.Group) > 0 {
		var key []uint32
		for gi := range agg.Group {
			found := false
			for oi, e := range agg.Output {
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
	opts := map[string]string{}
	if p.plan.Distinct {
		// Readers show each row once; the state keeps multiplicities.
		opts["distinct"] = "true"
	}
	if cols := views.TopOutputKey(p.plan); cols != nil {
		// A top-N view read from its candidates is ordered by its
		// partition, which is no key (a partition has n rows): a lookup
		// by it reads one partition's window.
		var ids []string
		for _, c := range cols {
			ids = append(ids, strconv.FormatUint(uint64(sv.Columns[c].ID), 10))
		}
		opts[optTopPartition] = strings.Join(ids, ",")
	}
	// The view's expressions evaluate as in the creating session, as a
	// PostgreSQL REFRESH by it would: date_trunc('day', ts) buckets by
	// its TimeZone's days, and its DateStyle reads date literals.
	if loc := b.settings.Location; loc != nil && loc != time.UTC {
		opts[optViewTimeZone] = loc.String()
	}
	if ds := b.settings.DateStyle; ds != "" && ds != types.DefaultSettings().DateStyle {
		opts[optViewDateStyle] = ds
	}
	if p.plan.ExactSums() {
		opts[optExactSums] = "true"
	}
	if p.ties {
		opts[optTiesTopN] = "true"
	}
	// The definition's names resolve as they did here, through the
	// creating session's search path (CompileView).
	opts[optViewSearchPath] = strings.Join(b.searchPath, ",")
	// A view whose output rows are keyed by some of their columns (a
	// keyed table's key, a fact-dimension join's key): lookups by them
	// read a range (last: this compiles the plan's layout).
	if len(sv.Key) == 0 && opts[optTopPartition] == "" {
		if cols := views.OutputKey(p.plan); len(cols) > 0 {
			var ids []string
			for _, c := range cols {
				ids = append(ids, strconv.FormatUint(uint64(sv.Columns[c].ID), 10))
			}
			opts[optOutputKey] = strings.Join(ids, ",")
		}
	}
	if err := b.viewOptions(st.Options, td, opts); err != nil {
		return nil, nil, err
	}
	td.Options = opts
	td.DependsOn = p.deps
	return p, td, nil
}

// sameTables reports whether two lists of tables hold the same tables.
func sameTables(a, b []log.TableID) bool {
	if len(a) != len(b) {
		return false
	}
	for _, id := range a {
		if !slices.Contains(b, id) {
			return false
		}
	}
	return true
}

type viewPlan struct {
	plan  *views.Plan
	names []string
	// deps is the view's DependsOn: the plan's sources and the plain
	// views read on the way.
	deps []log.TableID
	// ties: the plan has a top-N with ties (optTiesTopN).
	ties bool
}

// CompileView builds a stored view's incremental plan (the maintainer
// calls it for every view of a new catalog) as its creating session
// planned it: names resolve through that session's search path, and its
// expressions evaluate with that session's TimeZone and DateStyle. Views
// made before those were kept resolve names in their own schema, then
// public, and evaluate in UTC.
func CompileView(td *log.TableDesc, cat *log.Catalog) (*views.Plan, error) {
	settings := types.DefaultSettings()
	if tz := td.Options[optViewTimeZone]; tz != "" {
		loc, err := types.SettingZone(tz)
		if err != nil {
			return nil, fmt.Errorf("materialized view %q: %w", td.Name, err)
		}
		settings.Location = loc
	}
	if ds := td.Options[optViewDateStyle]; ds != "" {
		settings.DateStyle = ds
	}
	path := []string{td.Schema, "public"}
	if v := td.Options[optViewSearchPath]; v != "" {
		path = strings.Split(v, ",")
	}
	p, err := NewBuilder(cat, path, settings, nil).compileView(td)
	if err != nil {
		return nil, err
	}
	p.Settings = settings
	return p, nil
}

func (b *Builder) compileView(td *log.TableDesc) (*views.Plan, error) {
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
	// A view made before rank() and dense_rank() top-Ns keeps its window
	// operator and the state it wrote.
	vp, err := b.buildViewPlan(rs, td.Options[optTiesTopN] == "true")
	if err != nil {
		return nil, err
	}
	vp.plan.View = td.ID
	// The definition names tables by name: when a catalog change would
	// make it read others (a new table earlier on the search path), the
	// change fails here, in the commit that makes it.
	if len(td.DependsOn) > 0 && !sameTables(vp.deps, td.DependsOn) {
		return nil, pgerr.New(pgerr.DependentObjectsStillExist, "materialized view %q would read other tables than the ones it was created over", td.Name).
			WithHint("Its definition names tables as written; qualify them with their schema, or drop the view first.")
	}
	if td.Options[optExactSums] == "true" {
		vp.plan.KeepExactSums()
	}
	return vp.plan, nil
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
	case "string_agg", "array_agg", "json_agg", "jsonb_agg":
		switch ag.Func.Name {
		case "string_agg":
			va.Kind = views.AggStringAgg
		case "array_agg":
			va.Kind = views.AggArrayAgg
		default:
			va.Kind, va.JSONText = views.AggJSONAgg, ag.Func.Name == "json_agg"
		}
		for _, k := range ag.Order {
			if err := timeVarying(fmt.Sprintf("the ORDER BY of %s", ag.Func.Name), k.Expr); err != nil {
				return views.Agg{}, err
			}
			va.Order = append(va.Order, views.SortKey{Expr: k.Expr, Desc: k.Desc, NullsFirst: k.NullsFirst})
		}
	case "percentile_cont", "percentile_disc", "mode":
		va.Kind, va.Func = views.AggOrderedSet, ag.Func
		for _, k := range ag.Order {
			if err := timeVarying(fmt.Sprintf("the WITHIN GROUP of %s", ag.Func.Name), k.Expr); err != nil {
				return views.Agg{}, err
			}
			va.Order = append(va.Order, views.SortKey{Expr: k.Expr, Desc: k.Desc, NullsFirst: k.NullsFirst})
		}
	default:
		k, ok := exec.VarianceOf(ag.Func.Name)
		if !ok {
			return views.Agg{}, notMaintainable("aggregate %s is not supported", ag.Func.Name)
		}
		va.Kind, va.Variance = views.AggVariance, k
	}
	if ag.Filter != nil {
		if err := timeVarying(fmt.Sprintf("the FILTER of %s", ag.Func.Name), ag.Filter); err != nil {
			return views.Agg{}, err
		}
		va.Filter = ag.Filter
		if va.Kind == views.AggCountStar {
			// count(*) is the group's row count; filtered, it counts
			// the rows that pass.
			va.Kind, va.Arg = views.AggCount, &exec.Const{T: types.Make(types.Int8OID), Val: int64(1)}
		}
	}
	if ag.Distinct {
		switch va.Kind {
		case views.AggCountDistinct:
		case views.AggSum, views.AggAvg:
			// Each value counted once: kept beside count(DISTINCT)'s
			// counters.
			va.Distinct = true
		case views.AggStringAgg, views.AggArrayAgg, views.AggJSONAgg:
			// The list keeps each value's count: listed once.
			va.Distinct = true
		case views.AggMin, views.AggMax, views.AggBoolAnd, views.AggBoolOr:
			// DISTINCT changes nothing.
		default:
			return views.Agg{}, notMaintainable("%s(DISTINCT ...) is not supported yet", ag.Func.Name)
		}
	}
	if err := timeVarying(fmt.Sprintf("the argument of %s", ag.Func.Name), va.Arg); err != nil {
		return views.Agg{}, err
	}
	return va, nil
}

// timeVarying refuses part of a view (named as the message says it) when
// e calls a function of the time or the session.
func timeVarying(part string, e exec.Expr) error {
	if volatile(e) {
		return notMaintainable("%s uses a function whose result changes over time or with the session", part)
	}
	return nil
}

// volatile reports whether an expression calls a volatile or stable
// function (random(), now(), current_user): a view over it would not be a
// function of its tables.
func volatile(e exec.Expr) bool {
	return callsFunc(e, func(f *exec.Func) bool { return f.Volatile || f.Stable })
}

func hasSubquery(n ast.Node) bool {
	v := &subqueryFinder{}
	n.Accept(v)
	return v.found
}

// subqueryFinder finds a subquery other than skip.
type subqueryFinder struct {
	skip  *ast.SubqueryExpr
	found bool
}

func (v *subqueryFinder) Enter(n ast.Node) (ast.Node, bool) {
	switch n.(type) {
	case *ast.SubqueryExpr, *ast.ExistsSubqueryExpr:
		v.found = v.found || n != ast.Node(v.skip)
		return n, true
	}
	return n, false
}
func (v *subqueryFinder) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// viewOptions applies CREATE MATERIALIZED VIEW's WITH (...) to the view's
// options (opts) and descriptor: changelog = true keeps the view's
// changes as events of its own (log.OptChangelog), which needs a key;
// notify = 'channel' NOTIFYs it per commit, which needs the changelog.
func (b *Builder) viewOptions(options []sql.Option, td *log.TableDesc, opts map[string]string) error {
	sv := &td.Versions[0]
	for _, o := range options {
		switch o.Name {
		case log.OptChangelog:
			on, err := types.ParseText(types.Make(types.BoolOID), o.Value, b.settings)
			if err != nil {
				return pgerr.New(pgerr.InvalidParameterValue, "invalid value for boolean option %q: %s", o.Name, o.Value)
			}
			if on != true {
				continue
			}
			if len(sv.Key) == 0 && opts[optOutputKey] != "" {
				// Each row stands for one row of a keyed table (a filter
				// or projection of it, or it joined with a dimension):
				// the view is keyed by that key, as its reads already
				// are, and so is its changelog.
				for _, f := range strings.Split(opts[optOutputKey], ",") {
					id, _ := strconv.ParseUint(f, 10, 32)
					sv.Key = append(sv.Key, uint32(id))
				}
			}
			if len(sv.Key) == 0 {
				return pgerr.New(pgerr.FeatureNotSupported, "a materialized view with a changelog must have a key").
					WithDetail("Its changelog holds each key's changes, as a table's events do; this view's rows have no key.").
					WithHint("Keep in the output the GROUP BY columns of a grouped view, or the key columns of the table whose rows the view's rows stand for.")
			}
			opts[log.OptChangelog] = "true"
		case "notify":
			// As a table's: each commit that changes the view NOTIFYs the
			// channel (sql/session/notify.go), from its changelog.
			if o.Value == "" {
				return pgerr.New(pgerr.InvalidParameterValue, "notify channel name cannot be empty")
			}
			opts["notify"] = o.Value
		default:
			return pgerr.New(pgerr.InvalidParameterValue, "unrecognized parameter %q", o.Name)
		}
	}
	if opts["notify"] != "" && opts[log.OptChangelog] != "true" {
		return pgerr.New(pgerr.FeatureNotSupported, "notify on a materialized view needs its changelog").
			WithHint("Create it WITH (changelog = true, notify = '%s').", opts["notify"])
	}
	return nil
}

// optTopPartition, in a top-N view's options, lists the column IDs
// holding its partition when its rows are read from the top-N's
// candidates in partition order (views.TopOutputKey): lookups by them
// read one partition.
const optTopPartition = "top_partition"

// optOutputKey, in a view's options, lists the column IDs its output rows
// are keyed by, in key order, when they are not the whole row
// (views.OutputKey): lookups by a leading run of them read a range.
const optOutputKey = "output_key"

// optViewTimeZone and optViewDateStyle, in a view's options, are the
// TimeZone and DateStyle of the session that created it, when not the
// defaults: its expressions evaluate with them (CompileView).
const (
	optViewTimeZone  = "timezone"
	optViewDateStyle = "datestyle"
	// optViewSearchPath is the creating session's search path, comma
	// separated (views made before it resolve names in their own schema,
	// then public).
	optViewSearchPath = "search_path"
)

// optExactSums is "true" in the options of a view whose sums and
// averages of float4, float8 and numeric keep exact states
// (views/exactsum.go); views made before keep float8 or numeric sums.
const optExactSums = "exact_sums"

// optTiesTopN is "true" in the options of a view whose rank() or
// dense_rank() bounded by a WHERE is a top-N with ties
// (views/topties.go); views made before compute it with the window
// operator.
const optTiesTopN = "ties_topn"

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
	keyIDs := cur.Key
	for _, opt := range []string{optTopPartition, optOutputKey} {
		if s := td.Options[opt]; s != "" && len(keyIDs) == 0 {
			for _, f := range strings.Split(s, ",") {
				id, _ := strconv.ParseUint(f, 10, 32)
				keyIDs = append(keyIDs, uint32(id))
			}
		}
	}
	for _, id := range keyIDs {
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
