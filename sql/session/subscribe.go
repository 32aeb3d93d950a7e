package session

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/pgwire"
	"github.com/strand-db/strand/planner"
	"github.com/strand-db/strand/sql"
	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
	"github.com/strand-db/strand/views"
)

// SUBSCRIBE (docs/SUBSCRIBE.md): a change stream over tables, table
// patterns or a materialized view, read through COPY (SUBSCRIBE ...) TO
// STDOUT or a cursor (DECLARE c CURSOR FOR SUBSCRIBE ...; FETCH n c).
//
// Tables are read through the log's subscriptions (log/subscribe.go), which
// route durable events by table and encoded key prefix: a key pattern's
// literal leading levels become that prefix when the keys are text, and the
// whole pattern is checked on the key's text after it. WHERE is bound per
// table and sees the new row, or the old one (read from the key's previous
// version) for a delete; an update passes when either row passes, so a
// subscriber sees rows enter and leave its filter.
//
// A materialized view has no per-key event log: its subscription reads the
// view's rows once and then applies the changes the view maintainer
// computed, as they become durable (views/feed.go), so a delivery costs
// what changed.

// subscribe streams a subscription's changes as COPY rows until the client
// cancels.
func (s *Session) subscribe(ctx context.Context, sub *sql.Subscribe, o copyOptions, w pgwire.ResultWriter) (int64, error) {
	if o.format == "binary" {
		return 0, pgerr.New(pgerr.FeatureNotSupported, "SUBSCRIBE in binary COPY format is not supported yet")
	}
	sc, err := s.newSubCursor(sub)
	if err != nil {
		return 0, err
	}
	defer sc.close()
	out, err := w.CopyOut(0, make([]int16, len(sc.cols)))
	if err != nil {
		return 0, err
	}
	var n int64
	var line, val []byte
	for {
		rows, err := sc.fetch(ctx, s, -1, -1)
		if err != nil {
			return n, err
		}
		for _, row := range rows {
			line = line[:0]
			for i, c := range sc.cols {
				if i > 0 {
					line = append(line, o.delimiter)
				}
				if row[i] == nil {
					line = append(line, o.null...)
					continue
				}
				val = types.AppendText(val[:0], c.T, row[i], s.vars.types)
				line = escapeText(line, val, o.delimiter)
			}
			line = append(line, '\n')
			if _, err := out.Write(line); err != nil {
				return n, err
			}
			n++
		}
		if f, ok := out.(interface{ Flush() error }); ok {
			if err := f.Flush(); err != nil {
				return n, err
			}
		}
	}
}

// subCursor is a subscription read by FETCH and by COPY.
type subCursor struct {
	eng  *Engine
	cols []exec.Column
	// single is the relation of a one-relation subscription (its columns
	// are spread into the result); nil means the pattern shape (_row jsonb).
	single   *log.TableDesc
	declared *exec.TableLayout // single's layout at DECLARE
	withOld  bool
	// where is bound per table, lazily (tables can appear later).
	where   *sql.Subscribe
	filters map[log.TableID]*tableFilter
	keyPat  []string // key pattern levels; nil: none
	keyPre  string   // key_prefix; "" none
	// sub reads tables; view reads a materialized view.
	sub  *log.Subscription
	view *viewFeed
	// builder binds WHERE (the session's search path and settings).
	builder func(cat *log.Catalog) *planner.Builder
	env     *exec.Env
	pending []exec.Row
}

// tableFilter is what one relation needs to render and filter changes.
type tableFilter struct {
	l    *exec.TableLayout
	pred exec.Expr // nil: no WHERE
	// skip: the WHERE does not bind on this table (pattern subscriptions
	// over tables without its columns); its changes are left out.
	skip bool
	name string
	// proj maps the cursor's columns (fixed at DECLARE) to the current
	// layout's, by column ID (-1: dropped since); one-relation shape only.
	proj []int
}

