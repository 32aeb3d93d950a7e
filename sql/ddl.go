package sql

import (
	"strconv"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/strand-db/strand/sql/pgerr"
)

func (sp *stmtParser) ifNotExists() bool {
	if sp.peek().is("if") && sp.peekN(1).is("not") && sp.peekN(2).is("exists") {
		sp.i += 3
		return true
	}
	return false
}

func (sp *stmtParser) ifExists() bool {
	if sp.peek().is("if") && sp.peekN(1).is("exists") {
		sp.i += 2
		return true
	}
	return false
}

func (sp *stmtParser) create() (Statement, error) {
	sp.next()
	orReplace := false
	if sp.peek().is("or") && sp.peekN(1).is("replace") {
		sp.i += 2
		orReplace = true
	}
	tok := sp.next()
	switch {
	case tok.is("materialized"):
		if err := sp.expect("view"); err != nil {
			return nil, err
		}
		return sp.createMaterializedView(orReplace)
	case tok.is("view"):
		return sp.createView(orReplace)
	case tok.is("recursive") && sp.peek().is("view"):
		return nil, sp.unsupported(tok, "CREATE RECURSIVE VIEW")
	case (tok.is("temp") || tok.is("temporary")) && sp.peek().is("view"):
		return nil, sp.unsupported(tok, "CREATE TEMPORARY VIEW")
	case orReplace:
		return nil, sp.unsupported(tok, "CREATE OR REPLACE "+strings.ToUpper(tok.Text))
	case tok.is("table"):
		return sp.createTable()
	case tok.is("sequence"):
		st := &CreateSequence{IfNotExists: sp.ifNotExists()}
		var err error
		if st.Name, err = sp.objectName(); err != nil {
			return nil, err
		}
		if err := sp.sequenceOptions(&st.Options); err != nil {
			return nil, err
		}
		return st, sp.end()
	case tok.is("schema"):
		st := &CreateSchema{IfNotExists: sp.ifNotExists()}
		var err error
		if st.Name, err = sp.ident(); err != nil {
			return nil, err
		}
		if a := sp.peek(); a.is("authorization") {
			return nil, sp.unsupported(a, "CREATE SCHEMA ... AUTHORIZATION")
		}
		return st, sp.end()
	case tok.is("role"), tok.is("user"):
		return sp.role(false, tok.is("user"))
	case tok.is("temp"), tok.is("temporary"), tok.is("unlogged"):
		return nil, sp.unsupported(tok, strings.ToUpper(tok.Text)+" tables")
	case tok.is("index"), tok.is("unique") && sp.peek().is("index"):
		// Said plainly, for the PostgreSQL user whose script makes one
		// (a materialized view's unique index, for REFRESH CONCURRENTLY).
		return nil, errAt(sp.src, tok.Pos, pgerr.FeatureNotSupported, "CREATE INDEX is not supported").WithHint(
			"A table's rows are kept in its primary key's order and a materialized view's in its key's (EXPLAIN CREATE MATERIALIZED VIEW shows it); lookups by a leading run of that key read a range. REFRESH MATERIALIZED VIEW needs no index: views are always fresh.")
	}
	return nil, sp.unsupported(tok, "CREATE "+strings.ToUpper(tok.Text))
}

func (sp *stmtParser) createMaterializedView(orReplace bool) (Statement, error) {
	st := &CreateMaterializedView{OrReplace: orReplace, IfNotExists: sp.ifNotExists()}
	var err error
	if st.Name, st.Columns, err = sp.viewName(); err != nil {
		return nil, err
	}
	if w := sp.peek(); w.is("with") && sp.i+1 < len(sp.toks) && sp.toks[sp.i+1].isPunct("(") {
		sp.next()
		if st.Options, err = sp.optionList(); err != nil {
			return nil, err
		}
	}
	if w := sp.peek(); w.is("tablespace") || w.is("using") {
		return nil, sp.unsupported(w, "materialized view storage options")
	}
	if err := sp.expect("as"); err != nil {
		return nil, err
	}
	from := sp.i
	to := sp.findWithData(from)
	if to < len(sp.toks) {
		// WITH DATA is what every view is; WITH NO DATA is refused.
		sp.i = to
		if err := sp.withData(); err != nil {
			return nil, err
		}
		if err := sp.end(); err != nil {
			return nil, err
		}
	}
	if st.Query, st.QueryText, err = sp.definition(from, to); err != nil {
		return nil, err
	}
	return st, nil
}

