package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/strand-db/strand/tests/pgoracle"
)

// server is one database under test, as the workloads see it.
type server interface {
	Name() string
	DSN() string
	// SocketDSN reaches the server over its Unix socket ("" when it has
	// none).
	SocketDSN() string
	Stop() error
}

// strandServer is `strand serve` running as a subprocess on a temporary data
// directory and free loopback ports, exactly as a user would start it.
type strandServer struct {
	dir, pgAddr, httpAddr string
	// socketDir is the --unix-socket-dir it was started with, if any
	// (set by whoever gave the flag).
	socketDir string
	logPath   string
	cmd       *exec.Cmd
	done      chan struct{}
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

// startStrand starts `strand serve` with its data directory and log under
// root, on free loopback ports, with extra flags, and waits until it answers.
func startStrand(ctx context.Context, bin, root string, extra ...string) (*strandServer, error) {
	if err := os.MkdirAll(root, 0o755); err != nil {
		return nil, err
	}
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
	// The Iceberg warehouse goes beside the data directory, not into the
	// working directory (the default); extra flags may override it.
	args := append([]string{"serve", "--data-dir", s.dir, "--warehouse", filepath.Join(root, "strand-warehouse"),
		"--pg-addr", pgAddr, "--http-addr", httpAddr, "--log-level", "warn"}, extra...)
	s.cmd = exec.Command(bin, args...)
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start strand: %w", err)
	}
	go func() { s.cmd.Wait(); logf.Close(); close(s.done) }()
	if err := waitReady(ctx, s.DSN(), s.done, s.logPath); err != nil {
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

func (s *strandServer) SocketDSN() string {
	if s.socketDir == "" {
		return ""
	}
	_, port, _ := net.SplitHostPort(s.pgAddr)
	return fmt.Sprintf("postgres://strand@/strand?host=%s&port=%s&sslmode=disable", s.socketDir, port)
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

// pgServer is a throwaway PostgreSQL 15 started by tests/pgoracle, initialized
// afresh in <root>/postgres and listening on a free port of 127.0.0.1.
// PostgreSQL refuses to run as root, so under root it runs as the postgres
// user through runuser.
type pgServer struct {
	*pgoracle.Server
}

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
	srv, err := pgoracle.StartWith(ctx, pgoracle.Options{
		Dir:      filepath.Join(root, "postgres"),
		Settings: pgSettings,
		LogPath:  filepath.Join(root, "postgres.log"),
		Timeout:  60 * time.Second,
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return &pgServer{srv}, nil
}

func (s *pgServer) Name() string { return "postgres" }

func (s *pgServer) SocketDSN() string {
	return fmt.Sprintf("postgres://postgres@/postgres?host=%s&port=%d&sslmode=disable", s.SocketDir(), s.Port())
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

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}
