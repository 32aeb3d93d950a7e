package pgwire

import (
	"bufio"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/strand-db/strand/sql/pgerr"
)

// fakeBackend is a test Backend whose sessions understand a handful of
// statements, enough to drive every path of the protocol:
//
//	SELECT <int>                       one int4 row
//	SELECT $1::int4|int8|text          the parameter back (binary passes through)
//	SELECT generate_series(a, b)       rows a..b, resumable (portal suspension)
//	SELECT pg_sleep(<seconds>)         sleeps, honouring cancellation
//	SELECT 1/0                         22012
//	SELECT notice('text')              a NoticeResponse, then one row
//	SELECT panic()                     panics
//	NOTIFY chan, 'payload'             a NotificationResponse to itself
//	BEGIN, COMMIT, ROLLBACK            transaction status
//	SET name = value | SET name TO value
//	COPY t FROM STDIN, COPY t TO STDOUT  lines kept in the backend
type fakeBackend struct {
	roles map[string]string // user → verifier ("" = no password)
	// maxSleep and maxSeries cap pg_sleep and generate_series when set, so
	// that the fuzzer's statements end quickly.
	maxSleep  time.Duration
	maxSeries int64

	mu     sync.Mutex
	copied []string

	sessions atomic.Int64 // open sessions
	portals  atomic.Int64 // open portals
	stmts    atomic.Int64 // open prepared statements
}

func newFakeBackend() *fakeBackend {
	return &fakeBackend{roles: map[string]string{
		"alice":  NewSCRAMVerifier("secret"),
		"trusty": "",
	}}
}

func (b *fakeBackend) LookupRole(ctx context.Context, user string) (string, bool, error) {
	v, ok := b.roles[user]
	return v, ok, nil
}

func (b *fakeBackend) NewSession(ctx context.Context, info StartupInfo) (Session, error) {
	if info.Database == "nodb" {
		return nil, pgerr.New(pgerr.UndefinedDatabase, "database %q does not exist", info.Database)
	}
	s := &fakeSession{b: b, info: info, tx: 'I'}
	for name, v := range info.Settings {
		if err := s.set(name, v); err != nil {
			return nil, err
		}
	}
	b.sessions.Add(1)
	return s, nil
}

type fakeSession struct {
	b        *fakeBackend
	info     StartupInfo
	tx       byte
	timeouts Timeouts
	closed   bool
}

func (s *fakeSession) TxStatus() byte     { return s.tx }
func (s *fakeSession) Timeouts() Timeouts { return s.timeouts }
func (s *fakeSession) Close() {
	if s.closed {
		panic("session closed twice")
	}
	s.closed = true
	s.b.sessions.Add(-1)
}

func (s *fakeSession) Sync(ctx context.Context, failed bool) error {
	if failed && s.tx == 'T' {
		s.tx = 'E'
	}
	return nil
}

func (s *fakeSession) ExecuteSimple(ctx context.Context, query string, w ResultWriter) error {
	var stmts []string
	for _, part := range strings.Split(query, ";") {
		if t := strings.TrimSpace(part); t != "" && !strings.HasPrefix(t, "--") {
			stmts = append(stmts, part)
		}
	}
	if len(stmts) == 0 {
		return w.EmptyQuery()
	}
	for _, q := range stmts {
		plan, err := parseFake(q, nil)
		if err != nil {
			return s.fail(err)
		}
		if plan.cols != nil {
			if err := w.BeginRows(plan.cols, nil); err != nil {
				return err
			}
		}
		p := &fakePortal{s: s, plan: plan, rf: make([]int16, len(plan.cols))}
		if _, err := p.run(ctx, w, 0); err != nil {
			return s.fail(err)
		}
	}
	return nil
}

// fail moves an open transaction to the failed state.
func (s *fakeSession) fail(err error) error {
	if s.tx == 'T' {
		s.tx = 'E'
	}
	return err
}

func (s *fakeSession) Prepare(ctx context.Context, query string, oids []uint32) (PreparedStatement, error) {
	plan, err := parseFake(query, oids)
	if err != nil {
		return nil, s.fail(err)
	}
	s.b.stmts.Add(1)
	return &fakeStmt{s: s, plan: plan}, nil
}

