package rules

import (
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"text/template"
	"time"

	"vigie/cmd/config"
	"vigie/record"
	"vigie/store/query"
)

type kind uint8

const (
	kindThreshold kind = iota // query + threshold
	kindAbsent                // absent + window
	kindCheck                 // check + for
	kindSLA                   // check + sla_below + window
)

func (k kind) String() string {
	return [...]string{"threshold", "absent", "check", "sla"}[k]
}

// rule is a configured rule, compiled, with the state its kind keeps.
type rule struct {
	cfg     config.Rule
	kind    kind
	query   string // threshold, absent
	window  time.Duration
	count   int
	forDur  time.Duration
	repeat  time.Duration
	summary *template.Template // the rule's own; nil: def
	def     *template.Template // the kind's default
	labels  map[string]string
	// slowIsDown: the check's sla.slow_is_down, for sla rules.
	slowIsDown bool

	th *thresholdState
	ab *absentState
	ck *checkState
}

// absentState is the time of the newest matching record seen.
type absentState struct {
	last  atomic.Int64 // unix ns of the newest matching record's time
	since time.Time    // the rule is watched since (persisted)
}

// checkState follows the runs of the rule's check.
type checkState struct {
	mu      sync.Mutex
	seen    bool      // a run was observed since start
	failing bool      // the last run failed
	since   time.Time // start of the first failing run of the streak
	err     string    // the last failing run's error
	dirty   bool      // changed since the last evaluation
	slaDue  bool      // sla: a run came, evaluate now
	slaLast time.Time // sla: last evaluation
}

// compileRule prepares a validated configuration rule.
func compileRule(c config.Rule, checks []config.Check) (*rule, error) {
	r := &rule{cfg: c, repeat: time.Duration(c.Repeat), labels: map[string]string{}}
	for _, l := range c.Labels {
		r.labels[l.Key] = l.Value
	}
	switch {
	case c.Threshold != nil:
		r.kind, r.query = kindThreshold, c.Query
		r.count, r.window = c.Threshold.Count, time.Duration(c.Threshold.Window)
		if r.count < 1 || r.window < time.Second {
			return nil, fmt.Errorf("rule %s: threshold needs count ≥ 1 and window ≥ 1s", c.Name)
		}
		r.th = newThresholdState(r.window, c.GroupBy)
	case c.Absent != "":
		r.kind, r.query, r.window = kindAbsent, c.Absent, time.Duration(c.Window)
		if r.window <= 0 {
			return nil, fmt.Errorf("rule %s: absent needs a window", c.Name)
		}
		r.ab = &absentState{}
	case c.Check != "" && c.SLABelow > 0:
		r.kind, r.window = kindSLA, time.Duration(c.Window)
		if r.window <= 0 {
			return nil, fmt.Errorf("rule %s: sla_below needs a window", c.Name)
		}
		for _, ch := range checks {
			if ch.Name == c.Check && ch.SLA != nil {
				r.slowIsDown = ch.SLA.SlowIsDown
			}
		}
		r.ck = &checkState{}
	case c.Check != "":
		r.kind, r.forDur = kindCheck, time.Duration(c.For)
		r.ck = &checkState{}
	default:
		return nil, fmt.Errorf("rule %s: nothing to watch", c.Name)
	}
	if r.query != "" {
		if _, err := query.Parse(r.query); err != nil {
			return nil, fmt.Errorf("rule %s: %q: %w", c.Name, r.query, err)
		}
	}
	r.def = template.Must(template.New("default").Parse(defaultSummary(r.kind)))
	if c.Summary != "" {
		t, err := template.New(c.Name).Option("missingkey=zero").Parse(c.Summary)
		if err != nil {
			return nil, fmt.Errorf("rule %s: summary: %w", c.Name, err)
		}
		// A template naming a field that does not exist fails only when run:
		// run it once now so the mistake stops the start, not an alert.
		if _, err := render(t, r.exampleData()); err != nil {
			return nil, fmt.Errorf("rule %s: summary: %w", c.Name, err)
		}
		r.summary = t
	}
	return r, nil
}

// label is one group_by field and its value in an alert.
type label struct{ name, value string }

// alertKey is the stable key of the rule's alert for a group:
// `postgres-errors` or `postgres-errors{host="erp1"}`.
func (r *rule) alertKey(group []label) string {
	if len(group) == 0 {
		return r.cfg.Name
	}
	var b strings.Builder
	b.WriteString(r.cfg.Name)
	b.WriteByte('{')
	for i, l := range group {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(l.name)
		b.WriteByte('=')
		b.WriteString(strconv.Quote(l.value))
	}
	b.WriteByte('}')
	return b.String()
}

// alertLabels are the rule's labels with the group's values over them.
func (r *rule) alertLabels(group []label) map[string]string {
	out := maps.Clone(r.labels)
	for _, l := range group {
		out[l.name] = l.value
	}
	return out
}

// fieldValue is a record's value of a group_by field: a column, severity
// or facility as a number, or a key of Fields ("" when missing).
func fieldValue(r *record.Record, name string) string {
	switch name {
	case "host":
		return r.Host
	case "app":
		return r.App
	case "procid":
		return r.ProcID
	case "msgid":
		return r.MsgID
	case "source":
		return r.Source
	case "severity":
		return strconv.Itoa(r.Severity)
	case "facility":
		return strconv.Itoa(r.Facility)
	}
	return r.Fields[name]
}

// notifies reports whether the rule sends to a notifier.
func (r *rule) notifies(name string) bool { return slices.Contains(r.cfg.Notify, name) }
