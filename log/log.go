package log

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/cockroachdb/pebble/v2"
	"github.com/cockroachdb/pebble/v2/vfs"
	"github.com/prometheus/client_golang/prometheus"
)

// Options configure a Log.
type Options struct {
	// Dir is the data directory.
	Dir string
	// FS is the file system; nil means the operating system's. Tests pass
	// vfs.NewCrashableMem() to simulate crashes in process.
	FS vfs.FS
	// Hook derives state inside every commit (materialized views).
	Hook CommitHook
	// Logger; nil means slog.Default().
	Logger *slog.Logger
	// Registerer receives the log's Prometheus metrics; nil means none.
	Registerer prometheus.Registerer
	// MaxGroup bounds the intents sequenced into one batch (default 4096).
	MaxGroup int
	// MaxInFlight bounds the batches applied but not yet fsynced (default 8).
	MaxInFlight int
	// Now is the clock for commit times; nil means time.Now.
	Now func() time.Time
	// Pebble, if set, adjusts the Pebble options before Open.
	Pebble func(*pebble.Options)
	// filterPerGen, for tests, is the number of keys per generation of
	// the memtable filter (memfilter.go); 0 means memFilterPerGen.
	filterPerGen int
}

// Log is the durable per-key log. It is safe for concurrent use.
type Log struct {
	opts Options
	db   *pebble.DB
	seq  *sequencer
	// pebbleOpts are the options db was opened with; bulk loads write
	// their SSTables with them (bulk.go).
	pebbleOpts *pebble.Options
	metrics    *metrics
	// router hands published batches to live subscriptions (subscribe.go).
	router *router
	// submitted counts the intents handed to Commit but the commit
	// hook's tasks (Submitted).
	submitted atomic.Uint64
	// hookWorker runs the commit hook's background work (hookcommit.go).
	hookWorker struct {
		cancel func()
		done   chan struct{}
	}
	// cold reads events tiered out of Pebble (retention.go).
	cold *coldSource

	intents  chan *Intent
	toSync   chan *pendingBatch
	stop     chan struct{}
	syncDone chan struct{}

	closing struct {
		sync.RWMutex
		closed bool
	}
	failure struct {
		sync.Mutex
		err error
	}
	// bulkAt maps a TableID to when it last took a bulk chunk (LastBulk).
	bulkAt sync.Map
	// pub is the state readers see: the last durable batch.
	pub struct {
		sync.Mutex
		cur     *Snapshot
		changed chan struct{}
	}
}

