package rules

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"vigie/record"
)

// Alert is an alert as the API shows it (GET /api/v1/alerts).
type Alert struct {
	ID             int64             `json:"id"`
	Rule           string            `json:"rule"`
	Key            string            `json:"key"`
	State          string            `json:"state"` // firing | resolved
	Severity       string            `json:"severity"`
	Labels         map[string]string `json:"labels"`
	StartedAt      time.Time         `json:"started_at"`
	ResolvedAt     *time.Time        `json:"resolved_at"`
	LastNotifiedAt *time.Time        `json:"last_notified_at"`
	AckedBy        string            `json:"acked_by,omitempty"`
	AckedAt        *time.Time        `json:"acked_at,omitempty"`
	// Silenced names the maintenance window that held its notification
	// back, if one did.
	Silenced string          `json:"silenced,omitempty"`
	Summary  string          `json:"summary"`
	URL      string          `json:"url,omitempty"`
	Samples  []record.Record `json:"samples"`
	// Query and QueryFrom find the records behind the alert (the
	// dashboard links to the search with them): the rule's query narrowed
	// to the alert's group for threshold and absent rules, the check's run
	// records (app:vigie-check) for check and sla rules, from the start of
	// the window that fired it. Empty when the rule is no longer configured.
	Query     string     `json:"query,omitempty"`
	QueryFrom *time.Time `json:"query_from,omitempty"`
}

// AlertFilter selects alerts for Alerts.
type AlertFilter struct {
	State string // firing, resolved, or "" / all
	Limit int    // default 100, at most MaxLimit
}

// MaxLimit is the most alerts or deliveries one call returns.
const MaxLimit = 1000

func clampLimit(n int) int {
	if n <= 0 {
		return 100
	}
	return min(n, MaxLimit)
}

// ErrBadFilter is returned for a state other than firing, resolved or all.
var ErrBadFilter = errors.New("rules: state must be firing, resolved or all")

const alertColumns = `id, rule, key, state, severity, labels, started_at, resolved_at, last_notified_at, acked_by, acked_at, silenced, summary, samples`

