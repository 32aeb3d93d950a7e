package pgwire

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// rawClient drives the protocol message by message.
type rawClient struct {
	t  testing.TB
	nc net.Conn
	fe *pgproto3.Frontend
}

func dialRaw(t testing.TB, addr string) *rawClient {
	t.Helper()
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { nc.Close() })
	nc.SetDeadline(time.Now().Add(20 * time.Second))
	return &rawClient{t: t, nc: nc, fe: pgproto3.NewFrontend(nc, nc)}
}

// connectRaw opens a trust-authenticated session (the server must use trust).
func connectRaw(t testing.TB, addr string) *rawClient {
	t.Helper()
	c := dialRaw(t, addr)
	c.send(&pgproto3.StartupMessage{ProtocolVersion: pgproto3.ProtocolVersion30, Parameters: map[string]string{"user": "trusty"}})
	c.until("ReadyForQuery")
	return c
}

func (c *rawClient) send(msgs ...pgproto3.FrontendMessage) {
	c.t.Helper()
	for _, m := range msgs {
		c.fe.Send(m)
	}
	if err := c.fe.Flush(); err != nil {
		c.t.Fatal(err)
	}
}

func (c *rawClient) sendRaw(b []byte) {
	c.t.Helper()
	if _, err := c.nc.Write(b); err != nil {
		c.t.Fatal(err)
	}
}

func msgName(m pgproto3.BackendMessage) string {
	name := reflect.TypeOf(m).Elem().Name()
	switch m := m.(type) {
	case *pgproto3.ErrorResponse:
		return name + "(" + m.Code + ")"
	case *pgproto3.CommandComplete:
		return name + "(" + string(m.CommandTag) + ")"
	case *pgproto3.DataRow:
		return name + "(" + string(m.Values[0]) + ")"
	case *pgproto3.ReadyForQuery:
		return name + "(" + string(m.TxStatus) + ")"
	}
	return name
}

// until reads messages up to one named name (its type name, possibly with a
// detail in parentheses) and returns their names.
func (c *rawClient) until(name string) []string {
	c.t.Helper()
	var got []string
	for {
		m, err := c.fe.Receive()
		if err != nil {
			c.t.Fatalf("receive after %v: %v", got, err)
		}
		n := msgName(m)
		got = append(got, n)
		if n == name || strings.HasPrefix(n, name+"(") {
			return got
		}
	}
}

// expect reads messages up to the next ReadyForQuery and compares them.
func (c *rawClient) expect(want ...string) {
	c.t.Helper()
	got := c.until("ReadyForQuery")
	if strings.Join(got, " ") != strings.Join(want, " ") {
		c.t.Fatalf("got  %v\nwant %v", got, want)
	}
}

// expectClose reads until the server closes and returns the messages.
func (c *rawClient) expectClose() []string {
	c.t.Helper()
	var got []string
	for {
		m, err := c.fe.Receive()
		if err != nil {
			if err == io.EOF || err == io.ErrUnexpectedEOF || strings.Contains(err.Error(), "EOF") || strings.Contains(err.Error(), "reset") {
				return got
			}
			c.t.Fatalf("after %v: %v", got, err)
		}
		got = append(got, msgName(m))
	}
}

