// Package exec runs plans: typed expressions (Expr) evaluated over rows,
// and operators (Node) that produce rows. The planner builds both from the
// SQL statement; exec knows nothing of SQL text.
//
// Rows are []types.Datum (see sql/types for the Go representation of each
// Postgres type). Operators pull rows in batches through Iter; columnar
// (Arrow) execution of the hot operators is planned behind the same
// interface.
package exec
