package types

import (
	"math"
	"strconv"
	"strings"

	"github.com/strand-db/strand/sql/pgerr"
)

// Interval input follows DecodeInterval: the fields are read right to left
// so that a unit word applies to the number before it; a time field
// (hh:mm:ss) makes the number before it days; fractions of a unit cascade
// into the smaller fields (1.5 months is 1 month 15 days). When that fails
// for syntax, ISO 8601 (P1Y2M3DT4H5M6S and the alternative form) is tried.

var intervalUnits = map[string]int{
	"c": unitCentury, "cent": unitCentury, "centuries": unitCentury, "century": unitCentury,
	"d": unitDay, "day": unitDay, "days": unitDay,
	"dec": unitDecade, "decade": unitDecade, "decades": unitDecade, "decs": unitDecade,
	"h": unitHour, "hour": unitHour, "hours": unitHour, "hr": unitHour, "hrs": unitHour,
	"m": unitMinute, "min": unitMinute, "mins": unitMinute, "minute": unitMinute, "minutes": unitMinute,
	"microsecon": unitMicro, "us": unitMicro, "usec": unitMicro, "usecs": unitMicro, "useconds": unitMicro,
	"mil": unitMillennium, "millennia": unitMillennium, "millennium": unitMillennium, "mils": unitMillennium,
	"millisecon": unitMilli, "ms": unitMilli, "msec": unitMilli, "msecs": unitMilli, "mseconds": unitMilli,
	"mon": unitMonth, "mons": unitMonth, "month": unitMonth, "months": unitMonth,
	"s": unitSecond, "sec": unitSecond, "second": unitSecond, "seconds": unitSecond, "secs": unitSecond,
	"w": unitWeek, "week": unitWeek, "weeks": unitWeek,
	"y": unitYear, "year": unitYear, "years": unitYear, "yr": unitYear, "yrs": unitYear,
}

const (
	unitNone = iota
	unitMicro
	unitMilli
	unitSecond
	unitMinute
	unitHour
	unitDay
	unitWeek
	unitMonth
	unitYear
	unitDecade
	unitCentury
	unitMillennium
)

// itmIn is pg_itm_in: the interval being built.
type itmIn struct {
	usec  int64
	mday  int32
	mon   int32
	year  int32
	fails bool
}

func (it *itmIn) addMicros(val int64, fval float64, scale int64) {
	hi, lo := mulOverflow(val, scale)
	if hi {
		it.fails = true
		return
	}
	it.usec = addOverflow(it.usec, lo, &it.fails)
	it.addFractMicros(fval, scale)
}

func (it *itmIn) addFractMicros(frac float64, scale int64) {
	if frac == 0 {
		return
	}
	frac *= float64(scale)
	us := int64(frac)
	frac -= float64(us)
	if frac > 0.5 {
		us++
	} else if frac < -0.5 {
		us--
	}
	it.usec = addOverflow(it.usec, us, &it.fails)
}

func (it *itmIn) addDays(val int64, scale int64) {
	v := val * scale
	if val != 0 && v/scale != val || int64(it.mday)+v > math.MaxInt32 || int64(it.mday)+v < math.MinInt32 {
		it.fails = true
		return
	}
	it.mday += int32(v)
}

func (it *itmIn) addFractDays(frac float64, scale int) {
	if frac == 0 {
		return
	}
	frac *= float64(scale)
	extra := int64(frac)
	it.addDays(extra, 1)
	frac -= float64(extra)
	it.addFractMicros(frac, usecsPerDay)
}

func (it *itmIn) addMonths(val int64) {
	if int64(it.mon)+val > math.MaxInt32 || int64(it.mon)+val < math.MinInt32 {
		it.fails = true
		return
	}
	it.mon += int32(val)
}

func (it *itmIn) addYears(val int64, scale int64) {
	v := val * scale
	if val != 0 && v/scale != val || int64(it.year)+v > math.MaxInt32 || int64(it.year)+v < math.MinInt32 {
		it.fails = true
		return
	}
	it.year += int32(v)
}

func (it *itmIn) addFractYears(frac float64, scale int) {
	extra := int64(math.RoundToEven(frac * float64(scale) * 12))
	it.addMonths(extra)
}

func mulOverflow(a, b int64) (bool, int64) {
	if a == 0 || b == 0 {
		return false, 0
	}
	c := a * b
	if c/b != a || (a == -1 && b == math.MinInt64) || (b == -1 && a == math.MinInt64) {
		return true, 0
	}
	return false, c
}

func addOverflow(a, b int64, fails *bool) int64 {
	c := a + b
	if (c > a) != (b > 0) {
		*fails = true
	}
	return c
}

