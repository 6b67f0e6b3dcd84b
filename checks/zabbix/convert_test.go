package zabbix

import (
	"errors"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"vigie/cmd/config"
)

// template wraps web scenarios (YAML, indented as under httptests:) and
// macros in a 7.0 template export.
func template(httptests, macros string) string {
	s := "zabbix_export:\n  version: '7.0'\n  templates:\n    - uuid: 0f0e0d0c0b0a49988776655443322110\n      template: 'T one'\n      name: 'T one'\n      groups:\n        - name: Templates\n      httptests:\n" + httptests
	if macros != "" {
		s += "      macros:\n" + macros
	}
	return s
}

// scenario is one web scenario with the given extra fields and one step.
func scenario(fields, step string) string {
	return "        - name: 'Web'\n" + fields + "          steps:\n            - name: Home\n              url: 'https://app.example.lan/'\n" + step
}

func TestConvertCases(t *testing.T) {
	cases := []struct {
		name   string
		in     string
		checks int      // checks expected (the rest skipped)
		warn   []string // each must appear in a warning
		env    []string
		envWhy map[string]string // when set, EnvFrom must equal it
		check  func(t *testing.T, c config.Check)
	}{
		{
			name: "defaults of an export that omits them",
			in:   template(scenario("", ""), ""),
			check: func(t *testing.T, c config.Check) {
				want := config.Check{Name: "web", Type: "scenario", Interval: config.Duration(time.Minute),
					Timeout: config.Duration(15 * time.Second), VerifyPeer: ptr(false), VerifyHost: ptr(false),
					Steps: []config.Step{{Name: "Home", URL: "https://app.example.lan/", FollowRedirects: true}}}
				if !reflect.DeepEqual(c, want) {
					t.Errorf("got %+v\nwant %+v", c, want)
				}
			},
		},
		{
			name: "numeric codes of old exports",
			in: template(scenario("          status: '1'\n          authentication: '1'\n          http_user: u\n          http_password: '{$P}'\n          verify_peer: '1'\n",
				"              follow_redirects: '0'\n              retrieve_mode: '2'\n              timeout: '20'\n"), ""),
			env: []string{"P"},
			check: func(t *testing.T, c config.Check) {
				if c.Enabled == nil || *c.Enabled || c.Auth == nil || c.Auth.Type != "basic" || !*c.VerifyPeer || *c.VerifyHost {
					t.Errorf("status/auth/verify: %+v", c)
				}
				st := c.Steps[0]
				if st.FollowRedirects || st.RetrieveMode != "both" || c.Timeout != config.Duration(20*time.Second) {
					t.Errorf("step: %+v, timeout %v", st, c.Timeout)
				}
			},
		},
		{
			name: "basic auth with a clear password",
			in:   template(scenario("          authentication: BASIC\n          http_user: admin\n          http_password: s3cret\n", ""), ""),
			warn: []string{"written in clear"},
			check: func(t *testing.T, c config.Check) {
				if *c.Auth != (config.HTTPAuth{Type: "basic", User: "admin", Password: "s3cret"}) {
					t.Errorf("auth %+v", c.Auth)
				}
			},
		},
		{
			name: "kerberos cannot be carried",
			in:   template(scenario("          authentication: KERBEROS\n", ""), ""),
			warn: []string{"web: KERBEROS authentication has no vigie equivalent"},
			check: func(t *testing.T, c config.Check) {
				if c.Auth != nil {
					t.Errorf("auth %+v", c.Auth)
				}
			},
		},
		{
			name: "macro with context falls back to the plain one; unknown macro to the environment",
			in: template("        - name: 'Web'\n          steps:\n            - name: Home\n              url: '{$BASE:\"prod\"}/{$NOWHERE}/{$PATH:\"x\"}'\n",
				"        - macro: '{$BASE:\"prod\"}'\n          value: 'https://prod.lan'\n        - macro: '{$PATH}'\n          value: app\n"),
			env: []string{"NOWHERE"},
			check: func(t *testing.T, c config.Check) {
				if c.Steps[0].URL != "{base_prod}/{nowhere}/{path}" {
					t.Errorf("url %q", c.Steps[0].URL)
				}
				want := config.Pairs{{Key: "base_prod", Value: "https://prod.lan"}, {Key: "nowhere", Value: "${NOWHERE}"}, {Key: "path", Value: "app"}}
				if !reflect.DeepEqual(c.Variables, want) {
					t.Errorf("variables %v", c.Variables)
				}
			},
		},
		{
			name: "macros resolve literally where vigie does not expand variables",
			in: template(scenario("          delay: '{$D}'\n          http_proxy: '{$PX}'\n",
				"              required: 'v{$V}'\n              status_codes: '{$OK}'\n              timeout: '{$T}'\n"),
				"        - macro: '{$D}'\n          value: 90s\n        - macro: '{$PX}'\n          value: 'proxy.lan:8080'\n        - macro: '{$V}'\n          value: '1\\.2'\n        - macro: '{$OK}'\n          value: '200-204'\n        - macro: '{$T}'\n          value: 3s\n"),
			check: func(t *testing.T, c config.Check) {
				if c.Interval != config.Duration(90*time.Second) || c.HTTPProxy != "http://proxy.lan:8080" || c.Timeout != config.Duration(3*time.Second) {
					t.Errorf("interval %v proxy %q timeout %v", c.Interval, c.HTTPProxy, c.Timeout)
				}
				st := c.Steps[0]
				if st.Required != `v1\.2` || !reflect.DeepEqual(st.StatusCodes, config.StatusCodes{{Min: 200, Max: 204}}) || len(c.Variables) != 0 {
					t.Errorf("required %q codes %v vars %v", st.Required, st.StatusCodes, c.Variables)
				}
			},
		},
		{
			name: "a delay macro without a value keeps Zabbix's default",
			in:   template(scenario("          delay: '{$SECRET.D}'\n", ""), "        - macro: '{$SECRET.D}'\n          type: SECRET_TEXT\n"),
			warn: []string{"delay {$SECRET.D} has no value in the export: Zabbix's default 1m used"},
			check: func(t *testing.T, c config.Check) {
				if c.Interval != config.Duration(time.Minute) {
					t.Errorf("interval %v", c.Interval)
				}
			},
		},
		{
			name: "out of range values",
			in:   template(scenario("          delay: 2d\n          attempts: '11'\n", "              timeout: 0s\n"), ""),
			warn: []string{"delay 2d is outside 1s–1d", "attempts 11 is more than 10", "step 1 timeout 0s is outside"},
			check: func(t *testing.T, c config.Check) {
				if c.Interval != config.Duration(time.Minute) || c.Attempts != 10 || c.Timeout != config.Duration(15*time.Second) {
					t.Errorf("interval %v attempts %d timeout %v", c.Interval, c.Attempts, c.Timeout)
				}
			},
		},
		{
			name: "variables renamed to vigie names, references follow",
			in:   template("        - name: 'Web'\n          variables:\n            - name: '{my-host}'\n              value: app.lan\n          steps:\n            - name: A\n              url: 'https://{my-host}/'\n              variables:\n                - name: '{tok en}'\n                  value: 'regex:token=\\w+'\n            - name: B\n              url: 'https://{my-host}/?t={tok en}'\n              required: '{tok en}'\n", ""),
			warn: []string{"variable {my-host} is renamed {my_host}", "step 2 required uses the scenario variable {tok en}, which vigie does not expand there"},
			check: func(t *testing.T, c config.Check) {
				if c.Steps[0].URL != "https://{my_host}/" || c.Steps[1].URL != "https://{my_host}/?t={tok_en}" {
					t.Errorf("urls %q %q", c.Steps[0].URL, c.Steps[1].URL)
				}
				// No group: Zabbix takes the whole match, vigie the first group.
				if !reflect.DeepEqual(c.Steps[0].Variables, config.Pairs{{Key: "tok_en", Value: `regex:(token=\w+)`}}) {
					t.Errorf("step variables %v", c.Steps[0].Variables)
				}
			},
		},
		{
			name: "patterns RE2 cannot read are dropped with a note",
			in:   template("        - name: 'Web'\n          steps:\n            - name: A\n              url: 'https://a.lan/'\n              required: 'foo(?=bar)'\n              variables:\n                - name: '{x}'\n                  value: 'regex:(?<=id=)\\d+'\n              status_codes: '200,abc'\n", ""),
			warn: []string{"step 1 required foo(?=bar) is not a regular expression vigie (RE2) reads", "step 1 variable x: (?<=id=)\\d+ is not", "step 1 status_codes: \"abc\" is not a status code"},
			check: func(t *testing.T, c config.Check) {
				st := c.Steps[0]
				if st.Required != "" || len(st.Variables) != 0 || st.StatusCodes != nil {
					t.Errorf("step %+v", st)
				}
			},
		},
		{
			name: "captures: jsondata paths, xmldata",
			in:   template("        - name: 'Web'\n          steps:\n            - name: A\n              url: 'https://a.lan/'\n              variables:\n                - name: '{a}'\n                  value: \"jsondata:$['data'].items[0].id\"\n                - name: '{b}'\n                  value: 'jsondata:$..id'\n                - name: '{c}'\n                  value: 'xmldata://id'\n                - name: '{d}'\n                  value: 'fixed {$M}'\n", "        - macro: '{$M}'\n          value: v\n"),
			warn: []string{"JSONPath $..id needs more than", "xmldata:) have no vigie equivalent"},
			check: func(t *testing.T, c config.Check) {
				want := config.Pairs{{Key: "a", Value: "json:data.items[0].id"}, {Key: "d", Value: "fixed {m}"}}
				if !reflect.DeepEqual(c.Steps[0].Variables, want) {
					t.Errorf("step variables %v", c.Steps[0].Variables)
				}
			},
		},
		{
			name: "raw posts, and raw posts marked FORM",
			in:   template("        - name: 'Web'\n          steps:\n            - name: A\n              url: 'https://a.lan/'\n              posts: 'a=1&b=x%20y'\n            - name: B\n              url: 'https://a.lan/'\n              post_type: FORM\n              posts: 'a=1&b=x%20y'\n", ""),
			check: func(t *testing.T, c config.Check) {
				if c.Steps[0].Body != "a=1&b=x%20y" || !reflect.DeepEqual(c.Steps[1].Posts, config.Pairs{{Key: "a", Value: "1"}, {Key: "b", Value: "x y"}}) {
					t.Errorf("steps %+v", c.Steps)
				}
			},
		},
		{
			name: "unknown fields, discovery and built-in macros, foreign ${}",
			in:   template("        - name: 'Web'\n          frobnicate: 'YES'\n          steps:\n            - name: A\n              url: 'https://a.lan/{#NAME}/{ITEM.VALUE}'\n              wobble: '1'\n              required: '${HOME}'\n", ""),
			warn: []string{"scenario field frobnicate is not carried", "step 1 field wobble is not carried", "discovery macro {#NAME}", "{ITEM.VALUE}, which has no vigie equivalent", "contains ${HOME}"},
			check: func(t *testing.T, c config.Check) {
				if c.Steps[0].URL != "https://a.lan/{#NAME}/{ITEM.VALUE}" {
					t.Errorf("url %q", c.Steps[0].URL)
				}
			},
		},
		{
			name:   "scenarios that cannot run are skipped",
			in:     template("        - name: 'No steps'\n        - name: 'No url'\n          steps:\n            - name: A\n        - name: 'Bad url'\n          headers:\n            - {name: Authorization, value: '{$TOKEN}'}\n          steps:\n            - name: A\n              url: 'ftp://files.lan/x'\n", ""),
			checks: 0,
			warn:   []string{"no-steps: the scenario has no steps: skipped", "no-url: step 1 has no URL: scenario skipped", "bad-url: step 1 url \"ftp://files.lan/x\" is not an http(s) URL: scenario skipped"},
		},
		{
			name: "bad proxy dropped, URL without scheme gets http",
			in:   template("        - name: 'Web'\n          http_proxy: 'http://'\n          steps:\n            - name: A\n              url: 'intranet.lan:8080/x'\n", ""),
			warn: []string{"http_proxy \"http://\" is not a proxy URL: dropped"},
			check: func(t *testing.T, c config.Check) {
				if c.HTTPProxy != "" || c.Steps[0].URL != "http://intranet.lan:8080/x" {
					t.Errorf("proxy %q url %q", c.HTTPProxy, c.Steps[0].URL)
				}
			},
		},
		{
			name: "a macro value left for the user to fill in",
			in:   template("        - name: 'Web'\n          steps:\n            - name: A\n              url: '{$URL}'\n", "        - macro: '{$URL}'\n          value: '<Put the page URL here>'\n"),
			warn: []string{`web: step 1 url is "<Put the page URL here>" with the macro values of the export: not an http(s) URL yet`},
			check: func(t *testing.T, c config.Check) {
				if c.Steps[0].URL != "{url}" || c.Variables[0] != (config.Pair{Key: "url", Value: "<Put the page URL here>"}) {
					t.Errorf("url %q variables %v", c.Steps[0].URL, c.Variables)
				}
			},
		},
		{
			name: "a certificate without its key file",
			in:   template(scenario("          ssl_cert_file: both.pem\n", ""), ""),
			warn: []string{"no ssl_key_file: the certificate file must also hold the key"},
			check: func(t *testing.T, c config.Check) {
				if *c.ClientCert != (config.ClientCert{CertFile: "both.pem", KeyFile: "both.pem"}) {
					t.Errorf("client cert %+v", c.ClientCert)
				}
			},
		},
		{
			name: "host macros, then linked templates, then their templates",
			in: `zabbix_export:
  version: '7.2'
  templates:
    - uuid: 00000000000000000000000000000001
      template: Base
      templates:
        - name: Root
      macros:
        - macro: '{$A}'
          value: from-base
        - macro: '{$B}'
          value: from-base
    - uuid: 00000000000000000000000000000002
      template: Root
      macros:
        - macro: '{$C}'
          value: from-root
  hosts:
    - host: web1
      templates:
        - name: Base
      interfaces:
        - ip: 10.1.2.3
          dns: web1.lan
          port: '8443'
          interface_ref: if1
      httptests:
        - name: Web
          steps:
            - name: A
              url: 'https://{HOST.CONN}:{HOST.PORT}/{$A}/{$B}/{$C}'
              headers:
                - name: X-Host
                  value: '{HOST.HOST} {HOST.NAME} {HOST.DNS} {HOSTNAME} {IPADDRESS}'
      macros:
        - macro: '{$A}'
          value: from-host
`,
			check: func(t *testing.T, c config.Check) {
				if c.Steps[0].URL != "https://10.1.2.3:8443/{a}/{b}/{c}" {
					t.Errorf("url %q", c.Steps[0].URL)
				}
				want := config.Pairs{{Key: "a", Value: "from-host"}, {Key: "b", Value: "from-base"}, {Key: "c", Value: "from-root"}}
				if !reflect.DeepEqual(c.Variables, want) {
					t.Errorf("variables %v", c.Variables)
				}
				if h := c.Steps[0].Headers[0].Value; h != "web1 web1 web1.lan web1 10.1.2.3" {
					t.Errorf("header %q", h)
				}
			},
		},
		{
			name: "a macro that may come from a template not exported",
			in:   "zabbix_export:\n  version: '6.0'\n  hosts:\n    - host: h\n      templates:\n        - name: 'Linux by Zabbix agent'\n      httptests:\n        - name: W\n          steps:\n            - name: A\n              url: 'http://h.lan/'\n              required: '{$WANT}'\n",
			env:  []string{"WANT"},
			check: func(t *testing.T, c config.Check) {
				if c.Steps[0].Required != "${WANT}" {
					t.Errorf("required %q", c.Steps[0].Required)
				}
			},
			envWhy: map[string]string{"WANT": `{$WANT} is not defined in this export: it may come from the linked "Linux by Zabbix agent" not exported with it, or be global`},
		},
		{
			name: "a host without interfaces",
			in:   "zabbix_export:\n  version: '6.0'\n  hosts:\n    - host: h\n      httptests:\n        - name: W\n          steps:\n            - name: A\n              url: 'http://{HOST.IP}/'\n",
			env:  []string{"HOST_IP"},
			check: func(t *testing.T, c config.Check) {
				if c.Steps[0].URL != "http://{host_ip}/" {
					t.Errorf("url %q", c.Steps[0].URL)
				}
			},
		},
		{
			name:   "unknown version",
			in:     "zabbix_export:\n  version: '5.0'\n  templates: []\n",
			checks: 0,
			warn:   []string{"Zabbix 5.0 export: only 6.0 to 7.4 were checked"},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			im, err := Convert([]byte(tc.in))
			if err != nil {
				t.Fatal(err)
			}
			want := tc.checks
			if tc.check != nil && want == 0 {
				want = 1
			}
			if len(im.Checks) != want {
				t.Fatalf("%d checks, want %d; warnings:\n%s", len(im.Checks), want, strings.Join(im.Warnings, "\n"))
			}
			all := strings.Join(im.Warnings, "\n")
			for _, w := range tc.warn {
				if !strings.Contains(all, w) {
					t.Errorf("no warning says %q; got:\n%s", w, all)
				}
			}
			if tc.warn == nil && len(im.Warnings) > 0 {
				t.Errorf("unexpected warnings:\n%s", all)
			}
			if !reflect.DeepEqual(im.Env, tc.env) {
				t.Errorf("env %v, want %v", im.Env, tc.env)
			}
			if tc.envWhy != nil && !reflect.DeepEqual(im.EnvFrom, tc.envWhy) {
				t.Errorf("env reasons %q, want %q", im.EnvFrom, tc.envWhy)
			}
			if tc.check != nil {
				tc.check(t, im.Checks[0])
			}
			for _, e := range im.Env {
				t.Setenv(e, "env.invalid")
			}
			if len(im.Checks) > 0 {
				load(t, im)
			}
		})
	}
}

