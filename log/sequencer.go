package log

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/cockroachdb/pebble/v2"
)

// The sequencer decides the order of commits. Like etcd raft's core it does
// no I/O of its own and starts no goroutines: it is handed a group of
// intents and a State (in production an indexed Pebble batch, which reads
// through to everything committed or in flight before it), checks every
// intent's conditions against the key heads in order, assigns versions and
// LSNs, asks the commit hook for derived mutations (view deltas), and writes
// the whole group into the State. The pipeline (pipeline.go) owns the batch,
// the fsync and the acks. Scaling past one core means several sequencers,
// each owning a key range; that is why its input (intents) and output (one
// batch, one result per intent) are explicit.

// State is what the sequencer reads and writes. A failed intent writes
// nothing: every check runs before the first write of that intent.
type State interface {
	Get(key []byte) (value []byte, closer io.Closer, err error)
	Set(key, value []byte, opts *pebble.WriteOptions) error
	Delete(key []byte, opts *pebble.WriteOptions) error
	DeleteRange(start, end []byte, opts *pebble.WriteOptions) error
}

// HookState is what a commit hook may read: the state before the intent,
// including every earlier intent of the group.
type HookState interface {
	Get(key []byte) (value []byte, closer io.Closer, err error)
	NewIter(o *pebble.IterOptions) (*pebble.Iterator, error)
}

// Change is one event with the key's state before it, as a commit hook sees
// it. Before.Row holds the replaced row for updates and deletes of keyed
// tables.
type Change struct {
	Event
	Before Head
}

// Mutation is a write a commit hook adds to the batch. Keys must lie in the
// hook namespaces (NSHookFirst..NSHookLast).
type Mutation struct {
	Key    []byte
	Value  []byte
	Delete bool
	// End, when set, makes this a delete of the range [Key, End).
	End []byte
}

// CommitHook derives state (materialized views) from each intent inside the
// commit, so that the ack means the derived state is visible too. An error
// fails the intent (as a failing trigger would) and nothing of it is written.
type CommitHook interface {
	Prepare(st HookState, cat *Catalog, changes []Change) ([]Mutation, error)
	// OnCatalog sees an intent's catalog change before its writes: a new
	// view is backfilled here, a dropped one's state deleted.
	OnCatalog(st HookState, old, cur *Catalog) ([]Mutation, error)
}

type sequencer struct {
	lastLSN uint64
	cat     *Catalog
	hook    CommitHook
	// now returns the commit time in Unix microseconds.
	now func() int64
	// logger reports a commit hook's panic (runHook).
	logger *slog.Logger

	// scratch, reused across intents
	keyBuf, valBuf []byte
	// heads are the heads the intent's writes left so far, in the order
	// it first touched each key, and headKeys their head keys back to
	// back. A small intent finds a key by a linear scan; headIndex (head
	// key to position) is built only once an intent touches more than
	// linearHeads keys, so a single-row intent allocates nothing here.
	heads     []localHead
	headKeys  []byte
	headIndex map[string]int
	changes   []Change
	// skips are the indexes of the intent's skipped SkipIfExists writes.
	skips []int
	// events is a slab the intents' Result.Events are cut from, so that
	// small intents do not allocate one each.
	events []Appended
	// iter, when set, is an iterator over the State (the held batch, and
	// through it everything committed or applied before it) that check
	// reads heads with instead of State.Get. One iterator serves every
	// intent of a batch: its level iterators, bloom filters and blocks stay
	// open from one read to the next, where each Get sets up a fresh
	// iterator stack, and unlike Get it consults the bloom filters of L6.
	// The pipeline opens it with the batch and closes it before applying.
	iter *pebble.Iterator
	// filter, when set (with iter), says which head keys may be in a
	// memtable; the others are read from the sstables alone (memfilter.go).
	// writeHeads records every head written in it.
	filter *memFilter
	// viewHeads holds the heads of views' changelog keys as the sequencer
	// last wrote them. A view's group is written by nearly every commit
	// that touches it, and reading its head back from Pebble (a key with
	// many versions in the memtables and L0) cost more than the rest of
	// the changelog's write; only the sequencer writes heads, so what it
	// wrote is what is stored. Emptied when the catalog changes (a view
	// dropped takes its heads with it) and past maxViewHeads.
	viewHeads map[string]Head
}

