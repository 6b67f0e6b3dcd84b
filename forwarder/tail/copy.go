package tail

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"
)

// Copies (copytruncate). logrotate's copytruncate copies app.log to
// app.log.1 then truncates app.log. The lines the tailer had not read yet
// when the truncation happened are only in the copy; and a copy matched by
// the globs holds nothing but lines already read (or about to be recovered).
//
// A file is taken for a copy of another when its complete fingerprint
// (FingerprintSize bytes) is the other's and the bytes just before the point
// of interest agree: the tail of the last line read (the sample) for a
// truncated file, the copy's last bytes for a live one.

// recoverCopy is called when old (a snapshot of a tracked file before its
// reset) was truncated: it looks for the copy of its content and carries on
// from old's last line in it, under old's key (so in-flight acks apply). It
// reports whether it did.
func (t *Tailer) recoverCopy(old *tfile) bool {
	if old.fpLen < t.cfg.FingerprintSize || old.lineStart == 0 {
		return false
	}
	// A copy already tracked: skipped as such, or new and not read yet.
	for _, c := range t.files {
		if c.fd == nil || c.dropped || c.id == old.id || !(c.copyOf == old.key || c.fresh && c.readOff == 0) {
			continue
		}
		if !t.fpMatches(c.fd, old.fp, old.fpLen) || !t.sampleAt(c.fd, old.lineStart, old.sample) {
			continue
		}
		t.log.Info("truncated file: reading the rest of its copy", "path", old.path, "copy", c.path, "offset", old.lineStart)
		t.rekey(c, old.key, old.lineStart)
		return true
	}
	// An untracked sibling (app.log.1 not matched by the globs).
	var found string
	var fst fileStat
	for _, p := range t.siblings(old.path) {
		st, err := statPath(p)
		if err != nil || !st.regular || st.size < old.lineStart || t.byID[st.id] != nil {
			continue
		}
		fd, err := openFile(p)
		if err != nil {
			continue
		}
		ok := t.fpMatches(fd, old.fp, old.fpLen) && t.sampleAt(fd, old.lineStart, old.sample)
		_ = fd.Close()
		if ok {
			if found != "" {
				return false // ambiguous
			}
			found, fst = p, st
		}
	}
	if found == "" {
		return false
	}
	t.log.Info("truncated file: reading the rest of its copy", "path", old.path, "copy", found, "offset", old.lineStart)
	c := &tfile{key: old.key, path: found, id: fst.id, readOff: old.lineStart, lineStart: old.lineStart,
		size: -1, fp: old.fp, fpLen: old.fpLen, activeAt: time.Now(), gone: true}
	t.files[c.key] = c
	t.byID[c.id] = c
	t.updateEntry(c) // the state of old.key, acked offset kept
	t.ensureOpen(c)
	return true
}

// rekey makes c continue under key (whose state already exists) from off.
func (t *Tailer) rekey(c *tfile, key string, off int64) {
	delete(t.files, c.key)
	t.mu.Lock()
	delete(t.state, c.key)
	t.pos.Remove(c.key)
	t.mu.Unlock()
	c.key, c.copyOf, c.fresh = key, "", false
	c.readOff, c.lineStart, c.pending, c.skipping, c.sample = off, off, nil, false, nil
	c.activeAt = time.Now()
	t.files[key] = c
	t.updateEntry(c)
}

// sampleAt tells whether r holds sample just before off.
func (t *Tailer) sampleAt(r io.ReaderAt, off int64, sample []byte) bool {
	if len(sample) == 0 || off < int64(len(sample)) {
		return false
	}
	b := make([]byte, len(sample))
	n, _ := r.ReadAt(b, off-int64(len(sample)))
	return n == len(b) && bytes.Equal(b, sample)
}

// copyOfTracked returns the followed file that the new file (head, st) at p
// is a copy of, if any: a file whose content so far is the start of the
// other's (its head and its last bytes agree, it is not larger), or, if the
// other was truncated since (not yet noticed), that holds the end of the
// last line read from it. A copy is not read (see readCopy).
func (t *Tailer) copyOfTracked(p string, head []byte, st fileStat) *tfile {
	if st.size == 0 {
		return nil
	}
	fd, err := openFile(p)
	if err != nil {
		return nil
	}
	defer fd.Close()
	for _, o := range t.files {
		if o.dropped || o.id == st.id || o.fd == nil || o.copyOf != "" || o.fresh {
			continue
		}
		if t.fpMatches(o.fd, o.fp, o.fpLen) {
			if t.isPrefixOf(fd, st.size, head, o.fd) {
				return o
			}
		} else if len(head) >= t.cfg.FingerprintSize && o.fpLen == len(head) && hashHex(head) == o.fp &&
			st.size >= o.lineStart && t.sampleAt(fd, o.lineStart, o.sample) {
			return o
		}
	}
	return nil
}

// isPrefixOf tells whether c (size bytes, starting with head) holds the
// same bytes as o at its start and at its end.
func (t *Tailer) isPrefixOf(c io.ReaderAt, size int64, head []byte, o io.ReaderAt) bool {
	ohead := make([]byte, len(head))
	if n, _ := o.ReadAt(ohead, 0); n != len(head) || !bytes.Equal(ohead, head) {
		return false
	}
	n := min(int64(sampleSize), size)
	tail := make([]byte, n)
	if k, _ := c.ReadAt(tail, size-n); int64(k) != n {
		return false
	}
	return t.sampleAt(o, size, tail)
}

// readCopy handles a file taken for a copy of another as it changes: while
// the original is intact and the copy still agrees with it, the copy is
// skipped; if they diverge, it was not a copy after all and is read from 0.
// (A truncation of the original hands the copy over in recoverCopy.)
func (t *Tailer) readCopy(f *tfile, st fileStat) {
	if f.readOff == st.size {
		return
	}
	o := t.files[f.copyOf]
	switch {
	case o == nil || o.dropped || o.fd == nil:
		// The original is no longer followed: a growing "copy" cannot be
		// checked any more. Rather twice than never: read it.
		t.log.Info("copy grows after its original was let go: reading it", "path", f.path)
	case !t.fpMatches(o.fd, o.fp, o.fpLen):
		// The original was truncated (not noticed yet): recoverCopy decides.
		t.skipTo(f, st.size)
		return
	default:
		head, err := readHead(f.fd, make([]byte, t.cfg.FingerprintSize))
		if err != nil || t.isPrefixOf(f.fd, st.size, head, o.fd) {
			t.skipTo(f, st.size)
			return
		}
		t.log.Info("not a copy after all: reading it", "path", f.path, "of", o.path)
	}
	f.copyOf = ""
	t.skipTo(f, 0)
}

// siblings lists the files of path's directory whose names start like its
// (app.log → app.log.1, app.log-20261122, app.1.log), path itself and
// compressed files excepted.
func (t *Tailer) siblings(path string) []string {
	dir, base := filepath.Split(path)
	stem := strings.TrimSuffix(base, filepath.Ext(base))
	des, err := os.ReadDir(filepath.Clean(dir))
	if err != nil {
		return nil
	}
	var out []string
	for _, de := range des {
		name := de.Name()
		if name == base || !strings.HasPrefix(name, stem) || isCompressed(name) || de.IsDir() {
			continue
		}
		out = append(out, filepath.Join(dir, name))
	}
	return out
}

func isSibling(p, of string) bool {
	if filepath.Dir(p) != filepath.Dir(of) || p == of {
		return false
	}
	base := filepath.Base(of)
	return strings.HasPrefix(filepath.Base(p), strings.TrimSuffix(base, filepath.Ext(base)))
}
