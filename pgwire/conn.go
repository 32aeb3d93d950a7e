package pgwire

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"runtime/debug"
	"slices"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgproto3"

	"github.com/strand-db/strand/sql/pgerr"
)

// conn serves one client connection.
//
// One goroutine (serve) owns the connection: it reads a message, runs it
// against the Session and buffers the answer in out, flushing at Sync, Flush,
// ReadyForQuery, the start of COPY, and whenever out grows past flushAt.
// Other goroutines touch the connection in three ways only, each under a
// lock: a Client method appends a notice, notification or parameter change
// (and flushes at once when serve is blocked reading); a CancelRequest
// cancels the context of the running statement; Shutdown marks the
// connection draining and, when it is idle, interrupts its read with a past
// deadline, so that serve sends 57P01 and ends. Reads use a small buffer and
// a body slice that is dropped after large messages, so an idle connection
// costs little more than its goroutine.
type conn struct {
	srv *Server
	nc  net.Conn
	// tcp is the transport (under TLS, if any). It never changes, unlike
	// nc during startup, so other goroutines use it: deadlines set by
	// Shutdown, kill, and the client-gone check.
	tcp net.Conn
	rd  *bufio.Reader
	// body holds the last message read; valid until the next read.
	body []byte
	log  *slog.Logger

	pid    uint32
	secret [4]byte
	sess   Session
	// ctx lives as long as the connection; statements derive from it.
	ctx       context.Context
	cancelCtx context.CancelCauseFunc

	// w guards everything written to the client.
	w struct {
		sync.Mutex
		out []byte
		err error
		// reading is set while serve waits for the client with out flushed:
		// asynchronous messages must then be flushed by their sender.
		reading bool
		closed  bool
		// params are the ParameterStatus values the client has seen; pending
		// are changes reported since, sent before the next ReadyForQuery.
		params  map[string]string
		pending []string
	}

	// mu guards statement cancellation and draining.
	mu struct {
		sync.Mutex
		cancel   context.CancelCauseFunc // of the running statement
		draining bool
		idle     bool // waiting for a message after ReadyForQuery
		idleTO   bool // that wait has an idle-in-transaction deadline
		drainTO  bool // drain interrupted the wait with a past deadline
		// stmtSeq counts statements; checkSeq is its value at the client
		// check's last tick, and checking is set while that check ticks.
		stmtSeq, checkSeq uint64
		checking          bool
		closed            bool // the connection is closing: no more checks
	}

	stmts   map[string]*statement
	portals map[string]*portal
	// sparePortal is the last portal released, reused by the next Bind.
	sparePortal *portal
	// bind is the last Bind decoded (its slices are reused).
	bind bindMsg
	// failed records an error sent since the last Sync; skipping is set
	// while extended-protocol messages are discarded up to the next Sync.
	failed, skipping bool
	// waited is set when waitForClient set c.w.reading (serve's own copy,
	// read without the lock).
	waited bool
	// atBoundary is set when ReadyForQuery was the last thing sent.
	atBoundary bool
	// broken is set when the message stream can no longer be trusted.
	broken bool

	rw resultWriter
	// checkTimer (guarded by mu) runs the client-gone check.
	checkTimer *time.Timer
	// hdr is the read buffer of a message header (a field, so that it is
	// not allocated per message); endStmt is c.endStatement, bound once.
	hdr     [5]byte
	endStmt func()
}

type statement struct {
	ps   PreparedStatement
	oids []uint32
	cols []Column
	// rowDesc is the encoded RowDescription for the result formats
	// rowDescFormats, kept for the Describe that drivers send with every
	// execution (libpq's PQexecPrepared sends Bind, Describe, Execute).
	rowDesc        []byte
	rowDescFormats []int16
}

type portal struct {
	p       Portal
	st      *statement
	cols    []Column
	formats []int16
}

const (
	readBufSize = 1024
	// flushAt is how much output is buffered before it is written.
	flushAt = 32 << 10
	// keepBuf is the largest buffer kept after a message or a flush.
	keepBuf = 16 << 10
)

func newConn(ctx context.Context, s *Server, nc net.Conn) *conn {
	c := &conn{srv: s, nc: nc, tcp: nc, log: s.log}
	c.ctx, c.cancelCtx = context.WithCancelCause(ctx)
	c.rd = bufio.NewReaderSize(nc, readBufSize)
	c.rw.c = c
	c.endStmt = c.endStatement
	return c
}

