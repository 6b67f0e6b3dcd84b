package history

import (
	"context"
	"database/sql"
	"encoding/json"
	"math"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"vigie/checks"
	"vigie/cmd/config"
)

// t0 is a fixed start for runs; tests set the clock after the runs.
var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func openTest(t *testing.T, opt Options) *History {
	t.Helper()
	if opt.Now == nil {
		opt.Now = func() time.Time { return t0.Add(90 * 24 * time.Hour) }
	}
	h, err := Open(t.Context(), filepath.Join(t.TempDir(), "data", "checks.db"), opt)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// put records a run of check at the given time.
func put(t *testing.T, h *History, r checks.Result) int64 {
	t.Helper()
	if r.Type == "" {
		r.Type = "scenario"
	}
	if r.Attempts == 0 {
		r.Attempts = 1
	}
	if !r.Success && r.Error == "" {
		r.Error = "connection refused"
	}
	id, err := h.Record(context.Background(), &r)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestRecordRoundTrip(t *testing.T) {
	h := openTest(t, Options{})
	in := checks.Result{
		Check: "openerp-login", Type: "scenario", Start: t0.Add(1500 * time.Microsecond),
		Duration: 412345 * time.Microsecond, Success: false, Slow: false,
		Error:      `step 2 "log in": required pattern o_main_navbar not found`,
		FailedStep: 1, Attempts: 2,
		Values: map[string]float64{"earliest_expiry_unix": 1.8e9, "nan": math.NaN()},
		Steps: []checks.StepResult{
			{Name: "login page", URL: "http://erp.lan/web/login", Success: true, Code: 200, Bytes: 5120, Speed: 1e6,
				Phases: checks.Phases{DNS: time.Millisecond, Connect: 2 * time.Millisecond, TTFB: 30 * time.Millisecond,
					Transfer: 4 * time.Millisecond, Total: 37 * time.Millisecond}},
			{Name: "log in", URL: "http://erp.lan/web/login", Success: false, Error: "required pattern not found", Code: 200,
				Phases: checks.Phases{TLS: 5 * time.Millisecond, Total: 375 * time.Millisecond}},
		},
	}
	id := put(t, h, in)
	got, err := h.Last(t.Context(), "openerp-login")
	if err != nil {
		t.Fatal(err)
	}
	want := in
	want.Values = map[string]float64{"earliest_expiry_unix": 1.8e9} // NaN is left out
	if got == nil || got.ID != id || !reflect.DeepEqual(got.Result, want) {
		t.Fatalf("Last = %+v\nwant id %d and %+v", got, id, want)
	}
}

func TestRunJSON(t *testing.T) {
	in := Run{ID: 42, Result: checks.Result{Check: "a", Type: "tcp", Start: t0, Duration: 1500 * time.Microsecond,
		Success: true, FailedStep: -1, Attempts: 1, Steps: []checks.StepResult{{Name: "connect", Phases: checks.Phases{Connect: time.Millisecond}}}}}
	b, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	var fields map[string]any
	if err := json.Unmarshal(b, &fields); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	if fields["id"] != 42.0 || fields["check"] != "a" || fields["duration_ms"] != 1.5 {
		t.Errorf("JSON %s lacks id 42, check a or duration_ms 1.5", b)
	}
	var out Run
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(out, in) {
		t.Errorf("round trip: %+v\nwant %+v", out, in)
	}
}

func TestRecordCutsLongTexts(t *testing.T) {
	h := openTest(t, Options{})
	long := strings.Repeat("é", maxErrorBytes) // two bytes each: the cut falls inside one
	put(t, h, checks.Result{Check: "c", Start: t0, Error: long, Steps: []checks.StepResult{{Name: "s", URL: "http://x/" + long}}})
	got, err := h.Last(t.Context(), "c")
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Error) > maxErrorBytes || !strings.HasSuffix(got.Error, "…") || !strings.HasPrefix(got.Error, "éé") {
		t.Errorf("error not cut to %d bytes: %d bytes", maxErrorBytes, len(got.Error))
	}
	if len(got.Steps[0].URL) > maxURLBytes {
		t.Errorf("url not cut: %d bytes", len(got.Steps[0].URL))
	}
	if _, err := h.Record(t.Context(), &checks.Result{Start: t0}); err == nil {
		t.Error("a result without a check name was recorded")
	}
}

func TestRunsRangeOrderLimit(t *testing.T) {
	h := openTest(t, Options{})
	for i := range 10 {
		put(t, h, checks.Result{Check: "a", Start: t0.Add(time.Duration(i) * time.Minute), Success: true,
			Steps: []checks.StepResult{{Name: "one"}, {Name: "two"}}})
	}
	put(t, h, checks.Result{Check: "b", Start: t0, Success: true})
	tests := []struct {
		name     string
		from, to time.Time
		limit    int
		want     []int // minutes after t0, in answer order
	}{
		{"all newest first", time.Time{}, time.Time{}, 0, []int{9, 8, 7, 6, 5, 4, 3, 2, 1, 0}},
		{"range is [from, to)", t0.Add(2 * time.Minute), t0.Add(5 * time.Minute), 0, []int{4, 3, 2}},
		{"limit keeps the newest", time.Time{}, time.Time{}, 3, []int{9, 8, 7}},
		{"open start", time.Time{}, t0.Add(2 * time.Minute), 0, []int{1, 0}},
		{"empty range", t0.Add(time.Hour), t0.Add(2 * time.Hour), 0, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			runs, err := h.Runs(t.Context(), "a", tc.from, tc.to, tc.limit)
			if err != nil {
				t.Fatal(err)
			}
			var got []int
			for _, r := range runs {
				got = append(got, int(r.Start.Sub(t0)/time.Minute))
				if len(r.Steps) != 2 || r.Steps[0].Name != "one" || r.Steps[1].Name != "two" || r.Check != "a" {
					t.Errorf("run %d: steps %+v", r.ID, r.Steps)
				}
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("runs at %v, want %v", got, tc.want)
			}
		})
	}
}

