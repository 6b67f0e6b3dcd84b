package checks

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"
)

// tlsServer serves HTTPS on loopback with cert; clientCAs, when set,
// requires a client certificate signed by them.
func tlsServer(t *testing.T, cert tls.Certificate, clientCAs *x509.CertPool) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		who := "anonymous"
		if len(r.TLS.PeerCertificates) > 0 {
			who = r.TLS.PeerCertificates[0].Subject.CommonName
		}
		io.WriteString(w, "hello "+who)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // refused handshakes are the point
	srv.TLS = &tls.Config{Certificates: []tls.Certificate{cert}}
	if clientCAs != nil {
		srv.TLS.ClientCAs, srv.TLS.ClientAuth = clientCAs, tls.RequireAndVerifyClientCert
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func TestScenarioTLS(t *testing.T) {
	pki := newPKI(t, "Specibike Root CA")
	loopback := []net.IP{net.ParseIP("127.0.0.1")}
	good, _, _ := pki.leaf(leafOpts{cn: "erp.lan", dnsNames: []string{"erp.lan"}, ips: loopback})
	otherName, _, _ := pki.leaf(leafOpts{cn: "other.lan", dnsNames: []string{"other.lan"}})
	_, clientCrt, clientKey := pki.leaf(leafOpts{cn: "vigie-probe", client: true})
	clientPool := x509.NewCertPool()
	clientPool.AddCert(pki.ca)
	strangerPKI := newPKI(t, "Stranger CA")
	_, strangerCrt, strangerKey := strangerPKI.leaf(leafOpts{cn: "stranger", client: true})

	goodSrv := tlsServer(t, good, nil)
	otherSrv := tlsServer(t, otherName, nil)
	mtlsSrv := tlsServer(t, good, clientPool)
	plainSrv := httptest.NewServer(http.NotFoundHandler())
	t.Cleanup(plainSrv.Close)

	tests := []struct {
		name, url, keys string
		err             string // regexp; "" means the check passes
		body            string
	}{
		{name: "private CA unknown", url: goodSrv.URL,
			err: `^step 1: TLS: the certificate of 127\.0\.0\.1:\d+ is signed by an unknown authority \(issuer "Specibike Root CA"\): trust its CA with ca_file, or set verify_peer: false$`},
		{name: "private CA in ca_file", url: goodSrv.URL, keys: "ca_file: " + pki.caFile, body: "hello anonymous"},
		{name: "verify_peer off", url: goodSrv.URL, keys: "verify_peer: false"},
		{name: "certificate for another name", url: otherSrv.URL, keys: "ca_file: " + pki.caFile,
			err: `^step 1: TLS: x509: cannot validate certificate for 127\.0\.0\.1 because it doesn't contain any IP SANs: set server_name to a name the certificate holds, or verify_host: false to accept it$`},
		{name: "verify_host off accepts another name", url: otherSrv.URL, keys: "ca_file: " + pki.caFile + "\nverify_host: false"},
		{name: "verify_host off still verifies the chain", url: otherSrv.URL, keys: "verify_host: false",
			err: `signed by an unknown authority \(issuer "Specibike Root CA"\)`},
		{name: "client certificate missing", url: mtlsSrv.URL, keys: "ca_file: " + pki.caFile,
			err: `^step 1: TLS: 127\.0\.0\.1:\d+ refused the handshake \(certificate required\): it wants a client certificate it trusts \(client_cert\)$`},
		{name: "client certificate given", url: mtlsSrv.URL, body: "hello vigie-probe",
			keys: fmt.Sprintf("ca_file: %s\nclient_cert: {cert_file: %s, key_file: %s}", pki.caFile, clientCrt, clientKey)},
		{name: "client certificate from another CA", url: mtlsSrv.URL,
			keys: fmt.Sprintf("ca_file: %s\nclient_cert: {cert_file: %s, key_file: %s}", pki.caFile, strangerCrt, strangerKey),
			// Go's client sends no certificate the server's CAs would not
			// accept, so the server asks for one.
			err: `refused the handshake \(certificate required\)`},
		{name: "ca_file missing", url: goodSrv.URL, keys: "ca_file: /nonexistent/ca.pem",
			err: `^ca_file: open /nonexistent/ca.pem: no such file or directory$`},
		{name: "plain HTTP server on https", url: strings.Replace(plainSrv.URL, "http:", "https:", 1),
			err: `^step 1: TLS: 127\.0\.0\.1:\d+ answered in plain HTTP: use an http:// URL$`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := loadCheck(t, fmt.Sprintf("name: tls\ntype: scenario\n%s\nsteps:\n  - {url: %q, status_codes: [200], required: %q}",
				tc.keys, tc.url+"/web", tc.body))
			res := run(t, c)
			if (tc.err == "") != res.Success {
				t.Fatalf("success %v, error %q", res.Success, res.Error)
			}
			if tc.err != "" && !regexp.MustCompile(tc.err).MatchString(res.Error) {
				t.Errorf("error %q\nwant match %s", res.Error, tc.err)
			}
			if res.Success && res.Steps[0].Phases.TLS <= 0 {
				t.Errorf("no TLS phase: %+v", res.Steps[0].Phases)
			}
		})
	}
}

