package output

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/klauspost/compress/gzip"

	"vigie/forwarder/spool"
)

// VigieConfig configures the vigie collector output.
type VigieConfig struct {
	// URL is the collector's base URL (https://vigie.lan:8080).
	URL string
	// Token is the agent's token (auth.agent_tokens); Agent its name
	// (agent_id), sent as X-Vigie-Agent.
	Token, Agent string
	// CAFile is an extra trusted CA (PEM), on top of the system roots.
	// There is deliberately no switch to skip verification.
	CAFile string
	// Timeout bounds one request, answer included (default 30s).
	Timeout time.Duration
	// NoGzip sends bodies uncompressed (default: gzip).
	NoGzip bool
	// Window is how many batches may be in flight at once (default
	// DefaultWindow, at most 64): the agent compresses and sends the next
	// batches while the collector commits the first.
	Window int
	// UserAgent defaults to "vigie-agent".
	UserAgent string
	Logger    *slog.Logger
}

// Vigie sends batches to POST /api/v1/ingest. The batch's spool sequence
// number is its X-Vigie-Batch: a resend after a lost answer is acknowledged
// by the collector as a duplicate and not stored twice.
type Vigie struct {
	cfg      VigieConfig
	endpoint string
	client   *http.Client
	zs       chan *gzip.Writer // idle compressors, at most Window
}

// NewVigie checks the configuration and prepares the HTTP client.
func NewVigie(cfg VigieConfig) (*Vigie, error) {
	u, err := url.Parse(cfg.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("output: server url %q: want http(s)://host:port", cfg.URL)
	}
	if cfg.Token == "" || cfg.Agent == "" {
		return nil, errors.New("output: the vigie output needs a token and an agent name")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Window <= 0 {
		cfg.Window = DefaultWindow
	}
	if cfg.Window > 64 {
		return nil, fmt.Errorf("output: window %d: at most 64 batches in flight", cfg.Window)
	}
	if cfg.UserAgent == "" {
		cfg.UserAgent = "vigie-agent"
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	tc, err := tlsConfig(cfg.CAFile, "")
	if err != nil {
		return nil, fmt.Errorf("output: server %w", err)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tc
	tr.MaxIdleConnsPerHost = cfg.Window
	return &Vigie{
		cfg:      cfg,
		endpoint: strings.TrimRight(cfg.URL, "/") + "/api/v1/ingest",
		client:   &http.Client{Transport: tr, Timeout: cfg.Timeout},
		zs:       make(chan *gzip.Writer, cfg.Window),
	}, nil
}

// DefaultWindow is how many batches the agent keeps in flight: enough that
// compressing and sending overlap the collector's commits.
const DefaultWindow = 2

// Window is how many batches may be in flight at once.
func (v *Vigie) Window() int { return v.cfg.Window }

// Send posts one batch and returns nil only on the collector's 200.
func (v *Vigie) Send(ctx context.Context, b spool.Batch) error {
	body, gz := b.Records, b.Gzip
	switch {
	case gz && v.cfg.NoGzip:
		plain, err := b.Plain()
		if err != nil {
			return &PermanentError{Msg: err.Error()}
		}
		body, gz = plain, false
	case !gz && !v.cfg.NoGzip:
		// (The agent spools its batches compressed: this is for others.)
		// A new buffer each time: the transport may still read the body
		// after Do returns.
		var buf bytes.Buffer
		buf.Grow(len(body)/4 + 64)
		zw := v.gzip()
		zw.Reset(&buf)
		zw.Write(body)
		err := zw.Close()
		v.idle(zw)
		if err != nil {
			return err
		}
		body, gz = buf.Bytes(), true
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, v.endpoint, bytes.NewReader(body))
	if err != nil {
		return &PermanentError{Msg: err.Error()}
	}
	req.Header.Set("Authorization", "Bearer "+v.cfg.Token)
	req.Header.Set("X-Vigie-Agent", v.cfg.Agent)
	req.Header.Set("X-Vigie-Batch", strconv.FormatInt(b.Seq, 10))
	req.Header.Set("X-Vigie-Window", strconv.Itoa(v.cfg.Window))
	req.Header.Set("Content-Type", "application/x-ndjson")
	req.Header.Set("User-Agent", v.cfg.UserAgent)
	if gz {
		req.Header.Set("Content-Encoding", "gzip")
	}
	resp, err := v.client.Do(req)
	if err != nil {
		return err // network, TLS, timeout: retry
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	var answer struct {
		Accepted *int   `json:"accepted"`
		Dup      bool   `json:"duplicate"`
		Error    string `json:"error"`
	}
	jerr := json.Unmarshal(raw, &answer)
	msg := answer.Error
	if msg == "" {
		msg = strings.TrimSpace(string(raw))
		if len(msg) > 200 {
			msg = msg[:200] + "..."
		}
	}
	switch s := resp.StatusCode; {
	case s == http.StatusOK:
		// A 200 from something else than the collector (a proxy's login
		// page) must not delete the batch.
		if jerr != nil || answer.Accepted == nil {
			return &RetryError{Status: s, Msg: "200 without an ingest answer (a proxy in the way?): " + msg}
		}
		if answer.Dup {
			v.cfg.Logger.Info("output: collector already had this batch (resend after a lost answer)", "batch", b.Seq, "records", b.Count)
		} else if *answer.Accepted != b.Count {
			v.cfg.Logger.Warn("output: collector accepted another number of records than the batch holds", "batch", b.Seq, "records", b.Count, "accepted", *answer.Accepted)
		}
		return nil
	case s == http.StatusUnauthorized, s == http.StatusForbidden:
		// A wrong or revoked token is the operator's to fix, and every batch
		// would meet it: keep them all and retry, loudly, rather than bury
		// the whole spool in dead/.
		v.cfg.Logger.Error("output: the collector refuses this agent: check server.token and agent_id against the server's auth.agent_tokens; batches are kept and retried",
			"status", s, "answer", msg)
		return &RetryError{Status: s, Msg: msg}
	case s == http.StatusBadRequest, s == http.StatusRequestEntityTooLarge, s == http.StatusUnsupportedMediaType:
		// Something in this batch itself: it will never pass as it is.
		return &PermanentError{Status: s, Msg: msg}
	default:
		// 429, 5xx, and also 404 and the like: a proxy or a collector not
		// yet upgraded is no reason to give the batch up.
		return &RetryError{Status: s, RetryAfter: parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()), Msg: msg}
	}
}

// gzip returns an idle compressor, or a new one. Compressors are kept from
// one batch to the next: a flate compressor is a few hundred KiB of tables,
// which a new one per batch made the agent's largest garbage.
func (v *Vigie) gzip() *gzip.Writer {
	select {
	case zw := <-v.zs:
		return zw
	default:
		// Fastest level: it still shrinks log text 6-8 times, for a fraction
		// of the default level's CPU on the agent's single core.
		zw, _ := gzip.NewWriterLevel(io.Discard, gzip.BestSpeed)
		return zw
	}
}

// idle keeps a compressor for the next batch (up to Window of them).
func (v *Vigie) idle(zw *gzip.Writer) {
	select {
	case v.zs <- zw:
	default:
	}
}

// Close releases idle connections.
func (v *Vigie) Close() error {
	v.client.CloseIdleConnections()
	return nil
}
