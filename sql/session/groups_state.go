package session

import (
	"container/heap"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

// A consumer group shares a subscription's events among the sessions that
// fetch from it (its members), key by key, in the manner of SQS FIFO
// message groups and Pulsar's Key_Shared subscriptions rather than Kafka's
// partitions.
//
// One goroutine (the reader) reads the group's subscription in LSN order
// and files each event under its key. A key with events not yet
// acknowledged is pending; it is either free (in the ready queue, waiting
// for a member), leased to one member (its events handed out, a lease
// deadline running), waiting out a backoff after a failure, or blocked.
// FETCH takes keys from the ready queue in the order they became ready and
// leases each to the fetching member with all its buffered versions (up to
// the batch size): a key's next version is never handed out before the
// earlier ones are acknowledged, so its order holds across members, and
// one key's failure delays no other key, because nothing but the key itself
// waits for it. A lease ends when the member acknowledges everything it was
// given, NACKs, lets the lease deadline pass, or disconnects; the last
// three count as a failed attempt of the key's oldest unacknowledged
// version, which is redelivered (after a backoff, except on disconnect)
// until max_attempts, then parked in the dead-letter table (the key moves
// on) or left blocked (on_failure = 'block'). Members come and go without
// a rebalance: a member only ever holds the keys it has leased.
//
// Progress is durable: every ACK is written through the sequencer, as rows
// of the group's progress table ((table id, key) → the key's acknowledged
// version and failed attempts), before the statement returns. Concurrent
// ACKs share one commit (one flush at a time takes everything dirty).
// Failure bookkeeping (a NACK's attempt, a lease expiry, a park and its
// dead-letter row) is written the same way but not waited for: it rides
// with the next ACK's commit, or the ticker writes it after
// lazyFlushAfter. A failing key thus costs no commit wait of its own, and
// no ACK of another key queues behind one (flushes are serialized, so a
// NACK that waited for its own fsync would hold up every ACK behind it).
// A crash can lose that bookkeeping; the version is then handed out again
// (at most once more than max_attempts), never skipped. The same table
// holds the group's position under (0, ''): every event of the group at or
// before it is acknowledged or parked. After a restart the reader starts
// there, and for events committed before the restart it consults the
// progress rows to skip what was acknowledged; every other key's earlier
// versions are done by construction. Delivery is at least once: what was
// handed out but not acknowledged before a crash is handed out again,
// never skipped.

const (
	// optGroup marks a progress table and holds its group's definition.
	optGroup = "strand.consumer_group"
	// optDeadLetters marks a dead-letter table with its group's name.
	optDeadLetters = "strand.consumer_group_dead_letters"

	// perKeyBuffer bounds the events one key keeps in memory; the rest
	// are read from the log when the buffered ones are acknowledged.
	perKeyBuffer = 256
	// groupBuffer bounds the events a group keeps in memory; the reader
	// pauses beyond it.
	groupBuffer = 1 << 18
	// watermarkEvery spaces the computations of the group's position
	// (a pass over its pending keys).
	watermarkEvery = 200 * time.Millisecond
	// lazyFlushAfter is how long failure bookkeeping (NACKs, lease
	// expiries, redelivery counts, parks) may wait for an acknowledgement's
	// commit to carry it before the ticker writes it on its own.
	lazyFlushAfter = 100 * time.Millisecond
)

// groupDef is a group's definition, stored as JSON in its progress table's
// options.
type groupDef struct {
	Name string `json:"name"`
	// Tables are patterns ("shop.*"); TableIDs the tables named.
	Tables      []string      `json:"tables,omitempty"`
	TableIDs    []log.TableID `json:"table_ids,omitempty"`
	KeyPrefix   string        `json:"key_prefix,omitempty"`
	Start       uint64        `json:"start"`
	MaxAttempts int           `json:"max_attempts"`
	LeaseMS     int64         `json:"lease_ms"`
	BackoffMS   int64         `json:"backoff_ms"`
	OnFailure   string        `json:"on_failure"`
	DeadLetters string        `json:"dead_letters"`
}

func (d *groupDef) lease() time.Duration   { return time.Duration(d.LeaseMS) * time.Millisecond }
func (d *groupDef) backoff() time.Duration { return time.Duration(d.BackoffMS) * time.Millisecond }

// keyID names a key of a table by its text form (what FETCH shows and ACK
// names).
type keyID struct {
	table log.TableID
	key   string
}

// keyState is one pending key of a group.
type keyState struct {
	id  keyID
	key []byte // encoded
	// acked: every version up to it is acknowledged or parked.
	acked uint64
	// latest is the newest version the reader has seen.
	latest uint64
	// events holds versions acked+1... contiguously; when overflow is set
	// the versions after the last one are in the log only.
	events   []*log.Event
	overflow bool
	// attempts counts deliveries of version acked+1.
	attempts int
	holder   *member
	// delivered is the last version handed to holder; maxDelivered the
	// last handed to anyone.
	delivered, maxDelivered uint64
	// due is the lease deadline (holder set) or the end of a backoff; hidx
	// is the key's place in the timer heap (-1: none).
	due     time.Time
	hidx    int
	ready   bool
	blocked bool
	lastErr string
}

func (ks *keyState) pending() bool { return ks.latest > ks.acked }

// member is one session's membership of one group.
type member struct {
	s    *Session
	keys map[*keyState]bool
}

// progressRow is what the progress table records of one key.
type progressRow struct {
	acked    uint64
	attempts int
}

// deadLetter is an event parked after its last attempt.
type deadLetter struct {
	ev       *log.Event
	keyText  string
	attempts int
	reason   string
	at       time.Time
}

// delivery is one event handed to a member.
type delivery struct {
	ev      *log.Event
	keyText string
	attempt int
}

// group is the live state of one consumer group in this server.
type group struct {
	eng        *Engine
	def        groupDef
	progressID log.TableID
	deadID     log.TableID
	logger     *slog.Logger

	cancel context.CancelFunc
	done   chan struct{} // closed when the reader and the ticker stopped

	// flushMu lets one flush at a time write the dirty progress.
	flushMu sync.Mutex

	layouts struct {
		sync.Mutex
		byID map[log.TableID]*exec.TableLayout
		// own caches whether a table belongs to a consumer group (its
		// events are never part of one).
		own map[log.TableID]bool
	}

	mu struct {
		sync.Mutex
		closed  bool
		err     error
		keys    map[keyID]*keyState
		ready   []*keyState
		timers  keyHeap
		members map[*Session]*member
		// wake is closed when a key becomes ready.
		wake     chan struct{}
		woken    bool
		buffered int
		readPos  uint64
		// openLSN: events up to it were committed before the group opened
		// here; their keys' progress is looked up in the progress table.
		openLSN  uint64
		replayed map[keyID]uint64

		dirty   map[keyID]progressRow
		dead    []deadLetter
		gen     uint64 // bumped by every change to write
		flushed uint64 // the gen the last successful flush covered
		// dirtySince is when the oldest change not yet taken by a flush
		// was made (zero: none).
		dirtySince time.Time
		wm         uint64 // last computed position
		wmAt       time.Time
		durableWM  uint64

		delivered, acked, redelivered, parked uint64
	}
}

// openGroup loads a group from its progress table and starts its reader.
func openGroup(eng *Engine, td *log.TableDesc) (*group, error) {
	g := &group{eng: eng, progressID: td.ID, logger: eng.Logger}
	if err := json.Unmarshal([]byte(td.Options[optGroup]), &g.def); err != nil {
		return nil, pgerr.New(pgerr.DataCorrupted, "consumer group %q: bad definition: %v", td.Name, err)
	}
	snap := eng.Log.Snapshot()
	defer snap.Release()
	dead, ok := snap.Catalog().Lookup(td.Schema, g.def.DeadLetters)
	if !ok {
		return nil, pgerr.New(pgerr.UndefinedTable, "consumer group %q: its dead-letter table %q was dropped", g.def.Name, g.def.DeadLetters)
	}
	g.deadID = dead.ID
	g.layouts.byID = map[log.TableID]*exec.TableLayout{}
	g.layouts.own = map[log.TableID]bool{}
	g.mu.keys = map[keyID]*keyState{}
	g.mu.members = map[*Session]*member{}
	g.mu.wake = make(chan struct{})
	g.mu.dirty = map[keyID]progressRow{}
	g.mu.replayed = map[keyID]uint64{}
	g.mu.openLSN = snap.LSN()
	from := g.def.Start
	if row, ok, err := g.readProgress(snap, keyID{}); err != nil {
		return nil, err
	} else if ok && row.acked > from {
		from = row.acked
	}
	g.mu.readPos, g.mu.wm, g.mu.durableWM = from, from, from
	sub, err := eng.Log.Subscribe(log.SubscriptionSpec{Tables: g.def.Tables, TableIDs: g.def.TableIDs, From: from, Match: g.match})
	if err != nil {
		code := pgerr.InvalidParameterValue
		var ce *log.CatalogError
		if errors.As(err, &ce) {
			code = pgerr.Code(ce.Code) // a table the group reads was dropped
		}
		return nil, pgerr.New(code, "consumer group %q: %v", g.def.Name, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	g.cancel = cancel
	g.done = make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); g.read(ctx, sub) }()
	go func() { defer wg.Done(); g.tick(ctx) }()
	go func() { wg.Wait(); sub.Close(); close(g.done) }()
	return g, nil
}

// close stops the group's goroutines; members waiting in FETCH get an
// error.
func (g *group) isClosed() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.mu.closed
}

