package exec

import (
	"math"
	"strconv"
	"time"

	"github.com/cockroachdb/apd/v3"

	"github.com/strand-db/strand/sql/pgerr"
	"github.com/strand-db/strand/sql/types"
)

// Date and time arithmetic and functions. Timestamps are split into
// broken-down fields (tm) the way PostgreSQL's timestamp2tm does, fields
// are adjusted, and tm2timestamp puts them back. timestamptz values are
// broken down in the session time zone (env.Settings.Location); putting a
// wall-clock time back resolves DST gaps and overlaps as PostgreSQL's
// DetermineTimeZoneOffset does.

const (
	usPerSec   = int64(1000000)
	usPerMin   = 60 * usPerSec
	usPerHour  = 60 * usPerMin
	usPerDay   = 24 * usPerHour
	pgEpochJ   = 2451545
	unixEpochJ = 2440588
	// unixToPG is seconds from 1970-01-01 to 2000-01-01.
	unixToPG = int64(pgEpochJ-unixEpochJ) * 86400

	minTimestamp = int64(-211813488000000000) // 4714-11-24 00:00:00 BC
	endTimestamp = int64(9223371331200000000) // 294277-01-01 00:00:00
	minDateJ     = 0
	endDateJ     = 2147483494
)

var (
	oDate   = types.DateOID
	oTime   = types.TimeOID
	oTS     = types.TimestampOID
	oTSTZ   = types.TimestampTZOID
	oIntv   = types.IntervalOID
	oFloat4 = types.Float4OID
)

func errTimestampRange() error {
	return pgerr.New(pgerr.DatetimeFieldOverflow, "timestamp out of range")
}
func errDateRange() error { return pgerr.New(pgerr.DatetimeFieldOverflow, "date out of range") }
func errIntervalRange() error {
	return pgerr.New(pgerr.DatetimeFieldOverflow, "interval out of range")
}

// tm is a broken-down timestamp: astronomical year (0 is 1 BC).
type tm struct {
	year, mon, mday, hour, min, sec int
	usec                            int64
}

func j2date(j int) (int, int, int) { return types.Date(j - pgEpochJ).YMD() }
func date2j(y, m, d int) int       { return int(types.MakeDate(y, m, d)) + pgEpochJ }

func daysIn(y, m int) int { return types.DaysInMonth(y, m) }

func splitTS(us int64) tm {
	days, tod := types.FloorDiv(us, usPerDay)
	var t tm
	t.year, t.mon, t.mday = j2date(int(days) + pgEpochJ)
	t.hour = int(tod / usPerHour)
	tod -= int64(t.hour) * usPerHour
	t.min = int(tod / usPerMin)
	tod -= int64(t.min) * usPerMin
	t.sec = int(tod / usPerSec)
	t.usec = tod % usPerSec
	return t
}

// joinTS is tm2timestamp; ok is false out of the timestamp range.
func joinTS(t tm) (int64, bool) {
	if t.year < -4713 || t.year > 294277 {
		return 0, false
	}
	d := int64(date2j(t.year, t.mon, t.mday) - pgEpochJ)
	tod := (int64(t.hour)*60+int64(t.min))*60*usPerSec + int64(t.sec)*usPerSec + t.usec
	us := d*usPerDay + tod
	if us < minTimestamp || us >= endTimestamp {
		return 0, false
	}
	return us, true
}

func sessionLoc(env *Env) *time.Location {
	if env == nil || env.Settings == nil || env.Settings.Location == nil {
		return time.UTC
	}
	return env.Settings.Location
}

func floorSec(us int64) int64 { s, _ := types.FloorDiv(us, usPerSec); return s }

// toLocal is a timestamptz as wall-clock microseconds in loc, with the
// offset used (seconds east).
func toLocal(loc *time.Location, t int64) (int64, int) {
	off := types.ZoneOffset(loc, floorSec(t)+unixToPG)
	return t + int64(off)*usPerSec, off
}

// fromLocal puts a wall-clock time in loc back to a timestamptz.
func fromLocal(loc *time.Location, local int64) int64 {
	off := types.LocalOffset(loc, floorSec(local)+unixToPG)
	return local - int64(off)*usPerSec
}

