package record

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

func TestAppendJSONIsJSONMarshal(t *testing.T) {
	at := time.Date(2026, 11, 22, 10, 0, 0, 123456000, time.UTC)
	recs := []Record{
		{},
		{ID: 81234, Time: at, Received: at.Add(2 * time.Millisecond), Host: "erp1", App: "postgres", ProcID: "4711",
			Facility: 16, Severity: 3, Source: "syslog/tcp 10.0.0.5", Message: "duration: 1234.5 ms  statement: SELECT ...",
			Fields: map[string]string{"db": "Specibike", "user": "openpg", "duration_ms": "1234.5"}},
		{Time: at.In(time.FixedZone("CET", 3600)), Message: "<script>alert(1)</script> & \"quotes\" \\ \t\n\r\b\f\x00\x1f\x7f é ☃ \u2028\u2029 \xff\xfe bad"},
		{Message: "Le transfert est terminé", Fields: map[string]string{"": "empty key", "a\"b": "<>&"}},
	}
	for i, r := range recs {
		want, err := json.Marshal(r)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.AppendJSON(nil); !bytes.Equal(got, want) {
			t.Errorf("record %d:\n got %s\nwant %s", i, got, want)
		}
	}
}

func FuzzAppendJSON(f *testing.F) {
	f.Add("erp1", "odoo", "msg <b>", "k", "v\x00", int64(7), int64(1700000000), 5)
	f.Fuzz(func(t *testing.T, host, app, msg, k, v string, id int64, sec int64, sev int) {
		r := Record{ID: id, Time: time.Unix(sec%4e9, sec%1e9).UTC(), Host: host, App: app, Message: msg, Severity: sev,
			Fields: map[string]string{k: v, "file": msg}}
		want, err := json.Marshal(r)
		if err != nil {
			return // a year json refuses
		}
		if got := r.AppendJSON(nil); !bytes.Equal(got, want) {
			t.Fatalf("\n got %s\nwant %s", got, want)
		}
	})
}
