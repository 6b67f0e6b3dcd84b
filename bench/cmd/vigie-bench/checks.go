package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"time"
)

// The checks scenario: a fresh vigie serve runs opt.checksN scenario checks
// of opt.checksSteps steps every minute against the harness's ERP app
// (checks_app.go) for opt.checksFor; the scheduler's own metrics say how
// late runs started, the app says how many requests it answered and when
// each check's walks began. See docs/benchmarks.md.

const (
	checksInterval = time.Minute // every generated check's interval
	// checksWarmup is left out of the rates: the first runs of all checks
	// are spread over their first few seconds, all at once.
	checksWarmup = time.Minute
	// checksLateTarget is the bound on lateness p99.
	checksLateTarget = 1.0 // seconds
	// checksMetricsLimit bounds one /metrics answer (hundreds of checks
	// carry tens of thousands of series).
	checksMetricsLimit = 64 << 20
)

// checksFigures is one run of the scenario.
type checksFigures struct {
	Run int `json:"run"`
	// Runs per minute on the app's clock: checks walked x interval / mean
	// gap between a check's consecutive walks.
	RunsPerMin     float64 `json:"runs_per_min"`
	ExpectedPerMin float64 `json:"expected_per_min"`
	// The window runs from the end of the warm-up to the end of the run;
	// runs counted by vigie in it (edge effects, see counterPerMin).
	WindowSeconds     float64 `json:"window_seconds"`
	WindowRuns        float64 `json:"window_runs"`
	CounterRunsPerMin float64 `json:"counter_runs_per_min"`
	// From the server's start: vigie_check_runs_total by result, skipped runs.
	Runs    float64 `json:"runs"`
	Up      float64 `json:"up"`
	Slow    float64 `json:"slow"`
	Down    float64 `json:"down"`
	Skipped float64 `json:"skipped"`
	// Lateness, bucket-interpolated, in seconds: over every scheduled start
	// since the server started, and over the window.
	Starts            float64 `json:"starts"`
	LatenessP50       float64 `json:"lateness_p50_s"`
	LatenessP99       float64 `json:"lateness_p99_s"`
	LatenessP99Over   bool    `json:"lateness_p99_over_last_bucket,omitempty"`
	LateOver1s        float64 `json:"starts_over_1s"` // exact: the le="1" bucket
	WindowLatenessP50 float64 `json:"window_lateness_p50_s"`
	WindowLatenessP99 float64 `json:"window_lateness_p99_s"`
	// probe_duration_seconds of each check's last run: how long a run holds
	// one of the scheduler's slots.
	RunMsMedian float64 `json:"run_ms_median"`
	RunMsMax    float64 `json:"run_ms_max"`
	// Resources of vigie serve: CPU over the window, RSS at the end and peak.
	CPUSeconds     float64 `json:"cpu_seconds"`
	CPUPerRunMs    float64 `json:"cpu_per_run_ms"`
	RSS            float64 `json:"rss_bytes"`
	PeakRSS        int64   `json:"peak_rss_bytes"`
	OpenFDs        int     `json:"open_fds"`
	HarnessCPUSecs float64 `json:"harness_cpu_seconds"` // the app and the harness, over the window
	// What the app saw.
	App              erpSnapshot `json:"app"`
	RequestsExpected int64       `json:"requests_expected"` // runs x steps, when the app's walks were counted
	ConnsOpened      int64       `json:"app_connections_opened"`
	ConnsOpen        int64       `json:"app_connections_open_at_end"`
	// Gaps between a check's consecutive walks as the app saw them.
	Walked     int      `json:"checks_walked"` // checks with two walks or more
	Gaps       int      `json:"gaps"`
	GapsPer    int      `json:"gaps_averaged_per_check"` // the first K of each check
	GapMean    float64  `json:"gap_mean_s"`
	GapMin     float64  `json:"gap_min_s"`
	GapMax     float64  `json:"gap_max_s"`
	GapsOff    int      `json:"gaps_off_interval"` // outside interval ± 10 % ± 1 s
	DownErrors []string `json:"down_errors,omitempty"`
	Error      string   `json:"error,omitempty"`
}

