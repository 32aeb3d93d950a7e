package views

import (
	"sync"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql/types"
)

// Feeds: following a view's changes without reading the view.
//
// A subscription to a materialized view (SUBSCRIBE, sql/session) delivers
// how the view's rows changed, once the change is durable. The maintainer
// computes exactly that in every intent (each view's output delta, record);
// for a view with a Feed it also encodes the delta into the intent's note
// (log.HookInput.Note). The log hands the notes of committed intents back
// once their batch is durable and published, in commit order
// (log.DurableHook), and Durable appends them to the view's feeds, tagged
// with the publication that made them visible. A delivery then costs what
// changed, not the view's size, and a view with no feed costs one map
// lookup per output change.
//
// A subscriber reads the view once at a snapshot and then applies the
// batches published after it (Publication > the snapshot's). A feed holds
// at most Maintainer.FeedBytes of changes: one whose reader falls further behind
// drops them and says so (Take's resync), and the reader reads the view
// again, as it does if the view's output could not be encoded.

// defaultFeedBytes bounds the changes a feed holds for a reader that does
// not take them (Maintainer.FeedBytes).
const defaultFeedBytes = 64 << 20

// Feed is one reader's queue of a view's durable changes.
type Feed struct {
	m     *Maintainer
	view  log.TableID
	ready chan struct{}
	limit int

	mu      sync.Mutex
	batches []FeedBatch
	bytes   int
	resync  bool
	dropped bool
}

// FeedBatch is what one durable batch changed in a view.
type FeedBatch struct {
	// Publication is the durable state the batch became visible in
	// (log.Snapshot.Publication), LSN that state's LSN.
	Publication, LSN uint64
	Changes          []FeedChange
}

// FeedChange is one weighted change of a view's rows: Row (the view's
// columns, encoded with types.EncodeRow) added W times (removed when W is
// negative).
type FeedChange struct {
	Row []byte
	W   int64
}

// Decode returns the change's row, typed as the view's columns.
func (c FeedChange) Decode(cols []types.T) (exec.Row, error) {
	return types.DecodeRow(cols, c.Row)
}

// feedNote is an intent's note: the changes of the watched views it
// changed, and the watched views it dropped.
type feedNote struct {
	changes map[log.TableID][]FeedChange
	resync  []log.TableID
	dropped []log.TableID
}

// Watch starts a feed of view's changes. Changes published from now on
// reach it; the caller reads the view at a snapshot taken after Watch and
// applies the batches published after that snapshot. Close it when done.
func (m *Maintainer) Watch(view log.TableID) *Feed {
	f := &Feed{m: m, view: view, ready: make(chan struct{}, 1), limit: m.FeedBytes}
	if f.limit <= 0 {
		f.limit = defaultFeedBytes
	}
	m.feeds.Lock()
	defer m.feeds.Unlock()
	if m.feeds.byView == nil {
		m.feeds.byView = map[log.TableID][]*Feed{}
	}
	m.feeds.byView[view] = append(m.feeds.byView[view], f)
	m.storeWatched()
	return f
}

// Close stops the feed.
func (f *Feed) Close() {
	m := f.m
	m.feeds.Lock()
	defer m.feeds.Unlock()
	list := m.feeds.byView[f.view]
	for i, g := range list {
		if g == f {
			list = append(list[:i:i], list[i+1:]...)
			break
		}
	}
	if len(list) == 0 {
		delete(m.feeds.byView, f.view)
	} else {
		m.feeds.byView[f.view] = list
	}
	m.storeWatched()
}

// storeWatched publishes the set of watched views to the sequencing
// goroutine (a new map each time: it reads one without a lock). m.feeds
// is held.
func (m *Maintainer) storeWatched() {
	w := make(map[log.TableID]bool, len(m.feeds.byView))
	for id := range m.feeds.byView {
		w[id] = true
	}
	m.watched.Store(&w)
}

