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
		dup, err := s.SubmitAgentBatch(ctx, "erp1", st.seq, st.recs)
		if err != nil || dup != st.wantDup {
			t.Fatalf("step %d: duplicate=%v err=%v, want duplicate=%v", i, dup, err, st.wantDup)
		}
		if n := countAll(t, s, st.word); n != st.wantSeen {
			t.Fatalf("step %d: %d stored, want %d", i, n, st.wantSeen)
		}
	}
	// Another agent's numbering is its own.
	if dup, _ := s.SubmitAgentBatch(ctx, "erp2", 1, batch("other", 0)); dup {
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
	if dup, err := s.SubmitAgentBatch(ctx, "erp1", 2, batch("second", 0, 1)); err != nil || !dup {
		t.Fatalf("resend of batch 2 after restart: duplicate=%v err=%v", dup, err)
	}
	if dup, err := s.SubmitAgentBatch(ctx, "erp1", 3, batch("third", 0)); err != nil || dup {
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
			dup, err := s.SubmitAgentBatch(ctx, "erp1", 7, append([]record.Record(nil), recs...))
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
	if _, err := s.SubmitAgentBatch(context.Background(), "erp1", 0, []record.Record{rec(time.Now(), "h", "a", 6, "x")}); err == nil {
		t.Fatal("sequence 0 accepted")
	}
}
