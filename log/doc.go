// Package log is Strand's durable per-key log, on Pebble.
//
// Every key of every table is its own ordered stream: a key's events are
// numbered with dense versions 1, 2, 3, … and every event also gets a global
// commit position, its LSN, so a table (or everything) can be tailed in
// commit order. A table is either keyed (the latest version of each live key
// is the row SELECT sees; a delete is a tombstone version) or an append-only
// stream (every event is a row; each key's events are numbered in order).
//
// The log stores rows as opaque bytes tagged with the schema version they
// were encoded under; the row codec and the type system live in sql/types.
// The log keeps the catalog (schemas, tables and their schema-version
// history, roles, views) so that catalog changes commit in the same order,
// and with the same durability, as the events they govern.
//
// Writes are Intents: a set of appends with optional conditions ("any",
// "key must not exist", "key must be at version N") that commit atomically
// or not at all. One goroutine, the Sequencer, owns the order of commits; see
// pipeline.go for how intents become Pebble batches, fsyncs and acks.
//
// Reads go through a Snapshot: the state as of the last durable commit. A
// write is never visible to a reader before it is durable, so nothing a
// reader (or a subscriber) has seen can vanish in a crash.
//
// # Storage layout
//
// All Pebble keys start with a one-byte namespace:
//
//	0x01 meta      0x01 "lsn"                    → last LSN (u64)
//	               0x01 "tier" table(u32)        → last LSN tiering dropped (retention.go)
//	0x02 catalog   0x02 "catalog"                → the catalog (checksummed JSON)
//	0x03 head      0x03 table(u32) key*          → Head: version, LSN, tombstone, latest row (keyed tables)
//	0x04 version   0x04 table(u32) key* ver(u64) → LSN of that version (all but the newest, whose LSN is the head's)
//	0x05 event     0x05 table(u32) lsn(u64)      → Record: the event itself
//	0x10..0x1f     reserved for commit hooks (view state)
//
// key* is the user key escaped so that it is self-delimiting and keeps its
// byte order (0x00 → 0x00 0xFF, then a 0x00 0x01 terminator): a key prefix is
// a range of heads, and a key's versions sort together after it. Events are
// stored in LSN order per table (appends go to the end of the LSM, tailing and
// compaction read sequentially); a key's history is found through the
// version index. Dropping a prefix of a key's stream (retention) deletes its
// oldest version-index entries and events and raises the head's FirstVersion.
//
// No SSTable spans two namespaces, nor two tables (or views) of a namespace
// keyed by table (tableSpans, keys.go): a new table's bulk chunks overlap no
// existing file and are ingested at the bottom of the LSM.
package log
