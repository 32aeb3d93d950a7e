package views

import (
	"bytes"
	"fmt"
	"slices"

	"github.com/cockroachdb/apd/v3"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql/types"
)

// Running window functions: row_number(), rank(), dense_rank(), and
// aggregates over a frame from UNBOUNDED PRECEDING to CURRENT ROW (the
// default frame under an ORDER BY: the running sum, count, min, max).
// A row's value is a function of the rows up to it (and its peers), so a
// change moves the values of the rows from it to its partition's end, and
// those rows' values continue from the value of the row just before
// them: row_number and rank add that row's position, dense_rank its
// rank, a running count or sum its count or sum, min the smaller of its
// min and theirs.
//
// So each row is stored with its functions' values (and its position),
// and a change reads the row before it (before its peers, when a function
// sees peers), then the rows from it to the partition's end. It computes
// their values over those rows alone with the query engine's code, and
// continues each from the row before: an event appended at the end of its
// partition, the usual case, reads one row and writes one, where the
// partition's recomputation read all of them. Rows whose stored values
// move are written again; their outputs move too, so the cost follows the
// output's change.
//
// avg continues from a sum and a count kept beside it. lag, lead and
// ROWS frames bounded on both sides can sit beside them: a change also
// recomputes the rows whose frame or lead reaches it, and those read the
// rows before the recomputed ones. Functions whose value cannot be
// continued from the last one's (sums and averages over floats, whose
// rounding depends on the order of additions; percent_rank and ntile,
// which depend on the partition's size) keep the whole-partition path.

// runKind is how a running function's value at a row continues from its
// value at the row before the recomputed rows (the seed).
type runKind uint8

const (
	runPos   runKind = iota // row_number, rank: the seed's position, plus
	runDense                // dense_rank: the seed's rank, plus
	runCount                // count: the seed's count, plus
	runAcc                  // sum over exact types, min, max, bool_and, ...: the aggregate of both values
	runFirst                // first_value: the seed's value, when there is a seed
	runOwn                  // last_value: the row's own (its last peer's)
	runNear                 // lag, lead, bounded ROWS frames: computed over the recomputed rows and the back rows before them
	runAvg                  // avg over integers or numerics: from the seed's sum and count, kept beside its value
)

// runningSpec is a window operator's running functions.
type runningSpec struct {
	kinds []runKind
	// peers: some function's value at a row depends on the row's peers
	// (rank, dense_rank, RANGE and GROUPS frames): a change recomputes
	// from the first of its peers.
	peers bool
	// back and fwd: the farthest lag and lead. A change moves the lead
	// of the fwd rows before it, so those are recomputed too, and the
	// lag of the first recomputed rows reads the back rows before them.
	back, fwd int64
	// funcs are the functions computed over the recomputed rows: the
	// window's, then a sum and a count of each avg's argument (avgs).
	funcs []*exec.WindowFunc
	avgs  []int
	// near are the runNear functions' indexes in funcs, nearFuncs the
	// functions: only they are computed over the rows before too.
	near      []int
	nearFuncs []*exec.WindowFunc
	// types are a stored row's: the input columns, the position (the
	// number of rows up to it, its copies included), then the values of
	// funcs at its last copy.
	types []types.T
}

