package pgwire

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"
)

// fuzzSeeds are message streams that reach every handler; the checked-in
// corpus (testdata/fuzz/FuzzSession) holds them, written by
// PGWIRE_WRITE_CORPUS=1 go test -run TestWriteFuzzCorpus.
func fuzzSeeds() [][]byte {
	enc := func(msgs ...pgproto3.FrontendMessage) []byte {
		var b []byte
		for _, m := range msgs {
			b, _ = m.Encode(b)
		}
		return b
	}
	return [][]byte{
		enc(&pgproto3.Query{String: "SELECT 1; SELECT 2"}),
		enc(&pgproto3.Query{String: "SELECT generate_series(1, 3)"}, &pgproto3.Query{String: ""}),
		enc(&pgproto3.Parse{Name: "a", Query: "SELECT $1::int8", ParameterOIDs: []uint32{20}},
			&pgproto3.Bind{PreparedStatement: "a", DestinationPortal: "p", ParameterFormatCodes: []int16{1}, Parameters: [][]byte{{0, 0, 0, 0, 0, 0, 0, 1}}, ResultFormatCodes: []int16{1}},
			&pgproto3.Describe{ObjectType: 'P', Name: "p"}, &pgproto3.Execute{Portal: "p", MaxRows: 1}, &pgproto3.Sync{}),
		enc(&pgproto3.Parse{Query: "SELECT generate_series(1, 5)"}, &pgproto3.Bind{}, &pgproto3.Execute{MaxRows: 2},
			&pgproto3.Execute{MaxRows: 2}, &pgproto3.Close{ObjectType: 'P'}, &pgproto3.Execute{}, &pgproto3.Sync{}),
		enc(&pgproto3.Query{String: "BEGIN"}, &pgproto3.Parse{Query: "SELECT 1/0"}, &pgproto3.Bind{}, &pgproto3.Execute{},
			&pgproto3.Sync{}, &pgproto3.Query{String: "ROLLBACK"}),
		enc(&pgproto3.Query{String: "COPY t FROM STDIN"}, &pgproto3.CopyData{Data: []byte("1\n2\n")}, &pgproto3.CopyDone{},
			&pgproto3.Query{String: "COPY t TO STDOUT"}),
		enc(&pgproto3.Query{String: "COPY t FROM STDIN"}, &pgproto3.CopyFail{Message: "no"}, &pgproto3.CopyData{Data: []byte("x")}),
		enc(&pgproto3.Query{String: "SET statement_timeout = 5"}, &pgproto3.Query{String: "SELECT pg_sleep(1)"},
			&pgproto3.Query{String: "NOTIFY c, 'p'"}, &pgproto3.Query{String: "SELECT notice('n')"}),
		enc(&pgproto3.Describe{ObjectType: 'S', Name: "nope"}, &pgproto3.Flush{}, &pgproto3.Sync{}, &pgproto3.Terminate{}),
		enc(&pgproto3.FunctionCall{Function: 1}, &pgproto3.CopyDone{}),
		{'Q', 0, 0, 0, 4},
		{'z', 0, 0, 0, 4},
	}
}

var fuzzStartup = startupPacket(pgproto3.ProtocolVersion30, "user", "trusty", "options", "-c statement_timeout=50")

// FuzzSession feeds arbitrary bytes to a connection, after a valid startup
// or as the startup itself, and checks that the server neither panics nor
// hangs: the connection ends once the client closes its side.
func FuzzSession(f *testing.F) {
	for _, s := range fuzzSeeds() {
		f.Add(false, s)
	}
	f.Add(true, fuzzStartup)
	f.Add(true, []byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f})
	f.Add(true, []byte{0, 0, 0, 16, 0x04, 0xd2, 0x16, 0x2e, 0, 0, 0, 1, 0, 0, 0, 2})

	f.Fuzz(func(t *testing.T, asStartup bool, data []byte) {
		runFuzzOne(t, asStartup, data)
	})
}

var fuzzServer = sync.OnceValue(func() *Server {
	b := newFakeBackend()
	b.maxSleep = 20 * time.Millisecond
	b.maxSeries = 1000
	srv, err := New(Config{Backend: b, Auth: AuthTrust, MaxMessageSize: 1 << 16, AuthTimeout: time.Second,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		panic(err)
	}
	return srv
})

// runFuzzOne serves one connection over net.Pipe with data as the client's
// bytes.
func runFuzzOne(t *testing.T, asStartup bool, data []byte) {
	if len(data) > 1<<16 {
		return
	}
	srv := fuzzServer()
	client, server := net.Pipe()
	done := make(chan struct{})
	go func() {
		defer close(done)
		srv.ServeConn(context.Background(), server)
	}()
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		io.Copy(io.Discard, client)
	}()
	client.SetWriteDeadline(time.Now().Add(2 * time.Second))
	if !asStartup {
		client.Write(fuzzStartup)
	}
	client.Write(data)
	client.Close()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatalf("connection did not end after the client closed (input %q)", data)
	}
	<-drained
	if n := srv.panics.Load(); n != 0 {
		t.Fatalf("panic serving %q", data)
	}
}

// TestWriteFuzzCorpus writes the seeds to testdata/fuzz/FuzzSession.
func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("PGWIRE_WRITE_CORPUS") == "" {
		t.Skip("set PGWIRE_WRITE_CORPUS=1 to rewrite the seed corpus")
	}
	dir := filepath.Join("testdata", "fuzz", "FuzzSession")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	write := func(name string, asStartup bool, data []byte) {
		body := fmt.Sprintf("go test fuzz v1\nbool(%v)\n[]byte(%q)\n", asStartup, data)
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i, s := range fuzzSeeds() {
		write(fmt.Sprintf("seed-messages-%02d", i), false, s)
	}
	write("seed-startup", true, fuzzStartup)
	write("seed-startup-ssl", true, append([]byte{0, 0, 0, 8, 0x04, 0xd2, 0x16, 0x2f}, fuzzStartup...))
	write("seed-startup-cancel", true, []byte{0, 0, 0, 16, 0x04, 0xd2, 0x16, 0x2e, 0, 0, 0, 1, 0, 0, 0, 2})
	write("seed-startup-v3.2", true, startupPacket(pgproto3.ProtocolVersion32, "user", "trusty", "_pq_.x", "y"))
}
