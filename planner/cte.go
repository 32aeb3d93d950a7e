package planner

import (
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/sql/pgerr"
)

// cteDef is one WITH query in scope. A reference plans the query afresh
// (the CTE is inlined), in the CTE scope of its definition; inside its own
// recursive term, a reference reads the working table instead.
type cteDef struct {
	cte       *ast.CommonTableExpression
	recursive bool
	env       []*cteDef // the CTEs its body sees
	work      *exec.WorkTable
	workCols  []exec.Column
}

func (d *cteDef) name() string { return d.cte.Name.O }

// withClause brings a WITH clause's queries into scope and plans each once,
// so that an unreferenced one still reports its errors, as in PostgreSQL.
// The returned function restores the previous scope.
func (b *Builder) withClause(w *ast.WithClause) (func(), error) {
	return b.withScope(w, func(d *cteDef) error {
		_, err := b.planCTE(d)
		return err
	})
}

// withScope brings a WITH clause's queries into scope, each seeing the
// ones before it (and itself when recursive), calling check (when not
// nil) on each as it comes in. The returned function restores the
// previous scope.
func (b *Builder) withScope(w *ast.WithClause, check func(*cteDef) error) (func(), error) {
	saved := b.ctes
	restore := func() { b.ctes = saved }
	names := map[string]bool{}
	for _, c := range w.CTEs {
		if names[c.Name.O] {
			restore()
			return nil, pgerr.New(pgerr.Code("42712"), "WITH query name %q specified more than once", c.Name.O)
		}
		names[c.Name.O] = true
		d := &cteDef{cte: c, recursive: w.IsRecursive && refersTo(c.Query.Query, c.Name.O)}
		d.env = append([]*cteDef(nil), b.ctes...)
		if d.recursive {
			d.env = append(d.env, d)
		}
		if check != nil {
			if err := check(d); err != nil {
				restore()
				return nil, err
			}
		}
		b.ctes = append(append([]*cteDef(nil), b.ctes...), d)
	}
	return restore, nil
}

// lookupCTE finds the innermost WITH query of that name.
func (b *Builder) lookupCTE(name string) *cteDef {
	for i := len(b.ctes) - 1; i >= 0; i-- {
		if b.ctes[i].name() == name {
			return b.ctes[i]
		}
	}
	return nil
}

// planCTE plans a reference to a WITH query.
func (b *Builder) planCTE(d *cteDef) (exec.Node, error) {
	if d.work != nil {
		return &exec.WorkTableScan{WT: d.work, Cols: d.workCols}, nil
	}
	saved := b.ctes
	b.ctes = d.env
	defer func() { b.ctes = saved }()
	if !d.recursive {
		n, err := b.buildQueryIn(d.cte.Query.Query, nil)
		if err != nil {
			return nil, err
		}
		return renameColumns(n, d)
	}
	so, ok := d.cte.Query.Query.(*ast.SetOprStmt)
	sels := []ast.Node(nil)
	if ok && so.SelectList != nil {
		sels = so.SelectList.Selects
	}
	var op *ast.SetOprType
	if len(sels) >= 2 {
		op = afterOp(sels[len(sels)-1])
	}
	if op == nil || (*op != ast.Union && *op != ast.UnionAll) {
		return nil, pgerr.New(pgerr.InvalidRecursion, "recursive query %q does not have the form non-recursive-term UNION [ALL] recursive-term", d.name())
	}
	if so.OrderBy != nil || so.Limit != nil {
		return nil, pgerr.New(pgerr.FeatureNotSupported, "ORDER BY/LIMIT in a recursive query is not implemented")
	}
	for _, s := range sels[:len(sels)-1] {
		if refersTo(s, d.name()) {
			return nil, pgerr.New(pgerr.InvalidRecursion, "recursive reference to query %q must not appear within its non-recursive term", d.name())
		}
	}
	init, err := b.buildSetOperand(sels[:len(sels)-1])
	if err != nil {
		return nil, err
	}
	// An unknown column of the non-recursive term is text.
	eb := &exprBinder{b: b, scope: &scope{}, what: "recursive query"}
	initCols := init.Columns()
	fix := &exec.Project{Input: init}
	for i, c := range initCols {
		e, err := eb.resolveUnknown(&exec.ColRef{Idx: i, T: c.T, Name: c.Name}, tText)
		if err != nil {
			return nil, err
		}
		fix.Exprs = append(fix.Exprs, e)
		fix.Cols = append(fix.Cols, exec.Column{Name: c.Name, T: e.Type()})
	}
	initNode, err := renameColumns(fix, d)
	if err != nil {
		return nil, err
	}
	wt := &exec.WorkTable{}
	d.work, d.workCols = wt, initNode.Columns()
	step, err := b.buildSetOperand(sels[len(sels)-1:])
	d.work, d.workCols = nil, nil
	if err != nil {
		return nil, err
	}
	sc, ic := step.Columns(), initNode.Columns()
	if len(sc) != len(ic) {
		return nil, pgerr.New(pgerr.SyntaxError, "each UNION query must have the same number of columns")
	}
	cast := &exec.Project{Input: step}
	for i := range ic {
		t, err := eb.unify([]exec.Expr{&exec.ColRef{T: ic[i].T}, &exec.ColRef{T: sc[i].T}}, "UNION")
		if err != nil {
			return nil, err
		}
		if t != ic[i].T {
			return nil, pgerr.New(pgerr.DatatypeMismatch, "recursive query %q column %d has type %s in non-recursive term but type %s overall", d.name(), i+1, ic[i].T, t).
				WithHint("Cast the output of the non-recursive term to the correct type.")
		}
		e, err := eb.coerce(&exec.ColRef{Idx: i, T: sc[i].T, Name: sc[i].Name}, t, "UNION")
		if err != nil {
			return nil, err
		}
		cast.Exprs = append(cast.Exprs, e)
		cast.Cols = append(cast.Cols, ic[i])
	}
	return &exec.RecursiveUnion{Init: initNode, Step: cast, WT: wt, All: *op == ast.UnionAll}, nil
}

