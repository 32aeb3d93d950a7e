package sqllogic

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"

	"github.com/strand-db/strand/iceberg"
	"github.com/strand-db/strand/tests/pgoracle"
	"github.com/strand-db/strand/tests/strandtest"
)

// skipFiles are the test files of features Strand does not have yet. Each
// runs when its feature lands and its entry is removed; set
// STRAND_SQLLOGIC_ALL=1 to run them anyway and see where they stand.
var skipFiles = map[string]string{}

// blockTimeout bounds one statement on either server.
const blockTimeout = 30 * time.Second

var oracle struct {
	once sync.Once
	srv  *pgoracle.Server
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if oracle.srv != nil {
		oracle.srv.Stop()
	}
	os.Exit(code)
}

// postgres returns the shared PostgreSQL of this test binary, started on
// first use; the test is skipped when PostgreSQL 15 is not installed.
func postgres(t *testing.T) *pgoracle.Server {
	t.Helper()
	if !pgoracle.Available() {
		t.Skip("PostgreSQL 15 not installed")
	}
	oracle.once.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		oracle.srv, oracle.err = pgoracle.Start(ctx)
	})
	if oracle.err != nil {
		t.Fatal(oracle.err)
	}
	return oracle.srv
}

// pair is one connection to a clean PostgreSQL database and one to a fresh
// Strand.
type pair struct {
	pg, st *pgconn.PgConn
	stDSN  string
	srv    *strandtest.Server
}

func newPair(t *testing.T) *pair {
	t.Helper()
	ctx := context.Background()
	srv := postgres(t)
	pg, err := pgconn.Connect(ctx, srv.DSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close(context.Background()) })
	// A clean public schema per file; no fsync wait per INSERT.
	if _, err := pg.Exec(ctx, "DROP SCHEMA IF EXISTS public CASCADE; CREATE SCHEMA public; SET synchronous_commit = off").ReadAll(); err != nil {
		t.Fatal(err)
	}
	s := strandtest.Start(t, "")
	p := &pair{pg: pg, stDSN: s.DSN(), srv: s}
	p.reconnectStrand(t)
	return p
}

func (p *pair) reconnectStrand(t *testing.T) {
	t.Helper()
	if p.st != nil {
		p.st.Close(context.Background())
	}
	st, err := pgconn.Connect(context.Background(), p.stDSN)
	if err != nil {
		t.Fatal(err)
	}
	p.st = st
	t.Cleanup(func() { st.Close(context.Background()) })
}

// fileStats counts one file's blocks.
type fileStats struct {
	statements, queries, mismatches, known, nowPassing int
	skipped                                            string
}

func TestFiles(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.test"))
	if err != nil {
		t.Fatal(err)
	}
	// The suite is its files: finding none (an ignore rule, a bad checkout)
	// must fail, not pass quietly.
	if len(files) < 10 {
		t.Fatalf("found %d .test files in testdata; the suite has 24", len(files))
	}
	all := os.Getenv("STRAND_SQLLOGIC_ALL") != ""
	stats := map[string]*fileStats{}
	for _, f := range files {
		name := filepath.Base(f)
		st := &fileStats{}
		stats[name] = st
		t.Run(strings.TrimSuffix(name, ".test"), func(t *testing.T) {
			if reason, ok := skipFiles[name]; ok && !all {
				st.skipped = reason
				t.Skip(reason)
			}
			runFile(t, f, st)
		})
	}
	var names []string
	for n := range stats {
		names = append(names, n)
	}
	sort.Strings(names)
	var b strings.Builder
	var tot fileStats
	fmt.Fprintf(&b, "%-22s %6s %6s %6s %6s\n", "file", "stmts", "query", "diff", "known")
	for _, n := range names {
		s := stats[n]
		if s.skipped != "" {
			fmt.Fprintf(&b, "%-22s skipped: %s\n", n, s.skipped)
			continue
		}
		fmt.Fprintf(&b, "%-22s %6d %6d %6d %6d\n", n, s.statements, s.queries, s.mismatches, s.known)
		tot.statements += s.statements
		tot.queries += s.queries
		tot.mismatches += s.mismatches
		tot.known += s.known
	}
	fmt.Fprintf(&b, "%-22s %6d %6d %6d %6d", "total", tot.statements, tot.queries, tot.mismatches, tot.known)
	t.Log("\n" + b.String())
}

func runFile(t *testing.T, path string, st *fileStats) {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	blocks, err := ParseFile(f)
	f.Close()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	p := newPair(t)
	for i := range blocks {
		b := &blocks[i]
		if b.Kind == Query {
			st.queries++
		} else {
			st.statements++
		}
		po := runOn(p.pg, b)
		so := runOn(p.st, b)
		diff, bad := Compare(b, po, so)
		if bad != nil {
			t.Errorf("%s:%d: bad test: %v\n%s", path, b.Line, bad, b.SQL)
			continue
		}
		if so.Broken != nil {
			p.reconnectStrand(t)
		}
		switch {
		case diff != "" && b.KnownDiff != "":
			st.known++
			t.Logf("%s:%d: known difference (%s)", path, b.Line, b.KnownDiff)
		case diff != "":
			st.mismatches++
			t.Errorf("%s:%d: %s\n%s", path, b.Line, b.SQL, diff)
		case b.KnownDiff != "":
			st.nowPassing++
			// A stale marker makes its block check nothing: fail, so
			// that the block asserts equality again.
			t.Errorf("%s:%d: known difference %q no longer differs: remove the known: line", path, b.Line, b.KnownDiff)
		}
	}
}

