package history

import (
	"context"
	"database/sql"
	"fmt"
)

// migrations is the schema of checks.db, one entry per user_version. Times
// are Unix microseconds, durations microseconds.
var migrations = []string{
	// 1: runs, their steps, and the last run of each check (kept by Record
	// so the checks list reads one row per check instead of scanning runs).
	`CREATE TABLE runs(
		id INTEGER PRIMARY KEY,
		check_name TEXT NOT NULL,
		type TEXT NOT NULL,
		start INTEGER NOT NULL,
		duration_us INTEGER NOT NULL,
		success INTEGER NOT NULL,
		slow INTEGER NOT NULL,
		error TEXT NOT NULL,
		failed_step INTEGER NOT NULL,
		attempts INTEGER NOT NULL,
		vals TEXT
	);
	-- Covers the availability query: it reads only the index.
	CREATE INDEX runs_check_start ON runs(check_name, start, success, slow, duration_us);
	CREATE INDEX runs_start ON runs(start);
	CREATE TABLE steps(
		run_id INTEGER NOT NULL,
		idx INTEGER NOT NULL,
		name TEXT NOT NULL,
		url TEXT NOT NULL,
		success INTEGER NOT NULL,
		error TEXT NOT NULL,
		code INTEGER NOT NULL,
		bytes INTEGER NOT NULL,
		speed REAL NOT NULL,
		dns_us INTEGER NOT NULL,
		connect_us INTEGER NOT NULL,
		tls_us INTEGER NOT NULL,
		ttfb_us INTEGER NOT NULL,
		transfer_us INTEGER NOT NULL,
		total_us INTEGER NOT NULL,
		PRIMARY KEY(run_id, idx)
	) WITHOUT ROWID;
	CREATE TABLE last_run(
		check_name TEXT PRIMARY KEY,
		run_id INTEGER NOT NULL,
		start INTEGER NOT NULL
	);`,
}

// migrate applies the numbered migrations above the database's
// user_version, each in its own transaction (as store/migrate.go does), so a
// database written by an older vigie is brought up to date at start and
// never left half-migrated.
func migrate(ctx context.Context, db *sql.DB, steps []string) error {
	var have int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&have); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if have > len(steps) {
		return fmt.Errorf("schema version %d is newer than this vigie knows (%d): refusing to run an older binary on newer data", have, len(steps))
	}
	for i := have; i < len(steps); i++ {
		if err := migrateOne(ctx, db, i+1, steps[i]); err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
	}
	return nil
}

func migrateOne(ctx context.Context, db *sql.DB, version int, step string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, step); err != nil {
		return err
	}
	// PRAGMA takes no bound parameters; version is ours, not user input.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", version)); err != nil {
		return err
	}
	return tx.Commit()
}
