package checks

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"vigie/cmd/config"
)

// loadOdooExample loads testdata/checks/odoo-login.yml against base.
func loadOdooExample(t *testing.T, base, password string) *config.Check {
	t.Helper()
	t.Setenv("ERP_BASE", base)
	t.Setenv("ERP_PASSWORD", password)
	cfg, err := config.Load("../testdata/checks/odoo-login.yml")
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Checks) != 1 || cfg.Checks[0].Name != "odoo-login" {
		t.Fatalf("checks in the example: %+v", cfg.Checks)
	}
	return &cfg.Checks[0]
}

func TestOdooLoginExample(t *testing.T) {
	tests := []struct {
		name        string
		password    string // the check's; the app's is "s3cret"
		otherMarkup bool
		wantFailed  int // -1: passes
		wantError   *regexp.Regexp
		wantCodes   []int
	}{
		{name: "logs in and out", password: "s3cret", wantFailed: -1, wantCodes: []int{200, 200, 303}},
		{name: "wrong password", password: "wrong", wantFailed: 1, wantCodes: []int{200, 200},
			wantError: regexp.MustCompile(`^step 2 "log in": required pattern "o_main_navbar" not found in body \(HTTP 200, \d+ B\)$`)},
		{name: "csrf markup changed", password: "s3cret", otherMarkup: true, wantFailed: 0, wantCodes: []int{200},
			wantError: regexp.MustCompile(`^step 1 "login page": variable csrf: pattern name="csrf_token" value="\(\[\^"\]\+\)" did not match$`)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			app, srv := newOdooApp(t, "s3cret")
			app.otherMarkup = tc.otherMarkup
			c := loadOdooExample(t, srv.URL, tc.password)
			res := run(t, c)
			if res.Success != (tc.wantFailed < 0) || res.FailedStep != tc.wantFailed {
				t.Fatalf("success %v, failed step %d, error %q; want failed step %d", res.Success, res.FailedStep, res.Error, tc.wantFailed)
			}
			if tc.wantError != nil && !tc.wantError.MatchString(res.Error) {
				t.Errorf("error %q\nwant match %s", res.Error, tc.wantError)
			}
			var codes []int
			for _, s := range res.Steps {
				codes = append(codes, s.Code)
			}
			if fmt.Sprint(codes) != fmt.Sprint(tc.wantCodes) {
				t.Errorf("codes %v, want %v", codes, tc.wantCodes)
			}
			wantAttempts := 1
			if !res.Success {
				wantAttempts = c.Attempts // the example retries once
			}
			if res.Attempts != wantAttempts {
				t.Errorf("attempts %d, want %d", res.Attempts, wantAttempts)
			}
			for i, s := range res.Steps {
				if s.Phases.Total <= 0 || s.Phases.TTFB <= 0 || s.Phases.TTFB > s.Phases.Total {
					t.Errorf("step %d phases %+v", i+1, s.Phases)
				}
				if s.Bytes == 0 && s.Code == 200 {
					t.Errorf("step %d read no bytes", i+1)
				}
			}
			if tc.wantFailed < 0 {
				// A new session per run, and the app saw one login.
				if app.logins != 1 || len(app.sessions) != 0 {
					t.Errorf("logins %d, sessions left %d", app.logins, len(app.sessions))
				}
				if res.Steps[0].Phases.Connect <= 0 {
					t.Errorf("first step has no connect phase: %+v", res.Steps[0].Phases)
				}
			}
		})
	}
}

func TestCookiesStayInOneRun(t *testing.T) {
	app, srv := newOdooApp(t, "s3cret")
	c := loadOdooExample(t, srv.URL, "s3cret")
	// Without the log-out step the session stays valid on the server: a
	// second run that reused the cookie would arrive logged in.
	c.Steps = c.Steps[:2]
	for i := range 3 {
		if res := run(t, c); !res.Success {
			t.Fatalf("run %d: %s", i+1, res.Error)
		}
	}
	if app.loginGetsWithCookie != 0 {
		t.Errorf("%d login pages were asked for with a cookie from an earlier run", app.loginGetsWithCookie)
	}
	if app.logins != 3 || len(app.sessions) != 3 {
		t.Errorf("logins %d, sessions %d: want 3 and 3", app.logins, len(app.sessions))
	}
}