// findWithData finds the WITH DATA or WITH NO DATA that may end a query
// from toks[from] (len(toks) when there is none).
func (sp *stmtParser) findWithData(from int) int {
	return sp.findTop(from, func(i int) bool {
		return sp.toks[i].is("with") && i+1 < len(sp.toks) && (sp.toks[i+1].is("data") || sp.toks[i+1].is("no"))
	})
}

// viewName reads a view's name and its optional column list.
func (sp *stmtParser) viewName() (ObjectName, []string, error) {
	name, err := sp.objectName()
	if err != nil || !sp.peek().isPunct("(") {
		return name, nil, err
	}
	cols, err := sp.identList()
	return name, cols, err
}

// definition parses a view's query, toks[from:to], and returns it with
// its text as written.
func (sp *stmtParser) definition(from, to int) (ast.ResultSetNode, string, error) {
	if from >= to {
		return nil, "", sp.syntaxErr(sp.peek())
	}
	q, err := sp.resultSet(from, to)
	if err != nil {
		return nil, "", err
	}
	return q, sp.src[sp.toks[from].Pos:sp.toks[to-1].End], nil
}

// nameListThenAs reports whether the tokens at the current "(" are a
// list of names followed by AS: CREATE TABLE t (a, b) AS query.
func (sp *stmtParser) nameListThenAs() bool {
	i := sp.i + 1
	for i+1 < len(sp.toks) {
		if k := sp.toks[i].Kind; k != TokIdent && k != TokQuotedIdent {
			return false
		}
		switch {
		case sp.toks[i+1].isPunct(","):
			i += 2
		case sp.toks[i+1].isPunct(")"):
			return i+2 < len(sp.toks) && sp.toks[i+2].is("as")
		default:
			return false
		}
	}
	return false
}

// createTableAs parses the rest of CREATE TABLE name [(col, ...)] AS
// query [WITH [NO] DATA].
func (sp *stmtParser) createTableAs(ct *CreateTable) (Statement, error) {
	st := &CreateTableAs{Name: ct.Name, IfNotExists: ct.IfNotExists, WithData: true}
	if sp.peek().isPunct("(") {
		var err error
		if st.Columns, err = sp.identList(); err != nil {
			return nil, err
		}
	}
	if err := sp.expect("as"); err != nil {
		return nil, err
	}
	from := sp.i
	to := sp.findWithData(from)
	if to < len(sp.toks) {
		sp.i = to + 1
		st.WithData = !sp.accept("no")
		if err := sp.expect("data"); err != nil {
			return nil, err
		}
		if err := sp.end(); err != nil {
			return nil, err
		}
	}
	var err error
	if st.Query, st.QueryText, err = sp.definition(from, to); err != nil {
		return nil, err
	}
	return st, nil
}

// createView parses CREATE [OR REPLACE] VIEW name [(col, ...)] AS query.
// Views are read-only here, so WITH CHECK OPTION (which constrains writes
// through a view) and view options are refused.
func (sp *stmtParser) createView(orReplace bool) (Statement, error) {
	st := &CreateView{OrReplace: orReplace}
	var err error
	if st.Name, st.Columns, err = sp.viewName(); err != nil {
		return nil, err
	}
	if w := sp.peek(); w.is("with") {
		return nil, sp.unsupported(w, "CREATE VIEW ... WITH (options)")
	}
	if err := sp.expect("as"); err != nil {
		return nil, err
	}
	from := sp.i
	to := sp.findTop(from, func(i int) bool {
		return sp.toks[i].is("with") && i+2 < len(sp.toks) && (sp.toks[i+1].is("check") ||
			(sp.toks[i+1].is("cascaded") || sp.toks[i+1].is("local")) && sp.toks[i+2].is("check"))
	})
	if to < len(sp.toks) {
		// Views are not updatable, so there are no writes to check.
		return nil, sp.unsupported(sp.toks[to], "WITH CHECK OPTION")
	}
	if st.Query, st.QueryText, err = sp.definition(from, to); err != nil {
		return nil, err
	}
	return st, nil
}

