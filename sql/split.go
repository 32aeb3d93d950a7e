package sql

// Piece is one statement of a multi-statement query string: its text, cut
// from the first to the last of its tokens, and the byte offset of that text
// in the query string.
type Piece struct {
	Text   string
	Offset int
	// Tokens are the statement's tokens; their Pos and End are offsets into
	// the whole query string, not into Text.
	Tokens []Token
}

// Split cuts a query string at the semicolons that lie outside strings,
// quoted identifiers, comments and dollar quotes, as the simple query
// protocol requires. Empty statements are dropped.
func Split(sql string) ([]Piece, error) {
	toks, err := Tokenize(sql)
	if err != nil {
		return nil, err
	}
	return splitTokens(sql, toks), nil
}

func splitTokens(sql string, toks []Token) []Piece {
	var out []Piece
	start := 0
	for i := 0; i <= len(toks); i++ {
		if i < len(toks) && !toks[i].isPunct(";") {
			continue
		}
		if i > start {
			first, last := toks[start], toks[i-1]
			out = append(out, Piece{Text: sql[first.Pos:last.End], Offset: first.Pos, Tokens: toks[start:i:i]})
		}
		start = i + 1
	}
	return out
}
