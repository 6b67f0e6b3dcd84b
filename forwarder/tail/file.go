package tail

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"time"

	"vigie/forwarder/positions"
)

// tfile is a tracked file.
type tfile struct {
	key       string
	path      string
	id        fileID
	fd        *os.File  // nil while closed (MaxOpenFiles) or before the first open
	readOff   int64     // bytes consumed: emitted lines plus pending
	lineStart int64     // offset just after the last emitted line
	sample    []byte    // the last bytes before lineStart (≤ sampleSize): verifies a copy
	copyOf    string    // key of the file this one is a copy of: skipped, unless that file's truncation rewinds it
	fresh     bool      // new file not read yet: is it a copy of a followed one?
	size      int64     // size at the last stat; -1 forces a fingerprint check
	mtime     int64     // modification time at the last stat
	fpAt      time.Time // last fingerprint check
	fp        string    // hex SHA-256 of the first fpLen bytes
	fpLen     int
	pending   []byte // start of an unterminated line, at most MaxLineSize
	skipping  bool   // the pending line was cut: skip to its "\n"
	gone      bool   // no longer matched by the globs: read to its end, then let go
	activeAt  time.Time
	dropped   bool
}

func (f *tfile) atEOF() bool { return f.readOff >= f.size }

const readBudget = 1 << 20 // per file and round, for fairness

// readRound reads every file once (up to readBudget), rotated-away files first.
func (t *Tailer) readRound(ctx context.Context, out chan<- []Line) (progress bool, err error) {
	fs := make([]*tfile, 0, len(t.files))
	for _, f := range t.files {
		fs = append(fs, f)
	}
	sort.Slice(fs, func(i, j int) bool {
		if fs[i].gone != fs[j].gone {
			return fs[i].gone
		}
		return fs[i].path < fs[j].path
	})
	for _, f := range fs {
		if ctx.Err() != nil {
			return progress, ctx.Err()
		}
		if f.dropped {
			continue
		}
		p, err := t.readFile(ctx, out, f)
		progress = progress || p
		if err != nil {
			return progress, err
		}
	}
	return progress, nil
}

func (t *Tailer) readFile(ctx context.Context, out chan<- []Line, f *tfile) (progress bool, err error) {
	if f.fd == nil {
		// Closed to respect MaxOpenFiles: reopen only if it grew.
		st, err := statPath(f.path)
		if f.gone && (err != nil || st.id != f.id) {
			t.log.Warn("rotated file vanished while closed, its unread lines are lost", "path", f.path, "offset", f.readOff)
			t.forget(f, false)
			return false, nil
		}
		if err != nil || st.id != f.id || st.size == f.readOff && !f.gone {
			return false, nil
		}
		if !t.ensureOpen(f) {
			return false, nil
		}
	}
	t.current = f
	defer func() { t.current = nil }()

	st, err := statFile(f.fd)
	if err != nil {
		t.log.Warn("stat", "path", f.path, "err", err)
		return false, nil
	}
	if f.gone && (st.size < f.readOff || !t.checkFP(f)) {
		// A rotated-away file whose content was replaced: its end is gone.
		t.log.Warn("rotated file truncated or rewritten before it was read to its end", "path", f.path, "offset", f.readOff)
		t.forget(f, false)
		return false, nil
	}
	switch {
	case st.size < f.readOff:
		t.reset(f, fmt.Sprintf("truncated from %d to %d bytes", f.readOff, st.size))
	case st.size != f.size || st.mtime != f.mtime || time.Since(f.fpAt) >= t.cfg.PollInterval ||
		f.fpLen < t.cfg.FingerprintSize && st.size > int64(f.fpLen):
		// Changed, or not checked for a while: a copytruncate followed by
		// as many bytes as before leaves the size unchanged.
		f.fpAt = time.Now()
		if !t.checkFP(f) {
			t.reset(f, "first bytes changed (rewritten in place or inode reused)")
		}
	}
	f.size, f.mtime = st.size, st.mtime
	if f.fresh && st.size > 0 {
		f.fresh = false
		head, err := readHead(f.fd, make([]byte, t.cfg.FingerprintSize))
		if o := t.copyOfTracked(f.path, head, st); err == nil && o != nil {
			t.log.Info("copy of a followed file: skipped", "path", f.path, "of", o.path)
			f.copyOf = o.key
		}
	}
	if f.copyOf != "" {
		t.readCopy(f, st)
		if f.copyOf != "" {
			return false, nil
		}
	}
	for budget := readBudget; budget > 0; {
		n, rerr := f.fd.ReadAt(t.buf, f.readOff)
		if n > 0 {
			progress = true
			f.activeAt = time.Now()
			if f.readOff+int64(n) > f.size {
				f.size = f.readOff + int64(n)
			}
			if err := t.consume(ctx, out, f, t.buf[:n]); err != nil {
				return progress, err
			}
			budget -= n
		}
		if rerr != nil {
			if !errors.Is(rerr, io.EOF) {
				t.log.Warn("read", "path", f.path, "err", rerr)
			}
			break
		}
	}
	return progress, nil
}

