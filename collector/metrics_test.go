package collector

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

func TestReadUDPKernelErrors(t *testing.T) {
	dir := t.TempDir()
	snmp := filepath.Join(dir, "snmp")
	snmp6 := filepath.Join(dir, "snmp6")
	os.WriteFile(snmp, []byte(`Ip: Forwarding DefaultTTL
Ip: 1 64
Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors
Udp: 35 0 7 36 5 0 0 0 0
UdpLite: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors
UdpLite: 0 0 99 0 99 0 0 0 0
`), 0o644)
	os.WriteFile(snmp6, []byte("Udp6InDatagrams 4\nUdp6InErrors 2\nUdp6RcvbufErrors 1\n"), 0o644)

	in, rcvbuf, ok := readUDPKernelErrors(snmp, snmp6)
	if !ok || in != 9 || rcvbuf != 6 {
		t.Fatalf("got in=%d rcvbuf=%d ok=%v, want 9 6 true", in, rcvbuf, ok)
	}
	in, rcvbuf, ok = readUDPKernelErrors(snmp, filepath.Join(dir, "none"))
	if !ok || in != 7 || rcvbuf != 5 {
		t.Fatalf("without snmp6: got in=%d rcvbuf=%d ok=%v", in, rcvbuf, ok)
	}
	if _, _, ok := readUDPKernelErrors(filepath.Join(dir, "none"), snmp6); ok {
		t.Fatal("ok without /proc/net/snmp")
	}
}

func TestMetricsRegistered(t *testing.T) {
	reg := prometheus.NewRegistry()
	if _, err := New(Config{UDPAddr: ":0"}, &fakeSink{}, nil, reg); err != nil {
		t.Fatal(err)
	}
	// A second collector on the same registry fails on its own metrics but
	// not on the shared dropped counter.
	if _, err := New(Config{}, &fakeSink{}, nil, reg); err == nil {
		t.Error("duplicate registration not reported")
	}
	shared := prometheus.NewRegistry()
	shared.MustRegister(prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vigie_records_dropped_total", Help: "Records dropped before the store, by reason.",
	}, []string{"reason"}))
	if _, err := New(Config{}, &fakeSink{}, nil, shared); err != nil {
		t.Errorf("with the dropped counter already registered: %v", err)
	}
	if _, err := os.Stat("/proc/net/snmp"); err == nil {
		if metricValue(t, reg, "vigie_udp_kernel_rcvbuf_errors_total") < 0 ||
			metricValue(t, reg, "vigie_udp_kernel_in_errors_total") < 0 {
			t.Error("kernel UDP counters missing")
		}
	}
}
