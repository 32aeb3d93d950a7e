package sql

import (
	"strconv"
	"strings"

	"github.com/strand-db/strand/sql/pgerr"
)

// The translator reads Postgres tokens and writes text for the TiDB grammar.
//
// Expressions are parsed with PostgreSQL's operator precedence (gram.y's
// %left/%right table) into a small tree of nodes; each node is a template of
// text fragments and child nodes. Operators both dialects share (arithmetic,
// comparison, AND/OR/NOT, IS NULL, IN, BETWEEN, LIKE) are written as
// operators; everything else becomes a pg_* function call. When the tree is
// written out, a child is put in parentheses whenever the TiDB grammar would
// otherwise group it differently (mysqlPrec below), so TiDB's AST has the
// shape PostgreSQL's parser would have built. Identifiers are always written
// double-quoted (the parser runs with ANSI_QUOTES), so MySQL keywords cannot
// capture them and the CIStr.O of every name is the Postgres name exactly;
// strings are re-quoted with '' (NO_BACKSLASH_ESCAPES), so nothing TiDB
// sees depends on MySQL's escape rules.

// MySQL precedence classes of the text a node writes, lowest first. They
// follow the TiDB grammar's levels: Expression (OR, AND, NOT, IS TRUE),
// BoolPri (comparison, IS NULL), PredicateExpr (IN, BETWEEN, LIKE), BitExpr
// (+ -, * / %), SimpleExpr.
const (
	precOr = iota + 1
	precAnd
	precNot
	precIsBool
	precBoolPri
	precPred
	precAdd
	precMul
	precUnary
	precAtom
)

// PostgreSQL binding powers (gram.y), lowest first.
const (
	bpOr      = 10
	bpAnd     = 20
	bpNot     = 30
	bpIs      = 40
	bpCmp     = 50
	bpLike    = 60
	bpOp      = 70
	bpAdd     = 80
	bpMul     = 90
	bpExp     = 100
	bpAt      = 105
	bpCollate = 107
	bpUnary   = 110
)

// node is a translated expression: a template of parts.
type node struct {
	prec  int
	parts []part
}

// part is a text fragment (with the byte offset of the original token it
// came from, or -1), a parameter marker, or a child node that must be
// parenthesised when its prec is below min.
type part struct {
	text  string
	pos   int
	param int
	child *node
	min   int
}

func atom(text string, pos int) *node {
	return &node{prec: precAtom, parts: []part{{text: text, pos: pos}}}
}

func (n *node) txt(s string, pos int) *node {
	n.parts = append(n.parts, part{text: s, pos: pos})
	return n
}

func (n *node) sub(c *node, min int) *node {
	n.parts = append(n.parts, part{child: c, min: min, pos: -1})
	return n
}

// call builds name(args...) as an atom.
func call(name string, pos int, args ...*node) *node {
	n := &node{prec: precAtom}
	n.txt(name+"(", pos)
	for i, a := range args {
		if i > 0 {
			n.txt(", ", -1)
		}
		n.sub(a, 0)
	}
	return n.txt(")", -1)
}

// out collects translated text with a map back to the original offsets.
type out struct {
	b      strings.Builder
	marks  []mark
	params []int
}

type mark struct{ out, orig int }

func (o *out) write(s string, pos int) {
	if pos >= 0 {
		o.marks = append(o.marks, mark{o.b.Len(), pos})
	}
	o.b.WriteString(s)
}

func (o *out) emit(n *node) {
	for _, p := range n.parts {
		switch {
		case p.child != nil:
			if p.child.prec < p.min {
				o.write("(", -1)
				o.emit(p.child)
				o.write(")", -1)
			} else {
				o.emit(p.child)
			}
		case p.param > 0:
			o.params = append(o.params, p.param)
			o.write("?", p.pos)
		default:
			o.write(p.text, p.pos)
		}
	}
}

// origOffset maps an offset in the written text back to the original.
func (o *out) origOffset(off int) int {
	best := -1
	for _, m := range o.marks {
		if m.out <= off {
			best = m.orig
		} else {
			break
		}
	}
	return best
}

// quoteIdent writes a name as a double-quoted identifier.
func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// quoteString writes a string constant for a NO_BACKSLASH_ESCAPES parser.
func quoteString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// translator holds the tokens of one statement.
type translator struct {
	src  string
	toks []Token
	i    int
	// insertBody: the tokens are INSERT's source, whose top-level VALUES
	// TiDB reads itself.
	insertBody bool
}

func (t *translator) peek() Token { return t.peekN(0) }

func (t *translator) peekN(n int) Token {
	if t.i+n < len(t.toks) {
		return t.toks[t.i+n]
	}
	return Token{Pos: t.endPos(), End: t.endPos()}
}

func (t *translator) endPos() int {
	if len(t.toks) == 0 {
		return len(t.src)
	}
	return t.toks[len(t.toks)-1].End
}

func (t *translator) eof() bool { return t.i >= len(t.toks) }

func (t *translator) next() Token {
	tok := t.peek()
	if t.i < len(t.toks) {
		t.i++
	}
	return tok
}

func (t *translator) accept(kw string) bool {
	if t.peek().is(kw) {
		t.i++
		return true
	}
	return false
}

func (t *translator) acceptPunct(p string) bool {
	if t.peek().isPunct(p) {
		t.i++
		return true
	}
	return false
}

func (t *translator) expectPunct(p string) error {
	if !t.acceptPunct(p) {
		return t.syntaxErr(t.peek())
	}
	return nil
}

func (t *translator) expect(kw string) error {
	if !t.accept(kw) {
		return t.syntaxErr(t.peek())
	}
	return nil
}

// syntaxErr is PostgreSQL's "syntax error at or near" for tok.
func (t *translator) syntaxErr(tok Token) error {
	if tok.Kind == 0 {
		return errAt(t.src, tok.Pos, pgerr.SyntaxError, "syntax error at end of input")
	}
	return errAt(t.src, tok.Pos, pgerr.SyntaxError, "syntax error at or near %q", t.src[tok.Pos:tok.End])
}

