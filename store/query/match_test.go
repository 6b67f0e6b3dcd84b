package query

import (
	"slices"
	"strconv"
	"strings"
	"testing"

	"vigie/record"
)

func TestMatch(t *testing.T) {
	tests := []struct {
		q    string
		r    record.Record
		want bool
	}{
		{"", record.Record{}, true},
		{"terminée", record.Record{Message: "tache TERMINEE"}, true},
		{"terminé", record.Record{Message: "Job termine."}, true},
		{"terminee", record.Record{Message: "Tâche terminée."}, true},
		{"termin*", record.Record{Message: "Tâche terminée."}, true},
		{"term", record.Record{Message: "Tâche terminée."}, false},
		{`"refused connection"`, record.Record{Message: "connection refused"}, false},
		{`"connection refused"`, record.Record{Message: "Connection: refused!"}, true},
		{"foo.bar", record.Record{Message: "x foo-bar y"}, true},
		{"host:erp1", record.Record{Host: "ERP1"}, false},
		{"host:erp*", record.Record{Host: "erp1"}, true},
		{"app:*gres", record.Record{App: "postgres"}, true},
		{"app:p*s*s", record.Record{App: "postgres"}, true},
		{"app:p*s*x", record.Record{App: "postgres"}, false},
		{"db:Specibike", record.Record{Fields: map[string]string{"db": "Specibike"}}, true},
		{"-db:Specibike", record.Record{}, true},
		{"db:*", record.Record{}, false},
		{`db:""`, record.Record{Fields: map[string]string{"db": ""}}, true},
		{"severity<=warning", record.Record{Severity: 4}, true},
		{"severity<=warning", record.Record{Severity: 5}, false},
		{"facility:local0", record.Record{Facility: 16}, true},
		{"d>500", record.Record{Fields: map[string]string{"d": "501"}}, true},
		{"d>500", record.Record{Fields: map[string]string{"d": "12ms"}}, false},
		{"d>10", record.Record{Fields: map[string]string{"d": "12ms"}}, true},
		{"d<500", record.Record{Fields: map[string]string{"d": "n/a"}}, false},
		{"d<500", record.Record{}, false},
		{"-d<500", record.Record{}, true},
		{"d=5", record.Record{Fields: map[string]string{"d": "+.5e1"}}, true},
	}
	for _, tt := range tests {
		q, err := Parse(tt.q)
		if err != nil {
			t.Fatalf("Parse(%q): %v", tt.q, err)
		}
		if got := q.Match(&tt.r); got != tt.want {
			t.Errorf("%q on %+v = %v, want %v", tt.q, tt.r, got, tt.want)
		}
	}
}

func TestCastReal(t *testing.T) {
	tests := map[string]float64{
		"500": 500, "-3": -3, ".5": 0.5, "+.5e1": 5, "1e3": 1000, "12ms": 12,
		" 7": 7, "abc": 0, "": 0, "1e": 1, "1e+": 1, "-": 0, "..5": 0, "5.": 5,
		"00501": 501, "1.5E-2x": 0.015,
	}
	for in, want := range tests {
		if got := castReal(in); got != want {
			t.Errorf("castReal(%q) = %v, want %v", in, got, want)
		}
	}
}

// FuzzCastRealIsCorrectlyRounded: a plain decimal of at most 18 digits
// (where SQLite keeps every digit) reads as the nearest float64, on the
// exact fast paths and the slow one alike.
func FuzzCastRealIsCorrectlyRounded(f *testing.F) {
	for _, s := range []string{"1500", "12.5", "0.1", "-9007199254740993", "123456789012.345678", "1.25e-3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		digits := 0
		for i, c := range s {
			switch {
			case '0' <= c && c <= '9':
				digits++
			case c == '.' || c == 'e' || c == 'E' || (c == '-' || c == '+') && (i == 0 || s[i-1]|0x20 == 'e'):
			default:
				return
			}
		}
		want, err := strconv.ParseFloat(s, 64)
		if err != nil || digits > 18 || strings.Count(s, ".") > 1 {
			return
		}
		if got := castReal(s); got != want {
			t.Fatalf("castReal(%q) = %v, want %v", s, got, want)
		}
	})
}

// One Words reused across records splits each as words does, and a record
// met again after Reset is split again.
func TestWordsReuseAgreesWithWords(t *testing.T) {
	var w Words
	for _, s := range []string{"ERROR:  relation \"res_partner\" does not exist", "", "Été 2026 — ÉCOLE d'été", "a", "x  y\tz", "naïve café", "ERROR:  relation"} {
		r := record.Record{Message: s}
		w.Reset(&r)
		if got, want := w.get(), words(s); !slices.Equal(got, want) {
			t.Fatalf("%q: %q, want %q", s, got, want)
		}
	}
}

func FuzzWordsReuse(f *testing.F) {
	f.Add("hello wörld", "second one")
	f.Fuzz(func(t *testing.T, a, b string) {
		var w Words
		for _, s := range []string{a, b, a} {
			r := record.Record{Message: s}
			w.Reset(&r)
			if got, want := w.get(), words(s); !slices.Equal(got, want) {
				t.Fatalf("%q: %q, want %q", s, got, want)
			}
		}
	})
}
