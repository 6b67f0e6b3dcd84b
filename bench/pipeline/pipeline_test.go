// Package pipeline benchmarks the whole ingestion path in one process, for
// profiling: syslog over loopback TCP → collector → store with its
// full-text index.
package pipeline

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"vigie/cmd/config"
	"vigie/collector"
	"vigie/rules"
	"vigie/store"
	"vigie/store/hub"
)

var words = []string{"connection", "refused", "timeout", "checkpoint", "statement", "duration",
	"login", "session", "backup", "rsync", "transfer", "complete", "failed", "user", "database"}

// frame is one octet-counted RFC 5424 message of about 256 bytes.
func frame(i int) []byte {
	msg := fmt.Sprintf("<134>1 2026-11-22T10:00:%02d.%06dZ erp%d odoo 4711 - [meta seq=\"%d\"] %s %s %d ms user=admin ip=10.0.0.%d req=%x %s %s %s",
		i%60, i%1000000, i%8, i, words[i%len(words)], words[(i/3)%len(words)], i%997, i%254, i*7919, words[(i/7)%len(words)], words[(i/11)%len(words)], words[(i/13)%len(words)])
	for len(msg) < 250 {
		msg += " " + words[(len(msg)+i)%len(words)]
	}
	return []byte(strconv.Itoa(len(msg)) + " " + msg)
}

// BenchmarkPipeline stores syslog over TCP, with the hub and a rules engine
// holding 0 or 100 threshold rules (issue #5: 100 rules may cost ingestion
// less than 10%). Compare the records/s of both with benchstat.
func BenchmarkPipeline(b *testing.B) {
	for _, n := range []int{0, 100} {
		b.Run(fmt.Sprintf("rules=%d", n), func(b *testing.B) { benchPipeline(b, n) })
	}
}

// ruleQueries are n distinct rule queries in the shapes people write.
func ruleQueries(n int) []string {
	shapes := []string{"app:%s severity<=err", "host:erp%d* severity<=warning", "%s failed", `"connection refused" host:erp%d`,
		"app:odoo -host:%s", "(app:nginx OR app:%s) timeout", "meta.seq>%d00000", "%s user"}
	var out []string
	for i := 0; len(out) < n; i++ {
		shape := shapes[i%len(shapes)]
		var q string
		if strings.Contains(shape, "%d") {
			q = fmt.Sprintf(shape, i)
		} else {
			q = fmt.Sprintf(shape, words[i%len(words)]+strconv.Itoa(i/len(words)))
		}
		out = append(out, q)
	}
	return out
}

func benchPipeline(b *testing.B, rulesN int) {
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	fanout := hub.New(reg)
	st, err := store.Open(ctx, b.TempDir(), store.Options{Registerer: reg, OnCommit: fanout.Publish})
	if err != nil {
		b.Fatal(err)
	}
	var rs []config.Rule
	for i, q := range ruleQueries(rulesN) {
		rs = append(rs, config.Rule{Name: fmt.Sprintf("r%d", i), Query: q, Severity: "warning",
			Threshold: &config.Threshold{Count: 1 << 30, Window: config.Duration(5 * time.Minute)}})
	}
	eng, err := rules.New(ctx, rules.Options{Rules: rs, DataDir: b.TempDir(), Search: st, Registerer: reg})
	if err != nil {
		b.Fatal(err)
	}
	fanout.Observe(eng.Observe)
	engCtx, stopEng := context.WithCancel(ctx)
	engDone := make(chan struct{})
	go func() { eng.Run(engCtx); close(engDone) }()
	defer func() { stopEng(); <-engDone; eng.Close() }()
	col, err := collector.New(collector.Config{TCPAddr: "127.0.0.1:0"}, st, nil, reg)
	if err != nil {
		b.Fatal(err)
	}
	if err := col.Start(ctx); err != nil {
		b.Fatal(err)
	}
	_, tcp, _ := col.Addrs()
	frames := make([][]byte, 10000)
	for i := range frames {
		frames[i] = frame(i)
	}
	b.SetBytes(256)
	cpu0 := cpuTime()
	b.ResetTimer()
	const conns = 4
	var wg sync.WaitGroup
	for c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			conn, err := net.Dial("tcp", tcp.String())
			if err != nil {
				b.Error(err)
				return
			}
			defer conn.Close()
			w := bufio.NewWriterSize(conn, 1<<16)
			for i := c; i < b.N; i += conns {
				w.Write(frames[i%len(frames)])
			}
			w.Flush()
		}()
	}
	wg.Wait()
	shutCtx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	col.Shutdown(shutCtx)
	st.Close()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
	// CPU per record is steadier than records/s on a shared machine, and
	// on a pipeline that keeps both cores busy it is what the rules take.
	b.ReportMetric(float64((cpuTime()-cpu0).Microseconds())/float64(b.N), "cpu-µs/record")
}

// cpuTime is the CPU the process has used, user and system.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
