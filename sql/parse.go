package sql

import (
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/pingcap/tidb/pkg/parser"
	"github.com/pingcap/tidb/pkg/parser/ast"
	"github.com/pingcap/tidb/pkg/parser/mysql"
	"github.com/pingcap/tidb/pkg/parser/test_driver"
	"github.com/strand-db/strand/sql/pgerr"
)

// Parse parses a query string of one or more statements. Statements are
// served from a shared cache keyed by the query text: they must be treated
// as immutable. An error carries a SQLSTATE and a position relative to sql.
func Parse(sql string) ([]Statement, error) {
	return defaultCache.parse(sql)
}

// ParseUncached is Parse without the cache: the statements are fresh.
func ParseUncached(sql string) ([]Statement, error) {
	toks, err := Tokenize(sql)
	if err != nil {
		return nil, err
	}
	pieces := splitTokens(sql, toks)
	stmts := make([]Statement, 0, len(pieces))
	for _, p := range pieces {
		s, err := parsePiece(sql, p)
		if err != nil {
			return nil, err
		}
		stmts = append(stmts, s)
	}
	return stmts, nil
}

// sqlMode makes TiDB read the text the translator writes exactly: "x" is an
// identifier and backslashes in strings are literal. The translator never
// writes ||, so PIPES_AS_CONCAT is not needed.
const sqlMode = mysql.ModeANSIQuotes | mysql.ModeNoBackslashEscapes

// parsers pools TiDB parsers, which are not safe for concurrent use.
var parsers = sync.Pool{New: func() any {
	p := parser.New()
	p.SetSQLMode(sqlMode)
	p.EnableWindowFunc(true)
	return p
}}

// stmtParser parses one statement; it gathers the parameter map across
// the several TiDB parses a statement may need.
type stmtParser struct {
	*translator
	info Info
	// with is the WITH clause of WITH ... INSERT, written before the
	// INSERT's query.
	with []Token
}

func parsePiece(src string, p Piece) (Statement, error) {
	sp := &stmtParser{translator: &translator{src: src, toks: p.Tokens}}
	sp.info.Text = p.Text
	sp.info.Offset = p.Offset
	s, err := sp.statement()
	if err != nil {
		return nil, err
	}
	sp.stamp(s)
	return s, nil
}

// stamp sets NumParams from the parameter map and gives s the info.
func (sp *stmtParser) stamp(s Statement) {
	for _, n := range sp.info.Params {
		if n > sp.info.NumParams {
			sp.info.NumParams = n
		}
	}
	*s.StmtInfo() = sp.info
}

// tidb writes n and parses the text with TiDB, renumbering parameter
// markers so their Order indexes the statement's Params.
func (sp *stmtParser) tidb(n *node) (ast.StmtNode, error) {
	var o out
	o.emit(n)
	text := o.b.String()
	p := parsers.Get().(*parser.Parser)
	parsed, _, err := p.Parse(text, "", "")
	// The returned slice is the parser's own buffer, reused by its next
	// Parse: copy it out before the parser goes back to the pool.
	stmts := append([]ast.StmtNode(nil), parsed...)
	parsers.Put(p)
	if err != nil {
		return nil, sp.tidbError(err, text, &o)
	}
	if len(stmts) != 1 {
		return nil, pgerr.New(pgerr.SyntaxError, "syntax error").WithPosition(charPos(sp.src, sp.info.Offset))
	}
	// TiDB leaves Order unset; number the markers by their offset in the
	// written text, which is the order of o.params.
	var pc paramCollector
	stmts[0].Accept(&pc)
	if len(pc.markers) != len(o.params) {
		return nil, pgerr.New(pgerr.InternalError, "parameter markers: TiDB saw %d, translator wrote %d", len(pc.markers), len(o.params))
	}
	sort.Slice(pc.markers, func(i, j int) bool { return pc.markers[i].Offset < pc.markers[j].Offset })
	for i, m := range pc.markers {
		m.Order = len(sp.info.Params) + i
	}
	sp.info.Params = append(sp.info.Params, o.params...)
	sp.info.Translated = append(sp.info.Translated, text)
	return stmts[0], nil
}

