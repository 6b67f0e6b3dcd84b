package query

import (
	"fmt"
	"strings"
	"testing"

	"vigie/record"
)

// keyString writes keys as "app=postgres | host^erp | word:failed | duration_ms>1000".
func keyString(ks []Key) string {
	var out []string
	for _, k := range ks {
		name := k.Field.Name
		if !k.Field.Column && k.Kind != KeyWord {
			name = "." + name
		}
		switch k.Kind {
		case KeyEq:
			out = append(out, name+"="+k.Text)
		case KeyPrefix:
			out = append(out, name+"^"+k.Text)
		case KeyWord:
			out = append(out, "word:"+k.Text)
		case KeyNum:
			out = append(out, fmt.Sprintf("%s%s%g", name, k.Cmp, k.Num))
		}
	}
	return strings.Join(out, " | ")
}

var keyCases = map[string]string{
	"app:postgres severity<=err":              "app=postgres",
	`"connection refused" host:erp1`:          "host=erp1",
	`"connection refused" app:odoo host:erp1`: "app=odoo",
	"failed user":                            "word:failed",
	`"Transfert est TERMINÉ"`:                "word:transfert",
	"timeout OR refused":                     "word:timeout | word:refused",
	"timeout OR -refused":                    "",
	"host:erp* severity<=warning":            "host^erp",
	"host:*erp":                              "",
	"-app:odoo":                              "",
	"severity<=err":                          "",
	"duration_ms>1000":                       ".duration_ms>1000",
	"duration_ms>1000 app:postgres":          "app=postgres",
	"duration_ms>=1000 slow":                 "word:slow",
	"db:Specibike severity<=err":             ".db=Specibike",
	"db:Specibike refused":                   ".db=Specibike",
	"db:Spec* meta.seq<5":                    ".db^Spec",
	"refus*":                                 "",
	`"connection ref*"`:                      "word:connection",
	"(app:nginx OR app:haproxy) timeout":     "app=nginx | app=haproxy",
	"(app:odoo OR timeout) refused":          "word:refused",
	"(app:nginx OR (timeout refused)) x":     "word:x",
	"app:nginx OR (timeout refused)":         "app=nginx | word:timeout",
	`app:sauvegarde "transfert est terminé"`: "app=sauvegarde",
	"procid:4711 peer":                       "procid=4711",
}

var keyRecords = []record.Record{
	{Host: "erp1", App: "postgres", Severity: 3, Message: "ERROR: connection refused for user openpg", Fields: map[string]string{"db": "Specibike"}},
	{Host: "erp2", App: "odoo", Severity: 4, Message: "Login failed for user admin", Fields: map[string]string{"duration_ms": "1500"}},
	{Host: "backup", App: "sauvegarde", Severity: 6, Message: "Le transfert est terminé"},
	{Host: "www", App: "nginx", Severity: 4, Message: "upstream timeout while reading"},
	{Host: "erp1", App: "odoo", Severity: 6, Message: "connection refused by peer", ProcID: "4711"},
	{Host: "erp3", App: "postgres", Severity: 6, Message: "duration: 1800 ms slow", Fields: map[string]string{"duration_ms": "1800", "db": "Specibike2404", "meta.seq": "3"}},
}

func TestKeysAreNecessary(t *testing.T) {
	for qs, want := range keyCases {
		q, err := Parse(qs)
		if err != nil {
			t.Fatalf("%s: %v", qs, err)
		}
		keys := q.Keys()
		if got := keyString(keys); got != want {
			t.Errorf("Keys(%s) = %q, want %q", qs, got, want)
		}
		matched := 0
		for i := range keyRecords {
			var w Words
			w.Reset(&keyRecords[i])
			if q.MatchWords(&w) {
				matched++
				if !anyHolds(keys, &w) {
					t.Errorf("%s matches record %d but none of its keys %q holds", qs, i, want)
				}
			}
		}
		if matched == 0 && !strings.Contains(qs, "*erp") && !strings.HasPrefix(qs, "(app:nginx OR (") {
			t.Errorf("%s matches no test record: the case proves nothing", qs)
		}
	}
}

func anyHolds(keys []Key, w *Words) bool {
	if keys == nil {
		return true
	}
	for _, k := range keys {
		if k.Holds(w) {
			return true
		}
	}
	return false
}

func TestNumberFollowsTheComparison(t *testing.T) {
	for _, c := range []struct {
		in   string
		want float64
		ok   bool
	}{{"1500", 1500, true}, {"12.5", 12.5, true}, {"-3", -3, true}, {".5", 0.5, true}, {"n/a", 0, false}, {"", 0, false}, {"7 ms", 7, true}} {
		got, ok := Number(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("Number(%q) = %v, %v; want %v, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// FuzzKeyIsNecessary: whatever the query and record, a match implies one of
// the keys.
func FuzzKeyIsNecessary(f *testing.F) {
	f.Add(`"connection refused" app:odoo`, "odoo", "erp1", "connection refused now", "", "")
	f.Add("failed user", "sshd", "h", "Failed password for user root", "", "")
	f.Add("duration_ms>=1000 OR db:Spec*", "postgres", "db1", "duration: 1000 ms", "1000", "Specibike")
	f.Add("(host:erp* OR app:x) -procid:1", "x", "www", "m", "", "")
	f.Fuzz(func(t *testing.T, qs, app, host, msg, dur, db string) {
		q, err := Parse(qs)
		if err != nil {
			return
		}
		r := record.Record{App: app, Host: host, Message: msg, Fields: map[string]string{"duration_ms": dur, "db": db}}
		if dur == "" {
			delete(r.Fields, "duration_ms")
		}
		var w Words
		w.Reset(&r)
		if q.MatchWords(&w) && !anyHolds(q.Keys(), &w) {
			t.Fatalf("%q matches %+v but none of its keys %q holds", qs, r, keyString(q.Keys()))
		}
	})
}
