package iceberg

import (
	"context"
	"errors"
	"fmt"
	iofs "io/fs"
	"log/slog"
	"math"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/apache/iceberg-go"
	"github.com/apache/iceberg-go/table"

	"github.com/strand-db/strand/log"
)

// File sizing, commit batching, merging and snapshot expiry.
//
// A steady stream of large commits needs none of this: data files close at
// TargetFileSize. A trickle does: every commit adds at least one file, so
// 100 rows/s compacted every 10 s would leave 360 tiny files an hour (and
// readers open every one). Three things keep that in check:
//
//   - Commit batching (CommitRows, CommitDelay): a table's new events wait
//     until enough are pending or the oldest has waited long enough.
//   - Merging (MergeFiles): small files of an append-only Iceberg table are
//     grouped in size tiers, each 8 times the one below (under 512 KiB,
//     under 4 MiB, under 32 MiB, ...); once a tier holds MergeFiles files
//     they are rewritten into one, in a "replace" snapshot. A row is thus
//     rewritten about once per tier (log8 of the target size over the
//     commit size), not once per merge, and a table keeps at most
//     MergeFiles-1 files per tier below the target size. The replace
//     snapshot records the watermark unchanged (PropLSNFrom = PropLSNTo =
//     W), so the exactly-once bookkeeping and the catalog's log-range check
//     see it as covering no new events; a crash before its commit leaves
//     only orphans, removed like any others.
//   - Expiry (SnapshotRetention, KeepSnapshots): old snapshots are removed
//     from the metadata and the data and manifest files only they referred
//     to are deleted, so merged-away files do not stay on disk forever.
//
// A keyed table's current-state table is rewritten whole by every commit
// (copy-on-write), so it never accumulates files and is not merged.

// Defaults of the file-management options.
const (
	DefaultTargetFileSize    = 128 << 20
	DefaultMergeFiles        = 8
	DefaultSnapshotRetention = 24 * time.Hour
	DefaultKeepSnapshots     = 10
	// mergeTierBase is the size of the smallest tier's unit (64 KiB): tier
	// t holds files of 64 KiB·8^t up to 64 KiB·8^(t+1) (tier 0 from 0).
	mergeTierBase = 64 << 10
	// PropOperation marks a snapshot Strand wrote that moved no events
	// ("merge"); commits of new events have none.
	PropOperation = "strand.operation"
)

// fillFileDefaults sets the defaults of the file-management options.
func fillFileDefaults(o *Options) {
	if o.TargetFileSize <= 0 {
		o.TargetFileSize = DefaultTargetFileSize
	}
	if o.FileRows < 0 {
		o.FileRows = 0
	}
	if o.BatchRows <= 0 {
		o.BatchRows = 128 << 10
	}
	if o.FileRows > 0 && o.BatchRows > o.FileRows {
		o.BatchRows = o.FileRows
	}
	if o.CommitRows > 0 && o.CommitDelay <= 0 {
		// Rows alone would hold a trickle back forever.
		o.CommitDelay = time.Minute
	}
	if o.MergeFiles == 0 {
		o.MergeFiles = DefaultMergeFiles
	}
	if o.MergeFiles == 1 {
		o.MergeFiles = 2 // merging one file into itself gains nothing
	}
	if o.SnapshotRetention == 0 {
		o.SnapshotRetention = DefaultSnapshotRetention
	}
	if o.KeepSnapshots <= 0 {
		o.KeepSnapshots = DefaultKeepSnapshots
	}
	if o.Parallelism <= 0 {
		// One per CPU: strand serve runs more Ps than CPUs (for goroutines
		// blocked in system calls), which is no reason to compact more
		// tables at once.
		o.Parallelism = min(runtime.GOMAXPROCS(0), runtime.NumCPU())
	}
	if o.Now == nil {
		o.Now = time.Now
	}
}

// due reports whether a target's pending events (those after from) are to
// be committed in this pass, as CommitRows and CommitDelay say.
func (c *Compactor) due(snap *log.Snapshot, td *log.TableDesc, tg *target, from uint64, now time.Time) (bool, error) {
	if c.opts.CommitRows <= 0 && c.opts.CommitDelay <= 0 {
		return true, nil
	}
	if tg.pendingSince.IsZero() {
		tg.pendingSince = now
	}
	if now.Sub(tg.pendingSince) >= c.opts.CommitDelay {
		return true, nil
	}
	if c.opts.CommitRows <= 0 {
		return false, nil
	}
	n := 0
	err := snap.Events(td.ID, from, func(*log.Event) error {
		n++
		if n >= c.opts.CommitRows {
			return log.ErrStop
		}
		return nil
	})
	return n >= c.opts.CommitRows, err
}

