package session

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"strconv"
	"time"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/pgwire"
	"github.com/strand-db/strand/planner"
	"github.com/strand-db/strand/sql"
	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

// Session is one connection's SQL state.
type Session struct {
	eng  *Engine
	info pgwire.StartupInfo
	vars *settings
	// txn is the open explicit transaction (BEGIN), or nil.
	txn    *exec.Txn
	failed bool
	// txStart is the transaction's (or statement's) start time: now().
	txStart time.Time
	// currentReader is what subqueries of the running statement read.
	currentReader exec.TableSource
	// tags caches the command tags of 0 and 1 rows for the write tag
	// base tagBase (see writeTag).
	tagBase string
	tags    [2]string
	// cursors by name (DECLARE)
	cursors map[string]*cursor
	// notifies waits for the transaction's commit.
	notifies []pendingNotify
	// seqRestarts are the sequences a TRUNCATE ... RESTART IDENTITY in the
	// transaction block starts over when it commits.
	seqRestarts []log.TableID
	// runSubquery is s.subquery as a func value, made once.
	runSubquery func(*exec.Env, exec.Node, int) ([]exec.Row, error)
	// sysTables is the last catalog reader made (catalogReaderFor).
	sysTables *systemTables
	// spareRun is the last portal closed, reused by the next Bind (start).
	spareRun *run
	// sqlPrepared are the statements SQL PREPARE named (sqlprepare.go).
	sqlPrepared map[string]*prepared
	// seqLast is each sequence's last nextval in this session (currval),
	// lastSeq the last of any (lastval).
	seqLast  map[log.TableID]int64
	lastSeq  int64
	haveLast bool
}

func newSession(e *Engine, info pgwire.StartupInfo) *Session {
	s := &Session{eng: e, info: info, vars: newSettings()}
	if info.ApplicationName != "" {
		s.vars.values["application_name"] = info.ApplicationName
	}
	s.vars.values["session_authorization"] = info.User
	return s
}

// TxStatus implements pgwire.Session.
func (s *Session) TxStatus() byte {
	switch {
	case s.failed:
		return 'E'
	case s.txn != nil:
		return 'T'
	}
	return 'I'
}

// Timeouts implements pgwire.Session.
func (s *Session) Timeouts() pgwire.Timeouts {
	return pgwire.Timeouts{Statement: s.vars.statementTimeout, IdleInTransaction: s.vars.idleTimeout}
}

// Close implements pgwire.Session: an open transaction is rolled back.
func (s *Session) Close() {
	s.eng.unlisten(s, "", true)
	s.eng.leaveGroups(s)
	s.closeCursors(true)
	s.endTxn()
	s.eng.sessions.Add(-1)
}

// Sync implements pgwire.Session. Statements outside BEGIN commit as they
// run, so there is no implicit transaction to end here.
func (s *Session) Sync(ctx context.Context, failed bool) error {
	if failed && s.txn != nil {
		s.failed = true
	}
	return nil
}

func (s *Session) endTxn() {
	s.closeCursors(false)
	s.flushNotifies(false)
	s.seqRestarts = nil
	if s.txn != nil {
		s.txn.Release()
		s.txn = nil
	}
	s.failed = false
}

// ExecuteSimple implements pgwire.Session.
func (s *Session) ExecuteSimple(ctx context.Context, query string, w pgwire.ResultWriter) error {
	stmts, err := sql.Parse(query)
	if err != nil {
		return s.fail(err)
	}
	if len(stmts) == 0 {
		return w.EmptyQuery()
	}
	for _, st := range stmts {
		p, err := s.prepare(st, nil)
		if err != nil {
			return s.fail(err)
		}
		if p.cols != nil {
			if err := w.BeginRows(p.pgColumns(), nil); err != nil {
				return err
			}
		}
		run := s.start(ctx, p, nil, nil)
		_, err = run.execute(ctx, w, 0)
		run.Close()
		if err != nil {
			return s.fail(err)
		}
	}
	return nil
}

// fail records an error: inside a transaction block, the block is failed
// until ROLLBACK.
func (s *Session) fail(err error) error {
	if s.txn != nil {
		s.failed = true
	}
	var ce *log.ConflictError
	if errors.As(err, &ce) {
		if ce.SQLState() == "23505" {
			return s.duplicateError(ce)
		}
		return s.conflictError(ce)
	}
	return mapError(err)
}

