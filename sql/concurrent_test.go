package sql

import (
	"fmt"
	"sync"
	"testing"

	"github.com/pingcap/tidb/pkg/parser/ast"
)

// TestConcurrentParsesKeepTheirOwnStatements guards against sharing a
// pooled TiDB parser's result buffer between goroutines.
func TestConcurrentParsesKeepTheirOwnStatements(t *testing.T) {
	var wg sync.WaitGroup
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 500; i++ {
				name := fmt.Sprintf("t_%d_%d", g, i)
				stmts, err := ParseUncached("INSERT INTO " + name + " VALUES (1)")
				if err != nil {
					t.Error(err)
					return
				}
				ts := stmts[0].(*Insert).AST.Table.TableRefs.Left.(*ast.TableSource)
				if got := ts.Source.(*ast.TableName).Name.O; got != name {
					t.Errorf("parsed %q, got table %q", name, got)
					return
				}
			}
		}(g)
	}
	wg.Wait()
}
