package rules

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestAlertsListGetAndAck(t *testing.T) {
	r := newRig(t, `rules:
  - {name: pg, query: "app:postgres", threshold: {count: 1, window: 5m}, group_by: [host], notify: [ops], labels: {team: dba}}
`)
	r.submit(pg(t0, "erp1", 3, "a"))
	r.eval()
	r.clk.Advance(time.Minute)
	r.submit(pg(r.clk.Now(), "erp2", 3, "b"))
	r.eval()
	r.clk.Advance(4*time.Minute + 10*time.Second) // erp1 slides out, erp2 stays
	r.eval()
	r.submit(pg(r.clk.Now(), "erp3", 3, "c"))
	r.eval()
	ctx := context.Background()
	cases := []struct{ state, want string }{
		{"firing", `pg{host="erp3"}:firing pg{host="erp2"}:firing`},
		{"resolved", `pg{host="erp1"}:resolved`},
		{"all", `pg{host="erp3"}:firing pg{host="erp2"}:firing pg{host="erp1"}:resolved`},
		{"", `pg{host="erp3"}:firing pg{host="erp2"}:firing pg{host="erp1"}:resolved`},
	}
	for _, c := range cases {
		if got := keys(r.alerts(c.state)); got != c.want {
			t.Errorf("state %q:\n got %s\nwant %s", c.state, got, c.want)
		}
	}
	if as, _ := r.e.Alerts(ctx, AlertFilter{State: "all", Limit: 1}); len(as) != 1 {
		t.Errorf("limit 1: %d alerts", len(as))
	}
	if _, err := r.e.Alerts(ctx, AlertFilter{State: "open"}); !errors.Is(err, ErrBadFilter) {
		t.Errorf("bad state: %v", err)
	}
	res := r.alerts("resolved")[0]
	if res.ResolvedAt == nil || res.Labels["team"] != "dba" || res.Labels["host"] != "erp1" || res.Severity != "warning" ||
		!strings.HasSuffix(res.URL, "/alerts/1") || len(res.Samples) != 1 {
		t.Errorf("resolved alert %+v", res)
	}
	got, err := r.e.Alert(ctx, res.ID)
	if err != nil || got.Key != res.Key || got.Summary != "1 match of app:postgres in 5m (host=erp1)" {
		t.Errorf("Alert(%d) = %+v, %v", res.ID, got, err)
	}
	if _, err := r.e.Alert(ctx, 999); !errors.Is(err, ErrNotFound) {
		t.Errorf("Alert(999): %v", err)
	}
	if a, err := r.e.Ack(ctx, res.ID, "jdupont"); err != nil || a.AckedBy != "jdupont" {
		t.Errorf("ack: %+v %v", a, err)
	}
	if a, _ := r.e.Ack(ctx, res.ID, "mmartin"); a.AckedBy != "jdupont" {
		t.Errorf("second ack replaced the first: %q", a.AckedBy)
	}
	if _, err := r.e.Ack(ctx, res.ID, " "); err == nil {
		t.Error("ack without a name accepted")
	}
	if _, err := r.e.Ack(ctx, 999, "jdupont"); !errors.Is(err, ErrNotFound) {
		t.Errorf("ack 999: %v", err)
	}
	// Delivery log: the recent ones across alerts, newest first.
	r.recv.wait(4)
	ds, err := r.e.Deliveries(ctx, 0, 10)
	if err != nil || len(ds) != 4 || ds[0].AlertID != 3 || ds[len(ds)-1].Kind != "firing" || ds[len(ds)-1].AlertID != 1 {
		t.Fatalf("deliveries (%v):", err)
		for _, d := range ds {
			t.Logf("%d %s %s", d.AlertID, d.Kind, d.Status)
		}
	}
	kinds := map[string]int{}
	for _, d := range ds {
		kinds[d.Kind]++
	}
	if kinds["firing"] != 3 || kinds["resolved"] != 1 {
		t.Errorf("kinds %v", kinds)
	}
}

func TestAlertOfARemovedRuleIsResolvedAtStart(t *testing.T) {
	r := newRig(t, pgRule)
	r.submit(pg(t0, "erp1", 3, "a"), pg(t0, "erp1", 3, "b"), pg(t0, "erp1", 3, "c"))
	r.eval()
	r.recv.wait(1)
	r.close()
	r.cfg.Rules = nil
	r.start()
	if as := r.alerts("firing"); len(as) != 0 {
		t.Errorf("firing: %s", keys(as))
	}
	if as := r.alerts("resolved"); len(as) != 1 {
		t.Errorf("resolved: %s", keys(as))
	}
	r.recv.quiet(1)
}

func TestAlertsDBRefusesNewerSchema(t *testing.T) {
	dir := t.TempDir()
	db, err := openDB(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	db.Exec("PRAGMA user_version = 99")
	db.Close()
	if _, err := openDB(context.Background(), dir); err == nil || !strings.Contains(err.Error(), "newer than this vigie knows") {
		t.Errorf("open: %v", err)
	}
}

func TestOldResolvedAlertsAreDeleted(t *testing.T) {
	r := newRig(t, pgRule)
	r.submit(pg(t0, "erp1", 3, "a"), pg(t0, "erp1", 3, "b"), pg(t0, "erp1", 3, "c"))
	r.eval()
	r.clk.Advance(10 * time.Minute)
	r.eval()
	r.recv.wait(2)
	r.clk.Advance(keepResolved - time.Hour)
	r.eval()
	if as := r.alerts("resolved"); len(as) != 1 {
		t.Fatalf("deleted too early: %s", keys(as))
	}
	r.clk.Advance(2 * time.Hour)
	r.eval()
	if as := r.alerts("all"); len(as) != 0 {
		t.Errorf("kept: %s", keys(as))
	}
	if ds, err := r.e.Deliveries(context.Background(), 0, 10); err != nil || len(ds) != 0 {
		t.Errorf("deliveries of deleted alerts kept: %d, %v", len(ds), err)
	}
}
