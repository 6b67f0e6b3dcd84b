package notify

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Delivery is one message for one notifier, with its attempts. Its ID is
// sent as X-Vigie-Delivery and stays the same on every retry, so receivers
// can drop the copies of a delivery they already applied.
type Delivery struct {
	ID       string
	AlertID  int64
	Notifier string
	Kind     string // firing | reminder | resolved
	Body     []byte // exactly what is posted, signed again on each attempt
	Created  time.Time
	Attempts int
	// NextAttempt is when the delivery is due (again).
	NextAttempt time.Time
	LastStatus  int
	LastError   string
	Delivered   time.Time // zero until a 2xx answer
	GivenUp     time.Time // zero unless rejected or past max_age
}

// Pending reports whether the delivery still waits for an attempt.
func (d *Delivery) Pending() bool { return d.Delivered.IsZero() && d.GivenUp.IsZero() }

// Queue keeps deliveries across restarts.
type Queue interface {
	// Due returns pending deliveries whose NextAttempt has come, oldest
	// first, at most limit, and never one while an older delivery for the
	// same alert and notifier is still pending (a "resolved" must not
	// overtake its "firing").
	Due(ctx context.Context, now time.Time, limit int) ([]Delivery, error)
	// Save writes the outcome of an attempt.
	Save(ctx context.Context, d *Delivery) error
	// Pending counts deliveries not yet delivered nor given up.
	Pending(ctx context.Context) (int, error)
}

// WorkerOptions configure a Worker; zero values take the defaults.
type WorkerOptions struct {
	Queue   Queue
	Clients map[string]*Client
	Backoff Backoff
	Now     func() time.Time
	// Poll is how often the queue is read when nothing kicks the worker
	// (default 1s): retries come due without a kick.
	Poll time.Duration
	// Concurrency bounds attempts in flight (default 8; at most 2 per
	// notifier, so one hanging receiver does not hold up the others).
	Concurrency int
	Logger      *slog.Logger
	Registerer  prometheus.Registerer
}

const perNotifier = 2

// Worker attempts due deliveries until its context ends.
type Worker struct {
	opt  WorkerOptions
	log  *slog.Logger
	kick chan struct{}

	mu       sync.Mutex
	inflight map[string]bool // delivery ids
	busy     map[string]int  // attempts in flight per notifier
	wg       sync.WaitGroup

	results  *prometheus.CounterVec
	attempts *prometheus.CounterVec
	pending  prometheus.Gauge
}

// NewWorker makes a worker; Run starts it.
func NewWorker(opt WorkerOptions) *Worker {
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Poll <= 0 {
		opt.Poll = time.Second
	}
	if opt.Concurrency <= 0 {
		opt.Concurrency = 8
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	w := &Worker{
		opt:      opt,
		log:      opt.Logger,
		kick:     make(chan struct{}, 1),
		inflight: map[string]bool{},
		busy:     map[string]int{},
		results: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_notifications_total",
			Help: "Deliveries finished, by notifier and result: delivered, rejected (an answer that retrying cannot fix), given_up (still failing after max_age).",
		}, []string{"notifier", "result"}),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_notification_attempts_total", Help: "HTTP attempts to deliver notifications, retries included.",
		}, []string{"notifier"}),
		pending: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vigie_notifications_pending", Help: "Deliveries waiting for a first attempt or a retry.",
		}),
	}
	if opt.Registerer != nil {
		opt.Registerer.MustRegister(w.results, w.attempts, w.pending)
	}
	return w
}

// Kick asks for a pass over the queue now (a delivery was added).
func (w *Worker) Kick() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// Run attempts due deliveries until ctx ends, then waits for the attempts
// in flight. An attempt cut by the end of ctx is not counted: the delivery
// stays due and the next start sends it again, with the same id.
func (w *Worker) Run(ctx context.Context) error {
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			w.wg.Wait()
			return nil
		case <-w.kick:
		case <-t.C:
		}
		w.pass(ctx)
		t.Reset(w.opt.Poll)
	}
}

