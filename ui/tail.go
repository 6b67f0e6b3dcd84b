package ui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"vigie/record"
	"vigie/store"
	"vigie/store/hub"
	"vigie/store/query"
)

// The live tail: GET /api/v1/tail?q= upgraded to a websocket. Each matching
// committed record is one text message (the record's JSON form); when the
// client fell behind, {"type":"dropped","count":N}. The hub gives every
// client a bounded queue and counts what overflows it, so a slow browser
// (or a socket write stuck until its deadline) never slows ingestion.

type tailConfig struct {
	maxClients int
	active     *atomic.Int64
	queue      int           // hub batches waiting per client (0: hub default)
	pingEvery  time.Duration // a ping this often…
	pongWait   time.Duration // …and the client is gone if nothing came back in this long
	writeWait  time.Duration // one message's write deadline: a client that reads nothing is cut off
	readLimit  int64         // clients send nothing but control frames
}

func defaultTailConfig(maxClients int) tailConfig {
	return tailConfig{
		maxClients: maxClients, active: new(atomic.Int64),
		pingEvery: 30 * time.Second, pongWait: 75 * time.Second,
		writeWait: 10 * time.Second, readLimit: 512,
	}
}

// Close codes beyond the standard ones (4000-4999 are the application's).
const (
	closeSessionEnded = 4001
)

// tailMessage is a control message; records carry no "type" key.
type tailMessage struct {
	Type   string `json:"type"` // "dropped", "error"
	Count  int64  `json:"count,omitempty"`
	Error  string `json:"error,omitempty"`
	Column int    `json:"column,omitempty"`
}

func (s *Server) handleTail(w http.ResponseWriter, r *http.Request) {
	if s.opt.Hub == nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "live tail is not enabled on this server"})
		return
	}
	p, ok := s.authenticate(r)
	if !ok {
		w.Header().Set("WWW-Authenticate", `Bearer realm="vigie"`)
		writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "authentication required: log in, or send Authorization: Bearer TOKEN"})
		return
	}
	// A browser sends the session cookie with a handshake started by any
	// site's page: only our own pages may use it (cross-site websocket
	// hijacking). Bearer tokens are never sent by a browser on its own.
	if p.session != nil && !sameOrigin(r) {
		writeJSON(w, http.StatusForbidden, map[string]string{"error": "live tail: the Origin header must be this server's"})
		return
	}
	qs := r.URL.Query().Get("q")
	if len(qs) > MaxQueryLength {
		writeJSON(w, http.StatusRequestEntityTooLarge, map[string]string{"error": "q: longer than 4096 bytes"})
		return
	}
	q, qerr := query.Parse(qs)
	if !websocket.IsWebSocketUpgrade(r) {
		if qerr != nil {
			s.writeError(w, r, fmt.Errorf("%w: %w", store.ErrBadRequest, qerr))
			return
		}
		writeJSON(w, http.StatusBadRequest, map[string]string{"error": "live tail: this endpoint is a websocket (Upgrade: websocket)"})
		return
	}
	if s.tail.active.Add(1) > int64(s.tail.maxClients) {
		s.tail.active.Add(-1)
		w.Header().Set("Retry-After", "30")
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "live tail: too many clients connected; try again later"})
		return
	}
	defer s.tail.active.Add(-1)

	up := websocket.Upgrader{
		HandshakeTimeout: 10 * time.Second,
		ReadBufferSize:   1024,
		WriteBufferSize:  16 << 10,
		// Checked above, with the session in mind.
		CheckOrigin: func(*http.Request) bool { return true },
	}
	// Subscribed before the handshake answers: whatever is committed once
	// the client sees it connected reaches it, or is counted as dropped.
	var sub *hub.Sub
	if qerr == nil {
		var match func(*record.Record) bool
		if qs != "" {
			match = q.Match
		}
		sub = s.opt.Hub.Subscribe(match, s.tail.queue)
		defer sub.Close()
	}
	conn, err := up.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	defer conn.Close()
	if qerr != nil {
		// A browser cannot read a refused handshake's body: the error comes
		// as a message, then a policy-violation close.
		msg := tailMessage{Type: "error", Error: qerr.Error()}
		var qe *query.Error
		if errors.As(qerr, &qe) {
			msg.Column = qe.Col
		}
		conn.SetWriteDeadline(time.Now().Add(s.tail.writeWait))
		conn.WriteJSON(msg)
		closeWith(conn, websocket.ClosePolicyViolation, "bad query", s.tail.writeWait)
		return
	}
	s.runTail(conn, p, sub)
}

// runTail streams until the client leaves, the session ends, a write
// fails or the server closes.
func (s *Server) runTail(conn *websocket.Conn, p principal, sub *hub.Sub) {
	cfg := s.tail
	ctx, cancel := context.WithCancel(s.base)
	defer cancel()

	// Reader: control frames (pong, close); anything larger than the limit
	// or no pong in time ends the tail.
	conn.SetReadLimit(cfg.readLimit)
	conn.SetReadDeadline(time.Now().Add(cfg.pongWait))
	conn.SetPongHandler(func(string) error { return conn.SetReadDeadline(time.Now().Add(cfg.pongWait)) })
	go func() {
		defer cancel()
		for {
			if _, _, err := conn.NextReader(); err != nil {
				return
			}
		}
	}()
	// Pinger: WriteControl may run beside the writer. A session logged out
	// or idle-expired elsewhere ends its tails here.
	closeCode, closeText := websocket.CloseGoingAway, "server shutting down"
	sessionEnded := make(chan struct{})
	go func() {
		t := time.NewTicker(cfg.pingEvery)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			if p.session != nil {
				if _, ok := s.sessions.get(p.id); !ok {
					close(sessionEnded)
					cancel()
					return
				}
			}
			if conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(cfg.writeWait)) != nil {
				cancel()
				return
			}
		}
	}()

	for {
		recs, dropped, err := sub.Next(ctx)
		if err != nil {
			break
		}
		if err := s.writeTail(conn, recs, dropped); err != nil {
			cancel()
			return // the socket is broken or stuck: nothing more to say
		}
	}
	select {
	case <-sessionEnded:
		closeCode, closeText = closeSessionEnded, "session ended: log in again"
	default:
	}
	closeWith(conn, closeCode, closeText, time.Second)
}

// writeTail writes each record as a message, then the drop count. Each
// write has a deadline: while it blocks, the hub counts this client's
// overflow instead of waiting for it.
func (s *Server) writeTail(conn *websocket.Conn, recs []record.Record, dropped int64) error {
	for i := range recs {
		b, err := json.Marshal(&recs[i])
		if err != nil {
			return err
		}
		conn.SetWriteDeadline(time.Now().Add(s.tail.writeWait))
		if err := conn.WriteMessage(websocket.TextMessage, b); err != nil {
			return err
		}
	}
	if dropped > 0 {
		conn.SetWriteDeadline(time.Now().Add(s.tail.writeWait))
		return conn.WriteJSON(tailMessage{Type: "dropped", Count: dropped})
	}
	return nil
}

func closeWith(conn *websocket.Conn, code int, text string, wait time.Duration) {
	conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, text), time.Now().Add(wait))
}
