package planner

import (
	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/exec/vec"
)

// vectorize picks the engine of a GROUP BY or aggregate query: the
// vectorized one (exec/vec) when the aggregate reads a full scan of one
// base table, optionally filtered, and vec runs every expression and
// aggregate in it; else the row engine's hash aggregate. EXPLAIN shows
// which ("Vectorized HashAggregate" over a "Vectorized Seq Scan").
func vectorize(h *exec.HashAgg) exec.Node {
	if a, ok := vec.Plan(h); ok {
		return a
	}
	return h
}
