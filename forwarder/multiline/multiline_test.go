package multiline

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"vigie/record"
)

func feed(t *testing.T, j *Joiner, text string) []Record {
	t.Helper()
	var out []Record
	now := time.Unix(0, 0)
	offset := int64(0)
	for _, line := range strings.Split(strings.TrimSuffix(text, "\n"), "\n") {
		offset += int64(len(line) + 1)
		if r, ok := j.Add([]byte(line), offset, now); ok {
			out = append(out, r)
		}
	}
	if r, ok := j.Flush(); ok {
		out = append(out, r)
	}
	return out
}

func format(t *testing.T, name string) record.Format {
	f, err := record.NewFormat(name, record.FormatOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

func TestJoin(t *testing.T) {
	odooLog := `2026-11-22 10:00:00,123 4711 ERROR Specibike odoo.http: Exception during request handling.
Traceback (most recent call last):
  File "/opt/odoo/odoo/http.py", line 1, in dispatch
KeyError: 'partner_id'
2026-11-22 10:00:01,000 4711 INFO Specibike werkzeug: 10.0.0.5 - - [22/Nov/2026 10:00:01] "GET /web HTTP/1.1" 200 - 3 0.001 0.004
`
	csvLog := "2026-11-22 10:00:00.123 UTC,\"openpg\",\"Specibike\",4711,\"[local]\",1.1,1,\"SELECT\",2026-11-22 09:00:00 UTC,3/4,0,LOG,00000,\"duration: 1.0 ms  statement: SELECT\n  1\",,,,,,,,\"psql\",\"client backend\",,0\n" +
		"2026-11-22 10:00:01.000 UTC,\"openpg\",\"Specibike\",4711,\"[local]\",1.1,2,\"idle\",2026-11-22 09:00:00 UTC,3/5,0,LOG,00000,\"disconnection\",,,,,,,,\"psql\",\"client backend\",,0\n"
	cases := []struct {
		name       string
		rule       Rule
		in         string
		wantLines  []int
		wantOffset []int64
	}{
		{"odoo traceback joins its line", Rule{Format: format(t, "odoo")}, odooLog, []int{4, 1}, []int64{int64(strings.Index(odooLog, "2026-11-22 10:00:01")), int64(len(odooLog))}},
		{"csv quoted newline", Rule{Format: format(t, "postgres-csv")}, csvLog, []int{2, 1}, nil},
		{"plain: one line one record", Rule{Format: format(t, "plain")}, "a\nb\nc\n", []int{1, 1, 1}, []int64{2, 4, 6}},
		{"regex start", Rule{Start: regexp.MustCompile(`^\[`)}, "[1] a\n  more\n[2] b\n", []int{2, 1}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := feed(t, New(c.rule), c.in)
			if len(got) != len(c.wantLines) {
				t.Fatalf("%d records, want %d: %+v", len(got), len(c.wantLines), got)
			}
			for i, r := range got {
				if r.Lines != c.wantLines[i] {
					t.Errorf("record %d: %d lines, want %d: %q", i, r.Lines, c.wantLines[i], r.Text)
				}
				if c.wantOffset != nil && r.Offset != c.wantOffset[i] {
					t.Errorf("record %d ends at %d, want %d", i, r.Offset, c.wantOffset[i])
				}
			}
		})
	}
}

func TestSingleLineRecordsAreTakenAtOnce(t *testing.T) {
	j := New(Rule{Format: format(t, "plain"), MaxSize: 4})
	r, ok := j.Add([]byte("first"), 6, time.Now())
	if !ok || string(r.Text) != "firs" || !r.Truncated || r.Offset != 6 || j.Pending() {
		t.Fatalf("%+v %v", r, ok)
	}
}

func TestMaxSizeCutsAndMarks(t *testing.T) {
	j := New(Rule{Start: regexp.MustCompile(`^S`), MaxSize: 10})
	got := feed(t, j, "S123456\n 789012345\nS2\n")
	if len(got) != 2 || string(got[0].Text) != "S123456\n 7" || !got[0].Truncated || got[1].Truncated || string(got[1].Text) != "S2" {
		t.Fatalf("%+v", got)
	}
}

func TestTimeoutFlushesTheLastRecord(t *testing.T) {
	j := New(Rule{Format: format(t, "odoo"), Timeout: time.Second})
	t0 := time.Unix(100, 0)
	j.Add([]byte("2026-11-22 10:00:00,123 4711 ERROR ? odoo: boom"), 50, t0)
	if j.Due(t0.Add(500 * time.Millisecond)) {
		t.Fatal("due before its timeout")
	}
	if !j.Due(t0.Add(time.Second)) {
		t.Fatal("not due after its timeout")
	}
	r, ok := j.Flush()
	if !ok || r.Offset != 50 || j.Pending() {
		t.Fatalf("%+v %v", r, ok)
	}
}

// A one-line record is the line given (no copy); a longer record is the
// joiner's own copy: the joiner never writes into a caller's line, even one
// with spare capacity, and the records it returned stay as they were.
func TestJoinerBorrowsLinesButNeverWritesIntoThem(t *testing.T) {
	j := New(Rule{Format: format(t, "odoo")})
	arena := []byte("2026-11-22 10:00:00,123 4711 INFO ? odoo: one" + "................")
	first := arena[:len(arena)-16] // spare capacity: the dots
	now := time.Now()
	if _, ok := j.Add(first, 10, now); ok {
		t.Fatal("record taken before the next line showed it complete")
	}
	r1, ok := j.Add([]byte("2026-11-22 10:00:01,000 4711 ERROR ? odoo: two"), 20, now)
	if !ok || string(r1.Text) != string(first) || &r1.Text[0] != &first[0] {
		t.Fatalf("one-line record %q: not the line itself", r1.Text)
	}
	j.Add([]byte("Traceback (most recent call last):"), 30, now)
	r2, ok := j.Add([]byte("2026-11-22 10:00:02,000 4711 INFO ? odoo: three"), 40, now)
	if !ok || string(r2.Text) != "2026-11-22 10:00:01,000 4711 ERROR ? odoo: two\nTraceback (most recent call last):" || r2.Lines != 2 {
		t.Fatalf("joined record %q (%d lines)", r2.Text, r2.Lines)
	}
	if !strings.HasSuffix(string(arena), "................") || string(r1.Text) != "2026-11-22 10:00:00,123 4711 INFO ? odoo: one" {
		t.Fatalf("a caller's bytes were overwritten: %q", arena)
	}
	j.Add([]byte("  continuation"), 50, now)
	r3, _ := j.Flush()
	if string(r3.Text) != "2026-11-22 10:00:02,000 4711 INFO ? odoo: three\n  continuation" || string(r2.Text) != "2026-11-22 10:00:01,000 4711 ERROR ? odoo: two\nTraceback (most recent call last):" {
		t.Fatalf("records changed by later lines: %q, %q", r2.Text, r3.Text)
	}
}