// unsupported is 0A000 naming the construct, positioned at tok.
func (t *translator) unsupported(tok Token, construct string) error {
	return errAt(t.src, tok.Pos, pgerr.FeatureNotSupported, "%s is not supported", construct)
}

// reserved are PostgreSQL's reserved keywords (and the type_func_name ones
// that can never be a column): they never stand for a column name.
var reserved = wordSet(`all analyse analyze and any array as asc asymmetric both case cast check
collate column constraint create current_catalog current_date current_role current_time
current_timestamp current_user default deferrable desc distinct do else end except false fetch
for foreign from grant group having in initially intersect into lateral leading limit localtime
localtimestamp not null offset on only or order placing primary references returning select
session_user some symmetric system_user table then to trailing true union unique user using
variadic when where window with authorization binary collation concurrently cross
current_schema freeze full ilike inner is isnull join left like natural notnull outer overlaps
right similar tablesample verbose`)

func wordSet(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(s) {
		m[w] = true
	}
	return m
}

// sqlValueFuncs are gram.y's SQLValueFunction keywords.
var sqlValueFuncs = wordSet(`current_date current_time current_timestamp localtime localtimestamp
current_role current_user session_user user current_catalog current_schema system_user`)

// expr parses one expression.
func (t *translator) expr() (*node, error) { return t.exprBP(0) }

// exprBP is the Pratt loop: a prefix part, then infix and postfix operators
// whose binding power exceeds min.
func (t *translator) exprBP(min int) (*node, error) {
	lhs, err := t.prefix()
	if err != nil {
		return nil, err
	}
	for {
		tok := t.peek()
		bp, ok := t.infixBP()
		if !ok || bp <= min {
			return lhs, nil
		}
		lhs, err = t.infix(lhs, tok, bp)
		if err != nil {
			return nil, err
		}
	}
}

// infixBP returns the binding power of the infix or postfix operator at the
// current token.
func (t *translator) infixBP() (int, bool) {
	tok := t.peek()
	switch tok.Kind {
	case TokOp:
		switch tok.Text {
		case "+", "-":
			return bpAdd, true
		case "*", "/", "%":
			return bpMul, true
		case "^":
			return bpExp, true
		case "=", "<>", "<", ">", "<=", ">=":
			return bpCmp, true
		}
		return bpOp, true
	case TokIdent:
		switch tok.Text {
		case "or":
			return bpOr, true
		case "and":
			return bpAnd, true
		case "is", "isnull", "notnull":
			return bpIs, true
		case "like", "ilike", "similar", "in", "between":
			return bpLike, true
		case "not":
			switch t.peekN(1).Text {
			case "like", "ilike", "similar", "in", "between":
				if t.peekN(1).Kind == TokIdent {
					return bpLike, true
				}
			}
		case "at":
			if t.peekN(1).is("time") && t.peekN(2).is("zone") {
				return bpAt, true
			}
		case "collate":
			return bpCollate, true
		case "operator":
			if t.peekN(1).isPunct("(") {
				return bpOp, true
			}
		}
	}
	return 0, false
}

// passOps are the binary operators written through as operators: TiDB
// gives them the same meaning, and the planner reads them by opcode.
var passOps = map[string]struct{ prec, bp int }{
	"+": {precAdd, bpAdd}, "-": {precAdd, bpAdd},
	"*": {precMul, bpMul}, "/": {precMul, bpMul}, "%": {precMul, bpMul},
	"=": {precBoolPri, bpCmp}, "<>": {precBoolPri, bpCmp}, "<": {precBoolPri, bpCmp},
	">": {precBoolPri, bpCmp}, "<=": {precBoolPri, bpCmp}, ">=": {precBoolPri, bpCmp},
}

// knownOps are PostgreSQL's built-in operators that Strand carries as
// pg_op('op', a, b); anything else is 42883 at parse time, like an
// operator PostgreSQL has no entry for (this rejects MySQL's <=>, &&, etc.).
var knownOps = wordSet(`^ || -> ->> #> #>> @> <@ ? ?| ?& ~ ~* !~ !~* ~~ ~~* !~~ !~~* & | # << >> @@ @ |/ ||/ #- <-> !!`)

func (t *translator) infix(lhs *node, tok Token, bp int) (*node, error) {
	t.next()
	if tok.is("operator") && tok.Kind == TokIdent {
		op, err := t.operatorName(tok)
		if err != nil {
			return nil, err
		}
		tok = op
	}
	if tok.Kind == TokOp {
		op := tok.Text
		// x op ANY/SOME/ALL (array or subquery).
		if q := t.peek(); (q.is("any") || q.is("some") || q.is("all")) && t.peekN(1).isPunct("(") {
			return t.quantified(lhs, tok, q)
		}
		rhs, err := t.exprBP(bp)
		if err != nil {
			return nil, err
		}
		if p, ok := passOps[op]; ok {
			if p.bp == bpCmp {
				if nbp, ok := t.infixBP(); ok && nbp == bpCmp {
					return nil, t.syntaxErr(t.peek())
				}
			}
			n := &node{prec: p.prec}
			// Left-associative: the left child may sit at the same level.
			n.sub(lhs, p.prec).txt(" "+op+" ", tok.Pos).sub(rhs, p.prec+1)
			return n, nil
		}
		switch op {
		case "~~", "~~*", "!~~", "!~~*":
			kw := map[string]string{"~~": " LIKE ", "~~*": " ILIKE ", "!~~": " NOT LIKE ", "!~~*": " NOT ILIKE "}[op]
			n := &node{prec: precPred}
			return n.sub(lhs, precAdd).txt(kw, tok.Pos).sub(rhs, precAtom), nil
		}
		if !knownOps[op] {
			return nil, errAt(t.src, tok.Pos, pgerr.UndefinedFunction, "operator does not exist: %s", op)
		}
		return call("pg_op", tok.Pos, atom(quoteString(op), -1), lhs, rhs), nil
	}
	switch tok.Text {
	case "or", "and":
		rhs, err := t.exprBP(bp)
		if err != nil {
			return nil, err
		}
		prec := precOr
		if tok.Text == "and" {
			prec = precAnd
		}
		n := &node{prec: prec}
		return n.sub(lhs, prec).txt(" "+strings.ToUpper(tok.Text)+" ", tok.Pos).sub(rhs, prec+1), nil
	case "isnull", "notnull":
		kw := " IS NULL"
		if tok.Text == "notnull" {
			kw = " IS NOT NULL"
		}
		n := &node{prec: precBoolPri}
		return n.sub(lhs, precBoolPri).txt(kw, tok.Pos), nil
	case "is":
		return t.isExpr(lhs, tok)
	case "not":
		return t.predicate(lhs, t.next(), true)
	case "like", "ilike", "similar", "in", "between":
		return t.predicate(lhs, tok, false)
	case "at":
		t.next()
		t.next()
		zone, err := t.exprBP(bpAt)
		if err != nil {
			return nil, err
		}
		// gram.y itself rewrites a AT TIME ZONE z as timezone(z, a).
		return call("timezone", tok.Pos, zone, lhs), nil
	case "collate":
		return t.collate(lhs, tok)
	}
	return nil, t.syntaxErr(tok)
}

