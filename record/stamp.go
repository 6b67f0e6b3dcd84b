package record

import "time"

// stamp is a timestamp read from a message before its year and zone are
// settled. year 0 means the message carried none.
type stamp struct {
	year, month, day, hour, min, sec, nsec int
	offset                                 int // seconds east of UTC, when hasOffset
	hasOffset                              bool
}

// parseStamp reads, at the start of s, one of the timestamp shapes seen in
// syslog traffic and returns the bytes consumed:
//
//	Nov 22 10:00:00, Nov  2 10:00:00, Nov 02 10:00:00.123 (RFC 3164, BSD)
//	Nov 22 2026 10:00:00 (Cisco ASA, IOS "datetime year")
//	2026 Nov 22 10:00:00 (NX-OS)
//	2026-11-22T10:00:00.123456+01:00, 2026-11-22 10:00:00 (RFC 3339 / ISO 8601)
//
// Hand-written: time.Parse cannot take both day paddings in one layout, and
// it allocates on failure, which is the common case for the probes here.
func parseStamp(s string) (stamp, int, bool) {
	if len(s) >= 5 && isDigit(s[0]) {
		if s[4] == '-' {
			return parseISO(s)
		}
		if s[4] == ' ' { // NX-OS: year first
			y, ok := digitsN(s, 0, 4)
			if !ok {
				return stamp{}, 0, false
			}
			st, n, ok := parseBSD(s[5:], false)
			st.year = y
			return st, n + 5, ok
		}
		return stamp{}, 0, false
	}
	return parseBSD(s, true)
}

var monthAbbr = [12]string{"jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"}

// monthOf maps an English month abbreviation, any case, to 1-12 (0: none).
func monthOf(a, b, c byte) int {
	a, b, c = a|0x20, b|0x20, c|0x20
	for i, m := range monthAbbr {
		if m[0] == a && m[1] == b && m[2] == c {
			return i + 1
		}
	}
	return 0
}

func parseBSD(s string, allowYear bool) (st stamp, n int, ok bool) {
	if len(s) < 14 { // "Nov 2 10:00:00"
		return st, 0, false
	}
	st.month = monthOf(s[0], s[1], s[2])
	if st.month == 0 || s[3] != ' ' {
		return st, 0, false
	}
	i := 4
	if s[i] == ' ' { // "Nov  2"
		i++
	}
	j := i
	for j < len(s) && j-i < 2 && isDigit(s[j]) {
		st.day = st.day*10 + int(s[j]-'0')
		j++
	}
	if j == i || st.day < 1 || st.day > 31 || j >= len(s) || s[j] != ' ' {
		return st, 0, false
	}
	i = j + 1
	if allowYear && i+5 <= len(s) && s[i+4] == ' ' {
		if y, ok := digitsN(s, i, 4); ok {
			st.year = y
			i += 5
		}
	}
	k, ok := parseClock(s, i, &st)
	return st, k, ok
}

// parseClock reads "hh:mm:ss[.fraction]" at s[i:], returning the end offset.
func parseClock(s string, i int, st *stamp) (int, bool) {
	if i+8 > len(s) || s[i+2] != ':' || s[i+5] != ':' {
		return 0, false
	}
	var ok1, ok2, ok3 bool
	st.hour, ok1 = digitsN(s, i, 2)
	st.min, ok2 = digitsN(s, i+3, 2)
	st.sec, ok3 = digitsN(s, i+6, 2)
	if !ok1 || !ok2 || !ok3 || st.hour > 23 || st.min > 59 || st.sec > 60 {
		return 0, false
	}
	i += 8
	if i+1 < len(s) && s[i] == '.' && isDigit(s[i+1]) {
		i++
		scale := 100000000
		for ; i < len(s) && isDigit(s[i]); i++ {
			st.nsec += int(s[i]-'0') * scale // digits past nanoseconds add 0
			scale /= 10
		}
	}
	return i, true
}

func parseISO(s string) (st stamp, n int, ok bool) {
	if len(s) < 19 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != ' ') {
		return st, 0, false
	}
	var ok1, ok2, ok3 bool
	st.year, ok1 = digitsN(s, 0, 4)
	st.month, ok2 = digitsN(s, 5, 2)
	st.day, ok3 = digitsN(s, 8, 2)
	if !ok1 || !ok2 || !ok3 || st.year == 0 || st.month < 1 || st.month > 12 || st.day < 1 || st.day > 31 {
		return st, 0, false
	}
	i, ok := parseClock(s, 11, &st)
	if !ok {
		return st, 0, false
	}
	if i < len(s) {
		switch c := s[i]; {
		case c == 'Z' || c == 'z':
			st.hasOffset = true
			i++
		case (c == '+' || c == '-') && i+5 <= len(s):
			// ±hh:mm or ±hhmm
			h, okh := digitsN(s, i+1, 2)
			k := i + 3
			if k < len(s) && s[k] == ':' {
				k++
			}
			m, okm := digitsN(s, k, 2)
			if okh && okm && h < 24 && m < 60 {
				st.offset = h*3600 + m*60
				if c == '-' {
					st.offset = -st.offset
				}
				st.hasOffset = true
				i = k + 2
			}
		}
	}
	return st, i, true
}

// time settles a stamp into UTC: its own offset first, then loc; a missing
// year is the one that puts the stamp nearest to received (a Dec 31 stamp
// received on Jan 1 belongs to the previous year). ok is false for dates that
// do not exist (Feb 30).
func (st stamp) time(loc *time.Location, received time.Time) (time.Time, bool) {
	if st.hasOffset {
		loc = time.UTC // the offset is applied below
	}
	var t time.Time
	if st.year != 0 {
		t = time.Date(st.year, time.Month(st.month), st.day, st.hour, st.min, st.sec, st.nsec, loc)
		if t.Day() != st.day {
			return t, false
		}
	} else {
		y := received.In(loc).Year()
		var bestD time.Duration
		for _, yy := range [3]int{y - 1, y, y + 1} {
			c := time.Date(yy, time.Month(st.month), st.day, st.hour, st.min, st.sec, st.nsec, loc)
			if c.Day() != st.day { // Feb 29 outside leap years
				continue
			}
			d := c.Sub(received)
			if d < 0 {
				d = -d
			}
			if t.IsZero() || d < bestD {
				t, bestD = c, d
			}
		}
		if t.IsZero() {
			return t, false
		}
	}
	t = t.Add(-time.Duration(st.offset) * time.Second).UTC()
	// Year 1 is Go's zero time and year 10000 cannot be written in JSON.
	return t, t.Year() > 1 && t.Year() < 10000
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

// digitsN reads exactly n decimal digits at s[i:].
func digitsN(s string, i, n int) (int, bool) {
	if i < 0 || i+n > len(s) {
		return 0, false
	}
	v := 0
	for _, c := range []byte(s[i : i+n]) {
		if !isDigit(c) {
			return 0, false
		}
		v = v*10 + int(c-'0')
	}
	return v, true
}