func (g *group) close(err error) {
	g.mu.Lock()
	if !g.mu.closed {
		g.mu.closed = true
		g.mu.err = err
		g.wakeLocked()
	}
	g.mu.Unlock()
	g.cancel()
}

// match keeps the events of consumer groups' own tables out of every
// group: a group over "public.*" must not consume its own progress.
func (g *group) match(t log.TableID, _ []byte) bool {
	g.layouts.Lock()
	own, ok := g.layouts.own[t]
	g.layouts.Unlock()
	if ok {
		return !own
	}
	td, found := g.eng.Log.Catalog().Table(t)
	own = found && (td.Options[optGroup] != "" || td.Options[optDeadLetters] != "")
	g.layouts.Lock()
	g.layouts.own[t] = own
	g.layouts.Unlock()
	return !own
}

// layout returns a table's row layout, refreshed from the catalog when the
// table changed (or an event uses a schema version it does not know).
func (g *group) layout(t log.TableID, schemaVersion uint32) (*exec.TableLayout, error) {
	g.layouts.Lock()
	l := g.layouts.byID[t]
	g.layouts.Unlock()
	if l != nil && (schemaVersion == 0 || l.Desc.Version(schemaVersion) != nil) {
		return l, nil
	}
	td, ok := g.eng.Log.Catalog().Table(t)
	if !ok {
		return nil, pgerr.New(pgerr.UndefinedTable, "relation with id %d was dropped", t)
	}
	l = exec.NewTableLayout(td)
	g.layouts.Lock()
	g.layouts.byID[t] = l
	g.layouts.Unlock()
	return l, nil
}

