package ui

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"vigie/record"
)

// BenchmarkIngest posts agent batches of 10,000 Odoo-like records through the
// real handler and store, one after the other as an agent does.
func BenchmarkIngest(b *testing.B) {
	ts, _ := newTestServer(b)
	var raw bytes.Buffer
	for i := range 10_000 {
		r := record.Record{Time: time.Date(2026, 11, 22, 10, 0, 0, i*1000, time.UTC), Host: "erp1", App: "odoo", ProcID: "4711", Severity: 6, Facility: 1,
			Message: fmt.Sprintf(`10.0.0.%d - - [22/Nov/2026 10:00:00] "POST /web/dataset/call_kw/res.partner/read HTTP/1.1" 200 - %d 0.0%02d 0.0%02d`, i%250, i%97, i%89, i%83),
			Fields:  map[string]string{"db": "Specibike", "logger": "werkzeug", "level": "INFO", "pid": "4711", "file": "/var/log/odoo/odoo-server.log", "http.status": "200", "duration_ms": "12.5"}}
		line, _ := json.Marshal(r)
		raw.Write(line)
		raw.WriteByte('\n')
	}
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestSpeed)
	zw.Write(raw.Bytes())
	zw.Close()
	b.SetBytes(int64(raw.Len()))
	b.ResetTimer()
	cpu0 := ingestCPU()
	for i := range b.N {
		req, _ := http.NewRequest("POST", ts.URL+"/api/v1/ingest", bytes.NewReader(gz.Bytes()))
		req.Header.Set("Authorization", "Bearer "+agentToken)
		req.Header.Set("X-Vigie-Agent", "erp1")
		req.Header.Set("X-Vigie-Batch", fmt.Sprint(i+1))
		req.Header.Set("Content-Encoding", "gzip")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 200 {
			b.Fatal(err, resp.StatusCode)
		}
		resp.Body.Close()
	}
	cpu := ingestCPU() - cpu0
	b.StopTimer()
	b.ReportMetric(float64(b.N*10_000)/b.Elapsed().Seconds(), "records/s")
	// CPU per record (client, handler and store in this process) is steadier
	// than records/s on a shared machine.
	if cpu > 0 {
		b.ReportMetric(float64(cpu.Nanoseconds())/1e3/float64(b.N*10_000), "cpu-µs/record")
	}
}
