package sql

import (
	"fmt"
	"strings"

	"github.com/strand-db/strand/sql/pgerr"
)

// queryMode says what a walked token run is, for the clauses that are
// legal only in some statements.
type queryMode uint8

const (
	modeSelect queryMode = iota
	modeWindow           // inside OVER ( ... )
	modeUpdate           // the rest of UPDATE after the table
	modeDelete           // the rest of DELETE after the table
	modeFrom             // a parenthesized join: FROM items and joins
)

// query translates a SELECT (or VALUES, or the clause part of UPDATE and
// DELETE) clause by clause. Keywords are written through, expressions go
// to the Pratt parser, and a word after a complete expression is an alias.
// With inParens it stops before an unmatched ")".
func (t *translator) query(inParens bool) (*node, error) {
	return t.walk(inParens, modeSelect)
}

func (t *translator) walk(inParens bool, mode queryMode) (*node, error) {
	n := &node{prec: precAtom}
	sp := func() string {
		if len(n.parts) == 0 {
			return ""
		}
		return " "
	}
	kw := func(tok Token, s string) {
		n.txt(sp()+s, tok.Pos)
	}
	if w := t.peek(); mode == modeWindow && (w.Kind == TokIdent || w.Kind == TokQuotedIdent) && !w.is("partition") && !w.is("order") &&
		!w.is("rows") && !w.is("range") && !w.is("groups") {
		// OVER (w ...): an existing window's name first.
		t.next()
		n.txt(quoteIdent(w.Text), w.Pos)
	}
	afterExpr := false
	clause := ""
	if mode == modeFrom {
		clause, mode = "from", modeSelect
	}
	for !t.eof() {
		tok := t.peek()
		if tok.isPunct(")") {
			if inParens {
				break
			}
			return nil, t.syntaxErr(tok)
		}
		if tok.isPunct(",") {
			t.next()
			n.txt(",", tok.Pos)
			afterExpr = false
			if clause == "on" {
				clause = "from" // the next FROM item, after a join's condition
			}
			continue
		}
		isKw := tok.Kind == TokIdent && reserved[tok.Text] && !t.startsExpr(tok)
		if tok.Kind == TokIdent && mode == modeWindow && (tok.is("rows") || tok.is("range") || tok.is("groups") || tok.is("partition")) {
			isKw = true
		}
		if !afterExpr && tok.is("values") && t.peekN(1).isPunct("(") && clause == "" && mode == modeSelect && (inParens || !t.insertBody) {
			// VALUES as a query (a statement, or in FROM): TiDB reads
			// VALUES only as INSERT's rows.
			v, err := t.valuesQuery()
			if err != nil {
				return nil, err
			}
			n.txt(sp(), -1).sub(v, 0)
			continue
		}
		if !afterExpr && tok.is("values") && t.peekN(1).isPunct("(") || mode == modeUpdate && clause == "" && tok.is("set") {
			isKw = true
		}
		if !afterExpr && clause == "group" && groupingSets(t) != "" {
			g, err := t.groupingElement()
			if err != nil {
				return nil, err
			}
			n.txt(sp(), -1).sub(g, 0)
			afterExpr = true
			continue
		}
		if !afterExpr && clause == "from" && mode == modeSelect && (tok.isPunct("(") || tok.is("lateral") || tok.Kind == TokIdent && !reserved[tok.Text] || tok.Kind == TokQuotedIdent) {
			item, err := t.fromItem()
			if err != nil {
				return nil, err
			}
			n.txt(sp(), -1).sub(item, 0)
			afterExpr = true
			continue
		}
		if tok.Kind == TokIdent && afterExpr && (tok.is("nowait") || tok.is("skip")) && clause == "for" {
			isKw = true
		}
		if !isKw {
			if afterExpr {
				if tok.Kind == TokIdent || tok.Kind == TokQuotedIdent {
					t.next()
					n.txt(" "+quoteIdent(tok.Text), tok.Pos)
					continue
				}
				return nil, t.syntaxErr(tok)
			}
			if tok.isOp("*") && clause == "select" {
				t.next()
				kw(tok, "*")
				afterExpr = true
				continue
			}
			if clause == "from" && (tok.Kind == TokIdent || tok.Kind == TokQuotedIdent) && t.isTableFunction() {
				f, err := t.tableFunction()
				if err != nil {
					return nil, err
				}
				n.txt(sp(), -1).sub(f, 0)
				afterExpr = true
				continue
			}
			e, err := t.expr()
			if err != nil {
				return nil, err
			}
			if clause == "order" {
				if e, err = t.sortSuffix(e); err != nil {
					return nil, err
				}
			}
			n.txt(sp(), -1).sub(e, 0)
			afterExpr = true
			continue
		}
		t.next()
		afterExpr = false
		switch tok.Text {
		case "select":
			kw(tok, "SELECT")
			clause = "select"
			if d := t.peek(); d.is("distinct") {
				t.next()
				if on := t.peek(); on.is("on") {
					t.next()
					if err := t.expectPunct("("); err != nil {
						return nil, err
					}
					list, err := t.exprList(")")
					if err != nil {
						return nil, err
					}
					if err := t.expectPunct(")"); err != nil {
						return nil, err
					}
					n.txt(" ", -1).sub(call("pg_distinct_on", d.Pos, list...), 0).txt(",", -1)
				} else {
					kw(d, "DISTINCT")
				}
			} else if t.accept("all") {
				kw(d, "ALL")
			}
		case "lateral":
			// A LATERAL item is read by fromItem; anywhere else it is
			// out of place.
			return nil, t.syntaxErr(tok)
		case "from", "where", "having", "window", "on", "using", "table":
			if tok.Text == "from" && (mode == modeUpdate || mode == modeDelete) {
				return nil, t.unsupported(tok, "FROM in UPDATE")
			}
			if tok.Text == "using" && mode == modeDelete {
				return nil, t.unsupported(tok, "DELETE ... USING")
			}
			if tok.Text == "where" && t.peek().is("current") && t.peekN(1).is("of") {
				return nil, t.unsupported(tok, "WHERE CURRENT OF")
			}
			kw(tok, strings.ToUpper(tok.Text))
			clause = tok.Text
			if tok.Text == "from" {
				if o := t.peek(); o.is("only") {
					return nil, t.unsupported(o, "FROM ONLY")
				}
			}
		case "full":
			// TiDB's grammar has no FULL JOIN; STRAIGHT_JOIN, MySQL's
			// join-order hint and meaningless to PostgreSQL, carries it.
			t.accept("outer")
			if err := t.expect("join"); err != nil {
				return nil, err
			}
			kw(tok, "STRAIGHT_JOIN")
			clause = "from"
		case "natural":
			if f := t.peek(); f.is("full") {
				return nil, t.unsupported(f, "NATURAL FULL JOIN")
			}
			kw(tok, "NATURAL")
			clause = "from"
		case "join", "inner", "left", "right", "outer", "cross":
			kw(tok, strings.ToUpper(tok.Text))
			clause = "from"
		case "group", "order", "partition":
			if mode == modeUpdate || mode == modeDelete {
				return nil, t.syntaxErr(tok)
			}
			if err := t.expect("by"); err != nil {
				return nil, err
			}
			kw(tok, strings.ToUpper(tok.Text)+" BY")
			clause = tok.Text
			if tok.Text == "partition" {
				clause = "select"
			}
		case "union", "intersect", "except":
			kw(tok, strings.ToUpper(tok.Text))
			if q := t.peek(); q.is("all") || q.is("distinct") {
				t.next()
				kw(q, strings.ToUpper(q.Text))
			}
			clause = ""
		case "as":
			kw(tok, "AS")
			a := t.peek()
			switch {
			case a.isPunct("(") && clause == "window":
				t.next()
				spec, err := t.walk(true, modeWindow)
				if err != nil {
					return nil, err
				}
				if err := t.expectPunct(")"); err != nil {
					return nil, err
				}
				n.txt(" (", a.Pos).sub(spec, 0).txt(")", -1)
				afterExpr = true
			case a.isPunct("("):
			case a.is("materialized") || a.is("not"):
				return nil, t.unsupported(a, "MATERIALIZED in WITH")
			case a.Kind == TokIdent || a.Kind == TokQuotedIdent:
				t.next()
				n.txt(" "+quoteIdent(a.Text), a.Pos)
				afterExpr = true
			default:
				return nil, t.syntaxErr(a)
			}
		case "with":
			kw(tok, "WITH")
			if r := t.peek(); r.is("recursive") {
				t.next()
				kw(r, "RECURSIVE")
			}
			clause = "with"
		case "limit", "offset", "fetch":
			if mode == modeUpdate || mode == modeDelete {
				return nil, t.syntaxErr(tok)
			}
			t.i--
			lim, err := t.limitClause()
			if err != nil {
				return nil, err
			}
			if lim != nil {
				n.txt(sp(), -1).sub(lim, 0)
			}
		case "for":
			lk := t.next()
			switch {
			case lk.is("update"), lk.is("share"):
				kw(tok, "FOR "+strings.ToUpper(lk.Text))
			default:
				return nil, t.unsupported(lk, "this FOR locking clause")
			}
			if t.accept("of") {
				kw(tok, "OF")
			}
			clause = "for"
		case "nowait":
			kw(tok, "NOWAIT")
			afterExpr = true
		case "skip":
			if err := t.expect("locked"); err != nil {
				return nil, err
			}
			kw(tok, "SKIP LOCKED")
			afterExpr = true
		case "rows", "range", "groups":
			f, err := t.frame(tok)
			if err != nil {
				return nil, err
			}
			n.txt(sp(), -1).sub(f, 0)
			afterExpr = true
		case "into":
			return nil, t.unsupported(tok, "SELECT INTO")
		case "values":
			kw(tok, "VALUES")
			clause = "values"
		case "set":
			kw(tok, "SET")
			clause = "set"
		default:
			return nil, t.syntaxErr(tok)
		}
	}
	if len(n.parts) == 0 && mode != modeWindow {
		return nil, t.syntaxErr(t.peek())
	}
	return n, nil
}

