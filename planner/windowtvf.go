package planner

import (
	"fmt"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/sql/pgerr"
)

// RisingWave's window table functions in FROM, TUMBLE(t, ts, size) and
// HOP(t, ts, slide, size): t's rows, each with the window it falls in
// (window_start, window_end = start + size; windows aligned to
// 1970-01-01), or with every hopping window that holds it. They are
// rewritten into the query they stand for and planned as that subquery,
// in queries and materialized views alike:
//
//	TUMBLE: SELECT t.*, date_bin(size, ts, '1970-01-01') AS window_start, … + size AS window_end FROM t
//	HOP:    SELECT t.*, w AS window_start, w + size AS window_end FROM t, strand_hop_windows(ts, slide, size) AS w

// windowTVF returns the query a TUMBLE or HOP in FROM stands for; ok is
// false for any other derived table.
func windowTVF(sel *ast.SelectStmt) (ast.ResultSetNode, bool, error) {
	fn, _, ok, err := tableFunctionCall(sel)
	if !ok || err != nil {
		return nil, false, nil
	}
	name := strings.ToLower(fn.FnName.O)
	if (name != "tumble" && name != "hop") || fn.Schema.O != "" {
		return nil, false, nil
	}
	want := 3
	if name == "hop" {
		want = 4
	}
	upper := strings.ToUpper(name)
	if len(fn.Args) != want {
		return nil, true, pgerr.New(pgerr.UndefinedFunction, "%s takes %d arguments: a table, its time column and the window's sizes", upper, want)
	}
	tbl, ok := fn.Args[0].(*ast.ColumnNameExpr)
	if !ok {
		return nil, true, pgerr.New(pgerr.SyntaxError, "the first argument of %s is a table name", upper)
	}
	table := exec.QuoteIdent(tbl.Name.Name.O)
	if s := tbl.Name.Table.O; s != "" {
		table = exec.QuoteIdent(s) + "." + table
	}
	ts, size := restore(fn.Args[1]), restore(fn.Args[len(fn.Args)-1])
	var text string
	if name == "tumble" {
		start := fmt.Sprintf("date_bin(%s, %s, '1970-01-01 00:00:00')", size, ts)
		text = fmt.Sprintf(`SELECT %s.*, %s AS "window_start", %s + %s AS "window_end" FROM %s`, table, start, start, size, table)
	} else {
		slide := restore(fn.Args[2])
		text = fmt.Sprintf(`SELECT %s.*, "w"."w" AS "window_start", "w"."w" + %s AS "window_end" FROM %s, LATERAL (SELECT pg_table_function(%s(%s, %s, %s)) AS "w") AS "w"`,
			table, size, table, exec.HopWindowsFunc, ts, slide, size)
	}
	q, err := parseRewrite(text, upper)
	if err != nil {
		return nil, true, err
	}
	return q, true, nil
}