func (s *fakeSession) set(name, value string) error {
	value = strings.Trim(value, "'")
	switch strings.ToLower(name) {
	case "statement_timeout":
		ms, err := strconv.Atoi(value)
		if err != nil {
			return pgerr.New(pgerr.InvalidParameterValue, "invalid value for parameter \"statement_timeout\": %q", value)
		}
		s.timeouts.Statement = time.Duration(ms) * time.Millisecond
	case "idle_in_transaction_session_timeout":
		ms, err := strconv.Atoi(value)
		if err != nil {
			return pgerr.New(pgerr.InvalidParameterValue, "invalid value for parameter %q: %q", name, value)
		}
		s.timeouts.IdleInTransaction = time.Duration(ms) * time.Millisecond
	case "application_name":
		s.info.Client.ParameterStatus("application_name", value)
	case "timezone":
		s.info.Client.ParameterStatus("TimeZone", value)
	case "datestyle":
		s.info.Client.ParameterStatus("DateStyle", value)
	}
	return nil
}

type fakeStmt struct {
	s    *fakeSession
	plan *fakePlan
}

func (st *fakeStmt) ParamOIDs() []uint32 { return st.plan.oids }
func (st *fakeStmt) Columns() []Column   { return st.plan.cols }
func (st *fakeStmt) Close()              { st.s.b.stmts.Add(-1) }
func (st *fakeStmt) Bind(ctx context.Context, params [][]byte, pf, rf []int16) (Portal, error) {
	if len(pf) != len(params) || len(rf) != len(st.plan.cols) {
		panic("pgwire did not expand format codes")
	}
	st.s.b.portals.Add(1)
	return &fakePortal{s: st.s, plan: st.plan, params: params, pf: pf, rf: rf}, nil
}

type fakePortal struct {
	s      *fakeSession
	plan   *fakePlan
	params [][]byte
	pf, rf []int16
	next   int64 // generate_series cursor
	closed bool
}

func (p *fakePortal) Close() {
	if p.closed {
		panic("portal closed twice")
	}
	p.closed = true
	p.s.b.portals.Add(-1)
}

func (p *fakePortal) Execute(ctx context.Context, w ResultWriter, maxRows int) (bool, error) {
	suspended, err := p.run(ctx, w, maxRows)
	if err != nil {
		return false, p.s.fail(err)
	}
	return suspended, nil
}

type fakePlan struct {
	kind       string
	cols       []Column
	oids       []uint32
	a, b       int64
	sleep      time.Duration
	name, text string
}

func int4Col(name string) []Column {
	return []Column{{Name: name, TypeOID: 23, TypeSize: 4, TypeModifier: -1}}
}

var typeOIDs = map[string]uint32{"int4": 23, "int": 23, "integer": 23, "int8": 20, "bigint": 20, "text": 25}

