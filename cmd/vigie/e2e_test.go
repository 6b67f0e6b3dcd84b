package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"vigie/store"
)

// The tests here run the real binary, built once, against real senders.

var vigieBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "vigie-e2e")
	if err != nil {
		panic(err)
	}
	vigieBin = filepath.Join(dir, "vigie")
	args := []string{"build", "-tags", "sqlite_fts5", "-o", vigieBin}
	if raceEnabled {
		args = append(args, "-race")
	}
	build := exec.Command("go", append(args, ".")...)
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "building vigie:", err)
		os.Exit(1)
	}
	os.Chmod(dir, 0o755) // the unprivileged run must reach the binary
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// needPeer skips without a peer program, except in CI where it must be there.
func needPeer(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is required in CI (make test-deps installs it): %v", name, err)
		}
		t.Skipf("%s not installed", name)
	}
	return p
}

const apiToken = "e2e-token-0123456789abcdef"

type server struct {
	cmd            *exec.Cmd
	dataDir        string
	http, udp, tcp string
	out            chan string // stdout lines
}

var startLine = regexp.MustCompile(`syslog udp (\S+) tcp (\S+) tls \S+, http on (\S+)`)

// startServer runs vigie serve on free loopback ports with an API token.
func startServer(t *testing.T, extraEnv ...string) *server {
	t.Helper()
	return startServerWith(t, "", extraEnv...)
}

// startServerWith is startServer with more configuration (YAML appended).
func startServerWith(t *testing.T, extraYAML string, extraEnv ...string) *server {
	t.Helper()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "vigie.yml")
	os.WriteFile(cfg, []byte(fmt.Sprintf("auth:\n  api_tokens: [{name: e2e, token: %q}]\n", apiToken)+extraYAML), 0o600)
	s := &server{dataDir: filepath.Join(dir, "data"), out: make(chan string, 100)}
	s.cmd = exec.Command(vigieBin, "serve", "--config", cfg, "--data", s.dataDir,
		"--http", "127.0.0.1:0", "--syslog-udp", "127.0.0.1:0", "--syslog-tcp", "127.0.0.1:0", "--log-level", "warn")
	s.cmd.Env = append(os.Environ(), extraEnv...)
	s.cmd.Stderr = os.Stderr
	stdout, _ := s.cmd.StdoutPipe()
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			s.cmd.Process.Kill()
			s.cmd.Wait()
		}
	})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			s.out <- sc.Text()
		}
		close(s.out)
	}()
	deadline := time.After(30 * time.Second)
	for {
		select {
		case line, ok := <-s.out:
			if !ok {
				t.Fatal("vigie exited before it was ready")
			}
			if m := startLine.FindStringSubmatch(line); m != nil {
				s.udp, s.tcp, s.http = m[1], m[2], m[3]
				return s
			}
		case <-deadline:
			t.Fatal("vigie did not print its start line within 30s")
		}
	}
}

func port(addr string) string { _, p, _ := net.SplitHostPort(addr); return p }

