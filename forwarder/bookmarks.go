package forwarder

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"os"
	"sync"

	"vigie/forwarder/internal/atomicfile"
)

// bookmarks are the Windows event log positions: channel → bookmark XML,
// saved like the file positions (temporary file, fsync, rename).
type bookmarks struct {
	path  string
	mu    sync.Mutex
	m     map[string]string
	dirty bool
}

func openBookmarks(path string) (*bookmarks, error) {
	b := &bookmarks{path: path, m: map[string]string{}}
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return b, nil
	}
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(data, &b.m); err != nil {
		return nil, fmt.Errorf("%s: corrupt bookmarks file (move it away to start the event logs from their oldest record): %w", path, err)
	}
	return b, nil
}

func (b *bookmarks) set(channel, xml string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.m[channel] != xml {
		b.m[channel], b.dirty = xml, true
	}
}

func (b *bookmarks) all() map[string]string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return maps.Clone(b.m)
}

func (b *bookmarks) save() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.dirty {
		return nil
	}
	data, err := json.MarshalIndent(b.m, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteDurable(b.path, data); err != nil {
		return fmt.Errorf("bookmarks: %w", err)
	}
	b.dirty = false
	return nil
}
