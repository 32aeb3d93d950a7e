package log

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/cockroachdb/pebble/v2"
)

// The commit pipeline: how intents become durable, visible and acknowledged.
//
// Sessions hand intents to the sequencing goroutine through a channel. It
// takes every intent that is waiting (up to MaxGroup), lets the sequencer
// check and apply them to a fresh indexed batch, and applies the batch to
// Pebble with ApplyNoSyncWait: the batch is in the WAL buffer and the
// memtable, but not yet fsynced. Because the sequencing goroutine is the only
// writer, it then takes a Pebble snapshot that holds exactly the state this
// batch leaves, and passes batch, snapshot and intents to the sync goroutine.
// It immediately goes on with the next group, which reads the heads the
// previous (unsynced) batches left through Pebble, so checks and view deltas
// of batch N+1 are computed while batch N is being synced: the fsync never
// idles the CPU, nor the CPU the disk.
//
// The sync goroutine takes batches in order, waits for each one's WAL fsync
// (Pebble's WAL writer covers every record written before a sync with that
// one sync, so batches that pile up during an fsync share the next one: group
// commit), then publishes the batch's snapshot as the state readers see and
// acknowledges its intents. Pebble makes a batch visible before its fsync;
// readers never look at Pebble directly but at the published snapshot, so a
// write is visible only once it is durable, and the ack comes after that:
// read-your-writes holds by construction and nothing a reader saw can vanish
// in a crash. Failed intents are acknowledged in the same order, after the
// batch that saw them fail, since their verdict depends on writes that
// become durable only then.
//
// At most MaxInFlight batches wait for their fsync; when the disk is slower
// than the CPU the sequencing goroutine blocks and intents accumulate into
// larger groups, which is what lifts throughput to the CPU's limit.

type pendingBatch struct {
	batch   *pebble.Batch // nil when the group wrote nothing
	snap    *pebble.Snapshot
	cat     *Catalog
	lsn     uint64
	intents []*Intent
}

func (l *Log) sequenceLoop() {
	defer close(l.toSync)
	group := make([]*Intent, 0, l.opts.MaxGroup)
	for {
		group = group[:0]
		select {
		case in := <-l.intents:
			group = append(group, in)
		case <-l.stop:
			// No new intents can arrive (Commit checks closing first):
			// commit what is queued, then stop.
			select {
			case in := <-l.intents:
				group = append(group, in)
			default:
				return
			}
		}
	drain:
		for len(group) < l.opts.MaxGroup {
			select {
			case in := <-l.intents:
				group = append(group, in)
			default:
				break drain
			}
		}
		if err := l.sequenceGroup(group); err != nil {
			l.fail(err)
			for _, in := range group {
				in.err = l.broken()
				close(in.done)
			}
			l.failPending(l.broken())
			return
		}
	}
}

func (l *Log) sequenceGroup(group []*Intent) error {
	if err := l.broken(); err != nil {
		return err
	}
	b := l.db.NewIndexedBatch()
	wrote, err := l.seq.sequence(b, group)
	if err != nil {
		b.Close()
		return fmt.Errorf("sequence group of %d intents: %w", len(group), err)
	}
	p := &pendingBatch{cat: l.seq.cat, lsn: l.seq.lastLSN, intents: append([]*Intent(nil), group...)}
	if wrote {
		if err := l.db.ApplyNoSyncWait(b, pebble.Sync); err != nil {
			b.Close()
			return fmt.Errorf("apply batch: %w", err)
		}
		p.batch = b
		p.snap = l.db.NewSnapshot()
		l.metrics.batchIntents.Observe(float64(len(group)))
	} else {
		b.Close()
	}
	l.toSync <- p
	return nil
}

func (l *Log) syncLoop() {
	defer close(l.syncDone)
	for p := range l.toSync {
		if p.batch != nil {
			err := p.batch.SyncWait()
			if err != nil {
				p.batch.Close()
				l.fail(fmt.Errorf("sync wal: %w", err))
				p.snap.Close()
				for _, in := range p.intents {
					in.err = l.broken()
					close(in.done)
				}
				continue
			}
			l.publish(p.snap, p.cat, p.lsn)
			// The router reads the durable batch's events for live
			// subscriptions and closes it; this only queues it.
			l.router.enqueue(p.batch, p.cat, p.lsn)
		}
		var appended, conflicts int
		for _, in := range p.intents {
			if in.err == nil {
				for _, ev := range in.result.Events {
					if !ev.Skipped {
						appended++
					}
				}
			} else {
				var ce *ConflictError
				if errors.As(in.err, &ce) {
					conflicts++
				}
			}
			close(in.done)
		}
		l.metrics.appends.Add(float64(appended))
		l.metrics.intents.Add(float64(len(p.intents)))
		l.metrics.conflicts.Add(float64(conflicts))
		if p.batch != nil {
			l.metrics.batches.Inc()
		}
	}
}

// failPending fails every intent still queued.
func (l *Log) failPending(err error) {
	for {
		select {
		case in := <-l.intents:
			in.err = err
			close(in.done)
		default:
			return
		}
	}
}

func (l *Log) fail(err error) {
	l.failure.Lock()
	defer l.failure.Unlock()
	if l.failure.err == nil {
		l.failure.err = err
		l.opts.Logger.Error("log failed; refusing further writes", slog.Any("err", err))
	}
}

// broken returns the error that stopped the log, if any.
func (l *Log) broken() error {
	l.failure.Lock()
	defer l.failure.Unlock()
	if l.failure.err != nil {
		return fmt.Errorf("log is unavailable after an earlier failure: %w", l.failure.err)
	}
	return nil
}

// Commit submits an intent and waits until it is durable and visible, or
// failed. Once submitted, an intent is carried through even if ctx ends, so
// that the caller learns its outcome; ctx only bounds the wait to submit.
func (l *Log) Commit(ctx context.Context, in *Intent) (*Result, error) {
	in.done = make(chan struct{})
	in.err = nil
	in.result = Result{}
	l.closing.RLock()
	if l.closing.closed {
		l.closing.RUnlock()
		return nil, ErrClosed
	}
	select {
	case l.intents <- in:
		l.closing.RUnlock()
	case <-ctx.Done():
		l.closing.RUnlock()
		return nil, ctx.Err()
	}
	<-in.done
	if in.err != nil {
		return nil, in.err
	}
	return &in.result, nil
}

// ErrClosed is returned for intents submitted to a closed log.
var ErrClosed = errors.New("log is closed")
