package viewdiff

import (
	"context"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"

	"github.com/strand-db/strand/tests/pgoracle"
	"github.com/strand-db/strand/tests/strandtest"
)

// pair is a Strand server on a data directory of its own and a throwaway
// PostgreSQL that take the same statements: the harness of the
// differential tests with a workload of their own.
type pair struct {
	t      *testing.T
	dir    string
	s      *strandtest.Server
	sc, pc *pgx.Conn
}

func newPair(t *testing.T) *pair {
	t.Helper()
	pg := pgoracle.StartT(t)
	p := &pair{t: t, dir: t.TempDir()}
	p.s = strandtest.Start(t, p.dir)
	p.sc, p.pc = p.s.Connect(t), pg.Connect(t)
	return p
}

// both runs each statement on both servers; an error fails the test.
func (p *pair) both(qs ...string) {
	p.t.Helper()
	for _, q := range qs {
		for _, c := range []*pgx.Conn{p.sc, p.pc} {
			if _, err := c.Exec(context.Background(), q); err != nil {
				p.t.Fatalf("%s: %v", q, err)
			}
		}
	}
}

// restart stops Strand and starts it again on the same data.
func (p *pair) restart() {
	p.t.Helper()
	p.s.Stop()
	p.s = strandtest.Start(p.t, p.dir)
	p.sc = p.s.Connect(p.t)
}

// same reports, as a test error naming what, whether Strand's rows of
// strandQ equal PostgreSQL's of pgQ (in any order); it returns Strand's.
func (p *pair) same(what, strandQ, pgQ string) []string {
	p.t.Helper()
	got := strandtest.SortedRows(p.t, p.sc, strandQ)
	want := strandtest.SortedRows(p.t, p.pc, pgQ)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		p.t.Errorf("%s: %d rows, PostgreSQL's query %d\n%s", what, len(got), len(want), strandtest.RowsDiff(got, want))
	}
	return got
}
