package collector

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"strconv"
)

// frame is one message cut from a syslog stream.
type frame struct {
	// msg is valid only until the next call to framer.next: it usually
	// points into the bufio.Reader's buffer, so nothing is copied.
	msg []byte
	// truncated: the message was longer than the maximum size; msg holds
	// its first bytes and the rest was discarded.
	truncated bool
	// badCount: the frame began with an invalid RFC 6587 octet count; msg is
	// the junk up to the next LF, to be stored raw.
	badCount bool
}

// framer splits a TCP/TLS syslog stream (RFC 6587) into messages. The framing
// is chosen per frame from its first byte, because senders (rsyslog) may
// switch: a digit starts an octet-counted frame ("LEN SP MSG"), anything else
// a non-transparent frame ended by LF, CRLF or NUL. Separators between frames
// (LF, CR, NUL) are skipped, so empty lines produce nothing.
//
// Memory is bounded: a message never costs more than the reader's buffer plus
// a scratch slice of at most max bytes, whatever the sender does.
type framer struct {
	r         *bufio.Reader
	max       int // maximum message size kept
	maxCount  int // largest octet count accepted as a length (2*max)
	maxDigits int
	scratch   []byte // messages that do not fit in r's buffer are gathered here
	pending   int    // bytes of the last frame still to consume from r
	// lfFrom: the next lfFrom buffered bytes hold no LF. It keeps streams
	// without LF (NUL framing, long lines) from being rescanned per message.
	lfFrom int

	// Accounting, for tests and the fuzz target: every byte read is either
	// in a returned msg, skipped (separators, headers, stripped CR) or
	// discarded (beyond max).
	skipped, discarded int64
}

func newFramer(r *bufio.Reader, maxSize int) *framer {
	return &framer{
		r:         r,
		max:       maxSize,
		maxCount:  2 * maxSize,
		maxDigits: len(strconv.Itoa(2 * maxSize)),
	}
}

// consume drops n buffered bytes; n never exceeds r.Buffered().
func (f *framer) consume(n int) {
	_, _ = f.r.Discard(n)
	f.lfFrom = max(0, f.lfFrom-n)
}

// next returns the next message. At the end of the stream, a last message
// without terminator is returned first, then io.EOF; a partial octet-counted
// frame is returned as it is. Other errors are the reader's.
func (f *framer) next() (frame, error) {
	if f.pending > 0 {
		f.consume(f.pending)
		f.pending = 0
	}
	for {
		p, err := f.r.Peek(1)
		if err != nil {
			return frame{}, err
		}
		if c := p[0]; c != '\n' && c != '\r' && c != 0 {
			break
		}
		f.consume(1)
		f.skipped++
	}
	if p, _ := f.r.Peek(1); p[0] >= '0' && p[0] <= '9' {
		if n, hdr, ok := f.octetCount(); ok {
			f.consume(hdr)
			f.skipped += int64(hdr)
			return f.counted(n)
		}
		fr, err := f.line()
		fr.badCount = true
		return fr, err
	}
	return f.line()
}

// octetCount parses "LEN SP" at the start of the buffer without consuming it.
// A frame is accepted only if LEN is a positive number of at most maxCount and
// the message starts with '<', as every syslog message does: a text line that
// happens to begin with a number ("3 disks failed") then falls back to a
// raw line instead of swallowing what follows.
func (f *framer) octetCount() (n, hdr int, ok bool) {
	i := 0
	for ; ; i++ {
		p, _ := f.r.Peek(i + 1)
		if len(p) <= i {
			return 0, 0, false
		}
		c := p[i]
		if c == ' ' {
			break
		}
		if c < '0' || c > '9' || i >= f.maxDigits {
			return 0, 0, false
		}
		n = n*10 + int(c-'0')
	}
	if n == 0 || n > f.maxCount {
		return 0, 0, false
	}
	if p, _ := f.r.Peek(i + 2); len(p) < i+2 || p[i+1] != '<' {
		return 0, 0, false
	}
	return n, i + 1, true
}

