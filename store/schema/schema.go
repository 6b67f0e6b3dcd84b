// Package schema migrates vigie's SQLite files (the log partitions,
// vigie.db, checks.db, alerts.db) by their PRAGMA user_version.
package schema

import (
	"context"
	"database/sql"
	"fmt"
)

// Migrate applies the numbered steps above the database's user_version,
// each in its own transaction, so a database written by an older vigie is
// brought up to date at start and never left half-migrated; a database
// newer than steps is refused rather than run by an older binary.
func Migrate(ctx context.Context, db *sql.DB, steps []string) error {
	var have int
	if err := db.QueryRowContext(ctx, "PRAGMA user_version").Scan(&have); err != nil {
		return fmt.Errorf("read schema version: %w", err)
	}
	if have > len(steps) {
		return fmt.Errorf("schema version %d is newer than this vigie knows (%d): refusing to run an older binary on newer data", have, len(steps))
	}
	for i := have; i < len(steps); i++ {
		if err := step(ctx, db, i+1, steps[i]); err != nil {
			return fmt.Errorf("migration %d: %w", i+1, err)
		}
	}
	return nil
}

func step(ctx context.Context, db *sql.DB, version int, stmt string) error {
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, stmt); err != nil {
		return err
	}
	// PRAGMA takes no bound parameters; version is ours, not user input.
	if _, err := tx.ExecContext(ctx, fmt.Sprintf("PRAGMA user_version = %d", version)); err != nil {
		return err
	}
	return tx.Commit()
}