// operatorName reads the rest of OPERATOR([schema.]op), after the keyword,
// and returns the operator as an operator token at the keyword's position.
// Only pg_catalog's operators exist, so the schema must be pg_catalog.
func (t *translator) operatorName(kw Token) (Token, error) {
	if err := t.expectPunct("("); err != nil {
		return Token{}, err
	}
	if s := t.peek(); s.Kind == TokIdent || s.Kind == TokQuotedIdent {
		t.next()
		if s.Text != "pg_catalog" {
			return Token{}, errAt(t.src, s.Pos, pgerr.UndefinedSchema, "schema %q does not exist", s.Text)
		}
		if err := t.expectPunct("."); err != nil {
			return Token{}, err
		}
	}
	op := t.next()
	if op.Kind != TokOp {
		return Token{}, t.syntaxErr(op)
	}
	if err := t.expectPunct(")"); err != nil {
		return Token{}, err
	}
	op.Pos = kw.Pos
	return op, nil
}

// collate reads COLLATE name. Strand compares text byte by byte, which is
// the "C" collation, and the database's default collation is "C"; so
// COLLATE "C", "POSIX" and "default" (qualified by pg_catalog or not) are
// exact and written as nothing. Any other collation is 0A000.
func (t *translator) collate(lhs *node, kw Token) (*node, error) {
	name := t.next()
	if name.Kind != TokIdent && name.Kind != TokQuotedIdent {
		return nil, t.syntaxErr(name)
	}
	if name.Text == "pg_catalog" && t.peek().isPunct(".") {
		t.next()
		name = t.next()
		if name.Kind != TokIdent && name.Kind != TokQuotedIdent {
			return nil, t.syntaxErr(name)
		}
	}
	if name.Text == "default" || name.Kind == TokQuotedIdent && (name.Text == "C" || name.Text == "POSIX") {
		return lhs, nil
	}
	return nil, t.unsupported(kw, "COLLATE "+quoteIdent(name.Text))
}

// quantified handles x op ANY|SOME|ALL (...). A subquery operand with a
// comparison operator is written through (TiDB's CompareSubqueryExpr has
// the SQL-standard meaning); an array operand becomes
// pg_any(x, 'op', arr) or pg_all(x, 'op', arr).
func (t *translator) quantified(lhs *node, opTok, q Token) (*node, error) {
	t.next() // ANY/SOME/ALL
	open := t.next()
	kw := "ANY"
	if q.is("all") {
		kw = "ALL"
	}
	if t.startsQuery() {
		p, ok := passOps[opTok.Text]
		if !ok || p.bp != bpCmp {
			return nil, t.unsupported(opTok, "operator "+opTok.Text+" "+kw+" (subquery)")
		}
		sub, err := t.subquery(open)
		if err != nil {
			return nil, err
		}
		n := &node{prec: precBoolPri}
		return n.sub(lhs, precBoolPri).txt(" "+opTok.Text+" "+kw+" ", opTok.Pos).sub(sub, 0), nil
	}
	arr, err := t.expr()
	if err != nil {
		return nil, err
	}
	if err := t.expectPunct(")"); err != nil {
		return nil, err
	}
	name := "pg_any"
	if kw == "ALL" {
		name = "pg_all"
	}
	if _, ok := passOps[opTok.Text]; !ok && !knownOps[opTok.Text] {
		return nil, errAt(t.src, opTok.Pos, pgerr.UndefinedFunction, "operator does not exist: %s", opTok.Text)
	}
	return call(name, opTok.Pos, lhs, atom(quoteString(opTok.Text), -1), arr), nil
}

// isExpr handles the forms after IS.
func (t *translator) isExpr(lhs *node, is Token) (*node, error) {
	not := t.accept("not")
	nk := ""
	if not {
		nk = "NOT "
	}
	tok := t.next()
	switch {
	case tok.is("null"):
		n := &node{prec: precBoolPri}
		return n.sub(lhs, precBoolPri).txt(" IS "+nk+"NULL", is.Pos), nil
	case tok.is("true"), tok.is("false"), tok.is("unknown"):
		n := &node{prec: precIsBool}
		return n.sub(lhs, precBoolPri).txt(" IS "+nk+strings.ToUpper(tok.Text), is.Pos), nil
	case tok.is("distinct"):
		if err := t.expect("from"); err != nil {
			return nil, err
		}
		rhs, err := t.exprBP(bpIs)
		if err != nil {
			return nil, err
		}
		c := call("pg_distinct", is.Pos, lhs, rhs)
		if !not {
			return c, nil
		}
		n := &node{prec: precNot}
		return n.txt("NOT ", is.Pos).sub(c, precIsBool), nil
	}
	return nil, t.unsupported(tok, "IS "+nk+strings.ToUpper(t.src[tok.Pos:tok.End]))
}

