package ui

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"vigie/collector"
	"vigie/record"
	"vigie/store"
)

func postBatch(t *testing.T, ts *httptest.Server, token, agent, seq string, body []byte, gz bool) (int, map[string]any) {
	t.Helper()
	if gz {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write(body)
		zw.Close()
		body = b.Bytes()
	}
	req, _ := http.NewRequest("POST", ts.URL+"/api/v1/ingest", bytes.NewReader(body))
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	req.Header.Set("X-Vigie-Agent", agent)
	req.Header.Set("X-Vigie-Batch", seq)
	req.Header.Set("Content-Type", "application/x-ndjson")
	if gz {
		req.Header.Set("Content-Encoding", "gzip")
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

func TestIngestStoresABatchOnce(t *testing.T) {
	ts, _ := newTestServer(t)
	body := []byte(`{"time":"2026-11-22T11:00:00Z","host":"erp1","app":"odoo","severity":3,"message":"ingest traceback KeyError","fields":{"db":"Specibike"}}
{"time":"2026-11-22T11:00:01Z","host":"erp1","app":"postgres","severity":6,"message":"ingest duration: 1500.0 ms","fields":{"duration_ms":"1500.0"}}
this line is not JSON ingest
`)
	code, out := postBatch(t, ts, agentToken, "erp1", "1", body, true)
	if code != 200 || out["accepted"] != float64(3) || out["duplicate"] != false {
		t.Fatalf("first send: %d %v", code, out)
	}
	// Resent after a timeout: acknowledged, not stored again.
	code, out = postBatch(t, ts, agentToken, "erp1", "1", body, true)
	if code != 200 || out["duplicate"] != true {
		t.Fatalf("resend: %d %v", code, out)
	}
	var res struct{ Records []record.Record }
	get(t, ts, "/api/v1/search?q=ingest", testToken, &res)
	if len(res.Records) != 3 {
		t.Fatalf("%d records after a send and a resend, want 3: %+v", len(res.Records), res.Records)
	}
	for _, r := range res.Records {
		if r.Source != "agent/erp1 127.0.0.1" || r.Received.IsZero() {
			t.Errorf("source/received not set by the collector: %+v", r)
		}
	}
	get(t, ts, "/api/v1/search?q=app:postgres+duration_ms>1000", testToken, &res)
	if len(res.Records) != 1 {
		t.Errorf("slow statement not found by duration_ms: %+v", res.Records)
	}
	get(t, ts, "/api/v1/search?q=parse_error:*", testToken, &res)
	if len(res.Records) != 1 || res.Records[0].Message != "this line is not JSON ingest" {
		t.Errorf("invalid line not kept raw: %+v", res.Records)
	}
	var src struct {
		Sources []struct {
			Source, Kind, Name string
			Records            int
			ParseErrors        int `json:"parse_errors"`
		}
	}
	get(t, ts, "/api/v1/sources", testToken, &src)
	if len(src.Sources) != 1 || src.Sources[0].Kind != "agent" || src.Sources[0].Name != "erp1" || src.Sources[0].Records != 3 || src.Sources[0].ParseErrors != 1 {
		t.Errorf("sources %+v", src)
	}
}

func TestIngestRefusals(t *testing.T) {
	ts, _ := newTestServer(t)
	good := []byte(`{"message":"x"}` + "\n")
	cases := []struct {
		name, token, agent, seq string
		body                    []byte
		want                    int
		msg                     string
	}{
		{"no token", "", "erp1", "1", good, 401, "agent token"},
		{"API token is not an agent token", testToken, "erp1", "1", good, 401, "agent token"},
		{"another agent's name", agentToken, "erp2", "1", good, 403, "does not match"},
		{"no batch number", agentToken, "erp1", "", good, 400, "X-Vigie-Batch"},
		{"batch zero", agentToken, "erp1", "0", good, 400, "X-Vigie-Batch"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, out := postBatch(t, ts, c.token, c.agent, c.seq, c.body, false)
			if code != c.want || !strings.Contains(out["error"].(string), c.msg) {
				t.Errorf("%d %v, want %d mentioning %q", code, out, c.want, c.msg)
			}
		})
	}
	// An agent token opens nothing but ingest.
	if code := get(t, ts, "/api/v1/search", agentToken, nil); code != 401 {
		t.Errorf("agent token on search: %d", code)
	}
}

func TestIngestRefusesAGzipBomb(t *testing.T) {
	ts, _ := newTestServer(t, func(o *Options) { o.Ingest.MaxDecoded = 1 << 20 })
	// 8 MiB of newlines compress to a few KiB.
	code, out := postBatch(t, ts, agentToken, "erp1", "1", bytes.Repeat([]byte("\n"), 8<<20), true)
	if code != 413 {
		t.Fatalf("%d %v, want 413", code, out)
	}
}

func TestIngestLongRecordIsCutAndMarked(t *testing.T) {
	ts, _ := newTestServer(t)
	long := strings.Repeat("x", 100<<10) // longer than the reader's buffer
	body := []byte(`{"host":"erp1","app":"odoo","message":"longmsg ` + long + `"}` + "\n" + `{"message":"after the long one"}` + "\n")
	code, out := postBatch(t, ts, agentToken, "erp1", "1", body, true)
	if code != 200 || out["accepted"] != float64(2) {
		t.Fatalf("%d %v", code, out)
	}
	var res struct{ Records []record.Record }
	get(t, ts, "/api/v1/search?q=longmsg", testToken, &res)
	if len(res.Records) != 1 || len(res.Records[0].Message) != 64<<10 || res.Records[0].Fields["truncated"] != "true" {
		t.Fatalf("long record: %d records, message %d bytes, fields %v", len(res.Records), len(res.Records[0].Message), res.Records[0].Fields)
	}
	get(t, ts, "/api/v1/search?q=after", testToken, &res)
	if len(res.Records) != 1 {
		t.Errorf("the record after the long one: %d", len(res.Records))
	}
}

func TestIngestWindowHeader(t *testing.T) {
	if store.MaxAgentWindow != collector.MaxAgentWindow {
		t.Fatalf("store remembers %d batches per agent, the endpoint allows %d in flight", store.MaxAgentWindow, collector.MaxAgentWindow)
	}
	ts, _ := newTestServer(t)
	for _, c := range []struct {
		window string
		want   int
	}{{"0", 400}, {"65", 400}, {"many", 400}, {"8", 200}} {
		req, _ := http.NewRequest("POST", ts.URL+"/api/v1/ingest", strings.NewReader(`{"message":"windowed"}`+"\n"))
		req.Header.Set("Authorization", "Bearer "+agentToken)
		req.Header.Set("X-Vigie-Agent", "erp1")
		req.Header.Set("X-Vigie-Batch", "5")
		req.Header.Set("X-Vigie-Window", c.window)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		raw, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.want || (c.want == 400 && !strings.Contains(string(raw), "X-Vigie-Window")) {
			t.Errorf("window %s: %d %s, want %d", c.window, resp.StatusCode, raw, c.want)
		}
	}
}