var tidbNear = regexp.MustCompile(`(?s)^line \d+ column \d+ near "(.*)"(.*?)( \(total length (\d+)\))?$`)

// tidbError maps a TiDB syntax error back to the original text.
func (sp *stmtParser) tidbError(err error, text string, o *out) error {
	off := -1
	if m := tidbNear.FindStringSubmatch(strings.TrimSpace(err.Error())); m != nil {
		rest := len(m[1])
		if m[4] != "" {
			rest, _ = strconv.Atoi(m[4])
		}
		if rest == 0 && len(sp.toks) > 0 {
			end := sp.toks[len(sp.toks)-1].End
			return &pgerr.Error{Code: pgerr.SyntaxError, Severity: pgerr.SeverityError, Message: "syntax error at end of input",
				Position: charPos(sp.src, end), Detail: "translated: " + text, Cause: err}
		}
		if rest <= len(text) {
			off = o.origOffset(len(text) - rest)
		}
	}
	if off < 0 {
		off = sp.info.Offset
	}
	msg := "syntax error"
	for _, tk := range sp.toks {
		if tk.Pos == off {
			msg = fmt.Sprintf("syntax error at or near %q", sp.src[tk.Pos:tk.End])
			break
		}
	}
	return &pgerr.Error{Code: pgerr.SyntaxError, Severity: pgerr.SeverityError, Message: msg,
		Position: charPos(sp.src, off), Detail: "translated: " + text, Cause: err}
}

// paramCollector gathers the parameter markers of an AST.
type paramCollector struct {
	markers []*test_driver.ParamMarkerExpr
}

func (v *paramCollector) Enter(n ast.Node) (ast.Node, bool) {
	switch x := n.(type) {
	case *test_driver.ParamMarkerExpr:
		v.markers = append(v.markers, x)
	case *ast.WindowFuncExpr:
		unwrapWindowCarrier(x)
	}
	return n, false
}

// unwrapWindowCarrier turns max(pg_window_call(fn(args)[, filter])) OVER
// w, as the translator writes an aggregate TiDB does not read with OVER or
// one with a FILTER, back into fn(args) OVER w; a FILTER stays as a last
// argument, pg_window_filter(cond), which the planner takes off.
func unwrapWindowCarrier(w *ast.WindowFuncExpr) {
	if !strings.EqualFold(w.Name, "max") || len(w.Args) != 1 {
		return
	}
	c, ok := w.Args[0].(*ast.FuncCallExpr)
	if !ok || c.FnName.L != windowCarrier || len(c.Args) < 1 || len(c.Args) > 2 {
		return
	}
	switch fn := c.Args[0].(type) {
	case *ast.FuncCallExpr:
		w.Name, w.Args = fn.FnName.L, fn.Args
	case *ast.AggregateFuncExpr:
		w.Name, w.Args = strings.ToLower(fn.F), fn.Args
	default:
		return
	}
	if len(c.Args) == 2 {
		w.Args = append(slices.Clip(w.Args), c.Args[1])
	}
}

func (v *paramCollector) Leave(n ast.Node) (ast.Node, bool) { return n, true }

// sub returns a parser over toks[from:to] sharing src and the info.
func (sp *stmtParser) sub(from, to int) *translator {
	return &translator{src: sp.src, toks: sp.toks[from:to]}
}

// findTop returns the index of the first token at parenthesis depth 0 at
// or after from that satisfies match, or len(toks).
func (sp *stmtParser) findTop(from int, match func(i int) bool) int {
	depth := 0
	for i := from; i < len(sp.toks); i++ {
		switch {
		case sp.toks[i].isPunct("(") || sp.toks[i].isPunct("["):
			depth++
		case sp.toks[i].isPunct(")") || sp.toks[i].isPunct("]"):
			depth--
		case depth == 0 && match(i):
			return i
		}
	}
	return len(sp.toks)
}

