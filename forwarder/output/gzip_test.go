package output

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"vigie/forwarder/spool"
	"vigie/record"
)

// The agent spools its batches gzip-compressed: the vigie output sends
// those bytes as they are (a resend is the same body), compresses only
// plain batches, and decompresses when told not to send gzip.
func TestVigieSendsSpooledGzipAsIs(t *testing.T) {
	var mu sync.Mutex
	type req struct {
		enc  string
		body []byte
	}
	var reqs []req
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		mu.Lock()
		reqs = append(reqs, req{r.Header.Get("Content-Encoding"), body})
		mu.Unlock()
		w.Write([]byte(`{"accepted":3}`))
	}))
	defer ts.Close()

	plain := ndjson("gz", 3)
	var c spool.Compressor
	gz := c.Append(nil, plain)
	b := spool.Batch{Seq: 11, Records: gz, Gzip: true, Count: 3}
	v := newVigie(t, ts.URL)
	for range 2 { // a resend: byte for byte the same
		if err := v.Send(context.Background(), b); err != nil {
			t.Fatal(err)
		}
	}
	if err := v.Send(context.Background(), spool.Batch{Seq: 12, Records: plain, Count: 3}); err != nil {
		t.Fatal(err)
	}
	noGzip := newVigie(t, ts.URL, func(c *VigieConfig) { c.NoGzip = true })
	if err := noGzip.Send(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(reqs) != 4 {
		t.Fatalf("%d requests", len(reqs))
	}
	for i := range 2 {
		if reqs[i].enc != "gzip" || !bytes.Equal(reqs[i].body, gz) {
			t.Errorf("request %d: %q, body not the spooled bytes", i, reqs[i].enc)
		}
	}
	if reqs[2].enc != "gzip" || bytes.Equal(reqs[2].body, plain) {
		t.Errorf("plain batch sent uncompressed: %q", reqs[2].enc)
	}
	if p, err := (spool.Batch{Records: reqs[2].body, Gzip: true}).Plain(); err != nil || !bytes.Equal(p, plain) {
		t.Errorf("plain batch compressed wrong: %v", err)
	}
	if reqs[3].enc != "" || !bytes.Equal(reqs[3].body, plain) {
		t.Errorf("no_gzip: %q %q", reqs[3].enc, reqs[3].body)
	}
}

// The syslog output reads compressed batches too, and refuses for good a
// batch whose compressed records are damaged.
func TestSyslogDecompressesBatches(t *testing.T) {
	srv := newSyslogServer(t, nil, 0)
	out, err := NewSyslog(SyslogConfig{Address: srv.ln.Addr().String(), Hostname: "agenthost"})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	when := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	var nd []byte
	for _, m := range []string{"first", "second"} {
		line, _ := json.Marshal(record.Record{Time: when, App: "odoo", Message: m})
		nd = append(append(nd, line...), '\n')
	}
	var c spool.Compressor
	gz := c.Append(nil, nd)
	if err := out.Send(context.Background(), spool.Batch{Seq: 1, Records: gz, Gzip: true, Count: 2}); err != nil {
		t.Fatal(err)
	}
	got := srv.receive(t, 2)
	if got[0].Message != "first" || got[1].Message != "second" || got[0].App != "odoo" {
		t.Fatalf("%+v", got)
	}
	err = out.Send(context.Background(), spool.Batch{Seq: 2, Records: gz[:len(gz)-9], Gzip: true, Count: 2})
	if _, ok := err.(*PermanentError); !ok {
		t.Fatalf("damaged batch: %v, want a PermanentError", err)
	}
}
