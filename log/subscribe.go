package log

import (
	"bytes"
	"container/heap"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"

	"github.com/cockroachdb/pebble/v2"
)

// Subscriptions: durable events routed to live readers through an index.
//
// A Subscription reads the events of a set of tables (named, by pattern, or
// by ID) whose keys start with a prefix, in LSN order, from a position on.
// It has two sources and switches between them without a gap:
//
//   - The snapshot: events with LSN in (pos, catchTo] are read from a
//     published Snapshot. With a key prefix and a history larger than the
//     prefix's keys, this walks the prefix's heads (0x03) and their version
//     index (0x04), merging the keys' versions by LSN in a heap, so the cost
//     follows the matching keys, not the table; otherwise it merges the
//     tables' event logs (0x05) and filters.
//   - The router: after the sync goroutine publishes a durable batch it
//     hands the batch (not a copy) to the router goroutine, one append to a
//     queue. (A batch Pebble applied as a large batch has lost its
//     contents by then; it is routed as a gap, below.) The router reads
//     the batch's event records, looks each event's table up in a map and walks its key through a byte trie of the
//     subscribers' key prefixes, and appends the event (one shared copy) to
//     the buffers of the subscribers it reaches. A subscriber's cost is
//     the events that match it; the router's per-event cost is one map
//     lookup and a trie walk that stops at the first byte no prefix has.
//
// Registration happens under the router's lock, which is also held while a
// batch is routed: a new subscriber reads the snapshot up to the last
// routed LSN and gets everything after it from the router, so nothing is
// missed or seen twice. A buffer holds at most Buffer events; when a
// subscriber falls behind, the router stops filling its buffer and marks
// it lagging, and once the subscriber has drained the buffer it reads the
// rest from the snapshot and rejoins the live stream (same handshake as
// registration). The router's queue is bounded the same way: a batch that
// finds it full is released and replaced by a gap marker, and every
// subscriber reads across the gap from the snapshot. Memory is bounded
// whatever the subscribers do, and the sync goroutine never waits for them.
//
// Table patterns are matched against the catalog of each routed batch, so a
// table created later that matches joins the subscription at its creation.
// Views have no per-key event log (their state belongs to the commit hook);
// a pattern skips them and an explicit view ID is an error.

// SubscriptionSpec says what a subscription reads.
type SubscriptionSpec struct {
	// Tables matches tables by "schema.name": exact names, "shop.*" (one
	// level), "telemetry.>" (everything below). Tables created later that
	// match are included without resubscribing: patterns are matched on the
	// catalog at each commit.
	Tables []string
	// TableIDs names tables explicitly.
	TableIDs []TableID
	// TableFilter, optional, adds the tables it accepts, decided like
	// patterns on the catalog at each commit (a table whose options
	// change joins or leaves). It must be quick and pure.
	TableFilter func(*TableDesc) bool
	// KeyPrefix keeps only events whose encoded key starts with it; it is
	// the routing index.
	KeyPrefix []byte
	// Match, optional, filters further (key patterns). It runs in the
	// subscriber's Next, after the index, never in the router.
	Match func(t TableID, key []byte) bool
	// From: deliver events with LSN > From.
	From uint64
	// Buffer bounds the events the router holds for this subscriber
	// (default 8192); beyond it the subscriber reads from the snapshot.
	Buffer int
}

// Subscription is a live reader of durable events. Next, Position and Close
// may be called from different goroutines, but Next from one at a time.
type Subscription struct {
	l        *Log
	spec     SubscriptionSpec
	patterns [][]string
	ids      map[TableID]bool
	// wake has room for one signal: the router has appended events.
	wake chan struct{}

	// tables is the set this subscriber is indexed under; the router's
	// lock guards it.
	tables []TableID

	mu struct {
		sync.Mutex
		buf []*Event
		// pos is the LSN of the last event returned, or of the last event
		// known not to match.
		pos uint64
		// catchTo: events in (pos, catchTo] are read from the snapshot;
		// the buffer holds only events after it.
		catchTo uint64
		lagging bool
		closed  bool
	}
	// cu is the state of an indexed catch-up (Next's goroutine only).
	cu *indexCatchUp
}

