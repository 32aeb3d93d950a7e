package sql

import (
	"strconv"
	"strings"

	"github.com/pingcap/tidb/pkg/parser/ast"
)

// word reads any word, reserved or not (option names such as ANALYZE or
// NULL), or a quoted identifier.
func (sp *stmtParser) word() (string, error) {
	tok := sp.next()
	if tok.Kind == TokIdent || tok.Kind == TokQuotedIdent {
		return tok.Text, nil
	}
	return "", sp.syntaxErr(tok)
}

// settingName reads a run-time parameter name, possibly dotted (myapp.x).
func (sp *stmtParser) settingName() (string, error) {
	tok := sp.next()
	if tok.Kind != TokIdent && tok.Kind != TokQuotedIdent {
		return "", sp.syntaxErr(tok)
	}
	name := tok.Text
	for sp.acceptPunct(".") {
		n := sp.next()
		if n.Kind != TokIdent && n.Kind != TokQuotedIdent {
			return "", sp.syntaxErr(n)
		}
		name += "." + n.Text
	}
	return name, nil
}

func (sp *stmtParser) show() (Statement, error) {
	sp.next()
	switch {
	case sp.peek().is("all"):
		sp.next()
		return &Show{Name: "all"}, sp.end()
	case sp.peek().is("time") && sp.peekN(1).is("zone"):
		sp.i += 2
		return &Show{Name: "timezone"}, sp.end()
	case sp.peek().is("transaction") && sp.peekN(1).is("isolation") && sp.peekN(2).is("level"):
		sp.i += 3
		return &Show{Name: "transaction_isolation"}, sp.end()
	case sp.peek().is("session") && sp.peekN(1).is("authorization"):
		sp.i += 2
		return &Show{Name: "session_authorization"}, sp.end()
	}
	return named(sp, sp.settingName, func(n string) Statement { return &Show{Name: n} })
}

func (sp *stmtParser) set() (Statement, error) {
	sp.next()
	st := &Set{}
	if sp.accept("local") {
		st.Local = true
	} else {
		sp.accept("session")
	}
	tok := sp.peek()
	switch {
	case tok.is("characteristics") && !st.Local:
		sp.next()
		if err := sp.expectWords("as", "transaction"); err != nil {
			return nil, err
		}
		tx := &Transaction{Kind: TxSetCharacteristics}
		return tx, sp.txModes(tx)
	case tok.is("transaction"):
		sp.next()
		if s := sp.peek(); s.is("snapshot") {
			return nil, sp.unsupported(s, "SET TRANSACTION SNAPSHOT")
		}
		tx := &Transaction{Kind: TxSetTransaction}
		return tx, sp.txModes(tx)
	case tok.is("time") && sp.peekN(1).is("zone"):
		sp.i += 2
		st.Name = "timezone"
		if sp.accept("default") || sp.accept("local") {
			st.Default = true
			return st, sp.end()
		}
		if i := sp.peek(); i.is("interval") {
			return nil, sp.unsupported(i, "SET TIME ZONE INTERVAL")
		}
		return sp.setSingle(st)
	case tok.is("names"):
		sp.next()
		st.Name = "client_encoding"
		if sp.accept("default") {
			st.Default = true
			return st, sp.end()
		}
		return sp.setSingle(st)
	case tok.is("role"), tok.is("session") && sp.peekN(1).is("authorization"), tok.is("constraints"):
		return nil, sp.unsupported(tok, "SET "+strings.ToUpper(tok.Text))
	}
	name, err := sp.settingName()
	if err != nil {
		return nil, err
	}
	st.Name = name
	if !sp.accept("to") {
		if !sp.peek().isOp("=") {
			return nil, sp.syntaxErr(sp.peek())
		}
		sp.next()
	}
	if sp.accept("default") {
		st.Default = true
		return st, sp.end()
	}
	if err := sp.commaList(func() error {
		v, err := sp.setValue()
		st.Values = append(st.Values, v)
		return err
	}); err != nil {
		return nil, err
	}
	return st, sp.end()
}

// setSingle reads the one value of st and ends the statement.
func (sp *stmtParser) setSingle(st *Set) (Statement, error) {
	v, err := sp.setValue()
	if err != nil {
		return nil, err
	}
	st.Values = []string{v}
	return st, sp.end()
}

