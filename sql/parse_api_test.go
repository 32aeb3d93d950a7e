package sql

import (
	"fmt"
	"sync"
	"testing"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/test_driver"
)

// paramOrders collects the Order of every parameter marker under n.
type paramOrders struct{ orders []int }

func (v *paramOrders) Enter(n ast.Node) (ast.Node, bool) {
	if pm, ok := n.(*test_driver.ParamMarkerExpr); ok {
		v.orders = append(v.orders, pm.Order)
	}
	return n, false
}

func (v *paramOrders) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// TestParamOrderAcrossFragments checks that markers in the INSERT, the ON
// CONFLICT clause and RETURNING have distinct orders indexing Info.Params.
func TestParamOrderAcrossFragments(t *testing.T) {
	stmts, err := ParseUncached("INSERT INTO t (a, b) VALUES ($2, $1) ON CONFLICT (a) DO UPDATE SET b = $3 WHERE t.b <> $1 RETURNING $2")
	if err != nil {
		t.Fatal(err)
	}
	ins := stmts[0].(*Insert)
	var v paramOrders
	ins.AST.Accept(&v)
	for _, a := range ins.OnConflict.Set {
		a.Expr.Accept(&v)
	}
	ins.OnConflict.Where.Accept(&v)
	for _, f := range ins.Returning {
		f.Expr.Accept(&v)
	}
	var got []int
	for _, o := range v.orders {
		got = append(got, ins.Params[o])
	}
	if fmt.Sprint(got) != "[2 1 3 1 2]" || ins.NumParams != 3 {
		t.Fatalf("params by marker = %v, NumParams = %d", got, ins.NumParams)
	}
}

func TestParseOffsets(t *testing.T) {
	stmts, err := Parse("  SELECT 1 ;\n INSERT INTO t VALUES ($1)")
	if err != nil {
		t.Fatal(err)
	}
	if len(stmts) != 2 {
		t.Fatalf("got %d statements", len(stmts))
	}
	if i := stmts[1].StmtInfo(); i.Offset != 14 || i.Text != "INSERT INTO t VALUES ($1)" || i.NumParams != 1 {
		t.Fatalf("second statement info = %+v", i)
	}
}

func TestCacheSharesAndEvicts(t *testing.T) {
	c := newParseCache(2, 1<<10)
	a1, err := c.parse("SELECT 1")
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := c.parse("SELECT 1")
	if a1[0] != a2[0] {
		t.Fatal("cache did not return the cached statement")
	}
	c.parse("SELECT 2")
	c.parse("SELECT 3") // evicts SELECT 1, the least recently used
	a3, _ := c.parse("SELECT 1")
	if a3[0] == a1[0] {
		t.Fatal("entry was not evicted")
	}
	if _, err := c.parse("SELECT 'x"); err == nil {
		t.Fatal("want error")
	}
}

func TestCacheConcurrent(t *testing.T) {
	c := newParseCache(8, 1<<10)
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 200; i++ {
				q := fmt.Sprintf("INSERT INTO t VALUES (%d, $1)", (g*7+i)%20)
				if _, err := c.parse(q); err != nil {
					t.Error(err)
					return
				}
			}
		}(g)
	}
	wg.Wait()
}

const benchInsert = "INSERT INTO account_events (account_id, _version, kind, amount) VALUES ($1, $2, $3, $4)"

func BenchmarkParseInsertCached(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := Parse(benchInsert); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseInsertUncached(b *testing.B) {
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if _, err := ParseUncached(benchInsert); err != nil {
			b.Fatal(err)
		}
	}
}
