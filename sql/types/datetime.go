package types

import (
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/strand-db/strand/sql/pgerr"
)

// Date and time input follows PostgreSQL's datetime.c: ParseDateTime splits
// the string into typed fields (numbers, dates with embedded separators,
// times, zone displacements, words), then decodeFields assigns them to
// year/month/day/hour/... much as DecodeDateTime does, including its
// DateStyle-driven field order and its run-together forms (20240102,
// 040506). Output is the ISO DateStyle.

const (
	usecsPerSec    = int64(1000000)
	usecsPerMinute = 60 * usecsPerSec
	usecsPerHour   = 60 * usecsPerMinute
	usecsPerDay    = 24 * usecsPerHour
	postgresEpochJ = 2451545 // date2j(2000, 1, 1)
	unixEpochJ     = 2440588 // date2j(1970, 1, 1)

	minTimestamp = int64(-211813488000000000) // 4714-11-24 00:00:00 BC
	endTimestamp = int64(9223371331200000000) // 294277-01-01 00:00:00
	minDate      = -postgresEpochJ
	endDate      = 2147483494 - postgresEpochJ

	// Microseconds from 1970-01-01 to 2000-01-01.
	unixToPostgresMicros = int64(postgresEpochJ-unixEpochJ) * usecsPerDay
)

func date2j(y, m, d int) int {
	if m > 2 {
		m++
		y += 4800
	} else {
		m += 13
		y += 4799
	}
	century := y / 100
	j := y*365 - 32167
	j += y/4 - century + century/4
	j += 7834*m/256 + d
	return j
}

func j2date(jd int) (year, month, day int) {
	julian := uint32(jd)
	julian += 32044
	quad := julian / 146097
	extra := (julian-quad*146097)*4 + 3
	julian += 60 + quad*3 + extra/146097
	quad = julian / 1461
	julian -= quad * 1461
	y := int(julian * 4 / 1461)
	if y != 0 {
		julian = (julian+305)%365 + 123
	} else {
		julian = (julian+306)%366 + 123
	}
	y += int(quad * 4)
	year = y - 4800
	q := julian * 2141 / 65536
	day = int(julian - 7834*q/256)
	month = int((q+10)%12 + 1)
	return
}

func isLeap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }

