package rules

import "github.com/prometheus/client_golang/prometheus"

type metrics struct {
	firing   *prometheus.GaugeVec
	overflow *prometheus.CounterVec
	errors   *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		firing: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "vigie_alerts_firing", Help: "Alerts firing, by rule.",
		}, []string{"rule"}),
		overflow: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_rule_groups_overflow_total",
			Help: "Matching records not counted because their group_by rule already follows 1,000 groups.",
		}, []string{"rule"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_rule_errors_total", Help: "Rule evaluations or alert updates that failed (see the log).",
		}, []string{"rule"}),
	}
	if reg != nil {
		reg.MustRegister(m.firing, m.overflow, m.errors)
	}
	return m
}