func (s *Session) newSubCursor(sub *sql.Subscribe) (*subCursor, error) {
	cat := s.catalog()
	b := s.builder(cat, nil)
	sc := &subCursor{eng: s.eng, where: sub, filters: map[log.TableID]*tableFilter{}, env: s.env(nil),
		builder: func(c *log.Catalog) *planner.Builder { return s.builder(c, nil) }}
	o, err := s.subscribeOptions(sub)
	if err != nil {
		return nil, err
	}
	sc.withOld, sc.keyPre = o.old, o.keyPrefix
	if o.key != "" {
		if sc.keyPat, err = parseKeyPattern(o.key); err != nil {
			return nil, err
		}
	}
	var spec log.SubscriptionSpec
	pattern := len(sub.Targets) > 1
	var tds []*log.TableDesc
	for _, t := range sub.Targets {
		if t.Pattern != "" {
			pattern = true
			p := t.Pattern
			if strings.HasPrefix(p, ".") {
				p = s.vars.searchPath()[0] + p
			}
			spec.Tables = append(spec.Tables, p)
			continue
		}
		td, err := b.LookupTable(t.Name.Schema, t.Name.Name)
		if err != nil {
			return nil, err
		}
		if td.Kind == log.PlainView {
			return nil, pgerr.New(pgerr.FeatureNotSupported, "SUBSCRIBE to a view is not supported").
				WithDetail("A view has no changes of its own: its query runs when it is read.").
				WithHint("Make it a materialized view, whose changes can be subscribed to.")
		}
		tds = append(tds, td)
		spec.TableIDs = append(spec.TableIDs, td.ID)
	}
	text, int8 := types.Make(types.TextOID), types.Make(types.Int8OID)
	jsonb := types.Make(types.JSONBOID)
	sc.cols = []exec.Column{{Name: "_position", T: int8}, {Name: "_table", T: text}, {Name: "_key", T: text},
		{Name: exec.VersionColumn, T: int8}, {Name: "_op", T: text}}
	if !pattern {
		sc.single = tds[0]
		l := exec.NewTableLayout(sc.single)
		for i, c := range l.Cur.Columns {
			sc.cols = append(sc.cols, exec.Column{Name: c.Name, T: l.Types[i], Table: planner.TableOID(sc.single.ID), Attr: uint16(i + 1)})
		}
	} else {
		for _, td := range tds {
			if td.Kind == log.View {
				return nil, pgerr.New(pgerr.FeatureNotSupported, "SUBSCRIBE to a materialized view takes the view alone, not with other relations")
			}
		}
		sc.cols = append(sc.cols, exec.Column{Name: "_row", T: jsonb})
	}
	if sc.withOld {
		sc.cols = append(sc.cols, exec.Column{Name: "_old", T: jsonb})
	}
	if sub.Where != nil {
		// Bind now so that a bad WHERE fails the statement, not a FETCH.
		for _, td := range tds {
			f := sc.filter(cat, td)
			if f.skip {
				_, err := b.BindRowFilter(exec.NewTableLayout(td), sub.Where)
				return nil, err
			}
		}
	}
	if sc.single != nil && sc.single.Kind == log.View && !sc.single.LogsChanges() {
		// A view without a changelog has no events: its rows, then its
		// feed (viewFeed). One with a changelog is read like a table.
		if o.start != startBeginning && o.start != startNow {
			return nil, pgerr.New(pgerr.FeatureNotSupported, "SUBSCRIBE to a materialized view starts at 'beginning' or 'now', not at a position").
				WithHint("A materialized view created WITH (changelog = true) keeps its changes as events: a subscription to it resumes from a position.")
		}
		sc.view = &viewFeed{td: sc.single, sendInitial: o.start == startBeginning}
		// 'now' is the DECLARE: read the view's rows and start following
		// its tables here, not at the first FETCH.
		if err := sc.view.start(context.Background(), sc); err != nil {
			return nil, err
		}
		return sc, nil
	}
	spec.From = o.pos
	if o.start == startNow {
		snap := s.eng.Log.Snapshot()
		spec.From = snap.LSN()
		snap.Release()
	}
	if lit := sc.literalKeyPrefix(); lit != "" && sc.textKeys(cat, tds, pattern) {
		spec.KeyPrefix = types.AppendKeyPrefix(nil, lit)
	}
	if sc.keyPat != nil || sc.keyPre != "" {
		layouts := map[log.TableID]*exec.TableLayout{}
		spec.Match = func(t log.TableID, key []byte) bool {
			l := layouts[t]
			if l == nil {
				td, ok := sc.eng.Log.Catalog().Table(t)
				if !ok {
					return false
				}
				l = exec.NewTableLayout(td)
				layouts[t] = l
			}
			return sc.keyMatches(l.KeyText(key))
		}
	}
	if sc.sub, err = s.eng.Log.Subscribe(spec); err != nil {
		return nil, mapError(err)
	}
	return sc, nil
}

