package checks

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
)

// odooApp is a test double of Odoo's login flow, shaped like the real one:
// GET /web/login sets a session cookie and renders a form with a hidden
// csrf_token; POST /web/login checks the cookie, the token and the
// password, and answers 303 to /web; /web shows the menu bar to a logged-in
// session; /web/session/logout forgets the session.
type odooApp struct {
	password string
	// otherMarkup renders the token input with its attributes in another
	// order (as a newer Odoo could), so a capture regex written for the old
	// markup stops matching while name="csrf_token" is still there.
	otherMarkup bool

	mu       sync.Mutex
	sessions map[string]*odooSession
	// loginGetsWithCookie counts login pages asked for with a session
	// cookie: a fresh run must never send one.
	loginGetsWithCookie int
	logins              int
}

type odooSession struct {
	csrf     string
	loggedIn bool
}

func newOdooApp(t *testing.T, password string) (*odooApp, *httptest.Server) {
	app := &odooApp{password: password, sessions: map[string]*odooSession{}}
	srv := httptest.NewServer(app)
	t.Cleanup(srv.Close)
	return app, srv
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func (a *odooApp) session(r *http.Request) (string, *odooSession) {
	c, err := r.Cookie("session_id")
	if err != nil {
		return "", nil
	}
	return c.Value, a.sessions[c.Value]
}

func (a *odooApp) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch {
	case r.URL.Path == "/web/login" && r.Method == http.MethodGet:
		if _, err := r.Cookie("session_id"); err == nil {
			a.loginGetsWithCookie++
		}
		sid, s := a.session(r)
		if s == nil {
			sid, s = randomHex(20), &odooSession{}
			a.sessions[sid] = s
			http.SetCookie(w, &http.Cookie{Name: "session_id", Value: sid, Path: "/", HttpOnly: true})
		}
		s.csrf = randomHex(20) + "o1700000000"
		input := fmt.Sprintf(`<input type="hidden" name="csrf_token" value="%s"/>`, s.csrf)
		if a.otherMarkup {
			input = fmt.Sprintf(`<input name="csrf_token" type="hidden" value="%s"/>`, s.csrf)
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, loginPage, input, "")
	case r.URL.Path == "/web/login" && r.Method == http.MethodPost:
		_, s := a.session(r)
		if err := r.ParseForm(); err != nil || s == nil || r.PostForm.Get("csrf_token") != s.csrf {
			http.Error(w, "Session expired (invalid CSRF token)", http.StatusBadRequest)
			return
		}
		if r.PostForm.Get("login") != "admin" || r.PostForm.Get("password") != a.password {
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			fmt.Fprintf(w, loginPage, "", `<p class="alert alert-danger">Wrong login/password</p>`)
			return
		}
		s.loggedIn = true
		a.logins++
		http.Redirect(w, r, "/web", http.StatusSeeOther)
	case r.URL.Path == "/web":
		if _, s := a.session(r); s == nil || !s.loggedIn {
			http.Redirect(w, r, "/web/login?redirect="+html.EscapeString("/web"), http.StatusSeeOther)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprint(w, `<!DOCTYPE html><html><body class="o_web_client"><header><nav class="o_main_navbar"><a class="o_menu_brand">Discuss</a></nav></header></body></html>`)
	case r.URL.Path == "/web/session/logout":
		if sid, s := a.session(r); s != nil {
			delete(a.sessions, sid)
		}
		http.SetCookie(w, &http.Cookie{Name: "session_id", Value: "", Path: "/", MaxAge: -1})
		http.Redirect(w, r, "/web/login", http.StatusSeeOther)
	default:
		http.NotFound(w, r)
	}
}

const loginPage = `<!DOCTYPE html>
<html lang="fr-FR"><head><title>Odoo</title></head>
<body class="bg-100">
<form class="oe_login_form" role="form" method="post" action="/web/login">
  %s
  <div class="mb-3 field-login"><label for="login">Email</label>
    <input type="text" placeholder="Email" name="login" id="login" required="required" autofocus="autofocus" autocapitalize="off" class="form-control"/></div>
  <div class="mb-3"><label for="password">Password</label>
    <input type="password" placeholder="Password" name="password" id="password" required="required" autocomplete="current-password" maxlength="4096" class="form-control"/></div>
  %s
  <div class="clearfix oe_login_buttons text-center gap-1 d-grid mb-1 pt-3">
    <button type="submit" class="btn btn-primary">Log in</button></div>
  <input type="hidden" name="redirect"/>
</form>
</body></html>
`
