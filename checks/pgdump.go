package checks

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"time"
)

// pgDumpHeader is what the header of a pg_dump custom-format archive says
// (pg_backup_archiver.c, WriteHead and the start of WriteToc).
type pgDumpHeader struct {
	Version   string // archive format version, 1.14.0
	Format    byte   // 1 custom, 5 directory (toc.dat)
	Database  string
	Server    string // server version the dump was taken from
	Created   time.Time
	TOCCount  int
	HeaderLen int64 // bytes up to and including the TOC count
}

// Limits on the header: real ones are a hundred bytes or so.
const (
	maxPGString  = 4 << 10
	maxPGHeader  = 64 << 10
	minTOCEntry  = 40
	maxTOC       = 100_000_000
	pgFormatCust = 1
	pgFormatDir  = 5
)

var errPGTruncated = errors.New("the file ends inside the pg_dump header")

// readPGDumpHeader parses the header of a custom-format archive. size is
// the file's size: a file that stops right after the header (or inside it)
// is a dump that was cut.
func readPGDumpHeader(r io.Reader, size int64) (*pgDumpHeader, error) {
	br := bufio.NewReader(io.LimitReader(r, maxPGHeader))
	var n int64
	readByte := func() (byte, error) {
		b, err := br.ReadByte()
		if err != nil {
			return 0, errPGTruncated
		}
		n++
		return b, nil
	}
	magic := make([]byte, 5)
	if _, err := io.ReadFull(br, magic); err != nil {
		return nil, fmt.Errorf("only %d bytes: %w", size, errPGTruncated)
	}
	n = 5
	if string(magic) != "PGDMP" {
		if bytes.HasPrefix(magic, []byte("--")) {
			return nil, errors.New("it is a plain SQL dump, not pg_dump's custom format (pg_dump -Fc)")
		}
		return nil, errors.New("no PGDMP signature at the start: not a pg_dump custom-format file")
	}
	h := &pgDumpHeader{}
	vmaj, err := readByte()
	if err != nil {
		return nil, err
	}
	vmin, err := readByte()
	if err != nil {
		return nil, err
	}
	var vrev byte
	if vmaj > 1 || vmin > 0 {
		if vrev, err = readByte(); err != nil {
			return nil, err
		}
	}
	if vmaj != 1 {
		return nil, fmt.Errorf("archive version %d.%d is unknown (vigie reads 1.x)", vmaj, vmin)
	}
	h.Version = fmt.Sprintf("%d.%d.%d", vmaj, vmin, vrev)
	atLeast := func(min byte) bool { return vmin >= min }
	intSize, err := readByte()
	if err != nil {
		return nil, err
	}
	if intSize < 1 || intSize > 8 {
		return nil, fmt.Errorf("integer size %d in the header is not sane: the file is damaged", intSize)
	}
	if atLeast(7) {
		if _, err := readByte(); err != nil { // offset size
			return nil, err
		}
	}
	if h.Format, err = readByte(); err != nil {
		return nil, err
	}
	if h.Format != pgFormatCust && h.Format != pgFormatDir {
		return nil, fmt.Errorf("archive format %d is not custom (1) or directory (5)", h.Format)
	}
	readInt := func() (int64, error) {
		sign, err := readByte()
		if err != nil {
			return 0, err
		}
		var v int64
		for i := range int(intSize) {
			b, err := readByte()
			if err != nil {
				return 0, err
			}
			v |= int64(b) << (8 * i)
		}
		if sign != 0 {
			v = -v
		}
		return v, nil
	}
	readStr := func() (string, error) {
		l, err := readInt()
		if err != nil || l < 0 {
			return "", err // -1 is a NULL string
		}
		if l > maxPGString {
			return "", fmt.Errorf("a header string of %d bytes: the file is damaged", l)
		}
		b := make([]byte, l)
		if _, err := io.ReadFull(br, b); err != nil {
			return "", errPGTruncated
		}
		n += l
		return string(b), nil
	}
	switch {
	case atLeast(15):
		_, err = readByte() // compression algorithm
	case atLeast(4):
		_, err = readInt() // compression level
	case atLeast(2):
		_, err = readByte()
	}
	if err != nil {
		return nil, err
	}
	if atLeast(4) {
		var tm [7]int64 // sec, min, hour, mday, mon (0-11), year-1900, isdst
		for i := range tm {
			if tm[i], err = readInt(); err != nil {
				return nil, err
			}
		}
		h.Created = time.Date(int(tm[5])+1900, time.Month(tm[4]+1), int(tm[3]), int(tm[2]), int(tm[1]), int(tm[0]), 0, time.Local)
		if h.Database, err = readStr(); err != nil {
			return nil, err
		}
	}
	if atLeast(10) {
		if h.Server, err = readStr(); err != nil {
			return nil, err
		}
		if _, err = readStr(); err != nil { // pg_dump's own version
			return nil, err
		}
	}
	toc, err := readInt()
	if err != nil {
		return nil, err
	}
	h.TOCCount, h.HeaderLen = int(toc), n
	if toc <= 0 {
		return h, errors.New("the archive's table of contents is empty")
	}
	if toc > maxTOC {
		return h, fmt.Errorf("a table of contents of %d entries: the file is damaged", toc)
	}
	if size <= n {
		return h, fmt.Errorf("the file stops after its %d-byte header: the dump was cut", n)
	}
	// Each table-of-contents entry holds a dozen length-prefixed fields, so
	// it takes well over minTOCEntry bytes: a file shorter than that was cut
	// in its table of contents.
	if need := n + toc*minTOCEntry; size < need {
		return h, fmt.Errorf("the file is %d bytes but its table of contents lists %d entries (at least %d bytes): the dump was cut", size, toc, need)
	}
	return h, nil
}
