package spool

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func open(t *testing.T, dir string, maxSize int64) (*Spool, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	s, err := Open(dir, maxSize, slog.New(slog.NewTextHandler(&lockedWriter{w: &logs}, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return s, &logs
}

type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func batch(i, n int) Batch {
	var b strings.Builder
	for j := range n {
		fmt.Fprintf(&b, `{"message":"batch %d record %d"}`+"\n", i, j)
	}
	return Batch{Records: []byte(b.String()), Count: n, Checkpoint: map[string]string{"file:/var/log/a": fmt.Sprint(i * 100)}}
}

func next(t *testing.T, s *Spool) Batch {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	b, err := s.Next(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestAppendNextDoneInOrder(t *testing.T) {
	s, _ := open(t, t.TempDir(), 0)
	first := s.Stats().LastSeq + 1
	for i := range 3 {
		seq, err := s.Append(batch(i, 2))
		if err != nil {
			t.Fatal(err)
		}
		if seq != first+int64(i) {
			t.Fatalf("seq %d, want %d", seq, first+int64(i))
		}
	}
	if st := s.Stats(); st.Batches != 3 || st.Records != 6 || st.Bytes == 0 || st.LastSeq != first+2 {
		t.Fatalf("stats %+v", st)
	}
	for i := range 3 {
		b := next(t, s)
		again := next(t, s) // not Done yet: the same batch again
		if b.Seq != first+int64(i) || again.Seq != b.Seq || b.Count != 2 || !bytes.Equal(b.Records, batch(i, 2).Records) ||
			b.Checkpoint["file:/var/log/a"] != fmt.Sprint(i*100) {
			t.Fatalf("batch %d: %+v", i, b)
		}
		if err := s.Done(b.Seq); err != nil {
			t.Fatal(err)
		}
	}
	if st := s.Stats(); st.Batches != 0 || st.Records != 0 || st.Bytes != 0 {
		t.Fatalf("stats after done %+v", st)
	}
	if err := s.Done(first); err != nil {
		t.Errorf("Done twice: %v", err)
	}
}

func TestRestartKeepsOrderSequenceAndCheckpoints(t *testing.T) {
	dir := t.TempDir()
	s, _ := open(t, dir, 0)
	var seqs []int64
	for i := range 4 {
		seq, err := s.Append(batch(i, 1))
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, seq)
	}
	s.Done(seqs[0])

	s2, _ := open(t, dir, 0)
	cps := s2.Checkpoints()
	if len(cps) != 3 || cps[0]["file:/var/log/a"] != "100" || cps[2]["file:/var/log/a"] != "300" {
		t.Fatalf("checkpoints after restart: %v", cps)
	}
	for _, want := range seqs[1:] {
		b := next(t, s2)
		if b.Seq != want {
			t.Fatalf("got %d, want %d", b.Seq, want)
		}
		s2.Done(b.Seq)
	}
	// Empty spool: the sequence still continues, after the block of
	// numbers the seq file reserved.
	s3, _ := open(t, dir, 0)
	seq, err := s3.Append(batch(9, 1))
	if err != nil {
		t.Fatal(err)
	}
	if seq != seqs[0]+seqBlock {
		t.Fatalf("after restart with an empty spool: seq %d, want %d (after the reserved block %d-%d)", seq, seqs[0]+seqBlock, seqs[0], seqs[0]+seqBlock-1)
	}
}

func TestSeqFileWrittenOncePerBlock(t *testing.T) {
	dir := t.TempDir()
	s, _ := open(t, dir, 0)
	seqFile := filepath.Join(dir, seqName)
	first, err := s.Append(batch(0, 1))
	if err != nil {
		t.Fatal(err)
	}
	st0, err := os.Stat(seqFile)
	if err != nil {
		t.Fatal(err)
	}
	if raw, _ := os.ReadFile(seqFile); strings.TrimSpace(string(raw)) != strconv.FormatInt(first+seqBlock-1, 10) {
		t.Fatalf("seq file %q, want the end of the block %d", raw, first+seqBlock-1)
	}
	for i := 1; i < 5; i++ {
		if _, err := s.Append(batch(i, 1)); err != nil {
			t.Fatal(err)
		}
	}
	if st, _ := os.Stat(seqFile); !os.SameFile(st0, st) {
		t.Fatal("seq file rewritten within its block")
	}
	// Past the block, the next one is reserved.
	s.mu.Lock()
	s.last = first + seqBlock - 1
	s.mu.Unlock()
	seq, err := s.Append(batch(9, 1))
	if err != nil {
		t.Fatal(err)
	}
	if raw, _ := os.ReadFile(seqFile); seq != first+seqBlock || strings.TrimSpace(string(raw)) != strconv.FormatInt(seq+seqBlock-1, 10) {
		t.Fatalf("batch %d, seq file %q: want %d and %d", seq, raw, first+seqBlock, seq+seqBlock-1)
	}
}

func TestNewSpoolStartsAboveEarlierNumbers(t *testing.T) {
	before := time.Now().UnixMicro()
	s, _ := open(t, t.TempDir(), 0)
	seq, err := s.Append(batch(0, 1))
	if err != nil {
		t.Fatal(err)
	}
	if seq <= before {
		t.Fatalf("first seq of a new spool %d: not above the clock %d", seq, before)
	}
}

func TestCrashLeftoversAreDroppedNeverSentHalf(t *testing.T) {
	dir := t.TempDir()
	s, _ := open(t, dir, 0)
	var seqs []int64
	for i := range 4 {
		seq, _ := s.Append(batch(i, 3))
		seqs = append(seqs, seq)
	}
	path := func(seq int64) string { return s.path(seq) }
	// Batch 2 cut short (the page cache lost its tail), batch 3 with a flipped
	// byte in its records (caught by the checksum at Next), and a temp file
	// of an interrupted Append.
	raw, _ := os.ReadFile(path(seqs[1]))
	os.WriteFile(path(seqs[1]), raw[:len(raw)-20], 0o600)
	raw, _ = os.ReadFile(path(seqs[2]))
	raw[headerSize+40] ^= 0xff
	os.WriteFile(path(seqs[2]), raw, 0o600)
	os.WriteFile(path(seqs[3]+1)+tmpExt, []byte("half a batch"), 0o600)
	os.WriteFile(filepath.Join(dir, "README"), []byte("not a batch"), 0o600)

	s2, logs := open(t, dir, 0)
	if _, err := os.Stat(path(seqs[3]+1) + tmpExt); !os.IsNotExist(err) {
		t.Errorf("temp file left: %v", err)
	}
	if _, err := os.Stat(path(seqs[1])); !os.IsNotExist(err) {
		t.Errorf("truncated batch left: %v", err)
	}
	var got []int64
	for range 2 {
		b := next(t, s2)
		got = append(got, b.Seq)
		if !bytes.Equal(b.Records, batch(int(b.Seq-seqs[0]), 3).Records) {
			t.Fatalf("batch %d altered: %q", b.Seq, b.Records)
		}
		s2.Done(b.Seq)
	}
	if got[0] != seqs[0] || got[1] != seqs[3] {
		t.Fatalf("sent %v, want %d and %d", got, seqs[0], seqs[3])
	}
	st := s2.Stats()
	if st.DroppedBatches != 2 || st.DroppedRecords != 3 || st.Batches != 0 {
		t.Errorf("stats %+v (the truncated file's count is unknown; the corrupt one's is 3)", st)
	}
	if !strings.Contains(logs.String(), "damaged") || !strings.Contains(logs.String(), "interrupted write") {
		t.Errorf("no log lines about the damage:\n%s", logs)
	}
	seq, _ := s2.Append(batch(5, 1))
	if seq != seqs[0]+seqBlock {
		t.Errorf("seq %d after recovery, want %d (after the reserved block)", seq, seqs[0]+seqBlock)
	}
}

func TestSizeBoundDropsOldest(t *testing.T) {
	dir := t.TempDir()
	size := int64(len(mustEncode(t, batch(4, 10)))) // batches 2-4 have this size
	s, logs := open(t, dir, 3*size)
	var seqs []int64
	for i := range 5 {
		seq, err := s.Append(batch(i, 10))
		if err != nil {
			t.Fatal(err)
		}
		seqs = append(seqs, seq)
	}
	st := s.Stats()
	if st.Batches != 3 || st.DroppedBatches != 2 || st.DroppedRecords != 20 || st.Bytes > 3*size {
		t.Fatalf("stats %+v", st)
	}
	if b := next(t, s); b.Seq != seqs[2] {
		t.Fatalf("oldest left %d, want %d", b.Seq, seqs[2])
	}
	if !strings.Contains(logs.String(), "lost_records=10") {
		t.Errorf("no warning with the lost records:\n%s", logs)
	}
	// A batch larger than the bound is kept, alone.
	big := batch(9, 100)
	seq, err := s.Append(big)
	if err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Batches != 1 || next(t, s).Seq != seq {
		t.Fatalf("big batch: %+v", st)
	}
	des, _ := os.ReadDir(dir)
	if len(des) != 2 { // the big batch and seq
		t.Errorf("files left: %v", des)
	}
}

func mustEncode(t *testing.T, b Batch) []byte {
	head, tail, err := frame(b)
	if err != nil {
		t.Fatal(err)
	}
	return append(append(head, b.Records...), tail...)
}

func TestNextBlocksUntilAppend(t *testing.T) {
	s, _ := open(t, t.TempDir(), 0)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if _, err := s.Next(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("empty spool: %v", err)
	}
	got := make(chan Batch)
	go func() {
		b, _ := s.Next(context.Background())
		got <- b
	}()
	select {
	case b := <-got:
		t.Fatalf("Next returned %+v before any Append", b)
	case <-time.After(50 * time.Millisecond):
	}
	seq, _ := s.Append(batch(1, 1))
	select {
	case b := <-got:
		if b.Seq != seq {
			t.Fatalf("got %d, want %d", b.Seq, seq)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Next still blocked after Append")
	}
}

func TestDeadMovesTheBatchAside(t *testing.T) {
	dir := t.TempDir()
	s, _ := open(t, dir, 0)
	seq, _ := s.Append(batch(1, 2))
	if err := s.Dead(seq, "401 Unauthorized: bad token"); err != nil {
		t.Fatal(err)
	}
	if s.Has(seq) || s.Stats().Batches != 0 || s.Stats().DeadBatches != 1 {
		t.Fatalf("still spooled: %+v", s.Stats())
	}
	name := filepath.Base(s.path(seq))
	if _, err := os.Stat(filepath.Join(dir, DeadDir, name)); err != nil {
		t.Fatal(err)
	}
	reason, _ := os.ReadFile(filepath.Join(dir, DeadDir, name+reasonExt))
	if !strings.Contains(string(reason), "bad token") {
		t.Errorf("reason %q", reason)
	}
	// A restart does not pick dead batches up again.
	s2, _ := open(t, dir, 0)
	if s2.Stats().Batches != 0 {
		t.Errorf("dead batch back in the queue")
	}
}

func TestConcurrentAppendAndNext(t *testing.T) {
	s, _ := open(t, t.TempDir(), 0)
	const writers, each = 4, 25
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				if _, err := s.Append(batch(w*1000+i, 1)); err != nil {
					t.Error(err)
					return
				}
			}
		}()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	seen := map[string]bool{}
	var last int64
	for len(seen) < writers*each {
		b, err := s.Next(ctx)
		if err != nil {
			t.Fatalf("after %d batches: %v", len(seen), err)
		}
		if b.Seq <= last {
			t.Fatalf("seq %d after %d", b.Seq, last)
		}
		last = b.Seq
		seen[string(b.Records)] = true
		s.Stats()
		s.Checkpoints()
		if err := s.Done(b.Seq); err != nil {
			t.Fatal(err)
		}
	}
	wg.Wait()
	if st := s.Stats(); st.Batches != 0 {
		t.Errorf("left %+v", st)
	}
}
