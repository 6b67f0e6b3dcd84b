package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// checkServer is a small web application: a login page, a home page only
// reached with the session cookie the login sets, and a broken page.
func checkServer(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /login", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "sid", Value: "42", Path: "/"})
		io.WriteString(w, `<form><input name="token" value="t0k3n"></form>`)
	})
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		if c, err := r.Cookie("sid"); err != nil || c.Value != "42" || r.FormValue("token") != "t0k3n" {
			http.Error(w, "no session", http.StatusForbidden)
			return
		}
		http.Redirect(w, r, "/home", http.StatusSeeOther)
	})
	mux.HandleFunc("GET /home", func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `<nav class="o_main_navbar">home</nav>`)
	})
	mux.HandleFunc("GET /broken", func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "database is down", http.StatusServiceUnavailable)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

const checkConfig = `checks:
  - name: web-login
    type: scenario
    variables: {base: "%[1]s"}
    steps:
      - {name: login page, url: "{base}/login", status_codes: [200], variables: {token: 'regex:value="([^"]+)"'}}
      - {name: log in, url: "{base}/login", posts: {token: "{token}"}, follow_redirects: true, required: o_main_navbar}
  - name: web-broken
    type: scenario
    steps:
      - {name: home, url: "%[1]s/home", status_codes: [200]}
      - {name: report, url: "%[1]s/broken", status_codes: [200]}
      - {name: log out, url: "%[1]s/logout"}
  - {name: web-port, type: tcp, address: "%[2]s"}
  - {name: web-off, type: tcp, address: "%[2]s", enabled: false}
`

// normalize hides what changes from run to run: the server's address and
// the timings; runs of spaces become one (alignment is tested apart).
func normalize(out, addr string) string {
	out = strings.ReplaceAll(out, addr, "SERVER")
	out = regexp.MustCompile(`\d+\.\d+`).ReplaceAllString(out, "N")
	out = regexp.MustCompile(` +`).ReplaceAllString(out, " ")
	return out
}

func TestCheckCmd(t *testing.T) {
	srv := checkServer(t)
	addr := strings.TrimPrefix(srv.URL, "http://")
	dir := t.TempDir()
	cfg := filepath.Join(dir, "vigie.yml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(checkConfig, srv.URL, addr)), 0o600)
	bad := filepath.Join(dir, "bad.yml")
	os.WriteFile(bad, []byte("checks:\n  - {name: x, type: tcp, adress: \"h:1\"}\n"), 0o600)

	tests := []struct {
		name   string
		args   []string
		code   int
		golden string // testdata/checks/cli/NAME.golden, for stdout
		stderr string // regexp
	}{
		{name: "pass", args: []string{"--config", cfg, "web-login", "web-port"}, code: 0, golden: "pass"},
		{name: "fail", args: []string{"--config", cfg, "web-broken"}, code: 1, golden: "fail"},
		{name: "all enabled", args: []string{"--config", cfg}, code: 1, golden: "all"},
		{name: "disabled runs when named", args: []string{"--config", cfg, "web-off"}, code: 0},
		{name: "bad config", args: []string{"--config", bad}, code: 2, stderr: `bad\.yml:2: .*adress`},
		{name: "missing config", args: []string{"--config", filepath.Join(dir, "none.yml")}, code: 2, stderr: `no such file`},
		{name: "no config flag", args: []string{"web-login"}, code: 2, stderr: `--config FILE is required`},
		{name: "unknown name", args: []string{"--config", cfg, "web-login", "erp"}, code: 2,
			stderr: `^vigie check: no check named "erp" in .*vigie\.yml \(it has: web-broken, web-login, web-off, web-port\)\n$`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := checkCmd(context.Background(), tc.args, &stdout, &stderr)
			if code != tc.code {
				t.Fatalf("exit %d, want %d\nstdout:\n%s\nstderr:\n%s", code, tc.code, &stdout, &stderr)
			}
			if tc.stderr != "" && !regexp.MustCompile(tc.stderr).MatchString(stderr.String()) {
				t.Errorf("stderr %q\nwant match %s", &stderr, tc.stderr)
			}
			if code == 2 && stdout.Len() > 0 {
				t.Errorf("stdout after a config error: %s", &stdout)
			}
			if tc.golden == "" {
				return
			}
			checkAligned(t, stdout.String())
			got := normalize(stdout.String(), addr)
			path := filepath.Join("..", "..", "testdata", "checks", "cli", tc.golden+".golden")
			if os.Getenv("VIGIE_UPDATE_GOLDEN") == "1" {
				os.MkdirAll(filepath.Dir(path), 0o755)
				os.WriteFile(path, []byte(got), 0o644)
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if got != string(want) {
				t.Errorf("stdout:\n%s\nwant (%s):\n%s", got, path, want)
			}
		})
	}
}

// checkAligned verifies that each step row starts its cells under the
// table header's column titles.
func checkAligned(t *testing.T, out string) {
	t.Helper()
	var cols []int
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "  STEP") {
			cols = cols[:0]
			for _, m := range regexp.MustCompile(`\S+( ms)?`).FindAllStringIndex(line, -1) {
				cols = append(cols, m[0])
			}
			continue
		}
		if cols == nil || !strings.HasPrefix(line, "  ") || strings.Contains(line, "=") {
			cols = nil
			continue
		}
		for _, c := range cols[1:] {
			if c >= len(line) || line[c] == ' ' || line[c-1] != ' ' {
				t.Errorf("column at %d is not aligned in %q", c, line)
			}
		}
	}
}
