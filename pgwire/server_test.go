package pgwire

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgconn/ctxwatch"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

type testServer struct {
	srv     *Server
	addr    string
	backend *fakeBackend
	reg     *prometheus.Registry
}

// startServer serves a fake backend on a loopback port until the test ends.
func startServer(t testing.TB, cfg Config) *testServer {
	t.Helper()
	b := newFakeBackend()
	reg := prometheus.NewRegistry()
	cfg.Backend = b
	cfg.Registerer = reg
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
		if testing.Verbose() && os.Getenv("PGWIRE_LOG") != "" {
			cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
		}
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		if err := <-done; err != nil {
			t.Errorf("serve: %v", err)
		}
		if n := srv.panics.Load(); n != 0 && !strings.Contains(t.Name(), "Panic") {
			t.Errorf("%d connections panicked", n)
		}
	})
	return &testServer{srv: srv, addr: ln.Addr().String(), backend: b, reg: reg}
}

func (ts *testServer) url(user, password string, extra ...string) string {
	u := fmt.Sprintf("postgres://%s:%s@%s/db?sslmode=disable", user, password, ts.addr)
	for _, e := range extra {
		u += "&" + e
	}
	return u
}

func (ts *testServer) connect(t testing.TB, extra ...string) *pgx.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, ts.url("alice", "secret", extra...))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func pgCode(err error) string {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

func TestAuthMethods(t *testing.T) {
	for _, method := range []AuthMethod{AuthTrust, AuthPassword, AuthSCRAM} {
		t.Run(string(method), func(t *testing.T) {
			ts := startServer(t, Config{Auth: method})
			ctx := testCtx(t)
			conn, err := pgx.Connect(ctx, ts.url("alice", "secret"))
			if err != nil {
				t.Fatal(err)
			}
			var n int
			if err := conn.QueryRow(ctx, "SELECT 7").Scan(&n); err != nil || n != 7 {
				t.Fatalf("SELECT 7 = %d, %v", n, err)
			}
			conn.Close(ctx)

			_, err = pgx.Connect(ctx, ts.url("alice", "wrong"))
			if method == AuthTrust {
				if err != nil {
					t.Fatalf("trust with any password: %v", err)
				}
			} else if pgCode(err) != "28P01" {
				t.Fatalf("wrong password: want 28P01, got %v", err)
			}
			_, err = pgx.Connect(ctx, ts.url("nobody", "secret"))
			want := "28P01" // password methods do not reveal whether a role exists
			if method == AuthTrust {
				want = "28000"
			}
			if pgCode(err) != want {
				t.Fatalf("unknown role: want %s, got %v", want, err)
			}
			if method != AuthTrust {
				// A role without a password cannot log in with one.
				if _, err := pgx.Connect(ctx, ts.url("trusty", "x")); pgCode(err) != "28P01" {
					t.Fatalf("role without password: want 28P01, got %v", err)
				}
			}
		})
	}
}

func TestStartupParameters(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := testCtx(t)
	conn := ts.connect(t, "application_name=tester", "options=-c%20statement_timeout%3D1234%20--DateStyle%3DGerman")
	pc := conn.PgConn()
	for name, want := range map[string]string{
		"server_version":              DefaultServerVersion,
		"server_encoding":             "UTF8",
		"client_encoding":             "UTF8",
		"integer_datetimes":           "on",
		"standard_conforming_strings": "on",
		"application_name":            "tester",
		"session_authorization":       "alice",
		"DateStyle":                   "German", // the session reported the -c setting at startup
		"IntervalStyle":               "postgres",
	} {
		if got := pc.ParameterStatus(name); got != want {
			t.Errorf("ParameterStatus(%s) = %q, want %q", name, got, want)
		}
	}
	if pc.PID() == 0 {
		t.Error("no BackendKeyData")
	}
	if _, err := conn.Exec(ctx, "SET application_name = 'renamed'"); err != nil {
		t.Fatal(err)
	}
	if got := pc.ParameterStatus("application_name"); got != "renamed" {
		t.Errorf("after SET: application_name = %q", got)
	}
	// A client asking for protocol 3.2 is offered 3.0 and goes on.
	c32, err := pgx.Connect(ctx, ts.url("alice", "secret", "max_protocol_version=3.2"))
	if err != nil {
		t.Fatalf("protocol 3.2 client: %v", err)
	}
	c32.Close(ctx)
	u := strings.Replace(ts.url("alice", "secret"), "/db?", "/nodb?", 1)
	if _, err := pgx.Connect(ctx, u); pgCode(err) != "3D000" {
		t.Errorf("unknown database: want 3D000, got %v", err)
	}
}

func TestSimpleProtocol(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := testCtx(t)
	conn := ts.connect(t)
	pc := conn.PgConn()

	results, err := pc.Exec(ctx, "SELECT 1; SELECT 2;SELECT generate_series(1, 3)").ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 3 || string(results[1].Rows[0][0]) != "2" || len(results[2].Rows) != 3 || results[2].CommandTag.String() != "SELECT 3" {
		t.Fatalf("results: %+v", results)
	}

	// An error aborts the rest of the message.
	results, err = pc.Exec(ctx, "SELECT 1; SELECT 1/0; SELECT 3").ReadAll()
	if pgCode(err) != "22012" || len(results) != 2 || len(results[0].Rows) != 1 {
		t.Fatalf("error mid-query: %v, %d results", err, len(results))
	}
	if _, err := pc.Exec(ctx, "SELEKT").ReadAll(); pgCode(err) != "42601" {
		t.Fatalf("syntax error: %v", err)
	}

	// Empty query.
	results, err = pc.Exec(ctx, "").ReadAll()
	if err != nil || len(results) != 1 {
		t.Fatalf("empty query: %v %+v", err, results)
	}

	// Transaction status, including the failed state.
	if _, err := pc.Exec(ctx, "BEGIN").ReadAll(); err != nil || pc.TxStatus() != 'T' {
		t.Fatalf("BEGIN: %v status %c", err, pc.TxStatus())
	}
	if _, err := pc.Exec(ctx, "SELECT 1/0").ReadAll(); err == nil || pc.TxStatus() != 'E' {
		t.Fatalf("error in tx: %v status %c", err, pc.TxStatus())
	}
	if _, err := pc.Exec(ctx, "SELECT 1").ReadAll(); pgCode(err) != "25P02" {
		t.Fatalf("in failed tx: %v", err)
	}
	if _, err := pc.Exec(ctx, "ROLLBACK").ReadAll(); err != nil || pc.TxStatus() != 'I' {
		t.Fatalf("ROLLBACK: %v status %c", err, pc.TxStatus())
	}
}

func TestExtendedProtocol(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := testCtx(t)
	conn := ts.connect(t)

	var n int64
	if err := conn.QueryRow(ctx, "SELECT $1::int8", int64(1)<<40).Scan(&n); err != nil || n != 1<<40 {
		t.Fatalf("int8 param: %d %v", n, err)
	}
	var s string
	if err := conn.QueryRow(ctx, "SELECT $1::text", "héllo").Scan(&s); err != nil || s != "héllo" {
		t.Fatalf("text param: %q %v", s, err)
	}
	var np *string
	if err := conn.QueryRow(ctx, "SELECT $1::text", nil).Scan(&np); err != nil || np != nil {
		t.Fatalf("NULL param: %v %v", np, err)
	}

	// Binary formats pass through: the raw bytes come back as sent.
	pc := conn.PgConn()
	want := []byte{0, 0, 1, 0, 0, 0, 0, 42}
	res := pc.ExecParams(ctx, "SELECT $1::int8", [][]byte{want}, []uint32{20}, []int16{1}, []int16{1}).Read()
	if res.Err != nil || !bytes.Equal(res.Rows[0][0], want) || res.FieldDescriptions[0].Format != 1 {
		t.Fatalf("binary: %+v", res)
	}
	// Binary in, text out.
	res = pc.ExecParams(ctx, "SELECT $1::int8", [][]byte{want}, []uint32{20}, []int16{1}, []int16{0}).Read()
	if res.Err != nil || string(res.Rows[0][0]) != "1099511627818" {
		t.Fatalf("binary to text: %q %v", res.Rows, res.Err)
	}

	// Named statements: Prepare, describe, run many times, 42P05 on reuse of
	// the name, 26000 after deallocation.
	sd, err := pc.Prepare(ctx, "s1", "SELECT $1::int4", nil)
	if err != nil || len(sd.ParamOIDs) != 1 || sd.ParamOIDs[0] != 23 || sd.Fields[0].DataTypeOID != 23 {
		t.Fatalf("prepare: %+v %v", sd, err)
	}
	for i := range 3 {
		res := pc.ExecPrepared(ctx, "s1", [][]byte{fmt.Appendf(nil, "%d", i)}, nil, nil).Read()
		if res.Err != nil || string(res.Rows[0][0]) != fmt.Sprint(i) {
			t.Fatalf("exec prepared: %+v", res)
		}
	}
	if _, err := pc.Prepare(ctx, "s1", "SELECT 1", nil); pgCode(err) != "42P05" {
		t.Fatalf("duplicate statement: %v", err)
	}
	if err := pc.Deallocate(ctx, "s1"); err != nil {
		t.Fatal(err)
	}
	if res := pc.ExecPrepared(ctx, "s1", [][]byte{[]byte("1")}, nil, nil).Read(); pgCode(res.Err) != "26000" {
		t.Fatalf("deallocated statement: %v", res.Err)
	}
	// Wrong parameter count is a protocol error for the statement only.
	if res := pc.ExecParams(ctx, "SELECT $1::int4", nil, nil, nil, nil).Read(); pgCode(res.Err) != "08P01" {
		t.Fatalf("missing parameter: %v", res.Err)
	}
	// Statement with no rows: NoData on Describe.
	if sd, err := pc.Prepare(ctx, "", "BEGIN", nil); err != nil || sd.Fields != nil {
		t.Fatalf("describe BEGIN: %+v %v", sd, err)
	}
	if err := conn.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	// pgx's default mode caches statements; run a query many times.
	for i := range 20 {
		var got int
		if err := conn.QueryRow(ctx, "SELECT $1::int4", i).Scan(&got); err != nil || got != i {
			t.Fatalf("cached: %d %v", got, err)
		}
	}
	// Every portal is gone after each Sync outside a transaction.
	if n := ts.backend.portals.Load(); n != 0 {
		t.Errorf("%d portals left open", n)
	}
}

func TestPipelineErrorSkipsToSync(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := testCtx(t)
	conn := ts.connect(t)

	batch := &pgx.Batch{}
	batch.Queue("SELECT $1::int4", 1)
	batch.Queue("SELECT 1/0")
	batch.Queue("SELECT $1::int4", 3)
	br := conn.SendBatch(ctx, batch)
	var n int
	if err := br.QueryRow().Scan(&n); err != nil || n != 1 {
		t.Fatalf("first: %d %v", n, err)
	}
	if _, err := br.Exec(); pgCode(err) != "22012" {
		t.Fatalf("second: %v", err)
	}
	if _, err := br.Exec(); err == nil {
		t.Fatal("third statement ran after an error in the pipeline")
	}
	br.Close()

	// The connection is fine after the Sync.
	if err := conn.QueryRow(ctx, "SELECT 5").Scan(&n); err != nil || n != 5 {
		t.Fatalf("after batch: %d %v", n, err)
	}

	// Low-level pipeline: two syncs, the error only affects its own segment.
	p := conn.PgConn().StartPipeline(ctx)
	p.SendQueryParams("SELECT 1/0", nil, nil, nil, nil)
	p.SendQueryParams("SELECT 2", nil, nil, nil, nil)
	p.Sync()
	p.SendQueryParams("SELECT 3", nil, nil, nil, nil)
	p.Sync()
	var got []string
	for {
		r, err := p.GetResults()
		if err != nil {
			got = append(got, "err:"+pgCode(err))
			continue
		}
		switch r := r.(type) {
		case *pgconn.ResultReader:
			res := r.Read()
			if res.Err != nil {
				got = append(got, "err:"+pgCode(res.Err))
			} else {
				got = append(got, string(res.Rows[0][0]))
			}
		case *pgconn.PipelineSync:
			got = append(got, "sync")
		case nil:
			goto done
		}
	}
done:
	if err := p.Close(); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "err:22012,sync,3,sync" {
		t.Fatalf("pipeline results: %v", got)
	}
}

func TestCopy(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := testCtx(t)
	conn := ts.connect(t)
	pc := conn.PgConn()

	tag, err := pc.CopyFrom(ctx, strings.NewReader("1\n2\n3\n"), "COPY t FROM STDIN")
	if err != nil || tag.RowsAffected() != 3 {
		t.Fatalf("copy from: %v %v", tag, err)
	}
	// The session rejects a bad line: 22P02, and the connection goes on.
	if _, err := pc.CopyFrom(ctx, strings.NewReader("4\nbad\n5\n"), "COPY t FROM STDIN"); pgCode(err) != "22P02" {
		t.Fatalf("bad copy: %v", err)
	}
	// A failing reader makes pgconn send CopyFail: 57014.
	_, err = pc.CopyFrom(ctx, &failingReader{}, "COPY t FROM STDIN")
	if pgCode(err) != "57014" {
		t.Fatalf("copy fail: %v", err)
	}
	var out bytes.Buffer
	tag, err = pc.CopyTo(ctx, &out, "COPY t TO STDOUT")
	if err != nil || out.String() != "1\n2\n3\n" || tag.String() != "COPY 3" {
		t.Fatalf("copy to: %q %v %v", out.String(), tag, err)
	}
	var n int
	if err := conn.QueryRow(ctx, "SELECT 9").Scan(&n); err != nil || n != 9 {
		t.Fatalf("after copy: %v", err)
	}
}

type failingReader struct{ sent bool }

func (r *failingReader) Read(p []byte) (int, error) {
	if !r.sent {
		r.sent = true
		return copy(p, "1\n"), nil
	}
	return 0, errors.New("reader broke")
}

func TestCancelRequest(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := testCtx(t)
	conn := ts.connect(t)
	pc := conn.PgConn()

	go func() {
		time.Sleep(100 * time.Millisecond)
		pc.CancelRequest(context.Background())
	}()
	start := time.Now()
	_, err := conn.Exec(ctx, "SELECT pg_sleep(10)")
	if pgCode(err) != "57014" || time.Since(start) > 5*time.Second {
		t.Fatalf("cancel: %v after %v", err, time.Since(start))
	}
	if !strings.Contains(err.Error(), "user request") {
		t.Errorf("cancel message: %v", err)
	}
	var n int
	if err := conn.QueryRow(ctx, "SELECT 1").Scan(&n); err != nil {
		t.Fatalf("after cancel: %v", err)
	}

	// Cancellation through the context: pgx sends a CancelRequest.
	cfg, err := pgx.ParseConfig(ts.url("alice", "secret"))
	if err != nil {
		t.Fatal(err)
	}
	cfg.BuildContextWatcherHandler = func(pc *pgconn.PgConn) ctxwatch.Handler {
		return &pgconn.CancelRequestContextWatcherHandler{Conn: pc, CancelRequestDelay: 0, DeadlineDelay: 5 * time.Second}
	}
	conn2, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn2.Close(ctx)
	qctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	_, err = conn2.Exec(qctx, "SELECT pg_sleep(10)")
	if pgCode(err) != "57014" {
		t.Fatalf("context cancel: %v", err)
	}
	if err := conn2.QueryRow(ctx, "SELECT 1").Scan(&n); err != nil {
		t.Fatalf("after context cancel: %v", err)
	}

	// A wrong secret cancels nothing.
	ts.srv.cancel(pc.PID(), []byte{1, 2, 3, 4})
}

func TestStatementTimeout(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := testCtx(t)
	conn := ts.connect(t)
	if _, err := conn.Exec(ctx, "SET statement_timeout = 100"); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err := conn.Exec(ctx, "SELECT pg_sleep(10)")
	if pgCode(err) != "57014" || !strings.Contains(err.Error(), "statement timeout") {
		t.Fatalf("timeout: %v", err)
	}
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("timeout took %v", d)
	}
	// Extended protocol too.
	_, err = conn.Exec(ctx, "SELECT pg_sleep(10)", pgx.QueryExecModeDescribeExec)
	if pgCode(err) != "57014" {
		t.Fatalf("extended timeout: %v", err)
	}
	if _, err := conn.Exec(ctx, "SELECT pg_sleep(0.01)"); err != nil {
		t.Fatalf("short sleep: %v", err)
	}
}