// refresh parses REFRESH MATERIALIZED VIEW [CONCURRENTLY] name
// [WITH [NO] DATA]. Views are maintained inside every write, so a refresh
// has nothing to do, concurrently or not.
func (sp *stmtParser) refresh() (Statement, error) {
	sp.next()
	if err := sp.expectWords("materialized", "view"); err != nil {
		return nil, err
	}
	st := &RefreshMaterializedView{Concurrently: sp.accept("concurrently")}
	var err error
	if st.Name, err = sp.objectName(); err != nil {
		return nil, err
	}
	if sp.peek().is("with") {
		if err := sp.withData(); err != nil {
			return nil, err
		}
	}
	return st, sp.end()
}

// withData reads the WITH DATA that ends CREATE and REFRESH MATERIALIZED
// VIEW. WITH NO DATA (an unpopulated view, unreadable until refreshed)
// has no counterpart: a view is populated from its creation on.
func (sp *stmtParser) withData() error {
	if err := sp.expect("with"); err != nil {
		return err
	}
	if no := sp.peek(); no.is("no") {
		return errAt(sp.src, no.Pos, pgerr.FeatureNotSupported, "WITH NO DATA is not supported").
			WithDetail("Materialized views are maintained inside every write: a view is populated from its creation on.").
			WithHint("Omit WITH NO DATA.")
	}
	return sp.expect("data")
}

// createTable parses CREATE TABLE itself: column types are PostgreSQL's,
// read from tokens; only DEFAULT and CHECK expressions go through TiDB.
func (sp *stmtParser) createTable() (Statement, error) {
	st := &CreateTable{IfNotExists: sp.ifNotExists()}
	var err error
	if st.Name, err = sp.objectName(); err != nil {
		return nil, err
	}
	if sp.peek().is("as") || sp.peek().isPunct("(") && sp.nameListThenAs() {
		return sp.createTableAs(st)
	}
	if a := sp.peek(); a.is("partition") || a.is("of") {
		return nil, sp.unsupported(a, "CREATE TABLE "+strings.ToUpper(a.Text))
	}
	if err := sp.expectPunct("("); err != nil {
		return nil, err
	}
	for !sp.peek().isPunct(")") {
		if err := sp.tableElement(st); err != nil {
			return nil, err
		}
		if !sp.acceptPunct(",") {
			break
		}
	}
	if err := sp.expectPunct(")"); err != nil {
		return nil, err
	}
	appendOnly := false
	for !sp.eof() {
		tok := sp.next()
		switch {
		case tok.is("append"):
			if err := sp.expect("only"); err != nil {
				return nil, err
			}
			if appendOnly {
				return nil, sp.syntaxErr(tok)
			}
			appendOnly = true
			// APPEND ONLY without KEY is a stream with no key columns,
			// which is what a table without a primary key is already.
			if !sp.peek().is("key") {
				continue
			}
			sp.next()
			if st.AppendOnlyKey, err = sp.identList(); err != nil {
				return nil, err
			}
		case tok.is("with"):
			if st.Options, err = sp.optionList(); err != nil {
				return nil, err
			}
		default:
			return nil, sp.unsupported(tok, "CREATE TABLE ... "+strings.ToUpper(sp.src[tok.Pos:tok.End]))
		}
	}
	if appendOnly && st.PrimaryKey != nil {
		return nil, errAt(sp.src, sp.toks[0].Pos, pgerr.InvalidTableDefinition, "an APPEND ONLY table cannot have a PRIMARY KEY")
	}
	return st, nil
}