// checksResults is the scenario's figures over its runs.
type checksResults struct {
	Checks     int             `json:"checks"`
	Steps      int             `json:"steps"`
	For        string          `json:"for"`
	AppDelayMs float64         `json:"app_delay_ms"`
	Runs       []checksFigures `json:"runs"`
}

// runChecksScenario runs the scenario opt.checksRuns times, each against a
// fresh vigie and a fresh app.
func runChecksScenario(ctx context.Context, opt options, runDir string) *checksResults {
	res := &checksResults{Checks: opt.checksN, Steps: opt.checksSteps, For: opt.checksFor.String(),
		AppDelayMs: float64(opt.checksDelay) / float64(time.Millisecond)}
	for r := 1; r <= opt.checksRuns && ctx.Err() == nil; r++ {
		dir := filepath.Join(runDir, fmt.Sprintf("checks-run%d", r))
		f := runChecksOnce(ctx, opt, dir)
		f.Run = r
		cleanup(opt, filepath.Join(dir, "data"))
		logf("checks run %d: %.0f runs/min (expected %.0f), lateness p50 %s s p99 %s s, %.0f down, %.0f skipped, CPU %.2f ms/run, RSS %.0f MiB%s",
			r, f.RunsPerMin, f.ExpectedPerMin, fmtNum(f.LatenessP50, 3), fmtNum(f.LatenessP99, 3), f.Down, f.Skipped,
			f.CPUPerRunMs, f.RSS/(1<<20), map[bool]string{true: "; ERROR: " + f.Error}[f.Error != ""])
		res.Runs = append(res.Runs, f)
	}
	return res
}

func runChecksOnce(ctx context.Context, opt options, dir string) (f checksFigures) {
	f.ExpectedPerMin = float64(opt.checksN) * float64(time.Minute) / float64(checksInterval)
	var errs []string
	fail := func(err error) { errs = append(errs, err.Error()) }
	defer func() { f.Error = strings.Join(errs, "; ") }()
	if err := os.MkdirAll(dir, 0o755); err != nil {
		fail(err)
		return
	}
	app := newERPApp(randomWord(16), opt.checksDelay)
	erp, err := startERP(app)
	if err != nil {
		fail(fmt.Errorf("ERP app: %w", err))
		return
	}
	defer erp.stop()
	token := randomWord(32)
	conf, err := checksConfig(token, erp.base, app.password, opt.checksN, opt.checksSteps)
	if err != nil {
		fail(err)
		return
	}
	cfg := filepath.Join(dir, "vigie.yml")
	if err := os.WriteFile(cfg, conf, 0o600); err != nil {
		fail(err)
		return
	}
	if err := checkConfigFile(ctx, opt.vigie, cfg); err != nil {
		fail(err)
		return
	}
	addrs, err := freeAddrs(1, 0)
	if err != nil {
		fail(err)
		return
	}
	// Only the HTTP API: no syslog listener competes with the scheduler.
	p, err := startProc("vigie", filepath.Join(dir, "vigie.log"), nil, opt.vigie, "serve",
		"--data", filepath.Join(dir, "data"), "--http", addrs[0], "--syslog-udp", "off", "--syslog-tcp", "off", "--config", cfg)
	if err != nil {
		fail(err)
		return
	}
	defer p.kill()
	// For vigieServer's HTTP helpers (healthy, api) only: the process is p.
	api := &vigieServer{httpAddr: addrs[0], token: token, client: &http.Client{Timeout: time.Minute}}
	t0, err := waitHealthy(ctx, api, p, 30*time.Second)
	if err != nil {
		fail(err)
		return
	}
	logf("checks: vigie serve up with %d checks of %d steps, app at %s; running for %s", opt.checksN, opt.checksSteps, erp.base, opt.checksFor)

	if err := sleepUntil(ctx, p, t0.Add(checksWarmup)); err != nil {
		fail(err)
		return
	}
	m0, err := scrapeSamples(ctx, api)
	if err != nil {
		fail(err)
		return
	}
	w0 := time.Now()
	h0, err := readProcUsage(os.Getpid())
	if err != nil {
		fail(err)
		return
	}

	if err := sleepUntil(ctx, p, t0.Add(opt.checksFor)); err != nil {
		fail(err)
		return
	}
	snap, m1, err := consistentScrape(ctx, api, app, opt.checksSteps)
	w1 := time.Now()
	if err != nil {
		fail(err)
	}
	if m1 == nil {
		return
	}
	f.App = snap
	if u, err := readProcUsage(p.pid()); err == nil {
		f.PeakRSS = u.PeakRSS
	}
	if h1, err := readProcUsage(os.Getpid()); err == nil {
		f.HarnessCPUSecs = h1.CPUSeconds - h0.CPUSeconds
	}
	if fds, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", p.pid())); err == nil {
		f.OpenFDs = len(fds)
	}
	if err := f.fromMetrics(m0, m1, w1.Sub(w0), opt.checksSteps); err != nil {
		fail(err)
	}
	f.ConnsOpened = app.connsOpened.Load()
	f.ConnsOpen = f.ConnsOpened - app.connsClosed.Load()
	f.setGaps(app.startTimes())

	// The walks must all pass: a failing check is the harness's mistake.
	if f.Down > 0 {
		f.DownErrors = downErrors(ctx, api, 5)
		fail(fmt.Errorf("%.0f runs failed (a harness bug: the app and the generated checks disagree): %s", f.Down, strings.Join(f.DownErrors, " | ")))
	}
	if len(snap.Rejected) > 0 {
		fail(fmt.Errorf("the app refused requests: %v", snap.Rejected))
	}
	if err := p.stop(); err != nil {
		fail(err)
	}
	return f
}

