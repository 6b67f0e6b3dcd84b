package schedule

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"vigie/checks"
	"vigie/checks/history"
)

// Phase label values, in blackbox_exporter's vocabulary
// (probe_http_duration_seconds{phase}).
const (
	phaseResolve    = "resolve"
	phaseConnect    = "connect"
	phaseTLS        = "tls"
	phaseProcessing = "processing" // request written to first byte
	phaseTransfer   = "transfer"
)

var phases = []string{phaseResolve, phaseConnect, phaseTLS, phaseProcessing, phaseTransfer}

// slaWindows are the availability windows of vigie_check_sla_ratio. Each is
// refreshed at most every window/1440 (1h: 2.5 s, 24h: 1 min, 7d: 7 min,
// 30d: 30 min), so a gauge is never staler than 0.07 % of its window while
// 500 checks cost a few index scans a minute.
var slaWindows = [...]struct {
	label string
	span  time.Duration
}{
	{"1h", time.Hour},
	{"24h", 24 * time.Hour},
	{"7d", 7 * 24 * time.Hour},
	{"30d", 30 * 24 * time.Hour},
}

// slaQueryTimeout bounds one refresh of the gauges of a check.
const slaQueryTimeout = 30 * time.Second

type metrics struct {
	success    *prometheus.GaugeVec
	duration   *prometheus.GaugeVec
	phase      *prometheus.GaugeVec
	status     *prometheus.GaugeVec
	certExpiry *prometheus.GaugeVec
	runs       *prometheus.CounterVec
	skipped    *prometheus.CounterVec
	sla        *prometheus.GaugeVec
	lateness   prometheus.Histogram
	joined     prometheus.Counter
}

func newMetrics(reg prometheus.Registerer, enabled []*entry) *metrics {
	m := &metrics{
		success: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "probe_success", Help: "Whether the check's last run succeeded (1) or failed (0)."}, []string{"check"}),
		duration: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "probe_duration_seconds", Help: "How long the check's last run took, attempts included."}, []string{"check"}),
		phase: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "probe_http_duration_seconds",
			Help: "Duration of each phase of each step of a scenario's last run, redirects summed."}, []string{"check", "step", "phase"}),
		status: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "probe_http_status_code", Help: "HTTP status of each step of a scenario's last run (after redirects)."}, []string{"check", "step"}),
		certExpiry: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "probe_ssl_earliest_cert_expiry", Help: "Unix time the earliest certificate of the chain expires, from the last run."}, []string{"check"}),
		runs: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_check_runs_total", Help: "Finished runs by result: up, down, or slow (up but over sla.response_time)."}, []string{"check", "result"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_check_runs_skipped_total",
			Help: "Planned runs that could not start on time because the check's previous run had not finished (a slow probe, or a wait for the concurrency limit)."}, []string{"check"}),
		sla: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "vigie_check_sla_ratio",
			Help: "Time-weighted availability (0..1) over the window; absent when no run covers it."}, []string{"check", "window"}),
		lateness: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "vigie_check_start_lateness_seconds", Help: "How late scheduled runs started compared with their planned time.",
			Buckets: []float64{0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}}),
		joined: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigie_check_runs_joined_total",
			Help: "Run requests (manual, or a scheduled slot) that waited for the check's run in progress instead of starting another."}),
	}
	// Counters start at 0 so rate() works from the first run.
	for _, e := range enabled {
		for _, r := range []string{"up", "down", "slow"} {
			m.runs.WithLabelValues(e.cfg.Name, r)
		}
		m.skipped.WithLabelValues(e.cfg.Name)
	}
	if reg != nil {
		reg.MustRegister(m.success, m.duration, m.phase, m.status, m.certExpiry, m.runs, m.skipped, m.sla, m.lateness, m.joined)
	}
	return m
}

