package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"vigie/cmd/config"
)

func jsonIndent(dst *bytes.Buffer, body []byte) error {
	if err := json.Indent(dst, body, "", "  "); err != nil {
		return err
	}
	dst.WriteByte('\n')
	return nil
}

func readAll(r *http.Request) []byte {
	b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	return b
}

// memQueue is an in-memory Queue that keeps the ordering promise of Due.
type memQueue struct {
	mu   sync.Mutex
	all  []*Delivery
	save chan Delivery
}

func newMemQueue(ds ...Delivery) *memQueue {
	q := &memQueue{save: make(chan Delivery, 100)}
	for _, d := range ds {
		q.all = append(q.all, &d)
	}
	return q
}

func (q *memQueue) Due(_ context.Context, now time.Time, limit int) ([]Delivery, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	var out []Delivery
	for i, d := range q.all {
		if !d.Pending() || d.NextAttempt.After(now) {
			continue
		}
		if slices.ContainsFunc(q.all[:i], func(o *Delivery) bool {
			return o.Pending() && o.AlertID == d.AlertID && o.Notifier == d.Notifier
		}) {
			continue
		}
		out = append(out, *d)
		if len(out) == limit {
			break
		}
	}
	return out, nil
}

func (q *memQueue) Save(_ context.Context, d *Delivery) error {
	q.mu.Lock()
	for _, o := range q.all {
		if o.ID == d.ID {
			*o = *d
		}
	}
	q.mu.Unlock()
	q.save <- *d
	return nil
}

func (q *memQueue) Pending(context.Context) (int, error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	n := 0
	for _, d := range q.all {
		if d.Pending() {
			n++
		}
	}
	return n, nil
}

// receiver is a webhook endpoint that checks the signature and applies
// each delivery once, whatever the number of copies.
type receiver struct {
	t      *testing.T
	secret string
	answer func(n int) (status int, header http.Header) // n: 1 for the first request

	mu       sync.Mutex
	requests []string // delivery id of each request, in order
	applied  map[string][]byte
}

func (rv *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body := readAll(r)
	if !VerifySignature(rv.secret, body, r.Header.Get("X-Vigie-Signature")) {
		rv.t.Errorf("bad signature %q", r.Header.Get("X-Vigie-Signature"))
		w.WriteHeader(401)
		return
	}
	id := r.Header.Get("X-Vigie-Delivery")
	rv.mu.Lock()
	rv.requests = append(rv.requests, id)
	n := len(rv.requests)
	rv.mu.Unlock()
	status, h := 200, http.Header(nil)
	if rv.answer != nil {
		status, h = rv.answer(n)
	}
	if status == 0 { // hang until the client gives up
		<-r.Context().Done()
		return
	}
	for k, v := range h {
		w.Header()[k] = v
	}
	if status/100 == 2 {
		rv.mu.Lock()
		if rv.applied == nil {
			rv.applied = map[string][]byte{}
		}
		if _, dup := rv.applied[id]; !dup {
			rv.applied[id] = body
		}
		rv.mu.Unlock()
	}
	w.WriteHeader(status)
	io.WriteString(w, http.StatusText(status))
}

func (rv *receiver) snapshot() ([]string, int) {
	rv.mu.Lock()
	defer rv.mu.Unlock()
	return slices.Clone(rv.requests), len(rv.applied)
}

type workerRig struct {
	q    *memQueue
	w    *Worker
	reg  *prometheus.Registry
	stop func()
}

