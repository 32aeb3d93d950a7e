package main

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
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// server is one database under test, as the workloads see it.
type server interface {
	Name() string
	DSN() string
	Stop() error
}

// strandServer is `strand serve` running as a subprocess on a temporary data
// directory and free loopback ports, exactly as a user would start it.
type strandServer struct {
	dir, pgAddr, httpAddr string
	logPath               string
	cmd                   *exec.Cmd
	done                  chan struct{}
}

// buildStrand compiles cmd/strand into dir and returns the binary's path.
func buildStrand(ctx context.Context, repo, dir string) (string, error) {
	bin := filepath.Join(dir, "strand")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, "./cmd/strand")
	cmd.Dir = repo
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("build strand: %v\n%s", err, out)
	}
	return bin, nil
}

func startStrand(ctx context.Context, bin, root string) (*strandServer, error) {
	pgAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	httpAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	s := &strandServer{dir: filepath.Join(root, "strand-data"), pgAddr: pgAddr, httpAddr: httpAddr,
		logPath: filepath.Join(root, "strand.log"), done: make(chan struct{})}
	logf, err := os.Create(s.logPath)
	if err != nil {
		return nil, err
	}
	s.cmd = exec.Command(bin, "serve", "--data-dir", s.dir, "--pg-addr", pgAddr, "--http-addr", httpAddr, "--log-level", "warn")
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start strand: %w", err)
	}
	go func() { s.cmd.Wait(); logf.Close(); close(s.done) }()
	if err := waitReady(ctx, s.DSN(), s.done, filepath.Join(root, "strand.log")); err != nil {
		s.Stop()
		return nil, fmt.Errorf("strand: %w", err)
	}
	return s, nil
}

func (s *strandServer) Name() string { return "strand" }

// Exited reports, when the server is no longer running, how it ended and
// the tail of its log; "" while it runs.
func (s *strandServer) Exited() string {
	select {
	case <-s.done:
		log, _ := os.ReadFile(s.logPath)
		return fmt.Sprintf("strand serve exited (%v); its log ends:\n%s", s.cmd.ProcessState, tail(string(log), 2000))
	default:
		return ""
	}
}

func (s *strandServer) DSN() string {
	return fmt.Sprintf("postgres://strand@%s/strand?sslmode=disable", s.pgAddr)
}

// Stop sends SIGTERM (a clean shutdown: commits in flight are synced) and
// waits for the process to exit.
func (s *strandServer) Stop() error {
	s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
		return nil
	case <-time.After(60 * time.Second):
		s.cmd.Process.Kill()
		<-s.done
		return errors.New("strand did not stop within 60s; killed")
	}
}

// pgServer is a throwaway PostgreSQL 15 initialized in a temporary
// directory, listening on a free port of 127.0.0.1. PostgreSQL refuses to run
// as root, so under root it runs as the postgres user through runuser.
type pgServer struct {
	dir  string
	port int
	cmd  *exec.Cmd
	done chan struct{}
}

// pgBinDir is where the PostgreSQL 15 binaries live.
const pgBinDir = "/usr/lib/postgresql/15/bin"

// pgSettings are the only settings changed from PostgreSQL's defaults:
// durability is spelled out (both are the defaults), shared_buffers is
// raised from 128MB, and the server log stays in the data directory.
var pgSettings = []string{
	"fsync=on",
	"synchronous_commit=on",
	"shared_buffers=256MB",
	"max_connections=100",
	"logging_collector=off",
}

func startPostgres(ctx context.Context, root string) (*pgServer, error) {
	owner, err := pgOwner()
	if err != nil {
		return nil, err
	}
	dir := filepath.Join(root, "postgres")
	if err := os.Mkdir(dir, 0o700); err != nil {
		return nil, err
	}
	if owner != nil {
		if err := os.Chown(dir, owner.uid, owner.gid); err != nil {
			return nil, err
		}
	}
	data := filepath.Join(dir, "data")
	initdb := asOwner(owner, filepath.Join(pgBinDir, "initdb"),
		"-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C")
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %v\n%s", err, out)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	args := []string{"-D", data, "-p", strconv.Itoa(port), "-h", "127.0.0.1", "-k", dir}
	for _, s := range pgSettings {
		args = append(args, "-c", s)
	}
	s := &pgServer{dir: dir, port: port, done: make(chan struct{})}
	logPath := filepath.Join(root, "postgres.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	s.cmd = asOwner(owner, filepath.Join(pgBinDir, "postgres"), args...)
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	go func() { s.cmd.Wait(); logf.Close(); close(s.done) }()
	if err := waitReady(ctx, s.DSN(), s.done, logPath); err != nil {
		s.Stop()
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return s, nil
}

func (s *pgServer) Name() string { return "postgres" }

func (s *pgServer) DSN() string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", s.port)
}

// Stop asks the postmaster for a fast shutdown. Under runuser the process we
// started is runuser, so the postmaster's pid comes from its pid file.
func (s *pgServer) Stop() error {
	sig := func(sig syscall.Signal) {
		if b, err := os.ReadFile(filepath.Join(s.dir, "data", "postmaster.pid")); err == nil {
			line, _, _ := strings.Cut(string(b), "\n")
			if pid, err := strconv.Atoi(strings.TrimSpace(line)); err == nil && pid > 0 && syscall.Kill(pid, sig) == nil {
				return
			}
		}
		s.cmd.Process.Signal(sig)
	}
	sig(syscall.SIGINT)
	select {
	case <-s.done:
		return nil
	case <-time.After(60 * time.Second):
		sig(syscall.SIGQUIT)
		<-s.done
		return errors.New("postgres did not stop within 60s; sent SIGQUIT")
	}
}

// waitReady polls until the server answers SELECT 1, it exits, or 60s pass.
func waitReady(ctx context.Context, dsn string, done <-chan struct{}, logPath string) error {
	deadline := time.Now().Add(60 * time.Second)
	for {
		c, err := pgx.Connect(ctx, dsn)
		if err == nil {
			var one int
			err = c.QueryRow(ctx, "SELECT 1").Scan(&one)
			c.Close(ctx)
			if err == nil {
				return nil
			}
		}
		select {
		case <-done:
			log, _ := os.ReadFile(logPath)
			return fmt.Errorf("exited during startup:\n%s", log)
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("not accepting connections after 60s (last error: %v)", err)
		}
	}
}

type account struct {
	name     string
	uid, gid int
}

func pgOwner() (*account, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root needs a postgres user: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	return &account{name: u.Username, uid: uid, gid: gid}, nil
}

func asOwner(owner *account, name string, args ...string) *exec.Cmd {
	if owner == nil {
		return exec.Command(name, args...)
	}
	return exec.Command("runuser", append([]string{"-u", owner.name, "--", name}, args...)...)
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func freePort() (int, error) {
	a, err := freeAddr()
	if err != nil {
		return 0, err
	}
	_, p, _ := net.SplitHostPort(a)
	return strconv.Atoi(p)
}
