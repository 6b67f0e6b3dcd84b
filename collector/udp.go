package collector

import (
	"errors"
	"net"
	"net/netip"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"

	"vigie/record"
)

const (
	// maxUDPPeers bounds the cache of sender strings; it is simply emptied
	// when full.
	maxUDPPeers = 4096
	// udpBatch is how many datagrams one read takes at most (one recvmmsg
	// on Linux; elsewhere x/net reads one per call) and so the most records
	// handed to the sink at once.
	udpBatch = 64
	// minUDPBatch is the least asked for; see udpReader.want.
	minUDPBatch = 4
	// maxUDPBuffer: no UDP payload is longer (65,507 bytes over IPv4,
	// 65,527 over IPv6 without jumbograms).
	maxUDPBuffer = 1 << 16
)

// batchReader is the part of ipv4.PacketConn and ipv6.PacketConn used here.
type batchReader interface {
	ReadBatch(ms []ipv4.Message, flags int) (int, error)
}

// udpReader reads up to udpBatch datagrams per call into buffers allocated
// once.
type udpReader struct {
	conn batchReader
	msgs []ipv4.Message
	// want is how many datagrams the next read asks for. x/net sets up a
	// header (and clears it afterwards) for each one asked for, wasted
	// work when the reader keeps up and finds one or two: so want doubles
	// while reads come back full and falls back to twice what the last
	// read found (at least minUDPBatch).
	want int
	// bufSize is each buffer's length: MaxMessageSize plus room for the
	// trailing CR LF that trimDatagram removes, so that a datagram that
	// fits is read whole and one that does not is seen to be cut.
	bufSize int
}

func newUDPReader(conn *net.UDPConn, maxMessageSize int) *udpReader {
	var br batchReader
	// Both issue the same recvmmsg; the choice only matters for control
	// messages, which are not asked for. A dual-stack socket ("[::]:514",
	// ":514") is an IPv6 one and reports IPv4 senders as ::ffff:a.b.c.d.
	if a, ok := conn.LocalAddr().(*net.UDPAddr); ok && a.IP.To4() != nil {
		br = ipv4.NewPacketConn(conn)
	} else {
		br = ipv6.NewPacketConn(conn)
	}
	size := min(maxMessageSize+2, maxUDPBuffer)
	mem := make([]byte, udpBatch*size)
	msgs := make([]ipv4.Message, udpBatch)
	for i := range msgs {
		msgs[i].Buffers = [][]byte{mem[i*size : (i+1)*size : (i+1)*size]}
	}
	return &udpReader{conn: br, msgs: msgs, want: minUDPBatch, bufSize: size}
}

// read waits for at least one datagram and returns those read; they stay
// valid until the next call.
func (r *udpReader) read() ([]ipv4.Message, error) {
	n, err := r.conn.ReadBatch(r.msgs[:r.want], 0)
	if err != nil {
		return nil, err
	}
	if n == r.want {
		r.want = min(2*n, udpBatch)
	} else {
		r.want = min(max(2*n, minUDPBatch), udpBatch)
	}
	return r.msgs[:n], nil
}

// serveUDP reads datagrams, one message each, a batch at a time, and hands
// each batch to the sink in one call. It never waits for the store: when the
// sink is full the batch is dropped and counted (per record), because a
// blocked reader would only move the loss into the kernel, where it is
// harder to see.
func (c *Collector) serveUDP(conn *net.UDPConn) {
	defer c.wg.Done()
	r := newUDPReader(conn, c.cfg.MaxMessageSize)
	peers := make(map[netip.Addr]peer)
	queueFull := c.m.dropped.WithLabelValues("queue_full")
	draining := false
	var recs []record.Record // reused only when the sink refused it
	for {
		msgs, err := r.read()
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
		now := time.Now().UTC()
		if recs == nil {
			recs = make([]record.Record, 0, len(msgs))
		}
		for i := range msgs {
			m := &msgs[i]
			f, ok := c.udpFrame(m.Buffers[0][:m.N], m.Flags, r.bufSize)
			if !ok {
				continue
			}
			recs = append(recs, c.build(c.udpM, f, now, udpPeer(peers, m.Addr)))
		}
		if len(recs) == 0 {
			continue
		}
		switch {
		case draining:
			if err := c.sink.Submit(c.hardCtx, recs); err != nil {
				c.m.dropped.WithLabelValues("submit_failed").Add(float64(len(recs)))
			}
			recs = nil
			_ = conn.SetReadDeadline(c.drainDeadline())
		case c.sink.TrySubmit(recs):
			recs = nil // the sink owns it now
		default:
			queueFull.Add(float64(len(recs)))
			clear(recs)
			recs = recs[:0]
		}
	}
}

// udpFrame turns one datagram, as read into a buffer of bufSize bytes, into
// a frame; ok is false for an empty one. flags are the recvmsg flags.
func (c *Collector) udpFrame(b []byte, flags, bufSize int) (f frame, ok bool) {
	limit := c.cfg.MaxMessageSize
	// The kernel says when it cut a datagram to fit the buffer; where it is
	// not told (msgTrunc 0), a full buffer is taken as cut.
	if flags&msgTrunc != 0 || (msgTrunc == 0 && len(b) == bufSize && bufSize < maxUDPBuffer) {
		// Longer than the limit plus CR LF: its end is not there to trim.
		return frame{msg: b[:min(limit, len(b))], truncated: true}, true
	}
	msg := trimDatagram(b)
	if len(msg) == 0 {
		return frame{}, false
	}
	f.msg = msg
	if len(msg) > limit {
		f.msg, f.truncated = msg[:limit], true
	}
	return f, true
}

// udpPeer returns the sender of a datagram, from the cache when it is there.
func udpPeer(peers map[netip.Addr]peer, from net.Addr) peer {
	var addr netip.Addr
	if ua, ok := from.(*net.UDPAddr); ok {
		if a, ok := netip.AddrFromSlice(ua.IP); ok {
			addr = a.Unmap().WithZone(ua.Zone)
		}
	}
	p, ok := peers[addr]
	if !ok {
		if len(peers) >= maxUDPPeers {
			clear(peers)
		}
		ip := "unknown"
		if addr.IsValid() {
			ip = addr.String()
		}
		p = peer{ip: ip, source: "syslog/udp " + ip}
		peers[addr] = p
	}
	return p
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