func TestRedirectsSumPhases(t *testing.T) {
	const pause = 30 * time.Millisecond
	mux := http.NewServeMux()
	for i := 1; i <= 3; i++ {
		mux.HandleFunc(fmt.Sprintf("/r%d", i), func(w http.ResponseWriter, r *http.Request) {
			time.Sleep(pause)
			http.Redirect(w, r, fmt.Sprintf("/r%d", i+1), http.StatusFound)
		})
	}
	mux.HandleFunc("/r4", func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(pause)
		io.WriteString(w, strings.Repeat("x", 1000))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, follow := range []bool{true, false} {
		c := loadCheck(t, fmt.Sprintf(`name: redirects
type: scenario
steps:
  - {url: "%s/r1", follow_redirects: %v}`, strings.Replace(srv.URL, "127.0.0.1", "localhost", 1), follow))
		res := run(t, c)
		if !res.Success {
			t.Fatalf("follow %v: %s", follow, res.Error)
		}
		p := res.Steps[0].Phases
		hops, code, bytes := 4, 200, int64(1000)
		if !follow {
			hops, code, bytes = 1, 302, res.Steps[0].Bytes
		}
		if res.Steps[0].Code != code || res.Steps[0].Bytes != bytes {
			t.Errorf("follow %v: code %d bytes %d", follow, res.Steps[0].Code, res.Steps[0].Bytes)
		}
		// Each hop waits `pause` before its first byte: the step's TTFB is
		// their sum, not the last one alone.
		if p.TTFB < time.Duration(hops)*pause {
			t.Errorf("follow %v: TTFB %v, want at least %d × %v", follow, p.TTFB, hops, pause)
		}
		if p.DNS <= 0 || p.Connect <= 0 {
			t.Errorf("follow %v: no DNS or connect phase for localhost: %+v", follow, p)
		}
		if sum := p.DNS + p.Connect + p.TLS + p.TTFB + p.Transfer; sum > p.Total {
			t.Errorf("follow %v: phases add up to %v, more than the total %v", follow, sum, p.Total)
		}
	}
}

func TestStepVerdicts(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("/status/{code}", func(w http.ResponseWriter, r *http.Request) {
		var code int
		fmt.Sscan(r.PathValue("code"), &code)
		w.WriteHeader(code)
		io.WriteString(w, "status page")
	})
	mux.HandleFunc("/slow", func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-time.After(5 * time.Second):
		case <-r.Context().Done():
		}
	})
	mux.HandleFunc("/big", func(w http.ResponseWriter, r *http.Request) {
		chunk := strings.Repeat("a", 64<<10)
		for range (9 << 20) / len(chunk) {
			io.WriteString(w, chunk)
		}
		io.WriteString(w, "THE-END")
	})
	mux.HandleFunc("/moved", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/status/200", http.StatusMovedPermanently)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	refused := closedPort(t)

	tests := []struct {
		name  string
		step  string
		extra string
		ok    bool
		err   string // regexp on Result.Error
		check func(t *testing.T, r *Result)
	}{
		{name: "status in range", step: `{url: "%s/status/204", status_codes: ["200-299"]}`, ok: true},
		{name: "status list", step: `{url: "%s/status/302", status_codes: [200, "301-302"]}`, ok: true},
		{name: "status outside range", step: `{name: home, url: "%s/status/503", status_codes: ["200-299"]}`,
			err: `^step 1 "home": HTTP 503, expected 200-299$`},
		{name: "status outside list", step: `{url: "%s/status/404", status_codes: [200, 302]}`,
			err: `^step 1: HTTP 404, expected one of 200, 302$`},
		{name: "any status without status_codes", step: `{url: "%s/status/500"}`, ok: true},
		{name: "redirect not followed", step: `{url: "%s/moved", status_codes: [200]}`,
			err: `^step 1: HTTP 301, expected 200 \(redirect to /status/200 not followed: set follow_redirects: true\)$`},
		{name: "redirect followed", step: `{url: "%s/moved", status_codes: [200], follow_redirects: true}`, ok: true},
		{name: "required in headers", step: `{url: "%s/moved", retrieve_mode: headers, required: "(?m)^Location: /status/200"}`, ok: true},
		{name: "required not in headers", step: `{url: "%s/status/200", retrieve_mode: headers, required: "status page"}`,
			err: `^step 1: required pattern "status page" not found in headers \(HTTP 200, 11 B\)$`},
		{name: "timeout", step: `{name: slow page, url: "%s/slow", timeout: 1s}`,
			err: `^step 1 "slow page": timed out after 1s waiting for the answer \(request sent\)$`},
		{name: "refused", step: `{name: login page, url: "http://` + refused + `/web/login"}`,
			err: `^step 1 "login page": connect to ` + regexp.QuoteMeta(refused) + `: connection refused$`},
		{name: "body limit", step: `{url: "%s/big", required: THE-END}`,
			err: `^step 1: required pattern "THE-END" not found in body \(HTTP 200, 8\.0 MiB\) \(body cut at 8\.0 MiB\)$`,
			check: func(t *testing.T, r *Result) {
				if r.Steps[0].Bytes != maxBody || r.Steps[0].Speed <= 0 {
					t.Errorf("bytes %d speed %f", r.Steps[0].Bytes, r.Steps[0].Speed)
				}
			}},
		{name: "slow against the SLA", step: `{url: "%s/status/200"}`, extra: "sla: {target: 99, response_time: 1ns}", ok: true,
			check: func(t *testing.T, r *Result) {
				if !r.Slow {
					t.Error("not slow against a 1ns response_time")
				}
			}},
		{name: "fast against the SLA", step: `{url: "%s/status/200"}`, extra: "sla: {target: 99, response_time: 1m}", ok: true,
			check: func(t *testing.T, r *Result) {
				if r.Slow {
					t.Error("slow against a 1m response_time")
				}
			}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			step := tc.step
			if strings.Contains(step, "%s") {
				step = fmt.Sprintf(step, srv.URL)
			}
			c := loadCheck(t, "name: verdict\ntype: scenario\n"+tc.extra+"\nsteps:\n  - "+step)
			res := run(t, c)
			if res.Success != tc.ok {
				t.Fatalf("success %v, error %q", res.Success, res.Error)
			}
			if tc.err != "" && !regexp.MustCompile(tc.err).MatchString(res.Error) {
				t.Errorf("error %q\nwant match %s", res.Error, tc.err)
			}
			if !tc.ok && (res.FailedStep != 0 || res.Steps[0].Error == "" || res.Steps[0].Success) {
				t.Errorf("failed step %d, step %+v", res.FailedStep, res.Steps[0])
			}
			if tc.check != nil {
				tc.check(t, res)
			}
		})
	}
}