// serve runs the connection: startup, authentication, then the message loop.
func (c *conn) serve() {
	defer c.cancelCtx(nil)

	c.nc.SetDeadline(time.Now().Add(c.srv.cfg.AuthTimeout))
	info, err := c.startup()
	if err == nil {
		err = c.authenticate(info.User)
	}
	if err == nil {
		c.nc.SetDeadline(time.Time{})
		err = c.openSession(info)
	}
	if err == nil {
		err = c.loop()
	}
	if err != nil && !errors.Is(err, errQuiet) {
		var pe *pgerr.Error
		if errors.As(err, &pe) && !c.netErr() {
			if !isFatal(pe) {
				pe = &pgerr.Error{Code: pe.Code, Severity: pgerr.SeverityFatal, Message: pe.Message, Detail: pe.Detail, Hint: pe.Hint}
			}
			c.sendError(pe)
			c.flush()
		}
		if !isClientGone(err) {
			c.log.Debug("pgwire: connection ended", "pid", c.pid, "remote", c.remote(), "err", err)
		}
	}
}

// errQuiet ends a connection without telling the client anything more.
var errQuiet = errors.New("pgwire: connection ends quietly")

func (c *conn) remote() string {
	if a := c.nc.RemoteAddr(); a != nil {
		return a.String()
	}
	return ""
}

// netErr reports whether writing to the client already failed.
func (c *conn) netErr() bool {
	c.w.Lock()
	defer c.w.Unlock()
	return c.w.err != nil
}

func isClientGone(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed)
}

// openSession asks the Backend for a Session and completes the startup:
// ParameterStatus, BackendKeyData, ReadyForQuery.
func (c *conn) openSession(info StartupInfo) error {
	c.pid, c.secret = c.srv.newKey()
	if !c.srv.register(c) {
		return errAdminShutdown
	}
	c.log = c.log.With("pid", c.pid)
	info.ProcessID = c.pid
	info.RemoteAddr = c.nc.RemoteAddr()
	info.Client = (*client)(c)
	c.w.Lock()
	c.w.params = map[string]string{
		"server_version":                c.srv.cfg.ServerVersion,
		"server_encoding":               "UTF8",
		"client_encoding":               "UTF8",
		"DateStyle":                     "ISO, MDY",
		"IntervalStyle":                 "postgres",
		"TimeZone":                      "UTC",
		"integer_datetimes":             "on",
		"standard_conforming_strings":   "on",
		"is_superuser":                  "on",
		"session_authorization":         info.User,
		"application_name":              info.ApplicationName,
		"default_transaction_read_only": "off",
		"in_hot_standby":                "off",
	}
	c.w.Unlock()

	sess, err := c.srv.cfg.Backend.NewSession(c.ctx, info)
	if err != nil {
		e := pgerr.From(err)
		return fatal(e.Code, "%s", e.Message)
	}
	c.sess = sess
	c.stmts = map[string]*statement{}
	c.portals = map[string]*portal{}

	c.w.Lock()
	for name, v := range c.w.params {
		c.w.out, _ = (&pgproto3.ParameterStatus{Name: name, Value: v}).Encode(c.w.out)
	}
	c.w.pending = c.w.pending[:0]
	c.w.Unlock()
	c.send(&pgproto3.BackendKeyData{ProcessID: c.pid, SecretKey: c.secret[:]})
	c.readyForQuery()
	c.log.Debug("pgwire: session open", "user", info.User, "database", info.Database, "remote", c.remote())
	return c.flush()
}

// loop reads and runs messages until the client leaves or the connection
// fails.
func (c *conn) loop() error {
	for {
		if err := c.waitForClient(); err != nil {
			return err
		}
		typ, body, err := c.readMessage()
		if c.waited {
			// Only a wait that flushed set c.w.reading: the messages of a
			// pipeline already buffered skip the lock.
			c.w.Lock()
			c.w.reading = false
			c.w.Unlock()
			c.waited = false
		}
		if err != nil {
			return c.readError(err)
		}
		c.atBoundary = false
		if c.skipping && typ != 'S' && typ != 'X' {
			continue
		}
		if err := c.handle(typ, body); err != nil {
			return err
		}
		if c.broken {
			return errQuiet
		}
		if err := c.writeErr(); err != nil {
			return err
		}
	}
}

