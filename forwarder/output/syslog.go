package output

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"vigie/forwarder/spool"
	"vigie/record"
)

// SDID is the structured-data element that carries a record's fields.
const SDID = "vigie@32473"

// SyslogConfig configures the syslog output.
type SyslogConfig struct {
	// Address is host:port of the syslog server (TCP, or TLS when TLS).
	Address string
	TLS     bool
	// CAFile is an extra trusted CA (PEM) for TLS, on top of the system roots.
	CAFile string
	// Hostname and AppName fill records that have none (defaults: the
	// machine's name and "vigie-agent").
	Hostname, AppName string
	// Timeout bounds connecting and writing one batch (default 30s).
	Timeout time.Duration
}

// Syslog writes each record of a batch as an RFC 5424 message with
// octet-counting framing (RFC 6587) over TCP or TLS:
//
//	<PRI>1 TIMESTAMP HOST APP PROCID MSGID [vigie@32473 key="v" ...] MSG
//
// Fields become parameters of one SD element; names are cut to 32
// characters with '=', ' ', ']', '"' and non-ASCII replaced by '_' (a
// receiver parsing it finds them as "vigie@32473.key").
//
// Delivery: syslog over TCP has no acknowledgement. A batch counts as
// delivered once all its bytes are written to the connection; on a write
// error the connection is dropped and the whole batch is sent again on a
// new one (at least once: the receiver may see the part that got through
// twice). Bytes accepted by the local TCP stack but lost with the
// connection afterwards are lost (at most once for that edge); a peer that
// closed the connection while idle is detected before writing.
type Syslog struct {
	cfg    SyslogConfig
	tls    *tls.Config
	mu     sync.Mutex
	conn   net.Conn
	closed bool
}

// NewSyslog checks the configuration; it connects on the first Send.
func NewSyslog(cfg SyslogConfig) (*Syslog, error) {
	host, _, err := net.SplitHostPort(cfg.Address)
	if err != nil {
		return nil, fmt.Errorf("output: syslog address %q: %w", cfg.Address, err)
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.Hostname == "" {
		cfg.Hostname, _ = os.Hostname()
	}
	if cfg.AppName == "" {
		cfg.AppName = "vigie-agent"
	}
	s := &Syslog{cfg: cfg}
	if cfg.TLS {
		if s.tls, err = tlsConfig(cfg.CAFile, host); err != nil {
			return nil, fmt.Errorf("output: syslog %w", err)
		}
	} else if cfg.CAFile != "" {
		return nil, errors.New("output: syslog ca_file without tls")
	}
	return s, nil
}

// Send writes the batch's records; see Syslog for what delivered means.
func (s *Syslog) Send(ctx context.Context, b spool.Batch) error {
	plain, perr := b.Plain()
	if perr != nil {
		return &PermanentError{Msg: perr.Error()}
	}
	frames := s.encode(plain)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return net.ErrClosed
	}
	if s.conn != nil && !alive(s.conn) {
		s.conn.Close()
		s.conn = nil
	}
	if s.conn == nil {
		d := net.Dialer{Timeout: s.cfg.Timeout, KeepAlive: 30 * time.Second}
		dctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
		defer cancel()
		var err error
		if s.tls != nil {
			td := tls.Dialer{NetDialer: &d, Config: s.tls}
			s.conn, err = td.DialContext(dctx, "tcp", s.cfg.Address)
		} else {
			s.conn, err = d.DialContext(dctx, "tcp", s.cfg.Address)
		}
		if err != nil {
			s.conn = nil
			return fmt.Errorf("syslog: %w", err)
		}
	}
	deadline := time.Now().Add(s.cfg.Timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	c := s.conn
	c.SetWriteDeadline(deadline)
	// A deadline in the past is what interrupts a blocked write when ctx ends.
	stop := context.AfterFunc(ctx, func() { c.SetWriteDeadline(time.Now()) })
	_, err := c.Write(frames)
	stop()
	if err != nil {
		s.conn.Close()
		s.conn = nil
		return fmt.Errorf("syslog: write: %w (the batch will be sent again whole)", err)
	}
	return nil
}

// alive says whether an idle connection is still open: syslog servers
// never send, so a read that does not time out means the peer closed it.
func alive(c net.Conn) bool {
	c.SetReadDeadline(time.Now().Add(time.Millisecond))
	var one [1]byte
	_, err := c.Read(one[:])
	c.SetReadDeadline(time.Time{})
	var ne net.Error
	return err == nil || (errors.As(err, &ne) && ne.Timeout())
}

// Close closes the connection.
func (s *Syslog) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	if s.conn == nil {
		return nil
	}
	err := s.conn.Close()
	s.conn = nil
	return err
}

