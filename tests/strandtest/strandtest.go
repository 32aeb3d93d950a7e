// Package strandtest starts Strand servers for tests: in process (a log in
// a temporary folder and the PostgreSQL protocol on a free loopback port),
// or as a `strand serve` subprocess that can be killed and restarted.
package strandtest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	strandlog "github.com/strand-db/strand/log"
	"github.com/strand-db/strand/pgwire"
	"github.com/strand-db/strand/sql/session"
	"github.com/strand-db/strand/tests/pgoracle"
)

// Server is an in-process Strand.
type Server struct {
	Log *strandlog.Log
	// Engine is the SQL engine; a test may set its hooks (IcebergStatus,
	// say) before it connects.
	Engine *session.Engine
	Addr   string
	pg     *pgwire.Server
	done   chan error
}

// Start starts an in-process server with its data in dir (a fresh
// temporary folder when empty); it stops when the test ends.
func Start(t testing.TB, dir string) *Server {
	t.Helper()
	if dir == "" {
		dir = t.TempDir()
	}
	return StartWith(t, strandlog.Options{Dir: dir})
}

// StartWith starts an in-process server on a log opened with o (an
// in-memory vfs, a wrapped commit hook...). A nil Hook is the view
// maintainer and a nil Logger prints warnings and errors (a recovered
// panic, say) to the test output. It stops when the test ends.
func StartWith(t testing.TB, o strandlog.Options) *Server {
	t.Helper()
	if o.Logger == nil {
		o.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	}
	if o.Hook == nil {
		o.Hook = session.NewMaintainer()
	}
	l, err := strandlog.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	eng := session.NewEngine(l, o.Logger)
	pg, err := pgwire.New(pgwire.Config{Addr: "127.0.0.1:0", Backend: eng, Auth: pgwire.AuthTrust, Logger: o.Logger})
	if err != nil {
		l.Close()
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		l.Close()
		t.Fatal(err)
	}
	s := &Server{Log: l, Engine: eng, Addr: ln.Addr().String(), pg: pg, done: make(chan error, 1)}
	go func() { s.done <- pg.Serve(ln) }()
	t.Cleanup(s.Stop)
	return s
}

// DSN is a connection string for pgx, psql and libpq clients.
func (s *Server) DSN() string {
	return fmt.Sprintf("postgres://strand@%s/strand?sslmode=disable", s.Addr)
}

// Connect opens a pgx connection closed at the end of the test.
func (s *Server) Connect(t testing.TB) *pgx.Conn {
	t.Helper()
	return pgoracle.Dial(t, s.DSN())
}

// Stop shuts the server down and closes the log.
func (s *Server) Stop() {
	if s.pg == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	s.pg.Shutdown(ctx)
	s.Log.Close()
	s.pg = nil
}

var build struct {
	once sync.Once
	path string
	err  error
}

// Binary builds cmd/strand once per test process and returns its path.
func Binary(t testing.TB) string {
	t.Helper()
	build.once.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		root := filepath.Join(filepath.Dir(file), "..", "..")
		removeStaleBinaries()
		dir, err := os.MkdirTemp("", fmt.Sprintf("%s%d-", binDirPrefix, os.Getpid()))
		if err != nil {
			build.err = err
			return
		}
		build.path = filepath.Join(dir, "strand")
		cmd := exec.Command("go", "build", "-o", build.path, "./cmd/strand")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			build.err = fmt.Errorf("build strand: %v\n%s", err, out)
		}
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.path
}

// binDirPrefix names the folders Binary builds into: the prefix, the test
// process's pid, a dash and a random suffix.
const binDirPrefix = "strand-bin-"

// removeStaleBinaries removes the build folders of test processes that
// have ended. A test process cannot remove its own when it exits (there is
// no hook without a TestMain in every package), and each is a 100+ MB
// binary: hundreds of test runs filled the disk. Folders of live processes
// (packages tested in parallel) are left alone.
func removeStaleBinaries() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), binDirPrefix+"*"))
	for _, d := range dirs {
		rest := strings.TrimPrefix(filepath.Base(d), binDirPrefix)
		pid, err := strconv.Atoi(rest[:max(strings.IndexByte(rest, '-'), 0)])
		if err != nil || pid <= 0 || pid == os.Getpid() {
			continue
		}
		// Signal 0 checks that the process exists; ESRCH: it is gone.
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			os.RemoveAll(d)
		}
	}
}

