package main

import (
	"context"
	"fmt"
	"time"
)

// changelog measures what a materialized view's changelog costs: INSERTs
// into a table under a per-account GROUP BY view that keeps one, against
// the same under a view that does not (bench/scripts/changelog_common.sql).
// Strand only: PostgreSQL has no such thing.
func (b *bench) changelog(ctx context.Context) error {
	if err := b.servers(ctx); err != nil {
		return err
	}
	if _, err := psql(ctx, b.strand.DSN(), 5*time.Minute, "-f", b.script("changelog_common.sql")); err != nil {
		return fmt.Errorf("strand: %w", err)
	}
	const clients = 32
	var cpuPlain, cpuLog []float64
	s, err := b.rounds(ctx,
		b.tpsCPU(ctx, b.strand, "cg_insert.sql", clients, &cpuPlain),
		b.tpsCPU(ctx, b.strand, "cl_insert.sql", clients, &cpuLog))
	if err != nil {
		return err
	}
	plain, logged := median(s[0]), median(s[1])
	r := logged / plain
	b.add(row{
		workload: "INSERT into a table under a GROUP BY view that keeps a changelog vs one that does not (Strand)",
		clients:  "32",
		strand:   fmt.Sprintf("%s tps with the changelog / %s without", num(logged), num(plain)),
		postgres: "—", ratio: r, target: "—", met: "—",
		samples: "changelog " + list(s[1], "") + "; none " + list(s[0], ""),
	})
	if len(cpuPlain) > 0 && len(cpuLog) > 0 {
		cp, cl := median(cpuPlain), median(cpuLog)
		b.note(fmt.Sprintf("Strand server CPU per INSERT under the GROUP BY view (median): %.1f µs with its changelog, %.1f µs without (+%.1f µs); runs: changelog %s; none %s.",
			cl, cp, cl-cp, list(cpuLog, "µs"), list(cpuPlain, "µs")))
	}
	return nil
}
