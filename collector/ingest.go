package collector

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"vigie/record"
)

// AgentSink stores an agent's batch once, acknowledging after the commit.
type AgentSink interface {
	SubmitAgentBatch(ctx context.Context, agent string, seq int64, window int, recs []record.Record) (duplicate bool, err error)
}

// IngestConfig configures the agent ingest endpoint (POST /api/v1/ingest).
type IngestConfig struct {
	Sink AgentSink
	// Agent authenticates a request and names the agent its token belongs to.
	Agent func(*http.Request) (name string, ok bool)
	// MaxBody bounds the request body as sent (default 16 MiB) and
	// MaxDecoded once gunzipped (default 128 MiB).
	MaxBody, MaxDecoded int64
	// MaxRecords bounds one batch (default 50,000).
	MaxRecords int
	// MaxMessageSize cuts longer messages as for syslog (default 64 KiB).
	MaxMessageSize int
	Logger         *slog.Logger
	Registerer     prometheus.Registerer
}

// MaxAgentWindow is the most batches an agent may keep in flight
// (X-Vigie-Window); it must equal store.MaxAgentWindow, which bounds what
// the store remembers per agent (a ui test holds them together).
const MaxAgentWindow = 64

// Limits on what one agent record may carry besides its message.
const (
	maxIngestLine   = 1 << 20
	maxFields       = 128
	maxFieldKey     = 256
	maxFieldValue   = 64 << 10
	fieldIngestNote = "ingest_note"
)

type ingest struct {
	cfg IngestConfig
	m   ingestMetrics
}

type ingestMetrics struct {
	requests  *prometheus.CounterVec
	records   prometheus.Counter
	invalid   prometheus.Counter
	truncated prometheus.Counter
}

// NewIngestHandler serves agent batches: NDJSON records, optionally gzipped,
// headers X-Vigie-Agent and X-Vigie-Batch; it answers 200
// {"accepted":N,"duplicate":false} only after the batch is committed.
func NewIngestHandler(cfg IngestConfig) (http.Handler, error) {
	if cfg.Sink == nil || cfg.Agent == nil {
		return nil, errors.New("collector: ingest needs a sink and an authenticator")
	}
	if cfg.MaxBody <= 0 {
		cfg.MaxBody = 16 << 20
	}
	if cfg.MaxDecoded <= 0 {
		cfg.MaxDecoded = 128 << 20
	}
	if cfg.MaxRecords <= 0 {
		cfg.MaxRecords = 50_000
	}
	if cfg.MaxMessageSize <= 0 {
		cfg.MaxMessageSize = defaultMaxMessageSize
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	h := &ingest{cfg: cfg, m: ingestMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "vigie_ingest_batches_total", Help: "Agent batches by outcome: stored, duplicate, rejected, failed."}, []string{"result"}),
		records: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigie_ingest_records_total", Help: "Records received from agents (duplicates not counted)."}),
		invalid: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigie_ingest_invalid_records_total", Help: "Agent lines that were not a valid record, stored raw with fields.parse_error."}),
		truncated: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "vigie_ingest_truncated_total", Help: "Agent records cut to the size limits, marked fields.truncated."}),
	}}
	if r := cfg.Registerer; r != nil {
		for _, c := range []prometheus.Collector{h.m.requests, h.m.records, h.m.invalid, h.m.truncated} {
			if err := r.Register(c); err != nil {
				return nil, fmt.Errorf("collector: ingest metrics: %w", err)
			}
		}
	}
	return h, nil
}

type ingestError struct {
	status int
	msg    string
}

func (h *ingest) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	accepted, dup, ie := h.serve(r)
	result := "stored"
	switch {
	case ie != nil && ie.status >= 500:
		result = "failed"
	case ie != nil:
		result = "rejected"
	case dup:
		result = "duplicate"
	}
	h.m.requests.WithLabelValues(result).Inc()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	if ie != nil {
		if ie.status == http.StatusUnauthorized {
			w.Header().Set("WWW-Authenticate", `Bearer realm="vigie-agent"`)
		}
		w.WriteHeader(ie.status)
		json.NewEncoder(w).Encode(map[string]string{"error": ie.msg})
		return
	}
	json.NewEncoder(w).Encode(map[string]any{"accepted": accepted, "duplicate": dup})
}