// runningOf returns the running spec of funcs, or nil when some function
// is not a running one or they do not share one ORDER BY.
func runningOf(funcs []*exec.WindowFunc, in []types.T) *runningSpec {
	rs := &runningSpec{types: append(slices.Clone(in), types.Make(types.Int8OID))}
	for _, f := range funcs {
		if len(f.Order) == 0 || !sameSortKeys(f.Order, funcs[0].Order) {
			return nil
		}
		fromStart := f.Frame.Start.Kind == exec.UnboundedPreceding && f.Frame.End.Kind == exec.CurrentRow
		var k runKind
		switch {
		case !fromStart && f.Name != "lag" && f.Name != "lead" && addReach(f, &rs.back, &rs.fwd):
			// A ROWS frame bounded on both sides, read around the row as
			// lag and lead are.
			k = runNear
		case f.Agg != nil:
			if !fromStart {
				return nil
			}
			switch f.Agg.Name {
			case "count":
				k = runCount
			case "avg":
				if f.Agg.Ret.OID != types.NumericOID {
					return nil // over floats: the sum's rounding depends on its order
				}
				k = runAvg
			case "sum":
				switch f.Agg.Ret.OID {
				case types.Int8OID, types.NumericOID:
					k = runAcc
				default:
					return nil
				}
			case "min", "max", "bool_and", "bool_or", "every", "bit_and", "bit_or", "bit_xor":
				k = runAcc
			default:
				return nil
			}
		case f.Name == "lag" || f.Name == "lead":
			if !addReach(f, &rs.back, &rs.fwd) {
				return nil
			}
			k = runNear
		case f.Name == "row_number":
			k = runPos
		case f.Name == "rank":
			k, rs.peers = runPos, true
		case f.Name == "dense_rank":
			k, rs.peers = runDense, true
		case f.Name == "first_value" || f.Name == "last_value":
			if !fromStart {
				return nil
			}
			k = runFirst
			if f.Name == "last_value" {
				k = runOwn
			}
		default:
			return nil
		}
		if (f.Agg != nil || k == runFirst || k == runOwn) && k != runNear && f.Frame.Mode != exec.FrameRows {
			rs.peers = true
		}
		rs.kinds = append(rs.kinds, k)
		rs.types = append(rs.types, f.T)
		switch k {
		case runAvg:
			rs.avgs = append(rs.avgs, len(rs.kinds)-1)
		case runNear:
			rs.near, rs.nearFuncs = append(rs.near, len(rs.kinds)-1), append(rs.nearFuncs, f)
		}
	}
	rs.funcs = funcs
	for _, j := range rs.avgs {
		// avg continues from its sum and count, computed beside it.
		f := funcs[j]
		for _, name := range []string{"sum", "count"} {
			agg, err := exec.ResolveAgg(name, f.Args[0].Type(), false)
			if err != nil || agg == nil {
				return nil
			}
			aux := *f
			aux.Name, aux.Agg, aux.T = name, agg, agg.Ret
			rs.funcs = append(slices.Clip(rs.funcs), &aux)
			rs.types = append(rs.types, agg.Ret)
		}
	}
	return rs
}

// runs returns the running spec the window's state is stored with, or nil.
func (x *Window) runs() *runningSpec {
	if x.ordered && x.runLayout && x.reach == nil {
		return x.running
	}
	return nil
}

// runEntry is a stored row read by windowRunning, with its stored value.
type runEntry struct {
	windowEntry
	v []byte
}

// runChange is a change of a running window's partition: a row, its key
// and weight, and where its peer prefix ends in the key.
type runChange struct {
	key  []byte
	olen int
	row  exec.Row
	w    int64
}

// pendingRuns are the changes a pass made to running windows, applied at
// its end (flushRunning): a backfill step's rows of one partition then
// cost one recomputation of the rows after the first of them, not one
// each.
type pendingRuns struct {
	windows []*Window
	parts   map[*Window]map[string][]runChange
	order   map[*Window][]string
}

// deferRunning files a change of a running window (key k, partition
// k[:plen]) for the end of the pass. The row is copied through its
// encoding: operators' rows are scratch.
func (r *run) deferRunning(x *Window, k []byte, plen, olen int, row exec.Row, w int64) error {
	payload, err := types.EncodeRow(nil, x.Types, row)
	if err != nil {
		return err
	}
	kept, err := types.DecodeRow(x.Types, payload)
	if err != nil {
		return err
	}
	pr := &r.running
	if pr.parts == nil {
		pr.parts, pr.order = map[*Window]map[string][]runChange{}, map[*Window][]string{}
	}
	parts := pr.parts[x]
	if parts == nil {
		parts = map[string][]runChange{}
		pr.parts[x] = parts
		pr.windows = append(pr.windows, x)
	}
	part := string(k[:plen])
	if _, ok := parts[part]; !ok {
		pr.order[x] = append(pr.order[x], part)
	}
	parts[part] = append(parts[part], runChange{key: bytes.Clone(k), olen: olen, row: kept, w: w})
	return nil
}