// fromMetrics fills the figures from the scrapes at the start and the end
// of the window.
func (f *checksFigures) fromMetrics(m0, m1 []sample, window time.Duration, steps int) error {
	const runs, late = "vigie_check_runs_total", "vigie_check_start_lateness_seconds"
	f.WindowSeconds = window.Seconds()
	f.Up = sumSamples(m1, runs, "result", "up")
	f.Slow = sumSamples(m1, runs, "result", "slow")
	f.Down = sumSamples(m1, runs, "result", "down")
	f.Runs = f.Up + f.Slow + f.Down
	f.RequestsExpected = int64(f.Runs) * int64(steps)
	f.Skipped = sumSamples(m1, "vigie_check_runs_skipped_total")
	f.WindowRuns = f.Runs - sumSamples(m0, runs)
	f.CounterRunsPerMin = f.WindowRuns / window.Minutes()
	f.CPUSeconds = sumSamples(m1, "process_cpu_seconds_total") - sumSamples(m0, "process_cpu_seconds_total")
	if f.WindowRuns > 0 {
		f.CPUPerRunMs = 1000 * f.CPUSeconds / f.WindowRuns
	}
	f.RSS = sumSamples(m1, "process_resident_memory_bytes")
	var d []float64
	for _, s := range m1 {
		if s.name == "probe_duration_seconds" {
			d = append(d, 1000*s.value)
		}
	}
	f.RunMsMedian, f.RunMsMax = percentile(d, 50), percentile(d, 100)
	h1, err := histogramOf(m1, late)
	if err != nil {
		return err
	}
	h0, err := histogramOf(m0, late)
	if err != nil {
		return err
	}
	f.Starts = h1.total()
	f.LatenessP50, _ = h1.quantile(0.50)
	f.LatenessP99, f.LatenessP99Over = h1.quantile(0.99)
	f.LateOver1s = h1.over(checksLateTarget)
	hw, err := h1.minus(h0)
	if err != nil {
		return err
	}
	f.WindowLatenessP50, _ = hw.quantile(0.50)
	f.WindowLatenessP99, _ = hw.quantile(0.99)
	return nil
}

