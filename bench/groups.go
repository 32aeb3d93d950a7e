package main

import (
	"context"
	"errors"
	"fmt"
	"math"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
)

// Head-of-line isolation in a consumer group (docs/GROUPS.md), Strand only:
// three members (pgx connections running FETCH n FROM GROUP and ACK GROUP)
// consume 10,000 keys, once with every key healthy and once with one more
// key whose handler always fails (NACKed at every delivery, parked after
// max_attempts = 3 with a 10 ms backoff, then its next version fails the
// same way). Two shapes:
//
//   - drain: a backlog of 10,000 keys × holVersions events, loaded before
//     the clock starts, consumed as fast as the members go; the failing
//     key's versions come first in the log. Its retries queue behind the
//     ready keys (the ready queue is FIFO), so it fails a few times a run.
//   - live: one producer COPYs an event of each of 1,000 keys every 100 ms
//     (10,000 events/s, every key once a second; the failing key gets an
//     event in every chunk) for the run's duration while the members
//     consume. Few keys are ready at a time, so the failing key is
//     retried at its backoff's pace all along (tens of NACKs a second, each
//     a durable commit, and a parked version every few). The run ends when
//     every healthy event written is acknowledged: the rate is the offered
//     one when the members keep up, lower when they fall behind.
//
// The figure is the throughput of the healthy keys: events acknowledged
// per second of wall time (drain: until the last; live: during the run),
// and per CPU second of `strand serve` (utime+stime from /proc), which a
// busy machine disturbs much less. The runs alternate (without/with, then
// with/without, ...) so drifting load falls on both, and each pair's ratio
// is kept: the median of the pair ratios is steadier than the ratio of the
// medians.
const (
	holKeys     = 10_000
	holVersions = 20
	// holPoison is the failing key's versions in the drain shape: more
	// than it can fail through in a run.
	holPoison  = 400
	holMembers = 3
	holBatch   = 500
	// holLiveMax caps the live shape's run (-duration, if shorter).
	holLiveMax = 5 * time.Second
	// The live shape's producer: holChunk keys every holEvery.
	holChunk = 1000
	holEvery = 100 * time.Millisecond
)

type holRunResult struct {
	healthy         int64   // healthy events acknowledged
	wall, cpu       float64 // seconds of the run, server CPU seconds in it
	nacks, parked   int64   // the failing key's NACKs and parked versions
	poisonDelivered int64   // the failing key's events handed out
	fetches, acks   int64   // statements the members ran
	produced        int64   // live: healthy events written during the run
	// firstAck is when the first healthy ACK returned; maxGap the longest
	// time between two ACKs returning, and when it began (diagnostics).
	firstAck, maxGap, maxGapAt float64
}