// ErrSubscriptionClosed is returned by Next after Close or after the log
// closed.
var ErrSubscriptionClosed = errors.New("subscription is closed")

// Subscribe registers a subscription. Events with LSN > spec.From are
// delivered by Next.
func (l *Log) Subscribe(spec SubscriptionSpec) (*Subscription, error) {
	if len(spec.Tables) == 0 && len(spec.TableIDs) == 0 && spec.TableFilter == nil {
		return nil, errors.New("subscribe: no tables named")
	}
	if spec.Buffer <= 0 {
		spec.Buffer = 8192
	}
	s := &Subscription{l: l, spec: spec, ids: map[TableID]bool{}, wake: make(chan struct{}, 1)}
	for _, p := range spec.Tables {
		toks, err := parseTablePattern(p)
		if err != nil {
			return nil, err
		}
		s.patterns = append(s.patterns, toks)
	}
	l.closing.RLock()
	closed := l.closing.closed
	l.closing.RUnlock()
	if closed {
		return nil, ErrClosed
	}
	cat := l.Catalog()
	for _, id := range spec.TableIDs {
		td, ok := cat.Table(id)
		if !ok {
			return nil, &CatalogError{Code: "42P01", Msg: fmt.Sprintf("relation with id %d does not exist", id)}
		}
		if td.Kind == View && !td.LogsChanges() {
			return nil, &CatalogError{Code: "0A000", Msg: fmt.Sprintf("materialized view %q has no event log to subscribe to", td.Name)}
		}
		s.ids[id] = true
	}
	if err := l.router.register(s); err != nil {
		return nil, err
	}
	return s, nil
}

// Position is the resume token: every event up to it that matches has been
// returned by Next. Subscribing again with From = Position() continues with
// no gap and no repeat.
func (s *Subscription) Position() uint64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mu.pos
}

// Close unregisters the subscription; a blocked Next returns.
func (s *Subscription) Close() {
	s.l.router.unregister(s)
	s.mu.Lock()
	s.mu.closed = true
	s.mu.buf = nil
	s.mu.Unlock()
	s.signal()
}

