// Package spool is vigie-agent's disk queue of batches waiting for the
// collector's acknowledgement.
//
// Every batch is written here before it is sent, with its sequence number
// fixed at that moment; the sender reads the oldest batch, sends it and
// deletes it only after the collector's 200. A resend is therefore the same
// bytes under the same number, and the collector's dedupe (a number not above
// the agent's last committed one is a duplicate) makes delivery exact.
//
// Layout of the directory (created 0700):
//
//	00000000000000000042.batch   one file per batch, named by its sequence
//	seq                          the end of the block of sequences in use (decimal)
//	dead/                        batches the collector refused for good
//	*.tmp                        a write in progress; removed by Open
//
// Writes are atomic: temporary file, fsync, rename, fsync of the directory.
// A batch file ends with a trailer (CRC-32C of everything before it and an
// end marker) and its header gives the lengths of its parts, so a file cut
// short or damaged is detected (at Open or at Next), logged, counted as
// dropped and never sent half.
//
// Records are stored as given: NDJSON, or NDJSON already gzip-compressed
// (the agent's batches: about a seventh of the bytes to write, read back
// and keep in memory, and the vigie output sends them as they are). A resend carries
// the same bytes under the same number.
//
// The sequence continues across restarts, from the end of the block the seq
// file reserved (it survives an empty spool; numbers are skipped, never
// reused). A spool created from nothing starts its sequence at the current
// Unix time in microseconds rather than at 1: if the state directory is ever
// lost or reset, the new numbers are still above everything the collector
// has committed for this agent, instead of being taken for resends and
// silently discarded. One batch per microsecond would be needed to catch up
// with the clock.
package spool

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"vigie/forwarder/internal/atomicfile"
)

// Batch is one unit of delivery.
type Batch struct {
	// Seq is assigned by Append (last + 1) and never reused.
	Seq int64
	// Records is NDJSON, one record per line, already encoded; gzip
	// compressed when Gzip is set.
	Records []byte
	// Gzip: Records is a gzip stream (what the vigie output sends as is).
	Gzip bool
	// Count is the number of records in Records.
	Count int
	// Checkpoint is opaque to the spool: the source positions the batch
	// covers (file key → end offset, channel → bookmark).
	Checkpoint map[string]string
}

// Stats describes the spool's content and losses since Open.
type Stats struct {
	Bytes, Batches, Records int64
	// DroppedBatches and DroppedRecords count batches deleted unsent:
	// the oldest ones when the spool was full, and damaged files.
	DroppedBatches, DroppedRecords int64
	// DeadBatches counts batches moved to dead/ since Open.
	DeadBatches int64
	LastSeq     int64
}

// DeadDir is the subfolder holding refused batches.
const DeadDir = "dead"

const (
	batchExt  = ".batch"
	tmpExt    = atomicfile.TempSuffix
	seqName   = "seq"
	reasonExt = ".reason"
	headMagic = "VGSPOOL1" // records are NDJSON
	// headMagicGzip: records are gzip-compressed NDJSON. Same layout.
	headMagicGzip = "VGSPOOLZ"
	tailMagic     = "VGSPEND1"
	headerSize    = 8 + 8 + 4 + 4 + 8 // magic, seq, count, meta length, records length
	tailSize      = 4 + 8             // crc32c, magic
	// maxMeta bounds the checkpoint JSON, so a damaged header cannot make
	// Open allocate gigabytes.
	maxMeta = 64 << 20
	// seqBlock is how many batch numbers the seq file reserves at a time.
	seqBlock = 1024
)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrCorrupt is wrapped by the errors describing a damaged batch file.
var ErrCorrupt = errors.New("damaged batch file")

type entry struct {
	seq        int64
	size       int64
	count      int
	checkpoint map[string]string
}

// Spool is a directory of batches. It is safe for concurrent use; there is
// meant to be one sender calling Next and Done.
type Spool struct {
	dir     string
	maxSize int64
	log     *slog.Logger

	appendMu sync.Mutex // serialises Append (sequence, seq file)
	reserved int64      // the number the seq file holds; appendMu held

	mu      sync.Mutex
	entries []entry // oldest first, seq increasing
	bytes   int64
	records int64
	last    int64
	dropB   int64
	dropR   int64
	dead    int64
	wake    chan struct{} // closed (and replaced) when a batch is appended
}

