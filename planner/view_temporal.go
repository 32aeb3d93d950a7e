package planner

import (
	"strings"
	"time"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/sql/types"
	"github.com/strand-db/strand/views"
)

// temporalFilter splits from a view's WHERE the conjuncts that compare a
// timestamptz of the row with now() plus or minus a constant interval
// (`ts > now() - interval '1 hour'`, `ts + interval '1 day' > now()`,
// `ts <= now()`): they become the bounds of a temporal filter
// (views/temporal.go), rest is what is left for an ordinary filter.
// Another use of now(), or of a function of the session, is refused.
func (b *Builder) temporalFilter(pred exec.Expr) (rest exec.Expr, bounds []views.TimeBound, err error) {
	var keep []exec.Expr
	for _, c := range conjuncts(pred) {
		if !volatile(c) {
			keep = append(keep, c)
			continue
		}
		tb, ok, err := b.timeBound(c)
		if err != nil {
			return nil, nil, err
		}
		if !ok {
			return nil, nil, notMaintainable("WHERE uses a function whose result changes over time or with the session " +
				"(a temporal filter, a condition of its own, compares a timestamptz of the row with now() plus or minus " +
				"a constant interval, as in ts > now() - interval '1 hour')")
		}
		bounds = append(bounds, tb)
	}
	return andAll(keep), bounds, nil
}

// timeBound reads one conjunct as a temporal filter's bound; ok is false
// when it is not one.
func (b *Builder) timeBound(c exec.Expr) (views.TimeBound, bool, error) {
	call, ok := c.(*exec.Call)
	if !ok || len(call.Args) != 2 {
		return views.TimeBound{}, false, nil
	}
	op := call.Fn.Op
	x, n := call.Args[0], call.Args[1]
	if volatile(x) {
		x, n = n, x
		op = map[string]string{"<": ">", "<=": ">=", ">": "<", ">=": "<="}[op]
	}
	if tb, ok, err := b.elapsedBound(x, op, n); ok || err != nil {
		return tb, ok, err
	}
	if tb, ok, err := b.truncBound(x, op, n); ok || err != nil {
		return tb, ok, err
	}
	if volatile(x) || x.Type().OID != types.TimestampTZOID || n.Type().OID != types.TimestampTZOID {
		return views.TimeBound{}, false, nil
	}
	shift, ok, err := b.nowPlus(n)
	if err != nil || !ok {
		return views.TimeBound{}, false, err
	}
	// x op now() + shift, as a bound on now().
	switch op {
	case ">": // now() < x - shift
		return views.TimeBound{Expr: x, Shift: -shift}, true, nil
	case ">=": // now() <= x - shift
		return views.TimeBound{Expr: x, Shift: -shift + 1}, true, nil
	case "<": // now() > x - shift
		return views.TimeBound{Expr: x, Shift: -shift + 1, Lower: true}, true, nil
	case "<=": // now() >= x - shift
		return views.TimeBound{Expr: x, Shift: -shift, Lower: true}, true, nil
	}
	return views.TimeBound{}, false, nil
}

// nowPlus reads e as now() plus a constant number of microseconds: now(),
// now() ± interval, interval + now(). An interval with months is refused,
// as is one with days unless the view's TimeZone is UTC: adding them is
// not a shift by a fixed time, so the bound would not be exact.
func (b *Builder) nowPlus(e exec.Expr) (int64, bool, error) {
	core, shifts := peelShifts(e)
	call, ok := core.(*exec.Call)
	if !ok || len(call.Args) != 0 {
		return 0, false, nil
	}
	switch call.Fn.Name {
	case "now", "transaction_timestamp", "statement_timestamp":
		return b.shiftMicros(shifts)
	}
	return 0, false, nil
}

// ivShift is a constant interval added to (or, neg, subtracted from) a
// timestamptz.
type ivShift struct {
	iv  exec.Expr
	neg bool
}

