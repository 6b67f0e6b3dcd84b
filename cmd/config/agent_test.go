package config

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestInvalidAgentConfigs(t *testing.T) {
	cases := map[string]string{
		"invalid-format.yml":            `invalid-format.yml:4: sources[0].format: `,
		"invalid-http.yml":              "invalid-http.yml:2: server.url: http:// sends logs and the token in clear",
		"invalid-agent-id.yml":          "invalid-agent-id.yml:1: agent_id: required: letters, digits",
		"invalid-eventlog-channels.yml": "invalid-eventlog-channels.yml:4: sources[0].channels: at least one channel",
		"invalid-start-at.yml":          `invalid-start-at.yml:4: sources[0].start_at: beginning or end, not "middle"`,
		"invalid-line-prefix.yml":       "invalid-line-prefix.yml:4: sources[0].line_prefix: ",
		"invalid-type.yml":              `invalid-type.yml:4: sources[0].type: file or eventlog, not "files"`,
		"invalid-unknown-key.yml":       "invalid-unknown-key.yml:2: server.tokn: unknown key (did you mean token?)",
	}
	files, _ := filepath.Glob("testdata/agent/invalid-*.yml")
	if len(files) != len(cases) {
		t.Errorf("%d fixtures, %d cases: keep them in step", len(files), len(cases))
	}
	for file, want := range cases {
		t.Run(file, func(t *testing.T) {
			_, err := LoadAgent(filepath.Join("testdata/agent", file))
			if err == nil {
				t.Fatal("accepted")
			}
			if got := strings.TrimPrefix(err.Error(), "testdata/agent/"); !strings.Contains(got, want) {
				t.Errorf("error\n got: %s\nwant: %s", got, want)
			}
		})
	}
}

func TestValidAgentConfig(t *testing.T) {
	t.Setenv("VIGIE_TEST_AGENT_TOKEN", "agent-secret-0123456789")
	a, err := LoadAgent("testdata/agent/valid.yml")
	if err != nil {
		t.Fatal(err)
	}
	if a.AgentID != "erp1" || a.Server.Token != "agent-secret-0123456789" || a.Spool.MaxSize != 1<<30 || len(a.Sources) != 5 {
		t.Errorf("%+v", a)
	}
	if s := a.Sources[1]; s.Format != "postgres" || s.LinePrefix != "%m [%p] %q%u@%d " || s.Paths[0] != "/var/log/postgresql/*.log" {
		t.Errorf("postgres source %+v", s)
	}
	if s := a.Sources[4]; s.Type != "eventlog" || len(s.Channels) != 3 {
		t.Errorf("eventlog source %+v", s)
	}
}