func TestCheckNames(t *testing.T) {
	in := "zabbix_export:\n  version: '6.4'\n  templates:\n" +
		"    - template: 'App A'\n      httptests:\n" +
		"        - {name: Home page, steps: [{name: s, url: 'http://a/'}]}\n" +
		"        - {name: Home-page, steps: [{name: s, url: 'http://a/'}]}\n" +
		"        - {name: 'Été / Hiver', steps: [{name: s, url: 'http://a/'}]}\n" +
		"    - template: B\n      httptests:\n" +
		"        - {name: 'Home page', steps: [{name: s, url: 'http://a/'}]}\n" +
		"        - {name: '!!!', steps: [{name: s, url: 'http://a/'}]}\n" +
		"        - {name: '" + strings.Repeat("x", 120) + "', steps: [{name: s, url: 'http://a/'}]}\n"
	im, err := Convert([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, c := range im.Checks {
		got = append(got, c.Name)
	}
	want := []string{"app-a.home-page", "app-a.home-page-2", "ete-hiver", "b.home-page", "scenario", strings.Repeat("x", 100)}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("names %q\nwant %q", got, want)
	}
	load(t, im)
}

func TestZabbixDuration(t *testing.T) {
	for in, want := range map[string]time.Duration{
		"60": time.Minute, "30s": 30 * time.Second, "1m": time.Minute, "2h": 2 * time.Hour, "1d": 24 * time.Hour, "1w": 7 * 24 * time.Hour, " 5m ": 5 * time.Minute,
	} {
		if got, ok := zabbixDuration(in); !ok || got != want {
			t.Errorf("%q: %v %v, want %v", in, got, ok, want)
		}
	}
	for _, in := range []string{"", "1.5m", "m", "-1", "1y", "{$D}", "99999999999"} {
		if got, ok := zabbixDuration(in); ok {
			t.Errorf("%q: %v, want an error", in, got)
		}
	}
}

func TestJSONPath(t *testing.T) {
	for in, want := range map[string]string{
		"$.result.token": "result.token", "$['data'][0].id": "data[0].id", `$["a"]["b"]`: "a.b", "$[2]": "[2]", "result.token": "result.token",
	} {
		if got, ok := jsonPath(in); !ok || got != want {
			t.Errorf("%q: %q %v, want %q", in, got, ok, want)
		}
	}
	for _, in := range []string{"$", "$..id", "$.items[*].id", "$.a[?(@.b)]", "$.a[", "$['a.b']", "$.a[-1]"} {
		if got, ok := jsonPath(in); ok {
			t.Errorf("%q: %q, want no equivalent", in, got)
		}
	}
}

func TestDetect(t *testing.T) {
	for in, want := range map[string]format{
		"zabbix_export:\n": formatYAML, "\xef\xbb\xbf  \n<?xml?>": formatXML, "\n\t{\"a\":1}": formatJSON, "[1]": formatJSON, "": formatYAML,
	} {
		if got := detect([]byte(in)); got != want {
			t.Errorf("%q: %v, want %v", in, got, want)
		}
	}
}

func TestConvertErrors(t *testing.T) {
	deep := strings.Repeat("[", 200) + strings.Repeat("]", 200)
	for name, tc := range map[string]struct {
		in   string
		want error
		msg  string
	}{
		"YAML without zabbix_export": {"templates: []\n", ErrNotExport, "no zabbix_export at the top"},
		"XML with another root":      {"<?xml version=\"1.0\"?><export><version>6.0</version></export>", ErrNotExport, "no zabbix_export"},
		"broken XML":                 {"<zabbix_export><version>6.0</zabbix_export>", ErrNotExport, "cannot read it as XML"},
		"broken JSON":                {"{\"zabbix_export\": {\"version\": }", ErrNotExport, "cannot read it as JSON: line 1"},
		"JSON with trailing data":    {"{\"zabbix_export\": {}} {}", ErrNotExport, "more data after the end"},
		"broken YAML":                {"zabbix_export:\n  version: '6.0\n", ErrNotExport, "cannot read it as YAML"},
		"YAML alias":                 {"a: &x {b: 1}\nzabbix_export: *x\n", ErrNotExport, "aliases"},
		"deep JSON":                  {deep, ErrNotExport, "nested more than"},
		"empty file":                 {"", ErrNotExport, "empty"},
		"too large":                  {strings.Repeat(" ", MaxInput+1), ErrTooLarge, "32 MiB"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := Convert([]byte(tc.in))
			if !errors.Is(err, tc.want) || !strings.Contains(err.Error(), tc.msg) {
				t.Errorf("error %v, want %v saying %q", err, tc.want, tc.msg)
			}
		})
	}
}

