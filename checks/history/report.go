package history

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"time"

	"vigie/cmd/config"
)

// Report is a check's SLA report over a range: what a manager hands over.
// Its JSON is the API's answer to GET /api/v1/checks/{name}/sla; WriteCSV
// writes the same for a spreadsheet.
type Report struct {
	Check string    `json:"check"`
	Type  string    `json:"type"`
	From  time.Time `json:"from"`
	// To is the end asked for; availability stops at the clock when To is
	// in the future.
	To           time.Time    `json:"to"`
	Availability Availability `json:"availability"`
	// Target is sla.target in percent, 0 when the check has none.
	Target float64 `json:"target"`
	// Met says whether the availability reached the target; nil when there
	// is no target or the availability is unknown.
	Met        *bool `json:"met"`
	SlowIsDown bool  `json:"slow_is_down"`
	// Runs counts the runs started in the range: Up + Down, with Slow
	// among the up ones (or the down ones when SlowIsDown).
	Runs     int `json:"runs"`
	RunsUp   int `json:"runs_up"`
	RunsDown int `json:"runs_down"`
	RunsSlow int `json:"runs_slow"`
	// ResponseTime is sla.response_time (0: none). WithinResponseTime is
	// the share (0..1) of the successful runs that were not slow; nil
	// without a response time or without successful runs.
	ResponseTime       time.Duration `json:"-"`
	WithinResponseTime *float64      `json:"within_response_time"`
	DownPeriods        []Period      `json:"down_periods"`
	// UnknownPeriods are the stretches no run vouches for (vigie stopped).
	UnknownPeriods []Period    `json:"unknown_periods"`
	Steps          []StepStats `json:"steps"`
}

// Period is a stretch of down (or unknown) time.
type Period struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
	// Error is the first failing run's error (down periods only).
	Error string `json:"error,omitempty"`
	// Runs is how many runs the period holds (down periods only).
	Runs int `json:"runs,omitempty"`
}

// Duration is End - Start.
func (p Period) Duration() time.Duration { return p.End.Sub(p.Start) }

// StepStats are a step's response times (its total time) over the range.
// Percentiles are nearest-rank over the successful runs of the step, so
// each is a time that was measured; a failed step's time (a timeout, a
// refused connection) says nothing of response time and is only counted.
type StepStats struct {
	Index   int    `json:"index"` // 0-based, as in the runs
	Name    string `json:"name"`
	Samples int    `json:"samples"`
	Failed  int    `json:"failed"`
	P50     time.Duration
	P90     time.Duration
	P95     time.Duration
	P99     time.Duration
	Max     time.Duration
}

// MarshalJSON writes the times in milliseconds.
func (s StepStats) MarshalJSON() ([]byte, error) {
	ms := func(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }
	return json.Marshal(struct {
		Index   int     `json:"index"`
		Name    string  `json:"name"`
		Samples int     `json:"samples"`
		Failed  int     `json:"failed"`
		P50     float64 `json:"p50_ms"`
		P90     float64 `json:"p90_ms"`
		P95     float64 `json:"p95_ms"`
		P99     float64 `json:"p99_ms"`
		Max     float64 `json:"max_ms"`
	}{s.Index, s.Name, s.Samples, s.Failed, ms(s.P50), ms(s.P90), ms(s.P95), ms(s.P99), ms(s.Max)})
}

// MarshalJSON adds the response time in milliseconds to the report.
func (r Report) MarshalJSON() ([]byte, error) {
	type plain Report
	var rt *float64
	if r.ResponseTime > 0 {
		v := float64(r.ResponseTime.Microseconds()) / 1000
		rt = &v
	}
	return json.Marshal(struct {
		plain
		ResponseTimeMS *float64 `json:"response_time_ms"`
	}{plain(r), rt})
}

