package collector

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func dialTCP(t testing.TB, c *Collector) net.Conn {
	t.Helper()
	_, addr, _ := c.Addrs()
	conn, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func msg5424(host, text string) string {
	return "<134>1 2026-01-02T03:04:05.123Z " + host + " app1 42 ID1 - " + text
}

func octet(m string) string { return fmt.Sprintf("%d %s", len(m), m) }

func TestTCPRecords(t *testing.T) {
	sink := &fakeSink{}
	c, reg := startCollector(t, Config{TCPAddr: "127.0.0.1:0"}, sink)
	conn := dialTCP(t, c)
	input := octet(msg5424("web1", "first")) +
		msg5424("web2", "second") + "\n" +
		"no syslog header here\n" +
		"<13>1 2026-01-02T03:04:05Z - app2 - - - no host\r\n" +
		"12x bad frame\n"
	if _, err := io.WriteString(conn, input); err != nil {
		t.Fatal(err)
	}
	recs := sink.waitRecords(t, 5, 5*time.Second)
	tests := []struct {
		host, app, message string
		severity           int
		parseError         bool
	}{
		{"web1", "app1", "first", 6, false},
		{"web2", "app1", "second", 6, false},
		{"127.0.0.1", "", "no syslog header here", 5, false},
		{"127.0.0.1", "app2", "no host", 5, false},
		{"127.0.0.1", "", "12x bad frame", -1, true},
	}
	for i, tt := range tests {
		r := recs[i]
		if r.Host != tt.host || r.Message != tt.message || (!tt.parseError && r.App != tt.app) {
			t.Errorf("record %d: host %q app %q message %q, want %q %q %q", i, r.Host, r.App, r.Message, tt.host, tt.app, tt.message)
		}
		if tt.severity >= 0 && r.Severity != tt.severity {
			t.Errorf("record %d: severity %d, want %d", i, r.Severity, tt.severity)
		}
		if got := r.Fields["parse_error"] != ""; got != tt.parseError {
			t.Errorf("record %d: parse_error %q, want set=%v", i, r.Fields["parse_error"], tt.parseError)
		}
		if r.Source != "syslog/tcp 127.0.0.1" {
			t.Errorf("record %d: source %q", i, r.Source)
		}
		if r.Received.IsZero() || r.Received.Location() != time.UTC {
			t.Errorf("record %d: received %v", i, r.Received)
		}
	}
	if got := metricValue(t, reg, "vigie_syslog_received_total", "transport", "tcp"); got != 5 {
		t.Errorf("received_total = %v, want 5", got)
	}
	if got := metricValue(t, reg, "vigie_syslog_parse_errors_total", "transport", "tcp"); got != 1 {
		t.Errorf("parse_errors_total = %v, want 1", got)
	}
	if got := metricValue(t, reg, "vigie_syslog_framing_errors_total", "transport", "tcp"); got != 1 {
		t.Errorf("framing_errors_total = %v, want 1", got)
	}
	if got := metricValue(t, reg, "vigie_syslog_connections", "transport", "tcp"); got != 1 {
		t.Errorf("connections = %v, want 1", got)
	}
}

func TestTCPTruncation(t *testing.T) {
	sink := &fakeSink{}
	c, reg := startCollector(t, Config{TCPAddr: "127.0.0.1:0", MaxMessageSize: 100}, sink)
	conn := dialTCP(t, c)
	big := msg5424("h", strings.Repeat("a", 150-len(msg5424("h", "")))) // max < 150 <= 2*max
	exact := msg5424("h", "")
	exact += strings.Repeat("b", 100-len(exact))
	if _, err := io.WriteString(conn, octet(big)+big+"\n"+exact+"\n"+octet(exact)); err != nil {
		t.Fatal(err)
	}
	recs := sink.waitRecords(t, 4, 5*time.Second)
	for i, want := range []bool{true, true, false, false} {
		if got := recs[i].Fields["truncated"] == "true"; got != want {
			t.Errorf("record %d: truncated %v, want %v", i, got, want)
		}
	}
	if got := metricValue(t, reg, "vigie_syslog_truncated_total", "transport", "tcp"); got != 2 {
		t.Errorf("truncated_total = %v, want 2", got)
	}
}

// With a store that stops taking records, the reader stops (the sender
// ends up blocked in write) and resumes without loss once it is back.
func TestTCPBackpressure(t *testing.T) {
	sink := &fakeSink{}
	release := sink.block()
	c, _ := startCollector(t, Config{TCPAddr: "127.0.0.1:0"}, sink)
	conn := dialTCP(t, c)

	const n = 20000
	pad := strings.Repeat("p", 1000)
	written := make(chan error, 1)
	go func() {
		w := bufio.NewWriter(conn)
		for i := range n {
			fmt.Fprintf(w, "%s\n", msg5424("h", fmt.Sprintf("seq=%06d %s", i, pad)))
		}
		written <- w.Flush()
	}()
	eventually(t, "a blocked Submit", 5*time.Second, func() bool { return sink.blockedCalls() == 1 })
	select {
	case err := <-written:
		t.Fatalf("the sender wrote %d MB while the sink was full (err %v): the reader did not stop", n/1000, err)
	case <-time.After(300 * time.Millisecond):
	}
	if got := len(sink.records()); got != 0 {
		t.Fatalf("%d records went through a full sink", got)
	}
	release()
	if err := <-written; err != nil {
		t.Fatal(err)
	}
	recs := sink.waitRecords(t, n, 20*time.Second)
	for i, r := range recs {
		if want := fmt.Sprintf("seq=%06d ", i); !strings.HasPrefix(r.Message, want) {
			t.Fatalf("record %d: %.20q, want prefix %q", i, r.Message, want)
		}
	}
}

// Messages written just before Shutdown are all submitted, even when the
// store is slow and most of them still sit in the kernel's buffers.
func TestShutdownDrains(t *testing.T) {
	for _, slow := range []bool{false, true} {
		t.Run(fmt.Sprintf("slow=%v", slow), func(t *testing.T) {
			sink := &fakeSink{}
			if slow {
				sink.delay = 2 * time.Millisecond
			}
			c, err := New(Config{TCPAddr: "127.0.0.1:0"}, sink, testLogger(t), nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := c.Start(context.Background()); err != nil {
				t.Fatal(err)
			}
			const perConn, conns = 5000, 3
			for k := range conns {
				conn := dialTCP(t, c)
				var b strings.Builder
				for i := range perConn {
					b.WriteString(octet(msg5424(fmt.Sprintf("h%d", k), fmt.Sprintf("seq=%d", i))))
				}
				if _, err := io.WriteString(conn, b.String()); err != nil {
					t.Fatal(err)
				}
			}
			// An idle connection must not hold Shutdown up.
			dialTCP(t, c)
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			start := time.Now()
			if err := c.Shutdown(ctx); err != nil {
				t.Fatal(err)
			}
			if got := len(sink.records()); got != perConn*conns {
				t.Fatalf("after Shutdown (%v) the sink holds %d records, want %d", time.Since(start), got, perConn*conns)
			}
			if _, tcp, _ := c.Addrs(); tcp != nil {
				if conn, err := net.DialTimeout("tcp", tcp.String(), time.Second); err == nil {
					conn.Close()
					t.Error("still accepting after Shutdown")
				}
			}
		})
	}
}

// Shutdown gives up when its context ends while the sink stays full.
func TestShutdownTimeout(t *testing.T) {
	sink := &fakeSink{}
	defer sink.block()()
	c, err := New(Config{TCPAddr: "127.0.0.1:0"}, sink, testLogger(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	conn := dialTCP(t, c)
	io.WriteString(conn, msg5424("h", "x")+"\n")
	eventually(t, "a blocked Submit", 5*time.Second, func() bool { return sink.blockedCalls() == 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	if err := c.Shutdown(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Shutdown: %v, want deadline exceeded", err)
	}
}

func TestMaxConnections(t *testing.T) {
	sink := &fakeSink{}
	c, reg := startCollector(t, Config{TCPAddr: "127.0.0.1:0", MaxConnections: 1}, sink)
	first := dialTCP(t, c)
	io.WriteString(first, msg5424("h", "one")+"\n")
	sink.waitRecords(t, 1, 5*time.Second)

	second := dialTCP(t, c)
	second.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := second.Read(make([]byte, 1)); !errors.Is(err, io.EOF) && !isReset(err) {
		t.Fatalf("second connection: read %v, want it closed", err)
	}
	if got := metricValue(t, reg, "vigie_syslog_connections_rejected_total", "transport", "tcp"); got != 1 {
		t.Errorf("rejected = %v, want 1", got)
	}
	// The first one still works.
	io.WriteString(first, msg5424("h", "two")+"\n")
	sink.waitRecords(t, 2, 5*time.Second)
}

func isReset(err error) bool { return err != nil && strings.Contains(err.Error(), "reset") }

func TestIdleTimeout(t *testing.T) {
	sink := &fakeSink{}
	c, reg := startCollector(t, Config{TCPAddr: "127.0.0.1:0", IdleTimeout: 100 * time.Millisecond}, sink)
	conn := dialTCP(t, c)
	io.WriteString(conn, msg5424("h", "before idle")+"\n")
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := conn.Read(make([]byte, 1)); !errors.Is(err, io.EOF) {
		t.Fatalf("read %v, want EOF from the idle timeout", err)
	}
	sink.waitRecords(t, 1, time.Second)
	eventually(t, "connections gauge back to 0", 2*time.Second, func() bool {
		return metricValue(t, reg, "vigie_syslog_connections", "transport", "tcp") == 0
	})
}

func TestNewAndStartErrors(t *testing.T) {
	sink := &fakeSink{}
	if _, err := New(Config{TLSAddr: ":0"}, sink, nil, nil); err == nil {
		t.Error("TLS address without TLS config accepted")
	}
	if _, err := New(Config{}, nil, nil, nil); err == nil {
		t.Error("nil sink accepted")
	}
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	c, err := New(Config{UDPAddr: "127.0.0.1:0", TCPAddr: busy.Addr().String()}, sink, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = c.Start(context.Background())
	if err == nil || !strings.Contains(err.Error(), busy.Addr().String()) {
		t.Fatalf("Start on a busy port: %v, want an error naming %s", err, busy.Addr())
	}
	if u, _, _ := c.Addrs(); u != nil {
		t.Errorf("UDP still bound after a failed Start: %v", u)
	}
}

// A UTF-8 message cut in the middle of a character must stay UTF-8: the
// partial character goes, not the whole message into Windows-1252.
func TestTruncationKeepsUTF8Whole(t *testing.T) {
	sink := &fakeSink{}
	c, _ := startCollector(t, Config{TCPAddr: "127.0.0.1:0", MaxMessageSize: 100}, sink)
	conn := dialTCP(t, c)
	head := msg5424("h", "")
	// "é" is two bytes; the 100-byte cut falls between them.
	msg := head + strings.Repeat("a", 99-len(head)) + strings.Repeat("é", 20)
	if _, err := io.WriteString(conn, octet(msg)+msg); err != nil {
		t.Fatal(err)
	}
	r := sink.waitRecords(t, 1, 5*time.Second)[0]
	if r.Fields["truncated"] != "true" || r.Fields["charset"] != "" || !utf8.ValidString(r.Message) || strings.ContainsRune(r.Message, utf8.RuneError) {
		t.Fatalf("message %q, fields %v", r.Message, r.Fields)
	}
	if want := strings.Repeat("a", 99-len(head)); r.Message != want {
		t.Errorf("message %q, want %q", r.Message, want)
	}
}
