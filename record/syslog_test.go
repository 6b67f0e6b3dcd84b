package record

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // the golden cases name zones; CI images may lack zoneinfo
)

var update = flag.Bool("update", false, "rewrite the golden expected.json files")

const goldenDir = "../testdata/syslog"

// goldenOptions is options.json; absent keys keep the defaults below.
type goldenOptions struct {
	Received       string `json:"received"` // RFC 3339
	Location       string `json:"location"` // IANA name
	SnareDelimiter string `json:"snare_delimiter"`
}

func loadOptions(t *testing.T, dir string) SyslogOptions {
	t.Helper()
	o := goldenOptions{Received: "2026-11-22T09:00:05Z", Location: "Europe/Paris"}
	if b, err := os.ReadFile(filepath.Join(dir, "options.json")); err == nil {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&o); err != nil {
			t.Fatalf("options.json: %v", err)
		}
	} else if !os.IsNotExist(err) {
		t.Fatal(err)
	}
	recv, err := time.Parse(time.RFC3339Nano, o.Received)
	if err != nil {
		t.Fatalf("options.json received: %v", err)
	}
	loc, err := time.LoadLocation(o.Location)
	if err != nil {
		t.Fatalf("options.json location: %v", err)
	}
	return SyslogOptions{Location: loc, Received: recv, SnareDelimiter: o.SnareDelimiter}
}

// inputLines splits input.txt: one message per line; the last line end is
// the file's, not part of a message.
func inputLines(b []byte) [][]byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.Split(b, []byte("\n"))
}

func TestGoldenSyslog(t *testing.T) {
	dirs, err := filepath.Glob(filepath.Join(goldenDir, "*", "input.txt"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden cases under %s: %v", goldenDir, err)
	}
	for _, in := range dirs {
		dir := filepath.Dir(in)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			opt := loadOptions(t, dir)
			b, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			var got []Record
			for _, line := range inputLines(b) {
				got = append(got, ParseSyslog(line, opt))
			}
			// No HTML escaping: goldens are read by people ("<13>", not "\u003c13\u003e").
			var buf bytes.Buffer
			enc := json.NewEncoder(&buf)
			enc.SetEscapeHTML(false)
			enc.SetIndent("", "  ")
			if err := enc.Encode(got); err != nil {
				t.Fatal(err)
			}
			gotJSON := buf.Bytes()
			exp := filepath.Join(dir, "expected.json")
			if *update {
				if err := os.WriteFile(exp, gotJSON, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(exp)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if !bytes.Equal(want, gotJSON) {
				t.Errorf("mismatch with %s\n--- got\n%s\n--- want\n%s", exp, gotJSON, want)
			}
		})
	}
}

func TestSeverityFacilityNames(t *testing.T) {
	for i := 0; i < 8; i++ {
		if n, ok := ParseSeverity(SeverityName(i)); !ok || n != i {
			t.Errorf("severity %d round trip: %d %v", i, n, ok)
		}
	}
	for i := 0; i < 24; i++ {
		if n, ok := ParseFacility(FacilityName(i)); !ok || n != i {
			t.Errorf("facility %d round trip: %d %v", i, n, ok)
		}
	}
	for s, want := range map[string]int{"panic": 0, "EMERGENCY": 0, "critical": 2, "Error": 3, "warn": 4, "informational": 6, "7": 7, "3": 3} {
		if n, ok := ParseSeverity(s); !ok || n != want {
			t.Errorf("ParseSeverity(%q) = %d %v, want %d", s, n, ok, want)
		}
	}
	for _, s := range []string{"", "8", "-1", "03x", "verbose", "100"} {
		if _, ok := ParseSeverity(s); ok {
			t.Errorf("ParseSeverity(%q) accepted", s)
		}
	}
	for s, want := range map[string]int{"local7": 23, "AUTHPRIV": 10, "audit": 13, "23": 23, "0": 0} {
		if n, ok := ParseFacility(s); !ok || n != want {
			t.Errorf("ParseFacility(%q) = %d %v, want %d", s, n, ok, want)
		}
	}
	if _, ok := ParseFacility("24"); ok {
		t.Error("ParseFacility(24) accepted")
	}
	if SeverityName(8) != "" || FacilityName(-1) != "" {
		t.Error("out of range names should be empty")
	}
}

// checkInvariants holds for every input: what the fuzzer checks.
func checkInvariants(t *testing.T, in []byte, opt SyslogOptions, r Record) {
	t.Helper()
	if r.Time.IsZero() {
		t.Fatalf("zero Time for %q", in)
	}
	if !r.Received.Equal(opt.Received) {
		t.Fatalf("Received %v, want %v", r.Received, opt.Received)
	}
	if r.Severity < 0 || r.Severity > 7 || r.Facility < 0 || r.Facility > 23 {
		t.Fatalf("severity %d facility %d for %q", r.Severity, r.Facility, in)
	}
	if r.Source != "" {
		t.Fatalf("Source set: %q", r.Source)
	}
	if _, err := json.Marshal(r); err != nil {
		t.Fatalf("json: %v for %q", err, in)
	}
	if _, bad := r.Fields[FieldParseError]; bad {
		if b64, ok := r.Fields[FieldRawBase64]; ok {
			raw, err := base64.StdEncoding.DecodeString(b64)
			if err != nil || !bytes.Equal(raw, in) {
				t.Fatalf("raw_base64 does not restore %q", in)
			}
		} else if r.Message != string(in) {
			t.Fatalf("parse_error but Message %q != input %q", r.Message, in)
		}
	}
}

func FuzzParseSyslog(f *testing.F) {
	ins, _ := filepath.Glob(filepath.Join(goldenDir, "*", "input.txt"))
	for _, in := range ins {
		b, err := os.ReadFile(in)
		if err != nil {
			f.Fatal(err)
		}
		for _, line := range inputLines(b) {
			f.Add(line)
		}
	}
	recv := time.Date(2026, 1, 1, 0, 0, 30, 0, time.UTC)
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		for _, opt := range []SyslogOptions{
			{Received: recv},
			{Received: recv, Location: paris, SnareDelimiter: "|"},
		} {
			r := ParseSyslog(in, opt)
			checkInvariants(t, in, opt, r)
		}
	})
}

