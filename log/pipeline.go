package log

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"

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
// The sequencing goroutine holds its batch while an earlier batch of its
// own waits for the WAL fsync (groupCommit): intents that arrive meanwhile
// are checked and written into the held batch at once, and the batch is
// applied when that fsync is done. A batch applied during an fsync would
// wait for the next one anyway, so this costs no latency beyond the apply
// itself, and every fsync then carries one batch with everything that
// arrived during the previous one, instead of several small batches that
// each cost a Pebble commit, a snapshot, a publish and a wakeup of the sync
// goroutine. With one client nothing is in flight when its intent arrives,
// and it is applied at once.
//
// At most MaxInFlight batches wait for their fsync; when the disk is slower
// than the CPU the sequencing goroutine blocks and intents accumulate into
// larger groups, which is what lifts throughput to the CPU's limit.

type pendingBatch struct {
	batch *pebble.Batch // nil when the group wrote nothing
	snap  *pebble.Snapshot
	// durable: an ingested bulk chunk (bulk.go), already durable, with no
	// batch to wait for; snap holds it.
	durable bool
	cat     *Catalog
	lsn     uint64
	intents []*Intent
	// gc, when set, is told when the batch's fsync is done: it holds the
	// next batch until then.
	gc *groupCommit
}

func (l *Log) sequenceLoop() {
	defer close(l.toSync)
	if f := l.seq.filter; f != nil {
		defer f.closeDurable()
	}
	g := &groupCommit{l: l, wake: make(chan struct{}, 1)}
	group := make([]*Intent, 0, l.opts.MaxGroup)
	for {
		group = group[:0]
		select {
		case in := <-l.intents:
			group = append(group, in)
		case <-g.wake:
			// An fsync is done: what is queued joins the held batch
			// below, and the batch is applied.
		case <-l.stop:
			// No new intents can arrive (Commit checks closing first):
			// commit what is queued, then stop.
			select {
			case in := <-l.intents:
				group = append(group, in)
			default:
				if err := g.apply(); err != nil {
					l.fail(err)
					g.fail(l.broken())
				}
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
		if len(group) > 0 {
			if err := l.sequenceGroup(g, group); err != nil {
				l.failPending(l.broken())
				return
			}
		}
		if g.mustApply() {
			if err := g.apply(); err != nil {
				l.fail(err)
				g.fail(l.broken())
				l.failPending(l.broken())
				return
			}
		}
	}
}

// sequenceGroup commits a group in order: runs of ordinary intents join
// the held batch (g); a bulk intent is committed on its own (bulk.go),
// after the held batch, since it reads Pebble directly.
func (l *Log) sequenceGroup(g *groupCommit, group []*Intent) error {
	for len(group) > 0 {
		n := 0
		for n < len(group) && group[n].Bulk == nil {
			n++
		}
		var err error
		if n > 0 {
			// On error too, the run is held by g, which fails it below.
			err = g.add(group[:n])
		} else if err = g.apply(); err == nil {
			if err = l.sequenceBulk(group[0]); err == nil {
				n = 1
			}
		}
		if err != nil {
			// The log stops taking writes. Intents already handed to the
			// sync goroutine get their verdict there; the held ones and
			// the rest of the group fail here.
			l.fail(err)
			g.fail(l.broken())
			for _, in := range group[n:] {
				in.err = l.broken()
				close(in.done)
			}
			return err
		}
		group = group[n:]
	}
	return nil
}

// groupCommit is the sequencing goroutine's held batch (see the comment at
// the top of this file): intents are sequenced into it as they arrive, and
// it is applied when no earlier batch of it waits for its fsync.
type groupCommit struct {
	l       *Log
	b       *pebble.Batch // nil: nothing held
	wrote   bool
	intents []*Intent
	// it is the sequencer's head iterator over b (sequencer.iter), open
	// while b is held.
	it *pebble.Iterator
	// sortScratch is sorted's record list, reused.
	sortScratch []sortedRec
	// applied counts the batches handed to the sync goroutine with an
	// fsync to wait for; synced (advanced by the sync goroutine) those
	// whose fsync is done. waiting is set while a batch is held for an
	// fsync: only then does an advance send on wake, so that with one
	// client the sequencing goroutine is not woken for nothing after
	// every fsync.
	applied uint64
	synced  atomic.Uint64
	waiting atomic.Bool
	wake    chan struct{}
}

// inFlight reports whether a batch applied by g still waits for its fsync.
func (g *groupCommit) inFlight() bool { return g.applied != g.synced.Load() }

// mustApply reports whether the held batch, if any, is to be applied now:
// no earlier batch waits for its fsync, or the batch is full. Otherwise it
// marks the batch as waiting, so that the fsync's end wakes the loop.
func (g *groupCommit) mustApply() bool {
	if len(g.intents) == 0 {
		return false
	}
	if len(g.intents) >= g.l.opts.MaxGroup || !g.inFlight() {
		g.waiting.Store(false)
		return true
	}
	g.waiting.Store(true)
	// The fsync may have ended between the check above and the store
	// (fsynced then saw waiting unset and sent nothing): check again.
	if !g.inFlight() {
		g.waiting.Store(false)
		return true
	}
	return false
}

// add sequences a run of ordinary intents into the held batch. The run is
// held from then on, even when add fails.
func (g *groupCommit) add(run []*Intent) error {
	g.intents = append(g.intents, run...)
	if err := g.l.broken(); err != nil {
		return err
	}
	if g.b == nil {
		g.b = g.l.db.NewIndexedBatch()
		it, err := g.b.NewIter(&headIterOptions)
		if err != nil {
			return fmt.Errorf("open head iterator: %w", err)
		}
		g.it = it
	}
	g.l.seq.iter = g.it
	wrote, err := g.l.seq.sequence(g.b, run)
	g.l.seq.iter = nil
	if err != nil {
		return fmt.Errorf("sequence group of %d intents: %w", len(run), err)
	}
	g.wrote = g.wrote || wrote
	return nil
}

// apply applies the held batch, if any, and hands it with its intents to
// the sync goroutine. On error the intents stay held.
func (g *groupCommit) apply() error {
	if len(g.intents) == 0 {
		return nil
	}
	l := g.l
	if err := g.closeIter(); err != nil {
		return err
	}
	p := &pendingBatch{cat: l.seq.cat, lsn: l.seq.lastLSN, intents: g.intents}
	if g.wrote {
		if sb := g.sorted(); sb != nil {
			g.b.Close()
			g.b = sb
		}
		if err := l.db.ApplyNoSyncWait(g.b, pebble.Sync); err != nil {
			return fmt.Errorf("apply batch: %w", err)
		}
		p.batch, p.snap, p.gc = g.b, l.db.NewSnapshot(), g
		g.applied++
		if f := l.seq.filter; f != nil {
			f.applied()
		}
		l.metrics.batchIntents.Observe(float64(len(g.intents)))
	} else if g.b != nil {
		g.b.Close()
	}
	g.b, g.wrote, g.intents = nil, false, nil
	l.toSync <- p
	return nil
}

// sortedRec is one record of a batch, for sorted and ingestBatch.
type sortedRec struct {
	kind       pebble.InternalKeyKind
	key, value []byte
	// ord is the record's position in the batch: records with equal keys,
	// and all events, keep their order.
	ord int
}

// batchRecords appends b's records to dst in batch order. It reports
// false when one is neither a set nor a delete of a key (a range
// deletion, whose effect on the records around it depends on their
// order). The records point into b.
func batchRecords(b *pebble.Batch, dst []sortedRec) ([]sortedRec, bool, error) {
	rd := b.Reader()
	for ord := 0; ; ord++ {
		kind, k, v, ok, err := rd.Next()
		if err != nil {
			return dst, false, fmt.Errorf("read batch: %w", err)
		}
		if !ok {
			return dst, true, nil
		}
		if (kind != pebble.InternalKeyKindSet && kind != pebble.InternalKeyKindDelete) || len(k) == 0 {
			return dst, false, nil
		}
		dst = append(dst, sortedRec{kind: kind, key: k, value: v, ord: ord})
	}
}

// sorted returns a copy of the held batch with its records in key order,
// or nil when it cannot (the batch holds a range deletion, whose effect
// on the records around it depends on their order) or need not.
//
// Pebble inserts a batch into the memtable record by record in batch
// order, each insert a descent of the memtable's skiplist, and an
// inserter reuses the previous descent only when the next key lies near
// it. The sequencer writes each intent's event and head (and a version
// entry when it supersedes a version), so a batch alternates between
// namespaces and random keys, and every
// insert descends from the top. In key order the inserts share their
// upper levels. The insert runs while the previous batch's acks and the
// WAL write of this one wait for the CPU, so it is on the commit path.
//
// Events (nsEvent) keep their batch order, which is LSN order: the router
// hands them to subscribers in that order. Of records with equal keys only
// the batch's last is kept: no reader sees the batch half applied, so the
// earlier ones would be memtable inserts and WAL bytes nobody reads (the
// last LSN, written once per sequenced run, is the commonest; a hot
// group's state is another).
func (g *groupCommit) sorted() *pebble.Batch {
	if g.b.Count() < 8 {
		return nil
	}
	recs, ok, err := batchRecords(g.b, g.sortScratch[:0])
	// The records point into the batch: drop them when done.
	defer func() { clear(recs); g.sortScratch = recs[:0] }()
	if err != nil || !ok {
		return nil
	}
	slices.SortFunc(recs, func(a, b sortedRec) int {
		if a.key[0] != b.key[0] {
			return int(a.key[0]) - int(b.key[0])
		}
		if a.key[0] != nsEvent {
			if c := bytes.Compare(a.key, b.key); c != 0 {
				return c
			}
		}
		return a.ord - b.ord
	})
	sb := g.l.db.NewBatchWithSize(len(g.b.Repr()))
	for i := range recs {
		r := &recs[i]
		if i+1 < len(recs) && bytes.Equal(r.key, recs[i+1].key) {
			continue
		}
		var err error
		if r.kind == pebble.InternalKeyKindSet {
			err = sb.Set(r.key, r.value, nil)
		} else {
			err = sb.Delete(r.key, nil)
		}
		if err != nil {
			sb.Close()
			return nil
		}
	}
	return sb
}

// closeIter closes the head iterator, if open.
func (g *groupCommit) closeIter() error {
	if g.it == nil {
		return nil
	}
	err := g.it.Close()
	g.it = nil
	if err != nil {
		return fmt.Errorf("close head iterator: %w", err)
	}
	return nil
}

// fail ends the held intents with err and drops the held batch.
func (g *groupCommit) fail(err error) {
	g.closeIter()
	if g.b != nil {
		g.b.Close()
	}
	for _, in := range g.intents {
		in.err = err
		close(in.done)
	}
	g.b, g.wrote, g.intents = nil, false, nil
}

// fsynced is the sync goroutine's word that one of g's batches is synced.
func (g *groupCommit) fsynced() {
	g.synced.Add(1)
	if !g.waiting.Load() {
		return
	}
	select {
	case g.wake <- struct{}{}:
	default:
	}
}

// sequenceRun commits a run of ordinary intents as one batch.
func (l *Log) sequenceRun(group []*Intent) error {
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

// durable hands the commit hook the notes of a published batch's
// committed intents (DurableHook).
func (l *Log) durable(p *pendingBatch, snap *Snapshot) {
	dh, ok := l.opts.Hook.(DurableHook)
	if !ok {
		return
	}
	var notes []any
	for _, in := range p.intents {
		if in.err == nil && in.hookNote != nil {
			notes = append(notes, in.hookNote)
		}
	}
	if len(notes) > 0 {
		dh.Durable(snap, notes)
	}
}

func (l *Log) syncLoop() {
	defer close(l.syncDone)
	for p := range l.toSync {
		if p.durable {
			l.durable(p, l.publish(p.snap, p.cat, p.lsn))
			l.router.enqueueGap(p.cat, p.lsn)
		} else if p.batch != nil {
			err := p.batch.SyncWait()
			if p.gc != nil {
				// Before the publish and the acks: the held batch can
				// be applied (and its fsync start) meanwhile.
				p.gc.fsynced()
			}
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
			l.durable(p, l.publish(p.snap, p.cat, p.lsn))
			// The router reads the durable batch's events for live
			// subscriptions and closes it; this only queues it.
			l.router.enqueue(p.batch, p.cat, p.lsn)
		}
		var appended, conflicts int
		for _, in := range p.intents {
			if in.err == nil {
				appended += in.result.Rows
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
		if p.batch != nil || p.durable {
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
	if in.HookTask == nil {
		l.submitted.Add(1)
	}
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
	default:
		// The queue is full: wait, bounded by ctx. (Only this path asks
		// for ctx.Done, which allocates the channel of a fresh context.)
		select {
		case l.intents <- in:
			l.closing.RUnlock()
		case <-ctx.Done():
			l.closing.RUnlock()
			return nil, ctx.Err()
		}
	}
	<-in.done
	if in.err != nil {
		return nil, in.err
	}
	return &in.result, nil
}

// ErrClosed is returned for intents submitted to a closed log.
var ErrClosed = errors.New("log is closed")