func TestProbeTLS(t *testing.T) {
	pki := newPKI(t, "Specibike Root CA")
	loopback := []net.IP{net.ParseIP("127.0.0.1")}
	fresh, _, _ := pki.leaf(leafOpts{cn: "erp.lan", dnsNames: []string{"erp.lan"}, ips: loopback})
	soon, _, _ := pki.leaf(leafOpts{cn: "soon.lan", dnsNames: []string{"soon.lan"}, ips: loopback, notAfter: time.Now().Add(5*24*time.Hour + time.Hour)})
	expired, _, _ := pki.leaf(leafOpts{cn: "old.lan", dnsNames: []string{"old.lan"}, ips: loopback, notAfter: time.Now().Add(-24 * time.Hour)})
	addr := func(cert tls.Certificate) string {
		return strings.TrimPrefix(tlsServer(t, cert, nil).URL, "https://")
	}
	freshAddr, soonAddr, expiredAddr := addr(fresh), addr(soon), addr(expired)
	soonDate := time.Now().Add(5*24*time.Hour + time.Hour).UTC().Format(time.DateOnly)

	tests := []struct {
		name, keys string
		err        string
		daysLeft   float64 // checked when the handshake happened
	}{
		{name: "fresh", keys: fmt.Sprintf("address: %q\nca_file: %s\nmin_days_left: 14", freshAddr, pki.caFile), daysLeft: 89},
		{name: "server_name checked", keys: fmt.Sprintf("address: %q\nca_file: %s\nserver_name: erp.lan", freshAddr, pki.caFile), daysLeft: 89},
		{name: "wrong server_name", keys: fmt.Sprintf("address: %q\nca_file: %s\nserver_name: www.lan", freshAddr, pki.caFile), daysLeft: 89,
			err: `^TLS: x509: certificate is valid for erp\.lan, not www\.lan: set server_name`},
		{name: "expires soon", keys: fmt.Sprintf("address: %q\nca_file: %s\nmin_days_left: 14", soonAddr, pki.caFile), daysLeft: 5,
			err: `^certificate "soon\.lan" expires on ` + soonDate + `, in 5 days: fewer than min_days_left 14$`},
		{name: "expired", keys: fmt.Sprintf("address: %q\nca_file: %s", expiredAddr, pki.caFile), daysLeft: -2,
			err: `^TLS: the certificate "old\.lan" of 127\.0\.0\.1:\d+ expired on `},
		{name: "unknown CA still measured", keys: fmt.Sprintf("address: %q", freshAddr), daysLeft: 89,
			err: `unknown authority`},
		{name: "verify_peer off measures and passes", keys: fmt.Sprintf("address: %q\nverify_peer: false", freshAddr), daysLeft: 89},
		{name: "refused", keys: fmt.Sprintf("address: %q", closedPort(t)), daysLeft: -1000,
			err: `^connect to 127\.0\.0\.1:\d+: connection refused$`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, loadCheck(t, "name: cert\ntype: tls\n"+tc.keys))
			if (tc.err == "") != res.Success {
				t.Fatalf("success %v, error %q", res.Success, res.Error)
			}
			if tc.err != "" && !regexp.MustCompile(tc.err).MatchString(res.Error) {
				t.Errorf("error %q\nwant match %s", res.Error, tc.err)
			}
			if tc.daysLeft > -1000 {
				if got := res.Values["days_left"]; got != tc.daysLeft {
					t.Errorf("days_left %v, want %v", got, tc.daysLeft)
				}
				if res.Values["earliest_expiry_unix"] == 0 {
					t.Error("no earliest_expiry_unix")
				}
			} else if _, ok := res.Values["days_left"]; ok {
				t.Error("days_left without a handshake")
			}
		})
	}
}