// DaysInMonth is the number of days in month (1-12) of a proleptic
// Gregorian year (astronomical: 0 is 1 BC). Any other month counts 31.
func DaysInMonth(year, month int) int {
	switch month {
	case 2:
		if isLeap(year) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

func validJulian(y, m, d int) bool {
	return (y > -4713 || (y == -4713 && m >= 11)) && (y < 5874898 || (y == 5874898 && m < 6))
}

// MakeDate is the Date of a proleptic Gregorian year (astronomical: 0 is
// 1 BC), month and day.
func MakeDate(year, month, day int) Date {
	return Date(date2j(year, month, day) - postgresEpochJ)
}

// YMD splits a finite date.
func (d Date) YMD() (year, month, day int) {
	return j2date(int(d) + postgresEpochJ)
}

// TimestampFromTime converts a Go time to a timestamptz.
func TimestampFromTime(t time.Time) TimestampTZ {
	return TimestampTZ(t.Unix()*usecsPerSec + int64(t.Nanosecond()/1000) - unixToPostgresMicros)
}

// Time converts a finite timestamptz to a Go time in UTC.
func (t TimestampTZ) Time() time.Time {
	sec, frac := floorDiv(int64(t), usecsPerSec)
	return time.Unix(sec+unixToPostgresMicros/usecsPerSec, frac*1000).UTC()
}

func floorDiv(a, b int64) (q, r int64) { return FloorDiv(a, b) }

// FloorDiv divides a by b (b > 0) rounding toward negative infinity: the
// remainder r is always in [0, b).
func FloorDiv(a, b int64) (q, r int64) {
	q, r = a/b, a%b
	if r < 0 {
		q--
		r += b
	}
	return
}

// Date/time parse errors, as DateTimeParseError reports them.
type dtErr int

const (
	dtOK dtErr = iota
	dtBadFormat
	dtFieldOverflow
	dtMDFieldOverflow
	dtIntervalOverflow
	dtTZDispOverflow
	dtBadZone
)

func dateTimeError(e dtErr, s, typ string) error {
	switch e {
	case dtFieldOverflow:
		return pgerr.New(pgerr.DatetimeFieldOverflow, "date/time field value out of range: %q", s)
	case dtMDFieldOverflow:
		return pgerr.New(pgerr.DatetimeFieldOverflow, "date/time field value out of range: %q", s).
			WithHint("Perhaps you need a different \"datestyle\" setting.")
	case dtIntervalOverflow:
		return pgerr.New(pgerr.IntervalFieldOverflow, "interval field value out of range: %q", s)
	case dtBadZone:
		return pgerr.New(pgerr.InvalidParameterValue, "time zone not recognized in %q", s)
	case dtTZDispOverflow:
		return pgerr.New(pgerr.InvalidTimeZoneDisplacementValue, "time zone displacement out of range: %q", s)
	}
	return pgerr.New(pgerr.InvalidDatetimeFormat, "invalid input syntax for type %s: %q", typ, s)
}

type fieldType uint8

const (
	ftNumber fieldType = iota
	ftString
	ftDate
	ftTime
	ftTZ
	ftSpecial
)

type dtField struct {
	typ fieldType
	s   string
}

// parseFields is ParseDateTime.
func parseFields(s string) ([]dtField, bool) {
	var fields []dtField
	i := 0
	isDigit := func(j int) bool { return j < len(s) && s[j] >= '0' && s[j] <= '9' }
	isAlpha := func(j int) bool { return j < len(s) && (s[j]|0x20 >= 'a' && s[j]|0x20 <= 'z') }
	isAlnum := func(j int) bool { return isDigit(j) || isAlpha(j) }
	for i < len(s) {
		start := i
		var ft fieldType
		c := s[i]
		switch {
		case isDigit(i):
			for isDigit(i) {
				i++
			}
			if i < len(s) && s[i] == ':' {
				ft = ftTime
				for i < len(s) && (isDigit(i) || s[i] == ':' || s[i] == '.') {
					i++
				}
			} else if i < len(s) && (s[i] == '-' || s[i] == '/' || s[i] == '.') {
				delim := s[i]
				i++
				if isDigit(i) {
					ft = ftDate
					if delim == '.' {
						ft = ftNumber
					}
					for isDigit(i) {
						i++
					}
					if i < len(s) && s[i] == delim {
						ft = ftDate
						for i < len(s) && (isDigit(i) || s[i] == delim) {
							i++
						}
					}
				} else {
					ft = ftDate
					for i < len(s) && (isAlnum(i) || s[i] == delim) {
						i++
					}
				}
			} else {
				ft = ftNumber
			}
		case c == '.':
			i++
			for isDigit(i) {
				i++
			}
			ft = ftNumber
		case isAlpha(i):
			ft = ftString
			for isAlpha(i) {
				i++
			}
			isDate := false
			if i < len(s) && (s[i] == '-' || s[i] == '/' || s[i] == '.') {
				isDate = true
			} else if i < len(s) && (s[i] == '+' || isDigit(i)) {
				if _, ok := dateKeywords[strings.ToLower(s[start:i])]; !ok {
					isDate = true
				}
			}
			if isDate {
				ft = ftDate
				for i < len(s) && (s[i] == '+' || s[i] == '-' || s[i] == '/' || s[i] == '_' || s[i] == '.' || s[i] == ':' || isAlnum(i)) {
					i++
				}
			}
		case isSpace(c):
			i++
			continue
		case c == '+' || c == '-':
			i++
			for i < len(s) && isSpace(s[i]) {
				i++
			}
			if isDigit(i) {
				ft = ftTZ
				for i < len(s) && (isDigit(i) || s[i] == ':' || s[i] == '.' || s[i] == '-') {
					i++
				}
			} else if isAlpha(i) {
				ft = ftSpecial
				for isAlpha(i) {
					i++
				}
			} else {
				return nil, false
			}
			f := strings.ToLower(string(c) + strings.TrimLeft(s[start+1:i], " \t\n\r\v\f"))
			fields = append(fields, dtField{ft, f})
			continue
		case c < 0x80 && (c > ' ' && c < 0x7f):
			i++ // other punctuation is a delimiter
			continue
		default:
			return nil, false
		}
		fields = append(fields, dtField{ft, strings.ToLower(s[start:i])})
		if len(fields) > 25 {
			return nil, false
		}
	}
	return fields, true
}

type kwType uint8

const (
	kwMonth kwType = iota + 1
	kwDOW
	kwAMPM
	kwADBC
	kwReserved
	kwISOTime
	kwJulian
	kwIgnore
	kwUnits
)

type keyword struct {
	typ kwType
	val int
}

const (
	resEpoch = iota
	resInfinity
	resNegInfinity
	resNow
	resToday
	resTomorrow
	resYesterday
	resAllballs
)

var dateKeywords = map[string]keyword{
	"-infinity": {kwReserved, resNegInfinity}, "ad": {kwADBC, 0}, "allballs": {kwReserved, resAllballs},
	"am": {kwAMPM, 0}, "at": {kwIgnore, 0}, "bc": {kwADBC, 1}, "d": {kwUnits, 0}, "dow": {kwUnits, 0},
	"doy": {kwUnits, 0}, "epoch": {kwReserved, resEpoch}, "h": {kwUnits, 0}, "infinity": {kwReserved, resInfinity},
	"isodow": {kwUnits, 0}, "isoyear": {kwUnits, 0}, "j": {kwJulian, 0}, "jd": {kwJulian, 0}, "julian": {kwJulian, 0},
	"m": {kwUnits, 0}, "mm": {kwUnits, 0}, "now": {kwReserved, resNow}, "on": {kwIgnore, 0}, "pm": {kwAMPM, 1},
	"s": {kwUnits, 0}, "t": {kwISOTime, 0}, "today": {kwReserved, resToday}, "tomorrow": {kwReserved, resTomorrow},
	"y": {kwUnits, 0}, "yesterday": {kwReserved, resYesterday}, "dst": {kwUnits, 0},
	"jan": {kwMonth, 1}, "january": {kwMonth, 1}, "feb": {kwMonth, 2}, "february": {kwMonth, 2},
	"mar": {kwMonth, 3}, "march": {kwMonth, 3}, "apr": {kwMonth, 4}, "april": {kwMonth, 4}, "may": {kwMonth, 5},
	"jun": {kwMonth, 6}, "june": {kwMonth, 6}, "jul": {kwMonth, 7}, "july": {kwMonth, 7},
	"aug": {kwMonth, 8}, "august": {kwMonth, 8}, "sep": {kwMonth, 9}, "sept": {kwMonth, 9}, "september": {kwMonth, 9},
	"oct": {kwMonth, 10}, "october": {kwMonth, 10}, "nov": {kwMonth, 11}, "november": {kwMonth, 11},
	"dec": {kwMonth, 12}, "december": {kwMonth, 12},
	"sun": {kwDOW, 0}, "sunday": {kwDOW, 0}, "mon": {kwDOW, 1}, "monday": {kwDOW, 1}, "tue": {kwDOW, 2},
	"tues": {kwDOW, 2}, "tuesday": {kwDOW, 2}, "wed": {kwDOW, 3}, "wednesday": {kwDOW, 3}, "weds": {kwDOW, 3},
	"thu": {kwDOW, 4}, "thur": {kwDOW, 4}, "thurs": {kwDOW, 4}, "thursday": {kwDOW, 4},
	"fri": {kwDOW, 5}, "friday": {kwDOW, 5}, "sat": {kwDOW, 6}, "saturday": {kwDOW, 6},
}

// tzAbbrevs is a subset of PostgreSQL's "Default" abbreviation set: fixed
// offsets in seconds east of UTC.
var tzAbbrevs = map[string]int{
	"utc": 0, "ut": 0, "gmt": 0, "z": 0, "zulu": 0, "wet": 0, "west": 3600,
	"cet": 3600, "cest": 7200, "met": 3600, "mest": 7200, "eet": 7200, "eest": 10800,
	"est": -5 * 3600, "edt": -4 * 3600, "cst": -6 * 3600, "cdt": -5 * 3600,
	"mst": -7 * 3600, "mdt": -6 * 3600, "pst": -8 * 3600, "pdt": -7 * 3600,
	"akst": -9 * 3600, "akdt": -8 * 3600, "hst": -10 * 3600, "jst": 9 * 3600,
	"nzst": 12 * 3600, "nzdt": 13 * 3600, "aest": 10 * 3600, "aedt": 11 * 3600,
}

// Field masks, as DTK_M in datetime.h.
const (
	fYear = 1 << iota
	fMonth
	fDay
	fHour
	fMinute
	fSecond
	fTZ
	fDOY
	fDOW
	fAMPM
	fADBC
	fReserved
	fDateM = fYear | fMonth | fDay
	fTimeM = fHour | fMinute | fSecond
)

// tmFields is struct pg_tm plus what DecodeDateTime keeps beside it.
type tmFields struct {
	year, mon, mday, yday int
	hour, min, sec        int
	fsec                  int64
	tzOff                 int // seconds east of UTC, when fmask has fTZ
	zone                  *time.Location
	fmask                 int
	special               int // -1, or a res* value
	is2digits, bc, julian bool
	haveTextMonth         bool
	mer                   int // -1 (24h), 0 am, 1 pm
}

// decodeDateTime is DecodeDateTime (timeOnly: DecodeTimeOnly).
func decodeDateTime(fields []dtField, set *Settings, timeOnly bool) (*tmFields, dtErr) {
	tm := &tmFields{special: -1, mer: -1, mon: 0}
	order := set.dateOrder()
	ptype := 0 // 1: after "t"; 2: after "j"
	for fi, f := range fields {
		tmask := 0
		switch f.typ {
		case ftDate:
			if ptype == 2 {
				return nil, dtBadFormat
			}
			if tm.fmask&fDateM == fDateM || ptype != 0 {
				if f.s[0] >= '0' && f.s[0] <= '9' {
					return nil, dtBadFormat
				}
				loc, ok := lookupZone(f.s)
				if !ok {
					return nil, dtBadZone
				}
				tm.zone = loc
				tmask = fTZ
			} else {
				if e := decodeDate(f.s, tm, order, &tmask); e != dtOK {
					return nil, e
				}
			}
		case ftTime:
			if ptype != 0 {
				if ptype != 1 {
					return nil, dtBadFormat
				}
				ptype = 0
			}
			if e := decodeTime(f.s, tm, &tmask); e != dtOK {
				return nil, e
			}
			if timeOverflows(tm.hour, tm.min, tm.sec, tm.fsec) {
				return nil, dtFieldOverflow
			}
		case ftTZ:
			off, e := decodeTimezone(f.s)
			if e != dtOK {
				return nil, e
			}
			tm.tzOff = off
			tmask = fTZ
		case ftNumber:
			if ptype == 2 {
				j, err := strconv.Atoi(f.s)
				if err != nil || strings.Contains(f.s, ".") {
					return nil, dtBadFormat
				}
				tm.year, tm.mon, tm.mday = j2date(j)
				tm.julian = true
				tmask = fDateM
				ptype = 0
				break
			}
			if ptype == 1 {
				ptype = 0
				if e := decodeNumberField(f.s, tm.fmask|fDateM, &tmask, tm); e != dtOK {
					return nil, e
				}
				break
			}
			flen := len(f.s)
			dot := strings.IndexByte(f.s, '.')
			switch {
			case dot >= 0 && tm.fmask&fDateM == 0 && !timeOnly:
				if e := decodeDate(f.s, tm, order, &tmask); e != dtOK {
					return nil, e
				}
			case dot >= 0 && dot > 2:
				if e := decodeNumberField(f.s, tm.fmask, &tmask, tm); e != dtOK {
					return nil, e
				}
			case timeOnly && dot < 0 && (flen == 4 || flen == 6) && tm.fmask&fTimeM == 0:
				if e := decodeNumberField(f.s, tm.fmask|fDateM, &tmask, tm); e != dtOK {
					return nil, e
				}
			case flen >= 6 && (tm.fmask&fDateM == 0 || tm.fmask&fTimeM == 0):
				if e := decodeNumberField(f.s, tm.fmask, &tmask, tm); e != dtOK {
					return nil, e
				}
			default:
				if e := decodeNumber(f.s, tm, order, &tmask); e != dtOK {
					return nil, e
				}
			}
		case ftString, ftSpecial:
			if off, ok := tzAbbrevs[f.s]; ok {
				tm.tzOff = off
				tmask = fTZ
				break
			}
			kw, ok := dateKeywords[f.s]
			if !ok || kw.typ == kwUnits {
				if loc, ok := lookupZone(f.s); ok && f.typ == ftString {
					tm.zone = loc
					tmask = fTZ
					break
				}
				return nil, dtBadFormat
			}
			switch kw.typ {
			case kwReserved:
				switch kw.val {
				case resAllballs:
					tmask = fTimeM | fTZ
					tm.hour, tm.min, tm.sec, tm.fsec = 0, 0, 0, 0
					tm.tzOff = 0
				case resToday, resTomorrow, resYesterday, resNow:
					if set.Now.IsZero() {
						return nil, dtBadFormat - 100 // signals "no clock"
					}
					now := set.Now.In(set.loc())
					if kw.val == resNow {
						tmask = fDateM | fTimeM | fTZ
						tm.year, tm.mon, tm.mday = now.Year(), int(now.Month()), now.Day()
						tm.hour, tm.min, tm.sec = now.Hour(), now.Minute(), now.Second()
						tm.fsec = int64(now.Nanosecond() / 1000)
						_, tm.tzOff = now.Zone()
					} else {
						tmask = fDateM
						j := date2j(now.Year(), int(now.Month()), now.Day())
						if kw.val == resTomorrow {
							j++
						} else if kw.val == resYesterday {
							j--
						}
						tm.year, tm.mon, tm.mday = j2date(j)
					}
				default:
					if len(fields) != 1 || timeOnly {
						return nil, dtBadFormat
					}
					tm.special = kw.val
					tmask = fReserved
				}
			case kwMonth:
				tmask = fMonth
				if tm.fmask&fMonth != 0 && !tm.haveTextMonth && tm.fmask&fDay == 0 && tm.mon >= 1 && tm.mon <= 31 {
					// A numeric "month" before a month name was the day.
					tm.mday = tm.mon
					tmask = fDay
				}
				tm.mon = kw.val
				tm.haveTextMonth = true
			case kwDOW:
				tmask = fDOW
			case kwAMPM:
				tm.mer = kw.val
				tmask = fAMPM
			case kwADBC:
				tm.bc = kw.val == 1
				tmask = fADBC
			case kwIgnore:
			case kwISOTime:
				// "T" must be followed by a time or run-together time.
				if fi+1 >= len(fields) || (fields[fi+1].typ != ftTime && fields[fi+1].typ != ftNumber) || tm.fmask&fDateM != fDateM && !timeOnly {
					return nil, dtBadFormat
				}
				ptype = 1
			case kwJulian:
				ptype = 2
			}
		}
		if tmask&tm.fmask != 0 {
			return nil, dtBadFormat
		}
		tm.fmask |= tmask
	}
	if ptype != 0 {
		return nil, dtBadFormat
	}
	if e := validateDate(tm); e != dtOK {
		return nil, e
	}
	if tm.mer != -1 && tm.hour > 12 {
		return nil, dtFieldOverflow
	}
	if tm.mer == 0 && tm.hour == 12 {
		tm.hour = 0
	} else if tm.mer == 1 && tm.hour != 12 {
		tm.hour += 12
	}
	return tm, dtOK
}

func timeOverflows(h, m, s int, fsec int64) bool {
	if h < 0 || h > 24 || m < 0 || m > 59 || s < 0 || s > 60 || fsec < 0 || fsec > usecsPerSec {
		return true
	}
	return int64((h*60+m)*60+s)*usecsPerSec+fsec > usecsPerDay
}

func validateDate(tm *tmFields) dtErr {
	if tm.fmask&fYear != 0 {
		switch {
		case tm.julian:
		case tm.bc:
			if tm.year <= 0 {
				return dtFieldOverflow
			}
			tm.year = -(tm.year - 1)
		case tm.is2digits:
			if tm.year < 0 {
				return dtFieldOverflow
			}
			if tm.year < 70 {
				tm.year += 2000
			} else if tm.year < 100 {
				tm.year += 1900
			}
		default:
			if tm.year <= 0 {
				return dtFieldOverflow
			}
		}
	}
	if tm.fmask&fDOY != 0 {
		tm.year, tm.mon, tm.mday = j2date(date2j(tm.year, 1, 1) + tm.yday - 1)
	}
	if tm.fmask&fMonth != 0 && (tm.mon < 1 || tm.mon > 12) {
		return dtMDFieldOverflow
	}
	if tm.fmask&fDay != 0 && (tm.mday < 1 || tm.mday > 31) {
		return dtMDFieldOverflow
	}
	if tm.fmask&fDateM == fDateM {
		if tm.mday > DaysInMonth(tm.year, tm.mon) {
			return dtFieldOverflow
		}
	}
	return dtOK
}

// decodeDate is DecodeDate: a field with embedded separators.
func decodeDate(s string, tm *tmFields, order byte, tmask *int) dtErr {
	var parts []string
	i := 0
	for i < len(s) {
		for i < len(s) && !isAlnumByte(s[i]) {
			i++
		}
		if i >= len(s) {
			return dtBadFormat
		}
		start := i
		if s[i] >= '0' && s[i] <= '9' {
			for i < len(s) && s[i] >= '0' && s[i] <= '9' {
				i++
			}
		} else {
			for i < len(s) && isAlphaByte(s[i]) {
				i++
			}
		}
		parts = append(parts, s[start:i])
		if i < len(s) {
			i++
		}
	}
	fmask := tm.fmask
	var mask int
	for k, p := range parts {
		if isAlphaByte(p[0]) {
			kw, ok := dateKeywords[p]
			if ok && kw.typ == kwIgnore {
				parts[k] = ""
				continue
			}
			if !ok || kw.typ != kwMonth {
				return dtBadFormat
			}
			tm.mon = kw.val
			tm.haveTextMonth = true
			if fmask&fMonth != 0 {
				return dtBadFormat
			}
			fmask |= fMonth
			mask |= fMonth
			parts[k] = ""
		}
	}
	for _, p := range parts {
		if p == "" {
			continue
		}
		save := tm.fmask
		tm.fmask = fmask
		var dm int
		e := decodeNumber(p, tm, order, &dm)
		tm.fmask = save
		if e != dtOK {
			return e
		}
		if fmask&dm != 0 {
			return dtBadFormat
		}
		fmask |= dm
		mask |= dm
	}
	if fmask&fDateM != fDateM {
		return dtBadFormat
	}
	*tmask = mask
	return dtOK
}

func isAlphaByte(c byte) bool { return c|0x20 >= 'a' && c|0x20 <= 'z' }
func isAlnumByte(c byte) bool { return isAlphaByte(c) || c >= '0' && c <= '9' }

// decodeNumber is DecodeNumber: one numeric date field, placed by what has
// been seen so far and DateStyle.
func decodeNumber(s string, tm *tmFields, order byte, tmask *int) dtErr {
	*tmask = 0
	j := 0
	for j < len(s) && s[j] >= '0' && s[j] <= '9' {
		j++
	}
	if j == 0 {
		return dtBadFormat
	}
	val, err := strconv.Atoi(s[:j])
	if err != nil || val > math.MaxInt32 {
		return dtFieldOverflow
	}
	flen := len(s)
	if j < len(s) {
		if s[j] != '.' {
			return dtBadFormat
		}
		if j > 2 {
			return decodeNumberField(s, tm.fmask|fDateM, tmask, tm)
		}
		f, e := parseFractionalSecond(s[j:])
		if e != dtOK {
			return e
		}
		tm.fsec = f
	}
	if flen == 3 && tm.fmask&fDateM == fYear && val >= 1 && val <= 366 {
		*tmask = fDOY | fMonth | fDay
		tm.yday = val
		return dtOK
	}
	switch tm.fmask & fDateM {
	case 0:
		if flen >= 3 || order == 'Y' {
			*tmask = fYear
			tm.year = val
		} else if order == 'D' {
			*tmask = fDay
			tm.mday = val
		} else {
			*tmask = fMonth
			tm.mon = val
		}
	case fYear:
		*tmask = fMonth
		tm.mon = val
	case fMonth:
		if tm.haveTextMonth {
			if flen >= 3 || order == 'Y' {
				*tmask = fYear
				tm.year = val
			} else {
				*tmask = fDay
				tm.mday = val
			}
		} else {
			*tmask = fDay
			tm.mday = val
		}
	case fYear | fMonth:
		if tm.haveTextMonth && flen >= 3 && tm.is2digits {
			*tmask = fDay
			tm.mday = tm.year
			tm.year = val
			tm.is2digits = false
		} else {
			*tmask = fDay
			tm.mday = val
		}
	case fDay:
		*tmask = fMonth
		tm.mon = val
	case fMonth | fDay:
		*tmask = fYear
		tm.year = val
	case fDateM:
		return decodeNumberField(s, tm.fmask, tmask, tm)
	default:
		return dtBadFormat
	}
	if *tmask == fYear {
		tm.is2digits = flen <= 2
	}
	return dtOK
}

// decodeNumberField is DecodeNumberField: run-together yyyymmdd, hhmmss,
// hhmm, with an optional fraction.
func decodeNumberField(s string, fmask int, tmask *int, tm *tmFields) dtErr {
	if dot := strings.IndexByte(s, '.'); dot >= 0 {
		if dot+1 < len(s) {
			f, err := strconv.ParseFloat(s[dot:], 64)
			if err != nil {
				return dtBadFormat
			}
			tm.fsec = int64(math.RoundToEven(f * 1e6))
		} else {
			tm.fsec = 0
		}
		s = s[:dot]
	} else if fmask&fDateM != fDateM {
		if len(s) >= 6 {
			*tmask = fDateM
			tm.mday = atoi(s[len(s)-2:])
			tm.mon = atoi(s[len(s)-4 : len(s)-2])
			tm.year = atoi(s[:len(s)-4])
			if len(s)-4 == 2 {
				tm.is2digits = true
			}
			return dtOK
		}
	}
	if fmask&fTimeM != fTimeM {
		switch len(s) {
		case 6:
			*tmask = fTimeM
			tm.sec = atoi(s[4:])
			tm.min = atoi(s[2:4])
			tm.hour = atoi(s[:2])
			return dtOK
		case 4:
			*tmask = fTimeM
			tm.sec = 0
			tm.min = atoi(s[2:])
			tm.hour = atoi(s[:2])
			return dtOK
		}
	}
	return dtBadFormat
}

func atoi(s string) int {
	v, _ := strconv.Atoi(s)
	return v
}

func parseFractionalSecond(s string) (int64, dtErr) {
	if s == "." {
		return 0, dtOK
	}
	if len(s) < 2 || s[0] != '.' {
		return 0, dtBadFormat
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
	return int64(math.RoundToEven(f * 1e6)), dtOK
}

// decodeTime is DecodeTime: hh:mm[:ss[.frac]] or mm:ss.frac.
func decodeTime(s string, tm *tmFields, tmask *int) dtErr {
	*tmask = fTimeM
	num := func() (int, bool) {
		j := 0
		for j < len(s) && s[j] >= '0' && s[j] <= '9' {
			j++
		}
		if j == 0 {
			return 0, false
		}
		v, err := strconv.Atoi(s[:j])
		s = s[j:]
		return v, err == nil && v <= math.MaxInt32
	}
	hour, ok := num()
	if !ok || len(s) == 0 || s[0] != ':' {
		return dtBadFormat
	}
	s = s[1:]
	min, ok := num()
	if !ok {
		return dtBadFormat
	}
	sec, fsec := 0, int64(0)
	switch {
	case s == "":
	case s[0] == '.':
		f, e := parseFractionalSecond(s)
		if e != dtOK {
			return e
		}
		fsec, sec, min, hour = f, min, hour, 0
	case s[0] == ':':
		s = s[1:]
		sec, ok = num()
		if !ok {
			return dtBadFormat
		}
		if s != "" {
			f, e := parseFractionalSecond(s)
			if e != dtOK {
				return e
			}
			fsec = f
		}
	default:
		return dtBadFormat
	}
	if hour < 0 || min < 0 || min > 59 || sec < 0 || sec > 60 || fsec < 0 || fsec > usecsPerSec {
		return dtFieldOverflow
	}
	tm.hour, tm.min, tm.sec, tm.fsec = hour, min, sec, fsec
	return dtOK
}

// decodeTimezone is DecodeTimezone: +hh, +hh:mm[:ss], +hhmm; returns
// seconds east of UTC.
func decodeTimezone(s string) (int, dtErr) {
	if s == "" || (s[0] != '+' && s[0] != '-') {
		return 0, dtBadFormat
	}
	rest := s[1:]
	num := func() (int, bool) {
		j := 0
		for j < len(rest) && rest[j] >= '0' && rest[j] <= '9' {
			j++
		}
		if j == 0 {
			return 0, true // strtoint of nothing is 0
		}
		v, err := strconv.Atoi(rest[:j])
		rest = rest[j:]
		return v, err == nil && v <= math.MaxInt32
	}
	hr, ok := num()
	if !ok {
		return 0, dtTZDispOverflow
	}
	min, sec := 0, 0
	if rest != "" && rest[0] == ':' {
		rest = rest[1:]
		if min, ok = num(); !ok {
			return 0, dtTZDispOverflow
		}
		if rest != "" && rest[0] == ':' {
			rest = rest[1:]
			if sec, ok = num(); !ok {
				return 0, dtTZDispOverflow
			}
		}
	} else if rest == "" && len(s) > 3 {
		min = hr % 100
		hr /= 100
	}
	if hr > 15 || min >= 60 || sec >= 60 {
		return 0, dtTZDispOverflow
	}
	tz := (hr*60+min)*60 + sec
	if s[0] == '-' {
		tz = -tz
	}
	if rest != "" {
		return 0, dtBadFormat
	}
	return tz, dtOK
}

// zoneNames maps lower-cased IANA zone names to their spelling, since
// PostgreSQL looks zone names up case-insensitively.
var zoneNames = sync.OnceValue(func() map[string]string {
	m := map[string]string{"utc": "UTC", "gmt": "GMT"}
	for _, root := range []string{"/usr/share/zoneinfo", "/usr/share/lib/zoneinfo", "/usr/lib/locale/TZ"} {
		filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return nil
			}
			rel, _ := filepath.Rel(root, path)
			if strings.HasPrefix(rel, "posix/") || strings.HasPrefix(rel, "right/") || strings.Contains(rel, ".") {
				return nil
			}
			m[strings.ToLower(rel)] = rel
			return nil
		})
	}
	return m
})