// optionList reads ( name = value, ... ).
func (sp *stmtParser) optionList() ([]Option, error) {
	if err := sp.expectPunct("("); err != nil {
		return nil, err
	}
	var opts []Option
	for {
		name, err := sp.ident()
		if err != nil {
			return nil, err
		}
		for sp.acceptPunct(".") {
			n, err := sp.ident()
			if err != nil {
				return nil, err
			}
			name += "." + n
		}
		o := Option{Name: name, Value: "true"}
		if sp.peek().isOp("=") {
			sp.next()
			if o.Value, err = sp.optionValue(); err != nil {
				return nil, err
			}
		}
		opts = append(opts, o)
		if !sp.acceptPunct(",") {
			break
		}
	}
	return opts, sp.expectPunct(")")
}

// optionValue reads a string, a number (with sign) or a word as text.
func (sp *stmtParser) optionValue() (string, error) {
	tok := sp.next()
	switch tok.Kind {
	case TokString, TokIdent, TokQuotedIdent, TokNumber:
		return tok.Text, nil
	case TokOp:
		if (tok.Text == "-" || tok.Text == "+") && sp.peek().Kind == TokNumber {
			n := sp.next()
			if tok.Text == "-" {
				return "-" + n.Text, nil
			}
			return n.Text, nil
		}
	}
	return "", sp.syntaxErr(tok)
}

func (sp *stmtParser) tableElement(st *CreateTable) error {
	tok := sp.peek()
	cname := ""
	if tok.is("constraint") {
		sp.next()
		var err error
		if cname, err = sp.ident(); err != nil {
			return err
		}
		tok = sp.peek()
	}
	switch {
	case tok.is("primary"):
		sp.next()
		if err := sp.expect("key"); err != nil {
			return err
		}
		if st.PrimaryKey != nil {
			return errAt(sp.src, tok.Pos, pgerr.InvalidTableDefinition, "multiple primary keys for table %q are not allowed", st.Name.Name)
		}
		cols, err := sp.identList()
		if err != nil {
			return err
		}
		st.PrimaryKey = cols
		return nil
	case tok.is("check"):
		sp.next()
		c, err := sp.check(cname)
		if err != nil {
			return err
		}
		st.Checks = append(st.Checks, c)
		return nil
	case tok.is("unique"), tok.is("foreign"), tok.is("exclude"), tok.is("like"):
		return sp.unsupported(tok, strings.ToUpper(tok.Text)+" table constraints")
	}
	if cname != "" {
		return sp.syntaxErr(tok)
	}
	col, err := sp.columnDef()
	if err != nil {
		return err
	}
	for _, c := range st.Columns {
		if c.Name == col.Name {
			return errAt(sp.src, tok.Pos, pgerr.DuplicateColumn, "column %q specified more than once", col.Name)
		}
	}
	if col.PrimaryKey {
		if st.PrimaryKey != nil {
			return errAt(sp.src, tok.Pos, pgerr.InvalidTableDefinition, "multiple primary keys for table %q are not allowed", st.Name.Name)
		}
		st.PrimaryKey = []string{col.Name}
	}
	st.Columns = append(st.Columns, col)
	return nil
}

// check reads ( expr ) after CHECK.
func (sp *stmtParser) check(name string) (Check, error) {
	if err := sp.expectPunct("("); err != nil {
		return Check{}, err
	}
	n, err := sp.expr()
	if err != nil {
		return Check{}, err
	}
	if err := sp.expectPunct(")"); err != nil {
		return Check{}, err
	}
	e, err := sp.exprNode(n)
	if err != nil {
		return Check{}, err
	}
	if nk := sp.peek(); nk.is("no") {
		return Check{}, sp.unsupported(nk, "NO INHERIT")
	}
	return Check{Name: name, Expr: e}, nil
}

