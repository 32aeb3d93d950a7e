// Package session is where a connection's SQL runs: it implements pgwire's
// Backend and Session on top of the front end (sql), the planner, exec and
// the log. It holds a session's settings and its transaction, encodes
// results in the formats the client asked for, and maps every error to a
// SQLSTATE.
//
// Transactions: outside BEGIN, every statement runs alone (autocommit) on a
// fresh durable snapshot; its writes commit when it ends, and an UPDATE,
// DELETE or upsert that loses an optimistic race is retried on a new
// snapshot, which gives what READ COMMITTED gives in PostgreSQL. Inside
// BEGIN, reads see one snapshot plus the transaction's own writes, every
// write carries the version it read, and COMMIT appends everything
// atomically or fails with 40001 if another commit changed a key the
// transaction wrote (snapshot isolation for writes).
package session

import (
	"context"
	"log/slog"
	"sync/atomic"

	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/pgwire"
)

// Version is Strand's version, reported by version() and server_version.
var Version = "0.1.0"

// Engine opens sessions on a log. It implements pgwire.Backend.
type Engine struct {
	Log    *log.Log
	Logger *slog.Logger
	// sessions counts open sessions.
	sessions atomic.Int64
	// notify routes NOTIFY to LISTENing sessions.
	notify listeners
	// groups holds the consumer groups open in this server (groups.go).
	groups groupRegistry
	// IcebergStatus reports the compactor's tables for
	// pg_catalog.strand_iceberg_tables (system_iceberg.go); nil: none.
	IcebergStatus func() []IcebergTableStatus
	// seqs hands out sequence values (sequences.go).
	seqs sequenceAlloc
}

// NewEngine makes an engine over an open log.
func NewEngine(l *log.Log, logger *slog.Logger) *Engine {
	if logger == nil {
		logger = slog.Default()
	}
	return &Engine{Log: l, Logger: logger}
}

// LookupRole returns a role's SCRAM verifier from the catalog. Every name
// is accepted as a role without a password when no role of that name was
// created (trust authentication decides whether that is allowed).
func (e *Engine) LookupRole(ctx context.Context, user string) (string, bool, error) {
	cat := e.Log.Catalog()
	if r, ok := cat.Roles[user]; ok {
		return r.Verifier, true, nil
	}
	return "", len(cat.Roles) == 0 || user == "postgres" || user == "strand", nil
}

// NewSession opens a session for an authenticated connection.
func (e *Engine) NewSession(ctx context.Context, info pgwire.StartupInfo) (pgwire.Session, error) {
	s := newSession(e, info)
	for name, value := range info.Settings {
		if err := s.set(name, []string{value}, false); err != nil {
			return nil, err
		}
	}
	e.sessions.Add(1)
	return s, nil
}