// Process is `strand serve` running as a subprocess.
type Process struct {
	Dir, PGAddr, HTTPAddr string
	// Args are extra `strand serve` flags.
	Args    []string
	cmd     *exec.Cmd
	logFile string
}

// FreeAddr returns a loopback address with a free port.
func FreeAddr(t testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// StartProcess runs `strand serve` on dir and waits until it accepts
// PostgreSQL connections.
func StartProcess(t testing.TB, dir string, args ...string) *Process {
	t.Helper()
	p := &Process{Dir: dir, PGAddr: FreeAddr(t), HTTPAddr: FreeAddr(t), Args: args, logFile: filepath.Join(dir + ".log")}
	if len(args) == 0 {
		// Keep the warehouse beside the data, not in the working folder.
		p.Args = []string{"--warehouse", dir + "-warehouse"}
	}
	p.start(t)
	return p
}

func (p *Process) start(t testing.TB) {
	t.Helper()
	// FreeAddr's ports are free when it looks; a test running beside
	// this one may take one before the server binds it. Then the server
	// exits at once, and it starts again on other ports.
	for attempt := 1; ; attempt++ {
		taken, err := p.startOnce(t)
		if err == nil {
			return
		}
		if !taken || attempt == 3 {
			t.Fatal(err)
		}
		p.PGAddr, p.HTTPAddr = FreeAddr(t), FreeAddr(t)
	}
}

// startOnce starts the server and waits until it answers; taken reports
// that it exited because a port was taken.
func (p *Process) startOnce(t testing.TB) (taken bool, err error) {
	t.Helper()
	logf, err := os.OpenFile(p.logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(Binary(t), append([]string{"serve", "--data-dir", p.Dir, "--pg-addr", p.PGAddr, "--http-addr", p.HTTPAddr}, p.Args...)...)
	p.cmd.Stdout, p.cmd.Stderr = logf, logf
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func(cmd *exec.Cmd, f *os.File) { cmd.Wait(); f.Close(); close(exited) }(p.cmd, logf)
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		c, err := pgx.Connect(context.Background(), p.DSN())
		if err == nil {
			c.Close(context.Background())
			return false, nil
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(p.logFile)
			return strings.Contains(string(log), "address already in use"), fmt.Errorf("strand serve exited before it answered; its log:\n%s", log)
		case <-time.After(20 * time.Millisecond):
		}
	}
	log, _ := os.ReadFile(p.logFile)
	return false, fmt.Errorf("strand serve did not start within 30s; its log:\n%s", log)
}

// DSN is the subprocess's connection string.
func (p *Process) DSN() string {
	return fmt.Sprintf("postgres://strand@%s/strand?sslmode=disable", p.PGAddr)
}

// Kill sends SIGKILL and waits for the process to be gone.
func (p *Process) Kill(t testing.TB) {
	p.cmd.Process.Signal(syscall.SIGKILL)
	for i := 0; i < 500; i++ {
		if p.cmd.ProcessState != nil || p.cmd.Process.Signal(syscall.Signal(0)) != nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Terminate sends SIGTERM and waits for a clean exit.
func (p *Process) Terminate(t testing.TB) error {
	p.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		for p.cmd.Process.Signal(syscall.Signal(0)) == nil {
			time.Sleep(10 * time.Millisecond)
		}
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-time.After(30 * time.Second):
		return fmt.Errorf("strand did not exit within 30s of SIGTERM")
	}
}

// Restart starts the process again on the same data and addresses.
func (p *Process) Restart(t testing.TB) { p.start(t) }

// Log returns what the process logged.
func (p *Process) Log() string {
	b, _ := os.ReadFile(p.logFile)
	return string(b)
}

// SortedRows runs q over the simple protocol (so every value comes back as
// PostgreSQL's text form, whichever server c talks to) and returns its rows
// as "a|b|NULL" lines, sorted: the shape tests compare Strand's answer with
// PostgreSQL's or an Iceberg reader's in.
func SortedRows(t testing.TB, c *pgx.Conn, q string) []string {
	t.Helper()
	rows, err := c.Query(context.Background(), q, pgx.QueryExecModeSimpleProtocol)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		vals := rows.RawValues()
		parts := make([]string, len(vals))
		for i, v := range vals {
			if v == nil {
				parts[i] = "NULL"
			} else {
				parts[i] = string(v)
			}
		}
		out = append(out, strings.Join(parts, "|"))
	}
	if err := rows.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	sort.Strings(out)
	return out
}

// CopyTable copies the rows of table (its columns cols) from one server to
// another, with COPY into the destination: how tests give PostgreSQL the
// base data Strand holds, to run a view's query over.
func CopyTable(t testing.TB, from, to *pgx.Conn, table string, cols []string) {
	t.Helper()
	ctx := context.Background()
	rows, err := from.Query(ctx, fmt.Sprintf("SELECT %s FROM %s", strings.Join(cols, ", "), table))
	if err != nil {
		t.Fatalf("read %s: %v", table, err)
	}
	var data [][]any
	for rows.Next() {
		vals, err := rows.Values()
		if err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
		data = append(data, vals)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		t.Fatalf("read %s: %v", table, err)
	}
	if _, err := to.CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(data)); err != nil {
		t.Fatalf("copy %s: %v", table, err)
	}
}