// Open opens (creating it 0700) the spool in dir. maxSize bounds the bytes
// of the batch files (0 or less: no bound). Leftover temporary files are
// removed and damaged batch files dropped, each with a log line.
func Open(dir string, maxSize int64, logger *slog.Logger) (*Spool, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	s := &Spool{dir: dir, maxSize: maxSize, log: logger, wake: make(chan struct{})}
	des, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("spool: %w", err)
	}
	for _, de := range des {
		name := de.Name()
		switch {
		case strings.HasSuffix(name, tmpExt):
			logger.Warn("spool: removing an interrupted write", "file", filepath.Join(dir, name))
			if err := os.Remove(filepath.Join(dir, name)); err != nil {
				return nil, fmt.Errorf("spool: %w", err)
			}
		case strings.HasSuffix(name, batchExt):
			seq, err := strconv.ParseInt(strings.TrimSuffix(name, batchExt), 10, 64)
			if err != nil || seq <= 0 {
				logger.Warn("spool: ignoring a file that is not a batch", "file", filepath.Join(dir, name))
				continue
			}
			e, err := s.scan(seq)
			if err != nil {
				if !errors.Is(err, ErrCorrupt) {
					return nil, err
				}
				// The count is unknown: the header may be what is damaged.
				s.dropB++
				logger.Error("spool: dropping a damaged batch file (written partly before a crash?); its records are lost",
					"file", s.path(seq), "err", err)
				if err := os.Remove(s.path(seq)); err != nil {
					return nil, fmt.Errorf("spool: %w", err)
				}
				s.last = max(s.last, seq) // its number may have been sent
				continue
			}
			s.entries = append(s.entries, e)
			s.bytes += e.size
			s.records += int64(e.count)
			s.last = max(s.last, seq)
		}
	}
	slices.SortFunc(s.entries, func(a, b entry) int { return cmpInt(a.seq, b.seq) })
	switch raw, err := os.ReadFile(filepath.Join(dir, seqName)); {
	case err == nil:
		n, perr := strconv.ParseInt(strings.TrimSpace(string(raw)), 10, 64)
		if perr != nil || n < 0 {
			// Never guess low: the clock is above any number used so far.
			n = time.Now().UnixMicro()
			logger.Error("spool: unreadable sequence file; continuing from the clock", "file", filepath.Join(dir, seqName), "seq", n)
		}
		s.last = max(s.last, n)
		s.reserved = n
	case errors.Is(err, os.ErrNotExist):
		if s.last == 0 {
			s.last = time.Now().UnixMicro()
			logger.Info("spool: new spool; batch sequence starts from the clock", "dir", dir, "seq", s.last+1)
		}
	default:
		return nil, fmt.Errorf("spool: %w", err)
	}
	if len(s.entries) > 0 {
		logger.Info("spool: batches waiting from a previous run", "batches", len(s.entries), "records", s.records, "bytes", s.bytes)
	}
	return s, nil
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func (s *Spool) path(seq int64) string {
	return filepath.Join(s.dir, fmt.Sprintf("%020d%s", seq, batchExt))
}

// Dir is the spool's directory.
func (s *Spool) Dir() string { return s.dir }

