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
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"vigie/collector"
	"vigie/store"
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

func BenchmarkPipeline(b *testing.B) {
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	st, err := store.Open(ctx, b.TempDir(), store.Options{Registerer: reg})
	if err != nil {
		b.Fatal(err)
	}
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
}
