package exec

import (
	"fmt"

	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

// SubqueryMode is how a subquery's rows become a value.
type SubqueryMode uint8

const (
	// ScalarSubquery: at most one row of one column; no row is NULL.
	ScalarSubquery SubqueryMode = iota
	// ExistsSubquery: whether there is a row.
	ExistsSubquery
	// AnySubquery: Arg Op ANY (rows); IN is = ANY.
	AnySubquery
	// AllSubquery: Arg Op ALL (rows).
	AllSubquery
)

// Subquery evaluates a nested plan. The plan sees the current row as its
// innermost outer row. An uncorrelated subquery runs once per statement.
type Subquery struct {
	Plan       Node
	Mode       SubqueryMode
	Correlated bool
	// Arg and Cmp are the left side and the comparison (a Call over
	// (Arg, column)) for ANY/ALL; Cmp reads the subquery's value as
	// column 0 of the row it gets, and Arg's value is evaluated first.
	Arg Expr
	Cmp Expr
	// Args, instead of Arg, are a row's values ((a, b) IN (SELECT x, y
	// ...)): Cmp reads them, then the subquery's columns, and decides
	// NULLs itself.
	Args []Expr
	T    types.T

	cached bool
	rows   []Row
}

func (s *Subquery) Type() types.T { return s.T }

func (s *Subquery) Eval(env *Env, row Row) (types.Datum, error) {
	rows, err := s.run(env, row)
	if err != nil {
		return nil, err
	}
	switch s.Mode {
	case ScalarSubquery:
		if len(rows) == 0 {
			return nil, nil
		}
		if len(rows) > 1 {
			return nil, pgerr.New(pgerr.CardinalityViolation, "more than one row returned by a subquery used as an expression")
		}
		return rows[0][0], nil
	case ExistsSubquery:
		return len(rows) > 0, nil
	}
	// The pair Cmp reads: the left side's values, then a row's.
	var pair Row
	var strict bool
	if s.Args != nil {
		for _, a := range s.Args {
			v, err := a.Eval(env, row)
			if err != nil {
				return nil, err
			}
			pair = append(pair, v)
		}
	} else {
		// One value: a NULL on either side is a NULL comparison.
		x, err := s.Arg.Eval(env, row)
		if err != nil {
			return nil, err
		}
		pair, strict = Row{x}, true
	}
	left := len(pair)
	sawNull := false
	for _, r := range rows {
		pair = append(pair[:left], r...)
		var v types.Datum
		if !strict || pair[0] != nil && r[0] != nil {
			if v, err = s.Cmp.Eval(env, pair); err != nil {
				return nil, err
			}
		}
		switch {
		case v == nil:
			sawNull = true
		case v == true && s.Mode == AnySubquery:
			return true, nil
		case v == false && s.Mode == AllSubquery:
			return false, nil
		}
	}
	if sawNull {
		return nil, nil
	}
	return s.Mode == AllSubquery, nil
}

func (s *Subquery) run(env *Env, row Row) ([]Row, error) {
	if !s.Correlated && s.cached {
		return s.rows, nil
	}
	limit := 0
	switch s.Mode {
	case ScalarSubquery:
		limit = 2
	case ExistsSubquery:
		limit = 1
	}
	inner := *env
	inner.Outer = append(append([]Row(nil), env.Outer...), row)
	rows, err := env.RunSubquery(&inner, s.Plan, limit)
	if err != nil {
		return nil, err
	}
	if !s.Correlated {
		s.rows, s.cached = rows, true
	}
	return rows, nil
}

func (s *Subquery) String() string {
	return fmt.Sprintf("SubPlan(%d)", s.Mode)
}
