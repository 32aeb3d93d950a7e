package views

import (
	"encoding/binary"
	"fmt"
	"slices"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

// Maintainer keeps every materialized view up to date inside the commit.
// It is the log's commit hook (a log.IntentHook); the sequencer calls it
// from one goroutine, so view maintenance needs no locks and is
// deterministic. Its worker (a log.HookWorker) backfills new views in
// steps that commit between other intents (backfill.go).
//
// Views run in dependency order: an intent's base changes enter the plans
// that read those tables, and each view's output delta (what changed in its
// Z-set) is kept for the views that read it, which run after it in the same
// intent. A view over a view thus sees exactly the changes its source's
// state went through, in the same batch.
type Maintainer struct {
	// Compile builds a view's incremental plan from its descriptor (the
	// planner does this; it is set before the first commit).
	Compile func(view *log.TableDesc, cat *log.Catalog) (*Plan, error)
	// ChunkRows and ChunkTime bound one backfill step: it stops at
	// whichever comes first (defaults 10,000 rows and 10ms, which the
	// worker grows up to 8× while no writer comes; values set here are
	// exact). Writers wait for at most one step, and the worker pauses as
	// long between steps.
	ChunkRows int
	ChunkTime time.Duration
	// FeedBytes bounds the changes a subscriber's feed holds before it
	// drops them and the subscriber reads the view again (feed.go;
	// default 64 MiB).
	FeedBytes int

	mu struct {
		sync.Mutex
		cat      *log.Catalog
		compiled *compiled
	}

	// cache, live, ov and run are used only from the sequencer's
	// goroutine; ov and run are the last intent's, reused by the next.
	cache *stateCache
	ov    *overlay
	run   *run
	// live are views known to be live (their backfill done, or made
	// before backfills had records): they skip the backfill check. A
	// view never goes back to backfilling (IDs are not reused).
	live map[log.TableID]bool
	// layouts records, per view, how its state is keyed (its backfill
	// record says; read with the record).
	layouts map[log.TableID]keyLayout
	// wake tells the worker that a backfill is waiting.
	wake chan struct{}
	// temporalViews: the last compiled catalog has a view with a temporal
	// filter, which the ticker advances (temporal.go).
	temporalViews atomic.Bool
	// muts is the last intent's mutations slice, reused by the next.
	muts []log.Mutation

	// feeds are the subscribers' feeds by view, watched the views that
	// have any (feed.go).
	feeds struct {
		sync.Mutex
		byView map[log.TableID][]*Feed
	}
	watched atomic.Pointer[map[log.TableID]bool]
}

// compiled is the plans of one catalog.
type compiled struct {
	plans map[log.TableID]*Plan
	// order lists the plans so that a view comes after the views it reads.
	order []*Plan
	// read marks the views other views read: their output deltas are kept
	// during an intent.
	read map[log.TableID]bool
	// bases are the base tables some view reads: an intent that changes
	// none of them (and changes no catalog, and carries no backfill step)
	// has nothing to maintain.
	bases map[log.TableID]bool
	// temporal: some view has a temporal filter (the ticker advances it).
	temporal bool
	// logs holds the views with a changelog (log.TableDesc.LogsChanges):
	// their output changes become events of their own (changelog.go).
	logs map[log.TableID]*changelog
}

// NewMaintainer makes a maintainer; set Compile before use.
func NewMaintainer() *Maintainer {
	m := &Maintainer{live: map[log.TableID]bool{}, layouts: map[log.TableID]keyLayout{}, wake: make(chan struct{}, 1)}
	// The first look for work finds backfills a restart interrupted.
	m.wake <- struct{}{}
	return m
}

// plans returns the compiled plans of a catalog's views, compiling them
// once per catalog.
func (m *Maintainer) plans(cat *log.Catalog) (*compiled, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mu.cat == cat {
		return m.mu.compiled, nil
	}
	c := &compiled{plans: map[log.TableID]*Plan{}, read: map[log.TableID]bool{}, bases: map[log.TableID]bool{}}
	for id, td := range cat.Tables {
		if td.Kind != log.View {
			continue
		}
		p, err := m.Compile(td, cat)
		if err != nil {
			return nil, fmt.Errorf("materialized view %q: %w", td.Name, err)
		}
		p.View = id
		p.prepare()
		p.initKeys()
		c.plans[id] = p
		if td.LogsChanges() {
			if c.logs == nil {
				c.logs = map[log.TableID]*changelog{}
			}
			c.logs[id] = newChangelog(td)
		}
		c.temporal = c.temporal || p.temporal != nil
		for _, l := range p.leaves {
			if l.Layout != nil {
				c.bases[l.Source] = true
			}
		}
	}
	// Depth-first over the sources, from the lowest id for a stable order.
	ids := make([]log.TableID, 0, len(c.plans))
	for id := range c.plans {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool { return ids[i] < ids[j] })
	state := map[log.TableID]int{} // 1 visiting, 2 done
	var visit func(id log.TableID) error
	visit = func(id log.TableID) error {
		switch state[id] {
		case 1:
			return fmt.Errorf("materialized view %d reads itself", id)
		case 2:
			return nil
		}
		state[id] = 1
		p := c.plans[id]
		for _, src := range p.Sources() {
			if _, isView := c.plans[src]; isView {
				c.read[src] = true
				if err := visit(src); err != nil {
					return err
				}
			}
		}
		state[id] = 2
		c.order = append(c.order, p)
		return nil
	}
	for _, id := range ids {
		if err := visit(id); err != nil {
			return nil, err
		}
	}
	m.mu.cat, m.mu.compiled = cat, c
	m.temporalViews.Store(c.temporal)
	return c, nil
}

// touches reports whether any change is of a table some view reads.
func (c *compiled) touches(changes []log.Change) bool {
	for i := range changes {
		if c.bases[changes[i].Table] {
			return true
		}
	}
	return false
}

// delta is a weighted row: a change of a view's output Z-set, shaped as a
// source row (the columns then a NULL _version), with the key it is
// stored under in the view's output (after the 'o' prefix).
type delta struct {
	row exec.Row
	w   int64
	key []byte
	// lsn: a stream's event, in a backfill (lsnOutput).
	lsn uint64
}

// PrepareIntent implements log.IntentHook. In one overlay, so that each
// part sees what the one before it derived: a dropped view's state is
// deleted; a new view is registered and takes its first backfill step;
// the intent's changes become changes of every view that reads the
// tables they touch (as far as a backfilling view has admitted them),
// and then of the views that read those views; a backfill task takes its
// step.
//
// The mutations returned share a slice with the next call's: the
// sequencer writes them into its batch before it prepares another intent.
func (m *Maintainer) PrepareIntent(in *log.HookInput) ([]log.Mutation, error) {
	// A panic stops the pass anywhere, with the state cache and the plans'
	// scratch half updated: drop them (the state is read again from the
	// log, the plans compiled again) and let the log fail the intent
	// (log's runHook recovers and reports it).
	defer func() {
		if r := recover(); r != nil {
			m.dropState()
			panic(r)
		}
	}()
	muts := m.muts[:0]
	catChanged := in.Old != in.Catalog
	if catChanged {
		if m.cache != nil {
			m.cache.reset()
		}
		watched := m.watchedViews()
		var dropped []log.TableID
		for id, td := range in.Old.Tables {
			if _, ok := in.Catalog.Tables[id]; !ok && td.Kind == log.View {
				start := viewPrefix(id)
				muts = append(muts, log.Mutation{Key: start, End: prefixEnd(start)})
				if watched[id] {
					dropped = append(dropped, id)
				}
			}
		}
		if dropped != nil {
			// The feeds learn it once the drop is durable (feed.go).
			in.Note = &feedNote{dropped: dropped}
		}
	}
	c, err := m.plans(in.Catalog)
	if err != nil {
		if catChanged {
			err = pgerr.Wrap(err, pgerr.FeatureNotSupported, "")
		}
		return nil, err
	}
	if len(c.order) == 0 {
		if t, ok := in.Task.(*backfillTask); ok {
			t.idle = true
		}
		return muts, nil
	}
	if !catChanged && in.Task == nil && !c.touches(in.Changes) {
		return nil, nil
	}
	if _, ok := in.Task.(*tickTask); ok && !c.temporal {
		return nil, nil
	}
	if m.cache == nil {
		m.cache = newStateCache()
	}
	m.ov = m.ov.reuse(in.State)
	ov := m.ov
	ov.cache = m.cache
	m.run = m.run.reuse(ov, c, m)
	r := m.run
	r.watched = m.watchedViews()
	r.now = time.Now().UnixMicro()
	if in.CommitTime != 0 {
		r.now = in.CommitTime
	}
	r.now -= pgEpochUnixMicros
	r.fold = len(in.Changes) > 1 || in.Task != nil || catChanged
	defer ov.close()
	if catChanged {
		if err := r.startBackfills(in.Old, in.LastLSN); err != nil {
			return nil, err
		}
	}
	if len(in.Changes) > 0 {
		changes := in.Changes
		err := r.pass(false, func(p *Plan, rec *backfillRecord, leaf *Scan) error {
			for i := range changes {
				ch := &changes[i]
				if ch.Table != leaf.Source || (rec != nil && !rec.admitsChange(leaf, ch)) {
					continue
				}
				if err := r.applyChange(leaf, ch); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	switch t := in.Task.(type) {
	case *backfillTask:
		if err := r.step(t); err != nil {
			return nil, err
		}
	case *tickTask:
		// Only the times advance.
		if err := r.pass(false, func(*Plan, *backfillRecord, *Scan) error { return nil }); err != nil {
			return nil, err
		}
		t.more = r.tickPartial
	}
	muts = ov.commit(r.windows, muts)
	if cap(muts) <= 1024 {
		m.muts = muts
	} else {
		m.muts = nil // a backfill step's: not kept
	}
	for prefix, i := range r.windows {
		m.cache.putWindow(prefix, r.winList[i])
	}
	for _, id := range r.newlyLive {
		m.live[id] = true
	}
	if len(r.logOut) > 0 {
		in.Writes = r.changelogWrites(in.Writes)
	}
	if len(r.feedOut) > 0 {
		// The watched views' changes join the note (feed.go); the run
		// hands them over.
		n, _ := in.Note.(*feedNote)
		if n == nil {
			n = &feedNote{}
			in.Note = n
		}
		n.changes, r.feedOut = r.feedOut, nil
	}
	if r.waiting {
		select {
		case m.wake <- struct{}{}:
		default:
		}
	}
	return muts, nil
}

// dropState forgets everything the maintainer keeps in memory between
// intents but the views' liveness and layouts, which their records hold.
func (m *Maintainer) dropState() {
	m.cache, m.ov, m.run, m.muts = nil, nil, nil, nil
	m.mu.Lock()
	m.mu.cat, m.mu.compiled = nil, nil
	m.mu.Unlock()
}

// Prepare implements log.CommitHook for a log that does not call
// PrepareIntent.
func (m *Maintainer) Prepare(st log.HookState, cat *log.Catalog, changes []log.Change) ([]log.Mutation, error) {
	muts, err := m.PrepareIntent(&log.HookInput{State: st, Old: cat, Catalog: cat, Changes: changes})
	// A copy: such a log may keep it past the next call.
	return slices.Clone(muts), err
}

// OnCatalog implements log.CommitHook for a log that does not call
// PrepareIntent.
func (m *Maintainer) OnCatalog(st log.HookState, old, cur *log.Catalog) ([]log.Mutation, error) {
	muts, err := m.PrepareIntent(&log.HookInput{State: st, Old: old, Catalog: cur})
	return slices.Clone(muts), err
}

// run carries one intent through the plans.
type run struct {
	ov  *overlay
	env *exec.Env
	// lsn is the LSN of the event whose rows are being applied (a
	// stream's view keys its output rows by it: lsnOutput).
	lsn uint64
	p   *Plan
	c   *compiled
	m   *Maintainer
	// out collects, during one pass, the output deltas of the views
	// other views read.
	out map[log.TableID][]delta
	// decoded holds each change's rows, decoded once however many views
	// read its table (operators never modify or keep the rows they get).
	decoded map[*log.Change]decodedChange
	// recs are the backfill records read or written by this intent.
	recs map[log.TableID]*backfillRecord
	// windows are the top-N windows (by partition prefix) as this
	// intent's changes left them: later changes of the intent start from
	// them, and once the intent has succeeded they replace the cached
	// windows its writes made stale. windows indexes winList, so that
	// a window replaced again does not write the map (a map assignment
	// stores its key anew, and the key would have to be a new string).
	windows map[string]int
	winList []topWindow
	// topKey is the candidate key of the row a top-N is emitting: a
	// derived view's output change is keyed by it (topout.go).
	topKey []byte
	// newlyLive are views found live, for Maintainer.live once the intent
	// has succeeded; waiting is set when a backfill needs the worker.
	newlyLive []log.TableID
	waiting   bool
	// now is the intent's commit time (a timestamptz), viewTime the time
	// of the view being maintained, when it has a temporal filter
	// (temporal.go), and tickPartial says a view's time stopped short of
	// now.
	now, viewTime int64
	tickPartial   bool
	// running are the running windows' changes of the plan being passed,
	// applied once its leaves are fed (windowrun.go).
	running pendingRuns
	// watched are the views with feeds, feedOut their output changes in
	// this intent (feed.go).
	watched map[log.TableID]bool
	feedOut map[log.TableID][]FeedChange
	// logOut are the output changes of views with a changelog in this
	// intent (changelog.go).
	logOut map[log.TableID][]loggedChange
	// extremes are the min/max indexes' ends this intent has read
	// (aggregate.go).
	extremes map[string]*extremeMemo
	// fold: the intent has several changes, and aggregates fold each
	// group's rows in memory (groups) until their plan's pass settles.
	fold   bool
	groups foldedGroups
}

type decodedChange struct{ before, after exec.Row }

func newRun(ov *overlay, c *compiled, m *Maintainer) *run {
	return &run{ov: ov, env: &exec.Env{Settings: defaultSettings}, c: c, m: m, out: map[log.TableID][]delta{},
		decoded: map[*log.Change]decodedChange{}, recs: map[log.TableID]*backfillRecord{}, windows: map[string]int{}}
}

// use makes p the plan the run works on, its expressions evaluating
// with p's settings, its keys in its layout. Callers have read the view's
// record (backfillOf) or written it (a new view), so the layout is known;
// every change of the view, a new view's first row included, is keyed
// in it.
func (r *run) use(p *Plan) {
	r.p = p
	if !p.keysKnown {
		p.setLayout(r.m.layouts[p.View])
	}
	if p.Settings != nil {
		r.env.Settings = p.Settings
	} else {
		r.env.Settings = defaultSettings
	}
}

// defaultSettings are those of views made with the default settings.
var defaultSettings = types.DefaultSettings()

// reuse readies a run for the next intent, keeping its maps unless the
// last intent made them large.
func (r *run) reuse(ov *overlay, c *compiled, m *Maintainer) *run {
	if r == nil || len(r.decoded) > 1024 || len(r.windows) > 1024 || len(r.out) > 64 {
		return newRun(ov, c, m)
	}
	clear(r.out)
	clear(r.decoded)
	clear(r.recs)
	clear(r.windows)
	clear(r.winList)
	r.winList = r.winList[:0]
	r.ov, r.c, r.m, r.p = ov, c, m, nil
	r.newlyLive, r.waiting = r.newlyLive[:0], false
	r.tickPartial = false
	r.running = pendingRuns{}
	r.feedOut, r.logOut = nil, nil
	clear(r.extremes)
	r.fold, r.groups = false, foldedGroups{}
	return r
}

// pass runs every plan once, in dependency order: each base-table leaf
// takes the rows feed gives it, each view leaf the output deltas its
// source view produced earlier in the pass (and, with viewsToo, what feed
// gives it). A backfilling view sees only what it has admitted
// (backfill.go); feed is told its record.
func (r *run) pass(viewsToo bool, feed func(p *Plan, rec *backfillRecord, leaf *Scan) error) error {
	clear(r.out)
	for _, p := range r.c.order {
		rec, err := r.backfillOf(p.View)
		if err != nil {
			return err
		}
		r.use(p)
		if err := r.tick(p); err != nil {
			return err
		}
		for _, leaf := range p.leaves {
			if leaf.Layout == nil {
				for _, d := range r.out[leaf.Source] {
					if rec != nil && !rec.admitsKey(leaf.Source, d.key) {
						continue
					}
					if err := r.emit(leaf, d.row, d.w); err != nil {
						return err
					}
				}
				if !viewsToo {
					continue
				}
			}
			if err := feed(p, rec, leaf); err != nil {
				return err
			}
		}
		if err := r.settle(p); err != nil {
			return err
		}
	}
	return nil
}

// settle finishes a plan's pass once its leaves are fed: it finishes the
// groups its aggregates folded (aggregate.go), applies the running
// windows' filed changes (windowrun.go) and moves each changed dynamic
// filter to the bound its right input now gives (dynfilter.go).
// Either may change the other's input (a window's output reaching a
// filter, a filter's moves a window above it, a filter under another's
// subquery), so it repeats until nothing is left to do.
func (r *run) settle(p *Plan) error {
	for again := true; again; {
		folded, err := r.flushGroups()
		if err != nil {
			return err
		}
		flushed, err := r.flushRunning()
		if err != nil {
			return err
		}
		again = folded || flushed
		for _, d := range p.dyn {
			if !d.dirty {
				continue
			}
			d.dirty, again = false, true
			if err := r.moveBound(d); err != nil {
				return err
			}
		}
	}
	return nil
}

// applyChange turns one log change into weighted rows of a leaf: an update
// is the old row out and the new row in.
func (r *run) applyChange(leaf *Scan, ch *log.Change) error {
	r.lsn = ch.LSN
	d, ok := r.decoded[ch]
	if !ok {
		var err error
		if d, err = decodeChange(leaf.Layout, ch); err != nil {
			return err
		}
		r.decoded[ch] = d
	}
	if d.before != nil {
		if err := r.emit(leaf, d.before, -1); err != nil {
			return err
		}
	}
	if d.after != nil {
		return r.emit(leaf, d.after, 1)
	}
	return nil
}

// decodeChange turns a log change into the row it removed (the replaced
// or deleted row of a keyed table) and the row it added.
func decodeChange(src *exec.TableLayout, ch *log.Change) (d decodedChange, err error) {
	if ch.Before.Live() && ch.Before.Row != nil && src.Desc.Kind == log.Keyed {
		if d.before, err = src.Decode(ch.Before.SchemaVersion, ch.Before.Row, ch.Before.Version, nil); err != nil {
			return d, err
		}
	}
	if ch.Op != log.OpDelete {
		if d.after, err = src.Decode(ch.SchemaVersion, ch.Row, ch.Version, nil); err != nil {
			return d, err
		}
	}
	return d, nil
}

// emit hands a weighted row that operator from produced to its parent, or
// to the view's output at the root. Operators never keep a row they are
// handed past the call, except by copying it into state.
func (r *run) emit(from Node, row exec.Row, w int64) error {
	if w == 0 {
		return nil
	}
	e, ok := r.p.parents[from]
	if !ok {
		return r.output(row, w)
	}
	switch x := e.n.(type) {
	case *Filter:
		ok, err := exec.EvalBool(x.Pred, r.env, row)
		if err != nil || !ok {
			return err
		}
		return r.emit(x, row, w)
	case *Project:
		out, err := evalInto(x.out, r.env, x.Exprs, row)
		if err != nil {
			return err
		}
		x.out = out
		return r.emit(x, out, w)
	case *Union:
		return r.emit(x, row, w)
	case *Join:
		return r.join(x, e.side, row, w)
	case *Aggregate:
		return r.group(x, row, w)
	case *TopN:
		return r.topN(x, row, w)
	case *Distinct:
		return r.distinct(x, row, w)
	case *Temporal:
		return r.temporal(x, row, w)
	case *Window:
		return r.window(x, row, w)
	case *ProjectSet:
		return r.projectSet(x, row, w)
	case *SetOpAll:
		return r.setOpAll(x, e.side, row, w)
	case *DynFilter:
		return r.dynFilter(x, e.side, row, w)
	case *GroupingSets:
		if e.side > 0 {
			// A set's output row: the operator's.
			return r.emit(x, row, w)
		}
		for _, a := range x.Sets {
			if err := r.group(a, row, w); err != nil {
				return err
			}
		}
		return nil
	}
	return fmt.Errorf("materialized view %d: unknown operator %T", r.p.View, e.n)
}

// evalInto evaluates es over row into dst (grown as needed; it must not
// be row) and returns it.
func evalInto(dst exec.Row, env *exec.Env, es []exec.Expr, row exec.Row) (exec.Row, error) {
	if cap(dst) < len(es) {
		dst = make(exec.Row, len(es))
	}
	out := dst[:len(es)]
	for i, e := range es {
		v, err := e.Eval(env, row)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// output adds w to an output row's multiplicity.
func (r *run) output(out exec.Row, w int64) error {
	p := r.p
	if p.top != nil {
		// The rows are not stored (topout.go): the views that read this
		// one see the change, keyed by the candidate it comes from.
		return r.record(r.topKey[topPrefixLen:], out, w)
	}
	k := append(p.keyBuf[:0], p.outPrefix...)
	if p.lsnOutput {
		// One output row per event, added once: no read.
		if w != 1 || r.lsn == 0 {
			return fmt.Errorf("materialized view %d: a stream's event changed its row with weight %d (LSN %d)", p.View, w, r.lsn)
		}
		k = binary.BigEndian.AppendUint64(k, r.lsn)
		p.keyBuf = k
		v, err := countedRow(1, p.OutTypes, out)
		if err != nil {
			return err
		}
		r.ov.setFresh(k, v)
		return r.record(k[outKeyStart:], out, 1)
	}
	if p.outKeyCols != nil {
		// Short keys: the output row is keyed by the table key it stands
		// for (a change's old row, retracted first, has the same key).
		for _, i := range p.outKeyCols {
			k = appendValueIn(k, p.compact, p.OutTypes[i], out[i])
		}
	} else {
		k = appendTupleIn(k, p.compact, p.OutTypes, out)
	}
	p.keyBuf = k
	var before, after int64
	switch {
	case p.freshOutput && (w > 0 || w == -1) && !r.ov.pendingHas(k):
		// Such a view holds each output row once (freshOutput): a row
		// added with no pending change is not stored, and a row retracted
		// with none is stored once. Neither needs a read.
		if w > 0 {
			after = w
			v, err := countedRow(w, p.OutTypes, out)
			if err != nil {
				return err
			}
			r.ov.setFresh(k, v)
		} else {
			before = 1
			r.ov.del(k)
		}
	default:
		payload, err := types.EncodeRow(nil, p.OutTypes, out)
		if err != nil {
			return err
		}
		if before, after, err = r.ov.addCount(k, w, payload); err != nil {
			return err
		}
	}
	if after < 0 {
		return fmt.Errorf("materialized view %d: negative multiplicity %d", p.View, after)
	}
	if p.Distinct {
		switch {
		case before == 0 && after > 0:
			w = 1
		case before > 0 && after == 0:
			w = -1
		default:
			return nil
		}
	}
	return r.record(k[outKeyStart:], out, w)
}

// outKeyStart is the length of a view's output prefix (0x10 view 'o').
const outKeyStart = 6

// record keeps an output delta, stored under key in the view's output,
// for the views that read this one and for the view's feeds.
func (r *run) record(key []byte, out exec.Row, w int64) error {
	watched, cl := r.watched[r.p.View], r.c.logs[r.p.View]
	if watched || cl != nil {
		// Encoded: out may be an operator's scratch.
		row, err := types.EncodeRow(nil, r.p.OutTypes, out)
		if err != nil {
			return err
		}
		if watched {
			r.noteChange(row, w)
		}
		if cl != nil {
			r.logChange(cl, out, row, w)
		}
	}
	if !r.c.read[r.p.View] {
		return nil
	}
	row := make(exec.Row, len(out)+1)
	copy(row, out)
	r.out[r.p.View] = append(r.out[r.p.View], delta{row: row, w: w, key: append([]byte(nil), key...)})
	return nil
}

// distinct passes a row on when its multiplicity becomes positive and
// retracts it when it falls to zero.
func (r *run) distinct(d *Distinct, row exec.Row, w int64) error {
	k := appendTupleIn(append(sub(r.p.View, 'c'), d.ID), d.compact, d.Types, row)
	before, after, err := r.ov.addCount(k, w, nil)
	switch {
	case err != nil:
		return err
	case after < 0:
		return fmt.Errorf("materialized view %d: negative multiplicity %d", r.p.View, after)
	case before == 0 && after > 0:
		return r.emit(d, row, 1)
	case before > 0 && after == 0:
		return r.emit(d, row, -1)
	}
	return nil
}

func opPrefix(view log.TableID, kind, op byte) []byte {
	return append(sub(view, kind), op)
}