var zoneCache sync.Map // lower-case name → *time.Location

// LookupZone finds a time zone by name, case-insensitively, as PostgreSQL
// does for TimeZone settings and zone names inside values.
func LookupZone(name string) (*time.Location, bool) {
	return lookupZone(strings.ToLower(name))
}

func lookupZone(lower string) (*time.Location, bool) {
	if v, ok := zoneCache.Load(lower); ok {
		return v.(*time.Location), true
	}
	name, ok := zoneNames()[lower]
	if !ok {
		return nil, false
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, false
	}
	zoneCache.Store(lower, loc)
	return loc, true
}

func zoneOffset(loc *time.Location, unix int64) int { return ZoneOffset(loc, unix) }

// ZoneOffset is the UTC offset (seconds east) in loc at a UTC instant
// given in seconds since the Unix epoch.
func ZoneOffset(loc *time.Location, unix int64) int {
	if loc == time.UTC {
		return 0
	}
	_, off := time.Unix(unix, 0).In(loc).Zone()
	return off
}

func localOffset(loc *time.Location, local int64) int { return LocalOffset(loc, local) }

// LocalOffset is DetermineTimeZoneOffset: the UTC offset (seconds east)
// that applies in loc to a local wall-clock time (seconds since the Unix
// epoch, as if UTC). In a spring-forward gap the offset before the
// transition is used; in a fall-back overlap, the one after.
func LocalOffset(loc *time.Location, local int64) int {
	if loc == time.UTC {
		return 0
	}
	prev := time.Unix(local-86400, 0).In(loc)
	_, before := prev.Zone()
	_, end := prev.ZoneBounds()
	if end.IsZero() {
		return before
	}
	boundary := end.Unix()
	_, after := end.In(loc).Zone()
	bt := local - int64(before)
	at := local - int64(after)
	switch {
	case bt < boundary && at < boundary:
		return before
	case bt >= boundary && at >= boundary:
		return after
	case bt > at:
		return before
	default:
		return after
	}
}

