// Package vec is Strand's vectorized query engine: aggregate queries over
// one table run on Arrow record batches (github.com/apache/arrow-go/v18)
// instead of the row engine's one Datum per value.
//
// How a query runs. The planner (planner/vec.go) hands over a hash
// aggregate whose input is a full scan of a keyed table or a stream,
// optionally under a WHERE filter, when vec supports every expression and
// aggregate in it (Plan says which; anything else stays on the row
// engine). At run time the table is cut into spans at its sstable bounds
// (log.Log.SplitRows), a few per core, and one worker per core takes spans
// in turn. A worker iterates a span's key heads (or a stream's events) in
// the statement's Pebble snapshot and decodes the stored rows straight into
// Arrow builders of just the columns the query reads (sql/types/rowarrow,
// shared with the Iceberg compactor), 64k rows per record batch. On each
// batch it evaluates the WHERE predicate to a selection vector (the
// indices of the rows that pass), the GROUP BY expressions to group ids
// through a hash table, and each aggregate's argument over the selected
// rows into per-group accumulators held as columns. Every span keeps its
// own partial aggregate; at the end the partials are merged in span order,
// so groups come out in the order of their first row in the table, as the
// row engine emits them, and min/max keep the first of equal values.
//
// Semantics are the row engine's, which follows PostgreSQL: NULLs skip
// aggregates and propagate through operators; integer overflow is 22003
// and division by zero 22012, raised for the rows the row engine would
// evaluate (AND and OR evaluate their later arguments only on the rows the
// earlier ones left undecided; constants are evaluated only when a row
// needs them); sum(int8) and avg(integer) accumulate exactly in 128 bits
// and return numeric; result types are exec.ResolveAgg's. The one
// difference: sum and avg of float8 over a table read by several workers
// add in a different order, so their last bits may differ.
//
// A transaction that has written to the table reads it through the row
// engine (Aggregate.Fallback), which merges its pending writes.
package vec