// startsExpr reports whether a reserved word begins an expression.
func (t *translator) startsExpr(tok Token) bool {
	switch tok.Text {
	case "not", "null", "true", "false", "default", "case", "cast", "array":
		return true
	case "left", "right":
		return t.peekN(1).isPunct("(")
	}
	return sqlValueFuncs[tok.Text]
}

// valuesQuery translates VALUES (row), ... (the current token is VALUES)
// into the query TiDB reads the same way, a UNION ALL of one SELECT per
// row, whose first names the columns column1, column2, ... as PostgreSQL
// does. The column types are resolved across the rows, as PostgreSQL
// resolves VALUES and UNION alike.
func (t *translator) valuesQuery() (*node, error) {
	setOp := func(tk Token) bool {
		return tk.is("union") || tk.is("intersect") || tk.is("except") || tk.is("all") || tk.is("distinct")
	}
	inSetOp := t.i > 0 && setOp(t.toks[t.i-1])
	start := t.next()
	n := &node{prec: precAtom}
	width := -1
	rows := 0
	for {
		rows++
		open := t.peek()
		if err := t.expectPunct("("); err != nil {
			return nil, err
		}
		row, err := t.exprList(")")
		if err != nil {
			return nil, err
		}
		if err := t.expectPunct(")"); err != nil {
			return nil, err
		}
		first := width < 0
		if !first && len(row) != width {
			return nil, errAt(t.src, open.Pos, pgerr.SyntaxError, "VALUES lists must all be the same length")
		}
		if first {
			width = len(row)
			n.txt("SELECT ", start.Pos)
		} else {
			n.txt(" UNION ALL SELECT ", open.Pos)
		}
		for i, e := range row {
			if i > 0 {
				n.txt(", ", -1)
			}
			n.sub(e, 0)
			if first {
				n.txt(" AS "+quoteIdent(fmt.Sprintf("column%d", i+1)), -1)
			}
		}
		if !t.acceptPunct(",") {
			if rows > 1 && (inSetOp || setOp(t.peek())) {
				// One operand of the set operation around it: UNION ALL
				// binds no tighter than the operator beside it.
				return (&node{prec: precAtom}).txt("(", start.Pos).sub(n, 0).txt(")", -1), nil
			}
			return n, nil
		}
	}
}

