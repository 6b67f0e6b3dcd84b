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
	"slices"
	"strconv"
	"strings"
	"sync"
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
	// Reused between requests: gunzippers and line buffers.
	gzips, lines sync.Pool
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
	wire := &wireCounter{r: http.MaxBytesReader(nil, r.Body, h.cfg.MaxBody)}
	size := sizer{wire: wire, total: r.ContentLength}
	body := io.Reader(wire)
	switch enc := r.Header.Get("Content-Encoding"); enc {
	case "", "identity":
	case "gzip":
		g, err := h.gunzip(wire)
		if err != nil {
			return 0, false, &ingestError{http.StatusBadRequest, "body: not gzip: " + err.Error()}
		}
		defer h.gzips.Put(g)
		size.ahead = g.in
		body = &limitedReader{r: g.zr, n: h.cfg.MaxDecoded}
	default:
		return 0, false, &ingestError{http.StatusUnsupportedMediaType, "Content-Encoding " + enc + ": only gzip"}
	}
	recs, ie := h.decode(body, size, agent, remoteIP(r))
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

// gunzipper is a gzip reader and the buffer it reads the body through,
// kept for the next request (a gzip reader's tables cost as much to make
// as a small batch to decode). The buffer also tells how much of the body
// read is not decompressed yet.
type gunzipper struct {
	in *bufio.Reader
	zr *gzip.Reader
}

// gunzip starts decompressing body, with a gunzipper used before when
// there is one.
func (h *ingest) gunzip(body io.Reader) (*gunzipper, error) {
	g, _ := h.gzips.Get().(*gunzipper)
	if g == nil {
		g = &gunzipper{in: bufio.NewReaderSize(body, 16<<10), zr: new(gzip.Reader)}
	} else {
		g.in.Reset(body)
	}
	if err := g.zr.Reset(g.in); err != nil {
		h.gzips.Put(g)
		return nil, err
	}
	return g, nil
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
func (h *ingest) decode(body io.Reader, size sizer, agent, ip string) ([]record.Record, *ingestError) {
	br, _ := h.lines.Get().(*bufio.Reader)
	if br == nil {
		br = bufio.NewReaderSize(body, 64<<10)
	} else {
		br.Reset(body)
	}
	defer func() { br.Reset(nil); h.lines.Put(br) }()
	var recs []record.Record
	var used int64 // bytes of the decoded body the records came from
	now := time.Now().UTC()
	source := "agent/" + agent + " " + ip
	var dec record.Decoder
	for lineNo := 1; ; lineNo++ {
		line, err := readLine(br, maxIngestLine)
		if len(bytes.TrimSpace(line)) > 0 {
			if len(recs) == h.cfg.MaxRecords {
				return nil, &ingestError{http.StatusRequestEntityTooLarge, fmt.Sprintf("more than %d records in one batch", h.cfg.MaxRecords)}
			}
			if len(recs) == cap(recs) {
				recs = slices.Grow(recs, grownCap(len(recs), size.guess(len(recs), used, br.Buffered()), h.cfg.MaxRecords)-len(recs))
			}
			recs = append(recs, record.Record{})
			h.record(&recs[len(recs)-1], &dec, line, now, source)
		}
		used += int64(len(line)) + 1
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

// wireCounter counts the bytes of the body read as sent.
type wireCounter struct {
	r io.Reader
	n int64
}

func (c *wireCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// sizer estimates how many records a batch holds from how much of its body
// has been read, so that the records are allocated about once: growing the
// slice record by record allocated, copied and cleared three times its
// final size, the largest allocation on the ingest path.
type sizer struct {
	wire  *wireCounter
	ahead *bufio.Reader // holds what was read but not decompressed; nil if not gzipped
	total int64         // the body's length as sent (Content-Length); -1 unknown
}

// guess is the number of records expected in the whole body after n came
// from used bytes of it, with buffered bytes decoded but not read yet; 0
// when it cannot tell.
func (s sizer) guess(n int, used int64, buffered int) int {
	read := s.wire.n
	if s.ahead != nil {
		read -= int64(s.ahead.Buffered())
	}
	if s.total <= 0 || read <= 0 || used <= 0 {
		return 0
	}
	// Records per decoded byte, times decoded bytes per byte sent, times
	// the bytes sent.
	perByte := float64(n) / float64(used)
	ratio := float64(used+int64(buffered)) / float64(read)
	return int(min(perByte*ratio*float64(s.total), 1<<30))
}

// grownCap is the capacity for a full slice of n records: a guess once it
// is worth trusting (a thousand records in, little is still buffered),
// with room for its error, else doubling; never over limit.
func grownCap(n, guess, limit int) int {
	next := max(2*n, 256)
	if n >= 1024 && guess > 0 {
		next = max(guess+guess/16+64, n+n/4)
	}
	return min(next, limit)
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

// record decodes one line into r, which is zero.
func (h *ingest) record(r *record.Record, dec *record.Decoder, line []byte, now time.Time, source string) {
	if err := dec.Decode(line, r); err != nil {
		h.m.invalid.Inc()
		*r = record.Record{Time: now, Facility: record.FacUser, Severity: record.SevNotice,
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