// TestVariablesEverywhere captures with json:, header: and a literal, and
// expands them into the next step's query, headers and raw body.
func TestVariablesEverywhere(t *testing.T) {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /api/session", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Request-Id", "req-42")
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"result": {"token": "tok{en}", "uid": 2}, "items": [{"id": 7}, {"id": 8}]}`)
	})
	var got string
	mux.HandleFunc("POST /api/orders", func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		got = fmt.Sprintf("q=%s auth=%s ua=%s tag=%s body=%s", r.URL.RawQuery, r.Header.Get("Authorization"),
			r.Header.Get("User-Agent"), r.Header.Get("X-Tag"), body)
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()
	c := loadCheck(t, fmt.Sprintf(`name: api
type: scenario
variables: {base: "%s", api: "{base}/api", db: "Specibike"}
headers: {X-Tag: check, Accept: application/json}
user_agent: "probe for {db}"
steps:
  - name: session
    url: "{api}/session"
    body: '{"db": "{db}"}'
    headers: {Content-Type: application/json}
    variables: {token: "json:result.token", uid: "json:result.uid", second: "json:items[1].id", rid: "header:X-Request-Id", pair: "{uid}-{rid}"}
  - name: order
    url: "{api}/orders"
    method: POST
    query: {rid: "{rid}", "a b": "{unknown}"}
    headers: {Authorization: "Bearer {token}", X-Tag: step}
    body: '{"uid": {uid}, "item": {second}, "pair": "{pair}", "keep": {"x": 1}}'`, srv.URL))
	res := run(t, c)
	if !res.Success {
		t.Fatal(res.Error)
	}
	want := `q=rid=req-42&a+b=%7Bunknown%7D auth=Bearer tok{en} ua=probe for Specibike tag=step body={"uid": 2, "item": 8, "pair": "2-req-42", "keep": {"x": 1}}`
	if got != want {
		t.Errorf("the server got\n%s\nwant\n%s", got, want)
	}
}

func TestVariableErrors(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, `{"result": {"items": []}}`)
	}))
	defer srv.Close()
	tests := []struct{ spec, err string }{
		{`json:result.token`, `step 1 "get": variable v: json:result.token: no key "token" in result`},
		{`json:result.items[0]`, `step 1 "get": variable v: json:result.items[0]: index 0 is past the end of result.items (0 elements)`},
		{`json:result[0]`, `step 1 "get": variable v: json:result[0]: result is an object, not an array`},
		{`header:X-Token`, `step 1 "get": variable v: the response has no X-Token header`},
		{`regex:token=(\w+)`, `step 1 "get": variable v: pattern token=(\w+) did not match`},
	}
	for _, tc := range tests {
		c := loadCheck(t, fmt.Sprintf("name: v\ntype: scenario\nsteps:\n  - {name: get, url: %q, variables: {v: %q}}", srv.URL, tc.spec))
		res := run(t, c)
		if res.Success || res.Error != tc.err {
			t.Errorf("%s: error %q\nwant %q", tc.spec, res.Error, tc.err)
		}
	}
}

func TestAttemptsRetry(t *testing.T) {
	var n int
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n++
		if n == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	c := loadCheck(t, fmt.Sprintf("name: flaky\ntype: scenario\nattempts: 3\nsteps:\n  - {url: %q, status_codes: [200]}", srv.URL))
	res := run(t, c)
	if !res.Success || res.Attempts != 2 || res.Error != "" || res.FailedStep != -1 {
		t.Errorf("%+v", res)
	}
}

func TestBasicAuthAndProxy(t *testing.T) {
	var seen []string
	target := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, p, ok := r.BasicAuth()
		if !ok || u != "admin" || p != "pa:ss" {
			w.Header().Set("WWW-Authenticate", `Basic realm="erp"`)
			w.WriteHeader(http.StatusUnauthorized)
			return
		}
		io.WriteString(w, "welcome")
	}))
	defer target.Close()
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen = append(seen, r.URL.String())
		out := r.Clone(r.Context())
		out.RequestURI = ""
		resp, err := http.DefaultTransport.RoundTrip(out)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadGateway)
			return
		}
		defer resp.Body.Close()
		w.WriteHeader(resp.StatusCode)
		io.Copy(w, resp.Body)
	}))
	defer proxy.Close()
	for _, tc := range []struct {
		password string
		ok       bool
	}{{"pa:ss", true}, {"nope", false}} {
		c := loadCheck(t, fmt.Sprintf(`name: basic
type: scenario
http_proxy: %q
auth: {type: basic, user: admin, password: %q}
steps:
  - {url: "%s/x", status_codes: [200], required: welcome}`, proxy.URL, tc.password, target.URL))
		res := run(t, c)
		if res.Success != tc.ok {
			t.Errorf("password %q: success %v, error %q", tc.password, res.Success, res.Error)
		}
	}
	if len(seen) != 2 || seen[0] != target.URL+"/x" {
		t.Errorf("the proxy saw %v", seen)
	}
}
