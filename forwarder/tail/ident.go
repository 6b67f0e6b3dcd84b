package tail

import "fmt"

// fileID is a file's identity on its machine: (device, inode) on unix,
// (volume serial number, file index) on Windows. It survives renames; it can
// be reused after the file is deleted, which the fingerprint detects.
type fileID struct{ Dev, Ino uint64 }

func (id fileID) String() string { return fmt.Sprintf("%d:%d", id.Dev, id.Ino) }

type fileStat struct {
	id      fileID
	size    int64
	mtime   int64 // modification time, Unix ns
	regular bool
}