// setValue reads one SET value: a string, a signed number or a word.
func (sp *stmtParser) setValue() (string, error) {
	tok := sp.peek()
	if tok.Kind == TokIdent && (tok.is("on") || tok.is("true") || tok.is("false") || !reserved[tok.Text]) {
		sp.next()
		return tok.Text, nil
	}
	return sp.optionValue()
}

func (sp *stmtParser) transaction() (Statement, error) {
	tok := sp.next()
	tx := &Transaction{}
	switch tok.Text {
	case "begin", "start":
		if tok.Text == "start" {
			if err := sp.expect("transaction"); err != nil {
				return nil, err
			}
		} else if !sp.accept("transaction") {
			sp.accept("work")
		}
		tx.Kind = TxBegin
		return tx, sp.txModes(tx)
	case "commit", "end", "rollback", "abort":
		tx.Kind = TxCommit
		if tok.Text == "rollback" || tok.Text == "abort" {
			tx.Kind = TxRollback
		}
		if !sp.accept("transaction") {
			sp.accept("work")
		}
		if tok.Text == "rollback" && sp.accept("to") {
			sp.accept("savepoint")
			tx.Kind = TxRollbackTo
			return sp.savepoint(tx)
		}
		if sp.peek().is("and") {
			sp.next()
			chain := !sp.accept("no")
			if err := sp.expect("chain"); err != nil {
				return nil, err
			}
			tx.Chain = chain
		}
		if p := sp.peek(); p.is("prepared") {
			return nil, sp.unsupported(p, "two-phase commit")
		}
		return tx, sp.end()
	case "savepoint", "release":
		tx.Kind = TxSavepoint
		if tok.Text == "release" {
			tx.Kind = TxRelease
			sp.accept("savepoint")
		}
		return sp.savepoint(tx)
	}
	return nil, sp.syntaxErr(tok)
}

// savepoint reads the savepoint name of tx and ends the statement.
func (sp *stmtParser) savepoint(tx *Transaction) (Statement, error) {
	return named(sp, sp.ident, func(n string) Statement { tx.Savepoint = n; return tx })
}

// txModes reads transaction modes to the end of the statement.
func (sp *stmtParser) txModes(tx *Transaction) error {
	yes, no := true, false
	for !sp.eof() {
		tok := sp.next()
		switch {
		case tok.is("isolation"):
			if err := sp.expect("level"); err != nil {
				return err
			}
			l := sp.next()
			switch {
			case l.is("serializable"):
				tx.Isolation = "serializable"
			case l.is("repeatable"):
				if err := sp.expect("read"); err != nil {
					return err
				}
				tx.Isolation = "repeatable read"
			case l.is("read"):
				c := sp.next()
				if !c.is("committed") && !c.is("uncommitted") {
					return sp.syntaxErr(c)
				}
				tx.Isolation = "read " + c.Text
			default:
				return sp.syntaxErr(l)
			}
		case tok.is("read"):
			m := sp.next()
			switch {
			case m.is("only"):
				tx.ReadOnly = &yes
			case m.is("write"):
				tx.ReadOnly = &no
			default:
				return sp.syntaxErr(m)
			}
		case tok.is("deferrable"):
			tx.Deferrable = &yes
		case tok.is("not"):
			if err := sp.expect("deferrable"); err != nil {
				return err
			}
			tx.Deferrable = &no
		default:
			return sp.syntaxErr(tok)
		}
		sp.acceptPunct(",")
	}
	return nil
}

// inner parses the statement in toks[sp.i:] as a nested statement sharing
// the parameter map (EXPLAIN, PREPARE, DECLARE, COPY (query)).
func (sp *stmtParser) inner(to int) (Statement, error) {
	if sp.i >= to {
		return nil, sp.syntaxErr(sp.peek())
	}
	in := &stmtParser{translator: sp.sub(sp.i, to)}
	in.info.Params = sp.info.Params
	st, err := in.statement()
	if err != nil {
		return nil, err
	}
	first, last := in.toks[0], in.toks[len(in.toks)-1]
	in.info.Text = sp.src[first.Pos:last.End]
	in.info.Offset = first.Pos
	sp.info.Params = in.info.Params
	sp.info.Translated = append(sp.info.Translated, in.info.Translated...)
	in.stamp(st)
	sp.i = to
	return st, nil
}

