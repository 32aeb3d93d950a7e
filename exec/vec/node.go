package vec

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/apache/arrow-go/v18/arrow"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql/types"
)

// Aggregate is a GROUP BY (or a plain aggregate) over a full scan of one
// table, run on record batches. Its output rows are the group values, then
// the aggregate results, as exec.HashAgg's.
type Aggregate struct {
	Layout *exec.TableLayout
	// Where is the scan's filter, or nil.
	Where exec.Expr
	Group []exec.Expr
	Aggs  []exec.Aggregate
	Cols  []exec.Column
	// Fallback is the row engine's plan of the same aggregate, for a
	// transaction with pending writes to the table.
	Fallback exec.Node

	specs []aggSpec
	keyT  []types.T
	keyK  []kind
	need  []int
	// Workers caps the goroutines a run uses (0: one per CPU).
	Workers int
}

// Plan returns the vectorized form of a hash aggregate, when its input is
// a full scan of a keyed table or stream (under an optional filter) and vec
// handles every expression and aggregate in it; ok is false otherwise.
func Plan(h *exec.HashAgg) (*Aggregate, bool) {
	var scan *exec.Scan
	var where exec.Expr
	switch in := h.Input.(type) {
	case *exec.Scan:
		scan = in
	case *exec.Filter:
		s, ok := in.Input.(*exec.Scan)
		if !ok {
			return nil, false
		}
		scan, where = s, in.Pred
	}
	if scan == nil || scan.Prefix != nil || scan.Layout == nil {
		return nil, false
	}
	if k := scan.Layout.Desc.Kind; k != log.Keyed && k != log.Stream {
		return nil, false
	}
	a := &Aggregate{Layout: scan.Layout, Where: where, Group: h.Group, Aggs: h.Aggs, Cols: h.Cols, Fallback: h}
	c := &compiler{width: scan.Layout.Width(), cols: map[int]bool{}}
	if where != nil {
		if where.Type().OID != types.BoolOID {
			return nil, false
		}
		if _, ok := c.compile(where); !ok {
			return nil, false
		}
	}
	for _, g := range h.Group {
		k, ok := kindOf(g.Type())
		if !ok || k == kFloat {
			// Float keys would need -0 = 0 and NaN = NaN grouping.
			return nil, false
		}
		if _, ok := c.compile(g); !ok {
			return nil, false
		}
		a.keyT = append(a.keyT, g.Type())
		a.keyK = append(a.keyK, k)
	}
	for _, ag := range h.Aggs {
		s, ok := planAgg(ag)
		if !ok {
			return nil, false
		}
		if s.arg != nil {
			if _, ok := c.compile(s.arg); !ok {
				return nil, false
			}
		}
		if s.filter != nil {
			if _, ok := c.compile(s.filter); !ok {
				return nil, false
			}
		}
		a.specs = append(a.specs, s)
	}
	for p := range c.cols {
		a.need = append(a.need, p)
	}
	sort.Ints(a.need)
	// Every schema version's rows must decode straight into the batches.
	sc, err := newScanner(a.Layout, a.need)
	if err != nil {
		return nil, false
	}
	sc.release()
	return a, true
}

func (a *Aggregate) Columns() []exec.Column { return a.Cols }

func (a *Aggregate) Explain(e *exec.Explainer) {
	if len(a.Group) == 0 {
		e.Add("Vectorized Aggregate")
	} else {
		parts := make([]string, len(a.Group))
		for i, g := range a.Group {
			parts[i] = g.String()
		}
		e.Add("Vectorized HashAggregate")
		e.Detail("Group Key: %s", strings.Join(parts, ", "))
	}
	e.Child(&scanExplain{a: a})
}

// scanExplain shows the vectorized scan under the aggregate in EXPLAIN.
type scanExplain struct{ a *Aggregate }