func (sc *subCursor) close() {
	if sc.sub != nil {
		sc.sub.Close()
	}
	if sc.view != nil {
		sc.view.close()
	}
}

// literalKeyPrefix is the part of the key filter every matching key's
// text starts with.
func (sc *subCursor) literalKeyPrefix() string {
	if sc.keyPre != "" {
		return sc.keyPre
	}
	var lit strings.Builder
	for _, lv := range sc.keyPat {
		if lv == "*" || lv == ">" || lv == "**" {
			break
		}
		lit.WriteString(lv)
		lit.WriteByte('/')
	}
	return lit.String()
}

// textKeys reports whether a text prefix of the keys is a byte prefix of
// their encoding (a single text-like key column), so the log's index can
// route by it. Pattern subscriptions assume it: a key pattern or prefix
// selects text keys.
func (sc *subCursor) textKeys(cat *log.Catalog, tds []*log.TableDesc, pattern bool) bool {
	if pattern && len(tds) == 0 {
		return true
	}
	for _, td := range tds {
		l := exec.NewTableLayout(td)
		if len(l.KeyIdx) != 1 {
			return false
		}
		switch l.Types[l.KeyIdx[0]].OID {
		case types.TextOID, types.VarcharOID:
		default:
			return false
		}
	}
	return true
}

func (sc *subCursor) keyMatches(key string) bool {
	if sc.keyPre != "" && !strings.HasPrefix(key, sc.keyPre) {
		return false
	}
	return sc.keyPat == nil || matchKeyPattern(sc.keyPat, strings.Split(key, "/"))
}

// parseKeyPattern splits a key pattern into '/' levels: '*' matches one
// level, a final '>' or '**' one or more.
func parseKeyPattern(p string) ([]string, error) {
	lv := strings.Split(p, "/")
	for i, x := range lv {
		if (x == ">" || x == "**") && i != len(lv)-1 {
			return nil, pgerr.New(pgerr.InvalidParameterValue, "key pattern %q: %q must be the last level", p, x)
		}
	}
	return lv, nil
}

func matchKeyPattern(p, key []string) bool {
	for i, x := range p {
		if x == ">" || x == "**" {
			return len(key) > i
		}
		if i >= len(key) || (x != "*" && x != key[i]) {
			return false
		}
	}
	return len(p) == len(key)
}

// filter returns the rendering and WHERE of one relation, binding the
// WHERE on first use.
func (sc *subCursor) filter(cat *log.Catalog, td *log.TableDesc) *tableFilter {
	// Descriptors are immutable and replaced by DDL: bind again then.
	if f := sc.filters[td.ID]; f != nil && f.l.Desc == td {
		return f
	}
	f := &tableFilter{l: exec.NewTableLayout(td), name: td.Schema + "." + td.Name}
	if sc.single != nil {
		f.name = td.Name
		for _, want := range sc.single.Current().Columns {
			at := -1
			for i, c := range f.l.Cur.Columns {
				if c.ID == want.ID {
					at = i
				}
			}
			f.proj = append(f.proj, at)
		}
	}
	if sc.where.Where != nil {
		pred, err := sc.builder(cat).BindRowFilter(f.l, sc.where.Where)
		if err != nil {
			f.skip = true
		}
		f.pred = pred
	}
	sc.filters[td.ID] = f
	return f
}

// fetch returns up to limit (-1: everything pending) changes, waiting for
// the first one at most wait (-1: until ctx ends; 0: not at all).
func (sc *subCursor) fetch(ctx context.Context, s *Session, limit int64, wait time.Duration) ([]exec.Row, error) {
	if limit == 0 {
		return nil, nil
	}
	max := 1024
	if limit > 0 && limit < int64(max) {
		max = int(limit)
	}
	if wait >= 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, wait)
		defer cancel()
	}
	for len(sc.pending) == 0 {
		var err error
		if sc.view != nil {
			err = sc.view.fetch(ctx, sc, max)
		} else {
			err = sc.fetchTables(ctx, max)
		}
		if err != nil {
			if wait >= 0 && errors.Is(err, context.DeadlineExceeded) && errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return nil, nil
			}
			if errors.Is(err, log.ErrSubscriptionClosed) {
				return nil, pgerr.New(pgerr.AdminShutdown, "subscription ended: the server is shutting down")
			}
			if ctx.Err() != nil {
				return nil, context.Cause(ctx)
			}
			return nil, mapError(err)
		}
	}
	n := len(sc.pending)
	if limit >= 0 && int64(n) > limit {
		n = int(limit)
	}
	out := sc.pending[:n:n]
	sc.pending = sc.pending[n:]
	return out, nil
}

