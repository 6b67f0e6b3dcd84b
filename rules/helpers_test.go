package rules

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"vigie/checks/history"
	"vigie/cmd/config"
	"vigie/record"
	"vigie/rules/notify"
	"vigie/store"
	"vigie/store/hub"
)

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// clock is the engine's injectable time.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// receiver is a webhook endpoint: it checks the signature, answers what
// answer says, and applies each delivery id once.
type receiver struct {
	t      testing.TB
	srv    *httptest.Server
	secret string

	mu       sync.Mutex
	answer   func(n int) int // status for the n-th request (1-based); 0: 200
	requests []string        // X-Vigie-Delivery of each request
	applied  []notify.Message
	ids      map[string]bool
	bodies   [][]byte // every body received, for non-webhook receivers
	// retryAfter is sent with every 429 and 503 answer.
	retryAfter string
}

func newReceiver(t testing.TB, secret string) *receiver {
	rv := &receiver{t: t, secret: secret, ids: map[string]bool{}}
	rv.srv = httptest.NewServer(rv)
	t.Cleanup(rv.srv.Close)
	return rv
}

func (rv *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if rv.secret != "" && !notify.VerifySignature(rv.secret, body, r.Header.Get("X-Vigie-Signature")) {
		rv.t.Errorf("bad signature %q", r.Header.Get("X-Vigie-Signature"))
		w.WriteHeader(401)
		return
	}
	id := r.Header.Get("X-Vigie-Delivery")
	rv.mu.Lock()
	rv.requests = append(rv.requests, id)
	rv.bodies = append(rv.bodies, body)
	status := 200
	if rv.answer != nil {
		if s := rv.answer(len(rv.requests)); s != 0 {
			status = s
		}
	}
	if status/100 == 2 && !rv.ids[id] {
		rv.ids[id] = true
		var m notify.Message
		if err := json.Unmarshal(body, &m); err == nil {
			rv.applied = append(rv.applied, m)
		}
	}
	if (status == 429 || status == 503) && rv.retryAfter != "" {
		w.Header().Set("Retry-After", rv.retryAfter)
	}
	rv.mu.Unlock()
	w.WriteHeader(status)
}

