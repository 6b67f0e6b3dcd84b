// Package output ships spooled batches: to the vigie collector over HTTP
// (acknowledged, exactly once thanks to the batch numbers) or to a syslog
// server (RFC 5424 over TCP or TLS, at least once). Run ties a spool to an
// output: oldest batch first, deleted only once delivered, retried with
// backoff, set aside in the spool's dead/ folder when refused for good.
package output

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"vigie/forwarder/spool"
)

// Output sends one spooled batch.
type Output interface {
	// Send returns nil when the batch is delivered (or acknowledged as a
	// duplicate), a *PermanentError when it will never succeed as is, and
	// any other error when it should be tried again later.
	Send(ctx context.Context, b spool.Batch) error
	Close() error
}

var (
	_ Output = (*Vigie)(nil)
	_ Output = (*Syslog)(nil)
)

// PermanentError is a refusal that resending the same batch cannot change
// (400, 401, 403, 413, 415 from the collector).
type PermanentError struct {
	Status int
	Msg    string
}

func (e *PermanentError) Error() string {
	if e.Status == 0 {
		return e.Msg
	}
	return fmt.Sprintf("refused (%d): %s", e.Status, e.Msg)
}

// RetryError is a temporary failure with the server's answer: its status
// and how long it asked to wait (Retry-After on 429 and 503), if it did.
type RetryError struct {
	Status     int
	RetryAfter time.Duration
	Msg        string
}

func (e *RetryError) Error() string {
	return fmt.Sprintf("temporary failure (%d): %s", e.Status, e.Msg)
}

// Metrics are the sender's counters.
type Metrics struct {
	batchesSent    prometheus.Counter
	recordsShipped prometheus.Counter
	sendRetries    prometheus.Counter
	batchesDead    prometheus.Counter
}

// NewMetrics registers the sender's metrics, and the spool's size and
// losses read from sp.Stats, on reg (nil: not registered).
func NewMetrics(reg prometheus.Registerer, sp *spool.Spool) (*Metrics, error) {
	m := &Metrics{
		batchesSent: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigie_agent_batches_sent_total", Help: "Batches delivered (acknowledged by the collector, or written whole to the syslog server)."}),
		recordsShipped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigie_agent_records_shipped_total", Help: "Records in the batches delivered."}),
		sendRetries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigie_agent_send_retries_total", Help: "Failed sends that will be retried."}),
		batchesDead: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigie_agent_batches_dead_total", Help: "Batches refused for good, moved to the spool's dead/ folder."}),
	}
	if reg == nil {
		return m, nil
	}
	cs := []prometheus.Collector{m.batchesSent, m.recordsShipped, m.sendRetries, m.batchesDead}
	if sp != nil {
		cs = append(cs,
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "vigie_agent_spool_bytes", Help: "Bytes of batches waiting in the spool."},
				func() float64 { return float64(sp.Stats().Bytes) }),
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "vigie_agent_spool_batches", Help: "Batches waiting in the spool."},
				func() float64 { return float64(sp.Stats().Batches) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "vigie_agent_spool_dropped_records_total", Help: "Records lost: the oldest batches deleted when the spool was full, and damaged batch files."},
				func() float64 { return float64(sp.Stats().DroppedRecords) }),
		)
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("output: metrics: %w", err)
		}
	}
	return m, nil
}

// backoff is the retry schedule: exponential from min to max, each wait
// drawn between half and all of its step (jitter, so agents that lost the
// collector together do not come back together).
type backoff struct{ min, max time.Duration }

var defaultBackoff = backoff{min: 500 * time.Millisecond, max: time.Minute}

// maxRetryAfter caps a server's Retry-After.
const maxRetryAfter = 5 * time.Minute

func (b backoff) wait(attempt int) time.Duration {
	d := b.min
	for i := 1; i < attempt && d < b.max; i++ {
		d *= 2
	}
	d = min(d, b.max)
	return d/2 + rand.N(d/2+1)
}

// Windowed is an output that may have several batches in flight at once
// (the vigie collector, which dedupes by batch number). Others get one at a
// time, in order.
type Windowed interface {
	Window() int
}

// Run sends the spool's batches through out until ctx ends (then it returns
// nil). Batches go out oldest first, up to out's Window at a time: batch S
// leaves only once every batch up to S-window is settled, the promise that
// lets the collector forget old batch numbers. A retryable failure is
// retried with exponential backoff and jitter (0.5 s to 1 min), or after
// the Retry-After the server gave; a PermanentError moves the batch to the
// spool's dead/ folder and the loop goes on. It returns an error only when
// the spool itself fails. m may be nil.
func Run(ctx context.Context, sp *spool.Spool, out Output, m *Metrics, logger *slog.Logger) error {
	return run(ctx, sp, out, m, logger, defaultBackoff)
}

