package collector

import "testing"

func TestSnareGaps(t *testing.T) {
	tests := []struct {
		name     string
		counters []string
		lost     uint64
	}{
		{"in order", []string{"1", "2", "3", "4"}, 0},
		{"one gap", []string{"10", "11", "15", "16"}, 3},
		{"two gaps", []string{"1", "3", "6"}, 1 + 2},
		{"restart resynchronises", []string{"5000", "5001", "1", "2", "4"}, 1},
		{"late datagram ignored", []string{"10", "12", "11", "13"}, 1},
		{"duplicate ignored", []string{"10", "10", "11"}, 0},
		{"not a number ignored", []string{"1", "x", "2"}, 0},
	}
	for _, tt := range tests {
		g := newSnareGaps(100)
		var lost uint64
		for _, c := range tt.counters {
			lost += g.observe("10.0.0.5", "DC1", c)
		}
		if lost != tt.lost {
			t.Errorf("%s: lost %d, want %d", tt.name, lost, tt.lost)
		}
	}
}

func TestSnareGapsPerSenderAndBounded(t *testing.T) {
	g := newSnareGaps(2)
	g.observe("10.0.0.5", "DC1", "1")
	g.observe("10.0.0.5", "DC2", "100") // another computer behind the same relay
	if lost := g.observe("10.0.0.5", "DC1", "2"); lost != 0 {
		t.Fatalf("senders mixed up: lost %d", lost)
	}
	g.observe("10.0.0.6", "DC3", "7") // evicts DC2, the least recently seen
	if len(g.senders) != 2 || g.lru.Len() != 2 {
		t.Fatalf("%d senders kept, want 2", len(g.senders))
	}
	if lost := g.observe("10.0.0.5", "DC2", "150"); lost != 0 {
		t.Fatalf("an evicted sender counted a gap: %d", lost)
	}
}
