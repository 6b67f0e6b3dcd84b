package notify

import (
	"testing"
	"time"
)

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	cases := []struct {
		in   string
		want time.Duration
	}{
		{"", 0},
		{"0", 0},
		{"120", 2 * time.Minute},
		{" 7 ", 7 * time.Second},
		{"Sun, 22 Nov 2026 10:00:30 GMT", 30 * time.Second},
		{"Sunday, 22-Nov-26 10:01:00 GMT", time.Minute},
		{"Sun Nov 22 10:00:05 2026", 5 * time.Second},
		{"Sun, 22 Nov 2026 09:00:00 GMT", 0}, // past
		{"soon", 0},
		{"-5", 0},
		{"1.5", 0},
		{"99999999999999999999999", 24 * time.Hour},
		{"172800", 24 * time.Hour},
	}
	for _, c := range cases {
		if got := ParseRetryAfter(c.in, now); got != c.want {
			t.Errorf("ParseRetryAfter(%q) = %s, want %s", c.in, got, c.want)
		}
	}
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"", "120", "Sun, 22 Nov 2026 10:00:30 GMT", "99999999999999999999", "-1", "Mon Jan  2 15:04:05 2006"} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 22, 10, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		d := ParseRetryAfter(s, now)
		if d < 0 || d > maxRetryAfter {
			t.Fatalf("ParseRetryAfter(%q) = %s, outside [0, %s]", s, d, maxRetryAfter)
		}
	})
}

func TestBackoffDelay(t *testing.T) {
	b := Backoff{Base: time.Second, Max: 8 * time.Second}
	want := []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second, 8 * time.Second, 8 * time.Second}
	for i, full := range want {
		for range 50 {
			d := b.Delay(i + 1)
			if d < full/2 || d > full {
				t.Fatalf("attempt %d: delay %s outside [%s, %s]", i+1, d, full/2, full)
			}
		}
	}
	// Jitter: 50 draws of attempt 3 are not all the same.
	seen := map[time.Duration]bool{}
	for range 50 {
		seen[b.Delay(3)] = true
	}
	if len(seen) < 2 {
		t.Error("no jitter")
	}
	if d := (Backoff{}).Delay(1); d < DefaultBackoffBase/2 || d > DefaultBackoffBase {
		t.Errorf("zero Backoff: %s", d)
	}
	if d := (Backoff{Base: time.Second}).Delay(100); d > DefaultBackoffMax {
		t.Errorf("attempt 100: %s", d)
	}
}
