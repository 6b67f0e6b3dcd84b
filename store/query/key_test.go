package query

import (
	"testing"

	"vigie/record"
)

func TestKeyIsNecessary(t *testing.T) {
	keys := map[string]Key{
		"app:postgres severity<=err":              {"app", "postgres"},
		`"connection refused" host:erp1`:          {"host", "erp1"},
		`"connection refused" app:odoo host:erp1`: {"app", "odoo"},
		"failed user":                            {"word", "failed"},
		`"Transfert est TERMINÉ"`:                {"word", "transfert"},
		"timeout OR refused":                     {},
		"host:erp* severity<=warning":            {},
		"-app:odoo":                              {},
		"duration_ms>1000":                       {},
		"refus*":                                 {},
		`"connection ref*"`:                      {"word", "connection"},
		"(app:nginx OR app:haproxy) timeout":     {"word", "timeout"},
		`app:sauvegarde "transfert est terminé"`: {"app", "sauvegarde"},
	}
	recs := []record.Record{
		{Host: "erp1", App: "postgres", Severity: 3, Message: "ERROR: connection refused for user openpg"},
		{Host: "erp2", App: "odoo", Severity: 4, Message: "Login failed for user admin", Fields: map[string]string{"duration_ms": "1500"}},
		{Host: "backup", App: "sauvegarde", Severity: 6, Message: "Le transfert est terminé"},
		{Host: "www", App: "nginx", Severity: 4, Message: "upstream timeout while reading"},
		{Host: "erp1", App: "odoo", Severity: 6, Message: "connection refused by peer"},
	}
	for qs, want := range keys {
		q, err := Parse(qs)
		if err != nil {
			t.Fatalf("%s: %v", qs, err)
		}
		if got := q.Key(); got != want {
			t.Errorf("Key(%s) = %+v, want %+v", qs, got, want)
		}
		for i := range recs {
			var w Words
			w.Reset(&recs[i])
			if q.MatchWords(&w) && !q.Key().Holds(&w) {
				t.Errorf("%s matches record %d but its key %+v does not hold", qs, i, q.Key())
			}
		}
	}
}

// FuzzKeyIsNecessary: whatever the query and message, a match implies the key.
func FuzzKeyIsNecessary(f *testing.F) {
	f.Add(`"connection refused" app:odoo`, "odoo", "erp1", "connection refused now")
	f.Add("failed user", "sshd", "h", "Failed password for user root")
	f.Fuzz(func(t *testing.T, qs, app, host, msg string) {
		q, err := Parse(qs)
		if err != nil {
			return
		}
		r := record.Record{App: app, Host: host, Message: msg}
		var w Words
		w.Reset(&r)
		if q.MatchWords(&w) && !q.Key().Holds(&w) {
			t.Fatalf("%q matches %+v but its key %+v does not hold", qs, r, q.Key())
		}
	})
}