func init() {
	dt := func(name, op string, args []types.OID, ret types.T, f impl) *Func {
		return &Func{Name: name, Op: op, Args: args, Ret: ret, Strict: true, Impl: f}
	}
	register(
		dt("date_pli", "+", oids(oDate, oInt4), tDate, datePlusDays(1)),
		dt("integer_pl_date", "+", oids(oInt4, oDate), tDate, func(e *Env, c *Call, a []types.Datum) (types.Datum, error) {
			return datePlusDays(1)(e, c, []types.Datum{a[1], a[0]})
		}),
		dt("date_mii", "-", oids(oDate, oInt4), tDate, datePlusDays(-1)),
		dt("date_mi", "-", oids(oDate, oDate), tInt4, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			x, y := a[0].(types.Date), a[1].(types.Date)
			if !dateFinite(x) || !dateFinite(y) {
				return nil, pgerr.New(pgerr.DatetimeFieldOverflow, "cannot subtract infinite dates")
			}
			return int64(x) - int64(y), nil
		}),
		dt("date_pl_interval", "+", oids(oDate, oIntv), tTimestamp, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return tsPlusInterval(dateToTS(a[0].(types.Date)), a[1].(types.Interval), 1)
		}),
		dt("interval_pl_date", "+", oids(oIntv, oDate), tTimestamp, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return tsPlusInterval(dateToTS(a[1].(types.Date)), a[0].(types.Interval), 1)
		}),
		dt("date_mi_interval", "-", oids(oDate, oIntv), tTimestamp, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return tsPlusInterval(dateToTS(a[0].(types.Date)), a[1].(types.Interval), -1)
		}),
		dt("datetime_pl", "+", oids(oDate, oTime), tTimestamp, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return dateTime(a[0].(types.Date), a[1].(types.TimeOfDay))
		}),
		dt("timedate_pl", "+", oids(oTime, oDate), tTimestamp, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return dateTime(a[1].(types.Date), a[0].(types.TimeOfDay))
		}),
		dt("timestamp_pl_interval", "+", oids(oTS, oIntv), tTimestamp, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return tsPlusInterval(a[0].(types.Timestamp), a[1].(types.Interval), 1)
		}),
		dt("interval_pl_timestamp", "+", oids(oIntv, oTS), tTimestamp, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return tsPlusInterval(a[1].(types.Timestamp), a[0].(types.Interval), 1)
		}),
		dt("timestamp_mi_interval", "-", oids(oTS, oIntv), tTimestamp, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return tsPlusInterval(a[0].(types.Timestamp), a[1].(types.Interval), -1)
		}),
		dt("timestamptz_pl_interval", "+", oids(oTSTZ, oIntv), tTimestampTZ, func(e *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return tstzPlusInterval(sessionLoc(e), a[0].(types.TimestampTZ), a[1].(types.Interval), 1)
		}),
		dt("interval_pl_timestamptz", "+", oids(oIntv, oTSTZ), tTimestampTZ, func(e *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return tstzPlusInterval(sessionLoc(e), a[1].(types.TimestampTZ), a[0].(types.Interval), 1)
		}),
		dt("timestamptz_mi_interval", "-", oids(oTSTZ, oIntv), tTimestampTZ, func(e *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return tstzPlusInterval(sessionLoc(e), a[0].(types.TimestampTZ), a[1].(types.Interval), -1)
		}),
		dt("timestamp_mi", "-", oids(oTS, oTS), tInterval, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return tsMinus(int64(a[0].(types.Timestamp)), int64(a[1].(types.Timestamp)))
		}),
		dt("timestamptz_mi", "-", oids(oTSTZ, oTSTZ), tInterval, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return tsMinus(int64(a[0].(types.TimestampTZ)), int64(a[1].(types.TimestampTZ)))
		}),
		dt("interval_pl", "+", oids(oIntv, oIntv), tInterval, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return intervalAdd(a[0].(types.Interval), a[1].(types.Interval), 1)
		}),
		dt("interval_mi", "-", oids(oIntv, oIntv), tInterval, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return intervalAdd(a[0].(types.Interval), a[1].(types.Interval), -1)
		}),
		dt("interval_um", "-", oids(oIntv), tInterval, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return intervalAdd(types.Interval{}, a[0].(types.Interval), -1)
		}),
		dt("interval_up", "+", oids(oIntv), tInterval, identity),
		dt("interval_mul", "*", oids(oIntv, oFloat8), tInterval, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return intervalMul(a[0].(types.Interval), a[1].(float64), false)
		}),
		dt("mul_d_interval", "*", oids(oFloat8, oIntv), tInterval, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return intervalMul(a[1].(types.Interval), a[0].(float64), false)
		}),
		dt("interval_div", "/", oids(oIntv, oFloat8), tInterval, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return intervalMul(a[0].(types.Interval), a[1].(float64), true)
		}),
		dt("time_pl_interval", "+", oids(oTime, oIntv), tTime, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return timePlus(a[0].(types.TimeOfDay), a[1].(types.Interval).Micros), nil
		}),
		dt("interval_pl_time", "+", oids(oIntv, oTime), tTime, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return timePlus(a[1].(types.TimeOfDay), a[0].(types.Interval).Micros), nil
		}),
		dt("time_mi_interval", "-", oids(oTime, oIntv), tTime, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return timePlus(a[0].(types.TimeOfDay), -a[1].(types.Interval).Micros), nil
		}),
		dt("time_mi_time", "-", oids(oTime, oTime), tInterval, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return types.Interval{Micros: int64(a[0].(types.TimeOfDay)) - int64(a[1].(types.TimeOfDay))}, nil
		}),
	)

	now := func(e *Env, _ *Call, _ []types.Datum) (types.Datum, error) {
		return types.TimestampFromTime(e.Now), nil
	}
	register(
		&Func{Name: "now", Ret: tTimestampTZ, Stable: true, Impl: now},
		&Func{Name: "transaction_timestamp", Ret: tTimestampTZ, Stable: true, Impl: now},
		&Func{Name: "statement_timestamp", Ret: tTimestampTZ, Stable: true, Impl: now},
		&Func{Name: "clock_timestamp", Ret: tTimestampTZ, Volatile: true, Impl: func(*Env, *Call, []types.Datum) (types.Datum, error) {
			return types.TimestampFromTime(time.Now()), nil
		}},
		fn("date_trunc", oids(oText, oTS), tTimestamp, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return truncTimestamp(a[0].(string), int64(a[1].(types.Timestamp)), nil)
		}),
		fn("date_trunc", oids(oText, oTSTZ), tTimestampTZ, func(e *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return truncTimestamp(a[0].(string), int64(a[1].(types.TimestampTZ)), sessionLoc(e))
		}),
		fn("date_trunc", oids(oText, oTSTZ, oText), tTimestampTZ, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			loc, err := namedZone(a[2].(string))
			if err != nil {
				return nil, err
			}
			return truncTimestamp(a[0].(string), int64(a[1].(types.TimestampTZ)), loc)
		}),
		fn("date_trunc", oids(oText, oIntv), tInterval, truncInterval),
		// a AT TIME ZONE z: the wall-clock time in z of an instant, or
		// the instant of a wall-clock time in z.
		fn("timezone", oids(oText, oTSTZ), tTimestamp, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			loc, err := namedZone(a[0].(string))
			if err != nil {
				return nil, err
			}
			local, _ := toLocal(loc, int64(a[1].(types.TimestampTZ)))
			return types.Timestamp(local), nil
		}),
		fn("timezone", oids(oText, oTS), tTimestampTZ, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			loc, err := namedZone(a[0].(string))
			if err != nil {
				return nil, err
			}
			return types.TimestampTZ(fromLocal(loc, int64(a[1].(types.Timestamp)))), nil
		}),
		fn("age", oids(oTS, oTS), tInterval, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return age(int64(a[0].(types.Timestamp)), int64(a[1].(types.Timestamp)), nil)
		}),
		fn("age", oids(oTSTZ, oTSTZ), tInterval, func(e *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return age(int64(a[0].(types.TimestampTZ)), int64(a[1].(types.TimestampTZ)), sessionLoc(e))
		}),
		stable(fn("age", oids(oTS), tInterval, func(e *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			local, _ := toLocal(sessionLoc(e), int64(types.TimestampFromTime(e.Now)))
			day, _ := types.FloorDiv(local, usPerDay)
			return age(day*usPerDay, int64(a[0].(types.Timestamp)), nil)
		})),
		stable(fn("age", oids(oTSTZ), tInterval, func(e *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			loc := sessionLoc(e)
			local, _ := toLocal(loc, int64(types.TimestampFromTime(e.Now)))
			day, _ := types.FloorDiv(local, usPerDay)
			return age(fromLocal(loc, day*usPerDay), int64(a[0].(types.TimestampTZ)), loc)
		})),
		fn("make_date", oids(oInt4, oInt4, oInt4), tDate, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return makeDate(a[0].(int64), a[1].(int64), a[2].(int64))
		}),
		fn("make_time", oids(oInt4, oInt4, oFloat8), tTime, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			h, m, s := a[0].(int64), a[1].(int64), a[2].(float64)
			us, ok := makeTOD(h, m, s)
			if !ok {
				return nil, pgerr.New(pgerr.DatetimeFieldOverflow, "time field value out of range: %d:%02d:%v", h, m, s)
			}
			return types.TimeOfDay(us), nil
		}),
		fn("make_timestamp", oids(oInt4, oInt4, oInt4, oInt4, oInt4, oFloat8), tTimestamp, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			us, err := makeTimestamp(a)
			if err != nil {
				return nil, err
			}
			return types.Timestamp(us), nil
		}),
		fn("make_timestamptz", oids(oInt4, oInt4, oInt4, oInt4, oInt4, oFloat8), tTimestampTZ, func(e *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			us, err := makeTimestamp(a)
			if err != nil {
				return nil, err
			}
			return types.TimestampTZ(fromLocal(sessionLoc(e), us)), nil
		}),
		fn("justify_days", oids(oIntv), tInterval, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return justifyDays(a[0].(types.Interval))
		}),
		fn("justify_hours", oids(oIntv), tInterval, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return justifyHours(a[0].(types.Interval))
		}),
		fn("justify_interval", oids(oIntv), tInterval, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return justifyInterval(a[0].(types.Interval))
		}),
		fn("date_bin", oids(oIntv, oTS, oTS), tTimestamp, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			r, err := dateBin(a[0].(types.Interval), int64(a[1].(types.Timestamp)), int64(a[2].(types.Timestamp)))
			return types.Timestamp(r), err
		}),
		fn("date_bin", oids(oIntv, oTSTZ, oTSTZ), tTimestampTZ, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			r, err := dateBin(a[0].(types.Interval), int64(a[1].(types.TimestampTZ)), int64(a[2].(types.TimestampTZ)))
			return types.TimestampTZ(r), err
		}),
		fn("isfinite", oids(oDate), tBool, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return dateFinite(a[0].(types.Date)), nil
		}),
		fn("isfinite", oids(oTS), tBool, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return tsFinite(int64(a[0].(types.Timestamp))), nil
		}),
		fn("isfinite", oids(oTSTZ), tBool, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return tsFinite(int64(a[0].(types.TimestampTZ))), nil
		}),
		fn("isfinite", oids(oIntv), tBool, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) { return true, nil }),
		fn("to_timestamp", oids(oFloat8), tTimestampTZ, func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
			return toTimestampFloat(a[0].(float64))
		}),
	)
	// make_interval(years, months, weeks, days, hours, mins, secs), every
	// argument defaulting to zero.
	miArgs := oids(oInt4, oInt4, oInt4, oInt4, oInt4, oInt4, oFloat8)
	for n := 0; n <= len(miArgs); n++ {
		register(fn("make_interval", miArgs[:n], tInterval, makeInterval))
	}
	// date_part returns float8; EXTRACT (pg_extract) numeric.
	for _, oid := range []types.OID{oTS, oTSTZ, oDate, oTime, oIntv} {
		oid := oid
		register(
			fn("date_part", oids(oText, oid), tFloat8, func(e *Env, _ *Call, a []types.Datum) (types.Datum, error) {
				v := a[1]
				typ := oid
				if oid == oDate {
					// date_part(text, date) is date_part on the timestamp.
					v, typ = dateToTS(v.(types.Date)), oTS
				}
				d, err := extract(e, a[0].(string), typ, v)
				if d == nil || err != nil {
					return nil, err
				}
				return numericToFloat(d), nil
			}),
			fn("pg_extract", oids(oText, oid), tNumeric, func(e *Env, _ *Call, a []types.Datum) (types.Datum, error) {
				d, err := extract(e, a[0].(string), oid, a[1])
				if d == nil || err != nil {
					return nil, err
				}
				return d, nil
			}),
		)
	}
}