// columnDef reads name type [constraints].
func (sp *stmtParser) columnDef() (*ColumnDef, error) {
	name, err := sp.ident()
	if err != nil {
		return nil, err
	}
	col := &ColumnDef{Name: name}
	if col.Type, err = sp.typeName(); err != nil {
		return nil, err
	}
	for {
		tok := sp.peek()
		cname := ""
		if tok.is("constraint") {
			sp.next()
			if cname, err = sp.ident(); err != nil {
				return nil, err
			}
			tok = sp.peek()
		}
		switch {
		case tok.is("not"):
			sp.next()
			if err := sp.expect("null"); err != nil {
				return nil, err
			}
			col.NotNull = true
		case tok.is("null"):
			sp.next()
		case tok.is("primary"):
			sp.next()
			if err := sp.expect("key"); err != nil {
				return nil, err
			}
			col.PrimaryKey = true
		case tok.is("default"):
			sp.next()
			if col.Default != nil {
				return nil, errAt(sp.src, tok.Pos, pgerr.SyntaxError, "multiple default values specified for column %q", name)
			}
			n, err := sp.exprBP(bpIs)
			if err != nil {
				return nil, err
			}
			if col.Default, err = sp.exprNode(n); err != nil {
				return nil, err
			}
		case tok.is("check"):
			sp.next()
			c, err := sp.check(cname)
			if err != nil {
				return nil, err
			}
			col.Checks = append(col.Checks, c)
		case tok.is("generated") && (sp.peekN(1).is("by") || sp.peekN(1).is("always")):
			// GENERATED {BY DEFAULT | ALWAYS} AS IDENTITY [(options)].
			sp.next()
			col.Identity = "always"
			if sp.accept("by") {
				if err := sp.expect("default"); err != nil {
					return nil, err
				}
				col.Identity = "default"
			} else {
				sp.next()
			}
			if err := sp.expect("as"); err != nil {
				return nil, err
			}
			if i := sp.peek(); !i.is("identity") {
				return nil, sp.unsupported(i, "GENERATED ... AS (expression)")
			}
			sp.next()
			if sp.acceptPunct("(") {
				if err := sp.sequenceOptions(&col.Seq); err != nil {
					return nil, err
				}
				if err := sp.expectPunct(")"); err != nil {
					return nil, err
				}
			}
		case tok.is("unique"), tok.is("references"), tok.is("generated"), tok.is("collate"), tok.is("deferrable"):
			return nil, sp.unsupported(tok, "column constraint "+strings.ToUpper(tok.Text))
		default:
			if cname != "" {
				return nil, sp.syntaxErr(tok)
			}
			return col, nil
		}
	}
}

func (sp *stmtParser) drop() (Statement, error) {
	sp.next()
	tok := sp.next()
	st := &Drop{}
	switch {
	case tok.is("table"):
		st.Kind = ObjTable
	case tok.is("schema"):
		st.Kind = ObjSchema
	case tok.is("materialized"):
		if err := sp.expect("view"); err != nil {
			return nil, err
		}
		st.Kind = ObjMaterializedView
	case tok.is("view"):
		st.Kind = ObjView
	case tok.is("sequence"):
		st.Kind = ObjSequence
	case tok.is("role"), tok.is("user"):
		st.Kind = ObjRole
	default:
		return nil, sp.unsupported(tok, "DROP "+strings.ToUpper(sp.src[tok.Pos:tok.End]))
	}
	st.IfExists = sp.ifExists()
	for {
		var n ObjectName
		var err error
		if st.Kind == ObjSchema || st.Kind == ObjRole {
			n.Name, err = sp.ident()
		} else {
			n, err = sp.objectName()
		}
		if err != nil {
			return nil, err
		}
		st.Names = append(st.Names, n)
		if !sp.acceptPunct(",") {
			break
		}
	}
	if st.Kind != ObjRole {
		if sp.accept("cascade") {
			st.Cascade = true
		} else {
			sp.accept("restrict")
		}
	}
	return st, sp.end()
}

