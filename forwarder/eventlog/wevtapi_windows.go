//go:build windows

package eventlog

import (
	"fmt"
	"syscall"
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

// Bindings to wevtapi.dll (winevt.h). Nothing here was run: see doc.go.
var (
	modWevtapi = windows.NewLazySystemDLL("wevtapi.dll")

	procEvtSubscribe             = modWevtapi.NewProc("EvtSubscribe")
	procEvtNext                  = modWevtapi.NewProc("EvtNext")
	procEvtRender                = modWevtapi.NewProc("EvtRender")
	procEvtClose                 = modWevtapi.NewProc("EvtClose")
	procEvtCreateBookmark        = modWevtapi.NewProc("EvtCreateBookmark")
	procEvtUpdateBookmark        = modWevtapi.NewProc("EvtUpdateBookmark")
	procEvtFormatMessage         = modWevtapi.NewProc("EvtFormatMessage")
	procEvtOpenPublisherMetadata = modWevtapi.NewProc("EvtOpenPublisherMetadata")
)

// EVT_RENDER_FLAGS and EVT_FORMAT_MESSAGE_FLAGS values used here.
const (
	evtRenderEventXml     = 1
	evtRenderBookmark     = 2
	evtFormatMessageEvent = 1
)

// loadWevtapi finds every procedure up front, so that a missing DLL is an
// error from Run rather than a panic in a reader.
func loadWevtapi() error {
	for _, p := range []*windows.LazyProc{procEvtSubscribe, procEvtNext, procEvtRender, procEvtClose,
		procEvtCreateBookmark, procEvtUpdateBookmark, procEvtFormatMessage, procEvtOpenPublisherMetadata} {
		if err := p.Find(); err != nil {
			return fmt.Errorf("eventlog: wevtapi.dll: %w", err)
		}
	}
	return nil
}

// callErr wraps the last error of a failed call.
func callErr(op string, e syscall.Errno) error {
	if e == 0 { // failed without setting the last error
		e = windows.ERROR_GEN_FAILURE
	}
	return &apiError{Op: op, Code: uint32(e), Err: e}
}

// winAPI is api on wevtapi.dll for one channel reader (one goroutine): the
// subscription's signal event and reusable buffers.
type winAPI struct {
	signal    windows.Handle
	renderBuf []uint16
	formatBuf []uint16
}

func newWinAPI() (api, error) {
	// Manual reset, set at first so that the first wait drains at once.
	sig, err := windows.CreateEvent(nil, 1, 1, nil)
	if err != nil {
		return nil, fmt.Errorf("eventlog: CreateEvent: %w", err)
	}
	return &winAPI{signal: sig, renderBuf: make([]uint16, 8192), formatBuf: make([]uint16, 4096)}, nil
}

func (w *winAPI) release() {
	if w.signal != 0 {
		_ = windows.CloseHandle(w.signal)
		w.signal = 0
	}
}

func (w *winAPI) subscribe(query string, bookmark handle, flags uint32) (handle, error) {
	q, err := windows.UTF16PtrFromString(query)
	if err != nil {
		return 0, fmt.Errorf("eventlog: query %q: %w", query, err)
	}
	// Session nil (local), ChannelPath nil (the query is a <QueryList>),
	// no context, no callback: the pull model on the signal event.
	r1, _, e := syscall.SyscallN(procEvtSubscribe.Addr(), 0, uintptr(w.signal), 0,
		uintptr(unsafe.Pointer(q)), uintptr(bookmark), 0, 0, uintptr(flags))
	if r1 == 0 {
		return 0, callErr("EvtSubscribe", e)
	}
	return handle(r1), nil
}

func (w *winAPI) next(sub handle, events []handle) (int, error) {
	if len(events) == 0 {
		return 0, nil
	}
	var n uint32
	r1, _, e := syscall.SyscallN(procEvtNext.Addr(), uintptr(sub), uintptr(len(events)),
		uintptr(unsafe.Pointer(&events[0])), 0, 0, uintptr(unsafe.Pointer(&n)))
	if r1 == 0 {
		return int(n), callErr("EvtNext", e)
	}
	return int(n), nil
}

func (w *winAPI) wait(timeout time.Duration) (bool, error) {
	ev, err := windows.WaitForSingleObject(w.signal, uint32(timeout/time.Millisecond))
	switch {
	case err != nil:
		return false, fmt.Errorf("eventlog: WaitForSingleObject: %w", err)
	case ev == windows.WAIT_OBJECT_0:
		// Reset before draining: an event arriving during the drain sets
		// the signal again, so none is missed.
		if err := windows.ResetEvent(w.signal); err != nil {
			return true, fmt.Errorf("eventlog: ResetEvent: %w", err)
		}
		return true, nil
	case ev == uint32(windows.WAIT_TIMEOUT):
		return false, nil
	}
	return false, fmt.Errorf("eventlog: WaitForSingleObject: unexpected result %#x", ev)
}

// render is EvtRender(nil, h, flags) into renderBuf, grown as needed;
// EvtRender counts in bytes.
func (w *winAPI) render(h handle, flags uint32) (string, error) {
	buf, used, err := fill(w.renderBuf, func(b []uint16) (uint32, error) {
		var usedBytes, props uint32
		r1, _, e := syscall.SyscallN(procEvtRender.Addr(), 0, uintptr(h), uintptr(flags),
			uintptr(len(b)*2), uintptr(unsafe.Pointer(&b[0])),
			uintptr(unsafe.Pointer(&usedBytes)), uintptr(unsafe.Pointer(&props)))
		if r1 == 0 {
			return (usedBytes + 1) / 2, callErr("EvtRender", e)
		}
		return (usedBytes + 1) / 2, nil
	}, isShortBuffer)
	w.renderBuf = buf
	if err != nil {
		return "", err
	}
	return windows.UTF16ToString(buf[:min(int(used), len(buf))]), nil
}

func (w *winAPI) renderXML(event handle) (string, error) { return w.render(event, evtRenderEventXml) }

func (w *winAPI) renderBookmark(bookmark handle) (string, error) {
	return w.render(bookmark, evtRenderBookmark)
}

func (w *winAPI) createBookmark(bookmarkXML string) (handle, error) {
	var p *uint16
	if bookmarkXML != "" {
		var err error
		if p, err = windows.UTF16PtrFromString(bookmarkXML); err != nil {
			return 0, fmt.Errorf("eventlog: bookmark: %w", err)
		}
	}
	r1, _, e := syscall.SyscallN(procEvtCreateBookmark.Addr(), uintptr(unsafe.Pointer(p)))
	if r1 == 0 {
		return 0, callErr("EvtCreateBookmark", e)
	}
	return handle(r1), nil
}

func (w *winAPI) updateBookmark(bookmark, event handle) error {
	r1, _, e := syscall.SyscallN(procEvtUpdateBookmark.Addr(), uintptr(bookmark), uintptr(event))
	if r1 == 0 {
		return callErr("EvtUpdateBookmark", e)
	}
	return nil
}

func (w *winAPI) openPublisher(provider string) (handle, error) {
	p, err := windows.UTF16PtrFromString(provider)
	if err != nil {
		return 0, fmt.Errorf("eventlog: provider %q: %w", provider, err)
	}
	// Local session, no archived log file, the thread's locale, flags 0.
	r1, _, e := syscall.SyscallN(procEvtOpenPublisherMetadata.Addr(), 0, uintptr(unsafe.Pointer(p)), 0, 0, 0)
	if r1 == 0 {
		return 0, callErr("EvtOpenPublisherMetadata", e)
	}
	return handle(r1), nil
}

// formatMessage is EvtFormatMessage(EvtFormatMessageEvent), which counts in
// characters. It may succeed with a truncated message and report the size
// it needed: fill treats that as too small. With unresolved inserts it
// fails but fills the buffer: the text is returned with the error.
func (w *winAPI) formatMessage(publisher, event handle) (string, error) {
	buf, used, err := fill(w.formatBuf, func(b []uint16) (uint32, error) {
		var usedChars uint32
		r1, _, e := syscall.SyscallN(procEvtFormatMessage.Addr(), uintptr(publisher), uintptr(event),
			0, 0, 0, evtFormatMessageEvent, uintptr(len(b)), uintptr(unsafe.Pointer(&b[0])),
			uintptr(unsafe.Pointer(&usedChars)))
		if r1 == 0 {
			return usedChars, callErr("EvtFormatMessage", e)
		}
		return usedChars, nil
	}, isShortBuffer)
	w.formatBuf = buf
	if err != nil && !formatTolerable(err) {
		return "", err
	}
	return windows.UTF16ToString(buf[:min(int(used), len(buf))]), err
}

func (w *winAPI) close(h handle) {
	if h != 0 {
		_, _, _ = syscall.SyscallN(procEvtClose.Addr(), uintptr(h))
	}
}
