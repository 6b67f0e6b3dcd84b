package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"
)

// selfSigned writes a certificate and key for 127.0.0.1 and returns a pool
// that trusts it.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "vigie-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	certFile, keyFile = filepath.Join(dir, "server.crt"), filepath.Join(dir, "server.key")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

func TestSyslogOverTLSSearchedOverHTTPS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	cfg := filepath.Join(dir, "vigie.yml")
	os.WriteFile(cfg, []byte(fmt.Sprintf(`data_dir: %s
syslog:
  udp: ""
  tcp: ""
  tls: {addr: "127.0.0.1:0", cert_file: %s, key_file: %s}
http:
  addr: "127.0.0.1:0"
  tls: {cert_file: %s, key_file: %s}
auth:
  api_tokens: [{name: e2e, token: %q}]
`, filepath.Join(dir, "data"), certFile, keyFile, certFile, keyFile, apiToken)), 0o600)
	cmd := exec.Command(vigieBin, "serve", "--config", cfg, "--log-level", "warn")
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cmd.Process.Kill(); cmd.Wait() }()
	line := regexp.MustCompile(`tls (\S+), https on (\S+)`)
	buf := make([]byte, 4096)
	var m []string
	for out := ""; m == nil; {
		n, err := stdout.Read(buf)
		if err != nil {
			t.Fatalf("vigie stopped before its start line: %v\n%s", err, out)
		}
		out += string(buf[:n])
		m = line.FindStringSubmatch(out)
	}
	tlsAddr, httpsAddr := m[1], m[2]

	conf := &tls.Config{RootCAs: pool}
	conn, err := tls.Dial("tcp", tlsAddr, conf)
	if err != nil {
		t.Fatal(err)
	}
	msg := "<13>1 2026-11-22T10:00:00Z erp1 tlsapp - - - over tls tlse2etoken"
	fmt.Fprintf(conn, "%d %s", len(msg), msg)
	conn.Close()

	client := &http.Client{Transport: &http.Transport{TLSClientConfig: conf}}
	deadline := time.Now().Add(5 * time.Second)
	for {
		req, _ := http.NewRequest("GET", "https://"+httpsAddr+"/api/v1/search?q=tlse2etoken", nil)
		req.Header.Set("Authorization", "Bearer "+apiToken)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var res struct {
			Records []struct {
				App, Source string
			} `json:"records"`
		}
		json.NewDecoder(resp.Body).Decode(&res)
		resp.Body.Close()
		if len(res.Records) == 1 {
			if res.Records[0].App != "tlsapp" || res.Records[0].Source != "syslog/tls 127.0.0.1" {
				t.Errorf("record %+v", res.Records[0])
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("message sent over TLS not found over HTTPS")
		}
		time.Sleep(50 * time.Millisecond)
	}
}
