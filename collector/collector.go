// Package collector runs the syslog listeners (UDP, TCP and TLS with RFC 6587
// framing), parses what arrives into records and hands them to the store's
// batching writer.
package collector

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"vigie/record"
)

// Sink is where parsed records go: the store's batching writer.
type Sink interface {
	// Submit blocks while the queue is full (backpressure); it fails only
	// when ctx ends or the sink is closed. The sink owns recs afterwards.
	Submit(ctx context.Context, recs []record.Record) error
	// TrySubmit never blocks; false means the queue is full.
	TrySubmit(recs []record.Record) bool
}

// Config of the listeners. Zero values take the defaults.
type Config struct {
	UDPAddr, TCPAddr, TLSAddr string // "" = off
	// TLS is required when TLSAddr is set; the caller builds it (server
	// certificate, optional client CA).
	TLS *tls.Config
	// MaxMessageSize: longer messages are cut and marked truncated.
	// Default 64 KiB.
	MaxMessageSize int
	// Location is given to RFC 3164 timestamps, which carry no zone.
	// Default time.Local.
	Location       *time.Location
	SnareDelimiter string
	// UDPReadBuffer is the socket receive buffer wanted. Default 8 MiB;
	// negative leaves the system's default.
	UDPReadBuffer int
	// MaxConnections for TCP and TLS together; beyond it, new connections
	// are closed at once and counted. Default 1024.
	MaxConnections int
	// IdleTimeout closes a stream connection silent that long. Default 10 min.
	IdleTimeout time.Duration
}

const (
	defaultMaxMessageSize = 64 << 10
	defaultUDPReadBuffer  = 8 << 20
	defaultMaxConnections = 1024
	defaultIdleTimeout    = 10 * time.Minute
	maxSnareSenders       = 10000

	// drainQuiet: during Shutdown a connection is read until it has been
	// quiet this long. Reading only what sits in our socket buffer would
	// lose what the sender's kernel has sent but ours not yet received.
	drainQuiet = 200 * time.Millisecond
	// drainMax bounds the drain when Shutdown's ctx has no deadline.
	drainMax = 10 * time.Second
)

// Collector owns the listeners. Create it with New, then Start it; stop it
// with Shutdown.
type Collector struct {
	cfg  Config
	sink Sink
	log  *slog.Logger
	m    *metrics
	udpM *transportMetrics
	tcpM *transportMetrics
	tlsM *transportMetrics

	snare *snareGaps

	udpConn *net.UDPConn
	tcpLn   net.Listener
	tlsLn   net.Listener

	// draining is set by Shutdown: readers finish what is in flight, until
	// quiet or drainEnd (unix ns).
	draining atomic.Bool
	drainEnd atomic.Int64
	// hardCtx bounds every Submit; it ends when Shutdown's ctx does.
	hardCtx    context.Context
	hardCancel context.CancelFunc
	active     atomic.Int64 // open stream connections

	wg      sync.WaitGroup
	mu      sync.Mutex
	started bool
	conns   map[*streamConn]struct{}

	warnAccept, warnReject, warnUDP rateLimit
}

// New checks the configuration, applies defaults and registers the metrics
// on reg (nil: not registered). It opens nothing: see Start.
func New(cfg Config, sink Sink, logger *slog.Logger, reg prometheus.Registerer) (*Collector, error) {
	if sink == nil {
		return nil, errors.New("collector: nil sink")
	}
	if cfg.TLSAddr != "" {
		if cfg.TLS == nil {
			return nil, fmt.Errorf("collector: TLS listener %s needs a TLS config", cfg.TLSAddr)
		}
		if len(cfg.TLS.Certificates) == 0 && cfg.TLS.GetCertificate == nil && cfg.TLS.GetConfigForClient == nil {
			return nil, fmt.Errorf("collector: TLS listener %s: no server certificate", cfg.TLSAddr)
		}
	}
	if cfg.MaxMessageSize < 0 || cfg.MaxConnections < 0 || cfg.IdleTimeout < 0 {
		return nil, errors.New("collector: negative size, connection limit or timeout")
	}
	if cfg.MaxMessageSize == 0 {
		cfg.MaxMessageSize = defaultMaxMessageSize
	}
	if cfg.Location == nil {
		cfg.Location = time.Local
	}
	if cfg.UDPReadBuffer == 0 {
		cfg.UDPReadBuffer = defaultUDPReadBuffer
	}
	if cfg.MaxConnections == 0 {
		cfg.MaxConnections = defaultMaxConnections
	}
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = defaultIdleTimeout
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	m, err := newMetrics(reg)
	if err != nil {
		return nil, fmt.Errorf("collector: metrics: %w", err)
	}
	hardCtx, hardCancel := context.WithCancel(context.Background())
	return &Collector{
		cfg:        cfg,
		sink:       sink,
		log:        logger.With("component", "collector"),
		m:          m,
		udpM:       m.forTransport(transportUDP),
		tcpM:       m.forTransport(transportTCP),
		tlsM:       m.forTransport(transportTLS),
		snare:      newSnareGaps(maxSnareSenders),
		hardCtx:    hardCtx,
		hardCancel: hardCancel,
		conns:      make(map[*streamConn]struct{}),
	}, nil
}