func (sp *stmtParser) statement() (Statement, error) {
	tok := sp.peek()
	if tok.isPunct("(") {
		return sp.query()
	}
	if tok.Kind != TokIdent {
		return nil, sp.syntaxErr(tok)
	}
	switch tok.Text {
	case "with":
		// WITH ... INSERT INTO t SELECT ...: the WITH clause moves onto
		// the INSERT's query, which TiDB reads (INSERT INTO t WITH ...).
		if at := sp.findTop(0, func(i int) bool { return sp.toks[i].is("insert") }); at < len(sp.toks) {
			sp.with = sp.toks[:at]
			sp.toks = sp.toks[at:]
			return sp.insert()
		}
		return sp.query()
	case "select", "table":
		return sp.query()
	case "values":
		return sp.query()
	case "truncate":
		return sp.truncate()
	case "comment":
		return sp.comment()
	case "insert":
		return sp.insert()
	case "update":
		return sp.update()
	case "delete":
		return sp.delete()
	case "create":
		if sp.isConsumerGroupDDL() {
			return sp.createConsumerGroup()
		}
		return sp.create()
	case "drop":
		if sp.isConsumerGroupDDL() {
			return sp.dropConsumerGroup()
		}
		return sp.drop()
	case "ack", "nack":
		return sp.ackGroup()
	case "alter":
		return sp.alter()
	case "refresh":
		return sp.refresh()
	case "show":
		return sp.show()
	case "set":
		return sp.set()
	case "reset":
		sp.next()
		if sp.accept("all") {
			return &Reset{Name: "all"}, sp.end()
		}
		return named(sp, sp.settingName, func(n string) Statement { return &Reset{Name: n} })
	case "begin", "start", "commit", "end", "rollback", "abort", "savepoint", "release":
		return sp.transaction()
	case "checkpoint":
		sp.next()
		return &Checkpoint{}, sp.end()
	case "discard":
		sp.next()
		w := sp.next()
		switch {
		case w.is("all"), w.is("plans"), w.is("sequences"), w.is("temp"), w.is("temporary"):
			return &Discard{What: w.Text}, sp.end()
		}
		return nil, sp.syntaxErr(w)
	case "deallocate":
		sp.next()
		sp.accept("prepare")
		if sp.accept("all") {
			return &Deallocate{All: true}, sp.end()
		}
		return named(sp, sp.ident, func(n string) Statement { return &Deallocate{Name: n} })
	case "prepare":
		return sp.prepare()
	case "execute":
		return sp.execute()
	case "explain":
		return sp.explain()
	case "copy":
		return sp.copyStmt()
	case "subscribe":
		return sp.subscribe()
	case "listen":
		sp.next()
		return named(sp, sp.ident, func(n string) Statement { return &Listen{Channel: n} })
	case "unlisten":
		sp.next()
		if sp.peek().isOp("*") {
			sp.next()
			return &Unlisten{All: true}, sp.end()
		}
		return named(sp, sp.ident, func(n string) Statement { return &Unlisten{Channel: n} })
	case "notify":
		ch, err := sp.nameAfterKeyword()
		if err != nil {
			return nil, err
		}
		n := &Notify{Channel: ch}
		if sp.acceptPunct(",") {
			s := sp.next()
			if s.Kind != TokString {
				return nil, sp.syntaxErr(s)
			}
			n.Payload = s.Text
		}
		return n, sp.end()
	case "declare":
		return sp.declare()
	case "fetch", "move":
		if sp.isGroupFetch() {
			return sp.fetchGroup()
		}
		return sp.fetch()
	case "close":
		sp.next()
		if sp.accept("all") {
			return &Close{All: true}, sp.end()
		}
		return named(sp, sp.ident, func(n string) Statement { return &Close{Cursor: n} })
	}
	return nil, sp.syntaxErr(tok)
}

