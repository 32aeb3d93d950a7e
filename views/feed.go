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
// batches published after it (Publication > the snapshot's). Take also
// hands over the snapshot its last batch was published in: the state the
// reader has delivered once it applied them, which it keeps (rather than
// the view's rows) to compare with when it has to read the view again. A
// feed holds at most Maintainer.FeedBytes of changes: one whose reader
// falls further behind drops them and says so (Take's resync), and the
// reader reads the view again and delivers how it differs from the state
// it kept.

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
	// snap is the snapshot the last of batches was published in
	// (retained; nil when batches is empty).
	snap    *log.Snapshot
	bytes   int
	resync  bool
	dropped bool
	closed  bool
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
	f.mu.Lock()
	f.closed = true
	f.setSnap(nil)
	f.batches = nil
	f.mu.Unlock()
}

// setSnap makes s (retained, or nil) the feed's snapshot and releases the
// one it held. f.mu is held.
func (f *Feed) setSnap(s *log.Snapshot) {
	if f.snap != nil {
		f.snap.Release()
	}
	f.snap = s
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

// Take returns the batches the feed holds and empties it; snap, when
// there are batches, is the snapshot the last of them was published in,
// which the caller now owns (and must Release). resync says changes were
// lost (the reader fell behind): read the view again, at a snapshot taken
// after this call, and go on with the batches published after it. dropped
// says the view was dropped.
func (f *Feed) Take() (batches []FeedBatch, snap *log.Snapshot, resync, dropped bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	batches, snap, resync, dropped = f.batches, f.snap, f.resync, f.dropped
	f.batches, f.snap, f.bytes, f.resync = nil, nil, 0, false
	return batches, snap, resync, dropped
}

// add appends a durable batch's changes of the feed's view, published in
// snap (lent for the call); past the feed's limit it drops them all
// (resync).
func (f *Feed) add(b FeedBatch, snap *log.Snapshot, size int) {
	f.update(func() {
		switch {
		case f.closed || f.resync:
			// Everything up to the reader's next read is lost anyway.
		case f.bytes+size > f.limit:
			f.batches, f.bytes, f.resync = nil, 0, true
			f.setSnap(nil)
		default:
			f.batches = append(f.batches, b)
			f.bytes += size
			if f.snap != snap {
				f.setSnap(snap.Retain())
			}
		}
	})
}

// update changes the feed under its lock and wakes its reader.
func (f *Feed) update(change func()) {
	f.mu.Lock()
	change()
	f.mu.Unlock()
	select {
	case f.ready <- struct{}{}:
	default:
	}
}

// Durable implements log.DurableHook: it hands each durable batch's
// changes to the feeds of the views they changed.
func (m *Maintainer) Durable(snap *log.Snapshot, notes []any) {
	pub, lsn := snap.Publication(), snap.LSN()
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
				f.add(FeedBatch{Publication: pub, LSN: lsn, Changes: changes}, snap, size)
			}
		}
		for _, view := range note.dropped {
			for _, f := range m.feeds.byView[view] {
				f.update(func() { f.dropped = true })
			}
		}
	}
}

// keepsDeltas reports whether a view's output changes are wanted beyond
// its own state: by the views that read it, its feeds or its changelog.
func (r *run) keepsDeltas(view log.TableID) bool {
	return r.c.read[view] || r.watched[view] || r.c.logs[view] != nil
}

// noteChange keeps an output change of a watched view (its row encoded)
// for the intent's note.
func (r *run) noteChange(row []byte, w int64) {
	if r.feedOut == nil {
		r.feedOut = map[log.TableID][]FeedChange{}
	}
	r.feedOut[r.p.View] = append(r.feedOut[r.p.View], FeedChange{Row: row, W: w})
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
