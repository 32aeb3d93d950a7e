package planner

import (
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/opcode"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/sql"
	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/views"
)

// A LATERAL subquery in a view's FROM that relates to the items before it
// by equalities in its WHERE is decorrelated into a join with a subquery
// of its own, as Materialize does:
//
//	FROM acct a, LATERAL (SELECT amount FROM ev e WHERE e.acct = a.id ORDER BY amount DESC LIMIT 3) t
//
// is planned as acct a JOIN (the 3 largest events per e.acct) t ON
// t.acct = a.id: the subquery's side of each equality becomes a column of
// its own (hidden: not part of *), and the subquery is computed for every
// value of it at once. ORDER BY … LIMIT becomes a row_number() top-N per
// those columns; an aggregate without GROUP BY becomes one grouped by
// them, LEFT joined (it has a row for every outer row, count 0 where
// nothing matches); GROUP BY gains them. The rewritten subquery is
// written out as SQL and parsed again (as TUMBLE and HOP are,
// windowtvf.go), so the shared parsed statement is never changed.

// latPrefix starts the names of the columns the rewrite adds; such
// columns are hidden (lateralHidden).
const latPrefix = "?lat"

// viewLateral plans j when its right side is a LATERAL subquery that
// reads l; ok is false for any other join.
func (b *Builder) viewLateral(j *ast.Join, l *viewRel) (rel *viewRel, ok bool, err error) {
	ts, isSource := j.Right.(*ast.TableSource)
	if !isSource || !ts.Lateral {
		return nil, false, nil
	}
	sel, isSelect := ts.Source.(*ast.SelectStmt)
	if !isSelect || sel.From == nil || sel.From.TableRefs == nil {
		return nil, false, nil
	}
	if _, _, isFunc, _ := tableFunctionCall(sel); isFunc {
		return nil, false, nil
	}
	if _, isWindow, _ := windowTVF(sel); isWindow {
		return nil, false, nil
	}
	// Which WHERE conjuncts read l's columns: bound in the subquery's
	// own FROM, with l one level up.
	// (Planned again in the rewritten subquery: what planning notes of
	// the view, its one temporal filter, is noted then.)
	temporal := b.viewTemporal
	inner, err := b.viewFrom(sel.From.TableRefs)
	b.viewTemporal = temporal
	if err != nil {
		return nil, true, correlatedLateral(err)
	}
	scope := &scope{cols: inner.sc.cols, parent: &scope{cols: l.sc.cols}}
	eb := &exprBinder{b: b, scope: scope, what: "WHERE"}
	innerKeys, outerKeys, rest, others, err := eb.correlatedConditions(sel.Where, "a LATERAL subquery", true)
	if err != nil {
		return nil, true, err
	}
	if len(others) > 0 && (len(innerKeys) == 0 || sel.GroupBy != nil || sel.Having != nil || hasAggregate(sel.Fields) || sel.Distinct || sel.Limit != nil) {
		// Other conditions on the outer rows join a plain filter's rows
		// (below); a top-N or an aggregate per outer row would need them
		// per row, and a join needs an equality.
		return nil, true, notMaintainable("a LATERAL subquery's conditions on the outer rows must be equalities, but for a subquery that only filters rows, which may also compare them otherwise beside an equality")
	}
	if len(innerKeys) == 0 {
		// Not correlated: an ordinary subquery in FROM.
		return nil, false, nil
	}
	alias := ts.AsName
	if alias.O == "" {
		return nil, true, notMaintainable("a LATERAL subquery needs an alias")
	}
	// The other conditions go to the join's ON, reading the subquery's
	// columns they need as more hidden columns of it.
	moved, exported, err := b.lateralConditions(others, inner.sc, l.sc, alias, len(innerKeys))
	if err != nil {
		return nil, true, err
	}
	onTrue := j.On == nil || b.isTrue(j.On.Expr)
	left := j.Tp == ast.LeftJoin
	if (j.Tp != ast.CrossJoin && !left) || j.StraightJoin || j.NaturalJoin || j.Using != nil {
		return nil, true, notMaintainable("a LATERAL subquery may only be joined by a comma, CROSS JOIN, an inner JOIN or a LEFT JOIN")
	}
	text, counts, err := lateralQuery(sel, append(slices.Clip(innerKeys), exported...), rest)
	if err != nil {
		return nil, true, err
	}
	if counts != nil {
		// An aggregate without GROUP BY has a row for every outer row.
		if !onTrue {
			return nil, true, notMaintainable("a LATERAL aggregate without GROUP BY may only be joined ON true")
		}
		left = true
	}
	q, err := parseRewrite(text, "a LATERAL subquery")
	if err != nil {
		return nil, true, err
	}
	// The join of l with the rewritten subquery, ON its key columns
	// equal to the outer expressions (and the other conditions, and the
	// join's own ON).
	var on ast.ExprNode
	for i, o := range outerKeys {
		eq := &ast.BinaryOperationExpr{Op: opcode.EQ, L: latColumn(alias, i), R: o}
		on = andExpr(on, eq)
	}
	if moved != nil {
		on = andExpr(on, moved)
	}
	if !onTrue {
		on = andExpr(on, j.On.Expr)
	}
	tp := ast.CrossJoin
	if left {
		tp = ast.LeftJoin
	}
	nj := &ast.Join{
		Left:  j.Left,
		Right: &ast.TableSource{Source: q, AsName: alias, ColumnNames: ts.ColumnNames},
		Tp:    tp,
		On:    &ast.OnCondition{Expr: on},
	}
	if rel, err = b.viewJoinOf(nj, l); err != nil {
		// The outer columns the rest of the subquery reads (its select
		// list, GROUP BY, ORDER BY) are names its own FROM lacks.
		return nil, true, correlatedLateral(err)
	}
	// The key columns (and a top-N's number) are the rewrite's, not part
	// of the subquery's *.
	for i := len(l.sc.cols); i < len(rel.sc.cols); i++ {
		if strings.HasPrefix(rel.sc.cols[i].name, latPrefix) {
			rel.sc.cols[i].hidden = true
		}
	}
	if len(counts) > 0 {
		// count() of no rows is 0, not the NULL of an unmatched row.
		p := &views.Project{Input: rel.node}
		lw := len(l.sc.cols)
		for i, c := range rel.sc.cols {
			var e exec.Expr = &exec.ColRef{Idx: i, T: c.t, Name: c.name}
			if i >= lw && counts[i-lw] {
				e = &exec.Coalesce{Args: []exec.Expr{e, &exec.Const{Val: int64(0), T: c.t}}, T: c.t}
			}
			p.Exprs = append(p.Exprs, e)
		}
		rel = &viewRel{node: p, sc: rel.sc, rank: rel.rank}
	}
	return rel, true, nil
}

