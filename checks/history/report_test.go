package history

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"vigie/checks"
	"vigie/cmd/config"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func TestPercentile(t *testing.T) {
	ms := func(v ...int) []time.Duration {
		out := make([]time.Duration, len(v))
		for i, x := range v {
			out[i] = time.Duration(x) * time.Millisecond
		}
		return out
	}
	hundred := make([]int, 100)
	for i := range hundred {
		hundred[i] = i + 1
	}
	tests := []struct {
		name   string
		values []time.Duration
		p      float64
		want   time.Duration
	}{
		{"1..100 p50", ms(hundred...), 50, 50 * time.Millisecond},
		{"1..100 p90", ms(hundred...), 90, 90 * time.Millisecond},
		{"1..100 p95", ms(hundred...), 95, 95 * time.Millisecond},
		{"1..100 p99", ms(hundred...), 99, 99 * time.Millisecond},
		{"1..100 p100", ms(hundred...), 100, 100 * time.Millisecond},
		{"one value", ms(7), 99, 7 * time.Millisecond},
		{"four values p50 is the second", ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{"four values p90 is the last", ms(1, 2, 3, 4), 90, 4 * time.Millisecond},
		{"twenty values p95 is the 19th", ms(hundred[:20]...), 95, 19 * time.Millisecond},
		{"none", nil, 50, 0},
		{"p0", ms(1, 2), 0, 0},
	}
	for _, tc := range tests {
		if got := Percentile(tc.values, tc.p); got != tc.want {
			t.Errorf("%s: got %v, want %v", tc.name, got, tc.want)
		}
	}
}

var reportCheck = config.Check{Name: "openerp-login", Type: "scenario", Interval: config.Duration(time.Minute),
	SLA: &config.SLA{Target: 99.5, ResponseTime: config.Duration(3 * time.Second)}}

// reportRuns is two hours of an ERP login scenario: a 5-minute outage, a
// 20-minute stop of vigie, some slow runs, a step renamed half-way.
func reportRuns(t *testing.T, h *History) {
	t.Helper()
	put(t, h, checks.Result{Check: "openerp-login", Start: t0.Add(-time.Hour), Success: true}) // too old to matter
	for m := range 120 {
		if m >= 70 && m < 90 {
			continue // vigie stopped
		}
		r := checks.Result{Check: "openerp-login", Type: "scenario", Start: t0.Add(time.Duration(m) * time.Minute),
			Success: true, FailedStep: -1, Attempts: 1}
		names := []string{"login page", "log in", "log out"}
		if m >= 60 {
			names[2] = "logout" // renamed in the config
		}
		for i, n := range names {
			r.Steps = append(r.Steps, checks.StepResult{Name: n, Success: true,
				Phases: checks.Phases{Total: time.Duration((i+1)*100+m%10) * time.Millisecond}})
		}
		switch {
		case m >= 30 && m < 35:
			r.Success, r.FailedStep, r.Attempts = false, 1, 2
			r.Error = `step 2 "log in": required pattern o_main_navbar not found in the body (HTTP 200, 5.1 KiB)`
			if m > 30 {
				r.Error = "step 2 \"log in\": connection refused"
			}
			r.Steps[1].Success, r.Steps = false, r.Steps[:2]
		case m == 100:
			r.Success, r.FailedStep = false, 0
			r.Error = "=HYPERLINK(\"http://evil\") says the server"
			r.Steps[0].Success, r.Steps = false, r.Steps[:1]
		case m%20 == 7:
			r.Slow = true
		}
		put(t, h, r)
	}
}

func TestReportGolden(t *testing.T) {
	h := openTest(t, Options{})
	reportRuns(t, h)
	rep, err := h.Report(t.Context(), reportCheck, t0, t0.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	var csvOut bytes.Buffer
	if err := rep.WriteCSV(&csvOut); err != nil {
		t.Fatal(err)
	}
	jsonOut, err := json.MarshalIndent(rep, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "report.csv", csvOut.Bytes())
	golden(t, "report.json", append(jsonOut, '\n'))
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file:\n%s", name, got)
	}
}

// TestReportFigures checks the golden report's figures one by one, so the
// golden files are not merely what the code happened to print.
func TestReportFigures(t *testing.T) {
	h := openTest(t, Options{})
	reportRuns(t, h)
	rep, err := h.Report(t.Context(), reportCheck, t0, t0.Add(2*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	a := rep.Availability
	// Covered: 0..71 (the run at 69 vouches for 2 minutes) and 90..120.
	// Down: 30..35 and 100..101.
	if a.Up != 95*time.Minute || a.Down != 6*time.Minute || a.Unknown != 19*time.Minute || a.Runs != 100 {
		t.Errorf("availability %+v", a)
	}
	if rep.Met == nil || *rep.Met {
		t.Errorf("target 99.5 %% met = %v with %.4f", rep.Met, a.Ratio)
	}
	if rep.Runs != 100 || rep.RunsUp != 94 || rep.RunsDown != 6 || rep.RunsSlow != 5 {
		t.Errorf("runs %d up %d down %d slow %d; want 100 94 6 5", rep.Runs, rep.RunsUp, rep.RunsDown, rep.RunsSlow)
	}
	if rep.WithinResponseTime == nil || *rep.WithinResponseTime != 89.0/94 {
		t.Errorf("within response time = %v, want 89/94", rep.WithinResponseTime)
	}
	wantDown := []Period{
		{Start: t0.Add(30 * time.Minute), End: t0.Add(35 * time.Minute), Runs: 5,
			Error: `step 2 "log in": required pattern o_main_navbar not found in the body (HTTP 200, 5.1 KiB)`},
		{Start: t0.Add(100 * time.Minute), End: t0.Add(101 * time.Minute), Runs: 1, Error: "=HYPERLINK(\"http://evil\") says the server"},
	}
	if !slices.Equal(rep.DownPeriods, wantDown) {
		t.Errorf("down periods %+v\nwant %+v", rep.DownPeriods, wantDown)
	}
	if want := []Period{{Start: t0.Add(71 * time.Minute), End: t0.Add(90 * time.Minute)}}; !slices.Equal(rep.UnknownPeriods, want) {
		t.Errorf("unknown periods %+v, want %+v", rep.UnknownPeriods, want)
	}
	var names []string
	for _, s := range rep.Steps {
		names = append(names, s.Name)
	}
	if want := []string{"login page", "log in", "log out", "logout"}; !slices.Equal(names, want) {
		t.Fatalf("steps %v, want %v", names, want)
	}
	// "log in": in 99 runs (the run at 100 stopped before it), failed in 5;
	// 94 samples of 200 + m%10 ms: 8 of 200, 9 each of 201..204, 10 each
	// of 205..209, so the 47th (p50) is 205 and the 90th (p95) 209.
	s := rep.Steps[1]
	if s.Samples != 94 || s.Failed != 5 || s.Max != 209*time.Millisecond || s.P50 != 205*time.Millisecond || s.P95 != 209*time.Millisecond {
		t.Errorf("log in stats %+v", s)
	}
}

func TestReportWithoutSLA(t *testing.T) {
	h := openTest(t, Options{})
	c := config.Check{Name: "vm-www", Type: "ping", Interval: config.Duration(30 * time.Second)}
	rep, err := h.Report(t.Context(), c, t0, t0.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if rep.Met != nil || rep.WithinResponseTime != nil || rep.Availability.Known || rep.Availability.Unknown != time.Hour {
		t.Errorf("report of a check without SLA nor runs: %+v", rep)
	}
	var out bytes.Buffer
	if err := rep.WriteCSV(&out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"Availability (%),unknown\n", "Target (%),none\n", "Target met,none\n"} {
		if !bytes.Contains(out.Bytes(), []byte(want)) {
			t.Errorf("CSV lacks %q:\n%s", want, out.Bytes())
		}
	}
}
