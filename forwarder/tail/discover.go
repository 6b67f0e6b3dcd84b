package tail

import (
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"time"
)

// compressed lists the extensions of rotated files that are never read.
var compressed = []string{".gz", ".xz", ".bz2", ".zst", ".lz4", ".zip"}

func isCompressed(p string) bool {
	ext := strings.ToLower(filepath.Ext(p))
	for _, c := range compressed {
		if ext == c {
			return true
		}
	}
	return false
}

var keySeq atomic.Uint64

// newKey returns a fresh key for a file of source: opaque, unique, kept
// across renames and restarts.
func newKey(source string, id fileID) string {
	return fmt.Sprintf("%s|%s|%x.%d", source, id, time.Now().UnixNano(), keySeq.Add(1))
}

// glob returns the paths matched by the patterns, minus exclusions and
// compressed files, sorted.
func (t *Tailer) glob() []string {
	set := map[string]bool{}
	for _, p := range t.cfg.Paths {
		ms, _ := filepath.Glob(p) // patterns were validated
		for _, m := range ms {
			if !isCompressed(m) && !t.excluded(m) {
				set[m] = true
			}
		}
	}
	out := make([]string, 0, len(set))
	for m := range set {
		out = append(out, m)
	}
	sort.Strings(out)
	return out
}

func (t *Tailer) excluded(p string) bool {
	for _, x := range t.cfg.Exclude {
		if ok, _ := filepath.Match(x, p); ok {
			return true
		}
		if ok, _ := filepath.Match(x, filepath.Base(p)); ok {
			return true
		}
	}
	return false
}

// initialScan is the first discovery: it matches the files with the entries
// saved by an earlier run, looks for the entries not found among the
// rotated siblings, and drops the rest.
func (t *Tailer) initialScan() {
	t.orphans = t.pos.Entries(t.cfg.Name)
	t.firstRun = !t.pos.Started(t.cfg.Name)
	t.firstScan = true // initialScan saves once it has matched the orphans
	t.discover()
	t.firstScan = false
	keys := make([]string, 0, len(t.orphans))
	for k := range t.orphans {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		e := t.orphans[k]
		id := fileID{Dev: e.Dev, Ino: e.Ino}
		p, st, ok := t.findSibling(e.Path, id, e.Fingerprint, e.FingerprintLen, e.Offset)
		if !ok {
			t.log.Warn("file of a saved position not found: rotated and compressed, or deleted, while the agent was down; its unread lines are lost",
				"path", e.Path, "offset", e.Offset)
			t.pos.Remove(k)
			continue
		}
		t.log.Info("rotated while the agent was down, reading it to its end", "path", e.Path, "now", p, "offset", e.Offset)
		f := t.track(k, p, st, e.Offset, e.Fingerprint, e.FingerprintLen)
		f.gone = true
	}
	t.orphans = nil
	if !t.firstRun {
		t.adoptUnseenSiblings(t.pos.SavedAt())
	}
	t.firstRun = false
	t.pos.MarkStarted(t.cfg.Name)
	if err := t.pos.Save(); err != nil {
		t.log.Error("saving positions", "err", err)
	}
}

// discover matches the globs against the tracked files: new files are
// tracked (and opened, which pins them), vanished ones marked gone.
func (t *Tailer) discover() {
	t.updateWatches()
	type match struct {
		path string
		st   fileStat
	}
	var ms []match
	names := map[fileID][]string{}
	for _, p := range t.glob() {
		st, err := statPath(p)
		if err != nil || !st.regular {
			continue
		}
		if names[st.id] == nil {
			ms = append(ms, match{p, st})
		}
		names[st.id] = append(names[st.id], p)
	}
	seen := map[*tfile]bool{}
	added := false
	for _, m := range ms {
		if f := t.byID[m.st.id]; f != nil {
			seen[f] = true
			f.gone = false
			// Renamed (within the globs), unless one of its names is the
			// current one (hard links).
			if !slices.Contains(names[m.st.id], f.path) {
				f.path = m.path
				t.updateEntry(f)
			}
			continue
		}
		if f := t.addNew(m.path, m.st); f != nil {
			seen[f] = true
			added = true
		}
	}
	// A new file's identity is saved at once, not at the next periodic save:
	// if the agent dies and the file is rotated away before it comes back,
	// that identity is all that leads it to the file's new name. The saver
	// does it, so that the fsync does not hold up discovery: the next file
	// may appear and be rotated away meanwhile.
	if added && !t.firstScan {
		nudge(t.saveNow)
	}
	for _, f := range t.files {
		if !seen[f] && !f.gone && !f.dropped {
			t.markGone(f)
		}
	}
}