// maxViewHeads bounds sequencer.viewHeads.
const maxViewHeads = 1 << 16

// localHead is a key's head as the intent left it; its head key is
// headKeys[start:end]. view marks a view's changelog key.
type localHead struct {
	start, end int
	head       Head
	view       bool
}

// errSkip is check's verdict on a SkipIfExists write whose key is live.
var errSkip = errors.New("log: write skipped, key exists")

// maxReusedLocal is the largest number of keys an intent may touch for the
// sequencer to keep its head scratch for the next intent.
const maxReusedLocal = 1024

// linearHeads is the number of keys up to which an intent's heads are
// found by a linear scan rather than a map.
const linearHeads = 8

// eventSlab is the size of the slab Result.Events are cut from.
const eventSlab = 256

func newSequencer(lastLSN uint64, cat *Catalog, hook CommitHook, now func() int64) *sequencer {
	return &sequencer{lastLSN: lastLSN, cat: cat, hook: hook, now: now}
}

// findHead returns the position in s.heads of the head key hk, or -1.
func (s *sequencer) findHead(hk []byte) int {
	if s.headIndex != nil {
		if i, ok := s.headIndex[string(hk)]; ok {
			return i
		}
		return -1
	}
	for i := range s.heads {
		h := &s.heads[i]
		if bytes.Equal(s.headKeys[h.start:h.end], hk) {
			return i
		}
	}
	return -1
}

// addHead records the head h of the head key hk, touched for the first
// time by the intent.
func (s *sequencer) addHead(hk []byte, h Head, view bool) {
	start := len(s.headKeys)
	s.headKeys = append(s.headKeys, hk...)
	s.heads = append(s.heads, localHead{start: start, end: len(s.headKeys), head: h, view: view})
	switch {
	case s.headIndex != nil:
		s.headIndex[string(hk)] = len(s.heads) - 1
	case len(s.heads) > linearHeads:
		s.headIndex = make(map[string]int, 2*len(s.heads))
		for i := range s.heads {
			lh := &s.heads[i]
			s.headIndex[string(s.headKeys[lh.start:lh.end])] = i
		}
	}
}

// resetHeads empties the head scratch for the next intent.
func (s *sequencer) resetHeads() {
	if len(s.heads) > maxReusedLocal {
		// A large intent grew the scratch: drop it rather than keep it
		// for every small intent after it.
		s.heads, s.headKeys = nil, nil
	}
	s.heads, s.headKeys, s.headIndex = s.heads[:0], s.headKeys[:0], nil
}

// resultEvents returns a zeroed Events slice of n entries for an intent's
// result, cut from a shared slab (results are never written after the
// sequencer fills them, so intents may share one backing array).
func (s *sequencer) resultEvents(n int) []Appended {
	if n > eventSlab/4 {
		return make([]Appended, n)
	}
	if cap(s.events)-len(s.events) < n {
		s.events = make([]Appended, 0, eventSlab)
	}
	ev := s.events[len(s.events) : len(s.events)+n : len(s.events)+n]
	s.events = s.events[:len(s.events)+n]
	return ev
}

// sequence applies a group of intents to st in order. Each intent gets its
// result or error; failed intents leave st untouched. It returns whether
// anything was written. An error from st itself is fatal for the group.
func (s *sequencer) sequence(st State, group []*Intent) (wrote bool, fatal error) {
	startLSN := s.lastLSN
	for _, in := range group {
		ok, err := s.one(st, in)
		if err != nil {
			return false, err
		}
		wrote = wrote || ok
	}
	if s.lastLSN != startLSN {
		var b [8]byte
		putUint64(b[:], s.lastLSN)
		if err := st.Set(keyLastLSN, b[:], nil); err != nil {
			return false, fmt.Errorf("sequence: write last lsn: %w", err)
		}
		wrote = true
	}
	return wrote, nil
}

func putUint64(b []byte, v uint64) {
	for i := 7; i >= 0; i-- {
		b[i] = byte(v)
		v >>= 8
	}
}