// waitForClient prepares to block reading: it flushes (unless the next
// message is already buffered), arms the
// idle-in-transaction deadline, and lets Shutdown interrupt an idle
// connection.
func (c *conn) waitForClient() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.atBoundary && c.mu.draining {
		return errAdminShutdown
	}
	c.mu.idle = c.atBoundary
	var idleTO time.Duration
	if c.atBoundary {
		if st := c.sess.TxStatus(); st == 'T' || st == 'E' {
			idleTO = c.sess.Timeouts().IdleInTransaction
		}
	}
	if idleTO > 0 {
		c.tcp.SetReadDeadline(time.Now().Add(idleTO))
		c.mu.idleTO = true
	} else if c.mu.idleTO || c.mu.drainTO {
		c.tcp.SetReadDeadline(time.Time{})
		c.mu.idleTO, c.mu.drainTO = false, false
	}
	if c.rd.Buffered() > 0 {
		// More of the client's pipeline is here: answer it all in one write.
		return nil
	}
	c.w.Lock()
	defer c.w.Unlock()
	if err := c.flushLocked(); err != nil {
		return err
	}
	c.w.reading = true
	c.waited = true
	return nil
}

// readError turns a failed read into the connection's end.
func (c *conn) readError(err error) error {
	if errors.Is(err, os.ErrDeadlineExceeded) {
		c.mu.Lock()
		draining, idleTO := c.mu.draining, c.mu.idleTO
		c.mu.Unlock()
		switch {
		case draining:
			return errAdminShutdown
		case idleTO:
			return fatal(pgerr.IdleInTransactionSessionTimeout, "terminating connection due to idle-in-transaction timeout")
		}
	}
	return err
}

// drain is Shutdown's request: close when next idle.
func (c *conn) drain() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mu.draining = true
	if c.mu.idle {
		c.tcp.SetReadDeadline(time.Unix(1, 0))
		c.mu.drainTO = true
	}
}

// kill ends the connection now: the running statement is cancelled and the
// socket closed.
func (c *conn) kill() {
	c.cancelCtx(errAdminShutdown)
	c.tcp.Close()
}

// cancelStatement cancels the running statement, if any.
func (c *conn) cancelStatement(cause error) {
	c.mu.Lock()
	cancel := c.mu.cancel
	c.mu.Unlock()
	if cancel != nil {
		cancel(cause)
	}
}

// close releases everything the connection holds.
func (c *conn) close() {
	c.stopClientCheck()
	c.srv.unregister(c)
	c.w.Lock()
	c.w.closed = true
	c.w.Unlock()
	if c.sess != nil {
		for _, p := range c.portals {
			p.p.Close()
		}
		for _, s := range c.stmts {
			s.ps.Close()
		}
		c.sess.Close()
	}
	c.nc.Close()
}

// handle runs one message.
func (c *conn) handle(typ byte, body []byte) error {
	switch typ {
	case 'Q':
		return c.handleQuery(body)
	case 'P':
		return c.handleParse(body)
	case 'B':
		return c.handleBind(body)
	case 'D':
		return c.handleDescribe(body)
	case 'E':
		return c.handleExecute(body)
	case 'C':
		return c.handleClose(body)
	case 'S':
		return c.handleSync()
	case 'H':
		return c.flush()
	case 'd', 'c', 'f':
		// COPY data after the COPY failed: dropped, as PostgreSQL does.
		return nil
	case 'X':
		return errQuiet
	case 'F':
		c.sendError(pgerr.New(pgerr.FeatureNotSupported, "fastpath function calls are not supported"))
		c.readyForQuery()
		return nil
	default:
		return fatal(pgerr.ProtocolViolation, "invalid frontend message type %d", typ)
	}
}

func malformed(what string, err error) error {
	return fatal(pgerr.ProtocolViolation, "invalid %s message format: %v", what, err)
}

