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

	stopOnce sync.Once
	stopErr  error
}

// Available reports whether the PostgreSQL binaries are installed; tests
// skip themselves when they are not.
func Available() bool {
	_, err := os.Stat(filepath.Join(BinDir, "postgres"))
	return err == nil
}

// Start initializes and starts a server and waits until it accepts
// connections. The caller must Stop it.
func Start(ctx context.Context) (*Server, error) {
	if !Available() {
		return nil, fmt.Errorf("pgoracle: no PostgreSQL at %s", BinDir)
	}
	owner, err := runAs()
	if err != nil {
		return nil, err
	}
	tmpl, err := template(ctx, owner)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "pgoracle-")
	if err != nil {
		return nil, err
	}
	if owner != nil {
		if err := os.Chown(dir, owner.uid, owner.gid); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
	data := filepath.Join(dir, "data")
	// cp -a keeps the owner and the 0700 mode postgres insists on.
	if out, err := exec.CommandContext(ctx, "cp", "-a", tmpl, data).CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("pgoracle: copy template: %v: %s", err, out)
	}
	// A free port can be taken by someone else between our probe and
	// postgres binding it; retry a few times.
	for attempt := 0; ; attempt++ {
		s, err := start(ctx, dir, owner)
		if err == nil {
			return s, nil
		}
		if attempt == 4 || ctx.Err() != nil {
			os.RemoveAll(dir)
			return nil, err
		}
	}
}

func start(ctx context.Context, dir string, owner *account) (*Server, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	args := []string{
		"-D", filepath.Join(dir, "data"),
		"-p", strconv.Itoa(port),
		"-h", "127.0.0.1",
		"-k", dir,
		"-c", "fsync=on",
		"-c", "max_connections=40",
		"-c", "shared_buffers=16MB",
		"-c", "logging_collector=off",
	}
	cmd := command(owner, filepath.Join(BinDir, "postgres"), args...)
	logf, err := os.Create(filepath.Join(dir, "postgres.log"))
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
	s := &Server{dir: dir, port: port, cmd: cmd, done: make(chan struct{})}
	go func() {
		cmd.Wait()
		logf.Close()
		close(s.done)
	}()
	deadline := time.Now().Add(30 * time.Second)
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
			log, _ := os.ReadFile(filepath.Join(dir, "postgres.log"))
			return nil, fmt.Errorf("pgoracle: postgres exited: %s", tail(string(log)))
		case <-ctx.Done():
			s.kill()
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			s.kill()
			return nil, errors.New("pgoracle: postgres did not accept connections in 30s")
		}
	}
}

// DSN is a connection string for the superuser "postgres".
func (s *Server) DSN() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.port)
}

// Port is the TCP port the server listens on.
func (s *Server) Port() int { return s.port }

// Stop shuts the server down (fast shutdown) and removes its directory.
func (s *Server) Stop() error {
	s.stopOnce.Do(func() {
		s.signal(syscall.SIGINT)
		select {
		case <-s.done:
		case <-time.After(10 * time.Second):
			s.signal(syscall.SIGQUIT)
			select {
			case <-s.done:
			case <-time.After(5 * time.Second):
				s.cmd.Process.Kill()
				<-s.done
				s.stopErr = errors.New("pgoracle: postgres did not stop")
			}
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
	cmd := command(owner, filepath.Join(BinDir, "initdb"),
		"-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")
	out, err := cmd.CombinedOutput()
	if err != nil {
		return "", fmt.Errorf("pgoracle: initdb: %v: %s", err, tail(string(out)))
	}
	if err := os.WriteFile(filepath.Join(base, "ready"), nil, 0o644); err != nil {
		return "", err
	}
	return data, nil
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
