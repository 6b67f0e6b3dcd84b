package history

import (
	"math"
	"testing"
	"time"

	"vigie/checks"
	"vigie/cmd/config"
)

// beat is one run in a table: minutes after t0 and its state.
type beat struct {
	at   float64 // minutes after t0
	st   byte    // 'u' up, 'd' down, 's' slow (up but over response time)
	dur  time.Duration
	note string
}

// every returns n runs one minute apart from minute start, all in state st.
func every(start float64, n int, st byte) []beat {
	out := make([]beat, n)
	for i := range out {
		out[i] = beat{at: start + float64(i), st: st}
	}
	return out
}

func cat(parts ...[]beat) []beat {
	var out []beat
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

func minutes(m float64) time.Duration { return time.Duration(m * float64(time.Minute)) }

func putBeats(t *testing.T, h *History, check string, beats []beat) {
	t.Helper()
	for _, b := range beats {
		put(t, h, checks.Result{Check: check, Start: t0.Add(minutes(b.at)), Duration: b.dur,
			Success: b.st != 'd', Slow: b.st == 's', Error: b.note})
	}
}

func TestAvailability(t *testing.T) {
	tests := []struct {
		name       string
		beats      []beat
		from, to   float64 // minutes after t0
		now        float64 // the clock, minutes after t0; 0: long after
		slowIsDown bool
		// want
		up, down, unknown float64 // minutes
		ratio             float64
		known             bool
		runs              int
	}{
		{name: "up 50 min then down 10 min",
			beats: cat(every(0, 50, 'u'), every(50, 10, 'd')), from: 0, to: 60,
			up: 50, down: 10, ratio: 50.0 / 60, known: true, runs: 60},
		{name: "a 1h stop of vigie is unknown, not down",
			// the run at 29 vouches until 31 (2 × interval); nothing until 90
			beats: cat(every(0, 30, 'u'), every(90, 20, 'u'), every(110, 10, 'd')), from: 0, to: 120,
			up: 31 + 20, down: 10, unknown: 59, ratio: 51.0 / 61, known: true, runs: 60},
		{name: "the run before from sets the state at from",
			beats: cat([]beat{{at: -0.5, st: 'd'}}, every(1, 9, 'u')), from: 0, to: 10,
			up: 9, down: 1, ratio: 0.9, known: true, runs: 9},
		{name: "a run before from older than the gap limit vouches for nothing",
			beats: cat([]beat{{at: -10, st: 'd'}}, every(5, 5, 'u')), from: 0, to: 10,
			up: 5, unknown: 5, ratio: 1, known: true, runs: 5},
		{name: "slow runs count as up by default",
			beats: cat(every(0, 8, 'u'), every(8, 2, 's')), from: 0, to: 10,
			up: 10, ratio: 1, known: true, runs: 10},
		{name: "slow runs count as down with slow_is_down",
			beats: cat(every(0, 8, 'u'), every(8, 2, 's')), from: 0, to: 10, slowIsDown: true,
			up: 8, down: 2, ratio: 0.8, known: true, runs: 10},
		{name: "no runs: unknown",
			from: 0, to: 60, unknown: 60, known: false},
		{name: "the future is not counted",
			beats: every(0, 10, 'u'), from: 0, to: 60, now: 10,
			up: 10, ratio: 1, known: true, runs: 10},
		{name: "a long run vouches for its duration plus the gap",
			beats: []beat{{at: 0, st: 'd', dur: 5 * time.Minute}, {at: 10, st: 'u'}}, from: 0, to: 11,
			up: 1, down: 7, unknown: 3, ratio: 1.0 / 8, known: true, runs: 2},
		{name: "runs after to are ignored",
			beats: cat(every(0, 5, 'u'), every(5, 5, 'd')), from: 0, to: 5,
			up: 5, ratio: 1, known: true, runs: 5},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			now := t0.Add(1000 * time.Hour)
			if tc.now != 0 {
				now = t0.Add(minutes(tc.now))
			}
			h := openTest(t, Options{Now: func() time.Time { return now },
				Checks: []config.Check{{Name: "c", Interval: config.Duration(time.Minute)}}})
			putBeats(t, h, "c", tc.beats)
			putBeats(t, h, "other", every(0, 120, 'd')) // another check's runs never count
			a, err := h.Availability(t.Context(), "c", t0.Add(minutes(tc.from)), t0.Add(minutes(tc.to)), tc.slowIsDown)
			if err != nil {
				t.Fatal(err)
			}
			if a.Up != minutes(tc.up) || a.Down != minutes(tc.down) || a.Unknown != minutes(tc.unknown) {
				t.Errorf("up %v down %v unknown %v; want %v %v %v", a.Up, a.Down, a.Unknown,
					minutes(tc.up), minutes(tc.down), minutes(tc.unknown))
			}
			if a.Known != tc.known || math.Abs(a.Ratio-tc.ratio) > 1e-12 || a.Runs != tc.runs {
				t.Errorf("known %v ratio %v runs %d; want %v %v %d", a.Known, a.Ratio, a.Runs, tc.known, tc.ratio, tc.runs)
			}
		})
	}
}

func TestAvailabilityBadRange(t *testing.T) {
	h := openTest(t, Options{})
	if _, err := h.Availability(t.Context(), "c", t0.Add(time.Hour), t0, false); err == nil {
		t.Error("a range that ends before it starts was accepted")
	}
	if _, err := h.Availability(t.Context(), "c", time.Time{}, t0, false); err == nil {
		t.Error("a range without a start was accepted")
	}
	a, err := h.Availability(t.Context(), "c", t0, t0, false)
	if err != nil || a.Known || a.Unknown != 0 {
		t.Errorf("empty range = %+v, %v; want nothing known", a, err)
	}
}

// FuzzTimeline checks the timeline's invariants on arbitrary runs: segments
// in order, inside the range, never overlapping, and up + down + unknown
// adding up to the range.
func FuzzTimeline(f *testing.F) {
	f.Add([]byte{0, 10, 1, 20, 2, 30, 3, 200}, uint16(60), uint16(5))
	f.Add([]byte{5, 5, 5, 5, 255, 0}, uint16(1), uint16(0))
	f.Fuzz(func(t *testing.T, data []byte, span, gap uint16) {
		from := t0
		to := from.Add(time.Duration(span) * time.Second)
		var runs []sample
		at := from.Add(-time.Minute)
		for i := 0; i+3 <= len(data) && len(runs) < 1000; i += 3 {
			at = at.Add(time.Duration(data[i]) * time.Second) // oldest first, ties allowed
			runs = append(runs, sample{start: at, dur: time.Duration(data[i+1]) * time.Second,
				success: data[i+2]&1 == 1, slow: data[i+2]&2 == 2})
		}
		segs := timeline(runs, from, to, time.Duration(gap)*time.Second, data != nil && len(data)%2 == 0)
		prev := from
		for _, s := range segs {
			if s.start.Before(prev) || !s.end.After(s.start) || s.end.After(to) {
				t.Fatalf("segment %v..%v out of order or range (previous end %v, range %v..%v)", s.start, s.end, prev, from, to)
			}
			prev = s.end
		}
		a := summarize(segs, runs, from, to)
		if a.Up+a.Down+a.Unknown != to.Sub(from) {
			t.Fatalf("up %v + down %v + unknown %v != range %v", a.Up, a.Down, a.Unknown, to.Sub(from))
		}
		if a.Ratio < 0 || a.Ratio > 1 || math.IsNaN(a.Ratio) || a.Known != (a.Up+a.Down > 0) {
			t.Fatalf("ratio %v known %v", a.Ratio, a.Known)
		}
	})
}