// parseInterval is interval_in.
func parseInterval(s string, typmod int32, set *Settings) (Datum, error) {
	it, e := decodeInterval(s)
	if e == dtBadFormat {
		it, e = decodeISO8601Interval(s)
	}
	if e == dtFieldOverflow {
		e = dtIntervalOverflow
	}
	if e != dtOK {
		return nil, dateTimeError(e, s, "interval")
	}
	months := int64(it.year)*12 + int64(it.mon)
	if months > math.MaxInt32 || months < math.MinInt32 {
		return nil, pgerr.New(pgerr.DatetimeFieldOverflow, "interval out of range")
	}
	iv := Interval{Months: int32(months), Days: it.mday, Micros: it.usec}
	return roundInterval(iv, typmod), nil
}

// roundInterval is AdjustIntervalForTypmod's precision part.
func roundInterval(iv Interval, typmod int32) Interval {
	if typmod < 0 || typmod >= 6 {
		return iv
	}
	iv.Micros, _ = roundTimestamp(iv.Micros, typmod)
	return iv
}

func decodeInterval(s string) (itmIn, dtErr) {
	var it itmIn
	fields, ok := parseFields(s)
	if !ok {
		return it, dtBadFormat
	}
	fmask := 0
	typ := unitNone
	ago := false
	for i := len(fields) - 1; i >= 0; i-- {
		f := fields[i]
		tmask := 0
		switch f.typ {
		case ftTime:
			us, e := decodeTimeForInterval(f.s)
			if e != dtOK {
				return it, e
			}
			it.usec = addOverflow(it.usec, us, &it.fails)
			tmask = fTimeM
			typ = unitDay
		case ftTZ, ftDate, ftNumber:
			if f.typ == ftTZ && strings.Contains(f.s[1:], ":") {
				if us, e := decodeTimeForInterval(f.s[1:]); e == dtOK {
					if f.s[0] == '-' {
						us = -us
					}
					it.usec = addOverflow(it.usec, us, &it.fails)
					tmask = fTimeM
					typ = unitDay
					break
				}
			}
			if typ == unitNone {
				typ = unitSecond
			}
			str := f.s
			neg := str[0] == '-'
			j := 0
			if str[0] == '-' || str[0] == '+' {
				j = 1
			}
			k := j
			for k < len(str) && str[k] >= '0' && str[k] <= '9' {
				k++
			}
			var val int64
			if k > j {
				v, err := strconv.ParseInt(str[j:k], 10, 64)
				if err != nil {
					return it, dtFieldOverflow
				}
				val = v
			} else if k == len(str) || str[k] != '.' {
				return it, dtBadFormat
			}
			if neg {
				val = -val
			}
			var fval float64
			rest := str[k:]
			switch {
			case rest == "":
			case rest[0] == '-':
				m, err := strconv.Atoi(rest[1:])
				if err != nil || m < 0 || m >= 12 {
					if err != nil && strings.Trim(rest[1:], "0123456789") != "" {
						return it, dtBadFormat
					}
					return it, dtFieldOverflow
				}
				typ = unitMonth
				if neg {
					m = -m
				}
				val = val*12 + int64(m)
			case rest[0] == '.':
				fr, e := parseFraction(rest)
				if e != dtOK {
					return it, e
				}
				fval = fr
				if neg {
					fval = -fval
				}
			default:
				return it, dtBadFormat
			}
			switch typ {
			case unitMicro:
				it.addMicros(val, fval, 1)
				tmask = 1 << 20
			case unitMilli:
				it.addMicros(val, fval, 1000)
				tmask = 1 << 21
			case unitSecond:
				it.addMicros(val, fval, usecsPerSec)
				if fval == 0 {
					tmask = fSecond
				} else {
					tmask = fSecond | 1<<20 | 1<<21
				}
			case unitMinute:
				it.addMicros(val, fval, usecsPerMinute)
				tmask = fMinute
			case unitHour:
				it.addMicros(val, fval, usecsPerHour)
				tmask = fHour
				typ = unitDay
			case unitDay:
				it.addDays(val, 1)
				it.addFractMicros(fval, usecsPerDay)
				tmask = fDay
			case unitWeek:
				it.addDays(val, 7)
				it.addFractDays(fval, 7)
				tmask = 1 << 22
			case unitMonth:
				it.addMonths(val)
				it.addFractDays(fval, 30)
				tmask = fMonth
			case unitYear:
				it.addYears(val, 1)
				it.addFractYears(fval, 1)
				tmask = fYear
			case unitDecade:
				it.addYears(val, 10)
				it.addFractYears(fval, 10)
				tmask = 1 << 23
			case unitCentury:
				it.addYears(val, 100)
				it.addFractYears(fval, 100)
				tmask = 1 << 24
			case unitMillennium:
				it.addYears(val, 1000)
				it.addFractYears(fval, 1000)
				tmask = 1 << 25
			}
			if it.fails {
				return it, dtFieldOverflow
			}
		case ftString, ftSpecial:
			w := f.s
			if len(w) > 10 {
				w = w[:10]
			}
			if w == "ago" {
				ago = true
				continue
			}
			u, ok := intervalUnits[w]
			if !ok {
				return it, dtBadFormat
			}
			typ = u
		}
		if tmask&fmask != 0 {
			return it, dtBadFormat
		}
		fmask |= tmask
	}
	if fmask == 0 {
		return it, dtBadFormat
	}
	if it.fails {
		return it, dtFieldOverflow
	}
	if ago {
		if it.usec == math.MinInt64 || it.mday == math.MinInt32 || it.mon == math.MinInt32 || it.year == math.MinInt32 {
			return it, dtFieldOverflow
		}
		it.usec, it.mday, it.mon, it.year = -it.usec, -it.mday, -it.mon, -it.year
	}
	return it, dtOK
}

