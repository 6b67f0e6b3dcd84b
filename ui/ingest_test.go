package ui

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
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

// One batch mixing what the fast decoder reads, what it leaves to
// encoding/json and what is no record at all: each record comes back with
// its own values, none of its neighbour's.
func TestIngestMixedBatchKeepsEachRecord(t *testing.T) {
	ts, _ := newTestServer(t)
	body := []byte(`{"time":"2026-11-22T11:00:00Z","host":"erp1","app":"odoo","severity":3,"message":"mixed one \"quoted\" é","fields":{"db":"Specibike","pid":"4711"}}
{"time":"2026-11-22T11:00:01Z","Host":"erp2","app":"odoo","message":"mixed two by encoding/json"}
{"time":"2026-11-22T11:00:02Z","host":"erp1","message":"mixed three
{"time":"2026-11-22T11:00:03Z","host":"erp3","app":"cron","severity":9,"message":"mixed four"}
{"time":"2026-11-22T11:00:04Z","host":"erp1","app":"odoo","message":"mixed five \u00e9\ud83d\ude00","fields":{"db":"Other"}}
`)
	code, out := postBatch(t, ts, agentToken, "erp1", "1", body, true)
	if code != 200 || out["accepted"] != float64(5) {
		t.Fatalf("%d %v", code, out)
	}
	var res struct{ Records []record.Record }
	get(t, ts, "/api/v1/search?q=mixed&limit=10", testToken, &res)
	got := map[string]record.Record{}
	for _, r := range res.Records {
		got[r.Message] = r
	}
	for msg, want := range map[string]struct {
		host, app string
		sev       int
		fields    string
	}{
		"mixed one \"quoted\" é":     {"erp1", "odoo", 3, "map[db:Specibike pid:4711]"},
		"mixed two by encoding/json": {"erp2", "odoo", 0, "map[]"},
		"mixed four":                 {"erp3", "cron", 5, "map[ingest_note:severity 9 / facility 0 out of range, stored as notice/user]"},
		"mixed five é😀":              {"erp1", "odoo", 0, "map[db:Other]"},
		`{"time":"2026-11-22T11:00:02Z","host":"erp1","message":"mixed three`: {"", "", 5, "map[parse_error:agent: not a JSON record: unexpected end of JSON input]"},
	} {
		r, ok := got[msg]
		if !ok {
			t.Errorf("%q not stored; got %d records", msg, len(res.Records))
			continue
		}
		if r.Host != want.host || r.App != want.app || r.Severity != want.sev || fmt.Sprint(r.Fields) != want.fields {
			t.Errorf("%q: host %q app %q severity %d fields %v, want %+v", msg, r.Host, r.App, r.Severity, r.Fields, want)
		}
	}
}

func TestIngestBodyLimits(t *testing.T) {
	ts, _ := newTestServer(t, func(o *Options) { o.Ingest.MaxBody, o.Ingest.MaxRecords = 4<<10, 3 })
	line := `{"message":"limit"}` + "\n"
	noise := make([]byte, 8<<10) // hex of it compresses to about 8 KiB
	rand.Read(noise)
	for _, c := range []struct {
		name string
		body string
		gz   bool
		want int
		msg  string
	}{
		{"three records", strings.Repeat(line, 3), false, 200, ""},
		{"four records", strings.Repeat(line, 4), true, 413, "more than 3 records"},
		{"body over MaxBody as sent", strings.Repeat(" ", 5<<10) + line, false, 413, "size limit"},
		{"gzipped body under MaxBody", strings.Repeat(" ", 64<<10) + line, true, 200, ""},
		{"gzipped body over MaxBody", `{"message":"` + hex.EncodeToString(noise) + `"}` + "\n", true, 413, "size limit"},
	} {
		t.Run(c.name, func(t *testing.T) {
			code, out := postBatch(t, ts, agentToken, "erp1", "1", []byte(c.body), c.gz)
			if code != c.want || (c.msg != "" && !strings.Contains(fmt.Sprint(out["error"]), c.msg)) {
				t.Errorf("%d %v, want %d %q", code, out, c.want, c.msg)
			}
		})
	}
}

// The gzip readers and line buffers are reused between requests: a broken
// body must not leave anything behind for the next one.
func TestIngestReusedReadersStartClean(t *testing.T) {
	ts, _ := newTestServer(t)
	gz := func(s string) []byte {
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Write([]byte(s))
		zw.Close()
		return b.Bytes()
	}
	truncated := gz(strings.Repeat(`{"message":"reuse lost"}`+"\n", 1000))
	truncated = truncated[:len(truncated)/2]
	steps := []struct {
		body []byte
		want int
	}{
		{gz(`{"message":"reuse one"}` + "\n"), 200},
		{[]byte("not gzip at all"), 400},
		{truncated, 400},
		{gz(`{"message":"reuse two"}` + "\n" + `{"message":"reuse three"}`), 200},
		{truncated, 400},
		{gz(`{"message":"reuse four"}`), 200},
	}
	for i, st := range steps {
		req, _ := http.NewRequest("POST", ts.URL+"/api/v1/ingest", bytes.NewReader(st.body))
		req.Header.Set("Authorization", "Bearer "+agentToken)
		req.Header.Set("X-Vigie-Agent", "erp1")
		req.Header.Set("X-Vigie-Batch", fmt.Sprint(i+1))
		req.Header.Set("Content-Encoding", "gzip")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != st.want {
			t.Fatalf("step %d: %d, want %d", i, resp.StatusCode, st.want)
		}
	}
	var res struct{ Records []record.Record }
	get(t, ts, "/api/v1/search?q=reuse&limit=100", testToken, &res)
	var msgs []string
	for _, r := range res.Records {
		msgs = append(msgs, r.Message)
	}
	if fmt.Sprint(msgs) != "[reuse four reuse three reuse two reuse one]" {
		t.Errorf("stored %q", msgs)
	}
}
