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

// decodeBoth decodes with UnmarshalJSONFast and json.Unmarshal and fails
// when they disagree on the record or on whether it was an error.
func decodeBoth(t *testing.T, data []byte) {
	t.Helper()
	var fast, std Record
	errFast, errStd := UnmarshalJSONFast(data, &fast), json.Unmarshal(data, &std)
	if (errFast == nil) != (errStd == nil) {
		t.Fatalf("%q: fast err %v, json err %v", data, errFast, errStd)
	}
	if errStd != nil {
		return
	}
	a, _ := json.Marshal(fast)
	b, _ := json.Marshal(std)
	if !bytes.Equal(a, b) || fast.Time.Equal(std.Time) != true || fast.Time.Location().String() != std.Time.Location().String() {
		t.Fatalf("%q:\nfast %s\njson %s", data, a, b)
	}
}

func TestUnmarshalJSONFastAgrees(t *testing.T) {
	at := time.Date(2026, 11, 22, 10, 0, 0, 123456000, time.UTC)
	r := Record{ID: 3, Time: at, Host: "erp1", App: "odoo", Message: "<b>\"é\" \u2028 \x01", Fields: map[string]string{"db": "Specibike", "": "x"}}
	for _, in := range []string{
		string(r.AppendJSON(nil)),
		`{}`, ` { "message" : "a" } `, `{"Host":"upper"}`, `{"host":null}`, `{"severity":3.0}`, `{"severity":"3"}`,
		`{"message":"\ud83d\ude00 \u00e9 \/"}`, `{"message":"\ud83d lone"}`, `{"message":"bad \x"}`,
		`{"fields":{"a":"1","a":"2"}}`, `{"fields":{}}`, `{"fields":null}`, `{"time":"2026-11-22T10:00:00+01:00"}`,
		`{"time":"not a time"}`, `{"time":""}`, `{"id":-0}`, `{"id":01}`, `{"id":99999999999999999999}`,
		`{"message":"x"} trailing`, `{"message":"x",}`, `{"other":1}`, "{\"message\":\"\xff\"}", `[1]`, ``,
	} {
		decodeBoth(t, []byte(in))
	}
}

func FuzzUnmarshalJSONFast(f *testing.F) {
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	f.Add(string((&Record{Time: at, Message: "m <&>", Fields: map[string]string{"k": "v"}}).AppendJSON(nil)))
	f.Add(`{"message":"\u00e9\ud83d\ude00","fields":{"a":"b"}}`)
	f.Fuzz(func(t *testing.T, in string) {
		decodeBoth(t, []byte(in))
	})
}
