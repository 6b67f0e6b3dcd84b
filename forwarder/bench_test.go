//go:build linux

package forwarder

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"vigie/cmd/config"
)

// BenchmarkAgentOdooFile runs the real agent (tail, multiline, Odoo parse,
// JSON, spool with its fsyncs, gzip, HTTP) on an Odoo log file of
// benchOdooLines lines and ships it to an in-process collector stand-in
// (benchSink). Run it on one core, as the target is stated:
//
//	taskset -c 1 go test -run '^$' -bench AgentOdooFile -benchtime 1x -count 5 -cpu 1 ./forwarder/
//
// Each iteration reads the whole file with a fresh state directory. Reported:
//   - lines/s: lines shipped per second of wall time, up to all records
//     but the last (the last waits for the multiline timeout, 2 s, as no
//     line follows it); the last batch still waits up to its age (1 s, seen
//     in 200 ms ticks), which this figure includes;
//   - cpu-µs/line: the process's CPU (user+system, getrusage) per line over
//     the same span; it includes the sink's own work (HTTP, gunzip, count);
//   - sink-µs/line: that sink work alone (per-thread CPU of its handler);
//   - agent-µs/line: the difference, the agent's own cost;
//   - maxrss-MiB: the peak RSS of the whole test process, sink included.
func BenchmarkAgentOdooFile(b *testing.B) {
	dir := b.TempDir()
	path := filepath.Join(dir, "odoo-server.log")
	lf, err := writeOdooLog(path, benchOdooLines)
	if err != nil {
		b.Fatal(err)
	}
	sink := newBenchSink("bench", "bench-token-0123456789")
	srv := httptest.NewServer(sink)
	defer srv.Close()
	logger := slog.New(slog.DiscardHandler)

	var cpu, sinkCPU time.Duration
	var wall time.Duration
	b.ResetTimer()
	for i := range b.N {
		sink.reset()
		cfg := &config.Agent{
			AgentID:  "bench",
			Server:   config.AgentServer{URL: srv.URL, Token: "bench-token-0123456789"},
			StateDir: filepath.Join(dir, "state"+strconv.Itoa(i)),
			Spool:    config.AgentSpool{MaxSize: 1 << 30},
			Sources:  []config.AgentSource{{Type: "file", Paths: []string{path}, Format: "odoo"}},
		}
		a, err := New(cfg, logger, nil)
		if err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		cpu0, start := processCPU(), time.Now()
		go func() { done <- a.Run(ctx) }()

		var butLast bool
		deadline := time.Now().Add(10*time.Minute + time.Duration(lf.lines)*100*time.Microsecond)
		for n := sink.records.Load(); n < int64(lf.records); n = sink.records.Load() {
			if !butLast && n >= int64(lf.records-1) {
				butLast = true
				wall += time.Since(start)
				cpu += processCPU() - cpu0
				sinkCPU += time.Duration(sink.cpu.Load())
			}
			select {
			case err := <-done:
				cancel()
				b.Fatalf("agent stopped with %d of %d records shipped: %v", n, lf.records, err)
			case <-time.After(5 * time.Millisecond):
			}
			if time.Now().After(deadline) {
				cancel()
				b.Fatalf("%d of %d records shipped before the deadline", n, lf.records)
			}
		}
		if !butLast { // the last records came in one batch
			wall += time.Since(start)
			cpu += processCPU() - cpu0
			sinkCPU += time.Duration(sink.cpu.Load())
		}
		cancel()
		if err := <-done; err != nil {
			b.Fatalf("agent: %v", err)
		}
		if n, d := sink.records.Load(), sink.dups.Load(); n != int64(lf.records) || d != 0 {
			b.Fatalf("sink has %d records (%d resent batches), want %d exactly once", n, d, lf.records)
		}
	}
	b.StopTimer()
	lines := float64(lf.lines) * float64(b.N)
	us := func(d time.Duration) float64 { return float64(d.Microseconds()) / lines }
	b.ReportMetric(lines/wall.Seconds(), "lines/s")
	b.ReportMetric(us(cpu), "cpu-µs/line")
	b.ReportMetric(us(sinkCPU), "sink-µs/line")
	b.ReportMetric(us(cpu-sinkCPU), "agent-µs/line")
	b.ReportMetric(float64(maxRSS())/(1<<20), "maxrss-MiB")
}

// benchOdooLines is the size of the benchmark's file: about 75 MB, a few
// seconds of work per iteration at the target rate.
const benchOdooLines = 400_000

// benchSink is the collector's POST /api/v1/ingest reduced to what the agent
// relies on: bearer token and agent name checked, gzip body counted line by
// line, a batch number seen before answered as a duplicate, and the answer
// {"accepted":N} once counted.
type benchSink struct {
	agent, token string
	records      atomic.Int64
	dups         atomic.Int64
	cpu          atomic.Int64 // ns of handler thread CPU

	mu   sync.Mutex
	seen map[string]bool
}

func newBenchSink(agent, token string) *benchSink {
	return &benchSink{agent: agent, token: token, seen: map[string]bool{}}
}

func (s *benchSink) reset() {
	s.mu.Lock()
	s.seen = map[string]bool{}
	s.mu.Unlock()
	s.records.Store(0)
	s.dups.Store(0)
	s.cpu.Store(0)
}

func (s *benchSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	// Locked to its thread, the handler's CPU is that thread's CPU.
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	t0 := threadCPU()
	defer func() { s.cpu.Add(int64(threadCPU() - t0)) }()

	if r.Method != http.MethodPost || r.URL.Path != "/api/v1/ingest" {
		http.Error(w, `{"error":"not found"}`, http.StatusNotFound)
		return
	}
	if r.Header.Get("Authorization") != "Bearer "+s.token || r.Header.Get("X-Vigie-Agent") != s.agent {
		http.Error(w, `{"error":"bad token or agent"}`, http.StatusUnauthorized)
		return
	}
	batch := r.Header.Get("X-Vigie-Batch")
	var body io.Reader = io.LimitReader(r.Body, 64<<20)
	if r.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(body)
		if err != nil {
			http.Error(w, `{"error":"bad gzip"}`, http.StatusBadRequest)
			return
		}
		body = io.LimitReader(zr, 256<<20)
	}
	n, err := countLines(body)
	if err != nil {
		http.Error(w, `{"error":"bad body"}`, http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	dup := s.seen[batch]
	s.seen[batch] = true
	s.mu.Unlock()
	if dup {
		s.dups.Add(1)
	} else {
		s.records.Add(int64(n))
	}
	w.Header().Set("Content-Type", "application/json")
	fmt.Fprintf(w, `{"accepted":%d,"duplicate":%t}`, n, dup)
}

func countLines(r io.Reader) (int, error) {
	buf := make([]byte, 64<<10)
	n := 0
	for {
		k, err := r.Read(buf)
		n += bytes.Count(buf[:k], []byte{'\n'})
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return n, err
		}
	}
}

func rusage(who int) syscall.Rusage {
	var ru syscall.Rusage
	_ = syscall.Getrusage(who, &ru)
	return ru
}

func cpuOf(ru syscall.Rusage) time.Duration {
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func processCPU() time.Duration { return cpuOf(rusage(syscall.RUSAGE_SELF)) }

// threadCPU is the calling thread's CPU (RUSAGE_THREAD, Linux only).
func threadCPU() time.Duration { return cpuOf(rusage(1)) }

// maxRSS is the process's peak resident set, in bytes (Linux: KiB units).
func maxRSS() int64 { return rusage(syscall.RUSAGE_SELF).Maxrss << 10 }
