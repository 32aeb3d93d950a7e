package sqllogic

import (
	"bufio"
	"fmt"
	"io"
	"strings"
)

// BlockKind is the kind of a test block.
type BlockKind uint8

const (
	// StatementOK must succeed on both servers with the same command tag.
	StatementOK BlockKind = iota
	// StatementError must fail on both with the same SQLSTATE class (or the
	// exact code when the file gives five characters).
	StatementError
	// Query must return the same columns and rows on both.
	Query
)

// SortMode is how a query's rows are compared.
type SortMode uint8

const (
	// NoSort compares rows in order: the query's ORDER BY fixes it.
	NoSort SortMode = iota
	// RowSort compares rows as multisets.
	RowSort
	// ValueSort compares the multiset of all values.
	ValueSort
)

// Block is one statement or query of a test file.
type Block struct {
	Kind BlockKind
	Line int // 1-based line of the header
	SQL  string
	// Code is the expected SQLSTATE (class or full code) of StatementError.
	Code string
	// ColTypes has one letter per result column of a Query.
	ColTypes string
	Sort     SortMode
	// Params, when set, sends SQL through the extended protocol with these
	// text values (nil: NULL), every one of unspecified type.
	Params    []*string
	Extended  bool
	KnownDiff string // the reason of a known difference, or ""
}

// ParseFile reads the blocks of a test file.
func ParseFile(r io.Reader) ([]Block, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	var out []Block
	var cur *Block
	known := ""
	line := 0
	flush := func() {
		if cur != nil {
			cur.SQL = strings.TrimSpace(cur.SQL)
			out = append(out, *cur)
			cur = nil
		}
	}
	for sc.Scan() {
		line++
		text := sc.Text()
		trimmed := strings.TrimSpace(text)
		if cur != nil {
			if trimmed == "" {
				flush()
				continue
			}
			if strings.HasPrefix(trimmed, "params:") {
				cur.Extended = true
				cur.Params = parseParams(strings.TrimSpace(strings.TrimPrefix(trimmed, "params:")))
				continue
			}
			cur.SQL += text + "\n"
			continue
		}
		switch {
		case trimmed == "" || strings.HasPrefix(trimmed, "#"):
			continue
		case strings.HasPrefix(trimmed, "known:"):
			known = strings.TrimSpace(strings.TrimPrefix(trimmed, "known:"))
			continue
		}
		f := strings.Fields(trimmed)
		b := Block{Line: line, KnownDiff: known}
		known = ""
		switch {
		case f[0] == "statement" && len(f) == 2 && f[1] == "ok":
			b.Kind = StatementOK
		case f[0] == "statement" && len(f) == 3 && f[1] == "error":
			b.Kind, b.Code = StatementError, f[2]
			if len(b.Code) != 2 && len(b.Code) != 5 {
				return nil, fmt.Errorf("line %d: SQLSTATE %q is neither a class nor a code", line, b.Code)
			}
		case f[0] == "query" && len(f) >= 2 && len(f) <= 3:
			b.Kind, b.ColTypes = Query, f[1]
			if len(f) == 3 {
				switch f[2] {
				case "nosort":
					b.Sort = NoSort
				case "rowsort":
					b.Sort = RowSort
				case "valuesort":
					b.Sort = ValueSort
				default:
					return nil, fmt.Errorf("line %d: unknown sort mode %q", line, f[2])
				}
			}
		default:
			return nil, fmt.Errorf("line %d: expected statement or query, got %q", line, trimmed)
		}
		cur = &b
	}
	flush()
	if known != "" {
		return nil, fmt.Errorf("line %d: known: marker without a block", line)
	}
	return out, sc.Err()
}

// parseParams reads "1, abc, NULL": comma-separated text values, NULL for
// a null.
func parseParams(s string) []*string {
	if s == "" {
		return nil
	}
	var out []*string
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "NULL" {
			out = append(out, nil)
			continue
		}
		v := p
		out = append(out, &v)
	}
	return out
}
