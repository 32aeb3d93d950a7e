package sql

import (
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/strand-db/strand/sql/pgerr"
)

// TokenKind says what a Token is.
type TokenKind uint8

// The kinds of tokens the Postgres lexer produces.
const (
	// TokIdent is an unquoted identifier or keyword; Text is folded to lower
	// case (ASCII only, as PostgreSQL does for UTF-8) and truncated to 63 bytes.
	TokIdent TokenKind = iota + 1
	// TokQuotedIdent is a "quoted" identifier; Text is its exact value.
	TokQuotedIdent
	// TokString is a string constant of any form ('..', E'..', $$..$$,
	// N'..'); Text is its value after escapes and continuation.
	TokString
	// TokNumber is an integer or numeric constant; Text is as written.
	TokNumber
	// TokParam is $n; Param is n.
	TokParam
	// TokOp is an operator; Text is the operator ("!=" is reported as "<>").
	TokOp
	// TokPunct is one of ( ) [ ] , ; . : and the two-character tokens
	// "::", ":=" and "=>" and "..".
	TokPunct
)

// Token is one lexical token of a Postgres statement. Pos and End are byte
// offsets into the original text (End exclusive).
type Token struct {
	Kind  TokenKind
	Text  string
	Param int
	Pos   int
	End   int
}

// is reports whether t is the unquoted keyword kw (given in lower case).
func (t Token) is(kw string) bool { return t.Kind == TokIdent && t.Text == kw }

// isPunct reports whether t is the punctuation p.
func (t Token) isPunct(p string) bool { return t.Kind == TokPunct && t.Text == p }

// isOp reports whether t is the operator op.
func (t Token) isOp(op string) bool { return t.Kind == TokOp && t.Text == op }

// maxIdentLen is NAMEDATALEN-1: PostgreSQL truncates longer identifiers.
const maxIdentLen = 63

// maxParam bounds $n; the extended protocol cannot bind more parameters.
const maxParam = 65535

// Tokenize splits a Postgres query string into tokens following the rules of
// PostgreSQL's scan.l with standard_conforming_strings on: comments (-- and
// nested /* */) and whitespace are dropped; adjacent string constants
// separated by a newline are joined; backslashes are literal in '..' and
// escapes only in E'..'. Errors carry SQLSTATE 42601 (or 0A000 for forms
// Strand does not support) and the 1-based character position of the fault.
func Tokenize(sql string) ([]Token, error) {
	l := lexer{src: sql}
	var toks []Token
	for {
		t, ok, err := l.next()
		if err != nil {
			return nil, err
		}
		if !ok {
			return toks, nil
		}
		toks = append(toks, t)
	}
}

type lexer struct {
	src string
	pos int
}

// errAt makes a positioned error at byte offset off of src.
func errAt(src string, off int, code pgerr.Code, format string, args ...any) *pgerr.Error {
	return pgerr.New(code, format, args...).WithPosition(charPos(src, off))
}

// charPos turns a byte offset into PostgreSQL's 1-based character position.
func charPos(src string, off int) int {
	if off > len(src) {
		off = len(src)
	}
	if off < 0 {
		off = 0
	}
	return utf8.RuneCountInString(src[:off]) + 1
}

func (l *lexer) errf(off int, code pgerr.Code, format string, args ...any) error {
	return errAt(l.src, off, code, format, args...)
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'
}

func isIdentStart(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '_' || c >= 0x80
}