// conflictError explains a failed optimistic condition in the table's
// terms: which key, its current version, and what the write expected.
func (s *Session) conflictError(ce *log.ConflictError) error {
	e := pgerr.New(pgerr.SerializationFailure, "could not serialize access due to concurrent update")
	e.Hint = "Retry the transaction."
	state := fmt.Sprintf("version %d", ce.Current.Version)
	if ce.Current.Tombstone {
		state += " (deleted)"
	}
	want := ce.Cond.String()
	if ce.Cond.Kind == log.AtVersion {
		want = fmt.Sprintf("version %d", ce.Cond.Version)
	}
	td, ok := s.eng.Log.Catalog().Table(ce.Table)
	if !ok {
		e.Detail = fmt.Sprintf("Key %q of relation %d is at %s; the write expected %s.", ce.Key, ce.Table, state, want)
		return e
	}
	if td.Kind == log.Stream && ce.Cond.Kind == log.AtVersion {
		want = fmt.Sprintf("to append version %d", ce.Cond.Version+1)
	}
	l := exec.NewTableLayout(td)
	e.Table = td.Name
	e.Detail = fmt.Sprintf("Key (%s)=(%s) of relation %q is at %s; the write expected %s.", l.KeyNames(), l.KeyText(ce.Key), td.Name, state, want)
	return e
}

// Prepare implements pgwire.Session.
func (s *Session) Prepare(ctx context.Context, query string, paramOIDs []uint32) (pgwire.PreparedStatement, error) {
	stmts, err := sql.Parse(query)
	if err != nil {
		return nil, s.fail(err)
	}
	if len(stmts) > 1 {
		return nil, s.fail(pgerr.New(pgerr.SyntaxError, "cannot insert multiple commands into a prepared statement"))
	}
	if len(stmts) == 0 {
		return &prepared{s: s}, nil
	}
	given := make([]types.T, len(paramOIDs))
	for i, o := range paramOIDs {
		given[i] = types.Make(types.OID(o))
		if o == 0 {
			given[i] = types.Make(types.UnknownOID)
		}
	}
	p, err := s.prepare(stmts[0], given)
	if err != nil {
		return nil, s.fail(err)
	}
	return p, nil
}

// prepared is a parsed statement with its parameter and result types.
type prepared struct {
	s      *Session
	stmt   sql.Statement
	params []types.T
	cols   []exec.Column
	// plan is the query's last plan and the catalog it was made for;
	// write the same for INSERT, UPDATE and DELETE.
	plan  *planCache
	write *writeCache
}

// prepare plans a statement once, to learn its parameter and result types.
// Execution plans it again against the catalog of that moment, so a
// prepared statement survives DDL.
func (s *Session) prepare(st sql.Statement, given []types.T) (*prepared, error) {
	p := &prepared{s: s, stmt: st}
	info := st.StmtInfo()
	params := &planner.Params{Marker: info.Params}
	params.Types = append(params.Types, given...)
	for len(params.Types) < info.NumParams {
		params.Types = append(params.Types, types.Make(types.UnknownOID))
	}
	if q, ok := st.(*sql.Query); ok && len(params.Types) == 0 {
		// Without parameters the plan that tells the result columns is
		// the plan execution would make: keep it (for this catalog), so a
		// simple-protocol query is planned once, not twice.
		cat := s.catalog()
		n, err := s.builder(cat, params).BuildQuery(q.AST)
		if err != nil {
			return nil, err
		}
		p.cols = n.Columns()
		p.keepPlan(cat, n)
		return p, nil
	}
	cols, err := s.describe(st, params)
	if err != nil {
		return nil, err
	}
	p.cols = cols
	b := s.builder(s.catalog(), params)
	p.params = b.Params().Types
	return p, nil
}

func (p *prepared) ParamOIDs() []uint32 {
	out := make([]uint32, len(p.params))
	for i, t := range p.params {
		out[i] = uint32(t.OID)
	}
	return out
}

func (p *prepared) Columns() []pgwire.Column {
	if p.cols == nil {
		return nil
	}
	return p.pgColumns()
}

func (p *prepared) pgColumns() []pgwire.Column {
	out := make([]pgwire.Column, len(p.cols))
	for i, c := range p.cols {
		out[i] = pgwire.Column{Name: c.Name, TableOID: c.Table, TableAttributeNumber: c.Attr,
			TypeOID: uint32(c.T.OID), TypeSize: c.T.Len(), TypeModifier: c.T.Typmod}
	}
	return out
}

