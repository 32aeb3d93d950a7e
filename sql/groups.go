package sql

import (
	"strconv"
)

// Consumer groups (docs/GROUPS.md): a durable, named subscription whose
// events are shared key by key among the sessions that fetch from it.

// CreateConsumerGroup is
//
//	CREATE CONSUMER GROUP [IF NOT EXISTS] g [WITH (option = value, ...)]
//	    FOR SUBSCRIBE target [WITH (...)]
//
// The group's options come before FOR so that the SUBSCRIBE keeps its own
// syntax (and its own WITH) unchanged.
type CreateConsumerGroup struct {
	Info
	Name        ObjectName
	IfNotExists bool
	Options     []Option
	Subscribe   *Subscribe
}

// DropConsumerGroup is DROP CONSUMER GROUP [IF EXISTS] g.
type DropConsumerGroup struct {
	Info
	Name     ObjectName
	IfExists bool
}

// FetchGroup is FETCH [n | ALL] FROM GROUP g [WITH (timeout = '1s')]: the
// next events of keys no other member holds, leased to this session.
type FetchGroup struct {
	Info
	Group   ObjectName
	Count   int64 // 0 with All
	All     bool
	Options []Option
}

// AckGroup is ACK GROUP g (table, key, version) [, ...] or the same with
// NACK; ACK GROUP g ALL acknowledges everything this session holds.
type AckGroup struct {
	Info
	Group ObjectName
	Nack  bool
	All   bool
	Items []AckItem
}

// AckItem names one key's version: ACK covers that version and every
// earlier one of the key; NACK acknowledges the earlier ones and reports
// this one failed (Reason is the optional fourth element). Each element is
// a constant or a parameter $n: the Params fields hold n (0 for a
// constant), in the order table, key, version, reason.
type AckItem struct {
	Table   string
	Key     string
	Version int64
	Reason  string
	Params  [4]int
}

// isConsumerGroupDDL reports CREATE/DROP CONSUMER GROUP at the start.
func (sp *stmtParser) isConsumerGroupDDL() bool {
	return sp.peekN(1).is("consumer") && sp.peekN(2).is("group")
}

func (sp *stmtParser) createConsumerGroup() (Statement, error) {
	sp.i += 3 // CREATE CONSUMER GROUP
	st := &CreateConsumerGroup{IfNotExists: sp.ifNotExists()}
	var err error
	if st.Name, err = sp.objectName(); err != nil {
		return nil, err
	}
	if sp.accept("with") {
		if st.Options, err = sp.optionList(); err != nil {
			return nil, err
		}
	}
	if err := sp.expect("for"); err != nil {
		return nil, err
	}
	if !sp.peek().is("subscribe") {
		return nil, sp.syntaxErr(sp.peek())
	}
	inner, err := sp.inner(len(sp.toks))
	if err != nil {
		return nil, err
	}
	sub, ok := inner.(*Subscribe)
	if !ok {
		return nil, sp.unsupported(sp.toks[0], "CREATE CONSUMER GROUP for this statement")
	}
	st.Subscribe = sub
	return st, nil
}

func (sp *stmtParser) dropConsumerGroup() (Statement, error) {
	sp.i += 3 // DROP CONSUMER GROUP
	st := &DropConsumerGroup{}
	if sp.peek().is("if") && sp.peekN(1).is("exists") {
		sp.i += 2
		st.IfExists = true
	}
	var err error
	if st.Name, err = sp.objectName(); err != nil {
		return nil, err
	}
	return st, sp.end()
}

// isGroupFetch reports FETCH [n|ALL] FROM|IN GROUP g: GROUP is reserved, so
// it cannot be a cursor's name.
func (sp *stmtParser) isGroupFetch() bool {
	for n := 1; n <= 3; n++ {
		if t := sp.peekN(n); t.is("group") {
			p := sp.peekN(n - 1)
			return p.is("from") || p.is("in")
		}
	}
	return false
}

func (sp *stmtParser) fetchGroup() (Statement, error) {
	sp.next() // FETCH
	st := &FetchGroup{Count: 1}
	switch tok := sp.peek(); {
	case tok.is("all"):
		sp.next()
		st.All, st.Count = true, 0
	case tok.Kind == TokNumber:
		sp.next()
		c, err := strconv.ParseInt(tok.Text, 10, 64)
		if err != nil || c < 0 {
			return nil, sp.syntaxErr(tok)
		}
		st.Count = c
	}
	if !sp.accept("from") {
		if err := sp.expect("in"); err != nil {
			return nil, err
		}
	}
	if err := sp.expect("group"); err != nil {
		return nil, err
	}
	var err error
	if st.Group, err = sp.objectName(); err != nil {
		return nil, err
	}
	if sp.accept("with") {
		if st.Options, err = sp.optionList(); err != nil {
			return nil, err
		}
	}
	return st, sp.end()
}

// ackGroup reads ACK|NACK GROUP g ALL | (table, key, version [, reason]), ...
func (sp *stmtParser) ackGroup() (Statement, error) {
	kw := sp.next()
	st := &AckGroup{Nack: kw.is("nack")}
	if err := sp.expect("group"); err != nil {
		return nil, err
	}
	var err error
	if st.Group, err = sp.objectName(); err != nil {
		return nil, err
	}
	if !st.Nack && sp.accept("all") {
		st.All = true
		return st, sp.end()
	}
	err = sp.commaList(func() error {
		if err := sp.expectPunct("("); err != nil {
			return err
		}
		var it AckItem
		var err error
		if it.Table, err = sp.ackText(&it.Params[0]); err != nil {
			return err
		}
		if err := sp.expectPunct(","); err != nil {
			return err
		}
		if it.Key, err = sp.ackText(&it.Params[1]); err != nil {
			return err
		}
		if err := sp.expectPunct(","); err != nil {
			return err
		}
		switch v := sp.next(); {
		case v.Kind == TokParam:
			it.Params[2] = sp.ackParam(v)
		case v.Kind == TokNumber:
			if it.Version, err = strconv.ParseInt(v.Text, 10, 64); err != nil || it.Version <= 0 {
				return sp.syntaxErr(v)
			}
		default:
			return sp.syntaxErr(v)
		}
		if sp.acceptPunct(",") {
			switch r := sp.next(); r.Kind {
			case TokParam:
				it.Params[3] = sp.ackParam(r)
			case TokString:
				it.Reason = r.Text
			default:
				return sp.syntaxErr(r)
			}
		}
		st.Items = append(st.Items, it)
		return sp.expectPunct(")")
	})
	if err != nil {
		return nil, err
	}
	return st, sp.end()
}

// ackParam records a parameter of an ACK item and returns its number.
func (sp *stmtParser) ackParam(tok Token) int {
	if tok.Param > sp.info.NumParams {
		sp.info.NumParams = tok.Param
	}
	return tok.Param
}

// ackText reads a table or key as a string constant, a number, a name or a
// parameter (its number goes to *param).
func (sp *stmtParser) ackText(param *int) (string, error) {
	tok := sp.next()
	switch tok.Kind {
	case TokParam:
		*param = sp.ackParam(tok)
		return "", nil
	case TokString, TokNumber, TokQuotedIdent:
		return tok.Text, nil
	case TokIdent:
		if sp.peek().isPunct(".") {
			sp.next()
			n, err := sp.ident()
			return tok.Text + "." + n, err
		}
		return tok.Text, nil
	case TokOp:
		if tok.Text == "-" && sp.peek().Kind == TokNumber {
			return "-" + sp.next().Text, nil
		}
	}
	return "", sp.syntaxErr(tok)
}