func TestParseUserMacro(t *testing.T) {
	for in, want := range map[string]struct {
		name, ctx string
		hasCtx    bool
		n         int
	}{
		"{$A.B}x":                                {"A.B", "", false, 6},
		`{$A:"x}y"}/`:                            {"A", "x}y", true, 10},
		`{$A:"q\"t"}`:                            {"A", `q"t`, true, 11},
		"{$LOW:/tmp}":                            {"LOW", "/tmp", true, 11},
		"{$a}":                                   {},
		"{$}":                                    {},
		"{$A":                                    {},
		`{$A:"open`:                              {},
		"{$A:" + strings.Repeat("x", 2000) + "}": {},
	} {
		name, ctx, hasCtx, n := parseUserMacro(in)
		if name != want.name || ctx != want.ctx || hasCtx != want.hasCtx || n != want.n {
			t.Errorf("%.20q: %q %q %v %d, want %+v", in, name, ctx, hasCtx, n, want)
		}
	}
}

// TestLargeRepetitiveExports: what a hostile or generated export repeats
// thousands of times is handled in linear time (a quadratic step here
// would make this test run for hours).
func TestLargeRepetitiveExports(t *testing.T) {
	const n = 20000
	var b strings.Builder
	b.WriteString(`{"zabbix_export":{"version":"7.2","templates":[{"template":"T","httptests":[`)
	// One scenario with a URL full of unterminated macro contexts, n tags
	// of one name, n variables that all become v_, and n steps.
	b.WriteString(`{"name":"big","tags":[`)
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`{"tag":"t","value":"v"}`)
	}
	b.WriteString(`],"variables":[`)
	for i := range n {
		if i > 0 {
			b.WriteString(",")
		}
		b.WriteString(`{"name":"{v` + string(rune(0x4e00+i)) + `}","value":"x"}`)
	}
	b.WriteString(`],"steps":[{"name":"s","url":"http://a/` + strings.Repeat("{$A:", n*10) + `"}`)
	for i := range n {
		b.WriteString(`,{"name":"s","url":"http://a/","timeout":"` + strconv.Itoa(1+i%3600) + `"}`)
	}
	b.WriteString(`]}`)
	// And n scenarios of the same name.
	for range n {
		b.WriteString(`,{"name":"same","steps":[{"name":"s","url":"http://a/"}]}`)
	}
	b.WriteString(`]}]}}`)
	im, err := Convert([]byte(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Checks) != n+1 || len(im.Checks[0].Variables) != n || len(im.Checks[0].Steps) != n+1 {
		t.Fatalf("%d checks, %d variables, %d steps", len(im.Checks), len(im.Checks[0].Variables), len(im.Checks[0].Steps))
	}
	if last := im.Checks[n].Name; last != "t.same-"+strconv.Itoa(n) {
		t.Errorf("last name %q", last)
	}
}