func (p *prepared) Close() {}

func (p *prepared) Bind(ctx context.Context, params [][]byte, paramFormats, resultFormats []int16) (pgwire.Portal, error) {
	if p.stmt == nil {
		return &emptyPortal{}, nil
	}
	vals := make([]types.Datum, len(params))
	for i, raw := range params {
		if raw == nil {
			continue
		}
		t := types.Make(types.TextOID)
		if i < len(p.params) {
			t = p.params[i]
		}
		var err error
		if i < len(paramFormats) && paramFormats[i] == 1 {
			vals[i], err = types.DecodeBinary(t, raw)
		} else {
			vals[i], err = types.ParseText(t, string(raw), p.s.vars.types)
		}
		if err != nil {
			return nil, p.s.fail(err)
		}
	}
	return p.s.start(ctx, p, vals, resultFormats), nil
}

type emptyPortal struct{}

func (emptyPortal) Execute(ctx context.Context, w pgwire.ResultWriter, maxRows int) (bool, error) {
	return false, w.EmptyQuery()
}
func (emptyPortal) Close() {}

// run is one execution of a statement: a portal.
type run struct {
	s       *Session
	p       *prepared
	params  []types.Datum
	formats []int16
	// rows, once started, pulls the result of a query.
	next  func() (exec.Row, error, bool)
	stop  func()
	count int64
	done  bool
	tag   string
	buf   [][]byte
	// closed is set by Close, after which the run is the session's spare.
	closed bool
	// rctx is the context a row-limited execution runs under (see execute).
	rctx *resumeCtx
	// pushFn is r.push as a func value; pushW and pushErr its state.
	pushFn  func(exec.Row, error) bool
	pushW   pgwire.ResultWriter
	pushErr error
}

func (s *Session) start(ctx context.Context, p *prepared, params []types.Datum, formats []int16) *run {
	if r := s.spareRun; r != nil {
		// The last closed portal: drivers bind, execute and close the
		// unnamed portal once per statement, so one run is reused for all.
		s.spareRun = nil
		*r = run{s: s, p: p, params: params, formats: formats, buf: r.buf, pushFn: r.pushFn}
		return r
	}
	return &run{s: s, p: p, params: params, formats: formats}
}

func (r *run) Execute(ctx context.Context, w pgwire.ResultWriter, maxRows int) (bool, error) {
	suspended, err := r.execute(ctx, w, maxRows)
	if err != nil {
		r.close()
		return false, r.s.fail(err)
	}
	return suspended, nil
}

// Close implements pgwire.Portal. pgwire never uses a portal after closing
// it, so the run is kept for the session's next portal (see start).
func (r *run) Close() {
	if r.closed {
		return
	}
	r.close()
	r.closed = true
	r.p, r.params, r.formats, r.tag = nil, nil, nil, ""
	r.s.spareRun = r
}

func (r *run) close() {
	if r.stop != nil {
		r.stop()
		r.stop, r.next = nil, nil
	}
}

// execute runs (or resumes) the statement, writing rows to w.
func (r *run) execute(ctx context.Context, w pgwire.ResultWriter, maxRows int) (bool, error) {
	if r.done {
		return false, w.Complete(r.tag)
	}
	if cp, ok := r.p.stmt.(*sql.Copy); ok {
		r.done, r.tag = true, ""
		return false, r.s.copyStatement(ctx, cp, w)
	}
	if maxRows > 0 && r.next == nil {
		// A row-limited portal may suspend and resume in a later Execute,
		// whose context is another: the plan keeps the context it started
		// with, so it gets one that follows the running Execute's.
		r.rctx = &resumeCtx{}
	}
	if r.rctx != nil {
		r.rctx.Context = ctx
		ctx = r.rctx
	}
	if r.next == nil {
		rows, tag, err := r.s.execStatement(ctx, r.p, r.params)
		if err != nil {
			return false, err
		}
		r.tag = tag
		if rows == nil {
			r.done = true
			return false, w.Complete(tag)
		}
		if maxRows <= 0 {
			// Every row now: push them straight from the plan, without
			// the coroutine a suspendable pull needs. (A plain callback,
			// not range-over-func: a sequence that calls yield again after
			// a stop gets false, not a panic.)
			if r.pushFn == nil {
				r.pushFn = r.push
			}
			r.pushW, r.pushErr = w, nil
			rows(r.pushFn)
			failed := r.pushErr
			r.pushW, r.pushErr = nil, nil
			if failed != nil {
				return false, failed
			}
			return false, r.complete(w)
		}
		r.next, r.stop = iter.Pull2(rows)
	}
	sent := 0
	for {
		// Like PostgreSQL, suspend as soon as the limit is reached.
		if maxRows > 0 && sent == maxRows {
			return true, nil
		}
		row, err, ok := r.next()
		if !ok {
			break
		}
		if err != nil {
			return false, err
		}
		if err := r.writeRow(w, row); err != nil {
			return false, err
		}
		r.count++
		sent++
	}
	r.close()
	return false, r.complete(w)
}

