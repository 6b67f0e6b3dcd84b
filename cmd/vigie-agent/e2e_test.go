package main

import (
	"bufio"
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
)

// These tests run the real binaries: vigie serve as the collector, the agent
// reading real files.

var vigieBin, agentBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "vigie-agent-e2e")
	if err != nil {
		panic(err)
	}
	os.Chmod(dir, 0o755)
	vigieBin, agentBin = filepath.Join(dir, "vigie"), filepath.Join(dir, "vigie-agent")
	for _, b := range []struct{ out, pkg string }{{vigieBin, "../vigie"}, {agentBin, "."}} {
		cmd := exec.Command("go", "build", "-tags", "sqlite_fts5", "-o", b.out, b.pkg)
		cmd.Stderr = os.Stderr
		if err := cmd.Run(); err != nil {
			fmt.Fprintln(os.Stderr, "building", b.pkg, err)
			os.Exit(1)
		}
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const (
	apiToken   = "e2e-api-token-0123456789"
	agentToken = "e2e-agent-token-0123456789"
)

// collector is a running vigie serve.
type collector struct {
	cmd     *exec.Cmd
	dataDir string
	http    string
}

var httpLine = regexp.MustCompile(`http on (\S+)`)

func startCollector(t *testing.T, dataDir, httpAddr string) *collector {
	t.Helper()
	cfg := filepath.Join(filepath.Dir(dataDir), "vigie.yml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`auth:
  api_tokens: [{name: e2e, token: %q}]
  agent_tokens: [{name: erp1, token: %q}]
`, apiToken, agentToken)), 0o600)
	c := &collector{dataDir: dataDir}
	c.cmd = exec.Command(vigieBin, "serve", "--config", cfg, "--data", dataDir, "--http", httpAddr,
		"--syslog-udp", "off", "--syslog-tcp", "off", "--log-level", "warn")
	c.cmd.Stderr = os.Stderr
	out, _ := c.cmd.StdoutPipe()
	if err := c.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.stop() })
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if m := httpLine.FindStringSubmatch(sc.Text()); m != nil {
			c.http = m[1]
			go func() {
				for sc.Scan() {
				}
			}()
			return c
		}
	}
	t.Fatal("vigie serve did not start")
	return nil
}

func (c *collector) stop() {
	if c.cmd.ProcessState == nil {
		c.cmd.Process.Signal(syscall.SIGTERM)
		c.cmd.Wait()
	}
}

// search returns every record matching q, following the cursor.
func (c *collector) search(t *testing.T, q string) []map[string]any {
	t.Helper()
	var all []map[string]any
	before := ""
	for {
		u := "http://" + c.http + "/api/v1/search?limit=10000&q=" + url.QueryEscape(q) + "&before=" + before
		req, _ := http.NewRequest("GET", u, nil)
		req.Header.Set("Authorization", "Bearer "+apiToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var res struct {
			Records []map[string]any `json:"records"`
			Next    string           `json:"next"`
			Error   string           `json:"error"`
		}
		json.NewDecoder(resp.Body).Decode(&res)
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("search %q: %d %s", q, resp.StatusCode, res.Error)
		}
		all = append(all, res.Records...)
		if res.Next == "" {
			return all
		}
		before = res.Next
	}
}

// startAgent runs vigie-agent with the given sources YAML.
func startAgent(t *testing.T, stateDir, server, sources string) *exec.Cmd {
	t.Helper()
	cfg := filepath.Join(filepath.Dir(stateDir), "agent.yml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`agent_id: erp1
server: {url: "http://%s", token: %q}
state_dir: %s
sources:
%s`, server, agentToken, stateDir, sources)), 0o600)
	cmd := exec.Command(agentBin, "--config", cfg, "--log-level", "warn")
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Signal(syscall.SIGTERM)
			cmd.Wait()
		}
	})
	return cmd
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// waitFor polls cond for at most d.
func waitFor(t *testing.T, d time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(d)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", d, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func TestCheckConfig(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yml")
	os.WriteFile(bad, []byte("agent_id: erp1\nserver: {url: \"https://v.lan\", token: \"0123456789abcdef\"}\nsources:\n  - {type: file, paths: [/x], format: odo}\n"), 0o600)
	out, err := exec.Command(agentBin, "--config", bad, "--check-config").CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 2 || !strings.Contains(string(out), "bad.yml:4: sources[0].format") {
		t.Errorf("%v %s", err, out)
	}
}

// TestRotationTorture: a writer appends numbered lines at full speed while
// the file is rotated by rename+create; the agent is killed with SIGKILL and
// restarted, the collector stopped and restarted. Every line must be stored
// exactly once.
func TestRotationTorture(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	dir := t.TempDir()
	logDir := filepath.Join(dir, "log")
	os.MkdirAll(logDir, 0o755)
	logFile := filepath.Join(logDir, "app.log")
	httpAddr := freeAddr(t)
	col := startCollector(t, filepath.Join(dir, "data"), httpAddr)
	sources := fmt.Sprintf("  - {type: file, paths: [%q], app: torture}\n", logFile)
	agent := startAgent(t, filepath.Join(dir, "state"), httpAddr, sources)

	const total, rotations = 60_000, 12
	f, _ := os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	w := bufio.NewWriter(f)
	for i := 0; i < total; i++ {
		fmt.Fprintf(w, "torture line %d\n", i)
		if i > 0 && i%(total/rotations) == 0 {
			w.Flush()
			f.Close()
			n := i / (total / rotations)
			os.Rename(logFile, fmt.Sprintf("%s.%d", logFile, n))
			f, _ = os.OpenFile(logFile, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
			w = bufio.NewWriter(f)
			switch n {
			case 3, 8: // the agent dies without warning and comes back
				agent.Process.Kill()
				agent.Wait()
				agent = startAgent(t, filepath.Join(dir, "state"), httpAddr, sources)
			case 5: // the collector goes away for a while
				col.stop()
				time.Sleep(500 * time.Millisecond)
				col = startCollector(t, col.dataDir, httpAddr)
			}
		}
		if i%1000 == 0 {
			w.Flush()
			time.Sleep(2 * time.Millisecond)
		}
	}
	w.Flush()
	f.Close()

	// Wait until everything arrived, or nothing more arrives for 10 s.
	seen := map[int]int{}
	stored, last, since := 0, -1, time.Now()
	for deadline := time.Now().Add(2 * time.Minute); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		recs := col.search(t, "app:torture")
		if stored = len(recs); stored != last {
			last, since = stored, time.Now()
		}
		if stored >= total || time.Since(since) > 10*time.Second {
			clear(seen)
			for _, r := range recs {
				var n int
				fmt.Sscanf(r["message"].(string), "torture line %d", &n)
				seen[n]++
			}
			if stored >= total || time.Since(since) > 10*time.Second {
				break
			}
		}
	}
	t.Logf("%d records stored for %d lines written", stored, total)
	var missing, doubled []int
	for i := 0; i < total; i++ {
		switch seen[i] {
		case 0:
			missing = append(missing, i)
		case 1:
		default:
			doubled = append(doubled, i)
		}
	}
	if len(missing) > 0 {
		var ranges []string
		for i := 0; i < len(missing); {
			j := i
			for j+1 < len(missing) && missing[j+1] == missing[j]+1 {
				j++
			}
			ranges = append(ranges, fmt.Sprintf("%d-%d", missing[i], missing[j]))
			i = j + 1
		}
		t.Logf("missing ranges: %v", ranges[:min(len(ranges), 30)])
	}
	if len(missing) > 0 || len(doubled) > 0 {
		t.Fatalf("%d lines missing (first %v), %d stored more than once (first %v)", len(missing), first(missing), len(doubled), first(doubled))
	}
}

func first(s []int) []int { return s[:min(len(s), 10)] }