// Alerts lists alerts newest first; with every state, firing ones first.
func (e *Engine) Alerts(ctx context.Context, f AlertFilter) ([]Alert, error) {
	where := ""
	var args []any
	switch f.State {
	case "", "all":
	case "firing", "resolved":
		where, args = " WHERE state = ?", append(args, f.State)
	default:
		return nil, fmt.Errorf("%w, not %q", ErrBadFilter, f.State)
	}
	rows, err := e.db.QueryContext(ctx, `SELECT `+alertColumns+` FROM alerts`+where+
		` ORDER BY state = 'firing' DESC, id DESC LIMIT ?`, append(args, clampLimit(f.Limit))...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []Alert{}
	for rows.Next() {
		a, err := e.scanAlert(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// Alert returns one alert, or ErrNotFound.
func (e *Engine) Alert(ctx context.Context, id int64) (Alert, error) {
	a, err := e.scanAlert(e.db.QueryRowContext(ctx, `SELECT `+alertColumns+` FROM alerts WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Alert{}, ErrNotFound
	}
	return a, err
}

func (e *Engine) scanAlert(row interface{ Scan(...any) error }) (Alert, error) {
	var a Alert
	var labels, samples string
	var started int64
	var resolved, notified, acked sql.NullInt64
	if err := row.Scan(&a.ID, &a.Rule, &a.Key, &a.State, &a.Severity, &labels, &started, &resolved, &notified,
		&a.AckedBy, &acked, &a.Silenced, &a.Summary, &samples); err != nil {
		return a, err
	}
	a.StartedAt = time.UnixMicro(started).UTC()
	a.ResolvedAt, a.LastNotifiedAt, a.AckedAt = timePtr(resolved), timePtr(notified), timePtr(acked)
	a.URL = e.alertURL(a.ID)
	if err := json.Unmarshal([]byte(labels), &a.Labels); err != nil {
		return a, fmt.Errorf("alert %d: labels: %w", a.ID, err)
	}
	if err := json.Unmarshal([]byte(samples), &a.Samples); err != nil {
		return a, fmt.Errorf("alert %d: samples: %w", a.ID, err)
	}
	if a.Samples == nil {
		a.Samples = []record.Record{}
	}
	e.recordsQuery(&a)
	return a, nil
}

// recordsQuery fills the alert's Query and QueryFrom from its rule.
func (e *Engine) recordsQuery(a *Alert) {
	var r *rule
	for _, x := range e.rules {
		if x.cfg.Name == a.Rule {
			r = x
			break
		}
	}
	if r == nil {
		return
	}
	var span time.Duration
	switch r.kind {
	case kindThreshold, kindAbsent:
		a.Query, span = r.query, r.window
		if len(r.cfg.GroupBy) > 0 {
			// The group's values are its labels (they override the rule's).
			var b strings.Builder
			b.WriteString("(" + r.query + ")")
			for _, g := range r.cfg.GroupBy {
				b.WriteString(" " + g + ":" + quoteValue(a.Labels[g]))
			}
			a.Query = b.String()
		}
	case kindCheck:
		// The failing streak began a run's duration or so before "for" was
		// reached: a few minutes more include its first failing run.
		a.Query, span = "app:vigie-check check:"+quoteValue(r.cfg.Check), r.forDur+5*time.Minute
	case kindSLA:
		a.Query, span = "app:vigie-check check:"+quoteValue(r.cfg.Check), r.window
	}
	from := a.StartedAt.Add(-span)
	a.QueryFrom = &from
}

// quoteValue writes a query-language value in double quotes, with \, "
// and * escaped (docs/query-language.md).
func quoteValue(v string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`, `*`, `\*`).Replace(v) + `"`
}

func timePtr(v sql.NullInt64) *time.Time {
	if !v.Valid {
		return nil
	}
	t := time.UnixMicro(v.Int64).UTC()
	return &t
}

// Ack records that a user has seen an alert (POST /api/v1/alerts/{id}/ack).
// An acknowledged alert gets no more reminders; the first ack is kept.
func (e *Engine) Ack(ctx context.Context, id int64, by string) (Alert, error) {
	by = strings.TrimSpace(by)
	if by == "" {
		return Alert{}, errors.New("rules: ack needs the user's name")
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	res, err := e.db.ExecContext(ctx, `UPDATE alerts SET acked_by = ?, acked_at = ? WHERE id = ? AND acked_by = ''`,
		by, e.now().UnixMicro(), id)
	if err != nil {
		return Alert{}, err
	}
	if n, _ := res.RowsAffected(); n > 0 {
		for _, a := range e.firing {
			if a.id == id {
				a.acked = true
			}
		}
	}
	return e.Alert(ctx, id)
}

// DeliveryLog is one delivery as the API shows it.
type DeliveryLog struct {
	ID            string     `json:"id"` // X-Vigie-Delivery
	AlertID       int64      `json:"alert_id"`
	Notifier      string     `json:"notifier"`
	Kind          string     `json:"kind"`   // firing | reminder | resolved
	Status        string     `json:"status"` // pending | delivered | given_up
	Attempts      int        `json:"attempts"`
	CreatedAt     time.Time  `json:"created_at"`
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"`
	LastStatus    int        `json:"last_status,omitempty"` // HTTP status of the last attempt
	LastError     string     `json:"last_error,omitempty"`
	DeliveredAt   *time.Time `json:"delivered_at,omitempty"`
	GivenUpAt     *time.Time `json:"given_up_at,omitempty"`
	// Payload is the body posted (every notifier type posts JSON).
	Payload json.RawMessage `json:"payload"`
}

// Deliveries lists deliveries newest first: an alert's (alertID > 0) or
// the most recent of all.
func (e *Engine) Deliveries(ctx context.Context, alertID int64, limit int) ([]DeliveryLog, error) {
	where, args := "", []any{}
	if alertID > 0 {
		where, args = " WHERE alert_id = ?", append(args, alertID)
	}
	rows, err := e.db.QueryContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries`+where+` ORDER BY seq DESC LIMIT ?`,
		append(args, clampLimit(limit))...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := []DeliveryLog{}
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, err
		}
		l := DeliveryLog{
			ID: d.ID, AlertID: d.AlertID, Notifier: d.Notifier, Kind: d.Kind, Status: "pending", Attempts: d.Attempts,
			CreatedAt: d.Created, LastStatus: d.LastStatus, LastError: d.LastError, Payload: d.Body,
		}
		switch {
		case !d.Delivered.IsZero():
			l.Status, l.DeliveredAt = "delivered", &d.Delivered
		case !d.GivenUp.IsZero():
			l.Status, l.GivenUpAt = "given_up", &d.GivenUp
		default:
			l.NextAttemptAt = &d.NextAttempt
		}
		if !json.Valid(l.Payload) {
			l.Payload, _ = json.Marshal(string(d.Body))
		}
		out = append(out, l)
	}
	return out, rows.Err()
}
