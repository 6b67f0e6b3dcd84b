package record

import (
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// AppendJSON appends the record's JSON form to dst: the same bytes as
// json.Marshal writes (a test holds them together), for a fraction of its
// cost — the agent encodes every line it ships, and encoding/json's
// reflection was most of its time per line.
func (r *Record) AppendJSON(dst []byte) []byte {
	dst = r.appendHead(dst)
	if len(r.Fields) > 0 {
		var arr [16]Field // most records have fewer fields: no allocation
		fs := arr[:0]
		for k, v := range r.Fields {
			fs = append(fs, Field{k, v})
		}
		dst = appendFields(dst, fs)
	}
	return append(dst, '}')
}

// appendHead writes everything but the fields and the closing brace.
func (r *Record) appendHead(dst []byte) []byte {
	dst = append(dst, '{')
	if r.ID != 0 {
		dst = append(dst, `"id":`...)
		dst = strconv.AppendInt(dst, r.ID, 10)
		dst = append(dst, ',')
	}
	dst = append(dst, `"time":`...)
	dst = appendTime(dst, r.Time)
	dst = append(dst, `,"received":`...)
	dst = appendTime(dst, r.Received)
	dst = append(dst, `,"host":`...)
	dst = appendString(dst, r.Host)
	dst = append(dst, `,"app":`...)
	dst = appendString(dst, r.App)
	dst = append(dst, `,"procid":`...)
	dst = appendString(dst, r.ProcID)
	dst = append(dst, `,"msgid":`...)
	dst = appendString(dst, r.MsgID)
	dst = append(dst, `,"facility":`...)
	dst = strconv.AppendInt(dst, int64(r.Facility), 10)
	dst = append(dst, `,"severity":`...)
	dst = strconv.AppendInt(dst, int64(r.Severity), 10)
	dst = append(dst, `,"source":`...)
	dst = appendString(dst, r.Source)
	dst = append(dst, `,"message":`...)
	return appendString(dst, r.Message)
}

// appendFields writes the "fields" object of fs as encoding/json writes a
// map: keys in byte order, each once, the last of equal keys winning (as in
// a map assigned in fs's order).
func appendFields(dst []byte, fs []Field) []byte {
	if len(fs) == 0 {
		return dst
	}
	dst = append(dst, `,"fields":{`...)
	var arr [32]int32
	idx := sortedFields(arr[:0], fs)
	first := true
	for i, k := range idx {
		f := fs[k]
		if i+1 < len(idx) && fs[idx[i+1]].Key == f.Key {
			continue // a later value of the same key follows
		}
		if !first {
			dst = append(dst, ',')
		}
		first = false
		dst = appendString(dst, f.Key)
		dst = append(dst, ':')
		dst = appendString(dst, f.Value)
	}
	return append(dst, '}')
}

// sortedFields appends to idx the indexes of fs sorted by key, stably.
// Sorting indexes moves no pointers: a dozen fields set in a nearly fixed
// order take a few dozen comparisons and no write barrier.
func sortedFields(idx []int32, fs []Field) []int32 {
	for i := range fs {
		idx = append(idx, int32(i))
	}
	if len(idx) > 32 {
		slices.SortStableFunc(idx, func(a, b int32) int { return strings.Compare(fs[a].Key, fs[b].Key) })
		return idx
	}
	for i := 1; i < len(idx); i++ {
		for j := i; j > 0 && keyLess(fs[idx[j]].Key, fs[idx[j-1]].Key); j-- {
			idx[j], idx[j-1] = idx[j-1], idx[j]
		}
	}
	return idx
}

// keyLess is a < b, deciding on the first bytes inline when they differ:
// most field names do.
func keyLess(a, b string) bool {
	if len(a) > 0 && len(b) > 0 && a[0] != b[0] {
		return a[0] < b[0]
	}
	return a < b
}

// appendTime writes time.Time's JSON form (RFC 3339 with nanoseconds).
func appendTime(dst []byte, t time.Time) []byte {
	dst = append(dst, '"')
	dst = t.AppendFormat(dst, time.RFC3339Nano)
	return append(dst, '"')
}

const hexDigits = "0123456789abcdef"

// plain8 tells whether the 8 bytes of s are all jsonSafe (SWAR: no byte
// below 0x20 or above 0x7f, none of " \\ < > &).
func plain8(s string) bool {
	_ = s[7]
	x := uint64(s[0]) | uint64(s[1])<<8 | uint64(s[2])<<16 | uint64(s[3])<<24 |
		uint64(s[4])<<32 | uint64(s[5])<<40 | uint64(s[6])<<48 | uint64(s[7])<<56
	const ones, highs = 0x0101010101010101, 0x8080808080808080
	zero := func(v uint64) uint64 { return (v - ones) & ^v & highs } // a 0x00 byte in v
	// A byte below 0x20 (the test holds where x's high bit is clear, and a
	// set high bit fails x anyway), or one of the five.
	bad := (x-ones*0x20)&^x |
		zero(x^(ones*'"')) | zero(x^(ones*'\\')) | zero(x^(ones*'<')) | zero(x^(ones*'>')) | zero(x^(ones*'&'))
	return (bad|x)&highs == 0
}

// jsonSafe tells the ASCII bytes written as they are (a read-only table:
// one load per byte instead of six comparisons).
var jsonSafe = func() (t [utf8.RuneSelf]bool) {
	for b := 0x20; b < utf8.RuneSelf; b++ {
		t[b] = b != '"' && b != '\\' && b != '<' && b != '>' && b != '&'
	}
	return t
}()

// appendString quotes s as encoding/json does by default: HTML-safe
// (<, > and & escaped), U+2028 and U+2029 escaped, invalid UTF-8 replaced
// by U+FFFD.
func appendString(dst []byte, s string) []byte {
	dst = append(dst, '"')
	start := 0
	for i := 0; i < len(s); {
		// Eight plain ASCII bytes at a time: most of a log line.
		for i+8 <= len(s) && plain8(s[i:i+8]) {
			i += 8
		}
		if i >= len(s) {
			break
		}
		if b := s[i]; b < utf8.RuneSelf {
			if jsonSafe[b] {
				i++
				continue
			}
			dst = append(dst, s[start:i]...)
			switch b {
			case '\\', '"':
				dst = append(dst, '\\', b)
			case '\b':
				dst = append(dst, '\\', 'b')
			case '\f':
				dst = append(dst, '\\', 'f')
			case '\n':
				dst = append(dst, '\\', 'n')
			case '\r':
				dst = append(dst, '\\', 'r')
			case '\t':
				dst = append(dst, '\\', 't')
			default:
				dst = append(dst, '\\', 'u', '0', '0', hexDigits[b>>4], hexDigits[b&0xF])
			}
			i++
			start = i
			continue
		}
		c, size := utf8.DecodeRuneInString(s[i:])
		if c == utf8.RuneError && size == 1 {
			dst = append(dst, s[start:i]...)
			dst = append(dst, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if c == '\u2028' || c == '\u2029' {
			dst = append(dst, s[start:i]...)
			dst = append(dst, '\\', 'u', '2', '0', '2', hexDigits[c&0xF])
			i += size
			start = i
			continue
		}
		i += size
	}
	dst = append(dst, s[start:]...)
	return append(dst, '"')
}