// read files the subscription's events under their keys.
func (g *group) read(ctx context.Context, sub *log.Subscription) {
	for {
		g.mu.Lock()
		full := g.mu.buffered >= groupBuffer
		g.mu.Unlock()
		if full {
			select {
			case <-ctx.Done():
				return
			case <-time.After(5 * time.Millisecond):
			}
			continue
		}
		evs, err := sub.Next(ctx, 1024)
		if err != nil {
			switch {
			case ctx.Err() != nil:
			case errors.Is(err, log.ErrSubscriptionClosed):
				g.close(pgerr.New(pgerr.AdminShutdown, "consumer group %q: the log is closing", g.def.Name))
			default:
				g.logger.Error("consumer group reader failed", slog.String("group", g.def.Name), slog.Any("err", err))
				g.close(fmt.Errorf("consumer group %q: reader failed: %w", g.def.Name, err))
			}
			return
		}
		if err := g.route(evs, sub.Position()); err != nil {
			g.logger.Error("consumer group reader failed", slog.String("group", g.def.Name), slog.Any("err", err))
			g.close(err)
			return
		}
	}
}

// route files events (in LSN order) under their keys.
func (g *group) route(evs []*log.Event, pos uint64) error {
	var snap *log.Snapshot
	defer func() {
		if snap != nil {
			snap.Release()
		}
	}()
	type item struct {
		ev  *log.Event
		id  keyID
		row progressRow
		has bool
	}
	items := make([]item, 0, len(evs))
	g.mu.Lock()
	openLSN := g.mu.openLSN
	g.mu.Unlock()
	for _, e := range evs {
		l, err := g.layout(e.Table, 0)
		if err != nil {
			continue // dropped since
		}
		keyText := l.KeyText(e.Key)
		if g.def.KeyPrefix != "" && !hasTextPrefix(keyText, g.def.KeyPrefix) {
			continue
		}
		it := item{ev: e, id: keyID{e.Table, keyText}}
		if e.LSN <= openLSN {
			// Committed before this server opened the group: the key
			// may have been acknowledged past this event already.
			g.mu.Lock()
			_, inMem := g.mu.keys[it.id]
			acked, replayed := g.mu.replayed[it.id]
			g.mu.Unlock()
			switch {
			case inMem:
			case replayed:
				it.row, it.has = progressRow{acked: acked}, true
			default:
				if snap == nil {
					snap = g.eng.Log.Snapshot()
				}
				row, ok, err := g.readProgress(snap, it.id)
				if err != nil {
					return err
				}
				it.row, it.has = row, ok
				g.mu.Lock()
				g.mu.replayed[it.id] = row.acked
				g.mu.Unlock()
			}
		}
		items = append(items, it)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, it := range items {
		e := it.ev
		ks := g.mu.keys[it.id]
		if ks == nil {
			acked := e.Version - 1
			if it.has && it.row.acked > acked {
				acked = it.row.acked
			}
			if e.Version <= acked {
				continue
			}
			ks = &keyState{id: it.id, key: e.Key, acked: acked, latest: acked, hidx: -1}
			if it.has {
				ks.attempts = it.row.attempts
				if ks.attempts >= g.def.MaxAttempts && g.def.OnFailure == "block" {
					ks.blocked = true
				}
			}
			g.mu.keys[it.id] = ks
		}
		if e.Version <= ks.latest {
			continue // already seen
		}
		ks.latest = e.Version
		if !ks.overflow && len(ks.events) < perKeyBuffer {
			ks.events = append(ks.events, e)
			g.mu.buffered++
		} else {
			ks.overflow = true
		}
		g.pushReadyLocked(ks)
	}
	if pos > g.mu.readPos {
		g.mu.readPos = pos
	}
	if g.mu.readPos > openLSN && len(g.mu.replayed) > 0 {
		g.mu.replayed = map[keyID]uint64{}
	}
	return nil
}

func hasTextPrefix(s, p string) bool { return len(s) >= len(p) && s[:len(p)] == p }

// tick expires leases and backoffs, and keeps the durable position moving.
func (g *group) tick(ctx context.Context) {
	t := time.NewTicker(10 * time.Millisecond)
	defer t.Stop()
	lastWM := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			g.mu.Lock()
			g.expireLocked(now)
			need := g.mu.gen > g.mu.flushed && !g.mu.dirtySince.IsZero() && now.Sub(g.mu.dirtySince) >= lazyFlushAfter
			if !need && now.Sub(lastWM) > time.Second {
				lastWM = now
				need = g.watermarkLocked(now) != g.mu.durableWM
				if need {
					g.mu.gen++
				}
			}
			gen := g.mu.gen
			g.mu.Unlock()
			if need {
				if err := g.flush(ctx, gen); err != nil && ctx.Err() == nil {
					g.logger.Warn("consumer group progress write failed", slog.String("group", g.def.Name), slog.Any("err", err))
				}
			}
		}
	}
}

