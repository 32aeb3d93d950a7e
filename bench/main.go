// Command bench runs the same workloads against Strand and PostgreSQL 15 on
// this machine, in one run, and prints a table of medians and ratios.
//
//	go run ./bench -run all
//	go run ./bench -run select1,insert -runs 5 -duration 10s
//
// It builds cmd/strand, starts `strand serve` on a temporary data directory
// and free loopback ports, initializes and starts a PostgreSQL 15 in another
// temporary directory on the same filesystem, and drives both with pgbench
// (scripts in bench/scripts) or psql \copy and pgx where pgbench does not
// fit. Each measurement is repeated (-runs), Strand and PostgreSQL runs
// alternating so that load from elsewhere on the machine falls on both, and
// the median is reported. The table goes to stdout and to -out.
package main

import (
	"context"
	"embed"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"math"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"
)

//go:embed scripts/*.sql
var scripts embed.FS

// suites in the order "all" runs them: the log's own benchmark first (no
// server running), the bulk loads last (their 10M rows would otherwise sit
// under every other workload).
var suites = []suite{
	{"log", (*bench).logAppend},
	{"select1", (*bench).select1},
	{"insert", (*bench).insert},
	{"point", (*bench).pointSelect},
	{"views", (*bench).views},
	{"changelog", (*bench).changelog},
	{"copy", (*bench).copyRows},
	{"agg", (*bench).aggregate},
	{"bigview", (*bench).bigView},
	{"subscribe", (*bench).subscribe},
	{"groups", (*bench).groups},
	{"profile", (*bench).profile},
	{"profile-rt", (*bench).profileRT},
	{"nexmark", (*bench).nexmark},
	{"iceberg", (*bench).icebergCompaction},
}

type suite struct {
	name string
	run  func(*bench, context.Context) error
}

type options struct {
	run         string
	runs        int
	duration    time.Duration
	copyRows    int
	copyBigRows int
	bigRows     int
	out         string
	repo        string
	keep        bool
	// unix: pgbench reaches both servers over their Unix sockets.
	unix bool
}

// bench is one invocation: the options, the servers (started on first use
// and shared by the suites) and the rows of the result table.
type bench struct {
	opt     options
	root    string // temporary directory holding everything
	scripts string // bench/scripts, unpacked for pgbench and psql
	strand  *strandServer
	pg      *pgServer
	rows    []row
	notes   []string
	// tRows is how many rows table t holds on both servers (set by the
	// copy suite, used by agg and bigview).
	tRows int
}

// row is one line of the result table.
type row struct {
	workload, clients string
	strand, postgres  string
	ratio             float64 // NaN: not applicable
	target            string
	met               string
	samples           string // every run, for the details section
}

func main() {
	var o options
	flag.StringVar(&o.run, "run", "all", "comma-separated suites: all, "+suiteNames())
	flag.IntVar(&o.runs, "runs", 3, "runs per measurement (the median is reported)")
	flag.DurationVar(&o.duration, "duration", 8*time.Second, "length of each pgbench run")
	flag.IntVar(&o.copyRows, "copy-rows", 1_000_000, "rows per COPY run")
	flag.IntVar(&o.copyBigRows, "copy-big-rows", 10_000_000, "rows of the large COPY, tried when -copy-rows took under 30s on both (0: skip)")
	flag.IntVar(&o.bigRows, "big-rows", 10_000_000, "rows of table t for agg and bigview when the copy suite did not load it")
	flag.StringVar(&o.out, "out", "bench/results/latest.md", "where to write the result table (markdown)")
	flag.StringVar(&o.repo, "repo", ".", "repository root (where go.mod is)")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary directory (data dirs, server logs)")
	flag.BoolVar(&o.unix, "unix", false, "drive pgbench over both servers' Unix sockets instead of TCP on 127.0.0.1")
	flag.Parse()
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

func suiteNames() string {
	var names []string
	for _, s := range suites {
		names = append(names, s.name)
	}
	return strings.Join(names, ", ")
}

func run(o options) error {
	want := map[string]bool{}
	for _, n := range strings.Split(o.run, ",") {
		n = strings.TrimSpace(n)
		if n == "all" {
			for _, s := range suites {
				want[s.name] = true
			}
			continue
		}
		if !slices.ContainsFunc(suites, func(s suite) bool { return s.name == n }) {
			return fmt.Errorf("unknown suite %q (have: all, %s)", n, suiteNames())
		}
		want[n] = true
	}
	if _, err := os.Stat(filepath.Join(o.repo, "go.mod")); err != nil {
		return fmt.Errorf("-repo %s: not the repository root: %w", o.repo, err)
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()

	root, err := os.MkdirTemp("", "strand-bench-")
	if err != nil {
		return err
	}
	// PostgreSQL runs as another user and must reach its directory.
	os.Chmod(root, 0o755)
	b := &bench{opt: o, root: root}
	defer b.close()
	if err := b.unpackScripts(); err != nil {
		return err
	}
	b.note(fmt.Sprintf("Runs per measurement: %d, pgbench runs of %s; medians reported, Strand and PostgreSQL runs alternating.", o.runs, o.duration))

	// Other work on the machine moves every figure: the load average
	// around each suite goes with the results.
	var failed, loads []string
	for _, s := range suites {
		if !want[s.name] || ctx.Err() != nil {
			continue
		}
		fmt.Fprintf(os.Stderr, "== %s\n", s.name)
		start := time.Now()
		load0 := loadAvg()
		err := s.run(b, ctx)
		loads = append(loads, fmt.Sprintf("%s %s–%s", s.name, load0, loadAvg()))
		if b.strand != nil && err == nil {
			if why := b.strand.Exited(); why != "" {
				err = errors.New(why)
			}
		}
		if b.strand != nil && err != nil {
			if why := b.strand.Exited(); why != "" {
				err = fmt.Errorf("%w\n%s", err, why)
				b.note("Strand stopped during suite " + s.name + ": " + firstLine(why) + " (see stderr for its log); later suites could not run against it.")
			}
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "suite %s failed: %v\n", s.name, err)
			failed = append(failed, s.name)
			b.note(fmt.Sprintf("Suite %s failed: %s", s.name, firstLine(err.Error())))
		}
		fmt.Fprintf(os.Stderr, "== %s done in %s\n", s.name, time.Since(start).Round(time.Second))
	}
	if len(loads) > 0 {
		b.note("Load average (1 min) at the start and end of each suite: " + strings.Join(loads, "; ") + ".")
	}
	report := b.report()
	fmt.Print(report)
	if o.out != "" {
		os.MkdirAll(filepath.Dir(o.out), 0o755)
		if err := os.WriteFile(o.out, []byte(report), 0o644); err != nil {
			return err
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("suites failed: %s", strings.Join(failed, ", "))
	}
	return ctx.Err()
}

func (b *bench) unpackScripts() error {
	b.scripts = filepath.Join(b.root, "scripts")
	if err := os.MkdirAll(b.scripts, 0o755); err != nil {
		return err
	}
	return fs.WalkDir(scripts, "scripts", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := scripts.ReadFile(path)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(b.scripts, filepath.Base(path)), data, 0o644)
	})
}