// consume splits data (read at f.readOff) into lines and sends them, all
// the lines completed by data in one batch: one channel send and one copy
// per read rather than per line.
func (t *Tailer) consume(ctx context.Context, out chan<- []Line, f *tfile, data []byte) error {
	end := bytes.LastIndexByte(data, '\n') + 1
	if end == 0 {
		f.appendPending(data, t.cfg.MaxLineSize)
		f.readOff += int64(len(data))
		return nil
	}
	// The batch's texts share one copy of its lines, owned by the receiver.
	own := bytes.Clone(data[:end])
	batch := make([]Line, 0, bytes.Count(own, []byte{'\n'}))
	limit := t.cfg.MaxLineSize
	var prev, raw []byte // the last line's start read earlier, and its end here
	for rest := own; len(rest) > 0; {
		i := bytes.IndexByte(rest, '\n')
		raw = rest[:i+1]
		prev = f.pending
		if f.skipping {
			prev = nil
		}
		var text []byte
		if len(f.pending) == 0 && !f.skipping && i <= limit {
			text = bytes.TrimSuffix(rest[:i], []byte{'\r'})
		} else {
			f.appendPending(rest[:i], limit)
			text = bytes.TrimSuffix(f.pending, []byte{'\r'})
		}
		text = text[:len(text):len(text)] // the next text follows in the array
		trunc := f.skipping
		f.pending, f.skipping = nil, false
		f.readOff += int64(i + 1)
		f.lineStart = f.readOff
		rest = rest[i+1:]
		batch = append(batch, Line{Source: t.cfg.Name, Path: f.path, Key: f.key, Offset: f.readOff, Text: text, Truncated: trunc})
	}
	// Only the last line's sample matters: discovery (which may run while
	// the batch waits in send) reads it with lineStart.
	f.setSample(prev, raw)
	if end < len(data) {
		f.appendPending(data[end:], limit)
		f.readOff += int64(len(data) - end)
	}
	return t.send(ctx, out, batch)
}

const sampleSize = 64

// setSample records the last bytes of the line just read: prev (the start of
// the line read earlier, nil if unknown) then raw (its end, with "\n").
func (f *tfile) setSample(prev, raw []byte) {
	f.sample = f.sample[:0]
	if len(raw) < sampleSize {
		if need := sampleSize - len(raw); len(prev) > need {
			prev = prev[len(prev)-need:]
		}
		f.sample = append(f.sample, prev...)
	} else {
		raw = raw[len(raw)-sampleSize:]
	}
	f.sample = append(f.sample, raw...)
}

// skipTo moves f to off (a line start), as if everything before was
// delivered.
func (t *Tailer) skipTo(f *tfile, off int64) {
	f.readOff, f.lineStart, f.pending, f.skipping, f.sample = off, off, nil, false, nil
	t.mu.Lock()
	defer t.mu.Unlock()
	if st := t.state[f.key]; st != nil {
		st.entry.Offset = off
		t.pos.Set(f.key, st.entry)
	}
}

func (f *tfile) appendPending(b []byte, max int) {
	if room := max - len(f.pending); len(b) > room {
		b = b[:room]
		f.skipping = true
	}
	if len(b) > 0 {
		f.pending = append(f.pending, b...)
	}
}

// checkFP tells whether f still starts with the bytes it was fingerprinted
// on, and extends the fingerprint while it is shorter than FingerprintSize.
func (t *Tailer) checkFP(f *tfile) bool {
	head, err := readHead(f.fd, t.fpBuf)
	if err != nil {
		t.log.Warn("read", "path", f.path, "err", err)
		return true
	}
	if len(head) < f.fpLen || hashHex(head[:f.fpLen]) != f.fp {
		return false
	}
	if len(head) > f.fpLen {
		f.fpLen, f.fp = len(head), hashHex(head)
		t.updateEntry(f)
	}
	return true
}

func readHead(r io.ReaderAt, buf []byte) ([]byte, error) {
	n, err := r.ReadAt(buf, 0)
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	return buf[:n], nil
}

func hashHex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// fpMatches tells whether the file at r has the fingerprint (fp, fpLen).
func (t *Tailer) fpMatches(r io.ReaderAt, fp string, fpLen int) bool {
	if fpLen > len(t.fpBuf) {
		return false
	}
	head, err := readHead(r, t.fpBuf[:fpLen])
	return err == nil && len(head) == fpLen && hashHex(head) == fp
}

