package spool

import (
	"bytes"
	"fmt"
	"io"

	"github.com/klauspost/compress/gzip"
)

// MaxPlainSize bounds a batch's records once decompressed: far above what
// the agent seals (2 MiB and one record), it only stops a damaged or
// hostile gzip stream from taking the memory.
const MaxPlainSize = 1 << 30

// Plain returns the batch's records as NDJSON, decompressed if need be.
func (b Batch) Plain() ([]byte, error) {
	if !b.Gzip {
		return b.Records, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(b.Records))
	if err != nil {
		return nil, fmt.Errorf("spool: batch %d: %w", b.Seq, err)
	}
	out, err := io.ReadAll(io.LimitReader(zr, MaxPlainSize+1))
	if err != nil {
		return nil, fmt.Errorf("spool: batch %d: %w", b.Seq, err)
	}
	if len(out) > MaxPlainSize {
		return nil, fmt.Errorf("spool: batch %d: more than %d bytes once decompressed", b.Seq, MaxPlainSize)
	}
	return out, nil
}

// Compressor gzips batches before they are spooled. It keeps its
// compressor from one batch to the next; not safe for concurrent use.
type Compressor struct {
	zw *gzip.Writer
}

// Append appends plain, gzip-compressed at the fastest level (log text
// still shrinks 6 to 8 times), to dst.
func (c *Compressor) Append(dst, plain []byte) []byte {
	out := bytes.NewBuffer(dst)
	if c.zw == nil {
		c.zw, _ = gzip.NewWriterLevel(out, gzip.BestSpeed)
	} else {
		c.zw.Reset(out)
	}
	c.zw.Write(plain) // a bytes.Buffer does not fail
	c.zw.Close()
	c.zw.Reset(io.Discard) // keep no reference to dst
	return out.Bytes()
}