// handleQuery runs a simple-protocol Query.
func (c *conn) handleQuery(body []byte) error {
	var q pgproto3.Query
	if err := q.Decode(body); err != nil {
		return malformed("Query", err)
	}
	c.srv.metrics.queriesSimp.Inc()
	c.dropStatement("")
	c.dropPortal("")
	ctx, done := c.beginStatement()
	c.rw.reset(false)
	err := c.sess.ExecuteSimple(ctx, q.String, &c.rw)
	err = c.rw.finish(ctx, err)
	done()
	if err != nil {
		if ferr := c.sendStatementError(ctx, err); ferr != nil {
			return ferr
		}
	}
	// A Query message is its own batch: its error was reported to the
	// session by the error it returned, and must not leak into the next
	// extended-protocol Sync.
	c.failed = false
	c.endOfTransaction()
	c.readyForQuery()
	return nil
}

// handleParse runs Parse: prepare a statement under a name.
func (c *conn) handleParse(body []byte) error {
	var m pgproto3.Parse
	if err := m.Decode(body); err != nil {
		return malformed("Parse", err)
	}
	if m.Name != "" {
		if _, ok := c.stmts[m.Name]; ok {
			return c.extError(pgerr.New(pgerr.DuplicatePreparedStatement, "prepared statement %q already exists", m.Name))
		}
	} else {
		c.dropStatement("")
	}
	ctx, done := c.messageContext()
	ps, err := c.sess.Prepare(ctx, m.Query, m.ParameterOIDs)
	done()
	if err != nil {
		return c.extErrorCtx(ctx, err)
	}
	c.stmts[m.Name] = &statement{ps: ps, oids: ps.ParamOIDs(), cols: ps.Columns()}
	c.send(&pgproto3.ParseComplete{})
	return nil
}

// handleBind runs Bind: make a portal of a statement and parameter values.
func (c *conn) handleBind(body []byte) error {
	m := &c.bind
	if err := m.decode(body); err != nil {
		return malformed("Bind", err)
	}
	st, ok := c.stmts[string(m.stmt)]
	if !ok {
		return c.extError(pgerr.New(pgerr.InvalidSQLStatementName, "prepared statement %q does not exist", m.stmt))
	}
	if len(m.portal) != 0 {
		if _, ok := c.portals[string(m.portal)]; ok {
			return c.extError(pgerr.New(pgerr.DuplicateCursor, "portal %q already exists", m.portal))
		}
	} else {
		c.dropPortal("")
	}
	if len(m.params) != len(st.oids) {
		return c.extError(pgerr.New(pgerr.ProtocolViolation, "bind message supplies %d parameters, but prepared statement %q requires %d", len(m.params), m.stmt, len(st.oids)))
	}
	paramFormats, err := expandFormats(m.paramFormats, len(m.params), "parameter")
	if err != nil {
		return c.extError(err)
	}
	resultFormats, err := expandFormats(m.resultFormats, len(st.cols), "result")
	if err != nil {
		return c.extError(err)
	}
	ctx, done := c.messageContext()
	p, err := st.ps.Bind(ctx, copyParams(m.params), paramFormats, resultFormats)
	done()
	if err != nil {
		return c.extErrorCtx(ctx, err)
	}
	pt := c.sparePortal
	if pt == nil {
		pt = new(portal)
	}
	c.sparePortal = nil
	*pt = portal{p: p, st: st, cols: st.cols, formats: resultFormats}
	c.portals[string(m.portal)] = pt
	c.send(&pgproto3.BindComplete{})
	return nil
}

// textFormats and binaryFormats are the shared format lists of the common
// Binds (no code, or one code for every value); nobody writes to them.
var textFormats, binaryFormats = func() (t, b [64]int16) {
	for i := range b {
		b[i] = 1
	}
	return
}()

// expandFormats applies the Bind rule: no codes means all text, one code
// applies to all, else one per value. The result is never codes itself
// (the decode buffer is reused) and must not be written to.
func expandFormats(codes []int16, n int, what string) ([]int16, error) {
	for _, f := range codes {
		if f != 0 && f != 1 {
			return nil, pgerr.New(pgerr.InvalidParameterValue, "unsupported format code: %d", f)
		}
	}
	switch {
	case len(codes) == 0 || len(codes) == 1:
		binary := len(codes) == 1 && codes[0] == 1
		if n <= len(textFormats) {
			if binary {
				return binaryFormats[:n:n], nil
			}
			return textFormats[:n:n], nil
		}
		out := make([]int16, n)
		if binary {
			for i := range out {
				out[i] = 1
			}
		}
		return out, nil
	case len(codes) == n:
		return append([]int16(nil), codes...), nil
	}
	if what == "result" {
		return nil, pgerr.New(pgerr.ProtocolViolation, "bind message has %d result formats but query has %d columns", len(codes), n)
	}
	return nil, pgerr.New(pgerr.ProtocolViolation, "bind message has %d parameter formats but %d parameters", len(codes), n)
}

