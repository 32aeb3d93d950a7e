package views

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

// Backfill: how a new view is filled from the rows that existed before it
// while writes keep committing.
//
// A view's state is a function of the multiset of its sources' rows, and
// every operator turns any sequence of deltas into the same state as the
// rows all at once (that is what the delta rules guarantee). So the view
// need not be built from all rows in one step: it can be built from a
// growing subset of them, the *admitted* rows, as long as every change is
// applied to the view exactly when it changes an admitted row. For each
// source of a backfilling view the record (below) defines the subset:
//
//   - a keyed table or a source view: the keys below a cursor (a view's
//     rows are keyed by their place in its output). A change of a key at
//     or past the cursor is not applied: the row it leaves will be read
//     when the cursor passes it;
//   - a stream: the events below a cursor LSN, and every event after the
//     view was created (their LSN is above the record's LSN, so they are
//     applied as they commit and never read by the backfill);
//   - a source not reached yet admits nothing (a stream: only the events
//     after the creation); a source read to its end admits everything.
//
// A backfill step is a commit of its own, sequenced like any intent. It
// reads the next rows of the current source past the cursor from the same
// state every intent reads inside the sequencer (everything committed or
// sequenced before it), feeds them to the view as insertions, and moves
// the cursor past them, all in one batch. Because the rows are read in
// the commit that admits them, no change can fall between the read and
// the admission: the view equals its query over the admitted rows after
// every commit, whatever the interleaving. Joins need nothing more: a
// step's rows are a delta of one input, joined with what the other inputs
// have admitted, exactly as a write's would be (a self join feeds the rows
// to both of its leaves, like a write that touches the table twice). When
// the last source is read to its end every row is admitted, and the view
// is live: it equals its query over its sources.
//
// The rows are deliberately not read from an older snapshot outside the
// sequencer: rows changed between that snapshot and the step's commit
// would need reconciling, and reading is a small part of a step next to
// applying the rows to the view, which must happen in the sequencer anyway
// (view state has one writer). A step stops after ChunkRows rows or
// ChunkTime, whichever comes first, so a writer waits for at most one
// step; intents that arrive meanwhile commit in the next group. When
// writers submitted intents during the step, the worker then pauses as
// long as the step took, so that writers keep at least half of the
// sequencer's time while a backfill runs; with none the next step goes
// at once.
//
// Order: the commit that creates a view writes its record, initialises the
// state of an empty input (aggregates without GROUP BY), and takes the
// first step: a view over small tables is live when CREATE commits. The
// rest is taken by the maintainer's worker, one view at a time, in
// dependency order, so a view over a view starts only once its source is
// live. The record lives in the view's state and commits with each step,
// so after a crash the backfill resumes where the last durable step left
// it. A view that reads a backfilling view admits that view's rows by
// their output key as above, so the source's steps reach it as ordinary
// deltas. A step that fails (an expression error on some row) marks the
// view failed; its CREATE reports the error and drops it.
//
// Readers: a backfilling view is not queryable (55000, with its progress);
// the session that created it waits until it is live, with NOTICEs.

// Backfill states.
const (
	stateBackfilling = "backfilling"
	stateLive        = "live"
	stateFailed      = "failed"
)