// expireLocked ends the leases and backoffs that are due.
func (g *group) expireLocked(now time.Time) {
	for len(g.mu.timers) > 0 && !g.mu.timers[0].due.After(now) {
		ks := heap.Pop(&g.mu.timers).(*keyState)
		if ks.holder != nil {
			g.releaseLocked(ks)
			g.retryOrParkLocked(ks, "lease expired", true, now)
			continue
		}
		if !ks.pending() {
			delete(g.mu.keys, ks.id) // acknowledged during its backoff
			continue
		}
		g.pushReadyLocked(ks)
	}
}

// releaseLocked ends a key's lease.
func (g *group) releaseLocked(ks *keyState) {
	if ks.holder != nil {
		delete(ks.holder.keys, ks)
		ks.holder = nil
	}
	if ks.hidx >= 0 {
		heap.Remove(&g.mu.timers, ks.hidx)
	}
	ks.delivered = ks.acked
}

// retryOrParkLocked handles a failed attempt of the key's oldest
// unacknowledged version.
func (g *group) retryOrParkLocked(ks *keyState, reason string, backoff bool, now time.Time) {
	ks.lastErr = reason
	g.markDirtyLocked(ks)
	if ks.attempts >= g.def.MaxAttempts {
		if g.def.OnFailure == "block" {
			ks.blocked = true
			return
		}
		if err := g.bufferLocked(ks); err != nil || len(ks.events) == 0 {
			g.logger.Error("consumer group cannot read the event to park", slog.String("group", g.def.Name), slog.Any("err", err))
			ks.blocked = true
			return
		}
		e := ks.events[0]
		g.mu.dead = append(g.mu.dead, deadLetter{ev: e, keyText: ks.id.key, attempts: ks.attempts, reason: reason, at: now})
		g.mu.parked++
		g.advanceLocked(ks, e.Version)
		return
	}
	g.mu.redelivered++
	if backoff && g.def.BackoffMS > 0 {
		d := g.def.backoff()
		for i := 1; i < ks.attempts && i < 7; i++ {
			d *= 2
		}
		ks.due = now.Add(d)
		heap.Push(&g.mu.timers, ks)
		return
	}
	g.pushReadyLocked(ks)
}