// lateralQuery writes the decorrelated subquery: sel without its
// correlated conjuncts (rest are the others), with the subquery's sides of
// them (keys) as the columns ?lat0, ?lat1, ... It also returns which of
// its columns are counts, for an aggregate without GROUP BY only (nil
// otherwise): its unmatched outer rows must read 0, and its join must be a
// LEFT one.
func lateralQuery(sel *ast.SelectStmt, keys, rest []ast.ExprNode) (text string, counts []bool, err error) {
	switch {
	case sel.With != nil:
		return "", nil, notMaintainable("WITH in a LATERAL subquery is not supported")
	case sel.WindowSpecs != nil || windowIn(sel.Fields) != nil:
		// Its numbering would run over every key's rows at once.
		return "", nil, notMaintainable("window functions in a LATERAL subquery are not supported")
	case len(sel.Fields.Fields) > 0 && isDistinctOn(sel.Fields):
		return "", nil, notMaintainable("DISTINCT ON in a LATERAL subquery is not supported")
	case sel.Limit != nil && sel.OrderBy == nil:
		return "", nil, notMaintainable("LIMIT without ORDER BY picks arbitrary rows")
	case sel.Limit != nil && (sel.Distinct || sel.GroupBy != nil || hasAggregate(sel.Fields)):
		return "", nil, notMaintainable("a LATERAL subquery with LIMIT may not group or be DISTINCT")
	}
	var fields []string
	for _, f := range sel.Fields.Fields {
		s := restore(f)
		if s == "" {
			return "", nil, errLateralRestore
		}
		fields = append(fields, s)
	}
	var keyCols, keyText []string
	for i, k := range keys {
		s := restore(k)
		if s == "" {
			return "", nil, errLateralRestore
		}
		keyText = append(keyText, s)
		keyCols = append(keyCols, fmt.Sprintf(`%s AS "%s%d"`, s, latPrefix, i))
	}
	from := restore(sel.From.TableRefs)
	if from == "" {
		return "", nil, errLateralRestore
	}
	where := ""
	if len(rest) > 0 {
		var parts []string
		for _, r := range rest {
			parts = append(parts, "("+restore(r)+")")
		}
		where = " WHERE " + strings.Join(parts, " AND ")
	}
	distinct := ""
	if sel.Distinct {
		distinct = "DISTINCT "
	}
	if sel.Limit != nil {
		// A top-N per key: row_number() over the keys, in the ORDER BY's
		// order (a select-list alias there named by its expression).
		var order []string
		for _, by := range sel.OrderBy.Items {
			e := by.Expr
			if c, isCol := e.(*ast.ColumnNameExpr); isCol && c.Name.Table.O == "" {
				for _, f := range sel.Fields.Fields {
					if f.AsName.L != "" && f.AsName.L == c.Name.Name.L {
						e = f.Expr
					}
				}
			}
			s := restore(&ast.ByItem{Expr: e, Desc: by.Desc, NullOrder: by.NullOrder})
			if s == "" {
				return "", nil, errLateralRestore
			}
			order = append(order, s)
		}
		// The bounds as numbers: a top-N's rank bound is a constant.
		count, offset := int64(0), int64(0)
		if c, err := strconv.ParseInt(restore(sel.Limit.Count), 10, 64); err == nil && c >= 0 {
			count = c
		} else {
			return "", nil, notMaintainable("LIMIT in a LATERAL subquery must be a constant")
		}
		if sel.Limit.Offset != nil {
			o, err := strconv.ParseInt(restore(sel.Limit.Offset), 10, 64)
			if err != nil || o < 0 {
				return "", nil, notMaintainable("OFFSET in a LATERAL subquery must be a constant")
			}
			offset = o
		}
		bound := fmt.Sprintf(`"%srn" <= %d`, latPrefix, offset+count)
		if offset > 0 {
			bound += fmt.Sprintf(` AND "%srn" > %d`, latPrefix, offset)
		}
		text = fmt.Sprintf(`SELECT %s FROM (SELECT %s, %s, row_number() OVER (PARTITION BY %s ORDER BY %s) AS "%srn" FROM %s%s) AS "%ss" WHERE %s`,
			topColumns(sel.Fields, len(keys)), strings.Join(fields, ", "), strings.Join(keyCols, ", "), strings.Join(keyText, ", "), strings.Join(order, ", "),
			latPrefix, from, where, latPrefix, bound)
		return text, nil, nil
	}
	// Without LIMIT, the subquery's ORDER BY means nothing to a join.
	text = fmt.Sprintf("SELECT %s%s, %s FROM %s%s", distinct, strings.Join(fields, ", "), strings.Join(keyCols, ", "), from, where)
	switch {
	case sel.GroupBy != nil:
		var items []string
		for _, it := range sel.GroupBy.Items {
			items = append(items, restore(it))
		}
		text += " GROUP BY " + strings.Join(append(items, keyText...), ", ")
	case hasAggregate(sel.Fields):
		if sel.Having != nil {
			return "", nil, notMaintainable("HAVING in a LATERAL aggregate without GROUP BY is not supported")
		}
		text += " GROUP BY " + strings.Join(keyText, ", ")
		for _, f := range sel.Fields.Fields {
			// Unmatched outer rows read the LEFT join's NULLs: right for
			// an aggregate of no rows but count's 0, which is put back,
			// and wrong for anything computed over an aggregate.
			name, bare := aggregateName(f.Expr)
			if !bare {
				return "", nil, notMaintainable("a LATERAL aggregate without GROUP BY must list aggregate calls only, not expressions over them")
			}
			counts = append(counts, name == "count")
		}
		for range keys {
			counts = append(counts, false)
		}
	}
	if sel.Having != nil {
		text += " HAVING " + restore(sel.Having.Expr)
	}
	return text, counts, nil
}

