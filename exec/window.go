package exec

import (
	"cmp"
	"fmt"
	"math"
	"sort"
	"strings"
	"time"

	"github.com/cockroachdb/apd/v3"

	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

// Window computes window functions. It reads its whole input, then, for
// each function, sorts the rows by the function's PARTITION BY and ORDER
// BY keys (stably, so rows that tie keep their input order), walks each
// partition and computes the function for every row over that row's
// frame. Output rows are the input columns followed by one column per
// function, in the order of the last function's sort, as PostgreSQL's
// WindowAgg emits the rows of its last sort.
//
// Frames follow PostgreSQL: ROWS counts rows, GROUPS counts peer groups
// (rows equal in the ORDER BY keys), RANGE compares the (single) ORDER BY
// value with the offset. The default frame, RANGE BETWEEN UNBOUNDED
// PRECEDING AND CURRENT ROW, therefore ends at the current row's last peer,
// and without ORDER BY every row of the partition is a peer. Ranking
// functions and lag/lead ignore the frame. An aggregate whose frame starts
// at UNBOUNDED PRECEDING is computed incrementally (frame ends only move
// forward); other frames fold their rows afresh for each row.
type Window struct {
	Input Node
	Funcs []*WindowFunc
	Cols  []Column
}

// WindowFunc is one window function call.
type WindowFunc struct {
	// Name is the function: row_number, rank, dense_rank, percent_rank,
	// cume_dist, ntile, lag, lead, first_value, last_value, nth_value, or
	// an aggregate (Agg is set).
	Name      string
	Agg       *AggFunc
	Args      []Expr
	Partition []Expr
	Order     []SortKey
	Frame     WindowFrame
	T         types.T
	// Filter, for an aggregate, is its FILTER (WHERE ...): rows it does
	// not pass are not aggregated.
	Filter Expr
}

// FrameMode is ROWS, RANGE or GROUPS.
type FrameMode uint8

const (
	FrameRange FrameMode = iota
	FrameRows
	FrameGroups
)

// BoundKind is one end of a frame.
type BoundKind uint8

const (
	UnboundedPreceding BoundKind = iota
	OffsetPreceding
	CurrentRow
	OffsetFollowing
	UnboundedFollowing
)

// FrameBound is a frame start or end; Offset is set for the offset kinds
// (an int8 for ROWS and GROUPS, the ORDER BY column's offset type for
// RANGE) and is evaluated once per run.
type FrameBound struct {
	Kind   BoundKind
	Offset Expr
}

// WindowFrame is a frame clause. The zero value is PostgreSQL's default,
// RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW.
type WindowFrame struct {
	Mode       FrameMode
	Start, End FrameBound
}

// DefaultFrame is RANGE BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW.
var DefaultFrame = WindowFrame{Mode: FrameRange, Start: FrameBound{Kind: UnboundedPreceding}, End: FrameBound{Kind: CurrentRow}}

func (w *Window) Columns() []Column { return w.Cols }

func (w *Window) Run(rt *Runtime, emit func(Row) error) error {
	inW := len(w.Input.Columns())
	var rows []Row
	err := w.Input.Run(rt, func(r Row) error {
		out := make(Row, inW+len(w.Funcs))
		copy(out, r)
		rows = append(rows, out)
		return nil
	})
	if err != nil {
		return err
	}
	order := make([]int, len(rows))
	for i := range order {
		order[i] = i
	}
	for fi, f := range w.Funcs {
		if order, err = f.compute(rt, rows, inW+fi); err != nil {
			return err
		}
	}
	for _, i := range order {
		if err := ctxErr(rt); err != nil {
			return err
		}
		if err := emit(rows[i]); err != nil {
			return runStop(err)
		}
	}
	return nil
}

// ComputeWindows fills column inW+i of every row with funcs[i]'s value
// over rows, as Window does for its input: a materialized view computes
// one partition's window functions with it (views/window.go). Rows that
// tie in a function's ORDER BY keep their order in rows.
func ComputeWindows(env *Env, funcs []*WindowFunc, rows []Row, inW int) error {
	rt := &Runtime{Env: env}
	for i, f := range funcs {
		if _, err := f.compute(rt, rows, inW+i); err != nil {
			return err
		}
	}
	return nil
}

func (w *Window) Explain(e *Explainer) {
	parts := make([]string, len(w.Funcs))
	for i, f := range w.Funcs {
		parts[i] = f.String()
	}
	e.Add("WindowAgg")
	e.Detail("Functions: %s", strings.Join(parts, ", "))
	e.Child(w.Input)
}

func (f *WindowFunc) String() string {
	args := make([]string, len(f.Args))
	for i, a := range f.Args {
		args[i] = a.String()
	}
	if f.Filter != nil {
		return fmt.Sprintf("%s(%s) FILTER (WHERE %s)", f.Name, strings.Join(args, ", "), f.Filter)
	}
	return fmt.Sprintf("%s(%s)", f.Name, strings.Join(args, ", "))
}

// windowRows is one function's view of the rows: their sort keys and
// argument values, and the sorted permutation.
type windowRows struct {
	f     *WindowFunc
	part  [][]types.Datum
	keys  [][]types.Datum
	args  [][]types.Datum
	order []int
	// skip: the rows the aggregate's FILTER does not pass.
	skip []bool
}

// compute fills column col of every row with f's value and returns the
// rows' order after f's sort.
func (f *WindowFunc) compute(rt *Runtime, rows []Row, col int) ([]int, error) {
	wr := &windowRows{f: f, part: make([][]types.Datum, len(rows)), keys: make([][]types.Datum, len(rows)), args: make([][]types.Datum, len(rows)), order: make([]int, len(rows))}
	evalAll := func(es []Expr, r Row) ([]types.Datum, error) {
		out := make([]types.Datum, len(es))
		for i, e := range es {
			v, err := e.Eval(rt.Env, r)
			if err != nil {
				return nil, err
			}
			out[i] = v
		}
		return out, nil
	}
	orderExprs := make([]Expr, len(f.Order))
	for i, k := range f.Order {
		orderExprs[i] = k.Expr
	}
	var err error
	for i, r := range rows {
		wr.order[i] = i
		if wr.part[i], err = evalAll(f.Partition, r); err != nil {
			return nil, err
		}
		if wr.keys[i], err = evalAll(orderExprs, r); err != nil {
			return nil, err
		}
		if wr.args[i], err = evalAll(f.Args, r); err != nil {
			return nil, err
		}
		if f.Filter != nil {
			ok, err := EvalBool(f.Filter, rt.Env, r)
			if err != nil {
				return nil, err
			}
			if wr.skip == nil {
				wr.skip = make([]bool, len(rows))
			}
			wr.skip[i] = !ok
		}
	}
	sort.SliceStable(wr.order, func(a, b int) bool {
		i, j := wr.order[a], wr.order[b]
		if c := wr.comparePart(i, j); c != 0 {
			return c < 0
		}
		return wr.comparePeers(i, j) < 0
	})
	frame, err := f.frameOffsets(rt)
	if err != nil {
		return nil, err
	}
	for start := 0; start < len(wr.order); {
		end := start + 1
		for end < len(wr.order) && wr.comparePart(wr.order[start], wr.order[end]) == 0 {
			end++
		}
		p := &partition{wr: wr, rows: wr.order[start:end], frame: frame}
		p.findPeers()
		vals, err := p.compute(rt.Env)
		if err != nil {
			return nil, err
		}
		for k, ri := range p.rows {
			rows[ri][col] = vals[k]
		}
		start = end
	}
	return wr.order, nil
}

func (wr *windowRows) comparePart(i, j int) int {
	for k, e := range wr.f.Partition {
		if c := CompareNulls(e.Type(), wr.part[i][k], wr.part[j][k], false); c != 0 {
			return c
		}
	}
	return 0
}

// comparePeers compares two rows by the ORDER BY keys, in sort order.
func (wr *windowRows) comparePeers(i, j int) int {
	for k, sk := range wr.f.Order {
		a, b := wr.keys[i][k], wr.keys[j][k]
		c := CompareNulls(sk.Expr.Type(), a, b, sk.NullsFirst)
		if sk.Desc && (a == nil) == (b == nil) {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return 0
}

// frameValues holds a frame's offsets, evaluated once per run.
type frameValues struct {
	mode       FrameMode
	start, end BoundKind
	startOff   types.Datum
	endOff     types.Datum
	// loc is the session's time zone: a timestamptz ± an interval with
	// days or months moves by its calendar.
	loc *time.Location
}

func (f *WindowFunc) frameOffsets(rt *Runtime) (frameValues, error) {
	fv := frameValues{mode: f.Frame.Mode, start: f.Frame.Start.Kind, end: f.Frame.End.Kind, loc: sessionLoc(rt.Env)}
	eval := func(b FrameBound, which string) (types.Datum, error) {
		if b.Kind != OffsetPreceding && b.Kind != OffsetFollowing {
			return nil, nil
		}
		v, err := b.Offset.Eval(rt.Env, nil)
		if err != nil {
			return nil, err
		}
		if v == nil {
			return nil, pgErr(pgerr.NullValueNotAllowed, "frame %s offset must not be null", which)
		}
		if negative(v) {
			if f.Frame.Mode == FrameRange {
				return nil, pgErr(pgerr.InvalidPrecedingOrFollowingSize, "invalid preceding or following size in window function")
			}
			return nil, pgErr(pgerr.InvalidPrecedingOrFollowingSize, "frame %s offset must not be negative", which)
		}
		return v, nil
	}
	var err error
	if fv.startOff, err = eval(f.Frame.Start, "starting"); err != nil {
		return fv, err
	}
	if fv.endOff, err = eval(f.Frame.End, "ending"); err != nil {
		return fv, err
	}
	return fv, nil
}

func negative(v types.Datum) bool {
	switch x := v.(type) {
	case int64:
		return x < 0
	case float64:
		return x < 0
	case *apd.Decimal:
		return x.Negative && !x.IsZero()
	case types.Interval:
		// As PostgreSQL compares intervals: a month is 30 days, a day 24
		// hours.
		days, _ := types.FloorDiv(x.Micros, usPerDay)
		return int64(x.Months)*30+int64(x.Days)+days < 0
	}
	return false
}

// partition is one partition's rows (indexes into the run's rows), in
// sort order.
type partition struct {
	wr    *windowRows
	rows  []int
	frame frameValues
	// group[k] is the peer group number of row k; groupStart/groupEnd the
	// first and one-past-last positions of each group.
	group                []int
	groupStart, groupEnd []int
}

func (p *partition) findPeers() {
	p.group = make([]int, len(p.rows))
	for k := range p.rows {
		if k > 0 && p.wr.comparePeers(p.rows[k-1], p.rows[k]) != 0 {
			p.groupEnd = append(p.groupEnd, k)
		}
		if k == 0 || len(p.groupEnd) == len(p.groupStart) {
			p.groupStart = append(p.groupStart, k)
		}
		p.group[k] = len(p.groupStart) - 1
	}
	if len(p.rows) > 0 {
		p.groupEnd = append(p.groupEnd, len(p.rows))
	}
}

func (p *partition) arg(k, i int) types.Datum { return p.wr.args[p.rows[k]][i] }

func (p *partition) compute(env *Env) ([]types.Datum, error) {
	n := len(p.rows)
	out := make([]types.Datum, n)
	f := p.wr.f
	switch f.Name {
	case "row_number":
		for k := range out {
			out[k] = int64(k + 1)
		}
	case "rank":
		for k := range out {
			out[k] = int64(p.groupStart[p.group[k]] + 1)
		}
	case "dense_rank":
		for k := range out {
			out[k] = int64(p.group[k] + 1)
		}
	case "percent_rank":
		for k := range out {
			if n <= 1 {
				out[k] = float64(0)
				continue
			}
			out[k] = float64(p.groupStart[p.group[k]]) / float64(n-1)
		}
	case "cume_dist":
		for k := range out {
			out[k] = float64(p.groupEnd[p.group[k]]) / float64(n)
		}
	case "ntile":
		for k := range out {
			v := p.arg(0, 0) // PostgreSQL reads the bucket count at the partition's first row
			if v == nil {
				out[k] = nil
				continue
			}
			buckets := v.(int64)
			if buckets <= 0 {
				return nil, pgErr(pgerr.Code("22014"), "argument of ntile must be greater than zero")
			}
			out[k] = ntile(int64(k), int64(n), buckets)
		}
	case "lag", "lead":
		for k := range out {
			off := int64(1)
			if len(f.Args) > 1 {
				v := p.arg(k, 1)
				if v == nil {
					out[k] = nil
					continue
				}
				off = v.(int64)
			}
			if f.Name == "lag" {
				off = -off
			}
			if j := int64(k) + off; j >= 0 && j < int64(n) {
				out[k] = p.arg(int(j), 0)
			} else if len(f.Args) > 2 {
				out[k] = p.arg(k, 2)
			}
		}
	default:
		return p.framed(env, out)
	}
	return out, nil
}

// ntile is the bucket (1-based) of row k of n in PostgreSQL's split: the
// first n%buckets buckets have one row more.
func ntile(k, n, buckets int64) int64 {
	if buckets > n {
		return k + 1
	}
	per, extra := n/buckets, n%buckets
	big := extra * (per + 1)
	if k < big {
		return k/(per+1) + 1
	}
	return extra + (k-big)/per + 1
}

// framed computes the functions that read the frame: the value functions
// and aggregates.
func (p *partition) framed(env *Env, out []types.Datum) ([]types.Datum, error) {
	f := p.wr.f
	n := len(p.rows)
	if f.Agg != nil && p.frame.start == UnboundedPreceding {
		acc := f.Agg.New()
		added := 0
		for k := 0; k < n; k++ {
			_, hi, err := p.bounds(k)
			if err != nil {
				return nil, err
			}
			for ; added <= hi && added < n; added++ {
				if err := p.add(env, acc, added); err != nil {
					return nil, err
				}
			}
			if out[k], err = acc.Result(env); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	for k := 0; k < n; k++ {
		lo, hi, err := p.bounds(k)
		if err != nil {
			return nil, err
		}
		switch f.Name {
		case "first_value":
			if lo <= hi {
				out[k] = p.arg(lo, 0)
			}
		case "last_value":
			if lo <= hi {
				out[k] = p.arg(hi, 0)
			}
		case "nth_value":
			v := p.arg(k, 1)
			if v == nil {
				continue
			}
			nth := v.(int64)
			if nth <= 0 {
				return nil, pgErr(pgerr.Code("22016"), "argument of nth_value must be greater than zero")
			}
			if j := int64(lo) + nth - 1; j <= int64(hi) {
				out[k] = p.arg(int(j), 0)
			}
		default:
			acc := f.Agg.New()
			for j := lo; j <= hi; j++ {
				if err := p.add(env, acc, j); err != nil {
					return nil, err
				}
			}
			if out[k], err = acc.Result(env); err != nil {
				return nil, err
			}
		}
	}
	return out, nil
}

func (p *partition) add(env *Env, acc Accumulator, k int) error {
	if p.wr.skip != nil && p.wr.skip[p.rows[k]] {
		return nil
	}
	if p.wr.f.Agg.CountStar {
		return acc.Add(env, nil)
	}
	v := p.arg(k, 0)
	if v == nil && !p.wr.f.Agg.NonStrict {
		return nil
	}
	return acc.Add(env, v)
}

// bounds returns the frame of row k as inclusive positions lo..hi (empty
// when lo > hi).
func (p *partition) bounds(k int) (int, int, error) {
	lo, err := p.bound(k, p.frame.start, p.frame.startOff, true)
	if err != nil {
		return 0, 0, err
	}
	hi, err := p.bound(k, p.frame.end, p.frame.endOff, false)
	if err != nil {
		return 0, 0, err
	}
	return max(lo, 0), min(hi, len(p.rows)-1), nil
}

// bound is the position a frame start (first row in the frame) or end
// (last row in the frame) reaches for row k.
func (p *partition) bound(k int, kind BoundKind, off types.Datum, start bool) (int, error) {
	n := len(p.rows)
	switch kind {
	case UnboundedPreceding:
		return 0, nil
	case UnboundedFollowing:
		return n - 1, nil
	case CurrentRow:
		if p.frame.mode == FrameRows {
			return k, nil
		}
		if start {
			return p.groupStart[p.group[k]], nil
		}
		return p.groupEnd[p.group[k]] - 1, nil
	}
	sign := int64(1)
	if kind == OffsetPreceding {
		sign = -1
	}
	switch p.frame.mode {
	case FrameRows:
		return clampPos(int64(k) + sign*off.(int64)), nil
	case FrameGroups:
		g := int64(p.group[k]) + sign*off.(int64)
		switch {
		case g < 0 && start:
			return 0, nil
		case g < 0:
			return -1, nil
		case g >= int64(len(p.groupStart)) && start:
			return n, nil
		case g >= int64(len(p.groupStart)):
			return n - 1, nil
		}
		if start {
			return p.groupStart[g], nil
		}
		return p.groupEnd[g] - 1, nil
	}
	return p.rangeBound(k, kind, off, start)
}

func clampPos(v int64) int {
	if v > math.MaxInt32 {
		return math.MaxInt32
	}
	if v < math.MinInt32 {
		return math.MinInt32
	}
	return int(v)
}

// rangeBound finds a RANGE offset bound: the first row whose ORDER BY
// value is not before cur ∓ offset (a start), or the last row not after
// cur ± offset (an end). "Before" is in sort order, so for DESC an offset
// PRECEDING means larger values; NULLs sit where they sort. A NULL current
// value's offset frame is its peers.
func (p *partition) rangeBound(k int, kind BoundKind, off types.Datum, start bool) (int, error) {
	sk := p.wr.f.Order[0]
	cur := p.wr.keys[p.rows[k]][0]
	if cur == nil {
		if start {
			return p.groupStart[p.group[k]], nil
		}
		return p.groupEnd[p.group[k]] - 1, nil
	}
	bound, err := rangeShift(p.frame.loc, cur, off, kind == OffsetFollowing, sk.Desc)
	if err != nil {
		return 0, err
	}
	t := sk.Expr.Type()
	// rel is the row's place relative to the bound, in sort order.
	rel := func(pos int) int {
		v := p.wr.keys[p.rows[pos]][0]
		if v == nil {
			if sk.NullsFirst {
				return -1
			}
			return 1
		}
		c := RangeCmp(t, v, bound)
		if sk.Desc {
			c = -c
		}
		return c
	}
	n := len(p.rows)
	if start {
		return sort.Search(n, func(pos int) bool { return rel(pos) >= 0 }), nil
	}
	return sort.Search(n, func(pos int) bool { return rel(pos) > 0 }) - 1, nil
}

// RangeShift moves cur by a RANGE frame offset as a frame bound does:
// forward toward later rows in sort order (for a descending key, toward
// smaller values), with in_range's arithmetic (a date as its midnight,
// giving a timestamp; an integer saturates, which keeps comparisons right,
// every value being within an unbounded side). A nil cur or off is
// returned unchanged. A materialized view uses it to find the rows a
// change can reach.
func RangeShift(env *Env, cur, off types.Datum, forward, desc bool) (types.Datum, error) {
	return rangeShift(sessionLoc(env), cur, off, forward, desc)
}

func rangeShift(loc *time.Location, cur, off types.Datum, forward, desc bool) (types.Datum, error) {
	if cur == nil || off == nil {
		return cur, nil
	}
	add := forward != desc
	sign := int64(-1)
	if add {
		sign = 1
	}
	switch c := cur.(type) {
	case types.Date:
		return tsPlusInterval(dateToTS(c), off.(types.Interval), sign)
	case types.Timestamp:
		return tsPlusInterval(c, off.(types.Interval), sign)
	case types.TimestampTZ:
		return tstzPlusInterval(loc, c, off.(types.Interval), sign)
	case int64:
		o := off.(int64)
		switch {
		case !add && c < math.MinInt64+o:
			return int64(math.MinInt64), nil
		case add && c > math.MaxInt64-o:
			return int64(math.MaxInt64), nil
		}
		return c + sign*o, nil
	case float64:
		return c + float64(sign)*off.(float64), nil
	case *apd.Decimal:
		d := new(apd.Decimal)
		var err error
		if add {
			_, err = numericCtx.Add(d, c, off.(*apd.Decimal))
		} else {
			_, err = numericCtx.Sub(d, c, off.(*apd.Decimal))
		}
		return d, err
	}
	return nil, pgErr(pgerr.FeatureNotSupported, "RANGE with offset PRECEDING/FOLLOWING is not supported for this type")
}

// RangeCmp compares two non-NULL values of a RANGE frame's ORDER BY
// column (or bounds RangeShift made from them) in value order; a date is
// compared as its midnight.
func RangeCmp(t types.T, a, b types.Datum) int {
	if d, ok := a.(types.Date); ok {
		a = dateToTS(d)
	}
	if d, ok := b.(types.Date); ok {
		b = dateToTS(d)
	}
	switch x := a.(type) {
	case types.Timestamp:
		return cmp.Compare(int64(x), int64(b.(types.Timestamp)))
	case types.TimestampTZ:
		return cmp.Compare(int64(x), int64(b.(types.TimestampTZ)))
	}
	return types.Compare(t, a, b)
}