func (sp *stmtParser) prepare() (Statement, error) {
	st := &Prepare{}
	var err error
	if st.Name, err = sp.nameAfterKeyword(); err != nil {
		return nil, err
	}
	if sp.acceptPunct("(") {
		if err := sp.commaList(func() error {
			typ, err := sp.typeName()
			if err == nil {
				st.ArgTypes = append(st.ArgTypes, typ)
			}
			return err
		}); err != nil {
			return nil, err
		}
		if err := sp.expectPunct(")"); err != nil {
			return nil, err
		}
	}
	if err := sp.expect("as"); err != nil {
		return nil, err
	}
	if st.Stmt, err = sp.inner(len(sp.toks)); err != nil {
		return nil, err
	}
	return st, nil
}

func (sp *stmtParser) execute() (Statement, error) {
	st := &Execute{}
	var err error
	if st.Name, err = sp.nameAfterKeyword(); err != nil {
		return nil, err
	}
	if sp.acceptPunct("(") {
		list, err := sp.exprList(")")
		if err != nil {
			return nil, err
		}
		if err := sp.expectPunct(")"); err != nil {
			return nil, err
		}
		for _, n := range list {
			e, err := sp.exprNode(n)
			if err != nil {
				return nil, err
			}
			st.Args = append(st.Args, e)
		}
	}
	return st, sp.end()
}

func (sp *stmtParser) explain() (Statement, error) {
	sp.next()
	st := &Explain{}
	if sp.peek().isPunct("(") && !sp.startsQueryAt(sp.i+1) {
		var err error
		if st.Options, err = sp.wordOptions(""); err != nil {
			return nil, err
		}
		for _, o := range st.Options {
			switch o.Name {
			case "analyze":
				st.Analyze = o.Value != "false" && o.Value != "off" && o.Value != "0"
			case "verbose":
				st.Verbose = o.Value != "false" && o.Value != "off" && o.Value != "0"
			}
		}
	} else {
		if sp.accept("analyze") || sp.accept("analyse") {
			st.Analyze = true
		}
		if sp.accept("verbose") {
			st.Verbose = true
		}
	}
	var err error
	if st.Stmt, err = sp.inner(len(sp.toks)); err != nil {
		return nil, err
	}
	switch st.Stmt.(type) {
	case *Query, *Insert, *Update, *Delete, *CreateMaterializedView, *Execute, *DeclareCursor:
		return st, nil
	}
	return nil, sp.unsupported(sp.toks[1], "EXPLAIN of this statement")
}

