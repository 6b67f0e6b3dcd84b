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

// encode lays a batch out as: header (magic, seq, count, meta length,
// records length), checkpoint JSON, records, CRC-32C of all that, end magic.
func encode(b Batch) ([]byte, error) {
	meta, err := json.Marshal(b.Checkpoint)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, 0, headerSize+len(meta)+len(b.Records)+tailSize)
	buf = append(buf, headMagic...)
	buf = binary.BigEndian.AppendUint64(buf, uint64(b.Seq))
	buf = binary.BigEndian.AppendUint32(buf, uint32(b.Count))
	buf = binary.BigEndian.AppendUint32(buf, uint32(len(meta)))
	buf = binary.BigEndian.AppendUint64(buf, uint64(len(b.Records)))
	buf = append(buf, meta...)
	buf = append(buf, b.Records...)
	buf = binary.BigEndian.AppendUint32(buf, crc32.Checksum(buf, castagnoli))
	return append(buf, tailMagic...), nil
}

type header struct {
	seq             int64
	count           int
	metaLen, recLen int64
}

func parseHeader(h []byte, size int64) (header, error) {
	if len(h) < headerSize || string(h[:8]) != headMagic {
		return header{}, fmt.Errorf("%w: bad header", ErrCorrupt)
	}
	hd := header{
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
	b := Batch{Seq: seq, Count: hd.count}
	meta := body[headerSize : headerSize+hd.metaLen]
	if err := json.Unmarshal(meta, &b.Checkpoint); err != nil {
		return Batch{}, fmt.Errorf("%w: checkpoint: %v", ErrCorrupt, err)
	}
	b.Records = body[headerSize+hd.metaLen:]
	return b, nil
}
