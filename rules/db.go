package rules

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"vigie/rules/notify"
	"vigie/store/schema"
)

// DBFile is the alert database under the data directory.
const DBFile = "alerts.db"

// migrations is the schema of alerts.db; user_version counts the ones
// applied, so a database made by an older vigie is brought up to date.
var migrations = []string{
	// 1: alerts, their deliveries, the maintenance windows that silenced
	// something, and the state rules keep across restarts.
	`CREATE TABLE alerts(
		id INTEGER PRIMARY KEY,
		rule TEXT NOT NULL,
		key TEXT NOT NULL,
		severity TEXT NOT NULL,
		labels TEXT NOT NULL,            -- JSON object
		state TEXT NOT NULL CHECK (state IN ('firing', 'resolved')),
		started_at INTEGER NOT NULL,     -- unix µs, like every time here
		resolved_at INTEGER,
		notified INTEGER NOT NULL,       -- the firing notification is queued (or there is no notifier)
		last_notified_at INTEGER,
		acked_by TEXT NOT NULL DEFAULT '',
		acked_at INTEGER,
		silenced TEXT NOT NULL DEFAULT '', -- the maintenance window that held its notification back
		summary TEXT NOT NULL,
		samples TEXT NOT NULL            -- JSON array of records
	);
	-- One firing alert per key: a restart or a race cannot open a second.
	CREATE UNIQUE INDEX alerts_firing ON alerts(key) WHERE state = 'firing';
	CREATE INDEX alerts_state ON alerts(state, id);
	CREATE TABLE deliveries(
		seq INTEGER PRIMARY KEY,         -- order of creation: a resolved never overtakes its firing
		id TEXT NOT NULL UNIQUE,         -- X-Vigie-Delivery, constant across retries
		alert_id INTEGER NOT NULL REFERENCES alerts(id) ON DELETE CASCADE,
		notifier TEXT NOT NULL,
		kind TEXT NOT NULL,              -- firing | reminder | resolved
		payload BLOB NOT NULL,
		created_at INTEGER NOT NULL,
		attempts INTEGER NOT NULL DEFAULT 0,
		next_attempt_at INTEGER,
		last_status INTEGER NOT NULL DEFAULT 0,
		last_error TEXT NOT NULL DEFAULT '',
		delivered_at INTEGER,
		given_up_at INTEGER
	);
	CREATE INDEX deliveries_pending ON deliveries(next_attempt_at) WHERE delivered_at IS NULL AND given_up_at IS NULL;
	CREATE INDEX deliveries_alert ON deliveries(alert_id, seq);
	CREATE TABLE maintenance(
		name TEXT NOT NULL,
		start_at INTEGER NOT NULL,
		end_at INTEGER NOT NULL,
		rules TEXT NOT NULL,             -- JSON array, empty: every rule
		hosts TEXT NOT NULL,             -- JSON array, empty: every host
		first_silenced_at INTEGER NOT NULL,
		silenced INTEGER NOT NULL,       -- alerts it silenced
		PRIMARY KEY (name, start_at, end_at)
	);
	CREATE TABLE rule_state(
		rule TEXT PRIMARY KEY,
		since INTEGER NOT NULL,          -- absent: watched since; check: failing since
		detail TEXT NOT NULL             -- absent: its query; check: the last error
	);`,
}

func openDB(ctx context.Context, dir string) (*sql.DB, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	path := filepath.Join(dir, DBFile)
	// Payloads and samples hold log lines: owner only.
	db, err := schema.Open(ctx, path, migrations, 0o600, "&_foreign_keys=on")
	if err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	return db, nil
}

// Times are stored as unix microseconds; NULL is the zero time.
func us(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMicro()
}

func fromUS(v sql.NullInt64) time.Time {
	if !v.Valid {
		return time.Time{}
	}
	return time.UnixMicro(v.Int64).UTC()
}

// queue is the delivery queue of the notify worker, in alerts.db.
type queue struct{ db *sql.DB }

var _ notify.Queue = queue{}