// copyParams copies parameter values out of the read buffer into one
// allocation, keeping NULLs nil.
func copyParams(params [][]byte) [][]byte {
	if len(params) == 0 {
		return nil
	}
	n := 0
	for _, p := range params {
		n += len(p)
	}
	buf := make([]byte, 0, n)
	out := make([][]byte, len(params))
	for i, p := range params {
		if p == nil {
			continue
		}
		start := len(buf)
		buf = append(buf, p...)
		out[i] = buf[start:len(buf):len(buf)]
	}
	return out
}

// handleDescribe answers Describe of a statement or a portal.
func (c *conn) handleDescribe(body []byte) error {
	var m pgproto3.Describe
	if err := m.Decode(body); err != nil {
		return malformed("Describe", err)
	}
	switch m.ObjectType {
	case 'S':
		st, ok := c.stmts[m.Name]
		if !ok {
			return c.extError(pgerr.New(pgerr.InvalidSQLStatementName, "prepared statement %q does not exist", m.Name))
		}
		c.send(&pgproto3.ParameterDescription{ParameterOIDs: st.oids})
		c.sendRowDescription(st.cols, nil)
	case 'P':
		p, ok := c.portals[m.Name]
		if !ok {
			// A cursor made by SQL DECLARE is a portal too, in PostgreSQL:
			// drivers describe it by name (psycopg's named cursors).
			if cd, isCD := c.sess.(CursorDescriber); isCD {
				if cols, found := cd.DescribeCursor(m.Name); found {
					c.sendRowDescription(cols, nil)
					return nil
				}
			}
			return c.extError(pgerr.New(pgerr.InvalidCursorName, "portal %q does not exist", m.Name))
		}
		if p.st != nil {
			c.sendStatementRowDescription(p.st, p.formats)
		} else {
			c.sendRowDescription(p.cols, p.formats)
		}
	default:
		return fatal(pgerr.ProtocolViolation, "invalid DESCRIBE message subtype %d", m.ObjectType)
	}
	return nil
}

// handleExecute runs or resumes a portal.
func (c *conn) handleExecute(body []byte) error {
	name, limit, err := decodeExecute(body)
	if err != nil {
		return malformed("Execute", err)
	}
	p, ok := c.portals[string(name)]
	if !ok {
		return c.extError(pgerr.New(pgerr.InvalidCursorName, "portal %q does not exist", name))
	}
	c.srv.metrics.queriesExt.Inc()
	maxRows := int(limit)
	if limit > 1<<31-1 {
		maxRows = 0
	}
	ctx, done := c.beginStatement()
	c.rw.reset(true)
	suspended, err := p.p.Execute(ctx, &c.rw, maxRows)
	if err == nil && !suspended && !c.rw.completed {
		err = pgerr.New(pgerr.InternalError, "portal %q finished without a command tag", name)
	}
	err = c.rw.finish(ctx, err)
	done()
	if err != nil {
		return c.extErrorCtx(ctx, err)
	}
	if suspended {
		c.send(&pgproto3.PortalSuspended{})
	}
	return nil
}

// handleClose closes a statement or portal; closing one that does not exist
// is not an error.
func (c *conn) handleClose(body []byte) error {
	var m pgproto3.Close
	if err := m.Decode(body); err != nil {
		return malformed("Close", err)
	}
	switch m.ObjectType {
	case 'S':
		c.dropStatement(m.Name)
	case 'P':
		c.dropPortal(m.Name)
	default:
		return fatal(pgerr.ProtocolViolation, "invalid CLOSE message subtype %d", m.ObjectType)
	}
	c.send(&pgproto3.CloseComplete{})
	return nil
}

// handleSync ends an extended-protocol batch.
func (c *conn) handleSync() error {
	ctx, done := c.messageContext()
	err := c.sess.Sync(ctx, c.failed)
	done()
	if err != nil {
		if ferr := c.sendStatementError(ctx, err); ferr != nil {
			return ferr
		}
	}
	c.failed, c.skipping = false, false
	c.endOfTransaction()
	c.readyForQuery()
	return nil
}

