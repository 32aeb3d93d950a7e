package iceberg

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/catalog"
	"github.com/apache/iceberg-go/table"
	"github.com/google/uuid"

	"github.com/strand-db/strand/log"
)

// Snapshot summary and table properties that tie Iceberg to the log.
const (
	// PropLSNFrom and PropLSNTo are the log range (from, to] a snapshot
	// covers; the current snapshot's PropLSNTo is the table's watermark.
	PropLSNFrom = "strand.lsn-from"
	PropLSNTo   = "strand.lsn-to"
	// PropTableID names the Strand table an Iceberg table belongs to.
	PropTableID = "strand.table-id"
	// PropShape is stream, changes or state.
	PropShape = "strand.shape"
)

// ChangesSuffix names a keyed table's change log: accounts → accounts__changes.
const ChangesSuffix = "__changes"

// Options configure a Compactor.
type Options struct {
	// Warehouse is where tables live: a local folder (or file:// URL), or
	// s3://bucket/prefix (see Catalog).
	Warehouse string
	// S3 says how to reach an s3:// warehouse; credentials come from the
	// AWS_* environment variables.
	S3 S3Config
	// Props go to the S3 file IO (iceberg-go's s3.* property names) and
	// override S3.
	Props iceberg.Properties
	// Interval is how often the log is checked for new events (default 10s).
	Interval time.Duration
	// FileRows, when positive, also bounds the rows of one Parquet file
	// (files close at TargetFileSize bytes anyway).
	FileRows int
	// BatchRows is the rows per Arrow record and Parquet row group
	// (default 131,072).
	BatchRows int
	// Logger; nil means slog.Default().
	Logger *slog.Logger
	// BeforeCommit, when set, runs after a commit's Parquet files are
	// written and synced and before the catalog commit; an error abandons
	// the commit and leaves the files behind, as a crash at that point
	// would. Tests inject failures here.
	BeforeCommit func(ident table.Identifier, files []string) error

	// The options below manage files and snapshots; see maintain.go.

	// TargetFileSize is the size in bytes at which a data file is closed
	// and the next one started, and the size merges aim for (default
	// 128 MiB).
	TargetFileSize int64
	// CommitRows and CommitDelay batch a trickle of writes: a table's new
	// events are committed once CommitRows of them are pending, or once
	// the compactor first saw them pending CommitDelay ago (by Now). Both
	// zero: every pass commits whatever is new. CommitRows without
	// CommitDelay waits at most a minute.
	CommitRows  int
	CommitDelay time.Duration
	// LoadQuiet leaves a table that took a COPY chunk less than LoadQuiet
	// ago (log.LastBulk) for a later pass, for at most a minute in a row:
	// converted in the middle of a load, a keyed table's state would be
	// written and then rewritten whole by the next pass, and the
	// conversion would take CPU from the load. Zero: no wait.
	LoadQuiet time.Duration
	// MergeFiles is how many small files of one size tier an append-only
	// Iceberg table accumulates before they are merged into one (default
	// 8; negative: never merge).
	MergeFiles int
	// SnapshotRetention is how long snapshots are kept (default 24h;
	// negative: forever); KeepSnapshots is how many of the newest are kept
	// regardless of age (default 10). Files only expired snapshots refer
	// to are deleted.
	SnapshotRetention time.Duration
	KeepSnapshots     int
	// Parallelism is how many tables (and a keyed table's two Iceberg
	// tables) are compacted at once (default: one per CPU); above 1, a
	// table's large backlog is also scanned from both ends at once
	// (fileSet.scanEvents).
	Parallelism int
	// Now is the clock commit batching reads (default time.Now); tests
	// simulate hours of writes with it.
	Now func() time.Time
	// Tiering moves compacted events out of the log (tier.go).
	Tiering Tiering
}

