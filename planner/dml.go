package planner

import (
	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql"
	"github.com/strand-db/strand/sql/pgerr"
)

// WritePlan is a planned INSERT, UPDATE or DELETE.
type WritePlan interface {
	Execute(rt *exec.Runtime, txn *exec.Txn) (*exec.WriteResult, error)
}

// Write is a planned write statement with its RETURNING columns (nil when
// it returns no rows).
type Write struct {
	Plan      WritePlan
	Returning []exec.Expr
	Cols      []exec.Column
	Tag       string
	Layout    *exec.TableLayout
}

// targetTable resolves the single table of an INSERT/UPDATE/DELETE.
// verb is the write's verb for messages: insert into, update, delete from.
func (b *Builder) targetTable(refs *ast.TableRefsClause, verb string) (*log.TableDesc, string, error) {
	if refs == nil || refs.TableRefs == nil || refs.TableRefs.Right != nil {
		return nil, "", pgerr.New(pgerr.FeatureNotSupported, "writes to more than one table are not supported")
	}
	ts, ok := refs.TableRefs.Left.(*ast.TableSource)
	if !ok {
		return nil, "", pgerr.New(pgerr.FeatureNotSupported, "unsupported write target")
	}
	tn, ok := ts.Source.(*ast.TableName)
	if !ok {
		return nil, "", pgerr.New(pgerr.FeatureNotSupported, "unsupported write target")
	}
	td, err := b.LookupTable(tn.Schema.O, tn.Name.O)
	if err != nil {
		return nil, "", err
	}
	switch td.Kind {
	case log.View:
		return nil, "", pgerr.New(pgerr.WrongObjectType, "cannot change materialized view %q", td.Name)
	case log.Sequence:
		return nil, "", pgerr.New(pgerr.WrongObjectType, "cannot change sequence %q", td.Name)
	case log.PlainView:
		return nil, "", pgerr.New(pgerr.ObjectNotInPrerequisiteState, "cannot %s view %q", verb, td.Name).
			WithDetail("Views are not updatable: write to the tables the view reads.")
	}
	alias := ts.AsName.O
	if alias == "" {
		alias = td.Name
	}
	return td, alias, nil
}

// tableScope is the scope of a table's full row (columns + _version).
func tableScope(l *exec.TableLayout, alias string) *scope {
	sc := &scope{}
	for i, c := range l.Cur.Columns {
		sc.cols = append(sc.cols, scopeCol{table: alias, name: c.Name, t: l.Types[i]})
	}
	sc.cols = append(sc.cols, scopeCol{table: alias, name: exec.VersionColumn, t: tInt8, hidden: true})
	return sc
}

func (b *Builder) checks(l *exec.TableLayout, alias string) ([]exec.RowCheck, error) {
	var out []exec.RowCheck
	for i, text := range l.Cur.Checks {
		n, err := ParseStored(text)
		if err != nil {
			return nil, err
		}
		eb := &exprBinder{b: b, scope: tableScope(l, alias), what: "check constraints"}
		e, err := eb.bindAs(n, tBool, "CHECK")
		if err != nil {
			return nil, err
		}
		out = append(out, exec.RowCheck{Expr: e, Name: l.Desc.Name + "_check" + suffix(i)})
	}
	return out, nil
}

func suffix(i int) string {
	if i == 0 {
		return ""
	}
	return itoa(i)
}

func (b *Builder) returning(fields []*ast.SelectField, sc *scope) ([]exec.Expr, []exec.Column, error) {
	if fields == nil {
		return nil, nil, nil
	}
	fs, err := b.expandFields(&ast.FieldList{Fields: fields}, sc)
	if err != nil {
		return nil, nil, err
	}
	eb := &exprBinder{b: b, scope: sc, what: "RETURNING"}
	var exprs []exec.Expr
	var cols []exec.Column
	for _, f := range fs {
		e, err := eb.bind(f.expr)
		if err != nil {
			return nil, nil, err
		}
		if e, err = eb.resolveUnknown(e, tText); err != nil {
			return nil, nil, err
		}
		exprs = append(exprs, e)
		cols = append(cols, exec.Column{Name: f.name, T: e.Type()})
	}
	return exprs, cols, nil
}