func dateFinite(d types.Date) bool { return d != types.DateInfinity && d != types.DateNegInfinity }
func tsFinite(t int64) bool        { return t != math.MaxInt64 && t != math.MinInt64 }

func datePlusDays(sign int64) impl {
	return func(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
		d, n := a[0].(types.Date), a[1].(int64)
		if !dateFinite(d) {
			return d, nil
		}
		r := int64(d) + sign*n
		if r+pgEpochJ < minDateJ || r+pgEpochJ >= endDateJ || r < math.MinInt32 || r > math.MaxInt32 {
			return nil, errDateRange()
		}
		return types.Date(r), nil
	}
}

func dateToTS(d types.Date) types.Timestamp {
	switch d {
	case types.DateInfinity:
		return types.TimestampInfinity
	case types.DateNegInfinity:
		return types.TimestampNegInfinity
	}
	return types.Timestamp(int64(d) * usPerDay)
}

func dateTime(d types.Date, t types.TimeOfDay) (types.Datum, error) {
	ts := dateToTS(d)
	if !tsFinite(int64(ts)) {
		return ts, nil
	}
	r := int64(ts) + int64(t)
	if r >= endTimestamp {
		return nil, errTimestampRange()
	}
	return types.Timestamp(r), nil
}

// addMonthsDays is the calendar part of timestamp + interval on wall-clock
// microseconds: months first (clamping the day to the month's length),
// then days.
func addMonthsDays(us int64, months, days int64) (int64, bool) {
	if months != 0 {
		t := splitTS(us)
		m := int64(t.mon-1) + months
		y := int64(t.year) + m/12
		m %= 12
		if m < 0 {
			m += 12
			y--
		}
		if y < -4713 || y > 294277 {
			return 0, false
		}
		t.year, t.mon = int(y), int(m+1)
		t.mday = min(t.mday, daysIn(t.year, t.mon))
		var ok bool
		if us, ok = joinTS(t); !ok {
			return 0, false
		}
	}
	if days != 0 {
		t := splitTS(us)
		j := int64(date2j(t.year, t.mon, t.mday)) + days
		if j < minDateJ || j >= endDateJ {
			return 0, false
		}
		t.year, t.mon, t.mday = j2date(int(j))
		var ok bool
		if us, ok = joinTS(t); !ok {
			return 0, false
		}
	}
	return us, true
}