// Compactor copies the log into Iceberg tables, one table at a time:
//
// For each table it reads the watermark W from the current Iceberg
// snapshot's summary (PropLSNTo), takes a durable log snapshot at LSN U,
// writes the table's events with LSN in (W, U] as Parquet files under the
// table's data/ folder, and commits one Iceberg snapshot that adds them and
// records (W, U] in its summary. The Iceberg commit (the atomic
// create-if-absent of the next vN.metadata.json) is the only point where
// the watermark moves, so the state is always either "before" (the files
// are orphans, nothing refers to them) or "after" (files and watermark
// together): a crash between the Parquet upload and the commit loses
// nothing and duplicates nothing, because the next run starts again from
// W. Orphans are deleted the first time a process touches a table, before
// it writes anything.
//
// A stream becomes one append-only Iceberg table. A keyed table becomes its
// change log (`name__changes`, append-only like a stream, with _op) and its
// current state (`name`), rewritten copy-on-write from the key heads of the
// same log snapshot, so it shows exactly what `SELECT * FROM name` showed
// at LSN U. Each Iceberg table keeps its own watermark.
type Compactor struct {
	log  *log.Log
	opts Options
	cat  *Catalog
	mem  memory.Allocator
	// cold reads tiered events back (read.go).
	cold *ColdReader
	// stateReader serves the tables to queries (state_read.go).
	stateReader *StateReader

	// run serializes compaction passes (Run's loop and CompactOnce).
	run sync.Mutex

	mu struct {
		sync.Mutex
		tables map[log.TableID]*tableState
	}
}

// tableState is what the compactor knows about one Strand table.
type tableState struct {
	// targetsMu guards targets: a keyed table's two Iceberg tables are
	// compacted concurrently.
	targetsMu sync.Mutex
	status    TableStatus
	// targets are the table's Iceberg tables, by shape.
	targets map[shape]*target
}

// target is one Iceberg table being written.
type target struct {
	ident table.Identifier
	tbl   *table.Table
	// cleaned is set once orphans were removed in this process.
	cleaned bool
	// pendingSince is when a pass first saw events it did not commit yet
	// (commit batching; zero: none pending).
	pendingSince time.Time
	// loadingSince is when a pass first left the table for later because
	// it was being loaded (LoadQuiet; zero: not waiting).
	loadingSince time.Time
}

// TableStatus is the visible state of one table's compaction.
type TableStatus struct {
	Schema, Name string
	Kind         string
	// Watermark: every event with LSN <= Watermark is in Iceberg (for a
	// keyed table, the lower of its two Iceberg tables).
	Watermark uint64
	// DurableLSN is the log position the last pass looked at.
	DurableLSN uint64
	// Lag is the age of the oldest event not yet in Iceberg (0: none).
	Lag time.Duration
	// Files, Bytes and Rows are those of the current Iceberg snapshot(s).
	Files, Bytes, Rows int64
	LastCommit         time.Time
	LastError          string
	// LagRows counts the events not yet in Iceberg.
	LagRows int64
	// TierFloor: events up to it may have left the log (tier.go);
	// LocalRetention is the table's retention ("off", or a duration).
	TierFloor      uint64
	LocalRetention string
}

// New opens the warehouse. It does no I/O on the log until Run or
// CompactOnce.
func New(l *log.Log, opts Options) (*Compactor, error) {
	if opts.Warehouse == "" {
		return nil, errors.New("iceberg: no warehouse")
	}
	if opts.Interval <= 0 {
		opts.Interval = 10 * time.Second
	}
	fillFileDefaults(&opts)
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	cat, err := OpenCatalog(context.Background(), opts.Warehouse, opts.S3, opts.Props)
	if err != nil {
		return nil, fmt.Errorf("iceberg: open warehouse %s: %w", opts.Warehouse, err)
	}
	c := &Compactor{log: l, opts: opts, cat: cat, mem: memory.DefaultAllocator, cold: NewColdReader(cat), stateReader: NewStateReader(cat)}
	c.mu.tables = map[log.TableID]*tableState{}
	return c, nil
}

// Catalog is the warehouse's catalog, for the REST endpoint and readers.
func (c *Compactor) Catalog() *Catalog { return c.cat }

