package planner

import (
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/sql/pgerr"
)

// historyTable plans `FROM versions('table')`: every version of every key,
// in key order then version order (see exec.History). A WHERE on the
// table's leading key columns reads only those keys' histories.
func (b *Builder) historyTable(fn *ast.FuncCallExpr) (exec.Node, error) {
	if len(fn.Args) != 1 {
		return nil, pgerr.New(pgerr.UndefinedFunction, "function versions() takes one argument: a table name")
	}
	name, err := stringArg(fn.Args[0])
	if err != nil {
		return nil, pgerr.New(pgerr.FeatureNotSupported, "versions() takes the table name as a string literal")
	}
	schema, table := "", name
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		schema, table = name[:i], name[i+1:]
	}
	td, err := b.LookupTable(schema, table)
	if err != nil {
		return nil, err
	}
	if !td.HasEvents() {
		return nil, pgerr.New(pgerr.WrongObjectType, "%q is a %s; versions() reads tables and views with a changelog", td.Name, strings.ToLower(string(objectKind(td.Kind))))
	}
	l := exec.NewTableLayout(td)
	h := &exec.History{Layout: l}
	for i, c := range l.Cur.Columns {
		h.Cols = append(h.Cols, exec.Column{Name: c.Name, T: l.Types[i]})
	}
	h.Cols = append(h.Cols, exec.HistoryColumns()...)
	return h, nil
}

// planHistoryKeyScan narrows a history read to the keys a predicate fixes.
func planHistoryKeyScan(h *exec.History, pred exec.Expr) exec.Node {
	scan := &exec.Scan{Layout: h.Layout, Cols: h.Cols}
	n := planKeyScan(scan, pred)
	if n == nil {
		return nil
	}
	ks := n.(*exec.Filter).Input.(*exec.Scan)
	nh := *h
	nh.Prefix, nh.PrefixDesc = ks.Prefix, ks.PrefixDesc
	return &exec.Filter{Input: &nh, Pred: pred}
}