func isIdentCont(c byte) bool {
	return isIdentStart(c) || isDigit(c) || c == '$'
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// isOpChar is PostgreSQL's op_chars.
func isOpChar(c byte) bool { return strings.IndexByte("~!@#^&|`?+-*/%<>=", c) >= 0 }

// skipSpace skips whitespace and comments; it reports whether a newline
// was crossed (needed for string continuation).
func (l *lexer) skipSpace() (newline bool, err error) {
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case isSpace(c):
			if c == '\n' || c == '\r' {
				newline = true
			}
			l.pos++
		case c == '-' && strings.HasPrefix(l.src[l.pos:], "--"):
			i := strings.IndexAny(l.src[l.pos:], "\r\n")
			if i < 0 {
				l.pos = len(l.src)
			} else {
				l.pos += i
			}
		case c == '/' && strings.HasPrefix(l.src[l.pos:], "/*"):
			start := l.pos
			depth := 0
			for {
				if l.pos >= len(l.src) {
					return newline, l.errf(start, pgerr.SyntaxError, "unterminated /* comment")
				}
				if strings.HasPrefix(l.src[l.pos:], "/*") {
					depth++
					l.pos += 2
				} else if strings.HasPrefix(l.src[l.pos:], "*/") {
					depth--
					l.pos += 2
					if depth == 0 {
						break
					}
				} else {
					l.pos++
				}
			}
		default:
			return newline, nil
		}
	}
	return newline, nil
}

func (l *lexer) next() (Token, bool, error) {
	if _, err := l.skipSpace(); err != nil {
		return Token{}, false, err
	}
	if l.pos >= len(l.src) {
		return Token{}, false, nil
	}
	start := l.pos
	c := l.src[l.pos]
	tok := func(kind TokenKind, text string) (Token, bool, error) {
		return Token{Kind: kind, Text: text, Pos: start, End: l.pos}, true, nil
	}
	var c1 byte
	if l.pos+1 < len(l.src) {
		c1 = l.src[l.pos+1]
	}
	switch {
	case c == '\'':
		s, err := l.quoted(false)
		if err != nil {
			return Token{}, false, err
		}
		return tok(TokString, s)
	case (c == 'e' || c == 'E') && c1 == '\'':
		l.pos++
		s, err := l.quoted(true)
		if err != nil {
			return Token{}, false, err
		}
		return tok(TokString, s)
	case (c == 'n' || c == 'N') && c1 == '\'':
		// National character constants are ordinary strings in PostgreSQL.
		l.pos++
		s, err := l.quoted(false)
		if err != nil {
			return Token{}, false, err
		}
		return tok(TokString, s)
	case (c == 'b' || c == 'B' || c == 'x' || c == 'X') && c1 == '\'':
		return Token{}, false, l.errf(start, pgerr.FeatureNotSupported, "bit-string constants (%c'...') are not supported", c)
	case (c == 'u' || c == 'U') && c1 == '&' && l.pos+2 < len(l.src) && (l.src[l.pos+2] == '\'' || l.src[l.pos+2] == '"'):
		return Token{}, false, l.errf(start, pgerr.FeatureNotSupported, "Unicode escape constants (U&...) are not supported")
	case c == '"':
		s, err := l.quotedIdent()
		if err != nil {
			return Token{}, false, err
		}
		return tok(TokQuotedIdent, s)
	case c == '$':
		if isDigit(c1) {
			l.pos++
			for l.pos < len(l.src) && isDigit(l.src[l.pos]) {
				l.pos++
			}
			if l.pos < len(l.src) && isIdentCont(l.src[l.pos]) {
				return Token{}, false, l.errf(start, pgerr.SyntaxError, "trailing junk after parameter at or near %q", l.src[start:l.pos+1])
			}
			n, err := strconv.Atoi(l.src[start+1 : l.pos])
			if err != nil || n > maxParam {
				return Token{}, false, l.errf(start, pgerr.SyntaxError, "parameter number too large at or near %q", l.src[start:l.pos])
			}
			if n == 0 {
				return Token{}, false, l.errf(start, pgerr.UndefinedParameter, "there is no parameter $0")
			}
			t, ok, _ := tok(TokParam, l.src[start:l.pos])
			t.Param = n
			return t, ok, nil
		}
		if s, ok, err := l.dollarQuoted(); err != nil {
			return Token{}, false, err
		} else if ok {
			return tok(TokString, s)
		}
		return Token{}, false, l.errf(start, pgerr.SyntaxError, "syntax error at or near \"$\"")
	case isIdentStart(c):
		for l.pos < len(l.src) && isIdentCont(l.src[l.pos]) {
			l.pos++
		}
		return tok(TokIdent, truncateIdent(foldIdent(l.src[start:l.pos])))
	case isDigit(c) || c == '.' && isDigit(c1):
		return l.number()
	case c == ':':
		if c1 == ':' || c1 == '=' {
			l.pos += 2
			return tok(TokPunct, l.src[start:l.pos])
		}
		l.pos++
		return tok(TokPunct, ":")
	case c == '.':
		if c1 == '.' {
			l.pos += 2
			return tok(TokPunct, "..")
		}
		l.pos++
		return tok(TokPunct, ".")
	case strings.IndexByte("()[],;", c) >= 0:
		l.pos++
		return tok(TokPunct, string(c))
	case isOpChar(c):
		return l.operator()
	}
	r, _ := utf8.DecodeRuneInString(l.src[l.pos:])
	return Token{}, false, l.errf(start, pgerr.SyntaxError, "syntax error at or near %q", string(r))
}

