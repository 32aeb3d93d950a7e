package planner

import (
	"strings"

	"github.com/strand-db/strand/exec"
	"github.com/strand-db/strand/log"
	"github.com/strand-db/strand/sql/types"
)

// planKeyScan turns equality predicates on a leading run of the table's key
// columns (key = constant or parameter) into a key-prefix scan: a point
// lookup when all key columns are fixed, a range scan otherwise. The
// predicate stays as a filter above the scan (it is cheap on the few rows
// the key selects, and it keeps type and NULL semantics exact). Returns nil
// when no key column is fixed.
func planKeyScan(scan *exec.Scan, pred exec.Expr) exec.Node {
	fixed := map[int]exec.Expr{}
	for _, c := range conjuncts(pred) {
		call, ok := c.(*exec.Call)
		if !ok || call.Fn.Op != "=" {
			continue
		}
		col, val := keyEquality(call)
		if col == nil {
			continue
		}
		if col.Idx >= len(scan.Layout.Types) || col.T.OID != scan.Layout.Types[col.Idx].OID {
			// _version, or a cross-type comparison: leave it to the filter.
			continue
		}
		fixed[col.Idx] = val
	}
	var parts []exec.Expr
	var ts []types.T
	var desc []string
	for _, ki := range scan.Layout.KeyIdx {
		v, ok := fixed[ki]
		if !ok {
			break
		}
		parts = append(parts, v)
		ts = append(ts, scan.Layout.Types[ki])
		desc = append(desc, scan.Layout.Cur.Columns[ki].Name+" = "+v.String())
	}
	if len(parts) == 0 {
		return nil
	}
	ks := *scan
	ks.Prefix = &keyPrefix{parts: parts, ts: ts}
	ks.PrefixDesc = strings.Join(desc, " AND ")
	ks.Point = len(parts) == len(scan.Layout.KeyIdx) && scan.Layout.Desc.Kind == log.Keyed
	return &exec.Filter{Input: &ks, Pred: pred}
}

// keyEquality matches col = value or value = col, where value does not
// read the row.
func keyEquality(call *exec.Call) (*exec.ColRef, exec.Expr) {
	for i := 0; i < 2; i++ {
		col, ok := call.Args[i].(*exec.ColRef)
		if !ok {
			continue
		}
		v := call.Args[1-i]
		if rowFree(v) {
			return col, v
		}
	}
	return nil, nil
}

// rowFree reports whether e can be evaluated without a row. An outer
// query's column is fixed while a correlated subquery runs, so WHERE
// c.id = o.customer_id in one is a key lookup per outer row.
func rowFree(e exec.Expr) bool {
	switch x := e.(type) {
	case *exec.Const, *exec.Param, *exec.OuterRef:
		return true
	case *exec.Cast:
		return rowFree(x.Arg)
	}
	return false
}

// keyPrefix evaluates the fixed key values and encodes them as a key
// prefix; NULL yields NULL (no row can match).
type keyPrefix struct {
	parts []exec.Expr
	ts    []types.T
}

func (k *keyPrefix) Type() types.T { return types.Make(types.ByteaOID) }
func (k *keyPrefix) Eval(env *exec.Env, row exec.Row) (types.Datum, error) {
	var out []byte
	for i, p := range k.parts {
		v, err := p.Eval(env, row)
		if err != nil || v == nil {
			return nil, err
		}
		out = types.AppendKey(out, k.ts[i], v)
	}
	return out, nil
}
func (k *keyPrefix) String() string { return "key prefix" }