func tsPlusInterval(ts types.Timestamp, iv types.Interval, sign int64) (types.Datum, error) {
	if !tsFinite(int64(ts)) {
		return ts, nil
	}
	us, ok := addMonthsDays(int64(ts), sign*int64(iv.Months), sign*int64(iv.Days))
	if !ok {
		return nil, errTimestampRange()
	}
	r := us + sign*iv.Micros
	if (sign*iv.Micros > 0) != (r > us) && iv.Micros != 0 || r < minTimestamp || r >= endTimestamp {
		return nil, errTimestampRange()
	}
	return types.Timestamp(r), nil
}

func tstzPlusInterval(loc *time.Location, ts types.TimestampTZ, iv types.Interval, sign int64) (types.Datum, error) {
	if !tsFinite(int64(ts)) {
		return ts, nil
	}
	us := int64(ts)
	if iv.Months != 0 || iv.Days != 0 {
		local, _ := toLocal(loc, us)
		var ok bool
		if local, ok = addMonthsDays(local, sign*int64(iv.Months), sign*int64(iv.Days)); !ok {
			return nil, errTimestampRange()
		}
		us = fromLocal(loc, local)
	}
	r := us + sign*iv.Micros
	if r < minTimestamp || r >= endTimestamp {
		return nil, errTimestampRange()
	}
	return types.TimestampTZ(r), nil
}

func tsMinus(a, b int64) (types.Datum, error) {
	if !tsFinite(a) || !tsFinite(b) {
		return nil, pgerr.New(pgerr.DatetimeFieldOverflow, "cannot subtract infinite timestamps")
	}
	return justifyHours(types.Interval{Micros: a - b})
}

func intervalAdd(x, y types.Interval, sign int64) (types.Datum, error) {
	m := int64(x.Months) + sign*int64(y.Months)
	d := int64(x.Days) + sign*int64(y.Days)
	if m < math.MinInt32 || m > math.MaxInt32 || d < math.MinInt32 || d > math.MaxInt32 {
		return nil, errIntervalRange()
	}
	us := x.Micros + sign*y.Micros
	if sign > 0 && (x.Micros >= 0) == (y.Micros >= 0) && (us >= 0) != (x.Micros >= 0) ||
		sign < 0 && (x.Micros >= 0) != (y.Micros >= 0) && (us >= 0) != (x.Micros >= 0) ||
		sign < 0 && y.Micros == math.MinInt64 {
		return nil, errIntervalRange()
	}
	return types.Interval{Months: int32(m), Days: int32(d), Micros: us}, nil
}

func tsRound(f float64) float64 { return math.RoundToEven(f*1e6) / 1e6 }

// intervalMul is interval_mul and interval_div: fractional months become
// days (30 to a month), fractional days become time.
func intervalMul(iv types.Interval, factor float64, div bool) (types.Datum, error) {
	op := func(v float64) float64 {
		if div {
			return v / factor
		}
		return v * factor
	}
	if div && factor == 0 {
		return nil, ErrDivisionByZero()
	}
	mf := op(float64(iv.Months))
	if math.IsNaN(mf) || mf > math.MaxInt32 || mf < math.MinInt32 {
		return nil, errIntervalRange()
	}
	df := op(float64(iv.Days))
	if math.IsNaN(df) || df > math.MaxInt32 || df < math.MinInt32 {
		return nil, errIntervalRange()
	}
	var r types.Interval
	r.Months = int32(mf)
	r.Days = int32(df)
	monthRemDays := tsRound((mf - float64(r.Months)) * 30)
	secRem := tsRound((df - float64(r.Days) + monthRemDays - float64(int32(monthRemDays))) * 86400)
	if math.Abs(secRem) >= 86400 {
		r.Days += int32(secRem / 86400)
		secRem -= float64(int32(secRem/86400)) * 86400
	}
	r.Days += int32(monthRemDays)
	t := math.RoundToEven(op(float64(iv.Micros)) + secRem*1e6)
	if math.IsNaN(t) || t >= 9223372036854775807 || t < -9223372036854775808 {
		return nil, errIntervalRange()
	}
	r.Micros = int64(t)
	return r, nil
}

func timePlus(t types.TimeOfDay, us int64) types.TimeOfDay {
	r := (int64(t) + us%usPerDay) % usPerDay
	if r < 0 {
		r += usPerDay
	}
	return types.TimeOfDay(r)
}

func justifyHours(iv types.Interval) (types.Interval, error) {
	r := iv
	wholeDays := r.Micros / usPerDay
	r.Micros -= wholeDays * usPerDay
	d := int64(r.Days) + wholeDays
	if d < math.MinInt32 || d > math.MaxInt32 {
		return r, errIntervalRange()
	}
	r.Days = int32(d)
	if r.Days > 0 && r.Micros < 0 {
		r.Micros += usPerDay
		r.Days--
	} else if r.Days < 0 && r.Micros > 0 {
		r.Micros -= usPerDay
		r.Days++
	}
	return r, nil
}

func justifyDays(iv types.Interval) (types.Interval, error) {
	r := iv
	wholeMonths := r.Days / 30
	r.Days -= wholeMonths * 30
	m := int64(r.Months) + int64(wholeMonths)
	if m < math.MinInt32 || m > math.MaxInt32 {
		return r, errIntervalRange()
	}
	r.Months = int32(m)
	if r.Months > 0 && r.Days < 0 {
		r.Days += 30
		r.Months--
	} else if r.Months < 0 && r.Days > 0 {
		r.Days -= 30
		r.Months++
	}
	return r, nil
}