// flushRunning applies the pending changes of running windows, partition
// by partition in the order they came, and reports whether there were
// any (their outputs may have filed more, for a window above).
func (r *run) flushRunning() (bool, error) {
	pr := r.running
	if len(pr.windows) == 0 {
		return false, nil
	}
	r.running = pendingRuns{}
	for _, x := range pr.windows {
		for _, part := range pr.order[x] {
			if err := r.windowRunning(x, x.runs(), []byte(part), pr.parts[x][part]); err != nil {
				return true, err
			}
		}
	}
	return true, nil
}

// windowRunning applies changes of one partition (part) to a window of
// running functions.
func (r *run) windowRunning(x *Window, rs *runningSpec, part []byte, changes []runChange) error {
	// In key order, one per key with the weights summed; the
	// recomputation starts at the first (at its first peer).
	slices.SortStableFunc(changes, func(a, b runChange) int { return bytes.Compare(a.key, b.key) })
	merged := changes[:0]
	for _, c := range changes {
		if n := len(merged); n > 0 && bytes.Equal(merged[n-1].key, c.key) {
			merged[n-1].w += c.w
			continue
		}
		merged = append(merged, c)
	}
	changes = merged
	from := changes[0].key
	if rs.peers {
		from = changes[0].key[:changes[0].olen]
	}
	decode := func(v []byte) (int64, exec.Row, error) {
		c, payload := decodeCounted(v)
		rw, err := types.DecodeRow(rs.types, payload)
		if err != nil {
			return 0, nil, fmt.Errorf("materialized view %d: window row: %w", r.p.View, err)
		}
		return c, rw, nil
	}
	// Backwards from the change: the fwd rows whose lead reaches it (and
	// the rest of the first one's peers), recomputed too; then the seed,
	// the row just before the recomputed ones, with the back rows whose
	// values their lag reads (the context).
	var es, ctx []runEntry
	var seed exec.Row
	var leadN, ctxN int64
	var peerKey []byte
	err := r.ov.mergeBack(part, from, func(key, v []byte) error {
		c, rw, err := decode(v)
		if err != nil {
			return err
		}
		e := runEntry{windowEntry: windowEntry{key: bytes.Clone(key), row: rw[:len(x.Types)], n: c}, v: bytes.Clone(v)}
		if leadN < rs.fwd || peerKey != nil {
			// Still among the rows the change's lead reaches, or the
			// peers of the first of them.
			var pk []byte
			if rs.peers {
				if pk, err = appendSortKeys(nil, r.env, e.row, x.order, false); err != nil {
					return err
				}
			}
			if leadN >= rs.fwd && !bytes.Equal(pk, peerKey) {
				peerKey = nil
			} else {
				es = append(es, e)
				leadN += c
				if leadN >= rs.fwd && rs.peers {
					peerKey = pk
				}
				return nil
			}
		}
		if ctx == nil {
			seed = rw[len(x.Types):]
		}
		ctx = append(ctx, e)
		ctxN += c
		if ctxN >= rs.back {
			return log.ErrStop
		}
		return nil
	})
	if err != nil {
		return err
	}
	slices.Reverse(es)
	slices.Reverse(ctx)
	// Then the rows from the first change to the partition's end.
	err = r.ov.merge(from, prefixEnd(part), func(key, v []byte) error {
		c, rw, err := decode(v)
		if err != nil {
			return err
		}
		es = append(es, runEntry{windowEntry: windowEntry{key: bytes.Clone(key), row: rw[:len(x.Types)], n: c}, v: bytes.Clone(v)})
		return nil
	})
	if err != nil {
		return err
	}
	before := make([]windowEntry, len(es))
	for i := range es {
		before[i] = es[i].windowEntry
	}
	after, gone, err := mergeWindowChanges(r.p.View, before, changes)
	if err != nil {
		return err
	}
	context := make([]windowEntry, len(ctx))
	for i := range ctx {
		context[i] = ctx[i].windowEntry
	}
	beforeRows, _, err := x.runOutputs(r, rs, seed, context, before)
	if err != nil {
		return err
	}
	afterRows, lasts, err := x.runOutputs(r, rs, seed, context, after)
	if err != nil {
		return err
	}
	if err := r.windowDiff(x, beforeRows, afterRows); err != nil {
		return err
	}
	// Store each row whose position or values moved, and the change.
	stored := make(map[string][]byte, len(es))
	for _, e := range es {
		stored[string(e.key)] = e.v
	}
	for _, k := range gone {
		r.ov.del(k)
	}
	for i, e := range after {
		payload, err := types.EncodeRow(nil, rs.types, append(slices.Clone(e.row), lasts[i]...))
		if err != nil {
			return err
		}
		v := encodeCounted(e.n, payload)
		if old, ok := stored[string(e.key)]; !ok || !bytes.Equal(old, v) {
			r.ov.set(e.key, v)
		}
	}
	return nil
}

