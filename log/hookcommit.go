package log

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/cockroachdb/pebble/v2"
)

// Hook-only commits and the hook's background worker.
//
// A commit hook that derives state from the base tables sometimes has work
// of its own that is not caused by a write: a new materialized view must
// be filled from the rows that existed before it, and doing that inside the
// commit that creates the view would hold the sequencer (and so every
// writer) for as long as the whole backfill takes. Instead the hook's
// worker submits a stream of small intents that carry a Task and no
// writes; the sequencer hands each one to the hook in its turn in the
// commit order, the hook does one bounded step (a chunk of the backfill)
// against the same State every other intent sees, and the step's
// mutations commit like any other: in one batch, durable before the ack.
// Writers' intents interleave with the steps.
//
// A hook that implements IntentHook also sees an intent's catalog change
// and its changes in one call, so that state it derives for a new view in
// the catalog change is visible to the same intent's changes.

// IntentHook is a CommitHook that takes a whole intent in one call. The
// sequencer prefers it to OnCatalog and Prepare.
type IntentHook interface {
	PrepareIntent(in *HookInput) ([]Mutation, error)
}

// HookInput is one intent as a hook sees it.
type HookInput struct {
	// State holds everything committed or sequenced before the intent.
	State HookState
	// Old is the catalog before the intent, Catalog the one it commits
	// under; they differ when the intent changes the catalog.
	Old, Catalog *Catalog
	// Changes are the intent's events, in order.
	Changes []Change
	// Task is the intent's HookTask.
	Task any
	// LastLSN is the last LSN used before this intent: its events have
	// larger ones.
	LastLSN uint64
	// CommitTime is the intent's commit time (Unix microseconds), the
	// CommitTime of its events: views with temporal filters advance
	// their clock to it.
	CommitTime int64
	// Writes are the hook's writes to the changelogs of materialized
	// views (TableDesc.LogsChanges): events of the views' own keys, which
	// the log appends after the intent's, unconditionally, in the same
	// commit. The hook sets them; ignored when it fails the intent.
	Writes []Write
	// Note is set by a DurableHook to something it wants back once the
	// intent's writes are durable (see DurableHook); ignored when the
	// hook fails the intent.
	Note any
}

// DurableHook is an IntentHook told when what it prepared became durable:
// the Notes it set, for the intents that committed, come back in commit
// order once their batch is fsynced and published, with the snapshot
// that made it visible (its Publication and LSN). The snapshot is valid
// during the call; Retain it to keep it. Durable runs on the goroutine
// that acknowledges commits, so it must be quick and must not block. A
// view subscription uses it to follow a view's changes without reading
// the view (views/feed.go).
type DurableHook interface {
	Durable(snap *Snapshot, notes []any)
}

// HookWorker is a CommitHook with background work (view backfills). The
// log runs RunWorker in its own goroutine from Open until Close, which
// cancels ctx and waits for it to return; the worker commits through l.
type HookWorker interface {
	RunWorker(ctx context.Context, l *Log)
}