// addNew tracks a file seen for the first time by this run.
func (t *Tailer) addNew(p string, st fileStat) *tfile {
	fd, err := openFile(p)
	if err != nil {
		return nil // vanished meanwhile: the next scan will tell
	}
	head, err := readHead(fd, make([]byte, t.cfg.FingerprintSize)) // not fpBuf: kept across fpMatches calls
	_ = fd.Close()
	if err != nil {
		t.log.Warn("read", "path", p, "err", err)
		return nil
	}
	fp, fpLen := hashHex(head), len(head)

	// A file of an earlier run?
	for k, e := range t.orphans {
		if e.Dev != st.id.Dev || e.Ino != st.id.Ino {
			continue
		}
		if !t.fpMatchesBytes(head, e.Fingerprint, e.FingerprintLen) {
			t.log.Info("same inode but other content than the saved position: a new file", "path", p)
			break // orphan kept: its content may be among the siblings (copytruncate)
		}
		delete(t.orphans, k)
		if st.size < e.Offset {
			t.log.Info("file shrank while the agent was down (copytruncate): reading it from the start", "path", p)
			t.pos.Remove(k)
			return t.track(newKey(t.cfg.Name, st.id), p, st, 0, fp, fpLen)
		}
		return t.track(k, p, st, e.Offset, fp, fpLen)
	}
	if fpLen >= t.cfg.FingerprintSize {
		// The copy of a file of an earlier run, made while the agent was
		// down (copytruncate) and matched by the globs: go on in it.
		for k, e := range t.orphans {
			if e.FingerprintLen == fpLen && e.Fingerprint == fp && st.size >= e.Offset && isSibling(p, e.Path) {
				delete(t.orphans, k)
				t.log.Info("copy of a file truncated while the agent was down: reading its rest", "path", p, "of", e.Path, "offset", e.Offset)
				return t.track(k, p, st, e.Offset, fp, fpLen)
			}
		}
	}
	if t.firstRun && t.cfg.StartAt == StartEnd {
		return t.track(newKey(t.cfg.Name, st.id), p, st, st.size, fp, fpLen)
	}
	f := t.track(newKey(t.cfg.Name, st.id), p, st, 0, fp, fpLen)
	f.fresh = !t.firstRun // a copy of a followed file is checked for at its first read
	return f
}

func (t *Tailer) fpMatchesBytes(head []byte, fp string, fpLen int) bool {
	return len(head) >= fpLen && hashHex(head[:fpLen]) == fp
}

// track starts following the file at p from offset off under key.
func (t *Tailer) track(key, p string, st fileStat, off int64, fp string, fpLen int) *tfile {
	f := &tfile{key: key, path: p, id: st.id, readOff: off, lineStart: off, size: -1, fp: fp, fpLen: fpLen, activeAt: time.Now()}
	t.files[key] = f
	t.byID[st.id] = f
	t.mu.Lock()
	e := t.entryOf(f, off)
	t.state[key] = &ackState{entry: e}
	t.pos.Set(key, e)
	t.mu.Unlock()
	t.ensureOpen(f) // pins the inode, so a rotation cannot take it away
	return f
}

