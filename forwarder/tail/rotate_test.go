package tail

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"vigie/forwarder/positions"
)

// A rename+create rotation while the writer is writing: the old file is read
// to its end (including what the writer wrote to it after the rename), then
// let go; the new one is read from 0. Nothing lost or doubled.
func TestRenameRotation(t *testing.T) {
	for _, tc := range []struct {
		name        string
		glob        string // relative to the dir
		noWatch     bool
		wantPartial bool // a rotated-away file's last line without "\n" is emitted when let go
	}{
		{"rotated away", "app.log", false, true},
		{"rotated away, poll only", "app.log", true, true},
		{"still matched", "app.log*", false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir, app, pos := tmpPaths(t)
			cfg := testConfig(filepath.Join(dir, tc.glob))
			cfg.NoWatch = tc.noWatch
			w, err := os.OpenFile(app, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
			if err != nil {
				t.Fatal(err)
			}
			r := start(t, cfg, pos, nil)
			const n = 400
			for i := 0; i < n; i++ {
				if i == n/2 {
					if err := os.Rename(app, app+".1"); err != nil {
						t.Fatal(err)
					}
				}
				if i == n/2+20 { // the writer reopens its log a bit later
					if _, err := w.WriteString("partial"); err != nil {
						t.Fatal(err)
					}
					w.Close()
					if w, err = os.OpenFile(app, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				if _, err := w.WriteString(strconv.Itoa(i) + "\n"); err != nil {
					t.Fatal(err)
				}
				if i%50 == 0 {
					time.Sleep(5 * time.Millisecond)
				}
			}
			w.Close()
			want := n
			if tc.wantPartial {
				want++
			}
			got := r.waitN(want, 10*time.Second)
			r.quiet(2*cfg.RotateWait, want)
			seen := map[string]int{}
			for _, s := range got {
				seen[s]++
			}
			for i := 0; i < n; i++ {
				if seen[strconv.Itoa(i)] != 1 {
					t.Fatalf("line %d seen %d times", i, seen[strconv.Itoa(i)])
				}
			}
			if tc.wantPartial && seen["partial"] != 1 {
				t.Fatalf("final partial line of the rotated file: seen %d times", seen["partial"])
			}
			checkOrderPerKey(t, r)
		})
	}
}

// checkOrderPerKey checks that each file's numbered lines came in order.
func checkOrderPerKey(t *testing.T, r *run) {
	t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	last := map[string]int{}
	for _, l := range r.lines {
		i, err := strconv.Atoi(string(l.Text))
		if err != nil {
			continue
		}
		if p, ok := last[l.Key]; ok && i <= p {
			t.Fatalf("file %s: line %d after %d", l.Key, i, p)
		}
		last[l.Key] = i
	}
}

// copytruncate: a file that shrank, or whose first bytes changed, is read
// again from 0.
func TestCopyTruncate(t *testing.T) {
	_, app, pos := tmpPaths(t)
	appendTo(t, app, numbered("a", 0, 5))
	r := start(t, testConfig(app), pos, nil)
	r.waitN(5, 5*time.Second)

	// Truncated then a little written: smaller than the offset.
	if err := os.Truncate(app, 0); err != nil {
		t.Fatal(err)
	}
	appendTo(t, app, numbered("b", 0, 2))
	got := r.waitN(7, 5*time.Second)
	equal(t, got[5:], lines("b", 0, 2))

	// Rewritten in place with more than was read: only the first bytes tell.
	if err := os.WriteFile(app, []byte(numbered("c", 0, 10)), 0o644); err != nil {
		t.Fatal(err)
	}
	got = r.waitN(17, 5*time.Second)
	equal(t, got[7:], lines("c", 0, 10))
}

// Same (device, inode) but other content, found at restart: a new file, read
// from 0, whether the inode was really reused or the file rewritten in place.
func TestInodeReuse(t *testing.T) {
	for _, tc := range []struct {
		name    string
		replace func(t *testing.T, path, content string)
	}{
		{"delete and create", func(t *testing.T, path, content string) {
			if err := os.Remove(path); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
		{"rewritten in place", func(t *testing.T, path, content string) {
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, app, pos := tmpPaths(t)
			appendTo(t, app, numbered("old", 0, 3))
			before, _ := os.Stat(app)
			r := start(t, testConfig(app), pos, nil)
			r.waitN(3, 5*time.Second)
			r.stop()
			tc.replace(t, app, numbered("new", 0, 10)) // longer than the saved offset
			after, _ := os.Stat(app)
			t.Logf("same inode after replacement: %v", os.SameFile(before, after))
			r2 := start(t, testConfig(app), pos, nil)
			equal(t, r2.waitN(10, 5*time.Second), lines("new", 0, 10))
		})
	}
}

// The file is rotated while the agent is down, and both files get more
// lines: the rest of the rotated file (found by identity among its siblings)
// and the new file are read. Nothing lost.
func TestDowntimeRotation(t *testing.T) {
	pad := strings.Repeat("-", 200) // files over FingerprintSize, for the copytruncate case
	copyTrunc := func(t *testing.T, app string) string {
		copyTruncate(t, app, app+".1")
		return app + ".1"
	}
	for _, tc := range []struct {
		name   string
		rotate func(t *testing.T, app string) string // returns the rotated file's path
		lost   bool
		glob   string // default: app.log
	}{
		{"rename to app.log.1", renameTo(".1"), false, ""},
		{"rename to app.log-20261122", renameTo("-20261122"), false, ""},
		{"rename to app.1.log", func(t *testing.T, app string) string {
			return renameAs(t, app, strings.TrimSuffix(app, ".log")+".1.log")
		}, false, ""},
		{"copytruncate", copyTrunc, false, ""},
		{"copytruncate, copy matched by the glob", copyTrunc, false, "app.log*"},
		{"rename, rotated file matched by the glob", renameTo(".1"), false, "app.log*"},
		{"rotated and compressed: lost", func(t *testing.T, app string) string {
			if err := os.Rename(app, app+".1.gz"); err != nil {
				t.Fatal(err)
			}
			return ""
		}, true, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, app, pos := tmpPaths(t)
			appendTo(t, app, numbered("a"+pad, 0, 6))
			cfg := testConfig(app + strings.TrimPrefix(tc.glob, "app.log"))
			r := start(t, cfg, pos, nil)
			r.waitN(6, 5*time.Second)
			r.stop()

			appendTo(t, app, numbered("a"+pad, 6, 8)) // before the rotation
			rotated := tc.rotate(t, app)
			if rotated != "" {
				appendTo(t, rotated, numbered("a"+pad, 8, 10)) // the writer had not reopened yet
			}
			appendTo(t, app, numbered("b", 0, 3))

			r2 := start(t, cfg, pos, nil)
			want := lines("b", 0, 3)
			if !tc.lost {
				want = append(lines("a"+pad, 6, 10), want...)
			}
			got := r2.waitN(len(want), 5*time.Second)
			r2.quiet(2*cfg.RotateWait, len(want))
			equal(t, sortedCopy(got), sortedCopy(want))
			r2.stop()

			// The rotated file was let go and its entry dropped once acked
			// (unless the globs still match it).
			p, err := positions.Open(pos)
			if err != nil {
				t.Fatal(err)
			}
			if es := p.Entries(cfg.Name); len(es) != 1 && tc.glob == "" {
				t.Fatalf("entries after the rotated file was read: %+v", es)
			}
		})
	}
}

func renameTo(suffix string) func(t *testing.T, app string) string {
	return func(t *testing.T, app string) string {
		t.Helper()
		return renameAs(t, app, app+suffix)
	}
}

func renameAs(t *testing.T, from, to string) string {
	t.Helper()
	if err := os.Rename(from, to); err != nil {
		t.Fatal(err)
	}
	return to
}

// A file closed to respect MaxOpenFiles and rotated meanwhile is found
// again among its siblings and read to its end.
func TestRotationWhileClosed(t *testing.T) {
	dir, _, pos := tmpPaths(t)
	a, b := filepath.Join(dir, "a.log"), filepath.Join(dir, "b.log")
	appendTo(t, a, numbered("a", 0, 2))
	appendTo(t, b, numbered("b", 0, 2))
	cfg := testConfig(filepath.Join(dir, "*.log"))
	cfg.MaxOpenFiles = 1
	r := start(t, cfg, pos, nil)
	r.waitN(4, 5*time.Second)
	appendTo(t, a, numbered("a", 2, 4))
	renameAs(t, a, a+".1")
	appendTo(t, a, numbered("a", 4, 6))
	appendTo(t, b, numbered("b", 2, 3))
	got := r.waitN(9, 5*time.Second)
	r.quiet(2*cfg.RotateWait, 9)
	equal(t, sortedCopy(got), sortedCopy(append(lines("a", 0, 6), lines("b", 0, 3)...)))
}

// A file created while the agent was down and rotated away before it came
// back has no saved identity: it is found among the siblings because it
// changed after the positions were last saved, and read from its start. A
// sibling an earlier run read and let go, untouched since, is not read again.
func TestFileBornAndRotatedWhileDown(t *testing.T) {
	dir, app, pos := tmpPaths(t)
	old := filepath.Join(dir, "app.log.9")
	appendTo(t, old, numbered("old", 0, 3)) // read by some earlier run, let go long ago
	past := time.Now().Add(-time.Hour)
	if err := os.Chtimes(old, past, past); err != nil {
		t.Fatal(err)
	}
	appendTo(t, app, numbered("a", 0, 4))
	cfg := testConfig(app)
	r := start(t, cfg, pos, nil)
	r.waitN(4, 5*time.Second)
	r.stop()

	// Down: app.log → app.log.1, a new app.log gets lines and is itself
	// rotated to app.log.2, then a third app.log.
	appendTo(t, app, numbered("a", 4, 6))
	renameAs(t, app, app+".1")
	appendTo(t, app, numbered("b", 0, 5))
	renameAs(t, app, app+".2")
	appendTo(t, app, numbered("c", 0, 2))

	r2 := start(t, cfg, pos, nil)
	want := append(append(lines("a", 4, 6), lines("b", 0, 5)...), lines("c", 0, 2)...)
	got := r2.waitN(len(want), 5*time.Second)
	r2.quiet(2*cfg.RotateWait, len(want))
	equal(t, sortedCopy(got), sortedCopy(want))
}

// An earlier run's rotated file still at the name it was read under is
// found there, and its rest is read.
func TestRotatedFileStillAtItsNameAfterRestart(t *testing.T) {
	_, app, pos := tmpPaths(t)
	appendTo(t, app, numbered("a", 0, 3))
	cfg := testConfig(app)
	r := start(t, cfg, pos, nil)
	r.waitN(3, 5*time.Second)
	r.stop()
	renameAs(t, app, app+".1")
	appendTo(t, app+".1", numbered("a", 3, 5))
	// Second run: finds app.log.1 by its identity, reads the rest, and
	// is stopped before it lets the file go, with its path now app.log.1.
	r2 := start(t, cfg, pos, func(l Line) bool { return string(l.Text) != "a 4" })
	r2.waitN(2, 5*time.Second)
	r2.stop()
	p, err := positions.Open(pos)
	if err != nil {
		t.Fatal(err)
	}
	var paths []string
	for _, e := range p.Entries(cfg.Name) {
		paths = append(paths, filepath.Base(e.Path))
	}
	if !slices.Contains(paths, "app.log.1") {
		t.Fatalf("saved paths %v: want app.log.1 among them", paths)
	}
	appendTo(t, app+".1", numbered("a", 5, 6))
	r3 := start(t, cfg, pos, nil)
	want := lines("a", 4, 6) // a 4 was not acknowledged: read again
	got := r3.waitN(len(want), 5*time.Second)
	r3.quiet(2*cfg.RotateWait, len(want))
	equal(t, sortedCopy(got), sortedCopy(want))
}