const deliveryColumns = `seq, id, alert_id, notifier, kind, payload, created_at, attempts, next_attempt_at, last_status, last_error, delivered_at, given_up_at`

func scanDelivery(rows interface{ Scan(...any) error }) (notify.Delivery, error) {
	var d notify.Delivery
	var seq, created int64
	var next, delivered, givenUp sql.NullInt64
	err := rows.Scan(&seq, &d.ID, &d.AlertID, &d.Notifier, &d.Kind, &d.Body, &created, &d.Attempts, &next, &d.LastStatus, &d.LastError, &delivered, &givenUp)
	d.Created = time.UnixMicro(created).UTC()
	d.NextAttempt, d.Delivered, d.GivenUp = fromUS(next), fromUS(delivered), fromUS(givenUp)
	return d, err
}

// Due implements notify.Queue: oldest first, and a delivery waits while an
// older one for the same alert and notifier is pending.
func (q queue) Due(ctx context.Context, now time.Time, limit int) ([]notify.Delivery, error) {
	rows, err := q.db.QueryContext(ctx, `SELECT `+deliveryColumns+` FROM deliveries d
		WHERE delivered_at IS NULL AND given_up_at IS NULL AND next_attempt_at <= ?
		AND NOT EXISTS (SELECT 1 FROM deliveries o WHERE o.alert_id = d.alert_id AND o.notifier = d.notifier
			AND o.seq < d.seq AND o.delivered_at IS NULL AND o.given_up_at IS NULL)
		ORDER BY seq LIMIT ?`, now.UnixMicro(), limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []notify.Delivery
	for rows.Next() {
		d, err := scanDelivery(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// Save implements notify.Queue.
func (q queue) Save(ctx context.Context, d *notify.Delivery) error {
	_, err := q.db.ExecContext(ctx, `UPDATE deliveries SET attempts = ?, next_attempt_at = ?, last_status = ?, last_error = ?,
		delivered_at = ?, given_up_at = ? WHERE id = ?`,
		d.Attempts, us(d.NextAttempt), d.LastStatus, d.LastError, us(d.Delivered), us(d.GivenUp), d.ID)
	return err
}

// Pending implements notify.Queue.
func (q queue) Pending(ctx context.Context) (int, error) {
	var n int
	err := q.db.QueryRowContext(ctx, `SELECT count(*) FROM deliveries WHERE delivered_at IS NULL AND given_up_at IS NULL`).Scan(&n)
	return n, err
}

func insertDelivery(ctx context.Context, tx *sql.Tx, d *notify.Delivery) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO deliveries(id, alert_id, notifier, kind, payload, created_at, next_attempt_at)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, d.ID, d.AlertID, d.Notifier, d.Kind, d.Body, d.Created.UnixMicro(), d.NextAttempt.UnixMicro())
	return err
}

// ruleState is what absent and check rules keep across restarts.
type ruleState struct {
	since  time.Time
	detail string
}

func loadRuleStates(ctx context.Context, db *sql.DB) (map[string]ruleState, error) {
	rows, err := db.QueryContext(ctx, `SELECT rule, since, detail FROM rule_state`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]ruleState{}
	for rows.Next() {
		var name string
		var since int64
		var s ruleState
		if err := rows.Scan(&name, &since, &s.detail); err != nil {
			return nil, err
		}
		s.since = time.UnixMicro(since).UTC()
		out[name] = s
	}
	return out, rows.Err()
}

func saveRuleState(ctx context.Context, db *sql.DB, rule string, s ruleState) error {
	if s.since.IsZero() {
		_, err := db.ExecContext(ctx, `DELETE FROM rule_state WHERE rule = ?`, rule)
		return err
	}
	_, err := db.ExecContext(ctx, `INSERT INTO rule_state(rule, since, detail) VALUES (?, ?, ?)
		ON CONFLICT(rule) DO UPDATE SET since = excluded.since, detail = excluded.detail`, rule, s.since.UnixMicro(), s.detail)
	return err
}