// Report builds the SLA report of check over [from, to).
func (h *History) Report(ctx context.Context, check config.Check, from, to time.Time) (*Report, error) {
	rep := &Report{Check: check.Name, Type: check.Type, From: from, To: to,
		DownPeriods: []Period{}, UnknownPeriods: []Period{}, Steps: []StepStats{}}
	if s := check.SLA; s != nil {
		rep.Target, rep.SlowIsDown, rep.ResponseTime = s.Target, s.SlowIsDown, time.Duration(s.ResponseTime)
	}
	from, to, err := h.clip(from, to)
	if err != nil || !from.Before(to) {
		return rep, err
	}
	samples, err := h.samples(ctx, check.Name, from, to, true)
	if err != nil {
		return nil, err
	}
	segs := timeline(samples, from, to, MaxGap(check), rep.SlowIsDown)
	rep.Availability = summarize(segs, samples, from, to)
	if rep.Target > 0 && rep.Availability.Known {
		met := rep.Availability.Ratio*100 >= rep.Target
		rep.Met = &met
	}
	rep.DownPeriods = downPeriods(segs, samples)
	rep.UnknownPeriods = unknownPeriods(segs, from, to)
	ok, fast := 0, 0
	for _, s := range samples {
		if s.start.Before(from) {
			continue
		}
		rep.Runs++
		switch {
		case !s.success:
			rep.RunsDown++
		case s.slow && rep.SlowIsDown:
			rep.RunsDown++
			rep.RunsSlow++
		default:
			rep.RunsUp++
			if s.slow {
				rep.RunsSlow++
			}
		}
		if s.success {
			ok++
			if !s.slow {
				fast++
			}
		}
	}
	if rep.ResponseTime > 0 && ok > 0 {
		share := float64(fast) / float64(ok)
		rep.WithinResponseTime = &share
	}
	if rep.Steps, err = h.stepStats(ctx, check.Name, from, to); err != nil {
		return nil, err
	}
	return rep, nil
}

// downPeriods merges back-to-back down segments; a gap of unknown time
// between two down runs splits them, since nobody knows what happened there.
func downPeriods(segs []segment, runs []sample) []Period {
	out := []Period{}
	for i, s := range segs {
		if !s.down {
			continue
		}
		if n := len(out); n > 0 && i > 0 && segs[i-1].down && segs[i-1].end.Equal(s.start) {
			out[n-1].End = s.end
			out[n-1].Runs++
			continue
		}
		out = append(out, Period{Start: s.start, End: s.end, Error: runs[s.run].err, Runs: 1})
	}
	return out
}

// unknownPeriods are the holes between segments.
func unknownPeriods(segs []segment, from, to time.Time) []Period {
	out := []Period{}
	at := from
	for _, s := range segs {
		if s.start.After(at) {
			out = append(out, Period{Start: at, End: s.start})
		}
		at = s.end
	}
	if to.After(at) {
		out = append(out, Period{Start: at, End: to})
	}
	return out
}

// stepStats reads the step totals of the runs started in [from, to).
func (h *History) stepStats(ctx context.Context, check string, from, to time.Time) ([]StepStats, error) {
	rows, err := h.db.QueryContext(ctx, `SELECT s.idx, s.name, s.success, s.total_us
		FROM runs r JOIN steps s ON s.run_id = r.id
		WHERE r.check_name = ? AND r.start >= ? AND r.start < ?`, check, from.UnixMicro(), to.UnixMicro())
	if err != nil {
		return nil, fmt.Errorf("check history: step times of %s: %w", check, err)
	}
	defer rows.Close()
	type key struct {
		idx  int
		name string
	}
	groups := map[key]*StepStats{}
	times := map[key][]time.Duration{}
	for rows.Next() {
		var k key
		var ok bool
		var us int64
		if err := rows.Scan(&k.idx, &k.name, &ok, &us); err != nil {
			return nil, fmt.Errorf("check history: step times of %s: %w", check, err)
		}
		g := groups[k]
		if g == nil {
			g = &StepStats{Index: k.idx, Name: k.name}
			groups[k] = g
		}
		if !ok {
			g.Failed++
			continue
		}
		times[k] = append(times[k], time.Duration(us)*time.Microsecond)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("check history: step times of %s: %w", check, err)
	}
	out := make([]StepStats, 0, len(groups))
	for k, g := range groups {
		t := times[k]
		slices.Sort(t)
		g.Samples = len(t)
		g.P50, g.P90, g.P95, g.P99 = Percentile(t, 50), Percentile(t, 90), Percentile(t, 95), Percentile(t, 99)
		if len(t) > 0 {
			g.Max = t[len(t)-1]
		}
		out = append(out, *g)
	}
	// A step renamed in the config shows as two lines, in step order.
	slices.SortFunc(out, func(a, b StepStats) int {
		return cmp.Or(cmp.Compare(a.Index, b.Index), cmp.Compare(a.Name, b.Name))
	})
	return out, nil
}

// Percentile is the nearest-rank p-th percentile (0 < p <= 100) of sorted
// durations: the smallest value with at least p % of the values at or
// below it. It is 0 for no values.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 || !(p > 0) {
		return 0
	}
	// p × n / 100, not p / 100 × n: exact for whole percents.
	rank := int(math.Ceil(p * float64(len(sorted)) / 100))
	return sorted[min(max(rank, 1), len(sorted))-1]
}
