package query

import (
	"math"
	"strconv"
	"strings"

	"vigie/record"
)

// Match reports whether r satisfies the query, with the same answer the
// compiled SQL gives for the stored record.
func (q *Query) Match(r *record.Record) bool {
	var w Words
	w.Reset(r)
	return q.MatchWords(&w)
}

// MatchWords is Match on a record whose words are shared by every query
// tried on it: the rules try many queries per record, and splitting the
// message is most of a match's cost.
func (q *Query) MatchWords(w *Words) bool {
	if q == nil || q.root == nil {
		return true
	}
	m := matcher{r: w.r, w: w}
	return m.eval(q.root)
}

// Words holds a record and its message's folded words, split on first use
// and kept until the next Reset. Reusing one Words across records keeps its
// buffers: splitting then allocates one string per record.
type Words struct {
	r     *record.Record
	split bool
	words []string
	buf   []byte
	ends  []int
}

// Reset points w at another record.
func (w *Words) Reset(r *record.Record) {
	w.r, w.split = r, false
}

func (w *Words) get() []string {
	if !w.split {
		w.buf, w.ends = appendWords(w.buf[:0], w.ends[:0], w.r.Message)
		text := string(w.buf) // the words are substrings of one string
		w.words = w.words[:0]
		start := 0
		for _, end := range w.ends {
			w.words = append(w.words, text[start:end])
			start = end
		}
		w.split = true
	}
	return w.words
}

// matcher evaluates one query on one record.
type matcher struct {
	r *record.Record
	w *Words
}

func (m *matcher) eval(n *node) bool {
	switch n.kind {
	case kAnd:
		for _, k := range n.kids {
			if !m.eval(k) {
				return false
			}
		}
		return true
	case kOr:
		for _, k := range n.kids {
			if m.eval(k) {
				return true
			}
		}
		return false
	case kNot:
		return !m.eval(n.kids[0])
	case kText:
		return hasPhrase(m.w.get(), n.words, n.prefix)
	case kEq:
		v, ok := n.field(m.r)
		return ok && v == n.text
	case kGlob:
		v, ok := n.field(m.r)
		return ok && globMatch(n.glob, v)
	case kNum:
		v, ok := m.r.Fields[n.name]
		return ok && numeric(v) && compare(castReal(v), n.cmp, n.num)
	case kLevel:
		v := m.r.Severity
		if n.name == "facility" {
			v = m.r.Facility
		}
		return compare(float64(v), n.cmp, float64(n.level))
	}
	return false
}

func compare(a float64, cmp string, b float64) bool {
	switch cmp {
	case "<":
		return a < b
	case "<=":
		return a <= b
	case ">":
		return a > b
	case ">=":
		return a >= b
	}
	return a == b
}

// globMatch matches s against literal parts separated by * (at least two
// parts): the first is a prefix, the last a suffix, the others appear in
// order. Taking the leftmost occurrence of each middle part is enough.
func globMatch(parts []string, s string) bool {
	first, last := parts[0], parts[len(parts)-1]
	if !strings.HasPrefix(s, first) {
		return false
	}
	s = s[len(first):]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(s, p)
		if i < 0 {
			return false
		}
		s = s[i+len(p):]
	}
	return strings.HasSuffix(s, last)
}

// pow10 are the powers of ten a float64 holds exactly.
var pow10 = [...]float64{1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
	1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22}

// numeric is the guard the SQL applies before comparing a field as a number
// (see numSQL): after leading signs and dots comes a digit. It keeps "n/a"
// from counting as 0, which CAST would make it.
func numeric(v string) bool {
	v = strings.TrimLeft(strings.TrimLeft(v, "+-"), ".")
	return v != "" && '0' <= v[0] && v[0] <= '9'
}

// castReal is SQLite's CAST(v AS REAL) (sqlite3AtoF): the value of the
// longest numeric prefix after spaces, 0 when there is none; only about the
// first 19 significant digits count.
func castReal(v string) float64 {
	const limit = (math.MaxUint64 - 9) / 10
	i := 0
	for i < len(v) && (v[i] == ' ' || '\t' <= v[i] && v[i] <= '\r') {
		i++
	}
	neg := false
	if i < len(v) && (v[i] == '-' || v[i] == '+') {
		neg = v[i] == '-'
		i++
	}
	isDigit := func(i int) bool { return i < len(v) && '0' <= v[i] && v[i] <= '9' }
	var s uint64
	d, digits, full := 0, false, false
	for ; isDigit(i); i++ {
		digits = true
		if full {
			d++
			continue
		}
		s = s*10 + uint64(v[i]-'0')
		full = s >= limit
	}
	if i < len(v) && v[i] == '.' {
		i++
		for ; isDigit(i); i++ {
			digits = true
			if s < limit {
				s = s*10 + uint64(v[i]-'0')
				d--
			}
		}
	}
	if !digits {
		return 0
	}
	if i < len(v) && (v[i] == 'e' || v[i] == 'E') {
		j, sign := i+1, 1
		if j < len(v) && (v[j] == '-' || v[j] == '+') {
			if v[j] == '-' {
				sign = -1
			}
			j++
		}
		exp := 0
		for ; isDigit(j); j++ {
			if exp < 10000 {
				exp = exp*10 + int(v[j]-'0')
			} else {
				exp = 10000
			}
		}
		d += sign * exp
	}
	f := 0.0
	switch {
	case s == 0:
	case s < 1<<53 && d == 0:
		f = float64(s) // exact: most fields are small integers
	case s < 1<<53 && -22 <= d && d < 0:
		f = float64(s) / pow10[-d] // both exact, so one rounding: the correct one
	default:
		// s·10^d correctly rounded, as sqlite3Fp10Convert2 computes it.
		f, _ = strconv.ParseFloat(strconv.FormatUint(s, 10)+"e"+strconv.Itoa(d), 64)
	}
	if neg {
		f = -f
	}
	return f
}
