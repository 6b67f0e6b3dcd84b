package collector

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"time"

	"vigie/record"
)

const (
	// streamBufSize is the bufio buffer of a connection: large enough for a
	// default-sized message, so the usual frame is parsed in place.
	streamBufSize = 64 << 10
	// maxBatch records are submitted at most per Submit call.
	maxBatch         = 256
	handshakeTimeout = 30 * time.Second
	logPeriod        = 10 * time.Second
)

// acceptLoop serves one stream listener (TCP, or TLS when tlsCfg is set).
func (c *Collector) acceptLoop(ln net.Listener, tm *transportMetrics, tlsCfg *tls.Config) {
	defer c.wg.Done()
	var backoff time.Duration
	for {
		conn, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Out of file descriptors and the like: wait instead of spinning.
			backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
			if c.warnAccept.allow(logPeriod) {
				c.log.Warn("syslog accept failed", "transport", tm.name, "err", err)
			}
			time.Sleep(backoff)
			continue
		}
		backoff = 0
		if c.active.Add(1) > int64(c.cfg.MaxConnections) {
			c.active.Add(-1)
			tm.rejected.Inc()
			if c.warnReject.allow(logPeriod) {
				c.log.Warn("syslog connection limit reached, closing new connections",
					"transport", tm.name, "limit", c.cfg.MaxConnections, "remote", conn.RemoteAddr().String())
			}
			_ = conn.Close()
			continue
		}
		sc := &streamConn{Conn: conn, c: c}
		c.mu.Lock()
		c.conns[sc] = struct{}{}
		c.mu.Unlock()
		c.wg.Add(1)
		go c.serveStream(sc, tm, tlsCfg)
	}
}

// serveStream reads one connection until it ends, submitting records in
// batches: everything parsed from what is already buffered goes in one
// Submit, made just before the next read that may wait for the network.
// Submit blocks when the store is behind; reading stops meanwhile, the
// kernel window fills and the sender slows down.
func (c *Collector) serveStream(sc *streamConn, tm *transportMetrics, tlsCfg *tls.Config) {
	defer c.wg.Done()
	tm.connections.Inc()
	defer func() {
		_ = sc.Conn.Close()
		c.mu.Lock()
		delete(c.conns, sc)
		c.mu.Unlock()
		c.active.Add(-1)
		tm.connections.Dec()
	}()
	p := newPeer(tm.name, sc.RemoteAddr())
	log := c.log.With("transport", tm.name, "remote", sc.RemoteAddr().String())

	var r io.Reader = sc
	if tlsCfg != nil {
		tc := tls.Server(sc, tlsCfg)
		ctx, cancel := context.WithTimeout(c.hardCtx, handshakeTimeout)
		err := tc.HandshakeContext(ctx)
		cancel()
		if err != nil {
			log.Debug("TLS handshake failed", "err", err)
			return
		}
		r = tc
	}
	fr := newFramer(bufio.NewReaderSize(r, streamBufSize), c.cfg.MaxMessageSize)

	var (
		batch   []record.Record
		now     time.Time
		lastLen = 16
	)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		recs := batch
		lastLen, batch = len(recs), nil
		if err := c.sink.Submit(c.hardCtx, recs); err != nil {
			c.m.dropped.WithLabelValues("submit_failed").Add(float64(len(recs)))
			log.Warn("syslog records lost: the sink refused them", "records", len(recs), "err", err)
			return err
		}
		return nil
	}
	sc.flush = flush
	for {
		f, err := fr.next()
		if err != nil {
			switch {
			case errors.Is(err, io.EOF), errors.Is(err, net.ErrClosed):
			case errors.Is(err, errIdle):
				log.Debug("syslog connection idle, closing", "timeout", c.cfg.IdleTimeout)
			default:
				log.Debug("syslog connection read failed", "err", err)
			}
			break
		}
		if batch == nil {
			now = time.Now().UTC()
			batch = make([]record.Record, 0, min(max(lastLen, 16), maxBatch))
		}
		batch = append(batch, c.build(tm, f, now, p))
		if len(batch) >= maxBatch {
			if err := flush(); err != nil {
				return
			}
		}
	}
	_ = flush()
}

var errIdle = errors.New("idle timeout")

// streamConn is the raw connection under bufio (and TLS). Its Read submits
// the pending batch first, then sets the deadline: the idle timeout, or
// during Shutdown the drain deadline.
type streamConn struct {
	net.Conn
	c        *Collector
	flush    func() error
	draining bool
}

// wake interrupts a blocked Read so that it notices Shutdown.
func (s *streamConn) wake() { _ = s.Conn.SetReadDeadline(time.Unix(1, 0)) }

func (s *streamConn) Read(p []byte) (int, error) {
	if s.flush != nil {
		if err := s.flush(); err != nil {
			return 0, err
		}
	}
	for {
		if s.draining {
			_ = s.Conn.SetReadDeadline(s.c.drainDeadline())
		} else {
			_ = s.Conn.SetReadDeadline(time.Now().Add(s.c.cfg.IdleTimeout))
			// Checked after setting the deadline: either this sees
			// draining, or Shutdown's wake comes after our deadline and
			// interrupts the read.
			if s.c.draining.Load() {
				s.draining = true
				continue
			}
		}
		n, err := s.Conn.Read(p)
		if err != nil && isTimeout(err) {
			switch {
			case s.draining:
				err = io.EOF // quiet, or out of time: the drain is over
			case s.c.draining.Load():
				s.draining = true
				if n > 0 {
					return n, nil
				}
				continue
			default:
				err = errIdle
			}
		}
		return n, err
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}
