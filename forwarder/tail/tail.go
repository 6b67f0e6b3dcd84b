// Package tail is the agent's file source: it follows the files matching glob
// patterns and emits their complete lines, surviving rotation and restarts.
//
// Discovery polls with stat every PollInterval (1 s); fsnotify, when it works,
// only wakes the loop early, so NFS or an overflowed inotify queue merely add
// latency. A file is identified by (device, inode) — on Windows (volume
// serial, file index) — plus a hash of its first bytes (the fingerprint,
// recomputed while the file is shorter than FingerprintSize), which detects
// inode reuse and a file rewritten in place. A new file is opened as soon as
// it is seen, which pins its inode: a later rotation cannot take it away.
//
// Rotation:
//   - rename (+ create): the renamed file is held open and read to its end;
//     it is let go after it stayed at EOF for RotateWait. Only then is a final
//     line without "\n" emitted: such a file will not grow any more. A file
//     still matched by the globs is never "rotated away", so its unterminated
//     last line waits for its "\n".
//   - copytruncate: a file smaller than what was read (or whose first bytes
//     changed) is read again from 0. What was not read yet before the
//     truncation is read from the copy (app.log.1), found by fingerprint and
//     by the bytes just before the last line read (copy.go). A copy matched
//     by the globs is recognised and not read twice. Lines written between
//     the copy and the truncation are lost: that window is copytruncate's own.
//   - compressed siblings (.gz, .xz, .bz2, .zst, .lz4, .zip) are never read.
//
// Delivery is at-least-once: each Line carries the offset just after it, and
// the saved positions only move when the consumer calls Ack. After a restart
// every tracked file is found again by identity and fingerprint, at its path
// or, if it was rotated while the agent was down, among the files of the same
// directory whose names start like it (app.log → app.log.1, app.log-2026…), and
// read on from its acknowledged offset. Entries of files that cannot be found
// are dropped (with a warning), as are those of files let go once their last
// line is acknowledged.
//
// Limits: a file must stay under a matched name long enough to be seen once
// (milliseconds with fsnotify, PollInterval without); a file closed because
// of MaxOpenFiles and deleted before it was reopened is lost; memory is one
// read buffer per tailer plus at most MaxLineSize per file with a pending
// unterminated line. Windows: files are opened with FILE_SHARE_DELETE, so the
// writer can rename or delete them; identity costs one open per file and scan.
package tail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/fsnotify/fsnotify"

	"vigie/forwarder/positions"
)

// Line is one line of a file.
type Line struct {
	Source    string // the source's name (Config.Name)
	Path      string // the file's path when the line was read
	Key       string // the file's key: stable across renames and restarts, new after a truncation
	Offset    int64  // offset just after this line: pass it to Ack once the line is delivered
	Text      []byte // the line without "\n" (and without a "\r" before it); owned by the receiver (the texts of a batch share one array, each capped at its length)
	Truncated bool   // the line was longer than MaxLineSize: Text holds its start, the rest was skipped
}

// Config configures a Tailer. Zero values take the defaults.
type Config struct {
	Name    string   // source name, the positions' namespace; default: the paths joined with ","
	Paths   []string // glob patterns (path/filepath.Match syntax; no "**")
	Exclude []string // patterns matched against the full path and the base name
	// StartAt applies to the files already there when the source first
	// runs (no record of it in the positions): "beginning" (default) or "end".
	// Files that appear later always start at the beginning.
	StartAt         string
	PollInterval    time.Duration // stat polling period; default 1s
	RotateWait      time.Duration // how long a rotated-away file stays open at EOF before it is let go; default 5s
	SaveInterval    time.Duration // positions are saved at most this often (and at stop); default 1s
	MaxLineSize     int           // longer lines are cut (Line.Truncated); default 1 MiB
	MaxOpenFiles    int           // bound on open files; idle ones are closed first; default 256
	FingerprintSize int           // bytes hashed to fingerprint a file; default 1 KiB
	ReadBufferSize  int           // read buffer (one per tailer); default 64 KiB
	NoWatch         bool          // do not use fsnotify: poll only
}

const (
	StartBeginning = "beginning"
	StartEnd       = "end"
)

