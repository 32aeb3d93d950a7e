package pgwire

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"io"
	"math/big"
	"net"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

func selfSignedTLS(t testing.TB) *tls.Config {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "localhost"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		DNSNames: []string{"localhost"}, IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}
}

func TestTLS(t *testing.T) {
	ts := startServer(t, Config{TLS: selfSignedTLS(t), RequireTLS: true, Auth: AuthPassword})
	ctx := testCtx(t)
	u := strings.Replace(ts.url("alice", "secret"), "sslmode=disable", "sslmode=require", 1)
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, ok := conn.PgConn().Conn().(*tls.Conn); !ok {
		t.Fatalf("connection is %T, not TLS", conn.PgConn().Conn())
	}
	var n int
	if err := conn.QueryRow(ctx, "SELECT $1::int4", 12).Scan(&n); err != nil || n != 12 {
		t.Fatalf("over TLS: %d %v", n, err)
	}
	if _, err := pgx.Connect(ctx, ts.url("alice", "secret")); pgCode(err) != "28000" {
		t.Fatalf("plain connection with RequireTLS: %v", err)
	}
}

// TestPsql runs psql, the reference client, against the server.
func TestPsql(t *testing.T) {
	psql, err := exec.LookPath("psql")
	if err != nil {
		t.Skip("psql not installed")
	}
	ts := startServer(t, Config{Auth: AuthSCRAM})
	host, port, _ := net.SplitHostPort(ts.addr)
	script := `SELECT 41;
SELECT 1; SELECT 2; SELECT generate_series(1, 3);
BEGIN;
SELECT notice('from the session');
COMMIT;
COPY t FROM STDIN;
7
8
\.
COPY t TO STDOUT;
SELECT 1/0;
SELECT 'not reached';
`
	cmd := exec.Command(psql, "-X", "-v", "ON_ERROR_STOP=1", "-h", host, "-p", port, "-U", "alice", "-d", "db", "-A", "-t")
	cmd.Env = append(os.Environ(), "PGPASSWORD=secret", "PGSSLMODE=prefer", "PGCONNECT_TIMEOUT=10")
	cmd.Stdin = strings.NewReader(script)
	out, err := cmd.CombinedOutput()
	t.Logf("psql output:\n%s", out)
	exit, ok := err.(*exec.ExitError)
	if !ok || exit.ExitCode() != 3 { // 3: a script error with ON_ERROR_STOP
		t.Fatalf("psql: %v", err)
	}
	got := string(out)
	for _, want := range []string{"41\n", "1\n2\n1\n2\n3\n", "WARNING:  from the session", "7\n8\n",
		"ERROR:  division by zero"} {
		if !strings.Contains(got, want) {
			t.Errorf("psql output lacks %q", want)
		}
	}
	if strings.Contains(got, "not reached") {
		t.Error("psql went on after the error")
	}
}

// TestIdleConnectionMemory holds 1,000 idle sessions and reports what each
// costs the server.
func TestIdleConnectionMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("slow")
	}
	ts := startServer(t, Config{Auth: AuthTrust})
	const n = 1000
	startup := startupPacket(3<<16, "user", "trusty", "application_name", "idle")

	// The clients hold nothing but their sockets.
	open := func(conns []net.Conn) {
		var hdr [5]byte
		buf := make([]byte, 256)
		for i := range conns {
			nc, err := net.Dial("tcp", ts.addr)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := nc.Write(startup); err != nil {
				t.Fatal(err)
			}
			for {
				if _, err := io.ReadFull(nc, hdr[:]); err != nil {
					t.Fatal(err)
				}
				size := int(binary.BigEndian.Uint32(hdr[1:])) - 4
				if size > len(buf) {
					buf = make([]byte, size)
				}
				if _, err := io.ReadFull(nc, buf[:size]); err != nil {
					t.Fatal(err)
				}
				if hdr[0] == 'Z' {
					break
				}
			}
			conns[i] = nc
		}
	}
	measure := func() (heap, stack uint64, goroutines int) {
		runtime.GC()
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapInuse, ms.StackInuse, runtime.NumGoroutine()
	}
	// Warm up pools and the scheduler with a few connections.
	warm := make([]net.Conn, 10)
	open(warm)
	heap0, stack0, g0 := measure()
	conns := make([]net.Conn, n)
	open(conns)
	waitFor(t, func() bool { return ts.backend.sessions.Load() == n+10 })
	heap1, stack1, g1 := measure()
	perConn := float64(heap1+stack1-heap0-stack0) / n
	t.Logf("%d idle connections: heap %+d KiB, stacks %+d KiB, goroutines %+d: %.1f KiB per connection (server and client sockets together)",
		n, (int64(heap1)-int64(heap0))>>10, (int64(stack1)-int64(stack0))>>10, g1-g0, perConn/1024)
	if perConn > 64<<10 {
		t.Errorf("%.0f bytes per idle connection; want well under 64 KiB", perConn)
	}
	for _, c := range append(conns, warm...) {
		c.Close()
	}
	waitFor(t, func() bool { return ts.backend.sessions.Load() == 0 })
}

func benchConn(b *testing.B) *pgx.Conn {
	ts := startServer(b, Config{Auth: AuthTrust})
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, ts.url("trusty", ""))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { conn.Close(ctx) })
	return conn
}

func BenchmarkSelect1Simple(b *testing.B) {
	pc := benchConn(b).PgConn()
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := pc.Exec(ctx, "SELECT 1").ReadAll(); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkSelect1Prepared(b *testing.B) {
	pc := benchConn(b).PgConn()
	ctx := context.Background()
	if _, err := pc.Prepare(ctx, "s", "SELECT 1", nil); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if res := pc.ExecPrepared(ctx, "s", nil, nil, nil).Read(); res.Err != nil {
			b.Fatal(res.Err)
		}
	}
}

func BenchmarkSeries1000Rows(b *testing.B) {
	pc := benchConn(b).PgConn()
	ctx := context.Background()
	if _, err := pc.Prepare(ctx, "s", "SELECT generate_series(1, 1000)", nil); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if res := pc.ExecPrepared(ctx, "s", nil, nil, nil).Read(); res.Err != nil || len(res.Rows) != 1000 {
			b.Fatal(res.Err)
		}
	}
}
