package rules

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"vigie/checks"
)

const erpRules = `checks:
  - {name: openerp-login, type: tcp, address: "erp.lan:8069", sla: {target: 99.5, slow_is_down: true}}
rules:
  - {name: erp-down, check: openerp-login, for: 2m, notify: [ops]}
`

const loginErr = `step 2 "log in": required pattern o_main_navbar not found in the body (HTTP 200, 5.1 KiB)`

func run(at time.Time, ok bool) *checks.Result {
	res := &checks.Result{Check: "openerp-login", Type: "scenario", Start: at, Success: ok, FailedStep: -1, Attempts: 1}
	if !ok {
		res.Error, res.FailedStep = loginErr, 1
	}
	return res
}

func TestCheckFiresOnlyAfterFailingForTheDuration(t *testing.T) {
	r := newRig(t, erpRules)
	r.e.ObserveRun(run(r.clk.Now(), false))
	r.eval()
	r.clk.Advance(time.Minute)
	r.e.ObserveRun(run(r.clk.Now(), false))
	r.eval()
	if as := r.alerts("all"); len(as) != 0 {
		t.Fatalf("fired after 1m of a 2m for: %s", keys(as))
	}
	r.clk.Advance(time.Minute)
	r.eval()
	m := r.recv.wait(1)[0]
	if want := "check openerp-login failing for 2m: " + loginErr; m.Summary != want {
		t.Errorf("summary %q\nwant    %q", m.Summary, want)
	}
	if len(m.Samples) != 1 || m.Samples[0].Message != loginErr || m.Samples[0].Fields["check"] != "openerp-login" {
		t.Errorf("samples %+v", m.Samples)
	}
	r.clk.Advance(time.Minute)
	r.e.ObserveRun(run(r.clk.Now(), true))
	r.eval()
	if res := r.recv.wait(2)[1]; res.State != "resolved" {
		t.Errorf("%+v", res)
	}
}

func TestCheckPassingBeforeTheDurationNeverFires(t *testing.T) {
	r := newRig(t, erpRules)
	r.e.ObserveRun(run(r.clk.Now(), false))
	r.clk.Advance(time.Minute)
	r.e.ObserveRun(run(r.clk.Now(), true))
	r.clk.Advance(5 * time.Minute)
	r.eval()
	if as := r.alerts("all"); len(as) != 0 {
		t.Fatalf("%s", keys(as))
	}
}

func TestCheckFailingSinceSurvivesRestart(t *testing.T) {
	r := newRig(t, erpRules)
	r.e.ObserveRun(run(r.clk.Now(), false))
	r.eval() // persists the failing streak
	r.clk.Advance(90 * time.Second)
	r.restart()
	r.clk.Advance(30 * time.Second)
	r.eval()
	if m := r.recv.wait(1)[0]; !strings.HasPrefix(m.Summary, "check openerp-login failing for 2m: step 2") {
		t.Errorf("summary %q", m.Summary)
	}
	// A restart does not resolve it either: only a passing run does.
	r.restart()
	r.eval()
	if as := r.alerts("firing"); len(as) != 1 {
		t.Fatalf("firing after restart: %s", keys(as))
	}
	r.e.ObserveRun(run(r.clk.Now(), true))
	r.eval()
	r.recv.wait(2)
}

func TestSLABelowFiresAndResolves(t *testing.T) {
	r := newRig(t, `checks:
  - {name: openerp-login, type: tcp, address: "erp.lan:8069", sla: {target: 99.5, slow_is_down: true}}
rules:
  - {name: erp-sla, check: openerp-login, sla_below: 99.5, window: 24h, notify: [ops]}
`)
	r.sla.set(0, false) // no run yet: unknown, neither fire nor resolve
	r.eval()
	r.sla.set(0.972, true)
	r.clk.Advance(10 * time.Second)
	r.eval() // not due: evaluated every minute or after a run
	if as := r.alerts("all"); len(as) != 0 {
		t.Fatalf("evaluated before it was due: %s", keys(as))
	}
	r.e.ObserveRun(run(r.clk.Now(), false))
	r.eval()
	m := r.recv.wait(1)[0]
	if want := "openerp-login availability 97.2% over 24h, below 99.5%"; m.Summary != want {
		t.Errorf("summary %q, want %q", m.Summary, want)
	}
	r.sla.set(0.996, true)
	r.clk.Advance(time.Minute) // the minute's evaluation, without a run
	r.eval()
	if res := r.recv.wait(2)[1]; res.State != "resolved" {
		t.Errorf("%+v", res)
	}
	r.sla.mu.Lock()
	defer r.sla.mu.Unlock()
	for _, slow := range r.sla.slow {
		if !slow {
			t.Error("sla.slow_is_down of the check not passed on")
		}
	}
}

// TestLoginScenarioEndToEnd runs the real scenario probe against a test
// ERP whose login page breaks, then comes back.
func TestLoginScenarioEndToEnd(t *testing.T) {
	var down atomic.Bool
	down.Store(true)
	erp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			io.WriteString(w, `<html><body>Internal Server Error: database "Specibike" does not exist</body></html>`)
			return
		}
		io.WriteString(w, `<html><body><nav class="o_main_navbar">Specibike</nav></body></html>`)
	}))
	defer erp.Close()
	r := newRig(t, `checks:
  - name: openerp-login
    type: scenario
    steps:
      - {name: log in, url: "`+erp.URL+`/web/login", status_codes: [200], required: o_main_navbar}
rules:
  - {name: erp-down, check: openerp-login, for: 2m, notify: [ops]}
`)
	probe := func() {
		res := checks.Run(context.Background(), &r.cfg.Checks[0], slog.New(slog.DiscardHandler))
		res.Start = r.clk.Now() // the engine's clock
		r.e.ObserveRun(res)
		r.eval()
	}
	probe()
	r.clk.Advance(time.Minute)
	probe()
	r.clk.Advance(time.Minute)
	probe()
	m := r.recv.wait(1)[0]
	if !strings.HasPrefix(m.Summary, "check openerp-login failing for 2m: ") || !strings.Contains(m.Summary, "o_main_navbar") {
		t.Errorf("summary %q", m.Summary)
	}
	down.Store(false)
	r.clk.Advance(time.Minute)
	probe()
	if res := r.recv.wait(2)[1]; res.State != "resolved" {
		t.Errorf("%+v", res)
	}
}
