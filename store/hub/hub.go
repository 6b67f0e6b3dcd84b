// Package hub fans committed records out to the live tail and the rules.
//
// The store's writers call Publish after each commit. Publish never blocks
// ingestion: observers are synchronous and must be cheap (rules count
// matches), subscribers (websocket clients) each get a bounded queue of
// batches, and a subscriber that falls behind loses batches, counted for
// that subscriber only.
package hub

import (
	"context"
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"vigie/record"
)

// DefaultQueue is how many committed batches a subscriber may have waiting.
const DefaultQueue = 64

// Hub is safe for concurrent use; Publish is called from every writer.
type Hub struct {
	mu        sync.RWMutex
	subs      map[*Sub]struct{}
	observers []func([]record.Record)

	published prometheus.Counter
	dropped   prometheus.Counter
	clients   prometheus.Gauge
}

// New makes a hub; reg receives its metrics (nil registers nothing).
func New(reg prometheus.Registerer) *Hub {
	h := &Hub{
		subs: map[*Sub]struct{}{},
		published: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigie_hub_records_published_total", Help: "Committed records offered to the live tail and rules.",
		}),
		dropped: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigie_hub_records_dropped_total", Help: "Matching records a live-tail subscriber lost because it fell behind.",
		}),
		clients: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "vigie_hub_subscribers", Help: "Live-tail subscribers connected.",
		}),
	}
	if reg != nil {
		reg.MustRegister(h.published, h.dropped, h.clients)
	}
	return h
}

// Observe adds fn, called synchronously with every published batch. It must
// return quickly and must not keep or modify the slice.
func (h *Hub) Observe(fn func([]record.Record)) {
	h.mu.Lock()
	h.observers = append(h.observers, fn)
	h.mu.Unlock()
}

// Publish hands a committed batch to observers and subscribers.
func (h *Hub) Publish(recs []record.Record) {
	if len(recs) == 0 {
		return
	}
	h.published.Add(float64(len(recs)))
	h.mu.RLock()
	defer h.mu.RUnlock()
	for _, fn := range h.observers {
		fn(recs)
	}
	for s := range h.subs {
		select {
		case s.queue <- recs:
		default:
			// Only an overflow pays for matching here: the count the client
			// sees is of records it would have shown, not of all records.
			n := int64(0)
			for i := range recs {
				if s.match == nil || s.match(&recs[i]) {
					n++
				}
			}
			if n > 0 {
				s.mu.Lock()
				s.dropped += n
				s.mu.Unlock()
				h.dropped.Add(float64(n))
				select {
				case s.wake <- struct{}{}:
				default:
				}
			}
		}
	}
}

// Sub is one subscriber: a live-tail client.
type Sub struct {
	h     *Hub
	match func(*record.Record) bool
	queue chan []record.Record
	wake  chan struct{} // a drop happened while the queue was full

	mu      sync.Mutex
	dropped int64
	closed  bool
}

// Subscribe starts receiving batches; match (nil = all) filters them.
// queue is how many batches may wait (0 = DefaultQueue).
func (h *Hub) Subscribe(match func(*record.Record) bool, queue int) *Sub {
	if queue <= 0 {
		queue = DefaultQueue
	}
	s := &Sub{h: h, match: match, queue: make(chan []record.Record, queue), wake: make(chan struct{}, 1)}
	h.mu.Lock()
	h.subs[s] = struct{}{}
	h.mu.Unlock()
	h.clients.Inc()
	return s
}

// Next waits for matching records or a drop. It returns the records that
// matched (oldest first) and how many matching records were lost since the
// last call; both may be set. It fails only when ctx ends.
func (s *Sub) Next(ctx context.Context) ([]record.Record, int64, error) {
	for {
		var recs []record.Record
		select {
		case <-ctx.Done():
			return nil, 0, ctx.Err()
		case recs = <-s.queue:
		case <-s.wake:
			// Records queued before the drop come first.
			select {
			case recs = <-s.queue:
			default:
			}
		}
		out := make([]record.Record, 0, len(recs))
		for i := range recs {
			if s.match == nil || s.match(&recs[i]) {
				out = append(out, recs[i])
			}
		}
		d := s.takeDropped()
		if len(out) > 0 || d > 0 {
			return out, d, nil
		}
	}
}

func (s *Sub) takeDropped() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	d := s.dropped
	s.dropped = 0
	return d
}

// Close stops the subscription; batches still queued are discarded.
func (s *Sub) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	s.mu.Unlock()
	s.h.mu.Lock()
	delete(s.h.subs, s)
	s.h.mu.Unlock()
	s.h.clients.Dec()
}
