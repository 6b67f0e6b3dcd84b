package checks

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"strings"
	"syscall"
	"time"
)

// describeErr turns a network error into words an operator can act on.
// target is the host:port the probe was talking to, timeout the limit that
// applied, doing what the probe was doing last (for timeouts).
func describeErr(err error, target string, timeout time.Duration, doing string) string {
	if err == nil {
		return ""
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	var dnsErr *net.DNSError
	var opErr *net.OpError
	var unknownCA x509.UnknownAuthorityError
	var hostErr x509.HostnameError
	var invalid x509.CertificateInvalidError
	var recErr tls.RecordHeaderError
	var alert tls.AlertError
	var netErr net.Error
	switch {
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		s := "timed out after " + fmtDuration(timeout)
		if doing != "" {
			s += " " + doing
		}
		return s
	case errors.Is(err, context.Canceled):
		return "cancelled before the end (vigie is stopping or the run was aborted)"
	case errors.As(err, &dnsErr):
		why := dnsErr.Err
		if dnsErr.IsNotFound {
			why = "no such host"
		}
		return fmt.Sprintf("DNS lookup of %s failed: %s", dnsErr.Name, why)
	case errors.As(err, &unknownCA):
		name := "an unknown authority"
		if c := unknownCA.Cert; c != nil {
			name = fmt.Sprintf("an unknown authority (issuer %q)", issuerName(c))
		}
		return fmt.Sprintf("TLS: the certificate of %s is signed by %s: trust its CA with ca_file, or set verify_peer: false", target, name)
	case errors.As(err, &hostErr):
		return fmt.Sprintf("TLS: %v: set server_name to a name the certificate holds, or verify_host: false to accept it", hostErr)
	case errors.As(err, &invalid):
		if invalid.Reason == x509.Expired && invalid.Cert != nil {
			c := invalid.Cert
			if time.Now().Before(c.NotBefore) {
				return fmt.Sprintf("TLS: the certificate %q of %s is not valid before %s", certName(c), target, c.NotBefore.UTC().Format(time.DateOnly))
			}
			return fmt.Sprintf("TLS: the certificate %q of %s expired on %s", certName(c), target, c.NotAfter.UTC().Format(time.DateOnly))
		}
		return fmt.Sprintf("TLS: the certificate of %s is not valid: %v", target, invalid)
	case strings.Contains(err.Error(), "server gave HTTP response to HTTPS client"):
		return fmt.Sprintf("TLS: %s answered in plain HTTP: use an http:// URL", target)
	case errors.As(err, &recErr):
		return fmt.Sprintf("TLS: %s did not answer in TLS (a plain-text service? use http:// or tls: false)", target)
	case errors.As(err, &alert), strings.Contains(err.Error(), "remote error: tls:"):
		msg := err.Error()
		if strings.Contains(msg, "certificate required") || strings.Contains(msg, "bad certificate") {
			return fmt.Sprintf("TLS: %s refused the handshake (%s): it wants a client certificate it trusts (client_cert)", target, lastPart(msg))
		}
		return fmt.Sprintf("TLS: %s refused the handshake: %s", target, lastPart(msg))
	case errors.As(err, &opErr) && opErr.Op == "dial":
		return fmt.Sprintf("connect to %s: %s", target, syscallWords(opErr.Err))
	case errors.Is(err, syscall.ECONNRESET):
		return fmt.Sprintf("%s reset the connection", target)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fmt.Sprintf("%s closed the connection without a complete answer", target)
	case errors.As(err, &opErr):
		return fmt.Sprintf("%s %s: %s", opErr.Op, target, syscallWords(opErr.Err))
	}
	return err.Error()
}

// syscallWords is an errno's text without the Go wrapping ("connect: ...").
func syscallWords(err error) string {
	var se *os.SyscallError
	if errors.As(err, &se) {
		return se.Err.Error()
	}
	return err.Error()
}

func lastPart(s string) string {
	if i := strings.LastIndex(s, "tls: "); i >= 0 {
		return s[i+len("tls: "):]
	}
	return s
}

// certName names a certificate for people: its subject CN, else its first
// DNS name, else the whole subject.
func certName(c *x509.Certificate) string {
	if c.Subject.CommonName != "" {
		return c.Subject.CommonName
	}
	if len(c.DNSNames) > 0 {
		return c.DNSNames[0]
	}
	return c.Subject.String()
}

func issuerName(c *x509.Certificate) string {
	if c.Issuer.CommonName != "" {
		return c.Issuer.CommonName
	}
	return c.Issuer.String()
}

// fmtDuration writes 2s, 1.5s, 250ms, 1m30s: short and exact.
func fmtDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	return s
}