func parseFraction(s string) (float64, dtErr) {
	if s == "." {
		return 0, dtOK
	}
	for i := 1; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, dtBadFormat
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, dtBadFormat
	}
	return f, dtOK
}

// decodeTimeForInterval reads hh:mm[:ss[.f]] (or mm:ss.f) as microseconds.
func decodeTimeForInterval(s string) (int64, dtErr) {
	num := func() (int64, bool) {
		j := 0
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == 0 {
			return 0, false
		}
		v, err := strconv.ParseInt(s[:j], 10, 64)
		s = s[j:]
		return v, err == nil
	}
	hour, ok := num()
	if !ok || s == "" || s[0] != ':' {
		return 0, dtBadFormat
	}
	s = s[1:]
	min, ok := num()
	if !ok {
		return 0, dtBadFormat
	}
	var sec, fsec int64
	switch {
	case s == "":
	case s[0] == '.':
		f, e := parseFractionalSecond(s)
		if e != dtOK {
			return 0, e
		}
		fsec, sec, min, hour = f, min, hour, 0
	case s[0] == ':':
		s = s[1:]
		if sec, ok = num(); !ok {
			return 0, dtBadFormat
		}
		if s != "" {
			f, e := parseFractionalSecond(s)
			if e != dtOK {
				return 0, e
			}
			fsec = f
		}
	default:
		return 0, dtBadFormat
	}
	if min > 59 || sec > 60 || fsec > usecsPerSec {
		return 0, dtFieldOverflow
	}
	if hour > math.MaxInt64/usecsPerHour-1 {
		return 0, dtFieldOverflow
	}
	return hour*usecsPerHour + min*usecsPerMinute + sec*usecsPerSec + fsec, dtOK
}

func decodeISO8601Interval(s string) (itmIn, dtErr) {
	var it itmIn
	if len(s) < 2 || s[0] != 'P' {
		return it, dtBadFormat
	}
	str := s[1:]
	datepart, havefield := true, false
	number := func() (int64, float64, dtErr) {
		if str == "" || !(str[0] >= '0' && str[0] <= '9' || str[0] == '-' || str[0] == '.') {
			return 0, 0, dtBadFormat
		}
		j := 0
		if str[0] == '-' {
			j = 1
		}
		for j < len(str) && (str[j] >= '0' && str[j] <= '9' || str[j] == '.') {
			j++
		}
		v, err := strconv.ParseFloat(str[:j], 64)
		if err != nil {
			return 0, 0, dtBadFormat
		}
		str = str[j:]
		if v < math.MinInt32 || v > math.MaxInt32 {
			return 0, 0, dtFieldOverflow
		}
		ip := math.Trunc(v)
		return int64(ip), v - ip, dtOK
	}
	for str != "" {
		if str[0] == 'T' {
			datepart, havefield = false, false
			str = str[1:]
			continue
		}
		val, fval, e := number()
		if e != dtOK {
			return it, e
		}
		var unit byte
		if str != "" {
			unit = str[0]
			str = str[1:]
		}
		if datepart {
			switch unit {
			case 'Y':
				it.addYears(val, 1)
				it.addFractYears(fval, 1)
			case 'M':
				it.addMonths(val)
				it.addFractDays(fval, 30)
			case 'W':
				it.addDays(val, 7)
				it.addFractDays(fval, 7)
			case 'D':
				it.addDays(val, 1)
				it.addFractMicros(fval, usecsPerDay)
			case 'T', 0, '-':
				if havefield {
					return it, dtBadFormat
				}
				it.addYears(val, 1)
				it.addFractYears(fval, 1)
				if unit == 0 {
					return it, failsErr(it)
				}
				if unit == 'T' {
					datepart, havefield = false, false
					continue
				}
				if val, fval, e = number(); e != dtOK {
					return it, e
				}
				it.addMonths(val)
				it.addFractDays(fval, 30)
				if str == "" {
					return it, failsErr(it)
				}
				if str[0] == 'T' {
					str = str[1:]
					datepart, havefield = false, false
					continue
				}
				if str[0] != '-' {
					return it, dtBadFormat
				}
				str = str[1:]
				if val, fval, e = number(); e != dtOK {
					return it, e
				}
				it.addDays(val, 1)
				it.addFractMicros(fval, usecsPerDay)
				if str == "" {
					return it, failsErr(it)
				}
				if str[0] == 'T' {
					str = str[1:]
					datepart, havefield = false, false
					continue
				}
				return it, dtBadFormat
			default:
				return it, dtBadFormat
			}
		} else {
			switch unit {
			case 'H':
				it.addMicros(val, fval, usecsPerHour)
			case 'M':
				it.addMicros(val, fval, usecsPerMinute)
			case 'S':
				it.addMicros(val, fval, usecsPerSec)
			case 0, ':':
				if havefield {
					return it, dtBadFormat
				}
				it.addMicros(val, fval, usecsPerHour)
				if unit == 0 {
					return it, failsErr(it)
				}
				if val, fval, e = number(); e != dtOK {
					return it, e
				}
				it.addMicros(val, fval, usecsPerMinute)
				if str == "" {
					return it, failsErr(it)
				}
				if str[0] != ':' {
					return it, dtBadFormat
				}
				str = str[1:]
				if val, fval, e = number(); e != dtOK {
					return it, e
				}
				it.addMicros(val, fval, usecsPerSec)
				if str == "" {
					return it, failsErr(it)
				}
				return it, dtBadFormat
			default:
				return it, dtBadFormat
			}
		}
		havefield = true
	}
	return it, failsErr(it)
}

