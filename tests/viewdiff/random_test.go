package viewdiff

import (
	"context"
	"errors"
	"fmt"
	"math/rand"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/strand-db/strand/tests/pgoracle"
	"github.com/strand-db/strand/tests/strandtest"
)

// TestRandomViewsEqualPostgres is the hand-written definitions' complement:
// a seeded generator composes view definitions from the operators the
// maintainer supports (filters and expressions over joins, GROUP BY with
// HAVING, DISTINCT, top-N by LIMIT and by row_number(), set operations,
// aggregates and filters over aggregates, views over the generated views),
// in combinations nobody wrote down. Each definition Strand accepts is
// compared with PostgreSQL's view of the same text after every batch of the
// shared random workload. A definition Strand refuses must be refused with
// 0A000 (a shape it cannot maintain), never another error; and most must be
// accepted, or the test would prove nothing.
//
// RANDVIEW_SEEDS=a-b runs seeds a to b (for hunting); CI runs a few.
func TestRandomViewsEqualPostgres(t *testing.T) {
	if testing.Short() {
		t.Skip("differential test against PostgreSQL")
	}
	first, last := int64(1), int64(6)
	if v := os.Getenv("RANDVIEW_SEEDS"); v != "" {
		a, b, _ := strings.Cut(v, "-")
		first, _ = strconv.ParseInt(a, 10, 64)
		last = first
		if b != "" {
			last, _ = strconv.ParseInt(b, 10, 64)
		}
	}
	pg := pgoracle.StartT(t)
	for seed := first; seed <= last; seed++ {
		t.Run(fmt.Sprint("seed", seed), func(t *testing.T) { runRandomSeed(t, pg, seed) })
	}
}

// randomViews is how many definitions a seed generates; about a quarter of
// them read earlier generated views.
const randomViews = 40

func runRandomSeed(t *testing.T, pg *pgoracle.Server, seed int64) {
	ctx := context.Background()
	if seed%2 == 0 {
		// Backfills in steps of 5 rows, each its own commit: every
		// operator's state built up across many intents.
		t.Setenv("STRAND_VIEW_BACKFILL_CHUNK_ROWS", "5")
	}
	dir := t.TempDir()
	s := strandtest.Start(t, dir)
	sc := s.Connect(t)
	pc := pg.Connect(t)
	createWorkloadTables(t, sc, pc)
	both := func(strandSQL, pgSQL string) {
		t.Helper()
		if _, err := sc.Exec(ctx, strandSQL); err != nil {
			t.Fatalf("strand: %s: %v", strandSQL, err)
		}
		if _, err := pc.Exec(ctx, pgSQL); err != nil {
			t.Fatalf("postgres: %s: %v", pgSQL, err)
		}
	}
	rng := rand.New(rand.NewSource(seed))
	w := &workload{rng: rng}
	for i := 0; i < 60; i++ {
		q := w.next()
		both(q, q)
	}
	g := &viewGen{rng: rand.New(rand.NewSource(seed * 7919))}
	type made struct {
		name, def string
	}
	var views []made
	refused := 0
	// Half the followed seeds (below) create every view that can have
	// one with a changelog, which its subscriber then reads as events.
	changelog, logged := seed%6 == 3, 0
	for i := 0; i < randomViews; i++ {
		name := fmt.Sprintf("rv%d", i)
		def, cols := g.view()
		// PostgreSQL first: a definition it rejects is the generator's bug.
		if _, err := pc.Exec(ctx, fmt.Sprintf("CREATE VIEW %s AS %s", name, def)); err != nil {
			t.Fatalf("generator wrote a definition PostgreSQL rejects: %s\n%v", def, err)
		}
		withLog, err := createView(sc, name, def, changelog)
		if withLog {
			logged++
		}
		if err != nil {
			var pe *pgconn.PgError
			if errors.As(err, &pe) && pe.Code == "0A000" {
				refused++
				t.Logf("refused (0A000): %s: %s", def, pe.Message)
				if _, err := pc.Exec(ctx, "DROP VIEW "+name); err != nil {
					t.Fatal(err)
				}
				continue
			}
			t.Fatalf("CREATE MATERIALIZED VIEW %s AS %s: %v", name, def, err)
		}
		views = append(views, made{name, def})
		g.sources = append(g.sources, viewSource(name, cols))
	}
	if len(views) < randomViews*3/4 {
		t.Fatalf("only %d of %d generated views were accepted", len(views), randomViews)
	}
	defs := func() string {
		var b strings.Builder
		for _, v := range views {
			fmt.Fprintf(&b, "\n  %s: %s", v.name, v.def)
		}
		return b.String()
	}
	// Every third seed also follows each view through a subscription,
	// whose changes must add up to the view's rows at every checkpoint
	// (views/feed.go); the others keep the maintainer's path for views
	// nobody watches.
	var subs *viewSubscribers
	follow := func() {
		if seed%3 != 0 {
			return
		}
		defs := map[string]string{}
		for _, v := range views {
			defs[v.name] = v.def
		}
		subs = subscribeViews(t, s.Connect(t), defs)
	}
	follow()
	checkpoints, copied := 0, 0
	// A view that is always empty proves little: most must have rows at
	// some checkpoint.
	seen := map[string]bool{}
	compare := func() {
		t.Helper()
		for _, v := range views {
			got := strandtest.SortedRows(t, sc, "SELECT * FROM "+v.name)
			want := strandtest.SortedRows(t, pc, "SELECT * FROM "+v.name)
			if strings.Join(got, "\n") != strings.Join(want, "\n") {
				t.Fatalf("%s (%s) after %d statements differs from PostgreSQL:\n%s", v.name, v.def, w.n, strandtest.RowsDiff(got, want))
			}
			checkpoints++
			if len(got) > 0 {
				seen[v.name] = true
			}
			if subs != nil {
				subs.check(t, v.name, got, w.n)
			}
		}
	}
	compare()
	for b := 0; b < 30; b++ {
		if b == 15 {
			// Halfway, a restart: the views go on from their stored state.
			s.Stop()
			s = strandtest.Start(t, dir)
			sc = s.Connect(t)
			follow()
			compare()
		}
		if rng.Intn(6) == 0 {
			// A COPY into orders and events: the bulk path, which
			// maintains the views chunk by chunk.
			copied = copyBoth(t, sc, pc, rng, copied)
			compare()
			continue
		}
		stmts := 1 + rng.Intn(8)
		tx := rng.Intn(4) == 0
		commit := rng.Intn(3) > 0
		if tx {
			both("BEGIN", "BEGIN")
		}
		for i := 0; i < stmts; i++ {
			q := w.next()
			if _, err := sc.Exec(ctx, q); err != nil {
				t.Fatalf("strand: %s: %v\nviews:%s", q, err, defs())
			}
			if _, err := pc.Exec(ctx, q); err != nil {
				t.Fatalf("postgres: %s: %v", q, err)
			}
		}
		if tx && commit {
			both("COMMIT", "COMMIT")
		} else if tx {
			both("ROLLBACK", "ROLLBACK")
		}
		compare()
	}
	if len(seen) < len(views)/3 {
		t.Errorf("only %d of %d views had rows at some checkpoint", len(seen), len(views))
	}
	t.Logf("seed %d: %d views (%d refused, %d with rows, %d with a changelog), %d statements, %d checkpoints equal to PostgreSQL", seed, len(views), refused, len(seen), logged, w.n, checkpoints)
}