// peelShifts takes the constant intervals added to or subtracted from a
// timestamptz off e: core ± i1 ± i2 … gives core and the i's.
func peelShifts(e exec.Expr) (core exec.Expr, shifts []ivShift) {
	for {
		call, ok := e.(*exec.Call)
		if !ok || len(call.Args) != 2 || (call.Fn.Op != "+" && call.Fn.Op != "-") {
			return e, shifts
		}
		a, iv := call.Args[0], call.Args[1]
		if call.Fn.Op == "+" && a.Type().OID == types.IntervalOID {
			a, iv = iv, a
		}
		if a.Type().OID != types.TimestampTZOID || iv.Type().OID != types.IntervalOID || volatile(iv) {
			return e, shifts
		}
		if refs, ok := colRefs(iv, nil); !ok || len(refs) > 0 {
			return e, shifts
		}
		shifts = append(shifts, ivShift{iv: iv, neg: call.Fn.Op == "-"})
		e = a
	}
}

// shiftMicros is the sum of shifts in microseconds (fixedMicros).
func (b *Builder) shiftMicros(shifts []ivShift) (int64, bool, error) {
	var total int64
	for _, s := range shifts {
		us, ok, err := b.fixedMicros(s.iv)
		if err != nil || !ok {
			return 0, ok, err
		}
		if s.neg {
			us = -us
		}
		total += us
	}
	return total, true, nil
}

// fixedMicros is a constant interval as microseconds. One with months is
// refused, as is one with days unless the view's TimeZone is UTC: adding
// them is not a shift by a fixed time, so a bound would not be exact.
func (b *Builder) fixedMicros(iv exec.Expr) (int64, bool, error) {
	v, err := iv.Eval(&exec.Env{Settings: b.settings}, nil)
	if err != nil || v == nil {
		return 0, false, err
	}
	d := v.(types.Interval)
	if d.Months != 0 {
		return 0, false, notMaintainable("a temporal filter's interval may not have months or years (their length varies)")
	}
	if d.Days != 0 && !b.utc() {
		return 0, false, notMaintainable("a temporal filter's interval has days, which need TimeZone UTC to be a fixed time (write hours)")
	}
	return d.Micros + int64(d.Days)*24*int64(time.Hour/time.Microsecond), true, nil
}

// utc reports whether the statement's TimeZone is UTC.
func (b *Builder) utc() bool {
	if b.settings == nil || b.settings.Location == nil {
		return true
	}
	switch b.settings.Location.String() {
	case "UTC", "Etc/UTC", "UCT", "Etc/UCT", "GMT", "Etc/GMT", "Zulu", "Etc/Zulu", "Universal", "Etc/Universal":
		return true
	}
	return false
}

// elapsedBound reads `c op now() - x` (the conjunct flipped so that the
// constant interval c is on the left: now() - ts < interval '1 hour' is
// c > now() - ts) as a bound on now(). now() - x is exact microseconds
// and an interval compares as its microseconds with a day of 24 hours and
// a month of 30 days, as PostgreSQL's interval comparison counts them, so
// the bound is exact in any time zone.
func (b *Builder) elapsedBound(c exec.Expr, op string, n exec.Expr) (views.TimeBound, bool, error) {
	sub, ok := n.(*exec.Call)
	if !ok || sub.Fn.Op != "-" || len(sub.Args) != 2 || c.Type().OID != types.IntervalOID || n.Type().OID != types.IntervalOID {
		return views.TimeBound{}, false, nil
	}
	x := sub.Args[1]
	if volatile(c) || volatile(x) || x.Type().OID != types.TimestampTZOID {
		return views.TimeBound{}, false, nil
	}
	if refs, ok := colRefs(c, nil); !ok || len(refs) > 0 {
		return views.TimeBound{}, false, nil
	}
	shift, ok, err := b.nowPlus(sub.Args[0])
	if err != nil || !ok {
		return views.TimeBound{}, false, err
	}
	v, err := c.Eval(&exec.Env{Settings: b.settings}, nil)
	if err != nil || v == nil {
		return views.TimeBound{}, false, err
	}
	d := v.(types.Interval)
	day := int64(24 * time.Hour / time.Microsecond)
	us := d.Micros + int64(d.Days)*day + int64(d.Months)*30*day
	// c op now() + shift - x, as a bound on now(): with e = x + us -
	// shift, c > now()-… is now() < e, c >= … is now() <= e, c < … is
	// now() > e, c <= … is now() >= e.
	e := us - shift
	switch op {
	case ">":
		return views.TimeBound{Expr: x, Shift: e}, true, nil
	case ">=":
		return views.TimeBound{Expr: x, Shift: e + 1}, true, nil
	case "<":
		return views.TimeBound{Expr: x, Shift: e + 1, Lower: true}, true, nil
	case "<=":
		return views.TimeBound{Expr: x, Shift: e, Lower: true}, true, nil
	}
	return views.TimeBound{}, false, nil
}

