package zabbix

import (
	"flag"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"vigie/cmd/config"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/zabbix")

// fixtures are the exports written for these tests: the same Odoo template
// and host, each in the shape one Zabbix version writes.
var fixtures = []string{"6.0.yaml", "7.0.yaml", "6.4.xml", "7.2.json"}

const fixtureDir = "../../testdata/zabbix"

func convertFile(t testing.TB, name string) *Import {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(fixtureDir, name))
	if err != nil {
		t.Fatal(err)
	}
	im, err := Convert(data)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	im.Source = name
	return im
}

// TestGolden compares the YAML and the stderr report with the golden files
// (go test -run TestGolden -update rewrites them).
func TestGolden(t *testing.T) {
	for _, name := range fixtures {
		t.Run(name, func(t *testing.T) {
			im := convertFile(t, name)
			out, err := im.YAML()
			if err != nil {
				t.Fatal(err)
			}
			base := strings.TrimSuffix(name, filepath.Ext(name))
			golden(t, filepath.Join(fixtureDir, base+".expected.yml"), out)
			golden(t, filepath.Join(fixtureDir, base+".expected.stderr"), []byte(im.Report()))
		})
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if string(got) != string(want) {
		t.Errorf("%s differs (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

func ptr[T any](v T) *T { return &v }

// odooChecks are, written by hand, the checks the fixtures must give.
func odooChecks() []config.Check {
	return []config.Check{
		{
			Name: "odoo-by-http.odoo-login", Type: "scenario",
			Interval: config.Duration(2 * time.Minute), Timeout: config.Duration(15 * time.Second), Attempts: 2,
			Labels: config.Pairs{{Key: "service", Value: "erp"}},
			Variables: config.Pairs{
				{Key: "odoo_user", Value: "monitoring"},
				{Key: "odoo_url", Value: "https://erp.example.lan"},
				{Key: "odoo_password", Value: "${ODOO_PASSWORD}"},
				{Key: "odoo_db", Value: "erp"},
				{Key: "login", Value: "{odoo_user}"},
			},
			Headers:    config.Pairs{{Key: "Accept-Language", Value: "fr-FR,fr;q=0.9"}},
			UserAgent:  "Mozilla/5.0 (X11; Linux x86_64) Zabbix",
			VerifyPeer: ptr(false), VerifyHost: ptr(false),
			Steps: []config.Step{
				{
					Name: "Login page", URL: "{odoo_url}/web/login",
					Variables:       config.Pairs{{Key: "csrf", Value: `regex:name="csrf_token" value="([^"]+)"`}},
					FollowRedirects: true, Required: `name="csrf_token"`,
					StatusCodes: config.StatusCodes{{Min: 200, Max: 200}},
				},
				{
					Name: "Log in", URL: "{odoo_url}/web/login",
					Posts: config.Pairs{
						{Key: "login", Value: "{login}"}, {Key: "password", Value: "{odoo_password}"},
						{Key: "csrf_token", Value: "{csrf}"}, {Key: "db", Value: "{odoo_db}"},
					},
					FollowRedirects: true, Timeout: config.Duration(30 * time.Second),
					Required:    "o_main_navbar|o_web_client",
					StatusCodes: config.StatusCodes{{Min: 200, Max: 200}, {Min: 301, Max: 302}},
				},
				{
					Name: "Log out", URL: "{odoo_url}/web/session/logout",
					RetrieveMode: "headers", Required: "Location: .*/web/login",
					StatusCodes: config.StatusCodes{{Min: 303, Max: 303}},
				},
			},
		},
		{
			Name: "odoo-reporting-api", Type: "scenario",
			Interval: config.Duration(5 * time.Minute), Timeout: config.Duration(5 * time.Second),
			Labels: config.Pairs{{Key: "service", Value: "erp,reporting"}},
			Variables: config.Pairs{
				{Key: "odoo_user", Value: "monitoring"},
				{Key: "report_token", Value: "${REPORT_TOKEN}"},
				{Key: "odoo_url", Value: "https://erp.example.lan"},
				{Key: "odoo_db", Value: "erp"},
				{Key: "host_host", Value: "${HOST_HOST}"},
			},
			HTTPProxy:  "http://proxy.example.lan:3128",
			Auth:       &config.HTTPAuth{Type: "digest", User: "{odoo_user}", Password: "{report_token}"},
			VerifyPeer: ptr(true), VerifyHost: ptr(true),
			ClientCert: &config.ClientCert{CertFile: "odoo-monitoring.crt", KeyFile: "odoo-monitoring.key"},
			Steps: []config.Step{
				{
					Name: "Health", URL: "{odoo_url}/web/health",
					Query:           config.Pairs{{Key: "db", Value: "{odoo_db}"}, {Key: "from", Value: "{host_host}"}},
					FollowRedirects: true, RetrieveMode: "both", Required: `"status": ?"pass"`,
					StatusCodes: config.StatusCodes{{Min: 200, Max: 200}},
				},
				{
					Name: "Server version", URL: "{odoo_url}/web/webclient/version_info",
					Body:            `{"jsonrpc":"2.0","method":"call","params":{}}`,
					Headers:         config.Pairs{{Key: "Content-Type", Value: "application/json"}},
					Variables:       config.Pairs{{Key: "version", Value: "json:result.server_version"}},
					FollowRedirects: true, Required: "server_version",
				},
			},
		},
		{
			Name: "odoo-legacy-portal", Type: "scenario", Enabled: ptr(false),
			Interval: config.Duration(time.Hour), Timeout: config.Duration(15 * time.Second),
			VerifyPeer: ptr(false), VerifyHost: ptr(false),
			Steps: []config.Step{{
				Name: "Portal home", URL: "http://portal.example.lan/openerp/", FollowRedirects: true,
				StatusCodes: config.StatusCodes{{Min: 200, Max: 299}},
			}},
		},
		{
			Name: "erp1.odoo-login", Type: "scenario",
			Interval: config.Duration(30 * time.Second), Timeout: config.Duration(15 * time.Second),
			Variables:  config.Pairs{{Key: "odoo_db", Value: "erp"}},
			VerifyPeer: ptr(false), VerifyHost: ptr(false),
			Steps: []config.Step{{
				Name: "Web client", URL: "http://erp1.lan:8069/web/login",
				Query:           config.Pairs{{Key: "db", Value: "{odoo_db}"}},
				Headers:         config.Pairs{{Key: "X-Monitored-Host", Value: "ERP server 1"}},
				FollowRedirects: true, Required: "oe_login_form",
				StatusCodes: config.StatusCodes{{Min: 200, Max: 200}},
			}},
		},
	}
}

// TestFixturesGiveExpectedChecks: every format gives the same checks, the
// ones written by hand above, with the same warnings and environment.
func TestFixturesGiveExpectedChecks(t *testing.T) {
	want := odooChecks()
	wantEnv := []string{"HOST_HOST", "ODOO_PASSWORD", "REPORT_TOKEN"}
	var first *Import
	for _, name := range fixtures {
		im := convertFile(t, name)
		if !reflect.DeepEqual(im.Checks, want) {
			for i := range max(len(im.Checks), len(want)) {
				if i >= len(im.Checks) || i >= len(want) || !reflect.DeepEqual(im.Checks[i], want[i]) {
					t.Errorf("%s: check %d differs:\n got %+v\nwant %+v", name, i, at(im.Checks, i), at(want, i))
				}
			}
		}
		if !reflect.DeepEqual(im.Env, wantEnv) {
			t.Errorf("%s: env %v, want %v", name, im.Env, wantEnv)
		}
		if im.Scenarios != 4 || im.Skipped != 0 {
			t.Errorf("%s: %d scenarios, %d skipped; want 4 and 0", name, im.Scenarios, im.Skipped)
		}
		if first == nil {
			first = im
			continue
		}
		if !reflect.DeepEqual(im.Warnings, first.Warnings) {
			t.Errorf("%s warns\n%s\nbut %s warns\n%s", name, strings.Join(im.Warnings, "\n"), fixtures[0], strings.Join(first.Warnings, "\n"))
		}
	}
	for _, w := range []string{"1 item", "1 trigger", "NTLM", "ssl_key_password", "SSLCertLocation", "{HOST.HOST}"} {
		if !strings.Contains(strings.Join(first.Warnings, "\n"), w) {
			t.Errorf("no warning mentions %q:\n%s", w, strings.Join(first.Warnings, "\n"))
		}
	}
}

func at(cs []config.Check, i int) any {
	if i < len(cs) {
		return cs[i]
	}
	return "(none)"
}

// TestOutputLoads writes each conversion and reads it back with
// config.Load: it loads as it is, and gives the converted checks (with
// the defaults the loader adds).
func TestOutputLoads(t *testing.T) {
	for _, name := range fixtures {
		t.Run(name, func(t *testing.T) {
			im := convertFile(t, name)
			// Each variable set to its own reference: the loaded text then
			// reads as written, and can be compared.
			for _, e := range im.Env {
				t.Setenv(e, "${"+e+"}")
			}
			loaded := load(t, im)
			want := withLoadDefaults(im.Checks)
			if !reflect.DeepEqual(loaded, want) {
				t.Errorf("loaded checks differ:\n got %+v\nwant %+v", loaded, want)
			}
		})
	}
}

func load(t testing.TB, im *Import) []config.Check {
	t.Helper()
	out, err := im.YAML()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "checks.yml")
	if err := os.WriteFile(path, out, 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatalf("config.Load of the converted %s:\n%v\n%s", im.Source, err, out)
	}
	return cfg.Checks
}

// withLoadDefaults is what config.Load makes of checks it is given.
func withLoadDefaults(in []config.Check) []config.Check {
	out := make([]config.Check, len(in))
	for i, c := range in {
		c.Steps = append([]config.Step(nil), c.Steps...)
		if c.Interval == 0 {
			c.Interval = config.Duration(config.DefaultCheckInterval)
		}
		if c.Timeout == 0 {
			c.Timeout = config.Duration(config.DefaultCheckTimeout)
		}
		if c.Attempts == 0 {
			c.Attempts = 1
		}
		for j := range c.Steps {
			st := &c.Steps[j]
			if st.Method == "" {
				st.Method = "GET"
				if len(st.Posts) > 0 || st.Body != "" {
					st.Method = "POST"
				}
			}
			if st.RetrieveMode == "" {
				st.RetrieveMode = "body"
			}
			if st.Timeout == 0 {
				st.Timeout = c.Timeout
			}
		}
		out[i] = c
	}
	return out
}