func run(ctx context.Context, sp *spool.Spool, out Output, m *Metrics, logger *slog.Logger, bo backoff) error {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if m == nil {
		m, _ = NewMetrics(nil, nil)
	}
	window := 1
	if w, ok := out.(Windowed); ok {
		window = max(w.Window(), 1)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	type flight struct {
		seq  int64
		done chan struct{}
	}
	var (
		inflight []flight // oldest first
		wg       sync.WaitGroup
		fatal    = make(chan error, 1)
		last     int64
	)
	defer wg.Wait()
	for {
		b, err := sp.NextAfter(ctx, last)
		if err != nil {
			if ctx.Err() != nil {
				return takeFatal(fatal)
			}
			return err
		}
		// Hold b until the batches it would outrun by a whole window settle.
		for len(inflight) > 0 && inflight[0].seq <= b.Seq-int64(window) || len(inflight) >= window {
			select {
			case <-inflight[0].done:
				inflight = inflight[1:]
			case err := <-fatal:
				return err
			case <-ctx.Done():
				return takeFatal(fatal)
			}
		}
		f := flight{seq: b.Seq, done: make(chan struct{})}
		inflight = append(inflight, f)
		last = b.Seq
		wg.Go(func() {
			defer close(f.done)
			if err := deliver(ctx, sp, out, b, m, logger, bo); err != nil {
				select {
				case fatal <- err:
				default:
				}
				cancel()
			}
		})
	}
}

func takeFatal(fatal chan error) error {
	select {
	case err := <-fatal:
		return err
	default:
		return nil
	}
}

// deliver sends one batch until it is delivered, refused for good, dropped
// from the spool, or ctx ends. It fails only when the spool does.
func deliver(ctx context.Context, sp *spool.Spool, out Output, b spool.Batch, m *Metrics, logger *slog.Logger, bo backoff) error {
	for attempt := 1; ; attempt++ {
		err := out.Send(ctx, b)
		if err == nil {
			if err := sp.Done(b.Seq); err != nil {
				return fmt.Errorf("output: batch %d delivered but not removed from the spool: %w", b.Seq, err)
			}
			m.batchesSent.Inc()
			m.recordsShipped.Add(float64(b.Count))
			if attempt > 1 {
				logger.Info("output: batch delivered after retries", "batch", b.Seq, "records", b.Count, "attempts", attempt)
			}
			return nil
		}
		if ctx.Err() != nil {
			return nil
		}
		if pe, ok := errors.AsType[*PermanentError](err); ok {
			logger.Error("output: batch REFUSED for good, moved to the spool's dead/ folder; fix the cause (token, agent name, size) and resend it by hand",
				"batch", b.Seq, "records", b.Count, "status", pe.Status, "err", err,
				"dir", sp.Dir()+string(os.PathSeparator)+spool.DeadDir)
			m.batchesDead.Inc()
			if err := sp.Dead(b.Seq, err.Error()); err != nil {
				return fmt.Errorf("output: batch %d: %w", b.Seq, err)
			}
			return nil
		}
		m.sendRetries.Inc()
		wait := bo.wait(attempt)
		if re, ok := errors.AsType[*RetryError](err); ok && re.RetryAfter > 0 {
			wait = min(re.RetryAfter, maxRetryAfter)
		}
		lvl := slog.LevelWarn
		if attempt > 1 {
			lvl = slog.LevelInfo // the first failure says it; the rest would flood
		}
		if attempt%20 == 0 {
			lvl = slog.LevelWarn
		}
		logger.Log(ctx, lvl, "output: send failed, will retry", "batch", b.Seq, "records", b.Count,
			"attempt", attempt, "retry_in", wait.Round(time.Millisecond), "err", err)
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil
		case <-t.C:
		}
		if !sp.Has(b.Seq) {
			// Dropped for room (already counted and logged as lost).
			logger.Warn("output: batch dropped from the full spool while being retried", "batch", b.Seq)
			return nil
		}
	}
}

// parseRetryAfter reads a Retry-After header: seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if n, err := strconv.Atoi(v); err == nil && n > 0 {
		return time.Duration(n) * time.Second
	}
	if t, err := time.Parse(time.RFC1123, v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// tlsConfig trusts the system roots plus the PEM certificates of caFile.
func tlsConfig(caFile, serverName string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: serverName}
	if caFile == "" {
		return cfg, nil
	}
	pem, err := os.ReadFile(caFile)
	if err != nil {
		return nil, fmt.Errorf("ca_file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("ca_file %s: no PEM certificate in it", caFile)
	}
	cfg.RootCAs = pool
	return cfg, nil
}