// runOutputs returns the output rows of es (each row as many times as it
// counts, with the functions' values appended), continued from seed (the
// position and values of the row before es; nil when es starts its
// partition) and, for lag, from context (the rows before es), and for
// each of es its position and values at its last copy.
func (x *Window) runOutputs(r *run, rs *runningSpec, seed exec.Row, context, es []windowEntry) ([]exec.Row, []exec.Row, error) {
	out, err := x.outputsOf(r, es, rs.funcs)
	if err != nil {
		return nil, nil, err
	}
	inW := len(x.Types)
	if len(rs.near) > 0 {
		// lag, lead and bounded frames over the context and es, whose
		// rows are the last ones.
		all, err := x.outputsOf(r, append(slices.Clone(context), es...), rs.nearFuncs)
		if err != nil {
			return nil, nil, err
		}
		for i, o := range all[len(all)-len(out):] {
			for h, j := range rs.near {
				out[i][inW+j] = o[inW+h]
			}
		}
	}
	var pos int64
	if seed != nil {
		pos = seed[0].(int64)
	}
	for _, o := range out {
		for j, kind := range rs.kinds {
			if kind == runNear || kind == runAvg {
				// Set above; an avg below, from its sum and count.
				continue
			}
			v, err := continueRun(r.env, kind, rs.funcs[j], seed, j, o[inW+j])
			if err != nil {
				return nil, nil, err
			}
			o[inW+j] = v
		}
		for h, j := range rs.avgs {
			// The sum's and the count's columns, continued, then the avg.
			s, c := len(rs.kinds)+2*h, len(rs.kinds)+2*h+1
			sum, err := continueRun(r.env, runAcc, rs.funcs[s], seed, s, o[inW+s])
			if err != nil {
				return nil, nil, err
			}
			n, _ := continueRun(r.env, runCount, rs.funcs[c], seed, c, o[inW+c])
			o[inW+s], o[inW+c] = sum, n
			if o[inW+j], err = avgOf(r.env, sum, n.(int64)); err != nil {
				return nil, nil, err
			}
		}
	}
	lasts := make([]exec.Row, len(es))
	i := 0
	for ei, e := range es {
		i += int(e.n)
		pos += e.n
		lasts[ei] = append(exec.Row{pos}, out[i-1][inW:]...)
	}
	// The output rows end with the window's functions.
	for i := range out {
		out[i] = out[i][:inW+len(x.Funcs)]
	}
	return out, lasts, nil
}

// avgOf is avg's value from the sum (an int8 or numeric) and count of its
// argument.
func avgOf(env *exec.Env, sum types.Datum, n int64) (types.Datum, error) {
	var d *apd.Decimal
	switch s := sum.(type) {
	case nil:
		return nil, nil
	case int64:
		d = apd.New(s, 0)
	case *apd.Decimal:
		d = s
	default:
		return nil, fmt.Errorf("avg: a sum of type %T", sum)
	}
	return exec.NumericAvg(env, d, n)
}

// continueRun returns function f's value at a row, v being its value over
// the recomputed rows alone, continued from seed (f is the seed's j-th).
func continueRun(env *exec.Env, kind runKind, f *exec.WindowFunc, seed exec.Row, j int, v types.Datum) (types.Datum, error) {
	if seed == nil || kind == runOwn {
		return v, nil
	}
	s := seed[1+j]
	switch kind {
	case runPos:
		return seed[0].(int64) + v.(int64), nil
	case runDense, runCount:
		return s.(int64) + v.(int64), nil
	case runFirst:
		return s, nil
	}
	acc := f.Agg.New()
	for _, x := range []types.Datum{s, v} {
		if x != nil {
			if err := acc.Add(env, x); err != nil {
				return nil, err
			}
		}
	}
	return acc.Result(env)
}
