package main

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"vigie/checks"
	"vigie/checks/history"
	"vigie/checks/schedule"
	"vigie/cmd/config"
	"vigie/record"
	"vigie/store"
	"vigie/ui"
)

// runningChecks is the checks part of `vigie serve`: results in
// data/checks.db, the scheduler, and what the API serves of them.
type runningChecks struct {
	api      *ui.Checks
	hist     *history.History
	log      *slog.Logger
	cancel   context.CancelFunc
	done     chan struct{}
	stopOnce sync.Once
	// onResult, when set, also gets every finished run (the rules).
	onResult func(*checks.Result)
}

func startChecks(ctx context.Context, cfg *config.Server, st *store.Store, reg prometheus.Registerer, log *slog.Logger) (*runningChecks, error) {
	h, err := history.Open(ctx, filepath.Join(cfg.DataDir, "checks.db"), history.Options{
		RetentionDays: cfg.Retention.Days, Checks: cfg.Checks, Logger: log,
	})
	if err != nil {
		return nil, err
	}
	host, _ := os.Hostname()
	rc := &runningChecks{hist: h, log: log, done: make(chan struct{})}
	sched := schedule.New(schedule.Options{
		Checks:     cfg.Checks,
		Logger:     log,
		Registerer: reg,
		SLA:        h,
		Run: func(ctx context.Context, c *config.Check) *checks.Result {
			return checks.Run(ctx, c, log)
		},
		OnResult: func(r *checks.Result) {
			// The run outlives the request that asked for it: record it
			// even if that client went away.
			if _, err := h.Record(context.Background(), r); err != nil {
				log.Error("checks: run not recorded", "check", r.Check, "err", err)
			}
			if rc.onResult != nil {
				rc.onResult(r)
			}
			// Checks and logs are searched in one place.
			if err := st.Submit(context.Background(), []record.Record{schedule.LogRecord(r, host)}); err != nil {
				log.Warn("checks: run not logged", "check", r.Check, "err", err)
			}
		},
	})
	runCtx, cancel := context.WithCancel(ctx)
	rc.cancel = cancel
	rc.api = &ui.Checks{Configs: cfg.Checks, History: h, Scheduler: sched}
	go func() {
		defer close(rc.done)
		if err := sched.Run(runCtx); err != nil {
			log.Error("checks: scheduler stopped", "err", err)
		}
	}()
	if n := len(cfg.Checks); n > 0 {
		log.Info("checks scheduled", "checks", n)
	}
	return rc, nil
}

// stop cancels runs in progress, waits for the scheduler and closes the
// history; a second call does nothing.
func (rc *runningChecks) stop() {
	rc.stopOnce.Do(func() {
		rc.cancel()
		<-rc.done
		if err := rc.hist.Close(); err != nil {
			rc.log.Warn("checks: closing history", "err", err)
		}
	})
}