// named reads a name with read, makes the statement mk builds of it and
// requires the statement to end there.
func named[T any](sp *stmtParser, read func() (T, error), mk func(T) Statement) (Statement, error) {
	name, err := read()
	if err != nil {
		return nil, err
	}
	return mk(name), sp.end()
}

// nameAfterKeyword skips the statement's keyword and reads the name after
// it.
func (sp *stmtParser) nameAfterKeyword() (string, error) {
	sp.next()
	return sp.ident()
}

// commaList calls item once, then again after each comma.
func (sp *stmtParser) commaList(item func() error) error {
	for {
		if err := item(); err != nil {
			return err
		}
		if !sp.acceptPunct(",") {
			return nil
		}
	}
}

// end requires the statement to be complete.
func (sp *stmtParser) end() error {
	if !sp.eof() {
		return sp.syntaxErr(sp.peek())
	}
	return nil
}

func (sp *stmtParser) expectWords(words ...string) error {
	for _, w := range words {
		if err := sp.expect(w); err != nil {
			return err
		}
	}
	return nil
}

// ident reads a name: an unquoted word (folded) or a quoted identifier.
func (sp *stmtParser) ident() (string, error) {
	tok := sp.next()
	if tok.Kind == TokQuotedIdent || tok.Kind == TokIdent && !reserved[tok.Text] {
		return tok.Text, nil
	}
	return "", sp.syntaxErr(tok)
}

// objectName reads name or schema.name.
func (sp *stmtParser) objectName() (ObjectName, error) {
	a, err := sp.ident()
	if err != nil {
		return ObjectName{}, err
	}
	if !sp.acceptPunct(".") {
		return ObjectName{Name: a}, nil
	}
	b, err := sp.ident()
	if err != nil {
		return ObjectName{}, err
	}
	if sp.peek().isPunct(".") {
		return ObjectName{}, sp.unsupported(sp.peek(), "cross-database references")
	}
	return ObjectName{Schema: a, Name: b}, nil
}

// tableRef writes an object name for TiDB.
func tableRef(n ObjectName, pos int) *node {
	r := &node{prec: precAtom}
	if n.Schema != "" {
		r.txt(quoteIdent(n.Schema)+".", pos)
	}
	return r.txt(quoteIdent(n.Name), pos)
}

// identList reads ( name, ... ).
func (sp *stmtParser) identList() ([]string, error) {
	if err := sp.expectPunct("("); err != nil {
		return nil, err
	}
	var names []string
	if err := sp.commaList(func() error {
		n, err := sp.ident()
		names = append(names, n)
		return err
	}); err != nil {
		return nil, err
	}
	return names, sp.expectPunct(")")
}

// query parses a SELECT-like statement.
func (sp *stmtParser) query() (Statement, error) {
	rs, err := sp.resultSet(0, len(sp.toks))
	if err != nil {
		return nil, err
	}
	return &Query{AST: rs.(ast.StmtNode)}, nil
}

// resultSet translates toks[from:to] as a query and parses it with TiDB.
func (sp *stmtParser) resultSet(from, to int) (ast.ResultSetNode, error) {
	t := sp.sub(from, to)
	n, err := t.query(false)
	if err != nil {
		return nil, err
	}
	if !t.eof() {
		return nil, t.syntaxErr(t.peek())
	}
	if first := t.toks[0]; first.is("with") {
		// WITH ... INSERT/UPDATE/DELETE reaches TiDB as a SELECT-less text.
		for _, tk := range t.toks {
			if tk.is("insert") || tk.is("update") || tk.is("delete") {
				if sp.findTop(from, func(i int) bool { return sp.toks[i].Pos == tk.Pos }) < to {
					return nil, sp.unsupported(tk, "WITH with data-modifying statements")
				}
			}
		}
	}
	st, err := sp.tidb(n)
	if err != nil {
		return nil, err
	}
	switch rs := st.(type) {
	case *ast.SelectStmt, *ast.SetOprStmt:
		return rs.(ast.ResultSetNode), nil
	}
	return nil, sp.syntaxErr(sp.toks[from])
}

