package schedule

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"vigie/checks"
	"vigie/checks/history"
	"vigie/cmd/config"
)

// fakeSLA answers availability by window length and counts the questions.
type fakeSLA struct {
	mu    sync.Mutex
	calls map[time.Duration]int
	slow  []bool
}

func (f *fakeSLA) Availability(_ context.Context, check string, from, to time.Time, slowIsDown bool) (history.Availability, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	span := to.Sub(from)
	f.calls[span]++
	f.slow = append(f.slow, slowIsDown)
	switch span {
	case time.Hour:
		return history.Availability{Known: true, Ratio: 1}, nil
	case 24 * time.Hour:
		return history.Availability{Known: true, Ratio: 0.99}, nil
	case 7 * 24 * time.Hour:
		return history.Availability{Known: true, Ratio: 0.995}, nil
	}
	return history.Availability{}, nil // 30d: nothing known
}

func (f *fakeSLA) total() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, c := range f.calls {
		n += c
	}
	return n
}

// scripted returns the given results in turn.
func scripted(rs ...*checks.Result) func(context.Context, *config.Check) *checks.Result {
	var mu sync.Mutex
	return func(context.Context, *config.Check) *checks.Result {
		mu.Lock()
		defer mu.Unlock()
		r := rs[0]
		rs = rs[1:]
		return r
	}
}

const metricsHelp = `
# HELP probe_success Whether the check's last run succeeded (1) or failed (0).
# TYPE probe_success gauge
# HELP probe_duration_seconds How long the check's last run took, attempts included.
# TYPE probe_duration_seconds gauge
# HELP probe_http_duration_seconds Duration of each phase of each step of a scenario's last run, redirects summed.
# TYPE probe_http_duration_seconds gauge
# HELP probe_http_status_code HTTP status of each step of a scenario's last run (after redirects).
# TYPE probe_http_status_code gauge
# HELP probe_ssl_earliest_cert_expiry Unix time the earliest certificate of the chain expires, from the last run.
# TYPE probe_ssl_earliest_cert_expiry gauge
# HELP vigie_check_runs_total Finished runs by result: up, down, or slow (up but over sla.response_time).
# TYPE vigie_check_runs_total counter
# HELP vigie_check_sla_ratio Time-weighted availability (0..1) over the window; absent when no run covers it.
# TYPE vigie_check_sla_ratio gauge
`

var metricNames = []string{"probe_success", "probe_duration_seconds", "probe_http_duration_seconds", "probe_http_status_code",
	"probe_ssl_earliest_cert_expiry", "vigie_check_runs_total", "vigie_check_sla_ratio"}

func TestMetrics(t *testing.T) {
	start := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	up := &checks.Result{Check: "erp", Type: "scenario", Start: start, Duration: 1500 * time.Millisecond, Success: true,
		FailedStep: -1, Attempts: 1, Values: map[string]float64{"earliest_expiry_unix": 1.8e9},
		Steps: []checks.StepResult{
			{Name: "login page", Success: true, Code: 200, Phases: checks.Phases{DNS: time.Millisecond, Connect: 2 * time.Millisecond,
				TLS: 3 * time.Millisecond, TTFB: 40 * time.Millisecond, Transfer: 5 * time.Millisecond, Total: 51 * time.Millisecond}},
			{Name: "log in", Success: true, Code: 303, Phases: checks.Phases{TTFB: 100 * time.Millisecond, Transfer: 10 * time.Millisecond}},
		}}
	down := &checks.Result{Check: "erp", Type: "scenario", Start: start.Add(time.Minute), Duration: 250 * time.Millisecond,
		FailedStep: 0, Attempts: 1, Error: "HTTP 500",
		Steps: []checks.StepResult{{Name: "login page", Code: 500, Phases: checks.Phases{TTFB: 200 * time.Millisecond}}}}
	slow := &checks.Result{Check: "erp", Type: "scenario", Start: start.Add(2 * time.Minute), Duration: 4 * time.Second,
		Success: true, Slow: true, FailedStep: -1, Attempts: 1}
	reg := prometheus.NewRegistry()
	sla := &fakeSLA{calls: map[time.Duration]int{}}
	c := config.Check{Name: "erp", Type: "scenario", Interval: config.Duration(time.Minute),
		SLA: &config.SLA{Target: 99.5, SlowIsDown: true}}
	s := New(Options{Checks: []config.Check{c}, Run: scripted(up, down, slow), Registerer: reg, SLA: sla,
		Now: func() time.Time { return start }})

	if _, err := s.RunNow(context.Background(), "erp"); err != nil {
		t.Fatal(err)
	}
	want := metricsHelp + `
probe_success{check="erp"} 1
probe_duration_seconds{check="erp"} 1.5
probe_http_duration_seconds{check="erp",phase="resolve",step="login page"} 0.001
probe_http_duration_seconds{check="erp",phase="connect",step="login page"} 0.002
probe_http_duration_seconds{check="erp",phase="tls",step="login page"} 0.003
probe_http_duration_seconds{check="erp",phase="processing",step="login page"} 0.04
probe_http_duration_seconds{check="erp",phase="transfer",step="login page"} 0.005
probe_http_duration_seconds{check="erp",phase="resolve",step="log in"} 0
probe_http_duration_seconds{check="erp",phase="connect",step="log in"} 0
probe_http_duration_seconds{check="erp",phase="tls",step="log in"} 0
probe_http_duration_seconds{check="erp",phase="processing",step="log in"} 0.1
probe_http_duration_seconds{check="erp",phase="transfer",step="log in"} 0.01
probe_http_status_code{check="erp",step="login page"} 200
probe_http_status_code{check="erp",step="log in"} 303
probe_ssl_earliest_cert_expiry{check="erp"} 1.8e+09
vigie_check_runs_total{check="erp",result="up"} 1
vigie_check_runs_total{check="erp",result="down"} 0
vigie_check_runs_total{check="erp",result="slow"} 0
vigie_check_sla_ratio{check="erp",window="1h"} 1
vigie_check_sla_ratio{check="erp",window="24h"} 0.99
vigie_check_sla_ratio{check="erp",window="7d"} 0.995
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), metricNames...); err != nil {
		t.Fatalf("after an up run: %v", err)
	}
	w := s.SLAWindows("erp")
	if len(w) != 4 || w["24h"].Ratio != 0.99 || !w["1h"].Known || w["30d"].Known {
		t.Errorf("SLAWindows = %+v", w)
	}
	if s.SLAWindows("nope") != nil {
		t.Error("SLAWindows of an unknown check is not nil")
	}

	// A failure at the first step: the second step's series and the
	// certificate expiry go, they would describe an older run.
	if _, err := s.RunNow(context.Background(), "erp"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RunNow(context.Background(), "erp"); err != nil {
		t.Fatal(err)
	}
	want = metricsHelp + `
probe_success{check="erp"} 1
probe_duration_seconds{check="erp"} 4
vigie_check_runs_total{check="erp",result="up"} 1
vigie_check_runs_total{check="erp",result="down"} 1
vigie_check_runs_total{check="erp",result="slow"} 1
vigie_check_sla_ratio{check="erp",window="1h"} 1
vigie_check_sla_ratio{check="erp",window="24h"} 0.99
vigie_check_sla_ratio{check="erp",window="7d"} 0.995
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), metricNames...); err != nil {
		t.Fatalf("after down then slow runs: %v", err)
	}
	for _, sd := range sla.slow {
		if !sd {
			t.Fatal("availability asked without slow_is_down for a check that sets it")
		}
	}
}

