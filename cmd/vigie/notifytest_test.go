package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"vigie/rules/notify"
)

func TestNotifyTest(t *testing.T) {
	var got notify.Message
	var sigOK bool
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.URL.Path == "/hook" {
			sigOK = notify.VerifySignature("s3cret", body, r.Header.Get("X-Vigie-Signature")) &&
				strings.HasPrefix(r.Header.Get("X-Vigie-Delivery"), "test-")
			json.Unmarshal(body, &got)
		}
		if r.URL.Path == "/down" {
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, "upstream chat server unreachable")
			return
		}
		w.WriteHeader(http.StatusAccepted)
		io.WriteString(w, `{"ok":true}`)
	}))
	defer srv.Close()
	cfg := filepath.Join(t.TempDir(), "vigie.yml")
	os.WriteFile(cfg, []byte(`notifiers:
  - {name: ops, type: webhook, url: "`+srv.URL+`/hook", secret: s3cret}
  - {name: down, type: webhook, url: "`+srv.URL+`/down"}
  - {name: gone, type: slack, url: "http://127.0.0.1:1/hook", timeout: 1s}
`), 0o600)
	cases := []struct {
		name string
		args []string
		code int
		out  string // in stdout
		err  string // in stderr
	}{
		{"delivered", []string{"--config", cfg, "ops"}, 0, "HTTP 202 Accepted\n{\"ok\":true}\n", ""},
		{"flag after name", []string{"ops", "--config", cfg}, 0, "HTTP 202 Accepted", ""},
		{"receiver error", []string{"--config", cfg, "down"}, 1, "HTTP 502 Bad Gateway\nupstream chat server unreachable\n", ""},
		{"no answer", []string{"--config", cfg, "gone"}, 1, "no answer: ", ""},
		{"unknown notifier", []string{"--config", cfg, "opps"}, 2, "", `no notifier named "opps" (it has ops, down, gone)`},
		{"no name", []string{"--config", cfg}, 2, "", "usage: vigie notify-test --config FILE NAME"},
		{"no config", []string{"ops"}, 2, "", "usage:"},
		{"bad config", []string{"--config", filepath.Join(t.TempDir(), "missing.yml"), "ops"}, 2, "", "no such file"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := notifyTestCmd(context.Background(), c.args, &out, &errb)
			if code != c.code || !strings.Contains(out.String(), c.out) || !strings.Contains(errb.String(), c.err) {
				t.Errorf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, c.code, out.String(), errb.String())
			}
		})
	}
	if !sigOK || !got.Test || got.Rule != "notify-test" || got.State != "firing" {
		t.Errorf("receiver saw %+v (signature and delivery id ok: %v)", got, sigOK)
	}
}
