package ui

import (
	"strconv"
	"testing"
	"time"
)

func TestLimiter(t *testing.T) {
	type step struct {
		after  time.Duration // clock moves first
		key    string
		refund bool
		ok     bool
		wait   time.Duration
	}
	cases := []struct {
		name  string
		steps []step
	}{
		{"burst then refill", []step{
			{0, "a", false, true, 0}, {0, "a", false, true, 0}, {0, "a", false, true, 0},
			{0, "a", false, false, 10 * time.Second},
			{4 * time.Second, "a", false, false, 6 * time.Second},
			{6 * time.Second, "a", false, true, 0},
			{0, "a", false, false, 10 * time.Second},
		}},
		{"keys are separate", []step{
			{0, "a", false, true, 0}, {0, "a", false, true, 0}, {0, "a", false, true, 0},
			{0, "b", false, true, 0},
			{0, "a", false, false, 10 * time.Second},
		}},
		{"refund gives a token back, never beyond the burst", []step{
			{0, "a", true, true, 0}, {0, "a", true, true, 0},
			{0, "a", false, true, 0}, {0, "a", false, true, 0}, {0, "a", false, true, 0},
			{0, "a", false, false, 10 * time.Second},
		}},
		{"a long wait refills only to the burst", []step{
			{0, "a", false, true, 0}, {0, "a", false, true, 0}, {0, "a", false, true, 0},
			{time.Hour, "a", false, true, 0}, {0, "a", false, true, 0}, {0, "a", false, true, 0},
			{0, "a", false, false, 10 * time.Second},
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			clk := &clock{t: now}
			l := newLimiter(3, 10*time.Second, clk.now)
			for i, s := range c.steps {
				clk.add(s.after)
				ok, wait := l.take(s.key)
				if ok != s.ok || wait != s.wait {
					t.Fatalf("step %d: take(%s) = %v %v, want %v %v", i, s.key, ok, wait, s.ok, s.wait)
				}
				if s.refund {
					l.refund(s.key)
				}
			}
		})
	}
}

func TestLimiterForgetsRefilledAddresses(t *testing.T) {
	clk := &clock{t: now}
	l := newLimiter(2, time.Second, clk.now)
	for i := range maxLimiterKeys {
		l.take(strconv.Itoa(i))
	}
	if ok, _ := l.take("new"); ok {
		t.Fatal("a full table took a new address while every bucket was spent")
	}
	clk.add(2 * time.Second)
	if ok, _ := l.take("new"); !ok {
		t.Fatal("refilled buckets were not forgotten to make room")
	}
	if len(l.buckets) != 1 {
		t.Errorf("%d buckets kept", len(l.buckets))
	}
}
