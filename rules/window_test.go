package rules

import (
	"fmt"
	"testing"
	"time"

	"vigie/record"
)

func TestWindowSlides(t *testing.T) {
	var w window
	w.add(100, 2)
	w.add(130, 1)
	w.add(159, 4)
	cases := []struct {
		now  int64
		want int
	}{{159, 7}, {160, 5}, {189, 5}, {190, 4}, {218, 4}, {219, 0}, {99, 0}}
	for _, c := range cases {
		if got := w.sum(c.now); got != c.want {
			t.Errorf("sum(%d) = %d, want %d", c.now, got, c.want)
		}
	}
	// A slot reused by a later bucket starts again from zero.
	w.add(160, 1)
	if got := w.sum(160); got != 6 {
		t.Errorf("after reuse: %d, want 6", got)
	}
}

func TestGroupSamplesNewestFirst(t *testing.T) {
	var g group
	for i := range 8 {
		g.push(&record.Record{Message: fmt.Sprint(i), Fields: map[string]string{"i": fmt.Sprint(i)}})
	}
	got := g.latest()
	if len(got) != maxSamples || got[0].Message != "7" || got[4].Message != "3" {
		t.Fatalf("%+v", got)
	}
	got[0].Fields["i"] = "changed"
	if g.latest()[0].Fields["i"] != "7" {
		t.Error("samples share their Fields map with the ring")
	}
}

func TestHumanDurations(t *testing.T) {
	for d, want := range map[time.Duration]string{
		5 * time.Minute: "5m", 26 * time.Hour: "26h", 24 * time.Hour: "24h", 7 * 24 * time.Hour: "7d",
		90 * time.Minute: "1h30m", 30 * time.Second: "30s",
	} {
		if got := human(d); got != want {
			t.Errorf("human(%s) = %q, want %q", d, got, want)
		}
	}
	if got := duration(26*time.Hour + 20*time.Second); got != "26h" {
		t.Errorf("duration rounds to the minute: %q", got)
	}
}

// Records of one moment may be committed, and so observed, out of id order:
// the newest sample is still the highest id.
func TestGroupSamplesNewestByID(t *testing.T) {
	var g group
	for _, id := range []int64{11, 14, 12, 13} {
		g.push(&record.Record{ID: id, Message: fmt.Sprint(id)})
	}
	got := g.latest()
	var ids []int64
	for _, r := range got {
		ids = append(ids, r.ID)
	}
	if fmt.Sprint(ids) != "[14 13 12 11]" {
		t.Fatalf("ids %v, want [14 13 12 11]", ids)
	}
}