func (sp *stmtParser) alter() (Statement, error) {
	sp.next()
	tok := sp.next()
	switch {
	case tok.is("role"), tok.is("user"):
		return sp.role(true, tok.is("user"))
	case tok.is("sequence"):
		st := &AlterSequence{IfExists: sp.ifExists()}
		var err error
		if st.Name, err = sp.objectName(); err != nil {
			return nil, err
		}
		if r := sp.peek(); !r.is("restart") {
			return nil, sp.unsupported(r, "ALTER SEQUENCE other than RESTART")
		}
		sp.next()
		sp.accept("with")
		if n := sp.peek(); n.Kind == TokNumber || n.isOp("-") {
			neg := sp.peek().isOp("-")
			if neg {
				sp.next()
			}
			t := sp.next()
			v, err := strconv.ParseInt(t.Text, 10, 64)
			if err != nil {
				return nil, sp.syntaxErr(t)
			}
			if neg {
				v = -v
			}
			st.Restart = &v
		}
		return st, sp.end()
	case tok.is("table"):
	case tok.is("materialized") && sp.peek().is("view"), tok.is("view"):
		// ALTER [MATERIALIZED] VIEW [IF EXISTS] v RENAME TO w, or
		// RENAME [COLUMN] c TO d: the only actions views take.
		st := &AlterTable{Object: ObjView}
		if tok.is("materialized") {
			sp.next()
			st.Object = ObjMaterializedView
		}
		st.IfExists = sp.ifExists()
		var err error
		if st.Name, err = sp.objectName(); err != nil {
			return nil, err
		}
		if r := sp.peek(); !r.is("rename") {
			what := "ALTER VIEW other than RENAME"
			if st.Object == ObjMaterializedView {
				what = "ALTER MATERIALIZED VIEW other than RENAME"
			}
			return nil, sp.unsupported(r, what)
		}
		a, err := sp.alterAction()
		if err != nil {
			return nil, err
		}
		st.Actions = []AlterAction{a}
		return st, sp.end()
	default:
		return nil, sp.unsupported(tok, "ALTER "+strings.ToUpper(sp.src[tok.Pos:tok.End]))
	}
	st := &AlterTable{Object: ObjTable, IfExists: sp.ifExists()}
	if o := sp.peek(); o.is("only") {
		sp.next()
	}
	var err error
	if st.Name, err = sp.objectName(); err != nil {
		return nil, err
	}
	for {
		a, err := sp.alterAction()
		if err != nil {
			return nil, err
		}
		st.Actions = append(st.Actions, a)
		if a.Kind == AlterRenameColumn || a.Kind == AlterRenameTable || !sp.acceptPunct(",") {
			break
		}
	}
	return st, sp.end()
}

func (sp *stmtParser) alterAction() (AlterAction, error) {
	tok := sp.next()
	var a AlterAction
	var err error
	switch {
	case tok.is("add"):
		if c := sp.peek(); c.is("constraint") || c.is("primary") || c.is("check") || c.is("unique") || c.is("foreign") {
			return a, sp.unsupported(c, "ALTER TABLE ADD constraint")
		}
		sp.accept("column")
		a.Kind = AlterAddColumn
		a.IfNotExists = sp.ifNotExists()
		a.Column, err = sp.columnDef()
		return a, err
	case tok.is("drop"):
		if c := sp.peek(); c.is("constraint") {
			return a, sp.unsupported(c, "ALTER TABLE DROP CONSTRAINT")
		}
		sp.accept("column")
		a.Kind = AlterDropColumn
		a.IfExists = sp.ifExists()
		if a.Name, err = sp.ident(); err != nil {
			return a, err
		}
		if sp.accept("cascade") {
			a.Cascade = true
		} else {
			sp.accept("restrict")
		}
		return a, nil
	case tok.is("rename"):
		if sp.accept("to") {
			a.Kind = AlterRenameTable
			a.NewName, err = sp.ident()
			return a, err
		}
		if c := sp.peek(); c.is("constraint") {
			return a, sp.unsupported(c, "ALTER TABLE RENAME CONSTRAINT")
		}
		sp.accept("column")
		a.Kind = AlterRenameColumn
		if a.Name, err = sp.ident(); err != nil {
			return a, err
		}
		if err := sp.expect("to"); err != nil {
			return a, err
		}
		a.NewName, err = sp.ident()
		return a, err
	case tok.is("alter"):
		sp.accept("column")
		if a.Name, err = sp.ident(); err != nil {
			return a, err
		}
		switch w := sp.next(); {
		case w.is("set") && sp.accept("default"):
			n, err := sp.exprBP(bpIs)
			if err != nil {
				return a, err
			}
			a.Kind, a.Column = AlterSetDefault, &ColumnDef{Name: a.Name}
			a.Column.Default, err = sp.exprNode(n)
			return a, err
		case w.is("drop") && sp.accept("default"):
			a.Kind = AlterDropDefault
			return a, nil
		case w.is("drop") && sp.peek().is("not") && sp.peekN(1).is("null"):
			sp.i += 2
			a.Kind = AlterDropNotNull
			return a, nil
		default:
			return a, errAt(sp.src, w.Pos, pgerr.FeatureNotSupported, "ALTER TABLE ALTER COLUMN %s is not supported", strings.ToUpper(w.Text)).
				WithHint("ALTER COLUMN takes SET DEFAULT, DROP DEFAULT and DROP NOT NULL.")
		}
	case (tok.is("set") || tok.is("reset")) && sp.peek().isPunct("("):
		a.Kind = AlterSetOptions
		if tok.is("reset") {
			a.Kind = AlterResetOptions
		}
		a.Options, err = sp.optionList()
		return a, err
	}
	return a, sp.unsupported(tok, "ALTER TABLE "+strings.ToUpper(sp.src[tok.Pos:tok.End]))
}

