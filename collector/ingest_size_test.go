package collector

import (
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"vigie/record"
)

// batchSink keeps the last batch handed to it.
type batchSink struct{ recs []record.Record }

func (s *batchSink) SubmitAgentBatch(_ context.Context, _ string, _ int64, _ int, recs []record.Record) (bool, error) {
	s.recs = recs
	return false, nil
}

// A batch's records are allocated about once, at about their number, from
// how much of the body has been read: whether it is gzipped or not, whether
// its records are alike or not, and without Content-Length (then doubling).
func TestIngestSizesTheBatchOnce(t *testing.T) {
	odoo := `{"time":"2026-11-22T10:00:00Z","host":"erp1","app":"odoo","severity":6,"message":"10.0.0.7 - - \"POST /web/dataset/call_kw HTTP/1.1\" 200 - %d","fields":{"db":"Specibike"}}` + "\n"
	var alike, mixed strings.Builder
	for i := range 10_000 {
		fmt.Fprintf(&alike, odoo, i)
		if i%10 == 0 { // a traceback now and then: records of uneven size
			fmt.Fprintf(&mixed, `{"message":"Traceback %d %s"}`+"\n", i, strings.Repeat("File \\\"/opt/odoo/x.py\\\", line 12 ", 40))
		} else {
			fmt.Fprintf(&mixed, odoo, i)
		}
	}
	for _, c := range []struct {
		name     string
		body     string
		gz       bool
		length   bool
		maxWaste float64 // capacity over length
	}{
		{"gzip", alike.String(), true, true, 1.15},
		{"plain", alike.String(), false, true, 1.15},
		{"gzip, uneven records", mixed.String(), true, true, 1.3},
		{"no Content-Length", alike.String(), true, false, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			sink := &batchSink{}
			h, err := NewIngestHandler(IngestConfig{Sink: sink, Agent: func(*http.Request) (string, bool) { return "erp1", true }})
			if err != nil {
				t.Fatal(err)
			}
			body := []byte(c.body)
			if c.gz {
				var b bytes.Buffer
				zw := gzip.NewWriter(&b)
				zw.Write(body)
				zw.Close()
				body = b.Bytes()
			}
			req := httptest.NewRequest("POST", "/api/v1/ingest", io.MultiReader(bytes.NewReader(body)))
			if c.length {
				req.ContentLength = int64(len(body))
			} else {
				req.ContentLength = -1
			}
			req.Header.Set("X-Vigie-Agent", "erp1")
			req.Header.Set("X-Vigie-Batch", "1")
			if c.gz {
				req.Header.Set("Content-Encoding", "gzip")
			}
			w := httptest.NewRecorder()
			h.ServeHTTP(w, req)
			if w.Code != 200 || len(sink.recs) != 10_000 {
				t.Fatalf("%d %s: %d records", w.Code, w.Body, len(sink.recs))
			}
			t.Logf("capacity %d for %d records", cap(sink.recs), len(sink.recs))
			if waste := float64(cap(sink.recs)) / float64(len(sink.recs)); waste > c.maxWaste {
				t.Errorf("capacity %d for %d records (%.2f×), want at most %.2f×", cap(sink.recs), len(sink.recs), waste, c.maxWaste)
			}
		})
	}
}

func TestGrownCap(t *testing.T) {
	for _, c := range []struct{ n, guess, limit, want int }{
		{0, 0, 50_000, 256},
		{256, 9000, 50_000, 512},      // too early to trust a guess
		{1024, 0, 50_000, 2048},       // no guess: doubling
		{1024, 10_000, 50_000, 10689}, // the guess and its margin
		{1024, 1100, 50_000, 1280},    // at least a quarter more
		{4096, 90_000, 50_000, 50_000},
		{49_000, 0, 50_000, 50_000},
	} {
		if got := grownCap(c.n, c.guess, c.limit); got != c.want {
			t.Errorf("grownCap(%d, %d, %d) = %d, want %d", c.n, c.guess, c.limit, got, c.want)
		}
	}
}
