package ui

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"vigie/checks"
	"vigie/checks/history"
	"vigie/checks/schedule"
	"vigie/cmd/config"
)

// Checks is what the checks endpoints serve: the configured checks, their
// stored runs and the scheduler that runs them.
type Checks struct {
	Configs   []config.Check
	History   *history.History
	Scheduler *schedule.Scheduler
}

func (c *Checks) config(name string) (*config.Check, error) {
	for i := range c.Configs {
		if c.Configs[i].Name == name {
			return &c.Configs[i], nil
		}
	}
	return nil, httpError{http.StatusNotFound, "no check named " + strconv.Quote(name)}
}

// routeChecks adds the /api/v1/checks endpoints (DESIGN.md, docs/api.md).
func (s *Server) routeChecks() {
	if s.opt.Checks == nil {
		return
	}
	s.route("GET /api/v1/checks", "checks", s.apiHandler(s.listChecks))
	s.route("GET /api/v1/checks/{name}/runs", "check_runs", s.apiHandler(s.checkRuns))
	s.route("POST /api/v1/checks/{name}/run", "check_run", s.apiHandler(s.runCheck))
	s.route("GET /api/v1/checks/{name}/sla", "check_sla", s.apiHandler(s.checkSLA))
}

// checkSummary is one check in GET /api/v1/checks.
type checkSummary struct {
	Name       string              `json:"name"`
	Type       string              `json:"type"`
	Enabled    bool                `json:"enabled"`
	IntervalS  float64             `json:"interval_seconds"`
	Status     string              `json:"status"` // up | down | unknown
	Slow       bool                `json:"slow"`
	LastRun    *time.Time          `json:"last_run"`
	LastError  string              `json:"last_error"`
	FailedStep string              `json:"failed_step,omitempty"`
	DurationMS *float64            `json:"duration_ms"`
	Target     *float64            `json:"sla_target"`
	SLA        map[string]*float64 `json:"sla"` // percent available per window, null when unknown
}

// slaWindows are the windows of the summary's sla map.
var slaWindows = []struct {
	label string
	span  time.Duration
}{{"1h", time.Hour}, {"24h", 24 * time.Hour}, {"7d", 7 * 24 * time.Hour}, {"30d", 30 * 24 * time.Hour}}

func (s *Server) listChecks(w http.ResponseWriter, r *http.Request) error {
	c := s.opt.Checks
	last, err := c.History.Checks(r.Context())
	if err != nil {
		return err
	}
	now := s.opt.Now()
	out := make([]checkSummary, 0, len(c.Configs))
	for _, cfg := range c.Configs {
		sum := checkSummary{Name: cfg.Name, Type: cfg.Type, Enabled: cfg.IsEnabled(), IntervalS: time.Duration(cfg.Interval).Seconds(),
			Status: "unknown", SLA: map[string]*float64{}}
		if cfg.SLA != nil {
			sum.Target = &cfg.SLA.Target
		}
		if run := last[cfg.Name]; run != nil {
			sum.Status = "down"
			if run.Success {
				sum.Status = "up"
			}
			start, d := run.Start, float64(run.Duration)/float64(time.Millisecond)
			sum.LastRun, sum.DurationMS, sum.Slow, sum.LastError = &start, &d, run.Slow, run.Error
			if run.FailedStep >= 0 && run.FailedStep < len(run.Steps) {
				sum.FailedStep = run.Steps[run.FailedStep].Name
			}
		}
		// The scheduler keeps the windows fresh after each run; a check not
		// run since this start is computed here.
		cached := c.Scheduler.SLAWindows(cfg.Name)
		slowIsDown := cfg.SLA != nil && cfg.SLA.SlowIsDown
		for _, win := range slaWindows {
			a, ok := cached[win.label]
			if !ok {
				if a, err = c.History.Availability(r.Context(), cfg.Name, now.Add(-win.span), now, slowIsDown); err != nil {
					return err
				}
			}
			if a.Known {
				pct := a.Ratio * 100
				sum.SLA[win.label] = &pct
			} else {
				sum.SLA[win.label] = nil
			}
		}
		out = append(out, sum)
	}
	writeJSON(w, http.StatusOK, out) // a bare array, as DESIGN.md has it
	return nil
}

// checkRange reads from and to (default: the last def, up to now).
func (s *Server) checkRange(r *http.Request, def time.Duration) (time.Time, time.Time, error) {
	now := s.opt.Now()
	return timeRange(r.URL.Query(), now, now.Add(-def), now)
}

func (s *Server) checkRuns(w http.ResponseWriter, r *http.Request) error {
	cfg, err := s.opt.Checks.config(r.PathValue("name"))
	if err != nil {
		return err
	}
	from, to, err := s.checkRange(r, 24*time.Hour)
	if err != nil {
		return err
	}
	limit := 100
	if v := r.URL.Query().Get("limit"); v != "" {
		if limit, err = strconv.Atoi(v); err != nil || limit < 1 || limit > 10_000 {
			return httpError{http.StatusBadRequest, "limit: a whole number from 1 to 10000"}
		}
	}
	runs, err := s.opt.Checks.History.Runs(r.Context(), cfg.Name, from, to, limit)
	if err != nil {
		return err
	}
	if runs == nil {
		runs = []history.Run{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"check": cfg.Name, "runs": runs})
	return nil
}

func (s *Server) runCheck(w http.ResponseWriter, r *http.Request) error {
	cfg, err := s.opt.Checks.config(r.PathValue("name"))
	if err != nil {
		return err
	}
	res, err := s.opt.Checks.Scheduler.RunNow(r.Context(), cfg.Name)
	switch {
	case errors.Is(err, schedule.ErrCheckDisabled):
		return httpError{http.StatusConflict, "check " + cfg.Name + " is disabled (enabled: false)"}
	case errors.Is(err, schedule.ErrStopped):
		return httpError{http.StatusServiceUnavailable, "vigie is stopping: checks no longer run"}
	case errors.Is(err, schedule.ErrUnknownCheck):
		return httpError{http.StatusNotFound, "no check named " + strconv.Quote(cfg.Name)}
	case errors.Is(err, context.DeadlineExceeded):
		// The run belongs to the scheduler and goes on without this request.
		return httpError{http.StatusGatewayTimeout, "the run takes longer than " + s.opt.RequestTimeout.String() +
			": it goes on; its result will be in GET /api/v1/checks/" + cfg.Name + "/runs"}
	case err != nil:
		return err
	}
	writeJSON(w, http.StatusOK, resultOrEmpty(res))
	return nil
}

func resultOrEmpty(r *checks.Result) any {
	if r == nil {
		return map[string]any{}
	}
	return r
}

// checkSLA answers the SLA report, as JSON or (format=csv) as a CSV file
// to hand over.
func (s *Server) checkSLA(w http.ResponseWriter, r *http.Request) error {
	cfg, err := s.opt.Checks.config(r.PathValue("name"))
	if err != nil {
		return err
	}
	from, to, err := s.checkRange(r, 30*24*time.Hour)
	if err != nil {
		return err
	}
	rep, err := s.opt.Checks.History.Report(r.Context(), *cfg, from, to)
	if err != nil {
		return err
	}
	switch f := r.URL.Query().Get("format"); f {
	case "", "json":
		writeJSON(w, http.StatusOK, rep)
	case "csv":
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="sla-`+cfg.Name+`-`+from.UTC().Format("20060102")+`-`+to.UTC().Format("20060102")+`.csv"`)
		w.Header().Set("Cache-Control", "no-store")
		return rep.WriteCSV(w)
	default:
		return httpError{http.StatusBadRequest, "format: json or csv"}
	}
	return nil
}