// advanceLocked acknowledges a key's versions up to v (v > acked, v <=
// latest) and decides what the key does next.
func (g *group) advanceLocked(ks *keyState, v uint64) {
	n := 0
	for n < len(ks.events) && ks.events[n].Version <= v {
		n++
	}
	clear(ks.events[:n])
	ks.events = ks.events[n:]
	g.mu.buffered -= n
	ks.acked = v
	ks.lastErr = ""
	ks.blocked = false
	if ks.holder != nil && ks.acked >= ks.delivered {
		g.releaseLocked(ks)
	}
	if ks.holder != nil {
		ks.attempts = 1 // the new oldest version was delivered once, in this lease
	} else {
		ks.attempts = 0
	}
	g.markDirtyLocked(ks)
	if len(ks.events) == 0 {
		ks.events = nil
		if ks.pending() {
			if err := g.bufferLocked(ks); err != nil {
				g.logger.Error("consumer group cannot read a key's events", slog.String("group", g.def.Name), slog.Any("err", err))
			}
		}
	}
	if !ks.pending() && ks.holder == nil && ks.hidx < 0 {
		delete(g.mu.keys, ks.id)
		return
	}
	g.pushReadyLocked(ks)
}

// bufferLocked reads a key's next versions from the log when none is
// buffered (they were beyond perKeyBuffer when the reader saw them).
func (g *group) bufferLocked(ks *keyState) error {
	if len(ks.events) > 0 || !ks.pending() {
		return nil
	}
	snap := g.eng.Log.Snapshot()
	defer snap.Release()
	to := min(ks.latest, ks.acked+perKeyBuffer)
	err := snap.History(ks.id.table, ks.key, ks.acked+1, to, func(e *log.Event) error {
		c := *e
		c.Key = append([]byte(nil), e.Key...)
		c.Row = append([]byte(nil), e.Row...)
		if e.Row == nil {
			c.Row = nil
		}
		ks.events = append(ks.events, &c)
		return nil
	})
	if err != nil {
		return err
	}
	g.mu.buffered += len(ks.events)
	ks.overflow = to < ks.latest
	if len(ks.events) == 0 || ks.events[0].Version != ks.acked+1 {
		// Retention dropped versions the group had not consumed: they
		// cannot be delivered; the key resumes at what the log has.
		if len(ks.events) == 0 {
			ks.acked = ks.latest
		} else {
			ks.acked = ks.events[0].Version - 1
		}
	}
	return nil
}

func (g *group) markDirtyLocked(ks *keyState) {
	g.mu.dirty[ks.id] = progressRow{acked: ks.acked, attempts: ks.attempts}
	g.mu.gen++
	if g.mu.dirtySince.IsZero() {
		g.mu.dirtySince = time.Now()
	}
}

func (g *group) pushReadyLocked(ks *keyState) {
	if ks.ready || ks.holder != nil || ks.blocked || ks.hidx >= 0 || !ks.pending() {
		return
	}
	ks.ready = true
	g.mu.ready = append(g.mu.ready, ks)
	g.wakeLocked()
}

func (g *group) wakeLocked() {
	if !g.mu.woken {
		g.mu.woken = true
		close(g.mu.wake)
	}
}