// operator follows scan.l: the longest run of operator characters, cut
// before any comment start, and stripped of trailing + and - unless the
// operator contains one of ~ ! @ # ^ & | ` ? % (so "a=-1" is "=" "-" "1").
func (l *lexer) operator() (Token, bool, error) {
	start := l.pos
	end := start
	for end < len(l.src) && isOpChar(l.src[end]) {
		end++
	}
	op := l.src[start:end]
	if i := strings.Index(op, "--"); i >= 0 {
		op = op[:i]
	}
	if i := strings.Index(op, "/*"); i >= 0 {
		op = op[:i]
	}
	if len(op) > 1 && !strings.ContainsAny(op, "~!@#^&|`?%") {
		for len(op) > 1 && (op[len(op)-1] == '+' || op[len(op)-1] == '-') {
			op = op[:len(op)-1]
		}
	}
	l.pos = start + len(op)
	if strings.Contains(op, "`") {
		return Token{}, false, l.errf(start, pgerr.SyntaxError, "syntax error at or near \"`\"")
	}
	switch op {
	case "=>":
		return Token{Kind: TokPunct, Text: op, Pos: start, End: l.pos}, true, nil
	case "!=":
		op = "<>"
	}
	return Token{Kind: TokOp, Text: op, Pos: start, End: l.pos}, true, nil
}

// number scans an integer or numeric constant. Like PostgreSQL 16, an
// identifier character right after a number is an error ("trailing junk"),
// which also rejects 0x1F, 0b101, 1_000 rather than misreading them as a
// number followed by an alias, as PostgreSQL 15 did.
func (l *lexer) number() (Token, bool, error) {
	start := l.pos
	for l.pos < len(l.src) && isDigit(l.src[l.pos]) {
		l.pos++
	}
	if l.pos < len(l.src) && l.src[l.pos] == '.' && !strings.HasPrefix(l.src[l.pos:], "..") {
		l.pos++
		for l.pos < len(l.src) && isDigit(l.src[l.pos]) {
			l.pos++
		}
	}
	if l.pos < len(l.src) && (l.src[l.pos] == 'e' || l.src[l.pos] == 'E') {
		p := l.pos + 1
		if p < len(l.src) && (l.src[p] == '+' || l.src[p] == '-') {
			p++
		}
		if p < len(l.src) && isDigit(l.src[p]) {
			for p < len(l.src) && isDigit(l.src[p]) {
				p++
			}
			l.pos = p
		} else {
			return Token{}, false, l.errf(start, pgerr.SyntaxError, "trailing junk after numeric literal at or near %q", l.src[start:p])
		}
	}
	if l.pos < len(l.src) && isIdentCont(l.src[l.pos]) {
		return Token{}, false, l.errf(start, pgerr.SyntaxError, "trailing junk after numeric literal at or near %q", l.src[start:l.pos+1])
	}
	return Token{Kind: TokNumber, Text: l.src[start:l.pos], Pos: start, End: l.pos}, true, nil
}