func (b *bench) groups(ctx context.Context) error {
	if err := b.servers(ctx); err != nil {
		return err
	}
	admin, err := pgx.Connect(ctx, b.strand.DSN())
	if err != nil {
		return err
	}
	defer admin.Close(context.Background())
	ratios := func(xs []float64) string {
		parts := make([]string, len(xs))
		for i, x := range xs {
			parts[i] = fmt.Sprintf("%.2f", x)
		}
		return strings.Join(parts, ", ")
	}
	for _, live := range []bool{false, true} {
		var without, with, cpuWithout, cpuWith, pairs, cpuPairs []float64
		var nacks, parked, poisonDelivered []float64
		for i := range b.opt.runs {
			var r [2]holRunResult // [0] without, [1] with the failing key
			order := []bool{false, true}
			if i%2 == 1 {
				order = []bool{true, false}
			}
			for _, failing := range order {
				res, err := b.holRun(ctx, admin, i, failing, live)
				if err != nil {
					return err
				}
				idx := 0
				if failing {
					idx = 1
				}
				r[idx] = res
				shape := "drain"
				if live {
					shape = fmt.Sprintf("live (%d produced)", res.produced)
				}
				fmt.Fprintf(os.Stderr, "   groups %s: failing key %-5v %6d healthy events in %.2fs (%.0f/s), server CPU %.2fs (%.0f events/CPU-s); failing key: %d NACKs, %d parked, %d events handed out; %d FETCHes, %d ACKs; first ACK at %.0f ms, longest gap between ACKs %.0f ms at %.0f ms\n",
					shape, failing, res.healthy, res.wall, float64(res.healthy)/res.wall, res.cpu, float64(res.healthy)/res.cpu,
					res.nacks, res.parked, res.poisonDelivered, res.fetches, res.acks, res.firstAck*1000, res.maxGap*1000, res.maxGapAt*1000)
			}
			w0, w1 := float64(r[0].healthy)/r[0].wall, float64(r[1].healthy)/r[1].wall
			c0, c1 := float64(r[0].healthy)/r[0].cpu, float64(r[1].healthy)/r[1].cpu
			without, with, cpuWithout, cpuWith = append(without, w0), append(with, w1), append(cpuWithout, c0), append(cpuWith, c1)
			pairs, cpuPairs = append(pairs, w1/w0), append(cpuPairs, c1/c0)
			nacks, parked = append(nacks, float64(r[1].nacks)), append(parked, float64(r[1].parked))
			poisonDelivered = append(poisonDelivered, float64(r[1].poisonDelivered))
		}
		clients := fmt.Sprintf("%d members, batches of %d", holMembers, holBatch)
		work := fmt.Sprintf("groups, drain: healthy-key throughput over a backlog of %s keys × %d events, one key always NACKed vs none (ratio: median of alternating pairs)", num(holKeys), holVersions)
		if live {
			work = fmt.Sprintf("groups, live: healthy-key throughput, %s keys written at %s events/s while consumed, one key always NACKed vs none (ratio: median of alternating pairs)",
				num(holKeys), num(float64(holChunk)*float64(time.Second/holEvery)))
		}
		r := median(pairs)
		b.add(row{
			workload: work + ", wall clock",
			clients:  clients,
			strand: fmt.Sprintf("%s events/s with the failing key, %s without (failing key per run: median %s NACKs, %s parked)",
				num(median(with)), num(median(without)), num(median(nacks)), num(median(parked))),
			postgres: "—", ratio: r, target: "≥ 0.9×", met: met(r, 0.9, false),
			samples: "with " + list(with, "") + "; without " + list(without, "") + "; pair ratios " + ratios(pairs) +
				"; failing key's events handed out " + list(poisonDelivered, ""),
		})
		cr := median(cpuPairs)
		b.add(row{
			workload: work + ", per server CPU-second",
			clients:  clients,
			strand:   fmt.Sprintf("%s events/CPU-s with the failing key, %s without", num(median(cpuWith)), num(median(cpuWithout))),
			postgres: "—", ratio: cr, target: "≥ 0.9×", met: met(cr, 0.9, false),
			samples: "with " + list(cpuWith, "") + "; without " + list(cpuWithout, "") + "; pair ratios " + ratios(cpuPairs),
		})
	}
	return nil
}

