package types

// COPY and drivers send timestamps in the ISO form PostgreSQL prints them
// in, 'YYYY-MM-DD HH:MM:SS[.ffffff][±HH[:MM]]'. Splitting that into fields
// and decoding them as PostgreSQL's general date/time parser does took 7%
// of the CPU of loading Nexmark's bids by COPY (one timestamp per row).
// isoTimestampFields reads exactly that form, with every field in range,
// into the fields the general parser would produce; anything else (other
// separators, 24:00:00, a leap second, BC, more than six fractional digits,
// a zone name) is left to the general parser, so the results agree
// (isotimestamp_test.go compares the two).

// isoTimestampFields parses s in the ISO form; zone says whether a
// trailing numeric UTC offset is allowed (timestamptz), which sets fTZ and
// tzOff as the general parser does.
func isoTimestampFields(s string, zone bool) (tmFields, bool) {
	var tm tmFields
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || s[10] != ' ' || s[13] != ':' || s[16] != ':' {
		return tm, false
	}
	var ok [6]bool
	tm.year, ok[0] = digits(s[0:4])
	tm.mon, ok[1] = digits(s[5:7])
	tm.mday, ok[2] = digits(s[8:10])
	tm.hour, ok[3] = digits(s[11:13])
	tm.min, ok[4] = digits(s[14:16])
	tm.sec, ok[5] = digits(s[17:19])
	if ok != [6]bool{true, true, true, true, true, true} || tm.year < 1 || tm.mon < 1 || tm.mon > 12 ||
		tm.mday < 1 || tm.mday > DaysInMonth(tm.year, tm.mon) || tm.hour > 23 || tm.min > 59 || tm.sec > 59 {
		return tm, false
	}
	rest := s[19:]
	if len(rest) > 0 && rest[0] == '.' {
		i := 1
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		frac := rest[1:i]
		if len(frac) == 0 || len(frac) > 6 {
			return tm, false
		}
		f, _ := digits(frac)
		for n := len(frac); n < 6; n++ {
			f *= 10
		}
		tm.fsec = int64(f)
		rest = rest[i:]
	}
	tm.fmask = fDateM | fTimeM
	if len(rest) > 0 {
		if !zone || (rest[0] != '+' && rest[0] != '-') {
			return tm, false
		}
		var hh, mm int
		var okh, okm bool
		switch len(rest) {
		case 3: // +HH
			hh, okh = digits(rest[1:3])
			okm = true
		case 6: // +HH:MM
			if rest[3] != ':' {
				return tm, false
			}
			hh, okh = digits(rest[1:3])
			mm, okm = digits(rest[4:6])
		default:
			return tm, false
		}
		if !okh || !okm || hh > 15 || mm > 59 {
			return tm, false
		}
		tm.tzOff = (hh*60 + mm) * 60
		if rest[0] == '-' {
			tm.tzOff = -tm.tzOff
		}
		tm.fmask |= fTZ
	}
	tm.special, tm.mer = -1, -1
	return tm, true
}

// digits is the number b's decimal digits write; false when b holds
// anything else.
func digits(b string) (int, bool) {
	n := 0
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}
