// Package ui is vigie's HTTP server: the JSON API, its authentication and
// (later) the dashboard's embedded assets.
package ui

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"vigie/collector"
	"vigie/store"
)

// Token is a named bearer secret from auth.api_tokens.
type Token struct{ Name, Secret string }

// Options are what the server needs from the rest of vigie.
type Options struct {
	Store     *store.Store
	APITokens []Token
	// AgentTokens authenticate vigie-agent batches on POST /api/v1/ingest;
	// they open nothing else.
	AgentTokens []Token
	// Ingest configures the agent endpoint; its Sink and Agent are filled in
	// by the server. A zero value serves it on Store with the defaults.
	Ingest collector.IngestConfig
	// Gatherer serves /metrics; Registerer receives the server's own metrics.
	Gatherer   prometheus.Gatherer
	Registerer prometheus.Registerer
	Logger     *slog.Logger
	// RequestTimeout bounds one API request (default 30s).
	RequestTimeout time.Duration
	// Now is the clock for relative times ("-15m"); nil means time.Now.
	Now func() time.Time
}

// Server serves the API.
type Server struct {
	opt    Options
	api    tokenSet
	agents tokenSet
	mux    *http.ServeMux
}

// tokenSet holds bearer secrets hashed, so comparing them takes the same
// time whatever their length and content.
type tokenSet struct {
	sums  [][sha256.Size]byte
	names []string
}

func newTokenSet(ts []Token) tokenSet {
	var s tokenSet
	for _, t := range ts {
		s.sums = append(s.sums, sha256.Sum256([]byte(t.Secret)))
		s.names = append(s.names, t.Name)
	}
	return s
}

// match checks the request's bearer token against every token of the set,
// in constant time, and returns its name.
func (s tokenSet) match(r *http.Request) (string, bool) {
	const prefix = "Bearer "
	h := r.Header.Get("Authorization")
	if len(h) <= len(prefix) || h[:len(prefix)] != prefix {
		return "", false
	}
	sum := sha256.Sum256([]byte(h[len(prefix):]))
	name, found := "", 0
	for i, t := range s.sums {
		if subtle.ConstantTimeCompare(sum[:], t[:]) == 1 {
			name, found = s.names[i], 1
		}
	}
	return name, found == 1
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
	s := &Server{opt: opt, mux: http.NewServeMux(), api: newTokenSet(opt.APITokens), agents: newTokenSet(opt.AgentTokens)}
	requests := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "vigie_http_requests_total", Help: "HTTP requests by route and status code."}, []string{"route", "code"})
	if opt.Registerer != nil {
		opt.Registerer.MustRegister(requests)
	}
	route := func(pattern, name string, h http.Handler) {
		s.mux.Handle(pattern, promhttp.InstrumentHandlerCounter(requests.MustCurryWith(prometheus.Labels{"route": name}), h))
	}
	route("GET /healthz", "healthz", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	}))
	if opt.Gatherer != nil {
		route("GET /metrics", "metrics", promhttp.HandlerFor(opt.Gatherer, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(opt.Logger.Handler(), slog.LevelError)}))
	}
	route("GET /api/v1/search", "search", s.apiHandler(s.search))
	route("GET /api/v1/facets", "facets", s.apiHandler(s.facets))
	route("GET /api/v1/histogram", "histogram", s.apiHandler(s.histogram))
	route("GET /api/v1/sources", "sources", s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		writeJSON(w, http.StatusOK, map[string]any{"sources": opt.Store.Sources()})
		return nil
	}))
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
		return nil, err
	}
	route("POST /api/v1/ingest", "ingest", ingest)
	route("/api/", "unknown", s.apiHandler(func(w http.ResponseWriter, r *http.Request) error {
		return httpError{http.StatusNotFound, "no such API endpoint: " + r.Method + " " + r.URL.Path}
	}))
	return s, nil
}

// ServeHTTP adds the headers every answer carries.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	s.mux.ServeHTTP(w, r)
}

// httpError is an error with the status to answer.
type httpError struct {
	status int
	msg    string
}

func (e httpError) Error() string { return e.msg }

// apiHandler wraps a JSON endpoint: authentication, a deadline, and errors
// as {"error": "..."} with the right status.
func (s *Server) apiHandler(h func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, ok := s.api.match(r); !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="vigie"`)
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "authentication required: Authorization: Bearer TOKEN"})
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), s.opt.RequestTimeout)
		defer cancel()
		err := h(w, r.WithContext(ctx))
		if err == nil {
			return
		}
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
		writeJSON(w, he.status, map[string]string{"error": he.msg})
	})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.Encode(v)
}