// backfillRecord is a view's backfill progress, stored under 0x10 view 'b'.
type backfillRecord struct {
	State string `json:"state"`
	// Done are the sources read to their end; Cur is the source being
	// read (0: none) and Cursor its next key (an encoded LSN for a
	// stream).
	Done   []log.TableID `json:"done,omitempty"`
	Cur    log.TableID   `json:"cur,omitempty"`
	Cursor []byte        `json:"cursor,omitempty"`
	// LSN is the last LSN before the creating commit: a stream's later
	// events are applied live.
	LSN uint64 `json:"lsn"`
	// ShortKeys: the view's join and top-N state keys end a keyed
	// table's row with its key columns, not the whole row (views made
	// before this was done keep whole-row keys).
	ShortKeys bool `json:"short_keys,omitempty"`
	// FactOutput: a fact-dimension join view (plan.go, factJoinOf) keeps
	// a fact row that has its dimension row only in its output row,
	// keyed by the join key and then the fact table's key (views made
	// before this was done keep every fact row in the join's state).
	FactOutput bool `json:"fact_output,omitempty"`
	// CompactKeys: integers in the view's keys take the bytes their value
	// needs (state.go, appendInt); views made before use eight.
	CompactKeys bool `json:"compact_keys,omitempty"`
	// TopOutput: the view's rows are not stored but read from its root
	// top-N's candidates, as this says (topout.go); views made before
	// this was done store them.
	TopOutput *topOutput `json:"top_output,omitempty"`
	// WindowOrder: the view's window operators key their rows by
	// partition, then ORDER BY values, then row (window.go); views made
	// before key them by partition and row.
	WindowOrder bool `json:"window_order,omitempty"`
	// LSNOutput: a filter or projection of a stream keys its output rows
	// by their events' LSNs (plan.go, streamRows); views made before key
	// them by the row.
	LSNOutput bool `json:"lsn_output,omitempty"`
	// WindowRunning: a window operator of running functions (windowrun.go)
	// stores with each row its functions' values; views made before store
	// the row alone.
	WindowRunning bool `json:"window_running,omitempty"`
	// JoinBand: a join bounded by a range of a column (joinband.go) keys
	// its rows by the join key, then that column; views made before key
	// them by the join key and the row.
	JoinBand bool `json:"join_band,omitempty"`
	// WindowDefer: the view's window operators keep their rows aside
	// until the sources are read, then take them in order
	// (windowdefer.go); Settle is how far each has.
	WindowDefer bool           `json:"window_defer,omitempty"`
	Settle      []windowSettle `json:"settle,omitempty"`
	RowsDone    int64          `json:"rows_done"`
	RowsTotal   int64          `json:"rows_total,omitempty"`
	Steps       int64          `json:"steps"`
	Started     int64          `json:"started"`
	Finished    int64          `json:"finished,omitempty"`
	Error       string         `json:"error,omitempty"`
	Code        string         `json:"code,omitempty"`
}

func recordKey(view log.TableID) []byte { return sub(view, 'b') }

func (b *backfillRecord) done(src log.TableID) bool {
	for _, d := range b.Done {
		if d == src {
			return true
		}
	}
	return false
}

// admitsKey reports whether a keyed table's (or a source view's) row
// with this key is admitted.
func (b *backfillRecord) admitsKey(src log.TableID, key []byte) bool {
	if b.done(src) {
		return true
	}
	return b.Cur == src && bytes.Compare(key, b.Cursor) < 0
}

// admitsLSN reports whether a stream's event is admitted.
func (b *backfillRecord) admitsLSN(src log.TableID, lsn uint64) bool {
	if lsn > b.LSN || b.done(src) {
		return true
	}
	return b.Cur == src && len(b.Cursor) == 8 && lsn < binary.BigEndian.Uint64(b.Cursor)
}

func (b *backfillRecord) admitsChange(leaf *Scan, ch *log.Change) bool {
	if leaf.Layout.Desc.Kind == log.Stream {
		return b.admitsLSN(leaf.Source, ch.LSN)
	}
	return b.admitsKey(leaf.Source, ch.Key)
}

// backfillOf returns a view's record while it is backfilling (nil when it
// is live), as this intent sees it.
func (r *run) backfillOf(id log.TableID) (*backfillRecord, error) {
	if r.m.live[id] {
		return nil, nil
	}
	if rec, ok := r.recs[id]; ok {
		if rec.State == stateLive {
			return nil, nil
		}
		return rec, nil
	}
	v, found, err := r.ov.get(recordKey(id))
	if err != nil {
		return nil, err
	}
	rec := &backfillRecord{State: stateLive}
	if found {
		if err := json.Unmarshal(v, rec); err != nil {
			return nil, fmt.Errorf("materialized view %d: corrupt backfill record: %w", id, err)
		}
	}
	r.recs[id] = rec
	r.m.layouts[id] = layoutOf(rec)
	if rec.State == stateLive {
		r.newlyLive = append(r.newlyLive, id)
		return nil, nil
	}
	return rec, nil
}

func (r *run) writeRecord(id log.TableID, rec *backfillRecord) error {
	v, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	r.ov.set(recordKey(id), v)
	r.recs[id] = rec
	r.m.layouts[id] = layoutOf(rec)
	return nil
}

