// Package history keeps the results of check runs in their own small SQLite
// database (<data_dir>/checks.db, apart from the logs), answers the runs API
// and computes availability and SLA reports from them.
package history

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"vigie/cmd/config"
	"vigie/store/schema"
)

// Options tune a History; zero values take the defaults.
type Options struct {
	// RetentionDays deletes runs that started more than this many days ago
	// (0 = keep everything). Set it like the logs' retention.days.
	RetentionDays int
	// RetentionEvery is how often retention runs (default 1 hour).
	RetentionEvery time.Duration
	// Checks gives each check's interval, from which Availability takes its
	// gap limit (2 × interval). A check missing here (removed from the
	// config since) gets 2 × the default interval.
	Checks []config.Check
	// Now is the clock: availability never counts time after it (default
	// time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// History is the results database. It is safe for concurrent use.
type History struct {
	db     *sql.DB
	opt    Options
	log    *slog.Logger
	gaps   map[string]time.Duration
	cancel context.CancelFunc
	bg     sync.WaitGroup
	once   sync.Once
}

// Limits on what one run may store: results come from probes that quote
// servers' answers, and a run row must stay small.
const (
	maxErrorBytes = 4096
	maxURLBytes   = 2048
	maxNameBytes  = 256
	maxSteps      = 1000
	maxValues     = 256
	// pruneBatch is how many runs retention deletes per transaction, so a
	// first prune of a large backlog never holds the write lock for long.
	pruneBatch = 5000
)

// Open opens (creating when needed) the results database at path and starts
// its retention. Close it when done.
func Open(ctx context.Context, path string, opt Options) (*History, error) {
	if opt.RetentionEvery <= 0 {
		opt.RetentionEvery = time.Hour
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return nil, fmt.Errorf("check history: %w", err)
	}
	db, err := schema.Open(ctx, path, migrations, 0o640, "")
	if err != nil {
		return nil, fmt.Errorf("check history: %w", err)
	}
	h := &History{db: db, opt: opt, log: opt.Logger, gaps: make(map[string]time.Duration, len(opt.Checks))}
	for _, c := range opt.Checks {
		h.gaps[c.Name] = MaxGap(c)
	}
	bgCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	h.cancel = cancel
	if opt.RetentionDays > 0 {
		h.bg.Go(func() { h.retentionLoop(bgCtx) })
	}
	return h, nil
}

// Close stops retention and closes the database.
func (h *History) Close() error {
	var err error
	h.once.Do(func() {
		h.cancel()
		h.bg.Wait()
		err = h.db.Close()
	})
	return err
}

// MaxGap is how long one run of c vouches for the check's state: two
// intervals, so one late or lost run does not make time unknown, but a
// vigie that was stopped for longer does.
func MaxGap(c config.Check) time.Duration {
	iv := time.Duration(c.Interval)
	if iv <= 0 {
		iv = config.DefaultCheckInterval
	}
	return 2 * iv
}

func (h *History) maxGap(check string) time.Duration {
	if g, ok := h.gaps[check]; ok {
		return g
	}
	return 2 * config.DefaultCheckInterval
}

func (h *History) retentionLoop(ctx context.Context) {
	t := time.NewTicker(h.opt.RetentionEvery)
	defer t.Stop()
	for {
		cutoff := h.opt.Now().AddDate(0, 0, -h.opt.RetentionDays)
		if n, err := h.Prune(ctx, cutoff); err != nil {
			if ctx.Err() == nil {
				h.log.Error("check history: retention could not delete old runs", "before", cutoff, "err", err)
			}
		} else if n > 0 {
			h.log.Info("check history: retention deleted old runs", "runs", n, "before", cutoff)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Prune deletes the runs (and their steps) that started before the cutoff
// and reports how many runs went.
func (h *History) Prune(ctx context.Context, before time.Time) (int64, error) {
	cut := before.UnixMicro()
	var total int64
	for {
		n, err := h.pruneBatch(ctx, cut)
		total += n
		if err != nil || n < pruneBatch {
			return total, err
		}
	}
}

func (h *History) pruneBatch(ctx context.Context, cut int64) (int64, error) {
	tx, err := h.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	const pick = `SELECT id FROM runs WHERE start < ? ORDER BY start LIMIT ?`
	if _, err := tx.ExecContext(ctx, `DELETE FROM steps WHERE run_id IN (`+pick+`)`, cut, pruneBatch); err != nil {
		return 0, err
	}
	res, err := tx.ExecContext(ctx, `DELETE FROM runs WHERE id IN (`+pick+`)`, cut, pruneBatch)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `DELETE FROM last_run WHERE start < ?`, cut); err != nil {
		return 0, err
	}
	return n, tx.Commit()
}
