package types

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/tests/pgoracle"
)

// The differential tests send each input to PostgreSQL 15 and compare what
// it answers (text output, binary output, SQLSTATE) with this package.

var oracle = pgoracle.Shared{StartTimeout: 60 * time.Second}

func TestMain(m *testing.M) {
	code := m.Run()
	oracle.Stop()
	os.Exit(code)
}

// oracleConn connects to the shared server with the given TimeZone.
func oracleConn(t *testing.T, zone string) *pgx.Conn {
	t.Helper()
	return oracle.Conn(t, zone)
}

type pgAnswer struct {
	val  []byte
	code string
}

func pgQuery(c *pgx.Conn, sql string, arg string, format int16) pgAnswer {
	res := c.PgConn().ExecParams(context.Background(), sql, [][]byte{[]byte(arg)}, []uint32{25}, []int16{0}, []int16{format}).Read()
	if res.Err != nil {
		var pe *pgconn.PgError
		if errors.As(res.Err, &pe) {
			return pgAnswer{code: pe.Code}
		}
		return pgAnswer{code: "conn: " + res.Err.Error()}
	}
	if len(res.Rows) != 1 || len(res.Rows[0]) != 1 {
		return pgAnswer{code: "no row"}
	}
	if res.Rows[0][0] == nil {
		return pgAnswer{code: "NULL"}
	}
	return pgAnswer{val: append([]byte{}, res.Rows[0][0]...)}
}

func settingsFor(zone string) *Settings {
	set := DefaultSettings()
	loc, ok := LookupZone(zone)
	if !ok {
		panic(zone)
	}
	set.Location = loc
	return set
}

var zones = []string{"UTC", "Europe/Berlin"}

// checkAgainstOracle compares converting s (a text value) to type `to`,
// through `via` first when via is not text: PostgreSQL's
// $1::text::via::to against ParseText + Cast.
func checkAgainstOracle(t *testing.T, c *pgx.Conn, set *Settings, via, to T, s string) {
	t.Helper()
	sql := fmt.Sprintf("SELECT $1::text::%s", to)
	if via.OID != TextOID {
		sql = fmt.Sprintf("SELECT $1::text::%s::%s", via, to)
	}
	want := pgQuery(c, sql, s, 0)
	wantBin := pgQuery(c, sql, s, 1)
	// The wire protocol refuses what text cannot hold before any cast.
	_, err := ParseText(Make(TextOID), s, set)
	var got Datum
	if err != nil {
	} else if via.OID == TextOID {
		got, err = Cast(s, Make(TextOID), to, set)
	} else {
		got, err = Cast(s, Make(TextOID), via, set)
		if err == nil {
			got, err = Cast(got, via, to, set)
		}
	}
	label := fmt.Sprintf("%s %q", sql, s)
	if err != nil {
		if want.code == "" {
			t.Errorf("%s: PostgreSQL gives %q, we fail: %v (%s)", label, want.val, err, pgerr.CodeOf(err))
		} else if string(pgerr.CodeOf(err)) != want.code {
			t.Errorf("%s: PostgreSQL fails with %s, we with %s: %v", label, want.code, pgerr.CodeOf(err), err)
		}
		return
	}
	if want.code != "" {
		if want.code == "NULL" && got == nil {
			return
		}
		t.Errorf("%s: PostgreSQL fails with %s, we give %q", label, want.code, FormatText(to, got, set))
		return
	}
	if got == nil {
		t.Errorf("%s: PostgreSQL gives %q, we give NULL", label, want.val)
		return
	}
	if text := AppendText(nil, to, got, set); !bytes.Equal(text, want.val) {
		t.Errorf("%s: text: PostgreSQL %q, we %q", label, want.val, text)
	}
	if bin := AppendBinary(nil, to, got); !bytes.Equal(bin, wantBin.val) {
		t.Errorf("%s: binary: PostgreSQL %x, we %x", label, wantBin.val, bin)
	}
	back, err := DecodeBinary(to, wantBin.val)
	if err != nil {
		t.Errorf("%s: DecodeBinary(%x): %v", label, wantBin.val, err)
		return
	}
	if to.OID != JSONOID && !Equal(to, back, got) {
		t.Errorf("%s: DecodeBinary(%x) = %q, want %q", label, wantBin.val, FormatText(to, back, set), FormatText(to, got, set))
	}
	if text := AppendText(nil, to, back, set); !bytes.Equal(text, want.val) {
		t.Errorf("%s: text of DecodeBinary: PostgreSQL %q, we %q", label, want.val, text)
	}
}

func mustType(t *testing.T, name string) T {
	t.Helper()
	ty, err := ParseTypeName(name)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return ty
}

func TestOracleInput(t *testing.T) {
	for _, zone := range zones {
		t.Run(zone, func(t *testing.T) {
			c := oracleConn(t, zone)
			set := settingsFor(zone)
			for _, tc := range inputCases {
				ty := mustType(t, tc.typ)
				for _, s := range tc.inputs {
					checkAgainstOracle(t, c, set, Make(TextOID), ty, s)
				}
			}
		})
	}
}

func TestOracleCasts(t *testing.T) {
	for _, zone := range zones {
		t.Run(zone, func(t *testing.T) {
			c := oracleConn(t, zone)
			set := settingsFor(zone)
			for _, tc := range castCases {
				checkAgainstOracle(t, c, set, mustType(t, tc.from), mustType(t, tc.to), tc.in)
			}
		})
	}
}

// TestOracleTypeNames checks String against format_type for every name
// ParseTypeName accepts.
func TestOracleTypeNames(t *testing.T) {
	c := oracleConn(t, "UTC")
	for _, name := range typeNames {
		ty, err := ParseTypeName(name)
		// A temp table gives format_type with the typmod.
		tbl := fmt.Sprintf("CREATE TEMP TABLE tn (x %s)", name)
		_, cerr := c.Exec(context.Background(), tbl)
		if cerr != nil {
			var pe *pgconn.PgError
			errors.As(cerr, &pe)
			if err == nil {
				t.Errorf("%s: PostgreSQL rejects (%v), we accept as %s", name, cerr, ty)
			} else if pe != nil && string(pgerr.CodeOf(err)) != pe.Code {
				t.Errorf("%s: PostgreSQL fails with %s, we with %s", name, pe.Code, pgerr.CodeOf(err))
			}
			continue
		}
		var got string
		var oid uint32
		if err2 := c.QueryRow(context.Background(), "SELECT format_type(atttypid, atttypmod), atttypid FROM pg_attribute WHERE attrelid = 'tn'::regclass AND attname = 'x'").Scan(&got, &oid); err2 != nil {
			t.Fatal(err2)
		}
		c.Exec(context.Background(), "DROP TABLE tn")
		if err != nil {
			t.Errorf("%s: PostgreSQL accepts as %s, we fail: %v", name, got, err)
			continue
		}
		if ty.String() != got || uint32(ty.OID) != oid {
			t.Errorf("%s: PostgreSQL %s (%d), we %s (%d)", name, got, oid, ty, ty.OID)
		}
	}
}
