package notify

import (
	"strings"
	"time"
)

// alertmanagerType posts to Alertmanager's /api/v2/alerts, so its routes,
// inhibitions and silences apply to vigie's alerts.
func alertmanagerType() Type {
	return Type{
		Body: func(m *Message) ([]byte, error) {
			return marshal([]amAlert{toAM(m)})
		},
		Endpoint: func(base string) string { return strings.TrimRight(base, "/") + "/api/v2/alerts" },
	}
}

// amAlert is postableAlert of Alertmanager's OpenAPI v2 specification.
type amAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       *time.Time        `json:"endsAt,omitempty"`
	GeneratorURL string            `json:"generatorURL,omitempty"`
}

// toAM maps a message to an Alertmanager alert. A firing alert has no
// endsAt: Alertmanager keeps it for its resolve_timeout, and vigie posts
// firing alerts again every minute (Engine), as Prometheus does.
func toAM(m *Message) amAlert {
	labels := make(map[string]string, len(m.Labels)+3)
	for k, v := range m.Labels {
		labels[LabelName(k)] = v
	}
	labels["alertname"] = m.Rule
	labels["vigie_rule"] = m.Rule
	if m.Severity != "" {
		labels["severity"] = m.Severity
	}
	a := amAlert{
		Labels:       labels,
		Annotations:  map[string]string{"summary": m.Summary},
		StartsAt:     m.StartedAt.UTC(),
		GeneratorURL: m.URL,
	}
	if m.Test {
		a.Labels["vigie_test"] = "true"
	}
	if m.ResolvedAt != nil {
		t := m.ResolvedAt.UTC()
		a.EndsAt = &t
	}
	return a
}

// LabelName makes a field name (db, sdid.param) a valid Prometheus label
// name: other characters become '_', and a leading digit gets one before it.
func LabelName(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			b[i] = '_'
		}
	}
	if len(b) == 0 || ('0' <= b[0] && b[0] <= '9') {
		return "_" + string(b)
	}
	return string(b)
}