// mergeTier is the size tier of a small file.
func mergeTier(size int64) int {
	t := 0
	for s := size / mergeTierBase; s >= 8; s /= 8 {
		t++
	}
	return t
}

// planMerge picks the small files to merge: every size tier holding at
// least MergeFiles files below 3/4 of the target size. In a partitioned
// table tiers are counted per partition, and a group never mixes
// partitions: a merged file must hold one partition's rows, as the files
// it replaces did (iceberg-go's rewrite writes its output by the spec).
func (c *Compactor) planMerge(tasks []table.FileScanTask) [][]table.FileScanTask {
	type tierKey struct {
		tier int
		part string
	}
	small := c.opts.TargetFileSize * 3 / 4
	tiers := map[tierKey][]table.FileScanTask{}
	for _, t := range tasks {
		if len(t.DeleteFiles) > 0 || len(t.EqualityDeleteFiles) > 0 || len(t.DeletionVectorFiles) > 0 || t.Start != 0 {
			continue // Strand writes no deletes; a split file is not small
		}
		if sz := t.File.FileSizeBytes(); sz < small {
			k := tierKey{tier: mergeTier(sz), part: partitionKey(t.File)}
			tiers[k] = append(tiers[k], t)
		}
	}
	keys := make([]tierKey, 0, len(tiers))
	for k := range tiers {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b tierKey) int {
		if a.tier != b.tier {
			return a.tier - b.tier
		}
		return strings.Compare(a.part, b.part)
	})
	var groups [][]table.FileScanTask
	for _, k := range keys {
		if g := tiers[k]; len(g) >= c.opts.MergeFiles {
			groups = append(groups, g)
		}
	}
	return groups
}

// mergeSmallFiles rewrites piled-up small files of an append-only Iceberg
// table into bigger ones, in one replace snapshot that keeps the watermark.
// It returns the number of files merged away.
func (c *Compactor) mergeSmallFiles(ctx context.Context, td *log.TableDesc, tg *target) (int, error) {
	if c.opts.MergeFiles < 0 || tg.tbl.CurrentSnapshot() == nil {
		return 0, nil
	}
	wm, err := watermark(tg.tbl)
	if err != nil {
		return 0, err
	}
	tasks, err := tg.tbl.Scan().PlanFiles(ctx)
	if err != nil {
		return 0, fmt.Errorf("plan %s: %w", identString(tg.ident), err)
	}
	plan := c.planMerge(tasks)
	if len(plan) == 0 {
		return 0, nil
	}
	groups := make([]table.CompactionTaskGroup, len(plan))
	n := 0
	for i, g := range plan {
		groups[i].Tasks = g
		for _, t := range g {
			groups[i].TotalSizeBytes += t.File.FileSizeBytes()
		}
		n += len(g)
	}
	w := strconv.FormatUint(wm, 10)
	props := iceberg.Properties{
		PropLSNFrom:   w,
		PropLSNTo:     w,
		PropTableID:   strconv.FormatUint(uint64(td.ID), 10),
		PropOperation: "merge",
	}
	res, err := tg.tbl.RewriteDataFiles(ctx, groups, table.RewriteDataFilesOptions{
		SnapshotProps: props,
		GroupOptions:  []table.CompactionGroupOption{table.WithCompactionTargetFileSize(c.opts.TargetFileSize)},
	})
	if err != nil {
		// Files written before the failure are orphans: clean up before
		// the next write to this table.
		tg.cleaned = false
		return 0, fmt.Errorf("merge small files of %s: %w", identString(tg.ident), err)
	}
	if res.Table != nil {
		tg.tbl = res.Table
	}
	c.opts.Logger.Debug("iceberg merge", slog.String("table", identString(tg.ident)),
		slog.Int("files_in", res.RemovedDataFiles), slog.Int("files_out", res.AddedDataFiles))
	return n, nil
}

