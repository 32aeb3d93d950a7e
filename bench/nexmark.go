package main

import (
	"context"
	"flag"
	"fmt"
	"math"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/strand-db/strand/bench/nexmark"
)

var (
	nexmarkEvents = flag.Int("nexmark-events", 1_000_000, "Nexmark events loaded per query (nexmark suite)")
	nexmarkMax    = flag.Duration("nexmark-max", 60*time.Second, "a Nexmark load stops after this long, and its rate is over what it loaded")
	nexmarkOnly   = flag.String("nexmark-queries", "", "comma-separated Nexmark queries to run, e.g. q0,q5 (default all of q0–q8; the load with no view always runs)")
)

// nexmark loads the seeded Nexmark stream into Strand by COPY, once with
// no view and once per query with only that query's view, and reports the
// events per second per core the server sustained: events divided by the
// CPU seconds `strand serve` used during the load (its utime + stime), so
// the figure does not depend on how many of the machine's cores the load
// kept busy. RisingWave's published per-core figures stand beside it.
func (b *bench) nexmark(ctx context.Context) error {
	if err := b.servers(ctx); err != nil {
		return err
	}
	// The events are generated before any timing, in chunks of 10,000
	// (COPY commits every 10,000 rows outside a transaction, so a chunk's
	// COPY of each table is one commit).
	const chunkEvents = 10_000
	g := nexmark.NewGenerator(nexmark.Config{Seed: 1})
	var chunks []*nexmark.Chunk
	for left := *nexmarkEvents; left > 0; left -= chunkEvents {
		ch := new(nexmark.Chunk)
		g.Fill(ch, min(left, chunkEvents))
		chunks = append(chunks, ch)
	}
	queries := []nexmark.Query{{Name: "none"}}
	for _, q := range nexmark.Queries {
		if *nexmarkOnly == "" || strings.Contains(","+*nexmarkOnly+",", ","+q.Name+",") {
			queries = append(queries, q)
		}
	}
	c, err := pgx.Connect(ctx, b.strand.DSN())
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	for _, q := range queries {
		var rates, perCore, cores, loaded []float64
		for range b.opt.runs {
			r, err := b.nexmarkLoad(ctx, c, q, chunks)
			if err != nil {
				return fmt.Errorf("nexmark %s: %w", q.Name, err)
			}
			rates = append(rates, r.events/r.wall)
			perCore = append(perCore, r.events/r.cpu)
			cores = append(cores, r.cpu/r.wall)
			loaded = append(loaded, r.events)
			fmt.Fprintf(os.Stderr, "   nexmark %-4s %9.0f events in %6.1fs: %8.0f events/s, %.2f cores, %8.0f events/s/core\n",
				q.Name, r.events, r.wall, r.events/r.wall, r.cpu/r.wall, r.events/r.cpu)
		}
		pc := median(perCore)
		workload := "Nexmark " + q.Name + ", its view alone (COPY; events/s/core = events / strand CPU seconds)"
		rw, ratio := "—", math.NaN()
		if q.Name == "none" {
			workload = "Nexmark events with no view (COPY into person, auction, bid)"
		}
		if q.RisingWave > 0 {
			rw = fmt.Sprintf("RisingWave (published): %s k events/s/core", strconv.FormatFloat(q.RisingWave, 'g', -1, 64))
			ratio = pc / (q.RisingWave * 1000)
		}
		b.add(row{
			workload: workload,
			clients:  "1",
			strand:   fmt.Sprintf("%s events/s/core (%s events/s on %.2f cores, %s events)", num(pc), num(median(rates)), median(cores), num(median(loaded))),
			postgres: rw,
			ratio:    ratio, target: "—", met: "—",
			samples: "events/s/core " + list(perCore, "") + "; events/s " + list(rates, ""),
		})
	}
	b.note(fmt.Sprintf("Nexmark: bench/nexmark (seeded generator, persons:auctions:bids = 1:3:46, 10,000 events per event-time second), %s events per load in COPY chunks of 10,000, each load stopped after %s; tables dropped and recreated before each load; ratio = Strand / RisingWave per-core figure (different machines and systems: a scale, not a contest). Adapted queries: %s.",
		num(float64(*nexmarkEvents)), *nexmarkMax, adaptedQueries()))
	return nil
}

func adaptedQueries() string {
	var parts []string
	for _, q := range nexmark.Queries {
		if q.Adapted != "" {
			parts = append(parts, q.Name+": "+q.Adapted)
		}
	}
	return strings.Join(parts, "; ")
}

type nexmarkResult struct{ events, wall, cpu float64 }

// nexmarkLoad recreates the tables and q's view, then loads chunks until
// they run out or -nexmark-max passes.
func (b *bench) nexmarkLoad(ctx context.Context, c *pgx.Conn, q nexmark.Query, chunks []*nexmark.Chunk) (nexmarkResult, error) {
	var res nexmarkResult
	var setup []string
	for _, old := range nexmark.Queries {
		setup = append(setup, "DROP MATERIALIZED VIEW IF EXISTS "+old.Name)
	}
	for _, t := range nexmark.Tables {
		setup = append(setup, "DROP TABLE IF EXISTS "+t)
	}
	setup = append(setup, nexmark.Schema(true)...)
	if q.SQL != "" {
		setup = append(setup, "CREATE MATERIALIZED VIEW "+q.Name+" AS "+q.SQL)
	}
	for _, s := range setup {
		if _, err := c.Exec(ctx, s); err != nil {
			return res, fmt.Errorf("%s: %w", s, err)
		}
	}
	cpu0, err := procCPU(b.strand.cmd.Process.Pid)
	if err != nil {
		return res, err
	}
	start := time.Now()
	for _, ch := range chunks {
		if err := nexmark.Copy(ctx, c.PgConn(), ch); err != nil {
			return res, err
		}
		res.events += float64(ch.Events)
		if time.Since(start) > *nexmarkMax {
			break
		}
	}
	res.wall = time.Since(start).Seconds()
	cpu1, err := procCPU(b.strand.cmd.Process.Pid)
	if err != nil {
		return res, err
	}
	res.cpu = cpu1 - cpu0
	return res, nil
}

// procCPU is the CPU seconds (user + system) a process has used, from
// /proc/<pid>/stat.
func procCPU(pid int) (float64, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0, err
	}
	// The command name (field 2) may hold spaces; fields after it start
	// past its closing parenthesis.
	s := string(data)
	fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(fields) < 13 {
		return 0, fmt.Errorf("unexpected /proc/%d/stat: %q", pid, s)
	}
	utime, err1 := strconv.ParseFloat(fields[11], 64)
	stime, err2 := strconv.ParseFloat(fields[12], 64)
	if err1 != nil || err2 != nil {
		return 0, fmt.Errorf("unexpected /proc/%d/stat: %q", pid, s)
	}
	// Linux reports clock ticks of USER_HZ, which is 100 on every
	// platform Go supports.
	return (utime + stime) / 100, nil
}