// justifyInterval is PostgreSQL 15's interval_justify_interval, step by
// step: days to months first when that cannot change a sign, time to
// days, days to months, then the signs made to agree.
func justifyInterval(iv types.Interval) (types.Interval, error) {
	month, day, tm := int64(iv.Months), int64(iv.Days), iv.Micros
	if day > 0 && tm > 0 || day < 0 && tm < 0 {
		whole := day / 30
		day -= whole * 30
		month += whole
	}
	wholeDay := tm / usPerDay
	tm -= wholeDay * usPerDay
	day += wholeDay
	if day < math.MinInt32 || day > math.MaxInt32 {
		return iv, errIntervalRange()
	}
	whole := day / 30
	day -= whole * 30
	month += whole
	if month < math.MinInt32 || month > math.MaxInt32 {
		return iv, errIntervalRange()
	}
	if month > 0 && (day < 0 || day == 0 && tm < 0) {
		day += 30
		month--
	} else if month < 0 && (day > 0 || day == 0 && tm > 0) {
		day -= 30
		month++
	}
	if day > 0 && tm < 0 {
		tm += usPerDay
		day--
	} else if day < 0 && tm > 0 {
		tm -= usPerDay
		day++
	}
	return types.Interval{Months: int32(month), Days: int32(day), Micros: tm}, nil
}

// Units of date_trunc and EXTRACT, as DecodeUnits and DecodeSpecial read
// them (lower-cased, cut to 10 characters).
const (
	uMicro = iota + 1
	uMilli
	uSecond
	uMinute
	uHour
	uDay
	uWeek
	uMonth
	uQuarter
	uYear
	uDecade
	uCentury
	uMillennium
	uEpoch
	uDow
	uDoy
	uIsoDow
	uIsoYear
	uJulian
	uTZ
	uTZHour
	uTZMinute
)

var unitNames = map[string]int{
	"c": uCentury, "cent": uCentury, "centuries": uCentury, "century": uCentury,
	"d": uDay, "day": uDay, "days": uDay,
	"dec": uDecade, "decade": uDecade, "decades": uDecade, "decs": uDecade,
	"h": uHour, "hour": uHour, "hours": uHour, "hr": uHour, "hrs": uHour,
	"m": uMinute, "min": uMinute, "mins": uMinute, "minute": uMinute, "minutes": uMinute,
	"microsecon": uMicro, "us": uMicro, "usec": uMicro, "usecs": uMicro, "useconds": uMicro,
	"mil": uMillennium, "millennia": uMillennium, "millennium": uMillennium, "mils": uMillennium,
	"millisecon": uMilli, "ms": uMilli, "msec": uMilli, "msecs": uMilli, "mseconds": uMilli,
	"mon": uMonth, "mons": uMonth, "month": uMonth, "months": uMonth,
	"qtr": uQuarter, "quarter": uQuarter,
	"s": uSecond, "sec": uSecond, "second": uSecond, "seconds": uSecond, "secs": uSecond,
	"w": uWeek, "week": uWeek, "weeks": uWeek,
	"y": uYear, "year": uYear, "years": uYear, "yr": uYear, "yrs": uYear,
	"epoch": uEpoch, "dow": uDow, "doy": uDoy, "isodow": uIsoDow, "isoyear": uIsoYear,
	"julian": uJulian, "j": uJulian, "jd": uJulian,
	"timezone": uTZ, "timezone_h": uTZHour, "timezone_m": uTZMinute,
}

var unitDisplay = map[int]string{
	uMicro: "microseconds", uMilli: "milliseconds", uSecond: "second", uMinute: "minute", uHour: "hour",
	uDay: "day", uWeek: "week", uMonth: "month", uQuarter: "quarter", uYear: "year", uDecade: "decade",
	uCentury: "century", uMillennium: "millennium", uEpoch: "epoch", uDow: "dow", uDoy: "doy",
	uIsoDow: "isodow", uIsoYear: "isoyear", uJulian: "julian", uTZ: "timezone", uTZHour: "timezone_hour",
	uTZMinute: "timezone_minute",
}

func lookupUnit(s string) (int, string) {
	l := asciiLower(s)
	if len(l) > 10 {
		l = l[:10]
	}
	return unitNames[l], asciiLower(s)
}

// unitErr: a unit PostgreSQL knows but the type does not support is
// 0A000; an unknown one 22023.
func unitErr(u int, name, typ string) error {
	if u == 0 {
		return pgerr.New(pgerr.InvalidParameterValue, "unit \"%s\" not recognized for type %s", name, typ)
	}
	return pgerr.New(pgerr.FeatureNotSupported, "unit \"%s\" not supported for type %s", name, typ)
}

// isoWeek is date2isoweek and the ISO year: week 1 holds January 4th.
func isoWeek(y, m, d int) (week, year int) {
	dayn := date2j(y, m, d)
	day4 := date2j(y, 1, 4)
	day0 := j2day(day4 - 1)
	if dayn < day4-day0 {
		day4 = date2j(y-1, 1, 4)
		day0 = j2day(day4 - 1)
		y--
	}
	result := (dayn-(day4-day0))/7 + 1
	if result >= 52 {
		day4 = date2j(y+1, 1, 4)
		day0 = j2day(day4 - 1)
		if dayn >= day4-day0 {
			result = (dayn-(day4-day0))/7 + 1
			y++
		}
	}
	return result, y
}

// j2day is the day of the week of a Julian day, 0 = Sunday.
func j2day(j int) int {
	j++
	j %= 7
	if j < 0 {
		j += 7
	}
	return j
}