// startBackfills registers the views new in this intent (all records
// first, so that no new view takes another's deltas before its own
// start), initialises their empty-input state and takes each one's first
// step.
func (r *run) startBackfills(old *log.Catalog, lastLSN uint64) error {
	var fresh []*Plan
	now := time.Now().UnixMicro()
	for _, p := range r.c.order {
		if _, existed := old.Tables[p.View]; existed {
			continue
		}
		fresh = append(fresh, p)
		rec := newViewRecord(p)
		rec.State, rec.LSN, rec.Started = stateBackfilling, lastLSN, now
		if err := r.writeRecord(p.View, rec); err != nil {
			return err
		}
	}
	for _, p := range fresh {
		r.use(p)
		clear(r.out)
		for _, a := range p.ungrouped {
			if err := r.initUngrouped(a); err != nil {
				return err
			}
		}
		// The initial rows reach the operators above now, in this
		// plan (an aggregate above folds them until its pass settles).
		if err := r.settle(p); err != nil {
			return err
		}
		rec := r.recs[p.View]
		if err := r.chunk(p, rec, 1); err != nil {
			return err
		}
		if rec.State != stateLive {
			r.waiting = true
		}
	}
	return nil
}

// newViewRecord is the record of a view created now: its key layout, the
// newest (short keys, fact-dimension join output, compact integers, a
// top-N's rows read from its candidates, ordered window rows with their
// running values, banded join rows).
func newViewRecord(p *Plan) *backfillRecord {
	return &backfillRecord{ShortKeys: true, FactOutput: true, CompactKeys: true, TopOutput: topOutputOf(p, true), WindowOrder: true, LSNOutput: true, WindowRunning: true, JoinBand: true, WindowDefer: true}
}

// layOutAsNew lays out a plan compiled for a look at it (OutputKey,
// Explain; the maintainer compiles its own) as a view created now.
func (p *Plan) layOutAsNew() {
	p.prepare()
	p.initKeys()
	p.setLayout(layoutOf(newViewRecord(p)))
}

// OutputKey returns the output columns a view created now keys its output
// rows by when that is not the whole row: a keyed table's key columns
// (each output row stands for one of its rows), or a fact-dimension
// join's key and then the fact table's key. A lookup by a leading run of
// them reads a range of the output. It is nil for other views, and for a
// top-N whose rows are read from its candidates (TopOutputKey). p is
// compiled for the purpose; the maintainer compiles its own.
func OutputKey(p *Plan) []int {
	p.layOutAsNew()
	if p.top != nil {
		return nil
	}
	return slices.Clone(p.outKeyCols)
}

// backfillTask is the HookTask of a backfill step. The worker fills in
// total and failed; the hook reports what it did.
type backfillTask struct {
	// total, if positive, is the counted size of view's sources.
	total     int64
	totalView log.TableID
	// failed marks view failed with err instead of taking a step.
	failed    log.TableID
	failedErr error
	// scale multiplies the step's budget (stepBudget): the worker grows
	// it while no writer comes (stepScale).
	scale int

	// Set by the hook.
	idle    bool
	view    log.TableID
	rec     backfillRecord
	sources []sourceInfo
	// took is the time the step held the sequencer.
	took time.Duration
}

type sourceInfo struct {
	id   log.TableID
	kind log.TableKind
}

// step takes one backfill step of the first backfilling view in
// dependency order.
func (r *run) step(t *backfillTask) error {
	if t.failed != 0 {
		rec, err := r.backfillOf(t.failed)
		if err != nil || rec == nil || r.c.plans[t.failed] == nil {
			return err
		}
		rec.State, rec.Error, rec.Finished = stateFailed, t.failedErr.Error(), time.Now().UnixMicro()
		var pe *pgerr.Error
		if errors.As(t.failedErr, &pe) {
			rec.Code = string(pe.Code)
		}
		return r.writeRecord(t.failed, rec)
	}
	for _, p := range r.c.order {
		rec, err := r.backfillOf(p.View)
		if err != nil {
			return err
		}
		if rec == nil || rec.State != stateBackfilling {
			continue
		}
		t.view = p.View
		for _, src := range p.Sources() {
			si := sourceInfo{id: src, kind: log.View}
			if td, ok := r.c.tableDesc(p, src); ok {
				si.kind = td.Kind
			}
			t.sources = append(t.sources, si)
		}
		if t.totalView == p.View && rec.RowsTotal == 0 {
			rec.RowsTotal = t.total
		}
		start := time.Now()
		if err := r.chunk(p, rec, t.scale); err != nil {
			return err
		}
		t.took = time.Since(start)
		t.rec = *rec
		return nil
	}
	t.idle = true
	return nil
}

