package config

import (
	"crypto/x509"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"strings"
	"text/template"
	"time"

	"go.yaml.in/yaml/v3"

	"vigie/store/query"
)

// Notifier and rule defaults, applied by validation.
const (
	DefaultNotifierTimeout = 10 * time.Second
	DefaultNotifierMaxAge  = 24 * time.Hour
	DefaultRuleSeverity    = "warning"
)

// NotifierTypes and Severities are the values notifiers[].type and
// rules[].severity take.
var (
	NotifierTypes = []string{"webhook", "slack", "alertmanager"}
	Severities    = []string{"critical", "warning", "info"}
)

// labelName is a Prometheus/Alertmanager label name: rule labels are sent
// to Alertmanager as they are.
var labelName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// reservedLabels are set by vigie on every alert.
var reservedLabels = []string{"alertname", "severity", "vigie_rule"}

// reservedHeaders are written by the notifiers themselves.
var reservedHeaders = []string{"Content-Type", "Content-Length", "Host", "X-Vigie-Signature", "X-Vigie-Delivery"}

// validateRules applies defaults and reports every mistake in `notifiers:`,
// `rules:` and `maintenance:`.
func (c *Server) validateRules(bad func(n *yaml.Node, field, format string, a ...any)) {
	notifiers := map[string]bool{}
	for i := range c.Notifiers {
		c.validateNotifier(i, notifiers, bad)
	}
	checks := map[string]bool{}
	for _, ch := range c.Checks {
		checks[ch.Name] = true
	}
	rules := map[string]bool{}
	for i := range c.Rules {
		c.validateRule(i, rules, notifiers, checks, bad)
	}
	for i, m := range c.Maintenance {
		f := func(key string) string { return fmt.Sprintf("maintenance[%d].%s", i, key) }
		start, err1 := time.Parse(time.RFC3339, m.Start)
		if err1 != nil {
			bad(nil, f("start"), "%q is not an RFC 3339 time (example: 2026-11-28T22:00:00+01:00)", m.Start)
		}
		end, err2 := time.Parse(time.RFC3339, m.End)
		if err2 != nil {
			bad(nil, f("end"), "%q is not an RFC 3339 time (example: 2026-11-29T02:00:00+01:00)", m.End)
		}
		if err1 == nil && err2 == nil && !end.After(start) {
			bad(nil, f("end"), "must be after start (%s)", m.Start)
		}
		for j, r := range m.Rules {
			if !rules[r] {
				bad(nil, f(fmt.Sprintf("rules[%d]", j)), "%q is not a rule of this configuration", r)
			}
		}
		for j, h := range m.Hosts {
			if strings.TrimSpace(h) == "" {
				bad(nil, f(fmt.Sprintf("hosts[%d]", j)), "must not be empty")
			}
		}
	}
}

func (c *Server) validateNotifier(i int, seen map[string]bool, bad func(n *yaml.Node, field, format string, a ...any)) {
	n := &c.Notifiers[i]
	f := func(key string) string { return fmt.Sprintf("notifiers[%d].%s", i, key) }
	if !checkName.MatchString(n.Name) {
		bad(nil, f("name"), "%q: names are 1-100 letters, digits, '.', '_' or '-' (used in metrics and the delivery log)", n.Name)
	} else if seen[n.Name] {
		bad(nil, f("name"), "%q is used twice", n.Name)
	}
	seen[n.Name] = true
	switch n.Type {
	case "webhook", "slack", "alertmanager":
	case "":
		bad(nil, f("type"), "is required: one of %s", strings.Join(NotifierTypes, ", "))
	default:
		bad(nil, f("type"), "%q: must be one of %s", n.Type, strings.Join(NotifierTypes, ", "))
	}
	if n.URL == "" {
		bad(nil, f("url"), "is required")
	} else if u, err := url.Parse(n.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad(nil, f("url"), "%q is not an http(s) URL", n.URL)
	} else if n.Type == "alertmanager" && u.Path != "" && u.Path != "/" && strings.Contains(u.Path, "/api/") {
		bad(nil, f("url"), "give Alertmanager's base URL (http://alertmanager:9093): vigie adds /api/v2/alerts")
	}
	if n.Secret != "" && n.Type != "webhook" {
		bad(nil, f("secret"), "only a webhook signs its bodies; type %s ignores secret", n.Type)
	}
	for _, h := range n.Headers {
		if !validHeaderName(h.Key) {
			bad(nil, f("headers."+h.Key), "is not a valid HTTP header name")
		} else if slices.Contains(reservedHeaders, http.CanonicalHeaderKey(h.Key)) {
			bad(nil, f("headers."+h.Key), "is set by vigie and may not be overridden")
		}
	}
	if n.Timeout == 0 {
		n.Timeout = Duration(DefaultNotifierTimeout)
	}
	if n.Timeout < Duration(time.Second) || n.Timeout > Duration(5*time.Minute) {
		bad(nil, f("timeout"), "must be between 1s and 5m")
	}
	if n.MaxAge == 0 {
		n.MaxAge = Duration(DefaultNotifierMaxAge)
	}
	if n.MaxAge < Duration(time.Minute) {
		bad(nil, f("max_age"), "must be at least 1m (how long a failing delivery is retried)")
	}
	if n.CAFile != "" {
		pem, err := os.ReadFile(n.CAFile)
		if err != nil {
			bad(nil, f("ca_file"), "%v", err)
		} else if !x509.NewCertPool().AppendCertsFromPEM(pem) {
			bad(nil, f("ca_file"), "%s holds no PEM certificate", n.CAFile)
		}
	}
}