func TestPortalSuspension(t *testing.T) {
	ts := startServer(t, Config{Auth: AuthTrust})
	c := connectRaw(t, ts.addr)
	c.send(
		&pgproto3.Parse{Query: "SELECT generate_series(1, 5)"},
		&pgproto3.Bind{DestinationPortal: "c1"},
		&pgproto3.Describe{ObjectType: 'P', Name: "c1"},
		&pgproto3.Execute{Portal: "c1", MaxRows: 2},
		&pgproto3.Execute{Portal: "c1", MaxRows: 2},
		&pgproto3.Execute{Portal: "c1", MaxRows: 2},
		&pgproto3.Sync{},
	)
	c.expect("ParseComplete", "BindComplete", "RowDescription",
		"DataRow(1)", "DataRow(2)", "PortalSuspended",
		"DataRow(3)", "DataRow(4)", "PortalSuspended",
		"DataRow(5)", "CommandComplete(SELECT 1)", "ReadyForQuery(I)")

	// The portal ended with its implicit transaction.
	c.send(&pgproto3.Execute{Portal: "c1"}, &pgproto3.Sync{})
	c.expect("ErrorResponse(34000)", "ReadyForQuery(I)")

	// Inside a transaction block the portal survives Sync.
	c.send(&pgproto3.Query{String: "BEGIN"})
	c.expect("CommandComplete(BEGIN)", "ReadyForQuery(T)")
	c.send(
		&pgproto3.Parse{Query: "SELECT generate_series(1, 4)"},
		&pgproto3.Bind{DestinationPortal: "c2", ResultFormatCodes: []int16{1}},
		&pgproto3.Execute{Portal: "c2", MaxRows: 3},
		&pgproto3.Sync{},
	)
	got := c.until("ReadyForQuery")
	if len(got) != 7 || got[5] != "PortalSuspended" {
		t.Fatalf("first fetch: %v", got)
	}
	c.send(&pgproto3.Describe{ObjectType: 'P', Name: "c2"}, &pgproto3.Execute{Portal: "c2"}, &pgproto3.Sync{})
	m, _ := c.fe.Receive()
	if rd, ok := m.(*pgproto3.RowDescription); !ok || rd.Fields[0].Format != 1 {
		t.Fatalf("describe portal: %#v", m)
	}
	m, _ = c.fe.Receive()
	if dr, ok := m.(*pgproto3.DataRow); !ok || binary.BigEndian.Uint32(dr.Values[0]) != 4 {
		t.Fatalf("resumed row: %#v", m)
	}
	c.expect("CommandComplete(SELECT 1)", "ReadyForQuery(T)")
	c.send(&pgproto3.Query{String: "COMMIT"})
	c.expect("CommandComplete(COMMIT)", "ReadyForQuery(I)")
	c.send(&pgproto3.Describe{ObjectType: 'P', Name: "c2"}, &pgproto3.Sync{})
	c.expect("ErrorResponse(34000)", "ReadyForQuery(I)")
	if n := ts.backend.portals.Load(); n != 0 {
		t.Fatalf("%d portals open", n)
	}
}

func TestStatementAndPortalNames(t *testing.T) {
	ts := startServer(t, Config{Auth: AuthTrust})
	c := connectRaw(t, ts.addr)

	// The unnamed statement is replaced by the next Parse of it.
	c.send(
		&pgproto3.Parse{Query: "SELECT 1"},
		&pgproto3.Parse{Query: "SELECT 2"},
		&pgproto3.Bind{},
		&pgproto3.Execute{},
		&pgproto3.Sync{},
	)
	c.expect("ParseComplete", "ParseComplete", "BindComplete", "DataRow(2)", "CommandComplete(SELECT 1)", "ReadyForQuery(I)")

	// A Query message drops the unnamed statement.
	c.send(&pgproto3.Query{String: "SELECT 3"})
	c.expect("RowDescription", "DataRow(3)", "CommandComplete(SELECT 1)", "ReadyForQuery(I)")
	c.send(&pgproto3.Bind{}, &pgproto3.Sync{})
	c.expect("ErrorResponse(26000)", "ReadyForQuery(I)")

	// Duplicate names; everything after an error is skipped up to Sync.
	c.send(
		&pgproto3.Parse{Name: "a", Query: "SELECT 4"},
		&pgproto3.Parse{Name: "a", Query: "SELECT 5"},
		&pgproto3.Bind{PreparedStatement: "a"},
		&pgproto3.Execute{},
		&pgproto3.Query{String: "SELECT 6"},
		&pgproto3.Sync{},
	)
	c.expect("ParseComplete", "ErrorResponse(42P05)", "ReadyForQuery(I)")
	c.send(&pgproto3.Query{String: "BEGIN"})
	c.expect("CommandComplete(BEGIN)", "ReadyForQuery(T)")
	c.send(
		&pgproto3.Bind{PreparedStatement: "a", DestinationPortal: "p"},
		&pgproto3.Bind{PreparedStatement: "a", DestinationPortal: "p"},
		&pgproto3.Sync{},
	)
	// A pgwire-raised error fails the transaction block, like any other.
	c.expect("BindComplete", "ErrorResponse(42P03)", "ReadyForQuery(E)")
	c.send(&pgproto3.Query{String: "ROLLBACK"})
	c.expect("CommandComplete(ROLLBACK)", "ReadyForQuery(I)")

	c.send(
		&pgproto3.Describe{ObjectType: 'S', Name: "a"},
		&pgproto3.Close{ObjectType: 'S', Name: "a"},
		&pgproto3.Close{ObjectType: 'S', Name: "never"},
		&pgproto3.Close{ObjectType: 'P', Name: "never"},
		&pgproto3.Describe{ObjectType: 'S', Name: "a"},
		&pgproto3.Sync{},
	)
	c.expect("ParameterDescription", "RowDescription", "CloseComplete", "CloseComplete", "CloseComplete", "ErrorResponse(26000)", "ReadyForQuery(I)")

	// Bad format codes and counts.
	c.send(&pgproto3.Parse{Name: "p1", Query: "SELECT $1::int4"},
		&pgproto3.Bind{PreparedStatement: "p1", ParameterFormatCodes: []int16{0, 0, 0}, Parameters: [][]byte{[]byte("1")}},
		&pgproto3.Sync{})
	c.expect("ParseComplete", "ErrorResponse(08P01)", "ReadyForQuery(I)")
	c.send(&pgproto3.Bind{PreparedStatement: "p1", ParameterFormatCodes: []int16{7}, Parameters: [][]byte{[]byte("1")}}, &pgproto3.Sync{})
	c.expect("ErrorResponse(22023)", "ReadyForQuery(I)")
	c.send(&pgproto3.Bind{PreparedStatement: "p1", Parameters: [][]byte{[]byte("1")}, ResultFormatCodes: []int16{0, 1}}, &pgproto3.Sync{})
	c.expect("ErrorResponse(08P01)", "ReadyForQuery(I)")

	// Empty query, both protocols; Flush sends what is pending.
	c.send(&pgproto3.Query{String: ""})
	c.expect("EmptyQueryResponse", "ReadyForQuery(I)")
	c.send(&pgproto3.Parse{Query: ""}, &pgproto3.Bind{}, &pgproto3.Execute{}, &pgproto3.Flush{})
	if got := c.until("EmptyQueryResponse"); len(got) != 3 {
		t.Fatalf("flush: %v", got)
	}
	c.send(&pgproto3.Sync{})
	c.expect("ReadyForQuery(I)")

	// Stray COPY messages are dropped; FunctionCall is refused.
	c.send(&pgproto3.CopyData{Data: []byte("x")}, &pgproto3.CopyDone{}, &pgproto3.FunctionCall{Function: 1})
	c.expect("ErrorResponse(0A000)", "ReadyForQuery(I)")
	if n := ts.backend.stmts.Load(); n != 2 { // p1 and the unnamed one
		t.Fatalf("%d statements open, want 2", n)
	}
}

