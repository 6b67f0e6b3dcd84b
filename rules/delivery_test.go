package rules

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"vigie/rules/notify"
)

func TestFiringAlertSurvivesRestartWithoutSecondNotification(t *testing.T) {
	r := newRig(t, pgRule)
	r.submit(pg(t0, "erp1", 3, "a"), pg(t0, "erp1", 3, "b"), pg(t0, "erp1", 3, "c"))
	r.eval()
	first := r.recv.wait(1)[0]
	waitDelivered(t, r.e, first.ID, 1)
	r.restart()
	r.eval()
	if as := r.alerts("firing"); len(as) != 1 || as[0].ID != first.ID {
		t.Fatalf("firing after restart: %s", keys(as))
	}
	r.recv.quiet(1)
	// It still resolves, and the resolution is sent once.
	r.clk.Advance(6 * time.Minute)
	r.eval()
	if res := r.recv.wait(2)[1]; res.State != "resolved" || res.ID != first.ID {
		t.Errorf("%+v", res)
	}
	r.recv.quiet(2)
}

func TestRestartBetweenFailedAttemptAndRetryDeliversOnce(t *testing.T) {
	r := newRig(t, pgRule, func(r *rig) { r.realT = true })
	failed := make(chan struct{})
	r.recv.mu.Lock()
	r.recv.retryAfter = "2" // the retry comes due after the restart
	r.recv.answer = func(n int) int {
		if n == 1 {
			close(failed)
			return 503
		}
		return 0
	}
	r.recv.mu.Unlock()
	now := time.Now()
	r.submit(pg(now, "erp1", 3, "a"), pg(now, "erp1", 3, "b"), pg(now, "erp1", 3, "c"))
	r.eval()
	<-failed
	as := r.alerts("firing")
	if len(as) != 1 {
		t.Fatalf("firing: %s", keys(as))
	}
	waitAttempts(t, r.e, as[0].ID, 1)
	r.close() // vigie stops before the retry is due
	r.start()
	msgs := r.recv.wait(1)
	r.recv.quiet(1)
	r.recv.mu.Lock()
	reqs := r.recv.requests
	r.recv.mu.Unlock()
	if len(reqs) != 2 || reqs[0] != reqs[1] {
		t.Errorf("requests %v: want the same delivery id twice", reqs)
	}
	if msgs[0].ID != as[0].ID || msgs[0].State != "firing" {
		t.Errorf("%+v", msgs[0])
	}
	ds, err := r.e.Deliveries(context.Background(), as[0].ID, 10)
	if err != nil || len(ds) != 1 || ds[0].Status != "delivered" || ds[0].Attempts != 2 || ds[0].ID != reqs[0] {
		t.Fatalf("delivery log %+v, %v", ds, err)
	}
	var payload notify.Message
	if err := json.Unmarshal(ds[0].Payload, &payload); err != nil || payload.Rule != "postgres-errors" {
		t.Errorf("payload in the log: %s (%v)", ds[0].Payload, err)
	}
}

func TestAlertmanagerGetsFiringAlertsAgainEveryMinute(t *testing.T) {
	am := newReceiver(t, "")
	r := newRig(t, `  - {name: am, type: alertmanager, url: "`+am.srv.URL+`"}
`+`rules:
  - {name: postgres-errors, query: "app:postgres severity<=err", threshold: {count: 1, window: 5m}, notify: [am]}
`)
	r.submit(pg(t0, "erp1", 3, "a"))
	r.eval()
	waitRequests(t, am, 1)
	r.clk.Advance(time.Minute)
	r.eval()
	bodies := waitRequests(t, am, 2)
	var alerts []struct {
		Labels map[string]string `json:"labels"`
		EndsAt *time.Time        `json:"endsAt"`
	}
	if err := json.Unmarshal(bodies[1], &alerts); err != nil || len(alerts) != 1 || alerts[0].Labels["alertname"] != "postgres-errors" || alerts[0].EndsAt != nil {
		t.Errorf("refresh body %s (%v)", bodies[1], err)
	}
	r.clk.Advance(5 * time.Minute)
	r.eval()
	bodies = waitRequests(t, am, 3)
	if err := json.Unmarshal(bodies[2], &alerts); err != nil || alerts[0].EndsAt == nil {
		t.Errorf("resolved body %s (%v)", bodies[2], err)
	}
}

func waitRequests(t *testing.T, rv *receiver, n int) [][]byte {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		rv.mu.Lock()
		got := append([][]byte(nil), rv.bodies...)
		rv.mu.Unlock()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d requests after 10s, want %d", len(got), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitDelivered waits until the alert has n delivered deliveries.
func waitDelivered(t *testing.T, e *Engine, alert int64, n int) {
	t.Helper()
	waitLog(t, e, alert, func(ds []DeliveryLog) bool {
		k := 0
		for _, d := range ds {
			if d.Status == "delivered" {
				k++
			}
		}
		return k >= n
	})
}

// waitAttempts waits until the alert's delivery has had n attempts saved.
func waitAttempts(t *testing.T, e *Engine, alert int64, n int) {
	t.Helper()
	waitLog(t, e, alert, func(ds []DeliveryLog) bool { return len(ds) > 0 && ds[0].Attempts >= n })
}

func waitLog(t *testing.T, e *Engine, alert int64, ok func([]DeliveryLog) bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		ds, err := e.Deliveries(context.Background(), alert, 100)
		if err != nil {
			t.Fatal(err)
		}
		if ok(ds) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("delivery log after 10s: %+v", ds)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