func runOn(c *pgconn.PgConn, b *Block) *Outcome {
	ctx, cancel := context.WithTimeout(context.Background(), blockTimeout)
	defer cancel()
	return Run(ctx, c, b.SQL, b.Extended, b.Params, nil)
}

// randomQueries is how many generated queries TestRandom compares.
const randomQueries = 10000

func TestRandom(t *testing.T) {
	seed := randomSeed(t)
	p := newPair(t)
	p.execBoth(t, RandomSchema(seed)...)
	p.random(t, seed, randomQueries)
}

// TestRandomColumnar runs random queries while the tables' Iceberg copies
// serve the vectorized aggregates: the copies are made after the load,
// then both databases take more writes, so the aggregates read a copy and
// a log tail (updated, deleted and new keys).
func TestRandomColumnar(t *testing.T) {
	seed := randomSeed(t)
	p := newPair(t)
	p.execBoth(t, RandomSchema(seed)...)
	comp, err := iceberg.New(p.srv.Log, iceberg.Options{Warehouse: t.TempDir(), FileRows: 16, BatchRows: 8})
	if err != nil {
		t.Fatal(err)
	}
	if err := comp.CompactOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	p.srv.Log.SetStateReader(comp.StateReader())
	p.execBoth(t, "UPDATE r1 SET c = c + 1, s = 'zz' WHERE id % 3 = 0", "DELETE FROM r1 WHERE id % 7 = 0",
		"INSERT INTO r1 VALUES (101, 1, 2, 3, 4, 'a', true), (102, NULL, 5, -7, 0, NULL, false)",
		"UPDATE r2 SET x = x - 1 WHERE id % 2 = 0", "DELETE FROM r2 WHERE id = 5")
	p.random(t, seed, randomQueries/4)
	if n := comp.StateReader().RowsRead(); n == 0 {
		t.Fatal("no query read the columnar copies")
	} else {
		t.Logf("%d rows read from the columnar copies", n)
	}
}

func randomSeed(t *testing.T) uint64 {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("STRAND_SQLLOGIC_SEED"); s != "" {
		fmt.Sscan(s, &seed)
	}
	t.Logf("seed %d (set STRAND_SQLLOGIC_SEED to repeat)", seed)
	return seed
}

// execBoth runs statements on PostgreSQL and on Strand.
func (p *pair) execBoth(t *testing.T, stmts ...string) {
	t.Helper()
	for _, stmt := range stmts {
		for _, c := range []*pgconn.PgConn{p.pg, p.st} {
			if _, err := c.Exec(context.Background(), stmt).ReadAll(); err != nil {
				t.Fatalf("%s: %v", stmt, err)
			}
		}
	}
}

// random compares n generated queries between PostgreSQL and Strand.
func (p *pair) random(t *testing.T, seed uint64, n int) {
	ctx := context.Background()
	g := NewGenerator(seed)
	const maxReports = 15
	var mismatches, pgErrors, extended int
	start := time.Now()
	for i := 0; i < n; i++ {
		q := g.Next()
		if q.Extended {
			extended++
		}
		run := func(c *pgconn.PgConn) *Outcome {
			ctx, cancel := context.WithTimeout(ctx, blockTimeout)
			defer cancel()
			return Run(ctx, c, q.SQL, q.Extended, q.Params, q.OIDs)
		}
		po, so := run(p.pg), run(p.st)
		if po.Broken != nil {
			t.Fatalf("postgres: %v\n%s", po.Broken, q.SQL)
		}
		if so.Broken != nil {
			p.reconnectStrand(t)
		}
		var diff string
		if po.Failed() {
			pgErrors++
			if !sameCode(po.Code[:2], so.Code) {
				diff = fmt.Sprintf("postgres: error %s %s\nstrand:   %s", po.Code, po.Msg, describe(so))
			}
		} else {
			diff = CompareRows(po, so, NoSort)
		}
		if diff != "" {
			mismatches++
			if mismatches <= maxReports {
				t.Errorf("query %d%s: %s\n%s", i, paramNote(q), q.SQL, diff)
			}
		}
	}
	t.Logf("%d random queries (%d extended protocol, %d PostgreSQL errors) in %v: %d mismatches",
		n, extended, pgErrors, time.Since(start).Round(time.Millisecond), mismatches)
}

func paramNote(q GenQuery) string {
	if !q.Extended {
		return ""
	}
	vals := make([]string, len(q.Params))
	for i, p := range q.Params {
		vals[i] = valText(p)
	}
	return fmt.Sprintf(" (extended, params [%s])", strings.Join(vals, ", "))
}