// resumeCtx is the context of a portal that can suspend: its Context is
// set to the context of each Execute that runs it, so a resumed plan sees
// that Execute's cancellation and statement_timeout, not the first one's
// (which ended with the first Execute).
type resumeCtx struct{ context.Context }

// push is the yield of an Execute without a row limit, writing each row to
// r.pushW and keeping the first error in r.pushErr. Its method value
// (pushFn) is made once per run, and runs are reused, so a statement does
// not allocate a callback.
func (r *run) push(row exec.Row, err error) bool {
	if r.pushErr == nil && err == nil {
		err = r.writeRow(r.pushW, row)
		r.count++
	}
	if r.pushErr == nil {
		r.pushErr = err
	}
	return r.pushErr == nil
}

// selectTags are the command tags of small SELECT results, made once so
// that the common short query does not build its tag every time.
var selectTags = func() (t [64]string) {
	for i := range t {
		t[i] = "SELECT " + strconv.Itoa(i)
	}
	return t
}()

// complete ends the rows with the command tag.
func (r *run) complete(w pgwire.ResultWriter) error {
	r.done = true
	if r.tag == "SELECT" {
		if r.count >= 0 && r.count < int64(len(selectTags)) {
			r.tag = selectTags[r.count]
		} else {
			r.tag = "SELECT " + strconv.FormatInt(r.count, 10)
		}
	}
	return w.Complete(r.tag)
}

func (r *run) writeRow(w pgwire.ResultWriter, row exec.Row) error {
	cols := r.p.cols
	if cap(r.buf) < len(cols) {
		r.buf = make([][]byte, len(cols))
	}
	vals := r.buf[:len(cols)]
	for i, c := range cols {
		if row[i] == nil {
			vals[i] = nil
			continue
		}
		f := int16(0)
		if len(r.formats) == 1 {
			f = r.formats[0]
		} else if i < len(r.formats) {
			f = r.formats[i]
		}
		if f == 1 {
			vals[i] = types.AppendBinary(vals[i][:0], c.T, row[i])
		} else {
			vals[i] = types.AppendText(vals[i][:0], c.T, row[i], r.s.vars.types)
		}
		if vals[i] == nil {
			// An empty value is not NULL: pgwire sends nil as NULL.
			vals[i] = []byte{}
		}
	}
	return w.WriteRow(vals)
}

// catalog is the catalog statements plan against: the transaction's, or
// the latest durable one.
func (s *Session) catalog() *log.Catalog {
	if s.txn != nil {
		return s.txn.Catalog()
	}
	return s.eng.Log.Catalog()
}

func (s *Session) builder(cat *log.Catalog, params *planner.Params) *planner.Builder {
	b := planner.NewBuilder(cat, s.vars.searchPath(), s.vars.types, params)
	b.System = &systemTables{s: s, cat: cat}
	return b
}

// mapError gives every error a SQLSTATE a client understands.
func mapError(err error) error {
	var ce *log.ConflictError
	if errors.As(err, &ce) {
		if ce.SQLState() == "23505" {
			return pgerr.New(pgerr.UniqueViolation, "duplicate key value violates unique constraint").
				WithDetail("Key %q already exists at version %d.", ce.Key, ce.Current.Version)
		}
		e := pgerr.New(pgerr.SerializationFailure, "could not serialize access due to concurrent update")
		state := fmt.Sprintf("version %d", ce.Current.Version)
		if ce.Current.Tombstone {
			state += " (deleted)"
		}
		expected := ce.Cond.String()
		e.Detail = fmt.Sprintf("Key %q of relation %d is at %s; the write expected %s.", ce.Key, ce.Table, state, expected)
		e.Hint = "Retry the transaction."
		return e
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err // pgwire substitutes the cause (57014)
	}
	return pgerr.From(err)
}