// wordOptions reads ( name [value], ... ), the options of EXPLAIN and COPY:
// a name alone is true. A parenthesized value is unsupported as what when
// what is not "".
func (sp *stmtParser) wordOptions(what string) ([]Option, error) {
	if err := sp.expectPunct("("); err != nil {
		return nil, err
	}
	var opts []Option
	err := sp.commaList(func() error {
		name, err := sp.word()
		if err != nil {
			return err
		}
		o := Option{Name: name, Value: "true"}
		if v := sp.peek(); !v.isPunct(",") && !v.isPunct(")") {
			if what != "" && v.isPunct("(") {
				return sp.unsupported(v, what)
			}
			if o.Value, err = sp.setValue(); err != nil {
				return err
			}
		}
		opts = append(opts, o)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if err := sp.expectPunct(")"); err != nil {
		return nil, err
	}
	return opts, nil
}

// copyStmt parses COPY. Only STDIN and STDOUT are accepted: the server
// reads no files.
func (sp *stmtParser) copyStmt() (Statement, error) {
	sp.next()
	st := &Copy{}
	var err error
	if sp.peek().isPunct("(") {
		sp.next()
		depth, end := 0, 0
		for end = sp.i; end < len(sp.toks); end++ {
			if sp.toks[end].isPunct("(") {
				depth++
			} else if sp.toks[end].isPunct(")") {
				if depth == 0 {
					break
				}
				depth--
			}
		}
		if st.Query, err = sp.inner(end); err != nil {
			return nil, err
		}
		if err := sp.expectPunct(")"); err != nil {
			return nil, err
		}
		if _, ok := st.Query.(*Query); !ok {
			if _, ok := st.Query.(*Subscribe); !ok {
				return nil, sp.unsupported(sp.toks[1], "COPY of this statement")
			}
		}
	} else {
		if st.Table, err = sp.objectName(); err != nil {
			return nil, err
		}
		if sp.peek().isPunct("(") {
			if st.Columns, err = sp.identList(); err != nil {
				return nil, err
			}
		}
	}
	dir := sp.next()
	switch {
	case dir.is("from") && st.Query == nil:
		st.From = true
		if s := sp.next(); !s.is("stdin") {
			return nil, sp.unsupported(s, "COPY FROM a file or program")
		}
	case dir.is("to"):
		if s := sp.next(); !s.is("stdout") {
			return nil, sp.unsupported(s, "COPY TO a file or program")
		}
	default:
		return nil, sp.syntaxErr(dir)
	}
	sp.accept("with")
	if sp.peek().isPunct("(") {
		if st.Options, err = sp.wordOptions("COPY option lists"); err != nil {
			return nil, err
		}
		return st, sp.end()
	}
	// Legacy options: BINARY, CSV, HEADER, DELIMITER [AS] 'x', NULL [AS] 'x',
	// QUOTE [AS] 'x', ESCAPE [AS] 'x'.
	for !sp.eof() {
		tok := sp.next()
		switch {
		case tok.is("binary"), tok.is("csv"):
			st.Options = append(st.Options, Option{Name: "format", Value: tok.Text})
		case tok.is("header"):
			st.Options = append(st.Options, Option{Name: "header", Value: "true"})
		case tok.is("delimiter"), tok.is("null"), tok.is("quote"), tok.is("escape"):
			sp.accept("as")
			v := sp.next()
			if v.Kind != TokString {
				return nil, sp.syntaxErr(v)
			}
			st.Options = append(st.Options, Option{Name: tok.Text, Value: v.Text})
		default:
			return nil, sp.unsupported(tok, "COPY option "+strings.ToUpper(sp.src[tok.Pos:tok.End]))
		}
	}
	return st, nil
}

func (sp *stmtParser) declare() (Statement, error) {
	st := &DeclareCursor{}
	var err error
	if st.Name, err = sp.nameAfterKeyword(); err != nil {
		return nil, err
	}
	for {
		tok := sp.peek()
		if tok.is("no") && sp.peekN(1).is("scroll") {
			sp.i += 2
			continue
		}
		if tok.is("binary") || tok.is("insensitive") || tok.is("scroll") || tok.is("asensitive") {
			return nil, sp.unsupported(tok, strings.ToUpper(tok.Text)+" cursors")
		}
		break
	}
	if err := sp.expect("cursor"); err != nil {
		return nil, err
	}
	if w := sp.peek(); sp.accept("with") || sp.accept("without") {
		if err := sp.expect("hold"); err != nil {
			return nil, err
		}
		st.Hold = w.is("with")
	}
	if err := sp.expect("for"); err != nil {
		return nil, err
	}
	if st.Query, err = sp.inner(len(sp.toks)); err != nil {
		return nil, err
	}
	switch st.Query.(type) {
	case *Query, *Subscribe:
		return st, nil
	}
	return nil, sp.unsupported(sp.toks[0], "DECLARE CURSOR for this statement")
}

func (sp *stmtParser) fetch() (Statement, error) {
	kw := sp.next()
	if kw.is("move") {
		return nil, sp.unsupported(kw, "MOVE")
	}
	st := &Fetch{Count: 1}
	tok := sp.peek()
	switch {
	case tok.is("next"):
		sp.next()
	case tok.is("forward"):
		sp.next()
		if sp.accept("all") {
			st.All = true
		} else if sp.peek().Kind == TokNumber {
			if err := sp.fetchCount(st); err != nil {
				return nil, err
			}
		}
	case tok.is("all"):
		sp.next()
		st.All = true
	case tok.Kind == TokNumber:
		if err := sp.fetchCount(st); err != nil {
			return nil, err
		}
	case tok.is("prior"), tok.is("first"), tok.is("last"), tok.is("absolute"), tok.is("relative"), tok.is("backward"):
		return nil, sp.unsupported(tok, "FETCH "+strings.ToUpper(tok.Text))
	}
	if !sp.accept("from") {
		sp.accept("in")
	}
	var err error
	if st.Cursor, err = sp.ident(); err != nil {
		return nil, err
	}
	if sp.accept("with") {
		if st.Options, err = sp.optionList(); err != nil {
			return nil, err
		}
	}
	return st, sp.end()
}

// fetchCount reads the row count of st.
func (sp *stmtParser) fetchCount(st *Fetch) error {
	n := sp.next()
	c, err := strconv.ParseInt(n.Text, 10, 64)
	if err != nil {
		return sp.syntaxErr(n)
	}
	st.Count = c
	return nil
}

var _ ast.ExprNode // session statements carry TiDB expressions (EXECUTE args)
