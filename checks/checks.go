// Package checks runs probes: web scenarios (Zabbix-style), tcp, tls, ping,
// backup freshness and dns. Each probe type is one file behind ProbeFn, the
// way blackbox_exporter's prober/ is laid out.
package checks

import (
	"context"
	"encoding/json"
	"log/slog"
	"math"
	"time"

	"vigie/cmd/config"
)

// ProbeFn runs one attempt of a check. It never panics on bad input and
// always returns a Result; Result.Error says in words a person can act on why
// the attempt failed ("step 2 \"log in\": required pattern o_main_navbar not
// found in the body (HTTP 200, 5.1 KiB)").
type ProbeFn func(ctx context.Context, c *config.Check, logger *slog.Logger) *Result

// Result is one run of a check (after its attempts). Start is when the run
// began and Duration how long it took with all its attempts; Steps, Error
// and Values come from the last attempt.
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
	// tcp connect_ms, dns answers. Never NaN or infinite (JSON has neither).
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
	// Speed is the download speed of the body in bytes per second (Bytes
	// over the transfer phase; 0 when nothing was read).
	Speed  float64 `json:"speed"`
	Phases Phases  `json:"phases"`
}

// ms is a duration in milliseconds, the unit of every duration in JSON.
func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// fromMS reads back a millisecond count; rounding to the nanosecond makes
// the round trip exact for any duration JSON carries.
func fromMS(v float64) time.Duration {
	return time.Duration(math.Round(v * float64(time.Millisecond)))
}

type resultJSON struct {
	resultAlias
	DurationMS float64 `json:"duration_ms"`
}

type resultAlias Result

// MarshalJSON writes Duration as "duration_ms".
func (r Result) MarshalJSON() ([]byte, error) {
	return json.Marshal(resultJSON{resultAlias(r), ms(r.Duration)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (r *Result) UnmarshalJSON(b []byte) error {
	var v resultJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*r = Result(v.resultAlias)
	r.Duration = fromMS(v.DurationMS)
	return nil
}

type phasesJSON struct {
	DNS      float64 `json:"dns_ms"`
	Connect  float64 `json:"connect_ms"`
	TLS      float64 `json:"tls_ms"`
	TTFB     float64 `json:"ttfb_ms"`
	Transfer float64 `json:"transfer_ms"`
	Total    float64 `json:"total_ms"`
}

// MarshalJSON writes each phase in milliseconds: {"dns_ms": 0.4, ...}.
func (p Phases) MarshalJSON() ([]byte, error) {
	return json.Marshal(phasesJSON{ms(p.DNS), ms(p.Connect), ms(p.TLS), ms(p.TTFB), ms(p.Transfer), ms(p.Total)})
}

// UnmarshalJSON reads what MarshalJSON writes.
func (p *Phases) UnmarshalJSON(b []byte) error {
	var v phasesJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*p = Phases{fromMS(v.DNS), fromMS(v.Connect), fromMS(v.TLS), fromMS(v.TTFB), fromMS(v.Transfer), fromMS(v.Total)}
	return nil
}

// Phases are timing phases, summed across redirects.
type Phases struct {
	DNS      time.Duration
	Connect  time.Duration
	TLS      time.Duration
	TTFB     time.Duration // request written to first response byte
	Transfer time.Duration // first response byte to the body read
	Total    time.Duration
}
