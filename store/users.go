package store

import (
	"context"
	"database/sql"
	"errors"
	"time"
)

// UserHash returns the stored bcrypt hash of a user, "" when there is none.
func (s *Store) UserHash(ctx context.Context, name string) (string, error) {
	var h string
	err := s.meta.QueryRowContext(ctx, `SELECT password_hash FROM users WHERE name = ?`, name).Scan(&h)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return h, err
}

// CreateUser stores a user's bcrypt hash; it fails if the user exists.
func (s *Store) CreateUser(ctx context.Context, name, hash string) error {
	_, err := s.meta.ExecContext(ctx, `INSERT INTO users(name, password_hash, created) VALUES(?, ?, ?)`,
		name, hash, time.Now().Unix())
	return err
}

// CountUsers is how many users vigie.db holds.
func (s *Store) CountUsers(ctx context.Context) (int, error) {
	var n int
	err := s.meta.QueryRowContext(ctx, `SELECT count(*) FROM users`).Scan(&n)
	return n, err
}
