package views

import (
	"fmt"
	"sort"
	"sync"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

// Maintainer keeps every materialized view up to date inside the commit.
// It is the log's CommitHook; the sequencer calls it from one goroutine, so
// view maintenance needs no locks and is deterministic.
//
// Views run in dependency order: an intent's base changes enter the plans
// that read those tables, and each view's output delta (what changed in its
// Z-set) is kept for the views that read it, which run after it in the same
// Prepare. A view over a view thus sees exactly the changes its source's
// state went through, in the same batch.
type Maintainer struct {
	// Compile builds a view's incremental plan from its descriptor (the
	// planner does this; it is set before the first commit).
	Compile func(view *log.TableDesc, cat *log.Catalog) (*Plan, error)

	mu struct {
		sync.Mutex
		cat      *log.Catalog
		compiled *compiled
	}

	// cache and noCacheOnce are used only from the sequencer's goroutine
	// (Prepare and OnCatalog).
	cache *stateCache
	// noCacheOnce makes the Prepare after a catalog change read around the
	// cache: that intent's backfill is not in the hook state it reads.
	noCacheOnce bool
}

// compiled is the plans of one catalog.
type compiled struct {
	plans map[log.TableID]*Plan
	// order lists the plans so that a view comes after the views it reads.
	order []*Plan
	// read marks the views other views read: their output deltas are kept
	// during a Prepare.
	read map[log.TableID]bool
}

// NewMaintainer makes a maintainer; set Compile before use.
func NewMaintainer() *Maintainer { return &Maintainer{} }

// plans returns the compiled plans of a catalog's views, compiling them
// once per catalog.
func (m *Maintainer) plans(cat *log.Catalog) (*compiled, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.mu.cat == cat {
		return m.mu.compiled, nil
	}
	c := &compiled{plans: map[log.TableID]*Plan{}, read: map[log.TableID]bool{}}
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
		c.plans[id] = p
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
	return c, nil
}

// delta is a weighted row: a change of a view's output Z-set, shaped as a
// source row (the columns then a NULL _version).
type delta struct {
	row exec.Row
	w   int64
}

// Prepare implements log.CommitHook: the changes of one intent become
// changes of every view that reads the tables they touch, and then of the
// views that read those views.
func (m *Maintainer) Prepare(st log.HookState, cat *log.Catalog, changes []log.Change) ([]log.Mutation, error) {
	c, err := m.plans(cat)
	if err != nil || len(c.order) == 0 {
		return nil, err
	}
	ov := newOverlay(st)
	if m.cache == nil {
		m.cache = newStateCache()
	}
	if !m.noCacheOnce {
		ov.cache = m.cache
	}
	m.noCacheOnce = false
	r := newRun(ov, c.read)
	defer r.ov.close()
	for _, p := range c.order {
		r.p = p
		for _, leaf := range p.leaves {
			if leaf.Layout == nil {
				for _, d := range r.out[leaf.Source] {
					if err := r.emit(leaf, d.row, d.w); err != nil {
						return nil, err
					}
				}
				continue
			}
			for i := range changes {
				if changes[i].Table != leaf.Source {
					continue
				}
				if err := r.applyChange(leaf, &changes[i]); err != nil {
					return nil, err
				}
			}
		}
	}
	r.ov.commit()
	return r.ov.mutations(), nil
}

// OnCatalog implements log.CommitHook: a new view is backfilled from its
// sources as they stand at this point of the commit order, and a dropped
// view's state is deleted, in the same commit as the catalog change.
func (m *Maintainer) OnCatalog(st log.HookState, old, cur *log.Catalog) ([]log.Mutation, error) {
	if m.cache != nil {
		m.cache.reset()
	}
	m.noCacheOnce = true
	var muts []log.Mutation
	for id, td := range old.Tables {
		if _, ok := cur.Tables[id]; !ok && td.Kind == log.View {
			start := viewPrefix(id)
			muts = append(muts, log.Mutation{Key: start, End: prefixEnd(start)})
		}
	}
	c, err := m.plans(cur)
	if err != nil {
		return nil, pgerr.Wrap(err, pgerr.FeatureNotSupported, "")
	}
	r := newRun(newOverlay(st), nil)
	defer r.ov.close()
	for _, p := range c.order {
		if _, existed := old.Tables[p.View]; existed {
			continue
		}
		r.p = p
		if err := r.backfill(); err != nil {
			return nil, err
		}
	}
	return append(muts, r.ov.mutations()...), nil
}

// run carries one Prepare (or backfill) through the plans.
type run struct {
	ov  *overlay
	env *exec.Env
	p   *Plan
	// out collects the output deltas of the views in keep.
	out  map[log.TableID][]delta
	keep map[log.TableID]bool
	// decoded holds each change's rows, decoded once however many views
	// read its table (operators never modify or keep the rows they get).
	decoded map[*log.Change]decodedChange
}

type decodedChange struct{ before, after exec.Row }

func newRun(ov *overlay, keep map[log.TableID]bool) *run {
	return &run{ov: ov, env: &exec.Env{Settings: types.DefaultSettings()}, out: map[log.TableID][]delta{}, keep: keep,
		decoded: map[*log.Change]decodedChange{}}
}

// backfill feeds every row of the view's sources through the plan as an
// insertion, one leaf after the other: a join's first input meets an empty
// second one, then the second meets the full first, which is the join's
// delta rule applied to the whole inputs. A source view is read from its
// state (its output Z-set), which the views it depends on have already
// brought up to date.
func (r *run) backfill() error {
	for _, a := range r.p.ungrouped {
		if err := r.initUngrouped(a); err != nil {
			return err
		}
	}
	for _, leaf := range r.p.leaves {
		if leaf.Layout == nil {
			// The source's rows are read first and fed after: emitting
			// writes state, which must not change under a scan.
			start, _ := OutputRange(leaf.Source)
			var rows []delta
			err := r.ov.scan(start, func(k, v []byte) error {
				n, payload := decodeCounted(v)
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
			if err != nil {
				return err
			}
			for _, d := range rows {
				if err := r.emit(leaf, d.row, d.w); err != nil {
					return err
				}
			}
			continue
		}
		src := leaf.Layout
		err := log.ScanRowsIn(r.ov.st, src.Desc, func(key []byte, sv uint32, data []byte, version uint64) error {
			row, err := src.Decode(sv, data, version, nil)
			if err != nil {
				return err
			}
			return r.emit(leaf, row, 1)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// applyChange turns one log change into weighted rows of a leaf: an update
// is the old row out and the new row in.
func (r *run) applyChange(leaf *Scan, ch *log.Change) error {
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
		out, err := evalAll(r.env, x.Exprs, row)
		if err != nil {
			return err
		}
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
	}
	return fmt.Errorf("materialized view %d: unknown operator %T", r.p.View, e.n)
}

func evalAll(env *exec.Env, es []exec.Expr, row exec.Row) (exec.Row, error) {
	out := make(exec.Row, len(es))
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
	payload, err := types.EncodeRow(nil, p.OutTypes, out)
	if err != nil {
		return err
	}
	k := append(sub(p.View, 'o'), appendTuple(nil, p.OutTypes, out)...)
	before, after, err := r.ov.addCount(k, w, payload)
	if err != nil {
		return err
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
	r.record(out, w)
	return nil
}

// record keeps an output delta for the views that read this one.
func (r *run) record(out exec.Row, w int64) {
	if !r.keep[r.p.View] {
		return
	}
	row := make(exec.Row, len(out)+1)
	copy(row, out)
	r.out[r.p.View] = append(r.out[r.p.View], delta{row: row, w: w})
}

// distinct passes a row on when its multiplicity becomes positive and
// retracts it when it falls to zero.
func (r *run) distinct(d *Distinct, row exec.Row, w int64) error {
	k := append(append(sub(r.p.View, 'c'), d.ID), appendTuple(nil, d.Types, row)...)
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
