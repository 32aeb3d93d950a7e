package views

import (
	"bytes"
	"slices"
	"strings"

	"github.com/strand-db/strand/exec"
)

// stateCache remembers view state values (and absences) across intents,
// so that the hot state of a view (a popular group, a join key's rows) is
// read from Pebble once, not on every commit: a point read through an
// indexed batch walks the batch, the memtables and every level. Only the
// maintainer writes view state, from the sequencer's one goroutine, so
// the cache stays exact when every intent's writes are put into it once
// its Prepare has succeeded (values read are true whatever happens to
// the intent). It is emptied on any catalog change, and when it outgrows
// its budget. Values are never modified in place.
//
// It holds three kinds of entries: point values (and absences), whole
// small ranges (by prefix), and top-N windows (a partition's first
// candidates, by prefix; a write past a full window's last key leaves it
// as it is, topn.go). Every entry is filed in a bucket by the tail of its
// key: what follows the view, kind and operator bytes (tailStart). For
// the state an intent reads per delta row that tail is the group, the
// join key or the top-N partition, so views keyed by the same values (a
// GROUP BY acct, a join on acct, a top-N per acct) file their entries
// for one value in one bucket. The bucket map is large (an entry per
// account, say) and a lookup in it costs several cache misses; an
// intent's first view pays them, and the other views find the bucket
// again in the CPU's cache (a map per kind would cost a cold lookup per
// view).
type stateCache struct {
	buckets map[string]cacheBucket
	bytes   int
	// nRanges and nWindows count the entries of those kinds.
	nRanges, nWindows int
	// rangeLens and windowLens list, per view and state kind (the first
	// rangeHead bytes of a key), the lengths of the cached prefixes, so
	// that a write can drop the ranges and windows that hold its key
	// without trying every prefix of it.
	rangeLens  map[string][]int
	windowLens map[string][]int
	// valueHeads are the view-and-kind heads of the point values held: a
	// write under another head needs no lookup to refresh it (most writes
	// are of keys never read: join and top-N rows, fresh output rows).
	valueHeads map[string]struct{}
	// heads interns the entries' heads (the key before its tail): a few
	// per operator.
	heads map[string]string
	// gen counts resets: pointers into the cache (topWindow.slot) taken
	// in an earlier generation are stale.
	gen uint64
}

// cacheBucket holds the entries whose keys share a tail. It is held in
// the map by value (a pointer would be one more cache miss per lookup);
// its entries array is shared by the copies a lookup returns, so an
// entry changes in place, and adding or removing one stores the bucket
// again under its own tail (a map assignment stores the key it is given,
// so that key must not view a caller's scratch bytes).
type cacheBucket struct {
	tail string
	es   []cacheEntry
}

type entryKind uint8

const (
	entryValue entryKind = iota
	entryRange
	entryWindow
)

// cacheEntry is one remembered value, range or window.
type cacheEntry struct {
	// head is the key (or prefix) before its tail, interned.
	head string
	kind entryKind
	// A value: v, found (false: the key is known absent).
	found bool
	v     []byte
	// A range: its entries in key order.
	kvs []cachedKV
	// A window.
	w *topWindow
}

// Sizes charged to the budget for a bucket and for an entry, besides
// their bytes.
const (
	bucketOverhead = 64
	entryOverhead  = 96
)

// tailStart is where the tail of a view state key (or prefix) starts:
// after 0x10 view kind, then the operator byte for 'g', 't' and 'c', and
// the operator and side (or aggregate) bytes for 'j', 'm' and 'd' (state.go
// lists the layout). The tail of a group's key, a join key's range and a
// partition's window is then the encoded group, join key or partition.
func tailStart(k string) int {
	if len(k) <= rangeHead {
		return len(k)
	}
	n := rangeHead
	switch k[rangeHead-1] {
	case 'g', 't', 'c':
		n = rangeHead + 1
	case 'j', 'm', 'd':
		n = rangeHead + 2
	}
	return min(n, len(k))
}

// find returns the entry of a kind for k (nil: none). k may view a
// caller's scratch bytes (it is not kept). The pointer is valid until the
// cache next changes.
func (c *stateCache) find(k string, kind entryKind) *cacheEntry {
	t := tailStart(k)
	b := c.buckets[k[t:]]
	head := k[:t]
	for i := range b.es {
		if e := &b.es[i]; e.kind == kind && e.head == head {
			return e
		}
	}
	return nil
}

