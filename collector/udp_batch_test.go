package collector

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"vigie/record"
)

// gatedSink is a fakeSink whose calls wait while gate is locked: the reader
// then stays inside a call while datagrams pile up in the socket, as they do
// when the CPU is busy elsewhere. It notes the size of every call.
type gatedSink struct {
	*fakeSink
	gate  sync.Mutex
	mu    sync.Mutex
	sizes []int // records per call, accepted or refused
}

func newGatedSink() *gatedSink { return &gatedSink{fakeSink: &fakeSink{}} }

// wait returns once the gate is open.
func (s *gatedSink) wait() {
	s.gate.Lock()
	defer s.gate.Unlock()
}

func (s *gatedSink) note(n int) {
	s.mu.Lock()
	s.sizes = append(s.sizes, n)
	s.mu.Unlock()
}

func (s *gatedSink) TrySubmit(recs []record.Record) bool {
	s.wait()
	s.note(len(recs))
	return s.fakeSink.TrySubmit(recs)
}

func (s *gatedSink) Submit(ctx context.Context, recs []record.Record) error {
	s.wait()
	s.note(len(recs))
	return s.fakeSink.Submit(ctx, recs)
}

// callSizes returns the number of calls and the largest.
func (s *gatedSink) callSizes() (calls, largest int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.sizes {
		largest = max(largest, n)
	}
	return len(s.sizes), largest
}

