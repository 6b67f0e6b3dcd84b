package ui

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"vigie/record"
)

func wsURL(env *authEnv, q string) string {
	u := "ws" + strings.TrimPrefix(env.ts.URL, "http") + "/api/v1/tail"
	if q != "" {
		u += "?q=" + strings.ReplaceAll(q, " ", "+")
	}
	return u
}

func dialTail(t *testing.T, env *authEnv, q string, hdr http.Header) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	c, resp, err := websocket.DefaultDialer.Dial(wsURL(env, q), hdr)
	if err == nil {
		t.Cleanup(func() { c.Close() })
	}
	return c, resp, err
}

func mustURL(s string) *url.URL {
	u, err := url.Parse(s)
	if err != nil {
		panic(err)
	}
	return u
}

func bearer() http.Header { return http.Header{"Authorization": {"Bearer " + testToken}} }

// tailMsg is any message of the tail: a record, or a control message.
type tailMsg struct {
	record.Record
	Type   string `json:"type"`
	Count  int64  `json:"count"`
	Error  string `json:"error"`
	Column int    `json:"column"`
}

func readMsg(t *testing.T, c *websocket.Conn) tailMsg {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var m tailMsg
	_, b, err := c.ReadMessage()
	if err != nil {
		t.Fatalf("read: %v", err)
	}
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	return m
}

func TestTailStreamsMatchingRecords(t *testing.T) {
	env := newAuthEnv(t)
	c, _, err := dialTail(t, env, "app:postgres severity<=err", bearer())
	if err != nil {
		t.Fatal(err)
	}
	env.hub.Publish([]record.Record{
		{ID: 1, Host: "erp1", App: "postgres", Severity: 3, Message: "first"},
		{ID: 2, Host: "erp1", App: "postgres", Severity: 6, Message: "info: not matching"},
		{ID: 3, Host: "erp1", App: "odoo", Severity: 3, Message: "other app"},
	})
	env.hub.Publish([]record.Record{{ID: 4, Host: "erp2", App: "postgres", Severity: 0, Message: "second", Fields: map[string]string{"db": "Specibike"}}})
	for _, want := range []string{"first", "second"} {
		m := readMsg(t, c)
		if m.Type != "" || m.Message != want || m.App != "postgres" {
			t.Fatalf("got %+v, want the record %q", m, want)
		}
		if want == "second" && m.Fields["db"] != "Specibike" {
			t.Errorf("fields lost: %+v", m)
		}
	}
}

func TestTailCountsWhatASlowClientMisses(t *testing.T) {
	env := newAuthEnv(t)
	env.srv.tail.queue = 2 // batches waiting: small, so the overflow comes soon
	c, _, err := dialTail(t, env, "app:bulk", bearer())
	if err != nil {
		t.Fatal(err)
	}
	// The client reads nothing while 20 MB are published: the socket's
	// buffers fill, the server's write blocks, the hub's queue overflows.
	const batches, per = 200, 100
	batch := make([]record.Record, per)
	for i := range batch {
		batch[i] = record.Record{App: "bulk", Message: strings.Repeat("x", 1000)}
	}
	start := time.Now()
	for range batches {
		env.hub.Publish(batch)
		env.hub.Publish([]record.Record{{App: "other", Message: "not matching: never counted"}})
	}
	if el := time.Since(start); el > 5*time.Second {
		t.Logf("publishing took %v: it must never wait for a client", el)
	}
	var got, dropped int64
	for got+dropped < batches*per {
		m := readMsg(t, c)
		switch {
		case m.Type == "dropped":
			dropped += m.Count
		case m.Type == "" && m.App == "bulk":
			got++
		default:
			t.Fatalf("unexpected %+v", m)
		}
	}
	if dropped == 0 || got == 0 || got+dropped != batches*per {
		t.Fatalf("received %d, dropped %d, want both and %d in all", got, dropped, batches*per)
	}
	t.Logf("received %d, told of %d dropped", got, dropped)
}

