package main

import (
	"bufio"
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

// profileRT takes CPU profiles of Strand under the round-trip workloads of
// select1, insert and point (32 clients, pgbench), with an in-process
// server wired as `strand serve` wires it (see profile). The profiles and
// their `go tool pprof -top` land next to -out as rt-<name>.cpu.*.
func (b *bench) profileRT(ctx context.Context) error {
	dir := filepath.Join(b.root, "profile-rt-data")
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
	file := filepath.Join(b.root, "kv_point_rt.tsv")
	if err := writeRows(file, 100_000, func(w *bufio.Writer, i int) {
		fmt.Fprintf(w, "%d\tpoint-payload-%d\n", i, i)
	}); err != nil {
		return err
	}
	if _, err := psql(ctx, dsn, 10*time.Minute,
		"-c", "CREATE TABLE kv (id bigint PRIMARY KEY, v text)",
		"-c", "CREATE TABLE kv_point (id bigint PRIMARY KEY, v text)",
		"-c", fmt.Sprintf(`\copy kv_point FROM '%s'`, file)); err != nil {
		return err
	}
	outDir := filepath.Dir(b.opt.out)
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return err
	}
	dur := b.opt.duration
	for _, w := range []struct{ name, script, mode string }{
		{"select1-simple", "select1.sql", "simple"},
		{"select1-prepared", "select1.sql", "prepared"},
		{"insert", "insert.sql", "prepared"},
		{"point", "point_select.sql", "prepared"},
	} {
		path := filepath.Join(outDir, "rt-"+w.name+".cpu.pprof")
		f, err := os.Create(path)
		if err != nil {
			return err
		}
		before := l.Stats()
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
		after := l.Stats()
		intents, fsyncs := after.Intents-before.Intents, after.Fsyncs-before.Fsyncs
		logLine := ""
		if fsyncs > 0 {
			logLine = fmt.Sprintf("log: %d intents, %d batches, %d WAL fsyncs (%.1f intents per fsync)\n\n",
				intents, after.Batches-before.Batches, fsyncs, float64(intents)/float64(fsyncs))
		}
		top, err := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-nodecount=50", path).CombinedOutput()
		if err != nil {
			return fmt.Errorf("go tool pprof: %v\n%s", err, top)
		}
		cum, _ := exec.CommandContext(ctx, "go", "tool", "pprof", "-top", "-cum", "-nodecount=80", path).CombinedOutput()
		text := fmt.Sprintf("# %s, 32 clients, -M %s, %s: %.0f tps (in-process server, profiler on)\n\n%s%s\n# by cumulative\n\n%s",
			w.script, w.mode, dur, r.TPS, logLine, top, cum)
		if err := os.WriteFile(filepath.Join(outDir, "rt-"+w.name+".cpu.top.txt"), []byte(text), 0o644); err != nil {
			return err
		}
		fmt.Fprintf(os.Stderr, "   profile %s: %.0f tps; %s%s\n", w.name, r.TPS, logLine, path)
		b.note(fmt.Sprintf("CPU profile of the 32-client %s (-M %s) workload: %s; %.0f tps with the profiler on.",
			strings.TrimSuffix(w.script, ".sql"), w.mode, path, r.TPS))
	}
	return nil
}
