package sql

import "strings"

// SubscribeTarget is one relation or table pattern a SUBSCRIBE reads.
// Pattern is set when the name has wildcards: "shop.*" (one level) or
// "telemetry.>" (everything below), in schema.name form.
type SubscribeTarget struct {
	Name    ObjectName
	Pattern string
}

// subscribe: SUBSCRIBE [TO] target [, target ...] [WHERE cond]
// [WITH (name = value, ...)]. A target is a name, schema.name, or a pattern
// of words, '*' and a final '>' separated by dots (also as a string).
func (sp *stmtParser) subscribe() (Statement, error) {
	sp.next()
	sp.accept("to")
	st := &Subscribe{}
	err := sp.commaList(func() error {
		t, err := sp.subscribeTarget()
		if err != nil {
			return err
		}
		st.Targets = append(st.Targets, t)
		return nil
	})
	if err != nil {
		return nil, err
	}
	st.Target = st.Targets[0].Name
	if sp.accept("where") {
		n, err := sp.expr()
		if err != nil {
			return nil, err
		}
		if st.Where, err = sp.exprNode(n); err != nil {
			return nil, err
		}
	}
	if sp.accept("with") {
		if st.Options, err = sp.optionList(); err != nil {
			return nil, err
		}
	}
	if !sp.eof() {
		return nil, sp.unsupported(sp.peek(), "SUBSCRIBE clause")
	}
	return st, nil
}

func (sp *stmtParser) subscribeTarget() (SubscribeTarget, error) {
	if tok := sp.peek(); tok.Kind == TokString {
		sp.next()
		parts := strings.Split(tok.Text, ".")
		t := SubscribeTarget{Pattern: tok.Text}
		if len(parts) == 2 {
			t.Name = ObjectName{Schema: parts[0], Name: parts[1]}
		} else {
			t.Name = ObjectName{Name: tok.Text}
		}
		return t, nil
	}
	var words []string
	wild := false
	for {
		tok := sp.peek()
		switch {
		case tok.isOp("*"), tok.isOp(">"):
			if len(words) > 0 && words[len(words)-1] == ">" {
				return SubscribeTarget{}, sp.syntaxErr(tok)
			}
			sp.next()
			wild = true
			words = append(words, tok.Text)
		default:
			if len(words) > 0 && words[len(words)-1] == ">" {
				// '>' matches everything below: nothing may follow it.
				return SubscribeTarget{}, sp.syntaxErr(tok)
			}
			w, err := sp.ident()
			if err != nil {
				return SubscribeTarget{}, err
			}
			words = append(words, w)
		}
		if !sp.acceptPunct(".") {
			break
		}
	}
	t := SubscribeTarget{}
	switch len(words) {
	case 1:
		t.Name = ObjectName{Name: words[0]}
	case 2:
		t.Name = ObjectName{Schema: words[0], Name: words[1]}
	default:
		if !wild {
			return t, sp.unsupported(sp.peek(), "cross-database references")
		}
		t.Name = ObjectName{Schema: words[0], Name: strings.Join(words[1:], ".")}
	}
	if wild {
		if len(words) == 1 && words[0] != ">" {
			// A lone '*' means every table of the search path's schema.
			words = append([]string{""}, words...)
		}
		t.Pattern = strings.Join(words, ".")
	}
	return t, nil
}
