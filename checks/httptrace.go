package checks

import (
	"crypto/tls"
	"net/http/httptrace"
	"sync"
	"time"
)

// tracer adds up the timing phases of one step across every request it
// makes (redirects, a digest challenge): each phase is the sum of its
// occurrences, so DNS+Connect+TLS+TTFB+Transfer stays at or under Total.
// It also remembers what the step was doing, for timeout messages.
type tracer struct {
	mu        sync.Mutex
	now       func() time.Time
	p         Phases
	dnsStart  time.Time
	connStart time.Time
	tlsStart  time.Time
	wrote     time.Time
	firstByte time.Time
	state     string
}

func newTracer() *tracer { return &tracer{now: time.Now, state: "before sending the request"} }

func (t *tracer) set(f func(now time.Time)) {
	now := t.now()
	t.mu.Lock()
	f(now)
	t.mu.Unlock()
}

// endTransfer closes a transfer phase opened by a first response byte: the
// body of a redirect ends when the next request asks for a connection.
func (t *tracer) endTransfer(now time.Time) {
	if !t.firstByte.IsZero() {
		t.p.Transfer += now.Sub(t.firstByte)
		t.firstByte = time.Time{}
	}
}

func (t *tracer) trace() *httptrace.ClientTrace {
	return &httptrace.ClientTrace{
		GetConn: func(hostPort string) {
			t.set(func(now time.Time) {
				t.endTransfer(now)
				t.state = "waiting for a connection to " + hostPort
			})
		},
		DNSStart: func(i httptrace.DNSStartInfo) {
			t.set(func(now time.Time) { t.dnsStart, t.state = now, "resolving "+i.Host })
		},
		DNSDone: func(httptrace.DNSDoneInfo) {
			t.set(func(now time.Time) {
				if !t.dnsStart.IsZero() {
					t.p.DNS += now.Sub(t.dnsStart)
					t.dnsStart = time.Time{}
				}
			})
		},
		// With several addresses (IPv6 and IPv4) dials may overlap: the
		// phase runs from the first start to the first success.
		ConnectStart: func(_, addr string) {
			t.set(func(now time.Time) {
				if t.connStart.IsZero() {
					t.connStart = now
				}
				t.state = "connecting to " + addr
			})
		},
		ConnectDone: func(_, _ string, err error) {
			t.set(func(now time.Time) {
				if err == nil && !t.connStart.IsZero() {
					t.p.Connect += now.Sub(t.connStart)
					t.connStart = time.Time{}
				}
			})
		},
		TLSHandshakeStart: func() {
			t.set(func(now time.Time) { t.tlsStart, t.state = now, "in the TLS handshake" })
		},
		TLSHandshakeDone: func(tls.ConnectionState, error) {
			t.set(func(now time.Time) {
				if !t.tlsStart.IsZero() {
					t.p.TLS += now.Sub(t.tlsStart)
					t.tlsStart = time.Time{}
				}
			})
		},
		WroteRequest: func(httptrace.WroteRequestInfo) {
			t.set(func(now time.Time) { t.wrote, t.state = now, "waiting for the answer (request sent)" })
		},
		GotFirstResponseByte: func() {
			t.set(func(now time.Time) {
				if !t.wrote.IsZero() {
					t.p.TTFB += now.Sub(t.wrote)
					t.wrote = time.Time{}
				}
				t.firstByte, t.state = now, "reading the answer"
			})
		},
	}
}

// done closes the last transfer phase when the body has been read and
// returns the phases with Total from start to end.
func (t *tracer) done(start, end time.Time) Phases {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.endTransfer(end)
	p := t.p
	p.Total = end.Sub(start)
	return p
}

// doing is what the step was doing last ("connecting to 10.0.0.5:8069").
func (t *tracer) doing() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.state
}

func (t *tracer) setState(s string) {
	t.mu.Lock()
	t.state = s
	t.mu.Unlock()
}
