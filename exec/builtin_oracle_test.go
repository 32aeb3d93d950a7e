package exec

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
	"github.com/strand-db/strand/tests/pgoracle"
)

// The differential test evaluates each case of builtinCases with the
// registered overload and compares the text it prints with what PostgreSQL
// 15 prints for the same call, or the SQLSTATE when PostgreSQL fails. Every
// case runs under two time zones.
//
// A case is one line: the function name (or "op" and the operator symbol),
// then its arguments, separated by " | ". An argument is literal::type,
// split at the last "::"; the literal is taken verbatim (no quoting), and
// NULL is the null value.

var oracle pgoracle.Shared

func TestMain(m *testing.M) {
	code := m.Run()
	oracle.Stop()
	os.Exit(code)
}

var oracleZones = []string{"UTC", "America/New_York"}

// oracleConn connects to the shared server with the given TimeZone.
func oracleConn(t *testing.T, zone string) *pgx.Conn {
	t.Helper()
	return oracle.Conn(t, zone)
}

// builtinCase is one parsed line of builtinCases.
type builtinCase struct {
	line  string
	name  string // function name, or operator symbol when op
	op    bool
	types []types.T
	lits  []string
	nulls []bool
	// approx compares float8 results to within a few units in the last
	// place: the C library's trigonometry is correctly rounded, Go's is
	// not always.
	approx bool
}

func parseCases(t *testing.T, text string) []builtinCase {
	var out []builtinCase
	for _, line := range strings.Split(text, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		approx := false
		if rest, ok := strings.CutPrefix(line, "~ "); ok {
			approx, line = true, rest
		}
		bitor := false
		if rest, ok := strings.CutPrefix(line, "op | | "); ok {
			bitor, line = true, "op bitor | "+rest
		}
		parts := strings.Split(line, " | ")
		c := builtinCase{line: line, name: parts[0], approx: approx}
		if op, ok := strings.CutPrefix(parts[0], "op "); ok {
			c.op, c.name = true, op
		}
		if bitor {
			c.name = "|"
		}
		for _, a := range parts[1:] {
			i := strings.LastIndex(a, "::")
			if i < 0 {
				t.Fatalf("case %q: argument %q has no type", line, a)
			}
			typ, err := types.ParseTypeName(a[i+2:])
			if err != nil {
				t.Fatalf("case %q: %v", line, err)
			}
			c.types = append(c.types, typ)
			c.lits = append(c.lits, a[:i])
			c.nulls = append(c.nulls, a[:i] == "NULL")
		}
		out = append(out, c)
	}
	return out
}

// sql is the PostgreSQL spelling of the case, cast to text.
func (c builtinCase) sql() string {
	args := make([]string, len(c.lits))
	for i, l := range c.lits {
		if c.nulls[i] {
			args[i] = "NULL::" + c.types[i].String()
		} else {
			args[i] = "'" + strings.ReplaceAll(l, "'", "''") + "'::" + c.types[i].String()
		}
	}
	var e string
	switch {
	case c.op && len(args) == 1:
		e = "(" + c.name + " " + args[0] + ")"
	case c.op:
		e = "(" + args[0] + " " + c.name + " " + args[1] + ")"
	case c.name == "position":
		e = "position(" + args[1] + " IN " + args[0] + ")"
	case c.name == "pg_extract":
		e = "EXTRACT(" + c.lits[0] + " FROM " + args[1] + ")"
	default:
		e = c.name + "(" + strings.Join(args, ", ") + ")"
	}
	return "SELECT (" + e + ")::text"
}

// lookup finds the overload whose signature is exactly the case's types
// (a polymorphic argument takes any type).
func (c builtinCase) lookup() *Func {
	for _, f := range Overloads(c.name) {
		if (f.Op != "") != c.op {
			continue
		}
		ft := f.Args
		// A variadic parameter takes at least one argument.
		if f.Variadic && len(c.types) >= len(ft) {
			for len(ft) < len(c.types) {
				ft = append(ft[:len(ft):len(ft)], ft[len(ft)-1])
			}
			ft = ft[:len(c.types)]
		}
		if len(ft) != len(c.types) {
			continue
		}
		ok := true
		for i, at := range c.types {
			if ft[i] != at.OID && ft[i] != anyArg {
				ok = false
			}
		}
		if ok {
			return f
		}
	}
	return nil
}

