package rules

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"vigie/record"
)

const pgRule = `rules:
  - {name: postgres-errors, query: "app:postgres severity<=err", threshold: {count: 3, window: 5m}, notify: [ops]}
`

func TestThresholdFiresWithinWindowAndResolvesWhenOlderSlideOut(t *testing.T) {
	r := newRig(t, pgRule)
	// Two errors, one notice (severity 5 does not match), one from odoo.
	r.submit(pg(t0, "erp1", 3, "FATAL: password authentication failed for user \"openpg\""),
		pg(t0, "erp1", 3, "ERROR: relation \"sale_order\" does not exist"),
		pg(t0, "erp1", 5, "checkpoint complete"),
		record.Record{Time: t0, Received: t0, Host: "erp1", App: "odoo", Severity: 3, Message: "Traceback"})
	r.eval()
	if as := r.alerts("all"); len(as) != 0 {
		t.Fatalf("fired below the count: %s", keys(as))
	}
	r.clk.Advance(2 * time.Minute)
	r.submit(pg(t0.Add(2*time.Minute), "erp1", 2, "PANIC: could not write to file \"pg_wal/xlogtemp.123\": No space left on device"))
	r.eval()
	msgs := r.recv.wait(1)
	m := msgs[0]
	if m.Rule != "postgres-errors" || m.State != "firing" || m.Key != "postgres-errors" || m.ResolvedAt != nil {
		t.Errorf("firing message %+v", m)
	}
	if want := "3 matches of app:postgres severity<=err in 5m"; m.Summary != want {
		t.Errorf("summary %q, want %q", m.Summary, want)
	}
	if len(m.Samples) != 3 || !strings.HasPrefix(m.Samples[0].Message, "PANIC") || m.Samples[0].ID == 0 {
		t.Errorf("samples (newest first, with ids): %+v", m.Samples)
	}
	if got := r.metric("vigie_alerts_firing", "rule", "postgres-errors"); got != 1 {
		t.Errorf("vigie_alerts_firing = %v", got)
	}
	if m.URL != fmt.Sprintf("http://vigie.lan:8080/alerts/%d", m.ID) || m.Severity != "warning" {
		t.Errorf("url %q severity %q", m.URL, m.Severity)
	}
	// 5m after the first two, they slide out: one left, below 3.
	r.clk.Advance(3*time.Minute + 10*time.Second)
	r.eval()
	msgs = r.recv.wait(2)
	if res := msgs[1]; res.State != "resolved" || res.ResolvedAt == nil || res.ID != m.ID || res.Key != m.Key {
		t.Errorf("resolved message %+v", res)
	}
	if as := r.alerts("firing"); len(as) != 0 {
		t.Errorf("still firing: %s", keys(as))
	}
	r.recv.quiet(2)
	if got := r.metric("vigie_alerts_firing", "rule", "postgres-errors"); got != 0 {
		t.Errorf("vigie_alerts_firing = %v after resolution", got)
	}
	if got := r.metric("vigie_notifications_total", "notifier", "ops", "result", "delivered"); got != 2 {
		t.Errorf("vigie_notifications_total{delivered} = %v", got)
	}
}

func TestThresholdGroupByHostMakesOneAlertPerHost(t *testing.T) {
	r := newRig(t, `rules:
  - {name: pg, query: "app:postgres severity<=err", threshold: {count: 2, window: 5m}, group_by: [host], notify: [ops]}
`)
	r.submit(pg(t0, "erp1", 3, "a"), pg(t0, "erp2", 3, "b"), pg(t0, "erp1", 3, "c"), pg(t0, "erp2", 3, "d"), pg(t0, "www", 3, "e"))
	r.eval()
	msgs := r.recv.wait(2)
	got := map[string]string{}
	for _, m := range msgs {
		got[m.Key] = m.Summary + " host=" + m.Labels["host"]
	}
	want := map[string]string{
		`pg{host="erp1"}`: "2 matches of app:postgres severity<=err in 5m (host=erp1) host=erp1",
		`pg{host="erp2"}`: "2 matches of app:postgres severity<=err in 5m (host=erp2) host=erp2",
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("alerts\n got %v\nwant %v", got, want)
	}
	for _, m := range msgs {
		for _, s := range m.Samples {
			if s.Host != m.Labels["host"] {
				t.Errorf("%s carries a sample of %s", m.Key, s.Host)
			}
		}
	}
	r.recv.quiet(2)
}

func TestThresholdGroupsAreCapped(t *testing.T) {
	r := newRig(t, `rules:
  - {name: per-db, query: "app:postgres", threshold: {count: 1000, window: 5m}, group_by: [db]}
`)
	recs := make([]record.Record, MaxGroups+10)
	for i := range recs {
		recs[i] = pg(t0, "erp1", 3, "x")
		recs[i].Fields = map[string]string{"db": fmt.Sprintf("db%d", i)}
	}
	r.e.Observe(recs)
	th := r.e.rules[0].th
	counts, overflow := th.counts(t0)
	if len(counts) != MaxGroups || overflow != 10 {
		t.Errorf("%d groups, %d overflow; want %d and 10", len(counts), overflow, MaxGroups)
	}
}

func TestThresholdWindowIsRefilledFromTheStoreAtStart(t *testing.T) {
	r := newRig(t, pgRule)
	r.close()
	// Committed while vigie was down (an agent's spool replayed at start,
	// or records from before a restart): the window still holds them.
	r.submit(pg(t0.Add(-4*time.Minute), "erp1", 3, "a"), pg(t0.Add(-3*time.Minute), "erp1", 3, "b"),
		pg(t0.Add(-2*time.Minute), "erp1", 3, "c"), pg(t0.Add(-time.Hour), "erp1", 3, "too old"))
	r.start()
	r.eval()
	m := r.recv.wait(1)[0]
	if m.Summary != "3 matches of app:postgres severity<=err in 5m" || len(m.Samples) != 3 || m.Samples[0].Message != "c" {
		t.Errorf("after refill: %q, samples %+v", m.Summary, m.Samples)
	}
}

func TestCustomSummaryTemplate(t *testing.T) {
	r := newRig(t, `rules:
  - name: pg
    query: "app:postgres severity<=err"
    threshold: {count: 1, window: 5m}
    group_by: [host]
    notify: [ops]
    summary: '{{.Count}} erreur(s) PostgreSQL sur {{.Group.host}} : {{(index .Samples 0).Message}}'
`)
	r.submit(pg(t0, "erp1", 3, `FATAL: database "Specibike" does not exist`))
	r.eval()
	if got, want := r.recv.wait(1)[0].Summary, `1 erreur(s) PostgreSQL sur erp1 : FATAL: database "Specibike" does not exist`; got != want {
		t.Errorf("summary %q, want %q", got, want)
	}
}

func TestSummaryTemplateMistakeStopsTheStart(t *testing.T) {
	cfg := loadConfig(t, `rules:
  - {name: pg, query: "app:postgres", threshold: {count: 1, window: 5m}, summary: "{{.Cuont}} errors"}
`)
	_, err := New(t.Context(), Options{Rules: cfg.Rules, DataDir: t.TempDir(), Search: nopSearch{}})
	if err == nil || !strings.Contains(err.Error(), "rule pg: summary") || !strings.Contains(err.Error(), "Cuont") {
		t.Errorf("New: %v", err)
	}
}
