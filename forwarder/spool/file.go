package spool

// The batch file format and atomic writes.

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash/crc32"
	"io"
	"os"
)

// frame returns what a batch file holds around the records: head is the
// header (magic, seq, count, meta length, records length) and the
// checkpoint JSON, tail the CRC-32C of head and records and the end magic.
// The file is head, records, tail: written as three parts, the records are
// not copied.
func frame(b Batch) (head, tail []byte, err error) {
	meta, err := json.Marshal(b.Checkpoint)
	if err != nil {
		return nil, nil, err
	}
	head = make([]byte, 0, headerSize+len(meta))
	if b.Gzip {
		head = append(head, headMagicGzip...)
	} else {
		head = append(head, headMagic...)
	}
	head = binary.BigEndian.AppendUint64(head, uint64(b.Seq))
	head = binary.BigEndian.AppendUint32(head, uint32(b.Count))
	head = binary.BigEndian.AppendUint32(head, uint32(len(meta)))
	head = binary.BigEndian.AppendUint64(head, uint64(len(b.Records)))
	head = append(head, meta...)
	crc := crc32.Update(crc32.Checksum(head, castagnoli), castagnoli, b.Records)
	tail = binary.BigEndian.AppendUint32(make([]byte, 0, tailSize), crc)
	return head, append(tail, tailMagic...), nil
}

type header struct {
	seq             int64
	count           int
	metaLen, recLen int64
	gzip            bool
}

func parseHeader(h []byte, size int64) (header, error) {
	if len(h) < headerSize || string(h[:8]) != headMagic && string(h[:8]) != headMagicGzip {
		return header{}, fmt.Errorf("%w: bad header", ErrCorrupt)
	}
	hd := header{
		gzip:    string(h[:8]) == headMagicGzip,
		seq:     int64(binary.BigEndian.Uint64(h[8:])),
		count:   int(binary.BigEndian.Uint32(h[16:])),
		metaLen: int64(binary.BigEndian.Uint32(h[20:])),
		recLen:  int64(binary.BigEndian.Uint64(h[24:])),
	}
	if hd.metaLen > maxMeta || hd.recLen < 0 || hd.recLen > size {
		return header{}, fmt.Errorf("%w: bad lengths", ErrCorrupt)
	}
	if want := headerSize + hd.metaLen + hd.recLen + tailSize; want != size {
		return header{}, fmt.Errorf("%w: %d bytes, the header says %d", ErrCorrupt, size, want)
	}
	return hd, nil
}

// scan checks a batch file's structure (header, lengths, end marker; the
// checksum is verified by Next, which reads the whole file) and loads what
// the index keeps of it.
func (s *Spool) scan(seq int64) (entry, error) {
	f, err := os.Open(s.path(seq))
	if err != nil {
		return entry{}, fmt.Errorf("spool: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return entry{}, fmt.Errorf("spool: %w", err)
	}
	size := fi.Size()
	if size < headerSize+tailSize {
		return entry{}, fmt.Errorf("%w: %d bytes", ErrCorrupt, size)
	}
	h := make([]byte, headerSize)
	if _, err := io.ReadFull(f, h); err != nil {
		return entry{}, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	hd, err := parseHeader(h, size)
	if err != nil {
		return entry{}, err
	}
	if hd.seq != seq {
		return entry{}, fmt.Errorf("%w: holds batch %d", ErrCorrupt, hd.seq)
	}
	meta := make([]byte, hd.metaLen)
	if _, err := io.ReadFull(f, meta); err != nil {
		return entry{}, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	var cp map[string]string
	if err := json.Unmarshal(meta, &cp); err != nil {
		return entry{}, fmt.Errorf("%w: checkpoint: %v", ErrCorrupt, err)
	}
	tail := make([]byte, tailSize)
	if _, err := f.ReadAt(tail, size-tailSize); err != nil {
		return entry{}, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if string(tail[4:]) != tailMagic {
		return entry{}, fmt.Errorf("%w: no end marker (cut short)", ErrCorrupt)
	}
	return entry{seq: seq, size: size, count: hd.count, checkpoint: cp}, nil
}

// read loads and verifies a whole batch file.
func (s *Spool) read(seq int64) (Batch, error) {
	buf, err := os.ReadFile(s.path(seq))
	if err != nil {
		return Batch{}, err
	}
	size := int64(len(buf))
	if size < headerSize+tailSize {
		return Batch{}, fmt.Errorf("%w: %d bytes", ErrCorrupt, size)
	}
	hd, err := parseHeader(buf, size)
	if err != nil {
		return Batch{}, err
	}
	body := buf[:size-tailSize]
	if string(buf[size-8:]) != tailMagic || binary.BigEndian.Uint32(buf[size-tailSize:]) != crc32.Checksum(body, castagnoli) {
		return Batch{}, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	if hd.seq != seq {
		return Batch{}, fmt.Errorf("%w: holds batch %d", ErrCorrupt, hd.seq)
	}
	b := Batch{Seq: seq, Count: hd.count, Gzip: hd.gzip}
	meta := body[headerSize : headerSize+hd.metaLen]
	if err := json.Unmarshal(meta, &b.Checkpoint); err != nil {
		return Batch{}, fmt.Errorf("%w: checkpoint: %v", ErrCorrupt, err)
	}
	b.Records = body[headerSize+hd.metaLen:]
	return b, nil
}
