package exec

import (
	"sort"
	"strings"

	"github.com/strand-db/strand/sql/types"
)

// Builtins maps a lower-case function or operator name to its overloads.
// Operators are registered under their symbol ("+", "=", "||").
var builtins = map[string][]*Func{}

func register(fs ...*Func) {
	for _, f := range fs {
		key := f.Name
		if f.Op != "" {
			key = f.Op
		}
		builtins[key] = append(builtins[key], f)
	}
}

// Overloads returns the overloads of a function or operator.
func Overloads(name string) []*Func {
	return builtins[strings.ToLower(name)]
}

// FunctionNames lists every registered function (not operators), sorted.
func FunctionNames() []string {
	var out []string
	for k, fs := range builtins {
		if fs[0].Op == "" {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func t(oid types.OID) types.T { return types.Make(oid) }

var (
	tBool        = t(types.BoolOID)
	tInt2        = t(types.Int2OID)
	tInt4        = t(types.Int4OID)
	tInt8        = t(types.Int8OID)
	tFloat4      = t(types.Float4OID)
	tFloat8      = t(types.Float8OID)
	tNumeric     = t(types.NumericOID)
	tText        = t(types.TextOID)
	tBytea       = t(types.ByteaOID)
	tDate        = t(types.DateOID)
	tTime        = t(types.TimeOID)
	tTimestamp   = t(types.TimestampOID)
	tTimestampTZ = t(types.TimestampTZOID)
	tInterval    = t(types.IntervalOID)
	tJSONB       = t(types.JSONBOID)
	tJSON        = t(types.JSONOID)
	tUUID        = t(types.UUIDOID)
)

// Category is a type's category, as pg_type.typcategory, used to resolve
// overloads the way PostgreSQL does.
func Category(oid types.OID) byte {
	switch oid {
	case types.BoolOID:
		return 'B'
	case types.Int2OID, types.Int4OID, types.Int8OID, types.Float4OID, types.Float8OID, types.NumericOID, types.OIDOID:
		return 'N'
	case types.TextOID, types.VarcharOID, types.BpcharOID, types.NameOID:
		return 'S'
	case types.DateOID, types.TimeOID, types.TimestampOID, types.TimestampTZOID:
		return 'D'
	case types.IntervalOID:
		return 'T'
	case types.UnknownOID:
		return 'X'
	}
	if types.Make(oid).IsArray() {
		return 'A'
	}
	return 'U'
}

// Preferred reports whether oid is its category's preferred type.
func Preferred(oid types.OID) bool {
	switch oid {
	case types.Float8OID, types.TextOID, types.TimestampTZOID, types.IntervalOID, types.BoolOID:
		return true
	}
	return false
}

// ImplicitCast reports whether PostgreSQL coerces from to to implicitly
// (pg_cast with castcontext 'i'), or they are the same type.
func ImplicitCast(from, to types.OID) bool {
	if from == to || from == types.UnknownOID {
		return true
	}
	switch from {
	case types.Int2OID:
		return to == types.Int4OID || to == types.Int8OID || to == types.Float4OID || to == types.Float8OID || to == types.NumericOID || to == types.OIDOID
	case types.Int4OID:
		return to == types.Int8OID || to == types.Float4OID || to == types.Float8OID || to == types.NumericOID || to == types.OIDOID
	case types.Int8OID:
		return to == types.Float4OID || to == types.Float8OID || to == types.NumericOID || to == types.OIDOID
	case types.Float4OID:
		return to == types.Float8OID
	case types.NumericOID:
		return to == types.Float4OID || to == types.Float8OID
	case types.BpcharOID, types.VarcharOID, types.NameOID:
		return to == types.TextOID || to == types.VarcharOID || to == types.BpcharOID
	case types.TextOID:
		return to == types.VarcharOID || to == types.BpcharOID || to == types.NameOID
	case types.DateOID:
		return to == types.TimestampOID || to == types.TimestampTZOID
	case types.TimestampOID:
		return to == types.TimestampTZOID
	case types.TimeOID:
		return to == types.IntervalOID
	}
	return false
}

// numericRank orders the numeric tower for the common type of arithmetic
// and comparisons.
func numericRank(oid types.OID) int {
	switch oid {
	case types.Int2OID:
		return 1
	case types.Int4OID:
		return 2
	case types.Int8OID:
		return 3
	case types.NumericOID:
		return 4
	case types.Float4OID:
		return 5
	case types.Float8OID:
		return 6
	}
	return 0
}

// CommonType is the type two values are compared or combined in, following
// PostgreSQL's cross-type operators (int4 + int8 is int8, numeric = float8
// is float8, date < timestamptz is timestamptz). ok is false when there is
// none.
func CommonType(a, b types.T) (types.T, bool) {
	if a.OID == types.UnknownOID && b.OID == types.UnknownOID {
		return tText, true
	}
	if a.OID == types.UnknownOID {
		return b, true
	}
	if b.OID == types.UnknownOID {
		return a, true
	}
	if a.OID == b.OID {
		if a.Typmod == b.Typmod {
			return a, true
		}
		return types.Make(a.OID), true
	}
	ra, rb := numericRank(a.OID), numericRank(b.OID)
	if ra > 0 && rb > 0 {
		if ra > rb {
			return types.Make(a.OID), true
		}
		return types.Make(b.OID), true
	}
	if Category(a.OID) == 'S' && Category(b.OID) == 'S' {
		return tText, true
	}
	if ImplicitCast(a.OID, b.OID) {
		return types.Make(b.OID), true
	}
	if ImplicitCast(b.OID, a.OID) {
		return types.Make(a.OID), true
	}
	return types.T{}, false
}

// CanCast reports whether an explicit cast from one type to another exists
// (pg_cast, plus the I/O conversions every type has to and from text).
func CanCast(from, to types.OID) bool {
	if from == to || from == types.UnknownOID {
		return true
	}
	cf, ct := Category(from), Category(to)
	switch {
	case cf == 'S' || ct == 'S':
		return true
	case cf == 'N' && ct == 'N':
		return true
	case (from == types.BoolOID && to == types.Int4OID) || (from == types.Int4OID && to == types.BoolOID):
		return true
	case cf == 'D' && ct == 'D':
		return !(from == types.TimeOID || to == types.TimeOID) || from == types.TimestampOID || from == types.TimestampTZOID
	case (from == types.TimeOID && to == types.IntervalOID) || (from == types.IntervalOID && to == types.TimeOID):
		return true
	case (from == types.JSONOID || from == types.JSONBOID) && (to == types.JSONOID || to == types.JSONBOID):
		return true
	case cf == 'A' && ct == 'A':
		return CanCast(types.Make(from).ElemType().OID, types.Make(to).ElemType().OID)
	}
	return false
}