// runHook asks the hook for the mutations an intent derives. lastLSN is
// the last LSN used before the intent.
func (s *sequencer) runHook(st State, in *Intent, cat *Catalog, lastLSN uint64, commitTime int64) (muts []Mutation, writes []Write, err error) {
	if s.hook == nil || (cat == s.cat && len(s.changes) == 0 && in.HookTask == nil) {
		return nil, nil, nil
	}
	// The hook runs on the sequencing goroutine: a panic in it (a bug in
	// view maintenance, say) would take the whole server down, and again
	// on every retry of the same write. It fails the intent instead, as a
	// failing trigger would: the hook runs before any of the intent's
	// writes, so nothing of it is written, and the client sees XX000.
	defer func() {
		if r := recover(); r != nil {
			if s.logger != nil {
				s.logger.Error("commit hook panicked; the intent fails", slog.Any("panic", r), slog.String("stack", string(debug.Stack())))
			}
			muts, writes, err = nil, nil, fmt.Errorf("commit hook panicked: %v", r)
		}
	}()
	hs, _ := st.(HookState)
	if ih, ok := s.hook.(IntentHook); ok {
		hi := &HookInput{State: hs, Old: s.cat, Catalog: cat, Changes: s.changes, Task: in.HookTask, LastLSN: lastLSN, CommitTime: commitTime}
		muts, err = ih.PrepareIntent(hi)
		// Kept even when the hook fails: the log hands back only the
		// notes of intents that committed (Log.durable).
		in.hookNote = hi.Note
		return muts, hi.Writes, err
	}
	if cat != s.cat {
		m, err := s.hook.OnCatalog(hs, s.cat, cat)
		if err != nil {
			return nil, nil, err
		}
		muts = m
	}
	if len(s.changes) > 0 {
		m, err := s.hook.Prepare(hs, cat, s.changes)
		if err != nil {
			return nil, nil, err
		}
		muts = append(muts, m...)
	}
	return muts, nil, nil
}

// startHookWorker starts the hook's worker, if it has one.
func (l *Log) startHookWorker() {
	w, ok := l.opts.Hook.(HookWorker)
	if !ok {
		return
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	l.hookWorker.cancel, l.hookWorker.done = cancel, done
	go func() {
		defer close(done)
		w.RunWorker(ctx, l)
	}()
}

// stopHookWorker cancels the worker and waits for it; the log still takes
// intents, so a step in flight commits.
func (l *Log) stopHookWorker() {
	if l.hookWorker.cancel == nil {
		return
	}
	l.hookWorker.cancel()
	<-l.hookWorker.done
}

// Logger is the log's logger.
func (l *Log) Logger() *slog.Logger { return l.opts.Logger }

// ScanHeadsFrom calls fn for every live key of a keyed table, as the hook
// state sees it, from key from (inclusive; nil: the first) in key order.
// fn may return ErrStop.
func ScanHeadsFrom(st HookState, t TableID, from []byte, fn func(key []byte, h *Head) error) error {
	prefix := appendTable(nil, nsHead, t)
	lower := prefix
	if from != nil {
		lower = appendEscaped(append([]byte(nil), prefix...), from)
	}
	it, err := st.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: prefixEnd(prefix)})
	if err != nil {
		return err
	}
	defer it.Close()
	var h Head
	for valid := it.First(); valid; valid = it.Next() {
		if err := decodeHead(it.Key(), it.Value(), &h); err != nil {
			return err
		}
		if h.Tombstone {
			continue
		}
		uk, _, err := decodeEscaped(it.Key()[5:])
		if err != nil {
			return &CorruptionError{describeKey(it.Key()), err.Error()}
		}
		if err := fn(uk, &h); err != nil {
			if err == ErrStop {
				return nil
			}
			return err
		}
	}
	return it.Error()
}

// ScanEventsIn calls fn for the events of table td with from <= LSN <= to,
// as the hook state sees them, in LSN order. fn may return ErrStop.
func ScanEventsIn(st HookState, td *TableDesc, from, to uint64, fn func(e *Event) error) error {
	if from > to {
		return nil
	}
	if err := refuseTieredBackfill(st, td); err != nil {
		return err
	}
	t := td.ID
	upper := prefixEnd(appendTable(nil, nsEvent, t))
	if to < ^uint64(0) {
		upper = eventKey(nil, t, to+1)
	}
	it, err := st.NewIter(&pebble.IterOptions{LowerBound: eventKey(nil, t, from), UpperBound: upper})
	if err != nil {
		return err
	}
	defer it.Close()
	var e Event
	for valid := it.First(); valid; valid = it.Next() {
		if err := decodeRecord(it.Key(), it.Value(), &e); err != nil {
			return err
		}
		if err := fn(&e); err != nil {
			if err == ErrStop {
				return nil
			}
			return err
		}
	}
	return it.Error()
}
