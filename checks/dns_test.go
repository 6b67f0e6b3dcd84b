package checks

import (
	"fmt"
	"net"
	"regexp"
	"testing"

	"golang.org/x/net/dns/dnsmessage"
)

// dnsServer answers A, MX and TXT for erp.lan. over UDP on loopback and
// NXDOMAIN for any other name.
func dnsServer(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	go func() {
		buf := make([]byte, 1500)
		for {
			n, from, err := pc.ReadFrom(buf)
			if err != nil {
				return
			}
			var p dnsmessage.Parser
			h, err := p.Start(buf[:n])
			if err != nil {
				continue
			}
			q, err := p.Question()
			if err != nil {
				continue
			}
			b := dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired})
			b.EnableCompression()
			if q.Name.String() != "erp.lan." {
				b = dnsmessage.NewBuilder(nil, dnsmessage.Header{ID: h.ID, Response: true, RCode: dnsmessage.RCodeNameError})
			}
			b.StartQuestions()
			b.Question(q)
			b.StartAnswers()
			rh := dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 60}
			if q.Name.String() == "erp.lan." {
				switch q.Type {
				case dnsmessage.TypeA:
					b.AResource(rh, dnsmessage.AResource{A: [4]byte{192, 0, 2, 10}})
					b.AResource(rh, dnsmessage.AResource{A: [4]byte{192, 0, 2, 11}})
				case dnsmessage.TypeMX:
					b.MXResource(rh, dnsmessage.MXResource{Pref: 10, MX: dnsmessage.MustNewName("mail.erp.lan.")})
				case dnsmessage.TypeTXT:
					b.TXTResource(rh, dnsmessage.TXTResource{TXT: []string{"v=spf1 -all"}})
				}
			}
			msg, err := b.Finish()
			if err == nil {
				pc.WriteTo(msg, from)
			}
		}
	}()
	return pc.LocalAddr().String()
}

func TestProbeDNS(t *testing.T) {
	server := dnsServer(t)
	tests := []struct {
		name, keys string
		err        string
		answers    float64
	}{
		{name: "A", keys: "host: erp.lan", answers: 2},
		{name: "A expected", keys: `host: erp.lan` + "\n" + `expect: '^192\.0\.2\.11$'`, answers: 2},
		{name: "A not expected", keys: `host: erp.lan` + "\n" + `expect: '^10\.'`, answers: 2,
			err: `^A erp\.lan via 127\.0\.0\.1:\d+: expect "\^10\\\\\." matches none of the answers: 192\.0\.2\.10, 192\.0\.2\.11$`},
		{name: "MX", keys: "host: erp.lan\nrecord_type: MX\nexpect: 'mail\\.erp\\.lan'", answers: 1},
		{name: "TXT", keys: "host: erp.lan\nrecord_type: TXT\nexpect: spf1", answers: 1},
		{name: "unknown name", keys: "host: www.lan", err: `^A www\.lan via 127\.0\.0\.1:\d+: DNS lookup of www\.lan failed: no such host$`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res := run(t, loadCheck(t, fmt.Sprintf("name: dns\ntype: dns\nserver: %q\n%s", server, tc.keys)))
			if (tc.err == "") != res.Success {
				t.Fatalf("success %v, error %q", res.Success, res.Error)
			}
			if tc.err != "" && !regexp.MustCompile(tc.err).MatchString(res.Error) {
				t.Errorf("error %q\nwant match %s", res.Error, tc.err)
			}
			if res.Values["answers"] != tc.answers {
				t.Errorf("answers %v, want %v", res.Values["answers"], tc.answers)
			}
			if res.Steps[0].Phases.DNS <= 0 {
				t.Error("no DNS phase")
			}
		})
	}
}
