package tail

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"vigie/forwarder/positions"
)

func TestAppendsAndNewFiles(t *testing.T) {
	for _, noWatch := range []bool{false, true} {
		name := "fsnotify"
		if noWatch {
			name = "poll-only"
		}
		t.Run(name, func(t *testing.T) {
			dir, app, pos := tmpPaths(t)
			appendTo(t, app, "one\r\ntwo\n")
			cfg := testConfig(filepath.Join(dir, "*.log"))
			cfg.NoWatch = noWatch
			r := start(t, cfg, pos, nil)
			equal(t, r.waitN(2, 5*time.Second), []string{"one", "two"})

			appendTo(t, app, "three\npart")
			r.waitN(3, 5*time.Second)
			r.quiet(200*time.Millisecond, 3) // "part" has no "\n" yet
			appendTo(t, app, "ial\n")
			equal(t, r.waitN(4, 5*time.Second), []string{"one", "two", "three", "partial"})

			other := filepath.Join(dir, "other.log")
			appendTo(t, other, "new file\n")
			appendTo(t, filepath.Join(dir, "ignored.txt"), "no\n")
			got := r.waitN(5, 5*time.Second)
			equal(t, got[4:], []string{"new file"})
			r.mu.Lock()
			l := r.lines[4]
			r.mu.Unlock()
			if l.Path != other || l.Offset != int64(len("new file\n")) || l.Source != cfg.Paths[0] {
				t.Fatalf("line = %+v", l)
			}
		})
	}
}

func TestStartAt(t *testing.T) {
	for _, tc := range []struct {
		startAt string
		want    []string
	}{
		{"", []string{"old 0", "old 1", "new 0", "late 0"}},
		{"beginning", []string{"old 0", "old 1", "new 0", "late 0"}},
		{"end", []string{"new 0", "late 0"}},
	} {
		t.Run("start_at="+tc.startAt, func(t *testing.T) {
			dir, app, pos := tmpPaths(t)
			appendTo(t, app, numbered("old", 0, 2))
			cfg := testConfig(filepath.Join(dir, "*.log"))
			cfg.StartAt = tc.startAt
			r := start(t, cfg, pos, nil)
			time.Sleep(100 * time.Millisecond)
			appendTo(t, app, numbered("new", 0, 1))
			r.waitN(len(tc.want)-1, 5*time.Second)
			r.stop()
			// Created while the agent was down, after its first start: new,
			// so read from the beginning whatever start_at says.
			appendTo(t, filepath.Join(dir, "late.log"), numbered("late", 0, 1))
			r2 := start(t, cfg, pos, nil)
			r2.waitN(1, 5*time.Second)
			equal(t, append(r.texts(), r2.texts()...), tc.want)
		})
	}
}

func TestBadConfig(t *testing.T) {
	pos, _ := positions.Open(filepath.Join(t.TempDir(), "p.json"))
	for _, tc := range []struct {
		cfg  Config
		want string
	}{
		{Config{}, "no paths"},
		{Config{Paths: []string{"/a/["}}, "bad pattern"},
		{Config{Paths: []string{"/a"}, Exclude: []string{"["}}, "bad pattern"},
		{Config{Paths: []string{"/a"}, StartAt: "middle"}, "start_at"},
	} {
		if _, err := New(tc.cfg, pos, nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("New(%+v) = %v, want %q", tc.cfg, err, tc.want)
		}
	}
}

func TestExcludeAndCompressed(t *testing.T) {
	dir, app, pos := tmpPaths(t)
	appendTo(t, app, "live\n")
	appendTo(t, app+".1", "rotated\n")
	for _, ext := range []string{".gz", ".xz", ".bz2", ".zst", ".GZ"} {
		appendTo(t, app+".2"+ext, "compressed\n")
	}
	appendTo(t, app+".debug", "excluded\n")
	cfg := testConfig(app + "*")
	cfg.Exclude = []string{"*.debug"}
	r := start(t, cfg, pos, nil)
	equal(t, sortedCopy(r.waitN(2, 5*time.Second)), []string{"live", "rotated"})
	_ = dir
}

