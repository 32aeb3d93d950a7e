package exec

import (
	"strings"

	"github.com/strand-db/strand/sql/types"
)

// StringAgg is string_agg(value text, delimiter text). Aggregates take one
// argument here, so the planner passes ARRAY[value, delimiter]; a row
// whose value is NULL is skipped, and the first value's delimiter is not
// written, as in PostgreSQL.
func StringAgg() *AggFunc {
	return &AggFunc{Name: "string_agg", Arg: t(types.TextArrayOID), Ret: tText, New: func() Accumulator { return &stringAggAcc{} }}
}

type stringAggAcc struct {
	sb   strings.Builder
	seen bool
}

func (a *stringAggAcc) Add(_ *Env, v types.Datum) error {
	pair := v.(*types.Array).Elems
	if pair[0] == nil {
		return nil
	}
	if a.seen && pair[1] != nil {
		a.sb.WriteString(pair[1].(string))
	}
	a.seen = true
	a.sb.WriteString(pair[0].(string))
	return nil
}

func (a *stringAggAcc) Result(*Env) (types.Datum, error) {
	if !a.seen {
		return nil, nil
	}
	return a.sb.String(), nil
}
