// Package ui is vigie's HTTP server: the JSON API, authentication (bearer
// tokens for scripts, sessions for people), the websocket live tail and the
// dashboard's embedded assets.
package ui

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"vigie/collector"
	"vigie/rules"
	"vigie/store"
	"vigie/store/hub"
	"vigie/store/query"
)

// Token is a named bearer secret from auth.api_tokens.
type Token struct{ Name, Secret string }

// User is a person who may log in to the dashboard (auth.users).
type User struct{ Name, PasswordHash string }

// Options are what the server needs from the rest of vigie.
type Options struct {
	Store     *store.Store
	APITokens []Token
	// AgentTokens authenticate vigie-agent batches on POST /api/v1/ingest;
	// they open nothing else.
	AgentTokens []Token
	// Users log in to the dashboard with a bcrypt-hashed password. A name
	// not listed is looked up in the store (the first-start admin).
	Users []User
	// Checks serves /api/v1/checks; nil leaves those endpoints out.
	Checks *Checks
	// Rules serves /api/v1/alerts; nil leaves those endpoints out.
	Rules *rules.Engine
	// Hub feeds the live tail; nil answers 503 on /api/v1/tail.
	Hub *hub.Hub
	// SecureCookies marks the session cookie Secure: set it when the
	// server is reached over TLS.
	SecureCookies bool
	// SessionIdle logs a person out after that long without a request
	// (default 8h).
	SessionIdle time.Duration
	// MaxTailClients bounds concurrent live-tail websockets (default 64).
	MaxTailClients int
	// Ingest configures the agent endpoint; its Sink and Agent are filled in
	// by the server. A zero value serves it on Store with the defaults.
	Ingest collector.IngestConfig
	// Gatherer serves /metrics; Registerer receives the server's own metrics.
	Gatherer   prometheus.Gatherer
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	// RequestTimeout bounds one API request (default 30s).
	RequestTimeout time.Duration
	// Now is the clock for relative times ("-15m") and session expiry; nil
	// means time.Now.
	Now func() time.Time
}

// Server serves the API, the dashboard and the live tail.
type Server struct {
	opt      Options
	api      tokenSet
	agents   tokenSet
	mux      *http.ServeMux
	requests *prometheus.CounterVec

	sessions *sessions
	login    *loginGuard
	tail     tailConfig
	assets   *assets

	// base ends when Close is called: it stops the live tails, which
	// http.Server.Shutdown does not track once upgraded.
	base      context.Context
	closeBase context.CancelFunc
}

// New builds the server and its routes.
func New(opt Options) (*Server, error) {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.RequestTimeout <= 0 {
		opt.RequestTimeout = 30 * time.Second
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.SessionIdle <= 0 {
		opt.SessionIdle = 8 * time.Hour
	}
	if opt.MaxTailClients <= 0 {
		opt.MaxTailClients = 64
	}
	as, err := loadAssets()
	if err != nil {
		return nil, err
	}
	s := &Server{
		opt: opt, mux: http.NewServeMux(),
		api: newTokenSet(opt.APITokens), agents: newTokenSet(opt.AgentTokens),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_http_requests_total", Help: "HTTP requests by route and status code."}, []string{"route", "code"}),
		sessions: newSessions(opt.SessionIdle, opt.Now),
		login:    newLoginGuard(opt.Users, opt.Store, opt.Now),
		tail:     defaultTailConfig(opt.MaxTailClients),
		assets:   as,
	}
	s.base, s.closeBase = context.WithCancel(context.Background())
	if opt.Registerer != nil {
		opt.Registerer.MustRegister(s.requests, s.login.attempts, s.sessions.gauge())
	}
	if err := s.routes(); err != nil {
		return nil, err
	}
	return s, nil
}

// routes lists every endpoint. Features register here, one line each.
func (s *Server) routes() error {
	opt := s.opt
	s.route("GET /healthz", "healthz", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	}))
	if opt.Gatherer != nil {
		s.route("GET /metrics", "metrics", promhttp.HandlerFor(opt.Gatherer, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(opt.Logger.Handler(), slog.LevelError)}))
	}

	// People: the login page, the session, the dashboard's pages and assets.
	s.route("GET /login", "login_page", s.assets.page("login.html"))
	s.route("POST /login", "login", http.HandlerFunc(s.handleLogin))
	s.route("POST /logout", "logout", http.HandlerFunc(s.handleLogout))
	s.route("GET /static/", "static", http.StripPrefix("/static/", s.assets))
	s.route("GET /{$}", "root", http.RedirectHandler("/search", http.StatusSeeOther))
	// The dashboard's pages, one JS module each (web/pages/NAME.js).
	for _, p := range []string{"search", "live", "checks", "alerts", "sources"} {
		s.route("GET /"+p, "page", s.pageHandler(s.assets.page("index.html")))
	}
	s.route("GET /alerts/{id}", "page", s.pageHandler(s.assets.page("index.html"))) // the url sent to alert receivers

	// The JSON API: bearer token or session cookie (with CSRF on writes).
	s.route("GET /api/v1/session", "session", s.apiHandler(s.session))
	s.route("GET /api/v1/search", "search", s.apiHandler(s.search))
	s.route("GET /api/v1/facets", "facets", s.apiHandler(s.facets))
	s.route("GET /api/v1/histogram", "histogram", s.apiHandler(s.histogram))
	s.route("GET /api/v1/sources", "sources", s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		writeJSON(w, http.StatusOK, map[string]any{"sources": opt.Store.Sources()})
		return nil
	}))
	s.route("GET /api/v1/tail", "tail", http.HandlerFunc(s.handleTail))
	s.routeChecks() // checks_api.go
	s.routeAlerts() // alerts_api.go

	ic := opt.Ingest
	ic.Sink, ic.Agent = opt.Store, s.agents.match
	if ic.Logger == nil {
		ic.Logger = opt.Logger
	}
	if ic.Registerer == nil {
		ic.Registerer = opt.Registerer
	}
	ingest, err := collector.NewIngestHandler(ic)
	if err != nil {
		return err
	}
	s.route("POST /api/v1/ingest", "ingest", ingest)
	s.route("/api/", "unknown", s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		return httpError{http.StatusNotFound, "no such API endpoint: " + r.Method + " " + r.URL.Path}
	}))
	return nil
}