// predicate handles [NOT] LIKE/ILIKE/SIMILAR TO/IN/BETWEEN; PostgreSQL
// makes them non-associative.
func (t *translator) predicate(lhs *node, tok Token, not bool) (*node, error) {
	nk := ""
	if not {
		nk = "NOT "
	}
	var n *node
	switch tok.Text {
	case "similar":
		return nil, t.unsupported(tok, "SIMILAR TO")
	case "like", "ilike":
		pat, err := t.exprBP(bpLike)
		if err != nil {
			return nil, err
		}
		n = &node{prec: precPred}
		n.sub(lhs, precAdd).txt(" "+nk+strings.ToUpper(tok.Text)+" ", tok.Pos).sub(pat, precAtom)
		if e := t.peek(); e.is("escape") {
			t.next()
			s := t.next()
			if s.Kind != TokString || len(s.Text) != 1 {
				// TiDB keeps a single escape byte; ESCAPE '' (no escape
				// character) and multibyte escapes have no exact form.
				return nil, t.unsupported(e, "this LIKE ... ESCAPE form")
			}
			n.txt(" ESCAPE "+quoteString(s.Text), e.Pos)
		}
	case "in":
		open := t.peek()
		if err := t.expectPunct("("); err != nil {
			return nil, err
		}
		n = &node{prec: precPred}
		n.sub(lhs, precAdd).txt(" "+nk+"IN ", tok.Pos)
		if t.startsQuery() {
			sub, err := t.subquery(open)
			if err != nil {
				return nil, err
			}
			n.sub(sub, 0)
		} else {
			list, err := t.exprList(")")
			if err != nil {
				return nil, err
			}
			if err := t.expectPunct(")"); err != nil {
				return nil, err
			}
			n.txt("(", open.Pos)
			for i, e := range list {
				if i > 0 {
					n.txt(", ", -1)
				}
				n.sub(e, 0)
			}
			n.txt(")", -1)
		}
	case "between":
		if s := t.peek(); s.is("symmetric") || s.is("asymmetric") {
			return nil, t.unsupported(s, "BETWEEN "+strings.ToUpper(s.Text))
		}
		lo, err := t.exprBP(bpLike)
		if err != nil {
			return nil, err
		}
		if err := t.expect("and"); err != nil {
			return nil, err
		}
		hi, err := t.exprBP(bpLike)
		if err != nil {
			return nil, err
		}
		n = &node{prec: precPred}
		n.sub(lhs, precAdd).txt(" "+nk+"BETWEEN ", tok.Pos).sub(lo, precAdd).txt(" AND ", -1).sub(hi, precAdd)
	}
	if bp, ok := t.infixBP(); ok && bp == bpLike {
		return nil, t.syntaxErr(t.peek())
	}
	return n, nil
}

// startsQuery reports whether the tokens after an opening parenthesis (which
// is already consumed) begin a query.
func (t *translator) startsQuery() bool {
	p := t.peek()
	if p.is("select") || p.is("with") || p.is("values") || p.is("table") {
		return true
	}
	// ((SELECT ...) UNION ...) and the like.
	depth := 0
	for j := t.i; j < len(t.toks) && t.toks[j].isPunct("("); j++ {
		depth++
		if n := t.toks[j+1:]; len(n) > 0 && (n[0].is("select") || n[0].is("with") || n[0].is("values")) {
			return t.parenQueryEndsQuery(j)
		}
	}
	return false
}

// parenQueryEndsQuery reports whether the parenthesised group opened at j
// is followed by a set operator, making the outer group a query.
func (t *translator) parenQueryEndsQuery(j int) bool {
	depth := 0
	for k := j; k < len(t.toks); k++ {
		switch {
		case t.toks[k].isPunct("("):
			depth++
		case t.toks[k].isPunct(")"):
			depth--
			if depth == 0 {
				if k+1 < len(t.toks) {
					n := t.toks[k+1]
					return n.is("union") || n.is("intersect") || n.is("except") || n.is("order") || n.is("limit") || n.is("offset")
				}
				return false
			}
		}
	}
	return false
}

// subquery translates a query in parentheses; open is the "(" (consumed).
func (t *translator) subquery(open Token) (*node, error) {
	q, err := t.query(true)
	if err != nil {
		return nil, err
	}
	if err := t.expectPunct(")"); err != nil {
		return nil, err
	}
	n := &node{prec: precAtom}
	return n.txt("(", open.Pos).sub(q, 0).txt(")", -1), nil
}

// exprList parses expressions separated by commas, stopping before close.
func (t *translator) exprList(close string) ([]*node, error) {
	var list []*node
	if t.peek().isPunct(close) {
		return nil, nil
	}
	for {
		e, err := t.expr()
		if err != nil {
			return nil, err
		}
		list = append(list, e)
		if !t.acceptPunct(",") {
			return list, nil
		}
	}
}

// prefix parses a prefix operator or a primary with its postfix
// subscripts and casts.
func (t *translator) prefix() (*node, error) {
	tok := t.peek()
	switch {
	case tok.is("not"):
		t.next()
		e, err := t.exprBP(bpNot)
		if err != nil {
			return nil, err
		}
		n := &node{prec: precNot}
		return n.txt("NOT ", tok.Pos).sub(e, precIsBool), nil
	case tok.Kind == TokOp && (tok.Text == "-" || tok.Text == "+"):
		t.next()
		e, err := t.exprBP(bpUnary)
		if err != nil {
			return nil, err
		}
		n := &node{prec: precUnary}
		return n.txt(tok.Text, tok.Pos).sub(e, precAtom), nil
	case tok.Kind == TokOp:
		t.next()
		if !knownOps[tok.Text] {
			return nil, errAt(t.src, tok.Pos, pgerr.UndefinedFunction, "operator does not exist: %s", tok.Text)
		}
		e, err := t.exprBP(bpOp)
		if err != nil {
			return nil, err
		}
		return call("pg_op", tok.Pos, atom(quoteString(tok.Text), -1), e), nil
	}
	// As in PostgreSQL's grammar, only a parenthesised expression or a
	// parameter takes a field selection: (f(x)).n, $1.n.
	fieldable := tok.isPunct("(") || tok.Kind == TokParam
	p, err := t.primary()
	if err != nil {
		return nil, err
	}
	return t.postfix(p, fieldable)
}

