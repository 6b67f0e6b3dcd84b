package collector

import (
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

func dialUDP(t testing.TB, c *Collector) net.Conn {
	t.Helper()
	addr, _, _ := c.Addrs()
	conn, err := net.Dial("udp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func TestUDPRecords(t *testing.T) {
	sink := &fakeSink{}
	c, reg := startCollector(t, Config{UDPAddr: "127.0.0.1:0", MaxMessageSize: 200}, sink)
	conn := dialUDP(t, c)
	long := msg5424("h", strings.Repeat("z", 300))
	for _, m := range []string{
		msg5424("db1", "with LF") + "\n",
		msg5424("db1", "with NUL") + "\x00",
		msg5424("db1", "with CRLF") + "\r\n",
		"<13>1 - - app - - - no host",
		long,
		"\n", // empty: ignored
		msg5424("db1", "last"),
	} {
		if _, err := conn.Write([]byte(m)); err != nil {
			t.Fatal(err)
		}
	}
	recs := sink.waitRecords(t, 6, 5*time.Second)
	want := []struct{ host, message string }{
		{"db1", "with LF"}, {"db1", "with NUL"}, {"db1", "with CRLF"}, {"127.0.0.1", "no host"},
		{"h", strings.Repeat("z", 200-len(msg5424("h", "")))}, {"db1", "last"},
	}
	for i, w := range want {
		r := recs[i]
		if r.Host != w.host || r.Message != w.message || r.Source != "syslog/udp 127.0.0.1" {
			t.Errorf("record %d: host %q source %q message %.40q, want %q %.40q", i, r.Host, r.Source, r.Message, w.host, w.message)
		}
	}
	if recs[4].Fields["truncated"] != "true" {
		t.Errorf("long datagram not marked truncated: %v", recs[4].Fields)
	}
	if got := metricValue(t, reg, "vigie_syslog_received_total", "transport", "udp"); got != 6 {
		t.Errorf("received_total = %v, want 6", got)
	}
}

// A full sink never blocks the UDP reader: records are dropped and counted.
func TestUDPFullSinkDrops(t *testing.T) {
	sink := &fakeSink{}
	release := sink.block()
	defer release()
	c, reg := startCollector(t, Config{UDPAddr: "127.0.0.1:0"}, sink)
	conn := dialUDP(t, c)
	const n = 50
	for i := range n {
		fmt.Fprintf(conn, "%s", msg5424("h", fmt.Sprintf("drop %d", i)))
	}
	eventually(t, "50 drops counted", 5*time.Second, func() bool {
		return metricValue(t, reg, "vigie_records_dropped_total", "reason", "queue_full") == n
	})
	if sink.blockedCalls() != 0 || len(sink.records()) != 0 {
		t.Fatal("the UDP reader used the blocking Submit")
	}
	release()
	fmt.Fprintf(conn, "%s", msg5424("h", "after"))
	if recs := sink.waitRecords(t, 1, 5*time.Second); recs[0].Message != "after" {
		t.Fatalf("got %q", recs[0].Message)
	}
}

func TestTrimDatagram(t *testing.T) {
	for in, want := range map[string]string{
		"": "", "a": "a", "a\n": "a", "a\r\n": "a", "a\x00": "a", "a\n\n": "a\n", "\n": "", "\r\n": "", "a\r": "a\r",
	} {
		if got := string(trimDatagram([]byte(in))); got != want {
			t.Errorf("trimDatagram(%q) = %q, want %q", in, got, want)
		}
	}
}

// Gaps in Snare's event counter are counted per sender.
func TestUDPSnareLost(t *testing.T) {
	sink := &fakeSink{}
	c, reg := startCollector(t, Config{UDPAddr: "127.0.0.1:0"}, sink)
	conn := dialUDP(t, c)
	for _, counter := range []int{1234, 1235, 1240} {
		fmt.Fprintf(conn, "<14>Nov 22 10:00:00 WIN-SRV1 MSWinEventLog\t1\tSecurity\t%d\tSun Nov 22 10:00:00 2026\t4624\t"+
			"Microsoft-Windows-Security-Auditing\tADMIN\tUser\tSuccess Audit\tWIN-SRV1\tLogon\t\tAn account was successfully logged on.\t567\n", counter)
		time.Sleep(10 * time.Millisecond) // keep the order
	}
	recs := sink.waitRecords(t, 3, 5*time.Second)
	if recs[2].Fields["snare.counter"] != "1240" {
		t.Fatalf("snare counter not parsed: %v", recs[2].Fields)
	}
	if got := metricValue(t, reg, "vigie_snare_lost_messages_total"); got != 4 {
		t.Errorf("snare lost = %v, want 4", got)
	}
}
