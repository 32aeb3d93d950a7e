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

// profile takes CPU profiles of Strand under the 32-client INSERT workloads
// (plain table, and table with three views). `strand serve` has neither a
// -cpuprofile flag nor /debug/pprof, so this runs a server in this process,
// wired as cmd/strand's serve wires it (log with the view maintainer,
// session engine, pgwire with trust auth), and profiles the process. The
// profiles and their `go tool pprof -top` land next to -out.
func (b *bench) profile(ctx context.Context) error {
	dir := filepath.Join(b.root, "profile-data")
	quiet := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	l, err := strandlog.Open(strandlog.Options{Dir: dir, Logger: quiet, Hook: session.NewMaintainer()})
	if err != nil {
		return err
	}
	defer l.Close()
	pg, err := pgwire.New(pgwire.Config{Addr: "127.0.0.1:0", Backend: session.NewEngine(l, quiet), Auth: pgwire.AuthTrust, Logger: quiet})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	go pg.Serve(ln)
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		pg.Shutdown(sctx)
	}()
	dsn := fmt.Sprintf("postgres://strand@%s/strand?sslmode=disable", ln.Addr())
	for _, f := range []string{"views_common.sql", "views_strand.sql"} {
		if _, err := psql(ctx, dsn, 5*time.Minute, "-f", b.script(f)); err != nil {
			return err
		}
	}
	if _, err := psql(ctx, dsn, time.Minute, "-c", "CREATE TABLE kv (id bigint PRIMARY KEY, v text)"); err != nil {
		return err
	}
	outDir := filepath.Dir(b.opt.out)
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	dur := 2 * b.opt.duration
	for _, w := range []struct{ name, script string }{
		{"insert", "insert.sql"},
		{"views-insert", "ev_insert.sql"},
	} {
		path := filepath.Join(outDir, w.name+".cpu.pprof")
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			f.Close()
			return err
		}
		r, err := runPgbench(ctx, dsn, b.script(w.script), "prepared", 32, dur)
		pprof.StopCPUProfile()
		f.Close()
		if err != nil {
			return err
		}
		top, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-nodecount=40", path).CombinedOutput()
		if err != nil {
			return fmt.Errorf("go tool pprof: %v\n%s", err, top)
		}
		cum, _ := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-cum", "-nodecount=60", path).CombinedOutput()
		text := fmt.Sprintf("# %s, 32 clients, -M prepared, %s: %.0f tps (in-process server, profiler on)\n\n%s\n# by cumulative\n\n%s",
			w.script, dur, r.TPS, top, cum)
		if err := os.WriteFile(filepath.Join(outDir, w.name+".cpu.top.txt"), []byte(text), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "   profile %s: %.0f tps; %s\n", w.name, r.TPS, path)
		b.note(fmt.Sprintf("CPU profile of the 32-client %s workload: %s (top: %s.cpu.top.txt); %.0f tps with the profiler on.",
			strings.TrimSuffix(w.script, ".sql"), path, filepath.Join(outDir, w.name), r.TPS))
	}
	return nil
}