func (s *server) search(t *testing.T, q string) []map[string]any {
	t.Helper()
	req, _ := http.NewRequest("GET", "http://"+s.http+"/api/v1/search?q="+url.QueryEscape(q), nil)
	req.Header.Set("Authorization", "Bearer "+apiToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var res struct {
		Records []map[string]any `json:"records"`
		Error   string           `json:"error"`
	}
	json.NewDecoder(resp.Body).Decode(&res)
	if resp.StatusCode != 200 {
		t.Fatalf("search %q: %d %s", q, resp.StatusCode, res.Error)
	}
	return res.Records
}

// waitFound polls the API until q finds a record, for at most a second.
func (s *server) waitFound(t *testing.T, q string) map[string]any {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for {
		if recs := s.search(t, q); len(recs) > 0 {
			return recs[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("%q not searchable within 1s of being sent", q)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestSendersAreSearchableWithinASecond(t *testing.T) {
	logger := needPeer(t, "logger")
	s := startServer(t)
	cases := []struct {
		name string
		args []string
	}{
		{"udp-3164", []string{"-d", "--rfc3164", "-n", "127.0.0.1", "-P", port(s.udp)}},
		{"udp-5424", []string{"-d", "--rfc5424", "-n", "127.0.0.1", "-P", port(s.udp)}},
		{"tcp-5424", []string{"-T", "--rfc5424", "-n", "127.0.0.1", "-P", port(s.tcp)}},
		{"tcp-octet", []string{"-T", "--octet-count", "--rfc5424", "-n", "127.0.0.1", "-P", port(s.tcp)}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			token := fmt.Sprintf("e2e%s%d", strings.ReplaceAll(c.name, "-", ""), time.Now().UnixNano())
			args := append(c.args, "-t", "e2eapp", "-p", "local3.warning", "message", token)
			if out, err := exec.Command(logger, args...).CombinedOutput(); err != nil {
				t.Fatalf("logger: %v %s", err, out)
			}
			r := s.waitFound(t, token)
			if r["app"] != "e2eapp" || r["severity"] != float64(4) || r["facility"] != float64(19) || r["message"] != "message "+token {
				t.Errorf("record %v", r)
			}
			if src, _ := r["source"].(string); !strings.HasSuffix(src, " 127.0.0.1") {
				t.Errorf("source %q", src)
			}
		})
	}
}

func TestSIGTERMCommitsEveryAcceptedTCPMessage(t *testing.T) {
	s := startServer(t)
	conn, err := net.Dial("tcp", s.tcp)
	if err != nil {
		t.Fatal(err)
	}
	const n = 30_000
	w := bufio.NewWriterSize(conn, 1<<16)
	for i := range n {
		msg := fmt.Sprintf("<134>1 2026-11-22T10:00:00.000Z erp1 drain - - - drain message %d", i)
		fmt.Fprintf(w, "%d %s", len(msg), msg)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	// The kernel has taken every byte; stop the server at once.
	s.cmd.Process.Signal(syscall.SIGTERM)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("vigie exited with %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("vigie did not stop within 60s of SIGTERM")
	}
	conn.Close()
	st, err := store.OpenReadOnly(context.Background(), s.dataDir)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	counts, err := st.Facets(context.Background(), store.Request{Query: "app:drain"}, "host", 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(counts) != 1 || counts[0].Count != n {
		t.Fatalf("after SIGTERM: %v stored, want all %d", counts, n)
	}
}

func TestUnprivilegedDefaultFallsBackTo5514(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("needs root to run the server as an unprivileged user (setpriv)")
	}
	setpriv := needPeer(t, "setpriv")
	if l, err := net.Listen("tcp", ":5514"); err != nil {
		t.Skipf("port 5514 is taken here: %v", err)
	} else {
		l.Close()
	}
	// t.TempDir's parent is private to root: this one must be reachable.
	dir, err := os.MkdirTemp("", "vigie-unprivileged")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	os.Chmod(dir, 0o777)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, setpriv, "--reuid=65534", "--regid=65534", "--clear-groups",
		vigieBin, "serve", "--data", filepath.Join(dir, "data"), "--http", "127.0.0.1:0")
	cmd.Dir = dir
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Signal(syscall.SIGTERM); cmd.Wait() }()
	sc := bufio.NewScanner(stdout)
	var lines []string
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if startLine.MatchString(sc.Text()) {
			break
		}
	}
	all := strings.Join(lines, "\n")
	if !strings.Contains(all, "may not bind port 514") || !strings.Contains(all, "listening on :5514") {
		t.Fatalf("no fallback line in:\n%s", all)
	}
	if m := startLine.FindStringSubmatch(all); m == nil || port(m[1]) != "5514" || port(m[2]) != "5514" {
		t.Fatalf("not listening on 5514:\n%s", all)
	}
	if !strings.Contains(all, "created user admin with password ") {
		t.Errorf("no first-start admin password line:\n%s", all)
	}
}

func TestCheckConfig(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yml")
	bad := filepath.Join(dir, "bad.yml")
	os.WriteFile(good, []byte("retention: {days: 7}\n"), 0o600)
	os.WriteFile(bad, []byte("retention:\n  dayz: 7\n"), 0o600)
	out, err := exec.Command(vigieBin, "serve", "--config", good, "--check-config").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "configuration ok") {
		t.Errorf("good config: %v %s", err, out)
	}
	out, err = exec.Command(vigieBin, "serve", "--config", bad, "--check-config").CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), "bad.yml:2: retention.dayz: unknown key (did you mean days?)") {
		t.Errorf("bad config: %v %s", err, out)
	}
}