// holRun runs one table and group with holMembers members and returns the
// healthy keys' figures. Drain: the backlog is loaded before the clock and
// the server's CPU count start (at the members' first FETCH, which opens
// the group); they stop when the last healthy event is acknowledged.
// Live: they run while the producer writes.
func (b *bench) holRun(ctx context.Context, admin *pgx.Conn, run int, failing, live bool) (holRunResult, error) {
	table := fmt.Sprintf("hol_d%d", run)
	if live {
		table = fmt.Sprintf("hol_l%d", run)
	}
	if failing {
		table += "f"
	} else {
		table += "h"
	}
	group := table + "_g"
	for _, q := range []string{
		fmt.Sprintf(`CREATE TABLE %s (k text, seq int) APPEND ONLY KEY (k)`, table),
		fmt.Sprintf(`CREATE CONSUMER GROUP %s WITH (max_attempts = 3, backoff = '10ms', lease = '30s') FOR SUBSCRIBE %s`, group, table),
	} {
		if _, err := admin.Exec(ctx, q); err != nil {
			return holRunResult{}, fmt.Errorf("%s: %w", q, err)
		}
	}
	keyNames := make([]string, holKeys)
	for k := range keyNames {
		keyNames[k] = fmt.Sprintf("k%05d", k)
	}
	// round is one event of every healthy key (version v).
	round := func(src [][]any, v int) [][]any {
		for _, k := range keyNames {
			src = append(src, []any{k, int32(v)})
		}
		return src
	}
	if !live {
		var src [][]any
		if failing {
			for v := 1; v <= holPoison; v++ {
				src = append(src, []any{"poison", int32(v)})
			}
		}
		for v := 1; v <= holVersions; v++ {
			src = round(src, v)
		}
		if _, err := admin.CopyFrom(ctx, pgx.Identifier{table}, []string{"k", "seq"}, pgx.CopyFromRows(src)); err != nil {
			return holRunResult{}, fmt.Errorf("load %s: %w", table, err)
		}
	}
	members := make([]*pgx.Conn, holMembers)
	for i := range members {
		c, err := pgx.Connect(ctx, b.strand.DSN())
		if err != nil {
			return holRunResult{}, err
		}
		defer c.Close(context.Background())
		members[i] = c
	}

	// The load (and the previous run's DROP TABLE) leave flushes and
	// compactions behind; they would fall on whichever run comes next.
	if err := b.settle(ctx); err != nil {
		return holRunResult{}, err
	}
	want := int64(holKeys * holVersions)
	var res holRunResult
	var healthy, nacks, poison, fetches, acks, produced atomic.Int64
	var gapMu sync.Mutex
	var lastAck float64
	var producing atomic.Bool
	producing.Store(live)
	var finishOnce sync.Once
	finished := make(chan struct{})
	pid := b.strand.cmd.Process.Pid
	cpu0, err := procCPU(pid)
	if err != nil {
		return res, err
	}
	start := time.Now()
	errs := make(chan error, holMembers+2)
	finish := func() {
		finishOnce.Do(func() {
			res.healthy = healthy.Load()
			res.wall = time.Since(start).Seconds()
			cpu1, err := procCPU(pid)
			if err != nil {
				errs <- err
			}
			res.cpu = cpu1 - cpu0
			close(finished)
		})
	}
	var wg sync.WaitGroup
	runCtx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	if live {
		producer, err := pgx.Connect(ctx, b.strand.DSN())
		if err != nil {
			return res, err
		}
		defer producer.Close(context.Background())
		wg.Add(1)
		go func() {
			defer wg.Done()
			end := start.Add(min(b.opt.duration, holLiveMax))
			var src [][]any
			at := start
			for chunk := 0; at.Before(end); chunk++ {
				time.Sleep(time.Until(at))
				at = at.Add(holEvery)
				v, first := chunk/(holKeys/holChunk)+1, chunk%(holKeys/holChunk)*holChunk
				src = src[:0]
				if failing {
					src = append(src, []any{"poison", int32(chunk + 1)})
				}
				for _, k := range keyNames[first : first+holChunk] {
					src = append(src, []any{k, int32(v)})
				}
				if _, err := producer.CopyFrom(runCtx, pgx.Identifier{table}, []string{"k", "seq"}, pgx.CopyFromRows(src)); err != nil {
					errs <- fmt.Errorf("produce %s: %w", table, err)
					finish()
					return
				}
				produced.Add(holChunk)
			}
			producing.Store(false)
			if healthy.Load() >= produced.Load() {
				finish()
			}
		}()
	}
	for _, c := range members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			fetch := fmt.Sprintf(`FETCH %d FROM GROUP %s WITH (timeout = '100ms')`, holBatch, group)
			for {
				select {
				case <-finished:
					return
				default:
				}
				ok, bad, err := holFetch(runCtx, c, fetch)
				fetches.Add(1)
				if err != nil {
					errs <- fmt.Errorf("fetch: %w", err)
					finish()
					return
				}
				if len(bad) > 0 {
					poison.Add(int64(len(bad)))
					// The handler fails on the key's first event.
					q := fmt.Sprintf(`NACK GROUP %s ('%s', 'poison', %d, 'handler failed')`, group, table, bad[0])
					if _, err := c.Exec(runCtx, q); err != nil {
						errs <- fmt.Errorf("nack: %w", err)
						finish()
						return
					}
					nacks.Add(1)
				}
				if ok.events == 0 {
					continue
				}
				if _, err := c.Exec(runCtx, holAck(group, table, ok)); err != nil {
					errs <- fmt.Errorf("ack: %w", err)
					finish()
					return
				}
				acks.Add(1)
				gapMu.Lock()
				now := time.Since(start).Seconds()
				if lastAck == 0 {
					res.firstAck = now
				} else if now-lastAck > res.maxGap {
					res.maxGap, res.maxGapAt = now-lastAck, lastAck
				}
				lastAck = now
				gapMu.Unlock()
				n := healthy.Add(int64(ok.events))
				if (!live && n >= want) || (live && !producing.Load() && n >= produced.Load()) {
					finish()
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if errors.Is(err, context.DeadlineExceeded) {
			return res, fmt.Errorf("group %s: %d of %d healthy events acknowledged in 5 minutes", group, healthy.Load(), want)
		}
		return res, fmt.Errorf("group %s: %w", group, err)
	}
	res.nacks, res.poisonDelivered = nacks.Load(), poison.Load()
	res.fetches, res.acks, res.produced = fetches.Load(), acks.Load(), produced.Load()
	if !live {
		// Nothing was lost: every healthy key is acknowledged to its last
		// version, durably.
		var behind int64
		q := fmt.Sprintf(`SELECT count(*) FROM %s_progress WHERE table_id <> 0 AND key <> 'poison' AND acked_version <> %d`, group, holVersions)
		if err := admin.QueryRow(ctx, q).Scan(&behind); err != nil {
			return res, err
		}
		if behind != 0 {
			return res, fmt.Errorf("group %s: %d healthy keys not acknowledged to version %d", group, behind, holVersions)
		}
	}
	if err := admin.QueryRow(ctx, fmt.Sprintf(`SELECT count(*) FROM %s_dead_letters`, group)).Scan(&res.parked); err != nil {
		return res, err
	}
	for _, q := range []string{fmt.Sprintf(`DROP CONSUMER GROUP %s`, group), fmt.Sprintf(`DROP TABLE %s`, table)} {
		if _, err := admin.Exec(ctx, q); err != nil {
			return res, fmt.Errorf("%s: %w", q, err)
		}
	}
	if math.IsNaN(res.cpu) || res.cpu <= 0 {
		return res, fmt.Errorf("group %s: no server CPU time measured", group)
	}
	return res, nil
}

// settle waits (up to 15 s) until `strand serve` is nearly idle: under 5% of
// a core over a quarter of a second.
func (b *bench) settle(ctx context.Context) error {
	pid := b.strand.cmd.Process.Pid
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); {
		c0, err := procCPU(pid)
		if err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
		c1, err := procCPU(pid)
		if err != nil {
			return err
		}
		if (c1-c0)/0.25 < 0.05 {
			return nil
		}
	}
	return nil
}