// Ready is signalled when something was added to the feed since the last
// Take.
func (f *Feed) Ready() <-chan struct{} { return f.ready }

// Take returns the batches the feed holds and empties it. resync says
// changes were lost (the reader fell behind, or a change could not be
// encoded): read the view again, at a snapshot taken after this call, and
// go on with the batches published after it. dropped says the view was
// dropped.
func (f *Feed) Take() (batches []FeedBatch, resync, dropped bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	batches, resync, dropped = f.batches, f.resync, f.dropped
	f.batches, f.bytes, f.resync = nil, 0, false
	return batches, resync, dropped
}

// add appends a durable batch's changes of the feed's view.
func (f *Feed) add(b FeedBatch, size int) {
	f.mu.Lock()
	switch {
	case f.resync:
		// Everything up to the reader's next read is lost anyway.
	case f.bytes+size > f.limit:
		f.batches, f.bytes, f.resync = nil, 0, true
	default:
		f.batches = append(f.batches, b)
		f.bytes += size
	}
	f.mu.Unlock()
	f.signal()
}

func (f *Feed) signal() {
	select {
	case f.ready <- struct{}{}:
	default:
	}
}

// Durable implements log.DurableHook: it hands each durable batch's
// changes to the feeds of the views they changed.
func (m *Maintainer) Durable(pub, lsn uint64, notes []any) {
	m.feeds.Lock()
	defer m.feeds.Unlock()
	for _, n := range notes {
		note, ok := n.(*feedNote)
		if !ok {
			continue
		}
		for view, changes := range note.changes {
			size := 0
			for _, c := range changes {
				size += len(c.Row) + 16
			}
			for _, f := range m.feeds.byView[view] {
				f.add(FeedBatch{Publication: pub, LSN: lsn, Changes: changes}, size)
			}
		}
		for _, view := range note.resync {
			for _, f := range m.feeds.byView[view] {
				f.mu.Lock()
				f.batches, f.bytes, f.resync = nil, 0, true
				f.mu.Unlock()
				f.signal()
			}
		}
		for _, view := range note.dropped {
			for _, f := range m.feeds.byView[view] {
				f.mu.Lock()
				f.dropped = true
				f.mu.Unlock()
				f.signal()
			}
		}
	}
}

// keepsDeltas reports whether a view's output changes are wanted beyond
// its own state: by the views that read it, or by its feeds.
func (r *run) keepsDeltas(view log.TableID) bool {
	return r.c.read[view] || r.watched[view]
}

// noteChange keeps an output change of a watched view for the intent's
// note.
func (r *run) noteChange(out exec.Row, w int64) {
	view := r.p.View
	if r.feedResync[view] {
		return
	}
	row, err := types.EncodeRow(nil, r.p.OutTypes, out)
	if err != nil {
		// The readers read the view instead.
		if r.feedResync == nil {
			r.feedResync = map[log.TableID]bool{}
		}
		r.feedResync[view] = true
		return
	}
	if r.feedOut == nil {
		r.feedOut = map[log.TableID][]FeedChange{}
	}
	r.feedOut[view] = append(r.feedOut[view], FeedChange{Row: row, W: w})
}

// note returns the intent's note for the feeds, or nil when it changed
// no watched view; the run forgets what it handed over.
func (r *run) note() *feedNote {
	if len(r.feedOut) == 0 && len(r.feedResync) == 0 {
		return nil
	}
	n := &feedNote{changes: r.feedOut}
	for id := range r.feedResync {
		n.resync = append(n.resync, id)
	}
	r.feedOut, r.feedResync = nil, nil
	return n
}

// watchedViews returns the views with feeds (nil: none); the map is
// never written.
func (m *Maintainer) watchedViews() map[log.TableID]bool {
	if w := m.watched.Load(); w != nil && len(*w) > 0 {
		return *w
	}
	return nil
}

var _ log.DurableHook = (*Maintainer)(nil)
