package record

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

const eventGoldenDir = "../testdata/eventlog"

// TestGoldenEventXML reads testdata/eventlog/<case>/input.xml, one rendered
// event per case, and compares the Record with expected.json.
func TestGoldenEventXML(t *testing.T) {
	ins, err := filepath.Glob(filepath.Join(eventGoldenDir, "*", "input.xml"))
	if err != nil || len(ins) == 0 {
		t.Fatalf("no golden cases under %s: %v", eventGoldenDir, err)
	}
	for _, in := range ins {
		dir := filepath.Dir(in)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			b, err := os.ReadFile(in)
			if err != nil {
				t.Fatal(err)
			}
			r, err := ParseEventXML(b)
			if err != nil {
				t.Fatal(err)
			}
			checkEventInvariants(t, b, r)
			goldenCompare(t, dir, r)
		})
	}
}

func checkEventInvariants(t *testing.T, in []byte, r Record) {
	t.Helper()
	if r.Time.IsZero() {
		t.Fatalf("zero Time for %q", in)
	}
	if r.Severity < 0 || r.Severity > 7 || r.Facility != FacUser {
		t.Fatalf("severity %d facility %d for %q", r.Severity, r.Facility, in)
	}
	if _, err := json.Marshal(r); err != nil {
		t.Fatalf("json: %v for %q", err, in)
	}
}

func TestParseEventXMLErrors(t *testing.T) {
	for _, in := range []string{"", "not xml", "<Other/>", "<Event><System>", "<?xml version='1.0' encoding='windows-1252'?><Event"} {
		r, err := ParseEventXML([]byte(in))
		if !errors.Is(err, ErrNotEvent) {
			t.Errorf("%q: error %v, want ErrNotEvent", in, err)
		}
		checkEventInvariants(t, []byte(in), r)
		if r.Fields[FieldParseError] == "" || r.Message != in {
			t.Errorf("%q: not kept raw: %+v", in, r)
		}
	}
	// An event without TimeCreated is still read, stamped now.
	r, err := ParseEventXML([]byte(`<?xml version="1.0" encoding="UTF-16"?><Event xmlns="http://schemas.microsoft.com/win/2004/08/events/event"><System><Provider Name="x"/><EventID>1</EventID><Level>9</Level></System></Event>`))
	if err != nil || r.Time.IsZero() || r.Fields[FieldParseError] != "no TimeCreated" || r.App != "x" || r.Message != "event 1" || r.Severity != SevDebug {
		t.Errorf("no TimeCreated: %+v %v", r, err)
	}
	for level, want := range map[string]int{"0": SevInfo, "1": SevCrit, "2": SevErr, "3": SevWarning, "4": SevInfo, "5": SevDebug, "16": SevDebug} {
		if got := eventSeverity(level); got != want {
			t.Errorf("level %s: %d, want %d", level, got, want)
		}
	}
}

func FuzzEventXML(f *testing.F) {
	ins, _ := filepath.Glob(filepath.Join(eventGoldenDir, "*", "input.xml"))
	for _, in := range ins {
		b, err := os.ReadFile(in)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`<Event><UserData><A><B><C>x</C></B><D/></A></UserData></Event>`))
	f.Fuzz(func(t *testing.T, in []byte) {
		r, err := ParseEventXML(in)
		if err != nil && !errors.Is(err, ErrNotEvent) {
			t.Fatalf("error %v is not ErrNotEvent", err)
		}
		checkEventInvariants(t, in, r)
	})
}
