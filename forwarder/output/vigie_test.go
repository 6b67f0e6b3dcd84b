package output

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"vigie/forwarder/spool"
)

const token = "agent-secret"

// fakeIngest checks what the agent sends and answers what answer says.
type fakeIngest struct {
	t      *testing.T
	mu     sync.Mutex
	seqs   []string          // X-Vigie-Batch of every request
	stored map[string][]byte // batch → body, first time only
	answer func(n int, w http.ResponseWriter, r *http.Request) bool
}

func (f *fakeIngest) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	t := f.t
	if r.Method != "POST" || r.URL.Path != "/api/v1/ingest" {
		t.Errorf("%s %s", r.Method, r.URL.Path)
	}
	if r.Header.Get("Authorization") != "Bearer "+token || r.Header.Get("X-Vigie-Agent") != "erp1" ||
		r.Header.Get("Content-Type") != "application/x-ndjson" || r.Header.Get("User-Agent") != "vigie-agent" {
		t.Errorf("headers %v", r.Header)
	}
	if r.Header.Get("Content-Encoding") != "gzip" {
		t.Errorf("not gzipped: %v", r.Header)
	}
	zr, err := gzip.NewReader(r.Body)
	if err != nil {
		t.Errorf("gzip: %v", err)
		return
	}
	body, _ := io.ReadAll(zr)
	n := 0
	for line := range bytes.Lines(body) {
		var rec map[string]any
		if err := json.Unmarshal(line, &rec); err != nil {
			t.Errorf("not NDJSON: %q", line)
		}
		n++
	}
	seq := r.Header.Get("X-Vigie-Batch")
	f.mu.Lock()
	f.seqs = append(f.seqs, seq)
	calls := len(f.seqs)
	f.mu.Unlock()
	if f.answer != nil && f.answer(calls, w, r) {
		return
	}
	f.mu.Lock()
	_, dup := f.stored[seq]
	if !dup {
		f.stored[seq] = body
	}
	f.mu.Unlock()
	json.NewEncoder(w).Encode(map[string]any{"accepted": n, "duplicate": dup})
}

func (f *fakeIngest) requests() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.seqs...)
}

func newFake(t *testing.T, answer func(n int, w http.ResponseWriter, r *http.Request) bool) (*fakeIngest, *httptest.Server) {
	f := &fakeIngest{t: t, stored: map[string][]byte{}, answer: answer}
	ts := httptest.NewServer(f)
	t.Cleanup(ts.Close)
	return f, ts
}

func newVigie(t *testing.T, url string, tweak ...func(*VigieConfig)) *Vigie {
	t.Helper()
	// One batch in flight unless a test asks for more: the tests of retries
	// and answers read the requests in order.
	cfg := VigieConfig{URL: url, Token: token, Agent: "erp1", Window: 1}
	for _, f := range tweak {
		f(&cfg)
	}
	v, err := NewVigie(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { v.Close() })
	return v
}