// watermarkLocked is the group's position: every event at or before it is
// acknowledged or parked. It is recomputed at most every watermarkEvery.
func (g *group) watermarkLocked(now time.Time) uint64 {
	if now.Sub(g.mu.wmAt) < watermarkEvery {
		return g.mu.wm
	}
	wm := g.mu.readPos
	for _, ks := range g.mu.keys {
		if ks.pending() && len(ks.events) > 0 && ks.events[0].LSN-1 < wm {
			wm = ks.events[0].LSN - 1
		}
	}
	if wm < g.mu.wm {
		wm = g.mu.wm // a key's state may be gone from memory; never go back
	}
	g.mu.wm, g.mu.wmAt = wm, now
	return wm
}

// fetch leases up to max events (max <= 0: no limit) to s's membership,
// waiting up to timeout for the first.
func (g *group) fetch(ctx context.Context, s *Session, max int, timeout time.Duration) ([]delivery, error) {
	deadline := time.Now().Add(timeout)
	for {
		g.mu.Lock()
		if g.mu.closed {
			err := g.mu.err
			g.mu.Unlock()
			if err == nil {
				err = pgerr.New(pgerr.UndefinedObject, "consumer group %q was dropped", g.def.Name)
			}
			return nil, err
		}
		m := g.mu.members[s]
		if m == nil {
			m = &member{s: s, keys: map[*keyState]bool{}}
			g.mu.members[s] = m
		}
		now := time.Now()
		g.expireLocked(now)
		out := g.takeLocked(m, max, now)
		if len(out) > 0 || !now.Before(deadline) {
			g.mu.Unlock()
			return out, nil
		}
		if g.mu.woken {
			g.mu.wake = make(chan struct{})
			g.mu.woken = false
		}
		wake := g.mu.wake
		g.mu.Unlock()
		t := time.NewTimer(time.Until(deadline))
		select {
		case <-wake:
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, context.Cause(ctx)
		}
		t.Stop()
	}
}

func (g *group) takeLocked(m *member, max int, now time.Time) []delivery {
	var out []delivery
	for (max <= 0 || len(out) < max) && len(g.mu.ready) > 0 {
		ks := g.mu.ready[0]
		g.mu.ready[0] = nil
		g.mu.ready = g.mu.ready[1:]
		ks.ready = false
		if ks.holder != nil || ks.blocked || ks.hidx >= 0 || !ks.pending() {
			continue
		}
		if err := g.bufferLocked(ks); err != nil {
			g.logger.Error("consumer group cannot read a key's events", slog.String("group", g.def.Name), slog.Any("err", err))
			continue
		}
		if len(ks.events) == 0 {
			continue
		}
		ks.attempts++
		if ks.attempts > 1 {
			g.markDirtyLocked(ks)
		}
		ks.holder = m
		m.keys[ks] = true
		n := len(ks.events)
		if max > 0 && n > max-len(out) {
			n = max - len(out)
		}
		for _, e := range ks.events[:n] {
			out = append(out, delivery{ev: e, keyText: ks.id.key, attempt: ks.attempts})
		}
		ks.delivered = ks.events[n-1].Version
		ks.maxDelivered = max64(ks.maxDelivered, ks.delivered)
		ks.due = now.Add(g.def.lease())
		heap.Push(&g.mu.timers, ks)
		g.mu.delivered += uint64(n)
	}
	if len(g.mu.ready) == 0 {
		g.mu.ready = nil
	}
	return out
}

func max64(a, b uint64) uint64 {
	if a > b {
		return a
	}
	return b
}

// ack acknowledges (or, with nack, fails) keys' versions for s. Items that
// no longer apply (already acknowledged, or the key was redelivered to
// someone else after this member's lease ended) are ignored: delivery is at
// least once. It returns when the progress is durable.
func (g *group) ack(ctx context.Context, s *Session, items []resolvedAck, nack bool) (int, error) {
	g.mu.Lock()
	if g.mu.closed {
		g.mu.Unlock()
		return 0, pgerr.New(pgerr.UndefinedObject, "consumer group %q was dropped", g.def.Name)
	}
	now := time.Now()
	applied := 0
	// acknowledged: something must be durable before the statement
	// returns (a NACK's failure alone need not be).
	acknowledged := false
	for _, it := range items {
		ks := g.mu.keys[it.id]
		if ks == nil || it.version <= ks.acked {
			continue
		}
		if !nack {
			v := min(it.version, ks.maxDelivered)
			if v <= ks.acked {
				continue
			}
			g.advanceLocked(ks, v)
			g.mu.acked++
			applied++
			acknowledged = true
			continue
		}
		if it.version > ks.maxDelivered {
			continue
		}
		if it.version-1 > ks.acked {
			g.advanceLocked(ks, it.version-1)
			acknowledged = true
		}
		m := g.mu.members[s]
		if m == nil || ks.holder != m {
			continue
		}
		g.releaseLocked(ks)
		reason := it.reason
		if reason == "" {
			reason = "nack"
		}
		g.retryOrParkLocked(ks, reason, true, now)
		applied++
	}
	gen := g.mu.gen
	need := acknowledged && gen > g.mu.flushed
	g.mu.Unlock()
	if !need {
		return applied, nil
	}
	return applied, g.flush(ctx, gen)
}

