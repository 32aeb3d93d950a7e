package log

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// BenchmarkAppend measures durable appends (fsync on, real disk) with 1 and
// 64 concurrent writers, each append its own intent to its own key. It
// reports appends/s, fsyncs/s and appends per fsync (the group-commit
// factor).
//
//	go test ./log -run '^$' -bench Append -benchtime 3s -count 5
func BenchmarkAppend(b *testing.B) {
	for _, writers := range []int{1, 64} {
		b.Run(fmt.Sprintf("writers=%d", writers), func(b *testing.B) {
			l, err := Open(Options{Dir: b.TempDir(), Logger: quiet})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			tab := createTable(b, l, "bench", Stream)
			row := make([]byte, 64)
			var next atomic.Int64
			before := l.Stats()
			b.ResetTimer()
			start := time.Now()
			var wg sync.WaitGroup
			for w := 0; w < writers; w++ {
				wg.Add(1)
				go func(w int) {
					defer wg.Done()
					key := binary.BigEndian.AppendUint32(nil, uint32(w))
					for next.Add(1) <= int64(b.N) {
						if _, err := l.Commit(context.Background(), &Intent{Writes: []Write{{Table: tab, Key: key, Row: row}}}); err != nil {
							b.Error(err)
							return
						}
					}
				}(w)
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			after := l.Stats()
			fsyncs := after.Fsyncs - before.Fsyncs
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "appends/s")
			b.ReportMetric(float64(fsyncs)/elapsed.Seconds(), "fsyncs/s")
			if fsyncs > 0 {
				b.ReportMetric(float64(b.N)/float64(fsyncs), "appends/fsync")
			}
		})
	}
}

// BenchmarkDistinctKeys appends b.N distinct keys to a keyed table (64
// writers, 100 keys per intent), then reads every head back, and reports
// both rates and the process's peak RSS: keys live in Pebble, not in a Go
// map, so memory stays flat as keys grow.
//
//	go test ./log -run '^$' -bench DistinctKeys -benchtime 10000000x
func BenchmarkDistinctKeys(b *testing.B) {
	l, err := Open(Options{Dir: b.TempDir(), Logger: quiet})
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	tab := createTable(b, l, "keys", Keyed)
	row := make([]byte, 32)
	const writers, perIntent = 64, 100
	var next atomic.Int64
	b.ResetTimer()
	start := time.Now()
	var wg sync.WaitGroup
	for w := 0; w < writers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				first := next.Add(perIntent) - perIntent
				if first >= int64(b.N) {
					return
				}
				in := &Intent{}
				for k := first; k < min(first+perIntent, int64(b.N)); k++ {
					in.Writes = append(in.Writes, Write{Table: tab, Key: binary.BigEndian.AppendUint64(nil, uint64(k)), Row: row, Cond: Cond{Kind: NotExists}})
				}
				if _, err := l.Commit(context.Background(), in); err != nil {
					b.Error(err)
					return
				}
			}
		}()
	}
	wg.Wait()
	appendTime := time.Since(start)
	start = time.Now()
	s := l.Snapshot()
	var key []byte
	for k := 0; k < b.N; k++ {
		key = binary.BigEndian.AppendUint64(key[:0], uint64(k))
		h, ok, err := s.Head(tab, key)
		if err != nil || !ok || h.Version != 1 {
			b.Fatalf("key %d: head %+v ok=%v err=%v", k, h, ok, err)
		}
	}
	s.Release()
	readTime := time.Since(start)
	b.StopTimer()
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	b.ReportMetric(float64(b.N)/appendTime.Seconds(), "keys-appended/s")
	b.ReportMetric(float64(b.N)/readTime.Seconds(), "heads-read/s")
	b.ReportMetric(float64(ru.Maxrss)/1024, "peak-RSS-MiB")
}
