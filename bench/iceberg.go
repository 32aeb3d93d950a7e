package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
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
	off, err := startStrandArgs(ctx, bin, filepath.Join(dir, "off"), "--compact-every", "0")
	if err != nil {
		return err
	}
	defer off.Stop()
	onDir := filepath.Join(dir, "on")
	on, err := startStrandArgs(ctx, bin, onDir, "--compact-every", "2s", "--warehouse", filepath.Join(onDir, "warehouse"))
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
		samples, err := b.rounds(ctx,
			b.tps(ctx, off, w.script, "prepared", clients),
			b.tps(ctx, on, w.script, "prepared", clients))
		if err != nil {
			return err
		}
		offTPS, onTPS := median(samples[0]), median(samples[1])
		r := onTPS / offTPS
		b.add(row{
			workload: fmt.Sprintf("INSERT into a %s table while compacting to Iceberg every 2 s, vs compaction off", w.name),
			clients:  fmt.Sprint(clients),
			strand:   fmt.Sprintf("%s tps compacting, %s tps not", num(onTPS), num(offTPS)),
			postgres: "—", ratio: r, target: "≥ 0.8× (≤ 20% drop)", met: met(r, 0.8, false),
			samples: "compacting " + list(samples[1], "") + "; off " + list(samples[0], ""),
		})
	}
	// Compaction kept up: the Iceberg tables are there.
	if _, err := os.Stat(filepath.Join(onDir, "warehouse", "public", "s", "metadata")); err != nil {
		return fmt.Errorf("compaction did not write the stream's Iceberg table: %w", err)
	}
	return nil
}

// startStrandArgs starts `strand serve` like startStrand, on its own data
// directory under root, with extra flags.
func startStrandArgs(ctx context.Context, bin, root string, extra ...string) (*strandServer, error) {
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
	args := append([]string{"serve", "--data-dir", s.dir, "--pg-addr", pgAddr, "--http-addr", httpAddr, "--log-level", "warn"}, extra...)
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
