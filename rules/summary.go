package rules

import (
	"bytes"
	"strings"
	"text/template"
	"time"

	"vigie/cmd/config"
	"vigie/record"
)

// SummaryData is what a rule's summary template sees (docs/rules.md).
type SummaryData struct {
	Rule     string
	Kind     string // threshold | absent | check | sla
	Key      string
	State    string // firing | resolved
	Severity string
	Labels   map[string]string // rule labels and group values
	// Group holds the group_by values; GroupText writes them "host=erp1".
	Group     map[string]string
	GroupText string
	StartedAt time.Time

	Query     string // threshold, absent
	Count     int    // threshold: matches within the window
	Threshold int    // threshold: the count that fires
	Window    string // threshold, absent, sla: "5m", "26h"
	LastSeen  time.Time
	// For is how long the condition has held: absent since the last match,
	// check since the first failing run ("2m", "26h").
	For string

	Check        string
	Error        string  // check: the last failing run's error
	Availability float64 // sla: percent
	Target       float64 // sla: sla_below

	Samples []record.Record
}

// maxSummary bounds a rendered summary (chat messages, payloads).
const maxSummary = 1024

// defaultSummary is each kind's summary when the rule gives none.
func defaultSummary(k kind) string {
	switch k {
	case kindThreshold:
		return `{{.Count}} match{{if ne .Count 1}}es{{end}} of {{.Query}} in {{.Window}}{{with .GroupText}} ({{.}}){{end}}`
	case kindAbsent:
		return `no record matching {{.Query}} for {{.For}}{{if .LastSeen.IsZero}} (none stored){{else}} (last {{.LastSeen.UTC.Format "2006-01-02 15:04 MST"}}){{end}}`
	case kindCheck:
		return `check {{.Check}} failing for {{.For}}{{with .Error}}: {{.}}{{end}}`
	}
	return `{{.Check}} availability {{printf "%.1f" .Availability}}% over {{.Window}}, below {{.Target}}%`
}

// summarize renders the rule's summary, falling back to the kind's default
// when a user template fails at run time.
func (e *Engine) summarize(r *rule, d *SummaryData) string {
	if r.summary != nil {
		s, err := render(r.summary, d)
		if err == nil {
			return s
		}
		e.log.Error("rules: summary template failed; using the default", "rule", r.cfg.Name, "err", err)
	}
	s, err := render(r.def, d)
	if err != nil {
		e.log.Error("rules: default summary failed", "rule", r.cfg.Name, "err", err)
	}
	return s
}

func render(t *template.Template, d *SummaryData) (string, error) {
	var b bytes.Buffer
	if err := t.Execute(&b, d); err != nil {
		return "", err
	}
	s := strings.TrimSpace(b.String())
	if len(s) > maxSummary {
		s = truncate(s, maxSummary)
	}
	return s, nil
}

func truncate(s string, n int) string {
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n] + "…"
}

// data is the template data common to every kind; the caller fills in the
// kind's own fields.
func (r *rule) data(key string, group []label, started time.Time) *SummaryData {
	d := &SummaryData{
		Rule: r.cfg.Name, Kind: r.kind.String(), Key: key, State: "firing", Severity: r.cfg.Severity,
		Labels: r.alertLabels(group), Group: map[string]string{}, StartedAt: started,
		Query: r.query, Threshold: r.count, Check: r.cfg.Check, Target: r.cfg.SLABelow,
	}
	if r.window > 0 {
		d.Window = human(r.window)
	}
	var gt []string
	for _, l := range group {
		d.Group[l.name] = l.value
		gt = append(gt, l.name+"="+l.value)
	}
	d.GroupText = strings.Join(gt, " ")
	return d
}

// exampleData is filled enough to run a template once at start.
func (r *rule) exampleData() *SummaryData {
	d := r.data(r.cfg.Name, nil, time.Unix(0, 0).UTC())
	d.Count, d.For, d.Error, d.Availability = r.count, "1m", "example error", 99.0
	d.Samples = []record.Record{{Host: "example", App: "example", Message: "example", Fields: map[string]string{}}}
	return d
}

// duration writes how long something has lasted, to the minute past one
// minute and to the second below.
func duration(d time.Duration) string {
	if d >= time.Minute {
		d = d.Round(time.Minute)
	} else {
		d = d.Round(time.Second)
	}
	return human(max(d, 0))
}

// human writes a duration as people write windows: 5m, 1h30m, 26h, and
// whole days from two days up (7d).
func human(d time.Duration) string {
	if d >= 48*time.Hour && d%(24*time.Hour) == 0 {
		return config.Duration(d).String()
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return s
}
