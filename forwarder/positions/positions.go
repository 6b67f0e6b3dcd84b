// Package positions keeps the agent's read positions: for each tracked file,
// the offset up to which its lines were acknowledged downstream, plus what is
// needed to find that file again after a restart (path, device and inode,
// fingerprint of its first bytes).
//
// The file is JSON. Save writes a temporary file in the same directory,
// fsyncs it, renames it over the real one and fsyncs the directory, so a
// crash leaves either the old or the new content, never a mix. A leftover
// temporary file from a crash is ignored (and removed) by Open. A file that
// cannot be decoded is an error naming it: it is never silently reset, since
// that would re-send or skip whole files.
package positions

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"sort"
	"strings"
	"sync"
	"time"

	"vigie/forwarder/internal/atomicfile"
)

// Version is the format version written in the file.
const Version = 1

// Entry is the saved state of one file.
type Entry struct {
	Source string `json:"source,omitempty"` // source (tailer) that owns the entry
	Path   string `json:"path"`             // last path the file was seen at
	Offset int64  `json:"offset"`           // acknowledged offset: everything before it was delivered
	// Fingerprint is the hex SHA-256 of the file's first FingerprintLen bytes.
	Fingerprint    string `json:"fingerprint,omitempty"`
	FingerprintLen int    `json:"fingerprint_len,omitempty"`
	// Dev and Ino identify the file: device and inode on unix, volume serial
	// number and file index on Windows.
	Dev uint64 `json:"dev"`
	Ino uint64 `json:"ino"`
}

// ErrCorrupt is wrapped by the error Open returns for a file it cannot decode.
var ErrCorrupt = errors.New("corrupt positions file")

type fileData struct {
	Version int                  `json:"version"`
	Sources map[string]time.Time `json:"sources,omitempty"`
	Files   map[string]Entry     `json:"files"`
	// SavedAt is when the file was written: what the agent knew then, it
	// knew for sure. Absent in files of agents before 2026-11-22.
	SavedAt time.Time `json:"saved_at,omitzero"`
}

// File is a positions file. It is safe for concurrent use.
type File struct {
	path string

	saveMu sync.Mutex // serialises Save

	mu        sync.Mutex
	data      fileData
	prevSaved time.Time // data.SavedAt as read by Open
	existed   bool
	gen       uint64 // bumped on each change
	saved     uint64 // gen last written
}

const tmpPrefix = atomicfile.TempSuffix

// Open reads the positions file at path. A missing file gives an empty set
// (the agent's first start); its directory is created. A file that cannot be
// decoded gives an error wrapping ErrCorrupt and naming the file.
func Open(path string) (*File, error) {
	f := &File{path: path, data: fileData{Version: Version, Sources: map[string]time.Time{}, Files: map[string]Entry{}}}
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("positions: %w", err)
	}
	// Leftovers of a save interrupted by a crash: never read, just removed.
	if olds, _ := filepath.Glob(filepath.Join(dir, escapeGlob(filepath.Base(path))+tmpPrefix+"*")); len(olds) > 0 {
		for _, o := range olds {
			_ = os.Remove(o)
		}
	}
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return nil, fmt.Errorf("positions: %w", err)
	}
	f.existed = true
	if len(bytes.TrimSpace(b)) == 0 {
		return nil, fmt.Errorf("positions file %s: %w: empty file (remove it to start over)", path, ErrCorrupt)
	}
	var d fileData
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("positions file %s: %w: %v (remove it to start over)", path, ErrCorrupt, err)
	}
	if d.Version != Version {
		return nil, fmt.Errorf("positions file %s: %w: unsupported version %d", path, ErrCorrupt, d.Version)
	}
	for k, e := range d.Files {
		if e.Offset < 0 || e.FingerprintLen < 0 {
			return nil, fmt.Errorf("positions file %s: %w: entry %q has a negative offset", path, ErrCorrupt, k)
		}
	}
	if d.Files == nil {
		d.Files = map[string]Entry{}
	}
	if d.Sources == nil {
		d.Sources = map[string]time.Time{}
	}
	f.data = d
	f.prevSaved = d.SavedAt
	return f, nil
}

// SavedAt is when an earlier run last saved the file; zero at a first start
// or when that run did not record it. A file that appeared after it was
// never seen by that run.
func (f *File) SavedAt() time.Time { return f.prevSaved }

func escapeGlob(s string) string {
	r := strings.NewReplacer(`*`, `\*`, `?`, `\?`, `[`, `\[`)
	if runtime.GOOS == "windows" { // no escaping there; such names are rare
		return s
	}
	return r.Replace(s)
}

// Path is the file's path.
func (f *File) Path() string { return f.path }

// Get returns the entry saved under key.
func (f *File) Get(key string) (Entry, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	e, ok := f.data.Files[key]
	return e, ok
}

// Set stores e under key. Setting an equal entry changes nothing.
func (f *File) Set(key string, e Entry) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if old, ok := f.data.Files[key]; ok && old == e {
		return
	}
	f.data.Files[key] = e
	f.gen++
}

// Remove deletes the entry saved under key.
func (f *File) Remove(key string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.data.Files[key]; ok {
		delete(f.data.Files, key)
		f.gen++
	}
}

// Entries returns a copy of the entries of one source ("" for all), by key.
func (f *File) Entries(source string) map[string]Entry {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := make(map[string]Entry)
	for k, e := range f.data.Files {
		if source == "" || e.Source == source {
			m[k] = e
		}
	}
	return m
}

// Keys returns the sorted keys of all entries.
func (f *File) Keys() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	ks := make([]string, 0, len(f.data.Files))
	for k := range f.data.Files {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// Started reports whether the source was started before: its files already
// there are then "new" only if they appeared since, and start at offset 0.
func (f *File) Started(source string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	_, ok := f.data.Sources[source]
	return ok
}

// MarkStarted records that the source ran its first scan.
func (f *File) MarkStarted(source string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.data.Sources[source]; !ok {
		f.data.Sources[source] = time.Now().UTC().Truncate(time.Second)
		f.gen++
	}
}

// Dirty reports whether there are changes not saved yet.
func (f *File) Dirty() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.gen != f.saved
}

// Save writes the positions if they changed since the last save: temporary
// file in the same directory, fsync, rename over the file, fsync of the
// directory (not on Windows, where directories cannot be synced).
func (f *File) Save() error {
	f.saveMu.Lock()
	defer f.saveMu.Unlock()

	f.mu.Lock()
	if f.gen == f.saved && f.existed {
		f.mu.Unlock()
		return nil
	}
	gen := f.gen
	f.data.SavedAt = time.Now().UTC()
	b, err := json.MarshalIndent(&f.data, "", "  ")
	f.mu.Unlock()
	if err != nil {
		return fmt.Errorf("positions: %w", err)
	}
	b = append(b, '\n')
	if err := atomicfile.WriteDurable(f.path, b); err != nil {
		return fmt.Errorf("positions: %w", err)
	}
	f.mu.Lock()
	f.saved = gen
	f.existed = true
	f.mu.Unlock()
	return nil
}
