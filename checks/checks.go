// Package checks runs probes: web scenarios (Zabbix-style), tcp, tls, ping,
// backup freshness and dns. Each probe type is one file behind ProbeFn, the
// way blackbox_exporter's prober/ is laid out.
package checks

import (
	"context"
	"log/slog"
	"time"

	"vigie/cmd/config"
)

// ProbeFn runs one attempt of a check. It never panics on bad input and
// always returns a Result; Result.Error says in words a person can act on why
// the attempt failed ("step 2 \"log in\": required pattern o_main_navbar not
// found in the body (HTTP 200, 5.1 KiB)").
type ProbeFn func(ctx context.Context, c *config.Check, logger *slog.Logger) *Result

// Result is one run of a check (after its attempts).
type Result struct {
	Check    string        `json:"check"`
	Type     string        `json:"type"`
	Start    time.Time     `json:"start"`
	Duration time.Duration `json:"-"`
	Success  bool          `json:"success"`
	// Slow: the run succeeded but took longer than sla.response_time.
	Slow  bool   `json:"slow"`
	Error string `json:"error,omitempty"`
	// FailedStep is the index of the scenario step that failed, or -1.
	FailedStep int `json:"failed_step"`
	// Attempts is how many attempts the run took (1 when the first passed).
	Attempts int          `json:"attempts"`
	Steps    []StepResult `json:"steps,omitempty"`
	// Values are the probe's own measurements, named as in docs/checks.md:
	// ping rtt_min_ms/rtt_avg_ms/rtt_max_ms/loss_ratio/sent/received, tls
	// days_left/earliest_expiry_unix, backup age_seconds/size_bytes/count,
	// tcp connect_ms, dns answers.
	Values map[string]float64 `json:"values,omitempty"`
}

// StepResult is one HTTP request of a scenario (or the single step of
// another probe type, named after it, so every run has phases to chart).
type StepResult struct {
	Name    string `json:"name"`
	URL     string `json:"url,omitempty"`
	Success bool   `json:"success"`
	Error   string `json:"error,omitempty"`
	// Code is the HTTP status of the last response (after redirects).
	Code  int   `json:"code,omitempty"`
	Bytes int64 `json:"bytes"`
	// Speed is the download speed of the body in bytes per second.
	Speed  float64 `json:"speed"`
	Phases Phases  `json:"phases"`
}

// Phases are timing phases, summed across redirects.
type Phases struct {
	DNS      time.Duration `json:"dns"`
	Connect  time.Duration `json:"connect"`
	TLS      time.Duration `json:"tls"`
	TTFB     time.Duration `json:"ttfb"` // request written to first response byte
	Transfer time.Duration `json:"transfer"`
	Total    time.Duration `json:"total"`
}