// fromItem translates one FROM item: a table or view name, a function, a
// subquery (VALUES among them) or a parenthesized join, with its alias,
// or LATERAL and a subquery or function. A column alias list, alias(a,
// b), which TiDB's grammar takes only after LATERAL, reaches it as
// LATERAL (query) AS alias (a, b); a table with one becomes (SELECT *
// FROM t). The planner treats every LATERAL item as one that may read the
// items before it, as PostgreSQL's LATERAL (and every function in FROM)
// may (sql/doc.go).
func (t *translator) fromItem() (*node, error) {
	lateral := t.accept("lateral")
	start := t.peek()
	if lateral && !(start.isPunct("(") && t.parenQuery() || t.isTableFunction()) {
		return nil, t.syntaxErr(start)
	}
	var item *node
	kind := "table"
	switch {
	case start.isPunct("(") && !t.parenQuery():
		t.next()
		inner, err := t.walk(true, modeFrom)
		if err != nil {
			return nil, err
		}
		if err := t.expectPunct(")"); err != nil {
			return nil, err
		}
		item = (&node{prec: precAtom}).txt("(", start.Pos).sub(inner, 0).txt(")", -1)
		kind = "join"
	case start.isPunct("("):
		var err error
		if item, err = t.expr(); err != nil {
			return nil, err
		}
		kind = "query"
	case t.isTableFunction():
		f, err := t.tableFunction()
		if err != nil {
			return nil, err
		}
		return (&node{prec: precAtom}).txt("LATERAL ", start.Pos).sub(f, 0), nil
	default:
		var err error
		if item, err = t.expr(); err != nil {
			return nil, err
		}
	}
	explicitAs := t.accept("as")
	a := t.peek()
	if !(a.Kind == TokQuotedIdent || a.Kind == TokIdent && !reserved[a.Text]) {
		if explicitAs || lateral {
			// PostgreSQL 15 needs an alias for a subquery in FROM too;
			// TiDB's grammar for LATERAL does.
			return nil, t.syntaxErr(a)
		}
		return item, nil
	}
	t.next()
	alias := quoteIdent(a.Text)
	if !t.peek().isPunct("(") {
		if lateral {
			return (&node{prec: precAtom}).txt("LATERAL ", start.Pos).sub(item, 0).txt(" AS "+alias, -1), nil
		}
		return item.txt(" AS "+alias, -1), nil
	}
	open := t.next()
	var cols []string
	for {
		c := t.next()
		if c.Kind != TokIdent && c.Kind != TokQuotedIdent {
			return nil, t.syntaxErr(c)
		}
		cols = append(cols, quoteIdent(c.Text))
		if !t.acceptPunct(",") {
			break
		}
	}
	if err := t.expectPunct(")"); err != nil {
		return nil, err
	}
	out := &node{prec: precAtom}
	switch kind {
	case "join":
		return nil, t.unsupported(open, "a column alias list on a join")
	case "query":
		out.txt("LATERAL ", start.Pos).sub(item, 0)
	default:
		out.txt("LATERAL (SELECT * FROM ", start.Pos).sub(item, 0).txt(")", -1)
	}
	return out.txt(" AS "+alias+" ("+strings.Join(cols, ", ")+")", -1), nil
}