// add files a new entry for k (which has none of its kind); k is not
// kept.
func (c *stateCache) add(k string, e cacheEntry) {
	t := tailStart(k)
	e.head = c.intern(k[:t])
	b, ok := c.buckets[k[t:]]
	if !ok {
		b.tail = strings.Clone(k[t:])
		c.bytes += bucketOverhead + len(k) - t
	}
	b.es = append(b.es, e)
	c.buckets[b.tail] = b
	c.bytes += entryOverhead
}

// remove drops the entry of a kind for k and returns it.
func (c *stateCache) remove(k string, kind entryKind) (cacheEntry, bool) {
	t := tailStart(k)
	b := c.buckets[k[t:]]
	head := k[:t]
	for i := range b.es {
		if e := b.es[i]; e.kind == kind && e.head == head {
			last := len(b.es) - 1
			b.es[i] = b.es[last]
			b.es[last] = cacheEntry{}
			b.es = b.es[:last]
			c.bytes -= entryOverhead
			if last == 0 {
				delete(c.buckets, b.tail)
				c.bytes -= bucketOverhead + len(k) - t
			} else {
				c.buckets[b.tail] = b
			}
			return e, true
		}
	}
	return cacheEntry{}, false
}

func (c *stateCache) intern(head string) string {
	if s, ok := c.heads[head]; ok {
		return s
	}
	s := strings.Clone(head)
	c.heads[s] = s
	return s
}

type topWindow struct {
	limit   int64
	entries []topEntry
	full    bool
	// ties: the top-N ranks with ties (topties.go), so a candidate past
	// the last entry in key order but tied with it is in the window.
	ties bool
	// slot, in an intent's window, is the cache's window for the same
	// partition as of cache generation gen (nil: none): the window the
	// intent leaves replaces it in place, without a lookup.
	slot *topWindow
	gen  uint64
	// changed: the intent changed the window's entries (they are packed
	// again before the cache keeps them).
	changed bool
}

// past reports whether candidate key k, under a partition prefix of plen
// bytes, sorts after the window's last entry and every candidate tied
// with it.
func (w *topWindow) past(k string, plen int) bool {
	last := w.entries[len(w.entries)-1].key
	if !w.ties {
		return k > string(last)
	}
	return bytes.Compare(sortKeyOf(unsafeBytes(k), plen), sortKeyOf(last, plen)) > 0
}

func (w topWindow) size(prefix string) int {
	n := len(prefix) + 64
	for _, e := range w.entries {
		n += len(e.key) + len(e.val) + 56
	}
	return n
}

// window returns the cached window of a partition prefix (nil: none).
func (c *stateCache) window(prefix []byte) *topWindow {
	if c.nWindows == 0 {
		return nil
	}
	if e := c.find(ustr(prefix), entryWindow); e != nil {
		return e.w
	}
	return nil
}

// putWindow caches a partition's window and returns the cache's copy.
func (c *stateCache) putWindow(prefix string, w topWindow) *topWindow {
	if len(prefix) < rangeHead {
		return nil
	}
	if c.bytes > stateCacheBudget {
		c.reset()
	}
	old := w.slot
	if old == nil || w.gen != c.gen {
		old = c.window(unsafeBytes(prefix))
	}
	if w.changed {
		w.entries = packEntries(w.entries)
	}
	w.slot, w.gen, w.changed = nil, 0, false
	if old != nil {
		c.bytes += w.size(prefix) - old.size(prefix)
		*old = w
		return old
	}
	c.noteLen(c.windowLens, prefix)
	c.add(prefix, cacheEntry{kind: entryWindow, w: &w})
	c.nWindows++
	c.bytes += w.size(prefix)
	return &w
}

type cachedKV struct {
	k string
	v []byte
	// row is v's row, when the scans of the range decode one (scanRows).
	row exec.Row
}

func rangeSize(prefix string, kvs []cachedKV) int {
	n := len(prefix) + 48
	for _, e := range kvs {
		n += len(e.k) + len(e.v) + 40 + rowSize(e.row)
	}
	return n
}

// rowSize estimates the bytes a decoded row holds.
func rowSize(row exec.Row) int {
	if row == nil {
		return 0
	}
	return 24 + 32*len(row)
}

// maxCachedRange is the most entries a remembered range holds.
const maxCachedRange = 16

// rangeHead is the length of a key's view-and-kind head.
const rangeHead = 6

// rangeOf returns a cached range's entries (ok false: not cached). The
// entries' rows may be set in place (scanStored), nothing else.
func (c *stateCache) rangeOf(prefix []byte) ([]cachedKV, bool) {
	if c.nRanges == 0 {
		return nil, false
	}
	if e := c.find(ustr(prefix), entryRange); e != nil {
		return e.kvs, true
	}
	return nil, false
}