// encode turns NDJSON records into octet-counted RFC 5424 frames. A line
// that is not a JSON record is sent as the message of a record of its own.
func (s *Syslog) encode(ndjson []byte) []byte {
	var out, msg bytes.Buffer
	for line := range bytes.SplitSeq(ndjson, []byte("\n")) {
		line = bytes.TrimRight(line, "\r")
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		var r record.Record
		if err := json.Unmarshal(line, &r); err != nil {
			r = record.Record{Facility: record.FacUser, Severity: record.SevNotice, Message: strings.ToValidUTF8(string(line), "\uFFFD")}
			r.SetField(record.FieldParseError, "agent: not a JSON record")
		}
		msg.Reset()
		s.format(&msg, &r)
		out.WriteString(strconv.Itoa(msg.Len()))
		out.WriteByte(' ')
		out.Write(msg.Bytes())
	}
	return out.Bytes()
}

// format writes one record as an RFC 5424 message.
func (s *Syslog) format(w *bytes.Buffer, r *record.Record) {
	fac, sev := r.Facility, r.Severity
	if fac < 0 || fac > 23 {
		fac = record.FacUser
	}
	if sev < 0 || sev > 7 {
		sev = record.SevNotice
	}
	fmt.Fprintf(w, "<%d>1 ", fac*8+sev)
	t := r.Time
	if t.IsZero() {
		t = time.Now()
	}
	w.WriteString(t.UTC().Format("2006-01-02T15:04:05.000000Z07:00"))
	host, app := r.Host, r.App
	if host == "" {
		host = s.cfg.Hostname
	}
	if app == "" {
		app = s.cfg.AppName
	}
	for _, f := range []struct {
		v   string
		max int
	}{{host, 255}, {app, 48}, {r.ProcID, 128}, {r.MsgID, 32}} {
		w.WriteByte(' ')
		w.WriteString(headerField(f.v, f.max))
	}
	w.WriteByte(' ')
	if len(r.Fields) == 0 {
		w.WriteByte('-')
	} else {
		w.WriteString("[" + SDID)
		keys := make([]string, 0, len(r.Fields))
		for k := range r.Fields {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		used := make(map[string]bool, len(keys))
		for _, k := range keys {
			name := uniqueName(sdName(k), used)
			w.WriteString(" " + name + `="`)
			escapeParam(w, r.Fields[k])
			w.WriteByte('"')
		}
		w.WriteByte(']')
	}
	if r.Message != "" {
		w.WriteByte(' ')
		w.WriteString(strings.ToValidUTF8(r.Message, "\uFFFD"))
	}
}

// headerField makes v a valid HOSTNAME, APP-NAME, PROCID or MSGID:
// printable ASCII without spaces, at most max characters, "-" when empty.
func headerField(v string, max int) string {
	if v == "" {
		return "-"
	}
	b := []byte(v)
	for i, c := range b {
		if c <= ' ' || c > '~' {
			b[i] = '_'
		}
	}
	if len(b) > max {
		b = b[:max]
	}
	return string(b)
}

// sdName makes k a valid SD-NAME: 1 to 32 printable ASCII characters
// except '=', ' ', ']' and '"'.
func sdName(k string) string {
	b := []byte(k)
	for i, c := range b {
		if c <= ' ' || c > '~' || c == '=' || c == ']' || c == '"' {
			b[i] = '_'
		}
	}
	if len(b) > 32 {
		b = b[:32]
	}
	if len(b) == 0 {
		return "_"
	}
	return string(b)
}

// uniqueName keeps two fields that sanitise to the same name apart.
func uniqueName(name string, used map[string]bool) string {
	n := name
	for i := 2; used[n]; i++ {
		suffix := "_" + strconv.Itoa(i)
		n = name[:min(len(name), 32-len(suffix))] + suffix
	}
	used[n] = true
	return n
}

// escapeParam writes a PARAM-VALUE: '"', '\' and ']' escaped with '\'.
func escapeParam(w *bytes.Buffer, v string) {
	if !utf8.ValidString(v) {
		v = strings.ToValidUTF8(v, "\uFFFD")
	}
	for i := 0; i < len(v); i++ {
		switch c := v[i]; c {
		case '"', '\\', ']':
			w.WriteByte('\\')
			w.WriteByte(c)
		default:
			w.WriteByte(c)
		}
	}
}
