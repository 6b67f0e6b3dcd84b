package store

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"sync"
	"testing"
	"time"

	"vigie/record"
)

var benchWords = []string{"connection", "refused", "timeout", "checkpoint", "statement", "duration",
	"login", "session", "backup", "rsync", "transfer", "complete", "failed", "user", "database", "query",
	"sale_order", "res_partner", "worker", "cron", "werkzeug", "request", "GET", "POST", "/web/login"}

// benchRecords makes n records of about 256 bytes of varied text, like a
// busy ERP server's log, one of which in a hundred carries the word "rare".
func benchRecords(n int, start time.Time) []record.Record {
	rng := rand.New(rand.NewPCG(1, 2))
	recs := make([]record.Record, n)
	for i := range recs {
		msg := make([]byte, 0, 256)
		for k := 0; len(msg) < 200; k++ {
			msg = append(msg, benchWords[rng.IntN(len(benchWords))]...)
			msg = append(msg, ' ')
			if k%6 == 0 { // ids, durations, pids: a number every few words
				msg = strconv.AppendInt(msg, int64(rng.IntN(100000)), 10)
				msg = append(msg, ' ')
			}
		}
		if i%100 == 0 {
			msg = append(msg, "rare"...)
		}
		at := start.Add(time.Duration(i) * 10 * time.Microsecond)
		recs[i] = record.Record{Time: at, Received: at, Host: "erp" + strconv.Itoa(i%8), App: "odoo",
			ProcID: "4711", Severity: 6, Facility: 16, Source: "syslog/tcp 10.0.0.5", Message: string(msg)}
	}
	return recs
}

// BenchmarkWrite measures committed records per second through the writer
// with the full-text index, fed by 4 producers like 4 TCP connections.
func BenchmarkWrite(b *testing.B) {
	s, _ := openTest(b, Options{})
	recs := benchRecords(100_000, time.Now().Add(-time.Hour))
	b.SetBytes(256)
	b.ResetTimer()
	ctx := context.Background()
	var wg sync.WaitGroup
	const producers, chunk = 4, 256
	per := b.N / producers
	for p := range producers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < per; i += chunk {
				n := min(chunk, per-i)
				batch := make([]record.Record, n)
				for j := range batch {
					batch[j] = recs[(p*per+i+j)%len(recs)]
				}
				s.Submit(ctx, batch)
			}
		}()
	}
	wg.Wait()
	s.SubmitSync(ctx, nil)
	b.StopTimer()
	b.ReportMetric(float64(per*producers)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkSearch measures the newest 100 full-text matches over a store of
// searchN records, for a rare word, a word in every record, and a host.
func BenchmarkSearch(b *testing.B) {
	const searchN = 500_000
	s, _ := openTest(b, Options{})
	start := time.Now().Add(-48 * time.Hour)
	recs := benchRecords(searchN, start)
	for i := 0; i < len(recs); i += 20_000 {
		if err := s.SubmitSync(context.Background(), recs[i:min(i+20_000, len(recs))]); err != nil {
			b.Fatal(err)
		}
	}
	for _, q := range []string{"rare", "connection OR refused OR timeout", "host:erp3", "rare host:erp0", "severity<=err"} {
		b.Run(fmt.Sprintf("%d/%s", searchN, q), func(b *testing.B) {
			for b.Loop() {
				if _, err := s.Search(context.Background(), Request{Query: q, Limit: 100}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