// quoted scans a '..' constant starting at l.pos (the opening quote),
// including continuation segments: a closing quote, whitespace holding a
// newline (and -- comments), then another quote continues the same constant
// in the same escape mode.
func (l *lexer) quoted(escapes bool) (string, error) {
	start := l.pos
	var b strings.Builder
	l.pos++ // opening quote
	for {
		if l.pos >= len(l.src) {
			return "", l.errf(start, pgerr.SyntaxError, "unterminated quoted string")
		}
		c := l.src[l.pos]
		switch {
		case c == '\'':
			if l.pos+1 < len(l.src) && l.src[l.pos+1] == '\'' {
				b.WriteByte('\'')
				l.pos += 2
				continue
			}
			l.pos++
			// Possible continuation.
			save := l.pos
			nl, err := l.skipContinuationSpace()
			if err == nil && nl && l.pos < len(l.src) && l.src[l.pos] == '\'' {
				l.pos++
				continue
			}
			l.pos = save
			s := b.String()
			if !utf8.ValidString(s) {
				return "", l.errf(start, pgerr.CharacterNotInRepertoire, "invalid byte sequence for encoding \"UTF8\"")
			}
			return s, nil
		case c == '\\' && escapes:
			if err := l.escape(&b); err != nil {
				return "", err
			}
		default:
			b.WriteByte(c)
			l.pos++
		}
	}
}

// skipContinuationSpace skips whitespace and -- comments between the parts
// of a continued string constant (scan.l's whitespace_with_newline).
func (l *lexer) skipContinuationSpace() (newline bool, err error) {
	for l.pos < len(l.src) {
		c := l.src[l.pos]
		switch {
		case isSpace(c):
			if c == '\n' || c == '\r' {
				newline = true
			}
			l.pos++
		case strings.HasPrefix(l.src[l.pos:], "--"):
			i := strings.IndexAny(l.src[l.pos:], "\r\n")
			if i < 0 {
				l.pos = len(l.src)
			} else {
				l.pos += i
			}
		default:
			return newline, nil
		}
	}
	return newline, nil
}

// escape decodes one backslash escape of an E'..' constant at l.pos.
func (l *lexer) escape(b *strings.Builder) error {
	start := l.pos
	l.pos++
	if l.pos >= len(l.src) {
		return l.errf(start, pgerr.SyntaxError, "unterminated quoted string")
	}
	c := l.src[l.pos]
	l.pos++
	switch c {
	case 'b':
		b.WriteByte('\b')
	case 'f':
		b.WriteByte('\f')
	case 'n':
		b.WriteByte('\n')
	case 'r':
		b.WriteByte('\r')
	case 't':
		b.WriteByte('\t')
	case '0', '1', '2', '3', '4', '5', '6', '7':
		v := int(c - '0')
		for i := 0; i < 2 && l.pos < len(l.src) && l.src[l.pos] >= '0' && l.src[l.pos] <= '7'; i++ {
			v = v*8 + int(l.src[l.pos]-'0')
			l.pos++
		}
		if v == 0 {
			return l.errf(start, pgerr.CharacterNotInRepertoire, "invalid byte sequence for encoding \"UTF8\": 0x00")
		}
		b.WriteByte(byte(v))
	case 'x':
		v, n := 0, 0
		for n < 2 && l.pos < len(l.src) && isHex(l.src[l.pos]) {
			v = v*16 + hexVal(l.src[l.pos])
			l.pos++
			n++
		}
		if n == 0 {
			b.WriteByte('x')
			break
		}
		if v == 0 {
			return l.errf(start, pgerr.CharacterNotInRepertoire, "invalid byte sequence for encoding \"UTF8\": 0x00")
		}
		b.WriteByte(byte(v))
	case 'u', 'U':
		n := 4
		if c == 'U' {
			n = 8
		}
		if l.pos+n > len(l.src) {
			return l.errf(start, pgerr.InvalidEscapeSequence, "invalid Unicode escape")
		}
		v := 0
		for i := 0; i < n; i++ {
			if !isHex(l.src[l.pos+i]) {
				return l.errf(start, pgerr.InvalidEscapeSequence, "invalid Unicode escape")
			}
			v = v*16 + hexVal(l.src[l.pos+i])
		}
		l.pos += n
		if v == 0 || v > utf8.MaxRune || v >= 0xD800 && v <= 0xDFFF {
			// Surrogate pairs are legal in PostgreSQL; Strand rejects them
			// rather than decode them half-way.
			return l.errf(start, pgerr.InvalidEscapeSequence, "invalid Unicode escape value")
		}
		b.WriteRune(rune(v))
	default:
		b.WriteByte(c)
	}
	return nil
}