func truncTimestamp(unit string, us int64, loc *time.Location) (types.Datum, error) {
	wrap := func(v int64) types.Datum {
		if loc != nil {
			return types.TimestampTZ(v)
		}
		return types.Timestamp(v)
	}
	u, name := lookupUnit(unit)
	if u >= uEpoch && u <= uJulian {
		u = 0 // special fields, not units: date_trunc does not know them
	}
	typ := "timestamp without time zone"
	if loc != nil {
		typ = "timestamp with time zone"
	}
	switch u {
	case uMicro, uMilli, uSecond, uMinute, uHour, uDay, uWeek, uMonth, uQuarter, uYear, uDecade, uCentury, uMillennium:
	default:
		return nil, unitErr(u, name, typ)
	}
	if !tsFinite(us) {
		return wrap(us), nil
	}
	local, off := us, 0
	if loc != nil {
		local, off = toLocal(loc, us)
	}
	t := splitTS(local)
	switch u {
	case uMillennium:
		if t.year > 0 {
			t.year = (t.year+999)/1000*1000 - 999
		} else {
			t.year = -((999-(t.year-1))/1000)*1000 + 1
		}
		t.mon, t.mday = 1, 1
	case uCentury:
		if t.year > 0 {
			t.year = (t.year+99)/100*100 - 99
		} else {
			t.year = -((99-(t.year-1))/100)*100 + 1
		}
		t.mon, t.mday = 1, 1
	case uDecade:
		if t.year > 0 {
			t.year = t.year / 10 * 10
		} else {
			t.year = -((8 - (t.year - 1)) / 10) * 10
		}
		t.mon, t.mday = 1, 1
	case uYear:
		t.mon, t.mday = 1, 1
	case uQuarter:
		t.mon = 3*((t.mon-1)/3) + 1
		t.mday = 1
	case uMonth:
		t.mday = 1
	case uWeek:
		w, y := isoWeek(t.year, t.mon, t.mday)
		j := date2j(y, 1, 4)
		j = j - (j2day(j)+6)%7 + (w-1)*7
		t.year, t.mon, t.mday = j2date(j)
	}
	switch u {
	case uMillennium, uCentury, uDecade, uYear, uQuarter, uMonth, uWeek, uDay:
		t.hour = 0
		fallthrough
	case uHour:
		t.min = 0
		fallthrough
	case uMinute:
		t.sec = 0
		fallthrough
	case uSecond:
		t.usec = 0
	case uMilli:
		t.usec = t.usec / 1000 * 1000
	}
	r, ok := joinTS(t)
	if !ok {
		return nil, errTimestampRange()
	}
	if loc != nil {
		if u >= uDay && u != uMicro {
			r = fromLocal(loc, r)
		} else {
			r -= int64(off) * usPerSec
		}
	}
	return wrap(r), nil
}

func truncInterval(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
	u, name := lookupUnit(a[0].(string))
	iv := a[1].(types.Interval)
	year, mon := iv.Months/12, iv.Months%12
	days := iv.Days
	hour := iv.Micros / usPerHour
	rest := iv.Micros - hour*usPerHour
	minute := rest / usPerMin
	rest -= minute * usPerMin
	sec := rest / usPerSec
	usec := rest - sec*usPerSec
	switch u {
	case uMillennium:
		year = year / 1000 * 1000
		mon = 0
	case uCentury:
		year = year / 100 * 100
		mon = 0
	case uDecade:
		year = year / 10 * 10
		mon = 0
	case uYear:
		mon = 0
	case uQuarter:
		mon = 3 * (mon / 3)
	case uMonth:
	case uDay, uHour, uMinute, uSecond, uMilli, uMicro:
	case uWeek:
		return nil, pgerr.New(pgerr.FeatureNotSupported, "interval units \"%s\" not supported because months usually have fractional weeks", name)
	case uTZ, uTZHour, uTZMinute:
		return nil, pgerr.New(pgerr.FeatureNotSupported, "interval units \"%s\" not supported", name)
	default:
		return nil, pgerr.New(pgerr.InvalidParameterValue, "interval units \"%s\" not recognized", name)
	}
	switch u {
	case uMillennium, uCentury, uDecade, uYear, uQuarter, uMonth:
		days = 0
		fallthrough
	case uDay:
		hour = 0
		fallthrough
	case uHour:
		minute = 0
		fallthrough
	case uMinute:
		sec = 0
		fallthrough
	case uSecond:
		usec = 0
	case uMilli:
		usec = usec / 1000 * 1000
	}
	return types.Interval{Months: year*12 + mon, Days: days,
		Micros: ((hour*60+minute)*60+sec)*usPerSec + usec}, nil
}

// decNum is v × 10^-scale as a numeric.
func decNum(v int64, scale int32) *apd.Decimal {
	return apd.New(v, -scale)
}

func numericToFloat(d *apd.Decimal) float64 {
	switch d.Form {
	case apd.NaN:
		return math.NaN()
	case apd.Infinite:
		if d.Negative {
			return math.Inf(-1)
		}
		return math.Inf(1)
	}
	f, _ := strconv.ParseFloat(d.String(), 64)
	return f
}

func numInf(neg bool) *apd.Decimal { return &apd.Decimal{Form: apd.Infinite, Negative: neg} }