func (b *bench) script(name string) string { return filepath.Join(b.scripts, name) }

// servers starts Strand and PostgreSQL on first use.
func (b *bench) servers(ctx context.Context) error {
	if b.strand != nil {
		return nil
	}
	bin, err := buildStrand(ctx, b.opt.repo, b.root)
	if err != nil {
		return err
	}
	var extra []string
	sock := filepath.Join(b.root, "strand-socket")
	if b.opt.unix {
		if err := os.MkdirAll(sock, 0o755); err != nil {
			return err
		}
		extra = []string{"--unix-socket-dir", sock}
	}
	if b.strand, err = startStrand(ctx, bin, b.root, extra...); err != nil {
		return err
	}
	if b.opt.unix {
		b.strand.socketDir = sock
	}
	if b.pg, err = startPostgres(ctx, b.root); err != nil {
		return err
	}
	b.note("PostgreSQL 15 settings (everything else default): " + strings.Join(pgSettings, ", ") + ".")
	if b.opt.unix {
		b.note("pgbench connects to both servers over their Unix sockets (-unix); setup and checks use TCP.")
	} else {
		b.note("pgbench connects to both servers over TCP on 127.0.0.1.")
	}
	return nil
}

func (b *bench) close() {
	if b.strand != nil {
		if err := b.strand.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
		}
	}
	if b.pg != nil {
		if err := b.pg.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
		}
	}
	if b.opt.keep {
		fmt.Fprintln(os.Stderr, "bench: kept", b.root)
		return
	}
	os.RemoveAll(b.root)
}

func (b *bench) note(s string) {
	b.notes = append(b.notes, s)
}

func (b *bench) add(r row) {
	b.rows = append(b.rows, r)
	ratio := "—"
	if !math.IsNaN(r.ratio) {
		ratio = fmt.Sprintf("%.2f×", r.ratio)
	}
	fmt.Fprintf(os.Stderr, "   %s [%s]: strand %s, postgres %s, ratio %s (target %s: %s)\n",
		r.workload, r.clients, r.strand, r.postgres, ratio, r.target, r.met)
}

func (b *bench) report() string {
	var sb strings.Builder
	host, _ := os.Hostname()
	fmt.Fprintf(&sb, "## Results (%s, %s)\n\n", time.Now().UTC().Format("2006-01-02 15:04 MST"), host)
	sb.WriteString("| workload | clients | Strand | PostgreSQL | ratio | target | met? |\n")
	sb.WriteString("| --- | --- | --- | --- | --- | --- | --- |\n")
	for _, r := range b.rows {
		ratio := "—"
		if !math.IsNaN(r.ratio) {
			ratio = fmt.Sprintf("%.2f×", r.ratio)
		}
		fmt.Fprintf(&sb, "| %s | %s | %s | %s | %s | %s | %s |\n", r.workload, r.clients, r.strand, r.postgres, ratio, r.target, r.met)
	}
	sb.WriteString("\n### Every run\n\n")
	for _, r := range b.rows {
		if r.samples != "" {
			fmt.Fprintf(&sb, "- %s [%s]: %s\n", r.workload, r.clients, r.samples)
		}
	}
	if len(b.notes) > 0 {
		sb.WriteString("\n### Notes\n\n")
		for _, n := range b.notes {
			fmt.Fprintf(&sb, "- %s\n", n)
		}
	}
	return sb.String()
}

// met reports whether ratio reaches target (at least, or at most when
// atMost).
func met(ratio, target float64, atMost bool) string {
	if math.IsNaN(ratio) {
		return "—"
	}
	if (!atMost && ratio >= target) || (atMost && ratio <= target) {
		return "yes"
	}
	return "no"
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

// loadAvg is the 1-minute load average from /proc/loadavg ("?" where there
// is none).
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if f := strings.Fields(string(b)); err == nil && len(f) > 0 {
		return f[0]
	}
	return "?"
}