// exprNode translates one expression already parsed into n.
func (sp *stmtParser) exprNode(n *node) (ast.ExprNode, error) {
	w := &node{prec: precAtom}
	w.txt("SELECT ", -1).sub(n, 0)
	st, err := sp.tidb(w)
	if err != nil {
		return nil, err
	}
	sel, ok := st.(*ast.SelectStmt)
	if !ok || sel.Fields == nil || len(sel.Fields.Fields) != 1 {
		return nil, pgerr.New(pgerr.InternalError, "expression did not translate to one field")
	}
	return sel.Fields.Fields[0].Expr, nil
}

// returning parses RETURNING list at toks[at:] (at is the RETURNING token).
func (sp *stmtParser) returning(at int) ([]*ast.SelectField, error) {
	if at >= len(sp.toks) {
		return nil, nil
	}
	ret := sp.toks[at]
	toks := append([]Token{{Kind: TokIdent, Text: "select", Pos: ret.Pos, End: ret.End}}, sp.toks[at+1:]...)
	t := &translator{src: sp.src, toks: toks}
	n, err := t.query(false)
	if err != nil {
		return nil, err
	}
	st, err := sp.tidb(n)
	if err != nil {
		return nil, err
	}
	sel, ok := st.(*ast.SelectStmt)
	if !ok || sel.From != nil || sel.Where != nil || sel.GroupBy != nil || sel.OrderBy != nil || sel.Limit != nil {
		return nil, sp.syntaxErr(ret)
	}
	return sel.Fields.Fields, nil
}

func (sp *stmtParser) isReturning(i int) bool { return sp.toks[i].is("returning") }

// insert: INSERT INTO name [AS alias] [(cols)] {VALUES|SELECT|DEFAULT
// VALUES} [ON CONFLICT ...] [RETURNING ...].
func (sp *stmtParser) insert() (Statement, error) {
	ins := sp.next()
	if err := sp.expect("into"); err != nil {
		return nil, err
	}
	head, name, err := sp.target("INSERT INTO ", ins.Pos)
	if err != nil {
		return nil, err
	}
	st := &Insert{}
	if sp.accept("as") {
		if st.Alias, err = sp.ident(); err != nil {
			return nil, err
		}
	}
	if sp.peek().isPunct("(") && !sp.startsQueryAt(sp.i+1) {
		cols, err := sp.identList()
		if err != nil {
			return nil, err
		}
		head.txt(" (", -1)
		for i, c := range cols {
			if i > 0 {
				head.txt(", ", -1)
			}
			head.txt(quoteIdent(c), -1)
		}
		head.txt(")", -1)
	}
	if o := sp.peek(); o.is("overriding") {
		sp.next()
		if u := sp.peek(); !u.is("system") {
			return nil, sp.unsupported(u, "OVERRIDING USER VALUE")
		}
		sp.next()
		if err := sp.expect("value"); err != nil {
			return nil, err
		}
		st.OverridingSystem = true
	}
	retAt := sp.findTop(sp.i, sp.isReturning)
	confAt := sp.findTop(sp.i, func(i int) bool {
		return sp.toks[i].is("on") && i+1 < len(sp.toks) && sp.toks[i+1].is("conflict")
	})
	if confAt > retAt {
		confAt = retAt
	}
	if d := sp.peek(); d.is("default") && sp.peekN(1).is("values") {
		sp.i += 2
		if sp.i != confAt {
			return nil, sp.syntaxErr(sp.peek())
		}
		st.DefaultValues = true
		head.txt(" () VALUES ()", d.Pos)
	} else {
		if v := sp.peek(); !v.is("values") && !v.is("select") && !v.is("with") && !v.isPunct("(") {
			return nil, sp.syntaxErr(v)
		}
		t := sp.sub(sp.i, confAt)
		t.insertBody = true
		if sp.with != nil {
			if v := sp.peek(); !v.is("select") {
				return nil, sp.unsupported(v, "WITH before INSERT with a source other than SELECT")
			}
			t = &translator{src: sp.src, toks: append(append([]Token(nil), sp.with...), sp.toks[sp.i:confAt]...)}
		}
		body, err := t.query(false)
		if err != nil {
			return nil, err
		}
		head.txt(" ", -1).sub(body, 0)
	}
	if st.AST, err = parseAs(sp, head, ins, func(i *ast.InsertStmt) bool {
		return !i.IsReplace && !i.Setlist && i.OnDuplicate == nil
	}); err != nil {
		return nil, err
	}
	if confAt < retAt {
		sp.i = confAt + 2
		if st.OnConflict, err = sp.onConflict(name, retAt); err != nil {
			return nil, err
		}
	}
	if st.Returning, err = sp.returning(retAt); err != nil {
		return nil, err
	}
	return st, nil
}