// pass starts an attempt for each due delivery that has room.
func (w *Worker) pass(ctx context.Context) {
	due, err := w.opt.Queue.Due(ctx, w.opt.Now(), 4*w.opt.Concurrency)
	if err != nil {
		if ctx.Err() == nil {
			w.log.Error("notify: reading the delivery queue", "err", err)
		}
		return
	}
	for _, d := range due {
		w.mu.Lock()
		if w.inflight[d.ID] || len(w.inflight) >= w.opt.Concurrency || w.busy[d.Notifier] >= perNotifier {
			w.mu.Unlock()
			continue
		}
		w.inflight[d.ID] = true
		w.busy[d.Notifier]++
		w.mu.Unlock()
		w.wg.Go(func() {
			w.attempt(ctx, d)
			w.mu.Lock()
			delete(w.inflight, d.ID)
			w.busy[d.Notifier]--
			w.mu.Unlock()
			w.Kick() // a newer delivery of the same alert may be due now
		})
	}
	if n, err := w.opt.Queue.Pending(ctx); err == nil {
		w.pending.Set(float64(n))
	}
}

func (w *Worker) attempt(ctx context.Context, d Delivery) {
	log := w.log.With("notifier", d.Notifier, "delivery", d.ID, "alert", d.AlertID)
	save := func(result string) {
		if result != "" {
			w.results.WithLabelValues(d.Notifier, result).Inc()
		}
		if err := w.opt.Queue.Save(context.WithoutCancel(ctx), &d); err != nil {
			log.Error("notify: saving a delivery attempt", "err", err)
		}
	}
	c := w.opt.Clients[d.Notifier]
	if c == nil {
		d.GivenUp = w.opt.Now()
		d.LastError = fmt.Sprintf("notifier %q is no longer in the configuration", d.Notifier)
		log.Error("notify: delivery given up", "err", d.LastError)
		save("given_up")
		return
	}
	res := c.Send(ctx, d.ID, d.Body, w.opt.Now())
	if ctx.Err() != nil && !res.OK() {
		return // shutting down: not an attempt; sent again after the restart
	}
	w.attempts.WithLabelValues(d.Notifier).Inc()
	now := w.opt.Now()
	d.Attempts++
	d.LastStatus = res.Status
	d.LastError = res.Error(c.Timeout())
	deadline := d.Created.Add(c.MaxAge())
	switch {
	case res.OK():
		d.Delivered = now
		log.Debug("notify: delivered", "attempts", d.Attempts, "status", res.Status)
		save("delivered")
	case !res.Retryable():
		d.GivenUp = now
		log.Error("notify: the receiver refused the delivery; retrying cannot fix it", "status", res.Status, "err", d.LastError)
		save("rejected")
	case !now.Before(deadline):
		d.GivenUp = now
		d.LastError += fmt.Sprintf(" (given up: failing since %s, max_age %s)", d.Created.UTC().Format(time.RFC3339), c.cfg.MaxAge)
		log.Error("notify: delivery given up", "attempts", d.Attempts, "err", d.LastError)
		save("given_up")
	default:
		wait := max(w.opt.Backoff.Delay(d.Attempts), res.RetryAfter)
		d.NextAttempt = now.Add(wait)
		if d.NextAttempt.After(deadline) {
			d.NextAttempt = deadline // one last attempt at max_age
		}
		log.Warn("notify: delivery failed, will retry", "attempts", d.Attempts, "retry_in", d.NextAttempt.Sub(now).Round(time.Millisecond), "err", d.LastError)
		save("")
	}
}

// Refresh posts a body once, outside the queue (Alertmanager refreshes of
// firing alerts); the attempt is counted like the others.
func (w *Worker) Refresh(ctx context.Context, c *Client, id string, body []byte) Response {
	w.attempts.WithLabelValues(c.Name()).Inc()
	return c.Send(ctx, id, body, w.opt.Now())
}