func TestIdleInTransactionTimeout(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := testCtx(t)
	conn := ts.connect(t)
	pc := conn.PgConn()
	if _, err := pc.Exec(ctx, "SET idle_in_transaction_session_timeout = 100").ReadAll(); err != nil {
		t.Fatal(err)
	}
	// Idle outside a transaction: no timeout.
	time.Sleep(200 * time.Millisecond)
	if _, err := pc.Exec(ctx, "BEGIN").ReadAll(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	_, err := pc.Exec(ctx, "SELECT 1").ReadAll()
	if pgCode(err) != "25P03" {
		t.Fatalf("want 25P03, got %v", err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for ts.backend.sessions.Load() != 0 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := ts.backend.sessions.Load(); n != 0 {
		t.Fatalf("%d sessions still open", n)
	}
}

func TestNoticesAndNotifications(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := testCtx(t)
	cfg, err := pgx.ParseConfig(ts.url("alice", "secret"))
	if err != nil {
		t.Fatal(err)
	}
	notices := make(chan string, 10)
	cfg.OnNotice = func(_ *pgconn.PgConn, n *pgconn.Notice) { notices <- n.Severity + ":" + n.Message }
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "SELECT notice('careful')"); err != nil {
		t.Fatal(err)
	}
	if got := <-notices; got != "WARNING:careful" {
		t.Fatalf("notice: %q", got)
	}
	if _, err := conn.Exec(ctx, "NOTIFY chan, 'hello'"); err != nil {
		t.Fatal(err)
	}
	n, err := conn.WaitForNotification(ctx)
	if err != nil || n.Channel != "chan" || n.Payload != "hello" || n.PID != conn.PgConn().PID() {
		t.Fatalf("notification: %+v %v", n, err)
	}

	// Asynchronous: a notification from another goroutine while the
	// connection is idle arrives at once.
	ts.srv.mu.Lock()
	c := ts.srv.mu.conns[conn.PgConn().PID()]
	ts.srv.mu.Unlock()
	go (*client)(c).Notify(42, "async", "later")
	n, err = conn.WaitForNotification(ctx)
	if err != nil || n.Channel != "async" || n.PID != 42 {
		t.Fatalf("async notification: %+v %v", n, err)
	}
}

func TestTrustRefusedOnNonLoopback(t *testing.T) {
	srv, err := New(Config{Backend: newFakeBackend(), Auth: AuthTrust, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Skip(err)
	}
	err = srv.Serve(ln)
	if err == nil || !strings.Contains(err.Error(), "trust") {
		t.Fatalf("want refusal, got %v", err)
	}
	if _, err := New(Config{Backend: newFakeBackend(), Auth: "md5"}); err == nil {
		t.Fatal("md5 accepted")
	}
}

func TestShutdown(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := testCtx(t)
	idle := ts.connect(t)
	busy := ts.connect(t)

	errc := make(chan error, 1)
	go func() {
		_, err := busy.Exec(ctx, "SELECT pg_sleep(0.5)")
		errc <- err
	}()
	time.Sleep(100 * time.Millisecond)
	sctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := ts.srv.Shutdown(sctx); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatalf("in-flight statement: %v", err)
	}
	_, err := idle.Exec(ctx, "SELECT 1")
	if pgCode(err) != "57P01" && err == nil {
		t.Fatalf("idle connection after shutdown: %v", err)
	}
	if n := ts.backend.sessions.Load(); n != 0 {
		t.Fatalf("%d sessions open after shutdown", n)
	}
	if _, err := pgx.Connect(ctx, ts.url("alice", "secret")); err == nil {
		t.Fatal("connected after shutdown")
	}
}

func TestShutdownForced(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := testCtx(t)
	busy := ts.connect(t)
	errc := make(chan error, 1)
	go func() {
		_, err := busy.Exec(ctx, "SELECT pg_sleep(30)")
		errc <- err
	}()
	time.Sleep(100 * time.Millisecond)
	sctx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	if err := ts.srv.Shutdown(sctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("forced shutdown: %v", err)
	}
	if err := <-errc; err == nil {
		t.Fatal("statement survived forced shutdown")
	}
}

func TestMetrics(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := testCtx(t)
	conn := ts.connect(t)
	conn.Exec(ctx, "SELECT 1")
	conn.Exec(ctx, "SELECT 1/0")
	conn.Exec(ctx, "SELECT $1::int4", 1)
	conn.Exec(ctx, "SELECT $1::int4", 2)
	families, err := ts.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, f := range families {
		for _, m := range f.GetMetric() {
			name := f.GetName()
			for _, l := range m.GetLabel() {
				name += "{" + l.GetValue() + "}"
			}
			got[name] = value(m)
		}
	}
	for name, min := range map[string]float64{
		"strand_pgwire_connections_open":        1,
		"strand_pgwire_connections_total":       1,
		"strand_pgwire_errors_total{22}":        1,
		"strand_pgwire_queries_total{extended}": 2,
	} {
		if got[name] < min {
			t.Errorf("%s = %v, want >= %v (all: %v)", name, got[name], min, got)
		}
	}
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	case m.Counter != nil:
		return m.Counter.GetValue()
	}
	return 0
}
