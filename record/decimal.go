package record

import (
	"math"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Hand-written conversions for werkzeug's perf_info, read on every Odoo
// request line: the float round trip they replace (strconv.ParseFloat, then
// FormatFloat) cost as much as the rest of the line's parse. Each keeps the
// float version for the inputs its exact path does not cover, and a fuzz
// test holds both to the same results.

// secondsToMicros reads decimal seconds ("0.021") as microseconds, rounded:
// false for what strconv.ParseFloat refuses, negatives and more than 1e12 s.
func secondsToMicros(s string) (int64, bool) {
	if us, ok := plainMicros(s); ok {
		return us, true
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || v > 1e12 {
		return 0, false
	}
	return int64(math.Round(v * 1e6)), true
}

// plainMicros reads "123" or "123.456789" (at most 9 integer digits and 6
// decimals) exactly. For those, the float path's math.Round(v*1e6) is
// exact too: its error stays below 0.1 µs.
func plainMicros(s string) (int64, bool) {
	intPart, frac, dot := strings.Cut(s, ".")
	if len(intPart) == 0 || len(intPart) > 9 || dot && (len(frac) == 0 || len(frac) > 6) {
		return 0, false
	}
	var us int64
	for i := 0; i < len(intPart); i++ {
		if !isDigit(intPart[i]) {
			return 0, false
		}
		us = us*10 + int64(intPart[i]-'0')
	}
	scale := int64(1e6)
	for i := 0; i < len(frac); i++ {
		if !isDigit(frac[i]) {
			return 0, false
		}
		us = us*10 + int64(frac[i]-'0')
		scale /= 10
	}
	return us * scale, true
}

// appendMS appends microseconds as decimal milliseconds: what
// strconv.FormatFloat(float64(us)/1e3, 'f', -1, 64) writes. Below 1e15 µs
// (15 digits) the shortest decimal of us/1e3 is us/1e3 itself: write it
// with integers.
func appendMS(dst []byte, us int64) []byte {
	if us < 0 || us >= 1e15 {
		return strconv.AppendFloat(dst, float64(us)/1e3, 'f', -1, 64)
	}
	dst = strconv.AppendInt(dst, us/1000, 10)
	if f := us % 1000; f != 0 {
		dst = append(dst, '.', byte('0'+f/100), byte('0'+f/10%10), byte('0'+f%10))
		for dst[len(dst)-1] == '0' {
			dst = dst[:len(dst)-1]
		}
	}
	return dst
}

// firstFields stores in dst the first len(dst) fields of s as
// strings.Fields splits it, and returns how many there are (at most
// len(dst)); no allocation when s is ASCII.
func firstFields(s string, dst []string) int {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return copy(dst, strings.Fields(s)) // Unicode spaces too
		}
	}
	n := 0
	for i := 0; i < len(s) && n < len(dst); {
		for i < len(s) && asciiSpace(s[i]) {
			i++
		}
		j := i
		for j < len(s) && !asciiSpace(s[j]) {
			j++
		}
		if j > i {
			dst[n] = s[i:j]
			n++
		}
		i = j
	}
	return n
}

func asciiSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r'
}
