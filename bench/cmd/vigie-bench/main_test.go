package main

import (
	"io"
	"strings"
	"testing"
)

func TestParseFlags(t *testing.T) {
	o, err := parseFlags(nil, io.Discard)
	if err != nil || o.runs != 3 || o.n != 1_000_000 || o.conns != 4 || o.udpN != 500_000 || o.udpRate != 100_000 || o.searchN != 1_000_000 || o.out != "bench/out" ||
		o.agent != "./bin/vigie-agent" || o.agentN != 1_000_000 || o.skipAgent {
		t.Fatalf("defaults: %+v, %v", o, err)
	}
	if o, _ := parseFlags([]string{"-full"}, io.Discard); o.searchN != 10_000_000 {
		t.Errorf("-full: search-n %d, want 10,000,000", o.searchN)
	}
	if o, _ := parseFlags([]string{"-full", "-search-n", "5000"}, io.Discard); o.searchN != 5000 {
		t.Errorf("-full -search-n 5000: search-n %d", o.searchN)
	}
	for _, bad := range [][]string{{"-runs", "0"}, {"-conns", "0"}, {"-udp-rate", "0"}, {"-agent-n", "0"}, {"extra"}} {
		if _, err := parseFlags(bad, io.Discard); err == nil {
			t.Errorf("parseFlags(%q): no error", bad)
		}
	}
}

func TestTableFailures(t *testing.T) {
	r := &results{Options: map[string]any{"n": 10, "udp_n": 5, "udp_rate": 100}, Host: map[string]string{}}
	ok := peerRun{TCP: tcpFigures{Sent: 10, Stored: 10, MsgsPerSec: 1000, Seconds: 0.01, SendSeconds: 0.001}}
	bad := ok
	bad.TCP.Error = "searchable check: counts sum to 9"
	bad.TCP.MsgsPerSec = 5
	r.Runs = []runFigures{{Run: 1, Vigie: ok}, {Run: 2, Vigie: bad}, {Run: 3, Vigie: ok}}
	out := r.table()
	if !r.failed() {
		t.Error("a failed run does not fail the results")
	}
	if !strings.Contains(out, "1000 (1 failed)") || !strings.Contains(out, "run 2 vigie TCP: searchable check") {
		t.Errorf("table does not show the failure:\n%s", out)
	}
	r.Runs = r.Runs[:1]
	if r.failed() {
		t.Error("one good run counted as failed")
	}
}
