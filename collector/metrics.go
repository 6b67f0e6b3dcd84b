package collector

import (
	"bufio"
	"errors"
	"os"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
)

// Transport label values.
const (
	transportUDP = "udp"
	transportTCP = "tcp"
	transportTLS = "tls"
)

// metrics holds every counter of the collector, registered on the
// Registerer given to New (never on the global default registry).
type metrics struct {
	received      *prometheus.CounterVec
	receivedBytes *prometheus.CounterVec
	parseErrors   *prometheus.CounterVec
	framingErrors *prometheus.CounterVec
	truncated     *prometheus.CounterVec
	dropped       *prometheus.CounterVec
	connections   *prometheus.GaugeVec
	rejected      *prometheus.CounterVec
	snareLost     prometheus.Counter
}

// transportMetrics are the children of one transport, curried once so the
// hot path does no label lookup.
type transportMetrics struct {
	name          string
	received      prometheus.Counter
	receivedBytes prometheus.Counter
	parseErrors   prometheus.Counter
	framingErrors prometheus.Counter
	truncated     prometheus.Counter
	connections   prometheus.Gauge
	rejected      prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) (*metrics, error) {
	tr := []string{"transport"}
	m := &metrics{
		received: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_syslog_received_total",
			Help: "Syslog messages received, by transport.",
		}, tr),
		receivedBytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_syslog_received_bytes_total",
			Help: "Bytes of syslog messages received (payload, without framing), by transport.",
		}, tr),
		parseErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_syslog_parse_errors_total",
			Help: "Syslog messages kept raw because they did not parse, by transport.",
		}, tr),
		framingErrors: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_syslog_framing_errors_total",
			Help: "Invalid RFC 6587 octet counts; the stream was resynchronised at the next LF.",
		}, tr),
		truncated: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_syslog_truncated_total",
			Help: "Syslog messages cut to the maximum message size, by transport.",
		}, tr),
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_records_dropped_total",
			Help: "Records dropped before the store, by reason.",
		}, []string{"reason"}),
		connections: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "vigie_syslog_connections",
			Help: "Open syslog stream connections, by transport.",
		}, tr),
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_syslog_connections_rejected_total",
			Help: "Syslog connections closed at once because the connection limit was reached.",
		}, tr),
		snareLost: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigie_snare_lost_messages_total",
			Help: "Snare events missing according to the per-sender event counter.",
		}),
	}
	if reg == nil {
		return m, nil
	}
	for _, c := range []prometheus.Collector{m.received, m.receivedBytes, m.parseErrors,
		m.framingErrors, m.truncated, m.connections, m.rejected, m.snareLost, newUDPKernelCollector()} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	// The dropped counter is shared with other parts of vigie (the agent
	// ingest, the store): reuse it when it is already there.
	if err := reg.Register(m.dropped); err != nil {
		are, ok := errors.AsType[prometheus.AlreadyRegisteredError](err)
		if !ok {
			return nil, err
		}
		existing, ok := are.ExistingCollector.(*prometheus.CounterVec)
		if !ok {
			return nil, err
		}
		m.dropped = existing
	}
	return m, nil
}

func (m *metrics) forTransport(t string) *transportMetrics {
	return &transportMetrics{
		name:          t,
		received:      m.received.WithLabelValues(t),
		receivedBytes: m.receivedBytes.WithLabelValues(t),
		parseErrors:   m.parseErrors.WithLabelValues(t),
		framingErrors: m.framingErrors.WithLabelValues(t),
		truncated:     m.truncated.WithLabelValues(t),
		connections:   m.connections.WithLabelValues(t),
		rejected:      m.rejected.WithLabelValues(t),
	}
}

// udpKernelCollector exposes the kernel's UDP receive errors, read at scrape
// time: drops in the socket buffer happen before vigie sees a datagram, so
// only the kernel can count them. Nothing is exported where /proc/net/snmp
// does not exist.
type udpKernelCollector struct {
	inErrors, rcvbufErrors *prometheus.Desc
}

func newUDPKernelCollector() *udpKernelCollector {
	return &udpKernelCollector{
		inErrors: prometheus.NewDesc("vigie_udp_kernel_in_errors_total",
			"Kernel UDP InErrors (IPv4 + IPv6) from /proc/net/snmp and snmp6, for the whole network namespace.", nil, nil),
		rcvbufErrors: prometheus.NewDesc("vigie_udp_kernel_rcvbuf_errors_total",
			"Kernel UDP RcvbufErrors (IPv4 + IPv6): datagrams dropped because a socket buffer was full.", nil, nil),
	}
}

func (k *udpKernelCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- k.inErrors
	ch <- k.rcvbufErrors
}

func (k *udpKernelCollector) Collect(ch chan<- prometheus.Metric) {
	in, rcvbuf, ok := readUDPKernelErrors("/proc/net/snmp", "/proc/net/snmp6")
	if !ok {
		return
	}
	ch <- prometheus.MustNewConstMetric(k.inErrors, prometheus.CounterValue, float64(in))
	ch <- prometheus.MustNewConstMetric(k.rcvbufErrors, prometheus.CounterValue, float64(rcvbuf))
}

// readUDPKernelErrors sums InErrors and RcvbufErrors of /proc/net/snmp (a
// "Udp:" header line followed by a "Udp:" value line) and /proc/net/snmp6
// ("Udp6InErrors N" lines). ok is false when the IPv4 file is unreadable.
func readUDPKernelErrors(snmp, snmp6 string) (inErrors, rcvbufErrors uint64, ok bool) {
	f, err := os.Open(snmp)
	if err != nil {
		return 0, 0, false
	}
	defer f.Close()
	var header []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) == 0 || fields[0] != "Udp:" {
			continue
		}
		if header == nil {
			header = fields
			continue
		}
		for i := 1; i < len(fields) && i < len(header); i++ {
			v, err := strconv.ParseUint(fields[i], 10, 64)
			if err != nil {
				continue
			}
			switch header[i] {
			case "InErrors":
				inErrors, ok = inErrors+v, true
			case "RcvbufErrors":
				rcvbufErrors, ok = rcvbufErrors+v, true
			}
		}
		break
	}
	if !ok {
		return 0, 0, false
	}
	if f6, err := os.Open(snmp6); err == nil {
		defer f6.Close()
		sc := bufio.NewScanner(f6)
		for sc.Scan() {
			fields := strings.Fields(sc.Text())
			if len(fields) != 2 {
				continue
			}
			v, err := strconv.ParseUint(fields[1], 10, 64)
			if err != nil {
				continue
			}
			switch fields[0] {
			case "Udp6InErrors":
				inErrors += v
			case "Udp6RcvbufErrors":
				rcvbufErrors += v
			}
		}
	}
	return inErrors, rcvbufErrors, true
}
