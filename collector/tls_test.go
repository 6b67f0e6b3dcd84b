package collector

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"math/big"
	"net"
	"strings"
	"testing"
	"time"
)

// selfSigned returns a server config for 127.0.0.1 and a client config that
// trusts it.
func selfSigned(t testing.TB) (server, client *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "vigie test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	server = &tls.Config{
		Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}},
		MinVersion:   tls.VersionTLS12,
	}
	return server, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}
}

func TestTLS(t *testing.T) {
	serverCfg, clientCfg := selfSigned(t)
	sink := &fakeSink{}
	c, reg := startCollector(t, Config{TLSAddr: "127.0.0.1:0", TLS: serverCfg}, sink)
	_, _, addr := c.Addrs()
	conn, err := tls.Dial("tcp", addr.String(), clientCfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const n = 100
	var b strings.Builder
	for i := range n {
		b.WriteString(octet(msg5424("secure1", fmt.Sprintf("tls %d", i))))
	}
	if _, err := io.WriteString(conn, b.String()); err != nil {
		t.Fatal(err)
	}
	recs := sink.waitRecords(t, n, 5*time.Second)
	for i, r := range recs {
		if r.Host != "secure1" || r.Message != fmt.Sprintf("tls %d", i) || r.Source != "syslog/tls 127.0.0.1" {
			t.Fatalf("record %d: host %q source %q message %q", i, r.Host, r.Source, r.Message)
		}
	}
	if got := metricValue(t, reg, "vigie_syslog_received_total", "transport", "tls"); got != n {
		t.Errorf("received_total{tls} = %v, want %d", got, n)
	}

	// A client that does not speak TLS is dropped without harm.
	plain, err := net.Dial("tcp", addr.String())
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(plain, octet(msg5424("h", "plain"))+"\n")
	plain.SetReadDeadline(time.Now().Add(5 * time.Second))
	io.Copy(io.Discard, plain)
	plain.Close()
	if got := len(sink.records()); got != n {
		t.Errorf("plain text on the TLS port produced records: %d", got-n)
	}
}

// Shutdown also drains TLS connections.
func TestTLSShutdownDrains(t *testing.T) {
	serverCfg, clientCfg := selfSigned(t)
	sink := &fakeSink{delay: time.Millisecond}
	c, err := New(Config{TLSAddr: "127.0.0.1:0", TLS: serverCfg}, sink, testLogger(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Start(context.Background()); err != nil {
		t.Fatal(err)
	}
	_, _, addr := c.Addrs()
	conn, err := tls.Dial("tcp", addr.String(), clientCfg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	const n = 5000
	var b strings.Builder
	for i := range n {
		b.WriteString(msg5424("h", fmt.Sprintf("seq=%d", i)) + "\n")
	}
	if _, err := io.WriteString(conn, b.String()); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := c.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if got := len(sink.records()); got != n {
		t.Fatalf("after Shutdown the sink holds %d records, want %d", got, n)
	}
}
