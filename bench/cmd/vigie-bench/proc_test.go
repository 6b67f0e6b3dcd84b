package main

import (
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const sampleStatus = `Name:	vigie
Umask:	0022
State:	S (sleeping)
VmPeak:	 2462788 kB
VmSize:	 2462788 kB
VmLck:	       0 kB
VmHWM:	  153600 kB
VmRSS:	  101234 kB
Threads:	12
`

func TestParseVmHWM(t *testing.T) {
	got, err := parseVmHWM(strings.NewReader(sampleStatus))
	if err != nil || got != 153600*1024 {
		t.Fatalf("parseVmHWM = %d, %v; want %d", got, err, 153600*1024)
	}
	for _, bad := range []string{"Name: x\nVmRSS: 12 kB\n", "VmHWM: 12 MB\n", "VmHWM: x kB\n", "VmHWM:\n"} {
		if v, err := parseVmHWM(strings.NewReader(bad)); err == nil {
			t.Errorf("parseVmHWM(%q) = %d, no error", bad, v)
		}
	}
}

func TestParseStatCPU(t *testing.T) {
	// A command name with spaces and parentheses; utime 1234, stime 566.
	stat := "4711 (vi gie) (x)) S 1 4711 4711 0 -1 4194560 12345 0 0 0 1234 566 0 0 20 0 12 0 98765 2462788 25308 18446744073709551615\n"
	got, err := parseStatCPU(stat)
	if err != nil || math.Abs(got-18.0) > 1e-9 {
		t.Fatalf("parseStatCPU = %v, %v; want 18.0", got, err)
	}
	for _, bad := range []string{"", "4711 vigie S 1 2", "4711 (vigie) S 1 2 3", "4711 (vigie) S 1 4711 4711 0 -1 4194560 12345 0 0 0 x 566 0"} {
		if v, err := parseStatCPU(bad); err == nil {
			t.Errorf("parseStatCPU(%q) = %v, no error", bad, v)
		}
	}
}

func TestReadProcUsageSelf(t *testing.T) {
	// Burn a little CPU and memory so both figures are above zero.
	b := make([]byte, 32<<20)
	for i := range b {
		b[i] = byte(i)
	}
	x := 0
	for i := 0; i < 50_000_000; i++ {
		x += i ^ int(b[i%len(b)])
	}
	u, err := readProcUsage(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	if u.PeakRSS < 32<<20 || u.CPUSeconds <= 0 {
		t.Fatalf("self usage %+v (x=%d): want RSS >= 32 MiB and CPU > 0", u, x)
	}
	if _, err := readProcUsage(1 << 30); err == nil {
		t.Error("no error for a process that does not exist")
	}
}

const sampleSNMP = `Ip: Forwarding DefaultTTL InReceives
Ip: 1 64 12345
Udp: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors
Udp: 100 2 37 99 35 0 0 0 0
UdpLite: InDatagrams NoPorts InErrors OutDatagrams RcvbufErrors SndbufErrors InCsumErrors IgnoredMulti MemErrors
UdpLite: 0 0 0 0 0 0 0 0 0
`

func TestParseSNMP(t *testing.T) {
	m, err := parseSNMP(strings.NewReader(sampleSNMP), "Udp")
	if err != nil {
		t.Fatal(err)
	}
	if m["RcvbufErrors"] != 35 || m["InErrors"] != 37 || m["InDatagrams"] != 100 || len(m) != 9 {
		t.Fatalf("parseSNMP = %v", m)
	}
	if _, err := parseSNMP(strings.NewReader("Udp: A B\nUdp: 1\n"), "Udp"); err == nil {
		t.Error("no error for a short value line")
	}
	if _, err := parseSNMP(strings.NewReader("Ip: A\nIp: 1\n"), "Udp"); err == nil {
		t.Error("no error without a Udp line")
	}
	if _, err := readUDPSNMP(); err != nil {
		t.Errorf("the real /proc/net/snmp: %v", err)
	}
}

const sampleMetrics = `# HELP vigie_store_records_total Records committed to the store.
# TYPE vigie_store_records_total counter
vigie_store_records_total 1.234567e+06
vigie_store_records_total_extra 5
vigie_records_dropped_total{reason="queue_full"} 3
vigie_records_dropped_total{reason="too big, {really}"} 4
vigie_store_batch_commit_seconds_bucket{le="0.005"} 10
vigie_store_batch_commit_seconds_sum 1.5
vigie_syslog_received_total{transport="tcp"} 100 1700000000000
`

func TestParseMetrics(t *testing.T) {
	m, err := parseMetrics(strings.NewReader(sampleMetrics))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]float64{
		"vigie_store_records_total":               1234567,
		"vigie_store_records_total_extra":         5,
		"vigie_records_dropped_total":             7,
		"vigie_store_batch_commit_seconds_bucket": 10,
		"vigie_store_batch_commit_seconds_sum":    1.5,
		"vigie_syslog_received_total":             100,
	}
	if len(m) != len(want) {
		t.Errorf("parseMetrics: %v", m)
	}
	for k, v := range want {
		if m[k] != v {
			t.Errorf("%s = %v, want %v", k, m[k], v)
		}
	}
	if _, err := parseMetrics(strings.NewReader("novalue\n")); err == nil {
		t.Error("no error for a line without a value")
	}
}

func TestLineCounter(t *testing.T) {
	p := filepath.Join(t.TempDir(), "out.log")
	c := &lineCounter{path: p}
	if n, err := c.count(); n != 0 || err != nil {
		t.Fatalf("missing file: %d, %v", n, err)
	}
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString("a\nb\nhalf")
	if n, _ := c.count(); n != 2 {
		t.Fatalf("count %d, want 2", n)
	}
	f.WriteString(" line\n" + strings.Repeat("x\n", 3<<20/2))
	if n, _ := c.count(); n != 3+3<<20/2 {
		t.Fatalf("count %d, want %d", n, 3+3<<20/2)
	}
}

func TestPercentile(t *testing.T) {
	xs := []float64{5, 1, 4, 2, 3}
	if p := percentile(xs, 50); p != 3 {
		t.Errorf("median %v", p)
	}
	if p := percentile([]float64{4, 1, 3, 2}, 50); p != 2.5 {
		t.Errorf("even median %v", p)
	}
	var many []float64
	for i := 21; i >= 1; i-- {
		many = append(many, float64(i))
	}
	if p := percentile(many, 90); p != 19 {
		t.Errorf("p90 of 1..21 = %v, want 19", p)
	}
	if !math.IsNaN(percentile(nil, 50)) {
		t.Error("empty: want NaN")
	}
	if xs[0] != 5 {
		t.Error("percentile sorted its argument")
	}
}