func TestTailRefusals(t *testing.T) {
	env := newAuthEnv(t)
	b := env.browser(t)
	b.mustLogin()
	cookie := b.c.Jar.Cookies(mustURL(env.ts.URL))[0]
	withCookie := func(origin string) http.Header {
		h := http.Header{"Cookie": {cookie.Name + "=" + cookie.Value}}
		if origin != "" {
			h.Set("Origin", origin)
		}
		return h
	}
	cases := []struct {
		name string
		hdr  http.Header
		want int // 101: connected
	}{
		{"no credentials", nil, 401},
		{"wrong token", http.Header{"Authorization": {"Bearer nope"}}, 401},
		{"cookie without Origin", withCookie(""), 403},
		{"cookie from another site", withCookie("https://evil.example"), 403},
		{"cookie from our own page", withCookie(env.ts.URL), 101},
		{"token from anywhere", http.Header{"Authorization": {"Bearer " + testToken}, "Origin": {"https://evil.example"}}, 101},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, resp, err := dialTail(t, env, "", c.hdr)
			if resp == nil {
				t.Fatalf("no answer: %v", err)
			}
			if resp.StatusCode != c.want {
				t.Fatalf("%d (%v), want %d", resp.StatusCode, err, c.want)
			}
		})
	}
}

func TestTailBadQuery(t *testing.T) {
	env := newAuthEnv(t)
	// A browser cannot read a refused handshake: the error comes as a
	// message naming the column, then a policy-violation close.
	c, _, err := dialTail(t, env, "host:erp1 (app:x", bearer())
	if err != nil {
		t.Fatal(err)
	}
	m := readMsg(t, c)
	if m.Type != "error" || m.Column != 11 || !strings.Contains(m.Error, "column 11") {
		t.Fatalf("%+v", m)
	}
	_, _, err = c.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.ClosePolicyViolation {
		t.Fatalf("close: %v", err)
	}
	// Without an upgrade, a plain 400.
	var e struct {
		Error  string
		Column int
	}
	if code := get(t, env.ts, "/api/v1/tail?q=severity:fatal", testToken, &e); code != 400 || e.Column != 10 {
		t.Fatalf("plain GET: %d %+v", code, e)
	}
}

func TestTailClientLimit(t *testing.T) {
	env := newAuthEnv(t, func(o *Options) { o.MaxTailClients = 2 })
	for i := range 2 {
		if _, _, err := dialTail(t, env, "", bearer()); err != nil {
			t.Fatalf("client %d: %v", i+1, err)
		}
	}
	_, resp, err := dialTail(t, env, "", bearer())
	if resp == nil || resp.StatusCode != 503 || resp.Header.Get("Retry-After") == "" {
		t.Fatalf("third client: %v %v", resp, err)
	}
}

func TestTailEndsWithTheSession(t *testing.T) {
	env := newAuthEnv(t)
	env.srv.tail.pingEvery = 20 * time.Millisecond
	b := env.browser(t)
	b.mustLogin()
	cookie := b.c.Jar.Cookies(mustURL(env.ts.URL))[0]
	c, _, err := dialTail(t, env, "", http.Header{"Cookie": {cookie.Name + "=" + cookie.Value}, "Origin": {env.ts.URL}})
	if err != nil {
		t.Fatal(err)
	}
	if resp, _ := b.do("POST", "/logout", nil, map[string]string{csrfHeader: b.csrf}); resp.StatusCode != 204 {
		t.Fatalf("logout %d", resp.StatusCode)
	}
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, _, err = c.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != closeSessionEnded {
		t.Fatalf("after logout: %v, want close %d", err, closeSessionEnded)
	}
}

func TestTailEndsOnServerClose(t *testing.T) {
	env := newAuthEnv(t)
	c, _, err := dialTail(t, env, "", bearer())
	if err != nil {
		t.Fatal(err)
	}
	env.srv.Close()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, _, err = c.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseGoingAway {
		t.Fatalf("after Close: %v, want 1001", err)
	}
}

func TestTailReadLimit(t *testing.T) {
	env := newAuthEnv(t)
	c, _, err := dialTail(t, env, "", bearer())
	if err != nil {
		t.Fatal(err)
	}
	c.WriteMessage(websocket.TextMessage, []byte(strings.Repeat("x", 4096)))
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, _, err = c.ReadMessage()
	var ce *websocket.CloseError
	if !errors.As(err, &ce) || ce.Code != websocket.CloseMessageTooBig {
		t.Fatalf("after a 4 KiB message: %v, want close 1009", err)
	}
}

func TestTailWithoutHub(t *testing.T) {
	env := newAuthEnv(t, func(o *Options) { o.Hub = nil })
	_, resp, _ := dialTail(t, env, "", bearer())
	if resp == nil || resp.StatusCode != 503 {
		t.Fatalf("%v", resp)
	}
}