// observe sets the metrics of a finished run. Only one run of a check is
// ever observed at a time.
func (m *metrics) observe(e *entry, r *checks.Result) {
	name := e.cfg.Name
	ok := 0.0
	if r.Success {
		ok = 1
	}
	m.success.WithLabelValues(name).Set(ok)
	m.duration.WithLabelValues(name).Set(r.Duration.Seconds())
	result := "up"
	switch {
	case !r.Success:
		result = "down"
	case r.Slow:
		result = "slow"
	}
	m.runs.WithLabelValues(name, result).Inc()
	if v, ok := r.Values["earliest_expiry_unix"]; ok {
		m.certExpiry.WithLabelValues(name).Set(v)
	} else {
		m.certExpiry.DeleteLabelValues(name)
	}
	// The http series are for web scenarios, as blackbox keeps them for its
	// http prober; other probe types' steps carry no HTTP status.
	var labels []string
	if e.cfg.Type == "scenario" {
		labels = stepLabels(r.Steps)
		for i, st := range r.Steps {
			p := st.Phases
			for j, d := range []time.Duration{p.DNS, p.Connect, p.TLS, p.TTFB, p.Transfer} {
				m.phase.WithLabelValues(name, labels[i], phases[j]).Set(d.Seconds())
			}
			m.status.WithLabelValues(name, labels[i]).Set(float64(st.Code))
		}
	}
	e.mu.Lock()
	gone := e.steps
	e.steps = labels
	e.mu.Unlock()
	for _, old := range gone {
		if !slices.Contains(labels, old) {
			// A step this run did not reach: its old timings would lie.
			m.status.DeleteLabelValues(name, old)
			for _, ph := range phases {
				m.phase.DeleteLabelValues(name, old, ph)
			}
		}
	}
}

// stepLabels names steps for the step label: the step's name, "step N"
// when it has none, with " #N" added to a name already used in the run.
func stepLabels(steps []checks.StepResult) []string {
	out := make([]string, len(steps))
	seen := make(map[string]bool, len(steps))
	for i, st := range steps {
		l := st.Name
		if l == "" {
			l = "step " + strconv.Itoa(i+1)
		}
		if seen[l] {
			l += " #" + strconv.Itoa(i+1)
		}
		seen[l] = true
		out[i] = l
	}
	return out
}

// refreshSLA updates the availability gauges of a check whose windows are
// due. An unknown availability removes the series rather than show 0 or 1.
func (s *Scheduler) refreshSLA(e *entry) {
	if s.opt.SLA == nil {
		return
	}
	e.slaMu.Lock()
	defer e.slaMu.Unlock()
	slowIsDown := e.cfg.SLA != nil && e.cfg.SLA.SlowIsDown
	now := s.opt.Now()
	ctx, cancel := context.WithTimeout(s.base, slaQueryTimeout)
	defer cancel()
	for i, w := range slaWindows {
		if !e.slaAt[i].IsZero() && now.Sub(e.slaAt[i]) < w.span/1440 {
			continue
		}
		a, err := s.opt.SLA.Availability(ctx, e.cfg.Name, now.Add(-w.span), now, slowIsDown)
		if err != nil {
			if ctx.Err() == nil {
				s.log.Warn("checks: could not compute availability for the SLA gauge", "check", e.cfg.Name, "window", w.label, "err", err)
			}
			continue
		}
		e.slaAt[i], e.sla[i] = now, a
		if a.Known {
			s.metrics.sla.WithLabelValues(e.cfg.Name, w.label).Set(a.Ratio)
		} else {
			s.metrics.sla.DeleteLabelValues(e.cfg.Name, w.label)
		}
	}
}

// SLAWindows returns a check's availability per window ("1h", "24h", "7d",
// "30d") as last computed for vigie_check_sla_ratio, for the checks list of
// the API: reading it costs nothing, where computing 30 days for every check
// on each request would not. A window not computed yet (the check has not
// run since the start, or Options.SLA is nil) is missing; an unknown check
// gives nil.
func (s *Scheduler) SLAWindows(name string) map[string]history.Availability {
	e := s.checks[name]
	if e == nil {
		return nil
	}
	e.slaMu.Lock()
	defer e.slaMu.Unlock()
	out := make(map[string]history.Availability, len(slaWindows))
	for i, w := range slaWindows {
		if !e.slaAt[i].IsZero() {
			out[w.label] = e.sla[i]
		}
	}
	return out
}