// truncUnits are date_trunc's units as the interval from one boundary to
// the next.
var truncUnits = map[string]types.Interval{
	"microsecond": {Micros: 1}, "millisecond": {Micros: 1000}, "second": {Micros: 1e6}, "minute": {Micros: 60e6},
	"hour": {Micros: 3600e6}, "day": {Days: 1}, "week": {Days: 7}, "month": {Months: 1}, "quarter": {Months: 3},
	"year": {Months: 12}, "decade": {Months: 120}, "century": {Months: 1200}, "millennium": {Months: 12000},
}

// truncBound reads `x op date_trunc(unit, now()) [± c]` (today's rows:
// ts >= date_trunc('day', now()); the last 7 days: ts >=
// date_trunc('day', now()) - interval '6 days') as a bound on now(). An
// offset c is a fixed time (fixedMicros), moved to x's side. With B = date_trunc(u,
// now()) a boundary and next(y) = date_trunc(u, y) + 1 unit, B <= y holds
// exactly while now() < next(y): so x >= B while now() < next(x), x > B
// (B <= x - 1µs) while now() < next(x - 1µs), and x < B and x <= B are
// their negations, lower bounds. date_trunc and the unit's interval are
// computed in the view's TimeZone, as PostgreSQL computes B, so the bound
// is exact for every unit, months and days included.
func (b *Builder) truncBound(x exec.Expr, op string, n exec.Expr) (views.TimeBound, bool, error) {
	if volatile(x) || x.Type().OID != types.TimestampTZOID || n.Type().OID != types.TimestampTZOID {
		return views.TimeBound{}, false, nil
	}
	// date_trunc(...) ± a constant interval c: x op B + c is x - c op B.
	core, shifts := peelShifts(n)
	call, ok := core.(*exec.Call)
	if !ok || call.Fn.Name != "date_trunc" || len(call.Args) != 2 {
		return views.TimeBound{}, false, nil
	}
	unit, ok := call.Args[0].(*exec.Const)
	if !ok || unit.Val == nil {
		return views.TimeBound{}, false, nil
	}
	name, _ := unit.Val.(string)
	step, ok := truncUnits[strings.ToLower(name)]
	if !ok {
		step, ok = truncUnits[strings.TrimSuffix(strings.ToLower(name), "s")]
	}
	if !ok {
		return views.TimeBound{}, false, nil
	}
	if at, ok, err := b.nowPlus(call.Args[1]); err != nil || !ok || at != 0 {
		return views.TimeBound{}, false, err
	}
	shift, ok, err := b.shiftMicros(shifts)
	if err != nil || !ok {
		return views.TimeBound{}, false, err
	}
	eb := &exprBinder{b: b, scope: &scope{}, what: "WHERE"}
	y := x
	if op == ">" || op == "<=" {
		shift++ // x > B + c is x - c - 1µs >= B
	}
	if shift != 0 {
		if y, err = eb.operator("-", x, &exec.Const{Val: types.Interval{Micros: shift}, T: types.Make(types.IntervalOID)}); err != nil {
			return views.TimeBound{}, false, err
		}
	}
	trunc := copyWith(call, func(c *exec.Call) { c.Args = []exec.Expr{call.Args[0], y} })
	next, err := eb.operator("+", trunc, &exec.Const{Val: step, T: types.Make(types.IntervalOID)})
	if err != nil {
		return views.TimeBound{}, false, err
	}
	switch op {
	case ">=", ">":
		return views.TimeBound{Expr: next}, true, nil
	case "<", "<=":
		return views.TimeBound{Expr: next, Lower: true}, true, nil
	}
	return views.TimeBound{}, false, nil
}