func (sp *stmtParser) startsQueryAt(i int) bool {
	return i < len(sp.toks) && (sp.toks[i].is("select") || sp.toks[i].is("with") || sp.toks[i].is("values"))
}

// onConflict parses the ON CONFLICT clause up to toks[end].
func (sp *stmtParser) onConflict(table ObjectName, end int) (*OnConflict, error) {
	oc := &OnConflict{}
	if sp.peek().isPunct("(") {
		cols, err := sp.identList()
		if err != nil {
			return nil, sp.unsupported(sp.peek(), "ON CONFLICT with a target other than column names")
		}
		oc.Columns = cols
		if w := sp.peek(); w.is("where") {
			return nil, sp.unsupported(w, "ON CONFLICT (...) WHERE")
		}
	} else if o := sp.peek(); o.is("on") {
		return nil, sp.unsupported(o, "ON CONFLICT ON CONSTRAINT")
	}
	if err := sp.expect("do"); err != nil {
		return nil, err
	}
	if sp.accept("nothing") {
		if sp.i != end {
			return nil, sp.syntaxErr(sp.peek())
		}
		return oc, nil
	}
	upd := sp.peek()
	if err := sp.expect("update"); err != nil {
		return nil, err
	}
	if !sp.peek().is("set") {
		return nil, sp.syntaxErr(sp.peek())
	}
	if len(oc.Columns) == 0 {
		return nil, errAt(sp.src, upd.Pos, pgerr.SyntaxError, "ON CONFLICT DO UPDATE requires inference specification or constraint name").
			WithHint("For example, ON CONFLICT (column_name).")
	}
	oc.DoUpdate = true
	t := sp.sub(sp.i, end)
	body, err := t.walk(false, modeUpdate)
	if err != nil {
		return nil, err
	}
	n := &node{prec: precAtom}
	n.txt("UPDATE ", upd.Pos).sub(tableRef(table, -1), 0).txt(" ", -1).sub(body, 0)
	u, err := parseAs(sp, n, upd, func(*ast.UpdateStmt) bool { return true })
	if err != nil {
		return nil, err
	}
	oc.Set = u.List
	oc.Where = u.Where
	return oc, nil
}

// update: UPDATE name [[AS] alias] SET ... [WHERE ...] [RETURNING ...].
func (sp *stmtParser) update() (Statement, error) {
	upd := sp.next()
	if o := sp.peek(); o.is("only") {
		return nil, sp.unsupported(o, "UPDATE ONLY")
	}
	head, err := sp.aliasedTarget("UPDATE ", upd.Pos)
	if err != nil {
		return nil, err
	}
	if !sp.peek().is("set") {
		return nil, sp.syntaxErr(sp.peek())
	}
	retAt := sp.findTop(sp.i, sp.isReturning)
	body, err := sp.sub(sp.i, retAt).walk(false, modeUpdate)
	if err != nil {
		return nil, err
	}
	head.txt(" ", -1).sub(body, 0)
	u, err := parseAs(sp, head, upd, func(u *ast.UpdateStmt) bool { return !u.MultipleTable })
	if err != nil {
		return nil, err
	}
	ret, err := sp.returning(retAt)
	if err != nil {
		return nil, err
	}
	return &Update{AST: u, Returning: ret}, nil
}