func (s *Subscription) signal() {
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Next returns up to max events (max <= 0: up to 1024), in LSN order, each
// key's in version order, blocking until at least one is durable or ctx
// ends. The events are the caller's.
func (s *Subscription) Next(ctx context.Context, max int) ([]*Event, error) {
	if max <= 0 {
		max = 1024
	}
	for {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		s.mu.Lock()
		if s.mu.closed {
			s.mu.Unlock()
			return nil, ErrSubscriptionClosed
		}
		if s.mu.pos < s.mu.catchTo {
			from, to := s.mu.pos, s.mu.catchTo
			s.mu.Unlock()
			evs, scanned, err := s.catchUp(ctx, from, to, max)
			if err != nil {
				return nil, err
			}
			s.mu.Lock()
			if scanned > s.mu.pos {
				s.mu.pos = scanned
			}
			s.mu.Unlock()
			if len(evs) > 0 {
				return evs, nil
			}
			continue
		}
		var out []*Event
		n := 0
		for n < len(s.mu.buf) && len(out) < max {
			e := s.mu.buf[n]
			n++
			if e.LSN <= s.mu.pos {
				continue
			}
			s.mu.pos = e.LSN
			if s.spec.Match == nil || s.spec.Match(e.Table, e.Key) {
				out = append(out, e)
			}
		}
		s.mu.buf = s.mu.buf[n:]
		if len(s.mu.buf) == 0 {
			s.mu.buf = nil
		}
		if len(out) > 0 {
			s.mu.Unlock()
			return out, nil
		}
		if len(s.mu.buf) == 0 && s.mu.lagging {
			s.mu.Unlock()
			s.l.router.rejoin(s)
			continue
		}
		if n > 0 {
			// Everything buffered was filtered out; look again.
			s.mu.Unlock()
			continue
		}
		s.mu.Unlock()
		select {
		case <-s.wake:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// maxScanPerCall bounds the events one catch-up call examines, so that a
// Next over a long history with few matches still returns (and notices a
// cancelled context) regularly.
const maxScanPerCall = 1 << 20

// catchUp reads matching events in (from, to] from a snapshot, at most max.
// scanned is how far the read got: every matching event up to it is in evs.
func (s *Subscription) catchUp(ctx context.Context, from, to uint64, max int) (evs []*Event, scanned uint64, err error) {
	snap := s.l.Snapshot()
	defer snap.Release()
	tables := s.resolve(snap.Catalog())
	if len(tables) == 0 {
		return nil, to, nil
	}
	if err := snap.checkLocal(tables, from); err != nil {
		return nil, 0, err // tiered events are not followed (retention.go)
	}
	if len(s.spec.KeyPrefix) > 0 {
		if s.cu == nil || s.cu.from != from || s.cu.to != to {
			s.cu = nil
			cu, err := buildIndexCatchUp(snap, tables, s.spec.KeyPrefix, from, to)
			if err != nil {
				return nil, 0, err
			}
			s.cu = cu // nil when the event logs are cheaper to read
		}
		if s.cu != nil {
			evs, scanned, err = s.cu.next(snap, max, s.spec.Match)
			if err != nil {
				s.cu = nil
				return nil, 0, err
			}
			s.cu.from = scanned
			if scanned >= to {
				s.cu = nil
			}
			return evs, scanned, nil
		}
	}
	scanned = from
	examined := 0
	stoppedEarly := false
	err = snap.Tail(tables, from, func(e *Event) error {
		if e.LSN > to {
			return ErrStop
		}
		if len(evs) >= max || examined >= maxScanPerCall {
			stoppedEarly = true
			return ErrStop
		}
		examined++
		scanned = e.LSN
		if !bytes.HasPrefix(e.Key, s.spec.KeyPrefix) {
			return nil
		}
		if s.spec.Match != nil && !s.spec.Match(e.Table, e.Key) {
			return nil
		}
		evs = append(evs, e.clone())
		return nil
	})
	if err != nil {
		return nil, 0, fmt.Errorf("subscription catch-up after lsn %d: %w", from, err)
	}
	if !stoppedEarly {
		scanned = to
	}
	return evs, scanned, ctx.Err()
}

// resolve lists the tables the subscription reads in cat, in ID order: a
// view (with a changelog) by name or by TableFilter, never by a pattern.
func (s *Subscription) resolve(cat *Catalog) []TableID {
	var out []TableID
	for id, td := range cat.Tables {
		if td.LogsChanges() && (s.ids[id] || (s.spec.TableFilter != nil && s.spec.TableFilter(td))) {
			out = append(out, id)
			continue
		}
		if !td.Kind.HasEvents() {
			continue
		}
		if s.ids[id] || (s.spec.TableFilter != nil && s.spec.TableFilter(td)) {
			out = append(out, id)
			continue
		}
		for _, p := range s.patterns {
			if matchTablePattern(p, td.Schema, td.Name) {
				out = append(out, id)
				break
			}
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i] < out[j] })
	return out
}

func (e *Event) clone() *Event {
	c := *e
	buf := make([]byte, len(e.Key)+len(e.Row))
	copy(buf, e.Key)
	copy(buf[len(e.Key):], e.Row)
	c.Key = buf[:len(e.Key):len(e.Key)]
	if e.Row != nil {
		c.Row = buf[len(e.Key):]
	}
	return &c
}

// parseTablePattern splits "schema.name" patterns into tokens; "*" matches
// one token and ">" (last) one or more.
func parseTablePattern(p string) ([]string, error) {
	if p == "" {
		return nil, errors.New("subscribe: empty table pattern")
	}
	toks := strings.Split(p, ".")
	for i, t := range toks {
		if t == "" {
			return nil, fmt.Errorf("subscribe: bad table pattern %q", p)
		}
		if t == ">" && i != len(toks)-1 {
			return nil, fmt.Errorf("subscribe: %q: '>' must be last", p)
		}
	}
	return toks, nil
}

func matchTablePattern(p []string, schema, name string) bool {
	subject := append([]string{schema}, strings.Split(name, ".")...)
	for i, t := range p {
		if t == ">" {
			return len(subject) > i
		}
		if i >= len(subject) || (t != "*" && t != subject[i]) {
			return false
		}
	}
	return len(p) == len(subject)
}

// indexCatchUp merges the versions of the keys under a prefix by LSN: one
// cursor per key with versions after from, each step a point read of the
// version index and one of the event.
type indexCatchUp struct {
	from, to uint64
	h        keyCursorHeap
}

type keyCursor struct {
	table   TableID
	key     []byte
	version uint64 // next version to deliver
	lsn     uint64 // its LSN
	last    uint64 // the head's version when built
	lastLSN uint64 // and its LSN (the version index does not hold it)
}

// buildIndexCatchUp scans the heads under prefix; it returns nil when the
// prefix holds so many keys that merging the event logs is cheaper.
func buildIndexCatchUp(snap *Snapshot, tables []TableID, prefix []byte, from, to uint64) (*indexCatchUp, error) {
	// Reading one event through the index costs about two point reads; a
	// sequential event-log read is several times cheaper per event. Walk at
	// most a quarter as many heads as there are events in the range.
	limit := (to - from) / 4
	if limit > 1<<20 {
		limit = 1 << 20
	}
	cu := &indexCatchUp{from: from, to: to}
	var seen uint64
	tooMany := errors.New("too many keys")
	for _, t := range tables {
		err := snap.ScanHeads(t, prefix, true, func(key []byte, h *Head) error {
			seen++
			if seen > limit {
				return tooMany
			}
			if h.LSN <= from {
				return nil
			}
			c := &keyCursor{table: t, key: append([]byte(nil), key...), last: h.Version, lastLSN: h.LSN}
			ok, err := c.seekAfter(snap, h, from)
			if err != nil {
				return err
			}
			if ok {
				cu.h = append(cu.h, c)
			}
			return nil
		})
		if errors.Is(err, tooMany) {
			return nil, nil
		}
		if err != nil {
			return nil, err
		}
	}
	heap.Init(&cu.h)
	return cu, nil
}

// seekAfter positions the cursor at the key's first version with LSN >
// from, by binary search over the version index (LSNs grow with versions).
func (c *keyCursor) seekAfter(snap *Snapshot, h *Head, from uint64) (bool, error) {
	lo, hi := h.FirstVersion, h.Version
	if lo == 0 {
		lo = 1
	}
	// The head knows its own version's LSN (versionLSN): keys whose only
	// new version is the latest cost no read here.
	for lo < hi {
		mid := lo + (hi-lo)/2
		lsn, ok, err := c.versionLSN(snap, mid)
		if err != nil {
			return false, err
		}
		if !ok || lsn <= from {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	lsn, ok, err := c.versionLSN(snap, lo)
	if err != nil || !ok || lsn <= from {
		return false, err
	}
	c.version, c.lsn = lo, lsn
	return true, nil
}

// versionLSN is the LSN of the cursor's key's version v: the head's for the
// newest, the version index's for the others.
func (c *keyCursor) versionLSN(snap *Snapshot, v uint64) (uint64, bool, error) {
	if v == c.last {
		return c.lastLSN, true, nil
	}
	vk := versionKey(nil, c.table, c.key, v)
	val, closer, err := snap.snap.Get(vk)
	if errors.Is(err, pebble.ErrNotFound) {
		return 0, false, nil
	}
	if err != nil {
		return 0, false, fmt.Errorf("read %s: %w", describeKey(vk), err)
	}
	defer closer.Close()
	lsn, err := decodeVersionValue(vk, val)
	return lsn, err == nil, err
}

// next returns up to max matching events in LSN order and how far it got.
func (cu *indexCatchUp) next(snap *Snapshot, max int, match func(TableID, []byte) bool) ([]*Event, uint64, error) {
	var out []*Event
	var ek []byte
	var e Event
	for len(cu.h) > 0 && len(out) < max {
		c := cu.h[0]
		if c.lsn > cu.to {
			break
		}
		if match == nil || match(c.table, c.key) {
			ek = eventKey(ek[:0], c.table, c.lsn)
			v, closer, err := snap.snap.Get(ek)
			if err != nil {
				return nil, 0, fmt.Errorf("read %s: %w", describeKey(ek), err)
			}
			err = decodeRecord(ek, v, &e)
			if err == nil {
				out = append(out, e.clone())
			}
			closer.Close()
			if err != nil {
				return nil, 0, err
			}
		}
		pos := c.lsn
		cu.from = pos
		ok := false
		if c.version < c.last {
			lsn, found, err := c.versionLSN(snap, c.version+1)
			if err != nil {
				return nil, 0, err
			}
			if found {
				c.version, c.lsn, ok = c.version+1, lsn, true
			}
		}
		if ok {
			heap.Fix(&cu.h, 0)
		} else {
			heap.Pop(&cu.h)
		}
	}
	if len(cu.h) == 0 || cu.h[0].lsn > cu.to {
		return out, cu.to, nil
	}
	return out, cu.from, nil
}

type keyCursorHeap []*keyCursor

func (h keyCursorHeap) Len() int           { return len(h) }
func (h keyCursorHeap) Less(i, j int) bool { return h[i].lsn < h[j].lsn }
func (h keyCursorHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *keyCursorHeap) Push(x any)        { *h = append(*h, x.(*keyCursor)) }
func (h *keyCursorHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}

// router hands published batches to the subscribers they concern.
type router struct {
	logger *slog.Logger
	// maxQueue bounds the batches waiting to be routed.
	maxQueue int

	q struct {
		sync.Mutex
		items  []routeItem
		closed bool
	}
	ready chan struct{} // one signal: the queue has items
	done  chan struct{}

	mu struct {
		sync.Mutex
		// routed: every event up to this LSN has reached the subscribers
		// (or the snapshot is where they read it).
		routed  uint64
		cat     *Catalog
		subs    map[*Subscription]bool
		byTable map[TableID]*tableRoute
		closed  bool
	}
}

// routeItem is a durable batch to route, or (batch nil) a gap: batches up
// to lsn that the router never saw.
type routeItem struct {
	batch *pebble.Batch
	cat   *Catalog
	lsn   uint64
}

// tableRoute is one table's subscribers: those without a key prefix and a
// trie of those with one.
type tableRoute struct {
	all  []*Subscription
	trie *prefixNode
}

// prefixNode is a trie node: the byte of each child in keys (searched with
// IndexByte; nodes have few children), the subscribers whose prefix ends
// here in subs.
type prefixNode struct {
	keys []byte
	kids []*prefixNode
	subs []*Subscription
}

func (n *prefixNode) child(b byte) *prefixNode {
	for i, k := range n.keys {
		if k == b {
			return n.kids[i]
		}
	}
	return nil
}

func newRouter(logger *slog.Logger, cat *Catalog, lsn uint64) *router {
	r := &router{logger: logger, maxQueue: 1024, ready: make(chan struct{}, 1), done: make(chan struct{})}
	r.mu.routed, r.mu.cat = lsn, cat
	r.mu.subs = map[*Subscription]bool{}
	r.mu.byTable = map[TableID]*tableRoute{}
	go r.loop()
	return r
}

// enqueue takes a published batch (and the duty to close it). It never
// blocks: the sync goroutine calls it.
func (r *router) enqueue(b *pebble.Batch, cat *Catalog, lsn uint64) {
	r.q.Lock()
	switch {
	case r.q.closed:
		b.Close()
	case len(r.q.items) >= r.maxQueue:
		b.Close()
		if n := len(r.q.items); n > 0 && r.q.items[n-1].batch == nil {
			r.q.items[n-1].cat, r.q.items[n-1].lsn = cat, lsn
		} else {
			r.q.items = append(r.q.items, routeItem{cat: cat, lsn: lsn})
		}
	default:
		r.q.items = append(r.q.items, routeItem{batch: b, cat: cat, lsn: lsn})
	}
	r.q.Unlock()
	select {
	case r.ready <- struct{}{}:
	default:
	}
}

func (r *router) loop() {
	defer close(r.done)
	var items []routeItem
	for {
		r.q.Lock()
		items = append(items[:0], r.q.items...)
		clear(r.q.items)
		r.q.items = r.q.items[:0]
		closed := r.q.closed
		r.q.Unlock()
		for _, it := range items {
			r.route(it)
		}
		clear(items)
		if closed {
			return
		}
		if len(items) == 0 {
			<-r.ready
		}
	}
}

// close stops the router after the queued batches and ends every
// subscription.
func (r *router) close() {
	r.q.Lock()
	r.q.closed = true
	r.q.Unlock()
	select {
	case r.ready <- struct{}{}:
	default:
	}
	<-r.done
	r.mu.Lock()
	r.mu.closed = true
	subs := r.mu.subs
	r.mu.subs = map[*Subscription]bool{}
	r.mu.byTable = map[TableID]*tableRoute{}
	r.mu.Unlock()
	for s := range subs {
		s.mu.Lock()
		s.mu.closed = true
		s.mu.Unlock()
		s.signal()
	}
}

func (r *router) register(s *Subscription) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.mu.closed {
		return ErrClosed
	}
	s.mu.Lock()
	s.mu.pos = s.spec.From
	s.mu.catchTo = max(s.spec.From, r.mu.routed)
	s.mu.Unlock()
	r.mu.subs[s] = true
	r.index(s)
	return nil
}

func (r *router) unregister(s *Subscription) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.mu.subs[s] {
		return
	}
	delete(r.mu.subs, s)
	r.reindex()
}

// rejoin is a lagging subscriber's return to the live stream after it has
// drained its buffer: it reads up to the routed LSN from the snapshot.
func (r *router) rejoin(s *Subscription) {
	r.mu.Lock()
	defer r.mu.Unlock()
	s.mu.Lock()
	s.mu.lagging = false
	s.mu.catchTo = max(s.mu.pos, r.mu.routed)
	s.mu.Unlock()
}

// index adds s to the per-table routes of the current catalog.
func (r *router) index(s *Subscription) {
	s.tables = s.resolve(r.mu.cat)
	for _, t := range s.tables {
		tr := r.mu.byTable[t]
		if tr == nil {
			tr = &tableRoute{}
			r.mu.byTable[t] = tr
		}
		if len(s.spec.KeyPrefix) == 0 {
			tr.all = append(tr.all, s)
			continue
		}
		if tr.trie == nil {
			tr.trie = &prefixNode{}
		}
		n := tr.trie
		for _, b := range s.spec.KeyPrefix {
			c := n.child(b)
			if c == nil {
				c = &prefixNode{}
				n.keys = append(n.keys, b)
				n.kids = append(n.kids, c)
			}
			n = c
		}
		n.subs = append(n.subs, s)
	}
}

// reindex rebuilds the routes (catalog changes and unsubscribes are rare).
func (r *router) reindex() {
	r.mu.byTable = map[TableID]*tableRoute{}
	for s := range r.mu.subs {
		r.index(s)
	}
}

func (r *router) route(it routeItem) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if it.cat != r.mu.cat {
		r.mu.cat = it.cat
		r.reindex()
	}
	if it.batch != nil && it.batch.Count() > 0 && it.batch.Empty() {
		// Pebble keeps a large batch (half a memtable or more) as a
		// flushable of its own and drops the batch's contents once
		// applied: there is nothing left to read here, so the commit is
		// a gap like any other.
		it.batch.Close()
		it.batch = nil
	}
	if it.batch == nil {
		// A gap: every subscriber reads it from the snapshot.
		for s := range r.mu.subs {
			s.lag()
		}
		r.mu.routed = it.lsn
		return
	}
	defer it.batch.Close()
	if len(r.mu.byTable) > 0 {
		if err := r.routeBatch(it.batch); err != nil {
			// The batch is durable and readable from the snapshot: every
			// subscriber reads it from there.
			r.logger.Error("subscription routing failed; subscribers read from the snapshot", slog.Any("err", err))
			for s := range r.mu.subs {
				s.lag()
			}
		}
	}
	r.mu.routed = it.lsn
}

func (r *router) routeBatch(b *pebble.Batch) error {
	rd := b.Reader()
	var e Event
	var hit []*Subscription
	for {
		kind, k, v, ok, err := rd.Next()
		if err != nil {
			return fmt.Errorf("read batch: %w", err)
		}
		if !ok {
			return nil
		}
		if kind != pebble.InternalKeyKindSet || len(k) != 13 || k[0] != nsEvent {
			continue
		}
		tr := r.mu.byTable[TableID(binary.BigEndian.Uint32(k[1:5]))]
		if tr == nil {
			continue
		}
		hit = append(hit[:0], tr.all...)
		if n := tr.trie; n != nil {
			// Walk the key (read without the checksum; the record is
			// verified below when someone wants it).
			key, ok := recordKey(v)
			if !ok {
				return &CorruptionError{describeKey(k), "bad record"}
			}
			hit = append(hit, n.subs...)
			for _, c := range key {
				if n = n.child(c); n == nil {
					break
				}
				hit = append(hit, n.subs...)
			}
		}
		if len(hit) == 0 {
			continue
		}
		if err := decodeRecord(k, v, &e); err != nil {
			return err
		}
		ev := e.clone()
		for _, s := range hit {
			s.push(ev)
		}
	}
}

// push appends a routed event, or marks the subscriber lagging when its
// buffer is full.
func (s *Subscription) push(e *Event) {
	s.mu.Lock()
	if s.mu.closed || s.mu.lagging {
		s.mu.Unlock()
		return
	}
	if len(s.mu.buf) >= s.spec.Buffer {
		s.mu.lagging = true
		s.mu.Unlock()
		return
	}
	s.mu.buf = append(s.mu.buf, e)
	s.mu.Unlock()
	s.signal()
}

func (s *Subscription) lag() {
	s.mu.Lock()
	s.mu.lagging = true
	s.mu.Unlock()
	s.signal()
}

// recordKey returns the user key of an encoded event record without
// verifying it (see encodeRecord's layout): it skips the checksum, format
// and op bytes and three varints (schema version, version, commit time).
func recordKey(v []byte) ([]byte, bool) {
	i := 6
	for range 3 {
		for i < len(v) && v[i] >= 0x80 {
			i++
		}
		i++
	}
	if i >= len(v) {
		return nil, false
	}
	kl, n := binary.Uvarint(v[i:])
	if n <= 0 || uint64(len(v)-i-n) < kl {
		return nil, false
	}
	return v[i+n : i+n+int(kl)], true
}