// markGone handles a file no longer matched: if open, it is read to its end
// through its descriptor; if closed, it is looked for among its siblings.
func (t *Tailer) markGone(f *tfile) {
	f.gone = true
	f.activeAt = time.Now()
	if f.fd != nil {
		return
	}
	p, st, ok := t.findSibling(f.path, f.id, f.fp, f.fpLen, f.readOff)
	if ok && st.id == f.id {
		f.path = p
		t.updateEntry(f)
		t.ensureOpen(f) // else later, when a slot frees
		return
	}
	t.log.Warn("file vanished while closed, its unread lines are lost", "path", f.path, "offset", f.readOff)
	t.forget(f, false)
}

// adoptUnseenSiblings reads from their start the rotated siblings of the
// followed files that no run has seen: created after the earlier run last
// saved its positions, then rotated away before this run looked, so no
// saved identity leads to them. Files an earlier run read and let go are
// not taken again: they stayed untouched for RotateWait before their entry
// went, so their last change predates that save by more than the margin
// allowed here for a file created just before it and not yet discovered.
// Copies of followed files (copytruncate) are not taken either.
func (t *Tailer) adoptUnseenSiblings(saved time.Time) {
	if saved.IsZero() {
		return
	}
	after := saved.Add(-t.cfg.RotateWait / 2).UnixNano()
	copies := map[string]bool{} // complete fingerprints of followed files
	var paths []string
	for _, f := range t.files {
		if f.fpLen >= t.cfg.FingerprintSize {
			copies[f.fp] = true
		}
		paths = append(paths, f.path)
	}
	paths = append(paths, t.glob()...)
	sort.Strings(paths)
	done := map[string]bool{}
	for _, p := range paths {
		for _, s := range t.siblings(p) {
			if done[s] {
				continue
			}
			done[s] = true
			st, err := statPath(s)
			if err != nil || !st.regular || t.byID[st.id] != nil || st.mtime <= after {
				continue
			}
			fd, err := openFile(s)
			if err != nil {
				continue
			}
			head, err := readHead(fd, make([]byte, t.cfg.FingerprintSize))
			_ = fd.Close()
			if err != nil || len(head) == 0 {
				continue
			}
			fp, fpLen := hashHex(head), len(head)
			if fpLen >= t.cfg.FingerprintSize && copies[fp] {
				continue
			}
			t.log.Info("rotated away while the agent was down, before it had seen it: reading it from the start", "path", s)
			f := t.track(newKey(t.cfg.Name, st.id), s, st, 0, fp, fpLen)
			f.gone = true
		}
	}
}

// findSibling looks in path's directory for the file with identity id and
// fingerprint fp, among the names starting like path's (app.log → app.log.1,
// app.log-20261122, app.1.log), compressed ones excepted. Failing that, a
// file with the same complete fingerprint and at least minSize bytes is taken
// (the copy made by copytruncate), if there is exactly one.
func (t *Tailer) findSibling(path string, id fileID, fp string, fpLen int, minSize int64) (string, fileStat, bool) {
	var copyPath string
	var copySt fileStat
	copies := 0
	// The file may still be where it was last seen (a rotated file an
	// earlier run was reading), so path itself comes first.
	for _, p := range append([]string{path}, t.siblings(path)...) {
		st, err := statPath(p)
		if err != nil || !st.regular || t.byID[st.id] != nil && st.id != id {
			continue
		}
		sameID := st.id == id
		if !sameID && (fpLen < t.cfg.FingerprintSize || st.size < minSize) {
			continue
		}
		fd, err := openFile(p)
		if err != nil {
			continue
		}
		ok := t.fpMatches(fd, fp, fpLen)
		_ = fd.Close()
		switch {
		case ok && sameID:
			return p, st, true
		case ok:
			copyPath, copySt = p, st
			copies++
		}
	}
	if copies == 1 {
		return copyPath, copySt, true
	}
	return "", fileStat{}, false
}