func TestMetricsAfterDownRun(t *testing.T) {
	down := &checks.Result{Check: "erp", Type: "scenario", Duration: 250 * time.Millisecond, FailedStep: 0, Attempts: 1,
		Steps: []checks.StepResult{{Name: "login page", Code: 500, Phases: checks.Phases{TTFB: 200 * time.Millisecond}}}}
	up := &checks.Result{Check: "erp", Type: "scenario", Success: true, FailedStep: -1, Attempts: 1,
		Steps: []checks.StepResult{{Name: "login page", Code: 200}, {Name: "log in", Code: 200}}}
	reg := prometheus.NewRegistry()
	s := New(Options{Checks: []config.Check{{Name: "erp", Type: "scenario"}}, Run: scripted(up, down), Registerer: reg})
	for range 2 {
		if _, err := s.RunNow(context.Background(), "erp"); err != nil {
			t.Fatal(err)
		}
	}
	want := metricsHelp + `
probe_success{check="erp"} 0
probe_duration_seconds{check="erp"} 0.25
probe_http_duration_seconds{check="erp",phase="resolve",step="login page"} 0
probe_http_duration_seconds{check="erp",phase="connect",step="login page"} 0
probe_http_duration_seconds{check="erp",phase="tls",step="login page"} 0
probe_http_duration_seconds{check="erp",phase="processing",step="login page"} 0.2
probe_http_duration_seconds{check="erp",phase="transfer",step="login page"} 0
probe_http_status_code{check="erp",step="login page"} 500
vigie_check_runs_total{check="erp",result="up"} 1
vigie_check_runs_total{check="erp",result="down"} 1
vigie_check_runs_total{check="erp",result="slow"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), metricNames...); err != nil {
		t.Fatal(err)
	}
}

func TestSLARefreshIsThrottled(t *testing.T) {
	now := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	sla := &fakeSLA{calls: map[time.Duration]int{}}
	ok := func(context.Context, *config.Check) *checks.Result {
		return &checks.Result{Success: true, FailedStep: -1, Attempts: 1}
	}
	s := New(Options{Checks: []config.Check{{Name: "a", Type: "tcp"}}, Run: ok, SLA: sla, Now: clock})
	runAt := func(d time.Duration) {
		mu.Lock()
		now = now.Add(d)
		mu.Unlock()
		if _, err := s.RunNow(context.Background(), "a"); err != nil {
			t.Fatal(err)
		}
	}
	steps := []struct {
		after time.Duration
		total int // questions asked so far
	}{
		{0, 4},                // first run: every window
		{time.Second, 4},      // nothing is due
		{2 * time.Second, 5},  // 1h: due after 2.5s
		{time.Minute, 7},      // 1h and 24h
		{7 * time.Minute, 10}, // 1h, 24h, 7d
		{30 * time.Minute, 14},
	}
	for i, st := range steps {
		runAt(st.after)
		if got := sla.total(); got != st.total {
			t.Fatalf("step %d: %d availability questions, want %d (%v)", i, got, st.total, sla.calls)
		}
	}
	if got := sla.slow[0]; got {
		t.Error("slow_is_down asked for a check without an sla")
	}
}

func TestStepLabels(t *testing.T) {
	got := stepLabels([]checks.StepResult{{Name: "a"}, {Name: ""}, {Name: "a"}, {Name: "b"}})
	want := []string{"a", "step 2", "a #3", "b"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("labels %q, want %q", got, want)
	}
}