// parenQuery reports whether the "(" at the current token opens a query
// (a subquery or VALUES) rather than a join.
func (t *translator) parenQuery() bool {
	t.i++
	defer func() { t.i-- }()
	return t.startsQuery()
}

// isTableFunction reports whether the FROM item at the current token is
// a function call: [schema.]name(...).
func (t *translator) isTableFunction() bool {
	j := t.i
	for j+2 < len(t.toks) && t.toks[j+1].isPunct(".") {
		j += 2
	}
	return j+1 < len(t.toks) && t.toks[j+1].isPunct("(") && !t.toks[t.i].is("lateral")
}

// tableFunction translates a function in FROM, fn(args) [[AS] alias
// [(column)]], which TiDB's grammar lacks, into a derived table the
// planner recognises:
//
//	(SELECT pg_table_function(fn(args)) AS "column") AS "alias"
//
// As in PostgreSQL, the column of a function returning a scalar is named
// by the column alias, else the table alias, else the function name.
func (t *translator) tableFunction() (*node, error) {
	start := t.peek()
	j := t.i
	for t.toks[j+1].isPunct(".") {
		j += 2
	}
	name := t.toks[j].Text
	fn, err := t.expr()
	if err != nil {
		return nil, err
	}
	if w := t.peek(); w.is("with") && t.peekN(1).is("ordinality") {
		return nil, t.unsupported(w, "WITH ORDINALITY")
	}
	alias, col := name, ""
	explicitAs := t.accept("as")
	if a := t.peek(); a.Kind == TokQuotedIdent || a.Kind == TokIdent && !reserved[a.Text] {
		t.next()
		alias = a.Text
	} else if explicitAs {
		return nil, t.syntaxErr(a)
	}
	if t.peek().isPunct("(") {
		t.next()
		c := t.next()
		if c.Kind != TokIdent && c.Kind != TokQuotedIdent {
			return nil, t.syntaxErr(c)
		}
		col = c.Text
		if p := t.peek(); !p.isPunct(")") {
			return nil, t.unsupported(p, "column definition lists of table functions")
		}
		t.next()
	}
	if col == "" {
		col = alias
	}
	n := &node{prec: precAtom}
	n.txt("(SELECT ", start.Pos).sub(call("pg_table_function", start.Pos, fn), 0)
	n.txt(" AS "+quoteIdent(col)+") AS "+quoteIdent(alias), -1)
	return n, nil
}