// postfix applies subscripts, :: casts and field selections, which bind
// tighter than any operator (so -1::int is -(1::int)).
func (t *translator) postfix(p *node, fieldable bool) (*node, error) {
	for {
		tok := t.peek()
		switch {
		case tok.isPunct("::"):
			t.next()
			typ, err := t.typeName()
			if err != nil {
				return nil, err
			}
			p = call("pg_cast", tok.Pos, p, atom(quoteString(typ), -1))
		case tok.isPunct("["):
			t.next()
			var lo, hi *node
			var err error
			if !t.peek().isPunct(":") {
				if lo, err = t.expr(); err != nil {
					return nil, err
				}
			}
			if t.acceptPunct(":") {
				if !t.peek().isPunct("]") {
					if hi, err = t.expr(); err != nil {
						return nil, err
					}
				}
				if err := t.expectPunct("]"); err != nil {
					return nil, err
				}
				if lo == nil {
					lo = atom("NULL", -1)
				}
				if hi == nil {
					hi = atom("NULL", -1)
				}
				p = call("pg_slice", tok.Pos, p, lo, hi)
				continue
			}
			if err := t.expectPunct("]"); err != nil {
				return nil, err
			}
			p = call("pg_subscript", tok.Pos, p, lo)
		case tok.isPunct("."):
			if !fieldable {
				return nil, t.unsupported(tok, "field selection from a composite value")
			}
			t.next()
			f := t.next()
			switch {
			case f.Kind == TokIdent || f.Kind == TokQuotedIdent:
				p = call("pg_field", tok.Pos, p, atom(quoteString(f.Text), -1))
			case f.isOp("*"):
				return nil, t.unsupported(f, "field expansion (.*) of a composite value")
			default:
				return nil, t.syntaxErr(f)
			}
		default:
			return p, nil
		}
	}
}

func (t *translator) primary() (*node, error) {
	tok := t.next()
	switch tok.Kind {
	case TokNumber:
		return atom(tok.Text, tok.Pos), nil
	case TokString:
		return atom(quoteString(tok.Text), tok.Pos), nil
	case TokParam:
		return &node{prec: precAtom, parts: []part{{text: "?", pos: tok.Pos, param: tok.Param}}}, nil
	case TokQuotedIdent:
		t.i--
		return t.nameOrCall()
	case TokPunct:
		if tok.isPunct("(") {
			return t.parenthesised(tok)
		}
		return nil, t.syntaxErr(tok)
	case TokIdent:
	default:
		return nil, t.syntaxErr(tok)
	}
	switch tok.Text {
	case "null":
		return atom("NULL", tok.Pos), nil
	case "true", "false":
		// TiDB reads TRUE as the integer 1; the planner needs a boolean.
		return call("pg_cast", tok.Pos, atom(quoteString(tok.Text), -1), atom("'boolean'", -1)), nil
	case "default":
		return atom("DEFAULT", tok.Pos), nil
	case "case":
		return t.caseExpr(tok)
	case "exists":
		if t.peek().isPunct("(") {
			open := t.next()
			sub, err := t.subquery(open)
			if err != nil {
				return nil, err
			}
			n := &node{prec: precAtom}
			return n.txt("EXISTS ", tok.Pos).sub(sub, 0), nil
		}
	case "array":
		return t.arrayExpr(tok)
	case "cast":
		if err := t.expectPunct("("); err != nil {
			return nil, err
		}
		e, err := t.expr()
		if err != nil {
			return nil, err
		}
		if err := t.expect("as"); err != nil {
			return nil, err
		}
		typ, err := t.typeName()
		if err != nil {
			return nil, err
		}
		if err := t.expectPunct(")"); err != nil {
			return nil, err
		}
		return call("pg_cast", tok.Pos, e, atom(quoteString(typ), -1)), nil
	case "row":
		if t.peek().isPunct("(") {
			t.next()
			list, err := t.exprList(")")
			if err != nil {
				return nil, err
			}
			if err := t.expectPunct(")"); err != nil {
				return nil, err
			}
			return call("ROW", tok.Pos, list...), nil
		}
	case "interval":
		t.i--
		typ, err := t.typeName()
		if err != nil {
			return nil, err
		}
		s := t.next()
		if s.Kind != TokString {
			return nil, t.syntaxErr(s)
		}
		// Field qualifiers written after the string belong to the type;
		// but INTERVAL '10' SECOND, a number, is a number of the last
		// field (10 seconds), as in PostgreSQL.
		text := s.Text
		if q, ok, err := t.intervalFields(); err != nil {
			return nil, err
		} else if ok {
			if typ != "interval" {
				return nil, t.syntaxErr(t.peek())
			}
			fields, prec, _ := strings.Cut(q, "(")
			unit := fields[strings.LastIndexByte(fields, ' ')+1:]
			if _, err := strconv.ParseFloat(strings.TrimSpace(text), 64); err == nil {
				text = strings.TrimSpace(text) + " " + unit
				if prec != "" {
					typ += "(" + prec
				}
			} else {
				typ += " " + q
			}
		}
		return call("pg_cast", tok.Pos, atom(quoteString(text), s.Pos), atom(quoteString(typ), -1)), nil
	}
	if sqlValueFuncs[tok.Text] {
		args := []*node{atom(quoteString(tok.Text), -1)}
		// current_schema is also an ordinary function: current_schema().
		if tok.Text == "current_schema" && t.peek().isPunct("(") && t.peekN(1).isPunct(")") {
			t.i += 2
		}
		if t.peek().isPunct("(") && (tok.Text == "current_time" || tok.Text == "current_timestamp" || tok.Text == "localtime" || tok.Text == "localtimestamp") {
			t.next()
			p := t.next()
			if p.Kind != TokNumber {
				return nil, t.syntaxErr(p)
			}
			if err := t.expectPunct(")"); err != nil {
				return nil, err
			}
			args = append(args, atom(p.Text, p.Pos))
		}
		return call("pg_sqlvalue", tok.Pos, args...), nil
	}
	if reserved[tok.Text] && !((tok.Text == "left" || tok.Text == "right") && t.peek().isPunct("(")) {
		return nil, t.syntaxErr(tok)
	}
	t.i--
	// A type name followed by a string is a typed literal: date '2024-01-01'.
	save := t.i
	if typ, err := t.typeName(); err == nil && t.peek().Kind == TokString {
		s := t.next()
		return call("pg_cast", tok.Pos, atom(quoteString(s.Text), s.Pos), atom(quoteString(typ), -1)), nil
	}
	t.i = save
	return t.nameOrCall()
}

