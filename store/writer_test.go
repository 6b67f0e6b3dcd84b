package store

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"testing"
	"time"

	"vigie/record"
)

// The writer keeps a column's driver value from one record to the next when
// it is the same: no record may come back with a neighbour's value.
func TestWriteKeepsEachRecordsOwnValues(t *testing.T) {
	s, _ := openTest(t, Options{})
	in := []record.Record{
		rec(base, "erp1", "odoo", 6, "own 0", "db", "Specibike"),
		rec(base, "erp1", "odoo", 6, "own 1"), // no fields after fields
		rec(base.Add(time.Millisecond), "erp2", "odoo", 3, "own 2", "db", "Specibike"),
		rec(base.Add(time.Millisecond), "erp2", "postgres", 3, "own 3", "db", "Specibike"), // same fields as before
		rec(base.Add(2*time.Millisecond), "", "", 0, "own 4", "", "empty key"),
		rec(base.Add(3*time.Millisecond), "erp1", "odoo", 23, "", "note", "no message"),
		rec(base.Add(4*time.Millisecond), "erp1", "odoo", 6, "own 6", "db", "Other"),
	}
	in[1].ProcID, in[2].ProcID, in[3].MsgID = "4711", "4712", "ID47"
	in[5].Facility, in[5].Source = 23, "agent/erp1 10.0.0.7"
	mustSync(t, s, slices.Clone(in)...)
	res, err := s.Search(context.Background(), Request{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Records) != len(in) {
		t.Fatalf("%d records back, want %d", len(res.Records), len(in))
	}
	slices.Reverse(res.Records) // newest first; they were sent oldest first
	for i, got := range res.Records {
		want := in[i]
		got.ID = 0
		if !got.Time.Equal(want.Time) || !got.Received.Equal(want.Received) {
			t.Errorf("record %d: time %v/%v, want %v/%v", i, got.Time, got.Received, want.Time, want.Received)
		}
		got.Time, got.Received, want.Time, want.Received = time.Time{}, time.Time{}, time.Time{}, time.Time{}
		if fmt.Sprint(got) != fmt.Sprint(want) || !maps.Equal(got.Fields, want.Fields) {
			t.Errorf("record %d:\n got %+v\nwant %+v", i, got, want)
		}
	}
	// The record without a message is stored but not in the word index.
	res, err = s.Search(context.Background(), Request{Query: "own"})
	if err != nil || len(res.Records) != 6 {
		t.Fatalf("word search: %d records, err %v; want 6", len(res.Records), err)
	}
}

// A commit spanning days writes one transaction per day; within each day
// the records keep their order (ids rise in the order they were sent).
func TestWriteAcrossDaysKeepsOrder(t *testing.T) {
	s, _ := openTest(t, Options{})
	var in []record.Record
	for i := range 300 {
		day := []int{0, 1, 0, -1, 0}[i%5]
		in = append(in, rec(base.AddDate(0, 0, day), "h", "a", 6, "seq "+strconv.Itoa(i)))
	}
	recs := slices.Clone(in)
	mustSync(t, s, recs...)
	lastID := map[int64]int64{}
	for i, r := range recs {
		d := dayOf(r.ID)
		if want := placeMs(in[i].Time, in[i].Received) / dayMs; d != want {
			t.Fatalf("record %d filed on day %d, want %d", i, d, want)
		}
		if r.ID <= lastID[d] {
			t.Fatalf("record %d: id %d not above the previous one of its day (%d)", i, r.ID, lastID[d])
		}
		lastID[d] = r.ID
	}
	if n := countAll(t, s, "seq"); n != 300 {
		t.Errorf("%d stored, want 300", n)
	}
}

func TestAppendFieldsJSONIsJSON(t *testing.T) {
	for _, m := range []map[string]string{
		{},
		{"db": "Specibike", "duration_ms": "1234.5"},
		{"": "", "a\"b\\c": "<>&\u2028 é ☃", "ctl": "\x00\x01\x1f\x7f\t\n"},
		{"bad": "\xff\xfe x \xc3", "\xe9": "latin-1 key"},
	} {
		checkFieldsJSON(t, m)
	}
}

func FuzzAppendFieldsJSON(f *testing.F) {
	f.Add("db", "Specibike", "k\"", "\xff\x00é")
	f.Add("\xff", "0", "\xfe", "\x000") // keys alike once replaced
	f.Fuzz(func(t *testing.T, k1, v1, k2, v2 string) {
		checkFieldsJSON(t, map[string]string{k1: v1, k2: v2})
	})
}

// checkFieldsJSON fails unless the fields column decodes to what
// encoding/json makes of the map (invalid UTF-8 replaced alike).
func checkFieldsJSON(t *testing.T, m map[string]string) {
	t.Helper()
	enc := appendFieldsJSON(nil, m)
	var got, want map[string]string
	if err := json.Unmarshal(enc, &got); err != nil {
		t.Fatalf("%q: not JSON: %v", enc, err)
	}
	std, _ := json.Marshal(m)
	json.Unmarshal(std, &want)
	if len(want) < len(m) {
		// Two keys alike once invalid UTF-8 is replaced: either value may
		// win, as the map's order decides; only the keys must agree.
		if !maps.EqualFunc(got, want, func(string, string) bool { return true }) {
			t.Fatalf("%q decodes to keys %q, want %q", enc, slices.Sorted(maps.Keys(got)), slices.Sorted(maps.Keys(want)))
		}
		return
	}
	if !maps.Equal(got, want) {
		t.Fatalf("%q decodes to %q, want %q", enc, got, want)
	}
}