// sortSuffix reads ASC/DESC and NULLS FIRST/LAST after an ORDER BY
// expression. An explicit NULLS ordering wraps the expression:
// pg_nulls_first(e) / pg_nulls_last(e); ASC/DESC stay on the item.
func (t *translator) sortSuffix(e *node) (*node, error) {
	dir := ""
	if d := t.peek(); d.is("asc") || d.is("desc") {
		t.next()
		dir = " " + strings.ToUpper(d.Text)
	} else if d.is("using") {
		return nil, t.unsupported(d, "ORDER BY ... USING")
	}
	if nl := t.peek(); nl.is("nulls") {
		t.next()
		w := t.next()
		switch {
		case w.is("first"):
			e = call("pg_nulls_first", nl.Pos, e)
		case w.is("last"):
			e = call("pg_nulls_last", nl.Pos, e)
		default:
			return nil, t.syntaxErr(w)
		}
	}
	if dir == "" {
		return e, nil
	}
	n := &node{prec: precAtom}
	return n.sub(e, 0).txt(dir, -1), nil
}

// limitClause reads any order of LIMIT, OFFSET and FETCH FIRST and writes
// TiDB's LIMIT n [OFFSET m]. TiDB takes only constants and parameters there.
// LIMIT ALL and LIMIT NULL mean no limit; an OFFSET without a limit gets
// MySQL's documented "no limit" count, 18446744073709551615.
func (t *translator) limitClause() (*node, error) {
	var limit, offset *node
	seenLimit, seenOffset := false, false
	for {
		tok := t.peek()
		switch {
		case tok.is("limit"):
			t.next()
			if seenLimit {
				return nil, errAt(t.src, tok.Pos, pgerr.SyntaxError, "multiple LIMIT clauses not allowed")
			}
			seenLimit = true
			if t.accept("all") {
				continue
			}
			e, err := t.limitValue(tok)
			if err != nil {
				return nil, err
			}
			limit = e
			if c := t.peek(); c.isPunct(",") {
				return nil, errAt(t.src, c.Pos, pgerr.SyntaxError, "LIMIT #,# syntax is not supported").WithHint("Use separate LIMIT and OFFSET clauses.")
			}
		case tok.is("offset"):
			t.next()
			if seenOffset {
				return nil, errAt(t.src, tok.Pos, pgerr.SyntaxError, "multiple OFFSET clauses not allowed")
			}
			seenOffset = true
			e, err := t.limitValue(tok)
			if err != nil {
				return nil, err
			}
			offset = e
			if !t.accept("rows") {
				t.accept("row")
			}
		case tok.is("fetch"):
			t.next()
			if seenLimit {
				return nil, errAt(t.src, tok.Pos, pgerr.SyntaxError, "multiple LIMIT clauses not allowed")
			}
			seenLimit = true
			if !t.accept("first") && !t.accept("next") {
				return nil, t.syntaxErr(t.peek())
			}
			if p := t.peek(); p.is("row") || p.is("rows") {
				limit = atom("1", -1)
			} else {
				e, err := t.limitValue(tok)
				if err != nil {
					return nil, err
				}
				limit = e
			}
			if !t.accept("rows") && !t.accept("row") {
				return nil, t.syntaxErr(t.peek())
			}
			if w := t.peek(); w.is("with") {
				return nil, t.unsupported(w, "FETCH ... WITH TIES")
			}
			if err := t.expect("only"); err != nil {
				return nil, err
			}
		default:
			if limit == nil && offset == nil {
				return nil, nil
			}
			n := &node{prec: precAtom}
			if limit == nil {
				limit = atom("18446744073709551615", -1)
			}
			n.txt("LIMIT ", -1).sub(limit, 0)
			if offset != nil {
				n.txt(" OFFSET ", -1).sub(offset, 0)
			}
			return n, nil
		}
	}
}