// fetchTables reads the next durable events and turns those that pass the
// WHERE into rows.
func (sc *subCursor) fetchTables(ctx context.Context, max int) error {
	evs, err := sc.sub.Next(ctx, max)
	if err != nil {
		return err
	}
	snap := sc.eng.Log.Snapshot()
	defer snap.Release()
	cat := snap.Catalog()
	for _, e := range evs {
		td, ok := cat.Table(e.Table)
		if !ok {
			continue // dropped since
		}
		f := sc.filter(cat, td)
		if f.skip {
			continue
		}
		row, err := sc.change(snap, f, e)
		if err != nil {
			return err
		}
		if row != nil {
			sc.pending = append(sc.pending, row)
		}
	}
	return nil
}

// change renders one event, or returns nil when the WHERE leaves it out.
func (sc *subCursor) change(snap *log.Snapshot, f *tableFilter, e *log.Event) (exec.Row, error) {
	var cur, old exec.Row
	var err error
	if e.Op != log.OpDelete {
		if cur, err = f.l.Decode(e.SchemaVersion, e.Row, e.Version, nil); err != nil {
			return nil, err
		}
	}
	needOld := (sc.withOld || f.pred != nil) && (e.Op == log.OpUpdate || e.Op == log.OpDelete)
	if needOld {
		if old, err = previousRow(snap, f.l, e); err != nil {
			return nil, err
		}
	}
	if f.pred != nil {
		pass := false
		for _, r := range []exec.Row{cur, old} {
			if r == nil || pass {
				continue
			}
			v, err := f.pred.Eval(sc.env, r)
			if err != nil {
				return nil, err
			}
			pass = v == true
		}
		if !pass {
			return nil, nil
		}
	}
	row := exec.Row{int64(e.LSN), f.name, f.l.KeyText(e.Key), int64(e.Version), e.Op.String()}
	if sc.single != nil && cur != nil && sc.single.Version(e.SchemaVersion) != nil && sc.single.Kind != log.View {
		// Written under a schema the cursor knows: decode it as declared.
		if sc.declared == nil {
			sc.declared = exec.NewTableLayout(sc.single)
		}
		vals, err := sc.declared.Decode(e.SchemaVersion, e.Row, e.Version, nil)
		if err != nil {
			return nil, err
		}
		row = append(row, vals[:len(sc.declared.Types)]...)
	} else if sc.single != nil {
		// The cursor's columns are the table's at DECLARE: a column added
		// since is left out, one dropped since reads NULL.
		for _, at := range f.proj {
			if cur == nil || at < 0 {
				row = append(row, nil)
			} else {
				row = append(row, cur[at])
			}
		}
	} else {
		row = append(row, rowJSON(f.l, cur, sc.env))
	}
	if sc.withOld {
		row = append(row, rowJSON(f.l, old, sc.env))
	}
	return row, nil
}

// previousRow reads the key's version before e (nil when there is none, or
// retention dropped it).
func previousRow(snap *log.Snapshot, l *exec.TableLayout, e *log.Event) (exec.Row, error) {
	if e.Version <= 1 {
		return nil, nil
	}
	var row exec.Row
	err := snap.History(e.Table, e.Key, e.Version-1, e.Version-1, func(p *log.Event) error {
		if p.Op == log.OpDelete {
			return nil
		}
		var err error
		row, err = l.Decode(p.SchemaVersion, p.Row, p.Version, nil)
		return err
	})
	return row, err
}