// counted reads an octet-counted message of n bytes.
func (f *framer) counted(n int) (frame, error) {
	if n <= f.r.Size() {
		p, err := f.r.Peek(n)
		if err != nil && (len(p) == 0 || !errors.Is(err, io.EOF)) {
			return frame{}, err
		}
		// A short p means the stream ended inside the frame: keep what came.
		f.pending = len(p)
		return f.cut(p), nil
	}
	// Larger than the buffer: gather up to max bytes, skip the rest.
	f.scratch = f.scratch[:0]
	fr := frame{}
	for n > 0 {
		if f.r.Buffered() == 0 {
			if _, err := f.r.Peek(1); err != nil {
				if errors.Is(err, io.EOF) && len(f.scratch) > 0 {
					break
				}
				return frame{}, err
			}
		}
		p, _ := f.r.Peek(min(n, f.r.Buffered()))
		fr.truncated = f.keep(p) || fr.truncated
		f.consume(len(p))
		n -= len(p)
	}
	fr.msg = f.scratch
	return fr, nil
}

// cut returns p as a frame, truncated to max.
func (f *framer) cut(p []byte) frame {
	if len(p) > f.max {
		f.discarded += int64(len(p) - f.max)
		return frame{msg: p[:f.max], truncated: true}
	}
	return frame{msg: p}
}

// keep appends p to scratch up to max bytes and reports whether some of it
// had to be discarded.
func (f *framer) keep(p []byte) bool {
	room := f.max - len(f.scratch)
	if len(p) <= room {
		f.scratch = append(f.scratch, p...)
		return false
	}
	f.scratch = append(f.scratch, p[:max(room, 0)]...)
	f.discarded += int64(len(p) - max(room, 0))
	return true
}

// line reads a non-transparent frame: up to LF (a CR before it is dropped)
// or NUL.
func (f *framer) line() (frame, error) {
	f.scratch = f.scratch[:0]
	truncated := false
	nulFrom := 0 // buffered bytes already searched for NUL
	for {
		buf, _ := f.r.Peek(f.r.Buffered())
		end := -1
		if f.lfFrom < len(buf) {
			if i := bytes.IndexByte(buf[f.lfFrom:], '\n'); i >= 0 {
				end = f.lfFrom + i
			} else {
				f.lfFrom = len(buf)
			}
		}
		limit := len(buf)
		if end >= 0 {
			limit = end
		}
		if i := bytes.IndexByte(buf[nulFrom:limit], 0); i >= 0 {
			end = nulFrom + i
		} else {
			nulFrom = limit
		}
		if end >= 0 {
			f.pending = end + 1
			f.skipped++
			return f.finishLine(buf[:end], buf[end] == '\n', truncated), nil
		}
		if len(buf) == f.r.Size() {
			// A full buffer without terminator: set it aside.
			truncated = f.keep(buf) || truncated
			f.consume(len(buf))
			nulFrom = 0
			continue
		}
		if _, err := f.r.Peek(len(buf) + 1); err != nil {
			// The failed fill may have moved the buffered bytes: peek again.
			buf, _ = f.r.Peek(f.r.Buffered())
			if errors.Is(err, io.EOF) && (len(buf) > 0 || len(f.scratch) > 0) {
				f.pending = len(buf)
				return f.finishLine(buf, false, truncated), nil
			}
			return frame{}, err
		}
	}
}

func (f *framer) finishLine(tail []byte, lf, truncated bool) frame {
	if lf {
		// Drop the CR of a CRLF before sizing, so that a message of exactly
		// max bytes plus CRLF is not "truncated".
		if n := len(tail); n > 0 && tail[n-1] == '\r' {
			tail = tail[:n-1]
			f.skipped++
		} else if n := len(f.scratch); len(tail) == 0 && !truncated && n > 0 && f.scratch[n-1] == '\r' {
			f.scratch = f.scratch[:n-1]
			f.skipped++
		}
	}
	if len(f.scratch) == 0 && !truncated {
		return f.cut(tail)
	}
	truncated = f.keep(tail) || truncated
	return frame{msg: f.scratch, truncated: truncated}
}
