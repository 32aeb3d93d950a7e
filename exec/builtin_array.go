package exec

import (
	"crypto/rand"
	"strings"

	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

// Array functions, registered once per element type so that each overload
// has a concrete signature and result type (PostgreSQL declares them over
// anyarray/anyelement). Arrays are one-dimensional with lower bound 1.

// VersionString is what version() reports.
const VersionString = "PostgreSQL 15.0 (Strand 0.1.0) on x86_64-pc-linux-gnu"

var arrayElemTypes = []types.OID{
	types.BoolOID, types.Int2OID, types.Int4OID, types.Int8OID, types.Float4OID, types.Float8OID,
	types.NumericOID, types.TextOID, types.VarcharOID, types.ByteaOID, types.DateOID, types.TimeOID,
	types.TimestampOID, types.TimestampTZOID, types.IntervalOID, types.UUIDOID, types.JSONBOID,
}

func init() {
	for _, eo := range arrayElemTypes {
		et := types.Make(eo)
		at := types.ArrayOf(et)
		ao := at.OID
		register(
			fn("array_length", oids(ao, oInt4), tInt4, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
				n := len(a[0].(*types.Array).Elems)
				if a[1].(int64) != 1 || n == 0 {
					return nil, nil
				}
				return int64(n), nil
			}),
			fn("cardinality", oids(ao), tInt4, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
				return int64(len(a[0].(*types.Array).Elems)), nil
			}),
			&Func{Name: "array_position", Args: oids(ao, eo), Ret: tInt4, Impl: arrayPosition(et)},
			&Func{Name: "array_position", Args: oids(ao, eo, oInt4), Ret: tInt4, Impl: arrayPosition(et)},
			&Func{Name: "array_append", Args: oids(ao, eo), Ret: at, Impl: arrayAppend(et)},
			&Func{Name: "array_append", Op: "||", Args: oids(ao, eo), Ret: at, Impl: arrayAppend(et)},
			&Func{Name: "array_prepend", Args: oids(eo, ao), Ret: at, Impl: arrayPrepend(et)},
			&Func{Name: "array_prepend", Op: "||", Args: oids(eo, ao), Ret: at, Impl: arrayPrepend(et)},
			&Func{Name: "array_cat", Args: oids(ao, ao), Ret: at, Impl: func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
				if a[0] == nil {
					return a[1], nil
				}
				if a[1] == nil {
					return a[0], nil
				}
				r := &types.Array{Elem: et}
				r.Elems = append(append(r.Elems, a[0].(*types.Array).Elems...), a[1].(*types.Array).Elems...)
				return r, nil
			}},
			&Func{Name: "array_cat", Op: "||", Args: oids(ao, ao), Ret: at, Impl: func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
				if a[0] == nil {
					return a[1], nil
				}
				if a[1] == nil {
					return a[0], nil
				}
				r := &types.Array{Elem: et}
				r.Elems = append(append(r.Elems, a[0].(*types.Array).Elems...), a[1].(*types.Array).Elems...)
				return r, nil
			}},
			fn("array_to_string", oids(ao, oText), tText, arrayJoinText(et)),
			&Func{Name: "array_to_string", Args: oids(ao, oText, oText), Ret: tText, Impl: func(e *Env, c *Call, a []types.Datum) (types.Datum, error) {
				if a[0] == nil || a[1] == nil {
					return nil, nil
				}
				return arrayJoinText(et)(e, c, a)
			}},
		)
	}
	register(
		&Func{Name: "string_to_array", Args: oids(oText, oText), Ret: types.Make(types.TextArrayOID), Impl: stringToArray},
		&Func{Name: "string_to_array", Args: oids(oText, oText, oText), Ret: types.Make(types.TextArrayOID), Impl: stringToArray},
		&Func{Name: "version", Ret: tText, Impl: func(*Env, *Call, []types.Datum) (types.Datum, error) { return VersionString, nil }},
		&Func{Name: "gen_random_uuid", Ret: tUUID, Volatile: true, Impl: func(*Env, *Call, []types.Datum) (types.Datum, error) {
			var u types.UUID
			if _, err := rand.Read(u[:]); err != nil {
				return nil, pgerr.Wrap(err, pgerr.InternalError, "gen_random_uuid")
			}
			u[6] = u[6]&0x0f | 0x40
			u[8] = u[8]&0x3f | 0x80
			return u, nil
		}},
	)
}

func arrayAppend(et types.T) impl {
	return func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
		r := &types.Array{Elem: et}
		if a[0] != nil {
			r.Elems = append(r.Elems, a[0].(*types.Array).Elems...)
		}
		r.Elems = append(r.Elems, a[1])
		return r, nil
	}
}

func arrayPrepend(et types.T) impl {
	return func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
		r := &types.Array{Elem: et, Elems: []types.Datum{a[0]}}
		if a[1] != nil {
			r.Elems = append(r.Elems, a[1].(*types.Array).Elems...)
		}
		return r, nil
	}
}

func arrayPosition(et types.T) impl {
	return func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
		if a[0] == nil {
			return nil, nil
		}
		elems := a[0].(*types.Array).Elems
		start := int64(1)
		if len(a) == 3 {
			if a[2] == nil {
				return nil, pgerr.New(pgerr.NullValueNotAllowed, "initial position must not be null")
			}
			start = a[2].(int64)
		}
		for i := max(start, 1); i <= int64(len(elems)); i++ {
			e := elems[i-1]
			if e == nil && a[1] == nil || e != nil && a[1] != nil && types.Compare(et, e, a[1]) == 0 {
				return i, nil
			}
		}
		return nil, nil
	}
}

func arrayJoinText(et types.T) impl {
	return func(e *Env, _ *Call, a []types.Datum) (types.Datum, error) {
		sep := a[1].(string)
		var null *string
		if len(a) == 3 && a[2] != nil {
			s := a[2].(string)
			null = &s
		}
		var b strings.Builder
		first := true
		for _, v := range a[0].(*types.Array).Elems {
			var s string
			switch {
			case v != nil:
				s = types.FormatText(et, v, settingsOf(e))
			case null != nil:
				s = *null
			default:
				continue
			}
			if !first {
				b.WriteString(sep)
			}
			first = false
			b.WriteString(s)
		}
		return b.String(), nil
	}
}

func stringToArray(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
	if a[0] == nil {
		return nil, nil
	}
	s := a[0].(string)
	r := &types.Array{Elem: tText, Elems: []types.Datum{}}
	if s == "" {
		return r, nil
	}
	var parts []string
	switch {
	case a[1] == nil:
		for _, c := range s {
			parts = append(parts, string(c))
		}
	case a[1].(string) == "":
		parts = []string{s}
	default:
		parts = strings.Split(s, a[1].(string))
	}
	for _, p := range parts {
		if len(a) == 3 && a[2] != nil && p == a[2].(string) {
			r.Elems = append(r.Elems, nil)
		} else {
			r.Elems = append(r.Elems, p)
		}
	}
	return r, nil
}