// topColumns lists the columns a LATERAL top-N's rewrite returns: the
// subquery's and the keys, without the row number, so that the top-N
// emits no numbers (a number the query never reads would renumber a
// partition's rows on every insertion above them). With a field whose
// name it cannot tell (a *, an expression without AS) it is *, number
// included.
func topColumns(fl *ast.FieldList, keys int) string {
	var cols []string
	for _, f := range fl.Fields {
		switch c, isCol := f.Expr.(*ast.ColumnNameExpr); {
		case f.WildCard != nil:
			return "*"
		case f.AsName.O != "":
			cols = append(cols, quoteName(f.AsName.O))
		case isCol:
			cols = append(cols, quoteName(c.Name.Name.O))
		default:
			return "*"
		}
	}
	seen := map[string]bool{}
	for _, c := range cols {
		if seen[c] {
			return "*" // a name twice: ambiguous outside
		}
		seen[c] = true
	}
	for i := 0; i < keys; i++ {
		cols = append(cols, fmt.Sprintf(`"%s%d"`, latPrefix, i))
	}
	return strings.Join(cols, ", ")
}

func quoteName(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// isDistinctOn reports whether a select list is DISTINCT ON's (the front
// end's pg_distinct_on marker first, splitDistinctOn).
func isDistinctOn(fl *ast.FieldList) bool {
	_, on := splitDistinctOn(fl)
	return on != nil
}

// parseRewrite parses the SQL a view rewrite wrote (in the translated
// dialect restore writes); what names the rewrite in an error, which is
// Strand's own (XX000), never the user's.
func parseRewrite(text, what string) (*ast.SelectStmt, error) {
	n, err := sql.ParseTranslated(text)
	if err != nil {
		return nil, pgerr.Wrap(err, pgerr.InternalError, "planning "+what)
	}
	q, ok := n.(*ast.SelectStmt)
	if !ok {
		return nil, pgerr.New(pgerr.InternalError, "planning %s: the rewritten query is no SELECT", what)
	}
	return q, nil
}

var errLateralRestore = notMaintainable("this LATERAL subquery could not be rewritten as a join")

// correlatedLateral turns a name the subquery's FROM could not find into
// the refusal it most likely is: a FROM item of the subquery that reads
// the outer items.
func correlatedLateral(err error) error {
	var pe *pgerr.Error
	if errors.As(err, &pe) && (pe.Code == pgerr.UndefinedColumn || pe.Code == pgerr.UndefinedTable) {
		return notMaintainable("a LATERAL subquery may read the FROM items before it only in equalities of its WHERE (%s)", pe.Message)
	}
	return err
}

func andExpr(a, b ast.ExprNode) ast.ExprNode {
	if a == nil {
		return b
	}
	return &ast.BinaryOperationExpr{Op: opcode.LogicAnd, L: a, R: b}
}

// latColumn names the rewritten subquery's hidden column ?lat<i>.
func latColumn(alias ast.CIStr, i int) *ast.ColumnNameExpr {
	return &ast.ColumnNameExpr{Name: &ast.ColumnName{Table: alias, Name: ast.NewCIStr(fmt.Sprintf("%s%d", latPrefix, i))}}
}

// lateralConditions rewrites a LATERAL subquery's conditions on the outer
// rows other than equalities (e.ts BETWEEN o.ts - interval '1 hour' AND
// o.ts) for the join's ON, and returns them ANDed: each of the subquery's
// own columns in them (those its FROM, in scope sc, names) becomes a
// hidden column of the rewritten subquery (alias), ?lat<first>, ... one per
// column however often it appears, so that e.ts > o.a AND e.ts < o.b bound
// one column; cols are those columns as the subquery's select list
// computes them. An unqualified column of the outer rows (scope outer) is
// qualified with its table, as the subquery's own columns may share its
// name in the ON. Each condition is parsed again from its text, so the
// shared statement is not changed.
func (b *Builder) lateralConditions(conds []ast.ExprNode, sc, outer *scope, alias ast.CIStr, first int) (cond ast.ExprNode, cols []ast.ExprNode, err error) {
	r := &lateralRefs{
		own:   &exprBinder{b: b, scope: &scope{cols: sc.cols}, what: "WHERE"},
		outer: &exprBinder{b: b, scope: outer, what: "WHERE"},
		alias: alias, first: first, byCol: map[int]int{},
	}
	for _, c := range conds {
		text := restore(c)
		if text == "" {
			return nil, nil, errLateralRestore
		}
		q, err := parseRewrite("SELECT "+text, "a LATERAL subquery")
		if err != nil || len(q.Fields.Fields) != 1 {
			return nil, nil, errLateralRestore
		}
		out, _ := q.Fields.Fields[0].Expr.Accept(r)
		if r.err != nil {
			return nil, nil, r.err
		}
		cond = andExpr(cond, out.(ast.ExprNode))
	}
	return cond, r.cols, nil
}

// lateralRefs replaces the subquery's own columns in a condition with
// the hidden columns that carry them out of it.
type lateralRefs struct {
	own, outer *exprBinder
	alias      ast.CIStr
	first      int
	// cols are the exported columns; byCol gives, per column of the
	// subquery's FROM, its place among them.
	cols  []ast.ExprNode
	byCol map[int]int
	err   error
}

func (v *lateralRefs) Enter(n ast.Node) (ast.Node, bool) {
	if _, isSub := n.(*ast.SubqueryExpr); isSub {
		v.err = notMaintainable("a LATERAL subquery's condition on the outer rows may not hold a subquery")
		return n, true
	}
	return n, false
}

func (v *lateralRefs) Leave(n ast.Node) (ast.Node, bool) {
	c, isCol := n.(*ast.ColumnNameExpr)
	if !isCol || v.err != nil {
		return n, v.err == nil
	}
	e, err := v.own.bind(c)
	if err != nil {
		return v.outerColumn(c, err)
	}
	ref, isRef := e.(*exec.ColRef)
	if !isRef {
		v.err = errLateralRestore
		return n, false
	}
	i, seen := v.byCol[ref.Idx]
	if !seen {
		i = len(v.cols)
		v.byCol[ref.Idx] = i
		v.cols = append(v.cols, &ast.ColumnNameExpr{Name: &ast.ColumnName{Table: c.Name.Table, Name: c.Name.Name}})
	}
	return latColumn(v.alias, v.first+i), true
}

// outerColumn keeps a column the subquery's FROM does not name (err says
// so): the outer rows', qualified with its table when it was not.
func (v *lateralRefs) outerColumn(c *ast.ColumnNameExpr, err error) (ast.Node, bool) {
	var pe *pgerr.Error
	if !errors.As(err, &pe) || pe.Code != pgerr.UndefinedColumn && pe.Code != pgerr.UndefinedTable {
		v.err = err
		return c, false
	}
	if c.Name.Table.O != "" {
		return c, true
	}
	e, err := v.outer.bind(c)
	ref, isRef := e.(*exec.ColRef)
	if err != nil || !isRef || v.outer.scope.cols[ref.Idx].table == "" {
		return c, true
	}
	return &ast.ColumnNameExpr{Name: &ast.ColumnName{Table: ast.NewCIStr(v.outer.scope.cols[ref.Idx].table), Name: c.Name.Name}}, true
}
