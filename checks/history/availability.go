package history

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Availability is a check's time-weighted up-time over a range.
//
// Each run's state (up, or down) holds from its start until the next run
// starts, but never longer than the run's own duration plus the gap limit
// (MaxGap: 2 × interval) after its start. Time no run vouches for — vigie
// was stopped, or the range reaches before the first run — is Unknown and
// left out of the ratio, so a maintenance stop of vigie is not counted as an
// outage. The last run before the range sets the state at its start. Time
// after the History's clock (Options.Now) is not counted at all.
type Availability struct {
	// Known is false when no run covers any of the range: Ratio is then 0
	// and means nothing (the API shows null, the gauge is absent).
	Known bool
	// Ratio is Up / (Up + Down), 0..1.
	Ratio             float64
	Up, Down, Unknown time.Duration
	// Runs counts the runs that started within the range.
	Runs int
}

// MarshalJSON writes durations as seconds and an unknown ratio as null.
func (a Availability) MarshalJSON() ([]byte, error) {
	var ratio *float64
	if a.Known {
		ratio = &a.Ratio
	}
	return json.Marshal(struct {
		Known   bool     `json:"known"`
		Ratio   *float64 `json:"ratio"`
		Up      float64  `json:"up_seconds"`
		Down    float64  `json:"down_seconds"`
		Unknown float64  `json:"unknown_seconds"`
		Runs    int      `json:"runs"`
	}{a.Known, ratio, a.Up.Seconds(), a.Down.Seconds(), a.Unknown.Seconds(), a.Runs})
}

// Availability computes a check's availability over [from, to), with the gap
// limit of the check's interval given in Options.Checks. A slow run (up but
// over sla.response_time) counts as down when slowIsDown.
func (h *History) Availability(ctx context.Context, check string, from, to time.Time, slowIsDown bool) (Availability, error) {
	return h.AvailabilityGap(ctx, check, from, to, slowIsDown, h.maxGap(check))
}

// AvailabilityGap is Availability with an explicit gap limit.
func (h *History) AvailabilityGap(ctx context.Context, check string, from, to time.Time, slowIsDown bool, maxGap time.Duration) (Availability, error) {
	from, to, err := h.clip(from, to)
	if err != nil || !from.Before(to) {
		return Availability{}, err
	}
	samples, err := h.samples(ctx, check, from, to, false)
	if err != nil {
		return Availability{}, err
	}
	return summarize(timeline(samples, from, to, maxGap, slowIsDown), samples, from, to), nil
}

// clip checks a range and ends it at the clock: the future is not unknown
// time, it is no time yet.
func (h *History) clip(from, to time.Time) (time.Time, time.Time, error) {
	if from.IsZero() || to.IsZero() {
		return from, to, errors.New("check history: availability needs both ends of the range")
	}
	if to.Before(from) {
		return from, to, fmt.Errorf("check history: the range ends (%s) before it starts (%s)", to.Format(time.RFC3339), from.Format(time.RFC3339))
	}
	if now := h.opt.Now(); to.After(now) {
		to = now
	}
	return from, to, nil
}

// sample is what availability needs of one run.
type sample struct {
	start   time.Time
	dur     time.Duration
	success bool
	slow    bool
	err     string
}

// samples loads the last run before from and every run started in
// [from, to), oldest first. Earlier runs cannot matter: the run before
// from ends their coverage.
func (h *History) samples(ctx context.Context, check string, from, to time.Time, withErrors bool) ([]sample, error) {
	errCol := "''"
	if withErrors {
		errCol = "error"
	}
	cols := "id, start, duration_us, success, slow, " + errCol
	// Ordered by start alone, so both halves read the index in order
	// (no sort); runs starting in the same microsecond may come either way.
	rows, err := h.db.QueryContext(ctx, `SELECT * FROM (SELECT `+cols+` FROM runs WHERE check_name = ? AND start < ? ORDER BY start DESC LIMIT 1)
		UNION ALL
		SELECT `+cols+` FROM runs WHERE check_name = ? AND start >= ? AND start < ?
		ORDER BY 2`, check, from.UnixMicro(), check, from.UnixMicro(), to.UnixMicro())
	if err != nil {
		return nil, fmt.Errorf("check history: availability of %s: %w", check, err)
	}
	defer rows.Close()
	var out []sample
	for rows.Next() {
		var id, start, dur int64
		var s sample
		if err := rows.Scan(&id, &start, &dur, &s.success, &s.slow, &s.err); err != nil {
			return nil, fmt.Errorf("check history: availability of %s: %w", check, err)
		}
		s.start = time.UnixMicro(start).UTC()
		s.dur = time.Duration(dur) * time.Microsecond
		out = append(out, s)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("check history: availability of %s: %w", check, err)
	}
	return out, nil
}

// segment is a stretch of time one run vouches for.
type segment struct {
	start, end time.Time
	down       bool
	run        int // index into the samples
}

// timeline lays the runs (oldest first) over [from, to): each holds until
// the next starts, capped at its duration plus maxGap, clipped to the range.
// Segments are in time order and never overlap.
func timeline(runs []sample, from, to time.Time, maxGap time.Duration, slowIsDown bool) []segment {
	var out []segment
	for i, r := range runs {
		end := r.start.Add(max(r.dur, 0) + maxGap)
		if i+1 < len(runs) && runs[i+1].start.Before(end) {
			end = runs[i+1].start
		}
		if end.After(to) {
			end = to
		}
		start := r.start
		if start.Before(from) {
			start = from
		}
		if end.After(start) {
			out = append(out, segment{start: start, end: end, run: i, down: !r.success || (r.slow && slowIsDown)})
		}
	}
	return out
}

// summarize adds up a timeline.
func summarize(segs []segment, runs []sample, from, to time.Time) Availability {
	var a Availability
	for _, s := range segs {
		if s.down {
			a.Down += s.end.Sub(s.start)
		} else {
			a.Up += s.end.Sub(s.start)
		}
	}
	a.Unknown = max(to.Sub(from)-a.Up-a.Down, 0)
	for _, r := range runs {
		if !r.start.Before(from) && r.start.Before(to) {
			a.Runs++
		}
	}
	if covered := a.Up + a.Down; covered > 0 {
		a.Known = true
		a.Ratio = float64(a.Up) / float64(covered)
	}
	return a
}