// BuildInsert plans INSERT.
func (b *Builder) BuildInsert(st *sql.Insert) (*Write, error) {
	td, alias, err := b.targetTable(st.AST.Table, "insert into")
	if err != nil {
		return nil, err
	}
	if st.Alias != "" {
		alias = st.Alias
	}
	l := exec.NewTableLayout(td)
	nt := len(l.Types)
	// Target columns: the listed ones (possibly _version) or all.
	names := make([]string, len(st.AST.Columns))
	for i, c := range st.AST.Columns {
		names[i] = c.Name.O
	}
	target, err := targetColumns(l, names)
	if err != nil {
		return nil, err
	}
	colType := func(idx int) exec.Column {
		if idx == nt {
			return exec.Column{Name: exec.VersionColumn, T: tInt8}
		}
		return exec.Column{Name: l.Cur.Columns[idx].Name, T: l.Types[idx]}
	}
	// Defaults for every table column (NULL where none is declared).
	defaults := make([]exec.Expr, nt+1)
	for i := range l.Cur.Columns {
		if defaults[i], err = b.columnDefault(l, i); err != nil {
			return nil, err
		}
		if defaults[i] == nil {
			defaults[i] = &exec.Const{T: l.Types[i]}
		}
	}
	defaults[nt] = &exec.Const{T: tInt8}
	always := map[int]bool{}
	for name := range alwaysColumns(b.cat, td) {
		always[colIndex(l, name)] = true
	}

	// The source yields target-column values; a projection spreads them
	// over the full row, with defaults elsewhere.
	var source exec.Node
	switch {
	case st.DefaultValues:
		source = oneRow
		target = nil
	case st.AST.Select != nil:
		rs, ok := st.AST.Select.(ast.ResultSetNode)
		if !ok {
			return nil, pgerr.New(pgerr.FeatureNotSupported, "INSERT source is not supported")
		}
		if source, err = b.buildQueryIn(rs, nil); err != nil {
			return nil, err
		}
		for _, idx := range target {
			if always[idx] && !st.OverridingSystem {
				return nil, identityAlwaysErr(colType(idx).Name, false)
			}
		}
		if len(source.Columns()) > len(target) {
			return nil, pgerr.New(pgerr.SyntaxError, "INSERT has more expressions than target columns")
		}
	default:
		v := &exec.Values{}
		vb := &exprBinder{b: b, scope: &scope{}, what: "VALUES"}
		for _, list := range st.AST.Lists {
			if len(list) > len(target) {
				return nil, pgerr.New(pgerr.SyntaxError, "INSERT has more expressions than target columns")
			}
			row := make([]exec.Expr, len(target))
			for i := range target {
				if i >= len(list) {
					return nil, pgerr.New(pgerr.SyntaxError, "INSERT has more target columns than expressions")
				}
				col := colType(target[i])
				if _, isDefault := list[i].(*ast.DefaultExpr); isDefault {
					row[i] = defaults[target[i]]
					continue
				}
				if always[target[i]] && !st.OverridingSystem {
					return nil, identityAlwaysErr(col.Name, false)
				}
				e, err := vb.bindAs(list[i], col.T, "column \""+col.Name+"\"")
				if err != nil {
					return nil, err
				}
				row[i] = e
			}
			v.Rows = append(v.Rows, row)
		}
		for _, idx := range target {
			v.Cols = append(v.Cols, colType(idx))
		}
		source = v
	}
	srcCols := source.Columns()
	if len(srcCols) < len(target) && st.AST.Select != nil {
		return nil, pgerr.New(pgerr.SyntaxError, "INSERT has more target columns than expressions")
	}
	spread := &exec.Project{Input: source}
	pos := map[int]int{}
	for i, idx := range target {
		pos[idx] = i
	}
	sb := &exprBinder{b: b, scope: &scope{}, what: "INSERT"}
	for idx := 0; idx <= nt; idx++ {
		col := colType(idx)
		if i, ok := pos[idx]; ok {
			e, err := sb.coerce(&exec.ColRef{Idx: i, T: srcCols[i].T, Name: srcCols[i].Name}, col.T, "column \""+col.Name+"\"")
			if err != nil {
				return nil, err
			}
			spread.Exprs = append(spread.Exprs, e)
		} else {
			spread.Exprs = append(spread.Exprs, defaults[idx])
		}
		spread.Cols = append(spread.Cols, col)
	}
	ins := &exec.Insert{Layout: l, Source: spread}
	if ins.Checks, err = b.checks(l, alias); err != nil {
		return nil, err
	}
	if oc := st.OnConflict; oc != nil {
		if td.Kind != log.Keyed {
			return nil, pgerr.New(pgerr.FeatureNotSupported, "ON CONFLICT on append-only stream %q", td.Name)
		}
		if len(oc.Columns) > 0 && !sameKey(l, oc.Columns) {
			return nil, pgerr.New(pgerr.InvalidColumnReference, "there is no unique or exclusion constraint matching the ON CONFLICT specification")
		}
		if !oc.DoUpdate {
			ins.DoNothing = true
		} else {
			pair := tableScope(l, alias)
			ex := tableScope(l, "excluded")
			pair = concatScopes(pair, ex)
			pb := &exprBinder{b: b, scope: pair, what: "ON CONFLICT DO UPDATE"}
			for _, a := range oc.Set {
				idx := colIndex(l, a.Column.Name.O)
				if idx < 0 {
					return nil, pgerr.New(pgerr.UndefinedColumn, "column %q of relation %q does not exist", a.Column.Name.O, td.Name)
				}
				e, err := pb.bindAs(a.Expr, l.Types[idx], "column \""+a.Column.Name.O+"\"")
				if err != nil {
					return nil, err
				}
				ins.Set = append(ins.Set, exec.Assign{Idx: idx, Expr: e})
			}
			if oc.Where != nil {
				if ins.SetWhere, err = pb.bindAs(oc.Where, tBool, "argument of WHERE"); err != nil {
					return nil, err
				}
			}
		}
	}
	w := &Write{Plan: ins, Tag: "INSERT 0 ", Layout: l}
	if w.Returning, w.Cols, err = b.returning(st.Returning, tableScope(l, alias)); err != nil {
		return nil, err
	}
	ins.Returning = w.Returning
	return w, nil
}

