//go:build unix

package tail

import (
	"fmt"
	"os"
	"syscall"
)

// statPath follows symlinks, like os.Stat.
func statPath(path string) (fileStat, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStat{}, err
	}
	return fromFileInfo(fi)
}

func statFile(f *os.File) (fileStat, error) {
	fi, err := f.Stat()
	if err != nil {
		return fileStat{}, err
	}
	return fromFileInfo(fi)
}

func fromFileInfo(fi os.FileInfo) (fileStat, error) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return fileStat{}, fmt.Errorf("no device and inode for %s", fi.Name())
	}
	return fileStat{
		id:      fileID{Dev: uint64(st.Dev), Ino: uint64(st.Ino)}, //nolint:unconvert // Dev's type varies by OS
		size:    fi.Size(),
		mtime:   fi.ModTime().UnixNano(),
		regular: fi.Mode().IsRegular(),
	}, nil
}

func openFile(path string) (*os.File, error) { return os.Open(path) }