func parseDateTimeFields(s string, set *Settings, typ string, timeOnly bool) (*tmFields, error) {
	fields, ok := parseFields(s)
	if !ok || len(fields) == 0 {
		return nil, dateTimeError(dtBadFormat, s, typ)
	}
	tm, e := decodeDateTime(fields, set, timeOnly)
	if e == dtBadFormat-100 {
		return nil, pgerr.New(pgerr.FeatureNotSupported, "%s input %q needs the current time, which is not available here", typ, s)
	}
	if e != dtOK {
		return nil, dateTimeError(e, s, typ)
	}
	return tm, nil
}

// timestampFields is parseDateTimeFields for a timestamp, reading the ISO
// form PostgreSQL prints without the general parser (isotimestamp.go).
func timestampFields(s string, set *Settings, typ string, zone bool) (*tmFields, error) {
	if tm, ok := isoTimestampFields(s, zone); ok {
		return &tm, nil
	}
	return parseDateTimeFields(s, set, typ, false)
}

// parseDate is date_in.
func parseDate(s string, set *Settings) (Datum, error) {
	tm, err := parseDateTimeFields(s, set, "date", false)
	if err != nil {
		return nil, err
	}
	switch tm.special {
	case resEpoch:
		return Date(unixEpochJ - postgresEpochJ), nil
	case resInfinity:
		return DateInfinity, nil
	case resNegInfinity:
		return DateNegInfinity, nil
	}
	if tm.fmask&fDateM != fDateM {
		return nil, dateTimeError(dtBadFormat, s, "date")
	}
	if !validJulian(tm.year, tm.mon, tm.mday) {
		return nil, pgerr.New(pgerr.DatetimeFieldOverflow, "date out of range: %q", s)
	}
	d := date2j(tm.year, tm.mon, tm.mday) - postgresEpochJ
	if d < minDate || d >= endDate {
		return nil, pgerr.New(pgerr.DatetimeFieldOverflow, "date out of range: %q", s)
	}
	return Date(d), nil
}

