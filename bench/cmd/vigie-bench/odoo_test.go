package main

import (
	"bytes"
	"regexp"
	"strings"
	"testing"
	"time"

	"vigie/record"
)

func TestOdooLogCounts(t *testing.T) {
	start := regexp.MustCompile(odooStartRegex)
	odoo, err := record.NewFormat("odoo", record.FormatOptions{})
	if err != nil {
		t.Fatal(err)
	}
	g := newOdooGenerator(42, testStart)
	for _, n := range []int{1, 999, 1000, 1001, 1002, 1003, 1004, 2003, 5000, 20_000} {
		var buf bytes.Buffer
		f, err := writeOdooLog(&buf, g, n)
		if err != nil {
			t.Fatal(err)
		}
		if f.Bytes != int64(buf.Len()) {
			t.Fatalf("n=%d: %d bytes counted, %d written", n, f.Bytes, buf.Len())
		}
		text := buf.String()
		if !strings.HasSuffix(text, "\n") {
			t.Fatalf("n=%d: no final newline", n)
		}
		lines := strings.Split(strings.TrimSuffix(text, "\n"), "\n")
		if len(lines) != n || f.Lines != n {
			t.Fatalf("n=%d: %d lines written, %d counted", n, len(lines), f.Lines)
		}
		if f.Records != n-odooTracebackLines*f.Tracebacks {
			t.Fatalf("n=%d: %d records, %d tracebacks: records must be lines minus continuation lines", n, f.Records, f.Tracebacks)
		}
		// Both readers must see the same records: rsyslog's startmsg.regex
		// and the agent's odoo format agree on every line.
		starts := 0
		for k, l := range lines {
			rs, as := start.MatchString(l), odoo.Starts([]byte(l))
			if rs != as {
				t.Fatalf("n=%d: line %d %q: regex says %v, the odoo format %v", n, k, l, rs, as)
			}
			if rs {
				starts++
			}
		}
		if starts != f.Records {
			t.Fatalf("n=%d: %d lines start a record, want %d", n, starts, f.Records)
		}
	}
	// Record count is known in advance: one traceback every 1000 records.
	var buf bytes.Buffer
	f, _ := writeOdooLog(&buf, g, 100_000)
	if want := f.Records / odooTracebackEvery; f.Tracebacks != want {
		t.Errorf("%d tracebacks in %d records, want %d", f.Tracebacks, f.Records, want)
	}
}

func TestOdooRecordShape(t *testing.T) {
	g := newOdooGenerator(7, testStart)
	odoo, _ := record.NewFormat("odoo", record.FormatOptions{})
	const n = 20_000
	var total, werkzeug int
	status := map[string]int{}
	for i := range n {
		b := g.appendRecord(nil, i, false)
		if !bytes.Equal(b, g.appendRecord(nil, i, false)) {
			t.Fatalf("record %d differs between two calls", i)
		}
		lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		if len(lines) != odooRecordLines(i) {
			t.Fatalf("record %d: %d lines, want %d: %q", i, len(lines), odooRecordLines(i), b)
		}
		first := lines[0]
		if !odoo.Starts([]byte(first)) {
			t.Fatalf("record %d does not start a record: %q", i, first)
		}
		if want := testStart.Add(time.Duration(i) * time.Millisecond).Format("2006-01-02 15:04:05,000"); first[:23] != want {
			t.Fatalf("record %d: stamp %q, want %q", i, first[:23], want)
		}
		if lo := map[bool]int{false: 140, true: 120}[odooIsError(i)]; len(first) < lo || len(first) > 210 {
			t.Errorf("record %d: first line of %d bytes, want about 150-200: %q", i, len(first), first)
		}
		total += len(first)
		if odooIsError(i) {
			if !strings.Contains(first, " ERROR ") || lines[1] != "Traceback (most recent call last):" {
				t.Fatalf("record %d: not an error with a traceback: %q", i, b)
			}
			continue
		}
		if strings.Contains(first, " werkzeug: ") {
			werkzeug++
			f := strings.Fields(first)
			status[f[len(f)-5]]++
			if f[len(f)-4] != "-" || !strings.Contains(first, ` HTTP/1.1" `) {
				t.Fatalf("record %d: not a werkzeug access line with perf_info: %q", i, first)
			}
		}
		// A record never passes for two: the ERROR line alone.
		if short := g.appendRecord(nil, i, true); !bytes.Equal(short, b) {
			t.Fatalf("record %d: short form differs from a non-error record", i)
		}
	}
	if avg := total / n; avg < 150 || avg > 200 {
		t.Errorf("average first line %d bytes, want 150-200", avg)
	}
	if werkzeug < n*9/10 || werkzeug > n*97/100 {
		t.Errorf("%d werkzeug lines of %d, want about 95%%", werkzeug, n)
	}
	if status["200"] < werkzeug/2 || status["500"] == 0 {
		t.Errorf("statuses %v: want mostly 200 and a few 500", status)
	}
	// The short form of an error record is a single line.
	if b := g.appendRecord(nil, odooTracebackEvery-1, true); bytes.Count(b, []byte{'\n'}) != 1 {
		t.Errorf("short error record: %q", b)
	}
}