func (s *scanExplain) Columns() []exec.Column { return nil }
func (s *scanExplain) Run(*exec.Runtime, func(exec.Row) error) error {
	return nil
}
func (s *scanExplain) Explain(e *exec.Explainer) {
	l := s.a.Layout
	e.Add("Vectorized Seq Scan on %s", l.Desc.Name)
	names := make([]string, len(s.a.need))
	for i, p := range s.a.need {
		if p < len(l.Types) {
			names[i] = l.Cur.Columns[p].Name
		} else {
			names[i] = exec.VersionColumn
		}
	}
	e.Detail("Columns: %s", strings.Join(names, ", "))
	if s.a.Where != nil {
		e.Detail("Filter: %s", s.a.Where)
	}
}

// Run aggregates the table's rows in parallel units of work and emits the
// merged groups. The units are the parts of the table's columnar copy plus
// the log after it (columnar.go) when there is a copy close enough to the
// snapshot, else spans of the table in Pebble.
func (a *Aggregate) Run(rt *exec.Runtime, emit func(exec.Row) error) error {
	txn, ok := rt.Tables.(*exec.Txn)
	if !ok || txn.Log == nil || txn.Snap == nil || txn.HasPendingWrites(a.Layout.Desc.ID) {
		return a.Fallback.Run(rt, emit)
	}
	parent := rt.Ctx
	if parent == nil {
		parent = context.Background()
	}
	var total *partial
	units, err := a.columnarUnits(parent, txn.Snap)
	if err != nil {
		return err
	}
	if units != nil {
		total, err = a.runUnits(parent, rt.Env, units)
		var re *copyReadError
		if errors.As(err, &re) {
			// The copy could not be read (its files expired under a
			// stale snapshot, say): Pebble has every row.
			slog.Warn("columnar copy unreadable, scanning the log", slog.String("table", a.Layout.Desc.Name), slog.Any("err", re.err))
			total, units = nil, nil
		} else if err != nil {
			return err
		}
	}
	if units == nil {
		workers := a.Workers
		if workers <= 0 {
			workers = parallelism()
		}
		for _, sp := range txn.Log.SplitRows(a.Layout.Desc, 4*workers) {
			units = append(units, func(ctx context.Context, w *worker, p *partial) error {
				return w.run(ctx, txn.Snap, sp, p)
			})
		}
		if total, err = a.runUnits(parent, rt.Env, units); err != nil {
			return err
		}
	}
	out := make(exec.Row, len(a.Cols))
	for g, key := range total.keys {
		copy(out, key)
		for i := range a.specs {
			v, err := total.accs[i].result(&a.specs[i], rt.Env, int32(g))
			if err != nil {
				return err
			}
			out[len(key)+i] = v
		}
		if err := emit(out); err != nil {
			if errors.Is(err, exec.ErrStop) {
				return nil
			}
			return err
		}
	}
	return nil
}

// parallelism is how many workers a run uses by default: one per CPU the
// process may run on (the server may have more Ps than CPUs, for
// goroutines blocked in system calls).
func parallelism() int { return min(runtime.GOMAXPROCS(0), runtime.NumCPU()) }

// unit is one piece of a scan that a worker aggregates into a partial.
type unit func(ctx context.Context, w *worker, p *partial) error

// runUnits runs the units on up to Workers goroutines, each with its own
// compiled worker, and merges their partials.
func (a *Aggregate) runUnits(parent context.Context, env *exec.Env, units []unit) (*partial, error) {
	workers := a.Workers
	if workers <= 0 {
		workers = parallelism()
	}
	if workers > len(units) {
		workers = len(units)
	}
	ctx, cancel := context.WithCancelCause(parent)
	defer cancel(nil)
	partials := make([]*partial, len(units))
	// errs[i] is unit i's error; setup errors go after the units.
	errs := make([]error, len(units)+workers)
	var next atomic.Int64
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			wk, err := a.newWorker(env)
			if err != nil {
				errs[len(units)+w] = err
				cancel(err)
				return
			}
			defer wk.sc.release()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(units) || ctx.Err() != nil {
					return
				}
				p := newPartial(a.specs, a.keyT, a.keyK)
				if err := units[i](ctx, wk, p); err != nil {
					errs[i] = err
					cancel(err)
					return
				}
				partials[i] = p
			}
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	if err := parent.Err(); err != nil {
		return nil, context.Cause(parent)
	}
	if len(partials) == 0 {
		return newPartial(a.specs, a.keyT, a.keyK), nil
	}
	total := partials[0]
	for _, p := range partials[1:] {
		if err := total.merge(p); err != nil {
			return nil, err
		}
	}
	return total, nil
}

