package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"time"
)

// The load: RFC 5424 messages of exactly msgSize bytes (header included, framing
// excluded), built from the message index alone so that any slice of a run can
// be produced in any order and the expected counts are known in advance.
//
// Every message carries the run token (a word present in every message of the
// run), a counter, a user, an address, a request id and a duration, then words
// drawn from vocab until the size is reached. One message in rareEvery also
// carries rareWord, which appears nowhere else.

const (
	msgSize   = 256
	rareWord  = "kestrel" // not in vocab: present in exactly 1 message out of rareEvery
	rareEvery = 100
	// stampLayout is RFC 3339 with microseconds, as RFC 5424 allows.
	stampLayout = "2006-01-02T15:04:05.000000Z07:00"
)

var (
	hosts = func() []string {
		var h []string
		for _, p := range []string{"web", "db", "app", "mail", "proxy", "cache", "ldap", "backup"} {
			for i := 1; i <= 5; i++ {
				h = append(h, fmt.Sprintf("%s%02d", p, i))
			}
		}
		return h
	}()
	apps       = []string{"nginx", "postgres", "sshd", "cron", "odoo", "kernel", "systemd", "haproxy", "postfix", "dovecot", "sudo", "sauvegarde"}
	users      = []string{"alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy", "mallory", "oscar", "peggy", "trent", "victor", "walter", "openpg", "odoo", "root", "www-data"}
	facilities = []int{1, 3, 4, 10, 16, 17, 22, 23}
	vocab      = []string{"accepted", "connection", "from", "port", "session", "opened", "closed", "for", "user", "by", "request", "completed", "in", "ms", "status", "error", "warning", "timeout", "while", "reading", "response", "header", "upstream", "client", "server", "database", "query", "statement", "duration", "checkpoint", "starting", "complete", "wrote", "buffers", "transaction", "commit", "rollback", "lock", "waiting", "deadlock", "detected", "process", "exited", "with", "code", "signal", "restart", "unit", "entered", "failed", "state", "mail", "delivered", "queue", "relay", "sent", "bounced", "deferred", "message", "size", "login", "logout", "password", "invalid", "authentication", "failure", "token", "expired", "cache", "miss", "hit", "evicted", "key", "disk", "usage", "above", "threshold", "backup", "started", "finished", "transfer", "bytes", "rate", "limit", "exceeded", "retry", "attempt", "scheduled", "job", "cron", "kernel", "eth0", "link", "up", "down", "carrier", "lost", "memory", "pressure", "swap", "oom", "killer", "invoked", "certificate", "renewed", "handshake", "cipher", "protocol", "version", "invoice", "partner", "sale", "order", "stock", "picking", "validated", "report", "printed", "worker", "alive", "spawned", "reload", "configuration"}
	hexDigits  = "0123456789abcdef"
)

// generator produces the messages of one run.
type generator struct {
	token string    // the run token, in every message
	seed  uint64    // varies the choices between runs
	start time.Time // stamp of message 0; message i is start + i µs
}

func newGenerator(token string, seed uint64, start time.Time) *generator {
	return &generator{token: token, seed: seed, start: start.UTC()}
}

// splitmix64: a fast, well-mixed hash of the message index.
func splitmix(x uint64) uint64 {
	x += 0x9E3779B97F4A7C15
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9
	x = (x ^ (x >> 27)) * 0x94D049BB133111EB
	return x ^ (x >> 31)
}

// isRare tells whether message i carries rareWord.
func isRare(i int) bool { return i%rareEvery == rareEvery/2 }

// hostOf is the HOSTNAME of message i.
func (g *generator) hostOf(i int) string {
	return hosts[splitmix(g.seed^uint64(i)*0x2545F4914F6CDD1D)%uint64(len(hosts))]
}

// appOf is the APP-NAME of message i.
func (g *generator) appOf(i int) string {
	return apps[splitmix(g.seed+uint64(i)*0x9E3779B97F4A7C15+1)%uint64(len(apps))]
}