// reset starts f over from offset 0 under a new key: its content was
// replaced, so acknowledgements of the old content must not apply.
func (t *Tailer) reset(f *tfile, why string) {
	old := *f
	f.key = newKey(t.cfg.Name, f.id)
	f.readOff, f.lineStart, f.pending, f.skipping, f.sample = 0, 0, nil, false, nil
	f.fp, f.fpLen = "", 0
	if head, err := readHead(f.fd, t.fpBuf); err == nil {
		f.fp, f.fpLen = hashHex(head), len(head)
	}
	t.log.Info("file replaced, reading it from the start", "path", f.path, "why", why)
	delete(t.files, old.key)
	t.files[f.key] = f
	recovered := t.recoverCopy(&old)
	t.mu.Lock()
	if !recovered {
		delete(t.state, old.key)
		t.pos.Remove(old.key)
	}
	e := t.entryOf(f, 0)
	t.state[f.key] = &ackState{entry: e}
	t.pos.Set(f.key, e)
	t.mu.Unlock()
}

func (t *Tailer) entryOf(f *tfile, offset int64) positions.Entry {
	return positions.Entry{Source: t.cfg.Name, Path: f.path, Offset: offset,
		Fingerprint: f.fp, FingerprintLen: f.fpLen, Dev: f.id.Dev, Ino: f.id.Ino}
}

// updateEntry copies f's path and fingerprint into its saved entry.
func (t *Tailer) updateEntry(f *tfile) {
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.state[f.key]
	if st == nil {
		return
	}
	st.entry = t.entryOf(f, st.entry.Offset)
	t.pos.Set(f.key, st.entry)
}

// ensureOpen opens f if it is closed, closing an idle file if MaxOpenFiles
// is reached. It reports whether f is open.
func (t *Tailer) ensureOpen(f *tfile) bool {
	if f.fd != nil {
		return true
	}
	if t.nOpen >= t.cfg.MaxOpenFiles {
		var victim *tfile
		for _, o := range t.files {
			if o.fd == nil || o.gone || o == t.current || o == f || !o.atEOF() {
				continue
			}
			if victim == nil || o.activeAt.Before(victim.activeAt) {
				victim = o
			}
		}
		if victim == nil {
			return false
		}
		t.closeFile(victim)
	}
	fd, err := openFile(f.path)
	if err != nil {
		t.log.Debug("open", "path", f.path, "err", err)
		return false
	}
	if st, err := statFile(fd); err != nil || st.id != f.id {
		_ = fd.Close() // the path now names another file
		return false
	}
	f.fd = fd
	f.size = -1 // check the fingerprint before reading
	t.nOpen++
	t.peakOpen = max(t.peakOpen, t.nOpen)
	return true
}

func (t *Tailer) closeFile(f *tfile) {
	if f.fd != nil {
		_ = f.fd.Close()
		f.fd = nil
		t.nOpen--
	}
}

// letGoIdle closes the rotated-away files that stayed at EOF for RotateWait,
// first emitting their unterminated last line, if any.
func (t *Tailer) letGoIdle(ctx context.Context, out chan<- []Line) error {
	now := time.Now()
	for _, f := range t.files {
		if !f.gone || f.dropped || f.fd == nil || !f.atEOF() || now.Sub(f.activeAt) < t.cfg.RotateWait {
			continue
		}
		// Last look: a write may have landed since the round's stat.
		if p, err := t.readFile(ctx, out, f); err != nil {
			return err
		} else if p || f.dropped || !f.atEOF() {
			continue
		}
		if len(f.pending) > 0 || f.skipping {
			l := Line{Source: t.cfg.Name, Path: f.path, Key: f.key, Offset: f.readOff,
				Text: bytes.TrimSuffix(f.pending, []byte{'\r'}), Truncated: f.skipping}
			f.pending, f.skipping = nil, false
			if err := t.send(ctx, out, []Line{l}); err != nil {
				return err
			}
		}
		t.log.Debug("rotated file read to its end, closing", "path", f.path, "offset", f.readOff)
		t.forget(f, true)
	}
	return nil
}

// forget stops tracking f. With drained, its entry stays until its last line
// is acknowledged; otherwise it goes now.
func (t *Tailer) forget(f *tfile, drained bool) {
	t.closeFile(f)
	f.dropped = true
	delete(t.files, f.key)
	if t.byID[f.id] == f {
		delete(t.byID, f.id)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	st := t.state[f.key]
	if st == nil {
		return
	}
	if drained && st.entry.Offset < f.readOff {
		st.letGo, st.end = true, f.readOff
		return
	}
	delete(t.state, f.key)
	t.pos.Remove(f.key)
}
