package ui

import (
	"net/http"
	"net/url"
	"strconv"
	"time"

	"vigie/store"
)

// MaxQueryLength bounds the q parameter.
const MaxQueryLength = 4096

// request reads q, from, to, limit and before, the parameters the search
// endpoints share.
func (s *Server) request(r *http.Request) (store.Request, error) {
	q := r.URL.Query()
	req := store.Request{Query: q.Get("q"), Before: q.Get("before")}
	if len(req.Query) > MaxQueryLength {
		return req, httpError{http.StatusRequestEntityTooLarge, "q: longer than 4096 bytes"}
	}
	var err error
	if req.From, req.To, err = timeRange(q, s.opt.Now(), time.Time{}, time.Time{}); err != nil {
		return req, err
	}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > store.MaxLimit {
			return req, httpError{http.StatusBadRequest, "limit: a whole number from 1 to " + strconv.Itoa(store.MaxLimit)}
		}
		req.Limit = n
	}
	return req, nil
}

// timeRange reads from and to (RFC 3339 or relative to now), defaulting
// to from and to; a zero time is an open end.
func timeRange(q url.Values, now, from, to time.Time) (time.Time, time.Time, error) {
	var err error
	if v := q.Get("from"); v != "" {
		if from, err = store.ParseTime(v, now); err != nil {
			return from, to, httpError{http.StatusBadRequest, "from: " + err.Error()}
		}
	}
	if v := q.Get("to"); v != "" {
		if to, err = store.ParseTime(v, now); err != nil {
			return from, to, httpError{http.StatusBadRequest, "to: " + err.Error()}
		}
	}
	if !from.IsZero() && !to.IsZero() && to.Before(from) {
		return from, to, httpError{http.StatusBadRequest, "to: before from"}
	}
	return from, to, nil
}

func (s *Server) search(w http.ResponseWriter, r *http.Request) error {
	req, err := s.request(r)
	if err != nil {
		return err
	}
	res, err := s.opt.Store.Search(r.Context(), req)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, res)
	return nil
}

func (s *Server) facets(w http.ResponseWriter, r *http.Request) error {
	req, err := s.request(r)
	if err != nil {
		return err
	}
	field := r.URL.Query().Get("field")
	if field == "" {
		field = "host"
	}
	counts, err := s.opt.Store.Facets(r.Context(), req, field, req.Limit)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"field": field, "counts": counts})
	return nil
}

func (s *Server) histogram(w http.ResponseWriter, r *http.Request) error {
	req, err := s.request(r)
	if err != nil {
		return err
	}
	// A histogram needs a range: the last 24 hours unless told otherwise.
	if req.To.IsZero() {
		req.To = s.opt.Now()
	}
	if req.From.IsZero() {
		req.From = req.To.Add(-24 * time.Hour)
	}
	var step time.Duration
	if v := r.URL.Query().Get("step"); v != "" {
		if step, err = time.ParseDuration(v); err != nil || step <= 0 {
			return httpError{http.StatusBadRequest, "step: a duration such as 1m or 1h"}
		}
	}
	buckets, err := s.opt.Store.Histogram(r.Context(), req, step)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"buckets": buckets})
	return nil
}
