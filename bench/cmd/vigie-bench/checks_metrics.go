package main

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
)

// The checks scenario reads labelled series (runs by result, histogram
// buckets by le), which parseMetrics sums away: this is a small reader of
// the Prometheus text exposition that keeps the labels.

// sample is one line of a text exposition.
type sample struct {
	name   string
	labels map[string]string
	value  float64
}

// maxSampleLine bounds one exposition line (a series with long label values).
const maxSampleLine = 1 << 20

// parseSamples reads a text exposition and returns the samples whose metric
// name keep accepts (all of them when keep is nil). Comments and blank
// lines are skipped; a malformed kept line is an error.
func parseSamples(r io.Reader, keep func(name string) bool) ([]sample, error) {
	var out []sample
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxSampleLine)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		end := strings.IndexAny(line, "{ \t")
		if end < 0 {
			return nil, fmt.Errorf("metrics line %d: no value: %.120q", n, line)
		}
		if keep != nil && !keep(line[:end]) {
			continue
		}
		s, err := parseSampleLine(line)
		if err != nil {
			return nil, fmt.Errorf("metrics line %d: %w", n, err)
		}
		out = append(out, s)
	}
	return out, sc.Err()
}

// parseSampleLine reads `name{l="v",...} value [timestamp]`; label values
// may hold the escapes \\, \" and \n.
func parseSampleLine(line string) (sample, error) {
	s := sample{labels: map[string]string{}}
	i := strings.IndexAny(line, "{ \t")
	if i <= 0 {
		return s, fmt.Errorf("no metric name or no value: %.120q", line)
	}
	s.name, line = line[:i], line[i:]
	if line[0] == '{' {
		line = line[1:]
		for {
			line = strings.TrimLeft(line, " \t")
			if strings.HasPrefix(line, "}") {
				line = line[1:]
				break
			}
			eq := strings.IndexByte(line, '=')
			if eq <= 0 {
				return s, fmt.Errorf("%s: label without a name or '=': %.120q", s.name, line)
			}
			key := strings.TrimSpace(line[:eq])
			line = strings.TrimLeft(line[eq+1:], " \t")
			val, rest, err := unquoteLabel(line)
			if err != nil {
				return s, fmt.Errorf("%s: label %s: %w", s.name, key, err)
			}
			s.labels[key] = val
			line = strings.TrimLeft(rest, " \t")
			switch {
			case strings.HasPrefix(line, ","):
				line = line[1:]
			case strings.HasPrefix(line, "}"):
			default:
				return s, fmt.Errorf("%s: expected ',' or '}' after label %s: %.120q", s.name, key, line)
			}
		}
	}
	f := strings.Fields(line) // value [timestamp]
	if len(f) < 1 || len(f) > 2 {
		return s, fmt.Errorf("%s: expected a value and an optional timestamp, got %q", s.name, line)
	}
	v, err := strconv.ParseFloat(f[0], 64)
	if err != nil {
		return s, fmt.Errorf("%s: bad value %q", s.name, f[0])
	}
	s.value = v
	return s, nil
}

