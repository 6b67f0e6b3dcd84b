package tail

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vigie/forwarder/positions"
)

// The lines of one read come in one batch, in order, each with its own
// offset; their texts share one array but each is capped at its length, so
// a receiver appending to one cannot overwrite the next. Lines longer than
// MaxLineSize, and lines split across reads, are handled in the batch too.
func TestLinesOfOneReadComeInOneBatch(t *testing.T) {
	dir, app, pos := tmpPaths(t)
	long := strings.Repeat("x", 40)
	appendTo(t, app, "one\r\ntwo\n"+long+"\n\nfour\npart")
	p, err := positions.Open(pos)
	if err != nil {
		t.Fatal(err)
	}
	cfg := testConfig(filepath.Join(dir, "*.log"))
	cfg.MaxLineSize = 10
	cfg.ReadBufferSize = 1 << 10
	tl, err := New(cfg, p, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := make(chan []Line, 4)
	done := make(chan error, 1)
	go func() { done <- tl.Run(ctx, out) }()
	defer func() {
		cancel()
		if err := <-done; err != nil {
			t.Error(err)
		}
	}()
	recv := func() []Line {
		t.Helper()
		select {
		case b := <-out:
			return b
		case <-time.After(5 * time.Second):
			t.Fatal("no batch")
			return nil
		}
	}

	b := recv()
	type want struct {
		text   string
		offset int
		trunc  bool
	}
	wants := []want{
		{"one", len("one\r\n"), false},
		{"two", len("one\r\ntwo\n"), false},
		{long[:10], len("one\r\ntwo\n") + len(long) + 1, true},
		{"", len("one\r\ntwo\n") + len(long) + 2, false},
		{"four", len("one\r\ntwo\n") + len(long) + 7, false},
	}
	if len(b) != len(wants) {
		t.Fatalf("%d lines in the batch, want %d: %+v", len(b), len(wants), b)
	}
	for i, w := range wants {
		l := b[i]
		if string(l.Text) != w.text || l.Offset != int64(w.offset) || l.Truncated != w.trunc || l.Path != app || l.Key == "" || l.Key != b[0].Key {
			t.Errorf("line %d = %+v (%q), want %+v", i, l, l.Text, w)
		}
		if cap(l.Text) != len(l.Text) {
			t.Errorf("line %d: text capacity %d beyond its length %d", i, cap(l.Text), len(l.Text))
		}
	}
	_ = append(b[0].Text, "XYZ"...)
	if string(b[1].Text) != "two" {
		t.Fatalf("appending to a text overwrote the next: %q", b[1].Text)
	}

	appendTo(t, app, "ial\nlast\n")
	b = recv()
	if len(b) != 2 || string(b[0].Text) != "partial" || string(b[1].Text) != "last" {
		t.Fatalf("next batch: %+v", b)
	}
}
