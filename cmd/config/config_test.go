package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

func TestInvalidConfigs(t *testing.T) {
	cases := map[string]string{
		"invalid-unknown-key.yml":          "invalid-unknown-key.yml:4: syslog.tpc: unknown key (did you mean tcp?)",
		"invalid-size.yml":                 `invalid-size.yml:3: "lots" is not a size`,
		"invalid-message-size.yml":         "invalid-message-size.yml:2: syslog.max_message_size: must be between 480 bytes and 16MiB",
		"invalid-env-unset.yml":            "invalid-env-unset.yml:4: environment variable VIGIE_TEST_UNSET_TOKEN is not set",
		"invalid-token-short.yml":          "invalid-token-short.yml:3: auth.api_tokens[0].token: must be at least 16 characters",
		"invalid-timezone.yml":             "invalid-timezone.yml:2: syslog.timezone: unknown time zone Mars/Olympus",
		"invalid-addr.yml":                 `invalid-addr.yml:2: http.addr: "8080" is not host:port`,
		"invalid-tls-nocert.yml":           "invalid-tls-nocert.yml:2: syslog.tls: cert_file and key_file are required with addr",
		"invalid-check-foreign-key.yml":    "invalid-check-foreign-key.yml:6: checks[1].min_days_left: does not apply to a tcp check",
		"invalid-check-type.yml":           `invalid-check-type.yml:2: checks[0].type: "icmp": must be one of scenario, tcp, tls, ping, backup, dns`,
		"invalid-check-capture-group.yml":  "invalid-check-capture-group.yml:5: checks[0].steps[0].variables.csrf: the regex needs a group",
		"invalid-check-backup-nothing.yml": "invalid-check-backup-nothing.yml:2: checks[0].max_age: a backup check needs at least one of",
		"invalid-type.yml":                 "invalid-type.yml:1: cannot unmarshal !!seq into config.Retention",
		"invalid-syntax.yml":               "invalid-syntax.yml: ",
	}
	entries, _ := filepath.Glob("testdata/invalid-*.yml")
	if len(entries) != len(cases) {
		t.Errorf("%d invalid fixtures on disk, %d in the table: keep them in step", len(entries), len(cases))
	}
	for file, want := range cases {
		t.Run(file, func(t *testing.T) {
			_, err := Load(filepath.Join("testdata", file))
			if err == nil {
				t.Fatalf("Load accepted %s", file)
			}
			got := strings.TrimPrefix(err.Error(), "testdata/")
			if !strings.Contains(got, want) {
				t.Errorf("error\n got: %s\nwant: %s", got, want)
			}
		})
	}
}

func TestValidConfigOverDefaults(t *testing.T) {
	t.Setenv("VIGIE_TEST_API_TOKEN", "a-long-enough-secret-token")
	c, err := Load("testdata/valid-full.yml")
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "/var/lib/vigie" || c.Retention.Days != 90 || c.Retention.MaxSize != 50<<30 {
		t.Errorf("data/retention: %+v %+v", c.DataDir, c.Retention)
	}
	if c.Syslog.MaxMessageSize != 128<<10 || c.Syslog.TLS == nil || c.Syslog.TLS.Addr != ":6514" {
		t.Errorf("syslog: %+v", c.Syslog)
	}
	if c.Syslog.UDPReadBuffer != 8<<20 {
		t.Errorf("default udp_read_buffer lost when the file sets syslog: %d", c.Syslog.UDPReadBuffer)
	}
	if c.Auth.APITokens[0].Token != "a-long-enough-secret-token" {
		t.Errorf("env not expanded: %q", c.Auth.APITokens[0].Token)
	}
	loc, _ := c.Location()
	if loc.String() != "Europe/Paris" {
		t.Errorf("location %s", loc)
	}
}

func TestDefault(t *testing.T) {
	c, err := Default()
	if err != nil {
		t.Fatal(err)
	}
	if c.DataDir != "./data" || c.Syslog.UDP != ":514" || c.Syslog.TCP != ":514" || c.HTTP.Addr != ":8080" || c.Syslog.MaxMessageSize != 64<<10 {
		t.Errorf("default: %+v", c)
	}
}

func TestParseSizeAndDuration(t *testing.T) {
	sizes := map[string]Size{"64KiB": 64 << 10, "20GiB": 20 << 30, "1MB": 1_000_000, "1024": 1024, "1.5K": 1536}
	for in, want := range sizes {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "-1", "12XB", "KiB"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) accepted", in)
		}
	}
	durs := map[string]time.Duration{"30s": 30 * time.Second, "26h": 26 * time.Hour, "7d": 7 * 24 * time.Hour, "1.5d": 36 * time.Hour}
	for in, want := range durs {
		if got, err := ParseDuration(in); err != nil || got != want {
			t.Errorf("ParseDuration(%q) = %s, %v; want %s", in, got, err, want)
		}
	}
	if _, err := ParseDuration("soon"); err == nil {
		t.Error("ParseDuration(soon) accepted")
	}
}

func TestEmptyFileIsDefaults(t *testing.T) {
	p := filepath.Join(t.TempDir(), "empty.yml")
	os.WriteFile(p, nil, 0o600)
	c, err := Load(p)
	if err != nil {
		t.Fatal(err)
	}
	if c.HTTP.Addr != ":8080" {
		t.Errorf("empty file lost defaults: %+v", c.HTTP)
	}
}

func TestPairsRoundTrip(t *testing.T) {
	for _, p := range []Pairs{
		{{"login", "admin"}, {"password", "${ERP_PASSWORD}"}},
		{{"id", "1"}, {"id", "2"}, {"x", "y: z"}},
	} {
		out, err := yaml.Marshal(struct {
			P Pairs `yaml:"p"`
		}{p})
		if err != nil {
			t.Fatal(err)
		}
		var back struct {
			P Pairs `yaml:"p"`
		}
		if err := yaml.Unmarshal(out, &back); err != nil {
			t.Fatalf("%s: %v", out, err)
		}
		if fmt.Sprint(back.P) != fmt.Sprint(p) {
			t.Errorf("round trip of %v gave %v via\n%s", p, back.P, out)
		}
		var generic any // any YAML reader takes it: no key twice in a mapping
		if err := yaml.Unmarshal(out, &generic); err != nil {
			t.Errorf("%s: %v", out, err)
		}
	}
}
