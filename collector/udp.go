package collector

import (
	"errors"
	"net"
	"net/netip"
	"time"

	"vigie/record"
)

const (
	// maxUDPPeers bounds the cache of sender strings; it is simply emptied
	// when full.
	maxUDPPeers = 4096
)

// serveUDP reads datagrams, one message each. It never waits for the store:
// when the sink is full the record is dropped and counted, because a
// blocked reader would only move the loss into the kernel, where it is
// harder to see.
func (c *Collector) serveUDP(conn *net.UDPConn) {
	defer c.wg.Done()
	// Larger than any UDP payload, so that nothing is cut by the read.
	buf := make([]byte, 1<<16)
	peers := make(map[netip.Addr]peer)
	queueFull := c.m.dropped.WithLabelValues("queue_full")
	draining := false
	for {
		n, from, err := conn.ReadFromUDPAddrPort(buf)
		if err != nil {
			if isTimeout(err) && c.draining.Load() {
				if draining {
					return
				}
				// Shutdown woke us: read what is queued, until quiet.
				draining = true
				_ = conn.SetReadDeadline(c.drainDeadline())
				continue
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if c.warnUDP.allow(logPeriod) {
				c.log.Warn("syslog UDP read failed", "err", err)
			}
			continue
		}
		msg := trimDatagram(buf[:n])
		if len(msg) == 0 {
			continue
		}
		f := frame{msg: msg}
		if len(msg) > c.cfg.MaxMessageSize {
			f.msg, f.truncated = msg[:c.cfg.MaxMessageSize], true
		}
		addr := from.Addr().Unmap()
		p, ok := peers[addr]
		if !ok {
			if len(peers) >= maxUDPPeers {
				clear(peers)
			}
			p = peer{ip: addr.String(), source: "syslog/udp " + addr.String()}
			peers[addr] = p
		}
		recs := []record.Record{c.build(c.udpM, f, time.Now().UTC(), p)}
		if draining {
			if err := c.sink.Submit(c.hardCtx, recs); err != nil {
				c.m.dropped.WithLabelValues("submit_failed").Inc()
			}
			_ = conn.SetReadDeadline(c.drainDeadline())
		} else if !c.sink.TrySubmit(recs) {
			queueFull.Inc()
		}
	}
}

// trimDatagram strips one trailing LF (and the CR before it) or NUL.
func trimDatagram(b []byte) []byte {
	switch n := len(b); {
	case n == 0:
	case b[n-1] == 0:
		b = b[:n-1]
	case b[n-1] == '\n':
		b = b[:n-1]
		if n >= 2 && b[n-2] == '\r' {
			b = b[:n-2]
		}
	}
	return b
}