// ackAll acknowledges everything s's membership holds.
func (g *group) ackAll(ctx context.Context, s *Session) (int, error) {
	g.mu.Lock()
	var items []resolvedAck
	if m := g.mu.members[s]; m != nil {
		for ks := range m.keys {
			items = append(items, resolvedAck{id: ks.id, version: ks.delivered})
		}
	}
	g.mu.Unlock()
	return g.ack(ctx, s, items, false)
}

// leave ends s's membership: its leases end at once and its keys go to
// the other members (a failed attempt, without backoff).
func (g *group) leave(s *Session) {
	g.mu.Lock()
	m := g.mu.members[s]
	if m == nil {
		g.mu.Unlock()
		return
	}
	delete(g.mu.members, s)
	now := time.Now()
	for ks := range m.keys {
		g.releaseLocked(ks)
		g.retryOrParkLocked(ks, "member disconnected", false, now)
	}
	gen := g.mu.gen
	need := gen > g.mu.flushed && !g.mu.closed
	g.mu.Unlock()
	if need {
		if err := g.flush(context.Background(), gen); err != nil {
			g.logger.Warn("consumer group progress write failed", slog.String("group", g.def.Name), slog.Any("err", err))
		}
	}
}

// flush writes the progress changed up to gen (and whatever else is dirty)
// in one commit.
func (g *group) flush(ctx context.Context, gen uint64) error {
	g.flushMu.Lock()
	defer g.flushMu.Unlock()
	g.mu.Lock()
	if g.mu.flushed >= gen {
		g.mu.Unlock()
		return nil
	}
	cur := g.mu.gen
	dirty, dead := g.mu.dirty, g.mu.dead
	g.mu.dirty, g.mu.dead = map[keyID]progressRow{}, nil
	dirtySince := g.mu.dirtySince
	g.mu.dirtySince = time.Time{}
	wm := g.watermarkLocked(time.Now())
	writeWM := wm != g.mu.durableWM
	g.mu.Unlock()

	err := g.writeProgress(ctx, dirty, dead, wm, writeWM)

	g.mu.Lock()
	defer g.mu.Unlock()
	if err != nil {
		// Keep what was not written for the next flush; newer values of a
		// key win.
		for id, row := range dirty {
			if _, newer := g.mu.dirty[id]; !newer {
				g.mu.dirty[id] = row
			}
		}
		g.mu.dead = append(dead, g.mu.dead...)
		if !dirtySince.IsZero() {
			g.mu.dirtySince = dirtySince
		}
		return err
	}
	if cur > g.mu.flushed {
		g.mu.flushed = cur
	}
	if writeWM && wm > g.mu.durableWM {
		g.mu.durableWM = wm
	}
	return nil
}

