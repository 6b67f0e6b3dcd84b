package checks

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"vigie/cmd/config"
)

// Prober is the probe function of a check type (config.CheckTypes).
func Prober(typ string) (ProbeFn, bool) {
	probers := map[string]ProbeFn{
		"scenario": probeScenario,
		"tcp":      probeTCP,
		"tls":      probeTLS,
		"ping":     probePing,
		"backup":   probeBackup,
		"dns":      probeDNS,
	}
	fn, ok := probers[typ]
	return fn, ok
}

// Run runs one check now: up to c.Attempts attempts, the next one at once
// when one fails. Every attempt but a scenario's is bounded by c.Timeout; a
// scenario bounds each step by its own timeout instead. The Result is the
// last attempt's, with Start at the first attempt, Duration over all of
// them, Attempts how many ran, and Slow when the run passed but took longer
// than sla.response_time (a scenario's time is the sum of its steps).
func Run(ctx context.Context, c *config.Check, logger *slog.Logger) *Result {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	start := time.Now()
	attempts := max(c.Attempts, 1)
	var res *Result
	for n := 1; n <= attempts; n++ {
		attemptStart := time.Now()
		res = attempt(ctx, c, logger)
		res.Attempts = n
		if res.Success || ctx.Err() != nil {
			break
		}
		logger.Debug("check attempt failed", "check", c.Name, "attempt", n, "of", attempts,
			"error", res.Error, "took", time.Since(attemptStart))
	}
	res.Check, res.Type, res.Start = c.Name, c.Type, start
	res.Duration = time.Since(start)
	if !res.Success && res.Error == "" {
		res.Error = "failed without a reason (a bug: please report it)"
	}
	if res.Success && c.SLA != nil && c.SLA.ResponseTime > 0 {
		took := res.Duration
		if c.Type == "scenario" {
			took = 0
			for _, s := range res.Steps {
				took += s.Phases.Total
			}
		}
		res.Slow = took > time.Duration(c.SLA.ResponseTime)
	}
	return res
}

// attempt runs the probe once; a panic in a probe is a failed run, not a
// dead scheduler.
func attempt(ctx context.Context, c *config.Check, logger *slog.Logger) (res *Result) {
	probe, ok := Prober(c.Type)
	if !ok {
		return &Result{FailedStep: -1, Error: fmt.Sprintf("unknown check type %q", c.Type)}
	}
	if c.Type != "scenario" {
		timeout := time.Duration(c.Timeout)
		if timeout <= 0 {
			timeout = config.DefaultCheckTimeout
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	defer func() {
		if p := recover(); p != nil {
			logger.Error("probe panicked", "check", c.Name, "panic", p, "stack", string(debug.Stack()))
			res = &Result{FailedStep: -1, Error: fmt.Sprintf("internal error in the %s probe: %v", c.Type, p)}
		}
	}()
	res = probe(ctx, c, logger)
	if res == nil {
		res = &Result{FailedStep: -1, Error: "the probe returned nothing"}
	}
	if res.Success {
		res.FailedStep = -1
	}
	return res
}
