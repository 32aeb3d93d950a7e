package views

import (
	"fmt"
	"slices"
	"strings"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/sql/types"
)

// An interval (band) join ties a column of one side to a range computed
// from the other side's row, beside its equalities:
//
//	JOIN clicks c ON c.user_id = o.user_id
//	    AND c.ts BETWEEN o.ts - interval '1 hour' AND o.ts
//
// Keyed by the join key alone, a delta row would read every row of its
// key on the other side, which for a user with a long history is the
// history. With a band, each side whose rows the other side's bounds
// constrain stores them by the join key and then the bounded column (Col),
// and a delta row reads only the rows whose column lies within the bounds
// its own row gives (Lower, Upper): for an order, the user's clicks of the
// hour before it. The bounds only narrow the read: the whole ON condition
// still decides each pair, so a bound need only hold for every row that can
// match (a strict < reads the equal rows too).
//
// The planner finds the bounds in ON's conjuncts (planner/view_band.go),
// solving `o.ts - interval '1 hour' <= c.ts` for o.ts where the offset
// makes that exact. A NULL bound matches nothing (the conjunct it comes
// from is NULL); a bound that fails to evaluate (an overflow the original
// condition would not hit) leaves that end open.
type JoinBand struct {
	// Col, per side, is the column of that side's rows that orders them
	// within a join key; -1 when nothing bounds it.
	Col [2]int
	// Name, per side, is Col's name, for EXPLAIN.
	Name [2]string
	// Lower and Upper, per side, are expressions over a row of that side
	// that bound the other side's Col (inclusive) for the rows that can
	// match it; nil for an open end.
	Lower, Upper [2]exec.Expr
}

// bandCol is the banded column of side's stored rows, or -1.
func (j *Join) bandCol(side int) int {
	if j.band == nil {
		return -1
	}
	return j.band.Col[side]
}

// bandRange returns the key range of the other side's rows a delta row
// of side can match, under the other side's key prefix (prefix, other
// side, join key): the rows whose banded column lies within the bounds
// row gives. banded is false when the other side's rows are not banded or
// row bounds nothing (read the whole prefix); none is true when a bound
// is NULL, so that no row can match.
func (r *run) bandRange(j *Join, side int, row exec.Row, prefix []byte) (lo, hi []byte, banded, none bool) {
	other := 1 - side
	c := j.bandCol(other)
	if c < 0 || j.band.Lower[side] == nil && j.band.Upper[side] == nil {
		return nil, nil, false, false
	}
	t := j.sideTypes(other)[c]
	key := func(v types.Datum) []byte { return appendValueIn(slices.Clip(prefix), j.compact, t, v) }
	// Non-NULL values of the column sort after the NULL marker (0) and
	// carry the marker 1 (appendValue): no bound reads [1, 2).
	lo = append(slices.Clip(prefix), 1)
	hi = append(slices.Clip(prefix), 2)
	for i, e := range [2]exec.Expr{j.band.Lower[side], j.band.Upper[side]} {
		if e == nil {
			continue
		}
		v, err := e.Eval(r.env, row)
		switch {
		case err != nil:
			// An end left open: the bound overflowed where the
			// condition it comes from need not.
		case v == nil:
			return nil, nil, true, true
		case i == 0:
			lo = key(v)
		default:
			// Every key whose column equals v starts with its
			// encoding (no value's encoding is a prefix of another's).
			hi = prefixEnd(key(v))
		}
	}
	return lo, hi, true, false
}

// note describes the band for EXPLAIN, as a view created now keeps it.
func (b *JoinBand) note() string {
	var parts []string
	for side, name := range []string{"left", "right"} {
		if b.Col[side] < 0 {
			continue
		}
		other := 1 - side
		var bounds []string
		if e := b.Lower[other]; e != nil {
			bounds = append(bounds, fmt.Sprintf(">= %s", e))
		}
		if e := b.Upper[other]; e != nil {
			bounds = append(bounds, fmt.Sprintf("<= %s", e))
		}
		parts = append(parts, fmt.Sprintf("%s rows by %s, a change of the %s side reading those %s", name, b.Name[side], [...]string{"left", "right"}[other], strings.Join(bounds, " and ")))
	}
	return strings.Join(parts, "; ")
}
