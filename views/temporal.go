package views

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql/types"
)

// Temporal filters: a WHERE conjunct that compares a row's time with now()
// (`ts > now() - interval '1 hour'`, `ts <= now()`) makes a view whose
// rows enter and leave as time passes, not only as rows are written, as
// Materialize's mz_now() and RisingWave's now() filters do.
//
// Such a view has a clock, its *time* T (state key 'T'): the view equals
// its query with now() = T. Every intent that reaches the view first
// advances T to its commit time, and the maintainer's ticker commits an
// intent every TickInterval that advances every such view, so T trails
// the wall clock by at most about a second when nothing is written.
// pg_catalog.strand_views shows T as as_of.
//
// The planner turns each temporal conjunct into a bound on now(): a row is
// in while now() >= every lower bound and now() < every upper bound, each
// bound a function of the row alone (TimeBound). So a row is in during one
// interval [start, end) of time, and it changes at most twice: at start it
// enters, at end it leaves. The operator keeps every row that has a change
// ahead of T in an index by the time of that next change
// ('e' op time row → count, row). A row arriving at T is passed on if it
// is in at T and filed under its next change; advancing T to T' takes the
// index's entries up to T' in time order, passes each row's entry or exit
// on and files it under its next change, if any. A row retracted at T is
// found under its next change after T, where it was filed. The work of a
// tick is the rows whose time comes, not the view's size.
//
// The bounds are exact: the planner accepts intervals without months (and
// without days unless the view's TimeZone is UTC), for which
// `ts > now() - i` is exactly `now() < ts + i` (timestamptz values are
// microseconds; a non-strict comparison moves its bound by one).

// Temporal is a temporal filter: its input's rows, each while now() is
// inside the interval its Bounds give it.
type Temporal struct {
	Input  Node
	Bounds []TimeBound
	// Types are the input rows' column types (rows are stored whole).
	Types []types.T
	ID    uint8

	prefix, keyBuf []byte
}

// TimeBound is one temporal conjunct: with b the value of Expr (a
// timestamptz of the row) plus Shift microseconds, a Lower bound lets the
// row in while now() >= b, an upper one while now() < b. A NULL Expr lets
// the row in never (the conjunct is NULL).
type TimeBound struct {
	Expr  exec.Expr
	Shift int64
	Lower bool
}

func (t *Temporal) children() []Node { return []Node{t.Input} }

// pgEpochUnixMicros is 2000-01-01 in Unix microseconds: timestamptz
// values count from it, commit times from 1970.
const pgEpochUnixMicros = 946684800000000

const (
	timeMin = math.MinInt64
	timeMax = math.MaxInt64
)

// span returns the interval [start, end) of times when row is in; ok is
// false when a bound is NULL (never in).
func (t *Temporal) span(env *exec.Env, row exec.Row) (start, end int64, ok bool, err error) {
	start, end = timeMin, timeMax
	for _, b := range t.Bounds {
		v, err := b.Expr.Eval(env, row)
		if err != nil || v == nil {
			return 0, 0, false, err
		}
		at := shiftTime(int64(v.(types.TimestampTZ)), b.Shift)
		if b.Lower {
			start = max(start, at)
		} else {
			end = min(end, at)
		}
	}
	return start, end, true, nil
}

// shiftTime adds d to a time, with ±infinity (and what would overflow)
// staying infinite.
func shiftTime(at, d int64) int64 {
	switch {
	case at == timeMin || at == timeMax:
		return at
	case d > 0 && at > timeMax-d:
		return timeMax
	case d < 0 && at < timeMin-d:
		return timeMin
	}
	return at + d
}

func inSpan(start, end, at int64) bool { return start <= at && at < end }

// nextChange is the first time after at when a row in during [start,
// end) enters or leaves; ok is false when it never changes again.
func nextChange(start, end, at int64) (int64, bool) {
	switch {
	case start >= end:
		return 0, false
	case at < start:
		return start, true
	case at < end && end != timeMax:
		return end, true
	}
	return 0, false
}

// timeKey appends a time so that byte order is time order.
func timeKey(buf []byte, at int64) []byte {
	return binary.BigEndian.AppendUint64(buf, uint64(at)^(1<<63))
}

func (t *Temporal) entryKey(at int64, row exec.Row) []byte {
	t.keyBuf = appendTuple(timeKey(append(t.keyBuf[:0], t.prefix...), at), t.Types, row)
	return t.keyBuf
}

// temporal takes a weighted row of the filter's input at the view's time.
func (r *run) temporal(t *Temporal, row exec.Row, w int64) error {
	start, end, ok, err := t.span(r.env, row)
	if err != nil || !ok {
		return err
	}
	if next, ok := nextChange(start, end, r.viewTime); ok {
		payload, err := types.EncodeRow(nil, t.Types, row)
		if err != nil {
			return err
		}
		_, after, err := r.ov.addCount(t.entryKey(next, row), w, payload)
		if err != nil {
			return err
		}
		if after < 0 {
			return fmt.Errorf("materialized view %d: negative multiplicity %d in a temporal filter", r.p.View, after)
		}
	}
	if inSpan(start, end, r.viewTime) {
		return r.emit(t, row, w)
	}
	return nil
}

// maxTickRows bounds the rows one intent moves in or out of a view as its
// time advances: a view whose time lags further (a server down for an
// hour, say) catches up over several ticks, its time set to the last
// change taken, so no intent grows without bound.
const maxTickRows = 4096

