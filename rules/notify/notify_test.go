package notify

import (
	"bytes"
	"flag"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
	"time"

	"vigie/cmd/config"
	"vigie/record"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

var t0 = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

func sampleMessage(state string) *Message {
	m := &Message{
		ID: 17, Rule: "postgres-errors", State: Firing, Key: `postgres-errors{host="erp1"}`,
		StartedAt: t0, Summary: "12 matches of app:postgres severity<=err in 5m (host=erp1)",
		URL: "http://vigie.lan:8080/alerts/17", Severity: "warning",
		Labels: map[string]string{"host": "erp1", "team": "dba"},
		Samples: []record.Record{{
			ID: 81234, Time: t0.Add(-time.Second), Received: t0.Add(-time.Second + time.Millisecond),
			Host: "erp1", App: "postgres", ProcID: "4711", Facility: 16, Severity: 3, Source: "syslog/tcp 10.0.0.5",
			Message: `FATAL:  password authentication failed for user "openpg"`, Fields: map[string]string{"db": "Specibike", "user": "openpg"},
		}},
	}
	if state == Resolved {
		r := t0.Add(7 * time.Minute)
		m.State, m.ResolvedAt = Resolved, &r
	}
	return m
}

// TestBodiesGolden pins the three receivers' payloads (docs/rules.md shows
// the same ones).
func TestBodiesGolden(t *testing.T) {
	for _, typ := range []string{"webhook", "slack", "alertmanager"} {
		for _, state := range []string{Firing, Resolved} {
			t.Run(typ+"-"+state, func(t *testing.T) {
				c, err := NewClient(config.Notifier{Name: "n", Type: typ, URL: "http://recv.lan/hook"})
				if err != nil {
					t.Fatal(err)
				}
				body, err := c.Body(sampleMessage(state))
				if err != nil {
					t.Fatal(err)
				}
				var ind bytes.Buffer
				if err := jsonIndent(&ind, body); err != nil {
					t.Fatalf("not JSON: %v\n%s", err, body)
				}
				golden := filepath.Join("testdata", typ+"-"+state+".json")
				if *update {
					os.WriteFile(golden, ind.Bytes(), 0o644)
				}
				want, err := os.ReadFile(golden)
				if err != nil {
					t.Fatalf("%v (run with -update to create it)", err)
				}
				if !bytes.Equal(ind.Bytes(), want) {
					t.Errorf("%s differs:\n%s", golden, ind.Bytes())
				}
			})
		}
	}
}

func TestEndpoints(t *testing.T) {
	cases := []struct{ typ, url, want string }{
		{"webhook", "https://chat.lan/hooks/x", "https://chat.lan/hooks/x"},
		{"slack", "https://mattermost.lan/hooks/abc", "https://mattermost.lan/hooks/abc"},
		{"alertmanager", "http://am.lan:9093", "http://am.lan:9093/api/v2/alerts"},
		{"alertmanager", "http://am.lan:9093/", "http://am.lan:9093/api/v2/alerts"},
		{"alertmanager", "http://proxy.lan/am/", "http://proxy.lan/am/api/v2/alerts"},
	}
	for _, c := range cases {
		cl, err := NewClient(config.Notifier{Name: "n", Type: c.typ, URL: c.url})
		if err != nil {
			t.Fatal(err)
		}
		if cl.endpoint != c.want {
			t.Errorf("%s %s: endpoint %s, want %s", c.typ, c.url, cl.endpoint, c.want)
		}
	}
	if _, err := NewClient(config.Notifier{Name: "n", Type: "email", URL: "x"}); err == nil {
		t.Error("unknown type accepted")
	}
}

// The HMAC-SHA256 test vector everyone checks against (also what
// `openssl dgst -sha256 -hmac key` prints for the sentence).
func TestSignatureVector(t *testing.T) {
	got := Signature("key", []byte("The quick brown fox jumps over the lazy dog"))
	if want := "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8"; got != want {
		t.Errorf("got %s\nwant %s", got, want)
	}
	if !VerifySignature("key", []byte("The quick brown fox jumps over the lazy dog"), got) {
		t.Error("VerifySignature refused its own signature")
	}
	if VerifySignature("key", []byte("The quick brown fox jumps over the lazy cat"), got) {
		t.Error("VerifySignature accepted another body")
	}
}

func TestSendHeaders(t *testing.T) {
	var got http.Header
	var body []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got = r.Header.Clone()
		body = readAll(r)
		w.WriteHeader(204)
	}))
	defer srv.Close()
	c, err := NewClient(config.Notifier{Name: "ops", Type: "webhook", URL: srv.URL, Secret: "s3cret",
		Headers: config.Pairs{{Key: "Authorization", Value: "Bearer abc"}}, Timeout: config.Duration(time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	sent := []byte(`{"rule":"x"}`)
	res := c.Send(t.Context(), "d-1", sent, time.Now())
	if !res.OK() || res.Status != 204 {
		t.Fatalf("response %+v", res)
	}
	if !bytes.Equal(body, sent) {
		t.Errorf("body %q", body)
	}
	for k, want := range map[string]string{
		"Content-Type": "application/json", "X-Vigie-Delivery": "d-1", "Authorization": "Bearer abc",
		"X-Vigie-Signature": Signature("s3cret", sent),
	} {
		if got.Get(k) != want {
			t.Errorf("%s: %q, want %q", k, got.Get(k), want)
		}
	}
}

func TestSendDoesNotFollowRedirects(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "https://elsewhere.lan/hook", http.StatusFound)
	}))
	defer srv.Close()
	c, _ := NewClient(config.Notifier{Name: "ops", Type: "webhook", URL: srv.URL})
	res := c.Send(t.Context(), "d-1", []byte("{}"), time.Now())
	if res.Status != 302 || res.Retryable() || res.OK() {
		t.Fatalf("response %+v", res)
	}
	if e := res.Error(time.Second); e != `HTTP 302: redirected to "https://elsewhere.lan/hook"; set the notifier's url to the final address` {
		t.Errorf("error text %q", e)
	}
}

func TestRetryable(t *testing.T) {
	for status, want := range map[int]bool{200: false, 400: false, 401: false, 404: false, 408: true, 429: true, 500: true, 502: true, 503: true} {
		if got := (Response{Status: status}).Retryable(); got != want {
			t.Errorf("%d: retryable %v, want %v", status, got, want)
		}
	}
	if !(Response{Err: http.ErrHandlerTimeout}).Retryable() {
		t.Error("a network error is not retryable")
	}
}

func TestLabelName(t *testing.T) {
	for in, want := range map[string]string{"host": "host", "sdid.param": "sdid_param", "9x": "_9x", "": "_", "é": "__"} {
		if got := LabelName(in); got != want {
			t.Errorf("LabelName(%q) = %q, want %q", in, got, want)
		}
	}
}
