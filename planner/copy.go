package planner

import (
	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/sql/pgerr"
)

// CopyTarget resolves the column list of COPY FROM: the table column index
// of each listed column (len(Types) for _version), the default expression
// of every column not listed (nil: NULL), and the table's CHECK
// constraints.
func (b *Builder) CopyTarget(l *exec.TableLayout, cols []string) (target []int, defaults []exec.Expr, checks []exec.RowCheck, err error) {
	if target, err = targetColumns(l, cols); err != nil {
		return nil, nil, nil, err
	}
	listed := map[int]bool{}
	for _, idx := range target {
		listed[idx] = true
	}
	defaults = make([]exec.Expr, len(l.Types)+1)
	for i := range l.Cur.Columns {
		if listed[i] {
			continue
		}
		if defaults[i], err = b.columnDefault(l, i); err != nil {
			return nil, nil, nil, err
		}
	}
	checks, err = b.checks(l, l.Desc.Name)
	return target, defaults, checks, err
}

// targetColumns resolves an INSERT or COPY column list to table column
// positions (len(l.Types) for _version); an empty list is every column.
func targetColumns(l *exec.TableLayout, names []string) ([]int, error) {
	nt := len(l.Types)
	target := make([]int, 0, nt)
	if len(names) == 0 {
		for i := 0; i < nt; i++ {
			target = append(target, i)
		}
		return target, nil
	}
	seen := map[int]bool{}
	for _, name := range names {
		idx := colIndex(l, name)
		if name == exec.VersionColumn {
			idx = nt
		}
		if idx < 0 {
			return nil, pgerr.New(pgerr.UndefinedColumn, "column %q of relation %q does not exist", name, l.Desc.Name)
		}
		if seen[idx] {
			return nil, pgerr.New(pgerr.DuplicateColumn, "column %q specified more than once", name)
		}
		seen[idx] = true
		target = append(target, idx)
	}
	return target, nil
}

// columnDefault binds column i's DEFAULT expression; nil when it has none.
func (b *Builder) columnDefault(l *exec.TableLayout, i int) (exec.Expr, error) {
	c := l.Cur.Columns[i]
	if c.Default == "" {
		return nil, nil
	}
	n, err := ParseStored(c.Default)
	if err != nil {
		return nil, err
	}
	eb := &exprBinder{b: b, scope: &scope{}, what: "DEFAULT"}
	return eb.bindAs(n, l.Types[i], "column \""+c.Name+"\"")
}