// parseFake understands the statements listed on fakeBackend.
func parseFake(q string, oids []uint32) (*fakePlan, error) {
	q = strings.TrimSpace(q)
	lq := strings.ToLower(q)
	switch {
	case lq == "" || strings.HasPrefix(lq, "--"):
		return &fakePlan{kind: "empty"}, nil
	case lq == "begin" || lq == "commit" || lq == "rollback":
		return &fakePlan{kind: lq}, nil
	case lq == "select 1/0":
		return &fakePlan{kind: "div0", cols: int4Col("?column?")}, nil
	case lq == "select panic()":
		return &fakePlan{kind: "panic", cols: int4Col("panic")}, nil
	case strings.HasPrefix(lq, "select $1"):
		typ := "text"
		if _, cast, ok := strings.Cut(lq, "::"); ok {
			typ = cast
		}
		oid, ok := typeOIDs[typ]
		if !ok {
			return nil, pgerr.New(pgerr.UndefinedObject, "type %q does not exist", typ)
		}
		if len(oids) > 0 && oids[0] != 0 {
			oid = oids[0]
		}
		return &fakePlan{kind: "param", oids: []uint32{oid}, cols: []Column{{Name: typ, TypeOID: oid, TypeSize: -1, TypeModifier: -1}}}, nil
	case strings.HasPrefix(lq, "select generate_series("):
		var a, b int64
		if _, err := fmt.Sscanf(lq, "select generate_series(%d, %d)", &a, &b); err != nil {
			return nil, pgerr.New(pgerr.SyntaxError, "bad generate_series")
		}
		return &fakePlan{kind: "series", a: a, b: b, cols: int4Col("generate_series")}, nil
	case strings.HasPrefix(lq, "select pg_sleep("):
		var secs float64
		if _, err := fmt.Sscanf(lq, "select pg_sleep(%g)", &secs); err != nil {
			return nil, pgerr.New(pgerr.SyntaxError, "bad pg_sleep")
		}
		return &fakePlan{kind: "sleep", sleep: time.Duration(secs * float64(time.Second)), cols: []Column{{Name: "pg_sleep", TypeOID: 2278, TypeSize: 4, TypeModifier: -1}}}, nil
	case strings.HasPrefix(lq, "select notice('"):
		text := strings.TrimSuffix(strings.TrimPrefix(q[len("select notice('"):], ""), "')")
		return &fakePlan{kind: "notice", text: text, cols: int4Col("notice")}, nil
	case strings.HasPrefix(lq, "select "):
		n, err := strconv.ParseInt(strings.TrimSpace(q[len("select "):]), 10, 32)
		if err != nil {
			return nil, pgerr.New(pgerr.SyntaxError, "syntax error at or near %q", q[len("select "):]).WithPosition(8)
		}
		return &fakePlan{kind: "int", a: n, cols: int4Col("?column?")}, nil
	case strings.HasPrefix(lq, "notify "):
		channel, payload, _ := strings.Cut(q[len("notify "):], ",")
		return &fakePlan{kind: "notify", name: strings.TrimSpace(channel), text: strings.Trim(strings.TrimSpace(payload), "'")}, nil
	case strings.HasPrefix(lq, "set "):
		rest := q[len("set "):]
		name, value, ok := strings.Cut(rest, "=")
		if !ok {
			name, value, ok = strings.Cut(rest, " to ")
		}
		if !ok {
			name, value, ok = strings.Cut(rest, " TO ")
		}
		if !ok {
			return nil, pgerr.New(pgerr.SyntaxError, "syntax error in SET")
		}
		return &fakePlan{kind: "set", name: strings.TrimSpace(name), text: strings.TrimSpace(value)}, nil
	case strings.HasPrefix(lq, "copy ") && strings.HasSuffix(lq, " from stdin"):
		return &fakePlan{kind: "copyin"}, nil
	case strings.HasPrefix(lq, "copy ") && strings.HasSuffix(lq, " to stdout"):
		return &fakePlan{kind: "copyout"}, nil
	}
	return nil, pgerr.New(pgerr.SyntaxError, "syntax error at or near %q", strings.Fields(q)[0]).WithPosition(1)
}

// encodeInt encodes v as a column of oid in format f.
func encodeInt(v int64, oid uint32, f int16) []byte {
	if f == 0 {
		return strconv.AppendInt(nil, v, 10)
	}
	if oid == 20 {
		return binary.BigEndian.AppendUint64(nil, uint64(v))
	}
	return binary.BigEndian.AppendUint32(nil, uint32(v))
}

func decodeInt(b []byte, oid uint32, f int16) (int64, error) {
	if f == 0 {
		return strconv.ParseInt(string(b), 10, 64)
	}
	switch {
	case oid == 20 && len(b) == 8:
		return int64(binary.BigEndian.Uint64(b)), nil
	case oid == 23 && len(b) == 4:
		return int64(int32(binary.BigEndian.Uint32(b))), nil
	}
	return 0, pgerr.New(pgerr.InvalidBinaryRepresentation, "incorrect binary data format in bind parameter 1")
}

