package spool

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// A compressed batch is stored and read back as it was given, flagged as
// such across a restart, next to plain ones (the batches of an older
// agent); Plain gives the NDJSON back in both cases.
func TestGzipBatchesKeepTheirEncoding(t *testing.T) {
	dir := t.TempDir()
	s, _ := open(t, dir, 0)
	var c Compressor
	plain := batch(0, 3)
	gz := batch(1, 5)
	gz.Records = c.Append(nil, gz.Records)
	gz.Gzip = true
	if bytes.HasPrefix(gz.Records, []byte("{")) || len(gz.Records) == 0 {
		t.Fatalf("not compressed: %q", gz.Records)
	}
	other := c.Append(nil, []byte("reused compressor\n")) // must not disturb the copy above
	if len(other) == 0 {
		t.Fatal("empty output")
	}
	s1, err := s.Append(plain)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := s.Append(gz)
	if err != nil {
		t.Fatal(err)
	}

	r, _ := open(t, dir, 0)
	for _, w := range []struct {
		seq   int64
		b     Batch
		plain []byte
	}{{s1, plain, plain.Records}, {s2, gz, batch(1, 5).Records}} {
		got := next(t, r)
		if got.Seq != w.seq || got.Gzip != w.b.Gzip || got.Count != w.b.Count || !bytes.Equal(got.Records, w.b.Records) {
			t.Fatalf("batch %d read back as seq %d gzip %v count %d %q", w.seq, got.Seq, got.Gzip, got.Count, got.Records)
		}
		p, err := got.Plain()
		if err != nil || !bytes.Equal(p, w.plain) {
			t.Fatalf("batch %d: Plain = %q, %v", w.seq, p, err)
		}
		if err := r.Done(got.Seq); err != nil {
			t.Fatal(err)
		}
	}
	if raw, _ := os.ReadFile(r.path(s2)); len(raw) > 0 {
		t.Fatal("done batch still on disk")
	}

	bad := Batch{Seq: 7, Gzip: true, Records: gz.Records[:len(gz.Records)/2]}
	if _, err := bad.Plain(); err == nil || !strings.Contains(err.Error(), "batch 7") {
		t.Fatalf("cut gzip stream: %v", err)
	}
}