// limitValue reads a LIMIT/OFFSET/FETCH count: an integer or a parameter.
// LIMIT NULL is no limit (nil).
func (t *translator) limitValue(clause Token) (*node, error) {
	tok := t.peek()
	switch {
	case tok.is("null"):
		t.next()
		return nil, nil
	case tok.Kind == TokParam && !t.peekN(1).isPunct("::"):
		t.next()
		if _, ok := t.infixBP(); !ok {
			return &node{prec: precAtom, parts: []part{{text: "?", pos: tok.Pos, param: tok.Param}}}, nil
		}
	case tok.Kind == TokNumber && !strings.ContainsAny(tok.Text, ".eE") && !t.peekN(1).isPunct("::"):
		t.next()
		if _, ok := t.infixBP(); !ok {
			return atom(tok.Text, tok.Pos), nil
		}
	}
	return nil, t.unsupported(tok, strings.ToUpper(clause.Text)+" with an expression other than an integer or a parameter")
}

// frame reads a window frame after ROWS/RANGE/GROUPS.
func (t *translator) frame(kind Token) (*node, error) {
	n := &node{prec: precAtom}
	n.txt(strings.ToUpper(kind.Text), kind.Pos)
	bound := func() error {
		tok := t.peek()
		switch {
		case tok.is("unbounded"):
			t.next()
			d := t.next()
			if !d.is("preceding") && !d.is("following") {
				return t.syntaxErr(d)
			}
			n.txt(" UNBOUNDED "+strings.ToUpper(d.Text), tok.Pos)
		case tok.is("current"):
			t.next()
			if err := t.expect("row"); err != nil {
				return err
			}
			n.txt(" CURRENT ROW", tok.Pos)
		default:
			// TiDB's grammar takes a number or a parameter as an offset,
			// or INTERVAL expr unit: any other offset (an interval, a
			// negative number, a column the planner refuses) is written
			// in that form, with MICROSECOND as a carrier the planner
			// ignores (it binds the expression with PostgreSQL's rules).
			plain := (tok.Kind == TokNumber || tok.Kind == TokParam) && (t.peekN(1).is("preceding") || t.peekN(1).is("following"))
			e, err := t.exprBP(bpAdd)
			if err != nil {
				return err
			}
			d := t.next()
			if !d.is("preceding") && !d.is("following") {
				return t.syntaxErr(d)
			}
			if plain {
				n.txt(" ", -1).sub(e, precAtom)
			} else {
				n.txt(" INTERVAL ", -1).sub(e, precAtom).txt(" MICROSECOND", -1)
			}
			n.txt(" "+strings.ToUpper(d.Text), d.Pos)
		}
		return nil
	}
	if b := t.peek(); b.is("between") {
		t.next()
		n.txt(" BETWEEN", b.Pos)
		if err := bound(); err != nil {
			return nil, err
		}
		if err := t.expect("and"); err != nil {
			return nil, err
		}
		n.txt(" AND", -1)
		if err := bound(); err != nil {
			return nil, err
		}
	} else if err := bound(); err != nil {
		return nil, err
	}
	if x := t.peek(); x.is("exclude") {
		return nil, t.unsupported(x, "EXCLUDE in window frames")
	}
	return n, nil
}