// extError reports an error in the extended protocol: the rest of the batch
// up to Sync is skipped.
func (c *conn) extError(err error) error {
	return c.extErrorCtx(nil, err)
}

func (c *conn) extErrorCtx(ctx context.Context, err error) error {
	if ferr := c.sendStatementError(ctx, err); ferr != nil {
		return ferr
	}
	c.failed, c.skipping = true, true
	return nil
}

// sendStatementError sends err, with the cancellation cause in place of a
// bare context error; a fatal error is returned to end the connection.
func (c *conn) sendStatementError(ctx context.Context, err error) error {
	if ctx != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		if cause := context.Cause(ctx); cause != nil {
			var pe *pgerr.Error
			if errors.As(cause, &pe) {
				err = pe
			}
		}
	}
	pe := pgerr.From(err)
	if isFatal(pe) {
		return pe
	}
	c.failed = true
	c.sendError(pe)
	return nil
}

func (c *conn) dropStatement(name string) {
	if st, ok := c.stmts[name]; ok {
		delete(c.stmts, name)
		st.ps.Close()
	}
}

func (c *conn) dropPortal(name string) {
	if p, ok := c.portals[name]; ok {
		delete(c.portals, name)
		c.releasePortal(p)
	}
}

// releasePortal closes a portal that is no longer in c.portals and keeps
// its struct for the next Bind: drivers bind the unnamed portal once per
// execution.
func (c *conn) releasePortal(p *portal) {
	p.p.Close()
	*p = portal{}
	c.sparePortal = p
}

// endOfTransaction drops all portals once no transaction is open.
func (c *conn) endOfTransaction() {
	if len(c.portals) == 0 || c.sess.TxStatus() != 'I' {
		return
	}
	for name, p := range c.portals {
		delete(c.portals, name)
		c.releasePortal(p)
	}
}

// beginStatement makes the context of one statement (a Query or an
// Execute): cancelled by a CancelRequest, by statement_timeout, and by the
// client leaving. The client-gone check needs no timer of its own: the
// connection's check ticks while statements run (see checkClient).
func (c *conn) beginStatement() (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(c.ctx)
	var stopTimeout context.CancelFunc
	if to := c.sess.Timeouts().Statement; to > 0 {
		ctx, stopTimeout = context.WithTimeoutCause(ctx, to, errStatementTimeout)
	}
	c.mu.Lock()
	c.mu.cancel = cancel
	c.mu.stmtSeq++
	if !c.mu.checking {
		c.armClientCheckLocked()
	}
	c.mu.Unlock()
	if stopTimeout == nil {
		return ctx, c.endStmt
	}
	return ctx, func() {
		c.endStatement()
		stopTimeout()
	}
}

// endStatement ends the statement beginStatement began: its context is
// cancelled (releasing it) and no longer reachable by a CancelRequest.
func (c *conn) endStatement() {
	c.mu.Lock()
	cancel := c.mu.cancel
	c.mu.cancel = nil
	c.mu.Unlock()
	if cancel != nil {
		cancel(nil)
	}
}

// messageContext is the context of a Parse, Bind or Sync message. These do
// bounded work (parse, plan, decode parameters), so they skip the cost of a
// cancellable context of their own, unless statement_timeout is set, which
// PostgreSQL applies to them too.
func (c *conn) messageContext() (context.Context, func()) {
	if c.sess.Timeouts().Statement > 0 {
		return c.beginStatement()
	}
	return c.ctx, noop
}

func noop() {}

// armClientCheckLocked starts the connection's client-gone check, which
// ticks every ClientCheckInterval while statements run and stops once a
// whole interval passed without one (c.mu held).
func (c *conn) armClientCheckLocked() {
	every := c.srv.cfg.ClientCheckInterval
	if every < 0 || c.mu.closed || !canCheckPeer(c.tcp) {
		return
	}
	c.mu.checking = true
	c.mu.checkSeq = c.mu.stmtSeq
	if c.checkTimer == nil {
		c.checkTimer = time.AfterFunc(every, c.checkClient)
	} else {
		c.checkTimer.Reset(every)
	}
}