// one checks and applies a single intent. ok reports whether it wrote.
func (s *sequencer) one(st State, in *Intent) (ok bool, fatal error) {
	cat := s.cat
	if in.Catalog != nil {
		cat = s.cat.clone()
		if err := in.Catalog(cat); err != nil {
			in.err = err
			return false, nil
		}
	}
	s.resetHeads()
	s.changes = s.changes[:0]
	commitTime := s.now()
	lsn := s.lastLSN
	s.skips = s.skips[:0]
	for i := range in.Writes {
		w := &in.Writes[i]
		ch, err := s.check(st, cat, w, false, lsn+1, commitTime)
		if err == errSkip {
			s.skips = append(s.skips, i)
			continue
		}
		if err != nil {
			if isFatal(err) {
				return false, err
			}
			in.err = err
			if in.Bulk != nil {
				// A bulk chunk that took this path (bulk.go) says which
				// of its rows failed.
				in.err = &BulkRowError{Row: i, Err: err}
			}
			return false, nil
		}
		lsn++
		s.changes = append(s.changes, ch)
	}
	hookMuts, hookWrites, err := s.runHook(st, in, cat, s.lastLSN, commitTime)
	if err != nil {
		in.err = err
		return false, nil
	}
	// The hook's writes to views' changelogs come after the intent's
	// own, under later LSNs, unconditionally; their events follow the
	// intent's in s.changes.
	for i := range hookWrites {
		w := &hookWrites[i]
		w.Cond, w.SkipIfExists = Cond{}, false
		ch, err := s.check(st, cat, w, true, lsn+1, commitTime)
		if err != nil {
			if isFatal(err) {
				return false, err
			}
			in.err = fmt.Errorf("commit hook: changelog write: %w", err)
			return false, nil
		}
		lsn++
		s.changes = append(s.changes, ch)
	}

	// Every check passed: write.
	if cat != s.cat {
		if err := s.writeCatalog(st, s.cat, cat); err != nil {
			return false, err
		}
		s.viewHeads = nil
		in.result.Catalog = cat
		s.cat = cat
		ok = true
	}
	in.result.Events = s.resultEvents(len(in.Writes))
	next, skips := 0, s.skips
	for i := range in.result.Events {
		if len(skips) > 0 && skips[0] == i {
			skips = skips[1:]
			in.result.Events[i] = Appended{Skipped: true}
			continue
		}
		c := &s.changes[next]
		next++
		if err := s.writeChange(st, c); err != nil {
			return false, err
		}
		in.result.Events[i] = Appended{Version: c.Version, LSN: c.LSN, Op: c.Op}
		ok = true
	}
	for ; next < len(s.changes); next++ {
		if err := s.writeChange(st, &s.changes[next]); err != nil {
			return false, err
		}
		ok = true
	}
	if err := s.writeHeads(st); err != nil {
		return false, err
	}
	for _, m := range hookMuts {
		if len(m.Key) == 0 || m.Key[0] < NSHookFirst || m.Key[0] > NSHookLast {
			return false, fmt.Errorf("commit hook wrote outside its namespaces: %x", m.Key)
		}
		var err error
		if m.End != nil {
			if m.End[0] < NSHookFirst || m.End[0] > NSHookLast+1 {
				return false, fmt.Errorf("commit hook range delete outside its namespaces: %x", m.End)
			}
			err = st.DeleteRange(m.Key, m.End, nil)
		} else if m.Delete {
			err = st.Delete(m.Key, nil)
		} else {
			err = st.Set(m.Key, m.Value, nil)
		}
		if err != nil {
			return false, fmt.Errorf("write hook mutation: %w", err)
		}
		ok = true
	}
	s.lastLSN = lsn
	in.result.LSN = lsn
	return ok, nil
}

// fatalError marks a failure of the state itself (an I/O error): the group
// cannot be committed and the log stops taking writes.
type fatalError struct{ error }

func (f fatalError) Unwrap() error { return f.error }

func isFatal(err error) bool {
	var f fatalError
	return errors.As(err, &f)
}

