//go:build windows

package tail

import (
	"os"

	"golang.org/x/sys/windows"
)

// statPath opens the file (sharing read, write and delete, so that the writer
// is never disturbed) to read its volume serial number and file index.
func statPath(path string) (fileStat, error) {
	h, err := createFile(path, windows.FILE_FLAG_BACKUP_SEMANTICS) // also opens directories, to tell them apart
	if err != nil {
		return fileStat{}, &os.PathError{Op: "stat", Path: path, Err: err}
	}
	defer windows.CloseHandle(h) //nolint:errcheck
	return statHandle(h)
}

func statFile(f *os.File) (fileStat, error) {
	return statHandle(windows.Handle(f.Fd()))
}

func statHandle(h windows.Handle) (fileStat, error) {
	var d windows.ByHandleFileInformation
	if err := windows.GetFileInformationByHandle(h, &d); err != nil {
		return fileStat{}, err
	}
	return fileStat{
		id:      fileID{Dev: uint64(d.VolumeSerialNumber), Ino: uint64(d.FileIndexHigh)<<32 | uint64(d.FileIndexLow)},
		size:    int64(d.FileSizeHigh)<<32 | int64(d.FileSizeLow),
		mtime:   d.LastWriteTime.Nanoseconds(),
		regular: d.FileAttributes&(windows.FILE_ATTRIBUTE_DIRECTORY|windows.FILE_ATTRIBUTE_DEVICE) == 0,
	}, nil
}
