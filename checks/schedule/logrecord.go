package schedule

import (
	"fmt"
	"math"
	"strconv"
	"strings"

	"vigie/checks"
	"vigie/record"
)

// LogApp is the app of the log records of check runs: `app:vigie-check`
// finds them next to the logs.
const LogApp = "vigie-check"

const (
	logSource      = "vigie/checks"
	facilityDaemon = 3
	// maxLogMessage bounds a message: a prober's error may quote a page.
	maxLogMessage = 8 << 10
	maxLogValues  = 64
)

// LogRecord turns a finished run into a log record of the vigie server
// (host): severity info when up, warning when slow, err when down, and a
// message a person reads at a glance:
//
//	check openerp-login UP in 412 ms (3 steps)
//	check openerp-login DOWN after 2 attempts: step 2 "log in": required pattern o_main_navbar not found
//
// Fields: check, type, result (up, down, slow), success, duration_ms,
// attempts, and when down error, failed_step (1-based, as in the message)
// and failed_step_name; then each of the run's values under its own name.
func LogRecord(r *checks.Result, host string) record.Record {
	rec := record.Record{
		Time:     r.Start.UTC(),
		Received: r.Start.Add(r.Duration).UTC(),
		Host:     host,
		App:      LogApp,
		Facility: facilityDaemon,
		Source:   logSource,
		Fields:   make(map[string]string, 8+len(r.Values)),
	}
	n := 0
	for k, v := range r.Values {
		if n == maxLogValues {
			break
		}
		if !math.IsNaN(v) && !math.IsInf(v, 0) {
			rec.Fields[k] = strconv.FormatFloat(v, 'f', -1, 64)
			n++
		}
	}
	ms := r.Duration.Milliseconds()
	result := "up"
	switch {
	case !r.Success:
		result = "down"
		rec.Severity = record.SevErr
		after := ""
		if r.Attempts > 1 {
			after = fmt.Sprintf(" after %d attempts", r.Attempts)
		}
		rec.Message = fmt.Sprintf("check %s DOWN%s: %s", r.Check, after, reason(r))
		rec.Fields["error"] = r.Error
		if i := r.FailedStep; i >= 0 {
			rec.Fields["failed_step"] = strconv.Itoa(i + 1)
			if i < len(r.Steps) {
				rec.Fields["failed_step_name"] = r.Steps[i].Name
			}
		}
	case r.Slow:
		result = "slow"
		rec.Severity = record.SevWarning
		rec.Message = fmt.Sprintf("check %s SLOW in %d ms%s", r.Check, ms, detail(r))
	default:
		rec.Severity = record.SevInfo
		rec.Message = fmt.Sprintf("check %s UP in %d ms%s", r.Check, ms, detail(r))
	}
	if len(rec.Message) > maxLogMessage {
		rec.Message = strings.ToValidUTF8(rec.Message[:maxLogMessage-len("…")], "") + "…"
		rec.SetField(record.FieldTruncated, "true")
	}
	rec.Fields["check"] = r.Check
	rec.Fields["type"] = r.Type
	rec.Fields["result"] = result
	rec.Fields["success"] = strconv.FormatBool(r.Success)
	rec.Fields["duration_ms"] = strconv.FormatFloat(float64(r.Duration.Microseconds())/1000, 'f', -1, 64)
	rec.Fields["attempts"] = strconv.Itoa(r.Attempts)
	return rec
}

// reason is why a run failed, naming the step when the prober's error
// does not already.
func reason(r *checks.Result) string {
	msg := r.Error
	if msg == "" {
		msg = "failed without saying why (a vigie bug, please report it)"
	}
	if i := r.FailedStep; i >= 0 && i < len(r.Steps) && !strings.HasPrefix(msg, "step ") {
		msg = fmt.Sprintf("step %d %q: %s", i+1, r.Steps[i].Name, msg)
	}
	return msg
}

// detail is " (3 steps)" for scenarios and " (2 attempts)" after a retry.
func detail(r *checks.Result) string {
	var parts []string
	if r.Type == "scenario" {
		s := "s"
		if len(r.Steps) == 1 {
			s = ""
		}
		parts = append(parts, fmt.Sprintf("%d step%s", len(r.Steps), s))
	}
	if r.Attempts > 1 {
		parts = append(parts, fmt.Sprintf("%d attempts", r.Attempts))
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}
