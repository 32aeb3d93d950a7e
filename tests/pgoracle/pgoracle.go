// Package pgoracle starts a throwaway PostgreSQL 15 server for differential
// tests: Strand's behaviour is checked against the real thing.
//
// The first Start on a machine runs initdb once into a cached template
// directory (guarded by a file lock, so concurrent test binaries share it);
// every Start copies that template into a fresh temporary directory and runs
// postgres on a free port of 127.0.0.1, with its unix socket inside the
// temporary directory. PostgreSQL refuses to run as root, so when the test
// runs as root the server runs as the "postgres" user via runuser.
package pgoracle

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// BinDir is where the PostgreSQL 15 binaries live.
var BinDir = "/usr/lib/postgresql/15/bin"

// Server is a running PostgreSQL.
type Server struct {
	dir  string // temp dir: data/ and the socket
	port int
	cmd  *exec.Cmd
	done chan struct{}

	logPath  string
	keepDir  bool          // Options.Dir was given: Stop leaves dir
	stopWait time.Duration // how long Stop waits before SIGQUIT

	stopOnce sync.Once
	stopErr  error
}

// Available reports whether the PostgreSQL binaries are installed; tests
// skip themselves when they are not.
func Available() bool {
	_, err := os.Stat(filepath.Join(BinDir, "postgres"))
	return err == nil
}

// Options adjust StartWith; the zero Options is what Start uses.
type Options struct {
	// Dir, when set, is the directory to create (its parent must exist)
	// and run the server in: initdb runs afresh into Dir/data instead of
	// the cached template being copied, and Stop leaves Dir in place.
	// By default the server lives in a new temporary directory that Stop
	// removes.
	Dir string
	// Settings, when non-nil, replace the default name=value settings
	// passed with -c (fsync=on, max_connections=40, shared_buffers=16MB,
	// logging_collector=off).
	Settings []string
	// LogPath is the server's log file; by default postgres.log in the
	// server's directory.
	LogPath string
	// Timeout bounds the wait for the server to accept connections and,
	// in Stop, for a fast shutdown before SIGQUIT; by default 30s and 10s.
	Timeout time.Duration
}

var defaultSettings = []string{
	"fsync=on",
	"max_connections=40",
	"shared_buffers=16MB",
	"logging_collector=off",
}

// Start initializes and starts a server and waits until it accepts
// connections. The caller must Stop it.
func Start(ctx context.Context) (*Server, error) {
	return StartWith(ctx, Options{})
}

// StartWith is Start with options.
func StartWith(ctx context.Context, o Options) (*Server, error) {
	if !Available() {
		return nil, fmt.Errorf("pgoracle: no PostgreSQL at %s", BinDir)
	}
	owner, err := runAs()
	if err != nil {
		return nil, err
	}
	var tmpl, dir string
	cleanup := func() {}
	if o.Dir == "" {
		if tmpl, err = template(ctx, owner); err != nil {
			return nil, err
		}
		if dir, err = os.MkdirTemp("", "pgoracle-"); err != nil {
			return nil, err
		}
		cleanup = func() { os.RemoveAll(dir) }
	} else {
		dir = o.Dir
		if err := os.Mkdir(dir, 0o700); err != nil {
			return nil, err
		}
	}
	if owner != nil {
		if err := os.Chown(dir, owner.uid, owner.gid); err != nil {
			cleanup()
			return nil, err
		}
	}
	data := filepath.Join(dir, "data")
	if tmpl != "" {
		// cp -a keeps the owner and the 0700 mode postgres insists on.
		if out, err := exec.CommandContext(ctx, "cp", "-a", tmpl, data).CombinedOutput(); err != nil {
			cleanup()
			return nil, fmt.Errorf("pgoracle: copy template: %v: %s", err, out)
		}
	} else if err := initdb(owner, data); err != nil {
		return nil, err
	}
	// A free port can be taken by someone else between our probe and
	// postgres binding it; retry a few times.
	for attempt := 0; ; attempt++ {
		s, err := start(ctx, dir, owner, o)
		if err == nil {
			return s, nil
		}
		if attempt == 4 || ctx.Err() != nil {
			cleanup()
			return nil, err
		}
	}
}

func start(ctx context.Context, dir string, owner *account, o Options) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	args := []string{
		"-D", filepath.Join(dir, "data"),
		"-p", strconv.Itoa(port),
		"-h", "127.0.0.1",
		"-k", dir,
	}
	settings := o.Settings
	if settings == nil {
		settings = defaultSettings
	}
	for _, kv := range settings {
		args = append(args, "-c", kv)
	}
	logPath := o.LogPath
	if logPath == "" {
		logPath = filepath.Join(dir, "postgres.log")
	}
	ready, stopWait := 30*time.Second, 10*time.Second
	if o.Timeout > 0 {
		ready, stopWait = o.Timeout, o.Timeout
	}
	cmd := command(owner, filepath.Join(BinDir, "postgres"), args...)
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd.Stdout, cmd.Stderr = logf, logf
	// If the test binary dies, take the server with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("pgoracle: start postgres: %w", err)
	}
	s := &Server{dir: dir, port: port, cmd: cmd, done: make(chan struct{}),
		logPath: logPath, keepDir: o.Dir != "", stopWait: stopWait}
	go func() {
		cmd.Wait()
		logf.Close()
		close(s.done)
	}()
	deadline := time.Now().Add(ready)
	for {
		c, err := pgx.Connect(ctx, s.DSN())
		if err == nil {
			var one int
			err = c.QueryRow(ctx, "SELECT 1").Scan(&one)
			c.Close(ctx)
			if err == nil {
				return s, nil
			}
		}
		select {
		case <-s.done:
			log, _ := os.ReadFile(s.logPath)
			return nil, fmt.Errorf("pgoracle: postgres exited: %s", tail(string(log)))
		case <-ctx.Done():
			s.kill()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.kill()
			return nil, fmt.Errorf("pgoracle: postgres did not accept connections in %v", ready)
		}
	}
}