// setGaps measures the time between each check's consecutive walks, as the
// app received their first requests. A scheduler that keeps its intervals
// gives gaps within the interval ± its 10 % jitter, give or take lateness,
// and a mean gap of one interval: the runs per minute are the checks that
// walked over that mean. The mean is over the first K gaps of every check,
// K the fewest any check has: a check whose gaps happened to be short fits
// one more in the run, and counting it would bias the mean low (by 0.5 %
// over 3 minutes). Counting runs in a window is worse: the first runs all
// fall in the first seconds, so runs cluster around the same instants for
// several intervals, and a window's edges cut those clusters unevenly
// (about +4 % over [1 min, 3 min]).
func (f *checksFigures) setGaps(starts map[string][]time.Time) {
	lo, hi := 0.9*checksInterval.Seconds()-checksLateTarget, 1.1*checksInterval.Seconds()+checksLateTarget
	f.GapMin, f.GapMax, f.GapMean, f.RunsPerMin = math.NaN(), math.NaN(), math.NaN(), math.NaN()
	var per [][]float64
	for _, ts := range starts {
		if len(ts) < 2 {
			continue
		}
		gaps := make([]float64, 0, len(ts)-1)
		for i := 1; i < len(ts); i++ {
			g := ts[i].Sub(ts[i-1]).Seconds()
			if f.Gaps == 0 || g < f.GapMin {
				f.GapMin = g
			}
			if f.Gaps == 0 || g > f.GapMax {
				f.GapMax = g
			}
			f.Gaps++
			if g < lo || g > hi {
				f.GapsOff++
			}
			gaps = append(gaps, g)
		}
		per = append(per, gaps)
		if f.GapsPer == 0 || len(gaps) < f.GapsPer {
			f.GapsPer = len(gaps)
		}
	}
	f.Walked = len(per)
	if f.Walked == 0 {
		return
	}
	var sum float64
	for _, gaps := range per {
		for _, g := range gaps[:f.GapsPer] {
			sum += g
		}
	}
	f.GapMean = sum / float64(f.GapsPer*f.Walked)
	f.RunsPerMin = float64(f.Walked) * time.Minute.Seconds() / f.GapMean
}

// consistentScrape scrapes /metrics at a moment when vigie's run count
// equals the app's completed walks and no walk completed across the
// scrape, so that both describe the same runs (vigie counts a run a few ms
// after its last request: it retries a while). Then every walk must have
// cost exactly steps requests. It returns the last scrape, with an error
// when the counts never agreed or a walk made another number of requests.
func consistentScrape(ctx context.Context, api *vigieServer, app *erpApp, steps int) (erpSnapshot, []sample, error) {
	var last []sample
	var a0 erpSnapshot
	var runs float64
	for try := 0; try < 100 && ctx.Err() == nil; try++ {
		a0 = app.snapshot()
		m, err := scrapeSamples(ctx, api)
		if err != nil {
			return a0, last, err
		}
		last = m
		a1 := app.snapshot()
		runs = sumSamples(m, "vigie_check_runs_total")
		if a0.Walks == a1.Walks && float64(a0.Walks) == runs {
			if a0.WalkRequests != a0.Walks*int64(steps) {
				return a0, m, fmt.Errorf("the app answered %d requests in %d completed walks, want %d steps each (%d)",
					a0.WalkRequests, a0.Walks, steps, a0.Walks*int64(steps))
			}
			return a0, m, nil
		}
		time.Sleep(37 * time.Millisecond)
	}
	return a0, last, fmt.Errorf("vigie counts %.0f runs but the app saw %d walks completed (never equal in 100 scrapes; %d walks open)",
		runs, a0.Walks, a0.Open)
}

// scrapeSamples reads /metrics with its labels.
func scrapeSamples(ctx context.Context, api *vigieServer) ([]sample, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+api.httpAddr+"/metrics", nil)
	resp, err := api.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("/metrics: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return nil, fmt.Errorf("/metrics: %s: %s", resp.Status, b)
	}
	keep := func(name string) bool {
		return strings.HasPrefix(name, "vigie_check_") || strings.HasPrefix(name, "process_") || name == "probe_duration_seconds"
	}
	return parseSamples(io.LimitReader(resp.Body, checksMetricsLimit), keep)
}

// downErrors returns up to n distinct last errors of the checks that are down.
func downErrors(ctx context.Context, api *vigieServer, n int) []string {
	var list []struct {
		Name      string `json:"name"`
		Status    string `json:"status"`
		LastError string `json:"last_error"`
	}
	if _, err := api.api(ctx, "/api/v1/checks", url.Values{}, &list); err != nil {
		return []string{"GET /api/v1/checks: " + err.Error()}
	}
	var out []string
	for _, c := range list {
		msg := c.Name + ": " + c.LastError
		if c.Status == "down" && len(out) < n && !slices.ContainsFunc(out, func(s string) bool { return strings.HasSuffix(s, c.LastError) }) {
			out = append(out, msg)
		}
	}
	return out
}

