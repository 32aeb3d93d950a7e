package main

import (
	"context"
	"fmt"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// pgbenchResult is what one pgbench run reports.
type pgbenchResult struct {
	TPS       float64
	LatencyMS float64
	Failed    int
}

var (
	tpsRe     = regexp.MustCompile(`tps = ([0-9.]+) \(without initial connection time\)`)
	latencyRe = regexp.MustCompile(`latency average = ([0-9.]+) ms`)
	failedRe  = regexp.MustCompile(`number of failed transactions: (\d+)`)
)

// pgbenchPath is the client both servers are driven with.
const pgbenchPath = "/usr/bin/pgbench"

// runPgbench runs one script for dur with the given protocol mode and number
// of clients (two pgbench threads at most: the machine has two cores, shared
// with the server under test). A client that errors aborts the run.
func runPgbench(ctx context.Context, dsn, script, mode string, clients int, dur time.Duration) (pgbenchResult, error) {
	args := []string{
		"-n", "-M", mode,
		"-c", strconv.Itoa(clients), "-j", strconv.Itoa(min(clients, 2)),
		"-T", strconv.Itoa(int(dur.Seconds())),
		"-f", script, dsn,
	}
	ctx, cancel := context.WithTimeout(ctx, dur+2*time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, pgbenchPath, args...).CombinedOutput()
	var r pgbenchResult
	text := string(out)
	if m := failedRe.FindStringSubmatch(text); m != nil {
		r.Failed, _ = strconv.Atoi(m[1])
	}
	m := tpsRe.FindStringSubmatch(text)
	if err != nil || m == nil || strings.Contains(text, "aborted") {
		return r, fmt.Errorf("pgbench %s: %v\n%s", strings.Join(args[:len(args)-1], " "), err, tail(text, 3000))
	}
	r.TPS, _ = strconv.ParseFloat(m[1], 64)
	if m := latencyRe.FindStringSubmatch(text); m != nil {
		r.LatencyMS, _ = strconv.ParseFloat(m[1], 64)
	}
	if r.Failed > 0 {
		return r, fmt.Errorf("pgbench: %d failed transactions\n%s", r.Failed, tail(text, 3000))
	}
	return r, nil
}

// psql runs psql against dsn with ON_ERROR_STOP, feeding it args (-f file,
// -c command...), and returns its output.
func psql(ctx context.Context, dsn string, timeout time.Duration, args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	all := append([]string{"-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", dsn}, args...)
	out, err := exec.CommandContext(ctx, "psql", all...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("psql %s: %v\n%s", strings.Join(args, " "), err, tail(string(out), 3000))
	}
	return string(out), nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}