// tmToLocal is tm2timestamp: microseconds since 2000-01-01 of the wall
// clock, or false when out of range.
func tmToLocal(tm *tmFields) (int64, bool) {
	if !validJulian(tm.year, tm.mon, tm.mday) {
		return 0, false
	}
	d := int64(date2j(tm.year, tm.mon, tm.mday) - postgresEpochJ)
	t := int64((tm.hour*60+tm.min)*60+tm.sec)*usecsPerSec + tm.fsec
	// The caller range-checks after applying any zone offset.
	return d*usecsPerDay + t, true
}

// parseTimestamp is timestamp_in; an explicit zone is ignored, as there.
func parseTimestamp(s string, typmod int32, set *Settings) (Datum, error) {
	tm, err := timestampFields(s, set, "timestamp", false)
	if err != nil {
		return nil, err
	}
	return timestampOf(tm, s, typmod)
}

// timestampOf is the timestamp that parsed fields give (s is the input,
// for errors).
func timestampOf(tm *tmFields, s string, typmod int32) (Datum, error) {
	switch tm.special {
	case resEpoch:
		return Timestamp(-unixToPostgresMicros), nil
	case resInfinity:
		return TimestampInfinity, nil
	case resNegInfinity:
		return TimestampNegInfinity, nil
	}
	if tm.fmask&fDateM != fDateM {
		return nil, dateTimeError(dtBadFormat, s, "timestamp")
	}
	r, ok := tmToLocal(tm)
	if !ok || r < minTimestamp || r >= endTimestamp {
		return nil, pgerr.New(pgerr.DatetimeFieldOverflow, "timestamp out of range: %q", s)
	}
	r, ok = roundTimestamp(r, typmod)
	if !ok {
		return nil, pgerr.New(pgerr.DatetimeFieldOverflow, "timestamp out of range: %q", s)
	}
	return Timestamp(r), nil
}