// copyBoth copies the same rows into orders (new ids from 1000+copied)
// and events on both servers, deletes some copied orders again, and returns
// the new count of copied orders.
func copyBoth(t *testing.T, sc, pc *pgx.Conn, rng *rand.Rand, copied int) int {
	t.Helper()
	ctx := context.Background()
	var orders, events [][]any
	for i := 0; i < 1+rng.Intn(40); i++ {
		var amount, customer any = int32(rng.Intn(100)), int32(rng.Intn(12))
		if rng.Intn(8) == 0 {
			amount = nil
		}
		orders = append(orders, []any{int32(1000 + copied), customer, amount, statuses[rng.Intn(len(statuses))], regions[rng.Intn(len(regions))]})
		copied++
	}
	for i := 0; i < rng.Intn(20); i++ {
		ts := time.Date(2024, 1, 1, rng.Intn(6), rng.Intn(60), 0, 0, time.UTC)
		events = append(events, []any{int32(rng.Intn(12)), int32(rng.Intn(50)), statuses[rng.Intn(len(statuses))], ts})
	}
	del := fmt.Sprintf("DELETE FROM orders WHERE id >= 1000 AND id %% 5 = %d", rng.Intn(5))
	deleting := rng.Intn(2) == 0
	for _, c := range []*pgx.Conn{sc, pc} {
		if _, err := c.CopyFrom(ctx, pgx.Identifier{"orders"}, []string{"id", "customer_id", "amount", "status", "region"}, pgx.CopyFromRows(orders)); err != nil {
			t.Fatalf("COPY orders: %v", err)
		}
		if _, err := c.CopyFrom(ctx, pgx.Identifier{"events"}, []string{"k", "v", "kind", "ts"}, pgx.CopyFromRows(events)); err != nil {
			t.Fatalf("COPY events: %v", err)
		}
		if deleting {
			if _, err := c.Exec(ctx, del); err != nil {
				t.Fatalf("%s: %v", del, err)
			}
		}
	}
	return copied
}

// A type tag of the generator: what expressions of it can be built from.
type gtype int

const (
	tInt gtype = iota
	tBig
	tNum
	tText
	tBool
	tTS
	tOther // compared as written, never computed with
)

type gcol struct {
	expr string
	typ  gtype
}

// gsource is a FROM item (a table, a join, an earlier generated view) with
// the columns it offers.
type gsource struct {
	from string
	cols []gcol
	// joined marks a join: a view over it is not a filter of one table.
	joined bool
}

