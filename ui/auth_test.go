package ui

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"

	"vigie/store"
	"vigie/store/hub"
)

const testPassword = "correct horse battery staple"

// clock is a settable time for session expiry and rate limits.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type authEnv struct {
	srv   *Server
	ts    *httptest.Server
	st    *store.Store
	hub   *hub.Hub
	clock *clock
}

func hashOf(t testing.TB, pw string) string {
	h, err := bcrypt.GenerateFromPassword([]byte(pw), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	return string(h)
}

// newAuthEnv is a server with a user "ops", an API token and a hub.
func newAuthEnv(t testing.TB, tweak ...func(*Options)) *authEnv {
	t.Helper()
	reg := prometheus.NewRegistry()
	st, err := store.Open(context.Background(), t.TempDir(), store.Options{Registerer: reg})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := &clock{t: now}
	h := hub.New(reg)
	opt := Options{Store: st, APITokens: []Token{{"scripts", testToken}}, Users: []User{{"ops", hashOf(t, testPassword)}},
		Hub: h, Gatherer: reg, Registerer: reg, Now: c.now}
	for _, f := range tweak {
		f(&opt)
	}
	s, err := New(opt)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	t.Cleanup(s.Close)
	return &authEnv{srv: s, ts: ts, st: st, hub: h, clock: c}
}

// browser is an HTTP client with a cookie jar that does not follow
// redirects, sending Origin as a browser does.
type browser struct {
	t      testing.TB
	env    *authEnv
	c      *http.Client
	csrf   string
	origin string
}

func (e *authEnv) browser(t testing.TB) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, env: e, origin: e.ts.URL, c: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) do(method, path string, body io.Reader, hdr map[string]string) (*http.Response, map[string]any) {
	b.t.Helper()
	req, _ := http.NewRequest(method, b.env.ts.URL+path, body)
	if b.origin != "" {
		req.Header.Set("Origin", b.origin)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var out map[string]any
	json.Unmarshal(raw, &out)
	return resp, out
}

func (b *browser) login(user, pw string) (*http.Response, map[string]any) {
	b.t.Helper()
	resp, out := b.do("POST", "/login", strings.NewReader(url.Values{"user": {user}, "password": {pw}}.Encode()), nil)
	if resp.StatusCode == 200 {
		b.csrf, _ = out["csrf"].(string)
	}
	return resp, out
}

func (b *browser) mustLogin() {
	b.t.Helper()
	if resp, out := b.login("ops", testPassword); resp.StatusCode != 200 {
		b.t.Fatalf("login: %d %v", resp.StatusCode, out)
	}
}

func sessionCookie(resp *http.Response) *http.Cookie {
	for _, c := range resp.Cookies() {
		if strings.HasSuffix(c.Name, "vigie_session") {
			return c
		}
	}
	return nil
}

func TestLogin(t *testing.T) {
	env := newAuthEnv(t)
	cases := []struct {
		name, user, pw string
		want           int
	}{
		{"wrong password", "ops", "guess", 401},
		{"unknown user", "root", testPassword, 401},
		{"empty user", "", testPassword, 401},
		{"name too long", strings.Repeat("o", 200), testPassword, 401},
		{"right password", "ops", testPassword, 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := env.browser(t)
			resp, out := b.login(c.user, c.pw)
			if resp.StatusCode != c.want {
				t.Fatalf("%d %v, want %d", resp.StatusCode, out, c.want)
			}
			ck := sessionCookie(resp)
			if c.want != 200 {
				if ck != nil || out["error"] == "" {
					t.Errorf("refused login: cookie %v, body %v", ck, out)
				}
				return
			}
			if ck == nil || ck.Name != "vigie_session" || !ck.HttpOnly || ck.Secure || ck.SameSite != http.SameSiteLaxMode || ck.Path != "/" || len(ck.Value) < 43 {
				t.Fatalf("session cookie %+v", ck)
			}
			if out["user"] != "ops" || len(b.csrf) < 43 {
				t.Errorf("login answer %v", out)
			}
			// The cookie opens the API, and /api/v1/session repeats the CSRF token.
			if resp, out := b.do("GET", "/api/v1/session", nil, nil); resp.StatusCode != 200 || out["user"] != "ops" || out["csrf"] != b.csrf {
				t.Errorf("session: %d %v", resp.StatusCode, out)
			}
			if resp, out := b.do("GET", "/api/v1/search?q=x", nil, nil); resp.StatusCode != 200 {
				t.Errorf("search with the cookie: %d %v", resp.StatusCode, out)
			}
		})
	}
}