// Append stores a batch durably and returns its sequence number. When the
// spool would pass its size bound, the oldest batches are deleted first
// (counted and logged as lost), never the one being appended.
func (s *Spool) Append(b Batch) (int64, error) {
	s.appendMu.Lock()
	defer s.appendMu.Unlock()
	s.mu.Lock()
	b.Seq = s.last + 1
	s.mu.Unlock()
	head, tail, err := frame(b)
	if err != nil {
		return 0, fmt.Errorf("spool: checkpoint: %w", err)
	}
	size := int64(len(head) + len(b.Records) + len(tail))
	s.makeRoom(size, b.Seq)
	// The seq file keeps the numbers when every batch is gone. It holds the
	// end of a block of numbers, written when the block is entered: one
	// write and fsync per seqBlock batches, not per batch. A restart goes on
	// after the block (numbers are skipped, never reused). A crash before it
	// is written is harmless: Open takes the highest of the file and the
	// batches.
	if b.Seq > s.reserved {
		end := b.Seq + seqBlock - 1
		if err := atomicfile.Write(filepath.Join(s.dir, seqName), []byte(strconv.FormatInt(end, 10)+"\n")); err != nil {
			return 0, err
		}
		s.reserved = end
	}
	if err := atomicfile.Write(s.path(b.Seq), head, b.Records, tail); err != nil {
		return 0, err
	}
	// The batch's (and the seq file's) rename made durable: with the batch
	// file's own, the only fsyncs of a batch.
	if err := atomicfile.SyncDir(s.dir); err != nil {
		os.Remove(s.path(b.Seq))
		return 0, err
	}
	s.mu.Lock()
	s.entries = append(s.entries, entry{seq: b.Seq, size: size, count: b.Count, checkpoint: cloneMap(b.Checkpoint)})
	s.bytes += size
	s.records += int64(b.Count)
	s.last = b.Seq
	close(s.wake)
	s.wake = make(chan struct{})
	s.mu.Unlock()
	return b.Seq, nil
}

// makeRoom deletes the oldest batches until size more bytes fit.
func (s *Spool) makeRoom(size, seq int64) {
	if s.maxSize <= 0 {
		return
	}
	s.mu.Lock()
	var batches, records int64
	for len(s.entries) > 0 && s.bytes+size > s.maxSize {
		e := s.entries[0]
		if err := os.Remove(s.path(e.seq)); err != nil && !errors.Is(err, os.ErrNotExist) {
			s.log.Error("spool: cannot delete the oldest batch to make room", "file", s.path(e.seq), "err", err)
			break
		}
		s.forget(0)
		batches++
		records += int64(e.count)
	}
	s.dropB += batches
	s.dropR += records
	over := s.bytes+size > s.maxSize
	s.mu.Unlock()
	if batches > 0 {
		s.log.Warn("spool: full, oldest batches dropped: their records are LOST (collector unreachable for too long? raise spool.max_size)",
			"dropped_batches", batches, "lost_records", records, "max_size", s.maxSize, "new_batch", seq)
	}
	if over {
		s.log.Warn("spool: one batch is larger than spool.max_size; kept anyway", "batch", seq, "bytes", size, "max_size", s.maxSize)
	}
}

// forget removes entry i from the index; s.mu held.
func (s *Spool) forget(i int) {
	e := s.entries[i]
	s.entries = slices.Delete(s.entries, i, i+1)
	s.bytes -= e.size
	s.records -= int64(e.count)
}

// find returns the index of seq in the index, or -1; s.mu held.
func (s *Spool) find(seq int64) int {
	i, ok := slices.BinarySearchFunc(s.entries, seq, func(e entry, seq int64) int { return cmpInt(e.seq, seq) })
	if !ok {
		return -1
	}
	return i
}

// Next returns the oldest batch still spooled, waiting for one until ctx
// ends. It returns the same batch again until that batch is Done (or moved
// to dead/, or dropped for room). A damaged file is dropped with a log line
// and skipped.
func (s *Spool) Next(ctx context.Context) (Batch, error) {
	return s.NextAfter(ctx, 0)
}

