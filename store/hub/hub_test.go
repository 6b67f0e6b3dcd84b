package hub

import (
	"context"
	"strings"
	"testing"
	"time"

	"vigie/record"
)

func recs(msgs ...string) []record.Record {
	out := make([]record.Record, len(msgs))
	for i, m := range msgs {
		out[i] = record.Record{ID: int64(i + 1), Message: m}
	}
	return out
}

func errorsOnly(r *record.Record) bool { return strings.Contains(r.Message, "error") }

func TestSubscriberGetsMatchingRecordsInOrder(t *testing.T) {
	h := New(nil)
	s := h.Subscribe(errorsOnly, 4)
	defer s.Close()
	h.Publish(recs("ok", "error 1", "fine", "error 2"))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got, dropped, err := s.Next(ctx)
	if err != nil || dropped != 0 || len(got) != 2 || got[0].Message != "error 1" || got[1].Message != "error 2" {
		t.Fatalf("Next = %+v, %d, %v", got, dropped, err)
	}
}

func TestSlowSubscriberCountsOnlyItsMatchingLosses(t *testing.T) {
	h := New(nil)
	slow := h.Subscribe(errorsOnly, 1)
	defer slow.Close()
	other := h.Subscribe(nil, 16)
	defer other.Close()
	h.Publish(recs("error a"))            // queued
	h.Publish(recs("error b", "x", "y"))  // dropped: 1 matching
	h.Publish(recs("error c", "error d")) // dropped: 2 matching
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	got, dropped, err := slow.Next(ctx)
	if err != nil || len(got) != 1 || got[0].Message != "error a" || dropped != 3 {
		t.Fatalf("slow Next = %+v, dropped %d, %v; want [error a], 3", got, dropped, err)
	}
	// The other subscriber lost nothing: one client's lag is its own.
	n := 0
	for n < 6 {
		got, dropped, err := other.Next(ctx)
		if err != nil || dropped != 0 {
			t.Fatalf("other: dropped %d, %v", dropped, err)
		}
		n += len(got)
	}
}

func TestDropWakesAnIdleReader(t *testing.T) {
	h := New(nil)
	s := h.Subscribe(nil, 1)
	defer s.Close()
	h.Publish(recs("a"))
	h.Publish(recs("b"))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	total, dropped := 0, int64(0)
	for total+int(dropped) < 2 {
		got, d, err := s.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		total += len(got)
		dropped += d
	}
	if total != 1 || dropped != 1 {
		t.Fatalf("got %d records and %d dropped, want 1 and 1", total, dropped)
	}
}

func TestObserversAndClose(t *testing.T) {
	h := New(nil)
	seen := 0
	h.Observe(func(r []record.Record) { seen += len(r) })
	s := h.Subscribe(nil, 1)
	s.Close()
	s.Close() // twice is harmless
	h.Publish(recs("a", "b"))
	if seen != 2 {
		t.Fatalf("observer saw %d", seen)
	}
	if len(h.subs) != 0 {
		t.Fatal("closed subscriber still registered")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, _, err := s.Next(ctx); err == nil {
		t.Fatal("closed subscriber received")
	}
}
