package ui

import (
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

func TestPagesAndAssets(t *testing.T) {
	env := newAuthEnv(t)
	anon := env.browser(t)
	b := env.browser(t)
	b.mustLogin()
	cases := []struct {
		name     string
		who      *browser
		path     string
		code     int
		ctype    string
		location string
	}{
		{"root", b, "/", 303, "", "/search"},
		{"page, logged in", b, "/search?q=x", 200, "text/html", ""},
		{"live page", b, "/live", 200, "text/html", ""},
		{"sources page", b, "/sources", 200, "text/html", ""},
		{"checks page", b, "/checks?check=web&from=-7d", 200, "text/html", ""},
		{"alerts page", b, "/alerts", 200, "text/html", ""},
		{"one alert's page", b, "/alerts/17", 200, "text/html", ""},
		{"one alert, anonymous", anon, "/alerts/17", 303, "", "/login?next=%2Falerts%2F17"},
		{"page, anonymous", anon, "/live?q=app:x", 303, "", "/login?next=%2Flive%3Fq%3Dapp%3Ax"},
		{"login page", anon, "/login", 200, "text/html", ""},
		{"script", anon, "/static/app.js", 200, "text/javascript", ""},
		{"page module", anon, "/static/pages/search.js", 200, "text/javascript", ""},
		{"style", anon, "/static/style.css", 200, "text/css", ""},
		{"icon", anon, "/static/favicon.svg", 200, "image/svg+xml", ""},
		{"html only as a page", anon, "/static/index.html", 404, "", ""},
		{"missing asset", anon, "/static/nope.js", 404, "", ""},
		{"unknown page", b, "/reports", 404, "", ""},
		{"unknown alert path", b, "/alerts/17/x", 404, "", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			resp, _ := c.who.do("GET", c.path, nil, nil)
			if resp.StatusCode != c.code || !strings.HasPrefix(resp.Header.Get("Content-Type"), c.ctype) || resp.Header.Get("Location") != c.location {
				t.Fatalf("%d %q Location %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Location"))
			}
			if got := resp.Header.Get("Content-Security-Policy"); got != ContentSecurityPolicy {
				t.Errorf("CSP %q", got)
			}
			if resp.StatusCode == 200 && (resp.Header.Get("ETag") == "" || resp.Header.Get("Cache-Control") != "no-cache") {
				t.Errorf("cache headers: ETag %q Cache-Control %q", resp.Header.Get("ETag"), resp.Header.Get("Cache-Control"))
			}
		})
	}
}

func TestAssetRevalidation(t *testing.T) {
	env := newAuthEnv(t)
	b := env.browser(t)
	resp, _ := b.do("GET", "/static/records.js", nil, nil)
	etag := resp.Header.Get("ETag")
	if resp.StatusCode != 200 || !regexp.MustCompile(`^"[0-9a-f]{32}"$`).MatchString(etag) {
		t.Fatalf("%d ETag %q", resp.StatusCode, etag)
	}
	if resp, _ := b.do("GET", "/static/records.js", nil, map[string]string{"If-None-Match": etag}); resp.StatusCode != http.StatusNotModified {
		t.Errorf("same ETag: %d, want 304", resp.StatusCode)
	}
	if resp, _ := b.do("GET", "/static/records.js", nil, map[string]string{"If-None-Match": `"other"`}); resp.StatusCode != 200 {
		t.Errorf("other ETag: %d, want 200", resp.StatusCode)
	}
}

func TestCSPOnAPIAnswers(t *testing.T) {
	env := newAuthEnv(t)
	for _, p := range []string{"/healthz", "/api/v1/search", "/api/v1/nope"} {
		resp, _ := env.browser(t).do("GET", p, nil, nil)
		if resp.Header.Get("Content-Security-Policy") != ContentSecurityPolicy || resp.Header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: headers %v", p, resp.Header)
		}
	}
}

// htmlSinks are the ways text becomes markup or code in a page. Data from
// logs must never reach one: the dashboard builds its DOM with
// createElement and textContent only.
var htmlSinks = regexp.MustCompile(`innerHTML|outerHTML|insertAdjacentHTML|document\.write|createContextualFragment|DOMParser|\beval\s*\(|new\s+Function\b|setTimeout\(\s*['"` + "`" + `]|javascript:|style\s*=|\.style\b|\bon[a-z]+\s*=\s*["']`)

func sinksIn(src string) []string {
	return htmlSinks.FindAllString(src, -1)
}

func TestSinkPatternFindsSinks(t *testing.T) {
	for _, bad := range []string{`el.innerHTML = msg`, `x.outerHTML=y`, `el.insertAdjacentHTML('beforeend', s)`, `document.write(s)`,
		`eval (s)`, `new Function("a")`, `setTimeout("alert(1)")`, `<div style="color:red">`, `el.style.color = c`, `<img onerror="x()">`, `href="javascript:x"`} {
		if len(sinksIn(bad)) == 0 {
			t.Errorf("%q not caught", bad)
		}
	}
	for _, good := range []string{`el.textContent = msg`, `h('span', null, r.message)`, `el.addEventListener('click', f)`, `evaluate(x)`} {
		if got := sinksIn(good); len(got) > 0 {
			t.Errorf("%q flagged: %v", good, got)
		}
	}
}

// TestNoHTMLSinks reads every file of web/ as it is on disk.
func TestNoHTMLSinks(t *testing.T) {
	n := 0
	err := filepath.WalkDir("web", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		n++
		for i, line := range strings.Split(string(b), "\n") {
			if got := sinksIn(line); len(got) > 0 {
				t.Errorf("%s:%d: %v in %q", p, i+1, got, strings.TrimSpace(line))
			}
		}
		return nil
	})
	if err != nil || n < 10 {
		t.Fatalf("read %d files of web/: %v", n, err)
	}
}