func (c *Server) validateRule(i int, seen, notifiers, checks map[string]bool, bad func(n *yaml.Node, field, format string, a ...any)) {
	r := &c.Rules[i]
	f := func(key string) string { return fmt.Sprintf("rules[%d].%s", i, key) }
	if !checkName.MatchString(r.Name) {
		bad(nil, f("name"), "%q: names are 1-100 letters, digits, '.', '_' or '-' (used in alert keys and metrics)", r.Name)
	} else if seen[r.Name] {
		bad(nil, f("name"), "%q is used twice", r.Name)
	}
	seen[r.Name] = true

	var kinds []string
	if r.Query != "" || r.Threshold != nil {
		kinds = append(kinds, "query+threshold")
	}
	if r.Absent != "" {
		kinds = append(kinds, "absent")
	}
	if r.Check != "" {
		kinds = append(kinds, "check")
	}
	switch len(kinds) {
	case 0:
		bad(nil, f("name"), "says nothing to watch: give query+threshold, absent+window, check+for or check+sla_below+window")
	case 1:
	default:
		bad(nil, f(strings.Split(kinds[1], "+")[0]), "a rule watches one thing: %s exclude each other", strings.Join(kinds, " and "))
	}
	mustQuery := func(key, q string) {
		if _, err := query.Parse(q); err != nil {
			bad(nil, f(key), "%q: %v", q, err)
		}
	}
	notFor := func(key, kind string, set bool, hint ...string) {
		if set {
			bad(nil, f(key), "does not apply to %s rules%s", kind, strings.Join(hint, ""))
		}
	}
	switch {
	case len(kinds) != 1:
	case kinds[0] == "query+threshold":
		if r.Query == "" {
			bad(nil, f("query"), "is required with threshold (the records to count)")
		} else {
			mustQuery("query", r.Query)
		}
		if t := r.Threshold; t == nil {
			bad(nil, f("threshold"), "is required with query: {count: 10, window: 5m}")
		} else {
			if t.Count < 1 {
				bad(nil, f("threshold.count"), "must be 1 or more")
			}
			if t.Window < Duration(time.Second) || t.Window > Duration(31*24*time.Hour) {
				bad(nil, f("threshold.window"), "must be between 1s and 31d")
			}
		}
		for j, g := range r.GroupBy {
			if strings.TrimSpace(g) == "" || strings.ContainsAny(g, " \t\"") {
				bad(nil, f(fmt.Sprintf("group_by[%d]", j)), "%q is not a field name (host, app, or a field such as db)", g)
			}
		}
		if len(r.GroupBy) > 5 {
			bad(nil, f("group_by"), "at most 5 fields")
		}
		notFor("window", "threshold", r.Window != 0, " (their window is threshold.window)")
		notFor("for", "threshold", r.For != 0)
		notFor("sla_below", "threshold", r.SLABelow != 0)
	case kinds[0] == "absent":
		mustQuery("absent", r.Absent)
		if r.Window == 0 {
			bad(nil, f("window"), "is required with absent: how long without a matching record before firing (example: 26h)")
		} else if r.Window < Duration(time.Minute) || r.Window > Duration(365*24*time.Hour) {
			bad(nil, f("window"), "must be between 1m and 365d")
		}
		notFor("group_by", "absent", len(r.GroupBy) > 0)
		notFor("for", "absent", r.For != 0)
		notFor("sla_below", "absent", r.SLABelow != 0)
	case kinds[0] == "check":
		if !checks[r.Check] {
			bad(nil, f("check"), "%q is not a check of this configuration", r.Check)
		}
		notFor("group_by", "check", len(r.GroupBy) > 0)
		if r.SLABelow != 0 {
			if r.SLABelow <= 0 || r.SLABelow > 100 {
				bad(nil, f("sla_below"), "must be a percentage above 0 and at most 100 (example: 99.5)")
			}
			if r.Window == 0 {
				bad(nil, f("window"), "is required with sla_below: the period availability is computed over (example: 24h)")
			} else if r.Window < Duration(time.Minute) || r.Window > Duration(366*24*time.Hour) {
				bad(nil, f("window"), "must be between 1m and 366d")
			}
			notFor("for", "sla_below", r.For != 0)
		} else {
			notFor("window", "check+for", r.Window != 0, " (their duration is for)")
		}
	}
	switch r.Severity {
	case "":
		r.Severity = DefaultRuleSeverity
	case "critical", "warning", "info":
	default:
		bad(nil, f("severity"), "%q: must be one of %s", r.Severity, strings.Join(Severities, ", "))
	}
	for j, name := range r.Notify {
		if !notifiers[name] {
			bad(nil, f(fmt.Sprintf("notify[%d]", j)), "%q is not a notifier of this configuration", name)
		}
	}
	if r.Repeat != 0 && r.Repeat < Duration(time.Minute) {
		bad(nil, f("repeat"), "must be 0 (no reminders) or at least 1m")
	}
	for _, l := range r.Labels {
		switch {
		case !labelName.MatchString(l.Key):
			bad(nil, f("labels."+l.Key), "label names are letters, digits and _, not starting with a digit")
		case slices.Contains(reservedLabels, l.Key):
			bad(nil, f("labels."+l.Key), "is set by vigie (alertname, severity, vigie_rule)")
		}
	}
	if r.Summary != "" {
		if _, err := template.New(r.Name).Parse(r.Summary); err != nil {
			bad(nil, f("summary"), "bad template: %v", strings.TrimPrefix(err.Error(), "template: "))
		}
	}
}

// validHeaderName reports whether s is an RFC 9110 token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if r >= 0x7f || r <= ' ' || strings.ContainsRune(`"(),/:;<=>?@[\]{}`, r) {
			return false
		}
	}
	return true
}
