package checks

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http/httptrace"
	"regexp"
	"strconv"
	"time"

	"vigie/cmd/config"
)

// maxBanner is how much of the server's first answer tcp reads for expect.
const maxBanner = 4 << 10

// checkTimeout is the limit of a non-scenario attempt, for messages.
func checkTimeout(c *config.Check) time.Duration {
	if c.Timeout > 0 {
		return time.Duration(c.Timeout)
	}
	return config.DefaultCheckTimeout
}

// dialTraced connects to addr with DNS and connect phases measured.
func dialTraced(ctx context.Context, addr string) (net.Conn, *tracer, error) {
	tr := newTracer()
	tr.setState("resolving or connecting to " + addr)
	conn, err := (&net.Dialer{}).DialContext(httptrace.WithClientTrace(ctx, tr.trace()), "tcp", addr)
	return conn, tr, err
}

// handshake runs a TLS client handshake over conn, bounded by ctx.
func handshake(ctx context.Context, conn net.Conn, conf *tls.Config) (*tls.Conn, error) {
	tc := tls.Client(conn, conf)
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, err
	}
	return tc, nil
}

// serverName is server_name, else the address's host.
func serverName(c *config.Check) string {
	if c.ServerName != "" {
		return c.ServerName
	}
	host, _, err := net.SplitHostPort(c.Address)
	if err != nil {
		return c.Address
	}
	return host
}

// probeTCP connects, optionally starts TLS, optionally sends a line and
// matches the server's first answer against expect.
func probeTCP(ctx context.Context, c *config.Check, logger *slog.Logger) *Result {
	res := &Result{FailedStep: -1, Values: map[string]float64{}}
	timeout := checkTimeout(c)
	step := StepResult{Name: c.Name, URL: "tcp://" + c.Address}
	start := time.Now()
	fail := func(msg string, tr *tracer) *Result {
		if tr != nil {
			step.Phases = tr.done(start, time.Now())
		}
		step.Error = msg
		res.Steps = []StepResult{step}
		res.Error = msg
		return res
	}
	conn, tr, err := dialTraced(ctx, c.Address)
	if err != nil {
		return fail(describeErr(err, c.Address, timeout, tr.doing()), tr)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		conn.SetDeadline(dl)
	}
	connected := time.Now()
	res.Values["connect_ms"] = ms(connected.Sub(start))
	if c.TLS {
		conf, err := tlsConfig(c, serverName(c))
		if err != nil {
			return fail(err.Error(), tr)
		}
		tr.setState("in the TLS handshake")
		tlsStart := time.Now()
		tc, err := handshake(ctx, conn, conf)
		if err != nil {
			return fail(describeErr(err, c.Address, timeout, tr.doing()), tr)
		}
		took := time.Since(tlsStart)
		tr.set(func(time.Time) { tr.p.TLS = took })
		res.Values["tls_ms"] = ms(took)
		conn = tc
	}
	if c.Send != "" {
		tr.setState("sending")
		if _, err := io.WriteString(conn, c.Send); err != nil {
			return fail("sending: "+describeErr(err, c.Address, timeout, tr.doing()), tr)
		}
	}
	if c.Expect != "" {
		re, err := regexp.Compile(c.Expect)
		if err != nil {
			return fail(fmt.Sprintf("expect: bad regular expression: %v", err), tr)
		}
		tr.setState("waiting for an answer matching expect")
		sent := time.Now()
		got, err := readUntil(conn, re, maxBanner)
		if !re.Match(got) {
			why := "the connection ended"
			switch {
			case len(got) >= maxBanner:
				why = fmt.Sprintf("%s read", humanBytes(maxBanner))
			case err != nil && !errors.Is(err, io.EOF):
				why = describeErr(err, c.Address, timeout, "")
			}
			return fail(fmt.Sprintf("expect %q: no match in %s received (%s): %s", c.Expect, humanBytes(int64(len(got))), why, quoteBanner(got)), tr)
		}
		answered := time.Since(sent)
		tr.set(func(time.Time) { tr.p.TTFB = answered })
		step.Bytes = int64(len(got))
	}
	step.Phases = tr.done(start, time.Now())
	step.Success = true
	res.Steps = []StepResult{step}
	res.Success = true
	logger.Debug("tcp check passed", "check", c.Name, "address", c.Address)
	return res
}

// readUntil reads until re matches what was read, max bytes were read, or
// the connection ends or times out.
func readUntil(conn net.Conn, re *regexp.Regexp, max int) ([]byte, error) {
	buf := make([]byte, 0, 512)
	chunk := make([]byte, 512)
	for len(buf) < max {
		n, err := conn.Read(chunk[:min(len(chunk), max-len(buf))])
		buf = append(buf, chunk[:n]...)
		if re.Match(buf) {
			return buf, nil
		}
		if err != nil {
			return buf, err
		}
	}
	return buf, nil
}

// quoteBanner shows the start of what a server sent, escaped.
func quoteBanner(b []byte) string {
	if len(b) == 0 {
		return "nothing"
	}
	const show = 120
	s := strconv.QuoteToASCII(string(b[:min(len(b), show)]))
	if len(b) > show {
		s += "..."
	}
	return s
}