func (c *Config) setDefaults() error {
	if len(c.Paths) == 0 {
		return errors.New("tail: no paths")
	}
	for _, p := range append(append([]string(nil), c.Paths...), c.Exclude...) {
		if _, err := filepath.Match(p, ""); err != nil {
			return fmt.Errorf("tail: bad pattern %q: %w", p, err)
		}
	}
	switch c.StartAt {
	case "":
		c.StartAt = StartBeginning
	case StartBeginning, StartEnd:
	default:
		return fmt.Errorf("tail: start_at %q: want %q or %q", c.StartAt, StartBeginning, StartEnd)
	}
	if c.Name == "" {
		c.Name = strings.Join(c.Paths, ",")
	}
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.PollInterval, time.Second)
	def(&c.RotateWait, 5*time.Second)
	def(&c.SaveInterval, time.Second)
	defi := func(d *int, v int) {
		if *d <= 0 {
			*d = v
		}
	}
	defi(&c.MaxLineSize, 1<<20)
	defi(&c.MaxOpenFiles, 256)
	defi(&c.FingerprintSize, 1024)
	defi(&c.ReadBufferSize, 64<<10)
	return nil
}

// Tailer follows the files of one source.
type Tailer struct {
	cfg Config
	pos *positions.File
	log *slog.Logger

	// Owned by the Run loop.
	files     map[string]*tfile // by key
	byID      map[fileID]*tfile
	nOpen     int
	peakOpen  int
	current   *tfile // file being read: never closed by discovery
	buf       []byte
	fpBuf     []byte
	orphans   map[string]positions.Entry // saved entries not found yet (first scan only)
	firstRun  bool
	firstScan bool // within initialScan
	tick      <-chan time.Time
	watcher   *fsnotify.Watcher
	wakeScan  chan struct{} // a file appeared, vanished or was renamed
	wakeRead  chan struct{} // a file was written
	saveNow   chan struct{} // a new file's identity is to be saved now

	mu      sync.Mutex // guards state and the read-modify-write of positions entries
	state   map[string]*ackState
	running bool
}

// ackState is what the tailer knows of a key's delivery.
type ackState struct {
	entry positions.Entry // Offset: acknowledged
	letGo bool            // file closed for good: the entry goes once end is acknowledged
	end   int64
}

// New returns a Tailer for cfg that saves its positions in pos (which other
// tailers may share: entries are namespaced by cfg.Name).
func New(cfg Config, pos *positions.File, logger *slog.Logger) (*Tailer, error) {
	if err := cfg.setDefaults(); err != nil {
		return nil, err
	}
	if pos == nil {
		return nil, errors.New("tail: nil positions")
	}
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Tailer{
		cfg:      cfg,
		pos:      pos,
		log:      logger.With("source", cfg.Name),
		files:    map[string]*tfile{},
		byID:     map[fileID]*tfile{},
		buf:      make([]byte, cfg.ReadBufferSize),
		fpBuf:    make([]byte, cfg.FingerprintSize),
		wakeScan: make(chan struct{}, 1),
		wakeRead: make(chan struct{}, 1),
		saveNow:  make(chan struct{}, 1),
		state:    map[string]*ackState{},
	}, nil
}

// Ack records that every line of the file key up to offset was delivered.
// Acks must be cumulative per key (a later offset covers the earlier ones);
// stale keys (a file truncated or let go since) are ignored. Positions are
// saved within SaveInterval, at stop, or by Flush.
func (t *Tailer) Ack(key string, offset int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.state[key]
	if st == nil || offset <= st.entry.Offset {
		return
	}
	st.entry.Offset = offset
	if st.letGo && offset >= st.end {
		delete(t.state, key)
		t.pos.Remove(key)
		return
	}
	t.pos.Set(key, st.entry)
}

// Flush saves the positions now (if they changed). Call it after the last
// Acks once Run has returned.
func (t *Tailer) Flush() error { return t.pos.Save() }

