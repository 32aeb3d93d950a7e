package exec

import (
	"math"

	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

// The ordered-set aggregates percentile_cont, percentile_disc and mode:
// fn(direct args) WITHIN GROUP (ORDER BY value). The value is the
// aggregate's argument and its only ORDER BY key, so the row engine feeds
// the values sorted (NULLs skipped); Fraction is the direct argument, a
// constant.

// OrderedSetAgg resolves an ordered-set aggregate over values of type t.
func OrderedSetAgg(name string, t types.T, fraction Expr) (*AggFunc, error) {
	a := &AggFunc{Name: name, Arg: t, Ret: t}
	switch name {
	case "percentile_cont":
		if t.OID != types.Float8OID {
			return nil, undefinedAgg(name, t)
		}
		a.New = func() Accumulator { return &percentileAcc{fraction: fraction, cont: true} }
	case "percentile_disc":
		a.New = func() Accumulator { return &percentileAcc{fraction: fraction} }
	case "mode":
		a.New = func() Accumulator { return &modeAcc{t: t} }
	default:
		return nil, pgErr(pgerr.WrongObjectType, "%s is not an ordered-set aggregate, so it cannot have WITHIN GROUP", name)
	}
	return a, nil
}

// IsOrderedSetAgg reports whether name is an ordered-set aggregate.
func IsOrderedSetAgg(name string) bool {
	return name == "percentile_cont" || name == "percentile_disc" || name == "mode"
}

type percentileAcc struct {
	fraction Expr
	cont     bool
	vals     []types.Datum
}

func (a *percentileAcc) Add(_ *Env, v types.Datum) error {
	a.vals = append(a.vals, v)
	return nil
}

func (a *percentileAcc) Result(env *Env) (types.Datum, error) {
	f, err := a.fraction.Eval(env, nil)
	if err != nil || f == nil || len(a.vals) == 0 {
		return nil, err
	}
	p := f.(float64)
	if p < 0 || p > 1 || math.IsNaN(p) {
		return nil, pgErr(pgerr.NumericValueOutOfRange, "percentile value %v is not between 0 and 1", p)
	}
	n := len(a.vals)
	if !a.cont {
		// The first value whose position reaches p of the values.
		row := int(math.Ceil(p * float64(n)))
		if row < 1 {
			row = 1
		}
		return a.vals[row-1], nil
	}
	pos := p * float64(n-1)
	lo, hi := int(math.Floor(pos)), int(math.Ceil(pos))
	x, y := a.vals[lo].(float64), a.vals[hi].(float64)
	if lo == hi {
		return x, nil
	}
	return x + (pos-float64(lo))*(y-x), nil
}

// modeAcc is mode(): the most frequent value, the first in order of
// those tied.
type modeAcc struct {
	t         types.T
	best, cur types.Datum
	bestN, n  int
	seen      bool
}

func (a *modeAcc) Add(_ *Env, v types.Datum) error {
	if a.seen && types.Compare(a.t, v, a.cur) == 0 {
		a.n++
	} else {
		a.cur, a.n, a.seen = v, 1, true
	}
	if a.n > a.bestN {
		a.best, a.bestN = a.cur, a.n
	}
	return nil
}

func (a *modeAcc) Result(*Env) (types.Datum, error) { return a.best, nil }