func TestLongLines(t *testing.T) {
	_, app, pos := tmpPaths(t)
	cfg := testConfig(app)
	cfg.MaxLineSize = 10
	cfg.ReadBufferSize = 4 // lines spanning reads
	appendTo(t, app, "short\n"+strings.Repeat("x", 25)+"\r\n0123456789\nend\n")
	r := start(t, cfg, pos, nil)
	equal(t, r.waitN(4, 5*time.Second), []string{"short", "xxxxxxxxxx", "0123456789", "end"})
	r.mu.Lock()
	defer r.mu.Unlock()
	for i, want := range []bool{false, true, false, false} {
		if r.lines[i].Truncated != want {
			t.Errorf("line %d Truncated = %v", i, r.lines[i].Truncated)
		}
	}
	if r.lines[1].Offset != int64(6+27) {
		t.Errorf("offset of the long line = %d", r.lines[1].Offset)
	}
}

// More files than MaxOpenFiles: idle ones are closed and reopened on growth.
func TestMaxOpenFiles(t *testing.T) {
	dir, _, pos := tmpPaths(t)
	cfg := testConfig(filepath.Join(dir, "*.log"))
	cfg.MaxOpenFiles = 2
	names := []string{"a", "b", "c", "d", "e"}
	for _, n := range names {
		appendTo(t, filepath.Join(dir, n+".log"), n+" 0\n")
	}
	r := start(t, cfg, pos, nil)
	r.waitN(5, 5*time.Second)
	for round := 1; round < 4; round++ {
		for _, n := range names {
			appendTo(t, filepath.Join(dir, n+".log"), numbered(n, round, round+1))
		}
	}
	got := sortedCopy(r.waitN(20, 5*time.Second))
	var want []string
	for _, n := range names {
		want = append(want, lines(n, 0, 4)...)
	}
	equal(t, got, sortedCopy(want))
	r.stop() // nOpen and peakOpen are loop-owned: read them after stop
	if r.tl.peakOpen != 2 || r.tl.nOpen != 0 {
		t.Fatalf("peak open files %d (want 2), open after stop %d", r.tl.peakOpen, r.tl.nOpen)
	}
}

// Lines not acknowledged are read again after a restart; acknowledged ones
// are not.
func TestRestartAtLeastOnce(t *testing.T) {
	_, app, pos := tmpPaths(t)
	appendTo(t, app, numbered("l", 0, 10))
	cfg := testConfig(app)
	acked := 0
	r := start(t, cfg, pos, func(Line) bool { acked++; return acked <= 4 })
	r.waitN(10, 5*time.Second)
	r.stop()

	p, err := positions.Open(pos)
	if err != nil {
		t.Fatal(err)
	}
	es := p.Entries(cfg.Name)
	if len(es) != 1 {
		t.Fatalf("entries: %+v", es)
	}
	for _, e := range es {
		if want := int64(len(numbered("l", 0, 4))); e.Offset != want {
			t.Fatalf("saved offset %d, want %d (acked lines only)", e.Offset, want)
		}
	}

	appendTo(t, app, numbered("l", 10, 12))
	r2 := start(t, cfg, pos, nil)
	equal(t, r2.waitN(8, 5*time.Second), lines("l", 4, 12))
	r2.stop()
	r3 := start(t, cfg, pos, nil)
	r3.quiet(300*time.Millisecond, 0)
}

func TestPositionsSavedWhileRunning(t *testing.T) {
	_, app, pos := tmpPaths(t)
	appendTo(t, app, numbered("l", 0, 3))
	r := start(t, testConfig(app), pos, nil)
	r.waitN(3, 5*time.Second)
	want := int64(len(numbered("l", 0, 3)))
	deadline := time.Now().Add(3 * time.Second)
	for {
		p, err := positions.Open(pos)
		if err != nil {
			t.Fatal(err)
		}
		var off int64 = -1
		for _, e := range p.Entries("") {
			off = e.Offset
		}
		if off == want {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("saved offset %d, want %d", off, want)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestCorruptPositions(t *testing.T) {
	_, _, pos := tmpPaths(t)
	if err := os.MkdirAll(filepath.Dir(pos), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(pos, []byte("{garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := positions.Open(pos); err == nil || !strings.Contains(err.Error(), pos) {
		t.Fatalf("Open = %v, want an error naming %s", err, pos)
	}
}