func (h *ingest) serve(r *http.Request) (int, bool, *ingestError) {
	agent, ok := h.cfg.Agent(r)
	if !ok {
		return 0, false, &ingestError{http.StatusUnauthorized, "an agent token is required: Authorization: Bearer TOKEN (auth.agent_tokens)"}
	}
	if claimed := r.Header.Get("X-Vigie-Agent"); claimed != agent {
		return 0, false, &ingestError{http.StatusForbidden, fmt.Sprintf("X-Vigie-Agent %q does not match the agent of this token (%q)", claimed, agent)}
	}
	seq, err := strconv.ParseInt(r.Header.Get("X-Vigie-Batch"), 10, 64)
	if err != nil || seq <= 0 {
		return 0, false, &ingestError{http.StatusBadRequest, "X-Vigie-Batch: a batch sequence number from 1"}
	}
	// X-Vigie-Window: how many batches the agent keeps in flight; absent
	// means one at a time.
	window := 1
	if v := r.Header.Get("X-Vigie-Window"); v != "" {
		window, err = strconv.Atoi(v)
		if err != nil || window < 1 || window > MaxAgentWindow {
			return 0, false, &ingestError{http.StatusBadRequest, fmt.Sprintf("X-Vigie-Window: a number of batches in flight from 1 to %d", MaxAgentWindow)}
		}
	}
	body := io.Reader(http.MaxBytesReader(nil, r.Body, h.cfg.MaxBody))
	switch enc := r.Header.Get("Content-Encoding"); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(body)
		if err != nil {
			return 0, false, &ingestError{http.StatusBadRequest, "body: not gzip: " + err.Error()}
		}
		defer zr.Close()
		body = &limitedReader{r: zr, n: h.cfg.MaxDecoded}
	default:
		return 0, false, &ingestError{http.StatusUnsupportedMediaType, "Content-Encoding " + enc + ": only gzip"}
	}
	recs, ie := h.decode(body, agent, remoteIP(r))
	if ie != nil {
		return 0, false, ie
	}
	dup, err := h.cfg.Sink.SubmitAgentBatch(r.Context(), agent, seq, window, recs)
	if err != nil {
		h.cfg.Logger.Error("ingest: store failed", "agent", agent, "batch", seq, "err", err)
		return 0, false, &ingestError{http.StatusServiceUnavailable, "store unavailable, resend the batch: " + err.Error()}
	}
	if !dup {
		h.m.records.Add(float64(len(recs)))
	}
	return len(recs), dup, nil
}

var errTooLarge = errors.New("too large")

// limitedReader fails, rather than ending quietly, past its limit: a
// gzip bomb must be refused, not cut into a smaller "valid" batch.
type limitedReader struct {
	r io.Reader
	n int64
}

func (l *limitedReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		return 0, errTooLarge
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}

// decode reads NDJSON records. A line that is not a record is kept raw with
// fields.parse_error, like an unparseable syslog message: the batch as a
// whole is refused only when it is too large or unreadable.
func (h *ingest) decode(body io.Reader, agent, ip string) ([]record.Record, *ingestError) {
	br := bufio.NewReaderSize(body, 64<<10)
	now := time.Now().UTC()
	source := "agent/" + agent + " " + ip
	var recs []record.Record
	for lineNo := 1; ; lineNo++ {
		line, err := readLine(br, maxIngestLine)
		if len(bytes.TrimSpace(line)) > 0 {
			if len(recs) == h.cfg.MaxRecords {
				return nil, &ingestError{http.StatusRequestEntityTooLarge, fmt.Sprintf("more than %d records in one batch", h.cfg.MaxRecords)}
			}
			recs = append(recs, h.record(line, now, source))
		}
		if err == io.EOF {
			return recs, nil
		}
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) || errors.Is(err, errTooLarge) {
				return nil, &ingestError{http.StatusRequestEntityTooLarge, "body over the size limit: send smaller batches"}
			}
			return nil, &ingestError{http.StatusBadRequest, fmt.Sprintf("body: line %d: %v", lineNo, err)}
		}
	}
}

// readLine returns the next line without its newline; a line longer than
// max is returned cut (the record then fails to decode and is kept raw). A
// line that fits the reader's buffer is returned in place, valid until the
// next read: each is decoded (copied) before that.
func readLine(br *bufio.Reader, max int) ([]byte, error) {
	chunk, err := br.ReadSlice('\n')
	if err != bufio.ErrBufferFull {
		return bytes.TrimRight(chunk, "\r\n"), err
	}
	line := append([]byte(nil), chunk...)
	for err == bufio.ErrBufferFull {
		chunk, err = br.ReadSlice('\n')
		if len(line)+len(chunk) <= max {
			line = append(line, chunk...)
		}
	}
	return bytes.TrimRight(line, "\r\n"), err
}

func (h *ingest) record(line []byte, now time.Time, source string) record.Record {
	var r record.Record
	if err := record.UnmarshalJSONFast(line, &r); err != nil {
		h.m.invalid.Inc()
		r = record.Record{Time: now, Facility: record.FacUser, Severity: record.SevNotice,
			Message: strings.ToValidUTF8(string(line), "\uFFFD")}
		r.SetField(record.FieldParseError, "agent: not a JSON record: "+err.Error())
	}
	r.ID = 0
	r.Received = now
	r.Source = source
	if r.Time.IsZero() {
		r.Time = now
	}
	if r.Severity < 0 || r.Severity > 7 || r.Facility < 0 || r.Facility > 23 {
		r.SetField(fieldIngestNote, fmt.Sprintf("severity %d / facility %d out of range, stored as notice/user", r.Severity, r.Facility))
		r.Severity, r.Facility = record.SevNotice, record.FacUser
	}
	cut := false
	if len(r.Message) > h.cfg.MaxMessageSize {
		r.Message, cut = truncateUTF8(r.Message, h.cfg.MaxMessageSize), true
	}
	if len(r.Fields) > maxFields {
		cut = true
		n := 0
		for k := range r.Fields {
			if n++; n > maxFields {
				delete(r.Fields, k)
			}
		}
	}
	for k, v := range r.Fields {
		if len(k) > maxFieldKey {
			delete(r.Fields, k)
			cut = true
			continue
		}
		if len(v) > maxFieldValue {
			r.Fields[k], cut = truncateUTF8(v, maxFieldValue), true
		}
	}
	if cut {
		h.m.truncated.Inc()
		r.SetField(record.FieldTruncated, "true")
	}
	return r
}

// truncateUTF8 cuts s to at most n bytes without splitting a character.
func truncateUTF8(s string, n int) string {
	for n > 0 && n < len(s) && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

func remoteIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
