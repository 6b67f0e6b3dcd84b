package ui

import (
	"errors"
	"net/http"
	"strconv"

	"vigie/rules"
)

// routeAlerts adds the /api/v1/alerts endpoints (DESIGN.md, docs/api.md).
func (s *Server) routeAlerts() {
	if s.opt.Rules == nil {
		return
	}
	s.route("GET /api/v1/alerts", "alerts", s.apiHandler(s.listAlerts))
	s.route("GET /api/v1/alerts/{id}", "alert", s.apiHandler(s.getAlert))
	s.route("POST /api/v1/alerts/{id}/ack", "alert_ack", s.apiHandler(s.ackAlert))
	s.route("GET /api/v1/alerts/{id}/deliveries", "alert_deliveries", s.apiHandler(s.alertDeliveries))
	s.route("GET /api/v1/deliveries", "deliveries", s.apiHandler(s.alertDeliveries))
}

func (s *Server) listAlerts(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	f := rules.AlertFilter{State: q.Get("state")}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > rules.MaxLimit {
			return httpError{http.StatusBadRequest, "limit: a whole number from 1 to " + strconv.Itoa(rules.MaxLimit)}
		}
		f.Limit = n
	}
	alerts, err := s.opt.Rules.Alerts(r.Context(), f)
	if errors.Is(err, rules.ErrBadFilter) {
		return httpError{http.StatusBadRequest, "state: firing, resolved or all"}
	}
	if err != nil {
		return err
	}
	if alerts == nil {
		alerts = []rules.Alert{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"alerts": alerts})
	return nil
}

func alertID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id < 1 {
		return 0, httpError{http.StatusBadRequest, "alert id: a positive number"}
	}
	return id, nil
}

func alertErr(err error) error {
	if errors.Is(err, rules.ErrNotFound) {
		return httpError{http.StatusNotFound, "no such alert"}
	}
	return err
}

func (s *Server) getAlert(w http.ResponseWriter, r *http.Request) error {
	id, err := alertID(r)
	if err != nil {
		return err
	}
	a, err := s.opt.Rules.Alert(r.Context(), id)
	if err != nil {
		return alertErr(err)
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

// ackAlert records who acknowledged: the signed-in person, or the API
// token's name.
func (s *Server) ackAlert(w http.ResponseWriter, r *http.Request) error {
	id, err := alertID(r)
	if err != nil {
		return err
	}
	by := "api"
	if p, ok := principalFrom(r.Context()); ok && p.name != "" {
		by = p.name
	}
	a, err := s.opt.Rules.Ack(r.Context(), id, by)
	if err != nil {
		return alertErr(err)
	}
	writeJSON(w, http.StatusOK, a)
	return nil
}

// alertDeliveries is the delivery log: of one alert, or the most recent.
func (s *Server) alertDeliveries(w http.ResponseWriter, r *http.Request) error {
	var id int64
	if r.PathValue("id") != "" {
		var err error
		if id, err = alertID(r); err != nil {
			return err
		}
		if _, err := s.opt.Rules.Alert(r.Context(), id); err != nil {
			return alertErr(err)
		}
	}
	ds, err := s.opt.Rules.Deliveries(r.Context(), id, 100)
	if err != nil {
		return alertErr(err)
	}
	if ds == nil {
		ds = []rules.DeliveryLog{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"deliveries": ds})
	return nil
}