// expireSnapshots removes the target's snapshots older than the retention
// (keeping the newest KeepSnapshots and the current one) and deletes the
// files only they referred to.
func (c *Compactor) expireSnapshots(ctx context.Context, tg *target) error {
	if c.opts.SnapshotRetention < 0 {
		return nil
	}
	md := tg.tbl.Metadata()
	snaps := md.Snapshots()
	if len(snaps) <= c.opts.KeepSnapshots {
		return nil
	}
	// Nothing old enough: skip the commit (ExpireSnapshots would stage an
	// empty one).
	cutoff := time.Now().Add(-c.opts.SnapshotRetention).UnixMilli()
	old := 0
	for _, s := range snaps {
		if s.TimestampMs < cutoff {
			old++
		}
	}
	if old == 0 {
		return nil
	}
	// iceberg-go's own file cleanup (WithPostCommit) also tries to delete
	// the files that earlier expiries already deleted (a manifest's
	// DELETED entries) and fails on them; the files are deleted here
	// instead: manifest lists and manifests only expired snapshots used,
	// then every data file no remaining snapshot refers to.
	pre := tg.tbl
	tx := pre.NewTransaction()
	if err := tx.ExpireSnapshots(table.WithOlderThan(c.opts.SnapshotRetention), table.WithRetainLast(c.opts.KeepSnapshots),
		table.WithPostCommit(false)); err != nil {
		return fmt.Errorf("expire snapshots of %s: %w", identString(tg.ident), err)
	}
	post, err := tx.Commit(ctx)
	if err != nil {
		return fmt.Errorf("expire snapshots of %s: %w", identString(tg.ident), err)
	}
	tg.tbl = post
	return c.deleteExpired(ctx, pre, post, tg)
}

// deleteExpired deletes the metadata files of the snapshots pre has and
// post does not, and the data files no snapshot of post refers to.
func (c *Compactor) deleteExpired(ctx context.Context, pre, post *table.Table, tg *target) error {
	fs, err := post.FS(ctx)
	if err != nil {
		return err
	}
	kept := map[int64]bool{}
	live := map[string]bool{}
	for _, s := range post.Metadata().Snapshots() {
		kept[s.SnapshotID] = true
		live[s.ManifestList] = true
		mans, err := s.Manifests(fs)
		if err != nil {
			return fmt.Errorf("%s: read manifests: %w", identString(tg.ident), err)
		}
		for _, m := range mans {
			live[m.FilePath()] = true
		}
	}
	var dead []string
	for _, s := range pre.Metadata().Snapshots() {
		if kept[s.SnapshotID] {
			continue
		}
		dead = append(dead, s.ManifestList)
		mans, err := s.Manifests(fs)
		if err != nil {
			return fmt.Errorf("%s: read manifests: %w", identString(tg.ident), err)
		}
		for _, m := range mans {
			dead = append(dead, m.FilePath())
		}
	}
	for _, p := range dead {
		if live[p] {
			continue
		}
		if err := fs.Remove(p); err != nil && !errors.Is(err, iofs.ErrNotExist) {
			return fmt.Errorf("%s: delete %s: %w", identString(tg.ident), p, err)
		}
		live[p] = true // listed by several expired snapshots
	}
	res, err := tg.tbl.DeleteOrphanFiles(ctx, table.WithLocation(dataDir(tg.tbl)), table.WithFilesOlderThan(0))
	if err != nil {
		return fmt.Errorf("%s: delete expired data files: %w", identString(tg.ident), err)
	}
	c.opts.Logger.Debug("iceberg expiry", slog.String("table", identString(tg.ident)),
		slog.Int("snapshots", len(pre.Metadata().Snapshots())-len(kept)), slog.Int("data_files", len(res.DeletedFiles)))
	return nil
}

// maintain runs the upkeep of one Iceberg table after its commit: merging
// (append-only tables) and expiry. Its errors do not stop compaction; they
// are reported in the table's status like a failed commit.
func (c *Compactor) maintain(ctx context.Context, td *log.TableDesc, tg *target, sh shape) error {
	if sh != shapeState {
		if _, err := c.mergeSmallFiles(ctx, td, tg); err != nil {
			return err
		}
	}
	return c.expireSnapshots(ctx, tg)
}

// ParseSize reads a byte size: a number of bytes, or one with a KiB, MiB or
// GiB suffix ("128MiB").
func ParseSize(s string) (int64, error) {
	mult := int64(1)
	num := s
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KiB", 1 << 10}, {"MiB", 1 << 20}, {"GiB", 1 << 30}} {
		if strings.HasSuffix(s, u.suffix) {
			num, mult = strings.TrimSuffix(s, u.suffix), u.mult
			break
		}
	}
	n, err := strconv.ParseInt(strings.TrimSpace(num), 10, 64)
	if err != nil || n <= 0 || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("size %q: want a positive number of bytes, KiB, MiB or GiB", s)
	}
	return n * mult, nil
}
