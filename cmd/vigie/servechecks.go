package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"vigie/checks"
	"vigie/checks/history"
	"vigie/checks/schedule"
	"vigie/cmd/config"
	"vigie/record"
	"vigie/rules"
	"vigie/store"
	"vigie/store/hub"
	"vigie/ui"
)

// monitoring is the checks and rules part of `vigie serve`: check results
// in data/checks.db, alerts in data/alerts.db, the scheduler and the rules
// engine, and what the API serves of them.
type monitoring struct {
	checks   *ui.Checks
	rules    *rules.Engine
	hist     *history.History
	log      *slog.Logger
	cancel   context.CancelFunc
	wg       sync.WaitGroup
	stopOnce sync.Once
}

// startMonitoring opens the results and alerts, then starts the rules
// (fed by the hub and by every check run) and the scheduler.
func startMonitoring(ctx context.Context, cfg *config.Server, st *store.Store, fanout *hub.Hub, reg prometheus.Registerer, log *slog.Logger) (*monitoring, error) {
	h, err := history.Open(ctx, filepath.Join(cfg.DataDir, "checks.db"), history.Options{
		RetentionDays: cfg.Retention.Days, Checks: cfg.Checks, Logger: log,
	})
	if err != nil {
		return nil, err
	}
	eng, err := rules.New(ctx, rules.Options{
		Rules: cfg.Rules, Notifiers: cfg.Notifiers, Maintenance: cfg.Maintenance, Checks: cfg.Checks,
		DataDir: cfg.DataDir, Search: st, SLA: h, BaseURL: publicURL(cfg),
		Logger: log, Registerer: reg,
	})
	if err != nil {
		h.Close()
		return nil, err
	}
	// After New: it filled the windows from the store itself.
	fanout.Observe(eng.Observe)

	host, _ := os.Hostname()
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
			eng.ObserveRun(r)
			// Checks and logs are searched in one place.
			if err := st.Submit(context.Background(), []record.Record{schedule.LogRecord(r, host)}); err != nil {
				log.Warn("checks: run not logged", "check", r.Check, "err", err)
			}
		},
	})
	runCtx, cancel := context.WithCancel(ctx)
	m := &monitoring{checks: &ui.Checks{Configs: cfg.Checks, History: h, Scheduler: sched}, rules: eng, hist: h, log: log, cancel: cancel}
	m.wg.Go(func() {
		if err := sched.Run(runCtx); err != nil {
			log.Error("checks: scheduler stopped", "err", err)
		}
	})
	m.wg.Go(func() {
		if err := eng.Run(runCtx); err != nil {
			log.Error("rules: engine stopped", "err", err)
		}
	})
	log.Info("monitoring started", "checks", len(cfg.Checks), "rules", len(cfg.Rules), "notifiers", len(cfg.Notifiers))
	return m, nil
}

// stop cancels check runs in progress (they are not recorded), lets
// deliveries under way finish their attempt, and closes both databases; a
// second call does nothing.
func (m *monitoring) stop() {
	m.stopOnce.Do(func() {
		m.cancel()
		m.wg.Wait()
		if err := m.rules.Close(); err != nil {
			m.log.Warn("rules: closing alerts", "err", err)
		}
		if err := m.hist.Close(); err != nil {
			m.log.Warn("checks: closing history", "err", err)
		}
	})
}

// publicURL is how alert receivers reach the dashboard: http.public_url,
// or this host's name and the HTTP port.
func publicURL(cfg *config.Server) string {
	if cfg.HTTP.PublicURL != "" {
		return strings.TrimRight(cfg.HTTP.PublicURL, "/")
	}
	scheme := "http"
	if cfg.HTTP.TLS.CertFile != "" {
		scheme = "https"
	}
	host, port, err := net.SplitHostPort(cfg.HTTP.Addr)
	if err != nil {
		return ""
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		if h, err := os.Hostname(); err == nil {
			host = h
		}
	}
	return fmt.Sprintf("%s://%s", scheme, net.JoinHostPort(host, port))
}
