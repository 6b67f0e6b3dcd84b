package tail

import (
	"bufio"
	"os"
	"strconv"
	"testing"
	"time"
)

// numWriter writes numbered lines as an application would: one descriptor,
// O_APPEND, buffered.
type numWriter struct {
	t    *testing.T
	path string
	f    *os.File
	bw   *bufio.Writer
	next int
	buf  []byte
}

func newNumWriter(t *testing.T, path string) *numWriter {
	w := &numWriter{t: t, path: path}
	w.reopen()
	return w
}

func (w *numWriter) reopen() {
	if w.f != nil {
		w.flush()
		w.f.Close()
	}
	f, err := os.OpenFile(w.path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o644)
	if err != nil {
		w.t.Fatal(err)
	}
	w.f, w.bw = f, bufio.NewWriterSize(f, 4096)
}

func (w *numWriter) write(n int) {
	for range n {
		w.buf = strconv.AppendInt(w.buf[:0], int64(w.next), 10)
		w.buf = append(w.buf, '\n')
		if _, err := w.bw.Write(w.buf); err != nil {
			w.t.Fatal(err)
		}
		w.next++
	}
}

func (w *numWriter) flush() {
	if err := w.bw.Flush(); err != nil {
		w.t.Fatal(err)
	}
}

const (
	tortureLines     = 100_000
	tortureRotations = 20
	// A file must stay under its matched name long enough for one scan
	// (fsnotify wakes it within milliseconds): a file created and rotated
	// away unseen cannot be followed by any glob-based tailer.
	tortureMinGap = 20 * time.Millisecond
)

// settle waits until the number last was received and no line came for a
// while, then returns how often each number was seen.
func (r *run) settle(last int, timeout time.Duration) map[int]int {
	r.t.Helper()
	deadline := time.Now().Add(timeout)
	lastS := strconv.Itoa(last)
	scanned := 0
	for {
		r.mu.Lock()
		done := false
		for ; scanned < len(r.lines); scanned++ {
			if string(r.lines[scanned].Text) == lastS {
				done = true
			}
		}
		r.mu.Unlock()
		if done {
			break
		}
		if time.Now().After(deadline) {
			r.t.Fatalf("line %d not received after %v (%d lines)", last, timeout, r.count())
		}
		time.Sleep(10 * time.Millisecond)
	}
	for n := -1; n != r.count(); {
		n = r.count()
		time.Sleep(700 * time.Millisecond) // > RotateWait: the rotated files are let go
	}
	seen := map[int]int{}
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, l := range r.lines {
		i, err := strconv.Atoi(string(l.Text))
		if err != nil {
			r.t.Fatalf("garbled line %q in %s at %d", l.Text, l.Path, l.Offset)
		}
		seen[i]++
	}
	return seen
}

func sleepGap(last *time.Time) {
	if d := time.Since(*last); d < tortureMinGap {
		time.Sleep(tortureMinGap - d)
	}
	*last = time.Now()
}

// A writer appends at full speed while its file is rotated by rename+create
// 20 times (writing a little more into the renamed file before reopening, as
// applications do); every line must arrive exactly once.
func TestTortureRename(t *testing.T) {
	if testing.Short() {
		t.Skip("torture test")
	}
	_, app, pos := tmpPaths(t)
	r := start(t, testConfig(app), pos, nil)
	w := newNumWriter(t, app)
	per := tortureLines / (tortureRotations + 1)
	began, last := time.Now(), time.Now()
	for range tortureRotations {
		w.write(per)
		w.flush()
		sleepGap(&last)
		if err := os.Rename(app, app+".1"); err != nil { // replaces the previous app.log.1
			t.Fatal(err)
		}
		w.write(50) // not reopened yet
		w.reopen()
	}
	w.write(per)
	w.flush()
	w.f.Close()
	wrote := time.Since(began)
	seen := r.settle(w.next-1, 20*time.Second)
	for i := 0; i < w.next; i++ {
		if seen[i] != 1 {
			t.Errorf("line %d seen %d times", i, seen[i])
		}
	}
	t.Logf("%d lines, %d rotations, written in %v, all read once in %v", w.next, tortureRotations, wrote, time.Since(began))
	checkOrderPerKey(t, r)
}

// The same with copytruncate: lines the tailer had not read when the file
// was truncated are lost (they are only in the copy). Counted and reported;
// none may be doubled.
func TestTortureCopyTruncate(t *testing.T) {
	if testing.Short() {
		t.Skip("torture test")
	}
	_, app, pos := tmpPaths(t)
	r := start(t, testConfig(app), pos, nil)
	w := newNumWriter(t, app)
	per := tortureLines / (tortureRotations + 1)
	began, last := time.Now(), time.Now()
	for range tortureRotations {
		w.write(per)
		w.flush()
		sleepGap(&last)
		b, err := os.ReadFile(app)
		if err != nil {
			t.Fatal(err)
		}
		// As logrotate: the copy is a new file (the previous one was
		// renamed to app.log.2, or removed with "rotate 1").
		if err := os.Remove(app + ".1"); err != nil && !os.IsNotExist(err) {
			t.Fatal(err)
		}
		if err := os.WriteFile(app+".1", b, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.Truncate(app, 0); err != nil {
			t.Fatal(err)
		}
	}
	w.write(per)
	w.flush()
	w.f.Close()
	seen := r.settle(w.next-1, 20*time.Second)
	lost := 0
	var ranges []string
	for i := 0; i < w.next; i++ {
		switch seen[i] {
		case 0:
			if lost == 0 || seen[i-1] != 0 {
				ranges = append(ranges, strconv.Itoa(i))
			}
			lost++
		case 1:
		default:
			t.Errorf("line %d seen %d times", i, seen[i])
		}
	}
	t.Logf("copytruncate: %d lines, %d truncations, %d lost (%.3f%%), in %v",
		w.next, tortureRotations, lost, 100*float64(lost)/float64(w.next), time.Since(began))
	if lost > 0 {
		t.Logf("lost runs start at %v", ranges)
	}
}
