package record

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// formatGoldenDirs are the folders of file format golden cases, each with
// the format its cases use unless options.json names another.
var formatGoldenDirs = map[string]string{
	"../testdata/odoo":     "odoo",
	"../testdata/postgres": "postgres",
}

// formatCaseOptions is options.json of a file format case.
type formatCaseOptions struct {
	Format     string `json:"format"`
	Received   string `json:"received"` // RFC 3339
	Location   string `json:"location"` // IANA name
	LinePrefix string `json:"line_prefix"`
	App        string `json:"app"`
	Host       string `json:"host"`
}

func loadFormatCase(t testing.TB, dir, format string) (Format, time.Time) {
	t.Helper()
	// Odoo's default zone is its own (UTC); the others take the host's.
	const unset = "\x00"
	o := formatCaseOptions{Format: format, Received: "2026-11-22T09:30:00Z", Location: unset, Host: "erp1"}
	if b, err := os.ReadFile(filepath.Join(dir, "options.json")); err == nil {
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&o); err != nil {
			t.Fatalf("options.json: %v", err)
		}
	} else if !os.IsNotExist(err) {
		t.Fatal(err)
	}
	if o.Location == unset {
		o.Location = "Europe/Paris"
		if o.Format == "odoo" {
			o.Location = ""
		}
	}
	recv, err := time.Parse(time.RFC3339Nano, o.Received)
	if err != nil {
		t.Fatalf("options.json received: %v", err)
	}
	opt := FormatOptions{LinePrefix: o.LinePrefix, App: o.App, Host: o.Host}
	if o.Location != "" { // "": nil, the format's default
		if opt.Location, err = time.LoadLocation(o.Location); err != nil {
			t.Fatalf("options.json location: %v", err)
		}
	}
	f, err := NewFormat(o.Format, opt)
	if err != nil {
		t.Fatal(err)
	}
	return f, recv
}

// splitRecords is the joiner of the forwarder in its simplest form: the
// current record takes the next line while it is open or the line does not
// start a record.
func splitRecords(f Format, b []byte) [][]byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	if len(b) == 0 {
		return nil
	}
	var recs [][]byte
	var cur []byte
	for i, line := range bytes.Split(b, []byte("\n")) {
		if i > 0 && (f.Open(cur) || !f.Starts(line)) {
			cur = append(append(cur, '\n'), line...)
			continue
		}
		if i > 0 {
			recs = append(recs, cur)
		}
		cur = append([]byte(nil), line...)
	}
	return append(recs, cur)
}

// goldenCompare writes or compares expected.json.
func goldenCompare(t *testing.T, dir string, got any) {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(got); err != nil {
		t.Fatal(err)
	}
	exp := filepath.Join(dir, "expected.json")
	if *update {
		if err := os.WriteFile(exp, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(exp)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(want, buf.Bytes()) {
		t.Errorf("mismatch with %s\n--- got\n%s\n--- want\n%s", exp, buf.Bytes(), want)
	}
}

// goldenInput is one golden case of formatGoldenDirs: dir/input.txt read
// with format.
type goldenInput struct {
	root, format, dir string
	input             []byte
}

// goldenInputs lists every golden case, input read.
func goldenInputs(t testing.TB) []goldenInput {
	t.Helper()
	var out []goldenInput
	for root, format := range formatGoldenDirs {
		ins, err := filepath.Glob(filepath.Join(root, "*", "input.txt"))
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range ins {
			b, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, goldenInput{root, format, filepath.Dir(in), b})
		}
	}
	if len(out) == 0 {
		t.Fatal("no golden cases")
	}
	return out
}

func TestGoldenFormats(t *testing.T) {
	for _, g := range goldenInputs(t) {
		t.Run(filepath.Base(g.root)+"/"+filepath.Base(g.dir), func(t *testing.T) {
			f, recv := loadFormatCase(t, g.dir, g.format)
			got := []Record{}
			for _, rec := range splitRecords(f, g.input) {
				r := f.Parse(rec, recv)
				checkFormatInvariants(t, f, rec, recv, r)
				got = append(got, r)
			}
			goldenCompare(t, g.dir, got)
		})
	}
}

// checkFormatInvariants holds for every input: what FuzzFormats checks.
func checkFormatInvariants(t *testing.T, f Format, in []byte, recv time.Time, r Record) {
	t.Helper()
	if r.Time.IsZero() || r.Time.Location() != time.UTC {
		t.Fatalf("%s: Time %v for %q", f.Name(), r.Time, in)
	}
	if !r.Received.Equal(recv) {
		t.Fatalf("%s: Received %v, want %v", f.Name(), r.Received, recv)
	}
	if r.Severity < 0 || r.Severity > 7 || r.Facility != FacUser {
		t.Fatalf("%s: severity %d facility %d for %q", f.Name(), r.Severity, r.Facility, in)
	}
	if r.Source != "" || r.ID != 0 {
		t.Fatalf("%s: Source or ID set: %+v", f.Name(), r)
	}
	if _, err := json.Marshal(r); err != nil {
		t.Fatalf("%s: json: %v for %q", f.Name(), err, in)
	}
	if f.Name() != "plain" && r.App == "" {
		t.Fatalf("%s: no app for %q", f.Name(), in)
	}
}

func TestNewFormat(t *testing.T) {
	for _, name := range append(FormatNames(), "") {
		f, err := NewFormat(name, FormatOptions{})
		if err != nil {
			t.Fatalf("%q: %v", name, err)
		}
		if want := name; want != "" && f.Name() != want {
			t.Errorf("Name() = %q, want %q", f.Name(), want)
		}
	}
	_, err := NewFormat("syslog", FormatOptions{})
	if err == nil || !strings.Contains(err.Error(), `"syslog"`) || !strings.Contains(err.Error(), "postgres-csv") {
		t.Errorf("unknown format error should name it and the valid ones: %v", err)
	}
	for prefix, want := range map[string]string{
		"%m [%p] %z ": "%z",
		"%t %":        "lone %",
		"%-10Y":       "%Y",
	} {
		_, err := NewFormat("postgres", FormatOptions{LinePrefix: prefix})
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("prefix %q: error %v, want it to name %s", prefix, err, want)
		}
	}
	for _, prefix := range []string{"%m [%p] %q%u@%d ", "%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h ", "%%%n %-8p %10a %b %i %Q %P %L %v %x %e %c %s %r "} {
		if _, err := NewFormat("postgres", FormatOptions{LinePrefix: prefix}); err != nil {
			t.Errorf("prefix %q: %v", prefix, err)
		}
	}
}

