package store

import (
	"context"
	"testing"
	"time"

	"vigie/record"
)

func TestSourcesAreCountedAndKept(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	r1 := rec(base, "erp1", "odoo", 6, "a")
	r1.Source = "syslog/udp 10.0.0.5"
	r2 := r1
	r2.Received = base.Add(time.Minute)
	r2.SetField(record.FieldParseError, "invalid PRI")
	r3 := rec(base, "erp2", "odoo", 6, "b")
	r3.Source = "agent/erp2 10.0.0.7"
	mustSync(t, s, r1, r2, r3)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// Counted, saved at Close, read back at the next start.
	s, err = Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := s.Sources()
	if len(got) != 2 {
		t.Fatalf("sources %+v", got)
	}
	sys, agent := got[0], got[1]
	if sys.Source != "syslog/udp 10.0.0.5" || sys.Kind != "syslog" || sys.Transport != "udp" || sys.Address != "10.0.0.5" ||
		sys.Records != 2 || sys.ParseErrors != 1 || !sys.LastSeen.Equal(r2.Received) || !sys.FirstSeen.Equal(r1.Received) || sys.Host != "erp1" {
		t.Errorf("syslog sender %+v", sys)
	}
	if agent.Kind != "agent" || agent.Name != "erp2" || agent.Address != "10.0.0.7" || agent.Records != 1 {
		t.Errorf("agent %+v", agent)
	}
	// Counting goes on from the saved figures.
	mustSync(t, s, r1)
	if got := s.Sources(); got[0].Records != 3 {
		t.Errorf("after one more: %+v", got[0])
	}
}
