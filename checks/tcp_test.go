package checks

import (
	"bufio"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"regexp"
	"strings"
	"testing"
)

// banner listens on loopback and runs serve on each connection.
func banner(t *testing.T, serve func(c net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				serve(c)
			}()
		}
	}()
	return ln.Addr().String()
}

func TestProbeTCP(t *testing.T) {
	ssh := banner(t, func(c net.Conn) { io.WriteString(c, "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3\r\n") })
	echo := banner(t, func(c net.Conn) {
		line, _ := bufio.NewReader(c).ReadString('\n')
		io.WriteString(c, "+PONG "+line)
	})
	silent := banner(t, func(c net.Conn) { io.Copy(io.Discard, c) })
	chatty := banner(t, func(c net.Conn) { io.WriteString(c, strings.Repeat("220 hello\r\n", 1000)) })

	pki := newPKI(t, "Specibike Root CA")
	cert, _, _ := pki.leaf(leafOpts{cn: "mail.lan", dnsNames: []string{"mail.lan"}})
	ln, err := tls.Listen("tcp", "127.0.0.1:0", &tls.Config{Certificates: []tls.Certificate{cert}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				io.WriteString(c, "* OK IMAP4rev1 ready\r\n")
			}()
		}
	}()
	imaps := ln.Addr().String()

	tests := []struct {
		name, keys string
		err        string
		bytes      int64
	}{
		{name: "connect only", keys: fmt.Sprintf("address: %q", silent)},
		{name: "banner", keys: fmt.Sprintf("address: %q\nexpect: '^SSH-2\\.0-'", ssh), bytes: 40},
		{name: "wrong banner", keys: fmt.Sprintf("address: %q\nexpect: '^220 '", ssh),
			err: `^expect "\^220 ": no match in 40 B received \(the connection ended\): "SSH-2\.0-OpenSSH_9\.2p1 Debian-2\+deb12u3\\r\\n"$`},
		{name: "send and expect", keys: fmt.Sprintf("address: %q\nsend: \"PING\\n\"\nexpect: '\\+PONG PING'", echo), bytes: 11},
		{name: "silent server", keys: fmt.Sprintf("address: %q\nexpect: '^SSH'\ntimeout: 1s", silent),
			err: `^expect "\^SSH": no match in 0 B received \(timed out after 1s\): nothing$`},
		{name: "reads at most 4 KiB", keys: fmt.Sprintf("address: %q\nexpect: 'never'", chatty),
			err: `^expect "never": no match in 4\.0 KiB received \(4\.0 KiB read\): "220 hello\\r\\n220`},
		{name: "refused", keys: fmt.Sprintf("address: %q", closedPort(t)), err: `^connect to 127\.0\.0\.1:\d+: connection refused$`},
		{name: "tls with private CA", keys: fmt.Sprintf("address: %q\ntls: true\nserver_name: mail.lan\nca_file: %s\nexpect: '^\\* OK'", imaps, pki.caFile), bytes: 22},
		{name: "tls unknown CA", keys: fmt.Sprintf("address: %q\ntls: true\nserver_name: mail.lan", imaps), err: `unknown authority`},
		{name: "tls on a plain port", keys: fmt.Sprintf("address: %q\ntls: true", ssh), err: `did not answer in TLS`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, loadCheck(t, "name: port\ntype: tcp\n"+tc.keys))
			if (tc.err == "") != res.Success {
				t.Fatalf("success %v, error %q", res.Success, res.Error)
			}
			if tc.err != "" && !regexp.MustCompile(tc.err).MatchString(res.Error) {
				t.Errorf("error %q\nwant match %s", res.Error, tc.err)
			}
			if res.Success {
				if _, ok := res.Values["connect_ms"]; !ok {
					t.Error("no connect_ms")
				}
				if s := res.Steps[0]; s.Bytes != tc.bytes || s.Phases.Connect <= 0 {
					t.Errorf("step %+v, want %d bytes", s, tc.bytes)
				}
			}
		})
	}
}
