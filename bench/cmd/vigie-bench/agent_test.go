package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vigie/cmd/config"
)

// The configurations the harness writes must be ones vigie and the agent accept.
func TestAgentConfigs(t *testing.T) {
	dir := t.TempDir()
	token := randomWord(32)
	srv := filepath.Join(dir, "vigie.yml")
	os.WriteFile(srv, []byte(vigieConfig(randomWord(32), token)), 0o600)
	s, err := config.Load(srv)
	if err != nil {
		t.Fatalf("server configuration: %v\n%s", err, vigieConfig("x", token))
	}
	if len(s.Auth.AgentTokens) != 1 || s.Auth.AgentTokens[0].Name != agentName || s.Auth.AgentTokens[0].Token != token {
		t.Errorf("agent tokens: %+v", s.Auth.AgentTokens)
	}
	if c := vigieConfig("apitoken", ""); strings.Contains(c, "agent_tokens") {
		t.Errorf("no agent token asked, got %q", c)
	}
	text := agentConfig("127.0.0.1:8080", token, filepath.Join(dir, "state"), "127.0.0.1:9514", filepath.Join(dir, "odoo server.log"))
	a, err := config.ParseAgent("agent.yml", []byte(text))
	if err != nil {
		t.Fatalf("agent configuration: %v\n%s", err, text)
	}
	if a.AgentID != agentName || a.Server.Token != token || a.Server.URL != "http://127.0.0.1:8080" || a.Metrics.Addr != "127.0.0.1:9514" ||
		len(a.Sources) != 1 || a.Sources[0].Format != "odoo" || a.Sources[0].Paths[0] != filepath.Join(dir, "odoo server.log") {
		t.Errorf("agent configuration read back as %+v", a)
	}
}

func TestParseSeries(t *testing.T) {
	const text = `# HELP vigie_agent_records_shipped_total x
# TYPE vigie_agent_records_shipped_total counter
vigie_agent_records_shipped_total{output="vigie"} 1000
vigie_agent_records_shipped_total{output="syslog"} 7
vigie_agent_records_total 1000
go_goroutines 12
`
	m, err := parseSeries(strings.NewReader(text), "vigie_agent_")
	if err != nil {
		t.Fatal(err)
	}
	if len(m) != 2 || m[shippedSeries] != 1000 || m[`vigie_agent_records_shipped_total{output="syslog"}`] != 7 {
		t.Errorf("parseSeries: %v", m)
	}
	sum, _ := parseMetrics(strings.NewReader(text))
	for k, v := range m {
		sum[k] = v
	}
	lf := odooFile{Lines: 1003, Records: 1000}
	sum["vigie_agent_lines_read_total"] = 1003
	if err := checkAgentMetrics(sum, lf); err != nil {
		t.Errorf("checkAgentMetrics: %v", err)
	}
	sum["vigie_agent_records_total"] = 1001
	if err := checkAgentMetrics(sum, lf); err == nil || !strings.Contains(err.Error(), "vigie_agent_records_total = 1001") {
		t.Errorf("checkAgentMetrics with a wrong count: %v", err)
	}
}

func TestWaitCount(t *testing.T) {
	n := int64(0)
	count := func() (int64, error) { n += 3; return n, nil }
	alive := func() error { return nil }
	w, err := waitCount(context.Background(), count, alive, 10, time.Millisecond, time.Second, time.Minute)
	if err != nil || w.n != 12 || w.butLast.IsZero() || w.at.Before(w.butLast) {
		t.Errorf("waitCount: %+v, %v", w, err)
	}
	stuck := func() (int64, error) { return 5, nil }
	if _, err := waitCount(context.Background(), stuck, alive, 10, time.Millisecond, 50*time.Millisecond, time.Minute); err == nil || !strings.Contains(err.Error(), "stalled") {
		t.Errorf("stalled count: %v", err)
	}
	dead := func() error { return errors.New("agent exited") }
	if _, err := waitCount(context.Background(), stuck, dead, 10, time.Millisecond, time.Minute, time.Minute); err == nil || !strings.Contains(err.Error(), "exited") {
		t.Errorf("dead reader: %v", err)
	}
}

// The imfile configuration must be one rsyslogd accepts (-N1).
func TestRsyslogFileConfigValid(t *testing.T) {
	if _, err := os.Stat(defaultRsyslogd); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s missing (CI=true)", defaultRsyslogd)
		}
		t.Skipf("%s missing", defaultRsyslogd)
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "rsyslog.conf")
	text := rsyslogFileConfig(dir, filepath.Join(dir, "odoo-server.log"), filepath.Join(dir, "out.log"))
	for _, want := range []string{`module(load="imfile")`, `freshStartTail="off"`, `startmsg.regex="^[0-9]{4}-[0-9]{2}-[0-9]{2} "`, `type="omfile"`} {
		if !strings.Contains(text, want) {
			t.Errorf("configuration lacks %s:\n%s", want, text)
		}
	}
	os.WriteFile(conf, []byte(text), 0o644)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, defaultRsyslogd, "-N1", "-f", conf).CombinedOutput()
	if err != nil {
		t.Fatalf("rsyslogd -N1: %v\n%s", err, out)
	}
}