// appendMessage appends message i (no framing, no trailing LF) to b.
func (g *generator) appendMessage(b []byte, i int) []byte {
	start := len(b)
	h := splitmix(g.seed ^ (uint64(i) * 0xD1B54A32D192ED03))
	next := func() uint64 { h = splitmix(h); return h }

	pri := facilities[next()%uint64(len(facilities))]*8 + 3 + int(next()%5)
	b = append(b, '<')
	b = strconv.AppendInt(b, int64(pri), 10)
	b = append(b, ">1 "...)
	b = g.start.Add(time.Duration(i)*time.Microsecond).AppendFormat(b, stampLayout)
	b = append(b, ' ')
	b = append(b, g.hostOf(i)...)
	b = append(b, ' ')
	b = append(b, g.appOf(i)...)
	b = append(b, ' ')
	b = strconv.AppendInt(b, int64(1000+next()%60000), 10)
	b = append(b, " ID"...)
	b = strconv.AppendInt(b, int64(next()%100), 10)
	b = append(b, " - "...)

	b = append(b, g.token...)
	b = append(b, " seq="...)
	b = strconv.AppendInt(b, int64(i), 10)
	b = append(b, " user="...)
	b = append(b, users[next()%uint64(len(users))]...)
	b = append(b, " src=10."...)
	r := next()
	b = strconv.AppendInt(b, int64(r&0xff), 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, int64((r>>8)&0xff), 10)
	b = append(b, '.')
	b = strconv.AppendInt(b, int64((r>>16)&0xff), 10)
	b = append(b, " req="...)
	r = next()
	for k := 0; k < 8; k++ {
		b = append(b, hexDigits[(r>>(4*k))&0xf])
	}
	b = append(b, " took="...)
	b = strconv.AppendInt(b, int64(next()%5000), 10)
	b = append(b, "ms"...)
	if isRare(i) {
		b = append(b, ' ')
		b = append(b, rareWord...)
	}
	for {
		w := vocab[next()%uint64(len(vocab))]
		if len(b)-start+1+len(w) > msgSize {
			break
		}
		b = append(b, ' ')
		b = append(b, w...)
	}
	// Pad to the exact size: a run of z (one word) or a final period.
	switch rem := msgSize - (len(b) - start); {
	case rem == 1:
		b = append(b, '.')
	case rem >= 2:
		b = append(b, ' ')
		for k := 1; k < rem; k++ {
			b = append(b, 'z')
		}
	}
	return b
}

// appendFrame appends message i with RFC 6587 octet-counting framing
// ("LEN SP MSG"); scratch is reused to build the message.
func (g *generator) appendFrame(b, scratch []byte, i int) ([]byte, []byte) {
	scratch = g.appendMessage(scratch[:0], i)
	b = strconv.AppendInt(b, int64(len(scratch)), 10)
	b = append(b, ' ')
	b = append(b, scratch...)
	return b, scratch
}

// span is the index range [lo, hi) of the messages connection c of conns sends.
func span(n, conns, c int) (lo, hi int) {
	return n * c / conns, n * (c + 1) / conns
}

// tcpLoad is a TCP load generated in advance: one framed byte stream per
// connection, so the generator is not what is measured.
type tcpLoad struct {
	n     int
	bufs  [][]byte
	bytes int64
}

// buildTCPLoad generates n framed messages split over conns streams, one
// goroutine per stream.
func buildTCPLoad(g *generator, n, conns int) *tcpLoad {
	l := &tcpLoad{n: n, bufs: make([][]byte, conns)}
	var wg sync.WaitGroup
	for c := range conns {
		wg.Go(func() {
			lo, hi := span(n, conns, c)
			buf := make([]byte, 0, (hi-lo)*(msgSize+5))
			scratch := make([]byte, 0, 2*msgSize)
			for i := lo; i < hi; i++ {
				buf, scratch = g.appendFrame(buf, scratch, i)
			}
			l.bufs[c] = buf
		})
	}
	wg.Wait()
	for _, b := range l.bufs {
		l.bytes += int64(len(b))
	}
	return l
}

// chunkSource yields successive pieces of one connection's stream; nil at the end.
type chunkSource func() []byte

// sources cuts the pre-generated streams into 1 MiB writes.
func (l *tcpLoad) sources() []chunkSource {
	const piece = 1 << 20
	out := make([]chunkSource, len(l.bufs))
	for c, buf := range l.bufs {
		off := 0
		out[c] = func() []byte {
			if off >= len(buf) {
				return nil
			}
			end := min(off+piece, len(buf))
			p := buf[off:end]
			off = end
			return p
		}
	}
	return out
}

// streamSources generates the load while sending, 4096 messages at a time per
// connection: for loads too big to hold in memory (the search data set), where
// the ingest rate is not the figure measured.
func streamSources(g *generator, n, conns int) []chunkSource {
	const batch = 4096
	out := make([]chunkSource, conns)
	for c := range conns {
		lo, hi := span(n, conns, c)
		next := lo
		var buf []byte
		scratch := make([]byte, 0, 2*msgSize)
		out[c] = func() []byte {
			if next >= hi {
				return nil
			}
			buf = buf[:0]
			end := min(next+batch, hi)
			for i := next; i < end; i++ {
				buf, scratch = g.appendFrame(buf, scratch, i)
			}
			next = end
			return buf
		}
	}
	return out
}

