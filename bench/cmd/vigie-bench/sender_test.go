package main

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var testStart = time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)

// readFrames parses an RFC 6587 octet-counted stream ("LEN SP MSG"...) back
// into messages, strictly: no LF, no leading zero, the whole stream consumed.
func readFrames(stream []byte) ([][]byte, error) {
	var out [][]byte
	r := bufio.NewReader(bytes.NewReader(stream))
	for {
		lenStr, err := r.ReadString(' ')
		if errors.Is(err, io.EOF) && lenStr == "" {
			return out, nil
		}
		if err != nil {
			return out, fmt.Errorf("frame %d: truncated length %q", len(out), lenStr)
		}
		lenStr = strings.TrimSuffix(lenStr, " ")
		if lenStr == "" || lenStr[0] == '0' || len(lenStr) > 6 {
			return out, fmt.Errorf("frame %d: bad length %q", len(out), lenStr)
		}
		n, err := strconv.Atoi(lenStr)
		if err != nil {
			return out, fmt.Errorf("frame %d: bad length %q", len(out), lenStr)
		}
		msg := make([]byte, n)
		if _, err := io.ReadFull(r, msg); err != nil {
			return out, fmt.Errorf("frame %d: %d bytes announced: %w", len(out), n, err)
		}
		out = append(out, msg)
	}
}

// header5424 checks the RFC 5424 header of a message and returns its fields.
func header5424(t *testing.T, m []byte) (pri int, stamp time.Time, host, app, body string) {
	t.Helper()
	s := string(m)
	if !strings.HasPrefix(s, "<") {
		t.Fatalf("no PRI: %q", s)
	}
	end := strings.IndexByte(s, '>')
	pri, err := strconv.Atoi(s[1:end])
	if err != nil || pri < 0 || pri > 191 {
		t.Fatalf("bad PRI in %q", s)
	}
	f := strings.SplitN(s[end+1:], " ", 8)
	if len(f) != 8 || f[0] != "1" || f[6] != "-" {
		t.Fatalf("not VERSION TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - MSG: %q", s)
	}
	if stamp, err = time.Parse(time.RFC3339Nano, f[1]); err != nil {
		t.Fatalf("timestamp %q: %v", f[1], err)
	}
	for _, v := range f[2:6] {
		if v == "" || len(v) > 48 || strings.ContainsFunc(v, func(r rune) bool { return r <= ' ' || r > '~' }) {
			t.Fatalf("bad header field %q in %q", v, s)
		}
	}
	return pri, stamp, f[2], f[3], f[7]
}

func TestMessageShape(t *testing.T) {
	g := newGenerator("benchtoken01", 42, testStart)
	const n = 20_000
	hostSeen, appSeen := map[string]int{}, map[string]int{}
	rare := 0
	for i := range n {
		m := g.appendMessage(nil, i)
		if len(m) != msgSize {
			t.Fatalf("message %d: %d bytes, want %d: %q", i, len(m), msgSize, m)
		}
		if bytes.ContainsAny(m, "\n\r\x00") {
			t.Fatalf("message %d has a control byte: %q", i, m)
		}
		_, stamp, host, app, body := header5424(t, m)
		if want := testStart.Add(time.Duration(i) * time.Microsecond); !stamp.Equal(want) {
			t.Fatalf("message %d: stamp %v, want %v", i, stamp, want)
		}
		if host != g.hostOf(i) || app != g.appOf(i) {
			t.Fatalf("message %d: host %q app %q, want %q %q", i, host, app, g.hostOf(i), g.appOf(i))
		}
		words := strings.Fields(body)
		if words[0] != "benchtoken01" || words[1] != "seq="+strconv.Itoa(i) {
			t.Fatalf("message %d: body starts %q, want the token then the counter", i, words[:2])
		}
		has := slices.Contains(words, rareWord)
		if has != isRare(i) {
			t.Fatalf("message %d: has %q = %v, want %v", i, rareWord, has, isRare(i))
		}
		if has {
			rare++
		}
		if !bytes.Equal(m, g.appendMessage(nil, i)) {
			t.Fatalf("message %d differs between two calls", i)
		}
		hostSeen[host]++
		appSeen[app]++
	}
	if rare != n/rareEvery {
		t.Errorf("%d messages with %q, want %d (1%%)", rare, rareWord, n/rareEvery)
	}
	if len(hostSeen) != len(hosts) || len(appSeen) != len(apps) {
		t.Errorf("%d hosts and %d apps used, want %d and %d", len(hostSeen), len(appSeen), len(hosts), len(apps))
	}
	for h, c := range hostSeen {
		if c < n/len(hosts)/2 || c > 2*n/len(hosts) {
			t.Errorf("host %s in %d of %d messages: uneven", h, c, n)
		}
	}
	if slices.Contains(vocab, rareWord) || slices.Contains(hosts, rareWord) || slices.Contains(apps, rareWord) || slices.Contains(users, rareWord) {
		t.Errorf("%q must appear only in the rare messages", rareWord)
	}
	// Other runs (other seeds) vary the messages but keep the size.
	g2 := newGenerator("benchtoken02", 43, testStart)
	if m1, m2 := g.appendMessage(nil, 7), g2.appendMessage(nil, 7); bytes.Equal(m1[40:], m2[40:]) || len(m2) != msgSize {
		t.Errorf("seeds do not vary the messages: %q / %q", m1, m2)
	}
}