// worker is one goroutine's compiled copy of the query: expressions own
// their output buffers, so each worker has its own.
type worker struct {
	a      *Aggregate
	env    *exec.Env
	sc     *scanner
	where  vexpr
	group  []vexpr
	args   []vexpr
	filts  []vexpr
	b      batch
	vecs   []vector
	sel    []int32
	rows   []int32
	gids   []int32
	keyVec []*vector
	// pool allocates the buffers of columnar reads.
	pool *bufferPool
}

func (a *Aggregate) newWorker(env *exec.Env) (*worker, error) {
	sc, err := newScanner(a.Layout, a.need)
	if err != nil {
		return nil, err
	}
	w := &worker{a: a, env: env, sc: sc, pool: newBufferPool()}
	c := &compiler{width: a.Layout.Width()}
	if a.Where != nil {
		w.where, _ = c.compile(a.Where)
	}
	for _, g := range a.Group {
		v, _ := c.compile(g)
		w.group = append(w.group, v)
	}
	for _, s := range a.specs {
		var arg, f vexpr
		if s.arg != nil {
			arg, _ = c.compile(s.arg)
		}
		if s.filter != nil {
			f, _ = c.compile(s.filter)
		}
		w.args = append(w.args, arg)
		w.filts = append(w.filts, f)
	}
	w.b = batch{env: env, cols: make([]*vector, a.Layout.Width())}
	w.vecs = make([]vector, len(a.need))
	w.keyVec = make([]*vector, len(a.Group))
	return w, nil
}

// run aggregates one span into p.
func (w *worker) run(ctx context.Context, snap *log.Snapshot, sp log.Span, p *partial) error {
	return w.sc.scan(ctx, snap, sp, func(rec arrow.RecordBatch, n int) error {
		return w.consume(rec, n, nil, p)
	})
}

// consume aggregates the rows of one record batch into p: all n of them,
// or, when keep is not nil, those it selects (it is given a selection of
// every row to shrink in place).
func (w *worker) consume(rec arrow.RecordBatch, n int, keep func(sel []int32) ([]int32, error), p *partial) error {
	w.b.n = n
	for i, p := range w.a.need {
		fromArrow(rec.Column(i), w.sc.kinds[i], &w.vecs[i])
		w.b.cols[p] = &w.vecs[i]
	}
	if cap(w.sel) < n {
		w.sel = make([]int32, n)
		w.gids = make([]int32, n)
	}
	sel := w.sel[:n]
	for i := range sel {
		sel[i] = int32(i)
	}
	if keep != nil {
		var err error
		if sel, err = keep(sel); err != nil {
			return err
		}
	}
	if w.where != nil && len(sel) > 0 {
		v, err := w.where.eval(&w.b, sel)
		if err != nil {
			return err
		}
		sel = filter(sel[:0], v, sel)
	}
	if len(sel) == 0 {
		return nil
	}
	for i, g := range w.group {
		v, err := g.eval(&w.b, sel)
		if err != nil {
			return err
		}
		w.keyVec[i] = v
	}
	p.assign(w.keyVec, sel, w.gids)
	for i := range w.a.specs {
		rows := sel
		if f := w.filts[i]; f != nil {
			v, err := f.eval(&w.b, sel)
			if err != nil {
				return err
			}
			w.rows = filter(w.rows[:0], v, sel)
			rows = w.rows
		}
		var v *vector
		if arg := w.args[i]; arg != nil {
			var err error
			if v, err = arg.eval(&w.b, rows); err != nil {
				return err
			}
		}
		if err := p.accs[i].update(&w.a.specs[i], v, rows, w.gids); err != nil {
			return err
		}
	}
	return nil
}