// check evaluates one write against the key's head (as left by earlier
// intents and earlier writes of this intent) and returns the event it makes.
// fromHook marks the commit hook's write to a view's changelog
// (HookInput.Writes): the only writes a view takes.
func (s *sequencer) check(st State, cat *Catalog, w *Write, fromHook bool, lsn uint64, commitTime int64) (Change, error) {
	t, ok := cat.Table(w.Table)
	if !ok {
		return Change{}, &TableError{Table: w.Table, Code: "42P01", Msg: fmt.Sprintf("relation with id %d does not exist", w.Table)}
	}
	if t.Kind == View && !(fromHook && t.LogsChanges()) {
		return Change{}, &TableError{Table: w.Table, Code: "42809", Msg: fmt.Sprintf("cannot write to materialized view %q", t.Name)}
	}
	sv := w.SchemaVersion
	if sv == 0 {
		sv = t.Current().Version
	} else if t.Version(sv) == nil {
		return Change{}, &TableError{Table: w.Table, Code: "XX000", Msg: fmt.Sprintf("table %q has no schema version %d", t.Name, sv)}
	}
	if w.Delete && t.Kind == Stream {
		return Change{}, &TableError{Table: w.Table, Code: "0A000", Msg: fmt.Sprintf("cannot delete from append-only stream %q", t.Name)}
	}

	s.keyBuf = headKey(s.keyBuf[:0], w.Table, w.Key)
	hkb := s.keyBuf
	var before Head
	local := s.findHead(hkb)
	if local >= 0 {
		before = s.heads[local].head
	} else if h, ok := s.viewHead(t, hkb); ok {
		before = h
	} else {
		if err := s.readHead(st, hkb, &before); err != nil {
			return Change{}, err
		}
	}

	live := before.Live()
	var pass bool
	switch w.Cond.Kind {
	case Any:
		pass = !w.Delete || live
	case NotExists:
		pass = !live
	case Exists:
		pass = live
	case AtVersion:
		pass = before.Version == w.Cond.Version && (!w.Delete || live)
	}
	if !pass && w.SkipIfExists && w.Cond.Kind == NotExists {
		return Change{}, errSkip
	}
	if !pass {
		return Change{}, &ConflictError{Table: w.Table, Key: append([]byte(nil), w.Key...), Cond: w.Cond, Current: before}
	}

	ev := Event{
		Table:         w.Table,
		Key:           w.Key,
		Version:       before.Version + 1,
		LSN:           lsn,
		SchemaVersion: sv,
		CommitTime:    commitTime,
		Row:           w.Row,
	}
	switch {
	case t.Kind == Stream:
		ev.Op = OpAppend
	case w.Delete:
		ev.Op, ev.Row = OpDelete, nil
	case live:
		ev.Op = OpUpdate
	default:
		ev.Op = OpInsert
	}
	after := Head{Version: ev.Version, LSN: lsn, FirstVersion: before.FirstVersion, Tombstone: w.Delete}
	if after.FirstVersion == 0 {
		after.FirstVersion = 1
	}
	if t.KeyedEvents() && !w.Delete {
		after.SchemaVersion, after.Row = sv, w.Row
	}
	if local >= 0 {
		s.heads[local].head = after
	} else {
		s.addHead(hkb, after, t.Kind == View)
	}
	return Change{Event: ev, Before: before}, nil
}

// viewHead returns the head the sequencer last wrote under hk, when t is
// a view (viewHeads).
func (s *sequencer) viewHead(t *TableDesc, hk []byte) (Head, bool) {
	if t.Kind != View {
		return Head{}, false
	}
	h, ok := s.viewHeads[string(hk)]
	return h, ok
}

