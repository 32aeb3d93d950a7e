package types

import (
	"errors"
	"math"
	"strconv"
	"strings"

	"github.com/cockroachdb/apd/v3"
	"github.com/strand-db/strand/sql/pgerr"
)

// ErrCannotCast is returned (wrapped in a 42846 error) when no cast
// exists between two types; test with errors.Is.
var ErrCannotCast = errors.New("cannot cast")

func cannotCast(from, to T) error {
	e := pgerr.New(pgerr.CannotCoerce, "cannot cast type %s to %s", from, to)
	e.Cause = ErrCannotCast
	return e
}

// Cast converts d from type from to type to as an explicit cast
// (CAST(x AS t), x::t) does in PostgreSQL: varchar(n) and char(n)
// truncate, numerics round to the target's scale, text goes through the
// types' input and output functions.
func Cast(d Datum, from, to T, set *Settings) (Datum, error) {
	return cast(d, from, to, set, true)
}

// AssignCast converts as an assignment (INSERT, UPDATE) does: like Cast,
// except that a string too long for varchar(n)/char(n) is an error (22001)
// unless the excess is spaces.
func AssignCast(d Datum, from, to T, set *Settings) (Datum, error) {
	return cast(d, from, to, set, false)
}

func isTextLike(o OID) bool {
	return o == TextOID || o == VarcharOID || o == BpcharOID || o == NameOID || o == UnknownOID
}

