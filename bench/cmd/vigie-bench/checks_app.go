package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"html"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.yaml.in/yaml/v3"

	"vigie/cmd/config"
)

// The checks scenario's target: an ERP-like web app served by the harness
// on loopback, walked by every check of the generated configuration. A walk
// is the OpenERP/Odoo login flow: GET /web/login?db=D (session cookie and a
// csrf_token in the form), POST /web/login (answers 303 to /web), GET /web
// (the web client, once or more), GET /web/session/logout (303 back to the
// login page). Every answer comes after delay, with a few KiB of HTML.

const (
	// erpMaxSessions bounds the open sessions (walks begun, not logged out).
	erpMaxSessions = 100_000
	// erpMaxStarts bounds the start times kept per database.
	erpMaxStarts = 10_000
	// erpMaxForm bounds a login form's body.
	erpMaxForm = 64 << 10
)

// erpApp is the app's state; it implements http.Handler.
type erpApp struct {
	password string
	delay    time.Duration
	loginPad string // markup that makes the pages a few KiB
	webPad   string

	mu       sync.Mutex
	sessions map[string]*erpSession
	requests int64            // every request answered
	walks    int64            // walks completed (logged out)
	walkReqs int64            // requests of the completed walks
	pages    map[string]int64 // requests by page
	rejected map[string]int64 // requests refused, by reason: each is a walk gone wrong
	starts   map[string][]time.Time

	connsOpened, connsClosed atomic.Int64
}

type erpSession struct {
	db       string
	csrf     string
	loggedIn bool
	requests int64 // of this walk so far
}

// erpSnapshot is the app's counters at one moment.
type erpSnapshot struct {
	Requests int64 `json:"requests"`
	// Walks is how many walks were logged out, WalkRequests their requests:
	// vigie counts a run just after its last request.
	Walks        int64            `json:"walks"`
	WalkRequests int64            `json:"walk_requests"`
	Pages        map[string]int64 `json:"pages"`
	Rejected     map[string]int64 `json:"rejected,omitempty"`
	Open         int              `json:"open_walks"` // sessions not logged out
}

func newERPApp(password string, delay time.Duration) *erpApp {
	return &erpApp{
		password: password, delay: delay,
		loginPad: padding("o_login_assets", 3<<10),
		webPad:   padding("o_menu_sections", 6<<10),
		sessions: map[string]*erpSession{},
		pages:    map[string]int64{},
		rejected: map[string]int64{},
		starts:   map[string][]time.Time{},
	}
}

// padding is n bytes or so of plausible markup: stylesheet and script
// links, as a real login page and web client carry.
func padding(class string, n int) string {
	var b strings.Builder
	for i := 0; b.Len() < n; i++ {
		fmt.Fprintf(&b, "<link rel=\"stylesheet\" href=\"/web/assets/%d-4f9a2c1/web.assets_frontend.min.css\"/>\n<script src=\"/web/assets/%d-8e1b77d/web.assets_frontend_lazy.min.js\" class=\"%s\" defer=\"defer\"></script>\n", i, i, class)
	}
	return b.String()
}

