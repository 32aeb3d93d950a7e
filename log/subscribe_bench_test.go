package log

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// BenchmarkSubscribeRouting measures what a subscription costs the log
// with 1,000,000 distinct keys ("p00/0000000" … "p99/…", each two-digit
// prefix 1% of them), for a subscription matching 1% of the keys (key
// prefix "p00/"), one matching all of them, and none at all.
//
//	go test ./log -run '^$' -bench SubscribeRouting -benchtime 5x
//
// live: the router reads 100 durable batches of 10,000 events each (rebuilt
// from the stored events), routes them through its index, and the
// subscriber takes its events with Next; ns/op is the whole 1,000,000
// events. catchup: a new subscription from position 0 reads its events from
// the snapshot (the key index for 1%, the event log for 100%).
func BenchmarkSubscribeRouting(b *testing.B) {
	const keys, perIntent = 1_000_000, 10_000
	l, err := Open(Options{Dir: b.TempDir(), Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	tab := createTable(b, l, "keys", Keyed)
	row := make([]byte, 32)
	for first := 0; first < keys; first += perIntent {
		in := &Intent{}
		for k := first; k < first+perIntent; k++ {
			in.Writes = append(in.Writes, Write{Table: tab, Key: fmt.Appendf(nil, "p%02d/%07d", k%100, k), Row: row})
		}
		if _, err := l.Commit(context.Background(), in); err != nil {
			b.Fatal(err)
		}
	}
	// Let the setup's flushes and compactions finish: on a small machine
	// they would otherwise share the CPU with what is measured.
	if err := l.db.Flush(); err != nil {
		b.Fatal(err)
	}
	for l.db.Metrics().Compact.NumInProgress > 0 {
		time.Sleep(50 * time.Millisecond)
	}
	// The batches as the sync goroutine hands them to the router (events
	// only: the router skips every other record by its first byte).
	var batches []*pebble.Batch
	snap := l.Snapshot()
	var cur *pebble.Batch
	var buf []byte
	err = snap.Tail([]TableID{tab}, 0, func(e *Event) error {
		if cur == nil || cur.Count() == perIntent {
			cur = l.db.NewBatch()
			batches = append(batches, cur)
		}
		buf = encodeRecord(buf, e)
		return cur.Set(eventKey(nil, e.Table, e.LSN), buf, nil)
	})
	snap.Release()
	if err != nil {
		b.Fatal(err)
	}
	defer func() {
		for _, pb := range batches {
			pb.Close()
		}
	}()
	cases := []struct {
		name   string
		prefix []byte
		want   int
	}{{"match=1%", []byte("p00/"), keys / 100}, {"match=100%", nil, keys}}

	b.Run("live/no-subscriber", func(b *testing.B) {
		cpu := startCPU()
		for range b.N {
			for _, pb := range batches {
				l.router.mu.Lock()
				err := l.router.routeBatch(pb)
				l.router.mu.Unlock()
				if err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/keys, "ns/routed-event")
		b.ReportMetric(float64(cpu.stop())/float64(b.N)/keys, "cpu-ns/routed-event")
	})
	for _, c := range cases {
		b.Run("live/"+c.name, func(b *testing.B) {
			s, err := l.Subscribe(SubscriptionSpec{TableIDs: []TableID{tab}, KeyPrefix: c.prefix, Buffer: 2 * perIntent})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			ctx := context.Background()
			b.ResetTimer()
			cpu := startCPU()
			for range b.N {
				// The stored events are older than the subscription's
				// start: rewind it so Next returns them again.
				s.mu.Lock()
				s.mu.pos, s.mu.catchTo = 0, 0
				s.mu.Unlock()
				got := 0
				for _, pb := range batches {
					l.router.mu.Lock()
					err := l.router.routeBatch(pb)
					l.router.mu.Unlock()
					if err != nil {
						b.Fatal(err)
					}
					s.mu.Lock()
					pending := len(s.mu.buf)
					s.mu.Unlock()
					for pending > 0 {
						evs, err := s.Next(ctx, pending)
						if err != nil {
							b.Fatal(err)
						}
						got += len(evs)
						pending -= len(evs)
					}
				}
				if got != c.want {
					b.Fatalf("delivered %d events, want %d", got, c.want)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/keys, "ns/routed-event")
			b.ReportMetric(float64(cpu.stop())/float64(b.N)/keys, "cpu-ns/routed-event")
			b.ReportMetric(float64(c.want), "delivered/op")
		})
	}
	// Many subscribers share the index: 100 subscriptions of 1% each
	// (disjoint prefixes) cost one trie walk per event plus their
	// deliveries, the same events in all as one subscription of 100%.
	b.Run("live/100-subscribers-of-1%", func(b *testing.B) {
		var subs []*Subscription
		for p := range 100 {
			s, err := l.Subscribe(SubscriptionSpec{TableIDs: []TableID{tab}, KeyPrefix: fmt.Appendf(nil, "p%02d/", p), Buffer: 2 * perIntent})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			subs = append(subs, s)
		}
		ctx := context.Background()
		b.ResetTimer()
		cpu := startCPU()
		for range b.N {
			for _, s := range subs {
				s.mu.Lock()
				s.mu.pos, s.mu.catchTo = 0, 0
				s.mu.Unlock()
			}
			got := 0
			for _, pb := range batches {
				l.router.mu.Lock()
				err := l.router.routeBatch(pb)
				l.router.mu.Unlock()
				if err != nil {
					b.Fatal(err)
				}
				for _, s := range subs {
					s.mu.Lock()
					pending := len(s.mu.buf)
					s.mu.Unlock()
					for pending > 0 {
						evs, err := s.Next(ctx, pending)
						if err != nil {
							b.Fatal(err)
						}
						got += len(evs)
						pending -= len(evs)
					}
				}
			}
			if got != keys {
				b.Fatalf("delivered %d events, want %d", got, keys)
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/keys, "ns/routed-event")
		b.ReportMetric(float64(cpu.stop())/float64(b.N)/keys, "cpu-ns/routed-event")
	})
	for _, c := range cases {
		b.Run("catchup/"+c.name, func(b *testing.B) {
			cpu := startCPU()
			for range b.N {
				s, err := l.Subscribe(SubscriptionSpec{TableIDs: []TableID{tab}, KeyPrefix: c.prefix})
				if err != nil {
					b.Fatal(err)
				}
				got := 0
				for got < c.want {
					evs, err := s.Next(context.Background(), 4096)
					if err != nil {
						b.Fatal(err)
					}
					got += len(evs)
				}
				s.Close()
			}
			b.ReportMetric(float64(c.want)*float64(b.N)/b.Elapsed().Seconds(), "events/s")
			b.ReportMetric(float64(cpu.stop())/float64(b.N)/1e6, "cpu-ms/op")
		})
	}
}

// BenchmarkSubscribeLatency commits 10-event intents from 16 writers paced
// at 10,000 events/s in total and measures, for a live subscriber, the
// time from each commit's acknowledgement to the delivery of its events by
// Next (0 when delivery beat the ack: both follow the same fsync, and the
// router is handed the batch before the intents are acknowledged), and
// reports p50/p99. Each op is one event.
//
//	go test ./log -run '^$' -bench SubscribeLatency -benchtime 100000x
func BenchmarkSubscribeLatency(b *testing.B) {
	const writers, perIntent, rate = 16, 10, 10_000
	l, err := Open(Options{Dir: b.TempDir(), Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	tab := createTable(b, l, "lat", Keyed)
	s, err := l.Subscribe(SubscriptionSpec{TableIDs: []TableID{tab}})
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	commits := (b.N + perIntent - 1) / perIntent
	events := commits * perIntent
	var acks sync.Map // last LSN of a commit → ack time
	var delivered []time.Duration
	done := make(chan struct{})
	go func() {
		defer close(done)
		type got struct {
			lsn uint64
			at  time.Time
		}
		var all []got
		for len(all) < events {
			evs, err := s.Next(context.Background(), 4096)
			if err != nil {
				b.Error(err)
				return
			}
			now := time.Now()
			for _, e := range evs {
				all = append(all, got{e.LSN, now})
			}
		}
		for _, g := range all {
			// An intent's events have consecutive LSNs; its ack is
			// stored under the last one.
			for {
				v, ok := acks.Load(g.lsn + uint64(perIntent-1-int((g.lsn-1)%perIntent)))
				if ok {
					delivered = append(delivered, max(0, g.at.Sub(v.(time.Time))))
					break
				}
				time.Sleep(time.Millisecond) // the writer stores its ack after Commit returns
			}
		}
	}()
	interval := time.Duration(writers*perIntent) * time.Second / rate
	b.ResetTimer()
	var wg sync.WaitGroup
	var nextCommit atomic.Int64
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			next := time.Now().Add(time.Duration(w) * interval / writers)
			for nextCommit.Add(1) <= int64(commits) {
				if d := time.Until(next); d > 0 {
					time.Sleep(d)
				}
				next = next.Add(interval)
				in := &Intent{}
				for i := range perIntent {
					in.Writes = append(in.Writes, Write{Table: tab, Key: fmt.Appendf(nil, "w%d/%d", w, i), Row: []byte("x")})
				}
				res, err := l.Commit(context.Background(), in)
				if err != nil {
					b.Error(err)
					return
				}
				acks.Store(res.LSN, time.Now())
			}
		}()
	}
	wg.Wait()
	<-done
	b.StopTimer()
	if len(delivered) != events {
		b.Fatalf("delivered %d of %d", len(delivered), events)
	}
	sort.Slice(delivered, func(i, j int) bool { return delivered[i] < delivered[j] })
	b.ReportMetric(float64(delivered[len(delivered)/2].Microseconds())/1000, "p50-ms")
	b.ReportMetric(float64(delivered[len(delivered)*99/100].Microseconds())/1000, "p99-ms")
	b.ReportMetric(float64(events)/b.Elapsed().Seconds(), "events/s")
}

// cpuClock measures the process's CPU time (user and system): on a shared
// machine wall time also counts other processes' turns.
type cpuClock struct{ start int64 }

func processCPU() int64 {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func startCPU() cpuClock { return cpuClock{processCPU()} }

// stop returns the CPU nanoseconds since start.
func (c cpuClock) stop() int64 { return processCPU() - c.start }
