package rules

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"vigie/cmd/config"
)

// maintenance is a configured maintenance window, parsed.
type maintenance struct {
	name       string
	start, end time.Time
	rules      []string // empty: every rule
	hosts      []string // empty: every host
}

func parseMaintenance(ms []config.Maintenance) ([]maintenance, error) {
	out := make([]maintenance, 0, len(ms))
	for i, m := range ms {
		start, err := time.Parse(time.RFC3339, m.Start)
		if err != nil {
			return nil, fmt.Errorf("maintenance[%d].start: %w", i, err)
		}
		end, err := time.Parse(time.RFC3339, m.End)
		if err != nil {
			return nil, fmt.Errorf("maintenance[%d].end: %w", i, err)
		}
		name := m.Name
		if name == "" {
			name = fmt.Sprintf("maintenance[%d]", i)
		}
		out = append(out, maintenance{name: name, start: start, end: end, rules: m.Rules, hosts: m.Hosts})
	}
	return out, nil
}

// silencing returns the maintenance window that holds back notifications
// of an alert at now, or nil. A window listing hosts covers the alerts
// whose host label (from group_by or the rule's labels) is one of them.
func silencing(ms []maintenance, rule string, labels map[string]string, now time.Time) *maintenance {
	for i := range ms {
		m := &ms[i]
		if now.Before(m.start) || !now.Before(m.end) {
			continue
		}
		if len(m.rules) > 0 && !slices.Contains(m.rules, rule) {
			continue
		}
		if len(m.hosts) > 0 && !slices.Contains(m.hosts, labels["host"]) {
			continue
		}
		return m
	}
	return nil
}

// recordSilence notes in alerts.db that a maintenance window held back a
// notification, so the record of what was not sent outlives the config.
func recordSilence(ctx context.Context, tx *sql.Tx, m *maintenance, now time.Time) error {
	rules, _ := json.Marshal(nonNil(m.rules))
	hosts, _ := json.Marshal(nonNil(m.hosts))
	_, err := tx.ExecContext(ctx, `INSERT INTO maintenance(name, start_at, end_at, rules, hosts, first_silenced_at, silenced)
		VALUES (?, ?, ?, ?, ?, ?, 1)
		ON CONFLICT(name, start_at, end_at) DO UPDATE SET silenced = silenced + 1`,
		m.name, m.start.UnixMicro(), m.end.UnixMicro(), string(rules), string(hosts), now.UnixMicro())
	return err
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// Maintenance is a maintenance window that silenced notifications.
type Maintenance struct {
	Name            string    `json:"name"`
	Start           time.Time `json:"start"`
	End             time.Time `json:"end"`
	Rules           []string  `json:"rules"`
	Hosts           []string  `json:"hosts"`
	FirstSilencedAt time.Time `json:"first_silenced_at"`
	// Silenced counts the alerts whose notifications it held back.
	Silenced int `json:"silenced"`
}

// Maintenances lists the maintenance windows that silenced something,
// newest first.
func (e *Engine) Maintenances(ctx context.Context, limit int) ([]Maintenance, error) {
	rows, err := e.db.QueryContext(ctx, `SELECT name, start_at, end_at, rules, hosts, first_silenced_at, silenced
		FROM maintenance ORDER BY start_at DESC LIMIT ?`, clampLimit(limit))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Maintenance{}
	for rows.Next() {
		var m Maintenance
		var start, end, first int64
		var rules, hosts string
		if err := rows.Scan(&m.Name, &start, &end, &rules, &hosts, &first, &m.Silenced); err != nil {
			return nil, err
		}
		m.Start, m.End, m.FirstSilencedAt = time.UnixMicro(start).UTC(), time.UnixMicro(end).UTC(), time.UnixMicro(first).UTC()
		json.Unmarshal([]byte(rules), &m.Rules)
		json.Unmarshal([]byte(hosts), &m.Hosts)
		out = append(out, m)
	}
	return out, rows.Err()
}