// tcpSend is what sendTCP measured.
type tcpSend struct {
	start, end time.Time // first byte written, last write returned
	bytes      int64
}

// sendTCP opens one connection per source to addr, then writes every source
// to its connection concurrently. All connections are dialled before the
// clock starts. Writes stop at deadline.
func sendTCP(ctx context.Context, addr string, srcs []chunkSource, deadline time.Time) (tcpSend, error) {
	var res tcpSend
	conns := make([]*net.TCPConn, 0, len(srcs))
	defer func() {
		for _, c := range conns {
			c.Close()
		}
	}()
	d := net.Dialer{Timeout: 5 * time.Second}
	for range srcs {
		c, err := d.DialContext(ctx, "tcp", addr)
		if err != nil {
			return res, fmt.Errorf("dial %s: %w", addr, err)
		}
		tc := c.(*net.TCPConn)
		tc.SetWriteDeadline(deadline)
		conns = append(conns, tc)
	}
	// Unblock writes when the context ends.
	stop := context.AfterFunc(ctx, func() {
		for _, c := range conns {
			c.SetWriteDeadline(time.Now())
		}
	})
	defer stop()

	errs := make([]error, len(srcs))
	written := make([]int64, len(srcs))
	var wg sync.WaitGroup
	res.start = time.Now()
	for k, src := range srcs {
		wg.Go(func() {
			for p := src(); p != nil; p = src() {
				n, err := conns[k].Write(p)
				written[k] += int64(n)
				if err != nil {
					errs[k] = fmt.Errorf("connection %d: %w", k, err)
					return
				}
			}
			// Half-close: the server reads to EOF, nothing is lost.
			if err := conns[k].CloseWrite(); err != nil {
				errs[k] = fmt.Errorf("connection %d: close: %w", k, err)
			}
		})
	}
	wg.Wait()
	res.end = time.Now()
	for _, w := range written {
		res.bytes += w
	}
	return res, errors.Join(errs...)
}

// udpLoad is a UDP load generated in advance: one message per datagram.
type udpLoad struct {
	data []byte
	offs []int // message k is data[offs[k]:offs[k+1]]
}

func buildUDPLoad(g *generator, n int) *udpLoad {
	l := &udpLoad{data: make([]byte, 0, n*msgSize), offs: make([]int, 0, n+1)}
	for i := range n {
		l.offs = append(l.offs, len(l.data))
		l.data = g.appendMessage(l.data, i)
	}
	l.offs = append(l.offs, len(l.data))
	return l
}

func (l *udpLoad) len() int { return len(l.offs) - 1 }

func (l *udpLoad) msg(k int) []byte { return l.data[l.offs[k]:l.offs[k+1]] }

// udpSend is what sendUDP measured.
type udpSend struct {
	sent      int
	errors    int
	start     time.Time
	end       time.Time
	achieved  float64 // datagrams per second actually sent
	firstErr  error
	truncated bool // stopped by the deadline or the context before the end
}

// sendUDP sends every datagram of l to addr at rate per second: every tick
// (1 ms) it sends what the elapsed time allows, so it paces in small bursts
// and catches up when the ticker is late. The real rate is measured.
func sendUDP(ctx context.Context, addr string, l *udpLoad, rate int, deadline time.Time) (udpSend, error) {
	var res udpSend
	raddr, err := net.ResolveUDPAddr("udp", addr)
	if err != nil {
		return res, err
	}
	conn, err := net.DialUDP("udp", nil, raddr)
	if err != nil {
		return res, err
	}
	defer conn.Close()
	conn.SetWriteBuffer(4 << 20)
	conn.SetWriteDeadline(deadline)
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	n := l.len()
	k := 0 // next datagram; res.sent counts the writes that succeeded
	res.start = time.Now()
	for k < n {
		target := min(n, int(time.Since(res.start).Seconds()*float64(rate))+1)
		for ; k < target; k++ {
			if _, err := conn.Write(l.msg(k)); err != nil {
				res.errors++
				if res.firstErr == nil {
					res.firstErr = err
				}
				if res.errors > 1000 {
					res.end = time.Now()
					return res, fmt.Errorf("udp send: %d errors, first: %w", res.errors, res.firstErr)
				}
				continue
			}
			res.sent++
		}
		if k >= n {
			break
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			res.truncated = true
			res.end = time.Now()
			return res, ctx.Err()
		}
		if time.Now().After(deadline) {
			res.truncated = true
			break
		}
	}
	res.end = time.Now()
	if d := res.end.Sub(res.start).Seconds(); d > 0 {
		res.achieved = float64(res.sent) / d
	}
	if res.truncated {
		return res, fmt.Errorf("udp send: deadline reached after %d of %d datagrams", k, n)
	}
	return res, nil
}