// NextAfter is Next for the oldest batch numbered above seq: a sender with
// several batches in flight asks for the one after the last it took.
func (s *Spool) NextAfter(ctx context.Context, seq int64) (Batch, error) {
	for {
		s.mu.Lock()
		i, _ := slices.BinarySearchFunc(s.entries, seq+1, func(e entry, t int64) int { return cmpInt(e.seq, t) })
		if i == len(s.entries) {
			wake := s.wake
			s.mu.Unlock()
			select {
			case <-ctx.Done():
				return Batch{}, ctx.Err()
			case <-wake:
				continue
			}
		}
		e := s.entries[i]
		s.mu.Unlock()
		b, err := s.read(e.seq)
		if err == nil {
			return b, nil
		}
		s.mu.Lock()
		i = s.find(e.seq)
		if i < 0 { // dropped for room meanwhile
			s.mu.Unlock()
			continue
		}
		if !errors.Is(err, ErrCorrupt) {
			s.mu.Unlock()
			return Batch{}, fmt.Errorf("spool: batch %d: %w", e.seq, err)
		}
		s.forget(i)
		s.dropB++
		s.dropR += int64(e.count)
		s.mu.Unlock()
		s.log.Error("spool: dropping a damaged batch file; its records are lost", "file", s.path(e.seq), "records", e.count, "err", err)
		if rerr := os.Remove(s.path(e.seq)); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			return Batch{}, fmt.Errorf("spool: %w", rerr)
		}
	}
}

// Done deletes an acknowledged batch. A batch no longer spooled (dropped for
// room while it was being sent) is not an error.
func (s *Spool) Done(seq int64) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.find(seq)
	if i < 0 {
		return nil
	}
	if err := os.Remove(s.path(seq)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("spool: %w", err)
	}
	s.forget(i)
	return nil
}

// Has reports whether batch seq is still spooled.
func (s *Spool) Has(seq int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.find(seq) >= 0
}

// Dead moves a batch the collector refused for good to dead/, with a
// .reason file next to it, so it can be looked at (and resent by hand)
// instead of blocking the queue or being retried forever. dead/ is kept
// under the same size bound as the spool: its oldest files go first.
func (s *Spool) Dead(seq int64, reason string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	i := s.find(seq)
	if i < 0 {
		return nil
	}
	deadDir := filepath.Join(s.dir, DeadDir)
	if err := os.MkdirAll(deadDir, 0o700); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	name := filepath.Base(s.path(seq))
	note := fmt.Sprintf("%s\nbatch %d, %d records\n%s\n", time.Now().UTC().Format(time.RFC3339), seq, s.entries[i].count, reason)
	if err := os.WriteFile(filepath.Join(deadDir, name+reasonExt), []byte(note), 0o600); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	if err := os.Rename(s.path(seq), filepath.Join(deadDir, name)); err != nil {
		return fmt.Errorf("spool: %w", err)
	}
	s.forget(i)
	s.dead++
	s.trimDead(deadDir)
	return nil
}

// trimDead deletes the oldest dead batches beyond maxSize; s.mu held.
func (s *Spool) trimDead(deadDir string) {
	if s.maxSize <= 0 {
		return
	}
	des, err := os.ReadDir(deadDir) // sorted by name: oldest first
	if err != nil {
		return
	}
	var total int64
	sizes := make([]int64, len(des))
	for i, de := range des {
		if fi, err := de.Info(); err == nil {
			sizes[i] = fi.Size()
			total += sizes[i]
		}
	}
	for i, de := range des {
		if total <= s.maxSize || !strings.HasSuffix(de.Name(), batchExt) {
			continue
		}
		if os.Remove(filepath.Join(deadDir, de.Name())) == nil {
			total -= sizes[i]
			os.Remove(filepath.Join(deadDir, de.Name()+reasonExt))
			s.log.Warn("spool: dead/ over the size bound, oldest refused batch deleted", "file", filepath.Join(deadDir, de.Name()))
		}
	}
}

// Checkpoints returns the checkpoints of the batches still spooled, oldest
// first: with the positions file, they say what was already read (positions
// are restored as the highest of both).
func (s *Spool) Checkpoints() []map[string]string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]map[string]string, 0, len(s.entries))
	for _, e := range s.entries {
		out = append(out, cloneMap(e.checkpoint))
	}
	return out
}

// Stats returns the spool's counters.
func (s *Spool) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return Stats{Bytes: s.bytes, Batches: int64(len(s.entries)), Records: s.records,
		DroppedBatches: s.dropB, DroppedRecords: s.dropR, DeadBatches: s.dead, LastSeq: s.last}
}

func cloneMap(m map[string]string) map[string]string {
	if m == nil {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}
