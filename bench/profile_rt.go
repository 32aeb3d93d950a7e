package main

import (
	"bufio"
	"context"
	"fmt"
	"path/filepath"
	"time"
)

// profileRT takes CPU profiles of Strand under the round-trip workloads of
// select1, insert and point (32 clients, pgbench) on an in-process server
// (see profile), with the log's intents, batches and WAL fsyncs during
// each. The profiles and their `go tool pprof -top` land next to -out as
// rt-<name>.cpu.*.
func (b *bench) profileRT(ctx context.Context) error {
	s, err := startInProcess(filepath.Join(b.root, "profile-rt-data"))
	if err != nil {
		return err
	}
	defer s.stop()
	file := filepath.Join(b.root, "kv_point_rt.tsv")
	if err := writeRows(file, 100_000, func(w *bufio.Writer, i int) {
		fmt.Fprintf(w, "%d\tpoint-payload-%d\n", i, i)
	}); err != nil {
		return err
	}
	if _, err := psql(ctx, s.dsn, 10*time.Minute,
		"-c", "CREATE TABLE kv (id bigint PRIMARY KEY, v text)",
		"-c", "CREATE TABLE kv_point (id bigint PRIMARY KEY, v text)",
		"-c", fmt.Sprintf(`\copy kv_point FROM '%s'`, file)); err != nil {
		return err
	}
	logStats := func() func() string {
		before := s.log.Stats()
		return func() string {
			after := s.log.Stats()
			intents, fsyncs := after.Intents-before.Intents, after.Fsyncs-before.Fsyncs
			if fsyncs == 0 {
				return ""
			}
			return fmt.Sprintf("log: %d intents, %d batches, %d WAL fsyncs (%.1f intents per fsync)\n\n",
				intents, after.Batches-before.Batches, fsyncs, float64(intents)/float64(fsyncs))
		}
	}
	for _, w := range []profiledRun{
		{"select1-simple", "select1.sql", "simple"},
		{"select1-prepared", "select1.sql", "prepared"},
		{"insert", "insert.sql", "prepared"},
		{"point", "point_select.sql", "prepared"},
	} {
		if err := b.profilePgbench(ctx, s.dsn, "rt-", w, b.opt.duration, 50, logStats); err != nil {
			return err
		}
	}
	return nil
}
