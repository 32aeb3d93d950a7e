package viewdiff

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// viewSubscribers follow views through SUBSCRIBE cursors on one
// connection, each view's delivered changes applied to a copy of its rows.
type viewSubscribers struct {
	c *pgx.Conn
	// rows holds, per view, its rows (text, joined by |) under their key
	// (the subscription's _key): one row under a key of a keyed view, the
	// row's copies under it otherwise.
	rows map[string]map[string][]string
	// defs are the views' definitions, for messages.
	defs map[string]string
}

// subscribeViews opens a cursor on each view (name → definition) that
// starts with its rows.
func subscribeViews(t *testing.T, c *pgx.Conn, defs map[string]string) *viewSubscribers {
	t.Helper()
	ctx := context.Background()
	if _, err := c.Exec(ctx, `BEGIN`); err != nil {
		t.Fatal(err)
	}
	s := &viewSubscribers{c: c, rows: map[string]map[string][]string{}, defs: defs}
	for name, def := range defs {
		if _, err := c.Exec(ctx, fmt.Sprintf(`DECLARE c_%s CURSOR FOR SUBSCRIBE %s`, name, name)); err != nil {
			t.Fatalf("subscribe to %s (%s): %v", name, def, err)
		}
		s.rows[name] = map[string][]string{}
	}
	return s
}

// check fetches what view name's cursor has and compares the rows it adds
// up to with want (the view's sorted rows).
func (s *viewSubscribers) check(t *testing.T, name string, want []string, statements int) {
	t.Helper()
	def := s.defs[name]
	rows, err := s.c.Query(context.Background(), fmt.Sprintf(`FETCH ALL c_%s WITH (timeout = '0s')`, name), pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		t.Fatalf("fetch %s: %v", name, err)
	}
	byKey := s.rows[name]
	for rows.Next() {
		// _position, _relation, _key, _version, _op, then the view's
		// columns.
		vals := rows.RawValues()
		key, op := string(vals[2]), string(vals[4])
		parts := make([]string, 0, len(vals)-5)
		for _, v := range vals[5:] {
			if v == nil {
				parts = append(parts, "NULL")
			} else {
				parts = append(parts, string(v))
			}
		}
		row := strings.Join(parts, "|")
		switch op {
		case "insert":
			byKey[key] = append(byKey[key], row)
		case "update":
			if len(byKey[key]) != 1 {
				t.Fatalf("%s (%s): update of key %q, which has %d rows", name, def, key, len(byKey[key]))
			}
			byKey[key] = []string{row}
		case "delete":
			have := byKey[key]
			if len(have) == 0 {
				t.Fatalf("%s (%s): delete of key %q, which has no row", name, def, key)
			}
			if len(have) == 1 {
				delete(byKey, key)
			} else {
				byKey[key] = have[1:]
			}
		default:
			t.Fatalf("%s: op %q", name, op)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("fetch %s: %v", name, err)
	}
	var got []string
	for _, rs := range byKey {
		got = append(got, rs...)
	}
	sort.Strings(got)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("%s (%s) after %d statements: its subscription's changes add up to\n%v\nnot its rows\n%v", name, def, statements, got, want)
	}
}