// checkClient is the check's tick. A statement that has been running since
// the previous tick (at least one interval) has its client checked, and is
// cancelled when the client hung up; statements that end sooner are never
// checked, so the check costs a short statement nothing but a counter.
func (c *conn) checkClient() {
	c.mu.Lock()
	cancel, seq, last := c.mu.cancel, c.mu.stmtSeq, c.mu.checkSeq
	c.mu.checkSeq = seq
	c.mu.Unlock()
	if cancel != nil && seq == last && peerClosed(c.tcp) {
		cancel(errClientGone)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.mu.closed || (c.mu.cancel == nil && c.mu.stmtSeq == last) {
		// Idle for a whole interval: the next statement re-arms the check.
		c.mu.checking = false
		return
	}
	c.checkTimer.Reset(c.srv.cfg.ClientCheckInterval)
}

func (c *conn) stopClientCheck() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.mu.closed = true
	if c.checkTimer != nil {
		c.checkTimer.Stop()
	}
}

// readMessage reads one regular message: its type and body, which is valid
// until the next read.
func (c *conn) readMessage() (byte, []byte, error) {
	hdr := c.hdr[:]
	if _, err := io.ReadFull(c.rd, hdr); err != nil {
		return 0, nil, err
	}
	n := int(int32(binary.BigEndian.Uint32(hdr[1:]))) - 4
	if n < 0 {
		return 0, nil, fatal(pgerr.ProtocolViolation, "invalid message length")
	}
	if n > c.srv.cfg.MaxMessageSize {
		return 0, nil, fatal(pgerr.ProgramLimitExceeded, "message of %d bytes exceeds the maximum of %d bytes", n, c.srv.cfg.MaxMessageSize)
	}
	if cap(c.body) > keepBuf && n <= keepBuf {
		c.body = nil
	}
	if cap(c.body) < n {
		c.body = make([]byte, n, max(n, 256))
	}
	c.body = c.body[:n]
	if _, err := io.ReadFull(c.rd, c.body); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, err
	}
	return hdr[0], c.body, nil
}

// send buffers a message for the client.
func (c *conn) send(msg pgproto3.BackendMessage) {
	c.w.Lock()
	c.sendLocked(msg)
	c.w.Unlock()
}

func (c *conn) sendLocked(msg pgproto3.BackendMessage) {
	if c.w.err != nil {
		return
	}
	out, err := msg.Encode(c.w.out)
	if err != nil {
		c.w.err = fmt.Errorf("pgwire: encode %T: %w", msg, err)
		return
	}
	c.w.out = out
}

// sendCommandComplete is send(&pgproto3.CommandComplete{CommandTag: tag})
// without allocating the message, which every statement would.
func (c *conn) sendCommandComplete(tag []byte) {
	c.w.Lock()
	if c.w.err == nil {
		start := len(c.w.out)
		out := append(c.w.out, 'C', 0, 0, 0, 0)
		out = append(out, tag...)
		out = append(out, 0)
		binary.BigEndian.PutUint32(out[start+1:], uint32(len(out)-start-1))
		c.w.out = out
	}
	c.w.Unlock()
}

// flush writes buffered messages.
func (c *conn) flush() error {
	c.w.Lock()
	defer c.w.Unlock()
	return c.flushLocked()
}

func (c *conn) flushLocked() error {
	if c.w.err != nil || len(c.w.out) == 0 {
		return c.w.err
	}
	_, err := c.nc.Write(c.w.out)
	if cap(c.w.out) > keepBuf {
		c.w.out = nil
	} else {
		c.w.out = c.w.out[:0]
	}
	if err != nil {
		c.w.err = err
	}
	return err
}

// writeErr is the first write error, after which the connection is useless.
func (c *conn) writeErr() error {
	c.w.Lock()
	defer c.w.Unlock()
	return c.w.err
}

// sendError buffers an ErrorResponse.
func (c *conn) sendError(e *pgerr.Error) {
	c.srv.metrics.errors.WithLabelValues(e.Code.Class()).Inc()
	sev := string(e.Severity)
	if sev == "" {
		sev = string(pgerr.SeverityError)
	}
	code := string(e.Code)
	if code == "" {
		code = string(pgerr.InternalError)
	}
	c.send(&pgproto3.ErrorResponse{
		Severity: sev, SeverityUnlocalized: sev, Code: code, Message: e.Message,
		Detail: e.Detail, Hint: e.Hint, Position: int32(e.Position),
		TableName: e.Table, ColumnName: e.Column, ConstraintName: e.Constraint,
	})
}