// Start binds every configured listener and returns once they listen; the
// error names the address that failed, and nothing stays open then. ctx
// bounds the binding only: the listeners run until Shutdown, so that a
// cancelled signal context does not cut the final drain short.
func (c *Collector) Start(ctx context.Context) (err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.started {
		return errors.New("collector: already started")
	}
	defer func() {
		if err != nil {
			c.closeListeners()
			c.udpConn, c.tcpLn, c.tlsLn = nil, nil, nil
		}
	}()
	var lc net.ListenConfig
	if a := c.cfg.UDPAddr; a != "" {
		pc, err := lc.ListenPacket(ctx, "udp", a)
		if err != nil {
			return fmt.Errorf("collector: syslog UDP %s: %w", a, err)
		}
		c.udpConn = pc.(*net.UDPConn)
		if size := c.cfg.UDPReadBuffer; size > 0 {
			got, err := setUDPReadBuffer(c.udpConn, size)
			switch {
			case err != nil:
				c.log.Warn("cannot set the UDP receive buffer", "addr", a, "wanted", size, "err", err)
			case got < size:
				c.log.Warn("UDP receive buffer smaller than wanted: raise net.core.rmem_max or run with CAP_NET_ADMIN",
					"addr", a, "wanted", size, "got", got)
			default:
				c.log.Debug("UDP receive buffer", "addr", a, "bytes", got)
			}
		}
	}
	if a := c.cfg.TCPAddr; a != "" {
		if c.tcpLn, err = lc.Listen(ctx, "tcp", a); err != nil {
			return fmt.Errorf("collector: syslog TCP %s: %w", a, err)
		}
	}
	if a := c.cfg.TLSAddr; a != "" {
		if c.tlsLn, err = lc.Listen(ctx, "tcp", a); err != nil {
			return fmt.Errorf("collector: syslog TLS %s: %w", a, err)
		}
	}
	c.started = true
	if c.udpConn != nil {
		c.wg.Add(1)
		go c.serveUDP(c.udpConn)
		c.log.Info("syslog listening", "transport", transportUDP, "addr", c.udpConn.LocalAddr().String())
	}
	if c.tcpLn != nil {
		c.wg.Add(1)
		go c.acceptLoop(c.tcpLn, c.tcpM, nil)
		c.log.Info("syslog listening", "transport", transportTCP, "addr", c.tcpLn.Addr().String())
	}
	if c.tlsLn != nil {
		c.wg.Add(1)
		go c.acceptLoop(c.tlsLn, c.tlsM, c.cfg.TLS)
		c.log.Info("syslog listening", "transport", transportTLS, "addr", c.tlsLn.Addr().String())
	}
	return nil
}

// Addrs returns the bound addresses; nil for a listener that is off.
func (c *Collector) Addrs() (udp, tcp, tls net.Addr) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.udpConn != nil {
		udp = c.udpConn.LocalAddr()
	}
	if c.tcpLn != nil {
		tcp = c.tcpLn.Addr()
	}
	if c.tlsLn != nil {
		tls = c.tlsLn.Addr()
	}
	return udp, tcp, tls
}