// readHead reads the head stored under hk into h, leaving h zero when the
// key has none. A corrupt head is an error of this intent, not of the log:
// other keys stay writable, and the error names the location. A failed
// read is fatal.
func (s *sequencer) readHead(st State, hk []byte, h *Head) error {
	if it := s.iter; it != nil {
		if f := s.filter; f != nil && !f.maybeInMemtable(hk) {
			d, err := f.durableIter()
			if err != nil {
				return fatalError{fmt.Errorf("read head %s: %w", describeKey(hk), err)}
			}
			it = d
		} else {
			// The batch may have grown since the last read; SetOptions
			// makes the iterator see its new writes (and is cheap when
			// there are none).
			it.SetOptions(&headIterOptions)
		}
		if it.SeekPrefixGE(hk) && bytes.Equal(it.Key(), hk) {
			v, err := it.ValueAndErr()
			if err != nil {
				return fatalError{fmt.Errorf("read head %s: %w", describeKey(hk), err)}
			}
			return s.decodeHead(hk, v, h)
		}
		if err := it.Error(); err != nil {
			return fatalError{fmt.Errorf("read head %s: %w", describeKey(hk), err)}
		}
		return nil
	}
	v, closer, err := st.Get(hk)
	switch {
	case err == nil:
		err = s.decodeHead(hk, v, h)
		closer.Close()
		return err
	case errors.Is(err, pebble.ErrNotFound):
		return nil
	default:
		return fatalError{fmt.Errorf("read head %s: %w", describeKey(hk), err)}
	}
}

// decodeHead decodes a stored head into h, copying its row out of v (which
// the store may reuse).
func (s *sequencer) decodeHead(hk, v []byte, h *Head) error {
	err := decodeHead(hk, v, h)
	if h.Row != nil {
		h.Row = append([]byte(nil), h.Row...)
	}
	return err
}

// headIterOptions are the options of the sequencer's head iterator.
// UseL6Filters: nearly every INSERT reads the head of a key that does not
// exist, and Pebble checks no bloom filter of the last level unless asked,
// so every such read would load and search an L6 index and data block.
var headIterOptions = pebble.IterOptions{UseL6Filters: true}

// writeChange writes an event and, when the event supersedes an earlier
// version of its key, that version's entry in the version index. The index
// holds every version of a key but the newest, whose LSN is in the head:
// most writes are the first version of a new key, and for them the index
// entry would be one more random key to insert and compact for nothing a
// reader could not get from the head. Heads are written once per key when
// the intent is applied (writeHeads): the head check() left in s.heads is
// the one the key ends with.
func (s *sequencer) writeChange(st State, c *Change) error {
	s.valBuf = encodeRecord(s.valBuf, &c.Event)
	s.keyBuf = eventKey(s.keyBuf[:0], c.Table, c.LSN)
	if err := st.Set(s.keyBuf, s.valBuf, nil); err != nil {
		return fmt.Errorf("write event: %w", err)
	}
	if c.Before.Version == 0 {
		return nil
	}
	s.valBuf = encodeVersionValue(s.valBuf, c.Before.LSN)
	s.keyBuf = versionKey(s.keyBuf[:0], c.Table, c.Key, c.Before.Version)
	if err := st.Set(s.keyBuf, s.valBuf, nil); err != nil {
		return fmt.Errorf("write version: %w", err)
	}
	return nil
}

// writeHeads writes the final head of every key the intent touched.
func (s *sequencer) writeHeads(st State) error {
	for i := range s.heads {
		h := &s.heads[i]
		s.valBuf = encodeHead(s.valBuf, &h.head)
		hk := s.headKeys[h.start:h.end]
		if err := st.Set(hk, s.valBuf, nil); err != nil {
			return fmt.Errorf("write head: %w", err)
		}
		if s.filter != nil {
			s.filter.add(hk)
		}
		if h.view {
			if s.viewHeads == nil || len(s.viewHeads) >= maxViewHeads {
				s.viewHeads = map[string]Head{}
			}
			s.viewHeads[string(hk)] = h.head
		}
	}
	return nil
}

// writeCatalog stores the new catalog and deletes the data of dropped tables
// in the same batch.
func (s *sequencer) writeCatalog(st State, old, cur *Catalog) error {
	for id := range old.Tables {
		if _, ok := cur.Tables[id]; ok {
			continue
		}
		for _, ns := range []byte{nsHead, nsVersion, nsEvent} {
			start := appendTable(nil, ns, id)
			if err := st.DeleteRange(start, prefixEnd(start), nil); err != nil {
				return fmt.Errorf("drop table %d: %w", id, err)
			}
		}
	}
	if err := st.Set(keyCatalog, encodeCatalog(cur), nil); err != nil {
		return fmt.Errorf("write catalog: %w", err)
	}
	return nil
}