// extract is EXTRACT(unit FROM v), numeric as in PostgreSQL 14 and later.
func extract(env *Env, unit string, typ types.OID, v types.Datum) (*apd.Decimal, error) {
	u, name := lookupUnit(unit)
	switch typ {
	case oTS, oTSTZ:
		us := int64(0)
		if typ == oTS {
			us = int64(v.(types.Timestamp))
		} else {
			us = int64(v.(types.TimestampTZ))
		}
		tname := "timestamp without time zone"
		if typ == oTSTZ {
			tname = "timestamp with time zone"
		}
		if u == 0 || (typ == oTS && (u == uTZ || u == uTZHour || u == uTZMinute)) {
			return nil, unitErr(u, name, tname)
		}
		if !tsFinite(us) {
			switch u {
			case uYear, uDecade, uCentury, uMillennium, uJulian, uIsoYear, uEpoch:
				return numInf(us < 0), nil
			}
			return nil, nil
		}
		local, off := us, 0
		if typ == oTSTZ {
			local, off = toLocal(sessionLoc(env), us)
		}
		return extractTM(u, splitTS(local), local, us, off)
	case oDate:
		d := v.(types.Date)
		switch u {
		case uDay, uMonth, uQuarter, uYear, uDecade, uCentury, uMillennium, uWeek, uDow, uIsoDow, uDoy, uIsoYear, uJulian, uEpoch:
		default:
			return nil, unitErr(u, name, "date")
		}
		if !dateFinite(d) {
			switch u {
			case uYear, uDecade, uCentury, uMillennium, uJulian, uIsoYear, uEpoch:
				return numInf(d == types.DateNegInfinity), nil
			}
			return nil, nil
		}
		if u == uEpoch {
			return decNum((int64(d)+int64(pgEpochJ-unixEpochJ))*86400, 0), nil
		}
		if u == uJulian {
			return decNum(int64(d)+pgEpochJ, 0), nil
		}
		us := int64(d) * usPerDay
		return extractTM(u, splitTS(us), us, us, 0)
	case oTime:
		t := int64(v.(types.TimeOfDay))
		switch u {
		case uMicro:
			return decNum(t%usPerMin, 0), nil
		case uMilli:
			return decNum(t%usPerMin, 3), nil
		case uSecond:
			return decNum(t%usPerMin, 6), nil
		case uMinute:
			return decNum(t/usPerMin%60, 0), nil
		case uHour:
			return decNum(t/usPerHour, 0), nil
		case uEpoch:
			return decNum(t, 6), nil
		}
		return nil, unitErr(u, name, "time without time zone")
	case oIntv:
		iv := v.(types.Interval)
		hour := iv.Micros / usPerHour
		rest := iv.Micros - hour*usPerHour
		minute := rest / usPerMin
		secUS := rest - minute*usPerMin
		year := int64(iv.Months / 12)
		switch u {
		case uMicro:
			return decNum(secUS, 0), nil
		case uMilli:
			return decNum(secUS, 3), nil
		case uSecond:
			return decNum(secUS, 6), nil
		case uMinute:
			return decNum(minute, 0), nil
		case uHour:
			return decNum(hour, 0), nil
		case uDay:
			return decNum(int64(iv.Days), 0), nil
		case uMonth:
			return decNum(int64(iv.Months%12), 0), nil
		case uQuarter:
			return decNum(int64(iv.Months%12/3+1), 0), nil
		case uYear:
			return decNum(year, 0), nil
		case uDecade:
			return decNum(year/10, 0), nil
		case uCentury:
			return decNum(year/100, 0), nil
		case uMillennium:
			return decNum(year/1000, 0), nil
		case uEpoch:
			secs := (int64(4*365.25)*int64(iv.Months/12) + int64(4*30)*int64(iv.Months%12) + 4*int64(iv.Days)) * (86400 / 4)
			r := new(apd.Decimal)
			numericCtx.Add(r, decNum(secs, 0), decNum(iv.Micros, 6))
			numericCtx.Quantize(r, r, -6)
			return r, nil
		}
		return nil, unitErr(u, name, "interval")
	}
	return nil, pgerr.New(pgerr.InternalError, "extract from %d", typ)
}

func extractTM(u int, t tm, local, utc int64, off int) (*apd.Decimal, error) {
	secUS := int64(t.sec)*usPerSec + t.usec
	switch u {
	case uMicro:
		return decNum(secUS, 0), nil
	case uMilli:
		return decNum(secUS, 3), nil
	case uSecond:
		return decNum(secUS, 6), nil
	case uMinute:
		return decNum(int64(t.min), 0), nil
	case uHour:
		return decNum(int64(t.hour), 0), nil
	case uDay:
		return decNum(int64(t.mday), 0), nil
	case uMonth:
		return decNum(int64(t.mon), 0), nil
	case uQuarter:
		return decNum(int64((t.mon-1)/3+1), 0), nil
	case uWeek:
		w, _ := isoWeek(t.year, t.mon, t.mday)
		return decNum(int64(w), 0), nil
	case uYear:
		if t.year > 0 {
			return decNum(int64(t.year), 0), nil
		}
		return decNum(int64(t.year-1), 0), nil
	case uDecade:
		if t.year >= 0 {
			return decNum(int64(t.year/10), 0), nil
		}
		return decNum(int64(-((8 - (t.year - 1)) / 10)), 0), nil
	case uCentury:
		if t.year > 0 {
			return decNum(int64((t.year+99)/100), 0), nil
		}
		return decNum(int64(-((99 - (t.year - 1)) / 100)), 0), nil
	case uMillennium:
		if t.year > 0 {
			return decNum(int64((t.year+999)/1000), 0), nil
		}
		return decNum(int64(-((999 - (t.year - 1)) / 1000)), 0), nil
	case uJulian:
		j := decNum(int64(date2j(t.year, t.mon, t.mday)), 0)
		tod := ((int64(t.hour)*60+int64(t.min))*60+int64(t.sec))*usPerSec + t.usec
		frac, err := numericArith('/')(nil, nil, []types.Datum{decNum(tod, 0), decNum(usPerDay, 0)})
		if err != nil {
			return nil, err
		}
		r := new(apd.Decimal)
		numericCtx.Add(r, j, frac.(*apd.Decimal))
		return r, nil
	case uIsoYear:
		_, y := isoWeek(t.year, t.mon, t.mday)
		if y <= 0 {
			y--
		}
		return decNum(int64(y), 0), nil
	case uDow:
		return decNum(int64(j2day(date2j(t.year, t.mon, t.mday))), 0), nil
	case uIsoDow:
		d := j2day(date2j(t.year, t.mon, t.mday))
		if d == 0 {
			d = 7
		}
		return decNum(int64(d), 0), nil
	case uDoy:
		return decNum(int64(date2j(t.year, t.mon, t.mday)-date2j(t.year, 1, 1)+1), 0), nil
	case uEpoch:
		r := new(apd.Decimal)
		numericCtx.Add(r, decNum(utc, 6), decNum(unixToPG, 0))
		numericCtx.Quantize(r, r, -6)
		return r, nil
	case uTZ:
		return decNum(int64(off), 0), nil
	case uTZHour:
		return decNum(int64(off/3600), 0), nil
	case uTZMinute:
		return decNum(int64(off/60%60), 0), nil
	}
	return nil, pgerr.New(pgerr.InternalError, "unit %d", u)
}