func isHex(c byte) bool { return isDigit(c) || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F' }

func hexVal(c byte) int {
	switch {
	case isDigit(c):
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	}
	return int(c-'A') + 10
}

// quotedIdent scans a "..." identifier with "" escapes.
func (l *lexer) quotedIdent() (string, error) {
	start := l.pos
	var b strings.Builder
	l.pos++
	for {
		i := strings.IndexByte(l.src[l.pos:], '"')
		if i < 0 {
			return "", l.errf(start, pgerr.SyntaxError, "unterminated quoted identifier")
		}
		b.WriteString(l.src[l.pos : l.pos+i])
		l.pos += i + 1
		if l.pos < len(l.src) && l.src[l.pos] == '"' {
			b.WriteByte('"')
			l.pos++
			continue
		}
		break
	}
	s := b.String()
	if s == "" {
		return "", l.errf(start, pgerr.SyntaxError, "zero-length delimited identifier at or near \"\"\"\"")
	}
	if !utf8.ValidString(s) {
		return "", l.errf(start, pgerr.CharacterNotInRepertoire, "invalid byte sequence for encoding \"UTF8\"")
	}
	return truncateIdent(s), nil
}

// dollarQuoted scans $tag$...$tag$ at l.pos; ok is false when l.pos does not
// start a dollar-quote delimiter.
func (l *lexer) dollarQuoted() (string, bool, error) {
	start := l.pos
	p := l.pos + 1
	if p < len(l.src) && isIdentStart(l.src[p]) {
		for p < len(l.src) && isIdentCont(l.src[p]) && l.src[p] != '$' {
			p++
		}
	}
	if p >= len(l.src) || l.src[p] != '$' {
		return "", false, nil
	}
	delim := l.src[start : p+1]
	body := p + 1
	i := strings.Index(l.src[body:], delim)
	if i < 0 {
		return "", false, l.errf(start, pgerr.SyntaxError, "unterminated dollar-quoted string at or near %q", delim)
	}
	s := l.src[body : body+i]
	l.pos = body + i + len(delim)
	if !utf8.ValidString(s) {
		return "", false, l.errf(start, pgerr.CharacterNotInRepertoire, "invalid byte sequence for encoding \"UTF8\"")
	}
	return s, true, nil
}

// foldIdent lower-cases ASCII letters, as PostgreSQL does for unquoted
// identifiers in multibyte encodings.
func foldIdent(s string) string {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c >= 'A' && c <= 'Z' {
			b := []byte(s)
			for j := i; j < len(b); j++ {
				if b[j] >= 'A' && b[j] <= 'Z' {
					b[j] += 'a' - 'A'
				}
			}
			return string(b)
		}
	}
	return s
}

// truncateIdent cuts s to NAMEDATALEN-1 bytes without splitting a character.
func truncateIdent(s string) string {
	if len(s) <= maxIdentLen {
		return s
	}
	n := maxIdentLen
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}
