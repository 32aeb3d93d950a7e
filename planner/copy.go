package planner

import (
	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/sql/pgerr"
)

// CopyTarget resolves the column list of COPY FROM: the table column index
// of each listed column (len(Types) for _version), the default expression
// of every column (nil: NULL), and the table's CHECK constraints.
func (b *Builder) CopyTarget(l *exec.TableLayout, cols []string) (target []int, defaults []exec.Expr, checks []exec.RowCheck, err error) {
	nt := len(l.Types)
	if len(cols) == 0 {
		for i := 0; i < nt; i++ {
			target = append(target, i)
		}
	}
	seen := map[int]bool{}
	for _, c := range cols {
		idx := colIndex(l, c)
		if c == exec.VersionColumn {
			idx = nt
		}
		if idx < 0 {
			return nil, nil, nil, pgerr.New(pgerr.UndefinedColumn, "column %q of relation %q does not exist", c, l.Desc.Name)
		}
		if seen[idx] {
			return nil, nil, nil, pgerr.New(pgerr.DuplicateColumn, "column %q specified more than once", c)
		}
		seen[idx] = true
		target = append(target, idx)
	}
	defaults = make([]exec.Expr, nt+1)
	eb := &exprBinder{b: b, scope: &scope{}, what: "DEFAULT"}
	for i, c := range l.Cur.Columns {
		if c.Default == "" || seen[i] {
			continue
		}
		n, err := ParseStored(c.Default)
		if err != nil {
			return nil, nil, nil, err
		}
		if defaults[i], err = eb.bindAs(n, l.Types[i], "column \""+c.Name+"\""); err != nil {
			return nil, nil, nil, err
		}
	}
	checks, err = b.checks(l, l.Desc.Name)
	return target, defaults, checks, err
}