func TestCopyExtendedProtocol(t *testing.T) {
	ts := startServer(t, Config{Auth: AuthTrust})
	c := connectRaw(t, ts.addr)
	c.send(&pgproto3.Parse{Query: "COPY t FROM STDIN"}, &pgproto3.Bind{}, &pgproto3.Execute{}, &pgproto3.Flush{})
	c.until("CopyInResponse")
	c.send(&pgproto3.CopyData{Data: []byte("1\n2")}, &pgproto3.Flush{}, &pgproto3.CopyData{Data: []byte("\n3\n")}, &pgproto3.CopyDone{}, &pgproto3.Sync{})
	c.expect("CommandComplete(COPY 3)", "ReadyForQuery(I)")

	// CopyFail: 57014, then skip to Sync, dropping late CopyData.
	c.send(&pgproto3.Parse{Query: "COPY t FROM STDIN"}, &pgproto3.Bind{}, &pgproto3.Execute{}, &pgproto3.Flush{})
	c.until("CopyInResponse")
	c.send(&pgproto3.CopyData{Data: []byte("4\n")}, &pgproto3.CopyFail{Message: "changed my mind"}, &pgproto3.CopyData{Data: []byte("5\n")}, &pgproto3.Sync{})
	c.expect("ErrorResponse(57014)", "ReadyForQuery(I)")

	// COPY TO STDOUT through Execute.
	c.send(&pgproto3.Parse{Query: "COPY t TO STDOUT"}, &pgproto3.Bind{}, &pgproto3.Execute{}, &pgproto3.Sync{})
	c.expect("ParseComplete", "BindComplete", "CopyOutResponse", "CopyData", "CopyData", "CopyData", "CopyDone", "CommandComplete(COPY 3)", "ReadyForQuery(I)")

	// A message that does not belong in COPY is a protocol violation.
	c.send(&pgproto3.Query{String: "COPY t FROM STDIN"})
	c.until("CopyInResponse")
	c.send(&pgproto3.Query{String: "SELECT 1"})
	if got := c.expectClose(); len(got) != 1 || got[0] != "ErrorResponse(08P01)" {
		t.Fatalf("query inside COPY: %v", got)
	}
}