func failsErr(it itmIn) dtErr {
	if it.fails {
		return dtFieldOverflow
	}
	return dtOK
}

// appendInterval is interval_out.
func appendInterval(buf []byte, iv Interval, set *Settings) []byte {
	year := int64(iv.Months / 12)
	mon := int64(iv.Months % 12)
	mday := int64(iv.Days)
	t := iv.Micros
	hour := t / usecsPerHour
	t -= hour * usecsPerHour
	min := t / usecsPerMinute
	t -= min * usecsPerMinute
	sec := t / usecsPerSec
	fsec := t - sec*usecsPerSec
	if set.IntervalStyle == "iso_8601" {
		if year == 0 && mon == 0 && mday == 0 && iv.Micros == 0 {
			return append(buf, "PT0S"...)
		}
		buf = append(buf, 'P')
		part := func(v int64, c byte) {
			if v != 0 {
				buf = strconv.AppendInt(buf, v, 10)
				buf = append(buf, c)
			}
		}
		part(year, 'Y')
		part(mon, 'M')
		part(mday, 'D')
		if iv.Micros != 0 {
			buf = append(buf, 'T')
		}
		part(hour, 'H')
		part(min, 'M')
		if sec != 0 || fsec != 0 {
			if sec < 0 || fsec < 0 {
				buf = append(buf, '-')
			}
			us := abs64(sec)*usecsPerSec + abs64(fsec)
			buf = strconv.AppendInt(buf, us/usecsPerSec, 10)
			if us%usecsPerSec != 0 {
				b := appendSeconds(nil, us)
				buf = append(buf, b[strings.IndexByte(string(b), '.'):]...)
			}
			buf = append(buf, 'S')
		}
		return buf
	}
	isZero, isBefore := true, false
	part := func(v int64, unit string) {
		if v == 0 {
			return
		}
		if !isZero {
			buf = append(buf, ' ')
		}
		if isBefore && v > 0 {
			buf = append(buf, '+')
		}
		buf = strconv.AppendInt(buf, v, 10)
		buf = append(buf, ' ')
		buf = append(buf, unit...)
		if v != 1 {
			buf = append(buf, 's')
		}
		isBefore = v < 0
		isZero = false
	}
	part(year, "year")
	part(mon, "mon")
	part(mday, "day")
	if isZero || iv.Micros != 0 {
		minus := iv.Micros < 0
		if !isZero {
			buf = append(buf, ' ')
		}
		if minus {
			buf = append(buf, '-')
		} else if isBefore {
			buf = append(buf, '+')
		}
		buf = appendPad(buf, abs64(hour), 2)
		buf = append(buf, ':')
		buf = appendPad(buf, abs64(min), 2)
		buf = append(buf, ':')
		buf = appendSeconds(buf, abs64(sec)*usecsPerSec+abs64(fsec))
	}
	return buf
}

func abs64(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