func TestLoginNeedsItsOwnOrigin(t *testing.T) {
	env := newAuthEnv(t)
	for _, origin := range []string{"", "https://evil.example", "null", "http://" + "127.0.0.1:1"} {
		b := env.browser(t)
		b.origin = origin
		if resp, out := b.login("ops", testPassword); resp.StatusCode != 403 || sessionCookie(resp) != nil {
			t.Errorf("Origin %q: %d %v, want 403 without a cookie", origin, resp.StatusCode, out)
		}
	}
}

func TestSecureCookie(t *testing.T) {
	env := newAuthEnv(t, func(o *Options) { o.SecureCookies = true })
	b := env.browser(t)
	resp, _ := b.login("ops", testPassword)
	ck := sessionCookie(resp)
	if ck == nil || ck.Name != "__Host-vigie_session" || !ck.Secure || !ck.HttpOnly {
		t.Fatalf("cookie over TLS: %+v", ck)
	}
}

func TestStoreUserCanLogIn(t *testing.T) {
	env := newAuthEnv(t)
	if err := env.st.CreateUser(context.Background(), "admin", hashOf(t, "first-start")); err != nil {
		t.Fatal(err)
	}
	b := env.browser(t)
	if resp, out := b.login("admin", "wrong"); resp.StatusCode != 401 {
		t.Errorf("wrong password of a store user: %d %v", resp.StatusCode, out)
	}
	if resp, out := b.login("admin", "first-start"); resp.StatusCode != 200 || out["user"] != "admin" {
		t.Errorf("store user: %d %v", resp.StatusCode, out)
	}
}

