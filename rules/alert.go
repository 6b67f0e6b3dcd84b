package rules

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"vigie/record"
	"vigie/rules/notify"
)

// alert is a firing alert, as the evaluation loop follows it.
type alert struct {
	id       int64
	rule     *rule
	key      string
	group    []label
	groupKey string // threshold: the group's key in thresholdState
	labels   map[string]string
	started  time.Time
	summary  string
	samples  []record.Record
	data     *SummaryData // refreshed at every evaluation, for reminders
	// notified: the firing notification is queued (or the rule has no
	// notifier); false while a maintenance window held it back.
	notified     bool
	lastNotified time.Time
	acked        bool
	silenced     string // the maintenance window silencing it now
}

func (e *Engine) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := e.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	return tx.Commit()
}

func (e *Engine) fail(r *rule, what string, err error) {
	e.m.errors.WithLabelValues(r.cfg.Name).Inc()
	e.log.Error("rules: "+what, "rule", r.cfg.Name, "err", err)
}

// fire opens an alert and queues its notifications, unless a maintenance
// window holds them back. Alert and deliveries are written in one
// transaction: a crash leaves neither or both.
func (e *Engine) fire(ctx context.Context, r *rule, key string, group []label, d *SummaryData, now time.Time) {
	d.StartedAt, d.State = now, notify.Firing
	a := &alert{
		rule: r, key: key, group: group, groupKey: groupKeyOf(group), labels: r.alertLabels(group),
		started: now, samples: d.Samples, data: d,
	}
	if a.samples == nil {
		a.samples = []record.Record{}
	}
	a.summary = e.summarize(r, d)
	m := silencing(e.maint, r.cfg.Name, a.labels, now)
	err := e.tx(ctx, func(tx *sql.Tx) error {
		labels, _ := json.Marshal(a.labels)
		samples, err := json.Marshal(a.samples)
		if err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO alerts(rule, key, severity, labels, state, started_at, notified, summary, samples)
			VALUES (?, ?, ?, ?, 'firing', ?, 0, ?, ?)`, r.cfg.Name, key, r.cfg.Severity, string(labels), now.UnixMicro(), a.summary, string(samples))
		if err != nil {
			return err
		}
		if a.id, err = res.LastInsertId(); err != nil {
			return err
		}
		if m != nil {
			a.silenced = m.name
			if _, err := tx.ExecContext(ctx, `UPDATE alerts SET silenced = ? WHERE id = ?`, m.name, a.id); err != nil {
				return err
			}
			return recordSilence(ctx, tx, m, now)
		}
		return e.notifyTx(ctx, tx, a, "firing", now)
	})
	if err != nil {
		e.fail(r, "opening an alert (tried again next second)", err)
		return
	}
	e.log.Info("rules: alert firing", "rule", r.cfg.Name, "key", key, "id", a.id, "summary", a.summary, "silenced", a.silenced)
	e.firing[key] = a
	e.worker.Kick()
}

// notifyTx queues one notification per notifier of the alert's rule and
// marks the alert notified.
func (e *Engine) notifyTx(ctx context.Context, tx *sql.Tx, a *alert, kind string, now time.Time) error {
	var resolvedAt *time.Time
	state := notify.Firing
	if kind == "resolved" {
		state, resolvedAt = notify.Resolved, &now
	}
	for _, name := range a.rule.cfg.Notify {
		c := e.clients[name]
		m := e.message(a, state, resolvedAt)
		m.Reminder = kind == "reminder"
		body, err := c.Body(m)
		if err != nil {
			return fmt.Errorf("rendering for notifier %s: %w", name, err)
		}
		d := &notify.Delivery{ID: rand.Text(), AlertID: a.id, Notifier: name, Kind: kind, Body: body, Created: now, NextAttempt: now}
		if err := insertDelivery(ctx, tx, d); err != nil {
			return err
		}
	}
	if kind == "resolved" {
		return nil
	}
	a.notified = true
	if len(a.rule.cfg.Notify) > 0 {
		a.lastNotified = now
	}
	_, err := tx.ExecContext(ctx, `UPDATE alerts SET notified = 1, last_notified_at = ?, summary = ? WHERE id = ?`, us(a.lastNotified), a.summary, a.id)
	return err
}

// message is what the notifiers are told about an alert.
func (e *Engine) message(a *alert, state string, resolvedAt *time.Time) *notify.Message {
	return &notify.Message{
		ID: a.id, Rule: a.rule.cfg.Name, State: state, Key: a.key, Severity: a.rule.cfg.Severity,
		Labels: a.labels, StartedAt: a.started, ResolvedAt: resolvedAt, Summary: a.summary,
		URL: e.alertURL(a.id), Samples: a.samples,
	}
}

func (e *Engine) alertURL(id int64) string {
	if e.opt.BaseURL == "" {
		return ""
	}
	return strings.TrimRight(e.opt.BaseURL, "/") + "/alerts/" + strconv.FormatInt(id, 10)
}

// resolve closes an alert; receivers that were told it fired are told it
// is over, even during a maintenance window (good news is never held).
func (e *Engine) resolve(ctx context.Context, a *alert, now time.Time) {
	err := e.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE alerts SET state = 'resolved', resolved_at = ? WHERE id = ?`, now.UnixMicro(), a.id); err != nil {
			return err
		}
		if a.lastNotified.IsZero() {
			return nil // nobody was told it fired
		}
		return e.notifyTx(ctx, tx, a, "resolved", now)
	})
	if err != nil {
		e.fail(a.rule, "resolving an alert (tried again next second)", err)
		return
	}
	e.log.Info("rules: alert resolved", "rule", a.rule.cfg.Name, "key", a.key, "id", a.id)
	delete(e.firing, a.key)
	e.worker.Kick()
}

