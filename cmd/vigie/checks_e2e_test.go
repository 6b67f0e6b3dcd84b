package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// api calls the server's API with the e2e token and decodes JSON answers.
func (s *server) api(t *testing.T, method, path string, out any) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+s.http+path, nil)
	req.Header.Set("Authorization", "Bearer "+apiToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if out != nil && strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		if err := json.Unmarshal(raw, out); err != nil {
			t.Fatalf("%s %s: %v in %s", method, path, err, raw)
		}
	}
	return resp.StatusCode, string(raw)
}

type checkList struct {
	Checks []checkSummary
}

type checkSummary struct {
	RawName    string              `json:"name"`
	RawStatus  string              `json:"status"`
	RawError   string              `json:"last_error"`
	FailedStep string              `json:"failed_step"`
	LastRun    *time.Time          `json:"last_run"`
	SLA        map[string]*float64 `json:"sla"`
}

// TestChecksRunInServe drives checks through vigie serve: scheduled runs,
// the API's list, a manual run that fails, the runs with their phases, the
// SLA report as CSV, and the runs as log records.
func TestChecksRunInServe(t *testing.T) {
	var failing atomic.Bool
	erp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if failing.Load() {
			http.Error(w, "maintenance", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprint(w, `<html><nav class="o_main_navbar">ready</nav></html>`)
	}))
	defer erp.Close()
	s := startServerWith(t, fmt.Sprintf(`checks:
  - name: erp-home
    type: scenario
    interval: 1s
    sla: {target: 99.5, response_time: 3s}
    steps:
      - {name: home, url: "%s/web", status_codes: [200], required: o_main_navbar}
  - {name: erp-port, type: tcp, address: "%s", interval: 1s}
`, erp.URL, strings.TrimPrefix(erp.URL, "http://")))

	deadline := time.Now().Add(15 * time.Second)
	for {
		var cl checkList
		if code, body := s.api(t, "GET", "/api/v1/checks", &cl.Checks); code != 200 {
			t.Fatalf("GET /api/v1/checks: %d %s", code, body)
		}
		up := 0
		for _, c := range cl.Checks {
			if c.RawStatus == "up" && c.LastRun != nil && c.SLA["1h"] != nil {
				up++
			}
		}
		if up == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("checks not both up with an SLA within 15s: %+v", cl)
		}
		time.Sleep(200 * time.Millisecond)
	}

	failing.Store(true)
	var run struct {
		Success    bool   `json:"success"`
		Error      string `json:"error"`
		FailedStep int    `json:"failed_step"`
	}
	if code, body := s.api(t, "POST", "/api/v1/checks/erp-home/run", &run); code != 200 || run.Success || !strings.Contains(run.Error, "503") || run.FailedStep != 0 {
		t.Fatalf("manual run while failing: %d %s", code, body)
	}
	var cl checkList
	s.api(t, "GET", "/api/v1/checks", &cl.Checks)
	for _, c := range cl.Checks {
		if c.RawName == "erp-home" && (c.RawStatus != "down" || c.FailedStep != "home" || !strings.Contains(c.RawError, "503")) {
			t.Errorf("after a failed run: %+v", c)
		}
	}

	var runs struct {
		Runs []struct {
			Success bool `json:"success"`
			Steps   []struct {
				Code   int                `json:"code"`
				Phases map[string]float64 `json:"phases"`
			} `json:"steps"`
		} `json:"runs"`
	}
	if code, body := s.api(t, "GET", "/api/v1/checks/erp-home/runs?from=-1h", &runs); code != 200 || len(runs.Runs) < 2 {
		t.Fatalf("runs: %d %s", code, body)
	}
	if r := runs.Runs[0]; r.Success || len(r.Steps) != 1 || r.Steps[0].Code != 503 || r.Steps[0].Phases["total_ms"] <= 0 {
		t.Errorf("newest run: %+v", r)
	}
	if code, body := s.api(t, "GET", "/api/v1/checks/erp-home/sla?from=-1h&format=csv", nil); code != 200 || !strings.Contains(body, "erp-home") {
		t.Errorf("SLA CSV: %d %s", code, body)
	}
	if code, _ := s.api(t, "GET", "/api/v1/checks/nope/runs", nil); code != 404 {
		t.Errorf("unknown check: %d", code)
	}
	// Every run is a log record too.
	rec := s.waitFound(t, `app:vigie-check check:erp-home DOWN`)
	if rec["host"] == "" || !strings.Contains(rec["message"].(string), "503") {
		t.Errorf("log record of the failed run: %v", rec)
	}
}
