package ui

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"vigie/record"
	"vigie/store"
)

const (
	testToken  = "test-token-0123456789"
	agentToken = "agent-token-0123456789"
)

var now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func newTestServer(t testing.TB, tweak ...func(*Options)) (*httptest.Server, *store.Store) {
	t.Helper()
	reg := prometheus.NewRegistry()
	st, err := store.Open(context.Background(), t.TempDir(), store.Options{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	opt := Options{Store: st, APITokens: []Token{{"scripts", testToken}}, AgentTokens: []Token{{"erp1", agentToken}},
		Gatherer: reg, Registerer: reg, Now: func() time.Time { return now }}
	for _, f := range tweak {
		f(&opt)
	}
	s, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return ts, st
}

func get(t *testing.T, ts *httptest.Server, path, token string, out any) int {
	t.Helper()
	req, _ := http.NewRequest("GET", ts.URL+path, nil)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
	}
	return resp.StatusCode
}

func TestAuth(t *testing.T) {
	ts, _ := newTestServer(t)
	for _, tok := range []string{"", "wrong-token-0123456789", testToken + "x", strings.TrimSuffix(testToken, "9")} {
		var e map[string]string
		if code := get(t, ts, "/api/v1/search?q=x", tok, &e); code != 401 || e["error"] == "" {
			t.Errorf("token %q: %d %v, want 401 with an error", tok, code, e)
		}
	}
	if code := get(t, ts, "/api/v1/search", testToken, nil); code != 200 {
		t.Errorf("good token: %d", code)
	}
	// No authentication for health and metrics, as DESIGN.md says.
	for _, p := range []string{"/healthz", "/metrics"} {
		if code := get(t, ts, p, "", nil); code != 200 {
			t.Errorf("%s: %d", p, code)
		}
	}
	var e map[string]string
	if code := get(t, ts, "/api/v1/nope", testToken, &e); code != 404 {
		t.Errorf("unknown endpoint: %d %v", code, e)
	}
}

func TestSearchFacetsHistogram(t *testing.T) {
	ts, st := newTestServer(t)
	recs := []record.Record{
		{Time: now.Add(-30 * time.Minute), Host: "erp1", App: "postgres", Severity: 3, Message: "could not connect to server", Fields: map[string]string{"db": "Specibike"}},
		{Time: now.Add(-20 * time.Minute), Host: "erp1", App: "odoo", Severity: 6, Message: "login ok"},
		{Time: now.Add(-10 * time.Minute), Host: "www", App: "nginx", Severity: 6, Message: "GET / 200"},
	}
	for i := range recs {
		recs[i].Received = recs[i].Time
	}
	if err := st.SubmitSync(context.Background(), recs); err != nil {
		t.Fatal(err)
	}
	var res struct {
		Records []record.Record `json:"records"`
		Next    string          `json:"next"`
	}
	if code := get(t, ts, "/api/v1/search?q="+url.QueryEscape("host:erp1")+"&from=-1h&to=now&limit=1", testToken, &res); code != 200 {
		t.Fatalf("search: %d", code)
	}
	if len(res.Records) != 1 || res.Records[0].Message != "login ok" || res.Next == "" {
		t.Fatalf("page 1: %+v", res)
	}
	next := res.Next
	res.Records, res.Next = nil, ""
	get(t, ts, "/api/v1/search?q=host:erp1&limit=1&before="+next, testToken, &res)
	if len(res.Records) != 1 || res.Records[0].Fields["db"] != "Specibike" {
		t.Fatalf("page 2: %+v", res)
	}

	var f struct {
		Field  string `json:"field"`
		Counts []struct {
			Value string `json:"value"`
			Count int    `json:"count"`
		} `json:"counts"`
	}
	get(t, ts, "/api/v1/facets?field=host&from=-1h", testToken, &f)
	if f.Field != "host" || len(f.Counts) != 2 || f.Counts[0].Value != "erp1" || f.Counts[0].Count != 2 {
		t.Errorf("facets %+v", f)
	}

	var h struct {
		Buckets []struct {
			Time  time.Time `json:"time"`
			Count int       `json:"count"`
		} `json:"buckets"`
	}
	get(t, ts, "/api/v1/histogram?from=-1h&to=now&step=15m", testToken, &h)
	total := 0
	for _, b := range h.Buckets {
		total += b.Count
	}
	if len(h.Buckets) != 5 || total != 3 {
		t.Errorf("histogram %+v", h)
	}
}

func TestBadRequests(t *testing.T) {
	ts, _ := newTestServer(t)
	cases := map[string]string{
		"/api/v1/search?q=" + url.QueryEscape("host:erp1 (app:x"): "column",
		"/api/v1/search?from=yesterday":                           "from:",
		"/api/v1/search?limit=0":                                  "limit:",
		"/api/v1/search?from=now&to=-1h":                          "to: before from",
		"/api/v1/search?before=xyz":                               "before:",
		"/api/v1/histogram?step=1ms&from=-30d":                    "step:",
		"/api/v1/histogram?step=fast":                             "step:",
	}
	for path, want := range cases {
		var e struct {
			Error  string
			Column int
		}
		if code := get(t, ts, path, testToken, &e); code != 400 || !strings.Contains(e.Error, want) {
			t.Errorf("%s: %d %q, want 400 mentioning %q", path, code, e.Error, want)
		}
		// A query error carries its column for the dashboard to point at.
		if (want == "column") != (e.Column > 0) {
			t.Errorf("%s: column %d", path, e.Column)
		}
	}
	var e map[string]string
	if code := get(t, ts, "/api/v1/search?q="+strings.Repeat("a", 5000), testToken, &e); code != 413 {
		t.Errorf("long query: %d %v", code, e)
	}
}

func TestHeadersAreSafe(t *testing.T) {
	ts, _ := newTestServer(t)
	resp, err := http.Get(ts.URL + "/healthz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("headers %v", resp.Header)
	}
}