// ExecAll runs each statement on c and fails the test at the first error.
func ExecAll(t testing.TB, c *pgx.Conn, qs ...string) {
	t.Helper()
	for _, q := range qs {
		if _, err := c.Exec(context.Background(), q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// ViewMatchesQuery reports an error unless view name holds the rows query
// gives on the same server (c), and returns the view's rows.
func ViewMatchesQuery(t testing.TB, c *pgx.Conn, name, query string) []string {
	t.Helper()
	want := SortedRows(t, c, query)
	got := SortedRows(t, c, "SELECT * FROM "+name)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("view %s has %d rows, its query (%s) gives %d\n%s", name, len(got), query, len(want), RowsDiff(got, want))
	}
	return got
}

// MatchView creates view name (query def) in PostgreSQL (pc), over the base
// rows it was given, and reports an error unless Strand's view of that name
// (c) holds the same rows and is not empty. Views over views come after
// the views they read.
func MatchView(t testing.TB, c, pc *pgx.Conn, name, def string) {
	t.Helper()
	if _, err := pc.Exec(context.Background(), fmt.Sprintf("CREATE VIEW %s AS %s", name, def)); err != nil {
		t.Fatalf("create view %s in PostgreSQL: %v", name, err)
	}
	got := SortedRows(t, c, "SELECT * FROM "+name)
	want := SortedRows(t, pc, "SELECT * FROM "+name)
	if len(got) == 0 {
		t.Errorf("view %s is empty", name)
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("view %s (%s) differs from PostgreSQL: %d rows vs %d\n%s", name, def, len(got), len(want), RowsDiff(got, want))
	}
}

// RowsDiff lists up to ten rows whose counts differ between got and want,
// each with the difference ("+1 a|b": one more in got).
func RowsDiff(got, want []string) string {
	g := map[string]int{}
	for _, r := range got {
		g[r]++
	}
	for _, r := range want {
		g[r]--
	}
	var out []string
	for r, n := range g {
		if n != 0 && len(out) < 10 {
			out = append(out, fmt.Sprintf("%+d %s", n, r))
		}
	}
	sort.Strings(out)
	return strings.Join(out, "\n")
}

// HTTPGet returns the body of a GET of url (a server's /metrics, say); an
// error or a status other than 200 fails the test.
func HTTPGet(t testing.TB, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %s", url, resp.Status)
	}
	return string(b)
}
