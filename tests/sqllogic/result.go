package sqllogic

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// Outcome is what one server answered to one block.
type Outcome struct {
	Cols []Col
	Rows [][]*string // text values, nil for NULL
	Tag  string
	// Code and Msg are the SQLSTATE and message of an error, "" on success.
	Code, Msg string
	// Broken is a failure that is not a server error (connection lost,
	// timeout).
	Broken error
}

// Col is a result column as RowDescription gives it.
type Col struct {
	Name string
	OID  uint32
}

// Failed reports whether the server answered with an error.
func (o *Outcome) Failed() bool { return o.Code != "" || o.Broken != nil }

func (o *Outcome) errText() string {
	if o.Broken != nil {
		return "broken: " + o.Broken.Error()
	}
	return o.Code + " " + o.Msg
}

// Run sends sql: with the simple query protocol when params is nil and
// !extended, else as one extended-protocol statement whose parameters are
// text values of types oids (nil or 0: let the server infer).
func Run(ctx context.Context, c *pgconn.PgConn, sql string, extended bool, params []*string, oids []uint32) *Outcome {
	o := &Outcome{}
	var tags []string
	var err error
	if extended {
		vals := make([][]byte, len(params))
		for i, p := range params {
			if p != nil {
				vals[i] = append([]byte{}, *p...) // non-nil even when empty: nil is NULL
			}
		}
		if len(oids) == 0 {
			oids = make([]uint32, len(params))
		}
		err = o.read(c.ExecParams(ctx, sql, vals, oids, nil, nil), &tags)
	} else {
		mrr := c.Exec(ctx, sql)
		for err == nil && mrr.NextResult() {
			err = o.read(mrr.ResultReader(), &tags)
		}
		if cerr := mrr.Close(); err == nil {
			err = cerr
		}
	}
	o.Tag = strings.Join(tags, ";")
	if err != nil {
		var pe *pgconn.PgError
		if errors.As(err, &pe) {
			o.Code, o.Msg = pe.Code, pe.Message
		} else {
			o.Broken = err
		}
	}
	return o
}

// read collects one result. pgconn's own Read leaves the columns out of a
// result without rows, so this reads them itself.
func (o *Outcome) read(rr *pgconn.ResultReader, tags *[]string) error {
	var rows [][]*string
	for rr.NextRow() {
		vals := make([]*string, 0, len(rr.Values()))
		for _, v := range rr.Values() {
			if v == nil {
				vals = append(vals, nil)
				continue
			}
			s := string(v)
			vals = append(vals, &s)
		}
		rows = append(rows, vals)
	}
	fds := rr.FieldDescriptions()
	tag, err := rr.Close()
	if err != nil {
		return err
	}
	*tags = append(*tags, tag.String())
	if fds != nil {
		o.Cols = o.Cols[:0]
		for _, f := range fds {
			o.Cols = append(o.Cols, Col{Name: f.Name, OID: f.DataTypeOID})
		}
		o.Rows = rows
	}
	return nil
}

// sameCode reports whether got matches want: a two-character want is a
// class.
func sameCode(want, got string) bool {
	if len(want) == 2 {
		return len(got) == 5 && got[:2] == want
	}
	return got == want
}

// Compare returns "" when Strand's outcome s agrees with PostgreSQL's p
// for block b, else a description of the difference. It returns an error
// when PostgreSQL itself does not behave as the block says (a bad test).
func Compare(b *Block, p, s *Outcome) (string, error) {
	if p.Broken != nil {
		return "", fmt.Errorf("postgres: %v", p.Broken)
	}
	switch b.Kind {
	case StatementError:
		if !sameCode(b.Code, p.Code) {
			return "", fmt.Errorf("postgres answered %q, the test expects error %s", describe(p), b.Code)
		}
		if !sameCode(b.Code, s.Code) {
			return fmt.Sprintf("postgres: error %s %s\nstrand:   %s", p.Code, p.Msg, describe(s)), nil
		}
		return "", nil
	case StatementOK:
		if p.Failed() {
			return "", fmt.Errorf("postgres failed: %s", p.errText())
		}
		if s.Failed() {
			return fmt.Sprintf("postgres: %s\nstrand:   error %s", p.Tag, s.errText()), nil
		}
		if p.Tag != s.Tag {
			return fmt.Sprintf("command tag: postgres %q, strand %q", p.Tag, s.Tag), nil
		}
		return "", nil
	}
	if p.Failed() {
		return "", fmt.Errorf("postgres failed: %s", p.errText())
	}
	if len(b.ColTypes) != len(p.Cols) {
		return "", fmt.Errorf("query has %d columns, the header says %d (%s)", len(p.Cols), len(b.ColTypes), b.ColTypes)
	}
	return CompareRows(p, s, b.Sort), nil
}