// Run compacts every Interval until ctx ends.
func (c *Compactor) Run(ctx context.Context) error {
	t := time.NewTicker(c.opts.Interval)
	defer t.Stop()
	for {
		if err := c.CompactOnce(ctx); err != nil && ctx.Err() == nil {
			c.opts.Logger.Warn("iceberg compaction", slog.Any("err", err))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// CompactOnce brings every table's Iceberg tables up to the log's durable
// LSN at the time of the call. It returns the first error; other tables
// are still compacted, and each table's error is in its status.
func (c *Compactor) CompactOnce(ctx context.Context) error {
	c.run.Lock()
	defer c.run.Unlock()
	snap := c.log.Snapshot()
	defer snap.Release()
	now := c.opts.Now()
	// Tables are independent: up to Parallelism of them at once, so more
	// cores compact more tables.
	var (
		wg    sync.WaitGroup
		sem   = make(chan struct{}, c.opts.Parallelism)
		errMu sync.Mutex
		first error
	)
	for _, td := range snap.Catalog().SortedTables() {
		// Tables and streams, and materialized views that keep their
		// changes as events (a changelog): a view's Iceberg tables are
		// its rows and its changes, as a keyed table's.
		if !td.HasEvents() {
			continue
		}
		if err := ctx.Err(); err != nil {
			first = cmp.Or(first, err)
			break
		}
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := c.compactTable(ctx, snap, td, now); err != nil {
				errMu.Lock()
				first = cmp.Or(first, err)
				errMu.Unlock()
			}
		})
	}
	wg.Wait()
	c.forgetDropped(snap.Catalog())
	if err := c.afterPass(ctx, snap, now); err != nil {
		first = cmp.Or(first, err)
	}
	return first
}

// Status lists the compaction state of every table a pass has seen that
// still exists. A dropped table's state is left out: a table created
// under its name (DROP, CREATE, COPY) must not show the old table's
// figures (lag 0 before anything of it was converted) until a pass
// reaches it.
func (c *Compactor) Status() []TableStatus {
	cat := c.log.Catalog()
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make([]TableStatus, 0, len(c.mu.tables))
	for id, ts := range c.mu.tables {
		if _, ok := cat.Table(id); !ok {
			continue
		}
		out = append(out, ts.status)
	}
	sortStatus(out)
	return out
}

// forgetDropped drops the state of tables that are not in cat.
func (c *Compactor) forgetDropped(cat *log.Catalog) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for id := range c.mu.tables {
		if _, ok := cat.Table(id); !ok {
			delete(c.mu.tables, id)
		}
	}
}

func (c *Compactor) state(td *log.TableDesc) *tableState {
	c.mu.Lock()
	defer c.mu.Unlock()
	ts, ok := c.mu.tables[td.ID]
	if !ok {
		ts = &tableState{targets: map[shape]*target{}}
		c.mu.tables[td.ID] = ts
	}
	return ts
}