func TestVigieRetries503ThenDeliversOnce(t *testing.T) {
	fake, ts := newFake(t, func(n int, w http.ResponseWriter, r *http.Request) bool {
		if n <= 2 {
			w.WriteHeader(http.StatusServiceUnavailable)
			w.Write([]byte(`{"error":"store unavailable, resend the batch"}`))
			return true
		}
		return false
	})
	sp := openSpool(t)
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(reg, sp)
	if err != nil {
		t.Fatal(err)
	}
	seq, _ := sp.Append(spool.Batch{Records: ndjson("hello", 3), Count: 3})
	logger, logs := testLogger()
	runUntil(t, sp, newVigie(t, ts.URL+"/"), m, logger, func() bool { return sp.Stats().Batches == 0 })

	reqs := fake.requests()
	want := []string{itoa(seq), itoa(seq), itoa(seq)}
	if strings.Join(reqs, ",") != strings.Join(want, ",") {
		t.Fatalf("requests %v, want the same batch number 3 times %v", reqs, want)
	}
	if len(fake.stored) != 1 || !bytes.Equal(fake.stored[itoa(seq)], ndjson("hello", 3)) {
		t.Fatalf("stored %v", fake.stored)
	}
	if got := metric(t, reg, "vigie_agent_send_retries_total"); got != 2 {
		t.Errorf("retries %v", got)
	}
	if metric(t, reg, "vigie_agent_batches_sent_total") != 1 || metric(t, reg, "vigie_agent_records_shipped_total") != 3 {
		t.Errorf("sent %v, records %v", metric(t, reg, "vigie_agent_batches_sent_total"), metric(t, reg, "vigie_agent_records_shipped_total"))
	}
	if !strings.Contains(logs.String(), "will retry") || !strings.Contains(logs.String(), "503") {
		t.Errorf("logs:\n%s", logs)
	}
	if metric(t, reg, "vigie_agent_spool_bytes") != 0 || metric(t, reg, "vigie_agent_spool_dropped_records_total") != 0 {
		t.Errorf("spool metrics")
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func TestVigieDuplicateIsDelivered(t *testing.T) {
	_, ts := newFake(t, func(n int, w http.ResponseWriter, r *http.Request) bool {
		w.Write([]byte(`{"accepted":3,"duplicate":true}`))
		return true
	})
	logger, logs := testLogger()
	v := newVigie(t, ts.URL, func(c *VigieConfig) { c.Logger = logger })
	if err := v.Send(context.Background(), spool.Batch{Seq: 7, Records: ndjson("dup", 3), Count: 3}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "already had this batch") {
		t.Errorf("logs:\n%s", logs)
	}
}

func TestVigieRetryAfterAndNonVigie200(t *testing.T) {
	_, ts := newFake(t, func(n int, w http.ResponseWriter, r *http.Request) bool {
		switch n {
		case 1:
			w.Header().Set("Retry-After", "7")
			w.WriteHeader(http.StatusTooManyRequests)
		case 2:
			w.Write([]byte("<html>proxy login</html>"))
		default:
			return false
		}
		return true
	})
	v := newVigie(t, ts.URL)
	b := spool.Batch{Seq: 1, Records: ndjson("x", 1), Count: 1}
	err := v.Send(context.Background(), b)
	if re, ok := errors.AsType[*RetryError](err); !ok || re.Status != 429 || re.RetryAfter != 7*time.Second {
		t.Fatalf("429: %#v", err)
	}
	if err := v.Send(context.Background(), b); err == nil || !strings.Contains(err.Error(), "proxy") {
		t.Fatalf("200 that is not an ingest answer: %v", err)
	}
	if err := v.Send(context.Background(), b); err != nil {
		t.Fatal(err)
	}
}

func TestVigie401KeepsTheBatchAndRetries(t *testing.T) {
	fake, ts := newFake(t, func(n int, w http.ResponseWriter, r *http.Request) bool {
		if n == 1 {
			w.WriteHeader(http.StatusUnauthorized)
			w.Write([]byte(`{"error":"an agent token is required"}`))
			return true
		}
		return false
	})
	sp := openSpool(t)
	first, _ := sp.Append(spool.Batch{Records: ndjson("kept", 2), Count: 2})
	logger, logs := testLogger()
	runUntil(t, sp, newVigie(t, ts.URL, func(c *VigieConfig) { c.Logger = logger }), nil, logger, func() bool { return sp.Stats().Batches == 0 })
	if reqs := fake.requests(); len(reqs) != 2 || reqs[0] != itoa(first) || reqs[1] != itoa(first) {
		t.Fatalf("requests %v: the refused batch must be kept and sent again", reqs)
	}
	if sp.Stats().DeadBatches != 0 || !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "agent_tokens") {
		t.Errorf("dead %d, logs:\n%s", sp.Stats().DeadBatches, logs)
	}
}

func TestVigie400GoesToDead(t *testing.T) {
	fake, ts := newFake(t, func(n int, w http.ResponseWriter, r *http.Request) bool {
		if n == 1 {
			w.WriteHeader(http.StatusBadRequest)
			w.Write([]byte(`{"error":"X-Vigie-Batch: a batch sequence number from 1"}`))
			return true
		}
		return false
	})
	sp := openSpool(t)
	reg := prometheus.NewRegistry()
	m, _ := NewMetrics(reg, sp)
	first, _ := sp.Append(spool.Batch{Records: ndjson("refused", 2), Count: 2})
	second, _ := sp.Append(spool.Batch{Records: ndjson("ok", 2), Count: 2})
	logger, logs := testLogger()
	runUntil(t, sp, newVigie(t, ts.URL), m, logger, func() bool { return sp.Stats().Batches == 0 })

	if reqs := fake.requests(); len(reqs) != 2 || reqs[0] != itoa(first) || reqs[1] != itoa(second) {
		t.Fatalf("requests %v: a refused batch must not be retried", reqs)
	}
	dead := filepath.Join(sp.Dir(), spool.DeadDir)
	des, _ := os.ReadDir(dead)
	if len(des) != 2 { // the batch and its .reason
		t.Fatalf("dead/: %v", des)
	}
	if metric(t, reg, "vigie_agent_batches_dead_total") != 1 || metric(t, reg, "vigie_agent_batches_sent_total") != 1 || sp.Stats().DeadBatches != 1 {
		t.Errorf("dead %v sent %v", metric(t, reg, "vigie_agent_batches_dead_total"), metric(t, reg, "vigie_agent_batches_sent_total"))
	}
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "X-Vigie-Batch") {
		t.Errorf("not logged loudly:\n%s", logs)
	}
}

