//go:build windows

package tail

import (
	"os"

	"golang.org/x/sys/windows"
)

// openFile opens path for reading with FILE_SHARE_READ|FILE_SHARE_WRITE|
// FILE_SHARE_DELETE: os.Open omits FILE_SHARE_DELETE, which would make the
// writer's rotation (rename or delete of its log) fail while we read.
func openFile(path string) (*os.File, error) {
	h, err := createFile(path, 0)
	if err != nil {
		return nil, &os.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(h), path), nil
}

func createFile(path string, flags uint32) (windows.Handle, error) {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return windows.InvalidHandle, err
	}
	return windows.CreateFile(p, windows.GENERIC_READ,
		windows.FILE_SHARE_READ|windows.FILE_SHARE_WRITE|windows.FILE_SHARE_DELETE,
		nil, windows.OPEN_EXISTING, windows.FILE_ATTRIBUTE_NORMAL|flags, 0)
}