// parseTimestampTZ is timestamptz_in.
func parseTimestampTZ(s string, typmod int32, set *Settings) (Datum, error) {
	tm, err := timestampFields(s, set, "timestamp with time zone", true)
	if err != nil {
		return nil, err
	}
	return timestampTZOf(tm, s, typmod, set)
}

// timestampTZOf is the timestamptz that parsed fields give in set's time
// zone (s is the input, for errors).
func timestampTZOf(tm *tmFields, s string, typmod int32, set *Settings) (Datum, error) {
	switch tm.special {
	case resEpoch:
		return TimestampTZ(-unixToPostgresMicros), nil
	case resInfinity:
		return TimestampTZInfinity, nil
	case resNegInfinity:
		return TimestampTZNegInf, nil
	}
	if tm.fmask&fDateM != fDateM {
		return nil, dateTimeError(dtBadFormat, s, "timestamp with time zone")
	}
	local, ok := tmToLocal(tm)
	if !ok {
		return nil, pgerr.New(pgerr.DatetimeFieldOverflow, "timestamp out of range: %q", s)
	}
	var off int
	switch {
	case tm.zone != nil:
		off = localOffset(tm.zone, floorDivSec(local))
	case tm.fmask&fTZ != 0:
		off = tm.tzOff
	default:
		off = localOffset(set.loc(), floorDivSec(local))
	}
	r := local - int64(off)*usecsPerSec
	if r < minTimestamp || r >= endTimestamp {
		return nil, pgerr.New(pgerr.DatetimeFieldOverflow, "timestamp out of range: %q", s)
	}
	r, ok = roundTimestamp(r, typmod)
	if !ok {
		return nil, pgerr.New(pgerr.DatetimeFieldOverflow, "timestamp out of range: %q", s)
	}
	return TimestampTZ(r), nil
}

