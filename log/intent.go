package log

import (
	"fmt"
)

// CondKind is the kind of condition a write puts on its key.
type CondKind uint8

const (
	// Any: no condition.
	Any CondKind = iota
	// NotExists: the key has no live version (never written, or deleted).
	NotExists
	// Exists: the key has a live version.
	Exists
	// AtVersion: the key's latest version is exactly Cond.Version (0: the key
	// was never written). For a stream, "this event must become version N+1".
	AtVersion
)

// Cond is an optimistic condition on one key, checked at commit.
type Cond struct {
	Kind    CondKind
	Version uint64
}

func (c Cond) String() string {
	switch c.Kind {
	case Any:
		return "any"
	case NotExists:
		return "not exists"
	case Exists:
		return "exists"
	case AtVersion:
		return fmt.Sprintf("at version %d", c.Version)
	}
	return "?"
}

// Write is one append to one key.
type Write struct {
	Table TableID
	Key   []byte
	// Delete appends a tombstone (keyed tables only).
	Delete bool
	Cond   Cond
	// SchemaVersion is the version Row was encoded under; 0 means current.
	SchemaVersion uint32
	Row           []byte
	// SkipIfExists, with Cond NotExists, makes a live key skip this write
	// (its Appended says Skipped) instead of failing the intent: INSERT ...
	// ON CONFLICT DO NOTHING decided by the sequencer, without a read
	// before the commit.
	SkipIfExists bool
}

// Intent is a unit of commit: catalog changes and writes that become durable
// together or not at all. Writes are applied in order; a later write to the
// same key sees the earlier one.
type Intent struct {
	// Catalog, if set, changes a private copy of the catalog; an error fails
	// the whole intent. It runs inside the sequencer and must be quick and
	// deterministic.
	Catalog func(*Catalog) error
	Writes  []Write
	// Bulk, if set, is a chunk of inserts committed as this intent (see
	// bulk.go); Catalog and Writes must then be empty.
	Bulk *Bulk
	// HookTask, if set, is work for the commit hook alone (a step of a
	// view's backfill; hookcommit.go), done in this intent's turn.
	HookTask any

	// Filled in by the sequencer.
	result Result
	err    error
	done   chan struct{}
	// hookNote is the commit hook's HookInput.Note, for DurableHook.
	hookNote any
}

// Result is what a committed intent got.
type Result struct {
	// Events has, for each write in order, the key's new version and its LSN.
	Events []Appended
	// LSN is the commit position: the last LSN the intent used, or the log's
	// position at commit when it appended nothing.
	LSN uint64
	// Catalog is the catalog as this intent left it, if it changed it.
	Catalog *Catalog
	// Rows is the number of rows a bulk intent appended (its Events are
	// not listed).
	Rows int
}

// Appended is the position one write got.
type Appended struct {
	Version uint64
	LSN     uint64
	Op      Op
	// Skipped reports a SkipIfExists write whose key existed: nothing was
	// appended for it.
	Skipped bool
}

// ConflictError is a failed optimistic condition. Nothing of the intent was
// appended.
type ConflictError struct {
	Table   TableID
	Key     []byte
	Cond    Cond
	Current Head
}

func (e *ConflictError) Error() string {
	state := fmt.Sprintf("at version %d", e.Current.Version)
	if e.Current.Tombstone {
		state += " (deleted)"
	}
	return fmt.Sprintf("conflict on table %d key %q: expected %s, key is %s", e.Table, e.Key, e.Cond, state)
}

// SQLState: a duplicate insert is a unique violation; any other failed
// condition is a serialization failure the client may retry.
func (e *ConflictError) SQLState() string {
	if e.Cond.Kind == NotExists {
		return "23505"
	}
	return "40001"
}

// TableError is a write to a table that does not exist or cannot take it.
type TableError struct {
	Table TableID
	Code  string
	Msg   string
}

func (e *TableError) Error() string    { return e.Msg }
func (e *TableError) SQLState() string { return e.Code }