// role parses CREATE/ALTER ROLE|USER name [WITH] options.
func (sp *stmtParser) role(alter, user bool) (Statement, error) {
	st := &Role{Alter: alter, User: user}
	var err error
	if st.Name, err = sp.ident(); err != nil {
		return nil, err
	}
	if alter {
		if r := sp.peek(); r.is("rename") || r.is("set") || r.is("reset") || r.is("in") {
			return nil, sp.unsupported(r, "ALTER ROLE "+strings.ToUpper(r.Text))
		}
	}
	sp.accept("with")
	for !sp.eof() {
		tok := sp.next()
		if tok.Kind != TokIdent {
			return nil, sp.syntaxErr(tok)
		}
		switch tok.Text {
		case "encrypted", "password":
			if tok.Text == "encrypted" {
				if err := sp.expect("password"); err != nil {
					return nil, err
				}
			}
			p := sp.next()
			switch {
			case p.Kind == TokString:
				s := p.Text
				st.Password = &s
			case p.is("null"):
				st.Password, st.PasswordNull = nil, true
			default:
				return nil, sp.syntaxErr(p)
			}
		case "login", "nologin", "superuser", "nosuperuser", "createdb", "nocreatedb", "createrole",
			"nocreaterole", "inherit", "noinherit", "replication", "noreplication", "bypassrls", "nobypassrls":
			st.Options = append(st.Options, Option{Name: strings.ToUpper(tok.Text)})
		case "connection":
			if err := sp.expect("limit"); err != nil {
				return nil, err
			}
			v, err := sp.optionValue()
			if err != nil {
				return nil, err
			}
			st.Options = append(st.Options, Option{Name: "CONNECTION LIMIT", Value: v})
		case "valid":
			if err := sp.expect("until"); err != nil {
				return nil, err
			}
			v := sp.next()
			if v.Kind != TokString {
				return nil, sp.syntaxErr(v)
			}
			st.Options = append(st.Options, Option{Name: "VALID UNTIL", Value: v.Text})
		default:
			return nil, sp.unsupported(tok, "role option "+strings.ToUpper(tok.Text))
		}
	}
	return st, nil
}

// truncate parses TRUNCATE [TABLE] [ONLY] name [*], ... [RESTART IDENTITY |
// CONTINUE IDENTITY] [CASCADE | RESTRICT].
func (sp *stmtParser) truncate() (Statement, error) {
	sp.next()
	sp.accept("table")
	st := &Truncate{}
	for {
		sp.accept("only")
		n, err := sp.objectName()
		if err != nil {
			return nil, err
		}
		if sp.peek().isOp("*") {
			sp.next()
		}
		st.Names = append(st.Names, n)
		if !sp.acceptPunct(",") {
			break
		}
	}
	if (sp.peek().is("restart") || sp.peek().is("continue")) && sp.peekN(1).is("identity") {
		st.RestartIdentity = sp.peek().is("restart")
		sp.i += 2
	}
	// CASCADE truncates the tables whose foreign keys reference these;
	// Strand has no foreign keys, so it is RESTRICT.
	if !sp.accept("cascade") {
		sp.accept("restrict")
	}
	return st, sp.end()
}