// typeName reads a PostgreSQL type name and returns it normalised: words
// in lower case and single-spaced, quoted parts re-quoted, modifiers and
// array bounds without spaces: "numeric(10,2)", "timestamp(3) with time
// zone", "character varying(20)", "int[]", "interval day to second".
// Type names are never mapped to MySQL types; sql/types parses this text.
func (t *translator) typeName() (string, error) {
	tok := t.next()
	if tok.Kind != TokIdent && tok.Kind != TokQuotedIdent {
		return "", t.syntaxErr(tok)
	}
	if tok.Kind == TokIdent && reserved[tok.Text] {
		return "", t.syntaxErr(tok)
	}
	if tok.is("setof") {
		return "", t.unsupported(tok, "SETOF")
	}
	var b strings.Builder
	word := func(tk Token) {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		if tk.Kind == TokQuotedIdent && !isPlainWord(tk.Text) {
			b.WriteString(quoteIdent(tk.Text))
		} else {
			b.WriteString(tk.Text)
		}
	}
	word(tok)
	kind := ""
	if tok.Kind == TokIdent {
		kind = tok.Text
	}
	switch kind {
	case "double":
		if err := t.expect("precision"); err != nil {
			return "", err
		}
		b.WriteString(" precision")
	case "national":
		c := t.next()
		if !c.is("character") && !c.is("char") {
			return "", t.syntaxErr(c)
		}
		word(c)
		fallthrough
	case "character", "char", "nchar", "bit":
		if v := t.peek(); v.is("varying") {
			t.next()
			word(v)
		}
	case "interval":
		if f, ok, err := t.intervalFields(); err != nil {
			return "", err
		} else if ok {
			b.WriteString(" " + f)
		}
	case "":
		// Quoted: a possibly qualified generic name.
	}
	if kind != "double" && kind != "national" && kind != "character" && kind != "char" && kind != "nchar" && kind != "bit" {
		for t.peek().isPunct(".") && (t.peekN(1).Kind == TokIdent || t.peekN(1).Kind == TokQuotedIdent) {
			t.next()
			nm := t.next()
			b.WriteByte('.')
			if nm.Kind == TokQuotedIdent && !isPlainWord(nm.Text) {
				b.WriteString(quoteIdent(nm.Text))
			} else {
				b.WriteString(nm.Text)
			}
		}
	}
	if t.peek().isPunct("(") {
		t.next()
		b.WriteByte('(')
		for i := 0; ; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			m := t.next()
			if m.isOp("-") {
				b.WriteByte('-')
				m = t.next()
			}
			if m.Kind != TokNumber || strings.ContainsAny(m.Text, ".eE") {
				return "", t.unsupported(m, "type modifiers other than integers")
			}
			b.WriteString(m.Text)
			if !t.acceptPunct(",") {
				break
			}
		}
		if err := t.expectPunct(")"); err != nil {
			return "", err
		}
		b.WriteByte(')')
	}
	if kind == "timestamp" || kind == "time" {
		if w := t.peek(); (w.is("with") || w.is("without")) && t.peekN(1).is("time") && t.peekN(2).is("zone") {
			t.i += 3
			b.WriteString(" " + w.Text + " time zone")
		}
	}
	// Array bounds: [] [n] ... or ARRAY / ARRAY[n].
	if a := t.peek(); a.is("array") {
		t.next()
		b.WriteString("[")
		if t.acceptPunct("[") {
			m := t.next()
			if m.Kind != TokNumber {
				return "", t.syntaxErr(m)
			}
			b.WriteString(m.Text)
			if err := t.expectPunct("]"); err != nil {
				return "", err
			}
		}
		b.WriteString("]")
	} else {
		for t.peek().isPunct("[") {
			t.next()
			b.WriteString("[")
			if m := t.peek(); m.Kind == TokNumber {
				t.next()
				b.WriteString(m.Text)
			}
			if err := t.expectPunct("]"); err != nil {
				return "", err
			}
			b.WriteString("]")
		}
	}
	return b.String(), nil
}