func cast(d Datum, from, to T, set *Settings, explicit bool) (Datum, error) {
	if d == nil {
		return nil, nil
	}
	if set == nil {
		set = defaultSettings
	}
	// Arrays: element by element, or through text.
	if from.IsArray() && to.IsArray() {
		a := d.(*Array)
		out := &Array{Elem: to.ElemType(), Elems: make([]Datum, len(a.Elems))}
		for i, e := range a.Elems {
			v, err := cast(e, from.ElemType(), to.ElemType(), set, explicit)
			if err != nil {
				return nil, err
			}
			out.Elems[i] = v
		}
		return out, nil
	}
	if isTextLike(to.OID) {
		var s string
		switch {
		case from.OID == BoolOID:
			s = "false"
			if d.(bool) {
				s = "true"
			}
		case from.OID == BpcharOID:
			s = strings.TrimRight(d.(string), " ")
			if to.OID == BpcharOID {
				s = d.(string)
			}
		case isTextLike(from.OID):
			s = d.(string)
		default:
			s = string(AppendText(nil, from, d, set))
		}
		switch to.OID {
		case NameOID:
			return truncateName(s), nil
		case VarcharOID, BpcharOID:
			return applyCharTypmod(s, to, explicit)
		}
		return s, nil
	}
	if isTextLike(from.OID) && to.IsArray() && explicit && to.Typmod >= 0 {
		// array_in without the modifier, then the explicit element cast.
		bare := T{OID: to.OID, Typmod: -1}
		v, err := ParseText(bare, d.(string), set)
		if err != nil {
			return nil, err
		}
		return cast(v, bare, to, set, true)
	}
	if isTextLike(from.OID) {
		s := d.(string)
		if from.OID == BpcharOID {
			s = strings.TrimRight(s, " ")
		}
		return ParseText(to, s, set)
	}
	if from.IsArray() || to.IsArray() {
		return nil, cannotCast(from, to)
	}
	switch to.OID {
	case Int2OID, Int4OID, Int8OID:
		return castToInt(d, from, to)
	case OIDOID:
		switch from.OID {
		case OIDOID:
			return d, nil
		case Int4OID:
			return int64(uint32(d.(int64))), nil
		case Int8OID:
			v := d.(int64)
			if v < 0 || v > math.MaxUint32 {
				return nil, pgerr.New(pgerr.NumericValueOutOfRange, "OID out of range")
			}
			return v, nil
		}
	case Float4OID, Float8OID:
		return castToFloat(d, from, to)
	case NumericOID:
		var n *apd.Decimal
		switch from.OID {
		case Int2OID, Int4OID, Int8OID:
			n = apd.New(d.(int64), 0)
		case Float4OID, Float8OID:
			f := d.(float64)
			switch {
			case math.IsNaN(f):
				n = &apd.Decimal{Form: apd.NaN}
			case math.IsInf(f, 0):
				n = &apd.Decimal{Form: apd.Infinite, Negative: f < 0}
			default:
				prec := 15
				if from.OID == Float4OID {
					prec = 6
				}
				var err error
				if n, err = parseNumeric(strconv.FormatFloat(f, 'g', prec, 64)); err != nil {
					return nil, err
				}
			}
		case NumericOID:
			n = d.(*apd.Decimal)
		case JSONBOID:
			v, err := jsonbScalar(d, "numeric", jsonNumber)
			if err != nil {
				return nil, err
			}
			if n, err = parseNumeric(v.str); err != nil {
				return nil, err
			}
		default:
			return nil, cannotCast(from, to)
		}
		return applyNumericTypmod(n, to.Typmod)
	case BoolOID:
		switch from.OID {
		case BoolOID:
			return d, nil
		case Int4OID:
			return d.(int64) != 0, nil
		case JSONBOID:
			v, err := jsonbScalar(d, "boolean", jsonBool)
			if err != nil {
				return nil, err
			}
			return v.str == "true", nil
		}
	case DateOID:
		switch from.OID {
		case DateOID:
			return d, nil
		case TimestampOID:
			return timestampToDate(int64(d.(Timestamp)))
		case TimestampTZOID:
			t := int64(d.(TimestampTZ))
			if t == math.MinInt64 || t == math.MaxInt64 {
				return timestampToDate(t)
			}
			return timestampToDate(t + int64(zoneOffset(set.loc(), floorDivSec(t)))*usecsPerSec)
		}
	case TimestampOID, TimestampTZOID:
		var local int64
		var utc bool
		switch from.OID {
		case DateOID:
			dd := d.(Date)
			switch dd {
			case DateInfinity:
				local = math.MaxInt64
			case DateNegInfinity:
				local = math.MinInt64
			default:
				local = int64(dd) * usecsPerDay
				if local >= endTimestamp {
					return nil, pgerr.New(pgerr.DatetimeFieldOverflow, "date out of range for timestamp")
				}
			}
		case TimestampOID:
			local = int64(d.(Timestamp))
		case TimestampTZOID:
			local, utc = int64(d.(TimestampTZ)), true
		default:
			return nil, cannotCast(from, to)
		}
		finite := local != math.MinInt64 && local != math.MaxInt64
		r := local
		if finite && utc && to.OID == TimestampOID {
			r = local + int64(zoneOffset(set.loc(), floorDivSec(local)))*usecsPerSec
		} else if finite && !utc && to.OID == TimestampTZOID {
			r = local - int64(localOffset(set.loc(), floorDivSec(local)))*usecsPerSec
		}
		if finite {
			var ok bool
			if r, ok = roundTimestamp(r, to.Typmod); !ok || r < minTimestamp || r >= endTimestamp {
				return nil, pgerr.New(pgerr.DatetimeFieldOverflow, "timestamp out of range")
			}
		}
		if to.OID == TimestampOID {
			return Timestamp(r), nil
		}
		return TimestampTZ(r), nil
	case TimeOID:
		var us int64
		switch from.OID {
		case TimeOID:
			us = int64(d.(TimeOfDay))
		case TimestampOID:
			t := int64(d.(Timestamp))
			if t == math.MinInt64 || t == math.MaxInt64 {
				return nil, nil
			}
			_, us = floorDiv(t, usecsPerDay)
		case TimestampTZOID:
			t := int64(d.(TimestampTZ))
			if t == math.MinInt64 || t == math.MaxInt64 {
				return nil, nil
			}
			_, us = floorDiv(t+int64(zoneOffset(set.loc(), floorDivSec(t)))*usecsPerSec, usecsPerDay)
		case IntervalOID:
			_, us = floorDiv(d.(Interval).Micros, usecsPerDay)
		default:
			return nil, cannotCast(from, to)
		}
		return TimeOfDay(roundTime(us, to.Typmod)), nil
	case IntervalOID:
		switch from.OID {
		case IntervalOID:
			return roundInterval(d.(Interval), to.Typmod), nil
		case TimeOID:
			return roundInterval(Interval{Micros: int64(d.(TimeOfDay))}, to.Typmod), nil
		}
	case JSONOID:
		switch from.OID {
		case JSONOID:
			return d, nil
		case JSONBOID:
			return JSON(d.(JSONB)), nil
		}
	case JSONBOID:
		switch from.OID {
		case JSONBOID:
			return d, nil
		case JSONOID:
			return parseJSONB(string(d.(JSON)))
		}
	case ByteaOID, UUIDOID:
		if from.OID == to.OID {
			return d, nil
		}
	}
	return nil, cannotCast(from, to)
}

func timestampToDate(t int64) (Datum, error) {
	switch t {
	case math.MinInt64:
		return DateNegInfinity, nil
	case math.MaxInt64:
		return DateInfinity, nil
	}
	days, _ := floorDiv(t, usecsPerDay)
	return Date(days), nil
}

func intTypeName(o OID) string {
	switch o {
	case Int2OID:
		return "smallint"
	case Int4OID:
		return "integer"
	}
	return "bigint"
}