func startWorker(t *testing.T, url string, timeout time.Duration, q *memQueue) *workerRig {
	t.Helper()
	c, err := NewClient(config.Notifier{Name: "ops", Type: "webhook", URL: url, Secret: "s3cret",
		Timeout: config.Duration(timeout), MaxAge: config.Duration(time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	w := NewWorker(WorkerOptions{Queue: q, Clients: map[string]*Client{"ops": c},
		Backoff: Backoff{Base: 20 * time.Millisecond, Max: 100 * time.Millisecond}, Poll: 10 * time.Millisecond, Registerer: reg})
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	stop := func() { cancel(); <-done }
	t.Cleanup(stop)
	return &workerRig{q: q, w: w, reg: reg, stop: stop}
}

// next waits for the next saved attempt.
func (r *workerRig) next(t *testing.T) Delivery {
	t.Helper()
	select {
	case d := <-r.q.save:
		return d
	case <-time.After(10 * time.Second):
		t.Fatal("no attempt saved within 10s")
	}
	return Delivery{}
}

func delivery(id string, alert int64, body string) Delivery {
	return Delivery{ID: id, AlertID: alert, Notifier: "ops", Kind: "firing", Body: []byte(body), Created: time.Now(), NextAttempt: time.Now()}
}

func TestRetryAfter500DeliversOnceWithTheSameID(t *testing.T) {
	rv := &receiver{t: t, secret: "s3cret", answer: func(n int) (int, http.Header) {
		if n == 1 {
			return 500, nil
		}
		return 200, nil
	}}
	srv := httptest.NewServer(rv)
	defer srv.Close()
	r := startWorker(t, srv.URL, time.Second, newMemQueue(delivery("d-1", 1, `{"rule":"postgres-errors"}`)))
	first := r.next(t)
	if !first.Pending() || first.Attempts != 1 || first.LastStatus != 500 || first.LastError != "HTTP 500: Internal Server Error" {
		t.Fatalf("after the 500: %+v", first)
	}
	if !first.NextAttempt.After(time.Now().Add(-time.Second)) {
		t.Errorf("next attempt not scheduled: %s", first.NextAttempt)
	}
	second := r.next(t)
	if second.Delivered.IsZero() || second.Attempts != 2 || second.LastStatus != 200 {
		t.Fatalf("after the 200: %+v", second)
	}
	reqs, applied := rv.snapshot()
	if len(reqs) != 2 || reqs[0] != "d-1" || reqs[1] != "d-1" || applied != 1 {
		t.Errorf("requests %v, applied %d", reqs, applied)
	}
	if got := counterValue(t, r.w.results.WithLabelValues("ops", "delivered")); got != 1 {
		t.Errorf("delivered counter %v", got)
	}
	if got := counterValue(t, r.w.attempts.WithLabelValues("ops")); got != 2 {
		t.Errorf("attempts counter %v", got)
	}
}

func TestHangingReceiverTimesOutThenRetries(t *testing.T) {
	rv := &receiver{t: t, secret: "s3cret", answer: func(n int) (int, http.Header) {
		if n == 1 {
			return 0, nil // hang
		}
		return 202, nil
	}}
	srv := httptest.NewServer(rv)
	defer srv.Close()
	r := startWorker(t, srv.URL, 200*time.Millisecond, newMemQueue(delivery("d-hang", 1, `{}`)))
	first := r.next(t)
	if !first.Pending() || first.LastStatus != 0 || first.LastError != "no answer within 200ms (notifier timeout)" {
		t.Fatalf("after the hang: %+v", first)
	}
	if second := r.next(t); second.Delivered.IsZero() || second.Attempts != 2 {
		t.Fatalf("after the retry: %+v", second)
	}
	if reqs, applied := rv.snapshot(); len(reqs) != 2 || applied != 1 {
		t.Errorf("requests %v, applied %d", reqs, applied)
	}
}

func TestTooManyRequestsHonoursRetryAfter(t *testing.T) {
	rv := &receiver{t: t, secret: "s3cret", answer: func(n int) (int, http.Header) {
		if n == 1 {
			return 429, http.Header{"Retry-After": {"1"}}
		}
		return 200, nil
	}}
	srv := httptest.NewServer(rv)
	defer srv.Close()
	r := startWorker(t, srv.URL, time.Second, newMemQueue(delivery("d-429", 1, `{}`)))
	first := r.next(t)
	// The backoff alone would retry within 20ms; the receiver asked for 1s.
	if wait := first.NextAttempt.Sub(time.Now()); first.LastStatus != 429 || wait < 800*time.Millisecond {
		t.Fatalf("after the 429: next attempt in %s (%+v)", wait, first)
	}
	second := r.next(t)
	if second.Delivered.IsZero() {
		t.Fatalf("not delivered: %+v", second)
	}
	if gap := second.Delivered.Sub(first.NextAttempt); gap < 0 {
		t.Errorf("retried %s before Retry-After allowed", -gap)
	}
}

func TestClientErrorIsPermanent(t *testing.T) {
	rv := &receiver{t: t, secret: "s3cret", answer: func(int) (int, http.Header) { return 422, nil }}
	srv := httptest.NewServer(rv)
	defer srv.Close()
	r := startWorker(t, srv.URL, time.Second, newMemQueue(delivery("d-422", 1, `{}`)))
	d := r.next(t)
	if d.GivenUp.IsZero() || d.Attempts != 1 || d.LastError != "HTTP 422: Unprocessable Entity" {
		t.Fatalf("%+v", d)
	}
	time.Sleep(100 * time.Millisecond) // several polls: no second attempt
	if reqs, _ := rv.snapshot(); len(reqs) != 1 {
		t.Errorf("%d requests for a rejected delivery", len(reqs))
	}
	if got := counterValue(t, r.w.results.WithLabelValues("ops", "rejected")); got != 1 {
		t.Errorf("rejected counter %v", got)
	}
}

func TestGivenUpAfterMaxAge(t *testing.T) {
	rv := &receiver{t: t, secret: "s3cret", answer: func(int) (int, http.Header) { return 503, nil }}
	srv := httptest.NewServer(rv)
	defer srv.Close()
	d := delivery("d-old", 1, `{}`)
	d.Created = time.Now().Add(-2 * time.Hour) // max_age is 1h
	r := startWorker(t, srv.URL, time.Second, newMemQueue(d))
	got := r.next(t)
	if got.GivenUp.IsZero() || got.Attempts != 1 {
		t.Fatalf("%+v", got)
	}
	if want := "HTTP 503: Service Unavailable (given up: failing since"; !bytes.HasPrefix([]byte(got.LastError), []byte(want)) {
		t.Errorf("error %q", got.LastError)
	}
}

func TestResolvedWaitsForItsFiring(t *testing.T) {
	rv := &receiver{t: t, secret: "s3cret", answer: func(n int) (int, http.Header) {
		if n == 1 {
			return 503, nil
		}
		return 200, nil
	}}
	srv := httptest.NewServer(rv)
	defer srv.Close()
	firing, resolved := delivery("d-firing", 7, `{"state":"firing"}`), delivery("d-resolved", 7, `{"state":"resolved"}`)
	r := startWorker(t, srv.URL, time.Second, newMemQueue(firing, resolved))
	for range 3 {
		r.next(t)
	}
	reqs, applied := rv.snapshot()
	if want := []string{"d-firing", "d-firing", "d-resolved"}; !slices.Equal(reqs, want) || applied != 2 {
		t.Errorf("requests %v, want %v; applied %d", reqs, want, applied)
	}
}

func TestShutdownMidAttemptLeavesTheDeliveryDue(t *testing.T) {
	started := make(chan struct{})
	rv := &receiver{t: t, secret: "s3cret", answer: func(int) (int, http.Header) { close(started); return 0, nil }}
	srv := httptest.NewServer(rv)
	defer srv.Close()
	q := newMemQueue(delivery("d-cut", 1, `{}`))
	r := startWorker(t, srv.URL, 10*time.Second, q)
	<-started
	r.stop()
	if n, _ := q.Pending(t.Context()); n != 1 || q.all[0].Attempts != 0 {
		t.Errorf("pending %d, attempts %d: an attempt cut by shutdown must not count", n, q.all[0].Attempts)
	}
}

func counterValue(t *testing.T, c prometheus.Counter) float64 {
	t.Helper()
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		t.Fatal(err)
	}
	return m.GetCounter().GetValue()
}
