// Package atomicfile writes the agent's state files (positions, bookmarks,
// spooled batches) so that a crash leaves the old content or the new one,
// never a mix.
package atomicfile

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// TempSuffix names the temporary file beside the one being written; a
// leftover of a crash can be recognised and removed by it.
const TempSuffix = ".tmp"

// Write writes the parts, one after the other, to path through
// path+TempSuffix: write, fsync, rename. The rename itself is durable only
// once the directory is synced (SyncDir); callers writing several files
// sync it once for all.
func Write(path string, parts ...[]byte) (err error) {
	tmp := path + TempSuffix
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	for _, data := range parts {
		if _, err = f.Write(data); err != nil {
			return fmt.Errorf("write %s: %w", tmp, err)
		}
	}
	if err = f.Sync(); err != nil {
		return fmt.Errorf("fsync %s: %w", tmp, err)
	}
	if err = f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmp, err)
	}
	return os.Rename(tmp, path)
}

// SyncDir makes the renames in dir durable. Windows cannot fsync a
// directory (NTFS journals the rename itself).
func SyncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}

// WriteDurable is Write then SyncDir of the file's directory.
func WriteDurable(path string, data []byte) error {
	if err := Write(path, data); err != nil {
		return err
	}
	return SyncDir(filepath.Dir(path))
}
