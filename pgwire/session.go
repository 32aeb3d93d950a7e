// Package pgwire is Strand's PostgreSQL v3 protocol server. It knows
// sessions, not storage: a Server accepts connections, negotiates TLS,
// authenticates the role and opens a Session through the Backend; then each
// connection runs one loop that reads a message, hands it to the Session and
// writes the results. Everything about SQL (parsing, planning, the type
// system and its text and binary encodings, transactions) belongs to the
// Session; everything about the wire (message framing, the extended-protocol
// state machine of statements and portals, COPY framing, cancellation,
// timeouts, ParameterStatus, errors with SQLSTATEs) belongs to pgwire.
//
// This file is the contract between pgwire and the SQL engine.
package pgwire

import (
	"context"
	"io"
	"net"
	"time"

	"github.com/strand-db/strand/sql/pgerr"
)

// Backend opens sessions and answers authentication questions. It is shared
// by all connections, so its methods must be safe for concurrent use.
type Backend interface {
	// LookupRole returns the role's password verifier in PostgreSQL's
	// SCRAM-SHA-256 stored form
	// ("SCRAM-SHA-256$<iterations>:<salt>$<StoredKey>:<ServerKey>", see
	// NewSCRAMVerifier), or ok=false when the role does not exist. A role
	// that exists but has no password returns ok=true and verifier "": it can
	// log in with trust only.
	LookupRole(ctx context.Context, user string) (verifier string, ok bool, err error)

	// NewSession opens a session for an authenticated connection. An error
	// (3D000 for an unknown database, say) is sent as FATAL and the
	// connection closes.
	NewSession(ctx context.Context, info StartupInfo) (Session, error)
}

// StartupInfo is what the client said at startup, once authenticated.
type StartupInfo struct {
	User            string
	Database        string
	ApplicationName string
	// Settings are the run-time parameters the client asked for: every
	// startup parameter that is not user, database, options or replication
	// (drivers send client_encoding, DateStyle, TimeZone, search_path,
	// extra_float_digits... this way), and each "-c name=value" (or
	// "--name=value") in options. The session applies them as if by SET
	// (reporting back through Client.ParameterStatus as usual); one it
	// rejects fails the connection.
	Settings   map[string]string
	RemoteAddr net.Addr
	// ProcessID is the id this connection reported in BackendKeyData; it is
	// the pid of NotificationResponse and of pg_backend_pid().
	ProcessID uint32
	// Client is the session's handle on its connection for messages that are
	// not results: notices, notifications and parameter changes.
	Client Client
}

// Client carries messages from a session to its client outside of a result.
// All methods are safe to call from any goroutine at any time, including
// after the connection ended (they are then dropped); none of them blocks on
// the statement that is running.
type Client interface {
	// Notice sends a NoticeResponse (severity NOTICE, WARNING, INFO...; an
	// empty Severity means NOTICE). It reaches the client before the
	// statement's CommandComplete when sent from within the statement, and
	// at once when the connection is idle.
	Notice(n *pgerr.Error)
	// Notify sends a NotificationResponse (LISTEN/NOTIFY). Delivering a
	// notification only between transactions, as PostgreSQL does, is the
	// caller's policy: pgwire sends it as soon as it can.
	Notify(pid uint32, channel, payload string)
	// ParameterStatus reports that a run-time parameter changed (SET
	// application_name, TimeZone, DateStyle...). pgwire sends a
	// ParameterStatus message before the next ReadyForQuery, as PostgreSQL
	// does, and only when the value differs from what the client last saw.
	// Calls made during Backend.NewSession override the defaults pgwire
	// sends at startup (server_version, TimeZone, ...).
	ParameterStatus(name, value string)
}

