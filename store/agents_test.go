package store

import (
	"context"
	"sync"
	"testing"
	"time"

	"vigie/record"
)

func countAll(t *testing.T, s *Store, q string) int64 {
	t.Helper()
	f, err := s.Facets(context.Background(), Request{Query: q}, "app", 0)
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, c := range f {
		n += c.Count
	}
	return n
}

func TestAgentBatchesAreStoredOnce(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	batch := func(word string, days ...int) []record.Record {
		var out []record.Record
		for _, d := range days {
			out = append(out, rec(base.AddDate(0, 0, d), "erp1", "odoo", 6, word))
		}
		return out
	}
	steps := []struct {
		seq      int64
		recs     []record.Record
		wantDup  bool
		word     string
		wantSeen int64
	}{
		{1, batch("first", 0, 0), false, "first", 2},
		{1, batch("first", 0, 0), true, "first", 2}, // resent after a timeout
		{2, batch("second", 0, 1), false, "second", 2},
		{2, batch("second", 0, 1), true, "second", 2},
	}
	for i, st := range steps {
		dup, err := s.SubmitAgentBatch(ctx, "erp1", st.seq, 1, st.recs)
		if err != nil || dup != st.wantDup {
			t.Fatalf("step %d: duplicate=%v err=%v, want duplicate=%v", i, dup, err, st.wantDup)
		}
		if n := countAll(t, s, st.word); n != st.wantSeen {
			t.Fatalf("step %d: %d stored, want %d", i, n, st.wantSeen)
		}
	}
	// Another agent's numbering is its own.
	if dup, _ := s.SubmitAgentBatch(ctx, "erp2", 1, 1, batch("other", 0)); dup {
		t.Fatal("erp2's first batch taken for a duplicate of erp1's")
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	// After a restart the marks are read back from the day files: the batch
	// spanning two days left its mark in the later one.
	s, err = Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if dup, err := s.SubmitAgentBatch(ctx, "erp1", 2, 1, batch("second", 0, 1)); err != nil || !dup {
		t.Fatalf("resend of batch 2 after restart: duplicate=%v err=%v", dup, err)
	}
	if dup, err := s.SubmitAgentBatch(ctx, "erp1", 3, 1, batch("third", 0)); err != nil || dup {
		t.Fatalf("batch 3 after restart: duplicate=%v err=%v", dup, err)
	}
	if n := countAll(t, s, "second"); n != 2 {
		t.Errorf("second: %d stored after restart and resend, want 2", n)
	}
}

func TestConcurrentResendsStoreOnce(t *testing.T) {
	s, _ := openTest(t, Options{})
	ctx := context.Background()
	recs := []record.Record{rec(base, "erp1", "odoo", 6, "racing")}
	var wg sync.WaitGroup
	dups := make(chan bool, 8)
	for range 8 {
		wg.Go(func() {
			dup, err := s.SubmitAgentBatch(ctx, "erp1", 7, 1, append([]record.Record(nil), recs...))
			if err != nil {
				t.Error(err)
			}
			dups <- dup
		})
	}
	wg.Wait()
	close(dups)
	stored := 0
	for d := range dups {
		if !d {
			stored++
		}
	}
	if stored != 1 || countAll(t, s, "racing") != 1 {
		t.Fatalf("%d of 8 concurrent sends stored, %d records; want exactly one", stored, countAll(t, s, "racing"))
	}
}

func TestAgentBatchRejectsBadSequence(t *testing.T) {
	s, _ := openTest(t, Options{})
	if _, err := s.SubmitAgentBatch(context.Background(), "erp1", 0, 1, []record.Record{rec(time.Now(), "h", "a", 6, "x")}); err == nil {
		t.Fatal("sequence 0 accepted")
	}
}

// An agent with several batches in flight may see them commit in any order:
// a later batch committing first must not make an earlier one look resent.
func TestAgentBatchesInFlightCommitInAnyOrder(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	s, err := Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	one := func(word string) []record.Record { return []record.Record{rec(base, "erp1", "odoo", 6, word)} }
	const window = 4
	steps := []struct {
		seq     int64
		word    string
		wantDup bool
	}{
		{103, "c103", false}, // overtook 101 and 102
		{101, "c101", false},
		{103, "c103", true},
		{102, "c102", false},
		{104, "c104", false},
		{101, "c101", true},
		{106, "c106", false}, // 105 still in flight: it is not a resend
		{105, "c105", false},
	}
	for i, st := range steps {
		dup, err := s.SubmitAgentBatch(ctx, "erp1", st.seq, window, one(st.word))
		if err != nil || dup != st.wantDup {
			t.Fatalf("step %d (batch %d): duplicate=%v err=%v, want duplicate=%v", i, st.seq, dup, err, st.wantDup)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	// After a restart every committed batch of the last window is known.
	s, err = Open(ctx, dir, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, seq := range []int64{103, 104, 105, 106} {
		if dup, err := s.SubmitAgentBatch(ctx, "erp1", seq, window, one("again")); err != nil || !dup {
			t.Fatalf("resend of %d after restart: duplicate=%v err=%v", seq, dup, err)
		}
	}
	if dup, err := s.SubmitAgentBatch(ctx, "erp1", 107, window, one("c107")); err != nil || dup {
		t.Fatalf("batch 107: duplicate=%v err=%v", dup, err)
	}
	for _, w := range []string{"c101", "c102", "c103", "c104", "c105", "c106", "c107"} {
		if n := countAll(t, s, w); n != 1 {
			t.Errorf("%s stored %d times, want once", w, n)
		}
	}
	if n := countAll(t, s, "again"); n != 0 {
		t.Errorf("resends stored %d records", n)
	}
}