var benchLines = map[string]string{
	"rfc5424": `<165>1 2026-11-22T10:00:00.123456+01:00 erp1 postgres 4711 - [timeQuality tzKnown="1" isSynced="1" syncAccuracy="2173"] duration: 1234.5 ms  statement: SELECT 1`,
	"rfc3164": `<134>Nov 22 10:00:00 erp1 postgres[4711]: [3-1] LOG:  duration: 1234.5 ms  statement: SELECT 1`,
	"cisco":   `<189>45: sw1: Nov 22 10:00:00.123: %LINK-3-UPDOWN: Interface GigabitEthernet0/1, changed state to up`,
	"snare":   "<14>Nov 22 10:00:00 WIN-SRV1 MSWinEventLog\t1\tSecurity\t1234\tSun Nov 22 10:00:00 2026\t4624\tMicrosoft-Windows-Security-Auditing\tADMIN\tUser\tSuccess Audit\tWIN-SRV1\tLogon\t\tAn account was successfully logged on.\t567",
}

func BenchmarkParseSyslog(b *testing.B) {
	opt := SyslogOptions{Received: time.Date(2026, 11, 22, 9, 0, 5, 0, time.UTC), Location: time.UTC}
	for _, name := range []string{"rfc5424", "rfc3164", "cisco", "snare"} {
		line := []byte(benchLines[name])
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(line)))
			for b.Loop() {
				_ = ParseSyslog(line, opt)
			}
		})
	}
}

// TestParseSyslogInvariants runs the fuzz invariants on edge inputs that do
// not fit a golden file (embedded newlines, trailing NUL).
func TestParseSyslogInvariants(t *testing.T) {
	opt := SyslogOptions{Received: time.Date(2026, 11, 22, 9, 0, 5, 0, time.UTC)}
	for _, in := range []string{"", "\n", "<13>", "<13>hello\x00", "a\x00b", "<13>1 ", "<13>1 - - - - - -",
		"<13>Feb 29 10:00:00 h a: leap day in no leap year", "<13>1 2026-11-22T10:00:00Z h a - - - multi\nline"} {
		r := ParseSyslog([]byte(in), opt)
		checkInvariants(t, []byte(in), opt, r)
	}
	if r := ParseSyslog([]byte("<14>python says hi\x00"), opt); r.Message != "python says hi" || r.Fields != nil {
		t.Errorf("trailing NUL: %+v", r)
	}
	if r := ParseSyslog([]byte("<13>Nov 22 10:00:00 h a: x"), SyslogOptions{}); r.Time.IsZero() || r.Received.IsZero() {
		t.Errorf("zero Received option must default to now: %+v", r)
	}
	if strings.Contains(ParseSyslog([]byte("<13>1 2026-11-22T10:00:00Z h a - - - \xEF\xBB\xBFx"), opt).Message, "\uFEFF") {
		t.Error("BOM kept")
	}
}