func TestLoginRateLimit(t *testing.T) {
	env := newAuthEnv(t)
	b := env.browser(t)
	// A right password does not count: an office behind one address.
	for range 10 {
		if resp, _ := b.login("ops", testPassword); resp.StatusCode != 200 {
			t.Fatalf("good logins are not limited: %d", resp.StatusCode)
		}
	}
	for i := range loginBurst {
		if resp, _ := b.login("ops", "guess"+strconv.Itoa(i)); resp.StatusCode != 401 {
			t.Fatalf("attempt %d: %d, want 401", i+1, resp.StatusCode)
		}
	}
	resp, out := b.login("ops", testPassword)
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "12" || !strings.Contains(out["error"].(string), "12 s") {
		t.Fatalf("after %d failures: %d Retry-After %q %v, want 429 and 12", loginBurst, resp.StatusCode, resp.Header.Get("Retry-After"), out)
	}
	env.clock.add(6 * time.Second)
	if resp, _ := b.login("ops", testPassword); resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "6" {
		t.Fatalf("6 s later: %d Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	env.clock.add(6 * time.Second)
	if resp, out := b.login("ops", testPassword); resp.StatusCode != 200 {
		t.Fatalf("one token back after 12 s: %d %v", resp.StatusCode, out)
	}
	if resp, _ := b.login("ops", "again"); resp.StatusCode != 401 {
		t.Fatalf("the refilled token: %d", resp.StatusCode)
	}
	if resp, _ := b.login("ops", "again"); resp.StatusCode != 429 {
		t.Fatalf("spent again: %d", resp.StatusCode)
	}
}

func TestSessionIdleExpiry(t *testing.T) {
	env := newAuthEnv(t, func(o *Options) { o.SessionIdle = time.Hour })
	b := env.browser(t)
	b.mustLogin()
	// Each request keeps the session alive: idle, not absolute, expiry.
	for range 3 {
		env.clock.add(59 * time.Minute)
		if resp, _ := b.do("GET", "/api/v1/session", nil, nil); resp.StatusCode != 200 {
			t.Fatalf("used within the idle time: %d", resp.StatusCode)
		}
	}
	env.clock.add(61 * time.Minute)
	if resp, _ := b.do("GET", "/api/v1/session", nil, nil); resp.StatusCode != 401 {
		t.Fatalf("idle for 61 min with a 1h limit: %d", resp.StatusCode)
	}
	resp, _ := b.do("GET", "/search?q=x", nil, nil)
	if resp.StatusCode != 303 || resp.Header.Get("Location") != "/login?next=%2Fsearch%3Fq%3Dx" {
		t.Fatalf("page after expiry: %d %q", resp.StatusCode, resp.Header.Get("Location"))
	}
}

func TestLogout(t *testing.T) {
	env := newAuthEnv(t)
	b := env.browser(t)
	b.mustLogin()
	if resp, _ := b.do("POST", "/logout", nil, nil); resp.StatusCode != 403 {
		t.Fatalf("logout without the CSRF token: %d", resp.StatusCode)
	}
	if resp, _ := b.do("GET", "/api/v1/session", nil, nil); resp.StatusCode != 200 {
		t.Fatalf("a refused logout left the session: %d", resp.StatusCode)
	}
	resp, _ := b.do("POST", "/logout", nil, map[string]string{csrfHeader: b.csrf})
	if ck := sessionCookie(resp); resp.StatusCode != 204 || ck == nil || ck.MaxAge >= 0 {
		t.Fatalf("logout: %d cookie %+v", resp.StatusCode, ck)
	}
	if resp, _ := b.do("GET", "/api/v1/session", nil, nil); resp.StatusCode != 401 {
		t.Fatalf("after logout: %d", resp.StatusCode)
	}
}

func TestCSRF(t *testing.T) {
	env := newAuthEnv(t)
	h := env.srv.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		p, _ := principalFrom(r.Context())
		writeJSON(w, 200, map[string]string{"by": p.name})
		return nil
	})
	env.srv.route("POST /api/v1/test-write", "test", h)
	env.srv.route("GET /api/v1/test-write", "test", h)
	b := env.browser(t)
	b.mustLogin()
	cases := []struct {
		name   string
		method string
		hdr    map[string]string
		want   int
	}{
		{"session, no token", "POST", nil, 403},
		{"session, wrong token", "POST", map[string]string{csrfHeader: "x" + b.csrf[1:]}, 403},
		{"session, right token", "POST", map[string]string{csrfHeader: b.csrf}, 200},
		{"bearer, no token", "POST", map[string]string{"Authorization": "Bearer " + testToken}, 200},
		{"session, GET needs none", "GET", nil, 200},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.hdr["Authorization"] != "" {
				b := env.browser(t) // no cookie
				resp, out := b.do(c.method, "/api/v1/test-write", nil, c.hdr)
				if resp.StatusCode != c.want || out["by"] != "scripts" {
					t.Fatalf("%d %v", resp.StatusCode, out)
				}
				return
			}
			if resp, out := b.do(c.method, "/api/v1/test-write", nil, c.hdr); resp.StatusCode != c.want {
				t.Fatalf("%d %v, want %d", resp.StatusCode, out, c.want)
			}
		})
	}
}

func TestClientKey(t *testing.T) {
	cases := map[string]string{
		"192.0.2.7:5555":                 "192.0.2.7",
		"[2001:db8:1:2:aaaa::1]:443":     "2001:db8:1:2::/64",
		"[2001:db8:1:2:bbbb::9]:443":     "2001:db8:1:2::/64",
		"[::ffff:192.0.2.7]:1":           "192.0.2.7",
		"not an address":                 "not an address",
		"[2001:db8:1:3:aaaa::1]:443 ":    "2001:db8:1:3::/64",
		"[2001:db8:ffff:ffff:1::2]:9999": "2001:db8:ffff:ffff::/64",
	}
	for addr, want := range cases {
		if got := clientKey(&http.Request{RemoteAddr: addr}); got != want {
			t.Errorf("%q: %q, want %q", addr, got, want)
		}
	}
}

func FuzzSameOrigin(f *testing.F) {
	for _, s := range []string{"http://vigie.lan:8080", "https://VIGIE.lan:8080", "null", "", "http://vigie.lan:8080@evil", "javascript:alert(1)"} {
		f.Add(s, "vigie.lan:8080")
	}
	f.Fuzz(func(t *testing.T, origin, host string) {
		r := &http.Request{Header: http.Header{"Origin": {origin}}, Host: host}
		if !sameOrigin(r) {
			return
		}
		u, err := url.Parse(origin)
		if err != nil || !strings.EqualFold(u.Host, host) || host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			t.Fatalf("%q accepted for host %q", origin, host)
		}
	})
}