// age is timestamp_age: a symbolic result in years, months and days,
// borrowing from the month of the earlier timestamp.
func age(a, b int64, loc *time.Location) (types.Datum, error) {
	if !tsFinite(a) || !tsFinite(b) {
		return nil, pgerr.New(pgerr.DatetimeFieldOverflow, "cannot subtract infinite timestamps")
	}
	la, lb := a, b
	if loc != nil {
		la, _ = toLocal(loc, a)
		lb, _ = toLocal(loc, b)
	}
	t1, t2 := splitTS(la), splitTS(lb)
	usec := t1.usec - t2.usec
	sec, mins, hour := t1.sec-t2.sec, t1.min-t2.min, t1.hour-t2.hour
	mday, mon, year := t1.mday-t2.mday, t1.mon-t2.mon, t1.year-t2.year
	neg := a < b
	if neg {
		usec, sec, mins, hour, mday, mon, year = -usec, -sec, -mins, -hour, -mday, -mon, -year
	}
	for usec < 0 {
		usec += usPerSec
		sec--
	}
	for sec < 0 {
		sec += 60
		mins--
	}
	for mins < 0 {
		mins += 60
		hour--
	}
	for hour < 0 {
		hour += 24
		mday--
	}
	for mday < 0 {
		if neg {
			mday += daysIn(t1.year, t1.mon)
		} else {
			mday += daysIn(t2.year, t2.mon)
		}
		mon--
	}
	for mon < 0 {
		mon += 12
		year--
	}
	if neg {
		usec, sec, mins, hour, mday, mon, year = -usec, -sec, -mins, -hour, -mday, -mon, -year
	}
	return types.Interval{
		Months: int32(year*12 + mon),
		Days:   int32(mday),
		Micros: ((int64(hour)*60+int64(mins))*60+int64(sec))*usPerSec + usec,
	}, nil
}

func makeDate(y, m, d int64) (types.Datum, error) {
	bad := func() error {
		return pgerr.New(pgerr.DatetimeFieldOverflow, "date field value out of range: %d-%02d-%02d", y, m, d)
	}
	if y == 0 {
		return nil, bad()
	}
	yy := y
	if y < 0 {
		yy = y + 1
	}
	if m < 1 || m > 12 || d < 1 || yy < -4713 || yy > 5874898 || d > int64(daysIn(int(yy), int(m))) {
		return nil, bad()
	}
	j := date2j(int(yy), int(m), int(d))
	if j < minDateJ || j >= endDateJ {
		return nil, pgerr.New(pgerr.DatetimeFieldOverflow, "date out of range: %d-%02d-%02d", y, m, d)
	}
	return types.Date(j - pgEpochJ), nil
}

func makeTOD(h, m int64, s float64) (int64, bool) {
	if h < 0 || m < 0 || m > 59 || s < 0 || s > 60 || math.IsNaN(s) {
		return 0, false
	}
	us := int64(math.RoundToEven(s * 1e6))
	t := (h*60+m)*usPerMin + us
	if h > 24 || t > usPerDay {
		return 0, false
	}
	return t, true
}

func makeTimestamp(a []types.Datum) (int64, error) {
	y, m, d := a[0].(int64), a[1].(int64), a[2].(int64)
	h, mi, s := a[3].(int64), a[4].(int64), a[5].(float64)
	dv, err := makeDate(y, m, d)
	if err != nil {
		return 0, err
	}
	tod, ok := makeTOD(h, mi, s)
	if !ok {
		return 0, pgerr.New(pgerr.DatetimeFieldOverflow, "time field value out of range: %d:%02d:%v", h, mi, s)
	}
	r := int64(dv.(types.Date))*usPerDay + tod
	if r < minTimestamp || r >= endTimestamp {
		return 0, pgerr.New(pgerr.DatetimeFieldOverflow, "timestamp out of range: %d-%02d-%02d %d:%02d:%v", y, m, d, h, mi, s)
	}
	return r, nil
}

// makeInterval is make_interval as PostgreSQL 15 computes it: the
// integer arithmetic wraps around (only the seconds are range checked),
// and a float out of int64 range converts to the minimum, as x86 does.
func makeInterval(_ *Env, _ *Call, a []types.Datum) (types.Datum, error) {
	v := [6]int64{}
	secs := 0.0
	for i, x := range a {
		if i < 6 {
			v[i] = x.(int64)
		} else {
			secs = x.(float64)
		}
	}
	if math.IsInf(secs, 0) || math.IsNaN(secs) {
		return nil, errIntervalRange()
	}
	us := math.RoundToEven(secs * 1e6)
	usInt := int64(math.MinInt64)
	if us >= -9.223372036854775808e18 && us < 9.223372036854775808e18 {
		usInt = int64(us)
	}
	return types.Interval{
		Months: int32(v[0])*12 + int32(v[1]),
		Days:   int32(v[2])*7 + int32(v[3]),
		Micros: v[4]*usPerHour + v[5]*usPerMin + usInt,
	}, nil
}

func dateBin(stride types.Interval, ts, origin int64) (int64, error) {
	if !tsFinite(ts) {
		return ts, nil
	}
	if !tsFinite(origin) {
		return 0, pgerr.New(pgerr.DatetimeFieldOverflow, "origin out of range")
	}
	if stride.Months != 0 {
		return 0, pgerr.New(pgerr.FeatureNotSupported, "timestamps cannot be binned into intervals containing months or years")
	}
	s := stride.Micros + int64(stride.Days)*usPerDay
	if s <= 0 {
		return 0, pgerr.New(pgerr.DatetimeFieldOverflow, "stride must be greater than zero")
	}
	diff := ts - origin
	if (ts >= 0) != (origin >= 0) && (diff >= 0) != (ts >= 0) {
		return 0, errTimestampRange()
	}
	r := origin + diff - diff%s
	if diff < 0 && diff%s != 0 {
		r -= s
	}
	if r < minTimestamp || r >= endTimestamp {
		return 0, errTimestampRange()
	}
	return r, nil
}

func toTimestampFloat(f float64) (types.Datum, error) {
	if math.IsNaN(f) {
		return nil, pgerr.New(pgerr.DatetimeFieldOverflow, "timestamp cannot be NaN")
	}
	if math.IsInf(f, 1) {
		return types.TimestampTZInfinity, nil
	}
	if math.IsInf(f, -1) {
		return types.TimestampTZNegInf, nil
	}
	lo := float64(minTimestamp)/1e6 + float64(unixToPG)
	hi := float64(endTimestamp)/1e6 + float64(unixToPG)
	if f < lo || f >= hi {
		return nil, pgerr.New(pgerr.DatetimeFieldOverflow, "timestamp out of range: \"%s\"", strconv.FormatFloat(f, 'g', -1, 64))
	}
	return types.TimestampTZ(int64(math.RoundToEven((f - float64(unixToPG)) * 1e6))), nil
}

// namedZone is the time zone a function argument names.
func namedZone(name string) (*time.Location, error) {
	loc, ok := types.LookupZone(name)
	if !ok {
		return nil, pgerr.New(pgerr.InvalidParameterValue, "time zone \"%s\" not recognized", name)
	}
	return loc, nil
}