// intervalFields reads an interval field qualifier, if one follows.
func (t *translator) intervalFields() (string, bool, error) {
	fields := map[string]int{"year": 1, "month": 2, "day": 3, "hour": 4, "minute": 5, "second": 6}
	f := t.peek()
	if f.Kind != TokIdent || fields[f.Text] == 0 {
		return "", false, nil
	}
	t.next()
	s := f.Text
	last := f.Text
	if to := t.peek(); to.is("to") {
		t.next()
		g := t.next()
		if g.Kind != TokIdent || fields[g.Text] <= fields[f.Text] || f.Text == "second" ||
			f.Text == "year" && g.Text != "month" || f.Text == "month" {
			return "", false, t.syntaxErr(g)
		}
		s += " to " + g.Text
		last = g.Text
	}
	if last == "second" && t.peek().isPunct("(") {
		t.next()
		p := t.next()
		if p.Kind != TokNumber {
			return "", false, t.syntaxErr(p)
		}
		if err := t.expectPunct(")"); err != nil {
			return "", false, err
		}
		s += "(" + p.Text + ")"
	}
	return s, true, nil
}

// groupingSets names the ROLLUP (...), CUBE (...) or GROUPING SETS (...)
// that starts at t's position, if one does ("" for a column named cube).
// groupingElement translates ROLLUP (...), CUBE (...) or GROUPING SETS
// (...) in a GROUP BY, which TiDB's grammar lacks, into calls the planner
// expands (sql/doc.go): pg_rollup(set, ...), pg_cube(set, ...) and
// pg_grouping_sets(set, ...), each set pg_gset(e, ...) (pg_gset() is the
// empty set). An element is an expression or a parenthesized list; a
// ROLLUP or CUBE inside GROUPING SETS is refused.
func (t *translator) groupingElement() (*node, error) {
	kind := t.next()
	name := "pg_" + kind.Text
	if kind.is("grouping") {
		t.next() // SETS
		name = "pg_grouping_sets"
	}
	if err := t.expectPunct("("); err != nil {
		return nil, err
	}
	var sets []*node
	for {
		el := t.peek()
		if name == "pg_grouping_sets" && groupingSets(t) != "" {
			return nil, t.unsupported(el, "ROLLUP, CUBE or GROUPING SETS inside GROUPING SETS")
		}
		var list []*node
		if el.isPunct("(") {
			t.next()
			if !t.peek().isPunct(")") {
				var err error
				if list, err = t.exprList(")"); err != nil {
					return nil, err
				}
			}
			if err := t.expectPunct(")"); err != nil {
				return nil, err
			}
		} else {
			e, err := t.expr()
			if err != nil {
				return nil, err
			}
			list = []*node{e}
		}
		sets = append(sets, call("pg_gset", el.Pos, list...))
		if !t.acceptPunct(",") {
			break
		}
	}
	if err := t.expectPunct(")"); err != nil {
		return nil, err
	}
	return call(name, kind.Pos, sets...), nil
}

func groupingSets(t *translator) string {
	g := t.peek()
	switch {
	case (g.is("rollup") || g.is("cube")) && t.peekN(1).isPunct("("):
		return strings.ToUpper(g.Text)
	case g.is("grouping") && t.peekN(1).is("sets") && t.peekN(2).isPunct("("):
		return "GROUPING SETS"
	}
	return ""
}