func startupPacket(version uint32, params ...string) []byte {
	b := binary.BigEndian.AppendUint32(make([]byte, 4), version)
	for _, p := range params {
		b = append(append(b, p...), 0)
	}
	b = append(b, 0)
	binary.BigEndian.PutUint32(b, uint32(len(b)))
	return b
}

func message(typ byte, body []byte) []byte {
	b := []byte{typ, 0, 0, 0, 0}
	binary.BigEndian.PutUint32(b[1:], uint32(len(body)+4))
	return append(b, body...)
}

func TestStartupNegotiation(t *testing.T) {
	ts := startServer(t, Config{Auth: AuthTrust})

	t.Run("sslrequest-without-tls", func(t *testing.T) {
		c := dialRaw(t, ts.addr)
		c.sendRaw([]byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f})
		var b [1]byte
		if _, err := io.ReadFull(c.nc, b[:]); err != nil || b[0] != 'N' {
			t.Fatalf("SSLRequest answer %q %v", b, err)
		}
		c.sendRaw([]byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x30}) // GSSENCRequest
		if _, err := io.ReadFull(c.nc, b[:]); err != nil || b[0] != 'N' {
			t.Fatalf("GSSENCRequest answer %q %v", b, err)
		}
		c.sendRaw(startupPacket(pgproto3.ProtocolVersion30, "user", "trusty"))
		c.until("ReadyForQuery")
	})
	t.Run("newer-minor-version", func(t *testing.T) {
		c := dialRaw(t, ts.addr)
		c.sendRaw(startupPacket(3<<16|5, "user", "trusty", "_pq_.fancy", "1"))
		m, err := c.fe.Receive()
		npv, ok := m.(*pgproto3.NegotiateProtocolVersion)
		if err != nil || !ok || npv.NewestMinorProtocol != 0 || len(npv.UnrecognizedOptions) != 1 {
			t.Fatalf("want NegotiateProtocolVersion, got %#v %v", m, err)
		}
		c.until("ReadyForQuery")
	})
	for name, tc := range map[string]struct {
		in   []byte
		want string
	}{
		"version-2":        {startupPacket(2<<16, "user", "trusty"), "ErrorResponse(0A000)"},
		"no-user":          {startupPacket(pgproto3.ProtocolVersion30, "database", "x"), "ErrorResponse(28000)"},
		"unknown-role":     {startupPacket(pgproto3.ProtocolVersion30, "user", "nobody"), "ErrorResponse(28000)"},
		"bad-length":       {[]byte{0, 0, 0, 2, 0, 3, 0, 0}, "ErrorResponse(08P01)"},
		"huge-length":      {[]byte{0x7f, 0, 0, 0, 0, 3, 0, 0}, "ErrorResponse(08P01)"},
		"unterminated":     {[]byte{0, 0, 0, 13, 0, 3, 0, 0, 'u', 's', 'e', 'r', 0}, "ErrorResponse(08P01)"},
		"bad-options":      {startupPacket(pgproto3.ProtocolVersion30, "user", "trusty", "options", "-x"), "ErrorResponse(22023)"},
		"replication":      {startupPacket(pgproto3.ProtocolVersion30, "user", "trusty", "replication", "database"), "ErrorResponse(0A000)"},
		"truncated-packet": {[]byte{0, 0, 0, 20, 0, 3, 0, 0}, "ErrorResponse(08P01)"},
	} {
		t.Run(name, func(t *testing.T) {
			c := dialRaw(t, ts.addr)
			c.sendRaw(tc.in)
			if name == "truncated-packet" {
				c.nc.(*net.TCPConn).CloseWrite()
			}
			got := c.expectClose()
			if name == "truncated-packet" {
				return // nothing to say to a client that left
			}
			if len(got) != 1 || got[0] != tc.want {
				t.Fatalf("got %v, want [%s]", got, tc.want)
			}
		})
	}
}