// route registers h, counting its answers under name.
func (s *Server) route(pattern, name string, h http.Handler) {
	s.mux.Handle(pattern, promhttp.InstrumentHandlerCounter(s.requests.MustCurryWith(prometheus.Labels{"route": name}), h))
}

// ServeHTTP adds the headers every answer carries.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Content-Security-Policy", ContentSecurityPolicy)
	h.Set("Cross-Origin-Opener-Policy", "same-origin")
	s.mux.ServeHTTP(w, r)
}

// ContentSecurityPolicy is sent with every answer: scripts and styles come
// from the server's own files only, never inline, so text that slipped into
// the page as markup still could not run.
const ContentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// Close ends the live tails (call it on shutdown: http.Server.Shutdown
// does not wait for or close upgraded connections).
func (s *Server) Close() { s.closeBase() }

// httpError is an error with the status to answer.
type httpError struct {
	status int
	msg    string
}

func (e httpError) Error() string { return e.msg }

// apiHandler wraps a JSON endpoint: authentication (bearer token or
// session cookie), the CSRF token on state-changing requests made with a
// session, a deadline, and errors as {"error": "..."} with the right status.
func (s *Server) apiHandler(h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, ok := s.authenticate(r)
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="vigie"`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "authentication required: log in, or send Authorization: Bearer TOKEN"})
			return
		}
		if p.session != nil && !safeMethod(r.Method) && !p.session.csrfOK(r.Header.Get(csrfHeader)) {
			writeJSON(w, http.StatusForbidden, map[string]string{"error": "missing or wrong " + csrfHeader + " header: reload the page"})
			return
		}
		ctx, cancel := context.WithTimeout(withPrincipal(r.Context(), p), s.opt.RequestTimeout)
		defer cancel()
		err := h(w, r.WithContext(ctx))
		if err == nil {
			return
		}
		s.writeError(w, r, err)
	})
}

// writeError answers err as JSON; a query syntax error also carries its
// column, for the dashboard to point at.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	var he httpError
	switch {
	case errors.As(err, &he):
	case errors.Is(err, store.ErrBadRequest):
		he = httpError{http.StatusBadRequest, err.Error()}
	case errors.Is(err, context.DeadlineExceeded):
		he = httpError{http.StatusServiceUnavailable, "the store did not answer within " + s.opt.RequestTimeout.String() + ": narrow the time range or the query"}
	case errors.Is(err, context.Canceled):
		return // the client went away
	default:
		s.opt.Logger.Error("api: store error", "path", r.URL.Path, "err", err)
		he = httpError{http.StatusServiceUnavailable, "store unavailable: " + err.Error()}
	}
	body := map[string]any{"error": he.msg}
	if qe := (*query.Error)(nil); errors.As(err, &qe) {
		body["column"] = qe.Col
	}
	writeJSON(w, he.status, body)
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.Encode(v)
}
