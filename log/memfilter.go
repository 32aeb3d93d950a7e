package log

import (
	"encoding/binary"
	"hash/maphash"
	"time"

	"github.com/cockroachdb/pebble/v2"
)

// memFilter answers, for the sequencer's head reads, "may this head key be
// in a memtable?". Nearly every INSERT reads the head of a key that does
// not exist, and in Pebble such a read seeks every memtable's skiplist,
// where each of some twenty levels is a cache miss: a fifth of an INSERT's
// CPU. Every head the sequencer writes goes through add; a key the filter
// has never seen is in no memtable, so its head is read from the sstables
// alone (an iterator with OnlyReadGuaranteedDurable, bloom filters and all:
// durableIter).
//
// Keys leave the filter in generations. Once the current generation holds
// perGen keys, and right after a batch was applied (so that every key the
// filter holds is in a memtable, none in the held batch), the generation
// is closed and Pebble is asked to flush every memtable (AsyncFlush). The
// closed generation answers until that flush is done; then its keys are in
// sstables, the durable iterator is opened again to see them, and the
// generation is dropped. One extra flush per perGen new keys is the cost.
//
// Until the flush of what the log held at open is done (WAL replay fills
// memtables the filter never saw), and for tables that took a bulk chunk
// (their heads are written or ingested without add) until a generation
// that saw the chunk is flushed, the filter says "maybe" and the ordinary
// read runs. The filter belongs to the sequencing goroutine.
type memFilter struct {
	db          *pebble.DB
	seed        maphash.Seed
	perGen      int
	cur, closed *filterGen
	// flushed closes when the flush that retires closed is done.
	flushed <-chan struct{}
	// startup closes when the flush of the memtables found at open is done;
	// nil once it has.
	startup <-chan struct{}
	// durable reads sstables only; opened lazily, again after a
	// generation retires and once it is older than durableMaxAge (an open
	// iterator pins the files it reads).
	durable   *pebble.Iterator
	durableAt time.Time
	// Counters, for tests.
	fastReads, retired int
}

// filterGen is one generation: a blocked bloom filter of head keys and the
// tables that took a bulk chunk during it.
type filterGen struct {
	blocks [][8]uint64 // 512-bit blocks: one cache line per probe
	n      int
	bulk   map[TableID]bool
}

const (
	// memFilterPerGen keys per generation, at 16 bits per key (2 MiB),
	// about 0.1% false positives when full.
	memFilterPerGen = 1 << 20
	durableMaxAge   = time.Second
	filterProbes    = 6
)

var durableIterOptions = pebble.IterOptions{OnlyReadGuaranteedDurable: true, UseL6Filters: true}

func newFilterGen(perGen int) *filterGen {
	nb := max(perGen*16/512, 1)
	return &filterGen{blocks: make([][8]uint64, nb)}
}

// newMemFilter starts the filter of a log just opened: it flushes the
// memtables WAL replay filled, and says "maybe" until that is done.
func newMemFilter(db *pebble.DB, perGen int) *memFilter {
	f := &memFilter{db: db, seed: maphash.MakeSeed(), perGen: perGen, cur: newFilterGen(perGen)}
	ch, err := db.AsyncFlush()
	if err != nil {
		// Without the flush the filter never trusts itself: every read
		// takes the ordinary path.
		ch = make(chan struct{})
	}
	f.startup = ch
	return f
}

// The block comes from the hash's high half; the probes' 9-bit positions
// inside it from a remix of the whole hash.
func (g *filterGen) add(h uint64) {
	b := &g.blocks[(h>>32)%uint64(len(g.blocks))]
	x := h * 0x9e3779b97f4a7c15
	for range filterProbes {
		bit := x & 511
		b[bit>>6] |= 1 << (bit & 63)
		x >>= 9
	}
	g.n++
}

func (g *filterGen) has(h uint64) bool {
	b := &g.blocks[(h>>32)%uint64(len(g.blocks))]
	x := h * 0x9e3779b97f4a7c15
	for range filterProbes {
		bit := x & 511
		if b[bit>>6]&(1<<(bit&63)) == 0 {
			return false
		}
		x >>= 9
	}
	return true
}

// tableOf is the table of a head key.
func tableOf(hk []byte) TableID { return TableID(binary.BigEndian.Uint32(hk[1:5])) }

// add records a head key the sequencer writes.
func (f *memFilter) add(hk []byte) { f.cur.add(maphash.Bytes(f.seed, hk)) }

// addBulk records that table t takes n rows written without add.
func (f *memFilter) addBulk(t TableID, n int) {
	if f.cur.bulk == nil {
		f.cur.bulk = map[TableID]bool{}
	}
	f.cur.bulk[t] = true
	f.cur.n += n
}

// maybeInMemtable reports whether hk may be in a memtable (or the held
// batch): false means the sstables alone hold its newest value.
func (f *memFilter) maybeInMemtable(hk []byte) bool {
	if f.startup != nil {
		select {
		case <-f.startup:
			f.startup = nil
			f.closeDurable()
		default:
			return true
		}
	}
	if f.closed != nil {
		select {
		case <-f.flushed:
			f.closed, f.flushed = nil, nil
			f.retired++
			f.closeDurable()
		default:
		}
	}
	t := tableOf(hk)
	if f.cur.bulk[t] || (f.closed != nil && f.closed.bulk[t]) {
		return true
	}
	h := maphash.Bytes(f.seed, hk)
	return f.cur.has(h) || (f.closed != nil && f.closed.has(h))
}

// durableIter returns the iterator over the sstables alone that the head
// of a key maybeInMemtable cleared is read with.
func (f *memFilter) durableIter() (*pebble.Iterator, error) {
	if f.durable != nil && time.Since(f.durableAt) > durableMaxAge {
		f.closeDurable()
	}
	if f.durable == nil {
		it, err := f.db.NewIter(&durableIterOptions)
		if err != nil {
			return nil, err
		}
		f.durable, f.durableAt = it, time.Now()
	}
	f.fastReads++
	return f.durable, nil
}

// applied is called after a batch was applied, with nothing held: every
// key added is in a memtable. It closes a full generation.
func (f *memFilter) applied() {
	if f.cur.n < f.perGen || f.closed != nil || f.startup != nil {
		return
	}
	ch, err := f.db.AsyncFlush()
	if err != nil {
		// Keep filling the current generation; the next batch tries again.
		return
	}
	f.closed, f.flushed, f.cur = f.cur, ch, newFilterGen(f.perGen)
}

func (f *memFilter) closeDurable() {
	if f.durable != nil {
		f.durable.Close()
		f.durable = nil
	}
}
