package tail

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"vigie/forwarder/positions"
)

// run is one Run of a Tailer with a consumer collecting its lines.
type run struct {
	t       *testing.T
	tl      *Tailer
	cancel  context.CancelFunc
	runDone chan error
	colDone chan struct{}

	mu    sync.Mutex
	lines []Line
	ack   func(Line) bool // whether to ack a line; nil: ack all
}

func testConfig(paths ...string) Config {
	return Config{Paths: paths, PollInterval: 50 * time.Millisecond, RotateWait: 300 * time.Millisecond,
		SaveInterval: 50 * time.Millisecond}
}

func testLogger(t *testing.T) *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return nil
}

// start runs a Tailer on cfg with the positions file posPath.
func start(t *testing.T, cfg Config, posPath string, ack func(Line) bool) *run {
	t.Helper()
	pos, err := positions.Open(posPath)
	if err != nil {
		t.Fatal(err)
	}
	tl, err := New(cfg, pos, testLogger(t))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &run{t: t, tl: tl, cancel: cancel, runDone: make(chan error, 1), colDone: make(chan struct{}), ack: ack}
	out := make(chan []Line, 64)
	go func() {
		r.runDone <- tl.Run(ctx, out)
		close(out)
	}()
	go func() {
		defer close(r.colDone)
		for batch := range out {
			for _, l := range batch {
				r.mu.Lock()
				r.lines = append(r.lines, l)
				r.mu.Unlock()
				ok := r.ack == nil || r.ack(l) // outside the lock: may block
				if ok {
					tl.Ack(l.Key, l.Offset)
				}
			}
		}
	}()
	t.Cleanup(r.stop)
	return r
}

// stop ends the run (idempotent) and flushes the positions.
func (r *run) stop() {
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	select {
	case err := <-r.runDone:
		if err != nil {
			r.t.Errorf("Run: %v", err)
		}
	case <-time.After(10 * time.Second):
		r.t.Fatal("Run did not return")
	}
	<-r.colDone
	if err := r.tl.Flush(); err != nil {
		r.t.Errorf("Flush: %v", err)
	}
}

func (r *run) texts() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]string, len(r.lines))
	for i, l := range r.lines {
		out[i] = string(l.Text)
	}
	return out
}

func (r *run) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.lines)
}

// waitN waits until n lines were received, then a little longer to catch
// extra ones, and returns them.
func (r *run) waitN(n int, timeout time.Duration) []string {
	r.t.Helper()
	deadline := time.Now().Add(timeout)
	for r.count() < n {
		if time.Now().After(deadline) {
			r.t.Fatalf("got %d lines, want %d: %q", r.count(), n, r.texts())
		}
		time.Sleep(5 * time.Millisecond)
	}
	time.Sleep(150 * time.Millisecond)
	return r.texts()
}

// quiet asserts that no line arrives for d.
func (r *run) quiet(d time.Duration, had int) {
	r.t.Helper()
	time.Sleep(d)
	if n := r.count(); n != had {
		r.t.Fatalf("got %d lines, want %d: %q", n, had, r.texts())
	}
}

func appendTo(t testing.TB, path, s string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(s); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// numbered returns the lines "prefix i\n" for i in [from, to).
func numbered(prefix string, from, to int) string {
	var b strings.Builder
	for i := from; i < to; i++ {
		fmt.Fprintf(&b, "%s %d\n", prefix, i)
	}
	return b.String()
}

func lines(prefix string, from, to int) []string {
	return strings.Split(strings.TrimSuffix(numbered(prefix, from, to), "\n"), "\n")
}

func sortedCopy(s []string) []string {
	c := append([]string(nil), s...)
	sort.Strings(c)
	return c
}

func equal(t *testing.T, got, want []string) {
	t.Helper()
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
}

func tmpPaths(t *testing.T) (dir, log, pos string) {
	dir = t.TempDir()
	return dir, filepath.Join(dir, "app.log"), filepath.Join(dir, "state", "positions.json")
}