func tableSources() []gsource {
	orders := func(a string) []gcol {
		return []gcol{{a + ".id", tInt}, {a + ".customer_id", tInt}, {a + ".amount", tInt}, {a + ".status", tText}, {a + ".region", tText}}
	}
	customers := []gcol{{"c.id", tInt}, {"c.name", tText}, {"c.tier", tText}, {"c.region", tText}}
	events := []gcol{{"e.k", tInt}, {"e.v", tInt}, {"e.kind", tText}, {"e.ts", tTS}}
	cat := func(xs ...[]gcol) []gcol {
		var out []gcol
		for _, x := range xs {
			out = append(out, x...)
		}
		return out
	}
	return []gsource{
		{from: "orders o", cols: orders("o")},
		{from: "orders o", cols: orders("o")},
		{from: "customers c", cols: customers},
		{from: "events e", cols: events},
		{from: "orders o JOIN customers c ON o.customer_id = c.id", cols: cat(orders("o"), customers), joined: true},
		{from: "orders o LEFT JOIN customers c ON o.customer_id = c.id", cols: cat(orders("o"), customers), joined: true},
		{from: "customers c LEFT JOIN orders o ON o.customer_id = c.id AND o.amount > 30", cols: cat(customers, orders("o")), joined: true},
		{from: "orders o RIGHT JOIN customers c ON c.id = o.customer_id", cols: cat(orders("o"), customers), joined: true},
		{from: "orders o FULL JOIN customers c ON c.id = o.customer_id", cols: cat(orders("o"), customers), joined: true},
		{from: "orders o JOIN events e ON e.k = o.customer_id", cols: cat(orders("o"), events), joined: true},
		{from: "orders o JOIN orders o2 ON o.customer_id = o2.customer_id AND o.id < o2.id", cols: cat(orders("o"), orders("o2")), joined: true},
		// Interval (band) joins.
		{from: "events e JOIN events e2 ON e2.k = e.k AND e2.ts BETWEEN e.ts - interval '20 minutes' AND e.ts + interval '5 minutes'",
			cols: cat(events, []gcol{{"e2.k", tInt}, {"e2.v", tInt}, {"e2.kind", tText}, {"e2.ts", tTS}}), joined: true},
		{from: "orders o LEFT JOIN events e ON e.k = o.customer_id AND e.v >= o.amount - 10 AND e.v < o.amount", cols: cat(orders("o"), events), joined: true},
		{from: "orders o JOIN customers c ON o.customer_id = c.id LEFT JOIN events e ON e.k = c.id AND e.kind = o.status", cols: cat(orders("o"), customers, events), joined: true},
		{from: "customers c JOIN orders o ON o.region = c.region", cols: cat(customers, orders("o")), joined: true},
		// LATERAL subqueries: a top-N, an aggregate and a filter per row.
		{from: "customers c, LATERAL (SELECT o.id AS oid, o.amount FROM orders o WHERE o.customer_id = c.id ORDER BY o.amount DESC NULLS LAST, o.id LIMIT 2) t",
			cols: cat(customers, []gcol{{"t.oid", tInt}, {"t.amount", tInt}}), joined: true},
		{from: "customers c LEFT JOIN LATERAL (SELECT count(*) AS n, max(e.v) AS mv FROM events e WHERE e.k = c.id AND e.v > 10) t ON true",
			cols: cat(customers, []gcol{{"t.n", tBig}, {"t.mv", tInt}}), joined: true},
		{from: "orders o LEFT JOIN LATERAL (SELECT e.v, e.ts FROM events e WHERE e.k = o.customer_id AND e.v BETWEEN o.amount - 8 AND o.amount) t ON true",
			cols: cat(orders("o"), []gcol{{"t.v", tInt}, {"t.ts", tTS}}), joined: true},
		{from: "orders o JOIN LATERAL (SELECT e.kind, e.ts FROM events e WHERE e.k = o.customer_id AND e.v < 30) t ON true",
			cols: cat(orders("o"), []gcol{{"t.kind", tText}, {"t.ts", tTS}}), joined: true},
	}
}

func viewSource(name string, cols []gcol) gsource {
	out := make([]gcol, len(cols))
	for i, c := range cols {
		out[i] = gcol{"r." + c.expr, c.typ}
	}
	return gsource{from: name + " r", cols: out}
}

// viewGen writes view definitions PostgreSQL and Strand must agree on:
// every ORDER BY that picks rows (LIMIT, row_number(), string_agg) orders
// by all of its source's columns in the end, so ties are whole-row
// duplicates and any tie order gives the same rows.
type viewGen struct {
	rng     *rand.Rand
	sources []gsource // earlier generated views
}

func (g *viewGen) n(k int) int    { return g.rng.Intn(k) }
func (g *viewGen) one(k int) bool { return g.rng.Intn(k) == 0 }

func (g *viewGen) source() gsource {
	if len(g.sources) > 1 && g.one(10) {
		// Two generated views joined on integer columns.
		a, b := g.sources[g.n(len(g.sources))], g.sources[g.n(len(g.sources))]
		ca, okA := g.colOf(a, tInt)
		cb, okB := g.colOf(b, tInt)
		if okA && okB && a.from != b.from {
			cols := append(append([]gcol(nil), a.cols...), prefixed("", renamed(b.cols, "r.", "r2."))...)
			kind := []string{"JOIN", "LEFT JOIN", "FULL JOIN"}[g.n(3)]
			return gsource{from: fmt.Sprintf("%s %s %s ON %s = %s", a.from, kind, strings.Replace(b.from, " r", " r2", 1), ca, strings.Replace(cb, "r.", "r2.", 1)), cols: cols, joined: true}
		}
	}
	if len(g.sources) > 0 && g.one(4) {
		v := g.sources[g.n(len(g.sources))]
		if c, ok := g.colOf(v, tInt); ok && g.one(3) {
			// A view joined with a table on one of its integer columns.
			kind := []string{"JOIN", "LEFT JOIN"}[g.n(2)]
			cols := append(append([]gcol(nil), v.cols...), gcol{"c.id", tInt}, gcol{"c.name", tText}, gcol{"c.tier", tText})
			return gsource{from: fmt.Sprintf("%s %s customers c ON c.id = %s", v.from, kind, c), cols: cols, joined: true}
		}
		return v
	}
	if g.one(12) {
		// A set-returning function per row.
		if g.one(2) {
			return gsource{from: "orders o CROSS JOIN LATERAL generate_series(1, o.customer_id % 3) AS x", cols: []gcol{{"o.id", tInt}, {"o.amount", tInt}, {"o.status", tText}, {"x", tInt}}, joined: true}
		}
		return gsource{from: "customers c CROSS JOIN LATERAL unnest(ARRAY[c.tier, c.region, c.name]) AS x", cols: []gcol{{"c.id", tInt}, {"c.tier", tText}, {"x", tText}}, joined: true}
	}
	ts := tableSources()
	return ts[g.n(len(ts))]
}

func (g *viewGen) colOf(src gsource, typ gtype) (string, bool) {
	var cs []string
	for _, c := range src.cols {
		if c.typ == typ {
			cs = append(cs, c.expr)
		}
	}
	if len(cs) == 0 {
		return "", false
	}
	return cs[g.n(len(cs))], true
}