// Session executes SQL for one connection. pgwire calls its methods from one
// goroutine at a time (the connection's), except where noted.
//
// Every error a Session returns is sent as an ErrorResponse with the SQLSTATE
// of pgerr.From(err) (so XX000 unless it carries one); errors with severity
// FATAL (or PANIC) also close the connection after being sent. When the
// context given to a method is done, the session should stop and return
// context.Cause(ctx): it is a *pgerr.Error with code 57014 (cancel request or
// statement_timeout), and pgwire substitutes it for a bare context.Canceled or
// context.DeadlineExceeded the session returns. A CancelRequest reaches the
// running ExecuteSimple or Portal.Execute; Prepare, Bind and Sync do bounded
// work and run under the connection's context (ended only with the
// connection) unless statement_timeout is set.
type Session interface {
	// ExecuteSimple runs the text of a simple-protocol Query message, which
	// may hold several statements separated by semicolons, or none. For each
	// statement the session calls, in order, w.BeginRows (for statements
	// that return rows), w.WriteRow per row, then w.Complete with the command
	// tag; for an empty query string it calls w.EmptyQuery once. An error
	// ends the message: pgwire reports it, and statements after it do not
	// run. Implicit-transaction semantics of a multi-statement query (one
	// transaction unless it holds BEGIN/COMMIT) are the session's.
	ExecuteSimple(ctx context.Context, query string, w ResultWriter) error

	// Prepare parses and plans one statement of an extended-protocol Parse
	// message. paramOIDs are the parameter types the client gave (it may
	// give fewer than the query has; 0 means "infer"). A query with no
	// statement is valid: its portals report EmptyQuery when executed.
	Prepare(ctx context.Context, query string, paramOIDs []uint32) (PreparedStatement, error)

	// Sync is called for each Sync message, after the messages before it:
	// it ends the implicit transaction that a batch of extended-protocol
	// messages runs in when no explicit transaction is open (commit, or
	// rollback when failed). failed reports that an error was sent to the
	// client since the previous Sync; this is how the session learns of
	// errors raised by pgwire itself (unknown portal, malformed Bind), which
	// abort an explicit transaction like any other error. An error returned
	// here (a commit conflict, 40001) is sent before ReadyForQuery.
	Sync(ctx context.Context, failed bool) error

	// TxStatus is the transaction status for ReadyForQuery: 'I' idle, 'T' in
	// a transaction block, 'E' in a failed transaction block. When it is 'I'
	// after a Sync or a Query message, pgwire closes all portals, as a
	// transaction's end does in PostgreSQL.
	TxStatus() byte

	// Timeouts returns the session's current statement_timeout and
	// idle_in_transaction_session_timeout; zero means none. pgwire calls it
	// before each statement and whenever it goes idle, so it must be cheap.
	Timeouts() Timeouts

	// Close ends the session when the connection ends, for whatever reason;
	// an open transaction is rolled back. It is called once, after every
	// other call has returned. Portals and statements are closed first.
	Close()
}

// Timeouts are the session settings that pgwire enforces.
type Timeouts struct {
	// Statement bounds each Query message, and each Parse, Bind and Execute
	// message: the context pgwire passes is cancelled with 57014 ("canceling
	// statement due to statement timeout") when it expires.
	Statement time.Duration
	// IdleInTransaction bounds the time the connection may wait for the
	// client while a transaction is open (TxStatus 'T' or 'E'); when it
	// expires pgwire sends FATAL 25P03 and closes the connection.
	IdleInTransaction time.Duration
}

// PreparedStatement is a parsed and planned statement, named or unnamed. pgwire
// owns the namespace of protocol-level prepared statements and portals and
// applies PostgreSQL's rules for them (42P05 for a duplicate name, 26000 and
// 34000 for unknown names, the unnamed statement replaced by the next Parse
// of it and dropped by a Query message, portals dropped when a transaction
// ends).
type PreparedStatement interface {
	// ParamOIDs are the final types of the parameters $1..$n; ParameterDescription
	// reports them, and Bind must supply exactly len(ParamOIDs) values.
	ParamOIDs() []uint32
	// Columns describe the result rows, or nil for a statement that returns
	// no rows (Describe answers NoData).
	Columns() []Column
	// Bind creates a portal: the statement with its parameter values, ready
	// to run. Values are raw bytes in paramFormats (one per parameter, 0
	// text, 1 binary; nil value = NULL); the portal may keep them (pgwire
	// copies them out of its read buffer). resultFormats has one code per
	// column of Columns: the session encodes each column in that format.
	Bind(ctx context.Context, params [][]byte, paramFormats, resultFormats []int16) (Portal, error)
	// Close releases the statement (Close message, replacement of the
	// unnamed statement, end of session). Portals bound from it may outlive
	// it.
	Close()
}

