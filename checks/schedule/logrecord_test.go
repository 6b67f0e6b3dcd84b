package schedule

import (
	"maps"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"vigie/checks"
	"vigie/record"
)

func TestLogRecord(t *testing.T) {
	start := time.Date(2026, 3, 2, 10, 0, 0, 0, time.FixedZone("CET", 3600))
	steps := []checks.StepResult{{Name: "login page"}, {Name: "log in"}, {Name: "log out"}}
	tests := []struct {
		name     string
		in       checks.Result
		severity int
		message  string
		fields   map[string]string
	}{
		{"up scenario",
			checks.Result{Check: "openerp-login", Type: "scenario", Start: start, Duration: 412600 * time.Microsecond,
				Success: true, FailedStep: -1, Attempts: 1, Steps: steps},
			record.SevInfo, "check openerp-login UP in 412 ms (3 steps)",
			map[string]string{"check": "openerp-login", "type": "scenario", "result": "up", "success": "true",
				"duration_ms": "412.6", "attempts": "1"}},
		{"slow after a retry",
			checks.Result{Check: "openerp-login", Type: "scenario", Start: start, Duration: 4 * time.Second,
				Success: true, Slow: true, FailedStep: -1, Attempts: 2, Steps: steps[:1]},
			record.SevWarning, "check openerp-login SLOW in 4000 ms (1 step, 2 attempts)",
			map[string]string{"check": "openerp-login", "type": "scenario", "result": "slow", "success": "true",
				"duration_ms": "4000", "attempts": "2"}},
		{"down: the step is named from the result",
			checks.Result{Check: "openerp-login", Type: "scenario", Start: start, Duration: time.Second,
				FailedStep: 1, Attempts: 2, Error: "required pattern o_main_navbar not found", Steps: steps[:2]},
			record.SevErr, `check openerp-login DOWN after 2 attempts: step 2 "log in": required pattern o_main_navbar not found`,
			map[string]string{"check": "openerp-login", "type": "scenario", "result": "down", "success": "false",
				"duration_ms": "1000", "attempts": "2", "error": "required pattern o_main_navbar not found",
				"failed_step": "2", "failed_step_name": "log in"}},
		{"down: the error already names the step",
			checks.Result{Check: "erp", Type: "scenario", Start: start, FailedStep: 0, Attempts: 1,
				Error: `step 1 "login page": connection refused`, Steps: steps[:1]},
			record.SevErr, `check erp DOWN: step 1 "login page": connection refused`,
			map[string]string{"check": "erp", "type": "scenario", "result": "down", "success": "false",
				"duration_ms": "0", "attempts": "1", "error": `step 1 "login page": connection refused`,
				"failed_step": "1", "failed_step_name": "login page"}},
		{"values become fields",
			checks.Result{Check: "vm-www", Type: "ping", Start: start, Duration: 3 * time.Millisecond, Success: true,
				FailedStep: -1, Attempts: 1, Values: map[string]float64{"rtt_avg_ms": 0.25, "loss_ratio": 0, "sent": 3}},
			record.SevInfo, "check vm-www UP in 3 ms",
			map[string]string{"check": "vm-www", "type": "ping", "result": "up", "success": "true", "duration_ms": "3",
				"attempts": "1", "rtt_avg_ms": "0.25", "loss_ratio": "0", "sent": "3"}},
		{"down without an error",
			checks.Result{Check: "b", Type: "backup", Start: start, FailedStep: -1, Attempts: 1},
			record.SevErr, "check b DOWN: failed without saying why (a vigie bug, please report it)",
			map[string]string{"check": "b", "type": "backup", "result": "down", "success": "false", "duration_ms": "0",
				"attempts": "1", "error": ""}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rec := LogRecord(&tc.in, "vigie1")
			if rec.Message != tc.message || rec.Severity != tc.severity {
				t.Errorf("message %q severity %d\nwant    %q severity %d", rec.Message, rec.Severity, tc.message, tc.severity)
			}
			if !maps.Equal(rec.Fields, tc.fields) {
				t.Errorf("fields %v\nwant   %v", rec.Fields, tc.fields)
			}
			if rec.App != "vigie-check" || rec.Host != "vigie1" || !rec.Time.Equal(start) || rec.Time.Location() != time.UTC ||
				!rec.Received.Equal(start.Add(tc.in.Duration)) {
				t.Errorf("record %+v", rec)
			}
		})
	}
}

// FuzzLogRecord checks that any prober error gives a bounded, valid message
// naming the check.
func FuzzLogRecord(f *testing.F) {
	f.Add("openerp-login", "connection refused", 1, "log in")
	f.Add("x", strings.Repeat("é", 5000), 0, "")
	f.Fuzz(func(t *testing.T, check, msg string, failed int, step string) {
		r := checks.Result{Check: check, Type: "scenario", Error: msg, FailedStep: failed % 4, Attempts: 1,
			Steps: []checks.StepResult{{Name: step}, {Name: step}}}
		rec := LogRecord(&r, "h")
		if len(rec.Message) > maxLogMessage {
			t.Fatalf("message of %d bytes", len(rec.Message))
		}
		if utf8.ValidString(check+msg+step) && !utf8.ValidString(rec.Message) {
			t.Fatalf("invalid UTF-8 from valid input: %q", rec.Message)
		}
		if rec.Fields["check"] != check || rec.Severity != record.SevErr {
			t.Fatalf("record %+v", rec)
		}
	})
}
