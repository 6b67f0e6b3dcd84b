package collector

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"vigie/record"
)

// fakeSink records what it gets. It can be made full: TrySubmit then fails
// and Submit waits until it is released.
type fakeSink struct {
	mu      sync.Mutex
	recs    []record.Record
	calls   int
	waiting int           // Submit calls blocked right now
	gate    chan struct{} // non-nil: full until closed
	delay   time.Duration // per Submit call, to play a slow store
	closed  bool
}

var _ Sink = (*fakeSink)(nil)

func (s *fakeSink) Submit(ctx context.Context, recs []record.Record) error {
	s.mu.Lock()
	gate, delay := s.gate, s.delay
	if gate != nil {
		s.waiting++
	}
	s.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			s.mu.Lock()
			s.waiting--
			s.mu.Unlock()
			return ctx.Err()
		}
	}
	if delay > 0 {
		time.Sleep(delay)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if gate != nil {
		s.waiting--
	}
	if s.closed {
		return errors.New("sink closed")
	}
	s.calls++
	s.recs = append(s.recs, recs...)
	return nil
}

func (s *fakeSink) TrySubmit(recs []record.Record) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gate != nil || s.closed {
		return false
	}
	s.calls++
	s.recs = append(s.recs, recs...)
	return true
}

// block makes the sink full; the returned func empties it.
func (s *fakeSink) block() (release func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	g := make(chan struct{})
	s.gate = g
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			s.gate = nil
			s.mu.Unlock()
			close(g)
		})
	}
}

func (s *fakeSink) records() []record.Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]record.Record(nil), s.recs...)
}

func (s *fakeSink) blockedCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.waiting
}

// waitRecords waits until the sink holds at least n records.
func (s *fakeSink) waitRecords(t testing.TB, n int, timeout time.Duration) []record.Record {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		recs := s.records()
		if len(recs) >= n {
			return recs
		}
		if time.Now().After(deadline) {
			t.Fatalf("sink got %d records, want %d", len(recs), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// eventually polls cond until it holds.
func eventually(t testing.TB, what string, timeout time.Duration, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func testLogger(t testing.TB) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.DiscardHandler)
}

// startCollector starts a collector on loopback ports with cfg's other
// settings; it is shut down at the end of the test.
func startCollector(t testing.TB, cfg Config, sink Sink) (*Collector, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	c, err := New(cfg, sink, testLogger(t), reg)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := c.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return c, reg
}

// metricValue returns the value of a counter or gauge from reg, matching
// the given label pairs; -1 when absent.
func metricValue(t testing.TB, reg prometheus.Gatherer, name string, labels ...string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metric:
		for _, m := range mf.GetMetric() {
			for i := 0; i+1 < len(labels); i += 2 {
				found := false
				for _, lp := range m.GetLabel() {
					if lp.GetName() == labels[i] && lp.GetValue() == labels[i+1] {
						found = true
					}
				}
				if !found {
					continue metric
				}
			}
			if m.GetCounter() != nil {
				return m.GetCounter().GetValue()
			}
			return m.GetGauge().GetValue()
		}
	}
	return -1
}
