package main

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestCountRecords(t *testing.T) {
	for _, c := range []struct {
		body string
		n    int
		ok   bool
	}{
		{`{"message":"a"}` + "\n" + `{"message":"b"}` + "\n", 2, true},
		{`{"message":"a"}`, 1, true},
		{"\n\n", 0, true},
		{`{"message":"a"}` + "\n" + `not json` + "\n", 0, false},
		{`["array"]` + "\n", 0, false},
		{`{"message":"cut`, 0, false},
	} {
		n, err := countRecords([]byte(c.body))
		if (err == nil) != c.ok || (c.ok && n != c.n) {
			t.Errorf("countRecords(%q) = %d, %v; want %d, ok %v", c.body, n, err, c.n, c.ok)
		}
	}
}

// The receiver counts a resent batch once, as the collector stores it once,
// and refuses a wrong token.
func TestReceiverCountsBatchesOnce(t *testing.T) {
	rc := &receiver{token: "secret", seen: map[string]bool{}}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/v1/ingest", rc.ingest)
	ts := httptest.NewServer(mux)
	defer ts.Close()
	var gz bytes.Buffer
	zw := gzip.NewWriter(&gz)
	zw.Write([]byte(`{"message":"a"}` + "\n" + `{"message":"b"}` + "\n" + `{"message":"c"}` + "\n"))
	zw.Close()
	post := func(token, seq string) (int, map[string]any) {
		req, _ := http.NewRequest("POST", ts.URL+"/api/v1/ingest", bytes.NewReader(gz.Bytes()))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("X-Vigie-Agent", "bench")
		req.Header.Set("X-Vigie-Batch", seq)
		req.Header.Set("Content-Encoding", "gzip")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var m map[string]any
		json.NewDecoder(resp.Body).Decode(&m)
		return resp.StatusCode, m
	}
	if code, _ := post("wrong", "1"); code != http.StatusUnauthorized {
		t.Errorf("wrong token: %d, want 401", code)
	}
	if code, m := post("secret", "1"); code != 200 || m["accepted"] != 3.0 {
		t.Errorf("batch 1: %d %v", code, m)
	}
	if code, m := post("secret", "1"); code != 200 || m["duplicate"] != true {
		t.Errorf("batch 1 again: %d %v", code, m)
	}
	if code, _ := post("secret", "2"); code != 200 {
		t.Errorf("batch 2: %d", code)
	}
	if rc.records != 6 || rc.batches != 2 || rc.resent != 1 {
		t.Errorf("records %d, batches %d, resent %d; want 6, 2, 1", rc.records, rc.batches, rc.resent)
	}
}