func (c *Compactor) compactTable(ctx context.Context, snap *log.Snapshot, td *log.TableDesc, now time.Time) error {
	ts := c.state(td)
	shapes := []shape{shapeStream}
	if td.KeyedEvents() {
		shapes = []shape{shapeChanges, shapeState}
	}
	var (
		err        error
		wm         = snap.LSN()
		lastCommit time.Time
		files      int64
		bytes      int64
		rows       int64
	)
	// A keyed table's change log and state are separate Iceberg tables
	// with their own watermarks: they are written concurrently.
	results := make([]targetResult, len(shapes))
	errs := make([]error, len(shapes))
	if len(shapes) > 1 && c.opts.Parallelism > 1 {
		var wg sync.WaitGroup
		for i, sh := range shapes {
			wg.Go(func() { results[i], errs[i] = c.compactTarget(ctx, snap, td, ts, sh, now) })
		}
		wg.Wait()
	} else {
		for i, sh := range shapes {
			results[i], errs[i] = c.compactTarget(ctx, snap, td, ts, sh, now)
		}
	}
	for _, e := range errs {
		if errors.Is(e, errTableDropped) {
			// Nobody can read the Iceberg copy of a dropped table; its
			// files are removed (fileSet.abort). Status no longer lists
			// it, and the next pass forgets its state (forgetDropped).
			c.opts.Logger.Info("iceberg compaction of a dropped table abandoned",
				slog.String("table", td.Schema+"."+td.Name), slog.Uint64("id", uint64(td.ID)))
			return nil
		}
	}
	for i, sh := range shapes {
		if errs[i] != nil {
			// After a failure the target's view of its table may be stale
			// (a commit whose response was lost) and it may have left
			// files behind: reload it, and remove orphans, next time.
			ts.setTarget(sh, nil)
		}
	}
	for i, sh := range shapes {
		r := results[i]
		if err = errs[i]; err != nil {
			err = fmt.Errorf("compact %s.%s: %w", td.Schema, td.Name, err)
			break
		}
		wm = min(wm, r.watermark)
		if r.committed.After(lastCommit) {
			lastCommit = r.committed
		}
		files += r.files
		bytes += r.bytes
		if sh != shapeChanges {
			rows = r.rows
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	st := &ts.status
	st.Schema, st.Name, st.Kind = td.Schema, td.Name, td.Kind.String()
	st.DurableLSN = snap.LSN()
	if err != nil {
		st.LastError = err.Error()
		st.Lag = c.lag(snap, td, st.Watermark)
		return err
	}
	st.Watermark, st.Files, st.Bytes, st.Rows = wm, files, bytes, rows
	st.LastError = ""
	st.Lag = c.lag(snap, td, wm)
	if !lastCommit.IsZero() {
		st.LastCommit = lastCommit
	}
	return nil
}

// lag is the age of the table's oldest event after wm.
func (c *Compactor) lag(snap *log.Snapshot, td *log.TableDesc, wm uint64) time.Duration {
	var lag time.Duration
	// Never below the tier floor: that would read Iceberg for nothing.
	_ = snap.Events(td.ID, max(wm, td.TierFloor), func(e *log.Event) error {
		lag = time.Since(time.UnixMicro(e.CommitTime))
		return log.ErrStop
	})
	return max(lag, 0)
}

// maxLoadWait bounds how long a table under a steady stream of COPY chunks
// is left out of Iceberg (LoadQuiet).
const maxLoadWait = time.Minute

// loading reports whether the table is being loaded by COPY and its
// conversion should wait (Options.LoadQuiet). Wall-clock time on both
// sides: log.LastBulk is wall-clock.
func (c *Compactor) loading(id log.TableID, tg *target) bool {
	if c.opts.LoadQuiet <= 0 {
		return false
	}
	now := time.Now()
	if last := c.log.LastBulk(id); last.IsZero() || now.Sub(last) >= c.opts.LoadQuiet {
		tg.loadingSince = time.Time{}
		return false
	}
	if tg.loadingSince.IsZero() {
		tg.loadingSince = now
	}
	return now.Sub(tg.loadingSince) < maxLoadWait
}

// errTableDropped ends a table's compaction when DROP TABLE removed the
// table while its events were being converted.
var errTableDropped = errors.New("table dropped during compaction")

// alive returns errTableDropped when table id is no longer in the log's
// catalog. A pass works from the snapshot it started with; without this
// check it kept converting a dropped table to the end (a drop-and-reload
// of 10M rows shared the CPU with the conversion of the previous copy).
func (c *Compactor) alive(id log.TableID) error {
	if _, ok := c.log.Catalog().Table(id); !ok {
		return errTableDropped
	}
	return nil
}

type targetResult struct {
	watermark          uint64
	committed          time.Time
	files, bytes, rows int64
}

// compactTarget brings one Iceberg table of td up to the snapshot.
func (c *Compactor) compactTarget(ctx context.Context, snap *log.Snapshot, td *log.TableDesc, ts *tableState, sh shape, now time.Time) (targetResult, error) {
	rb, isc, err := newRowBuilder(c.mem, td, sh)
	if err != nil {
		return targetResult{}, err
	}
	defer rb.release()
	tg, err := c.openTarget(ctx, snap.Catalog(), td, ts, sh, isc)
	if err != nil {
		return targetResult{}, err
	}
	from, err := watermark(tg.tbl)
	if err != nil {
		return targetResult{}, err
	}
	res := func() targetResult {
		r := targetResult{watermark: max(from, snap.LSN())}
		if s := tg.tbl.CurrentSnapshot(); s != nil && s.Summary != nil {
			p := s.Summary.Properties
			r.files, _ = strconv.ParseInt(p.Get("total-data-files", "0"), 10, 64)
			r.bytes, _ = strconv.ParseInt(p.Get("total-files-size", "0"), 10, 64)
			r.rows, _ = strconv.ParseInt(p.Get("total-records", "0"), 10, 64)
			r.committed = time.UnixMilli(s.TimestampMs)
		}
		return r
	}
	if from >= snap.LSN() {
		r := res()
		r.watermark = from
		return r, nil
	}
	// Has anything happened to the table since the watermark? A table with
	// no new events needs no snapshot; its watermark moves in memory only.
	changed := false
	if err := snap.Events(td.ID, from, func(*log.Event) error { changed = true; return log.ErrStop }); err != nil {
		return targetResult{}, err
	}
	if !changed {
		return res(), nil
	}
	if c.loading(td.ID, tg) {
		r := res()
		r.watermark = from
		return r, nil
	}
	if ok, err := c.due(snap, td, tg, from, now); err != nil {
		return targetResult{}, err
	} else if !ok {
		// Batching: the events wait for a later pass.
		r := res()
		r.watermark = from
		return r, nil
	}
	if !tg.cleaned {
		if err := c.removeOrphans(ctx, tg); err != nil {
			return targetResult{}, err
		}
		tg.cleaned = true
	}
	fw := c.newFileSet(ctx, tg, from, snap.LSN())
	defer fw.abort()
	fw.alive = func() error { return c.alive(td.ID) }
	var scanErr error
	if sh == shapeState {
		scanErr = snap.ScanHeads(td.ID, nil, false, func(_ []byte, h *log.Head) error {
			if err := rb.addHead(h); err != nil {
				return err
			}
			return fw.maybeFlush(rb)
		})
	} else {
		scanErr = fw.scanEvents(snap, rb)
	}
	if scanErr != nil {
		return targetResult{}, scanErr
	}
	files, written, err := fw.finish(rb)
	if err != nil {
		return targetResult{}, err
	}
	// A partitioned table's files are added with the partition values
	// they were written for (partition.go); iceberg-go could only infer
	// them from the footers' statistics, which bucket cannot use and
	// truncated string bounds defeat.
	partitioned := !tg.tbl.Spec().IsUnpartitioned()
	var dfs []iceberg.DataFile
	if partitioned {
		if dfs, err = partitionedDataFiles(tg.tbl, written); err != nil {
			return targetResult{}, fmt.Errorf("%s: %w", identString(tg.ident), err)
		}
	}
	props := iceberg.Properties{
		PropLSNFrom: strconv.FormatUint(from, 10),
		PropLSNTo:   strconv.FormatUint(snap.LSN(), 10),
		PropTableID: strconv.FormatUint(uint64(td.ID), 10),
	}
	if c.opts.BeforeCommit != nil {
		if err := c.opts.BeforeCommit(tg.ident, files); err != nil {
			fw.keep() // a crash leaves the files behind: the orphans restart cleans
			return targetResult{}, err
		}
	}
	if err := c.alive(td.ID); err != nil {
		return targetResult{}, err
	}
	tx := tg.tbl.NewTransaction()
	if sh == shapeState {
		old, err := dataFiles(ctx, tg.tbl)
		if err != nil {
			return targetResult{}, err
		}
		switch {
		case len(old) == 0 && len(files) == 0:
			// No live key and nothing to replace: the state is already
			// right; the watermark moves in memory only.
			return res(), nil
		case partitioned && len(old) == 0:
			err = tx.AddDataFiles(ctx, dfs, props)
		case partitioned:
			var oldDFs []iceberg.DataFile
			if oldDFs, err = dataFileEntries(ctx, tg.tbl); err == nil {
				err = tx.ReplaceDataFilesWithDataFiles(ctx, oldDFs, dfs, props)
			}
		case len(old) == 0:
			err = tx.AddFiles(ctx, files, props, true)
		default:
			err = tx.ReplaceDataFiles(ctx, old, files, props)
		}
		if err != nil {
			return targetResult{}, fmt.Errorf("stage %s: %w", tg.ident, err)
		}
	} else {
		var err error
		if partitioned {
			err = tx.AddDataFiles(ctx, dfs, props)
		} else {
			err = tx.AddFiles(ctx, files, props, true)
		}
		if err != nil {
			return targetResult{}, fmt.Errorf("stage %s: %w", tg.ident, err)
		}
	}
	tbl, err := tx.Commit(ctx)
	if err != nil {
		// The commit may have happened (an S3 answer lost on the way back)
		// or another writer may have moved the table: forget the cached
		// table so the next pass reloads it and its watermark.
		ts.setTarget(sh, nil)
		return targetResult{}, fmt.Errorf("commit %s: %w", tg.ident, err)
	}
	fw.keep()
	tg.tbl = tbl
	tg.pendingSince = time.Time{}
	c.opts.Logger.Debug("iceberg commit", slog.String("table", identString(tg.ident)),
		slog.Uint64("lsn_from", from), slog.Uint64("lsn_to", snap.LSN()), slog.Int("files", len(files)))
	if err := c.maintain(ctx, td, tg, sh); err != nil {
		// The commit stands; the upkeep is retried after the next one.
		return res(), err
	}
	return res(), nil
}

// target and setTarget read and set one shape's target (nil: reload it).
func (ts *tableState) target(sh shape) *target {
	ts.targetsMu.Lock()
	defer ts.targetsMu.Unlock()
	return ts.targets[sh]
}

func (ts *tableState) setTarget(sh shape, tg *target) {
	ts.targetsMu.Lock()
	defer ts.targetsMu.Unlock()
	if tg == nil {
		delete(ts.targets, sh)
		return
	}
	ts.targets[sh] = tg
}

// watermark reads the LSN the table's current snapshot covers up to.
func watermark(tbl *table.Table) (uint64, error) {
	s := tbl.CurrentSnapshot()
	if s == nil || s.Summary == nil {
		return 0, nil
	}
	v, ok := s.Summary.Properties[PropLSNTo]
	if !ok {
		return 0, fmt.Errorf("%s: current snapshot %d has no %s: was it written by another engine?", identString(tbl.Identifier()), s.SnapshotID, PropLSNTo)
	}
	wm, err := strconv.ParseUint(v, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("%s: snapshot %d: bad %s %q", identString(tbl.Identifier()), s.SnapshotID, PropLSNTo, v)
	}
	return wm, nil
}

// dataFiles lists the data files of the table's current snapshot.
func dataFiles(ctx context.Context, tbl *table.Table) ([]string, error) {
	if tbl.CurrentSnapshot() == nil {
		return nil, nil
	}
	tasks, err := tbl.Scan().PlanFiles(ctx)
	if err != nil {
		return nil, fmt.Errorf("plan %s: %w", identString(tbl.Identifier()), err)
	}
	out := make([]string, 0, len(tasks))
	for _, t := range tasks {
		out = append(out, t.File.FilePath())
	}
	return out, nil
}

// dataFileEntries lists the data files of the table's current snapshot
// with their manifest entries' details (partition values among them).
func dataFileEntries(ctx context.Context, tbl *table.Table) ([]iceberg.DataFile, error) {
	tasks, err := tbl.Scan().PlanFiles(ctx)
	if err != nil {
		return nil, fmt.Errorf("plan %s: %w", identString(tbl.Identifier()), err)
	}
	out := make([]iceberg.DataFile, 0, len(tasks))
	for _, t := range tasks {
		out = append(out, t.File)
	}
	return out, nil
}

// removeOrphans deletes data files that no snapshot refers to: Parquet
// written by a pass that crashed (or failed) before its commit.
func (c *Compactor) removeOrphans(ctx context.Context, tg *target) error {
	if tg.tbl.CurrentSnapshot() == nil {
		// Nothing can refer to anything yet: everything in data/ is an orphan.
		fs, err := tg.tbl.FS(ctx)
		if err != nil {
			return err
		}
		if rfs, ok := fs.(interface{ RemoveAll(string) error }); ok {
			if err := rfs.RemoveAll(dataDir(tg.tbl)); err != nil {
				return fmt.Errorf("%s: remove orphans: %w", identString(tg.ident), err)
			}
		}
		return nil
	}
	res, err := tg.tbl.DeleteOrphanFiles(ctx, table.WithLocation(dataDir(tg.tbl)), table.WithFilesOlderThan(0))
	if err != nil {
		return fmt.Errorf("%s: remove orphans: %w", identString(tg.ident), err)
	}
	if n := len(res.DeletedFiles); n > 0 {
		c.opts.Logger.Info("iceberg: removed orphan files", slog.String("table", identString(tg.ident)), slog.Int("files", n))
	}
	return nil
}

func dataDir(tbl *table.Table) string { return tbl.Location() + "/data" }

// openTarget loads (or creates) the Iceberg table of one shape of td and
// brings its schema to isc.
func (c *Compactor) openTarget(ctx context.Context, cat *log.Catalog, td *log.TableDesc, ts *tableState, sh shape, isc *iceberg.Schema) (*target, error) {
	name := td.Name
	if sh == shapeChanges {
		name += ChangesSuffix
	}
	ident := table.Identifier{td.Schema, name}
	tg := ts.target(sh)
	if tg == nil || !slices.Equal(tg.ident, ident) {
		tbl, err := c.cat.LoadTable(ctx, ident)
		switch {
		case errors.Is(err, catalog.ErrNoSuchTable):
			tbl, err = c.createTable(ctx, ident, td, sh)
			if err != nil {
				return nil, err
			}
		case err != nil:
			return nil, fmt.Errorf("load %s: %w", identString(ident), err)
		}
		if !belongsTo(tbl, td) {
			if tbl, err = c.takeOver(ctx, cat, ident, tbl, td); err != nil {
				return nil, err
			}
		}
		tg = &target{ident: ident, tbl: tbl}
		ts.setTarget(sh, tg)
	}
	if cur := tg.tbl.Schema(); !sameFields(cur, isc) {
		if _, _, err := c.cat.CommitTable(ctx, ident,
			[]table.Requirement{table.AssertCurrentSchemaID(cur.ID)},
			[]table.Update{table.NewAddSchemaUpdate(isc), table.NewSetCurrentSchemaUpdate(-1)}); err != nil {
			// The commit may have landed all the same (a lost response):
			// reload the table next time rather than retry from a stale
			// schema id.
			ts.setTarget(sh, nil)
			return nil, fmt.Errorf("evolve schema of %s: %w", identString(ident), err)
		}
		tbl, err := c.cat.LoadTable(ctx, ident)
		if err != nil {
			return nil, fmt.Errorf("load %s: %w", identString(ident), err)
		}
		tg.tbl = tbl
	}
	if err := c.ensureSpec(ctx, td, ts, sh, tg); err != nil {
		return nil, err
	}
	return tg, nil
}

// ensureSpec gives a new table td's partition spec. A table is created
// unpartitioned with an empty schema (see createTable); the spec can only
// be added once the schema holds its source columns, so it is added here,
// before the first snapshot, also after a crash between the two commits.
// Strand never changes a spec afterwards: partition_by is set at CREATE.
func (c *Compactor) ensureSpec(ctx context.Context, td *log.TableDesc, ts *tableState, sh shape, tg *target) error {
	cur := tg.tbl.Spec()
	if !cur.IsUnpartitioned() || tg.tbl.CurrentSnapshot() != nil {
		return nil
	}
	spec, err := partitionSpec(td)
	if err != nil || spec.IsUnpartitioned() {
		return err
	}
	if _, _, err := c.cat.CommitTable(ctx, tg.ident,
		[]table.Requirement{table.AssertDefaultSpecID(cur.ID())},
		[]table.Update{table.NewAddPartitionSpecUpdate(&spec, false), table.NewSetDefaultSpecUpdate(-1)}); err != nil {
		ts.setTarget(sh, nil)
		return fmt.Errorf("set partition spec of %s: %w", identString(tg.ident), err)
	}
	tbl, err := c.cat.LoadTable(ctx, tg.ident)
	if err != nil {
		return fmt.Errorf("load %s: %w", identString(tg.ident), err)
	}
	tg.tbl = tbl
	return nil
}

// takeOver gives td the Iceberg table of a dropped Strand table of the same
// name (DROP TABLE, then CREATE TABLE): its snapshots are removed and it is
// marked as td's, so it starts over as a new table (openTarget then sets
// td's schema; the dropped table's data files become orphans, which
// removeOrphans deletes). A table that belongs to a live Strand table, or
// to none Strand knows, is left alone.
func (c *Compactor) takeOver(ctx context.Context, cat *log.Catalog, ident table.Identifier, tbl *table.Table, td *log.TableDesc) (*table.Table, error) {
	got := tbl.Properties().Get(PropTableID, "")
	owner, err := strconv.ParseUint(got, 10, 32)
	if err != nil {
		return nil, fmt.Errorf("Iceberg table %s belongs to Strand table id %q, not %d", identString(ident), got, td.ID)
	}
	if _, live := cat.Table(log.TableID(owner)); live || log.TableID(owner) > td.ID {
		return nil, fmt.Errorf("Iceberg table %s belongs to Strand table id %q, not %d", identString(ident), got, td.ID)
	}
	md := tbl.Metadata()
	var updates []table.Update
	if md.CurrentSnapshot() != nil {
		updates = append(updates, table.NewRemoveSnapshotRefUpdate(table.MainBranch))
	}
	var ids []int64
	for _, s := range md.Snapshots() {
		ids = append(ids, s.SnapshotID)
	}
	if len(ids) > 0 {
		updates = append(updates, table.NewRemoveSnapshotsUpdate(ids, false))
	}
	updates = append(updates, table.NewSetPropertiesUpdate(iceberg.Properties{PropTableID: strconv.FormatUint(uint64(td.ID), 10)}))
	if _, _, err := c.cat.CommitTable(ctx, ident, []table.Requirement{table.AssertTableUUID(md.TableUUID())}, updates); err != nil {
		return nil, fmt.Errorf("take over %s from dropped table id %s: %w", identString(ident), got, err)
	}
	c.opts.Logger.Info("iceberg table of a dropped table reused", slog.String("table", identString(ident)),
		slog.String("dropped_id", got), slog.Uint64("id", uint64(td.ID)), slog.Int("snapshots_removed", len(ids)))
	tbl, err = c.cat.LoadTable(ctx, ident)
	if err != nil {
		return nil, fmt.Errorf("load %s: %w", identString(ident), err)
	}
	return tbl, nil
}

// createTable creates an empty Iceberg table; openTarget then sets its
// schema. (Catalogs give a new table's schema fresh field ids; adding
// the schema afterwards keeps Strand's column IDs.)
func (c *Compactor) createTable(ctx context.Context, ident table.Identifier, td *log.TableDesc, sh shape) (*table.Table, error) {
	ns := catalog.NamespaceFromIdent(ident)
	ok, err := c.cat.CheckNamespaceExists(ctx, ns)
	if err != nil {
		return nil, fmt.Errorf("namespace %s: %w", identString(ns), err)
	}
	if !ok {
		if err := c.cat.CreateNamespace(ctx, ns, nil); err != nil && !errors.Is(err, catalog.ErrNamespaceAlreadyExists) {
			return nil, fmt.Errorf("create namespace %s: %w", identString(ns), err)
		}
	}
	props := iceberg.Properties{
		PropTableID:                       strconv.FormatUint(uint64(td.ID), 10),
		PropShape:                         []string{"stream", "changes", "state"}[sh],
		"write.parquet.compression-codec": "zstd",
		"write.parquet.compression-level": "1",
	}
	tbl, err := c.cat.CreateTable(ctx, ident, iceberg.NewSchema(0), catalog.WithProperties(props))
	if err != nil {
		return nil, fmt.Errorf("create %s: %w", identString(ident), err)
	}
	return tbl, nil
}

// sameFields compares schemas ignoring their ids.
func sameFields(a, b *iceberg.Schema) bool {
	if len(a.Fields()) != len(b.Fields()) {
		return false
	}
	for i, f := range a.Fields() {
		if !f.Equals(b.Fields()[i]) {
			return false
		}
	}
	ai, bi := a.IdentifierFieldIDs, b.IdentifierFieldIDs
	if len(ai) != len(bi) {
		return false
	}
	for i := range ai {
		if ai[i] != bi[i] {
			return false
		}
	}
	return true
}

func identString(id table.Identifier) string { return strings.Join(id, ".") }

func sortStatus(st []TableStatus) {
	slices.SortFunc(st, func(a, b TableStatus) int {
		return cmp.Or(cmp.Compare(a.Schema, b.Schema), cmp.Compare(a.Name, b.Name))
	})
}

func newFileName(from, to uint64, n int) string {
	return fmt.Sprintf("%020d-%020d-%05d-%s.parquet", from, to, n, uuid.NewString())
}
