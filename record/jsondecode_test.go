package record

import (
	"bytes"
	"encoding/json"
	"testing"
	"time"
)

// decodeReused decodes lines one after the other with one Decoder and
// fails when a record differs from json.Unmarshal's, or when a record
// already decoded changed as the Decoder's scratch space was reused.
func decodeReused(t *testing.T, lines ...[]byte) {
	t.Helper()
	var dec Decoder
	var got []Record
	var want [][]byte
	for _, line := range lines {
		var fast, std Record
		errFast, errStd := dec.Decode(line, &fast), json.Unmarshal(line, &std)
		if (errFast == nil) != (errStd == nil) {
			t.Fatalf("%q: fast err %v, json err %v", line, errFast, errStd)
		}
		if errStd != nil {
			continue
		}
		a, _ := json.Marshal(fast)
		b, _ := json.Marshal(std)
		if !bytes.Equal(a, b) {
			t.Fatalf("%q after %d lines:\nfast %s\njson %s", line, len(got), a, b)
		}
		got, want = append(got, fast), append(want, b)
	}
	for i := range got {
		if a, _ := json.Marshal(got[i]); !bytes.Equal(a, want[i]) {
			t.Fatalf("record %d changed once later lines were decoded:\n now %s\nwant %s", i, a, want[i])
		}
	}
}

func TestDecoderReuse(t *testing.T) {
	at := time.Date(2026, 11, 22, 10, 0, 0, 123456000, time.UTC)
	long := Record{Time: at, Host: "erp1", App: "odoo", ProcID: "4711", Severity: 6, Facility: 1,
		Message: `10.0.0.7 - - "POST /web/dataset/call_kw HTTP/1.1" 200 <&> é`, Fields: map[string]string{"db": "Specibike", "logger": "werkzeug"}}
	short := Record{Time: at, Message: "x", Fields: map[string]string{"k": "v"}}
	lines := []string{
		string(long.AppendJSON(nil)),
		string(short.AppendJSON(nil)),
		`{"message":"not closed`, // fails midway: the next line starts clean
		`{"fields":{"a":"1"},"fields":{"b":"2","a":"3"}}`,
		`{"host":"Upper","Host":"case"}`, // encoding/json's fallback
		`{"message":"\u00e9\n\"q\"","fields":{"k\/":"\ud83d\ude00"}}`,
		`{}`,
		string(long.AppendJSON(nil)),
	}
	var in [][]byte
	for _, l := range lines {
		in = append(in, []byte(l))
	}
	decodeReused(t, in...)
}

func TestDecoderFillsRecordOnlyOnSuccess(t *testing.T) {
	// Like json.Unmarshal, a fallback decodes into the record as given.
	var d Decoder
	r := Record{Host: "kept"}
	if err := d.Decode([]byte(`{"Message":"folded"}`), &r); err != nil {
		t.Fatal(err)
	}
	if r.Host != "kept" || r.Message != "folded" {
		t.Fatalf("fallback: %+v", r)
	}
}

func FuzzDecoderReuse(f *testing.F) {
	at := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	f.Add(string((&Record{Time: at, Message: "m <&> \"q\"", Fields: map[string]string{"k": "v"}}).AppendJSON(nil)),
		`{"message":"\u00e9\ud83d\ude00","fields":{"a":"b"}}`)
	f.Add(`{"message":"open`, `{"host":"h"}`)
	f.Fuzz(func(t *testing.T, a, b string) {
		decodeReused(t, []byte(a), []byte(b), []byte(a))
	})
}

func BenchmarkDecode(b *testing.B) {
	at := time.Date(2026, 11, 22, 10, 0, 0, 123456000, time.UTC)
	r := Record{Time: at, Host: "erp1", App: "odoo", ProcID: "4711", Severity: 6, Facility: 1,
		Message: `10.0.0.7 - - [22/Nov/2026 10:00:00] "POST /web/dataset/call_kw/res.partner/read HTTP/1.1" 200 - 12 0.012 0.034`,
		Fields: map[string]string{"db": "Specibike", "logger": "werkzeug", "level": "INFO", "pid": "4711",
			"file": "/var/log/odoo/odoo-server.log", "http.status": "200", "duration_ms": "12.5"}}
	line := r.AppendJSON(nil)
	var d Decoder
	b.SetBytes(int64(len(line)))
	b.ReportAllocs()
	for b.Loop() {
		var out Record
		if err := d.Decode(line, &out); err != nil {
			b.Fatal(err)
		}
	}
}