// rowJSON renders a row as a jsonb object of its columns (NULL for no
// row), as to_jsonb(row) does.
func rowJSON(l *exec.TableLayout, row exec.Row, env *exec.Env) types.Datum {
	if row == nil {
		return nil
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for i, c := range l.Cur.Columns {
		if i > 0 {
			b.WriteByte(',')
		}
		k, _ := json.Marshal(c.Name)
		b.Write(k)
		b.WriteByte(':')
		b.Write(jsonValue(l.Types[i], row[i], env))
	}
	b.WriteByte('}')
	d, err := types.ParseText(types.Make(types.JSONBOID), b.String(), env.Settings)
	if err != nil {
		// Every value above is valid JSON; this is a bug, not bad input.
		panic("subscribe: row as jsonb: " + err.Error())
	}
	return d
}

func jsonValue(t types.T, d types.Datum, env *exec.Env) []byte {
	if d == nil {
		return []byte("null")
	}
	switch t.OID {
	case types.BoolOID, types.Int2OID, types.Int4OID, types.Int8OID, types.OIDOID, types.NumericOID, types.Float4OID, types.Float8OID:
		s := types.FormatText(t, d, env.Settings)
		if _, err := strconv.ParseFloat(s, 64); err == nil || t.OID == types.BoolOID {
			if t.OID == types.BoolOID {
				if d.(bool) {
					return []byte("true")
				}
				return []byte("false")
			}
			return []byte(s)
		}
		b, _ := json.Marshal(s) // NaN, Infinity
		return b
	case types.JSONBOID, types.JSONOID:
		return []byte(types.FormatText(t, d, env.Settings))
	}
	b, _ := json.Marshal(types.FormatText(t, d, env.Settings))
	return b
}

type startKind int

const (
	startBeginning startKind = iota
	startNow
	startPosition
)

type subscribeOpts struct {
	start     startKind
	pos       uint64
	keyPrefix string
	key       string
	old       bool
}

// subscribeOptions reads SUBSCRIBE's WITH options: start = 'beginning'
// (default), 'now' or a position; key_prefix = 'text'; key = 'pattern';
// old = true.
func (s *Session) subscribeOptions(sub *sql.Subscribe) (subscribeOpts, error) {
	var o subscribeOpts
	for _, op := range sub.Options {
		switch op.Name {
		case "start":
			switch op.Value {
			case "beginning":
			case "now":
				o.start = startNow
			default:
				p, perr := strconv.ParseUint(op.Value, 10, 64)
				if perr != nil {
					return o, pgerr.New(pgerr.InvalidParameterValue, "SUBSCRIBE start must be 'beginning', 'now' or a position, not %q", op.Value)
				}
				o.start, o.pos = startPosition, p
			}
		case "key_prefix":
			o.keyPrefix = op.Value
		case "key":
			o.key = op.Value
		case "old":
			b, err := strconv.ParseBool(op.Value)
			if err != nil {
				return o, pgerr.New(pgerr.InvalidParameterValue, "SUBSCRIBE option old must be a boolean, not %q", op.Value)
			}
			o.old = b
		default:
			return o, pgerr.New(pgerr.SyntaxError, "SUBSCRIBE option %q not recognized", op.Name)
		}
	}
	return o, nil
}

// fetchTimeout reads FETCH's WITH (timeout = '1s'): how long to wait for
// the first change; -1 (no option) waits until the statement is cancelled.
func fetchTimeout(f *sql.Fetch) (time.Duration, error) {
	wait := time.Duration(-1)
	for _, op := range f.Options {
		if op.Name != "timeout" {
			return 0, pgerr.New(pgerr.SyntaxError, "FETCH option %q not recognized", op.Name)
		}
		d, err := time.ParseDuration(op.Value)
		if err != nil {
			secs, ferr := strconv.ParseFloat(op.Value, 64)
			if ferr != nil || secs < 0 {
				return 0, pgerr.New(pgerr.InvalidParameterValue, "FETCH timeout must be a duration such as '1s' or '250ms', not %q", op.Value)
			}
			d = time.Duration(secs * float64(time.Second))
		}
		if d < 0 {
			return 0, pgerr.New(pgerr.InvalidParameterValue, "FETCH timeout must not be negative")
		}
		wait = d
	}
	return wait, nil
}

// viewFeed follows a materialized view: it delivers the changes the
// maintainer hands its feed as they become durable (views/feed.go), each
// key's from the delta itself: a row of a key leaving and another
// entering is an update, and the one leaving is its _old. It keeps no
// copy of the view, only the snapshot of the state it last delivered
// (base). The starting rows, and after the feed lost changes how the view
// now differs from base, go out by a catch-up: the view read at two
// snapshots side by side in the order of its state, a chunk per fetch.
type viewFeed struct {
	td          *log.TableDesc
	sendInitial bool
	feed        *views.Feed
	// base is the durable state last delivered; the feed's batches
	// published after it are new.
	base *log.Snapshot
	read *views.Read
	// catchUp is set while a catch-up runs; the feed keeps the changes
	// published meanwhile.
	catchUp *viewCatchUp
	// lost: batches taken from the feed were not delivered (an error):
	// the next fetch catches up instead.
	lost bool
}

type viewRow struct {
	row exec.Row
	n   int
}

// viewCatchUp compares the view at the state delivered (from; nil snap:
// nothing) with a newer state (to), whose snapshot becomes base when done.
type viewCatchUp struct {
	from, to viewCursor
}

// viewCursor reads a view at one snapshot (nil: no rows), a chunk at a
// time, in the order of its state.
type viewCursor struct {
	snap *log.Snapshot
	next []byte
	done bool
	rows []keyedRow
}

// keyedRow is a row of a view with the key of the state it comes from.
type keyedRow struct {
	key string
	row exec.Row
}

func (v *viewFeed) start(ctx context.Context, sc *subCursor) error {
	m, ok := sc.eng.Log.Hook().(interface {
		Watch(log.TableID) *views.Feed
	})
	if !ok {
		return pgerr.New(pgerr.FeatureNotSupported, "SUBSCRIBE to a materialized view needs the view maintainer")
	}
	// Watch before the snapshot: every batch published after it reaches
	// the feed.
	v.feed = m.Watch(v.td.ID)
	snap := sc.eng.Log.Snapshot()
	if err := v.exists(snap); err != nil {
		snap.Release()
		v.close()
		return err
	}
	v.reader()
	v.base = snap
	if v.sendInitial {
		v.catchUp = &viewCatchUp{from: viewCursor{done: true}, to: viewCursor{snap: snap.Retain()}}
	}
	return nil
}

func (v *viewFeed) close() {
	if v.feed != nil {
		v.feed.Close()
	}
	if v.catchUp != nil {
		v.catchUp.to.snap.Release()
		v.catchUp = nil
	}
	if v.base != nil {
		v.base.Release()
		v.base = nil
	}
}

// exists fails when the view is not in snap's catalog.
func (v *viewFeed) exists(snap *log.Snapshot) error {
	if _, ok := snap.Catalog().Table(v.td.ID); !ok {
		return pgerr.New(pgerr.UndefinedTable, "materialized view %q was dropped", v.td.Name)
	}
	return nil
}

// fetch adds the next changes to the cursor's pending rows: a chunk of a
// catch-up, or the feed's next batches (waiting for them).
func (v *viewFeed) fetch(ctx context.Context, sc *subCursor, max int) error {
	if v.catchUp != nil {
		return v.catchUpChunk(ctx, sc, max)
	}
	if v.lost {
		v.lost = false
		return v.startCatchUp(ctx, sc, max)
	}
	batches, snap, resync, dropped := v.feed.Take()
	if len(batches) == 0 && !resync && !dropped {
		select {
		case <-v.feed.Ready():
		case <-ctx.Done():
			return context.Cause(ctx)
		}
		batches, snap, resync, dropped = v.feed.Take()
	}
	if snap != nil && (dropped || resync || snap.Publication() <= v.base.Publication()) {
		// Nothing new in it: the view's end, a catch-up to come, or
		// batches the base already has.
		snap.Release()
		snap = nil
	}
	if dropped {
		return pgerr.New(pgerr.UndefinedTable, "materialized view %q was dropped", v.td.Name)
	}
	if resync {
		return v.startCatchUp(ctx, sc, max)
	}
	if snap == nil {
		return nil
	}
	old, cur, err := v.apply(batches)
	if err != nil {
		snap.Release()
		v.lost = true
		return err
	}
	v.base.Release()
	v.base = snap
	v.diff(sc, v.filter(sc), snap.LSN(), old, cur)
	return nil
}

// filter is the cursor's rendering and WHERE of the view.
func (v *viewFeed) filter(sc *subCursor) *tableFilter {
	return sc.filter(sc.eng.Log.Catalog(), v.td)
}

// startCatchUp starts comparing the view delivered with the view now
// (changes were lost) and delivers the first chunk.
func (v *viewFeed) startCatchUp(ctx context.Context, sc *subCursor, max int) error {
	now := sc.eng.Log.Snapshot()
	if err := v.exists(now); err != nil {
		now.Release()
		return err
	}
	v.catchUp = &viewCatchUp{from: viewCursor{snap: v.base}, to: viewCursor{snap: now}}
	return v.catchUpChunk(ctx, sc, max)
}

// catchUpChunk compares the next rows (about max) of the catch-up's two
// states and delivers how they differ, ending the catch-up when both are
// read.
func (v *viewFeed) catchUpChunk(ctx context.Context, sc *subCursor, max int) error {
	cu := v.catchUp
	old, cur := map[string]viewRow{}, map[string]viewRow{}
	done := false
	for n := 0; n < max && !done; {
		for _, c := range []*viewCursor{&cu.from, &cu.to} {
			if err := c.fill(ctx, v.read, max); err != nil {
				return err
			}
		}
		from, to := cu.from.rows, cu.to.rows
		switch {
		case len(from) == 0 && len(to) == 0:
			done = true
		case len(to) == 0 || len(from) > 0 && from[0].key < to[0].key:
			n += v.file(old, cu.from.take())
		case len(from) == 0 || to[0].key < from[0].key:
			n += v.file(cur, cu.to.take())
		default:
			n += v.file(old, cu.from.take()) + v.file(cur, cu.to.take())
		}
	}
	v.diff(sc, v.filter(sc), cu.to.snap.LSN(), old, cur)
	if done {
		v.base.Release()
		v.base, v.catchUp = cu.to.snap, nil
	}
	return nil
}

// fill reads the cursor's next chunk once it has no rows left. A chunk
// ends between keys, so the rows of its first key are all there.
func (c *viewCursor) fill(ctx context.Context, r *views.Read, max int) error {
	if len(c.rows) > 0 || c.done {
		return nil
	}
	rt := &exec.Runtime{Ctx: ctx, Env: &exec.Env{Settings: types.DefaultSettings()}, Tables: snapshotRanges{c.snap}}
	next, err := r.RunChunk(rt, c.next, max, func(key []byte, row exec.Row) error {
		c.rows = append(c.rows, keyedRow{key: string(key), row: append(exec.Row(nil), row[:len(r.Types)]...)})
		return nil
	})
	if err != nil {
		// A chunk cut short (the FETCH cancelled, say) is read again.
		c.rows = c.rows[:0]
		return err
	}
	c.next, c.done = next, next == nil
	return nil
}

// take removes the rows of the cursor's first key and returns them.
func (c *viewCursor) take() []exec.Row {
	var out []exec.Row
	k := c.rows[0].key
	for len(c.rows) > 0 && c.rows[0].key == k {
		out = append(out, c.rows[0].row)
		c.rows = c.rows[1:]
	}
	return out
}

// file files rows in m under their keys (keyOf) and returns how many.
// A catch-up compares a chunk of both states at once: the rows of a key
// (its text) are those of one key of the state.
func (v *viewFeed) file(m map[string]viewRow, rows []exec.Row) int {
	for _, row := range rows {
		k := v.keyOf(row)
		e := m[k]
		e.row = row
		e.n++
		m[k] = e
	}
	return len(rows)
}

// apply folds the feed's batches published after base into the rows
// they changed, by key: old has the rows that left (and how many times),
// cur those that entered. A keyed view's key has at most one row, so a
// key in both changed its row; rows that came and went within the
// batches cancel out.
func (v *viewFeed) apply(batches []views.FeedBatch) (old, cur map[string]viewRow, err error) {
	type net struct {
		row exec.Row
		w   int
	}
	nets := map[string]*net{}
	var order []string
	for _, b := range batches {
		if b.Publication <= v.base.Publication() {
			continue // in the state delivered
		}
		for _, c := range b.Changes {
			k := string(c.Row)
			n := nets[k]
			if n == nil {
				row, err := c.Decode(v.read.Types)
				if err != nil {
					return nil, nil, err
				}
				n = &net{row: row}
				nets[k] = n
				order = append(order, k)
			}
			n.w += int(c.W)
		}
	}
	old, cur = map[string]viewRow{}, map[string]viewRow{}
	for _, full := range order {
		n := nets[full]
		side, w := cur, n.w
		if w < 0 {
			side, w = old, -w
		}
		if w == 0 {
			continue
		}
		k := v.keyOf(n.row)
		e := side[k]
		e.row = n.row
		e.n += w
		side[k] = e
	}
	return old, cur, nil
}

// reader sets up the view's reader: its columns and key (in key order, as
// a table's _key is rendered), as declared.
func (v *viewFeed) reader() {
	if v.read == nil {
		l := exec.NewTableLayout(v.td)
		r := &views.Read{View: v.td, Distinct: v.td.Options["distinct"] == "true", Types: l.Types, KeyIdx: l.KeyIdx}
		for i, c := range l.Cur.Columns {
			r.Cols = append(r.Cols, exec.Column{Name: c.Name, T: l.Types[i]})
		}
		v.read = r
	}
}

// keyOf is a row's key: its key columns' text, or the whole row's for a
// view without a key.
func (v *viewFeed) keyOf(row exec.Row) string {
	idx := v.read.KeyIdx
	var b strings.Builder
	if len(idx) == 0 {
		for i := range v.read.Types {
			idx = append(idx, i)
		}
	}
	for i, k := range idx {
		if i > 0 {
			b.WriteString(", ")
		}
		if row[k] == nil {
			b.WriteString("null")
		} else {
			b.WriteString(types.FormatText(v.read.Types[k], row[k], nil))
		}
	}
	return b.String()
}

// diff appends the changes from old to cur, at position pos: a key only
// in cur is an insert, only in old a delete, in both with another row an
// update (old's row is the _old of updates and deletes); rows of a view
// without a key change multiplicity by inserts and deletes. As for tables,
// a WHERE keeps a change when the row before or after it passes.
func (v *viewFeed) diff(sc *subCursor, f *tableFilter, pos uint64, old, cur map[string]viewRow) {
	passes := func(row exec.Row) bool {
		if row == nil {
			return false
		}
		x, err := f.pred.Eval(sc.env, append(append(exec.Row(nil), row...), nil))
		return err == nil && x == true
	}
	emit := func(key, op string, row, was exec.Row) {
		if f.pred != nil && !passes(row) && !passes(was) {
			return
		}
		r := exec.Row{int64(pos), v.td.Name, key, nil, op}
		if row == nil {
			r = append(r, make(exec.Row, len(v.read.Types))...)
		} else {
			r = append(r, row...)
		}
		if sc.withOld {
			r = append(r, rowJSON(f.l, was, sc.env))
		}
		sc.pending = append(sc.pending, r)
	}
	keys := make([]string, 0, len(cur)+len(old))
	for k := range old {
		keys = append(keys, k)
	}
	for k := range cur {
		if _, ok := old[k]; !ok {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	keyed := len(v.read.KeyIdx) > 0
	for _, k := range keys {
		o, hadOld := old[k]
		c, hasCur := cur[k]
		switch {
		case keyed && hadOld && hasCur:
			if !rowsEqual(v.read.Types, o.row, c.row) {
				emit(k, "update", c.row, o.row)
			}
		case keyed && hasCur:
			emit(k, "insert", c.row, nil)
		case keyed:
			emit(k, "delete", nil, o.row)
		default:
			for i := o.n; i < c.n; i++ {
				emit(k, "insert", c.row, nil)
			}
			for i := c.n; i < o.n; i++ {
				emit(k, "delete", o.row, o.row)
			}
		}
	}
}

func rowsEqual(ts []types.T, a, b exec.Row) bool {
	for i, t := range ts {
		if (a[i] == nil) != (b[i] == nil) {
			return false
		}
		if a[i] != nil && types.FormatText(t, a[i], nil) != types.FormatText(t, b[i], nil) {
			return false
		}
	}
	return true
}

// snapshotRanges lets a view's reader scan its state in a durable
// snapshot.
type snapshotRanges struct{ snap *log.Snapshot }

func (r snapshotRanges) Scan(context.Context, *exec.TableLayout, []byte, func(exec.Row) error) error {
	return errors.New("subscribe: table scans are not available here")
}

func (r snapshotRanges) ScanRange(_ context.Context, start, end []byte, fn func(k, v []byte) error) error {
	return r.snap.ScanRange(start, end, fn)
}

func (r snapshotRanges) ScanRangeSeek(_ context.Context, start, end []byte, fn func(k, v []byte) ([]byte, error)) error {
	return r.snap.ScanRangeSeek(start, end, fn)
}
