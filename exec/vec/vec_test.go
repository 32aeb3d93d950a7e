package vec

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/cockroachdb/pebble/v2"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

// The tests run the same aggregate plans through vec and through the row
// engine (Aggregate.Fallback, exec.HashAgg) over one table and require the
// same rows in the same order, or errors of the same SQLSTATE class.

type fixture struct {
	log    *log.Log
	layout *exec.TableLayout
}

// colsV1 is the first schema version of table t; version 2 drops n and adds
// e, so rows of both versions are read (and n's numeric values skipped).
var colsV1 = []log.Column{
	{ID: 1, Name: "id", TypeOID: uint32(types.Int8OID), Typmod: -1},
	{ID: 2, Name: "a", TypeOID: uint32(types.Int4OID), Typmod: -1},
	{ID: 3, Name: "b", TypeOID: uint32(types.Int8OID), Typmod: -1},
	{ID: 4, Name: "f", TypeOID: uint32(types.Float8OID), Typmod: -1},
	{ID: 5, Name: "s", TypeOID: uint32(types.TextOID), Typmod: -1},
	{ID: 6, Name: "x", TypeOID: uint32(types.BoolOID), Typmod: -1},
	{ID: 7, Name: "d", TypeOID: uint32(types.DateOID), Typmod: -1},
	{ID: 8, Name: "n", TypeOID: uint32(types.NumericOID), Typmod: -1},
}

