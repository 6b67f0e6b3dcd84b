package record

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"testing"
	"time"
)

// parseThenMarshal is what AppendRecordJSON must write: Parse, the extra
// fields set in order, and encoding/json's form of the Record.
func parseThenMarshal(t testing.TB, f Format, rec []byte, recv time.Time, extra []Field) []byte {
	t.Helper()
	r := f.Parse(rec, recv)
	for _, e := range extra {
		r.SetField(e.Key, e.Value)
	}
	want, err := json.Marshal(r)
	if err != nil {
		t.Fatalf("%s: json: %v", f.Name(), err)
	}
	return want
}

// extraSets are the agent's fields (file, truncated), and a key a parser
// sets too, which the later value must win.
var extraSets = [][]Field{
	nil,
	{{"file", "/var/log/odoo/odoo-server.log"}},
	{{"file", "/var/log/a <b>.log"}, {FieldTruncated, "true"}},
	{{FieldDB, "overridden"}, {FieldLevel, "x"}, {FieldDB, "twice"}},
}

func TestAppendRecordJSONIsParse(t *testing.T) {
	for _, name := range []string{"odoo", "openerp6", "plain"} {
		f, err := NewFormat(name, FormatOptions{Host: "erp1"})
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := f.(JSONAppender); !ok {
			t.Errorf("%s is not a JSONAppender: the agent would build its map", name)
		}
	}
	n := 0
	for _, g := range goldenInputs(t) {
		f, recv := loadFormatCase(t, g.dir, g.format)
		fa, ok := f.(JSONAppender)
		if !ok {
			continue
		}
		for _, rec := range append(splitRecords(f, g.input), g.input) {
			for _, extra := range extraSets {
				n++
				want := parseThenMarshal(t, f, rec, recv, extra)
				got := fa.AppendRecordJSON([]byte("prefix:"), rec, recv, extra...)
				if !bytes.Equal(got, append([]byte("prefix:"), want...)) {
					t.Errorf("%s %q with %v:\n got %s\nwant prefix:%s", g.dir, rec, extra, got, want)
				}
			}
		}
	}
	if n < 40 {
		t.Fatalf("only %d cases compared", n)
	}
}

func FuzzAppendRecordJSON(f *testing.F) {
	for _, g := range goldenInputs(f) {
		f.Add(g.input, "file", "/var/log/x.log")
	}
	f.Add([]byte(`2026-11-22 10:00:00,123 4711 INFO db werkzeug: 10.0.0.5 - - [22/Nov/2026 10:00:00] "GET / HTTP/1.1" 200 - 3 0.0005 1e3`), "db", "x")
	recv := time.Date(2026, 11, 22, 9, 30, 0, 0, time.UTC)
	paris, err := time.LoadLocation("Europe/Paris")
	if err != nil {
		f.Fatal(err)
	}
	var fas []JSONAppender
	for _, name := range FormatNames() {
		for _, loc := range []*time.Location{nil, paris} {
			ff, err := NewFormat(name, FormatOptions{Location: loc, Host: "h", App: "a"})
			if err != nil {
				f.Fatal(err)
			}
			if fa, ok := ff.(JSONAppender); ok {
				fas = append(fas, fa)
			}
		}
	}
	f.Fuzz(func(t *testing.T, in []byte, k, v string) {
		extra := []Field{{"file", v}, {k, v}}
		for _, fa := range fas {
			for _, rec := range append(splitRecords(fa, in), in) {
				want := parseThenMarshal(t, fa, rec, recv, extra)
				if got := fa.AppendRecordJSON(nil, rec, recv, extra...); !bytes.Equal(got, want) {
					t.Fatalf("%s %q:\n got %s\nwant %s", fa.Name(), rec, got, want)
				}
			}
		}
	})
}

// TestAppendJSONEveryByteEverywhere puts each byte value, and runes around
// the 8-byte steps of appendString's fast path, at each position of a
// string: the bytes must be encoding/json's.
func TestAppendJSONEveryByteEverywhere(t *testing.T) {
	var ins []string
	for c := 0; c < 256; c++ {
		for pos := 0; pos < 18; pos++ {
			b := []byte(strings.Repeat("a", 24))
			b[pos] = byte(c)
			ins = append(ins, string(b), string(b[:pos+1]))
		}
	}
	for _, r := range []string{"é", "☃", "\u2028", "\u2029", "😀", "\xff", "\xe2\x80"} {
		for pos := 0; pos < 18; pos++ {
			ins = append(ins, strings.Repeat("x", pos)+r+strings.Repeat("y", 12))
		}
	}
	for _, s := range ins {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); !bytes.Equal(got, want) {
			t.Fatalf("%q:\n got %s\nwant %s", s, got, want)
		}
	}
}

