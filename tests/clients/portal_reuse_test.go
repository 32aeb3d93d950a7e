package clients

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgproto3"
)

// TestPortalReuse drives the extended protocol by hand: a named portal is
// suspended inside a transaction while the unnamed portal is bound,
// executed (with and without a row limit) and closed over and over, as
// drivers do once per statement; then the named portal resumes. pgwire and
// the session reuse a closed portal's memory for the next Bind, so this
// checks that no portal sees another's rows, parameters or formats.
func TestPortalReuse(t *testing.T) {
	p := serve(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pc, err := pgconn.Connect(ctx, p.DSN())
	if err != nil {
		t.Fatal(err)
	}
	if err := pc.Exec(ctx, `CREATE TABLE portal_reuse (id int8 PRIMARY KEY, v text);
		INSERT INTO portal_reuse VALUES (1, 'a'), (2, 'b'), (3, 'c'), (4, 'd'), (5, 'e')`).Close(); err != nil {
		t.Fatal(err)
	}
	if err := pc.SyncConn(ctx); err != nil {
		t.Fatal(err)
	}
	hj, err := pc.Hijack()
	if err != nil {
		t.Fatal(err)
	}
	defer hj.Conn.Close()
	hj.Conn.SetDeadline(time.Now().Add(30 * time.Second))
	fe := hj.Frontend

	// roundTrip sends msgs and returns what came back up to ReadyForQuery,
	// one line per message.
	roundTrip := func(msgs ...pgproto3.FrontendMessage) string {
		t.Helper()
		for _, m := range msgs {
			fe.Send(m)
		}
		if err := fe.Flush(); err != nil {
			t.Fatal(err)
		}
		var out []string
		for {
			m, err := fe.Receive()
			if err != nil {
				t.Fatal(err)
			}
			switch m := m.(type) {
			case *pgproto3.DataRow:
				var vals []string
				for _, v := range m.Values {
					vals = append(vals, string(v))
				}
				out = append(out, "row "+strings.Join(vals, ","))
			case *pgproto3.CommandComplete:
				out = append(out, "complete "+string(m.CommandTag))
			case *pgproto3.ErrorResponse:
				out = append(out, "error "+m.Code+" "+m.Message)
			case *pgproto3.ReadyForQuery:
				return strings.Join(append(out, "ready "+string(m.TxStatus)), "\n")
			default:
				out = append(out, fmt.Sprintf("%T", m)[len("*pgproto3."):])
			}
		}
	}
	expect := func(got, want string) {
		t.Helper()
		if got != want {
			t.Fatalf("got:\n%s\nwant:\n%s", got, want)
		}
	}

	expect(roundTrip(&pgproto3.Query{String: "BEGIN"}), "complete BEGIN\nready T")
	expect(roundTrip(
		&pgproto3.Parse{Name: "all", Query: "SELECT id, v FROM portal_reuse ORDER BY id"},
		&pgproto3.Bind{DestinationPortal: "a", PreparedStatement: "all"},
		&pgproto3.Execute{Portal: "a", MaxRows: 2},
		&pgproto3.Sync{},
	), "ParseComplete\nBindComplete\nrow 1,a\nrow 2,b\nPortalSuspended\nready T")

	for i := 1; i <= 3; i++ {
		// Unnamed portal to completion, in binary for the first column.
		expect(roundTrip(
			&pgproto3.Parse{Query: "SELECT $1::int8 * 10 AS x, $2::text AS y"},
			&pgproto3.Bind{Parameters: [][]byte{[]byte(fmt.Sprint(i)), []byte("p")}, ResultFormatCodes: []int16{1, 0}},
			&pgproto3.Execute{},
			&pgproto3.Close{ObjectType: 'P'},
			&pgproto3.Sync{},
		), fmt.Sprintf("ParseComplete\nBindComplete\nrow \x00\x00\x00\x00\x00\x00\x00%c,p\ncomplete SELECT 1\nCloseComplete\nready T", byte(i*10)))
		// Unnamed portal of the named statement, suspended, then closed.
		expect(roundTrip(
			&pgproto3.Bind{PreparedStatement: "all"},
			&pgproto3.Execute{MaxRows: 1},
			&pgproto3.Close{ObjectType: 'P'},
			&pgproto3.Sync{},
		), "BindComplete\nrow 1,a\nPortalSuspended\nCloseComplete\nready T")
	}

	got := roundTrip(&pgproto3.Execute{Portal: "a"}, &pgproto3.Sync{})
	if !strings.HasPrefix(got, "row 3,c\nrow 4,d\nrow 5,e\ncomplete SELECT ") || !strings.HasSuffix(got, "\nready T") {
		t.Fatalf("resumed portal a:\n%s", got)
	}
	expect(roundTrip(&pgproto3.Query{String: "COMMIT"}), "complete COMMIT\nready I")
	// The transaction's end closed portal a.
	expect(roundTrip(&pgproto3.Execute{Portal: "a"}, &pgproto3.Sync{}), `error 34000 portal "a" does not exist`+"\nready I")
}