// parenthesised handles ( expr ), row constructors ( a, b ) and subqueries.
func (t *translator) parenthesised(open Token) (*node, error) {
	if t.startsQuery() {
		return t.subquery(open)
	}
	list, err := t.exprList(")")
	if err != nil {
		return nil, err
	}
	if len(list) == 0 {
		return nil, t.syntaxErr(t.peek())
	}
	if err := t.expectPunct(")"); err != nil {
		return nil, err
	}
	n := &node{prec: precAtom}
	n.txt("(", open.Pos)
	for i, e := range list {
		if i > 0 {
			n.txt(", ", -1)
		}
		n.sub(e, 0)
	}
	return n.txt(")", -1), nil
}

func (t *translator) caseExpr(kw Token) (*node, error) {
	n := &node{prec: precAtom}
	n.txt("CASE", kw.Pos)
	if !t.peek().is("when") {
		e, err := t.expr()
		if err != nil {
			return nil, err
		}
		n.txt(" ", -1).sub(e, 0)
	}
	for {
		w := t.next()
		switch {
		case w.is("when"), w.is("then"), w.is("else"):
			e, err := t.expr()
			if err != nil {
				return nil, err
			}
			n.txt(" "+strings.ToUpper(w.Text)+" ", w.Pos).sub(e, 0)
		case w.is("end"):
			return n.txt(" END", w.Pos), nil
		default:
			return nil, t.syntaxErr(w)
		}
	}
}

// arrayExpr handles ARRAY[...] (nested bare [...] inside it) and
// ARRAY(subquery).
func (t *translator) arrayExpr(kw Token) (*node, error) {
	if t.peek().isPunct("(") {
		open := t.next()
		if !t.startsQuery() {
			return nil, t.syntaxErr(t.peek())
		}
		sub, err := t.subquery(open)
		if err != nil {
			return nil, err
		}
		return call("pg_array_query", kw.Pos, sub), nil
	}
	open := t.peek()
	if !open.isPunct("[") {
		return nil, t.syntaxErr(open)
	}
	return t.arrayElems(open)
}

func (t *translator) arrayElems(open Token) (*node, error) {
	t.next()
	var elems []*node
	for !t.peek().isPunct("]") {
		var e *node
		var err error
		if t.peek().isPunct("[") {
			e, err = t.arrayElems(t.peek())
		} else {
			e, err = t.expr()
		}
		if err != nil {
			return nil, err
		}
		elems = append(elems, e)
		if !t.acceptPunct(",") {
			break
		}
	}
	if err := t.expectPunct("]"); err != nil {
		return nil, err
	}
	return call("pg_array", open.Pos, elems...), nil
}

// nameOrCall parses a possibly qualified name, and a function call when a
// parenthesis follows.
func (t *translator) nameOrCall() (*node, error) {
	first := t.peek()
	var names []Token
	for {
		tok := t.next()
		if tok.Kind != TokIdent && tok.Kind != TokQuotedIdent {
			return nil, t.syntaxErr(tok)
		}
		names = append(names, tok)
		if !t.peek().isPunct(".") {
			break
		}
		t.next()
		if t.peek().isOp("*") {
			star := t.next()
			n := &node{prec: precAtom}
			for _, nm := range names {
				n.txt(quoteIdent(nm.Text)+".", nm.Pos)
			}
			return n.txt("*", star.Pos), nil
		}
	}
	if len(names) > 3 {
		return nil, errAt(t.src, first.Pos, pgerr.SyntaxError, "improper qualified name (too many dotted names)")
	}
	if t.peek().isPunct("(") {
		return t.funcCall(names)
	}
	n := &node{prec: precAtom}
	for i, nm := range names {
		if i > 0 {
			n.txt(".", -1)
		}
		n.txt(quoteIdent(nm.Text), nm.Pos)
	}
	return n, nil
}

// funcName writes a function name: unquoted when it is a plain lower-case
// word, so that TiDB recognises aggregates such as count(*).
func funcName(names []Token) string {
	var parts []string
	for _, nm := range names {
		if isPlainWord(nm.Text) && !quotedFuncs[nm.Text] {
			parts = append(parts, nm.Text)
		} else {
			parts = append(parts, quoteIdent(nm.Text))
		}
	}
	return strings.Join(parts, ".")
}

// quotedFuncs are function names TiDB's grammar reads as something else:
// MySQL's aggregates stddev, std and variance (the population forms;
// PostgreSQL's stddev and variance are the sample ones), mode, a keyword
// there, and its sequence functions. Written quoted, they reach the planner as calls by name.
var quotedFuncs = map[string]bool{"stddev": true, "std": true, "variance": true, "mode": true,
	// TiDB's own sequence functions take a name, not a string.
	"nextval": true, "setval": true, "lastval": true, "currval": true}

// tidbWindowFuncs are the functions TiDB's grammar reads with an OVER
// clause: its aggregates and the SQL window functions.
var tidbWindowFuncs = wordSet(`avg bit_and bit_or bit_xor count max min sum stddev_pop stddev_samp
var_pop var_samp row_number rank dense_rank percent_rank cume_dist ntile lag lead first_value
last_value nth_value`)