// target reads the table a DML statement writes to and starts its text
// for TiDB: verb (ending in a space), then the table.
func (sp *stmtParser) target(verb string, pos int) (*node, ObjectName, error) {
	nameTok := sp.peek()
	name, err := sp.objectName()
	if err != nil {
		return nil, ObjectName{}, err
	}
	head := &node{prec: precAtom}
	head.txt(verb, pos).sub(tableRef(name, nameTok.Pos), 0)
	return head, name, nil
}

// aliasedTarget is target followed by an optional [AS] alias.
func (sp *stmtParser) aliasedTarget(verb string, pos int) (*node, error) {
	head, _, err := sp.target(verb, pos)
	if err != nil {
		return nil, err
	}
	if err := sp.alias(head); err != nil {
		return nil, err
	}
	return head, nil
}

// parseAs parses n with TiDB and requires a T that accept takes; anything
// else is a syntax error at tok.
func parseAs[T ast.StmtNode](sp *stmtParser, n *node, tok Token, accept func(T) bool) (T, error) {
	var zero T
	st, err := sp.tidb(n)
	if err != nil {
		return zero, err
	}
	t, ok := st.(T)
	if !ok || !accept(t) {
		return zero, sp.syntaxErr(tok)
	}
	return t, nil
}

// alias reads an optional [AS] alias after a DML target.
func (sp *stmtParser) alias(head *node) error {
	a := sp.peek()
	if a.is("as") {
		sp.next()
		a = sp.peek()
	} else if a.Kind != TokQuotedIdent && (a.Kind != TokIdent || reserved[a.Text] || a.is("set")) {
		return nil
	}
	name, err := sp.ident()
	if err != nil {
		return err
	}
	head.txt(" AS "+quoteIdent(name), a.Pos)
	return nil
}

// delete: DELETE FROM name [[AS] alias] [WHERE ...] [RETURNING ...].
func (sp *stmtParser) delete() (Statement, error) {
	del := sp.next()
	if err := sp.expect("from"); err != nil {
		return nil, err
	}
	if o := sp.peek(); o.is("only") {
		return nil, sp.unsupported(o, "DELETE FROM ONLY")
	}
	head, err := sp.aliasedTarget("DELETE FROM ", del.Pos)
	if err != nil {
		return nil, err
	}
	retAt := sp.findTop(sp.i, sp.isReturning)
	if sp.i < retAt {
		if w := sp.peek(); !w.is("where") && !w.is("using") {
			return nil, sp.syntaxErr(w)
		}
		body, err := sp.sub(sp.i, retAt).walk(false, modeDelete)
		if err != nil {
			return nil, err
		}
		head.txt(" ", -1).sub(body, 0)
	}
	d, err := parseAs(sp, head, del, func(d *ast.DeleteStmt) bool { return !d.IsMultiTable })
	if err != nil {
		return nil, err
	}
	ret, err := sp.returning(retAt)
	if err != nil {
		return nil, err
	}
	return &Delete{AST: d, Returning: ret}, nil
}

// ParseTranslated parses text in the dialect the translator writes (TiDB's,
// with ANSI quotes): the planner rewrites some constructs into queries of
// their own (planner/windowtvf.go) with text made from the parsed nodes.
func ParseTranslated(text string) (ast.StmtNode, error) {
	p := parsers.Get().(*parser.Parser)
	defer parsers.Put(p)
	n, err := p.ParseOneStmt(text, "", "")
	if err != nil {
		return nil, pgerr.New(pgerr.InternalError, "rewritten query does not parse: %v", err)
	}
	return n, nil
}
