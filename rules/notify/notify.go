// Package notify turns alerts into HTTP requests for the receivers of
// `notifiers:` (webhook, slack, alertmanager: one file each behind Type) and
// delivers them reliably: a Worker retries failed deliveries from a
// persistent Queue with exponential backoff, honouring Retry-After, until
// they succeed, fail permanently, or pass the notifier's max_age.
package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"vigie/cmd/config"
	"vigie/record"
)

// Message is one notification about one alert, whatever the receiver. Its
// JSON form is the webhook payload of DESIGN.md (docs/rules.md).
type Message struct {
	Rule       string          `json:"rule"`
	State      string          `json:"state"` // firing | resolved
	Key        string          `json:"key"`
	StartedAt  time.Time       `json:"started_at"`
	ResolvedAt *time.Time      `json:"resolved_at"`
	Summary    string          `json:"summary"`
	URL        string          `json:"url"`
	Samples    []record.Record `json:"samples"`
	// Beyond DESIGN.md's shape: the alert's id in vigie, its severity and
	// labels (rule labels and the group_by values).
	ID       int64             `json:"id"`
	Severity string            `json:"severity"`
	Labels   map[string]string `json:"labels"`
	// Reminder is true on the reminders sent every `repeat` while firing.
	Reminder bool `json:"reminder,omitempty"`
	// Test marks the message of `vigie notify-test`.
	Test bool `json:"test,omitempty"`
}

// Alert states.
const (
	Firing   = "firing"
	Resolved = "resolved"
)

// Type is one kind of receiver: how a message becomes a request body, where
// it goes, and what headers it carries besides Content-Type and
// X-Vigie-Delivery.
type Type struct {
	Body func(m *Message) ([]byte, error)
	// Endpoint is the URL posted to, from the notifier's url.
	Endpoint func(base string) string
	// Sign adds headers computed from the body (nil: none).
	Sign func(n *config.Notifier, body []byte, h http.Header)
}

// typeOf is the registry of receiver types.
func typeOf(name string) (Type, bool) {
	switch name {
	case "webhook":
		return webhookType(), true
	case "slack":
		return slackType(), true
	case "alertmanager":
		return alertmanagerType(), true
	}
	return Type{}, false
}

// MaxResponseBody is how much of a receiver's answer is kept for the
// delivery log and notify-test.
const MaxResponseBody = 4 << 10

// Client sends to one configured notifier.
type Client struct {
	cfg      config.Notifier
	typ      Type
	endpoint string
	http     *http.Client
}

// NewClient prepares a notifier from its (validated) configuration.
func NewClient(n config.Notifier) (*Client, error) {
	typ, ok := typeOf(n.Type)
	if !ok {
		return nil, fmt.Errorf("notifier %s: unknown type %q", n.Name, n.Type)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if n.CAFile != "" {
		pem, err := os.ReadFile(n.CAFile)
		if err != nil {
			return nil, fmt.Errorf("notifier %s: ca_file: %w", n.Name, err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("notifier %s: ca_file %s holds no PEM certificate", n.Name, n.CAFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	if n.Timeout <= 0 {
		n.Timeout = config.Duration(config.DefaultNotifierTimeout)
	}
	if n.MaxAge <= 0 {
		n.MaxAge = config.Duration(config.DefaultNotifierMaxAge)
	}
	return &Client{
		cfg:      n,
		typ:      typ,
		endpoint: typ.Endpoint(n.URL),
		http: &http.Client{
			Transport: tr,
			// A POST redirected becomes a GET and loses its body: say so
			// instead of following.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
	}, nil
}

// Name is the notifier's name in the configuration.
func (c *Client) Name() string { return c.cfg.Name }

// Type is the notifier's type name.
func (c *Client) Type() string { return c.cfg.Type }

// Endpoint is the URL the notifier posts to.
func (c *Client) Endpoint() string { return c.endpoint }

// Timeout bounds one attempt.
func (c *Client) Timeout() time.Duration { return time.Duration(c.cfg.Timeout) }

// MaxAge is how long a failing delivery is retried.
func (c *Client) MaxAge() time.Duration { return time.Duration(c.cfg.MaxAge) }

// Body renders a message for this notifier.
func (c *Client) Body(m *Message) ([]byte, error) {
	if m.Samples == nil {
		m.Samples = []record.Record{}
	}
	return c.typ.Body(m)
}

// marshal is json.Marshal without escaping <, > and &: summaries hold
// queries such as severity<=err, and receivers show the text as sent.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// Response is the outcome of one attempt.
type Response struct {
	Status int    // 0 when no answer came
	Body   []byte // at most MaxResponseBody bytes of the answer
	// RetryAfter is the receiver's Retry-After, 0 when absent or unreadable.
	RetryAfter time.Duration
	Location   string // where a 3xx answer points
	Err        error  // network error, timeout
}

// OK reports a 2xx answer.
func (r Response) OK() bool { return r.Status >= 200 && r.Status < 300 }

// Retryable reports whether another attempt may succeed: no answer, 408,
// 429 and 5xx. Other answers mean the request itself is wrong.
func (r Response) Retryable() bool {
	return r.Err != nil || r.Status == http.StatusRequestTimeout || r.Status == http.StatusTooManyRequests || r.Status >= 500
}

// Error describes a failed attempt in words for the delivery log.
func (r Response) Error(timeout time.Duration) string {
	switch {
	case r.Err != nil && errors.Is(r.Err, context.DeadlineExceeded):
		return fmt.Sprintf("no answer within %s (notifier timeout)", timeout)
	case r.Err != nil:
		return r.Err.Error()
	case r.OK():
		return ""
	case r.Status >= 300 && r.Status < 400:
		return fmt.Sprintf("HTTP %d: redirected to %q; set the notifier's url to the final address", r.Status, r.Location)
	}
	s := fmt.Sprintf("HTTP %d", r.Status)
	if b := strings.TrimSpace(string(r.Body)); b != "" {
		s += ": " + truncate(b, 200)
	}
	return s
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 { // do not cut a UTF-8 sequence
		n--
	}
	return s[:n] + "…"
}

// Send posts one body once, within the notifier's timeout.
func (c *Client) Send(ctx context.Context, deliveryID string, body []byte, now time.Time) Response {
	ctx, cancel := context.WithTimeout(ctx, time.Duration(c.cfg.Timeout))
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.endpoint, bytes.NewReader(body))
	if err != nil {
		return Response{Err: err}
	}
	for _, h := range c.cfg.Headers {
		req.Header.Set(h.Key, h.Value)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "vigie")
	req.Header.Set("X-Vigie-Delivery", deliveryID)
	if c.typ.Sign != nil {
		c.typ.Sign(&c.cfg, body, req.Header)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return Response{Err: cleanErr(err)}
	}
	defer resp.Body.Close()
	out := Response{Status: resp.StatusCode}
	out.Body, err = io.ReadAll(io.LimitReader(resp.Body, MaxResponseBody))
	if err != nil && !out.OK() {
		out.Body = append(out.Body, fmt.Sprintf(" (reading the answer: %v)", err)...)
	}
	out.Location = resp.Header.Get("Location")
	out.RetryAfter = ParseRetryAfter(resp.Header.Get("Retry-After"), now)
	return out
}

// cleanErr drops the "Post \"url\":" prefix the HTTP client adds: the
// delivery log already names the notifier.
func cleanErr(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