// Open opens (or creates) the log in opts.Dir and recovers its state.
func Open(opts Options) (*Log, error) {
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.MaxGroup <= 0 {
		opts.MaxGroup = 4096
	}
	if opts.MaxInFlight <= 0 {
		opts.MaxInFlight = 8
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	po := &pebble.Options{
		FS:     opts.FS,
		Logger: pebbleLogger{opts.Logger},
		// Every commit reads each key's head, and a read of a key that is
		// not there (every new key) seeks every memtable's skiplist, where
		// the cost is cache misses that grow with the memtable. Pebble
		// starts at 256 KiB and doubles up to MemTableSize, flushing only
		// once the queued memtables reach half of it: with 64 MiB that
		// kept 8–9 memtables for the first ~200k commits after every open
		// and made the head read a third of an INSERT's CPU. 8 MiB keeps
		// one or two small memtables (sstables answer absent keys from
		// their bloom filters); eight of them absorb a write burst.
		MemTableSize:                8 << 20,
		MemTableStopWritesThreshold: 8,
		L0CompactionThreshold:       4,
		L0StopWritesThreshold:       24,
		// Heads, view state and top-N candidates are written at random
		// keys, so while the base level is the last one, every L0
		// compaction rewrites all of its table's span there. A 16 MiB
		// base level (Pebble: 64 MiB) moves a growing table's data down
		// a level sooner, after which a compaction rewrites a slice of
		// it. 32 clients inserting 640k rows into a table with three
		// views: 637 → 480 MB written by flushes and compactions.
		// (Compacting L0 at 8 files instead of 4 cut it to 400 MB but
		// stalled COPY loads that maintain views: Nexmark q5 fell from
		// 8k to 3k events/s.)
		LBaseMaxBytes: 16 << 20,
	}
	po.Experimental.SpanPolicyFunc = tableSpans
	po.Cache = pebble.NewCache(256 << 20)
	defer po.Cache.Unref()
	for i := range po.Levels {
		po.Levels[i].BlockSize = 32 << 10
		po.Levels[i].FilterPolicy = bloomPolicy()
	}
	// Pebble's default reaction to a damaged file is to crash the process;
	// the log reports it (the read that hit it returns the error, naming the
	// file and block) and keeps serving what is intact.
	events := pebble.EventListener{DataCorruption: func(info pebble.DataCorruptionInfo) {
		opts.Logger.Error("data corruption", slog.String("path", info.Path), slog.Any("err", info.Details))
	}}
	if opts.Logger.Enabled(context.Background(), slog.LevelDebug) {
		// At debug level every flush, compaction and ingest is logged,
		// with the level each file went to.
		events = pebble.TeeEventListener(events, pebble.MakeLoggingEventListener(pebbleLogger{opts.Logger}))
	}
	po.EventListener = &events
	po.EnsureDefaults()
	if opts.Pebble != nil {
		opts.Pebble(po)
	}
	start := time.Now()
	db, err := pebble.Open(opts.Dir, po)
	if err != nil {
		return nil, fmt.Errorf("open log in %s: %w", opts.Dir, err)
	}
	removeBulkLeftovers(po.FS, opts.Dir)
	l := &Log{
		opts:       opts,
		db:         db,
		pebbleOpts: po,
		intents:    make(chan *Intent, 8192),
		toSync:     make(chan *pendingBatch, opts.MaxInFlight),
		stop:       make(chan struct{}),
		syncDone:   make(chan struct{}),
		cold:       &coldSource{},
	}
	cat, lastLSN, err := l.recover()
	if err != nil {
		db.Close()
		return nil, err
	}
	l.metrics = newMetrics(opts.Registerer, db)
	l.seq = newSequencer(lastLSN, cat, opts.Hook, func() int64 { return opts.Now().UnixMicro() })
	l.seq.logger = opts.Logger
	perGen := opts.filterPerGen
	if perGen <= 0 {
		perGen = memFilterPerGen
	}
	l.seq.filter = newMemFilter(db, perGen)
	l.pub.changed = make(chan struct{})
	l.pub.cur = &Snapshot{snap: db.NewSnapshot(), cat: cat, lsn: lastLSN, cold: l.cold}
	l.pub.cur.refs.Store(1)
	l.router = newRouter(opts.Logger, cat, lastLSN)
	go l.sequenceLoop()
	go l.syncLoop()
	l.startHookWorker()
	opts.Logger.Info("log open", slog.String("dir", opts.Dir), slog.Uint64("lsn", lastLSN),
		slog.Int("tables", len(cat.Tables)), slog.Duration("took", time.Since(start)))
	return l, nil
}

func (l *Log) recover() (*Catalog, uint64, error) {
	cat := newCatalog()
	v, closer, err := l.db.Get(keyCatalog)
	switch {
	case err == nil:
		cat, err = decodeCatalog(v)
		closer.Close()
		if err != nil {
			return nil, 0, fmt.Errorf("recover catalog: %w", err)
		}
	case errors.Is(err, pebble.ErrNotFound):
	default:
		return nil, 0, fmt.Errorf("recover catalog: %w", err)
	}
	var lsn uint64
	v, closer, err = l.db.Get(keyLastLSN)
	switch {
	case err == nil:
		if len(v) != 8 {
			closer.Close()
			return nil, 0, &CorruptionError{"meta lsn", fmt.Sprintf("%d bytes", len(v))}
		}
		lsn = binary.BigEndian.Uint64(v)
		closer.Close()
	case errors.Is(err, pebble.ErrNotFound):
	default:
		return nil, 0, fmt.Errorf("recover lsn: %w", err)
	}
	return cat, lsn, nil
}

// publish makes the state of a durable batch the one readers see and
// returns it; the log holds it until the next publish (Retain to keep it).
func (l *Log) publish(snap *pebble.Snapshot, cat *Catalog, lsn uint64) *Snapshot {
	s := &Snapshot{snap: snap, cat: cat, lsn: lsn, cold: l.cold}
	s.refs.Store(1)
	l.pub.Lock()
	old := l.pub.cur
	s.pub = old.pub + 1
	l.pub.cur = s
	changed := l.pub.changed
	l.pub.changed = make(chan struct{})
	l.pub.Unlock()
	close(changed)
	old.Release()
	l.metrics.durableLSN.Set(float64(lsn))
	return s
}

// Submitted counts the intents handed to Commit since the log was opened,
// but the commit hook's own tasks (Intent.HookTask): the hook's worker
// gives way to writers only while there are some.
func (l *Log) Submitted() uint64 { return l.submitted.Load() }

// Hook returns the commit hook the log was opened with (nil: none).
func (l *Log) Hook() CommitHook { return l.opts.Hook }

// Snapshot returns the state as of the last durable commit. The caller must
// Release it.
func (l *Log) Snapshot() *Snapshot {
	l.pub.Lock()
	s := l.pub.cur
	s.refs.Add(1)
	l.pub.Unlock()
	return s
}

// Changed returns a channel that is closed when newer durable state is
// published; tailers wait on it.
func (l *Log) Changed() <-chan struct{} {
	l.pub.Lock()
	defer l.pub.Unlock()
	return l.pub.changed
}

// Catalog returns the durable catalog.
func (l *Log) Catalog() *Catalog {
	s := l.Snapshot()
	defer s.Release()
	return s.cat
}

// Close stops accepting intents, commits those already submitted, waits for
// their fsync and closes Pebble.
func (l *Log) Close() error {
	l.stopHookWorker()
	l.closing.Lock()
	if l.closing.closed {
		l.closing.Unlock()
		return nil
	}
	l.closing.closed = true
	l.closing.Unlock()
	close(l.stop)
	<-l.syncDone
	l.router.close()
	l.pub.Lock()
	cur := l.pub.cur
	l.pub.cur = nil
	l.pub.Unlock()
	cur.Release()
	if err := l.db.Close(); err != nil {
		return fmt.Errorf("close log: %w", err)
	}
	return nil
}

// Stats are counters for benchmarks and tests.
type Stats struct {
	Appends, Intents, Batches, Conflicts, Fsyncs uint64
	DurableLSN                                   uint64
}

// Stats returns the log's counters.
func (l *Log) Stats() Stats {
	s := l.metrics.stats()
	snap := l.Snapshot()
	s.DurableLSN = snap.lsn
	snap.Release()
	return s
}

// Flush writes what the memtables hold to sstables and waits for it
// (CHECKPOINT): it is durable already, in the write-ahead log.
func (l *Log) Flush() error {
	if err := l.db.Flush(); err != nil {
		return fmt.Errorf("flush the log's memtables: %w", err)
	}
	return nil
}

// DiskUsage estimates the bytes the keys in [start, end) take in
// sstables (whole files inside the range, the overlapping blocks of the
// others; what only the memtables hold is not counted): the size of a
// view's state, for pg_catalog.strand_views.
func (l *Log) DiskUsage(start, end []byte) (uint64, error) {
	n, err := l.db.EstimateDiskUsage(start, end)
	if err != nil {
		return 0, fmt.Errorf("disk usage of %x..%x: %w", start, end, err)
	}
	return n, nil
}

// TableDiskUsage estimates the bytes a table's heads, version entries and
// events take in sstables (DiskUsage): what pg_table_size reports. Events
// the Iceberg compactor has tiered out of the log are not counted.
func (l *Log) TableDiskUsage(t TableID) (uint64, error) {
	var total uint64
	for _, ns := range []byte{nsHead, nsVersion, nsEvent} {
		n, err := l.DiskUsage(appendTable(nil, ns, t), appendTable(nil, ns, t+1))
		if err != nil {
			return 0, err
		}
		total += n
	}
	return total, nil
}

// pebbleLogger routes Pebble's log lines to slog.
type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	p.l.Debug(fmt.Sprintf(format, args...), slog.String("component", "pebble"))
}
func (p pebbleLogger) Errorf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...), slog.String("component", "pebble"))
}
func (p pebbleLogger) Fatalf(format string, args ...any) {
	p.l.Error(fmt.Sprintf(format, args...), slog.String("component", "pebble"))
	panic(fmt.Sprintf(format, args...))
}
