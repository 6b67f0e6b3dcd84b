package config

import (
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestInvalidRuleConfigs maps each fixture of testdata/rules to the one
// mistake it holds, as TestInvalidConfigs does for the rest of the file.
func TestInvalidRuleConfigs(t *testing.T) {
	cases := map[string]string{
		"invalid-maintenance-order.yml":         "invalid-maintenance-order.yml:4: maintenance[0].end: must be after start",
		"invalid-maintenance-rule.yml":          `invalid-maintenance-rule.yml:7: maintenance[0].rules[0]: "postgres-error" is not a rule of this configuration`,
		"invalid-maintenance-time.yml":          `invalid-maintenance-time.yml:3: maintenance[0].start: "2026-11-28 22:00" is not an RFC 3339 time`,
		"invalid-notifier-alertmanager-url.yml": "invalid-notifier-alertmanager-url.yml:4: notifiers[0].url: give Alertmanager's base URL",
		"invalid-notifier-duplicate.yml":        `invalid-notifier-duplicate.yml:3: notifiers[1].name: "ops" is used twice`,
		"invalid-notifier-header.yml":           "invalid-notifier-header.yml:6: notifiers[0].headers.X-Vigie-Signature: is set by vigie",
		"invalid-notifier-secret.yml":           "invalid-notifier-secret.yml:5: notifiers[0].secret: only a webhook signs its bodies",
		"invalid-notifier-timeout.yml":          "invalid-notifier-timeout.yml:5: notifiers[0].timeout: must be between 1s and 5m",
		"invalid-notifier-type.yml":             `invalid-notifier-type.yml:3: notifiers[0].type: "email": must be one of webhook, slack, alertmanager`,
		"invalid-notifier-url.yml":              `invalid-notifier-url.yml:4: notifiers[0].url: "chat.lan/hooks/x" is not an http(s) URL`,
		"invalid-rule-absent-window.yml":        "invalid-rule-absent-window.yml:2: rules[0].window: is required with absent",
		"invalid-rule-check-unknown.yml":        `invalid-rule-check-unknown.yml:5: rules[0].check: "openerp-logn" is not a check of this configuration`,
		"invalid-rule-duplicate.yml":            `invalid-rule-duplicate.yml:3: rules[1].name: "postgres-errors" is used twice`,
		"invalid-rule-for-with-sla.yml":         "invalid-rule-for-with-sla.yml:8: rules[0].for: does not apply to sla_below rules",
		"invalid-rule-group-by-absent.yml":      "invalid-rule-group-by-absent.yml:5: rules[0].group_by: does not apply to absent rules",
		"invalid-rule-label.yml":                "invalid-rule-label.yml:6: rules[0].labels.severity: is set by vigie",
		"invalid-rule-name.yml":                 `invalid-rule-name.yml:2: rules[0].name: "postgres errors": names are 1-100 letters`,
		"invalid-rule-no-kind.yml":              "invalid-rule-no-kind.yml:2: rules[0].name: says nothing to watch",
		"invalid-rule-notify-unknown.yml":       `invalid-rule-notify-unknown.yml:7: rules[0].notify[1]: "opps" is not a notifier of this configuration`,
		"invalid-rule-query.yml":                `invalid-rule-query.yml:3: rules[0].query: "app:postgres severity<=fatal": column 24: unknown severity "fatal"`,
		"invalid-rule-repeat.yml":               "invalid-rule-repeat.yml:5: rules[0].repeat: must be 0 (no reminders) or at least 1m",
		"invalid-rule-severity.yml":             `invalid-rule-severity.yml:5: rules[0].severity: "urgent": must be one of critical, warning, info`,
		"invalid-rule-sla-range.yml":            "invalid-rule-sla-range.yml:6: rules[0].sla_below: must be a percentage above 0 and at most 100",
		"invalid-rule-sla-window.yml":           "invalid-rule-sla-window.yml:4: rules[0].window: is required with sla_below",
		"invalid-rule-summary.yml":              "invalid-rule-summary.yml:5: rules[0].summary: bad template: postgres-errors:1: bad character",
		"invalid-rule-threshold-count.yml":      "invalid-rule-threshold-count.yml:5: rules[0].threshold.count: must be 1 or more",
		"invalid-rule-threshold-missing.yml":    "invalid-rule-threshold-missing.yml:2: rules[0].threshold: is required with query",
		"invalid-rule-threshold-window.yml":     "invalid-rule-threshold-window.yml:5: rules[0].threshold.window: must be between 1s and 31d",
		"invalid-rule-two-kinds.yml":            "invalid-rule-two-kinds.yml:5: rules[0].absent: a rule watches one thing: query+threshold and absent exclude each other",
		"invalid-rule-unknown-key.yml":          "invalid-rule-unknown-key.yml:4: rules[0].threshold.windw: unknown key (did you mean window?)",
		"invalid-rule-window-on-threshold.yml":  "invalid-rule-window-on-threshold.yml:5: rules[0].window: does not apply to threshold rules",
	}
	files, _ := filepath.Glob("testdata/rules/invalid-*.yml")
	if len(files) != len(cases) {
		t.Errorf("%d fixtures, %d cases: keep them in step", len(files), len(cases))
	}
	for file, want := range cases {
		t.Run(file, func(t *testing.T) {
			_, err := Load(filepath.Join("testdata/rules", file))
			if err == nil {
				t.Fatal("accepted")
			}
			got := strings.TrimPrefix(err.Error(), "testdata/rules/")
			if !strings.Contains(got, want) {
				t.Errorf("error\n got: %s\nwant: %s", got, want)
			}
			// One fixture, one mistake: a second error means the fixture
			// tests more than its name says.
			if n := strings.Count(got, "\n"); n > 0 {
				t.Errorf("%d errors, want one:\n%s", n+1, got)
			}
		})
	}
}

func TestValidRulesGetDefaults(t *testing.T) {
	c, err := Load("testdata/rules/valid.yml")
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Notifiers) != 3 || len(c.Rules) != 4 || len(c.Maintenance) != 1 {
		t.Fatalf("decoded %d notifiers, %d rules, %d maintenance", len(c.Notifiers), len(c.Rules), len(c.Maintenance))
	}
	ops, chat := c.Notifiers[0], c.Notifiers[1]
	if time.Duration(ops.Timeout) != DefaultNotifierTimeout || time.Duration(ops.MaxAge) != DefaultNotifierMaxAge {
		t.Errorf("notifier defaults not applied: timeout %s, max_age %s", ops.Timeout, ops.MaxAge)
	}
	if time.Duration(chat.Timeout) != 5*time.Second {
		t.Errorf("explicit timeout lost: %s", chat.Timeout)
	}
	if c.Rules[0].Severity != DefaultRuleSeverity || c.Rules[1].Severity != "critical" {
		t.Errorf("severities %q %q", c.Rules[0].Severity, c.Rules[1].Severity)
	}
	if r := c.Rules[0]; r.Threshold.Count != 10 || time.Duration(r.Threshold.Window) != 5*time.Minute || r.GroupBy[0] != "host" {
		t.Errorf("threshold rule %+v", r)
	}
	if r := c.Rules[3]; r.SLABelow != 99.5 || time.Duration(r.Window) != 24*time.Hour {
		t.Errorf("sla rule %+v", r)
	}
}
