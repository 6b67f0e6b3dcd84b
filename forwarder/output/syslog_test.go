package output

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"vigie/forwarder/spool"
	"vigie/record"
)

// syslogServer accepts connections and parses octet-counted frames; with
// closeAfter > 0 it drops each connection after that many frames.
type syslogServer struct {
	ln         net.Listener
	got        chan record.Record
	raw        chan string
	closeAfter int
	closed     chan struct{} // a connection was dropped after closeAfter frames
}

func newSyslogServer(t *testing.T, tlsCfg *tls.Config, closeAfter int) *syslogServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if tlsCfg != nil {
		ln = tls.NewListener(ln, tlsCfg)
	}
	s := &syslogServer{ln: ln, got: make(chan record.Record, 100), raw: make(chan string, 100), closeAfter: closeAfter, closed: make(chan struct{}, 10)}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(t, c)
		}
	}()
	return s
}

func (s *syslogServer) serve(t *testing.T, c net.Conn) {
	defer c.Close()
	br := bufio.NewReader(c)
	for n := 1; ; n++ {
		size, err := br.ReadString(' ')
		if err != nil {
			return
		}
		l, err := strconv.Atoi(strings.TrimSuffix(size, " "))
		if err != nil {
			t.Errorf("not octet-counted: %q", size)
			return
		}
		msg := make([]byte, l)
		if _, err := io.ReadFull(br, msg); err != nil {
			t.Errorf("frame cut: %v", err)
			return
		}
		s.raw <- string(msg)
		s.got <- record.ParseSyslog(msg, record.SyslogOptions{})
		if n == s.closeAfter {
			c.Close()
			s.closed <- struct{}{}
			return
		}
	}
}

func (s *syslogServer) receive(t *testing.T, n int) []record.Record {
	t.Helper()
	var out []record.Record
	for range n {
		select {
		case r := <-s.got:
			<-s.raw
			out = append(out, r)
		case <-time.After(5 * time.Second):
			t.Fatalf("received %d of %d records", len(out), n)
		}
	}
	return out
}

func TestSyslogRoundTrip(t *testing.T) {
	srv := newSyslogServer(t, nil, 0)
	out, err := NewSyslog(SyslogConfig{Address: srv.ln.Addr().String(), Hostname: "agenthost"})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	when := time.Date(2026, 11, 22, 10, 0, 0, 123456000, time.UTC)
	recs := []record.Record{
		{Time: when, Host: "erp1", App: "postgres", ProcID: "4711", MsgID: "Q1", Facility: 16, Severity: 3,
			Message: "duration: 1234.5 ms  statement: SELECT 1\nsecond line été",
			Fields: map[string]string{"db": "Specibike", "tricky": `a"b\c]d`, "bad key=\"x\"]": "v", "origin.ip": "10.0.0.5",
				strings.Repeat("k", 40): "long"}},
		{Time: when, Message: "no host, app, fields"},
		{Time: when, App: "space in app", Severity: 6},
	}
	var nd []byte
	for _, r := range recs {
		line, _ := json.Marshal(r)
		nd = append(append(nd, line...), '\n')
	}
	nd = append(nd, "not json at all\n"...)
	if err := out.Send(context.Background(), spool.Batch{Seq: 1, Records: nd, Count: 4}); err != nil {
		t.Fatal(err)
	}
	got := srv.receive(t, 4)
	for _, g := range got {
		if g.Fields[record.FieldParseError] != "" && !strings.Contains(g.Message, "not json") {
			t.Fatalf("receiver could not parse: %+v", g)
		}
	}
	r := got[0]
	if r.Host != "erp1" || r.App != "postgres" || r.ProcID != "4711" || r.MsgID != "Q1" || r.Facility != 16 || r.Severity != 3 ||
		!r.Time.Equal(when) || r.Message != recs[0].Message {
		t.Errorf("header/message: %+v", r)
	}
	want := map[string]string{
		SDID + ".db":                         "Specibike",
		SDID + ".tricky":                     `a"b\c]d`,
		SDID + ".bad_key__x__":               "v",
		SDID + ".origin.ip":                  "10.0.0.5",
		SDID + "." + strings.Repeat("k", 32): "long",
	}
	for k, v := range want {
		if r.Fields[k] != v {
			t.Errorf("field %s = %q, want %q (all: %v)", k, r.Fields[k], v, r.Fields)
		}
	}
	if got[1].Host != "agenthost" || got[1].App != "vigie-agent" || len(got[1].Fields) != 0 {
		t.Errorf("defaults: %+v", got[1])
	}
	if got[2].App != "space_in_app" || got[2].Severity != 6 {
		t.Errorf("sanitised app: %+v", got[2])
	}
	if got[3].Message != "not json at all" || got[3].Fields[SDID+"."+record.FieldParseError] == "" {
		t.Errorf("raw line: %+v", got[3])
	}
}

func TestSyslogReconnectsAfterServerClose(t *testing.T) {
	srv := newSyslogServer(t, nil, 2) // drops the connection after 2 frames
	out, err := NewSyslog(SyslogConfig{Address: srv.ln.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	// The server drops the connection while it is idle: the next Send must
	// notice before writing, or the batch would vanish into a dead socket.
	var got []record.Record
	for i := range 3 {
		if err := out.Send(context.Background(), spool.Batch{Seq: int64(i + 1), Records: ndjson("batch"+strconv.Itoa(i), 2), Count: 2}); err != nil {
			t.Fatal(err)
		}
		got = append(got, srv.receive(t, 2)...)
		select {
		case <-srv.closed:
		case <-time.After(5 * time.Second):
			t.Fatal("server did not drop the connection")
		}
	}
	seen := map[string]int{}
	for _, r := range got {
		seen[r.Message]++
	}
	for i := range 3 {
		for j := range 2 {
			if m := "batch" + strconv.Itoa(i) + " " + strconv.Itoa(j); seen[m] != 1 {
				t.Errorf("%q received %d times (all: %v)", m, seen[m], seen)
			}
		}
	}
}

func TestSyslogTLS(t *testing.T) {
	caFile, serverTLS := testCA(t)
	srv := newSyslogServer(t, serverTLS, 0)
	addr := srv.ln.Addr().String()
	if _, err := NewSyslog(SyslogConfig{Address: addr, CAFile: caFile}); err == nil {
		t.Error("ca_file without tls accepted")
	}
	untrusted, _ := NewSyslog(SyslogConfig{Address: addr, TLS: true})
	if err := untrusted.Send(context.Background(), spool.Batch{Seq: 1, Records: ndjson("x", 1), Count: 1}); err == nil {
		t.Error("untrusted certificate accepted")
	}
	out, err := NewSyslog(SyslogConfig{Address: addr, TLS: true, CAFile: caFile})
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	for i := range 2 {
		if err := out.Send(context.Background(), spool.Batch{Seq: int64(i + 1), Records: ndjson("tls", 2), Count: 2}); err != nil {
			t.Fatal(err)
		}
	}
	got := srv.receive(t, 4)
	if got[0].Message != "tls 0" || got[0].Fields[SDID+".db"] != "Specibike" || got[0].Severity != 3 {
		t.Errorf("%+v", got[0])
	}
}