// checkConfigFile runs `vigie serve --config F --check-config`.
func checkConfigFile(ctx context.Context, bin, cfg string) error {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, bin, "serve", "--config", cfg, "--check-config").CombinedOutput()
	if err != nil {
		return fmt.Errorf("the generated configuration %s does not pass vigie serve --check-config (%v): %s", cfg, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// waitHealthy polls /healthz until it answers 200 and returns when it did.
func waitHealthy(ctx context.Context, api *vigieServer, p *proc, timeout time.Duration) (time.Time, error) {
	deadline := time.Now().Add(timeout)
	for {
		if api.healthy(ctx) {
			return time.Now(), nil
		}
		if err := p.exitError(); err != nil {
			return time.Time{}, fmt.Errorf("during startup: %w", err)
		}
		if time.Now().After(deadline) {
			return time.Time{}, fmt.Errorf("vigie: /healthz not 200 after %s; log %s: %s", timeout, p.logPath, tail(p.logPath, 1500))
		}
		select {
		case <-ctx.Done():
			return time.Time{}, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// sleepUntil waits for t, and fails early when the server exits.
func sleepUntil(ctx context.Context, p *proc, t time.Time) error {
	for {
		d := time.Until(t)
		if d <= 0 {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-p.done:
			return p.exitError()
		case <-time.After(min(d, 5*time.Second)):
		}
	}
}

// The report of the scenario.

// stat is the median of one figure over the runs without error.
func (c *checksResults) stat(get func(checksFigures) float64) stat {
	var xs []float64
	var st stat
	for _, f := range c.Runs {
		if f.Error != "" {
			st.bad++
			continue
		}
		if v := get(f); !math.IsNaN(v) {
			xs = append(xs, v)
		}
	}
	st.n = len(xs)
	st.v = percentile(xs, 50)
	return st
}

func (c *checksResults) failed() bool {
	for _, f := range c.Runs {
		if f.Error != "" {
			return true
		}
	}
	return false
}

// checksRows adds the scenario's rows to the table (vigie column only).
func (r *results) checksRows(row func(label, v, p, ratio string)) {
	c := r.Checks
	if c == nil {
		return
	}
	na := "n/a"
	fig := func(label string, prec int, get func(checksFigures) float64) {
		row(label, c.stat(get).fmt(prec), na, "—")
	}
	row(fmt.Sprintf("checks: %d scenarios x %d steps every 1m for %s, app answers after %s ms", c.Checks, c.Steps, c.For, fmtNum(c.AppDelayMs, 1)), "", "", "")
	fig("checks: runs per minute (checks walked / mean gap between walks)", 1, func(f checksFigures) float64 { return f.RunsPerMin })
	fig("checks: runs per minute expected", 1, func(f checksFigures) float64 { return f.ExpectedPerMin })
	fig("checks: runs per minute counted by vigie after the first minute (edge-biased)", 1, func(f checksFigures) float64 { return f.CounterRunsPerMin })
	fig("checks: run duration, ms median of the last runs", 1, func(f checksFigures) float64 { return f.RunMsMedian })
	fig("checks: run duration, ms max of the last runs", 1, func(f checksFigures) float64 { return f.RunMsMax })
	fig("checks: start lateness p50, s (bucket-interpolated)", 4, func(f checksFigures) float64 { return f.LatenessP50 })
	fig("checks: start lateness p99, s (bucket-interpolated)", 4, func(f checksFigures) float64 { return f.LatenessP99 })
	fig("checks: start lateness p99 after the first minute, s", 4, func(f checksFigures) float64 { return f.WindowLatenessP99 })
	fig("checks: starts later than 1 s (exact)", 0, func(f checksFigures) float64 { return f.LateOver1s })
	fig("checks: runs down (must be 0)", 0, func(f checksFigures) float64 { return f.Down })
	fig("checks: runs slow (over 3 s)", 0, func(f checksFigures) float64 { return f.Slow })
	fig("checks: runs skipped", 0, func(f checksFigures) float64 { return f.Skipped })
	fig("checks: gap between a check's walks, mean of the first ones s (app's clock)", 3, func(f checksFigures) float64 { return f.GapMean })
	fig("checks: gap between a check's walks, min s", 2, func(f checksFigures) float64 { return f.GapMin })
	fig("checks: gap between a check's walks, max s", 2, func(f checksFigures) float64 { return f.GapMax })
	fig("checks: gaps outside 1m ± 10 % ± 1 s", 0, func(f checksFigures) float64 { return float64(f.GapsOff) })
	fig("checks: app requests of completed walks (= runs x steps, checked)", 0, func(f checksFigures) float64 { return float64(f.App.WalkRequests) })
	fig("checks: server CPU per run, ms", 2, func(f checksFigures) float64 { return f.CPUPerRunMs })
	fig("checks: server CPU, % of one core", 1, func(f checksFigures) float64 { return 100 * f.CPUSeconds / f.WindowSeconds })
	fig("checks: harness and app CPU, % of one core", 1, func(f checksFigures) float64 { return 100 * f.HarnessCPUSecs / f.WindowSeconds })
	fig("checks: server RSS at end, MiB", 1, func(f checksFigures) float64 { return f.RSS / (1 << 20) })
	fig("checks: server peak RSS, MiB", 1, func(f checksFigures) float64 { return mib(f.PeakRSS) })
	fig("checks: server open fds at end", 0, func(f checksFigures) float64 { return float64(f.OpenFDs) })
	fig("checks: app connections opened / runs", 2, func(f checksFigures) float64 { return float64(f.ConnsOpened) / max(f.Runs, 1) })
	fig("checks: app connections still open at end", 0, func(f checksFigures) float64 { return float64(f.ConnsOpen) })
}

// checksTarget is the target line.
func (c *checksResults) target() string {
	p99 := c.stat(func(f checksFigures) float64 { return f.LatenessP99 })
	rate := c.stat(func(f checksFigures) float64 { return f.RunsPerMin })
	skipped := c.stat(func(f checksFigures) float64 { return f.Skipped })
	gaps := c.stat(func(f checksFigures) float64 { return float64(f.GapsPer * f.Walked) })
	var verdict string
	switch {
	case p99.n == 0 || rate.n == 0:
		verdict = "no figure"
	case p99.v < checksLateTarget && skipped.v == 0 && rateKept(rate.v, c.Checks, gaps.v):
		verdict = "met"
	default:
		verdict = "NOT met"
	}
	if verdict != "no figure" && (c.Checks < 500 || c.Steps < 4) {
		verdict = fmt.Sprintf("not measured at 500 x 4 (%s with %d x %d)", verdict, c.Checks, c.Steps)
	}
	return fmt.Sprintf("  500 scenario checks x 4 steps per minute, lateness p99 < 1 s: %s (p99 %s s bucket-interpolated, %s runs/min of %d, %s skipped)\n",
		verdict, p99.fmt(3), rate.fmt(1), c.Checks, skipped.fmt(0))
}

// rateKept tells whether perMin, measured over gaps gaps between walks, is
// n within the noise of the interval's jitter: a gap is uniform over
// interval ± 10 %, a standard deviation of 5.77 % of it, so the mean of
// gaps gaps wanders by 5.77 % / sqrt(gaps). Allowed: 2 %, or three
// standard deviations when there are few gaps.
func rateKept(perMin float64, n int, gaps float64) bool {
	if n <= 0 || gaps < 1 || math.IsNaN(perMin) {
		return false
	}
	tol := max(0.02, 3*0.1/math.Sqrt(3)/math.Sqrt(gaps))
	return math.Abs(perMin-float64(n)) <= tol*float64(n)
}

// checksErrors lists the failed runs for the table's failures section.
func (c *checksResults) errors() []string {
	var out []string
	for _, f := range c.Runs {
		if f.Error != "" {
			out = append(out, fmt.Sprintf("  checks run %d: %s", f.Run, f.Error))
		}
	}
	return out
}