// Portal is a bound statement whose execution can stop after some rows and
// resume later: a cursor, not a one-shot callback.
type Portal interface {
	// Execute runs the portal, or resumes it where the previous Execute
	// stopped, writing its rows to w. When maxRows > 0 and that many rows
	// have been written while more remain, it returns suspended=true
	// (pgwire sends PortalSuspended, and the client may Execute again).
	// Otherwise it ends by calling w.Complete with the command tag (or
	// w.EmptyQuery for an empty statement) and returns suspended=false;
	// executing a completed portal again completes it again with no rows.
	// It never calls w.BeginRows: in the extended protocol the client learns
	// the columns from Describe.
	Execute(ctx context.Context, w ResultWriter, maxRows int) (suspended bool, err error)
	// Close releases the portal (Close message, replacement of the unnamed
	// portal, end of transaction, end of session).
	Close()
}

// Column describes one result column, as RowDescription carries it. The
// format is not part of it: pgwire adds the format codes the client asked
// for.
type Column struct {
	Name string
	// TableOID and TableAttributeNumber identify the source column of a
	// table, or are zero.
	TableOID             uint32
	TableAttributeNumber uint16
	TypeOID              uint32
	// TypeSize is pg_type.typlen (negative for variable width).
	TypeSize int16
	// TypeModifier is pg_attribute.atttypmod; -1 for none.
	TypeModifier int32
}

// ResultWriter is where a statement writes its result; pgwire provides it.
// Its methods are only valid during the ExecuteSimple or Portal.Execute call
// that received it, on that call's goroutine. Errors it returns mean the
// client is gone or the output was refused: the session should stop and
// return the error.
type ResultWriter interface {
	// BeginRows starts the rows of one statement in a simple-protocol Query
	// (RowDescription). formats gives a format code per column; nil means
	// all text. In the extended protocol it returns an error.
	BeginRows(cols []Column, formats []int16) error
	// WriteRow sends one row (DataRow): one value per column, already
	// encoded in the column's format; a nil value is NULL. The values are
	// copied before WriteRow returns.
	WriteRow(values [][]byte) error
	// Complete ends one statement with its command tag ("SELECT 3",
	// "INSERT 0 1", "COPY 5", "BEGIN"...).
	Complete(tag string) error
	// EmptyQuery reports a statement that was empty (EmptyQueryResponse).
	EmptyQuery() error

	// CopyIn starts COPY FROM STDIN: it sends CopyInResponse (format 0 text
	// or 1 binary overall, and per column) and returns the data the client
	// sends, as one byte stream. Read returns io.EOF at CopyDone, and an
	// error with code 57014 when the client sends CopyFail. The session
	// parses text, CSV or binary COPY data itself; it must read to io.EOF
	// or an error before it returns (or return an error, which makes pgwire
	// drop the rest of the client's COPY data), then call Complete.
	CopyIn(format int16, columnFormats []int16) (io.Reader, error)
	// CopyOut starts COPY TO STDOUT: it sends CopyOutResponse and returns a
	// writer whose every Write is sent as one CopyData message (write one
	// row per Write, as PostgreSQL does). Complete (with "COPY n") sends
	// CopyDone before CommandComplete.
	CopyOut(format int16, columnFormats []int16) (io.Writer, error)

	// Deallocate drops a protocol-level prepared statement, for the SQL
	// DEALLOCATE name (PostgreSQL shares one namespace between PREPARE and
	// the Parse message); it reports whether it existed. DeallocateAll
	// drops them all (DEALLOCATE ALL, DISCARD ALL).
	Deallocate(name string) bool
	DeallocateAll()
}

// CursorDescriber is implemented by sessions whose SQL cursors (DECLARE)
// are visible to Describe of a portal by name, as in PostgreSQL. Its
// columns are described in text format.
type CursorDescriber interface {
	DescribeCursor(name string) (cols []Column, ok bool)
}