// holBatchAck is the healthy part of a fetched batch: each key's last
// version (ACK is cumulative per key) and the events it covers.
type holBatchAck struct {
	keys   []string
	last   map[string]int64
	events int
}

// holFetch runs one FETCH and splits it into the healthy keys' part and
// the failing key's versions.
func holFetch(ctx context.Context, c *pgx.Conn, fetch string) (ok holBatchAck, bad []int64, err error) {
	rows, err := c.Query(ctx, fetch)
	if err != nil {
		return ok, nil, err
	}
	defer rows.Close()
	ok.last = map[string]int64{}
	var pos, version int64
	var table, key, op string
	var attempt int32
	var row *string
	for rows.Next() {
		if err := rows.Scan(&pos, &table, &key, &version, &op, &attempt, &row); err != nil {
			return ok, nil, err
		}
		if key == "poison" {
			bad = append(bad, version)
			continue
		}
		if _, seen := ok.last[key]; !seen {
			ok.keys = append(ok.keys, key)
		}
		ok.last[key] = version
		ok.events++
	}
	return ok, bad, rows.Err()
}

// holAck acknowledges a batch's healthy keys in one statement.
func holAck(group, table string, ok holBatchAck) string {
	var sb strings.Builder
	fmt.Fprintf(&sb, "ACK GROUP %s ", group)
	for i, k := range ok.keys {
		if i > 0 {
			sb.WriteString(", ")
		}
		fmt.Fprintf(&sb, "('%s', '%s', %d)", table, k, ok.last[k])
	}
	return sb.String()
}