// expr is a scalar expression of type typ over src's columns.
func (g *viewGen) expr(src gsource, typ gtype, depth int) string {
	c, ok := g.colOf(src, typ)
	if depth <= 0 || g.one(2) {
		if ok {
			return c
		}
		return g.constant(typ, src)
	}
	switch typ {
	case tInt:
		switch g.n(8) {
		case 0:
			return fmt.Sprintf("(%s + %d)", g.expr(src, tInt, depth-1), g.n(10))
		case 1:
			return fmt.Sprintf("(%s * 2)", g.expr(src, tInt, depth-1))
		case 2:
			return fmt.Sprintf("coalesce(%s, %d)", g.expr(src, tInt, depth-1), g.n(5))
		case 3:
			return fmt.Sprintf("(%s %% %d)", g.expr(src, tInt, depth-1), 2+g.n(4))
		case 4:
			return fmt.Sprintf("CASE WHEN %s THEN %s ELSE %d END", g.pred(src, depth-1), g.expr(src, tInt, depth-1), g.n(50))
		case 5:
			return fmt.Sprintf("length(%s)", g.expr(src, tText, depth-1))
		case 6:
			return fmt.Sprintf("abs(%s - 50)", g.expr(src, tInt, depth-1))
		default:
			return fmt.Sprintf("greatest(%s, %s)", g.expr(src, tInt, depth-1), g.expr(src, tInt, depth-1))
		}
	case tBig:
		if ok {
			return c
		}
		return g.expr(src, tInt, depth-1) + "::bigint"
	case tText:
		switch g.n(5) {
		case 0:
			return fmt.Sprintf("upper(%s)", g.expr(src, tText, depth-1))
		case 1:
			return fmt.Sprintf("coalesce(%s, 'none')", g.expr(src, tText, depth-1))
		case 2:
			return fmt.Sprintf("(%s || '/' || %s)", g.expr(src, tText, depth-1), g.expr(src, tText, depth-1))
		case 3:
			return fmt.Sprintf("substr(%s, 1, 2)", g.expr(src, tText, depth-1))
		default:
			return fmt.Sprintf("CASE WHEN %s THEN 'yes' ELSE %s END", g.pred(src, depth-1), g.expr(src, tText, depth-1))
		}
	case tBool:
		return g.pred(src, depth-1)
	case tTS:
		if ok && g.one(2) {
			return fmt.Sprintf("date_trunc('hour', %s)", c)
		}
		if ok {
			return fmt.Sprintf("(%s + interval '30 minutes')", c)
		}
		return g.constant(typ, src)
	case tNum:
		if ok {
			return c
		}
		return fmt.Sprintf("(%s::numeric / 4)", g.expr(src, tInt, depth-1))
	}
	if ok {
		return c
	}
	return g.constant(typ, src)
}

func (g *viewGen) constant(typ gtype, src gsource) string {
	switch typ {
	case tInt:
		return strconv.Itoa(g.n(60))
	case tBig:
		return strconv.Itoa(g.n(60)) + "::bigint"
	case tNum:
		return "2.5"
	case tText:
		return "'" + textValues[g.n(len(textValues))] + "'"
	case tBool:
		return []string{"true", "false"}[g.n(2)]
	case tTS:
		return "timestamp '2024-01-01 03:00:00'"
	}
	return "NULL"
}

// textValues are the workload's own strings, so that text conditions match.
var textValues = []string{"open", "paid", "shipped", "void", "eu", "us", "ap", "gold", "silver", "bronze", "c3", "c7"}

// pred is a boolean condition over src's columns.
func (g *viewGen) pred(src gsource, depth int) string {
	if depth > 0 && g.one(4) {
		switch g.n(3) {
		case 0:
			return fmt.Sprintf("(%s AND %s)", g.pred(src, depth-1), g.pred(src, depth-1))
		case 1:
			return fmt.Sprintf("(%s OR %s)", g.pred(src, depth-1), g.pred(src, depth-1))
		default:
			return fmt.Sprintf("NOT (%s)", g.pred(src, depth-1))
		}
	}
	if c, ok := g.colOf(src, tBool); ok && g.one(3) {
		return c
	}
	for try := 0; try < 20; try++ {
		switch g.n(5) {
		case 0, 1:
			if c, ok := g.colOf(src, tInt); ok {
				switch g.n(6) {
				case 0:
					return fmt.Sprintf("%s > %d", c, g.n(60))
				case 1:
					return fmt.Sprintf("%s <= %d", c, g.n(60))
				case 2:
					return fmt.Sprintf("%s BETWEEN %d AND %d", c, g.n(30), 30+g.n(60))
				case 3:
					return c + " IS NULL"
				case 4:
					return fmt.Sprintf("%s %% 3 = %d", c, g.n(3))
				default:
					return fmt.Sprintf("%s IN (%d, %d, %d)", c, g.n(12), g.n(12), g.n(80))
				}
			}
		case 2, 3:
			if c, ok := g.colOf(src, tText); ok {
				if i, ok := g.colOf(src, tInt); ok && g.one(6) {
					// A row-wise comparison, NULLs in either column.
					return fmt.Sprintf("(%s, %s) %s (%d, %s)", i, c, []string{"<", "<=", ">", ">=", "=", "<>"}[g.n(6)], g.n(40), g.constant(tText, src))
				}
				switch g.n(5) {
				case 0:
					return fmt.Sprintf("%s = %s", c, g.constant(tText, src))
				case 1:
					return fmt.Sprintf("%s <> %s", c, g.constant(tText, src))
				case 2:
					return fmt.Sprintf("%s IN (%s, %s, %s)", c, g.constant(tText, src), g.constant(tText, src), g.constant(tText, src))
				case 3:
					return fmt.Sprintf("%s LIKE '%%%s%%'", c, []string{"o", "e", "u", "1"}[g.n(4)])
				default:
					return c + " IS NOT NULL"
				}
			}
		default:
			if c, ok := g.colOf(src, tTS); ok {
				return fmt.Sprintf("%s >= timestamp '2024-01-01 0%d:00:00'", c, g.n(6))
			}
			if c, ok := g.colOf(src, tBig); ok {
				return fmt.Sprintf("%s > %d", c, g.n(5))
			}
		}
	}
	return "true"
}

