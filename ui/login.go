package ui

import (
	"context"
	"errors"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/bcrypt"

	"vigie/store"
)

const (
	// Five wrong passwords from one address, then one more every 12 s.
	loginBurst = 5
	loginEvery = 12 * time.Second
	// A bcrypt check costs tens of milliseconds of CPU: at most this many
	// at once, whatever the number of addresses trying.
	maxConcurrentBcrypt = 4
	maxLoginBody        = 4 << 10
	maxUserName         = 128
	maxPassword         = 1024 // bcrypt reads 72 bytes; more is only cost
)

// loginGuard checks passwords: users from the configuration, then those in
// the store, a dummy hash for unknown names (so their answer takes as long
// as a wrong password), a per-address rate limit and a cap on concurrent
// bcrypt work.
type loginGuard struct {
	users    map[string]string
	store    *store.Store
	limit    *limiter
	bcrypt   chan struct{}
	attempts *prometheus.CounterVec

	dummyOnce sync.Once
	dummyCost int
	dummy     []byte
}

func newLoginGuard(users []User, st *store.Store, now func() time.Time) *loginGuard {
	g := &loginGuard{
		users: map[string]string{}, store: st,
		limit:  newLimiter(loginBurst, loginEvery, now),
		bcrypt: make(chan struct{}, maxConcurrentBcrypt),
		attempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_ui_logins_total", Help: "Dashboard login attempts by result (ok, refused, limited).",
		}, []string{"result"}),
		dummyCost: bcrypt.DefaultCost,
	}
	// The dummy costs what the configured hashes cost (the store's
	// first-start admin uses the default cost).
	for i, u := range users {
		g.users[u.Name] = u.PasswordHash
		if c, err := bcrypt.Cost([]byte(u.PasswordHash)); err == nil && (i == 0 || c > g.dummyCost) {
			g.dummyCost = c
		}
	}
	return g
}

var errWrongPassword = errors.New("wrong user name or password")

// check verifies a password; it spends one bcrypt comparison whether or
// not the user exists.
func (g *loginGuard) check(ctx context.Context, user, password string) error {
	hash, ok := g.users[user]
	if !ok && g.store != nil {
		h, err := g.store.UserHash(ctx, user)
		if err != nil {
			return err
		}
		hash, ok = h, h != ""
	}
	if !ok {
		g.dummyOnce.Do(func() {
			g.dummy, _ = bcrypt.GenerateFromPassword([]byte(randomToken()), g.dummyCost)
		})
		hash = string(g.dummy)
	}
	select {
	case g.bcrypt <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(password))
	<-g.bcrypt
	if err != nil || !ok {
		return errWrongPassword
	}
	return nil
}

// clientKey is the address a login attempt is counted against: the peer's
// IP (IPv6 by /64, which one client usually holds whole). Proxies'
// X-Forwarded-For is not trusted.
func clientKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return host
	}
	if ip.To4() != nil {
		return ip.String()
	}
	return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
}

// handleLogin: POST /login, form fields user and password. It answers
// JSON: 200 {"user","csrf"} with the session cookie, 401, or 429 with
// Retry-After.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	// A page of another site must not log a browser in (login CSRF):
	// browsers always send Origin with a POST.
	if !sameOrigin(r) {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "login must come from this server's own login page (Origin header missing or foreign)"})
		return
	}
	g := s.login
	key := clientKey(r)
	if ok, wait := g.limit.take(key); !ok {
		g.attempts.WithLabelValues("limited").Inc()
		secs := int(wait.Round(time.Second) / time.Second)
		if secs < 1 {
			secs = 1
		}
		w.Header().Set("Retry-After", strconv.Itoa(secs))
		writeJSON(w, http.StatusTooManyRequests, map[string]string{"error": "too many failed logins from this address: try again in " + strconv.Itoa(secs) + " s"})
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxLoginBody)
	if err := r.ParseForm(); err != nil {
		g.limit.refund(key)
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "login: a form with user and password (at most 4 KiB)"})
		return
	}
	user, password := r.PostForm.Get("user"), r.PostForm.Get("password")
	if user == "" || len(user) > maxUserName || len(password) > maxPassword {
		g.attempts.WithLabelValues("refused").Inc()
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": errWrongPassword.Error()})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.opt.RequestTimeout)
	defer cancel()
	switch err := g.check(ctx, user, password); {
	case errors.Is(err, errWrongPassword):
		g.attempts.WithLabelValues("refused").Inc()
		s.opt.Logger.Warn("login refused", "user", user, "client", key)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": err.Error()})
		return
	case err != nil:
		g.limit.refund(key)
		s.opt.Logger.Error("login: user lookup failed", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "cannot check the password now: " + err.Error()})
		return
	}
	// A right password does not count against the address: an office
	// behind one NAT may log in together.
	g.limit.refund(key)
	g.attempts.WithLabelValues("ok").Inc()
	// A previous session of this browser ends: a new id on every login.
	if c, err := r.Cookie(s.cookieName()); err == nil {
		s.sessions.remove(c.Value)
	}
	id, sess := s.sessions.create(user)
	s.setSessionCookie(w, id, 0)
	s.opt.Logger.Info("login", "user", user, "client", key)
	writeJSON(w, http.StatusOK, map[string]string{"user": user, "csrf": sess.csrf})
}

// handleLogout: POST /logout with the CSRF token ends the session.
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	p, ok := s.sessionOf(r)
	if ok && !p.session.csrfOK(r.Header.Get(csrfHeader)) {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "missing or wrong " + csrfHeader + " header: reload the page"})
		return
	}
	if ok {
		s.sessions.remove(p.id)
	}
	s.setSessionCookie(w, "", -1)
	w.WriteHeader(http.StatusNoContent)
}

// session: GET /api/v1/session tells the page who is logged in and the
// CSRF token to send with state-changing requests.
func (s *Server) session(w http.ResponseWriter, r *http.Request) error {
	p, _ := principalFrom(r.Context())
	out := map[string]any{"user": p.name, "idle_timeout_seconds": int(s.opt.SessionIdle / time.Second)}
	if p.session != nil {
		out["csrf"] = p.session.csrf
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