// followUp applies maintenance windows to firing alerts, sends the
// notification a window held back once it is over, and sends reminders.
func (e *Engine) followUp(ctx context.Context, now time.Time) {
	for _, a := range e.firing {
		r := a.rule
		if m := silencing(e.maint, r.cfg.Name, a.labels, now); m != nil {
			if a.silenced != m.name {
				err := e.tx(ctx, func(tx *sql.Tx) error {
					if _, err := tx.ExecContext(ctx, `UPDATE alerts SET silenced = ? WHERE id = ?`, m.name, a.id); err != nil {
						return err
					}
					return recordSilence(ctx, tx, m, now)
				})
				if err != nil {
					e.fail(r, "recording a maintenance silence", err)
					continue
				}
				a.silenced = m.name
			}
			continue
		}
		a.silenced = ""
		kind := ""
		switch {
		case !a.notified:
			kind = "firing" // held back by a maintenance window now over
		case r.repeat > 0 && !a.acked && !a.lastNotified.IsZero() && now.Sub(a.lastNotified) >= r.repeat:
			kind = "reminder"
		default:
			continue
		}
		notified, last, summary, samples := a.notified, a.lastNotified, a.summary, a.samples
		if kind == "reminder" {
			if r.th != nil {
				a.data.Samples = r.th.samples(a.groupKey)
				if len(a.data.Samples) > 0 {
					a.samples = a.data.Samples
				}
			}
			a.summary = e.summarize(r, a.data)
		}
		if err := e.tx(ctx, func(tx *sql.Tx) error { return e.notifyTx(ctx, tx, a, kind, now) }); err != nil {
			// Rolled back: tried again at the next evaluation.
			a.notified, a.lastNotified, a.summary, a.samples = notified, last, summary, samples
			e.fail(r, "queueing a "+kind+" notification", err)
			continue
		}
		e.worker.Kick()
	}
}

// loadFiring restores the firing alerts of alerts.db. Those of rules no
// longer configured are resolved without notification: their notifiers
// may be gone too.
func (e *Engine) loadFiring(ctx context.Context, now time.Time) error {
	rows, err := e.db.QueryContext(ctx, `SELECT id, rule, key, labels, started_at, notified, last_notified_at, acked_by, silenced, summary, samples
		FROM alerts WHERE state = 'firing'`)
	if err != nil {
		return err
	}
	var orphans []int64
	byName := map[string]*rule{}
	for _, r := range e.rules {
		byName[r.cfg.Name] = r
	}
	for rows.Next() {
		a := &alert{}
		var name, labels, ackedBy, samples string
		var started int64
		var lastNotified sql.NullInt64
		if err := rows.Scan(&a.id, &name, &a.key, &labels, &started, &a.notified, &lastNotified, &ackedBy, &a.silenced, &a.summary, &samples); err != nil {
			rows.Close()
			return err
		}
		if a.rule = byName[name]; a.rule == nil {
			orphans = append(orphans, a.id)
			continue
		}
		a.started, a.lastNotified, a.acked = time.UnixMicro(started).UTC(), fromUS(lastNotified), ackedBy != ""
		json.Unmarshal([]byte(labels), &a.labels)
		json.Unmarshal([]byte(samples), &a.samples)
		for _, f := range a.rule.cfg.GroupBy {
			a.group = append(a.group, label{f, a.labels[f]})
		}
		a.groupKey = groupKeyOf(a.group)
		a.data = a.rule.data(a.key, a.group, a.started)
		a.data.Samples = a.samples
		e.firing[a.key] = a
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, id := range orphans {
		e.log.Warn("rules: resolving an alert whose rule is no longer configured", "id", id)
		if _, err := e.db.ExecContext(ctx, `UPDATE alerts SET state = 'resolved', resolved_at = ? WHERE id = ?`, now.UnixMicro(), id); err != nil {
			return err
		}
	}
	return nil
}

// groupKeyOf is thresholdState.groupKey from an alert's group values.
func groupKeyOf(group []label) string {
	vs := make([]string, len(group))
	for i, l := range group {
		vs[i] = l.value
	}
	return strings.Join(vs, "\x00")
}