func TestReadFramesRejects(t *testing.T) {
	for _, bad := range []string{"5 abc", "abc def", "03 abc", "3abc", "3 abc2 x"} {
		if _, err := readFrames([]byte(bad)); err == nil {
			t.Errorf("readFrames(%q): no error", bad)
		}
	}
}

func TestTCPLoadFraming(t *testing.T) {
	g := newGenerator("benchtok", 7, testStart)
	for _, tc := range []struct{ n, conns int }{{1, 1}, {1000, 1}, {10_001, 4}, {3, 7}} {
		l := buildTCPLoad(g, tc.n, tc.conns)
		if len(l.bufs) != tc.conns {
			t.Fatalf("%+v: %d streams", tc, len(l.bufs))
		}
		var total int64
		next := 0
		for c, buf := range l.bufs {
			msgs, err := readFrames(buf)
			if err != nil {
				t.Fatalf("%+v: stream %d: %v", tc, c, err)
			}
			for _, m := range msgs {
				if want := g.appendMessage(nil, next); !bytes.Equal(m, want) {
					t.Fatalf("%+v: stream %d: message %d is %q, want %q", tc, c, next, m, want)
				}
				next++
			}
			total += int64(len(buf))
		}
		if next != tc.n || total != l.bytes {
			t.Fatalf("%+v: %d messages, %d bytes; want %d, %d", tc, next, total, tc.n, l.bytes)
		}
		// The pieces the sender writes and the live generator give the same streams.
		pre, live := l.sources(), streamSources(g, tc.n, tc.conns)
		for c := range tc.conns {
			var a, b []byte
			for p := pre[c](); p != nil; p = pre[c]() {
				a = append(a, p...)
			}
			for p := live[c](); p != nil; p = live[c]() {
				b = append(b, p...)
			}
			if !bytes.Equal(a, l.bufs[c]) || !bytes.Equal(b, l.bufs[c]) {
				t.Fatalf("%+v: stream %d: sources differ from the generated stream", tc, c)
			}
		}
	}
}

func TestUDPLoad(t *testing.T) {
	g := newGenerator("benchtok", 9, testStart)
	l := buildUDPLoad(g, 500)
	if l.len() != 500 {
		t.Fatalf("len %d", l.len())
	}
	for k := range l.len() {
		if !bytes.Equal(l.msg(k), g.appendMessage(nil, k)) {
			t.Fatalf("datagram %d differs", k)
		}
	}
}

func TestSendTCP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	g := newGenerator("benchtok", 1, testStart)
	l := buildTCPLoad(g, 20_000, 3)
	var mu sync.Mutex
	var got [][]byte
	var wg sync.WaitGroup
	wg.Go(func() {
		for range 3 {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Go(func() {
				defer c.Close()
				b, _ := io.ReadAll(c)
				mu.Lock()
				got = append(got, b)
				mu.Unlock()
			})
		}
	})
	res, err := sendTCP(context.Background(), ln.Addr().String(), l.sources(), time.Now().Add(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	if res.bytes != l.bytes || !res.end.After(res.start) {
		t.Fatalf("sent %d bytes, want %d; %v..%v", res.bytes, l.bytes, res.start, res.end)
	}
	n := 0
	for _, b := range got {
		msgs, err := readFrames(b)
		if err != nil {
			t.Fatal(err)
		}
		n += len(msgs)
	}
	if n != 20_000 {
		t.Fatalf("received %d messages, want 20000", n)
	}
}

func TestSendUDPPacing(t *testing.T) {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	// Room for every datagram even when the reader is not scheduled (a loaded machine).
	pc.(*net.UDPConn).SetReadBuffer(4 << 20)
	g := newGenerator("benchtok", 1, testStart)
	l := buildUDPLoad(g, 3000)
	received := make(chan int)
	go func() {
		buf := make([]byte, 2048)
		n := 0
		for {
			pc.SetReadDeadline(time.Now().Add(time.Second))
			m, _, err := pc.ReadFrom(buf)
			if err != nil {
				received <- n
				return
			}
			if m != msgSize {
				t.Errorf("datagram of %d bytes", m)
			}
			n++
		}
	}()
	const rate = 10_000 // 3000 datagrams: 0.3 s
	res, err := sendUDP(context.Background(), pc.LocalAddr().String(), l, rate, time.Now().Add(30*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	if res.sent != 3000 {
		t.Fatalf("sent %d", res.sent)
	}
	d := res.end.Sub(res.start)
	// Never faster than asked; slower only when the machine is loaded.
	if d < 280*time.Millisecond || d > 5*time.Second {
		t.Errorf("3000 datagrams at %d/s took %v, want about 300ms", rate, d)
	}
	if res.achieved > rate*1.1 || res.achieved < rate*0.1 {
		t.Errorf("achieved %.0f/s, want about %d", res.achieved, rate)
	}
	if n := <-received; n < 2900 {
		t.Errorf("received %d of 3000 on loopback at a low rate", n)
	}
}