// buildSetOperand plans one or more operands of a set operation.
func (b *Builder) buildSetOperand(sels []ast.Node) (exec.Node, error) {
	if len(sels) == 1 {
		switch x := sels[0].(type) {
		case *ast.SelectStmt:
			return b.buildSelect(x, nil)
		case *ast.SetOprSelectList:
			return b.buildSetOp(&ast.SetOprStmt{SelectList: x}, nil)
		}
	}
	list := &ast.SetOprSelectList{Selects: sels}
	return b.buildSetOp(&ast.SetOprStmt{SelectList: list}, nil)
}

func afterOp(n ast.Node) *ast.SetOprType {
	switch x := n.(type) {
	case *ast.SelectStmt:
		return x.AfterSetOperator
	case *ast.SetOprSelectList:
		return x.AfterSetOperator
	}
	return nil
}

// renameColumns applies a WITH query's column list.
func renameColumns(n exec.Node, d *cteDef) (exec.Node, error) {
	names := d.cte.ColNameList
	if len(names) == 0 {
		return n, nil
	}
	cols := n.Columns()
	if len(names) > len(cols) {
		return nil, pgerr.New(pgerr.InvalidColumnReference, "WITH query %q has %d columns available but %d columns specified", d.name(), len(cols), len(names))
	}
	p := &exec.Project{Input: n}
	for i, c := range cols {
		if i < len(names) {
			c.Name = names[i].O
		}
		c.Table, c.Attr = 0, 0
		p.Exprs = append(p.Exprs, &exec.ColRef{Idx: i, T: c.T, Name: c.Name})
		p.Cols = append(p.Cols, c)
	}
	return p, nil
}

// refersTo reports whether a query names the relation name unqualified
// (a WITH query's reference to itself).
func refersTo(n ast.Node, name string) bool {
	v := &tableRefFinder{name: name}
	n.Accept(v)
	return v.found
}

type tableRefFinder struct {
	name  string
	found bool
}

func (v *tableRefFinder) Enter(n ast.Node) (ast.Node, bool) {
	if t, ok := n.(*ast.TableName); ok && t.Schema.O == "" && t.Name.O == v.name {
		v.found = true
	}
	return n, v.found
}

func (v *tableRefFinder) Leave(n ast.Node) (ast.Node, bool) { return n, true }