// keyExpr is a GROUP BY, ORDER BY or PARTITION BY expression: built on a
// column, since a bare constant there means a position to PostgreSQL.
func (g *viewGen) keyExpr(src gsource) (string, gtype) {
	var present []gtype
	for _, typ := range groupable {
		if _, ok := g.colOf(src, typ); ok {
			present = append(present, typ)
		}
	}
	if len(present) == 0 {
		c := src.cols[g.n(len(src.cols))]
		return c.expr, c.typ
	}
	typ := present[g.n(len(present))]
	if typ == tBool && g.one(2) {
		c, _ := g.colOf(src, tBool)
		return c, tBool
	}
	if typ != tBool {
		if c, _ := g.colOf(src, typ); g.one(2) {
			return c, typ
		}
	}
	for {
		if e := g.expr(src, typ, 1); !isConstant(e) {
			return e, typ
		}
	}
}

func isConstant(e string) bool {
	if _, err := strconv.Atoi(e); err == nil {
		return true
	}
	return strings.HasPrefix(e, "'") || strings.HasPrefix(e, "timestamp '") || e == "true" || e == "false"
}

// groupable types are those a GROUP BY key, a min/max or a DISTINCT may be.
var groupable = []gtype{tInt, tText, tInt, tText, tTS, tBool}

// selectList is n expressions with aliases c0.., and their types.
func (g *viewGen) selectList(src gsource, types []gtype) (string, []gcol) {
	var parts []string
	var cols []gcol
	for i, typ := range types {
		parts = append(parts, fmt.Sprintf("%s AS c%d", g.expr(src, typ, 2), i))
		cols = append(cols, gcol{fmt.Sprintf("c%d", i), typ})
	}
	return strings.Join(parts, ", "), cols
}

func (g *viewGen) types(n int) []gtype {
	out := make([]gtype, n)
	for i := range out {
		out[i] = groupable[g.n(len(groupable))]
	}
	return out
}

// allCols orders by every column of src: a total order up to duplicate rows.
func allCols(src gsource) string {
	var parts []string
	for _, c := range src.cols {
		parts = append(parts, c.expr+" NULLS FIRST")
	}
	return strings.Join(parts, ", ")
}

func (g *viewGen) where(src gsource) string {
	if g.one(3) {
		return ""
	}
	if g.one(4) {
		if sq, ok := g.subqueryPred(src); ok {
			if g.one(2) {
				return " WHERE " + sq
			}
			return " WHERE " + sq + " AND " + g.pred(src, 1)
		}
	}
	return " WHERE " + g.pred(src, 2)
}

// subqueryPred is a condition with a subquery on one of src's integer
// columns: IN, NOT IN (NULLs and all), EXISTS, NOT EXISTS, or a
// comparison with an uncorrelated scalar subquery.
func (g *viewGen) subqueryPred(src gsource) (string, bool) {
	x, ok := g.colOf(src, tInt)
	if !ok {
		return "", false
	}
	c2 := gsource{cols: []gcol{{"c2.id", tInt}, {"c2.name", tText}, {"c2.tier", tText}, {"c2.region", tText}}}
	o3 := gsource{cols: []gcol{{"o3.id", tInt}, {"o3.customer_id", tInt}, {"o3.amount", tInt}, {"o3.status", tText}, {"o3.region", tText}}}
	e2 := gsource{cols: []gcol{{"e2.k", tInt}, {"e2.v", tInt}, {"e2.kind", tText}, {"e2.ts", tTS}}}
	switch g.n(7) {
	case 0:
		return fmt.Sprintf("%s IN (SELECT c2.id FROM customers c2 WHERE %s)", x, g.pred(c2, 1)), true
	case 1:
		if y, _ := g.colOf(src, tInt); g.one(2) {
			// Correlated by an equality: the gate per customer.
			return fmt.Sprintf("%s NOT IN (SELECT o3.amount FROM orders o3 WHERE o3.customer_id = %s AND %s)", x, y, g.pred(o3, 1)), true
		}
		return fmt.Sprintf("%s NOT IN (SELECT o3.amount FROM orders o3 WHERE %s)", x, g.pred(o3, 1)), true
	case 2:
		return fmt.Sprintf("EXISTS (SELECT 1 FROM events e2 WHERE e2.k = %s AND %s)", x, g.pred(e2, 1)), true
	case 3:
		return fmt.Sprintf("NOT EXISTS (SELECT 1 FROM orders o3 WHERE o3.customer_id = %s AND %s)", x, g.pred(o3, 1)), true
	case 4:
		// A comparison with an aggregate's value: a dynamic filter.
		op := []string{"<", "<=", ">", ">=", "="}[g.n(5)]
		bound := []string{
			"(SELECT max(e2.v) - 30 FROM events e2)",
			"(SELECT avg(o3.amount) FROM orders o3)",
			"(SELECT min(o3.amount) FROM orders o3 WHERE o3.status = 'paid')",
			"(SELECT count(*) FROM customers c2) * 3",
			"(SELECT sum(e2.v) FROM events e2 WHERE e2.kind = 'open') / 10",
		}[g.n(5)]
		if t, ok := g.colOf(src, tText); ok && g.one(4) {
			x, bound = t, "(SELECT min(c2.name) FROM customers c2 WHERE c2.tier <> 'gold')"
		} else if ts, ok := g.colOf(src, tTS); ok && g.one(3) {
			x, bound = ts, "(SELECT max(e2.ts) FROM events e2) - interval '2 hours'"
		}
		if op != "=" && g.one(4) {
			// x is an integer column here only if no text or time
			// column took its place: compare with the integer one.
			xi, _ := g.colOf(src, tInt)
			return fmt.Sprintf("%s %s %s (SELECT o3.amount FROM orders o3 WHERE %s)", xi, op, []string{"ANY", "ALL", "SOME"}[g.n(3)], g.pred(o3, 1)), true
		}
		if g.one(2) {
			return fmt.Sprintf("%s %s %s", bound, op, x), true
		}
		return fmt.Sprintf("%s %s %s", x, op, bound), true
	case 5:
		// A comparison with a subquery related to the row by an
		// equality: a left join with it grouped by that, then a filter.
		y, _ := g.colOf(src, tInt)
		op := []string{"<", "<=", ">", ">=", "=", "<>"}[g.n(6)]
		sub := []string{
			fmt.Sprintf("(SELECT max(o3.amount) FROM orders o3 WHERE o3.customer_id = %s AND %s)", y, g.pred(o3, 1)),
			fmt.Sprintf("(SELECT count(*) FROM events e2 WHERE e2.k = %s)", y),
			fmt.Sprintf("(SELECT avg(e2.v) FROM events e2 WHERE e2.k = %s AND %s)", y, g.pred(e2, 1)),
			fmt.Sprintf("(SELECT c2.id FROM customers c2 WHERE c2.id = %s)", y),
		}[g.n(4)]
		if g.one(2) {
			return fmt.Sprintf("%s %s %s", sub, op, x), true
		}
		return fmt.Sprintf("%s %s %s", x, op, sub), true
	default:
		if g.one(2) {
			return fmt.Sprintf("%s = ANY (SELECT e2.v FROM events e2 WHERE %s)", x, g.pred(e2, 1)), true
		}
		return fmt.Sprintf("%s IN (SELECT e2.v FROM events e2 WHERE %s)", x, g.pred(e2, 1)), true
	}
}