// windowOnlyFuncs are the SQL window functions, which are no aggregates.
var windowOnlyFuncs = wordSet(`row_number rank dense_rank percent_rank cume_dist ntile lag lead
first_value last_value nth_value`)

// windowCarrier wraps an aggregate TiDB does not read with OVER:
// fn(args) OVER w is written max(pg_window_call(fn(args))) OVER w, and
// fn(args) FILTER (WHERE c) OVER w is max(pg_window_call(fn(args),
// pg_window_filter(c))) OVER w.
const (
	windowCarrier = "pg_window_call"
	// WindowFilter names the last argument the parse leaves on a window
	// aggregate with a FILTER: WindowFilter(cond); the planner takes it off.
	WindowFilter = "pg_window_filter"
)

func isPlainWord(s string) bool {
	if s == "" || isDigit(s[0]) {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c == '_' || isDigit(c)) {
			return false
		}
	}
	return true
}

func (t *translator) funcCall(names []Token) (*node, error) {
	open := t.next()
	nameTok := names[len(names)-1]
	if len(names) == 1 && nameTok.Kind == TokIdent {
		switch nameTok.Text {
		case "extract", "substring", "position", "trim", "overlay":
			return t.specialCall(nameTok, open)
		}
	}
	n := &node{prec: precAtom}
	n.txt(funcName(names)+"(", nameTok.Pos)
	var distinct *Token
	if q := t.peek(); q.is("distinct") || q.is("all") {
		t.next()
		if q.is("distinct") && !(len(names) == 1 && tidbDistinctAggs[nameTok.Text]) {
			distinct = &q // TiDB reads DISTINCT only in MySQL's aggregates
		} else {
			n.txt(strings.ToUpper(q.Text)+" ", q.Pos)
		}
	}
	if star := t.peek(); star.isOp("*") && t.peekN(1).isPunct(")") {
		t.next()
		n.txt("*", star.Pos)
	} else {
		if v := t.peek(); v.is("variadic") {
			return nil, t.unsupported(v, "VARIADIC")
		}
		list, err := t.exprList(")")
		if err != nil {
			return nil, err
		}
		for i, e := range list {
			if i > 0 {
				n.txt(", ", -1)
			}
			n.sub(e, 0)
		}
	}
	var orderKeys []*node
	orderPos := 0
	if o := t.peek(); o.is("order") {
		t.next()
		if err := t.expect("by"); err != nil {
			return nil, err
		}
		orderPos = o.Pos
		for {
			k, err := t.aggSortKey()
			if err != nil {
				return nil, err
			}
			orderKeys = append(orderKeys, k)
			if !t.acceptPunct(",") {
				break
			}
		}
	} else if o.isPunct("=>") || o.isPunct(":=") {
		return nil, t.unsupported(o, "named function arguments")
	}
	if err := t.expectPunct(")"); err != nil {
		return nil, err
	}
	n.txt(")", -1)
	if distinct != nil {
		n = call("pg_agg_distinct", distinct.Pos, n)
	}
	if orderKeys != nil {
		n = call("pg_agg_order", orderPos, append([]*node{n}, orderKeys...)...)
		if o := t.peek(); o.is("over") {
			return nil, t.unsupported(o, "ORDER BY in a window function's arguments")
		}
	}
	if w := t.peek(); w.is("within") {
		// fn(args) WITHIN GROUP (ORDER BY key): an ordered-set aggregate,
		// pg_within_group(fn(args), key) (sql/doc.go).
		if orderKeys != nil || distinct != nil {
			return nil, t.syntaxErr(w)
		}
		t.next()
		if err := t.expect("group"); err != nil {
			return nil, err
		}
		if err := t.expectPunct("("); err != nil {
			return nil, err
		}
		if err := t.expect("order"); err != nil {
			return nil, err
		}
		if err := t.expect("by"); err != nil {
			return nil, err
		}
		k, err := t.aggSortKey()
		if err != nil {
			return nil, err
		}
		if c := t.peek(); c.isPunct(",") {
			return nil, t.unsupported(c, "WITHIN GROUP with more than one ORDER BY key")
		}
		if err := t.expectPunct(")"); err != nil {
			return nil, err
		}
		n = call("pg_within_group", w.Pos, n, k)
	}
	var filter *node
	if f := t.peek(); f.is("filter") && t.peekN(1).isPunct("(") {
		t.next()
		t.next()
		if err := t.expect("where"); err != nil {
			return nil, err
		}
		cond, err := t.expr()
		if err != nil {
			return nil, err
		}
		if err := t.expectPunct(")"); err != nil {
			return nil, err
		}
		if o := t.peek(); !o.is("over") {
			return call("pg_filter", f.Pos, n, cond), nil
		}
		filter = call(WindowFilter, f.Pos, cond)
	}
	if o := t.peek(); o.is("over") {
		t.next()
		if distinct != nil {
			return nil, errAt(t.src, distinct.Pos, pgerr.FeatureNotSupported, "DISTINCT is not implemented for window functions")
		}
		switch {
		case filter != nil && windowOnlyFuncs[nameTok.Text]:
			// TiDB would not read rank() without its OVER in the carrier.
			return nil, errAt(t.src, nameTok.Pos, pgerr.FeatureNotSupported, "FILTER is not implemented for non-aggregate window functions")
		case filter != nil:
			n = call("max", nameTok.Pos, call(windowCarrier, nameTok.Pos, n, filter))
		case !tidbWindowFuncs[nameTok.Text] || len(names) > 1:
			// TiDB's grammar takes OVER only after its own aggregates
			// and window functions: any other aggregate (bool_or,
			// stddev, ...), or one with a FILTER, goes in a carrier
			// that the parse unwraps (sql/parse.go,
			// unwrapWindowCarrier).
			n = call("max", nameTok.Pos, call(windowCarrier, nameTok.Pos, n))
		}
		n.txt(" OVER ", o.Pos)
		if w := t.peek(); w.Kind == TokIdent || w.Kind == TokQuotedIdent {
			t.next()
			return n.txt(quoteIdent(w.Text), w.Pos), nil
		}
		open := t.peek()
		if err := t.expectPunct("("); err != nil {
			return nil, err
		}
		spec, err := t.walk(true, modeWindow)
		if err != nil {
			return nil, err
		}
		if err := t.expectPunct(")"); err != nil {
			return nil, err
		}
		n.txt("(", open.Pos).sub(spec, 0).txt(")", -1)
	}
	return n, nil
}