// udpTarget is where to send to reach c's UDP listener over loopback:
// ip ("127.0.0.1" or "::1") and the listener's port.
func udpTarget(t testing.TB, c *Collector, ip string) *net.UDPConn {
	t.Helper()
	addr, _, _ := c.Addrs()
	raddr := &net.UDPAddr{IP: net.ParseIP(ip), Port: addr.(*net.UDPAddr).Port}
	conn, err := net.DialUDP("udp", nil, raddr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// sendInChunks sends msg(i) for i < n, chunk datagrams at a time with
// s.gate held, so that they wait in the socket, then lets the reader go
// and calls caughtUp(sent) until it reports the reader has read them:
// the socket never holds more than a chunk, so the kernel drops nothing
// even with a small receive buffer.
func sendInChunks(t *testing.T, s *gatedSink, conn net.Conn, n, chunk int, msg func(int) string, caughtUp func(sent int) bool) {
	t.Helper()
	for sent := 0; sent < n; {
		s.gate.Lock()
		end := min(sent+chunk, n)
		for i := sent; i < end; i++ {
			if _, err := conn.Write([]byte(msg(i))); err != nil {
				s.gate.Unlock()
				t.Fatal(err)
			}
		}
		// Loopback delivers within the write, mostly: a pause makes sure.
		time.Sleep(2 * time.Millisecond)
		s.gate.Unlock()
		sent = end
		eventually(t, fmt.Sprintf("%d datagrams read", sent), 10*time.Second, func() bool { return caughtUp(sent) })
	}
}

func burstMsg(i int) string {
	return msg5424(fmt.Sprintf("h%d", i%7), fmt.Sprintf("seq=%05d", i)) + "\n"
}

// A burst arrives whole, each datagram once, in calls of many records.
func TestUDPBurstBatched(t *testing.T) {
	for _, tc := range []struct{ listen, from, source string }{
		{"127.0.0.1:0", "127.0.0.1", "syslog/udp 127.0.0.1"},
		{"[::1]:0", "::1", "syslog/udp ::1"},
		{":0", "127.0.0.1", "syslog/udp 127.0.0.1"}, // dual stack, IPv4 sender
		{":0", "::1", "syslog/udp ::1"},             // dual stack, IPv6 sender
	} {
		t.Run(tc.listen+" from "+tc.from, func(t *testing.T) {
			if strings.Contains(tc.listen+tc.from, ":1") || tc.listen == ":0" {
				if ln, err := net.ListenPacket("udp", "[::1]:0"); err != nil {
					t.Skipf("no IPv6 loopback: %v", err)
				} else {
					ln.Close()
				}
			}
			sink := newGatedSink()
			c, reg := startCollector(t, Config{UDPAddr: tc.listen}, sink)
			conn := udpTarget(t, c, tc.from)
			const n = 5000
			sendInChunks(t, sink, conn, n, 200, burstMsg, func(sent int) bool { return len(sink.records()) >= sent })

			recs := sink.records()
			if len(recs) != n {
				t.Fatalf("sink holds %d records, want %d", len(recs), n)
			}
			seen := make([]bool, n)
			for _, r := range recs {
				var i int
				if _, err := fmt.Sscanf(r.Message, "seq=%05d", &i); err != nil || i < 0 || i >= n {
					t.Fatalf("unexpected message %q", r.Message)
				}
				if seen[i] {
					t.Fatalf("seq %d twice", i)
				}
				seen[i] = true
				if want := fmt.Sprintf("h%d", i%7); r.Host != want || r.App != "app1" || r.ProcID != "42" || r.MsgID != "ID1" ||
					r.Source != tc.source || r.Message != fmt.Sprintf("seq=%05d", i) || r.Received.IsZero() ||
					r.Fields[record.FieldParseError] != "" || r.Fields[record.FieldTruncated] != "" {
					t.Fatalf("record %d: %+v", i, r)
				}
			}
			calls, largest := sink.callSizes()
			t.Logf("%d records in %d calls, largest %d", n, calls, largest)
			if calls > n/10 || largest < 2 || largest > udpBatch {
				t.Errorf("%d records in %d calls, largest %d: want batches of 2 to %d", n, calls, largest, udpBatch)
			}
			if got := metricValue(t, reg, "vigie_syslog_received_total", "transport", "udp"); got != n {
				t.Errorf("received_total = %v, want %d", got, n)
			}
			wantBytes := 0
			for i := range n {
				wantBytes += len(burstMsg(i)) - 1 // without the LF
			}
			if got := metricValue(t, reg, "vigie_syslog_received_bytes_total", "transport", "udp"); got != float64(wantBytes) {
				t.Errorf("received_bytes_total = %v, want %d", got, wantBytes)
			}
			if got := metricValue(t, reg, "vigie_records_dropped_total", "reason", "queue_full"); got > 0 {
				t.Errorf("dropped = %v", got)
			}
		})
	}
}

// A full sink refuses whole batches: every record is counted as dropped,
// once.
func TestUDPBurstFullSinkDrops(t *testing.T) {
	sink := newGatedSink()
	release := sink.block()
	defer release()
	c, reg := startCollector(t, Config{UDPAddr: "127.0.0.1:0"}, sink)
	conn := udpTarget(t, c, "127.0.0.1")
	const n = 5000
	received := func() float64 { return metricValue(t, reg, "vigie_syslog_received_total", "transport", "udp") }
	sendInChunks(t, sink, conn, n, 200, burstMsg, func(sent int) bool { return received() >= float64(sent) })
	eventually(t, "drops counted", 5*time.Second, func() bool {
		return metricValue(t, reg, "vigie_records_dropped_total", "reason", "queue_full") >= n
	})
	if got := metricValue(t, reg, "vigie_records_dropped_total", "reason", "queue_full"); got != n {
		t.Errorf("dropped = %v, want %d", got, n)
	}
	if got := received(); got != n {
		t.Errorf("received_total = %v, want %d", got, n)
	}
	calls, largest := sink.callSizes()
	if len(sink.records()) != 0 || sink.blockedCalls() != 0 || calls > n/10 || largest < 2 {
		t.Errorf("sink got %d records, %d blocked calls, %d calls, largest %d", len(sink.records()), sink.blockedCalls(), calls, largest)
	}
	// Once the sink has room again, records flow.
	release()
	fmt.Fprint(conn, msg5424("h", "after"))
	if recs := sink.waitRecords(t, 1, 5*time.Second); recs[0].Message != "after" {
		t.Fatalf("got %q", recs[0].Message)
	}
}

// The limit applies to the message: a trailing CR LF, LF or NUL does not
// count, and a datagram longer than the read buffer is marked truncated
// even when a LF happens to sit where the buffer ends.
func TestUDPTruncationEdges(t *testing.T) {
	const limit = 200
	sink := &fakeSink{}
	c, reg := startCollector(t, Config{UDPAddr: "127.0.0.1:0", MaxMessageSize: limit}, sink)
	conn := dialUDP(t, c)
	pad := func(total int, tail string) string {
		m := msg5424("h", "")
		return m + strings.Repeat("y", total-len(m)-len(tail)) + tail
	}
	cases := []struct {
		datagram  string
		truncated bool
		msgLen    int // of the whole message (header included) as kept
	}{
		{pad(limit, ""), false, limit},
		{pad(limit+1, "\n"), false, limit},
		{pad(limit+2, "\r\n"), false, limit}, // fills the buffer: MaxMessageSize+2
		{pad(limit+1, ""), true, limit},
		{pad(limit+2, "y\n"), true, limit},
		{pad(limit+3, "\r\n"), true, limit},
		{pad(limit+3, "\n\n\n"), true, limit}, // LFs where the buffer ends
		{pad(limit+300, "\n"), true, limit},
		{pad(1000, strings.Repeat("\n", 800)), true, limit},
	}
	for _, tc := range cases {
		if _, err := conn.Write([]byte(tc.datagram)); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Millisecond) // keep the order
	}
	recs := sink.waitRecords(t, len(cases), 5*time.Second)
	header := len(msg5424("h", ""))
	truncated := 0
	for i, tc := range cases {
		r := recs[i]
		got := r.Fields[record.FieldTruncated] == "true"
		if got {
			truncated++
		}
		if got != tc.truncated || header+len(r.Message) != tc.msgLen {
			t.Errorf("case %d (%d bytes, ends %q): truncated %v, message %d bytes; want %v, %d",
				i, len(tc.datagram), tc.datagram[len(tc.datagram)-3:], got, header+len(r.Message), tc.truncated, tc.msgLen)
		}
	}
	if got := metricValue(t, reg, "vigie_syslog_truncated_total", "transport", "udp"); got != float64(truncated) {
		t.Errorf("truncated_total = %v, want %d", got, truncated)
	}
}

// Shutdown submits what the socket still holds, in batches, with the
// blocking Submit.
func TestUDPShutdownDrains(t *testing.T) {
	sink := newGatedSink()
	c, err := New(Config{UDPAddr: "127.0.0.1:0"}, sink, testLogger(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	conn := udpTarget(t, c, "127.0.0.1")
	const n = 200
	sink.gate.Lock()
	for i := range n {
		fmt.Fprint(conn, burstMsg(i))
	}
	time.Sleep(2 * time.Millisecond)
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- c.Shutdown(ctx)
	}()
	eventually(t, "draining", 5*time.Second, c.draining.Load)
	time.Sleep(10 * time.Millisecond)
	sink.gate.Unlock()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	recs := sink.records()
	if len(recs) != n {
		t.Fatalf("after Shutdown the sink holds %d records, want %d", len(recs), n)
	}
	for i, r := range recs {
		if want := fmt.Sprintf("seq=%05d", i); r.Message != want {
			t.Fatalf("record %d: %q, want %q", i, r.Message, want)
		}
	}
	if calls, largest := sink.callSizes(); calls > n/10 || largest < 2 {
		t.Errorf("%d records in %d calls, largest %d", n, calls, largest)
	}
}