// unquoteLabel reads a double-quoted label value at the start of s and
// returns it and what follows the closing quote.
func unquoteLabel(s string) (string, string, error) {
	if !strings.HasPrefix(s, `"`) {
		return "", s, fmt.Errorf("value does not start with '\"': %.60q", s)
	}
	var b strings.Builder
	for i := 1; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			return b.String(), s[i+1:], nil
		case '\\':
			if i+1 == len(s) {
				return "", "", fmt.Errorf("value ends inside an escape")
			}
			i++
			switch s[i] {
			case '\\':
				b.WriteByte('\\')
			case '"':
				b.WriteByte('"')
			case 'n':
				b.WriteByte('\n')
			default:
				return "", "", fmt.Errorf("unknown escape \\%c", s[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", "", fmt.Errorf("value has no closing quote")
}

// formatSample writes s back in the text format (labels sorted), so tests
// can check that reading is the inverse of writing.
func formatSample(s sample) string {
	var b strings.Builder
	b.WriteString(s.name)
	if len(s.labels) > 0 {
		keys := make([]string, 0, len(s.labels))
		for k := range s.labels {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		b.WriteByte('{')
		for i, k := range keys {
			if i > 0 {
				b.WriteByte(',')
			}
			r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "\n", `\n`)
			fmt.Fprintf(&b, `%s="%s"`, k, r.Replace(s.labels[k]))
		}
		b.WriteByte('}')
	}
	b.WriteByte(' ')
	b.WriteString(strconv.FormatFloat(s.value, 'g', -1, 64))
	return b.String()
}

// sumSamples adds the samples named name whose labels include every
// key=value pair of match (alternating keys and values).
func sumSamples(ss []sample, name string, match ...string) float64 {
	var sum float64
next:
	for _, s := range ss {
		if s.name != name {
			continue
		}
		for i := 0; i+1 < len(match); i += 2 {
			if s.labels[match[i]] != match[i+1] {
				continue next
			}
		}
		sum += s.value
	}
	return sum
}

// histogram is a Prometheus histogram's cumulative buckets.
type histogram struct {
	le    []float64 // upper bounds, increasing; the last is +Inf
	count []float64 // cumulative counts, one per bound
}

// histogramOf gathers the NAME_bucket series of ss, adding up series of
// the same bound that differ in other labels.
func histogramOf(ss []sample, name string) (histogram, error) {
	by := map[float64]float64{}
	for _, s := range ss {
		if s.name != name+"_bucket" {
			continue
		}
		le, err := strconv.ParseFloat(s.labels["le"], 64)
		if err != nil {
			return histogram{}, fmt.Errorf("%s_bucket: bad le %q", name, s.labels["le"])
		}
		by[le] += s.value
	}
	if len(by) == 0 {
		return histogram{}, fmt.Errorf("/metrics has no %s_bucket series", name)
	}
	var h histogram
	for le := range by {
		h.le = append(h.le, le)
	}
	slices.Sort(h.le)
	if !math.IsInf(h.le[len(h.le)-1], 1) {
		return histogram{}, fmt.Errorf("%s: no +Inf bucket", name)
	}
	for i, le := range h.le {
		h.count = append(h.count, by[le])
		if i > 0 && h.count[i] < h.count[i-1] {
			return histogram{}, fmt.Errorf("%s: bucket le=%g holds fewer than the one before", name, le)
		}
	}
	return h, nil
}

// total is how many observations the histogram holds.
func (h histogram) total() float64 {
	if len(h.count) == 0 {
		return 0
	}
	return h.count[len(h.count)-1]
}

// minus is h without the observations of an earlier scrape of it.
func (h histogram) minus(earlier histogram) (histogram, error) {
	if !slices.Equal(h.le, earlier.le) {
		return histogram{}, fmt.Errorf("histogram buckets changed between scrapes: %v then %v", earlier.le, h.le)
	}
	d := histogram{le: h.le, count: make([]float64, len(h.count))}
	for i := range h.count {
		d.count[i] = h.count[i] - earlier.count[i]
		if d.count[i] < 0 {
			return histogram{}, fmt.Errorf("histogram bucket le=%g went down between scrapes (server restarted?)", h.le[i])
		}
	}
	return d, nil
}

// quantile is the q-quantile (0..1) by linear interpolation within the
// bucket holding it, as PromQL's histogram_quantile does: an estimate whose
// precision is the bucket's width. The first bucket starts at 0; a quantile
// in the +Inf bucket is the last finite bound, and over is then true.
// NaN when the histogram is empty.
func (h histogram) quantile(q float64) (v float64, over bool) {
	n := h.total()
	if n == 0 || len(h.le) < 2 || q < 0 || q > 1 {
		return math.NaN(), false
	}
	rank := q * n
	b, _ := slices.BinarySearchFunc(h.count, rank, func(c, r float64) int {
		if c < r {
			return -1
		}
		return 1 // first count >= rank
	})
	if b >= len(h.le)-1 {
		return h.le[len(h.le)-2], true
	}
	lo, below := 0.0, 0.0
	if b > 0 {
		lo, below = h.le[b-1], h.count[b-1]
	}
	in := h.count[b] - below
	if in <= 0 {
		return lo, false
	}
	return lo + (h.le[b]-lo)*(rank-below)/in, false
}

// over is how many observations are above bound x, which must be one of
// the histogram's bounds (exact, not estimated); -1 when it is not.
func (h histogram) over(x float64) float64 {
	i := slices.Index(h.le, x)
	if i < 0 {
		return -1
	}
	return h.total() - h.count[i]
}