// wait returns the applied messages once there are n, failing after 10s.
func (rv *receiver) wait(n int) []notify.Message {
	rv.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		rv.mu.Lock()
		got := slices.Clone(rv.applied)
		rv.mu.Unlock()
		if len(got) >= n {
			return got
		}
		if time.Now().After(deadline) {
			rv.t.Fatalf("%d notifications after 10s, want %d: %+v", len(got), n, got)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// quiet checks that no more than n messages arrive within a short while.
func (rv *receiver) quiet(n int) []notify.Message {
	rv.t.Helper()
	time.Sleep(150 * time.Millisecond) // several delivery polls
	rv.mu.Lock()
	defer rv.mu.Unlock()
	if len(rv.applied) != n {
		rv.t.Fatalf("%d notifications, want %d: %+v", len(rv.applied), n, rv.applied)
	}
	return slices.Clone(rv.applied)
}

// loadConfig validates a YAML configuration as `vigie serve` would.
func loadConfig(t testing.TB, yml string) *config.Server {
	t.Helper()
	p := filepath.Join(t.TempDir(), "vigie.yml")
	if err := os.WriteFile(p, []byte(yml), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := config.Load(p)
	if err != nil {
		t.Fatalf("config:\n%s\n%v", yml, err)
	}
	return c
}

// fakeSLA answers a fixed availability.
type fakeSLA struct {
	mu    sync.Mutex
	av    history.Availability
	calls int
	slow  []bool
}

func (f *fakeSLA) set(ratio float64, known bool) {
	f.mu.Lock()
	f.av = history.Availability{Ratio: ratio, Known: known}
	f.mu.Unlock()
}

func (f *fakeSLA) Availability(_ context.Context, _ string, _, _ time.Time, slowIsDown bool) (history.Availability, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	f.slow = append(f.slow, slowIsDown)
	return f.av, nil
}

// rig is an engine over a real store and hub, a fake clock and a webhook
// receiver.
type rig struct {
	t     *testing.T
	dir   string
	clk   *clock
	st    *store.Store
	hub   *hub.Hub
	recv  *receiver
	sla   *fakeSLA
	cfg   *config.Server
	e     *Engine
	stop  context.CancelFunc
	done  chan struct{}
	ctx   context.Context
	realT bool // the engine uses the real clock (retries)
	reg   *prometheus.Registry

	mu sync.Mutex // e, read by the hub's observer
}

// rigConfig is a configuration whose notifier "ops" posts to the rig's
// receiver; rulesYAML is appended (rules:, maintenance:, checks:).
func rigConfig(url, rulesYAML string) string {
	return fmt.Sprintf(`notifiers:
  - {name: ops, type: webhook, url: %q, secret: s3cret, timeout: 1s, max_age: 1h}
%s`, url, rulesYAML)
}

func newRig(t *testing.T, rulesYAML string, opts ...func(*rig)) *rig {
	t.Helper()
	r := &rig{t: t, dir: t.TempDir(), clk: &clock{t: t0}, sla: &fakeSLA{}}
	for _, o := range opts {
		o(r)
	}
	r.recv = newReceiver(t, "s3cret")
	r.cfg = loadConfig(t, rigConfig(r.recv.srv.URL, rulesYAML))
	r.hub = hub.New(nil)
	st, err := store.Open(context.Background(), filepath.Join(r.dir, "store"), store.Options{OnCommit: r.hub.Publish})
	if err != nil {
		t.Fatal(err)
	}
	r.st = st
	t.Cleanup(func() { st.Close() })
	// One observer for the rig's whole life: the hub cannot forget one,
	// and a restart swaps the engine behind it.
	r.hub.Observe(func(recs []record.Record) {
		if cur := r.current(); cur != nil {
			cur.Observe(recs)
		}
	})
	r.start()
	return r
}

// start opens the engine on the rig's data dir and runs it.
func (r *rig) start() {
	r.t.Helper()
	now := r.clk.Now
	if r.realT {
		now = time.Now
	}
	r.reg = prometheus.NewRegistry()
	e, err := New(context.Background(), Options{Registerer: r.reg,
		Rules: r.cfg.Rules, Notifiers: r.cfg.Notifiers, Maintenance: r.cfg.Maintenance, Checks: r.cfg.Checks,
		DataDir: filepath.Join(r.dir, "rules"), Search: r.st, SLA: r.sla, BaseURL: "http://vigie.lan:8080/",
		Now: now, Tick: time.Hour, DeliveryPoll: 5 * time.Millisecond,
		Backoff: notify.Backoff{Base: 30 * time.Millisecond, Max: 100 * time.Millisecond},
	})
	if err != nil {
		r.t.Fatal(err)
	}
	r.mu.Lock()
	r.e = e
	r.mu.Unlock()
	r.ctx, r.stop = context.WithCancel(context.Background())
	r.done = make(chan struct{})
	go func() { e.Run(r.ctx); close(r.done) }()
	r.t.Cleanup(r.close)
}

func (r *rig) current() *Engine {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.e
}

// close stops and closes the engine, as a shutdown would.
func (r *rig) close() {
	if r.current() == nil {
		return
	}
	r.stop()
	<-r.done
	if err := r.e.Close(); err != nil {
		r.t.Error(err)
	}
	r.mu.Lock()
	r.e = nil
	r.mu.Unlock()
}

// restart closes the engine and opens a new one on the same data.
func (r *rig) restart() {
	r.close()
	r.start()
}

func (r *rig) eval() { r.e.evaluate(r.ctx) }

func (r *rig) submit(recs ...record.Record) {
	r.t.Helper()
	if err := r.st.SubmitSync(context.Background(), recs); err != nil {
		r.t.Fatal(err)
	}
}

func pg(at time.Time, host string, sev int, msg string) record.Record {
	return record.Record{Time: at, Received: at, Host: host, App: "postgres", Severity: sev, Facility: 16,
		Source: "syslog/tcp 10.0.0.5", Message: msg, Fields: map[string]string{"db": "Specibike"}}
}

func (r *rig) alerts(state string) []Alert {
	r.t.Helper()
	as, err := r.e.Alerts(context.Background(), AlertFilter{State: state})
	if err != nil {
		r.t.Fatal(err)
	}
	return as
}

func keys(as []Alert) string {
	var ks []string
	for _, a := range as {
		ks = append(ks, a.Key+":"+a.State)
	}
	return strings.Join(ks, " ")
}

// nopSearch is an empty store.
type nopSearch struct{}

func (nopSearch) Search(context.Context, store.Request) (store.Result, error) {
	return store.Result{Records: []record.Record{}}, nil
}

// metric is the value of a gauge or counter with the given labels.
func (r *rig) metric(name string, labels ...string) float64 {
	r.t.Helper()
	mfs, err := r.reg.Gather()
	if err != nil {
		r.t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	next:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					found = found || (lp.GetName() == labels[i] && lp.GetValue() == labels[i+1])
				}
				if !found {
					continue next
				}
			}
			if g := m.GetGauge(); g != nil {
				return g.GetValue()
			}
			return m.GetCounter().GetValue()
		}
	}
	return -1
}