func newToken() string {
	b := make([]byte, 20)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func (a *erpApp) snapshot() erpSnapshot {
	a.mu.Lock()
	defer a.mu.Unlock()
	s := erpSnapshot{Requests: a.requests, Walks: a.walks, WalkRequests: a.walkReqs, Open: len(a.sessions),
		Pages: map[string]int64{}, Rejected: map[string]int64{}}
	for k, v := range a.pages {
		s.Pages[k] = v
	}
	for k, v := range a.rejected {
		s.Rejected[k] = v
	}
	return s
}

// startTimes returns the arrival times of each database's login pages.
func (a *erpApp) startTimes() map[string][]time.Time {
	a.mu.Lock()
	defer a.mu.Unlock()
	out := make(map[string][]time.Time, len(a.starts))
	for k, v := range a.starts {
		out[k] = append([]time.Time(nil), v...)
	}
	return out
}

func (a *erpApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if a.delay > 0 {
		t := time.NewTimer(a.delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	var form url.Values
	if r.Method == http.MethodPost {
		r.Body = http.MaxBytesReader(w, r.Body, erpMaxForm)
		if err := r.ParseForm(); err != nil {
			a.reject(w, "unreadable form", http.StatusBadRequest)
			return
		}
		form = r.PostForm
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	a.requests++
	sid, s := a.session(r)
	if s != nil {
		s.requests++
	}
	switch {
	case r.URL.Path == "/web/login" && r.Method == http.MethodGet:
		a.pages["GET /web/login"]++
		db := r.URL.Query().Get("db")
		if db == "" {
			a.rejectLocked(w, "login page without ?db=", http.StatusBadRequest)
			return
		}
		if s != nil {
			// A check's cookie jar lives for one attempt: a fresh walk never has one.
			a.rejectLocked(w, "login page asked with a session cookie", http.StatusBadRequest)
			return
		}
		if len(a.sessions) >= erpMaxSessions {
			a.rejectLocked(w, "too many open sessions", http.StatusServiceUnavailable)
			return
		}
		if st := a.starts[db]; len(st) < erpMaxStarts {
			a.starts[db] = append(st, time.Now())
		}
		sid, s = newToken(), &erpSession{db: db, csrf: newToken(), requests: 1}
		a.sessions[sid] = s
		http.SetCookie(w, &http.Cookie{Name: "session_id", Value: sid, Path: "/", HttpOnly: true})
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, erpLoginPage, html.EscapeString(db), a.loginPad, s.csrf)
	case r.URL.Path == "/web/login" && r.Method == http.MethodPost:
		a.pages["POST /web/login"]++
		switch {
		case s == nil:
			a.rejectLocked(w, "login posted without a session cookie", http.StatusBadRequest)
		case form.Get("csrf_token") != s.csrf:
			a.rejectLocked(w, "login posted with a wrong csrf_token", http.StatusBadRequest)
		case form.Get("login") != "user-"+s.db || form.Get("password") != a.password:
			a.rejectLocked(w, "wrong login or password", http.StatusOK)
		default:
			s.loggedIn = true
			http.Redirect(w, r, "/web", http.StatusSeeOther)
		}
	case r.URL.Path == "/web" && r.Method == http.MethodGet:
		a.pages["GET /web"]++
		if s == nil || !s.loggedIn {
			a.rejectLocked(w, "web client asked without a logged-in session", http.StatusSeeOther)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, erpWebPage, html.EscapeString(s.db), a.webPad)
	case r.URL.Path == "/web/session/logout" && r.Method == http.MethodGet:
		a.pages["GET /web/session/logout"]++
		if s == nil || !s.loggedIn {
			a.rejectLocked(w, "logout without a logged-in session", http.StatusBadRequest)
			return
		}
		delete(a.sessions, sid)
		a.walks++
		a.walkReqs += s.requests
		http.SetCookie(w, &http.Cookie{Name: "session_id", Value: "", Path: "/", MaxAge: -1})
		http.Redirect(w, r, "/web/login?db="+url.QueryEscape(s.db), http.StatusSeeOther)
	default:
		a.pages["other"]++
		a.rejectLocked(w, "no such page: "+r.Method+" "+r.URL.Path, http.StatusNotFound)
	}
}

func (a *erpApp) session(r *http.Request) (string, *erpSession) {
	c, err := r.Cookie("session_id")
	if err != nil {
		return "", nil
	}
	return c.Value, a.sessions[c.Value]
}

func (a *erpApp) reject(w http.ResponseWriter, reason string, code int) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.requests++
	a.rejectLocked(w, reason, code)
}

// rejectLocked answers a request that a correct walk never makes. The 303
// of the web client goes to the login page, as Odoo's does.
func (a *erpApp) rejectLocked(w http.ResponseWriter, reason string, code int) {
	if len(a.rejected) < 100 || a.rejected[reason] > 0 {
		a.rejected[reason]++
	} else {
		a.rejected["other reasons"]++
	}
	if code == http.StatusSeeOther {
		w.Header().Set("Location", "/web/login")
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	fmt.Fprintln(w, "vigie-bench ERP app:", reason)
}

const erpLoginPage = `<!DOCTYPE html>
<html lang="fr-FR"><head><meta charset="utf-8"/><title>Connexion | %s</title>
%s</head><body class="o_web_client">
<form class="oe_login_form" role="form" action="/web/login" method="post">
<input type="hidden" name="csrf_token" value="%s"/>
<input type="text" name="login" id="login" required="required"/>
<input type="password" name="password" id="password" required="required"/>
<button type="submit" class="btn btn-primary">Se connecter</button>
</form></body></html>
`

const erpWebPage = `<!DOCTYPE html>
<html lang="fr-FR"><head><meta charset="utf-8"/><title>Odoo - %s</title>
%s</head><body class="o_web_client">
<header><nav class="o_main_navbar"><a class="o_menu_toggle" href="#"></a><span class="o_menu_brand">Ventes</span></nav></header>
<div class="o_action_manager"></div></body></html>
`

// erpServer is the app listening on a loopback port.
type erpServer struct {
	app  *erpApp
	srv  *http.Server
	base string // http://127.0.0.1:P
	done chan error
}

func startERP(app *erpApp) (*erpServer, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	e := &erpServer{app: app, base: "http://" + l.Addr().String(), done: make(chan error, 1)}
	e.srv = &http.Server{
		Handler: app, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute,
		ConnState: func(_ net.Conn, st http.ConnState) {
			switch st {
			case http.StateNew:
				app.connsOpened.Add(1)
			case http.StateClosed, http.StateHijacked:
				app.connsClosed.Add(1)
			}
		},
	}
	go func() { e.done <- e.srv.Serve(l) }()
	return e, nil
}

func (e *erpServer) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if e.srv.Shutdown(ctx) != nil {
		e.srv.Close()
	}
	<-e.done
}

// checkName is the name of check i (from 0), also its app database.
func checkName(i int) string { return fmt.Sprintf("erp-%04d", i+1) }

// checksConfig is the server configuration of the scenario: an API token
// and n scenario checks that walk the app at base, each with steps steps
// (3 at least: login page, log in, steps-3 web client pages, log out).
func checksConfig(apiToken, base, password string, n, steps int) ([]byte, error) {
	if steps < 3 {
		return nil, fmt.Errorf("a walk has at least 3 steps (login page, log in, log out), not %d", steps)
	}
	type auth struct {
		APITokens []config.Token `yaml:"api_tokens"`
	}
	var doc struct {
		Auth   auth           `yaml:"auth"`
		Checks []config.Check `yaml:"checks"`
	}
	doc.Auth.APITokens = []config.Token{{Name: "bench", Token: apiToken}}
	for i := range n {
		name := checkName(i)
		doc.Checks = append(doc.Checks, config.Check{
			Name: name, Type: "scenario",
			Interval: config.Duration(time.Minute), Timeout: config.Duration(10 * time.Second),
			Variables: config.Pairs{{Key: "base", Value: base}, {Key: "db", Value: name},
				{Key: "user", Value: "user-" + name}, {Key: "password", Value: password}},
			SLA:    &config.SLA{Target: 99.5, ResponseTime: config.Duration(3 * time.Second)},
			Labels: config.Pairs{{Key: "bench", Value: "checks"}},
			Steps:  walkSteps(steps),
		})
	}
	b, err := yaml.Marshal(&doc)
	if err != nil {
		return nil, err
	}
	return append([]byte("# written by vigie-bench: the checks scenario (docs/benchmarks.md)\n"), b...), nil
}

// walkSteps is the login walk in n steps.
func walkSteps(n int) []config.Step {
	code := func(lo, hi int) config.StatusCodes { return config.StatusCodes{{Min: lo, Max: hi}} }
	steps := []config.Step{
		{Name: "login page", URL: "{base}/web/login", Query: config.Pairs{{Key: "db", Value: "{db}"}},
			StatusCodes: code(200, 200), Required: `name="csrf_token"`,
			Variables: config.Pairs{{Key: "csrf", Value: `regex:name="csrf_token" value="([^"]+)"`}}},
		{Name: "log in", URL: "{base}/web/login", Method: "POST",
			Posts:       config.Pairs{{Key: "login", Value: "{user}"}, {Key: "password", Value: "{password}"}, {Key: "csrf_token", Value: "{csrf}"}},
			StatusCodes: code(303, 303), RetrieveMode: "headers", Required: `(?m)^Location: /web\r?$`},
	}
	for k := range n - 3 {
		name := "web client"
		if k > 0 {
			name = fmt.Sprintf("web client %d", k+1)
		}
		steps = append(steps, config.Step{Name: name, URL: "{base}/web", StatusCodes: code(200, 200), Required: "o_main_navbar"})
	}
	return append(steps, config.Step{Name: "log out", URL: "{base}/web/session/logout",
		StatusCodes: code(300, 399), RetrieveMode: "headers", Required: `(?m)^Location: /web/login\?db=`})
}