func TestVigieTLSWithCAFile(t *testing.T) {
	caFile, serverTLS := testCA(t)
	f := &fakeIngest{t: t, stored: map[string][]byte{}}
	ts := httptest.NewUnstartedServer(f)
	ts.TLS = serverTLS
	ts.StartTLS()
	defer ts.Close()

	// Without the CA the certificate is not trusted: a retryable error.
	if err := newVigie(t, ts.URL).Send(context.Background(), spool.Batch{Seq: 1, Records: ndjson("tls", 1), Count: 1}); err == nil {
		t.Fatal("untrusted certificate accepted")
	} else if _, ok := errors.AsType[*PermanentError](err); ok {
		t.Fatalf("TLS failure must be retried: %v", err)
	}
	v := newVigie(t, ts.URL, func(c *VigieConfig) { c.CAFile = caFile })
	if err := v.Send(context.Background(), spool.Batch{Seq: 1, Records: ndjson("tls", 1), Count: 1}); err != nil {
		t.Fatal(err)
	}
	if len(f.stored) != 1 {
		t.Fatalf("stored %v", f.stored)
	}
}

func TestVigieHangTimesOutAndRetries(t *testing.T) {
	release := make(chan struct{})
	fake, ts := newFake(t, func(n int, w http.ResponseWriter, r *http.Request) bool {
		if n == 1 {
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return true
		}
		return false
	})
	defer close(release)
	sp := openSpool(t)
	seq, _ := sp.Append(spool.Batch{Records: ndjson("slow", 2), Count: 2})
	v := newVigie(t, ts.URL, func(c *VigieConfig) { c.Timeout = 200 * time.Millisecond })
	runUntil(t, sp, v, nil, nil, func() bool { return sp.Stats().Batches == 0 })
	if reqs := fake.requests(); len(reqs) != 2 || reqs[0] != itoa(seq) || reqs[1] != itoa(seq) {
		t.Fatalf("requests %v", reqs)
	}
}

func TestNewVigieRefusesBadConfig(t *testing.T) {
	for _, c := range []VigieConfig{
		{URL: "vigie.lan:8080", Token: "t", Agent: "a"},
		{URL: "ftp://vigie.lan", Token: "t", Agent: "a"},
		{URL: "https://vigie.lan", Agent: "a"},
		{URL: "https://vigie.lan", Token: "t", Agent: "a", CAFile: "/nonexistent/ca.pem"},
	} {
		if _, err := NewVigie(c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
}

func TestBackoff(t *testing.T) {
	for attempt := 1; attempt < 20; attempt++ {
		d := defaultBackoff.wait(attempt)
		step := 500 * time.Millisecond << (attempt - 1)
		if attempt > 8 {
			step = time.Minute
		}
		step = min(step, time.Minute)
		if d < step/2 || d > step {
			t.Errorf("attempt %d: %v not in [%v, %v]", attempt, d, step/2, step)
		}
	}
	if d := parseRetryAfter("120", time.Now()); d != 2*time.Minute {
		t.Errorf("Retry-After 120: %v", d)
	}
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	if d := parseRetryAfter("Sun, 22 Nov 2026 10:00:30 GMT", now); d != 30*time.Second {
		t.Errorf("Retry-After date: %v", d)
	}
}

// metric reads a counter or gauge from reg (-1 when absent).
func metric(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name || len(mf.GetMetric()) != 1 {
			continue
		}
		m := mf.GetMetric()[0]
		if c := m.GetCounter(); c != nil {
			return c.GetValue()
		}
		return m.GetGauge().GetValue()
	}
	return -1
}
