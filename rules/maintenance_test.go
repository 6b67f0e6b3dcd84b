package rules

import (
	"context"
	"testing"
	"time"
)

func TestMaintenanceSilencesMatchingHostsAndNotifiesWhenItEnds(t *testing.T) {
	r := newRig(t, `rules:
  - {name: pg, query: "app:postgres severity<=err", threshold: {count: 1, window: 2h}, group_by: [host], notify: [ops]}
maintenance:
  - {name: migration-erp1, start: "2026-11-22T09:30:00Z", end: "2026-11-22T11:00:00Z", hosts: [erp1], rules: [pg]}
`)
	r.submit(pg(t0, "erp1", 3, "FATAL: the database system is shutting down"), pg(t0, "erp2", 3, "FATAL: too many connections"))
	r.eval()
	msgs := r.recv.wait(1)
	if msgs[0].Key != `pg{host="erp2"}` {
		t.Errorf("notified %s; only erp2 is outside the maintenance", msgs[0].Key)
	}
	r.recv.quiet(1)
	as := r.alerts("firing")
	if len(as) != 2 {
		t.Fatalf("firing %s: a silenced alert is still recorded", keys(as))
	}
	for _, a := range as {
		want := ""
		if a.Labels["host"] == "erp1" {
			want = "migration-erp1"
		}
		if a.Silenced != want || (want != "") != (a.LastNotifiedAt == nil) {
			t.Errorf("%s: silenced %q, last notified %v", a.Key, a.Silenced, a.LastNotifiedAt)
		}
	}
	ms, err := r.e.Maintenances(context.Background(), 10)
	if err != nil || len(ms) != 1 || ms[0].Name != "migration-erp1" || ms[0].Silenced != 1 || ms[0].Hosts[0] != "erp1" {
		t.Errorf("recorded maintenance %+v, %v", ms, err)
	}
	// Still silenced on later evaluations, and not recorded again.
	r.clk.Advance(30 * time.Minute)
	r.eval()
	r.recv.quiet(1)
	// The window ends at 11:00 with erp1 still failing: notified then.
	r.submit(pg(r.clk.Now(), "erp1", 3, "FATAL: still down"))
	r.clk.Advance(31 * time.Minute)
	r.eval()
	msgs = r.recv.wait(2)
	if msgs[1].Key != `pg{host="erp1"}` || msgs[1].State != "firing" || !msgs[1].StartedAt.Equal(t0) {
		t.Errorf("after the window: %+v", msgs[1])
	}
	if ms, _ := r.e.Maintenances(context.Background(), 10); len(ms) != 1 || ms[0].Silenced != 1 {
		t.Errorf("maintenance recorded again: %+v", ms)
	}
}

func TestSilencedAlertResolvedDuringMaintenanceIsNeverSent(t *testing.T) {
	r := newRig(t, pgRule+`maintenance:
  - {name: night, start: "2026-11-22T09:00:00Z", end: "2026-11-22T12:00:00Z"}
`)
	r.submit(pg(t0, "erp1", 3, "a"), pg(t0, "erp1", 3, "b"), pg(t0, "erp1", 3, "c"))
	r.eval()
	r.clk.Advance(10 * time.Minute)
	r.eval()
	if as := r.alerts("resolved"); len(as) != 1 || as[0].Silenced != "night" {
		t.Fatalf("resolved: %+v", as)
	}
	r.clk.Advance(3 * time.Hour)
	r.eval()
	r.recv.quiet(0)
}

func TestRepeatRemindsUntilAcked(t *testing.T) {
	r := newRig(t, `rules:
  - {name: pg, query: "app:postgres", threshold: {count: 1, window: 24h}, notify: [ops], repeat: 1h}
`)
	r.submit(pg(t0, "erp1", 3, "a"))
	r.eval()
	first := r.recv.wait(1)[0]
	if first.Reminder {
		t.Error("first notification marked as a reminder")
	}
	r.clk.Advance(30 * time.Minute)
	r.submit(pg(r.clk.Now(), "erp1", 3, "b"))
	r.eval()
	r.recv.quiet(1)
	r.clk.Advance(30 * time.Minute)
	r.eval()
	rem := r.recv.wait(2)[1]
	if !rem.Reminder || rem.State != "firing" || rem.ID != first.ID || rem.Summary != "2 matches of app:postgres in 24h" || rem.Samples[0].Message != "b" {
		t.Errorf("reminder %+v", rem)
	}
	a, err := r.e.Ack(context.Background(), first.ID, "jdupont")
	if err != nil || a.AckedBy != "jdupont" || a.AckedAt == nil {
		t.Fatalf("ack: %+v, %v", a, err)
	}
	r.clk.Advance(2 * time.Hour)
	r.eval()
	r.recv.quiet(2)
	// An ack survives a restart.
	r.restart()
	r.clk.Advance(2 * time.Hour)
	r.eval()
	r.recv.quiet(2)
}
