package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// subscribe measures change streams through the PostgreSQL protocol on
// loopback (Strand only: PostgreSQL has no SUBSCRIBE):
//
//   - latency: 16 writers commit 10-row INSERTs paced at 10,000 events/s in
//     total while one subscriber streams COPY (SUBSCRIBE ...) TO STDOUT;
//     each row carries its send time, and the writer records each commit's
//     acknowledgement. commit→delivery is delivery minus acknowledgement (0
//     when the change arrived before the ack, which happens: both follow
//     the same fsync); send→delivery includes the INSERT's own commit.
//   - throughput: one subscriber reading a table's history (catch-up) and
//     the changes of a COPY FROM as they commit (live), in events/s.
func (b *bench) subscribe(ctx context.Context) error {
	if err := b.servers(ctx); err != nil {
		return err
	}
	c, err := pgx.Connect(ctx, b.strand.DSN())
	if err != nil {
		return err
	}
	defer c.Close(ctx)
	for _, q := range []string{
		`DROP TABLE IF EXISTS sub_lat`, `DROP TABLE IF EXISTS sub_tp`,
		`CREATE TABLE sub_lat (w int, seq bigint, sent bigint) APPEND ONLY KEY (w)`,
		`CREATE TABLE sub_tp (k text, n int) APPEND ONLY KEY (k)`,
	} {
		if _, err := c.Exec(ctx, q); err != nil {
			return fmt.Errorf("%s: %w", q, err)
		}
	}
	var p50, p99, e2e50, e2e99, rates []float64
	var catchup, live []float64
	for range b.opt.runs {
		l, err := b.subscribeLatency(ctx)
		if err != nil {
			return err
		}
		p50, p99, e2e50, e2e99, rates = append(p50, l.p50), append(p99, l.p99), append(e2e50, l.e2e50), append(e2e99, l.e2e99), append(rates, l.rate)
		cu, lv, err := b.subscribeThroughput(ctx, c)
		if err != nil {
			return err
		}
		catchup, live = append(catchup, cu), append(live, lv)
	}
	ms := func(xs []float64) string {
		parts := make([]string, len(xs))
		for i, x := range xs {
			parts[i] = fmt.Sprintf("%.2f", x)
		}
		return strings.Join(parts, ", ")
	}
	b.add(row{
		workload: "subscribe: commit→delivery latency, live subscriber (COPY (SUBSCRIBE) over loopback)",
		clients:  fmt.Sprintf("16 writers, %s events/s", num(median(rates))),
		strand:   fmt.Sprintf("p50 %.2f ms, p99 %.2f ms (send→delivery p50 %.2f ms, p99 %.2f ms)", median(p50), median(p99), median(e2e50), median(e2e99)),
		postgres: "—", ratio: math.NaN(), target: "p99 < 10 ms", met: yesNo(median(p99) < 10),
		samples: "p50 ms " + ms(p50) + "; p99 ms " + ms(p99) + "; send→delivery p99 ms " + ms(e2e99),
	})
	b.add(row{
		workload: "subscribe: delivery throughput to one subscriber (catch-up from the beginning / live behind a COPY FROM)",
		clients:  "1",
		strand:   fmt.Sprintf("catch-up %s events/s, live %s events/s", num(median(catchup)), num(median(live))),
		postgres: "—", ratio: math.NaN(), target: "—", met: "—",
		samples: "catch-up " + list(catchup, "") + "; live " + list(live, ""),
	})
	return nil
}

func yesNo(ok bool) string {
	if ok {
		return "yes"
	}
	return "no"
}

type latencyResult struct{ p50, p99, e2e50, e2e99, rate float64 }

// lineStream splits a COPY stream into lines and hands each to fn.
type lineStream struct {
	buf []byte
	fn  func(line []byte)
}

func (w *lineStream) Write(p []byte) (int, error) {
	w.buf = append(w.buf, p...)
	for {
		i := bytes.IndexByte(w.buf, '\n')
		if i < 0 {
			break
		}
		w.fn(w.buf[:i])
		w.buf = w.buf[i+1:]
	}
	return len(p), nil
}

