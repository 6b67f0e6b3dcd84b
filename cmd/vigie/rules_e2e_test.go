package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"sync"
	"testing"
	"time"
)

// TestRulesNotifyThroughServe: PostgreSQL-like errors sent with the real
// logger over syslog fire a threshold rule, a failing check fires a check
// rule, and both reach a webhook that verifies the signature; the alerts
// are listed by the API and can be acknowledged.
func TestRulesNotifyThroughServe(t *testing.T) {
	logger := needPeer(t, "logger")
	const secret = "e2e-hook-secret-0123456789"
	var (
		mu       sync.Mutex
		received = map[string]string{} // rule → state of its last delivery
	)
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mac := hmac.New(sha256.New, []byte(secret))
		mac.Write(body)
		if r.Header.Get("X-Vigie-Signature") != "sha256="+hex.EncodeToString(mac.Sum(nil)) || r.Header.Get("X-Vigie-Delivery") == "" {
			t.Errorf("bad signature or delivery id: %v", r.Header)
			w.WriteHeader(400)
			return
		}
		var p struct{ Rule, State string }
		json.Unmarshal(body, &p)
		mu.Lock()
		received[p.Rule] = p.State
		mu.Unlock()
	}))
	defer hook.Close()
	down := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "down", http.StatusBadGateway)
	}))
	defer down.Close()

	s := startServerWith(t, fmt.Sprintf(`checks:
  - {name: erp-login, type: scenario, interval: 1s, steps: [{name: login page, url: "%s/web/login", status_codes: [200]}]}
notifiers:
  - {name: ops, type: webhook, url: "%s", secret: %q}
rules:
  - {name: postgres-errors, query: "app:postgres severity<=err", threshold: {count: 3, window: 5m}, notify: [ops]}
  - {name: erp-down, check: erp-login, for: 2s, notify: [ops]}
`, down.URL, hook.URL, secret))

	for i := range 3 {
		out, err := exec.Command(logger, "-T", "--octet-count", "--rfc5424", "-n", "127.0.0.1", "-P", port(s.tcp),
			"-t", "postgres", "-p", "local0.err", fmt.Sprintf("ERROR:  relation \"res_partner_%d\" does not exist", i)).CombinedOutput()
		if err != nil {
			t.Fatalf("logger: %v %s", err, out)
		}
	}
	deadline := time.Now().Add(20 * time.Second)
	for {
		mu.Lock()
		pg, erp := received["postgres-errors"], received["erp-down"]
		mu.Unlock()
		if pg == "firing" && erp == "firing" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("webhook got postgres-errors=%q erp-down=%q within 20s, want both firing", pg, erp)
		}
		time.Sleep(100 * time.Millisecond)
	}
	var alerts struct {
		Alerts []struct {
			ID    int64  `json:"id"`
			Rule  string `json:"rule"`
			State string `json:"state"`
		} `json:"alerts"`
	}
	if code, body := s.api(t, "GET", "/api/v1/alerts?state=firing", &alerts); code != 200 || len(alerts.Alerts) != 2 {
		t.Fatalf("firing alerts: %d %s", code, body)
	}
	id := alerts.Alerts[0].ID
	var acked struct {
		AckedBy string `json:"acked_by"`
	}
	if code, body := s.api(t, "POST", fmt.Sprintf("/api/v1/alerts/%d/ack", id), &acked); code != 200 || acked.AckedBy != "e2e" {
		t.Errorf("ack: %d %s", code, body)
	}
	if code, _ := s.api(t, "GET", "/api/v1/alerts?state=sometimes", nil); code != 400 {
		t.Errorf("bad state: %d", code)
	}
}