// view is one definition and its output columns.
func (g *viewGen) view() (string, []gcol) {
	switch g.n(10) {
	case 0, 1:
		return g.projection()
	case 2, 3, 4:
		return g.aggregate()
	case 5:
		return g.topLimit()
	case 6:
		return g.topPerGroup()
	case 7:
		if g.one(3) {
			// An aggregate over a set operation.
			inner, cols := g.setOp()
			return g.aggregateOver(gsource{from: "(" + inner + ") u", cols: prefixed("u.", cols)})
		}
		if g.one(2) {
			return g.window()
		}
		return g.setOp()
	case 8:
		// A filter and projection over an aggregate.
		inner, cols := g.aggregate()
		src := gsource{from: "(" + inner + ") s", cols: prefixed("s.", cols)}
		list, out := g.selectList(src, g.types(1+g.n(3)))
		return fmt.Sprintf("SELECT %s FROM %s%s", list, src.from, g.where(src)), out
	default:
		// An aggregate over an aggregate.
		inner, cols := g.aggregate()
		src := gsource{from: "(" + inner + ") s", cols: prefixed("s.", cols)}
		return g.aggregateOver(src)
	}
}

// renamed is cols with the alias prefix from replaced by to.
func renamed(cols []gcol, from, to string) []gcol {
	out := make([]gcol, len(cols))
	for i, c := range cols {
		out[i] = gcol{strings.Replace(c.expr, from, to, 1), c.typ}
	}
	return out
}

func prefixed(p string, cols []gcol) []gcol {
	out := make([]gcol, len(cols))
	for i, c := range cols {
		out[i] = gcol{p + c.expr, c.typ}
	}
	return out
}

func (g *viewGen) projection() (string, []gcol) {
	src := g.source()
	list, cols := g.selectList(src, g.types(1+g.n(4)))
	distinct := ""
	if g.one(3) {
		distinct = "DISTINCT "
	}
	return fmt.Sprintf("SELECT %s%s FROM %s%s", distinct, list, src.from, g.where(src)), cols
}

func (g *viewGen) aggregate() (string, []gcol) {
	return g.aggregateOver(g.source())
}

func (g *viewGen) aggregateOver(src gsource) (string, []gcol) {
	keys := g.n(3)
	var parts, groupBy []string
	var cols []gcol
	for i := 0; i < keys; i++ {
		e, typ := g.keyExpr(src)
		parts = append(parts, fmt.Sprintf("%s AS c%d", e, len(cols)))
		groupBy = append(groupBy, e)
		cols = append(cols, gcol{fmt.Sprintf("c%d", len(cols)), typ})
	}
	for i := 0; i < 1+g.n(3); i++ {
		a, typ := g.agg(src)
		parts = append(parts, fmt.Sprintf("%s AS c%d", a, len(cols)))
		cols = append(cols, gcol{fmt.Sprintf("c%d", len(cols)), typ})
	}
	q := fmt.Sprintf("SELECT %s FROM %s%s", strings.Join(parts, ", "), src.from, g.where(src))
	if keys > 0 && g.one(6) {
		q += " GROUP BY " + []string{"ROLLUP", "CUBE"}[g.n(2)] + " (" + strings.Join(groupBy, ", ") + ")"
	} else if keys > 0 {
		q += " GROUP BY " + strings.Join(groupBy, ", ")
		switch g.n(6) {
		case 0, 1:
			q += fmt.Sprintf(" HAVING count(*) > %d", g.n(3))
		case 2:
			// A dynamic filter over the groups.
			q += fmt.Sprintf(" HAVING count(*) %s (SELECT count(*) FROM orders o3) / %d", []string{">", ">=", "<"}[g.n(3)], 5+g.n(20))
		}
	}
	return q, cols
}