// readyForQuery sends pending ParameterStatus changes and ReadyForQuery.
func (c *conn) readyForQuery() {
	c.w.Lock()
	for _, name := range c.w.pending {
		c.sendLocked(&pgproto3.ParameterStatus{Name: name, Value: c.w.params[name]})
	}
	c.w.pending = c.w.pending[:0]
	if c.w.err == nil {
		// ReadyForQuery, appended by hand: a message value per round trip
		// would be allocated.
		c.w.out = append(c.w.out, 'Z', 0, 0, 0, 5, c.sess.TxStatus())
	}
	c.w.Unlock()
	c.atBoundary = true
}

// sendStatementRowDescription sends a statement's RowDescription (or
// NoData) for the given result formats, encoding it once per formats.
func (c *conn) sendStatementRowDescription(st *statement, formats []int16) {
	if st.cols == nil || len(st.cols) != len(formats) {
		c.sendRowDescription(st.cols, formats)
		return
	}
	if st.rowDesc == nil || !slices.Equal(st.rowDescFormats, formats) {
		fields := make([]pgproto3.FieldDescription, len(st.cols))
		for i, col := range st.cols {
			fields[i] = pgproto3.FieldDescription{
				Name: []byte(col.Name), TableOID: col.TableOID, TableAttributeNumber: col.TableAttributeNumber,
				DataTypeOID: col.TypeOID, DataTypeSize: col.TypeSize, TypeModifier: col.TypeModifier, Format: formats[i],
			}
		}
		enc, err := (&pgproto3.RowDescription{Fields: fields}).Encode(nil)
		if err != nil {
			c.sendRowDescription(st.cols, formats)
			return
		}
		st.rowDesc, st.rowDescFormats = enc, slices.Clone(formats)
	}
	c.w.Lock()
	if c.w.err == nil {
		c.w.out = append(c.w.out, st.rowDesc...)
	}
	c.w.Unlock()
}

// sendRowDescription sends RowDescription, or NoData for no columns.
func (c *conn) sendRowDescription(cols []Column, formats []int16) {
	if cols == nil {
		c.send(&pgproto3.NoData{})
		return
	}
	fields := make([]pgproto3.FieldDescription, len(cols))
	for i, col := range cols {
		fields[i] = pgproto3.FieldDescription{
			Name: []byte(col.Name), TableOID: col.TableOID, TableAttributeNumber: col.TableAttributeNumber,
			DataTypeOID: col.TypeOID, DataTypeSize: col.TypeSize, TypeModifier: col.TypeModifier,
		}
		if i < len(formats) {
			fields[i].Format = formats[i]
		}
	}
	c.send(&pgproto3.RowDescription{Fields: fields})
}

func stack() string { return string(debug.Stack()) }

// client is the Client a session gets: the connection seen from other
// goroutines.
type client conn

func (cl *client) Notice(n *pgerr.Error) {
	sev := string(n.Severity)
	if sev == "" {
		sev = string(pgerr.SeverityNotice)
	}
	code := string(n.Code)
	if code == "" {
		code = string(pgerr.SuccessfulCompletion)
	}
	cl.sendAsync(&pgproto3.NoticeResponse{Severity: sev, SeverityUnlocalized: sev, Code: code, Message: n.Message, Detail: n.Detail, Hint: n.Hint})
}

func (cl *client) Notify(pid uint32, channel, payload string) {
	cl.sendAsync(&pgproto3.NotificationResponse{PID: pid, Channel: channel, Payload: payload})
}

func (cl *client) ParameterStatus(name, value string) {
	c := (*conn)(cl)
	c.w.Lock()
	defer c.w.Unlock()
	if c.w.closed {
		return
	}
	if old, ok := c.w.params[name]; ok && old == value {
		return
	}
	if c.w.params == nil {
		c.w.params = map[string]string{}
	}
	c.w.params[name] = value
	for _, p := range c.w.pending {
		if p == name {
			return
		}
	}
	c.w.pending = append(c.w.pending, name)
}

func (cl *client) sendAsync(msg pgproto3.BackendMessage) {
	c := (*conn)(cl)
	c.w.Lock()
	defer c.w.Unlock()
	if c.w.closed {
		return
	}
	c.sendLocked(msg)
	if c.w.reading {
		c.flushLocked()
	}
}