func (g *group) writeProgress(ctx context.Context, dirty map[keyID]progressRow, dead []deadLetter, wm uint64, writeWM bool) error {
	cat := g.eng.Log.Catalog()
	ptd, ok := cat.Table(g.progressID)
	if !ok {
		return pgerr.New(pgerr.UndefinedObject, "consumer group %q was dropped", g.def.Name)
	}
	pl := exec.NewTableLayout(ptd)
	in := &log.Intent{}
	put := func(l *exec.TableLayout, row exec.Row) error {
		data, err := l.Encode(row)
		if err != nil {
			return err
		}
		in.Writes = append(in.Writes, log.Write{Table: l.Desc.ID, Key: l.Key(row), SchemaVersion: l.Cur.Version, Row: data})
		return nil
	}
	for id, row := range dirty {
		if err := put(pl, exec.Row{int64(id.table), id.key, int64(row.acked), int64(row.attempts)}); err != nil {
			return fmt.Errorf("consumer group %q: encode progress: %w", g.def.Name, err)
		}
	}
	if writeWM {
		if err := put(pl, exec.Row{int64(0), "", int64(wm), int64(0)}); err != nil {
			return fmt.Errorf("consumer group %q: encode position: %w", g.def.Name, err)
		}
	}
	if len(dead) > 0 {
		dtd, ok := cat.Table(g.deadID)
		if !ok {
			return pgerr.New(pgerr.UndefinedTable, "consumer group %q: its dead-letter table was dropped", g.def.Name)
		}
		dl := exec.NewTableLayout(dtd)
		for _, d := range dead {
			row, err := g.deadLetterRow(d)
			if err != nil {
				return err
			}
			if err := put(dl, row); err != nil {
				return fmt.Errorf("consumer group %q: encode dead letter: %w", g.def.Name, err)
			}
		}
	}
	if len(in.Writes) == 0 {
		return nil
	}
	_, err := g.eng.Log.Commit(ctx, in)
	if err != nil {
		return fmt.Errorf("consumer group %q: write progress: %w", g.def.Name, err)
	}
	return nil
}

// pgEpochMicros is 2000-01-01 in Unix microseconds.
const pgEpochMicros = 946684800000000

func (g *group) deadLetterRow(d deadLetter) (exec.Row, error) {
	l, err := g.layout(d.ev.Table, d.ev.SchemaVersion)
	if err != nil {
		return nil, err
	}
	rowJSON, err := eventJSON(l, d.ev)
	if err != nil {
		return nil, err
	}
	var rj any
	if rowJSON != nil {
		rj = *rowJSON
	}
	return exec.Row{tableText(l.Desc), d.keyText, int64(d.ev.Version), int64(d.ev.LSN), d.ev.Op.String(),
		int64(d.attempts), d.reason, types.TimestampTZ(d.at.UnixMicro() - pgEpochMicros), rj}, nil
}

// readProgress reads a key's durable progress (keyID{} is the group's
// position).
func (g *group) readProgress(snap *log.Snapshot, id keyID) (progressRow, bool, error) {
	td, ok := snap.Catalog().Table(g.progressID)
	if !ok {
		return progressRow{}, false, pgerr.New(pgerr.UndefinedObject, "consumer group %q was dropped", g.def.Name)
	}
	l := exec.NewTableLayout(td)
	key := l.Key(exec.Row{int64(id.table), id.key, nil, nil})
	h, ok, err := snap.Head(td.ID, key)
	if err != nil || !ok || !h.Live() {
		return progressRow{}, false, err
	}
	vals, err := l.Decode(h.SchemaVersion, h.Row, h.Version, nil)
	if err != nil {
		return progressRow{}, false, err
	}
	row := progressRow{}
	if v, ok := vals[2].(int64); ok {
		row.acked = uint64(v)
	}
	if v, ok := vals[3].(int64); ok {
		row.attempts = int(v)
	}
	return row, true, nil
}

// keyHeap orders keys by due time.
type keyHeap []*keyState

func (h keyHeap) Len() int           { return len(h) }
func (h keyHeap) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h keyHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
	h[i].hidx, h[j].hidx = i, j
}
func (h *keyHeap) Push(x any) {
	ks := x.(*keyState)
	ks.hidx = len(*h)
	*h = append(*h, ks)
}
func (h *keyHeap) Pop() any {
	old := *h
	ks := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	ks.hidx = -1
	return ks
}

// groupStats is what the status view shows of a group.
type groupStats struct {
	members, pendingKeys, leasedKeys, blockedKeys, buffered int
	position, readPos                                       uint64
	delivered, acked, redelivered, parked                   uint64
}

func (g *group) stats() groupStats {
	g.mu.Lock()
	defer g.mu.Unlock()
	st := groupStats{members: len(g.mu.members), buffered: g.mu.buffered, position: g.mu.durableWM, readPos: g.mu.readPos,
		delivered: g.mu.delivered, acked: g.mu.acked, redelivered: g.mu.redelivered, parked: g.mu.parked}
	for _, ks := range g.mu.keys {
		if ks.pending() {
			st.pendingKeys++
		}
		if ks.holder != nil {
			st.leasedKeys++
		}
		if ks.blocked {
			st.blockedKeys++
		}
	}
	return st
}