func intRange(o OID) (int64, int64) {
	switch o {
	case Int2OID:
		return math.MinInt16, math.MaxInt16
	case Int4OID:
		return math.MinInt32, math.MaxInt32
	}
	return math.MinInt64, math.MaxInt64
}

func castToInt(d Datum, from, to T) (Datum, error) {
	lo, hi := intRange(to.OID)
	// Made only when a value is out of range: a cast in a hot loop (a view's
	// filter, a projection) would otherwise format an error per value.
	outOfRange := func() error { return pgerr.New(pgerr.NumericValueOutOfRange, "%s out of range", intTypeName(to.OID)) }
	switch from.OID {
	case Int2OID, Int4OID, Int8OID, OIDOID:
		v := d.(int64)
		if v < lo || v > hi {
			return nil, outOfRange()
		}
		return v, nil
	case BoolOID:
		if to.OID != Int4OID {
			return nil, cannotCast(from, to)
		}
		if d.(bool) {
			return int64(1), nil
		}
		return int64(0), nil
	case Float4OID, Float8OID:
		f := math.RoundToEven(d.(float64))
		// The float range check is PostgreSQL's FLOAT8_FITS_IN_INTxx.
		if math.IsNaN(f) || f < float64(lo) || f >= -float64(lo) {
			return nil, outOfRange()
		}
		return int64(f), nil
	case NumericOID, JSONBOID:
		n, ok := d.(*apd.Decimal)
		if !ok {
			v, err := jsonbScalar(d, intTypeName(to.OID), jsonNumber)
			if err != nil {
				return nil, err
			}
			if n, err = parseNumeric(v.str); err != nil {
				return nil, err
			}
		}
		switch n.Form {
		case apd.NaN, apd.NaNSignaling:
			return nil, pgerr.New(pgerr.FeatureNotSupported, "cannot convert NaN to %s", intTypeName(to.OID))
		case apd.Infinite:
			return nil, pgerr.New(pgerr.FeatureNotSupported, "cannot convert infinity to %s", intTypeName(to.OID))
		}
		digits, exp := numericDigits(n)
		digits = roundDigits(digits, exp, 0)
		if len(digits) > 19 {
			return nil, outOfRange()
		}
		u, err := strconv.ParseUint("0"+string(digits), 10, 64)
		if err != nil {
			return nil, outOfRange()
		}
		var v int64
		if n.Negative {
			if u > 1<<63 {
				return nil, outOfRange()
			}
			v = -int64(u)
		} else {
			if u > math.MaxInt64 {
				return nil, outOfRange()
			}
			v = int64(u)
		}
		if v < lo || v > hi {
			return nil, outOfRange()
		}
		return v, nil
	}
	return nil, cannotCast(from, to)
}

func castToFloat(d Datum, from, to T) (Datum, error) {
	var f float64
	switch from.OID {
	case Int2OID, Int4OID, Int8OID:
		f = float64(d.(int64))
	case Float4OID, Float8OID:
		f = d.(float64)
	case NumericOID:
		n := d.(*apd.Decimal)
		switch n.Form {
		case apd.NaN, apd.NaNSignaling:
			f = math.NaN()
		case apd.Infinite:
			f = math.Inf(1)
			if n.Negative {
				f = math.Inf(-1)
			}
		default:
			bits := 64
			if to.OID == Float4OID {
				bits = 32
			}
			return parseFloat(string(appendNumeric(nil, n)), bits)
		}
	case JSONBOID:
		v, err := jsonbScalar(d, to.String(), jsonNumber)
		if err != nil {
			return nil, err
		}
		bits := 64
		if to.OID == Float4OID {
			bits = 32
		}
		return parseFloat(v.str, bits)
	default:
		return nil, cannotCast(from, to)
	}
	if to.OID == Float4OID {
		g := float64(float32(f))
		if math.IsInf(g, 0) && !math.IsInf(f, 0) {
			return nil, pgerr.New(pgerr.NumericValueOutOfRange, "value out of range: overflow")
		}
		if g == 0 && f != 0 {
			return nil, pgerr.New(pgerr.NumericValueOutOfRange, "value out of range: underflow")
		}
		return g, nil
	}
	return f, nil
}

var jsonKindNames = map[jsonKind]string{
	jsonNull: "null", jsonString: "string", jsonNumber: "numeric", jsonBool: "boolean", jsonArray: "array", jsonObject: "object",
}

func jsonbScalar(d Datum, typ string, want jsonKind) (jsonValue, error) {
	v, err := parseJSONValue(string(d.(JSONB)))
	if err != nil {
		return v, err
	}
	if v.kind != want {
		return v, pgerr.New(pgerr.InvalidParameterValue, "cannot cast jsonb %s to type %s", jsonKindNames[v.kind], typ)
	}
	return v, nil
}