func openLog(t testing.TB, smallTables bool) *log.Log {
	opts := log.Options{Dir: t.TempDir()}
	if smallTables {
		// Small memtables and files, so that a table of a few thousand
		// rows spans several sstables and is read as several spans.
		opts.Pebble = func(po *pebble.Options) {
			po.MemTableSize = 256 << 10
			for i := range po.TargetFileSizes {
				po.TargetFileSizes[i] = 64 << 10
			}
		}
	}
	l, err := log.Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func createTable(t testing.TB, l *log.Log, name string, cols []log.Column, key []uint32) *log.TableDesc {
	txn := exec.NewTxn(l)
	defer txn.Release()
	err := txn.AddCatalogChange(func(c *log.Catalog) error {
		return c.AddTable(&log.TableDesc{Schema: "public", Name: name, Kind: log.Keyed,
			Versions: []log.SchemaVersion{{Version: 1, Columns: cols, Key: key}}})
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := txn.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	td, ok := l.Catalog().Lookup("public", name)
	if !ok {
		t.Fatal("table not created")
	}
	return td
}

// insert writes rows (current schema version) in commits of 2,000.
func insert(t testing.TB, l *log.Log, name string, rows []exec.Row) {
	for len(rows) > 0 {
		n := min(2000, len(rows))
		txn := exec.NewTxn(l)
		td, _ := txn.Catalog().Lookup("public", name)
		layout := exec.NewTableLayout(td)
		for _, r := range rows[:n] {
			if err := txn.Put(layout, r, false, log.Cond{}); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := txn.Commit(context.Background()); err != nil {
			t.Fatal(err)
		}
		txn.Release()
		rows = rows[n:]
	}
}

func randRow(r *rand.Rand, id int64, v2 bool) exec.Row {
	null := func() bool { return r.IntN(7) == 0 }
	words := []string{"", "a", "apple", "Apple", "apple ", "b", "banana", "ápple", "zed", "x'y"}
	row := exec.Row{id, nil, nil, nil, nil, nil, nil, nil}
	if !null() {
		switch r.IntN(10) {
		case 0:
			row[1] = int64(math.MaxInt32 - r.IntN(3))
		case 1:
			row[1] = int64(math.MinInt32 + r.IntN(3))
		default:
			row[1] = int64(r.IntN(201) - 100)
		}
	}
	if !null() {
		switch r.IntN(20) {
		case 0:
			row[2] = int64(math.MaxInt64 - r.IntN(1000))
		case 1:
			row[2] = int64(math.MinInt64 + r.IntN(1000))
		default:
			row[2] = r.Int64N(2_000_001) - 1_000_000
		}
	}
	if !null() {
		// Eighths of small numbers add up exactly in any order, so sums
		// read by several workers match the row engine's; NaN and the
		// infinities do too.
		fs := []float64{0, math.Copysign(0, -1), math.NaN(), math.Inf(1), math.Inf(-1)}
		if r.IntN(20) == 0 {
			row[3] = fs[r.IntN(len(fs))]
		} else {
			row[3] = float64(r.IntN(16001)-8000) / 8
		}
	}
	if !null() {
		row[4] = words[r.IntN(len(words))]
	}
	if !null() {
		row[5] = r.IntN(2) == 0
	}
	if !null() {
		row[6] = types.Date(r.IntN(400) - 200)
	}
	if v2 {
		// version 2: n is dropped, e added last.
		row = append(row[:7], nil)
		if !null() {
			row[7] = int64(r.IntN(50))
		}
	} else if !null() {
		n, err := types.NewNumeric(fmt.Sprintf("%d.%02d", r.IntN(1000), r.IntN(100)))
		if err != nil {
			panic(err)
		}
		row[7] = n
	}
	return row
}

// newFixture makes table t with rows of two schema versions.
func newFixture(t testing.TB, rows int, smallTables bool) *fixture {
	l := openLog(t, smallTables)
	createTable(t, l, "t", colsV1, []uint32{1})
	r := rand.New(rand.NewPCG(1, 2))
	var batch []exec.Row
	for i := 0; i < rows/2; i++ {
		batch = append(batch, randRow(r, int64(i*2), false))
	}
	insert(t, l, "t", batch)
	// ALTER TABLE: drop n, add e.
	txn := exec.NewTxn(l)
	err := txn.AddCatalogChange(func(c *log.Catalog) error {
		td, _ := c.Lookup("public", "t")
		nt := *td
		v2 := log.SchemaVersion{Version: 2, Columns: append(append([]log.Column(nil), colsV1[:7]...),
			log.Column{ID: 9, Name: "e", TypeOID: uint32(types.Int8OID), Typmod: -1}), Key: []uint32{1}}
		nt.Versions = append(append([]log.SchemaVersion(nil), td.Versions...), v2)
		nt.NextColID = 9
		return c.ReplaceTable(&nt)
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := txn.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	txn.Release()
	batch = batch[:0]
	for i := rows / 2; i < rows; i++ {
		// Odd ids interleave with the older rows in key order.
		batch = append(batch, randRow(r, int64((i-rows/2)*2+1), true))
	}
	insert(t, l, "t", batch)
	// Some deletes: tombstones are skipped.
	txn = exec.NewTxn(l)
	td, _ := txn.Catalog().Lookup("public", "t")
	layout := exec.NewTableLayout(td)
	for id := int64(0); id < int64(rows); id += 97 {
		if err := txn.Put(layout, exec.Row{id, nil, nil, nil, nil, nil, nil, nil}, true, log.Cond{}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := txn.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	txn.Release()
	return &fixture{log: l, layout: layout}
}

// Helpers that build row-engine expressions over t's scan row:
// id 0, a 1, b 2, f 3, s 4, x 5, d 6, e 7, _version 8.
var (
	tInt4   = types.Make(types.Int4OID)
	tInt8   = types.Make(types.Int8OID)
	tFloat8 = types.Make(types.Float8OID)
	tText   = types.Make(types.TextOID)
	tBool   = types.Make(types.BoolOID)
	tDate   = types.Make(types.DateOID)
)

func col(l *exec.TableLayout, name string) exec.Expr {
	if name == exec.VersionColumn {
		return &exec.ColRef{Idx: len(l.Types), T: tInt8, Name: name}
	}
	for i, c := range l.Cur.Columns {
		if c.Name == name {
			return &exec.ColRef{Idx: i, T: l.Types[i], Name: name}
		}
	}
	panic("no column " + name)
}

func konst(v types.Datum, t types.T) exec.Expr { return &exec.Const{Val: v, T: t} }

func call(op string, args ...exec.Expr) exec.Expr {
	for _, f := range exec.Overloads(op) {
		if len(f.Args) != len(args) {
			continue
		}
		ok := true
		for i, a := range args {
			ok = ok && f.Args[i] == a.Type().OID
		}
		if ok {
			return &exec.Call{Fn: f, Args: args, T: f.Ret}
		}
	}
	panic(fmt.Sprintf("no %s for %v", op, args))
}

func agg(name string, arg exec.Expr) exec.Aggregate {
	var at types.T
	if arg != nil {
		at = arg.Type()
	}
	f, err := exec.ResolveAgg(name, at, arg == nil)
	if err != nil || f == nil {
		panic(fmt.Sprintf("aggregate %s: %v", name, err))
	}
	return exec.Aggregate{Func: f, Arg: arg}
}

// plan builds the row engine's hash aggregate and its vectorized form.
func (fx *fixture) plan(t testing.TB, where exec.Expr, group []exec.Expr, aggs []exec.Aggregate) *Aggregate {
	l := fx.layout
	cols := make([]exec.Column, l.Width())
	var in exec.Node = &exec.Scan{Layout: l, Cols: cols}
	if where != nil {
		in = &exec.Filter{Input: in, Pred: where}
	}
	h := &exec.HashAgg{Input: in, Group: group, Aggs: aggs}
	for _, g := range group {
		h.Cols = append(h.Cols, exec.Column{Name: "?group", T: g.Type()})
	}
	for _, a := range aggs {
		h.Cols = append(h.Cols, exec.Column{Name: a.Func.Name, T: a.Func.Ret})
	}
	v, ok := Plan(h)
	if !ok {
		t.Fatalf("not vectorized: where %v group %v aggs %v", where, group, aggs)
	}
	return v
}

func run(fx *fixture, n exec.Node) ([]exec.Row, error) {
	txn := exec.NewTxn(fx.log)
	defer txn.Release()
	rt := &exec.Runtime{Ctx: context.Background(), Env: &exec.Env{Settings: types.DefaultSettings()}, Tables: txn}
	return exec.Collect(rt, n)
}

// compare runs v and its fallback and reports the first difference.
func compare(fx *fixture, v *Aggregate, floatSlack bool) error {
	_, err := compareErr(fx, v, floatSlack)
	return err
}

// compareErr is compare that also says whether both engines failed.
func compareErr(fx *fixture, v *Aggregate, floatSlack bool) (failed bool, _ error) {
	want, werr := run(fx, v.Fallback)
	got, gerr := run(fx, v)
	if werr != nil || gerr != nil {
		if werr == nil || gerr == nil || sqlClass(werr) != sqlClass(gerr) {
			return false, fmt.Errorf("errors differ: row engine %v, vec %v", werr, gerr)
		}
		return true, nil
	}
	if len(got) != len(want) {
		return false, fmt.Errorf("%d rows, row engine %d", len(got), len(want))
	}
	for i := range want {
		for c, col := range v.Cols {
			w, g := want[i][c], got[i][c]
			if !sameDatum(col.T, w, g, floatSlack) {
				return false, fmt.Errorf("row %d column %d (%s): vec %v, row engine %v", i, c, col.Name, show(col.T, g), show(col.T, w))
			}
		}
	}
	return false, nil
}

func sqlClass(err error) string {
	var pe *pgerr.Error
	if errors.As(err, &pe) {
		return string(pe.Code)[:2]
	}
	return "?? " + err.Error()
}

func show(t types.T, d types.Datum) string {
	if d == nil {
		return "NULL"
	}
	return types.FormatText(t, d, nil)
}

func sameDatum(t types.T, a, b types.Datum, floatSlack bool) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	if x, ok := a.(float64); ok && floatSlack {
		y := b.(float64)
		if x == y || x != x && y != y {
			return true
		}
		return math.Abs(x-y) <= 1e-9*math.Max(math.Abs(x), math.Abs(y))
	}
	// Equal text forms: numerics must also agree on their scale.
	return show(t, a) == show(t, b)
}

func TestBenchQuery(t *testing.T) {
	fx := newFixture(t, 6000, false)
	l := fx.layout
	b := col(l, "b")
	v := fx.plan(t, nil, []exec.Expr{call("%", b, konst(int64(100), tInt8))},
		[]exec.Aggregate{agg("count", nil), agg("sum", b)})
	if err := compare(fx, v, false); err != nil {
		t.Fatal(err)
	}
	rows, err := run(fx, v)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) < 100 {
		t.Fatalf("%d groups of b %% 100", len(rows))
	}
}

// TestEmptyTable: no rows is one row without GROUP BY (count 0, NULL
// sums), none with it; a constant error is not raised for no rows.
func TestEmptyTable(t *testing.T) {
	l := openLog(t, false)
	createTable(t, l, "t", colsV1, []uint32{1})
	td, _ := l.Catalog().Lookup("public", "t")
	fx := &fixture{log: l, layout: exec.NewTableLayout(td)}
	b := col(fx.layout, "b")
	div0 := call("/", konst(int64(1), tInt8), konst(int64(0), tInt8))
	for _, group := range [][]exec.Expr{nil, {col(fx.layout, "s")}} {
		v := fx.plan(t, nil, group, []exec.Aggregate{agg("count", nil), agg("sum", b), agg("avg", b), agg("max", col(fx.layout, "s")), agg("sum", div0)})
		rows, err := run(fx, v)
		if err != nil {
			t.Fatal(err)
		}
		if want := 1 - len(group); len(rows) != want {
			t.Fatalf("group %v: %d rows, want %d", group, len(rows), want)
		}
		if err := compare(fx, v, false); err != nil {
			t.Fatal(err)
		}
	}
}

// TestErrors: overflow and division by zero are raised as the row engine
// raises them, and not for rows a WHERE or an AND leaves out.
func TestErrors(t *testing.T) {
	fx := newFixture(t, 3000, false)
	l := fx.layout
	a, b := col(l, "a"), col(l, "b")
	cases := []struct {
		where exec.Expr
		arg   exec.Expr
		code  pgerr.Code
	}{
		{nil, call("*", b, konst(int64(1<<40), tInt8)), pgerr.NumericValueOutOfRange},
		{nil, call("+", a, konst(int64(10), tInt4)), pgerr.NumericValueOutOfRange},
		{nil, call("/", b, call("-", b, b)), pgerr.DivisionByZero},
		{nil, call("%", b, call("-", b, b)), pgerr.DivisionByZero},
		// b - b is 0 only where b is not NULL; the filter drops those rows.
		{&exec.IsNull{Arg: b}, call("/", konst(int64(1), tInt8), call("-", b, b)), ""},
		// AND evaluates its second argument only where the first is not false.
		{&exec.BoolOp{And: true, Args: []exec.Expr{call("<>", b, konst(int64(0), tInt8)), call(">", call("/", konst(int64(1_000_000), tInt8), b), konst(int64(0), tInt8))}}, b, ""},
		{&exec.BoolOp{And: false, Args: []exec.Expr{call("=", b, konst(int64(0), tInt8)), call(">", call("/", konst(int64(1_000_000), tInt8), b), konst(int64(0), tInt8))}}, b, ""},
		{nil, call("%", b, konst(int64(-1), tInt8)), ""},
		{nil, call("/", call("+", call("*", b, konst(int64(0), tInt8)), konst(int64(math.MinInt64), tInt8)), konst(int64(-1), tInt8)), pgerr.NumericValueOutOfRange},
		{nil, call("*", col(l, "f"), konst(1e308, tFloat8)), pgerr.NumericValueOutOfRange},
	}
	for i, c := range cases {
		v := fx.plan(t, c.where, nil, []exec.Aggregate{agg("sum", c.arg)})
		_, err := run(fx, v)
		var pe *pgerr.Error
		switch {
		case c.code == "" && err != nil:
			t.Errorf("case %d: %v", i, err)
		case c.code != "" && (!errors.As(err, &pe) || pe.Code != c.code):
			t.Errorf("case %d: error %v, want SQLSTATE %s", i, err, c.code)
		}
		if err := compare(fx, v, false); err != nil {
			t.Errorf("case %d: %v", i, err)
		}
	}
}

// TestPendingWrites: a transaction that wrote to the table sees its own
// writes (the row engine's merging scan runs).
func TestPendingWrites(t *testing.T) {
	fx := newFixture(t, 1000, false)
	v := fx.plan(t, nil, nil, []exec.Aggregate{agg("count", nil)})
	count := func(txn *exec.Txn) int64 {
		rt := &exec.Runtime{Ctx: context.Background(), Env: &exec.Env{Settings: types.DefaultSettings()}, Tables: txn}
		rows, err := exec.Collect(rt, v)
		if err != nil {
			t.Fatal(err)
		}
		return rows[0][0].(int64)
	}
	txn := exec.NewTxn(fx.log)
	defer txn.Release()
	before := count(txn)
	if err := txn.Put(fx.layout, exec.Row{int64(1 << 40), nil, nil, nil, nil, nil, nil, nil}, false, log.Cond{}); err != nil {
		t.Fatal(err)
	}
	if after := count(txn); after != before+1 {
		t.Fatalf("count %d after an insert in the transaction, %d before", after, before)
	}
}

// TestRandomAgainstRowEngine compares random aggregate queries (filters,
// arithmetic, group keys of every kind, every aggregate) on a table read
// as several spans by several workers.
func TestRandomAgainstRowEngine(t *testing.T) {
	fx := newFixture(t, 8000, true)
	if n := len(fx.log.SplitRows(fx.layout.Desc, 8)); n < 2 {
		t.Fatalf("the table is one span; the test needs several (got %d)", n)
	}
	g := &gen{r: rand.New(rand.NewPCG(7, 8)), l: fx.layout}
	queries := 150
	if testing.Short() {
		queries = 40
	}
	errs := 0
	for q := 0; q < queries; q++ {
		where, group, aggs := g.query()
		v := fx.plan(t, where, group, aggs)
		v.Workers = 1 + q%3
		failed, err := compareErr(fx, v, true)
		if err != nil {
			t.Fatalf("query %d (WHERE %v GROUP BY %v AGGS %s): %v", q, where, group, aggsString(aggs), err)
		}
		if failed {
			errs++
		}
	}
	// Some queries must fail (overflow, division by zero) and most not.
	if errs == 0 || errs > queries/2 {
		t.Fatalf("%d of %d random queries failed", errs, queries)
	}
}

func aggsString(aggs []exec.Aggregate) string {
	var parts []string
	for _, a := range aggs {
		arg := "*"
		if a.Arg != nil {
			arg = a.Arg.String()
		}
		s := a.Func.Name + "(" + arg + ")"
		if a.Filter != nil {
			s += " FILTER (WHERE " + a.Filter.String() + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, ", ")
}

// gen generates random expressions over t.
type gen struct {
	r *rand.Rand
	l *exec.TableLayout
}

func (g *gen) int8(depth int) exec.Expr {
	switch n := g.r.IntN(8); {
	case depth > 2 || n < 3:
		return col(g.l, []string{"b", "e", "id"}[g.r.IntN(3)])
	case n == 3:
		return konst([]int64{0, 1, -1, 7, 100, math.MaxInt64, 1 << 40}[g.r.IntN(7)], tInt8)
	case n == 4:
		return &exec.Cast{Arg: g.int4(depth + 1), To: tInt8}
	default:
		return call([]string{"+", "-", "*", "/", "%"}[g.r.IntN(5)], g.int8(depth+1), g.int8(depth+1))
	}
}

func (g *gen) int4(depth int) exec.Expr {
	switch n := g.r.IntN(6); {
	case depth > 2 || n < 3:
		return col(g.l, "a")
	case n == 3:
		return konst([]int64{0, 3, -1, math.MaxInt32}[g.r.IntN(4)], tInt4)
	default:
		return call([]string{"+", "-", "*", "%"}[g.r.IntN(4)], g.int4(depth+1), g.int4(depth+1))
	}
}

func (g *gen) float(depth int) exec.Expr {
	switch n := g.r.IntN(6); {
	case depth > 2 || n < 3:
		return col(g.l, "f")
	case n == 3:
		return &exec.Cast{Arg: g.int8(depth + 1), To: tFloat8}
	case n == 4:
		// Overflow and underflow.
		return call("*", col(g.l, "f"), konst([]float64{1e308, 1e-320, 0.5}[g.r.IntN(3)], tFloat8))
	default:
		return call([]string{"+", "-", "*", "/"}[g.r.IntN(4)], g.float(depth+1), g.float(depth+1))
	}
}

func (g *gen) pred(depth int) exec.Expr {
	cmp := []string{"=", "<>", "<", "<=", ">", ">="}[g.r.IntN(6)]
	switch n := g.r.IntN(9); {
	case n == 0 && depth < 2:
		return &exec.BoolOp{And: g.r.IntN(2) == 0, Args: []exec.Expr{g.pred(depth + 1), g.pred(depth + 1)}}
	case n == 1 && depth < 2:
		return &exec.Not{Arg: g.pred(depth + 1)}
	case n == 2:
		return &exec.IsNull{Arg: col(g.l, []string{"a", "s", "f", "x"}[g.r.IntN(4)]), Not: g.r.IntN(2) == 0}
	case n == 3:
		return col(g.l, "x")
	case n == 4:
		return call(cmp, col(g.l, "s"), konst([]string{"apple", "b", ""}[g.r.IntN(3)], tText))
	case n == 5:
		return call(cmp, g.float(depth+1), konst(0.5, tFloat8))
	case n == 6:
		return call(cmp, col(g.l, "d"), konst(types.Date(g.r.IntN(200)-100), tDate))
	default:
		return call(cmp, g.int8(depth+1), konst(int64(g.r.IntN(2_000_000)-1_000_000), tInt8))
	}
}

func (g *gen) key() exec.Expr {
	switch g.r.IntN(7) {
	case 0:
		return call("%", col(g.l, "b"), konst(int64(1+g.r.IntN(50)), tInt8))
	case 1:
		return col(g.l, "s")
	case 2:
		return col(g.l, "x")
	case 3:
		return col(g.l, "d")
	case 4:
		return col(g.l, "a")
	case 5:
		return col(g.l, "e")
	}
	return col(g.l, "id") // one group per row
}

func (g *gen) agg() exec.Aggregate {
	var a exec.Aggregate
	switch g.r.IntN(12) {
	case 0:
		a = agg("count", nil)
	case 1:
		a = agg("count", col(g.l, []string{"a", "s", "f", "x", "d"}[g.r.IntN(5)]))
	case 2:
		a = agg("sum", g.int8(1))
	case 3:
		a = agg("sum", g.int4(1))
	case 4:
		a = agg("sum", g.float(1))
	case 5:
		a = agg("avg", g.int8(1))
	case 6:
		a = agg("avg", g.int4(2))
	case 7:
		a = agg("avg", g.float(1))
	case 8:
		a = agg([]string{"min", "max"}[g.r.IntN(2)], g.int8(1))
	case 9:
		a = agg([]string{"min", "max"}[g.r.IntN(2)], col(g.l, "s"))
	case 10:
		a = agg([]string{"min", "max"}[g.r.IntN(2)], g.float(2))
	default:
		a = agg([]string{"min", "max"}[g.r.IntN(2)], col(g.l, []string{"d", "a", exec.VersionColumn}[g.r.IntN(3)]))
	}
	if g.r.IntN(6) == 0 {
		a.Filter = g.pred(1)
	}
	return a
}

func (g *gen) query() (exec.Expr, []exec.Expr, []exec.Aggregate) {
	var where exec.Expr
	if g.r.IntN(2) == 0 {
		where = g.pred(0)
	}
	var group []exec.Expr
	for i := g.r.IntN(3); i > 0; i-- {
		group = append(group, g.key())
	}
	var aggs []exec.Aggregate
	for i := 1 + g.r.IntN(4); i > 0; i-- {
		aggs = append(aggs, g.agg())
	}
	return where, group, aggs
}

// TestStream reads an append-only stream (every event is a row, several
// per key) like the row engine does.
func TestStream(t *testing.T) {
	l := openLog(t, true)
	txn := exec.NewTxn(l)
	err := txn.AddCatalogChange(func(c *log.Catalog) error {
		return c.AddTable(&log.TableDesc{Schema: "public", Name: "ev", Kind: log.Stream,
			Versions: []log.SchemaVersion{{Version: 1, Columns: colsV1[:5], Key: []uint32{1}}}})
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := txn.Commit(context.Background()); err != nil {
		t.Fatal(err)
	}
	txn.Release()
	r := rand.New(rand.NewPCG(3, 4))
	var rows []exec.Row
	for i := 0; i < 6000; i++ {
		row := randRow(r, int64(r.IntN(50)), false)[:5]
		rows = append(rows, row)
	}
	insert(t, l, "ev", rows)
	td, _ := l.Catalog().Lookup("public", "ev")
	fx := &fixture{log: l, layout: exec.NewTableLayout(td)}
	id, b := col(fx.layout, "id"), col(fx.layout, "b")
	for _, group := range [][]exec.Expr{nil, {id}, {col(fx.layout, "s")}} {
		v := fx.plan(t, call(">", b, konst(int64(-500_000), tInt8)), group,
			[]exec.Aggregate{agg("count", nil), agg("sum", b), agg("max", col(fx.layout, exec.VersionColumn)), agg("avg", col(fx.layout, "f"))})
		if err := compare(fx, v, true); err != nil {
			t.Fatalf("group %v: %v", group, err)
		}
	}
	got, err := run(fx, fx.plan(t, nil, nil, []exec.Aggregate{agg("count", nil)}))
	if err != nil {
		t.Fatal(err)
	}
	if got[0][0] != int64(len(rows)) {
		t.Fatalf("count %v of %d events", got[0][0], len(rows))
	}
}

// TestCancel: a cancelled statement stops the scan with the context's
// error.
func TestCancel(t *testing.T) {
	fx := newFixture(t, 2000, false)
	v := fx.plan(t, nil, nil, []exec.Aggregate{agg("count", nil)})
	txn := exec.NewTxn(fx.log)
	defer txn.Release()
	ctx, cancel := context.WithCancelCause(context.Background())
	cause := errors.New("statement cancelled")
	cancel(cause)
	rt := &exec.Runtime{Ctx: ctx, Env: &exec.Env{Settings: types.DefaultSettings()}, Tables: txn}
	if _, err := exec.Collect(rt, v); !errors.Is(err, cause) {
		t.Fatalf("error %v, want %v", err, cause)
	}
}