func TestLastAndChecks(t *testing.T) {
	h := openTest(t, Options{})
	if r, err := h.Last(t.Context(), "a"); err != nil || r != nil {
		t.Fatalf("Last of a check that never ran = %v, %v; want nil, nil", r, err)
	}
	put(t, h, checks.Result{Check: "a", Start: t0.Add(time.Minute), Success: true, Steps: []checks.StepResult{{Name: "s1"}}})
	newest := put(t, h, checks.Result{Check: "a", Start: t0.Add(2 * time.Minute), Error: "timeout", Steps: []checks.StepResult{{Name: "s1"}, {Name: "s2"}}})
	// Recorded after, but started before: it must not become the last run.
	put(t, h, checks.Result{Check: "a", Start: t0, Success: true})
	b := put(t, h, checks.Result{Check: "b", Type: "ping", Start: t0, Success: true})
	last, err := h.Checks(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(last) != 2 || last["a"].ID != newest || last["b"].ID != b {
		t.Fatalf("Checks = %v; want a=%d b=%d", last, newest, b)
	}
	if a := last["a"]; a.Error != "timeout" || len(a.Steps) != 2 || a.Steps[1].Name != "s2" {
		t.Errorf("last run of a = %+v", a)
	}
	if l, _ := h.Last(t.Context(), "a"); l.ID != newest {
		t.Errorf("Last(a) = %d, want %d", l.ID, newest)
	}
}

func TestPrune(t *testing.T) {
	h := openTest(t, Options{})
	for i := range 5 {
		put(t, h, checks.Result{Check: "a", Start: t0.Add(time.Duration(i) * 24 * time.Hour), Success: true,
			Steps: []checks.StepResult{{Name: "s"}}})
	}
	put(t, h, checks.Result{Check: "old", Start: t0, Success: true})
	n, err := h.Prune(t.Context(), t0.Add(3*24*time.Hour))
	if err != nil || n != 4 {
		t.Fatalf("Prune = %d, %v; want 4 runs deleted", n, err)
	}
	runs, _ := h.Runs(t.Context(), "a", time.Time{}, time.Time{}, 0)
	if len(runs) != 2 || !runs[1].Start.Equal(t0.Add(3*24*time.Hour)) {
		t.Errorf("left %d runs; want the two from day 3 on", len(runs))
	}
	var steps int
	h.db.QueryRow("SELECT count(*) FROM steps").Scan(&steps)
	if steps != 2 {
		t.Errorf("%d steps left, want 2 (those of the runs kept)", steps)
	}
	if last, _ := h.Checks(t.Context()); last["old"] != nil || last["a"] == nil {
		t.Errorf("latest runs after prune: %v", last)
	}
}

func TestRetentionLoop(t *testing.T) {
	now := t0.Add(10 * 24 * time.Hour)
	h := openTest(t, Options{RetentionDays: 7, RetentionEvery: 10 * time.Millisecond, Now: func() time.Time { return now }})
	put(t, h, checks.Result{Check: "a", Start: now.Add(-8 * 24 * time.Hour), Success: true})
	keep := put(t, h, checks.Result{Check: "a", Start: now.Add(-6 * 24 * time.Hour), Success: true})
	deadline := time.Now().Add(10 * time.Second)
	for {
		runs, err := h.Runs(t.Context(), "a", time.Time{}, time.Time{}, 0)
		if err != nil {
			t.Fatal(err)
		}
		if len(runs) == 1 {
			if runs[0].ID != keep {
				t.Fatalf("retention kept run %d, want %d", runs[0].ID, keep)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("retention never deleted the 8-day-old run (%d runs left)", len(runs))
		}
		time.Sleep(10 * time.Millisecond)
	}
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestReopenAndNewerSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "checks.db")
	h, err := Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	put(t, h, checks.Result{Check: "a", Start: t0, Success: true})
	h.Close()
	h, err = Open(t.Context(), path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if r, _ := h.Last(t.Context(), "a"); r == nil {
		t.Error("the run did not survive reopening")
	}
	h.Close()

	db, err := sql.Open("sqlite3", path)
	if err != nil {
		t.Fatal(err)
	}
	db.Exec("PRAGMA user_version = 99")
	db.Close()
	if h, err := Open(t.Context(), path, Options{}); err == nil || !strings.Contains(err.Error(), "newer") {
		if h != nil {
			h.Close()
		}
		t.Fatalf("opening a newer schema: err = %v, want a refusal", err)
	}
}

func TestMaxGapFromConfig(t *testing.T) {
	h := openTest(t, Options{Checks: []config.Check{{Name: "slow", Interval: config.Duration(5 * time.Minute)}}})
	if g := h.maxGap("slow"); g != 10*time.Minute {
		t.Errorf("gap of a 5m check = %v, want 10m", g)
	}
	if g := h.maxGap("gone"); g != 2*config.DefaultCheckInterval {
		t.Errorf("gap of an unknown check = %v, want twice the default interval", g)
	}
}
