package tail

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func copyTruncate(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(from, 0); err != nil {
		t.Fatal(err)
	}
}

// copytruncate while the tailer lags behind (its consumer is stuck): the
// lines it had not read are read from the copy, whether the copy is matched
// by the globs or not; nothing is lost or doubled.
func TestCopyTruncateRecovery(t *testing.T) {
	pad := strings.Repeat("=", 100) // the file is over FingerprintSize
	for _, glob := range []string{"app.log", "app.log*"} {
		t.Run(glob, func(t *testing.T) {
			dir, app, pos := tmpPaths(t)
			appendTo(t, app, numbered("a"+pad, 0, 50))
			cfg := testConfig(filepath.Join(dir, glob))
			cfg.ReadBufferSize = 256 // the tailer reads little ahead of its consumer
			gate := make(chan struct{})
			r := start(t, cfg, pos, func(Line) bool { <-gate; return true })
			r.waitN(1, 5*time.Second)

			copyTruncate(t, app, app+".1")
			appendTo(t, app, numbered("b", 0, 5))
			time.Sleep(150 * time.Millisecond) // the scans run meanwhile
			close(gate)

			want := append(lines("a"+pad, 0, 50), lines("b", 0, 5)...)
			got := r.waitN(len(want), 5*time.Second)
			r.quiet(2*cfg.RotateWait, len(want))
			equal(t, sortedCopy(got), sortedCopy(want))
		})
	}
}

// A copy of a followed file that appears in the globs (cp app.log
// app.log.bak, or copytruncate's copy) is not read again.
func TestCopyOfLiveFileSkipped(t *testing.T) {
	pad := strings.Repeat("=", 100)
	dir, app, pos := tmpPaths(t)
	appendTo(t, app, numbered("a"+pad, 0, 20))
	r := start(t, testConfig(filepath.Join(dir, "app*")), pos, nil)
	r.waitN(20, 5*time.Second)
	b, err := os.ReadFile(app)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(app+".bak", b, 0o644); err != nil {
		t.Fatal(err)
	}
	appendTo(t, app, numbered("a"+pad, 20, 22))
	// A new file with the same first KiB but other content is not a copy.
	other := append(append([]byte(nil), b[:2048]...), "other\n"...)
	if err := os.WriteFile(filepath.Join(dir, "app2"), other, 0o644); err != nil {
		t.Fatal(err)
	}
	got := r.waitN(22+2048/len("a"+pad+" 00\n")+1, 5*time.Second)
	if n := strings.Count(strings.Join(got, "\n"), "a"+pad+" 21"); n != 1 {
		t.Fatalf("line 21 seen %d times", n)
	}
	if got[len(got)-1] != "other" && !strings.Contains(strings.Join(got, "\n"), "other") {
		t.Fatalf("the look-alike file was skipped: %q", got)
	}
	r.quiet(300*time.Millisecond, len(got))
}

// A new file that starts like a followed one (same first line) is held back
// as a possible copy, then read from its start once it diverges.
func TestLookAlikeNewFile(t *testing.T) {
	dir, app, pos := tmpPaths(t)
	banner := "=== service started ===\n"
	appendTo(t, app, banner+numbered("old", 0, 3))
	r := start(t, testConfig(filepath.Join(dir, "*.log")), pos, nil)
	r.waitN(4, 5*time.Second)
	other := filepath.Join(dir, "other.log")
	appendTo(t, other, banner)
	time.Sleep(200 * time.Millisecond)
	appendTo(t, other, numbered("new", 0, 2))
	got := r.waitN(7, 5*time.Second)
	equal(t, got[4:], append([]string{strings.TrimSuffix(banner, "\n")}, lines("new", 0, 2)...))
}
