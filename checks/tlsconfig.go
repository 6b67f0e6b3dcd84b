package checks

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"

	"vigie/cmd/config"
)

// maxPEM bounds the CA file read: a bundle of a few hundred certificates.
const maxPEM = 4 << 20

// verifyPeer and verifyHost default to true.
func verifyPeer(c *config.Check) bool { return c.VerifyPeer == nil || *c.VerifyPeer }
func verifyHost(c *config.Check) bool { return c.VerifyHost == nil || *c.VerifyHost }

// rootPool is the system's trusted CAs plus the check's ca_file (an extra
// CA, for a private PKI), or nil for the system's alone.
func rootPool(c *config.Check) (*x509.CertPool, error) {
	if c.CAFile == "" {
		return nil, nil
	}
	pemData, err := readLimited(c.CAFile, maxPEM)
	if err != nil {
		return nil, fmt.Errorf("ca_file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil || pool == nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pemData) {
		return nil, fmt.Errorf("ca_file %s: no PEM certificate in it", c.CAFile)
	}
	return pool, nil
}

// tlsConfig is the client TLS configuration of a check: verify_peer,
// verify_host, ca_file and client_cert. serverName is the name to verify
// ("" for HTTP, where the transport sets it from the URL).
//
// verify_host: false with verify_peer: true still verifies the chain
// against the trusted CAs, only not the name: Go has no switch for that, so
// the name check is turned off with InsecureSkipVerify and the chain is
// verified again in VerifyConnection.
func tlsConfig(c *config.Check, serverName string) (*tls.Config, error) {
	roots, err := rootPool(c)
	if err != nil {
		return nil, err
	}
	conf := &tls.Config{RootCAs: roots, ServerName: serverName, MinVersion: tls.VersionTLS10}
	if cc := c.ClientCert; cc != nil && cc.CertFile != "" {
		cert, err := tls.LoadX509KeyPair(cc.CertFile, cc.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("client_cert: %w", err)
		}
		conf.Certificates = []tls.Certificate{cert}
	}
	switch {
	case !verifyPeer(c):
		conf.InsecureSkipVerify = true
	case !verifyHost(c):
		conf.InsecureSkipVerify = true
		conf.VerifyConnection = func(cs tls.ConnectionState) error {
			_, err := verifyChain(cs.PeerCertificates, roots, "")
			return err
		}
	}
	return conf, nil
}

// verifyChain verifies a presented chain against roots (nil: the system's),
// and the name when dnsName is set. It returns the first verified chain.
func verifyChain(certs []*x509.Certificate, roots *x509.CertPool, dnsName string) ([]*x509.Certificate, error) {
	if len(certs) == 0 {
		return nil, errors.New("the server sent no certificate")
	}
	opts := x509.VerifyOptions{Roots: roots, DNSName: dnsName, Intermediates: x509.NewCertPool()}
	for _, ic := range certs[1:] {
		opts.Intermediates.AddCert(ic)
	}
	chains, err := certs[0].Verify(opts)
	if err != nil {
		return nil, &tls.CertificateVerificationError{UnverifiedCertificates: certs, Err: err}
	}
	return chains[0], nil
}

// readLimited reads a whole small file, refusing one over max bytes.
func readLimited(path string, max int64) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > max {
		return nil, fmt.Errorf("%s is larger than %s", path, humanBytes(max))
	}
	return data, nil
}