// Run follows the files and sends their lines to out, in batches of
// consecutive lines of one file, until ctx ends; it then saves the
// positions and returns nil. It may be called once.
func (t *Tailer) Run(ctx context.Context, out chan<- []Line) error {
	t.mu.Lock()
	if t.running {
		t.mu.Unlock()
		return errors.New("tail: Run called twice")
	}
	t.running = true
	t.mu.Unlock()

	ticker := time.NewTicker(t.cfg.PollInterval)
	defer ticker.Stop()
	t.tick = ticker.C

	watchDone := t.startWatch()
	saverCtx, stopSaver := context.WithCancel(ctx)
	saverDone := make(chan struct{})
	go t.saver(saverCtx, saverDone)

	t.initialScan()
	for ctx.Err() == nil {
		progress, err := t.readRound(ctx, out)
		if err != nil {
			break
		}
		if err := t.letGoIdle(ctx, out); err != nil {
			break
		}
		if progress {
			select {
			case <-t.tick:
				t.discover()
			case <-t.wakeScan:
				t.discover()
			default:
			}
			continue
		}
		select {
		case <-ctx.Done():
		case <-t.tick:
			t.discover()
		case <-t.wakeScan:
			t.discover()
		case <-t.wakeRead:
		}
	}

	for _, f := range t.files {
		t.closeFile(f)
	}
	if t.watcher != nil {
		_ = t.watcher.Close()
		<-watchDone
	}
	stopSaver()
	<-saverDone
	if err := t.pos.Save(); err != nil {
		t.log.Error("saving positions", "err", err)
	}
	return nil
}

func (t *Tailer) saver(ctx context.Context, done chan<- struct{}) {
	defer close(done)
	tk := time.NewTicker(t.cfg.SaveInterval)
	defer tk.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.saveNow:
			if err := t.pos.Save(); err != nil {
				t.log.Error("saving positions", "err", err)
			}
		case <-tk.C:
			if t.pos.Dirty() {
				if err := t.pos.Save(); err != nil {
					t.log.Error("saving positions", "err", err)
				}
			}
		}
	}
}

// send delivers a batch of lines. A file that appeared is opened (and thus
// pinned) first, and discovery runs while out is full: new files are pinned
// within a read even when the consumer is slow or a large file is being read.
func (t *Tailer) send(ctx context.Context, out chan<- []Line, batch []Line) error {
	select {
	case <-t.wakeScan:
		t.discover()
	default:
	}
	for {
		select {
		case out <- batch:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-t.tick:
			t.discover()
		case <-t.wakeScan:
			t.discover()
		}
	}
}

func nudge(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// startWatch starts fsnotify on the patterns' directories. Failing is fine:
// polling does the job. The returned channel closes when the watcher stops.
func (t *Tailer) startWatch() chan struct{} {
	done := make(chan struct{})
	if t.cfg.NoWatch {
		close(done)
		return done
	}
	w, err := fsnotify.NewWatcher()
	if err != nil {
		t.log.Warn("fsnotify unavailable, polling only", "err", err)
		close(done)
		return done
	}
	t.watcher = w
	go func() {
		defer close(done)
		for {
			select {
			case ev, ok := <-w.Events:
				if !ok {
					return
				}
				switch {
				case ev.Has(fsnotify.Create), ev.Has(fsnotify.Remove), ev.Has(fsnotify.Rename):
					nudge(t.wakeScan)
				case ev.Has(fsnotify.Write):
					nudge(t.wakeRead)
				}
			case err, ok := <-w.Errors:
				if !ok {
					return
				}
				// Overflow and others: events were lost, rescan now.
				t.log.Debug("fsnotify", "err", err)
				nudge(t.wakeScan)
			}
		}
	}()
	return done
}

// updateWatches makes sure the patterns' directories are watched (again, if
// one was removed and recreated).
func (t *Tailer) updateWatches() {
	if t.watcher == nil {
		return
	}
	have := map[string]bool{}
	for _, d := range t.watcher.WatchList() {
		have[d] = true
	}
	for _, p := range t.cfg.Paths {
		dir := filepath.Dir(p)
		dirs := []string{dir}
		if hasMeta(dir) {
			dirs, _ = filepath.Glob(dir)
		}
		for _, d := range dirs {
			if have[d] {
				continue
			}
			have[d] = true
			if err := t.watcher.Add(d); err != nil {
				t.log.Debug("fsnotify watch", "dir", d, "err", err)
			}
		}
	}
}

func hasMeta(p string) bool { return strings.ContainsAny(p, `*?[`) }