// tick advances the time of the run's view, when it has temporal filters,
// to the intent's commit time (or as far as maxTickRows allows), and sets
// r.viewTime, the time its rows are filtered at. A view's time never goes
// back: a commit time before it (the clock was set back) leaves it.
func (r *run) tick(p *Plan) error {
	if p.temporal == nil {
		return nil
	}
	k := sub(p.View, 'T')
	v, found, err := r.ov.get(k)
	if err != nil {
		return err
	}
	if !found {
		// A new view: nothing is filed yet.
		r.viewTime = r.now
		r.ov.set(k, binary.BigEndian.AppendUint64(nil, uint64(r.now)))
		return nil
	}
	if len(v) != 8 {
		return fmt.Errorf("materialized view %d: bad time of %d bytes", p.View, len(v))
	}
	old := int64(binary.BigEndian.Uint64(v))
	r.viewTime = old
	if r.now <= old {
		return nil
	}
	to := r.now
	t := p.temporal
	// The changes due by `to`, in time order, at most maxTickRows of
	// them and then all of the last one's time, so that the time can
	// stop there. (One filter per view: a row that filter passes on
	// cannot reach a second one whose changes are already taken.)
	type due struct {
		at     int64
		key, v []byte
	}
	var dues []due
	hi := timeKey(append([]byte(nil), t.prefix...), shiftTime(to, 1))
	err = r.ov.merge(t.prefix, hi, func(k, v []byte) error {
		at := int64(binary.BigEndian.Uint64(k[len(t.prefix):]) ^ (1 << 63))
		if len(dues) >= maxTickRows && at > dues[len(dues)-1].at {
			to = dues[len(dues)-1].at
			r.tickPartial = true
			return log.ErrStop
		}
		dues = append(dues, due{at: at, key: append([]byte(nil), k...), v: append([]byte(nil), v...)})
		return nil
	})
	if err != nil && !errors.Is(err, log.ErrStop) {
		return err
	}
	for _, d := range dues {
		r.ov.del(d.key)
		n, payload := decodeCounted(d.v)
		row, err := types.DecodeRow(t.Types, payload)
		if err != nil {
			return fmt.Errorf("materialized view %d: temporal filter entry: %w", p.View, err)
		}
		start, end, ok, err := t.span(r.env, row)
		if err != nil {
			return err
		}
		if !ok {
			continue // cannot be: such rows are never filed
		}
		if next, ok := nextChange(start, end, to); ok {
			if _, _, err := r.ov.addCount(t.entryKey(next, row), n, payload); err != nil {
				return err
			}
		}
		// The view's later operators see the change at the new time.
		r.viewTime = to
		was, is := inSpan(start, end, old), inSpan(start, end, to)
		switch {
		case is && !was:
			err = r.emit(t, row, n)
		case was && !is:
			err = r.emit(t, row, -n)
		}
		if err != nil {
			return err
		}
	}
	r.viewTime = to
	r.ov.set(k, binary.BigEndian.AppendUint64(nil, uint64(to)))
	return nil
}

// ReadTime reads the time (its now()) of a view with a temporal filter,
// or over one (the views under it: all move in the same commits), from a
// snapshot; ok is false for other views.
func ReadTime(snap *log.Snapshot, view log.TableID) (at types.TimestampTZ, ok bool, err error) {
	cat := snap.Catalog()
	seen := map[log.TableID]bool{}
	var find func(id log.TableID) error
	find = func(id log.TableID) error {
		td, isTable := cat.Table(id)
		if ok || seen[id] || !isTable || td.Kind != log.View {
			return nil
		}
		seen[id] = true
		k := sub(id, 'T')
		err := snap.ScanRange(k, prefixEnd(k), func(_, v []byte) error {
			if len(v) != 8 {
				return fmt.Errorf("materialized view %d: bad time of %d bytes", id, len(v))
			}
			at, ok = types.TimestampTZ(int64(binary.BigEndian.Uint64(v))), true
			return nil
		})
		for _, d := range td.DependsOn {
			if err == nil {
				err = find(d)
			}
		}
		return err
	}
	err = find(view)
	return at, ok, err
}

// tickTask is the HookTask of the ticker's intents: they carry no writes
// and only advance the views' times. more reports that a view's time
// stopped short of the commit time (maxTickRows), so the ticker commits
// again at once.
type tickTask struct{ more bool }

// TickInterval is how often the ticker advances views with temporal
// filters when nothing else does.
var TickInterval = time.Second

// runTicker commits a tick every TickInterval while some view has a
// temporal filter. (temporalViews is set by the first intent that
// compiles the catalog's views; after a restart that is the backfill
// worker's first look for work, so an idle server ticks too.)
func (m *Maintainer) runTicker(ctx context.Context, l *log.Log, logger *slog.Logger) {
	tm := time.NewTimer(TickInterval)
	defer tm.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tm.C:
		}
		for ctx.Err() == nil && m.temporalViews.Load() {
			t := &tickTask{}
			if _, err := l.Commit(ctx, &log.Intent{HookTask: t}); err != nil {
				if ctx.Err() == nil && !errors.Is(err, log.ErrClosed) {
					logger.Warn("materialized views: advancing the time of views with temporal filters failed", slog.Any("err", err))
				}
				break
			}
			if !t.more {
				break
			}
		}
		tm.Reset(TickInterval)
	}
}