func (b *bench) subscribeLatency(ctx context.Context) (latencyResult, error) {
	const writers, perInsert, rate = 16, 10, 10_000
	sub, err := pgx.Connect(ctx, b.strand.DSN())
	if err != nil {
		return latencyResult{}, err
	}
	defer sub.Close(context.Background())
	var mu sync.Mutex
	acks := map[int64]time.Time{}      // seq → ack time
	delivered := map[int64]time.Time{} // seq → delivery time
	var e2e []time.Duration
	subCtx, cancel := context.WithCancel(ctx)
	defer cancel()
	started := make(chan struct{}, 1)
	stream := &lineStream{fn: func(line []byte) {
		now := time.Now()
		f := bytes.Split(line, []byte{'\t'})
		if len(f) < 8 {
			return
		}
		seq, _ := strconv.ParseInt(string(f[6]), 10, 64)
		sent, _ := strconv.ParseInt(string(f[7]), 10, 64)
		mu.Lock()
		delivered[seq] = now
		e2e = append(e2e, now.Sub(time.Unix(0, sent)))
		mu.Unlock()
	}}
	done := make(chan error, 1)
	go func() {
		started <- struct{}{}
		_, err := sub.PgConn().CopyTo(subCtx, stream, `COPY (SUBSCRIBE sub_lat WITH (start = 'now')) TO STDOUT`)
		done <- err
	}()
	<-started
	time.Sleep(200 * time.Millisecond) // let the subscription register
	interval := time.Duration(writers*perInsert) * time.Second / rate
	deadline := time.Now().Add(b.opt.duration)
	var wg sync.WaitGroup
	var werr error
	var seqs sync.Mutex
	next := int64(0)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c, err := pgx.Connect(ctx, b.strand.DSN())
			if err != nil {
				werr = err
				return
			}
			defer c.Close(context.Background())
			at := time.Now().Add(time.Duration(w) * interval / writers)
			for time.Now().Before(deadline) {
				if d := time.Until(at); d > 0 {
					time.Sleep(d)
				}
				at = at.Add(interval)
				seqs.Lock()
				first := next
				next += perInsert
				seqs.Unlock()
				var sb strings.Builder
				sb.WriteString("INSERT INTO sub_lat VALUES ")
				sent := time.Now().UnixNano()
				for i := range int64(perInsert) {
					if i > 0 {
						sb.WriteString(", ")
					}
					fmt.Fprintf(&sb, "(%d, %d, %d)", w, first+i, sent)
				}
				if _, err := c.Exec(ctx, sb.String()); err != nil {
					werr = err
					return
				}
				ack := time.Now()
				mu.Lock()
				for i := range int64(perInsert) {
					acks[first+i] = ack
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	elapsed := b.opt.duration
	if werr != nil {
		return latencyResult{}, werr
	}
	// Wait for the last deliveries, then stop the stream.
	for wait := time.Now().Add(10 * time.Second); time.Now().Before(wait); time.Sleep(10 * time.Millisecond) {
		mu.Lock()
		n := len(delivered)
		mu.Unlock()
		if n >= len(acks) {
			break
		}
	}
	sub.PgConn().CancelRequest(context.Background())
	cancel()
	<-done
	mu.Lock()
	defer mu.Unlock()
	if len(delivered) < len(acks) {
		return latencyResult{}, fmt.Errorf("subscriber got %d of %d changes", len(delivered), len(acks))
	}
	var lat []time.Duration
	for seq, ack := range acks {
		lat = append(lat, max(0, delivered[seq].Sub(ack)))
	}
	slices.Sort(lat)
	slices.Sort(e2e)
	q := func(xs []time.Duration, p float64) float64 {
		return float64(xs[int(float64(len(xs)-1)*p)].Microseconds()) / 1000
	}
	r := latencyResult{p50: q(lat, 0.5), p99: q(lat, 0.99), e2e50: q(e2e, 0.5), e2e99: q(e2e, 0.99),
		rate: float64(len(acks)) / elapsed.Seconds()}
	fmt.Fprintf(os.Stderr, "   subscribe latency: %d changes, %.0f/s, commit→delivery p50 %.2f ms p99 %.2f ms, send→delivery p50 %.2f ms p99 %.2f ms\n",
		len(acks), r.rate, r.p50, r.p99, r.e2e50, r.e2e99)
	return r, nil
}

// subscribeThroughput loads rows with COPY FROM while a subscriber started
// at 'now' streams them (live), then reads the whole table's history with a
// new subscription (catch-up).
func (b *bench) subscribeThroughput(ctx context.Context, c *pgx.Conn) (catchup, live float64, err error) {
	const rows = 300_000
	read := func(q string, n int, ready chan<- struct{}) (time.Duration, error) {
		sub, err := pgx.Connect(ctx, b.strand.DSN())
		if err != nil {
			return 0, err
		}
		defer sub.Close(context.Background())
		subCtx, cancel := context.WithCancel(ctx)
		defer cancel()
		var start time.Time
		got := 0
		finished := make(chan time.Duration, 1)
		stream := &lineStream{fn: func([]byte) {
			if got == 0 {
				start = time.Now()
			}
			got++
			if got == n {
				finished <- time.Since(start)
			}
		}}
		done := make(chan error, 1)
		go func() {
			_, err := sub.PgConn().CopyTo(subCtx, stream, q)
			done <- err
		}()
		if ready != nil {
			time.Sleep(200 * time.Millisecond)
			close(ready)
		}
		select {
		case d := <-finished:
			sub.PgConn().CancelRequest(context.Background())
			cancel()
			<-done
			return d, nil
		case err := <-done:
			return 0, fmt.Errorf("subscription ended after %d of %d changes: %v", got, n, err)
		case <-time.After(5 * time.Minute):
			return 0, fmt.Errorf("subscription got %d of %d changes in 5 minutes", got, n)
		}
	}
	ready := make(chan struct{})
	liveDone := make(chan error, 1)
	var liveTime time.Duration
	go func() {
		d, err := read(`COPY (SUBSCRIBE sub_tp WITH (start = 'now')) TO STDOUT`, rows, ready)
		liveTime = d
		liveDone <- err
	}()
	<-ready
	src := make([][]any, rows)
	for i := range src {
		src[i] = []any{fmt.Sprintf("k%d", i%1000), int32(i)}
	}
	if _, err := c.CopyFrom(ctx, pgx.Identifier{"sub_tp"}, []string{"k", "n"}, pgx.CopyFromRows(src)); err != nil {
		return 0, 0, err
	}
	if err := <-liveDone; err != nil {
		return 0, 0, err
	}
	var total int
	if err := c.QueryRow(ctx, `SELECT count(*) FROM sub_tp`).Scan(&total); err != nil {
		return 0, 0, err
	}
	d, err := read(`COPY (SUBSCRIBE sub_tp) TO STDOUT`, total, nil)
	if err != nil {
		return 0, 0, err
	}
	catchup, live = float64(total)/d.Seconds(), float64(rows)/liveTime.Seconds()
	fmt.Fprintf(os.Stderr, "   subscribe throughput: catch-up %.0f events/s (%d), live %.0f events/s\n", catchup, total, live)
	return catchup, live, nil
}