// CompareRows compares two successful (for p) query outcomes.
func CompareRows(p, s *Outcome, mode SortMode) string {
	if s.Failed() {
		return fmt.Sprintf("postgres: %d rows\nstrand:   error %s", len(p.Rows), s.errText())
	}
	if d := compareCols(p.Cols, s.Cols); d != "" {
		return d
	}
	pr, sr := render(p.Rows, mode), render(s.Rows, mode)
	if len(pr) == len(sr) {
		same := true
		for i := range pr {
			if pr[i] != sr[i] {
				same = false
				break
			}
		}
		if same {
			return ""
		}
	}
	return rowDiff(pr, sr)
}

func compareCols(p, s []Col) string {
	if len(p) != len(s) {
		return fmt.Sprintf("columns: postgres %v, strand %v", p, s)
	}
	for i := range p {
		if p[i].Name != s[i].Name {
			return fmt.Sprintf("column %d name: postgres %q, strand %q", i+1, p[i].Name, s[i].Name)
		}
		if p[i].OID != s[i].OID {
			return fmt.Sprintf("column %d (%s) type: postgres %s, strand %s", i+1, p[i].Name, oidName(p[i].OID), oidName(s[i].OID))
		}
	}
	return ""
}

// render turns rows into comparable lines, sorted as mode says.
func render(rows [][]*string, mode SortMode) []string {
	var out []string
	for _, r := range rows {
		if mode == ValueSort {
			for _, v := range r {
				out = append(out, valText(v))
			}
			continue
		}
		parts := make([]string, len(r))
		for i, v := range r {
			parts[i] = valText(v)
		}
		out = append(out, strings.Join(parts, " | "))
	}
	if mode != NoSort {
		sort.Strings(out)
	}
	return out
}

func valText(v *string) string {
	if v == nil {
		return "NULL"
	}
	if *v == "" {
		return "(empty)"
	}
	if *v == "NULL" {
		return "'NULL'"
	}
	return *v
}

// rowDiff shows the first differences between two row lists.
func rowDiff(p, s []string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "rows: postgres %d, strand %d", len(p), len(s))
	shown := 0
	for i := 0; i < max(len(p), len(s)) && shown < 8; i++ {
		var pv, sv string
		if i < len(p) {
			pv = p[i]
		} else {
			pv = "(none)"
		}
		if i < len(s) {
			sv = s[i]
		} else {
			sv = "(none)"
		}
		if pv != sv {
			fmt.Fprintf(&b, "\n  row %d: postgres [%s]\n         strand   [%s]", i+1, pv, sv)
			shown++
		}
	}
	return b.String()
}

func describe(o *Outcome) string {
	if o.Failed() {
		return "error " + o.errText()
	}
	if o.Cols != nil {
		return fmt.Sprintf("%s, %d rows", o.Tag, len(o.Rows))
	}
	return o.Tag
}

func oidName(oid uint32) string {
	switch oid {
	case 16:
		return "bool"
	case 17:
		return "bytea"
	case 20:
		return "int8"
	case 21:
		return "int2"
	case 23:
		return "int4"
	case 25:
		return "text"
	case 700:
		return "float4"
	case 701:
		return "float8"
	case 705:
		return "unknown"
	case 1042:
		return "bpchar"
	case 1043:
		return "varchar"
	case 1082:
		return "date"
	case 1114:
		return "timestamp"
	case 1184:
		return "timestamptz"
	case 1186:
		return "interval"
	case 1700:
		return "numeric"
	}
	return fmt.Sprintf("oid %d", oid)
}