// run executes the portal's plan, or resumes a series.
func (p *fakePortal) run(ctx context.Context, w ResultWriter, maxRows int) (bool, error) {
	s, plan := p.s, p.plan
	if s.tx == 'E' && plan.kind != "commit" && plan.kind != "rollback" {
		return false, pgerr.New(pgerr.InFailedSQLTransaction, "current transaction is aborted, commands ignored until end of transaction block")
	}
	switch plan.kind {
	case "empty":
		return false, w.EmptyQuery()
	case "begin":
		s.tx = 'T'
		return false, w.Complete("BEGIN")
	case "commit":
		tag := "COMMIT"
		if s.tx == 'E' {
			tag = "ROLLBACK"
		}
		s.tx = 'I'
		return false, w.Complete(tag)
	case "rollback":
		s.tx = 'I'
		return false, w.Complete("ROLLBACK")
	case "div0":
		return false, pgerr.New(pgerr.DivisionByZero, "division by zero")
	case "panic":
		panic("fake session panics on purpose")
	case "int":
		if err := w.WriteRow([][]byte{encodeInt(plan.a, 23, p.rf[0])}); err != nil {
			return false, err
		}
		return false, w.Complete("SELECT 1")
	case "param":
		v := p.params[0]
		oid := plan.oids[0]
		if v != nil && p.pf[0] != p.rf[0] && oid != 25 {
			n, err := decodeInt(v, oid, p.pf[0])
			if err != nil {
				return false, err
			}
			v = encodeInt(n, oid, p.rf[0])
		}
		if err := w.WriteRow([][]byte{v}); err != nil {
			return false, err
		}
		return false, w.Complete("SELECT 1")
	case "series":
		if p.next == 0 {
			p.next = plan.a
		}
		last := plan.b
		if s.b.maxSeries > 0 {
			last = min(last, plan.a+s.b.maxSeries)
		}
		sent := 0
		for ; p.next <= last; p.next++ {
			if maxRows > 0 && sent == maxRows {
				return true, nil
			}
			if err := ctx.Err(); err != nil {
				return false, err
			}
			if err := w.WriteRow([][]byte{encodeInt(p.next, 23, p.rf[0])}); err != nil {
				return false, err
			}
			sent++
		}
		return false, w.Complete(fmt.Sprintf("SELECT %d", sent))
	case "sleep":
		d := plan.sleep
		if s.b.maxSleep > 0 {
			d = min(d, s.b.maxSleep)
		}
		t := time.NewTimer(d)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return false, context.Cause(ctx)
		}
		if err := w.WriteRow([][]byte{{}}); err != nil {
			return false, err
		}
		return false, w.Complete("SELECT 1")
	case "notice":
		s.info.Client.Notice(&pgerr.Error{Code: pgerr.Warning, Severity: pgerr.SeverityWarning, Message: plan.text})
		if err := w.WriteRow([][]byte{encodeInt(1, 23, p.rf[0])}); err != nil {
			return false, err
		}
		return false, w.Complete("SELECT 1")
	case "notify":
		s.info.Client.Notify(s.info.ProcessID, plan.name, plan.text)
		return false, w.Complete("NOTIFY")
	case "set":
		if err := s.set(plan.name, plan.text); err != nil {
			return false, err
		}
		return false, w.Complete("SET")
	case "copyin":
		r, err := w.CopyIn(0, []int16{0})
		if err != nil {
			return false, err
		}
		var lines []string
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			if sc.Text() == `\.` {
				continue
			}
			if sc.Text() == "bad" {
				return false, pgerr.New(pgerr.InvalidTextRepresentation, "invalid input syntax for type integer: \"bad\"")
			}
			lines = append(lines, sc.Text())
		}
		if err := sc.Err(); err != nil {
			return false, err
		}
		s.b.mu.Lock()
		s.b.copied = append(s.b.copied, lines...)
		s.b.mu.Unlock()
		return false, w.Complete(fmt.Sprintf("COPY %d", len(lines)))
	case "copyout":
		s.b.mu.Lock()
		lines := append([]string(nil), s.b.copied...)
		s.b.mu.Unlock()
		out, err := w.CopyOut(0, []int16{0})
		if err != nil {
			return false, err
		}
		for _, l := range lines {
			if _, err := io.WriteString(out, l+"\n"); err != nil {
				return false, err
			}
		}
		return false, w.Complete(fmt.Sprintf("COPY %d", len(lines)))
	}
	return false, pgerr.New(pgerr.InternalError, "fake: unknown plan %q", plan.kind)
}