// agg is an aggregate call over src and its result type.
func (g *viewGen) agg(src gsource) (string, gtype) {
	filter := ""
	if g.one(6) {
		filter = " FILTER (WHERE " + g.pred(src, 1) + ")"
	}
	switch g.n(10) {
	case 0:
		return "count(*)" + filter, tBig
	case 1:
		return "count(" + g.expr(src, groupable[g.n(len(groupable))], 1) + ")" + filter, tBig
	case 2:
		return "sum(" + g.expr(src, tInt, 1) + ")" + filter, tBig
	case 3:
		return "avg(" + g.expr(src, tInt, 1) + ")" + filter, tNum
	case 4:
		typ := groupable[g.n(len(groupable))]
		if typ == tBool {
			typ = tInt
		}
		return []string{"min", "max"}[g.n(2)] + "(" + g.expr(src, typ, 1) + ")" + filter, typ
	case 5:
		return "count(DISTINCT " + g.expr(src, groupable[g.n(len(groupable))], 1) + ")", tBig
	case 6:
		return []string{"bool_and", "bool_or"}[g.n(2)] + "(" + g.pred(src, 1) + ")" + filter, tBool
	case 7:
		e := g.expr(src, tText, 1)
		return fmt.Sprintf("string_agg(%s, ',' ORDER BY %s)", e, e) + filter, tText
	case 8:
		if g.one(2) {
			// An ordered-set aggregate.
			// Over a column: a constant's type would be unknown.
			e, typ := g.keyExpr(src)
			if g.one(2) {
				return "mode() WITHIN GROUP (ORDER BY " + e + ")" + filter, typ
			}
			return fmt.Sprintf("percentile_disc(%s) WITHIN GROUP (ORDER BY %s)", []string{"0", "0.25", "0.5", "1"}[g.n(4)], e) + filter, typ
		}
		return "sum(DISTINCT " + g.expr(src, tInt, 1) + ")", tBig
	default:
		return "max(" + g.expr(src, tInt, 1) + ") - min(" + g.expr(src, tInt, 1) + ")", tInt
	}
}

func (g *viewGen) topLimit() (string, []gcol) {
	if g.one(3) {
		// The largest groups of an aggregate.
		inner, cols := g.aggregate()
		src := gsource{from: "(" + inner + ") s", cols: prefixed("s.", cols)}
		return fmt.Sprintf("SELECT * FROM %s ORDER BY %s DESC NULLS LAST, %s LIMIT %d", src.from, src.cols[len(src.cols)-1].expr, allCols(src), 1+g.n(4)), cols
	}
	src := g.source()
	list, cols := g.selectList(src, g.types(1+g.n(3)))
	order, _ := g.keyExpr(src)
	dir := []string{"", " DESC", " DESC NULLS LAST", " NULLS FIRST"}[g.n(4)]
	offset := ""
	if g.one(3) {
		offset = fmt.Sprintf(" OFFSET %d", 1+g.n(3))
	}
	return fmt.Sprintf("SELECT %s FROM %s%s ORDER BY %s%s, %s LIMIT %d%s", list, src.from, g.where(src), order, dir, allCols(src), 1+g.n(5), offset), cols
}

func (g *viewGen) topPerGroup() (string, []gcol) {
	src := g.source()
	list, cols := g.selectList(src, g.types(1+g.n(3)))
	part, _ := g.keyExpr(src)
	order, _ := g.keyExpr(src)
	dir := []string{"", " DESC", " DESC NULLS LAST"}[g.n(3)]
	// row_number() orders by every column, so ties are equal rows;
	// rank() and dense_rank() number tied rows alike, so their order
	// need not be total (and ties are what they are for).
	fn, tiebreak := "row_number()", ", "+allCols(src)
	switch g.n(4) {
	case 2:
		fn, tiebreak = "rank()", ""
	case 3:
		fn, tiebreak = "dense_rank()", ""
	}
	over := "PARTITION BY " + part + " "
	if tiebreak == "" && g.one(4) {
		// One partition: the table's top rows and their ties.
		over = ""
	}
	inner := fmt.Sprintf("SELECT %s, %s OVER (%sORDER BY %s%s%s) AS rn FROM %s%s",
		list, fn, over, order, dir, tiebreak, src.from, g.where(src))
	cols = append(cols, gcol{"rn", tBig})
	bound := []string{"rn <= %d", "rn < %d", "%d >= rn"}[g.n(3)]
	bound = fmt.Sprintf(bound, 1+g.n(3))
	if g.one(6) {
		bound = "rn = 1"
	}
	if g.one(2) {
		// rn is not kept: the rows, not their ranks.
		names := make([]string, len(cols)-1)
		for i := range names {
			names[i] = cols[i].expr
		}
		return fmt.Sprintf("SELECT %s FROM (%s) s WHERE %s", strings.Join(names, ", "), inner, bound), cols[:len(cols)-1]
	}
	return fmt.Sprintf("SELECT * FROM (%s) s WHERE %s", inner, bound), cols
}

