package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// icebergCompaction measures what Iceberg compaction costs concurrent
// writers: INSERT throughput on a server compacting every 2 s against the
// same on a server with compaction off (--compact-every 0), both started
// afresh for this suite, runs alternating. Target: at most a 20% drop.
// A stream and a keyed table (whose current state is rewritten by every
// compaction) are measured separately, with 32 clients.
func (b *bench) icebergCompaction(ctx context.Context) error {
	dir := filepath.Join(b.root, "iceberg")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	if b.scripts == "" {
		if err := b.unpackScripts(); err != nil {
			return err
		}
	}
	bin, err := buildStrand(ctx, b.opt.repo, dir)
	if err != nil {
		return err
	}
	off, err := startStrand(ctx, bin, filepath.Join(dir, "off"), "--compact-every", "0")
	if err != nil {
		return err
	}
	defer off.Stop()
	onDir := filepath.Join(dir, "on")
	on, err := startStrand(ctx, bin, onDir, "--compact-every", "2s", "--warehouse", filepath.Join(onDir, "warehouse"))
	if err != nil {
		return err
	}
	defer on.Stop()
	for _, s := range []*strandServer{off, on} {
		if _, err := psql(ctx, s.DSN(), time.Minute, "-c", "CREATE TABLE kv (id bigint PRIMARY KEY, v text)",
			"-c", "CREATE TABLE s (acct bigint, amount bigint, note text) APPEND ONLY KEY (acct)"); err != nil {
			return fmt.Errorf("%s: %w", s.Name(), err)
		}
	}
	const clients = 32
	for _, w := range []struct{ name, script string }{
		{"stream", "iceberg_stream_insert.sql"},
		{"keyed", "insert.sql"},
	} {
		// The server's CPU per INSERT says what compaction costs without
		// the noise of the shared machine's load on tps.
		var offCPU, onCPU []float64
		samples, err := b.rounds(ctx,
			b.tpsCPU(ctx, off, w.script, clients, &offCPU),
			b.tpsCPU(ctx, on, w.script, clients, &onCPU))
		if err != nil {
			return err
		}
		offTPS, onTPS := median(samples[0]), median(samples[1])
		r := onTPS / offTPS
		b.add(row{
			workload: fmt.Sprintf("INSERT into a %s table while compacting to Iceberg every 2 s, vs compaction off", w.name),
			clients:  fmt.Sprint(clients),
			strand: fmt.Sprintf("%s tps compacting, %s tps not (server CPU per INSERT %.0f µs, %.0f µs)",
				num(onTPS), num(offTPS), median(onCPU), median(offCPU)),
			postgres: "—", ratio: r, target: "≥ 0.8× (≤ 20% drop)", met: met(r, 0.8, false),
			samples: "compacting " + list(samples[1], "") + "; off " + list(samples[0], "") +
				"; server CPU µs per INSERT compacting " + list(onCPU, "µs") + ", off " + list(offCPU, "µs"),
		})
	}
	// Compaction kept up: the Iceberg tables are there.
	if _, err := os.Stat(filepath.Join(onDir, "warehouse", "public", "s", "metadata")); err != nil {
		return fmt.Errorf("compaction did not write the stream's Iceberg table: %w", err)
	}
	return nil
}

// tpsCPU is tps with -M prepared that also appends the server's CPU
// microseconds per transaction (utime+stime over the run) to cpu.
func (b *bench) tpsCPU(ctx context.Context, s *strandServer, script string, clients int, cpu *[]float64) func() (float64, error) {
	run := b.tps(ctx, s, script, "prepared", clients)
	return func() (float64, error) {
		c0, err := procCPU(s.cmd.Process.Pid)
		if err != nil {
			return 0, err
		}
		tps, err := run()
		if err != nil {
			return 0, err
		}
		c1, err := procCPU(s.cmd.Process.Pid)
		if err != nil {
			return 0, err
		}
		if tx := tps * b.opt.duration.Seconds(); tx > 0 {
			*cpu = append(*cpu, (c1-c0)/tx*1e6)
		}
		return tps, nil
	}
}