// sequenceOptions reads a sequence's options: [AS type] [INCREMENT [BY]
// n] [MINVALUE n | NO MINVALUE] [MAXVALUE n | NO MAXVALUE] [START [WITH]
// n] [CACHE n] [NO CYCLE], in any order. CYCLE is refused.
func (sp *stmtParser) sequenceOptions(o *SequenceOptions) error {
	num := func() (*int64, error) {
		neg := false
		if t := sp.peek(); t.isOp("-") {
			sp.next()
			neg = true
		}
		t := sp.next()
		v, err := strconv.ParseInt(t.Text, 10, 64)
		if t.Kind != TokNumber || err != nil {
			return nil, sp.syntaxErr(t)
		}
		if neg {
			v = -v
		}
		return &v, nil
	}
	for {
		t := sp.peek()
		var err error
		switch {
		case t.is("as"):
			sp.next()
			if o.Type, err = sp.typeName(); err != nil {
				return err
			}
		case t.is("increment"):
			sp.next()
			sp.accept("by")
			o.Increment, err = num()
		case t.is("minvalue"):
			sp.next()
			o.Min, err = num()
		case t.is("maxvalue"):
			sp.next()
			o.Max, err = num()
		case t.is("start"):
			sp.next()
			sp.accept("with")
			o.Start, err = num()
		case t.is("cache"):
			sp.next()
			_, err = num()
		case t.is("no") && (sp.peekN(1).is("minvalue") || sp.peekN(1).is("maxvalue") || sp.peekN(1).is("cycle")):
			sp.i += 2
		case t.is("cycle"):
			return sp.unsupported(t, "CYCLE")
		case t.is("owned"):
			return sp.unsupported(t, "OWNED BY")
		default:
			return nil
		}
		if err != nil {
			return err
		}
	}
}

// comment parses COMMENT ON {TABLE | VIEW | MATERIALIZED VIEW | SEQUENCE}
// name | COLUMN rel.col IS 'text' | NULL.
func (sp *stmtParser) comment() (Statement, error) {
	sp.next()
	if err := sp.expect("on"); err != nil {
		return nil, err
	}
	st := &Comment{}
	switch k := sp.next(); {
	case k.is("table"):
		st.Kind = ObjTable
	case k.is("view"):
		st.Kind = ObjView
	case k.is("materialized"):
		if err := sp.expect("view"); err != nil {
			return nil, err
		}
		st.Kind = ObjMaterializedView
	case k.is("sequence"):
		st.Kind = ObjSequence
	case k.is("schema"):
		st.Kind = ObjSchema
	case k.is("column"):
		// [schema.]relation.column
		st.Kind = ObjTable
		var parts []string
		for {
			p, err := sp.ident()
			if err != nil {
				return nil, err
			}
			parts = append(parts, p)
			if !sp.acceptPunct(".") {
				break
			}
		}
		switch len(parts) {
		case 2:
			st.Name, st.Column = ObjectName{Name: parts[0]}, parts[1]
		case 3:
			st.Name, st.Column = ObjectName{Schema: parts[0], Name: parts[1]}, parts[2]
		default:
			return nil, sp.syntaxErr(sp.peek())
		}
	default:
		return nil, sp.unsupported(k, "COMMENT ON "+strings.ToUpper(k.Text))
	}
	if st.Column == "" {
		var err error
		if st.Name, err = sp.objectName(); err != nil {
			return nil, err
		}
	}
	if err := sp.expect("is"); err != nil {
		return nil, err
	}
	if sp.accept("null") {
		return st, sp.end()
	}
	t := sp.next()
	if t.Kind != TokString {
		return nil, sp.syntaxErr(t)
	}
	text := t.Text
	st.Text = &text
	return st, sp.end()
}
