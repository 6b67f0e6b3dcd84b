package store

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	queued        atomic.Int64
	stored        prometheus.Counter
	commitSeconds prometheus.Histogram
	commitErrors  prometheus.Counter
	lost          prometheus.Counter
	retained      *prometheus.CounterVec
}

func newMetrics(s *Store, reg prometheus.Registerer) *metrics {
	m := &metrics{
		stored: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigie_store_records_total", Help: "Records committed to the store."}),
		commitSeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name: "vigie_store_batch_commit_seconds", Help: "Time to commit one batch of records.",
			Buckets: prometheus.ExponentialBuckets(0.0005, 2, 16)}),
		commitErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigie_store_commit_errors_total", Help: "Batch commits that failed and were retried."}),
		lost: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigie_store_records_lost_total", Help: "Records given up at shutdown after repeated commit failures."}),
		retained: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_store_partitions_dropped_total", Help: "Day partitions deleted by retention."}, []string{"reason"}),
	}
	if reg == nil {
		return m
	}
	reg.MustRegister(m.stored, m.commitSeconds, m.commitErrors, m.lost, m.retained,
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "vigie_store_queue_depth", Help: "Records waiting for the writer."},
			func() float64 { return float64(m.queued.Load()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "vigie_store_queue_capacity", Help: "Records the writer queue holds before producers wait or drop."},
			func() float64 { return float64(s.opt.QueueSize) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "vigie_store_size_bytes", Help: "Bytes the log partitions take on disk."},
			func() float64 { return float64(s.Size()) }),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{
			Name: "vigie_store_partitions", Help: "Day partitions on disk."},
			func() float64 { s.mu.Lock(); defer s.mu.Unlock(); return float64(len(s.parts)) }),
	)
	return m
}