// Shutdown stops accepting, lets every connection read what was already sent
// (until it has been quiet for drainQuiet, and no longer than ctx allows),
// submits it all (blocking Submit), and returns. The caller closes the sink
// afterwards. If ctx ends first, the remaining readers are cut off (their
// records are lost, and counted as dropped) and ctx's error is returned.
func (c *Collector) Shutdown(ctx context.Context) error {
	end := time.Now().Add(drainMax)
	if dl, ok := ctx.Deadline(); ok {
		// Keep some of the time for the last Submit calls.
		end = dl.Add(-min(max(time.Until(dl)/10, 10*time.Millisecond), time.Second))
	}
	c.drainEnd.Store(end.UnixNano())
	c.draining.Store(true)
	c.mu.Lock()
	c.closeListeners()
	if c.udpConn != nil {
		// Wakes the reader, which then reads what is queued (see serveUDP).
		_ = c.udpConn.SetReadDeadline(time.Now())
	}
	for sc := range c.conns {
		sc.wake()
	}
	c.mu.Unlock()

	done := make(chan struct{})
	go func() {
		c.wg.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		err = ctx.Err()
		c.hardCancel()
		c.mu.Lock()
		for sc := range c.conns {
			_ = sc.Conn.Close()
		}
		if c.udpConn != nil {
			_ = c.udpConn.Close()
		}
		c.mu.Unlock()
		<-done
	}
	c.hardCancel()
	if c.udpConn != nil {
		_ = c.udpConn.Close()
	}
	return err
}

// drainDeadline is the read deadline while draining.
func (c *Collector) drainDeadline() time.Time {
	end := time.Unix(0, c.drainEnd.Load())
	if t := time.Now().Add(drainQuiet); t.Before(end) {
		return t
	}
	return end
}

// closeListeners stops the stream listeners; c.mu is held.
func (c *Collector) closeListeners() {
	for _, ln := range []net.Listener{c.tcpLn, c.tlsLn} {
		if ln != nil {
			_ = ln.Close()
		}
	}
	if !c.started && c.udpConn != nil {
		_ = c.udpConn.Close()
	}
}

// build turns one message into a record: parse, then the collector's part
// (reception time, source, sender as host of last resort, counters).
func (c *Collector) build(tm *transportMetrics, f frame, now time.Time, p peer) record.Record {
	msg := f.msg
	if f.truncated {
		// A UTF-8 message cut inside a character would no longer be UTF-8,
		// and the parser would read all of it as Windows-1252.
		msg = trimPartialRune(msg)
	}
	tm.received.Inc()
	tm.receivedBytes.Add(float64(len(msg)))
	rec := record.ParseSyslog(msg, record.SyslogOptions{
		Location:       c.cfg.Location,
		Received:       now,
		SnareDelimiter: c.cfg.SnareDelimiter,
	})
	rec.Received = now
	rec.Source = p.source
	if rec.Host == "" {
		rec.Host = p.ip
	}
	if f.badCount {
		// Framing junk is kept whole, never dropped silently.
		tm.framingErrors.Inc()
		rec.Message = string(msg)
		rec.SetField(record.FieldParseError, "invalid RFC 6587 octet count: kept raw up to the next LF")
	}
	if f.truncated {
		tm.truncated.Inc()
		rec.SetField(record.FieldTruncated, "true")
	}
	if rec.Fields[record.FieldParseError] != "" {
		tm.parseErrors.Inc()
	}
	if ctr := rec.Fields[record.FieldSnareCounter]; ctr != "" {
		if lost := c.snare.observe(p.ip, rec.Fields["computer"], ctr); lost > 0 {
			c.m.snareLost.Add(float64(lost))
		}
	}
	return rec
}

// trimPartialRune drops a UTF-8 character cut short at the end of b.
func trimPartialRune(b []byte) []byte {
	for i := len(b) - 1; i >= 0 && i >= len(b)-utf8.UTFMax; i-- {
		if utf8.RuneStart(b[i]) {
			if !utf8.FullRune(b[i:]) {
				return b[:i]
			}
			return b
		}
	}
	return b
}

// peer is a sender, as it appears in records.
type peer struct {
	ip     string // "10.0.0.5": the host of last resort
	source string // "syslog/tcp 10.0.0.5"
}

func newPeer(transport string, addr net.Addr) peer {
	ip := "unknown"
	switch a := addr.(type) {
	case *net.TCPAddr:
		ip = a.AddrPort().Addr().Unmap().String()
	case *net.UDPAddr:
		ip = a.AddrPort().Addr().Unmap().String()
	case nil:
	default:
		if h, _, err := net.SplitHostPort(a.String()); err == nil {
			ip = h
		}
	}
	return peer{ip: ip, source: "syslog/" + transport + " " + ip}
}

// rateLimit lets one log line through per period, for errors a sender can
// repeat at will.
type rateLimit struct{ last atomic.Int64 }

func (r *rateLimit) allow(period time.Duration) bool {
	now := time.Now().UnixNano()
	last := r.last.Load()
	return now-last >= int64(period) && r.last.CompareAndSwap(last, now)
}
