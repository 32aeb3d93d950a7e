package planner

import (
	"fmt"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

// scopeCol is a column visible to expressions: one position of the input
// row.
type scopeCol struct {
	table  string // the relation's name or alias ("" for none)
	name   string
	t      types.T
	hidden bool // system columns: not part of *
	// usingDup is the second copy of a JOIN ... USING column: reachable
	// only qualified (r2.a), and left out of an unqualified *.
	usingDup bool
	// scalarItem: the one column of a function in FROM that returns a
	// base type (unnest(a) AS u): an unqualified reference to the
	// item's alias is this column, as PostgreSQL's whole-row reference
	// of such a function is its value.
	scalarItem bool
	// source table column, for RowDescription
	tableOID uint32
	attr     uint16
}

// scope is the set of columns an expression can name, with the enclosing
// query's scope for correlated subqueries.
type scope struct {
	cols   []scopeCol
	parent *scope
	// correlated is set when an expression of a subquery referred to this
	// scope's columns.
	correlated bool
	// order is the order of an unqualified * (nil: the columns' order): a
	// join's USING columns come first, as in PostgreSQL.
	order []int
	// starCols maps the column names a * expanded to, when their names
	// alone are ambiguous (SELECT * FROM (SELECT 1, 2) q has two
	// "?column?"), to the columns they stand for.
	starCols map[*ast.ColumnName]int
	// used is set when a name resolved to one of this scope's columns
	// (a LATERAL item's reads of the items before it, select.go).
	used bool
	// boundary marks the empty scope a subquery is planned in: it records
	// whether the subquery is correlated, but is no row of its own, so it
	// does not count in an OuterRef's depth (each subquery evaluation adds
	// exactly one outer row: the row of the query that evaluates it).
	boundary bool
}

// resolve finds a column by optional table qualifier and name. It returns
// the position and how many scopes up it was found.
func (s *scope) resolve(table, name string) (idx, depth int, col *scopeCol, err error) {
	for sc, d := s, 0; sc != nil; sc = sc.parent {
		if sc.boundary {
			continue
		}
		found := -1
		for i := range sc.cols {
			c := &sc.cols[i]
			if c.name != name || (table != "" && c.table != table) || (table == "" && c.usingDup) {
				continue
			}
			if found >= 0 {
				return 0, 0, nil, pgerr.New(pgerr.AmbiguousColumn, "column reference %q is ambiguous", name)
			}
			found = i
		}
		if found < 0 && table == "" {
			for i := range sc.cols {
				if c := &sc.cols[i]; c.scalarItem && c.table == name {
					found = i
					break
				}
			}
		}
		if found >= 0 {
			sc.used = true
			return found, d, &sc.cols[found], nil
		}
		d++
	}
	if table != "" {
		if !s.hasTable(table) {
			return 0, 0, nil, pgerr.New(pgerr.UndefinedTable, "missing FROM-clause entry for table %q", table)
		}
		return 0, 0, nil, pgerr.New(pgerr.UndefinedColumn, "column %s.%s does not exist", table, name)
	}
	return 0, 0, nil, pgerr.New(pgerr.UndefinedColumn, "column %q does not exist", name)
}

func (s *scope) hasTable(table string) bool {
	for sc := s; sc != nil; sc = sc.parent {
		for _, c := range sc.cols {
			if c.table == table {
				return true
			}
		}
	}
	return false
}

// ref makes the expression that reads a resolved column.
func (s *scope) ref(table, name string) (exec.Expr, error) {
	idx, depth, col, err := s.resolve(table, name)
	if err != nil {
		return nil, err
	}
	label := name
	if table != "" {
		label = table + "." + name
	}
	if depth == 0 {
		return &exec.ColRef{Idx: idx, T: col.t, Name: label}, nil
	}
	// Mark every scope passed on the way out, boundaries included.
	for sc, d := s, 0; d < depth || sc.boundary; sc = sc.parent {
		sc.correlated = true
		if !sc.boundary {
			d++
		}
	}
	return &exec.OuterRef{Depth: depth, Idx: idx, T: col.t, Name: label}, nil
}

// columns turns the scope into exec output columns.
func (s *scope) columns() []exec.Column {
	out := make([]exec.Column, len(s.cols))
	for i, c := range s.cols {
		out[i] = exec.Column{Name: c.name, T: c.t, Table: c.tableOID, Attr: c.attr}
	}
	return out
}

// starOrder lists the column positions an unqualified * expands to, in
// order (hidden columns and USING duplicates are skipped by the caller).
func (s *scope) starOrder() []int {
	if s.order != nil {
		return s.order
	}
	out := make([]int, len(s.cols))
	for i := range out {
		out[i] = i
	}
	return out
}

func concatScopes(a, b *scope) *scope {
	out := &scope{parent: a.parent}
	out.cols = append(append(out.cols, a.cols...), b.cols...)
	return out
}

func (c scopeCol) String() string { return fmt.Sprintf("%s.%s", c.table, c.name) }