// tableDesc finds a source's descriptor through the plan's leaves.
func (c *compiled) tableDesc(p *Plan, src log.TableID) (*log.TableDesc, bool) {
	for _, l := range p.leaves {
		if l.Source == src && l.Layout != nil {
			return l.Layout.Desc, true
		}
	}
	return nil, false
}

// chunk is one step of p's backfill: rows of its sources past the cursor,
// in batches, until the step's budget (stepBudget at scale) is spent or
// every source is read.
func (r *run) chunk(p *Plan, rec *backfillRecord, scale int) error {
	limit, budget := r.m.stepBudget(scale)
	deadline := time.Now().Add(budget)
	// The layout decides the order of the sources (backfillOrder): a
	// plan compiled anew (a restart, a catalog change) has none until
	// it is used.
	r.use(p)
	var n int
	for n < limit && time.Now().Before(deadline) {
		src, leaf := r.nextSource(p, rec)
		if leaf == nil {
			if rec.WindowDefer {
				// Every source is read: the windows take their rows.
				r.use(p)
				taken, settled, err := r.settleWindows(p, rec, limit-n)
				if err != nil {
					return err
				}
				if n += taken; !settled {
					continue
				}
			}
			rec.State, rec.Cur, rec.Cursor, rec.Finished = stateLive, 0, nil, time.Now().UnixMicro()
			break
		}
		batch := min(limit-n, 256)
		rows, next, end, err := r.readRows(leaf, rec, batch)
		if err != nil {
			return err
		}
		// Each batch is one delta of one source: every leaf that reads
		// the source takes it, then the views over this one take its
		// output delta.
		err = r.pass(true, func(q *Plan, _ *backfillRecord, l *Scan) error {
			if q != p || l.Source != src {
				return nil
			}
			for _, d := range rows {
				r.lsn = d.lsn
				if err := r.emit(l, d.row, d.w); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		// The cursor moves after the pass: the pass admitted by the old
		// one, which is what the views over this one were built from.
		if end {
			rec.Done = append(rec.Done, src)
			rec.Cur, rec.Cursor = 0, nil
		} else {
			rec.Cur, rec.Cursor = src, next
		}
		n += len(rows)
		rec.RowsDone += int64(len(rows))
	}
	rec.Steps++
	return r.writeRecord(p.View, rec)
}

// nextSource is the source the backfill reads now (nil leaf: none left;
// p laid out).
func (r *run) nextSource(p *Plan, rec *backfillRecord) (log.TableID, *Scan) {
	leaf := func(src log.TableID) *Scan {
		for _, l := range p.leaves {
			if l.Source == src {
				return l
			}
		}
		return nil
	}
	// A source begun is read to its end before another: the record has
	// one cursor. (A backfill begun by an older version, in another
	// order, goes on where it was.)
	if rec.Cur != 0 && !rec.done(rec.Cur) {
		if l := leaf(rec.Cur); l != nil {
			return rec.Cur, l
		}
	}
	for _, src := range p.backfillSources {
		if rec.done(src) {
			continue
		}
		if l := leaf(src); l != nil {
			return src, l
		}
	}
	return 0, nil
}

// readRows reads up to limit rows of leaf's source past the cursor, and
// the cursor after them (end: the source has no more).
func (r *run) readRows(leaf *Scan, rec *backfillRecord, limit int) (rows []delta, next []byte, end bool, err error) {
	var cursor []byte
	if rec.Cur == leaf.Source {
		cursor = rec.Cursor
	}
	if leaf.Layout == nil {
		if _, err := r.backfillOf(leaf.Source); err != nil {
			return nil, nil, false, err
		}
		if top := r.m.layouts[leaf.Source].top; top != nil {
			return r.readTopRows(leaf, top, cursor, limit)
		}
		start, stop := OutputRange(leaf.Source)
		from := append(append([]byte(nil), start...), cursor...)
		end = true
		err = r.ov.merge(from, stop, func(k, v []byte) error {
			if len(rows) == limit {
				next, end = append([]byte(nil), k[len(start):]...), false
				return log.ErrStop
			}
			n, payload, err := outputValue(v)
			if err != nil {
				return err
			}
			row, err := types.DecodeRow(leaf.ViewTypes, payload)
			if err != nil {
				return err
			}
			if leaf.ViewDistinct {
				n = 1
			}
			rows = append(rows, delta{row: append(row, nil), w: n})
			return nil
		})
		return rows, next, end, err
	}
	src := leaf.Layout
	end = true
	if src.Desc.Kind == log.Stream {
		from := uint64(0)
		if len(cursor) == 8 {
			from = binary.BigEndian.Uint64(cursor)
		}
		err = log.ScanEventsIn(r.ov.st, src.Desc, from, rec.LSN, func(e *log.Event) error {
			if len(rows) == limit {
				next, end = binary.BigEndian.AppendUint64(nil, e.LSN), false
				return log.ErrStop
			}
			row, err := src.Decode(e.SchemaVersion, e.Row, e.Version, nil)
			if err != nil {
				return err
			}
			rows = append(rows, delta{row: row, w: 1, lsn: e.LSN})
			return nil
		})
		return rows, next, end, err
	}
	err = log.ScanHeadsFrom(r.ov.st, src.Desc.ID, cursor, func(key []byte, h *log.Head) error {
		if len(rows) == limit {
			next, end = append([]byte(nil), key...), false
			return log.ErrStop
		}
		row, err := src.Decode(h.SchemaVersion, h.Row, h.Version, nil)
		if err != nil {
			return err
		}
		rows = append(rows, delta{row: row, w: 1})
		return nil
	})
	return rows, next, end, err
}

// readTopRows is readRows of a source view whose rows derive from its
// top-N's candidates (topout.go). It reads whole partitions, and the
// cursor it returns is where the next one starts: every later change of a
// partition read has a key before it, and is admitted.
func (r *run) readTopRows(leaf *Scan, top *topOutput, cursor []byte, limit int) (rows []delta, next []byte, end bool, err error) {
	end = true
	var last []byte
	err = top.scan(leaf.Source, restartScan(r.ov.merge), cursor, nil, func(_, partEnd []byte, row exec.Row) error {
		if len(rows) >= limit && !bytes.Equal(partEnd, last) {
			next, end = last, false
			return log.ErrStop
		}
		last = partEnd
		out := make(exec.Row, len(row)+1)
		copy(out, row)
		rows = append(rows, delta{row: out, w: 1})
		return nil
	})
	return rows, next, end, err
}

// stepScale bounds how far the worker grows a step's budget while no
// writer comes: a step writes the state of every group, window and join
// key its rows touch, so with rows spread over many groups fewer, larger
// steps write each group's state fewer times (a GROUP BY over 10,000
// accounts of 1,000,000 rows wrote each account's state once per step).
// A writer that arrives meanwhile waits for one step, at most 8 times
// ChunkTime, and the steps after it take the base budget again.
const stepScale = 8

// stepBudget is a backfill step's bounds, rows and time, at the worker's
// scale: the defaults (10,000 rows, 10ms) times scale; bounds set by hand
// (ChunkRows, ChunkTime: tests) are exact.
func (m *Maintainer) stepBudget(scale int) (int, time.Duration) {
	rows, d := m.ChunkRows, m.ChunkTime
	if rows <= 0 && d <= 0 {
		scale = max(scale, 1)
		return 10000 * scale, 10 * time.Millisecond * time.Duration(scale)
	}
	if rows <= 0 {
		rows = 10000
	}
	if d <= 0 {
		d = 10 * time.Millisecond
	}
	return rows, d
}

// RunWorker implements log.HookWorker: it takes backfill steps while a
// view is backfilling, logs progress every few seconds, and sleeps until
// a new view needs it.
func (m *Maintainer) RunWorker(ctx context.Context, l *log.Log) {
	w := &worker{m: m, l: l, logger: l.Logger(), scale: 1}
	// The ticker of views with temporal filters (temporal.go) runs beside
	// the backfills, and ends with them.
	tickerDone := make(chan struct{})
	go func() {
		defer close(tickerDone)
		m.runTicker(ctx, l, w.logger)
	}()
	defer func() { <-tickerDone }()
	for {
		select {
		case <-ctx.Done():
			return
		case <-m.wake:
		}
		w.drain(ctx)
	}
}

type worker struct {
	m      *Maintainer
	l      *log.Log
	logger *slog.Logger

	view    log.TableID
	started time.Time
	lastLog time.Time
	// scale is the next step's budget multiple (stepScale).
	scale int
	// total is the counted size of the current view's sources, once known
	// (counting reads a snapshot beside the steps).
	total atomic.Int64
}

// drain takes steps until no view is backfilling.
func (w *worker) drain(ctx context.Context) {
	for ctx.Err() == nil {
		t := &backfillTask{scale: w.scale}
		if n := w.total.Load(); n > 0 {
			t.total, t.totalView = n, w.view
		}
		writes := w.l.Submitted()
		_, err := w.l.Commit(ctx, &log.Intent{HookTask: t})
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, log.ErrClosed) {
				return
			}
			if t.view == 0 {
				w.logger.Error("materialized view backfill step failed", slog.Any("err", err))
				return
			}
			// The step's rows broke the view (an expression error): it
			// cannot become live. Mark it failed so its CREATE reports
			// the error.
			w.logger.Warn("materialized view backfill failed", slog.String("view", w.name(t.view)), slog.Any("err", err))
			ft := &backfillTask{failed: t.view, failedErr: err}
			if _, err := w.l.Commit(ctx, &log.Intent{HookTask: ft}); err != nil {
				w.logger.Error("materialized view backfill: cannot record the failure", slog.Any("err", err))
				return
			}
			continue
		}
		if t.idle {
			return
		}
		w.progress(ctx, t)
		if w.l.Submitted() == writes {
			// No writer came while the step ran: the next one goes at
			// once (a writer arriving meanwhile waits for one step),
			// and takes a larger budget.
			w.scale = min(w.scale*2, stepScale)
			continue
		}
		w.scale = 1
		// Writers get the sequencer for as long as the step held it: a
		// step's intents queue behind it, so back-to-back steps would
		// leave each writer one commit per step.
		select {
		case <-ctx.Done():
		case <-time.After(min(t.took, 100*time.Millisecond)):
		}
	}
}

func (w *worker) name(id log.TableID) string {
	if td, ok := w.l.Catalog().Table(id); ok {
		return td.Schema + "." + td.Name
	}
	return fmt.Sprint(id)
}

// progress logs a step's view at its start, every 5 seconds and at its
// end, and starts counting the view's rows when it is new.
func (w *worker) progress(ctx context.Context, t *backfillTask) {
	now := time.Now()
	if t.view != w.view {
		w.view, w.started, w.lastLog = t.view, now, now
		w.total.Store(0)
		if t.rec.RowsTotal == 0 {
			go w.count(ctx, t.view, t.sources, t.rec.LSN)
		}
		w.logger.Info("materialized view backfill", slog.String("view", w.name(t.view)), slog.String("state", t.rec.State),
			slog.Int64("rows_done", t.rec.RowsDone))
	}
	if t.rec.State == stateLive {
		w.logger.Info("materialized view live", slog.String("view", w.name(t.view)), slog.Int64("rows", t.rec.RowsDone),
			slog.Int64("steps", t.rec.Steps), slog.Duration("took", time.Duration(t.rec.Finished-t.rec.Started)*time.Microsecond))
		w.view = 0
		return
	}
	if now.Sub(w.lastLog) >= 5*time.Second {
		w.lastLog = now
		total := t.rec.RowsTotal
		attrs := []any{slog.String("view", w.name(t.view)), slog.Int64("rows_done", t.rec.RowsDone), slog.Int64("rows_total", total),
			slog.Int64("steps", t.rec.Steps), slog.Float64("rows_per_s", float64(t.rec.RowsDone)/now.Sub(time.UnixMicro(t.rec.Started)).Seconds())}
		if len(t.rec.Settle) > 0 {
			// Every source is read; the windows take their rows
			// (windowdefer.go).
			attrs = append(attrs, slog.String("phase", "settling windows"))
		}
		w.logger.Info("materialized view backfill", attrs...)
	}
}

// count counts the rows a view's backfill reads, from the durable state
// (an estimate: writes go on meanwhile).
func (w *worker) count(ctx context.Context, view log.TableID, sources []sourceInfo, lsn uint64) {
	snap := w.l.Snapshot()
	defer snap.Release()
	var n int64
	for _, s := range sources {
		if ctx.Err() != nil {
			return
		}
		var err error
		switch s.kind {
		case log.Keyed:
			err = snap.ScanHeads(s.id, nil, false, func([]byte, *log.Head) error { n++; return ctx.Err() })
		case log.Stream:
			err = snap.Events(s.id, 0, func(e *log.Event) error {
				if e.LSN > lsn {
					return log.ErrStop
				}
				n++
				return ctx.Err()
			})
		default:
			var rec *backfillRecord
			if rec, err = readRecord(snap.ScanRange, s.id); err != nil {
				return
			}
			if rec != nil && rec.TopOutput != nil {
				err = rec.TopOutput.scan(s.id, snap.ScanRangeSeek, nil, nil, func(_, _ []byte, _ exec.Row) error { n++; return ctx.Err() })
				break
			}
			start, end := OutputRange(s.id)
			err = snap.ScanRange(start, end, func(k, v []byte) error { n++; return ctx.Err() })
		}
		if err != nil {
			return
		}
	}
	if w.view == view {
		w.total.Store(max(n, 1))
	}
}

// Status is a view's backfill progress as a snapshot holds it.
type Status struct {
	State               string
	RowsDone, RowsTotal int64
	Started, Finished   time.Time
	// Err is why a failed backfill failed.
	Err error
}

// ReadStatus reads a view's backfill status from a snapshot. A view
// without a record (made before backfills kept one) is live.
func ReadStatus(snap *log.Snapshot, view log.TableID) (Status, error) {
	rec, err := readRecord(snap.ScanRange, view)
	if err != nil {
		return Status{}, err
	}
	return rec.status(), nil
}

// readRecord reads a view's backfill record (nil when it has none).
func readRecord(scan func(start, end []byte, fn func(k, v []byte) error) error, view log.TableID) (*backfillRecord, error) {
	var rec *backfillRecord
	k := recordKey(view)
	err := scan(k, prefixEnd(k), func(_, v []byte) error {
		rec = &backfillRecord{}
		return json.Unmarshal(v, rec)
	})
	if err != nil {
		return nil, fmt.Errorf("materialized view %d: backfill record: %w", view, err)
	}
	return rec, nil
}

func (rec *backfillRecord) status() Status {
	if rec == nil {
		return Status{State: stateLive}
	}
	st := Status{State: rec.State, RowsDone: rec.RowsDone, RowsTotal: rec.RowsTotal, Started: time.UnixMicro(rec.Started)}
	if rec.Finished != 0 {
		st.Finished = time.UnixMicro(rec.Finished)
	}
	if rec.State == stateFailed {
		code := pgerr.Code(rec.Code)
		if code == "" {
			code = pgerr.InternalError
		}
		st.Err = pgerr.New(code, "%s", rec.Error)
	}
	return st
}

// Live reports whether the view is queryable.
func (s Status) Live() bool { return s.State == stateLive }

// notReady is the error for reading a view that is not live.
func notReady(name string, st Status) error {
	if st.State == stateFailed {
		return pgerr.New(pgerr.ObjectNotInPrerequisiteState, "materialized view %q failed to backfill: %v", name, st.Err)
	}
	done := fmt.Sprintf("%d rows done", st.RowsDone)
	if st.RowsTotal > 0 {
		done = fmt.Sprintf("%d of about %d rows done", st.RowsDone, st.RowsTotal)
	}
	return pgerr.New(pgerr.ObjectNotInPrerequisiteState, "materialized view %q is still being backfilled (%s)", name, done)
}