func TestPostgresStarts(t *testing.T) {
	f, err := NewFormat("postgres", FormatOptions{LinePrefix: "%m [%p] %q%u@%d "})
	if err != nil {
		t.Fatal(err)
	}
	for line, want := range map[string]bool{
		"2026-11-22 10:00:00.123 CET [4711] openpg@Specibike LOG:  duration: 1.0 ms":   true,
		"2026-11-22 10:00:00.123 CET [4711] LOG:  checkpoint starting: time":           true, // %q: no session
		"2026-11-22 10:00:00.123 CET [4711] @ LOG:  autovacuum":                        true,
		"2026-11-22 10:00:00.123 CET [4711] openpg@Specibike DETAIL:  Key (id)=(1)":    false,
		"2026-11-22 10:00:00.123 CET [4711] openpg@Specibike DÉTAIL : La clé (id)=(1)": false,
		"2026-11-22 10:00:00.123 CET [4711] openpg@Specibike ERREUR:  la relation":     true,
		"\tFROM res_partner": false,
		"2026-11-22 10:00:00.123 CET [4711] openpg@Specibike lowercase: not a severity": false,
		"": false,
	} {
		if got := f.Starts([]byte(line)); got != want {
			t.Errorf("Starts(%q) = %v, want %v", line, got, want)
		}
	}
}

func TestPostgresCSVOpen(t *testing.T) {
	f, _ := NewFormat("postgres-csv", FormatOptions{})
	for rec, want := range map[string]bool{
		`2026-11-22 10:00:00.123 CET,"u","d",1,,,,,,,,LOG,00000,"duration: 1 ms  statement: SELECT 'a`: true,
		"2026-11-22 10:00:00.123 CET,\"u\",\"d\",1,,,,,,,,LOG,00000,\"a \"\"quoted\"\"\n b\"":          false,
	} {
		if got := f.Open([]byte(rec)); got != want {
			t.Errorf("Open(%q) = %v, want %v", rec, got, want)
		}
	}
}

func TestPgTime(t *testing.T) {
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]string{
		"2026-11-22 10:00:00.123 CET":  "2026-11-22T09:00:00.123Z",
		"2026-07-22 10:00:00 CEST":     "2026-07-22T08:00:00Z",
		"2026-10-25 02:30:00.000 CEST": "2026-10-25T00:30:00Z", // the first 02:30 of the DST end
		"2026-10-25 02:30:00.000 CET":  "2026-10-25T01:30:00Z", // the second one
		"2026-11-22 10:00:00.123 UTC":  "2026-11-22T10:00:00.123Z",
		"2026-11-22 10:00:00 +03":      "2026-11-22T07:00:00Z",
		"2026-11-22 10:00:00 -03:30":   "2026-11-22T13:30:00Z",
		"2026-11-22 10:00:00 EST":      "2026-11-22T15:00:00Z",
		"2026-11-22 10:00:00 XYZT":     "2026-11-22T09:00:00Z", // unknown: host zone
	} {
		got, ok := pgTime(in, paris)
		if !ok || got.Format(time.RFC3339Nano) != want {
			t.Errorf("pgTime(%q) = %v %v, want %s", in, got, ok, want)
		}
	}
	if got, ok := pgEpoch("1763805600.123"); !ok || got.Format(time.RFC3339Nano) != "2025-11-22T10:00:00.123Z" {
		t.Errorf("pgEpoch = %v %v", got, ok)
	}
}

