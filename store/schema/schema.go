// Package schema migrates vigie's SQLite files (the log partitions,
// vigie.db, checks.db, alerts.db) by their PRAGMA user_version.
package schema

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"

	_ "github.com/mattn/go-sqlite3" // the "sqlite3" driver
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

// Open opens (creating it if needed) one of vigie's small SQLite files the
// way they all want it: WAL so readers go on while one writes, a busy
// timeout instead of SQLITE_BUSY errors, write transactions that take the
// lock at BEGIN; migrates it to steps; and sets mode on the file and its
// WAL and shared-memory files whatever the umask (they hold log lines,
// password hashes or alert payloads). dsn adds driver options
// ("&_foreign_keys=on").
func Open(ctx context.Context, path string, steps []string, mode os.FileMode, dsn string) (*sql.DB, error) {
	db, err := sql.Open("sqlite3", "file:"+path+"?_journal_mode=WAL&_synchronous=NORMAL&_busy_timeout=10000&_txlock=immediate"+dsn)
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(4)
	if err := Migrate(ctx, db, steps); err != nil {
		db.Close()
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if err := RestrictMode(path, mode); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// RestrictMode sets mode on an SQLite file and its -wal and -shm files.
func RestrictMode(path string, mode os.FileMode) error {
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if err := os.Chmod(path+suffix, mode); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
	}
	return nil
}