func colIndex(l *exec.TableLayout, name string) int {
	for i, c := range l.Cur.Columns {
		if c.Name == name {
			return i
		}
	}
	return -1
}

func sameKey(l *exec.TableLayout, cols []string) bool {
	if len(cols) != len(l.KeyIdx) {
		return false
	}
	want := map[string]bool{}
	for _, k := range l.KeyIdx {
		want[l.Cur.Columns[k].Name] = true
	}
	for _, c := range cols {
		if !want[c] {
			return false
		}
	}
	return true
}

// sourceRows plans the rows an UPDATE or DELETE changes: a scan of the
// table (by key when the WHERE fixes it) and the WHERE filter.
func (b *Builder) sourceRows(l *exec.TableLayout, alias string, where ast.ExprNode) (exec.Node, *scope, error) {
	sc := tableScope(l, alias)
	cols := sc.columns()
	var n exec.Node = &exec.Scan{Layout: l, Cols: cols}
	if where != nil {
		eb := &exprBinder{b: b, scope: sc, what: "WHERE"}
		pred, err := eb.bindAs(where, tBool, "argument of WHERE")
		if err != nil {
			return nil, nil, err
		}
		n = b.pushFilter(n, pred)
	}
	return n, sc, nil
}

// BuildUpdate plans UPDATE.
func (b *Builder) BuildUpdate(st *sql.Update) (*Write, error) {
	td, alias, err := b.targetTable(st.AST.TableRefs, "update")
	if err != nil {
		return nil, err
	}
	if st.AST.Order != nil || st.AST.Limit != nil {
		return nil, pgerr.New(pgerr.SyntaxError, "UPDATE does not take ORDER BY or LIMIT")
	}
	l := exec.NewTableLayout(td)
	src, sc, err := b.sourceRows(l, alias, st.AST.Where)
	if err != nil {
		return nil, err
	}
	u := &exec.Update{Layout: l, Source: src}
	eb := &exprBinder{b: b, scope: sc, what: "UPDATE"}
	always := alwaysColumns(b.cat, td)
	for _, a := range st.AST.List {
		if a.Column.Name.O == exec.VersionColumn {
			return nil, pgerr.New(pgerr.FeatureNotSupported, "column %q is read-only: versions are assigned by the log", exec.VersionColumn)
		}
		idx := colIndex(l, a.Column.Name.O)
		if idx < 0 {
			return nil, pgerr.New(pgerr.UndefinedColumn, "column %q of relation %q does not exist", a.Column.Name.O, td.Name)
		}
		var e exec.Expr
		if _, isDefault := a.Expr.(*ast.DefaultExpr); isDefault {
			if e, err = b.columnDefault(l, idx); err != nil {
				return nil, err
			}
			if e == nil {
				e = &exec.Const{T: l.Types[idx]}
			}
		} else if always[a.Column.Name.O] {
			return nil, identityAlwaysErr(a.Column.Name.O, true)
		} else if e, err = eb.bindAs(a.Expr, l.Types[idx], "column \""+a.Column.Name.O+"\""); err != nil {
			return nil, err
		}
		u.Set = append(u.Set, exec.Assign{Idx: idx, Expr: e})
	}
	if u.Checks, err = b.checks(l, alias); err != nil {
		return nil, err
	}
	w := &Write{Plan: u, Tag: "UPDATE ", Layout: l}
	if w.Returning, w.Cols, err = b.returning(st.Returning, sc); err != nil {
		return nil, err
	}
	u.Returning = w.Returning
	return w, nil
}

// BuildDelete plans DELETE.
func (b *Builder) BuildDelete(st *sql.Delete) (*Write, error) {
	td, alias, err := b.targetTable(st.AST.TableRefs, "delete from")
	if err != nil {
		return nil, err
	}
	if st.AST.Order != nil || st.AST.Limit != nil {
		return nil, pgerr.New(pgerr.SyntaxError, "DELETE does not take ORDER BY or LIMIT")
	}
	l := exec.NewTableLayout(td)
	src, sc, err := b.sourceRows(l, alias, st.AST.Where)
	if err != nil {
		return nil, err
	}
	d := &exec.Delete{Layout: l, Source: src}
	w := &Write{Plan: d, Tag: "DELETE ", Layout: l}
	if w.Returning, w.Cols, err = b.returning(st.Returning, sc); err != nil {
		return nil, err
	}
	d.Returning = w.Returning
	return w, nil
}