// eval runs the case through our implementation: its text output, or the
// SQLSTATE it fails with ("NULL" for a null result).
func (c builtinCase) eval(set *types.Settings) (string, string, error) {
	f := c.lookup()
	if f == nil {
		return "", string(pgerr.UndefinedFunction), nil
	}
	call := &Call{Fn: f, T: f.Ret}
	vals := make([]types.Datum, len(c.lits))
	for i, l := range c.lits {
		if !c.nulls[i] {
			v, err := types.ParseText(c.types[i], l, set)
			if err != nil {
				return "", "", fmt.Errorf("argument %q: %v", l, err)
			}
			vals[i] = v
		}
		call.Args = append(call.Args, &Const{Val: vals[i], T: c.types[i]})
	}
	env := &Env{Settings: set, Now: time.Date(2024, 3, 5, 12, 0, 0, 0, time.UTC)}
	v, err := call.Eval(env, nil)
	if err != nil {
		return "", string(pgerr.CodeOf(err)), nil
	}
	if v == nil {
		return "", "NULL", nil
	}
	if f.Ret.OID == types.BoolOID {
		// PostgreSQL's bool::text is true/false, not the output function's t/f.
		return strconv.FormatBool(v.(bool)), "", nil
	}
	return string(types.AppendText(nil, f.Ret, v, set)), "", nil
}

func pgAnswer(c *pgx.Conn, sql string) (string, string) {
	res := c.PgConn().ExecParams(context.Background(), sql, nil, nil, nil, nil).Read()
	if res.Err != nil {
		var pe *pgconn.PgError
		if errors.As(res.Err, &pe) {
			return "", pe.Code
		}
		return "", "conn: " + res.Err.Error()
	}
	if len(res.Rows) != 1 || len(res.Rows[0]) != 1 {
		return "", "no row"
	}
	if res.Rows[0][0] == nil {
		return "", "NULL"
	}
	return string(res.Rows[0][0]), ""
}

func oracleSettings(t *testing.T, zone string) *types.Settings {
	set := types.DefaultSettings()
	loc, ok := types.LookupZone(zone)
	if !ok {
		t.Fatalf("zone %s", zone)
	}
	set.Location = loc
	return set
}

func TestBuiltinsAgainstPostgres(t *testing.T) {
	cases := parseCases(t, builtinCases)
	t.Logf("%d cases", len(cases))
	for _, zone := range oracleZones {
		t.Run(zone, func(t *testing.T) {
			conn := oracleConn(t, zone)
			set := oracleSettings(t, zone)
			fails := 0
			for _, c := range cases {
				sql := c.sql()
				wantVal, wantCode := pgAnswer(conn, sql)
				gotVal, gotCode, err := c.eval(set)
				switch {
				case err != nil:
					t.Errorf("%s: %v", sql, err)
				case wantCode != "" && gotCode != wantCode:
					t.Errorf("%s: PostgreSQL: %s; we: %q %s", sql, wantCode, gotVal, gotCode)
				case wantCode == "" && c.approx && gotCode == "" && closeFloats(gotVal, wantVal):
					continue
				case wantCode == "" && (gotCode != "" || gotVal != wantVal):
					t.Errorf("%s: PostgreSQL: %q; we: %q %s", sql, wantVal, gotVal, gotCode)
				default:
					continue
				}
				if fails++; fails > 400 {
					t.Fatal("too many failures")
				}
			}
		})
	}
}

func closeFloats(a, b string) bool {
	x, err1 := strconv.ParseFloat(a, 64)
	y, err2 := strconv.ParseFloat(b, 64)
	if err1 != nil || err2 != nil {
		return false
	}
	return math.Abs(x-y) <= 4e-16*math.Max(math.Abs(x), math.Abs(y))
}
