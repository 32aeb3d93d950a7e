package views

import (
	"strings"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/sql/types"
)

// string_agg, array_agg and json_agg/jsonb_agg (and the ordered-set
// aggregates, percentile_cont, percentile_disc and mode, whose ORDER BY is
// their WITHIN GROUP's) keep a group's values as a multiset in their
// ORDER BY's order, under 'l' op aggregate group sortkey value: each
// entry's count, then the value (and a string_agg's delimiter) as
// stored. A change of the group reads all of its entries to make the new
// list, so its cost is the group's size: the output is the whole list.
// Without ORDER BY PostgreSQL lists values in the order rows come, which
// no state keeps; here they are in the order of the values.

// addListValue counts w rows of row (whose argument value is v) into the
// list of aggregate ai of a group; counted says whether they count as
// values of it (string_agg skips NULL values, array_agg keeps them).
func (r *run) addListValue(p *Aggregate, a Agg, ai int, gk []byte, row exec.Row, v types.Datum, w int64) (counted bool, err error) {
	var val, delim types.Datum
	elemT := a.Arg.Type()
	if a.Kind == AggStringAgg {
		pair := v.(*types.Array)
		val, delim = pair.Elems[0], pair.Elems[1]
		if val == nil {
			return false, nil
		}
		elemT = types.Make(types.TextOID)
	} else {
		val = v
		if val == nil && a.Kind == AggOrderedSet {
			// The ordered-set aggregates skip NULLs.
			return false, nil
		}
	}
	k := append(append(opPrefix(r.p.View, 'l', p.ID), byte(ai)), gk...)
	if k, err = appendSortKeys(k, r.env, row, a.Order, p.compact); err != nil {
		return false, err
	}
	k = appendValue(k, elemT, val)
	if a.Kind == AggStringAgg {
		k = appendValue(k, elemT, delim)
	}
	payload, err := types.EncodeRow(nil, []types.T{elemT, elemT}, []types.Datum{val, delim})
	if err != nil {
		return false, err
	}
	if _, _, err := r.ov.addCount(k, w, payload); err != nil {
		return false, err
	}
	return true, nil
}

// listResult makes aggregate ai's value for a group from its entries.
func (r *run) listResult(p *Aggregate, a Agg, ai int, gk []byte) (types.Datum, error) {
	elemT := a.Arg.Type()
	if a.Kind == AggStringAgg {
		elemT = types.Make(types.TextOID)
	}
	prefix := append(append(opPrefix(r.p.View, 'l', p.ID), byte(ai)), gk...)
	var sb strings.Builder
	arr := &types.Array{Elem: elemT}
	if a.Kind == AggArrayAgg {
		arr.Elem = a.Ret.ElemType()
	}
	var acc exec.Accumulator
	if a.Kind == AggOrderedSet {
		acc = a.Func.New()
	}
	first := true
	err := r.ov.scan(prefix, func(_, v []byte) error {
		n, payload := decodeCounted(v)
		if a.Distinct {
			n = 1
		}
		vals, err := types.DecodeRow([]types.T{elemT, elemT}, payload)
		if err != nil {
			return err
		}
		for range n {
			if acc != nil {
				if err := acc.Add(r.env, vals[0]); err != nil {
					return err
				}
				continue
			}
			if a.Kind != AggStringAgg {
				arr.Elems = append(arr.Elems, vals[0])
				continue
			}
			if !first && vals[1] != nil {
				sb.WriteString(vals[1].(string))
			}
			sb.WriteString(vals[0].(string))
			first = false
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	switch a.Kind {
	case AggOrderedSet:
		return acc.Result(r.env)
	case AggArrayAgg:
		return arr, nil
	case AggJSONAgg:
		return exec.JSONAggOf(r.env, elemT, arr.Elems, a.JSONText)
	}
	return sb.String(), nil
}