// window adds window functions over a partition to a projection.
func (g *viewGen) window() (string, []gcol) {
	src := g.source()
	list, cols := g.selectList(src, g.types(1+g.n(2)))
	part, _ := g.keyExpr(src)
	over := fmt.Sprintf("OVER (PARTITION BY %s ORDER BY %s)", part, allCols(src))
	// A ROWS frame bounded on both sides: with lag and lead, what a
	// change reads only around itself (views/windownear.go).
	bounds := []string{"2 PRECEDING", "1 PRECEDING", "CURRENT ROW", "1 FOLLOWING", "3 FOLLOWING"}
	lo := g.n(len(bounds))
	hi := lo + g.n(len(bounds)-lo)
	framed := fmt.Sprintf("OVER (PARTITION BY %s ORDER BY %s ROWS BETWEEN %s AND %s)", part, allCols(src), bounds[lo], bounds[hi])
	// A RANGE frame of offsets over one integer column: the values within
	// them of each row's (order-independent aggregates only, as ties
	// are peers).
	ranged := ""
	if c, ok := g.colOf(src, tInt); ok {
		ranged = fmt.Sprintf("OVER (PARTITION BY %s ORDER BY %s%s RANGE BETWEEN %d PRECEDING AND %s)", part, c,
			[]string{"", " DESC", " NULLS FIRST"}[g.n(3)], g.n(4), []string{"CURRENT ROW", "2 FOLLOWING"}[g.n(2)])
	}
	arg := g.expr(src, tInt, 1)
	if g.one(3) {
		return g.running(src, list, cols, part, arg)
	}
	fns := []struct {
		f   string
		typ gtype
		// near: over the bounded frame.
		near bool
	}{
		{"lag(" + arg + ")", tInt, false},
		{"lead(" + arg + ", 2)", tInt, false},
		{"sum(" + arg + ")", tBig, false},
		{"count(*)", tBig, false},
		{"rank()", tBig, false},
		{"first_value(" + arg + ")", tInt, false},
		{"lag(" + arg + ", 3, -1)", tInt, false},
		{"sum(" + arg + ")", tBig, true},
		{"count(*)", tBig, true},
		{"last_value(" + arg + ")", tInt, true},
		{"min(" + arg + ")", tInt, true},
	}
	if ranged != "" && g.one(3) {
		// All over the RANGE frame: the change reads the values within
		// reach of its own.
		for i := 0; i < 1+g.n(2); i++ {
			f := []string{"sum(" + arg + ")", "count(*)", "max(" + arg + ")"}[g.n(3)]
			typ := map[bool]gtype{true: tBig, false: tInt}[!strings.HasPrefix(f, "max")]
			list += fmt.Sprintf(", %s %s AS c%d", f, ranged, len(cols))
			cols = append(cols, gcol{fmt.Sprintf("c%d", len(cols)), typ})
		}
		return fmt.Sprintf("SELECT %s FROM %s%s", list, src.from, g.where(src)), cols
	}
	for i := 0; i < 1+g.n(2); i++ {
		f := fns[g.n(len(fns))]
		o := over
		if f.near {
			o = framed
		}
		list += fmt.Sprintf(", %s %s AS c%d", f.f, o, len(cols))
		cols = append(cols, gcol{fmt.Sprintf("c%d", len(cols)), f.typ})
	}
	return fmt.Sprintf("SELECT %s FROM %s%s", list, src.from, g.where(src)), cols
}

// running adds running window functions (views/windowrun.go), all over
// one window: over a partial ORDER BY, whose peers the RANGE frame and the
// ranks see (with values that do not depend on the order of peers), or
// over ROWS from the partition's start, ordered by every column. The
// partition is sometimes the whole source.
func (g *viewGen) running(src gsource, list string, cols []gcol, part, arg string) (string, []gcol) {
	type fn struct {
		f   string
		typ gtype
		agg bool // an aggregate, which may have a FILTER
		// over, when set, replaces the window's frame (same ORDER BY).
		over string
	}
	partBy := "PARTITION BY " + part + " "
	if g.one(4) {
		partBy = ""
	}
	fns := []fn{{"sum(" + arg + ")", tBig, true, ""}, {"count(*)", tBig, true, ""}, {"count(" + arg + ")", tBig, true, ""},
		{"min(" + arg + ")", tInt, true, ""}, {"max(" + arg + ")", tInt, true, ""}, {"avg(" + arg + ")", tNum, true, ""}}
	var over string
	if g.one(2) {
		key, _ := g.keyExpr(src)
		over = fmt.Sprintf("OVER (%sORDER BY %s%s)", partBy, key, []string{"", " DESC", " NULLS FIRST", " DESC NULLS LAST"}[g.n(4)])
		fns = append(fns, fn{"rank()", tBig, false, ""}, fn{"dense_rank()", tBig, false, ""})
	} else {
		over = fmt.Sprintf("OVER (%sORDER BY %s ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)", partBy, allCols(src))
		// lag and lead need a total order, as row_number does.
		fns = append(fns, fn{"row_number()", tBig, false, ""}, fn{"first_value(" + arg + ")", tInt, false, ""}, fn{"last_value(" + arg + ")", tInt, false, ""},
			fn{"lag(" + arg + ")", tInt, false, ""}, fn{"lead(" + arg + ", 2)", tInt, false, ""})
		// Beside them, a ROWS frame bounded on both sides.
		bounds := []string{"2 PRECEDING", "1 PRECEDING", "CURRENT ROW", "1 FOLLOWING", "3 FOLLOWING"}
		lo := g.n(len(bounds))
		framed := fmt.Sprintf("OVER (%sORDER BY %s ROWS BETWEEN %s AND %s)", partBy, allCols(src), bounds[lo], bounds[lo+g.n(len(bounds)-lo)])
		fns = append(fns, fn{"sum(" + arg + ")", tBig, true, framed}, fn{"max(" + arg + ")", tInt, true, framed})
	}
	for i := 0; i < 1+g.n(3); i++ {
		f := fns[g.n(len(fns))]
		if f.agg && g.one(4) {
			// An aggregate's FILTER.
			f.f += " FILTER (WHERE " + g.pred(src, 1) + ")"
		}
		o := over
		if f.over != "" {
			o = f.over
		}
		list += fmt.Sprintf(", %s %s AS c%d", f.f, o, len(cols))
		cols = append(cols, gcol{fmt.Sprintf("c%d", len(cols)), f.typ})
	}
	return fmt.Sprintf("SELECT %s FROM %s%s", list, src.from, g.where(src)), cols
}

func (g *viewGen) setOp() (string, []gcol) {
	types := g.types(1 + g.n(3))
	a, b := g.source(), g.source()
	la, cols := g.selectList(a, types)
	lb, _ := g.selectList(b, types)
	op := []string{"UNION ALL", "UNION ALL", "UNION", "EXCEPT", "INTERSECT", "EXCEPT ALL", "INTERSECT ALL"}[g.n(7)]
	return fmt.Sprintf("SELECT %s FROM %s%s %s SELECT %s FROM %s%s", la, a.from, g.where(a), op, lb, b.from, g.where(b)), cols
}
