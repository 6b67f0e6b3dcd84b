package ui

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Sessions live in memory only: a restart logs everyone out, and nothing
// that opens the dashboard is ever written to disk.

const (
	csrfHeader = "X-CSRF-Token"
	// maxSessions bounds the table; beyond it the least recently used
	// session is dropped.
	maxSessions = 10_000
)

type session struct {
	user string
	csrf string // sent to the page by GET /api/v1/session, echoed in X-CSRF-Token
	seen time.Time
}

// csrfOK compares the header with the session's token in constant time.
func (s *session) csrfOK(got string) bool {
	return got != "" && subtle.ConstantTimeCompare([]byte(got), []byte(s.csrf)) == 1
}

type sessions struct {
	mu   sync.Mutex
	idle time.Duration
	now  func() time.Time
	// Keyed by the SHA-256 of the cookie value: the table never holds a
	// value a browser could present.
	byID map[[sha256.Size]byte]*session
}

func newSessions(idle time.Duration, now func() time.Time) *sessions {
	return &sessions{idle: idle, now: now, byID: map[[sha256.Size]byte]*session{}}
}

func (ss *sessions) gauge() prometheus.Collector {
	return prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "vigie_ui_sessions", Help: "Dashboard sessions open (logged-in browsers).",
	}, func() float64 {
		ss.mu.Lock()
		defer ss.mu.Unlock()
		return float64(len(ss.byID))
	})
}

// randomToken is 256 bits from crypto/rand, URL-safe.
func randomToken() string {
	b := make([]byte, 32)
	rand.Read(b) // never fails (crypto/rand panics rather)
	return base64.RawURLEncoding.EncodeToString(b)
}

// create opens a session for user and returns the cookie value.
func (ss *sessions) create(user string) (id string, s *session) {
	id = randomToken()
	s = &session{user: user, csrf: randomToken(), seen: ss.now()}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	ss.sweepLocked()
	if len(ss.byID) >= maxSessions {
		var oldest [sha256.Size]byte
		var at time.Time
		for k, v := range ss.byID {
			if at.IsZero() || v.seen.Before(at) {
				oldest, at = k, v.seen
			}
		}
		delete(ss.byID, oldest)
	}
	ss.byID[sha256.Sum256([]byte(id))] = s
	return id, s
}

// get finds a live session and marks it used now; an idle one is removed.
func (ss *sessions) get(id string) (*session, bool) {
	if id == "" {
		return nil, false
	}
	k := sha256.Sum256([]byte(id))
	now := ss.now()
	ss.mu.Lock()
	defer ss.mu.Unlock()
	s, ok := ss.byID[k]
	if !ok {
		return nil, false
	}
	if now.Sub(s.seen) > ss.idle {
		delete(ss.byID, k)
		return nil, false
	}
	s.seen = now
	return s, true
}

func (ss *sessions) remove(id string) {
	ss.mu.Lock()
	delete(ss.byID, sha256.Sum256([]byte(id)))
	ss.mu.Unlock()
}

func (ss *sessions) sweepLocked() {
	now := ss.now()
	for k, s := range ss.byID {
		if now.Sub(s.seen) > ss.idle {
			delete(ss.byID, k)
		}
	}
}

// cookieName: over TLS the __Host- prefix makes the browser refuse the
// cookie unless it is Secure, host-only and for the whole site.
func (s *Server) cookieName() string {
	if s.opt.SecureCookies {
		return "__Host-vigie_session"
	}
	return "vigie_session"
}

func (s *Server) setSessionCookie(w http.ResponseWriter, value string, maxAge int) {
	http.SetCookie(w, &http.Cookie{
		Name: s.cookieName(), Value: value, Path: "/", MaxAge: maxAge,
		HttpOnly: true, Secure: s.opt.SecureCookies, SameSite: http.SameSiteLaxMode,
	})
}

// principal is who made a request: a bearer token's name, or a person
// with a session.
type principal struct {
	name    string
	session *session // nil for a bearer token
	id      string   // the session's cookie value
}

type principalKey struct{}

func withPrincipal(ctx context.Context, p principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// principalFrom is who made the request an apiHandler is serving.
func principalFrom(ctx context.Context) (principal, bool) {
	p, ok := ctx.Value(principalKey{}).(principal)
	return p, ok
}

// authenticate accepts an API bearer token first, then the session cookie.
func (s *Server) authenticate(r *http.Request) (principal, bool) {
	if name, ok := s.api.match(r); ok {
		return principal{name: name}, true
	}
	return s.sessionOf(r)
}

func (s *Server) sessionOf(r *http.Request) (principal, bool) {
	c, err := r.Cookie(s.cookieName())
	if err != nil {
		return principal{}, false
	}
	sess, ok := s.sessions.get(c.Value)
	if !ok {
		return principal{}, false
	}
	return principal{name: sess.user, session: sess, id: c.Value}, true
}

// pageHandler serves a dashboard page to a logged-in person and sends
// anyone else to the login page, which brings them back afterwards.
func (s *Server) pageHandler(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := s.sessionOf(r); !ok {
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// sameOrigin reports whether the request's Origin names this server: what
// a browser sends with a websocket handshake and a POST, and which a page
// of another site cannot forge.
func sameOrigin(r *http.Request) bool {
	o := r.Header.Get("Origin")
	if o == "" {
		return false
	}
	u, err := url.Parse(o)
	if err != nil || u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
		return false
	}
	return strings.EqualFold(u.Host, r.Host)
}