func (c *stateCache) putRange(prefix string, kvs []cachedKV) {
	if len(prefix) < rangeHead {
		return
	}
	if c.bytes > stateCacheBudget {
		c.reset()
	}
	if e := c.find(prefix, entryRange); e != nil {
		c.bytes += rangeSize(prefix, kvs) - rangeSize(prefix, e.kvs)
		e.kvs = kvs
		return
	}
	c.noteLen(c.rangeLens, prefix)
	c.add(prefix, cacheEntry{kind: entryRange, kvs: kvs})
	c.nRanges++
	c.bytes += rangeSize(prefix, kvs)
}

// noteLen records prefix's length in lens (rangeLens or windowLens)
// under its view-and-kind head.
func (c *stateCache) noteLen(lens map[string][]int, prefix string) {
	head := c.intern(prefix[:rangeHead])
	if !slices.Contains(lens[head], len(prefix)) {
		lens[head] = append(lens[head], len(prefix))
	}
}

// written drops the remembered ranges that hold k, and the top-N
// windows k may change (except those in replaced, which the caller puts
// anew). plen, when not 0, is the length of the top-N partition prefix
// k is a candidate under: the only remembered range or window that can
// hold k is that prefix's (partition tuples are self-delimiting and all
// of an operator's have as many values, so no other partition's prefix
// is a prefix of k), and the other lengths need no lookup.
func (c *stateCache) written(k string, plen int, replaced map[string]int) {
	if len(k) < rangeHead {
		return
	}
	if c.nRanges > 0 {
		for _, n := range c.rangeLens[k[:rangeHead]] {
			if n > len(k) || (plen > 0 && n != plen) {
				continue
			}
			if e, ok := c.remove(k[:n], entryRange); ok {
				c.bytes -= rangeSize(k[:n], e.kvs)
				c.nRanges--
			}
		}
	}
	if c.nWindows > 0 {
		for _, n := range c.windowLens[k[:rangeHead]] {
			if n > len(k) || (plen > 0 && n != plen) {
				continue
			}
			if _, ok := replaced[k[:n]]; ok {
				continue
			}
			e := c.find(k[:n], entryWindow)
			if e == nil {
				continue
			}
			if w := e.w; !(w.full && len(w.entries) > 0 && w.past(k, n)) {
				c.bytes -= w.size(k[:n])
				c.remove(k[:n], entryWindow)
				c.nWindows--
			}
		}
	}
}

// stateCacheBudget bounds the cache's keys and values, in bytes.
const stateCacheBudget = 64 << 20

func newStateCache() *stateCache {
	c := &stateCache{}
	c.reset()
	return c
}

// get returns a remembered value (ok false: none; found false: the key
// is known absent). k is not kept.
func (c *stateCache) get(k []byte) (v []byte, found, ok bool) {
	e := c.find(ustr(k), entryValue)
	if e == nil {
		return nil, false, false
	}
	return e.v, e.found, true
}

// put remembers a value (found false: the key is absent); k is not
// kept, v is (never modified).
func (c *stateCache) put(k string, v []byte, found bool) {
	if c.bytes > stateCacheBudget {
		c.reset()
	}
	if e := c.find(k, entryValue); e != nil {
		c.bytes += len(v) - len(e.v)
		e.v, e.found = v, found
		return
	}
	if len(k) >= rangeHead {
		if _, ok := c.valueHeads[k[:rangeHead]]; !ok {
			c.valueHeads[c.intern(k[:rangeHead])] = struct{}{}
		}
	}
	c.add(k, cacheEntry{kind: entryValue, v: v, found: found})
	c.bytes += len(v)
}

// refresh sets a key's value if the cache holds the key.
func (c *stateCache) refresh(k string, v []byte, found bool) {
	if len(k) >= rangeHead {
		if _, ok := c.valueHeads[k[:rangeHead]]; !ok {
			return
		}
	}
	e := c.find(k, entryValue)
	if e == nil {
		return
	}
	if !found {
		v = nil
	}
	c.bytes += len(v) - len(e.v)
	e.v, e.found = v, found
}

func (c *stateCache) reset() {
	c.gen++
	c.buckets = map[string]cacheBucket{}
	c.rangeLens = map[string][]int{}
	c.windowLens = map[string][]int{}
	c.valueHeads = map[string]struct{}{}
	c.heads = map[string]string{}
	c.nRanges, c.nWindows = 0, 0
	c.bytes = 0
}