// floorDivSec converts microseconds since 2000 to Unix seconds.
func floorDivSec(us int64) int64 {
	q, _ := floorDiv(us, usecsPerSec)
	return q + unixToPostgresMicros/usecsPerSec
}

var timestampScales = [7]int64{1000000, 100000, 10000, 1000, 100, 10, 1}

// roundTimestamp is AdjustTimestampForTypmod: round half away from zero
// to typmod fractional digits.
func roundTimestamp(t int64, typmod int32) (int64, bool) {
	if typmod < 0 || typmod >= 6 || t == math.MinInt64 || t == math.MaxInt64 {
		return t, true
	}
	scale := timestampScales[typmod]
	off := scale / 2
	if t >= 0 {
		t = (t + off) / scale * scale
	} else {
		t = -((-t + off) / scale * scale)
	}
	return t, t >= minTimestamp && t < endTimestamp
}

// parseTime is time_in.
func parseTime(s string, typmod int32, set *Settings) (Datum, error) {
	tm, err := parseDateTimeFields(s, set, "time without time zone", true)
	if err != nil {
		return nil, err
	}
	if tm.hour < 0 || tm.min < 0 || tm.min > 59 || tm.sec < 0 || tm.sec > 60 || tm.hour > 24 ||
		(tm.hour == 24 && (tm.min > 0 || tm.sec > 0 || tm.fsec > 0)) || tm.fsec < 0 || tm.fsec > usecsPerSec {
		return nil, dateTimeError(dtFieldOverflow, s, "time")
	}
	if tm.fmask&fTimeM == 0 {
		return nil, dateTimeError(dtBadFormat, s, "time without time zone")
	}
	t := int64((tm.hour*60+tm.min)*60+tm.sec)*usecsPerSec + tm.fsec
	return TimeOfDay(roundTime(t, typmod)), nil
}