func TestAppendJSONManyFields(t *testing.T) {
	// Past 32 fields appendFields sorts with the library: same order.
	r := Record{Message: "m", Fields: map[string]string{}}
	for i := range 70 {
		r.Fields["k"+strconv.Itoa(i*7919%1000)] = strconv.Itoa(i)
	}
	r.Fields[""] = "empty"
	r.Fields["K"] = "upper"
	want, _ := json.Marshal(r)
	if got := r.AppendJSON(nil); !bytes.Equal(got, want) {
		t.Fatalf("\n got %s\nwant %s", got, want)
	}
	var p parsed
	for i := range 40 {
		p.SetField("f"+strconv.Itoa(39-i), strconv.Itoa(i))
	}
	p.SetField("f7", "last wins")
	want, _ = json.Marshal(p.record())
	if got := p.appendJSON(nil, nil); !bytes.Equal(got, want) {
		t.Fatalf("\n got %s\nwant %s", got, want)
	}
}

// secondsToMSRef is how werkzeug's perf_info was converted before the
// exact path: ParseFloat, rounding to the microsecond, FormatFloat.
func secondsToMSRef(s string) (string, int64, bool) {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 || v > 1e12 {
		return "", 0, false
	}
	us := int64(math.Round(v * 1e6))
	return strconv.FormatFloat(float64(us)/1e3, 'f', -1, 64), us, true
}

func checkPerfInfo(t *testing.T, s string) {
	t.Helper()
	wantMS, wantUS, wantOK := secondsToMSRef(s)
	us, ok := secondsToMicros(s)
	if ok != wantOK || us != wantUS {
		t.Fatalf("secondsToMicros(%q) = %d %v, want %d %v", s, us, ok, wantUS, wantOK)
	}
	if !ok {
		return
	}
	if got := string(appendMS(nil, us)); got != wantMS {
		t.Fatalf("appendMS(%d) for %q = %q, want %q", us, s, got, wantMS)
	}
}

func TestPerfInfoConversions(t *testing.T) {
	for _, s := range []string{
		"0", "0.000", "0.021", "0.003", "12.5", "3.402", "007.100", "123456789.123456", "999999999.999999",
		"1234567890.1", "0.0000005", "0.0000015", "2.5e-3", "1e3", ".5", "5.", "-1", "+1", "-0", "inf", "NaN",
		"0x1p-2", "1_000", "", ".", "1.2.3", "1e12", "1000000000001", "0.1234567", "４",
	} {
		checkPerfInfo(t, s)
	}
	for _, c := range []struct {
		us   int64
		want string
	}{{0, "0"}, {21, "0.021"}, {1000, "1"}, {1500, "1.5"}, {123456, "123.456"}, {-1, "-0.001"}, {1e15, "1000000000000"}, {math.MaxInt64, strconv.FormatFloat(float64(math.MaxInt64)/1e3, 'f', -1, 64)}} {
		if got := string(appendMS(nil, c.us)); got != c.want {
			t.Errorf("appendMS(%d) = %q, want %q", c.us, got, c.want)
		}
	}
}

func FuzzPerfInfo(f *testing.F) {
	for _, s := range []string{"0.021", "3.402", "12", "1e3", "999999999.999999", "0.0000005"} {
		f.Add(s, int64(21))
	}
	f.Fuzz(func(t *testing.T, s string, us int64) {
		checkPerfInfo(t, s)
		if got, want := string(appendMS(nil, us)), strconv.FormatFloat(float64(us)/1e3, 'f', -1, 64); got != want {
			t.Fatalf("appendMS(%d) = %q, want %q", us, got, want)
		}
		var dst [5]string
		n := firstFields(s, dst[:])
		all := strings.Fields(s)
		if n != min(len(all), len(dst)) || strings.Join(dst[:n], "|") != strings.Join(all[:n], "|") {
			t.Fatalf("firstFields(%q) = %q, want the first of %q", s, dst[:n], all)
		}
	})
}

func TestFirstFields(t *testing.T) {
	for _, s := range []string{"", "  ", "200 - 12 0.003 0.021", " 200\t-\n12 0.003 0.021 extra more", "200\u00a0- 1", "a\u0085b c", "\v\f\r x"} {
		var dst [5]string
		n := firstFields(s, dst[:])
		all := strings.Fields(s)
		if n != min(len(all), 5) || strings.Join(dst[:n], "|") != strings.Join(all[:n], "|") {
			t.Errorf("firstFields(%q) = %q, want the first of %q", s, dst[:n], all)
		}
	}
}
