package collector

import (
	"context"
	"fmt"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"vigie/record"
)

// countingSink discards records, counting them and the calls.
type countingSink struct{ n, calls atomic.Int64 }

func (s *countingSink) Submit(_ context.Context, recs []record.Record) error {
	s.calls.Add(1)
	s.n.Add(int64(len(recs)))
	return nil
}

func (s *countingSink) TrySubmit(recs []record.Record) bool {
	s.calls.Add(1)
	s.n.Add(int64(len(recs)))
	return true
}

// frame256 returns a 256-byte RFC 5424 message.
func frame256(i int) string {
	m := msg5424("bench-host", fmt.Sprintf("seq=%08d ", i))
	return m + strings.Repeat("x", 256-len(m))
}

// BenchmarkTCPIngest: octet-counted 256-byte frames over one loopback
// connection, parsed and submitted to a discarding sink.
func BenchmarkTCPIngest(b *testing.B) {
	sink := &countingSink{}
	c, _ := startCollector(b, Config{TCPAddr: "127.0.0.1:0"}, sink)
	conn := dialTCP(b, c)
	var chunk strings.Builder
	const perChunk = 1024
	for i := range perChunk {
		chunk.WriteString(octet(frame256(i)))
	}
	data := []byte(chunk.String())
	b.SetBytes(int64(len(data) / perChunk))
	b.ResetTimer()
	start := time.Now()
	go func() {
		for sent := 0; sent < b.N; sent += perChunk {
			n := min(perChunk, b.N-sent)
			if _, err := conn.Write(data[:len(data)/perChunk*n]); err != nil {
				return
			}
		}
	}()
	for sink.n.Load() < int64(b.N) {
		time.Sleep(100 * time.Microsecond)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "msgs/s")
}

// BenchmarkUDPIngest: 256-byte datagrams, with the sender kept at most a
// window ahead of the reader so that the kernel drops nothing: it measures
// what one reader sustains. cpu-ns/msg is the CPU time of the whole
// process (sender included) per datagram: on a busy machine it varies
// less than msgs/s, and it is what the store's writers are left.
func BenchmarkUDPIngest(b *testing.B) {
	sink := &countingSink{}
	c, _ := startCollector(b, Config{UDPAddr: "127.0.0.1:0"}, sink)
	conn := dialUDP(b, c)
	msgs := make([][]byte, 1024)
	for i := range msgs {
		msgs[i] = []byte(frame256(i))
	}
	const window = 2000
	b.SetBytes(256)
	b.ResetTimer()
	start, cpu0 := time.Now(), processCPU()
	for i := range b.N {
		if int64(i)-sink.n.Load() > window {
			for int64(i)-sink.n.Load() > window/4 {
				time.Sleep(50 * time.Microsecond)
			}
		}
		if _, err := conn.Write(msgs[i%len(msgs)]); err != nil {
			b.Fatal(err)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for sink.n.Load() < int64(b.N) && time.Now().Before(deadline) {
		time.Sleep(100 * time.Microsecond)
	}
	b.ReportMetric(float64(sink.n.Load())/time.Since(start).Seconds(), "msgs/s")
	if cpu := processCPU() - cpu0; cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/msg")
	}
	if calls := sink.calls.Load(); calls > 0 {
		b.ReportMetric(float64(sink.n.Load())/float64(calls), "msgs/call")
	}
	if lost := int64(b.N) - sink.n.Load(); lost > 0 {
		b.ReportMetric(float64(lost), "lost")
	}
}

// BenchmarkFramer: framing alone, from memory.
func BenchmarkFramer(b *testing.B) {
	var chunk strings.Builder
	for i := range 1024 {
		chunk.WriteString(octet(frame256(i)))
	}
	data := chunk.String()
	b.SetBytes(int64(len(data)))
	r := strings.NewReader(data)
	for b.Loop() {
		r.Reset(data)
		f := newFramer(newBufReader(r), defaultMaxMessageSize)
		for {
			if _, err := f.next(); err != nil {
				break
			}
		}
	}
}
