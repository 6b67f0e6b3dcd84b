package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"vigie/checks"
	"vigie/cmd/config"
)

func TestParseSampleLine(t *testing.T) {
	for _, tc := range []struct {
		line   string
		name   string
		labels map[string]string
		value  float64
	}{
		{"process_cpu_seconds_total 12.5", "process_cpu_seconds_total", map[string]string{}, 12.5},
		{`vigie_check_start_lateness_seconds_bucket{le="0.001"} 497`, "vigie_check_start_lateness_seconds_bucket", map[string]string{"le": "0.001"}, 497},
		{`x_bucket{le="+Inf"} 3 1732270000000`, "x_bucket", map[string]string{"le": "+Inf"}, 3},
		{`vigie_check_runs_total{check="erp-0001",result="up"} 2`, "vigie_check_runs_total", map[string]string{"check": "erp-0001", "result": "up"}, 2},
		{`m{a="x\"y\\z\nw", b = "",} -Inf`, "m", map[string]string{"a": "x\"y\\z\nw", "b": ""}, math.Inf(-1)},
		{`m{a="}{,"} 1e3`, "m", map[string]string{"a": "}{,"}, 1000},
	} {
		s, err := parseSampleLine(tc.line)
		if err != nil {
			t.Errorf("%q: %v", tc.line, err)
			continue
		}
		if s.name != tc.name || !reflect.DeepEqual(s.labels, tc.labels) || s.value != tc.value {
			t.Errorf("%q: got %q %v %v, want %q %v %v", tc.line, s.name, s.labels, s.value, tc.name, tc.labels, tc.value)
		}
	}
	for _, bad := range []string{
		"novalue", `m{a="1"}`, `m{a="1"} x`, `m{a=1} 2`, `m{a="1} 2`, `m{a="1" b="2"} 3`,
		`m{="1"} 2`, `m{a="\q"} 1`, `m{a="1"} 2 3 4`, `{a="1"} 2`, `m{a="x\`,
	} {
		if s, err := parseSampleLine(bad); err == nil {
			t.Errorf("%q: no error (got %+v)", bad, s)
		}
	}
}

func TestParseSamplesKeeps(t *testing.T) {
	text := `# HELP vigie_check_runs_total Finished runs.
# TYPE vigie_check_runs_total counter
vigie_check_runs_total{check="a",result="up"} 3
vigie_check_runs_total{check="a",result="down"} 1
vigie_check_runs_total{check="b",result="up"} 4

go_goroutines 12
probe_http_status_code{check="a",step="login page"} this line is not read
`
	ss, err := parseSamples(strings.NewReader(text), func(n string) bool { return strings.HasPrefix(n, "vigie_") })
	if err != nil {
		t.Fatal(err)
	}
	if len(ss) != 3 {
		t.Fatalf("%d samples kept, want 3: %+v", len(ss), ss)
	}
	if got := sumSamples(ss, "vigie_check_runs_total", "result", "up"); got != 7 {
		t.Errorf("up: %v, want 7", got)
	}
	if got := sumSamples(ss, "vigie_check_runs_total"); got != 8 {
		t.Errorf("all: %v, want 8", got)
	}
	if got := sumSamples(ss, "vigie_check_runs_total", "check", "a", "result", "down"); got != 1 {
		t.Errorf("a down: %v, want 1", got)
	}
	if _, err := parseSamples(strings.NewReader(text), nil); err == nil {
		t.Error("the malformed line was read without an error when every name is kept")
	}
}

func FuzzParseSampleLine(f *testing.F) {
	for _, s := range []string{`m{le="0.5"} 1`, `a{b="c\"d",e="\\"} 2 3`, "x 1", `m{a="\n"} NaN`, `m{,} 1`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		s, err := parseSampleLine(line)
		if err != nil || math.IsNaN(s.value) || strings.ContainsAny(s.name, "{ \t\n\"") {
			return
		}
		for k := range s.labels {
			if k == "" || strings.ContainsAny(k, "=,{} \t\n\"") {
				return // not a name the writer would produce
			}
		}
		back, err := parseSampleLine(formatSample(s))
		if err != nil {
			t.Fatalf("%q read as %+v, written as %q, which reads back with %v", line, s, formatSample(s), err)
		}
		if back.name != s.name || !reflect.DeepEqual(back.labels, s.labels) || back.value != s.value {
			t.Fatalf("%q: %+v written and read back as %+v", line, s, back)
		}
	})
}

// lateness is an exposition of the scheduler's histogram with counts per
// bound (cumulative), split over two label sets to check they add up.
func lateness(t *testing.T, cum ...float64) histogram {
	t.Helper()
	le := []string{"0.001", "0.01", "0.05", "0.1", "0.25", "0.5", "1", "2.5", "5", "10", "30", "+Inf"}
	var b strings.Builder
	for i, c := range cum {
		half := math.Floor(c / 2)
		b.WriteString(formatSample(sample{name: "l_bucket", labels: map[string]string{"le": le[i], "part": "a"}, value: half}) + "\n")
		b.WriteString(formatSample(sample{name: "l_bucket", labels: map[string]string{"le": le[i], "part": "b"}, value: c - half}) + "\n")
	}
	ss, err := parseSamples(strings.NewReader(b.String()), nil)
	if err != nil {
		t.Fatal(err)
	}
	h, err := histogramOf(ss, "l")
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func TestHistogramQuantile(t *testing.T) {
	// 100 starts: 50 under 1 ms, 40 in (1 ms, 10 ms], 8 in (10, 50 ms], 2 in (0.5 s, 1 s].
	h := lateness(t, 50, 90, 98, 98, 98, 98, 100, 100, 100, 100, 100, 100)
	for _, tc := range []struct {
		q    float64
		want float64
		over bool
	}{
		{0.25, 0.0005, false},              // 25 of the 50 in [0, 1 ms]
		{0.50, 0.001, false},               // the 50th is at the first bound
		{0.70, 0.001 + 0.009*20/40, false}, // 20 of the 40 in (1, 10 ms]
		{0.95, 0.01 + 0.04*5/8, false},
		{0.99, 0.5 + 0.5*1/2, false}, // 1 of the 2 in (0.5, 1 s]
		{1.00, 1, false},
	} {
		got, over := h.quantile(tc.q)
		if math.Abs(got-tc.want) > 1e-12 || over != tc.over {
			t.Errorf("q %v: %v (over %v), want %v", tc.q, got, over, tc.want)
		}
	}
	if h.total() != 100 || h.over(1) != 0 || h.over(0.05) != 2 || h.over(0.3) != -1 {
		t.Errorf("total %v, over 1 s %v, over 50 ms %v, over 0.3 (not a bound) %v", h.total(), h.over(1), h.over(0.05), h.over(0.3))
	}

	// Past the last finite bound: the bound, flagged.
	slow := lateness(t, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 90, 100)
	if v, over := slow.quantile(0.99); v != 30 || !over {
		t.Errorf("p99 in the +Inf bucket: %v over %v, want 30 true", v, over)
	}
	if v, _ := lateness(t, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0).quantile(0.5); !math.IsNaN(v) {
		t.Errorf("empty histogram: %v, want NaN", v)
	}

	// The window: the later scrape minus the earlier one.
	later := lateness(t, 60, 100, 108, 108, 108, 108, 110, 110, 110, 110, 110, 110)
	d, err := later.minus(h)
	if err != nil {
		t.Fatal(err)
	}
	if d.total() != 10 || d.over(1) != 0 {
		t.Errorf("window: %v starts, %v over 1 s; want 10 and 0", d.total(), d.over(1))
	}
	if v, _ := d.quantile(0.5); v != 0.0005 { // all 10 in [0, 1 ms]
		t.Errorf("window p50 %v, want 0.0005", v)
	}
	if _, err := h.minus(later); err == nil {
		t.Error("an earlier scrape minus a later one: no error")
	}
}

func TestHistogramOfErrors(t *testing.T) {
	for name, text := range map[string]string{
		"missing":    "other_bucket{le=\"1\"} 1\n",
		"no +Inf":    "l_bucket{le=\"1\"} 1\n",
		"bad le":     "l_bucket{le=\"one\"} 1\nl_bucket{le=\"+Inf\"} 1\n",
		"decreasing": "l_bucket{le=\"1\"} 5\nl_bucket{le=\"+Inf\"} 4\n",
	} {
		ss, err := parseSamples(strings.NewReader(text), nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := histogramOf(ss, "l"); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
}

func loadGenerated(t *testing.T, base, password string, n, steps int) (*config.Server, string) {
	t.Helper()
	b, err := checksConfig("tok3n-0123456789abcdef", base, password, n, steps)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "vigie.yml")
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatalf("the generated configuration does not load: %v\n%s", err, b)
	}
	return cfg, path
}

func TestChecksConfig(t *testing.T) {
	for _, steps := range []int{3, 4, 7} {
		cfg, path := loadGenerated(t, "http://127.0.0.1:8069", "pw", 12, steps)
		if len(cfg.Checks) != 12 || len(cfg.Auth.APITokens) != 1 || cfg.Auth.APITokens[0].Token != "tok3n-0123456789abcdef" {
			t.Fatalf("%d steps: %d checks, tokens %+v", steps, len(cfg.Checks), cfg.Auth.APITokens)
		}
		for i, c := range cfg.Checks {
			db, _ := c.Variables.Get("db")
			if c.Name != checkName(i) || db != c.Name || c.Type != "scenario" || time.Duration(c.Interval) != checksInterval || len(c.Steps) != steps {
				t.Fatalf("check %d: %s db %s type %s interval %v, %d steps", i, c.Name, db, c.Type, c.Interval, len(c.Steps))
			}
			first, last := c.Steps[0], c.Steps[steps-1]
			if v, _ := first.Variables.Get("csrf"); !strings.HasPrefix(v, "regex:") || first.Required == "" || !first.StatusCodes.Match(200) ||
				last.URL != "{base}/web/session/logout" || !last.StatusCodes.Match(303) {
				t.Fatalf("check %d: steps %+v", i, c.Steps)
			}
		}
		// The binary's own validation, when it is built (make build).
		if bin, err := filepath.Abs("../../../bin/vigie"); err == nil {
			if _, err := os.Stat(bin); err == nil {
				if err := checkConfigFile(context.Background(), bin, path); err != nil {
					t.Error(err)
				}
			}
		}
	}
	if _, err := checksConfig("t", "http://x", "p", 1, 2); err == nil {
		t.Error("2 steps: no error")
	}
}

// TestERPWalk runs the generated checks with vigie's own prober against the
// app: every walk passes and costs exactly its steps in requests; a wrong
// password fails at the login step and the app counts the refusal.
func TestERPWalk(t *testing.T) {
	app := newERPApp("s3cret", time.Millisecond)
	erp, err := startERP(app)
	if err != nil {
		t.Fatal(err)
	}
	defer erp.stop()
	ctx := context.Background()
	var want int64
	for _, steps := range []int{4, 6} {
		cfg, _ := loadGenerated(t, erp.base, "s3cret", 3, steps)
		for i := range cfg.Checks {
			r := checks.Run(ctx, &cfg.Checks[i], nil)
			if !r.Success || len(r.Steps) != steps {
				t.Fatalf("%s with %d steps: success %v, error %q, %d steps", r.Check, steps, r.Success, r.Error, len(r.Steps))
			}
			want += int64(steps)
		}
	}
	s := app.snapshot()
	if s.Requests != want || s.WalkRequests != want || s.Walks != 6 || s.Open != 0 || len(s.Rejected) != 0 || s.Pages["GET /web/login"] != 6 || s.Pages["GET /web"] != 3+3*3 {
		t.Fatalf("app after 6 good walks: %+v, want %d requests", s, want)
	}
	if st := app.startTimes(); len(st) != 3 || len(st["erp-0002"]) != 2 {
		t.Errorf("start times: %v", st)
	}
	if n := app.connsOpened.Load(); n < 1 || n > 6 {
		t.Errorf("%d connections for 6 walks (one per run expected)", n)
	}

	cfg, _ := loadGenerated(t, erp.base, "wrong", 1, 4)
	r := checks.Run(ctx, &cfg.Checks[0], nil)
	if r.Success || r.FailedStep != 1 {
		t.Fatalf("wrong password: success %v, failed step %d, error %q", r.Success, r.FailedStep, r.Error)
	}
	if s := app.snapshot(); s.Rejected["wrong login or password"] != 1 || s.Open != 1 || s.Walks != 6 || s.Requests != want+2 {
		t.Errorf("after a wrong password: %+v", s)
	}
}

func TestERPRefusals(t *testing.T) {
	app := newERPApp("pw", 0)
	erp, err := startERP(app)
	if err != nil {
		t.Fatal(err)
	}
	defer erp.stop()
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, path := range []string{"/web/login", "/web", "/web/session/logout", "/nowhere"} {
		resp, err := noRedirect.Get(erp.base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == 200 {
			t.Errorf("GET %s without a session or db: 200", path)
		}
	}
	resp, err := noRedirect.PostForm(erp.base+"/web/login", url.Values{"login": {"user-x"}, "password": {"pw"}, "csrf_token": {"x"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if s := app.snapshot(); len(s.Rejected) != 5 || s.Requests != 5 || s.Rejected["login posted without a session cookie"] != 1 {
		t.Errorf("5 wrong requests: %+v", s)
	}
}

func TestSetGaps(t *testing.T) {
	t0 := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	at := func(s ...float64) []time.Time {
		var out []time.Time
		for _, x := range s {
			out = append(out, t0.Add(time.Duration(x*float64(time.Second))))
		}
		return out
	}
	var f checksFigures
	f.setGaps(map[string][]time.Time{
		"a": at(1, 61, 115.5),  // 60, 54.5: both within 54-66 ± 1
		"b": at(3, 70, 200),    // 67 (within 67), 130 (a missed run)
		"c": at(5),             // one walk: no gap
		"d": at(2, 54.5, 60.5), // 52.5 (too soon), 6
	})
	if f.Gaps != 6 || f.GapMin != 6 || f.GapMax != 130 || f.GapsOff != 3 || f.Walked != 3 {
		t.Errorf("gaps %d min %v max %v off %d walked %d; want 6, 6, 130, 3, 3", f.Gaps, f.GapMin, f.GapMax, f.GapsOff, f.Walked)
	}
	// 370 s over 6 gaps: 3 checks every 61.67 s.
	if mean := 370.0 / 6; math.Abs(f.GapMean-mean) > 1e-9 || math.Abs(f.RunsPerMin-3*60/mean) > 1e-9 {
		t.Errorf("mean gap %v, %v runs/min; want %v and %v", f.GapMean, f.RunsPerMin, mean, 3*60/mean)
	}
	// A check with short gaps fits a third walk in: only the first two of
	// each count, or the mean would be (3*55+2*65)/5 = 59 s.
	var fits checksFigures
	fits.setGaps(map[string][]time.Time{"a": at(0, 55, 110, 165), "b": at(0, 65, 130)})
	if fits.GapsPer != 2 || fits.GapMean != 60 || fits.RunsPerMin != 2 || fits.Gaps != 5 {
		t.Errorf("first gaps only: %d per check, mean %v, %v runs/min, %d gaps; want 2, 60, 2, 5", fits.GapsPer, fits.GapMean, fits.RunsPerMin, fits.Gaps)
	}
	// Every check on time: exactly one run a minute each.
	var kept checksFigures
	kept.setGaps(map[string][]time.Time{"a": at(0, 54, 120, 180), "b": at(5, 71, 125)})
	if kept.RunsPerMin != 2 || kept.GapsOff != 0 {
		t.Errorf("on time: %v runs/min, %d gaps off; want 2 and 0", kept.RunsPerMin, kept.GapsOff)
	}
	var none checksFigures
	none.setGaps(nil)
	if none.Gaps != 0 || !math.IsNaN(none.GapMin) || !math.IsNaN(none.RunsPerMin) {
		t.Errorf("no walks: %+v", none)
	}
}

func TestRateKept(t *testing.T) {
	for _, tc := range []struct {
		perMin float64
		n      int
		gaps   float64
		want   bool
	}{
		{500, 500, 1000, true},
		{491, 500, 1000, true},  // -1.8 %
		{489, 500, 1000, false}, // -2.2 %: 3 sd of 1000 gaps is 0.55 %
		{511, 500, 1000, false}, // too many is wrong too
		{19, 20, 20, false},     // -5 %: beyond 3 sd of 20 gaps, 3.9 %
		{19.4, 20, 20, true},    // -3 %: beyond 2 %, within 3.9 %
		{math.NaN(), 500, 1000, false},
		{500, 500, 0, false},
	} {
		if got := rateKept(tc.perMin, tc.n, tc.gaps); got != tc.want {
			t.Errorf("rateKept(%v, %d, %v) = %v, want %v", tc.perMin, tc.n, tc.gaps, got, tc.want)
		}
	}
}

func TestChecksReport(t *testing.T) {
	good := checksFigures{Run: 1, RunsPerMin: 497, ExpectedPerMin: 500, Gaps: 1000, GapsPer: 2, Walked: 500, WindowSeconds: 120, LatenessP99: 0.0123, LatenessP50: 0.0004, Runs: 1500}
	late := good
	late.Run, late.LatenessP99 = 2, 1.8
	behind, skipping := good, good
	behind.RunsPerMin = 450
	skipping.Skipped = 3
	for _, tc := range []struct {
		n, steps int
		runs     []checksFigures
		verdict  string
		failed   bool
	}{
		{500, 4, []checksFigures{good}, ": met (p99 0.012 s", false},
		{500, 4, []checksFigures{late}, ": NOT met (p99 1.800 s", false},
		{500, 4, []checksFigures{good, late, late}, ": NOT met", false},
		{500, 4, []checksFigures{behind}, ": NOT met (p99 0.012 s bucket-interpolated, 450.0 runs/min", false},
		{500, 4, []checksFigures{skipping}, ": NOT met (p99 0.012 s bucket-interpolated, 497.0 runs/min of 500, 3 skipped)", false},
		{50, 4, []checksFigures{good}, "not measured at 500 x 4", false},
		{500, 4, []checksFigures{{Run: 1, Error: "3 runs failed"}}, ": no figure", true},
	} {
		r := &results{Options: map[string]any{}, Host: map[string]string{}, Checks: &checksResults{Checks: tc.n, Steps: tc.steps, For: "3m0s", Runs: tc.runs}}
		out := r.table()
		if !strings.Contains(out, "500 scenario checks x 4 steps per minute, lateness p99 < 1 s") || !strings.Contains(out, tc.verdict) {
			t.Errorf("%d checks, runs %+v: want %q in\n%s", tc.n, tc.runs, tc.verdict, out)
		}
		if r.failed() != tc.failed {
			t.Errorf("%+v: failed() = %v", tc.runs, r.failed())
		}
		if tc.failed && !strings.Contains(out, "checks run 1: 3 runs failed") {
			t.Errorf("the failure is not listed:\n%s", out)
		}
	}
}

func TestParseFlagsChecks(t *testing.T) {
	o, err := parseFlags(nil, io.Discard)
	if err != nil || o.checksN != 500 || o.checksSteps != 4 || o.checksFor != 3*time.Minute || o.checksRuns != 1 || o.skipChecks || !o.runChecks() {
		t.Fatalf("defaults: %+v, %v", o, err)
	}
	if o, _ := parseFlags([]string{"-checks-n", "0"}, io.Discard); o.runChecks() {
		t.Error("-checks-n 0 still runs the scenario")
	}
	if o, _ := parseFlags([]string{"-skip-checks"}, io.Discard); o.runChecks() {
		t.Error("-skip-checks still runs the scenario")
	}
	for _, bad := range [][]string{{"-checks-n", "-1"}, {"-checks-steps", "2"}, {"-checks-steps", "21"}, {"-checks-for", "90s"}, {"-checks-runs", "0"}, {"-checks-app-delay", "2s"}} {
		if _, err := parseFlags(bad, io.Discard); err == nil {
			t.Errorf("parseFlags(%q): no error", bad)
		}
	}
}

// TestCheckConfigFileRejects makes sure a broken configuration is caught
// by the binary (when built) with its message.
func TestCheckConfigFileRejects(t *testing.T) {
	bin, _ := filepath.Abs("../../../bin/vigie")
	if _, err := os.Stat(bin); err != nil {
		t.Skip("bin/vigie not built (make build)")
	}
	if _, err := exec.LookPath(bin); err != nil {
		t.Skip(err)
	}
	path := filepath.Join(t.TempDir(), "bad.yml")
	os.WriteFile(path, []byte("checks:\n  - {name: x, type: scenario, interval: 1m}\n"), 0o600)
	err := checkConfigFile(context.Background(), bin, path)
	if err == nil || !strings.Contains(err.Error(), "--check-config") || !strings.Contains(err.Error(), "needs at least one step") {
		t.Errorf("a check without steps: %v", err)
	}
}

// TestConsistentScrape reconciles vigie's run count with the app's walks
// through a stand-in /metrics.
func TestConsistentScrape(t *testing.T) {
	app := newERPApp("pw", 0)
	erp, err := startERP(app)
	if err != nil {
		t.Fatal(err)
	}
	defer erp.stop()
	cfg, _ := loadGenerated(t, erp.base, "pw", 2, 4)
	for i := range cfg.Checks {
		if r := checks.Run(context.Background(), &cfg.Checks[i], nil); !r.Success {
			t.Fatal(r.Error)
		}
	}
	runs := 2
	metrics := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "# TYPE vigie_check_runs_total counter\nvigie_check_runs_total{check=\"erp-0001\",result=\"up\"} %d\n", runs)
	}))
	defer metrics.Close()
	api := &vigieServer{httpAddr: strings.TrimPrefix(metrics.URL, "http://"), client: metrics.Client()}
	ctx := context.Background()
	if snap, m, err := consistentScrape(ctx, api, app, 4); err != nil || snap.Walks != 2 || sumSamples(m, "vigie_check_runs_total") != 2 {
		t.Errorf("2 runs, 2 walks: %+v, %v", snap, err)
	}
	if _, _, err := consistentScrape(ctx, api, app, 5); err == nil || !strings.Contains(err.Error(), "want 5 steps each") {
		t.Errorf("walks of 4 requests for checks of 5 steps: %v", err)
	}
	runs = 3
	if _, _, err := consistentScrape(ctx, api, app, 4); err == nil || !strings.Contains(err.Error(), "vigie counts 3 runs but the app saw 2 walks") {
		t.Errorf("3 runs for 2 walks: %v", err)
	}
}