func roundTime(t int64, typmod int32) int64 {
	if typmod < 0 || typmod >= 6 {
		return t
	}
	scale := timestampScales[typmod]
	return (t + scale/2) / scale * scale
}

// appendDate is date_out in ISO style.
func appendDate(buf []byte, d Date) []byte {
	switch d {
	case DateInfinity:
		return append(buf, "infinity"...)
	case DateNegInfinity:
		return append(buf, "-infinity"...)
	}
	y, m, dd := j2date(int(d) + postgresEpochJ)
	buf = appendYMD(buf, y, m, dd)
	if y <= 0 {
		buf = append(buf, " BC"...)
	}
	return buf
}

func appendYMD(buf []byte, y, m, d int) []byte {
	if y <= 0 {
		y = -(y - 1)
	}
	buf = appendPad(buf, int64(y), 4)
	buf = append(buf, '-')
	buf = appendPad(buf, int64(m), 2)
	buf = append(buf, '-')
	return appendPad(buf, int64(d), 2)
}

func appendPad(buf []byte, v int64, width int) []byte {
	var tmp [20]byte
	b := strconv.AppendInt(tmp[:0], v, 10)
	for i := len(b); i < width; i++ {
		buf = append(buf, '0')
	}
	return append(buf, b...)
}

// appendTimeOfDay prints hh:mm:ss[.ffffff], trailing zeros trimmed.
func appendTimeOfDay(buf []byte, us int64) []byte {
	h := us / usecsPerHour
	us -= h * usecsPerHour
	m := us / usecsPerMinute
	us -= m * usecsPerMinute
	buf = appendPad(buf, h, 2)
	buf = append(buf, ':')
	buf = appendPad(buf, m, 2)
	buf = append(buf, ':')
	return appendSeconds(buf, us)
}

// appendSeconds prints ss[.ffffff] from microseconds (non-negative).
func appendSeconds(buf []byte, us int64) []byte {
	buf = appendPad(buf, us/usecsPerSec, 2)
	frac := us % usecsPerSec
	if frac == 0 {
		return buf
	}
	buf = append(buf, '.')
	n := len(buf)
	buf = appendPad(buf, frac, 6)
	for buf[len(buf)-1] == '0' && len(buf) > n {
		buf = buf[:len(buf)-1]
	}
	return buf
}

// appendTimestamp is timestamp_out in ISO style.
func appendTimestamp(buf []byte, t Timestamp) []byte {
	switch t {
	case TimestampInfinity:
		return append(buf, "infinity"...)
	case TimestampNegInfinity:
		return append(buf, "-infinity"...)
	}
	buf, y := appendLocal(buf, int64(t))
	if y <= 0 {
		buf = append(buf, " BC"...)
	}
	return buf
}

func appendLocal(buf []byte, us int64) ([]byte, int) {
	days, tod := floorDiv(us, usecsPerDay)
	y, m, d := j2date(int(days) + postgresEpochJ)
	buf = appendYMD(buf, y, m, d)
	buf = append(buf, ' ')
	return appendTimeOfDay(buf, tod), y
}

// appendTimestampTZ is timestamptz_out in ISO style, in loc.
func appendTimestampTZ(buf []byte, t TimestampTZ, loc *time.Location) []byte {
	switch t {
	case TimestampTZInfinity:
		return append(buf, "infinity"...)
	case TimestampTZNegInf:
		return append(buf, "-infinity"...)
	}
	off := zoneOffset(loc, floorDivSec(int64(t)))
	buf, y := appendLocal(buf, int64(t)+int64(off)*usecsPerSec)
	buf = appendOffset(buf, off)
	if y <= 0 {
		buf = append(buf, " BC"...)
	}
	return buf
}

// appendOffset is EncodeTimezone: +hh, +hh:mm or +hh:mm:ss.
func appendOffset(buf []byte, off int) []byte {
	if off < 0 {
		buf = append(buf, '-')
		off = -off
	} else {
		buf = append(buf, '+')
	}
	h, m, s := off/3600, off/60%60, off%60
	buf = appendPad(buf, int64(h), 2)
	if m != 0 || s != 0 {
		buf = append(buf, ':')
		buf = appendPad(buf, int64(m), 2)
	}
	if s != 0 {
		buf = append(buf, ':')
		buf = appendPad(buf, int64(s), 2)
	}
	return buf
}

// SettingZone is the time zone a TimeZone setting names: a zone name, or
// a number of hours east of UTC (SET TIME ZONE -5 means UTC-5; POSIX-style
// names invert the sign, a bare number does not).
func SettingZone(v string) (*time.Location, error) {
	if loc, ok := LookupZone(v); ok {
		return loc, nil
	}
	if h, err := strconv.ParseFloat(v, 64); err == nil {
		return time.FixedZone(v, int(h*3600)), nil
	}
	return nil, pgerr.New(pgerr.InvalidParameterValue, "invalid value for parameter \"TimeZone\": %q", v)
}