// specialCall rewrites the SQL-standard call syntaxes into plain calls with
// PostgreSQL's own functions, as gram.y does: extract → pg_extract('field',
// x), substring(a FROM b FOR c) → substring(a, b, c), position(a IN b) →
// strpos(b, a), trim([LEADING|TRAILING|BOTH] [c] FROM s) → ltrim/rtrim/btrim,
// overlay(a PLACING b FROM c [FOR d]) → overlay(a, b, c[, d]).
func (t *translator) specialCall(name, open Token) (*node, error) {
	var args []*node
	fn := name.Text
	arg := func() error {
		e, err := t.expr()
		if err == nil {
			args = append(args, e)
		}
		return err
	}
	finish := func() (*node, error) {
		if err := t.expectPunct(")"); err != nil {
			return nil, err
		}
		return t.postfixCall(call(fn, name.Pos, args...))
	}
	switch fn {
	case "extract":
		f := t.next()
		if f.Kind != TokIdent && f.Kind != TokString {
			return nil, t.syntaxErr(f)
		}
		if err := t.expect("from"); err != nil {
			return nil, err
		}
		fn = "pg_extract"
		args = append(args, atom(quoteString(strings.ToLower(f.Text)), f.Pos))
		if err := arg(); err != nil {
			return nil, err
		}
		return finish()
	case "position":
		// b_expr IN b_expr: parse above IN's binding power.
		a, err := t.exprBP(bpLike)
		if err != nil {
			return nil, err
		}
		if !t.accept("in") {
			return nil, t.syntaxErr(t.peek())
		}
		b, err := t.exprBP(bpLike)
		if err != nil {
			return nil, err
		}
		fn = "strpos"
		args = []*node{b, a}
		return finish()
	case "trim":
		fn = "btrim"
		if t.accept("leading") {
			fn = "ltrim"
		} else if t.accept("trailing") {
			fn = "rtrim"
		} else {
			t.accept("both")
		}
		var chars *node
		if !t.peek().is("from") {
			e, err := t.expr()
			if err != nil {
				return nil, err
			}
			chars = e
		}
		if t.accept("from") {
			list, err := t.exprList(")")
			if err != nil {
				return nil, err
			}
			args = list
			if chars != nil {
				args = append(args, chars)
			}
		} else {
			args = []*node{chars}
			for t.acceptPunct(",") {
				if err := arg(); err != nil {
					return nil, err
				}
			}
		}
		if len(args) == 0 || args[0] == nil {
			return nil, t.syntaxErr(t.peek())
		}
		return finish()
	}
	// substring and overlay: positional or keyword arguments.
	if err := arg(); err != nil {
		return nil, err
	}
	if fn == "overlay" {
		if !t.peek().is("placing") {
			for t.acceptPunct(",") {
				if err := arg(); err != nil {
					return nil, err
				}
			}
			return finish()
		}
		t.next()
		if err := arg(); err != nil {
			return nil, err
		}
		if err := t.expect("from"); err != nil {
			return nil, err
		}
		if err := arg(); err != nil {
			return nil, err
		}
		if t.accept("for") {
			if err := arg(); err != nil {
				return nil, err
			}
		}
		return finish()
	}
	switch {
	case t.peek().is("from"):
		t.next()
		if err := arg(); err != nil {
			return nil, err
		}
		if t.accept("for") {
			if err := arg(); err != nil {
				return nil, err
			}
		}
	case t.peek().is("for"):
		t.next()
		args = append(args, atom("1", -1))
		if err := arg(); err != nil {
			return nil, err
		}
	case t.peek().is("similar"):
		return nil, t.unsupported(t.peek(), "substring(... SIMILAR ...)")
	default:
		for t.acceptPunct(",") {
			if err := arg(); err != nil {
				return nil, err
			}
		}
	}
	return finish()
}

// postfixCall rejects FILTER and OVER after the special call forms, which
// are never aggregates.
func (t *translator) postfixCall(n *node) (*node, error) {
	if f := t.peek(); f.is("filter") || f.is("over") {
		return nil, t.syntaxErr(f)
	}
	return n, nil
}

// tidbDistinctAggs are the aggregates whose DISTINCT the TiDB grammar
// reads itself; any other f(DISTINCT ...) is carried as pg_agg_distinct.
var tidbDistinctAggs = map[string]bool{"count": true, "sum": true, "avg": true, "min": true, "max": true}

// aggSortKey reads one ORDER BY key inside an aggregate call, written as
// the expression wrapped in pg_desc for DESC, then in pg_nulls_first or
// pg_nulls_last for an explicit NULLS ordering.
func (t *translator) aggSortKey() (*node, error) {
	e, err := t.expr()
	if err != nil {
		return nil, err
	}
	if d := t.peek(); d.is("asc") {
		t.next()
	} else if d.is("desc") {
		t.next()
		e = call("pg_desc", d.Pos, e)
	} else if d.is("using") {
		return nil, t.unsupported(d, "ORDER BY ... USING")
	}
	if nl := t.peek(); nl.is("nulls") {
		t.next()
		switch w := t.next(); {
		case w.is("first"):
			e = call("pg_nulls_first", nl.Pos, e)
		case w.is("last"):
			e = call("pg_nulls_last", nl.Pos, e)
		default:
			return nil, t.syntaxErr(w)
		}
	}
	return e, nil
}