func TestPgDuration(t *testing.T) {
	for in, want := range map[string]string{
		"duration: 1234.567 ms  statement: SELECT 1":      "1234.567",
		"duration: 0.120 ms  execute <unnamed>: SELECT 1": "0.120",
		"duration: 12 ms": "12",
		"durée : 1234,5 ms, instruction : SELECT 1": "1234.5",
		"duration: . ms":      "",
		"statement: SELECT 1": "",
	} {
		got, _ := pgDuration(in)
		if got != want {
			t.Errorf("pgDuration(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestPlainAndRaw(t *testing.T) {
	recv := time.Date(2026, 11, 22, 9, 0, 0, 0, time.UTC)
	f, _ := NewFormat("", FormatOptions{App: "sauvegarde", Host: "nas"})
	r := f.Parse([]byte("transfert est termin\xe9\r\n"), recv)
	if r.App != "sauvegarde" || r.Host != "nas" || r.Message != "transfert est terminé" || r.Fields[FieldCharset] != "windows-1252" || r.Severity != SevNotice || !r.Time.Equal(recv) {
		t.Errorf("plain: %+v", r)
	}
	for _, name := range []string{"odoo", "openerp6", "postgres", "postgres-csv", "postgres-json"} {
		f, _ := NewFormat(name, FormatOptions{})
		r := f.Parse([]byte("garbage"), recv)
		if r.Fields[FieldParseError] == "" || r.Message != "garbage" || !r.Time.Equal(recv) {
			t.Errorf("%s: garbage kept as %+v", name, r)
		}
		if r := f.Parse(nil, time.Time{}); r.Time.IsZero() || r.Received.IsZero() {
			t.Errorf("%s: zero received must default to now: %+v", name, r)
		}
	}
}

// fuzzPrefixes are the log_line_prefix values FuzzFormats tries.
var fuzzPrefixes = []string{"", "%m [%p] %q%u@%d ", "%t [%p]: [%l-1] user=%u,db=%d,app=%a,client=%h %e ", "%n %r %c %s %v %x %b %i %Q "}

func FuzzFormats(f *testing.F) {
	for root := range formatGoldenDirs {
		ins, _ := filepath.Glob(filepath.Join(root, "*", "input.txt"))
		for _, in := range ins {
			b, err := os.ReadFile(in)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b, "%m [%p] ")
		}
	}
	f.Add([]byte("2026-11-22 10:00:00.123 CET [1] LOG:  x\n\tx\n2026-11-22 10:00:00.123 CET [1] DETAIL:  y"), "%q%%%-5p")
	recv := time.Date(2026, 1, 1, 0, 0, 30, 0, time.UTC)
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		f.Fatal(err)
	}
	var formats []Format
	for _, name := range FormatNames() {
		for _, p := range fuzzPrefixes {
			ff, err := NewFormat(name, FormatOptions{LinePrefix: p, Location: paris, Host: "h", App: "a"})
			if err != nil {
				f.Fatal(err)
			}
			formats = append(formats, ff)
			if name != "postgres" {
				break
			}
		}
	}
	f.Fuzz(func(t *testing.T, in []byte, prefix string) {
		fs := formats
		if pf, err := NewFormat("postgres", FormatOptions{LinePrefix: prefix}); err == nil {
			fs = append(fs[:len(fs):len(fs)], pf)
		}
		for _, ff := range fs {
			for _, rec := range append(splitRecords(ff, in), in) {
				ff.Open(rec)
				r := ff.Parse(rec, recv)
				checkFormatInvariants(t, ff, rec, recv, r)
			}
		}
	})
}

func BenchmarkFormats(b *testing.B) {
	recv := time.Date(2026, 11, 22, 9, 0, 5, 0, time.UTC)
	for _, c := range []struct{ name, prefix, line string }{
		{"odoo", "", `2026-11-22 10:00:00,123 4711 INFO Specibike werkzeug: 10.0.0.5 - - [22/Nov/2026 10:00:00] "POST /web/dataset/call_kw/res.partner/read HTTP/1.1" 200 - 12 0.003 0.021`},
		{"postgres", "%m [%p] %q%u@%d ", `2026-11-22 10:00:00.123 CET [4711] openpg@Specibike LOG:  duration: 1234.567 ms  statement: SELECT id, name FROM res_partner`},
		{"postgres-csv", "", `2026-11-22 10:00:00.123 CET,"openpg","Specibike",4711,"10.0.0.5:52344",6740a1b2.1267,3,"SELECT",2026-11-22 09:58:01 CET,3/1234,0,LOG,00000,"duration: 1234.567 ms  statement: SELECT 1",,,,,,,,,"psql","client backend",,0`},
	} {
		f, err := NewFormat(c.name, FormatOptions{LinePrefix: c.prefix, Location: time.UTC})
		if err != nil {
			b.Fatal(err)
		}
		line := []byte(c.line)
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(line)))
			for b.Loop() {
				if f.Starts(line) {
					_ = f.Parse(line, recv)
				}
			}
		})
	}
}
