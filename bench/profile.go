package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/pprof"
	"strings"
	"time"

	strandlog "github.com/strand-db/strand/log"
	"github.com/strand-db/strand/pgwire"
	"github.com/strand-db/strand/sql/session"
)

// inProcessServer is a Strand server running in the bench's own process,
// wired as cmd/strand's serve wires it (log with the view maintainer,
// session engine, pgwire with trust auth), so that runtime/pprof sees it.
type inProcessServer struct {
	log  *strandlog.Log
	pg   *pgwire.Server
	dsn  string
	stop func()
}

func startInProcess(dir string) (*inProcessServer, error) {
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	l, err := strandlog.Open(strandlog.Options{Dir: dir, Logger: quiet, Hook: session.NewMaintainer()})
	if err != nil {
		return nil, err
	}
	pg, err := pgwire.New(pgwire.Config{Addr: "127.0.0.1:0", Backend: session.NewEngine(l, quiet), Auth: pgwire.AuthTrust, Logger: quiet})
	if err != nil {
		l.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		l.Close()
		return nil, err
	}
	go pg.Serve(ln)
	s := &inProcessServer{log: l, pg: pg, dsn: fmt.Sprintf("postgres://strand@%s/strand?sslmode=disable", ln.Addr())}
	s.stop = func() {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		pg.Shutdown(sctx)
		l.Close()
	}
	return s, nil
}

// profiledRun is one pgbench workload run under the CPU profiler.
type profiledRun struct {
	name, script, mode string
}

// profilePgbench runs w for dur with 32 clients under the CPU profiler and
// writes <prefix><name>.cpu.pprof plus its `go tool pprof -top` (flat and
// cumulative) as <prefix><name>.cpu.top.txt next to -out. extra, when not
// nil, is called around the run and returns a line to put in the header.
func (b *bench) profilePgbench(ctx context.Context, dsn, prefix string, w profiledRun, dur time.Duration, nodes int, extra func() func() string) error {
	outDir := filepath.Dir(b.opt.out)
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	path := filepath.Join(outDir, prefix+w.name+".cpu.pprof")
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	var done func() string
	if extra != nil {
		done = extra()
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return err
	}
	r, err := runPgbench(ctx, dsn, b.script(w.script), w.mode, 32, dur)
	pprof.StopCPUProfile()
	f.Close()
	if err != nil {
		return err
	}
	header := ""
	if done != nil {
		header = done()
	}
	top, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", fmt.Sprintf("-nodecount=%d", nodes), path).CombinedOutput()
	if err != nil {
		return fmt.Errorf("go tool pprof: %v\n%s", err, top)
	}
	cum, _ := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-cum", fmt.Sprintf("-nodecount=%d", 2*nodes), path).CombinedOutput()
	text := fmt.Sprintf("# %s, 32 clients, -M %s, %s: %.0f tps (in-process server, profiler on)\n\n%s%s\n# by cumulative\n\n%s",
		w.script, w.mode, dur, r.TPS, header, top, cum)
	if err := os.WriteFile(filepath.Join(outDir, prefix+w.name+".cpu.top.txt"), []byte(text), 0o644); err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "   profile %s: %.0f tps; %s%s\n", w.name, r.TPS, header, path)
	b.note(fmt.Sprintf("CPU profile of the 32-client %s (-M %s) workload: %s; %.0f tps with the profiler on.",
		strings.TrimSuffix(w.script, ".sql"), w.mode, path, r.TPS))
	return nil
}

// profile takes CPU profiles of Strand under the 32-client INSERT workloads
// (plain table, and table with three views). `strand serve` has no
// -cpuprofile flag, so this profiles an in-process server.
func (b *bench) profile(ctx context.Context) error {
	s, err := startInProcess(filepath.Join(b.root, "profile-data"))
	if err != nil {
		return err
	}
	defer s.stop()
	for _, f := range []string{"views_common.sql", "views_strand.sql"} {
		if _, err := psql(ctx, s.dsn, 5*time.Minute, "-f", b.script(f)); err != nil {
			return err
		}
	}
	if _, err := psql(ctx, s.dsn, time.Minute, "-c", "CREATE TABLE kv (id bigint PRIMARY KEY, v text)"); err != nil {
		return err
	}
	for _, w := range []profiledRun{
		{"insert", "insert.sql", "prepared"},
		{"views-insert", "ev_insert.sql", "prepared"},
	} {
		if err := b.profilePgbench(ctx, s.dsn, "", w, 2*b.opt.duration, 40, nil); err != nil {
			return err
		}
	}
	return nil
}