// DSN is a connection string for the superuser "postgres".
func (s *Server) DSN() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.port)
}

// Port is the TCP port the server listens on.
func (s *Server) Port() int { return s.port }

// SocketDir is the directory of the server's Unix socket (.s.PGSQL.<port>).
func (s *Server) SocketDir() string { return s.dir }

// Stop shuts the server down (fast shutdown) and removes its directory,
// unless it was given as Options.Dir.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		s.signal(syscall.SIGINT)
		select {
		case <-s.done:
		case <-time.After(s.stopWait):
			s.signal(syscall.SIGQUIT)
			select {
			case <-s.done:
			case <-time.After(5 * time.Second):
				s.cmd.Process.Kill()
				<-s.done
				s.stopErr = errors.New("pgoracle: postgres did not stop")
			}
		}
		if s.keepDir {
			return
		}
		if err := os.RemoveAll(s.dir); err != nil && s.stopErr == nil {
			s.stopErr = err
		}
	})
	return s.stopErr
}

func (s *Server) kill() {
	s.signal(syscall.SIGQUIT)
	select {
	case <-s.done:
	case <-time.After(5 * time.Second):
		s.cmd.Process.Kill()
	}
}

// signal sends sig to the postmaster itself: when it runs under runuser, the
// process we started is runuser, so the postmaster's pid comes from its pid
// file.
func (s *Server) signal(sig syscall.Signal) {
	if b, err := os.ReadFile(filepath.Join(s.dir, "data", "postmaster.pid")); err == nil {
		line, _, _ := strings.Cut(string(b), "\n")
		if pid, err := strconv.Atoi(strings.TrimSpace(line)); err == nil && pid > 0 {
			if syscall.Kill(pid, sig) == nil {
				return
			}
		}
	}
	s.cmd.Process.Signal(sig)
}

// account is the user the server runs as, when not ourselves.
type account struct {
	name     string
	uid, gid int
}

func runAs() (*account, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("pgoracle: running as root needs a postgres user: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &account{name: u.Username, uid: uid, gid: gid}, nil
}

func command(owner *account, name string, args ...string) *exec.Cmd {
	if owner == nil {
		return exec.Command(name, args...)
	}
	return exec.Command("runuser", append([]string{"-u", owner.name, "--", name}, args...)...)
}

// template returns a data directory made by initdb, creating it once per
// machine and user.
func template(ctx context.Context, owner *account) (string, error) {
	base := filepath.Join(os.TempDir(), fmt.Sprintf("pgoracle-template-%d", os.Geteuid()))
	if err := os.MkdirAll(base, 0o755); err != nil {
		return "", err
	}
	lock, err := os.OpenFile(filepath.Join(base, "lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return "", err
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return "", err
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)

	data := filepath.Join(base, "data")
	if _, err := os.Stat(filepath.Join(base, "ready")); err == nil {
		return data, nil
	}
	os.RemoveAll(data)
	if owner != nil {
		if err := os.Chown(base, owner.uid, owner.gid); err != nil {
			return "", err
		}
	}
	if err := initdb(owner, data, "--no-sync"); err != nil {
		return "", err
	}
	if err := os.WriteFile(filepath.Join(base, "ready"), nil, 0o644); err != nil {
		return "", err
	}
	return data, nil
}

// initdb creates the data directory data for the superuser "postgres".
func initdb(owner *account, data string, extra ...string) error {
	args := append([]string{"-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C"}, extra...)
	out, err := command(owner, filepath.Join(BinDir, "initdb"), args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("pgoracle: initdb: %v: %s", err, tail(string(out)))
	}
	return nil
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

func tail(s string) string {
	if len(s) > 2000 {
		return s[len(s)-2000:]
	}
	return s
}

// StartT starts a server for a test, fails the test if it cannot, and
// stops it when the test ends.
func StartT(t testing.TB) *Server {
	t.Helper()
	s, err := Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Stop() })
	return s
}

// Connect opens a connection as the superuser, closed when the test ends.
func (s *Server) Connect(t testing.TB) *pgx.Conn {
	t.Helper()
	return Dial(t, s.DSN())
}

// Dial opens a pgx connection to dsn (this server, or Strand:
// strandtest's Connect), failing t if it cannot; the connection is closed
// when the test ends.
func Dial(t testing.TB, dsn string) *pgx.Conn {
	t.Helper()
	c, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(context.Background()) })
	return c
}