func TestProtocolViolations(t *testing.T) {
	ts := startServer(t, Config{Auth: AuthTrust, MaxMessageSize: 1 << 10})
	for name, tc := range map[string]struct {
		in   []byte
		want string
	}{
		"unknown-type":    {message('z', nil), "ErrorResponse(08P01)"},
		"too-large":       {message('Q', append([]byte(strings.Repeat("x", 2000)), 0)), "ErrorResponse(54000)"},
		"negative-length": {[]byte{'Q', 0xff, 0xff, 0xff, 0xff}, "ErrorResponse(08P01)"},
		"short-length":    {[]byte{'Q', 0, 0, 0, 2}, "ErrorResponse(08P01)"},
		"bad-bind":        {message('B', []byte{0, 0, 0, 5}), "ErrorResponse(08P01)"},
		"bad-describe":    {message('D', []byte{'X', 0}), "ErrorResponse(08P01)"},
		"query-no-nul":    {message('Q', []byte("SELECT 1")), "ErrorResponse(08P01)"},
		"password-late":   {message('p', []byte("pw\x00")), "ErrorResponse(08P01)"},
	} {
		t.Run(name, func(t *testing.T) {
			c := connectRaw(t, ts.addr)
			c.sendRaw(tc.in)
			got := c.expectClose()
			if len(got) != 1 || got[0] != tc.want {
				t.Fatalf("got %v, want [%s]", got, tc.want)
			}
		})
	}
	// The server is unharmed.
	c := connectRaw(t, ts.addr)
	c.send(&pgproto3.Query{String: "SELECT 1"})
	c.expect("RowDescription", "DataRow(1)", "CommandComplete(SELECT 1)", "ReadyForQuery(I)")
	c.send(&pgproto3.Terminate{})
	if got := c.expectClose(); len(got) != 0 {
		t.Fatalf("after Terminate: %v", got)
	}
}

func TestPanicIsRecovered(t *testing.T) {
	ts := startServer(t, Config{Auth: AuthTrust})
	c := connectRaw(t, ts.addr)
	c.send(&pgproto3.Query{String: "SELECT panic()"})
	c.expectClose()
	if ts.srv.panics.Load() != 1 {
		t.Fatalf("panics = %d", ts.srv.panics.Load())
	}
	waitFor(t, func() bool { return ts.backend.sessions.Load() == 0 })
	c = connectRaw(t, ts.addr)
	c.send(&pgproto3.Query{String: "SELECT 2"})
	c.expect("RowDescription", "DataRow(2)", "CommandComplete(SELECT 1)", "ReadyForQuery(I)")
}

func waitFor(t testing.TB, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met in 5s")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestClientGoneMidStatement(t *testing.T) {
	ts := startServer(t, Config{Auth: AuthTrust, ClientCheckInterval: 20 * time.Millisecond})
	time.Sleep(10 * time.Millisecond)
	baseline := runtime.NumGoroutine()
	c := connectRaw(t, ts.addr)
	c.send(&pgproto3.Query{String: "SELECT pg_sleep(60)"})
	time.Sleep(50 * time.Millisecond)
	start := time.Now()
	c.nc.Close()
	waitFor(t, func() bool { return ts.backend.sessions.Load() == 0 })
	t.Logf("session closed %v after the client left", time.Since(start))
	ts.srv.mu.Lock()
	n := len(ts.srv.mu.conns)
	ts.srv.mu.Unlock()
	if n != 0 {
		t.Fatalf("%d connections registered", n)
	}
	waitFor(t, func() bool { return runtime.NumGoroutine() <= baseline })
}

func TestMalformedDoesNotDisturbOthers(t *testing.T) {
	ts := startServer(t, Config{Auth: AuthTrust})
	good := connectRaw(t, ts.addr)
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() {
		defer close(done)
		garbage := [][]byte{
			message('z', nil), {'Q', 0xff, 0, 0, 0}, message('B', []byte{1, 2, 3}),
			[]byte("GET / HTTP/1.1\r\n\r\n"), startupPacket(9 << 16),
		}
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			nc, err := net.Dial("tcp", ts.addr)
			if err != nil {
				return
			}
			if i%2 == 0 {
				nc.Write(startupPacket(pgproto3.ProtocolVersion30, "user", "trusty"))
			}
			nc.Write(garbage[i%len(garbage)])
			nc.SetReadDeadline(time.Now().Add(time.Second))
			io.Copy(io.Discard, nc)
			nc.Close()
		}
	}()
	for i := range 200 {
		c := good
		c.send(&pgproto3.Parse{Query: "SELECT generate_series(1, 3)"}, &pgproto3.Bind{}, &pgproto3.Execute{}, &pgproto3.Sync{})
		c.expect("ParseComplete", "BindComplete", "DataRow(1)", "DataRow(2)", "DataRow(3)", "CommandComplete(SELECT 3)", "ReadyForQuery(I)")
		c.send(&pgproto3.Query{String: fmt.Sprintf("SELECT %d", i)})
		c.expect("RowDescription", fmt.Sprintf("DataRow(%d)", i), "CommandComplete(SELECT 1)", "ReadyForQuery(I)")
	}
	close(stop)
	<-done
}
