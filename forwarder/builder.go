package forwarder

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"time"

	"vigie/forwarder/eventlog"
	"vigie/forwarder/multiline"
	"vigie/forwarder/spool"
	"vigie/forwarder/tail"
	"vigie/record"
)

// Batches are sealed at whichever comes first. A few batches are in flight
// at once (output.DefaultWindow), each answered after its commit: large
// batches keep those round trips from bounding throughput.
const (
	batchRecords = 5_000
	batchBytes   = 2 << 20
	batchAge     = time.Second
)

// builder turns lines and events into records and batches, and hands the
// sealed batches to its spooler.
type builder struct {
	a     *Agent
	files map[string]*fileSource
	sp    *spooler

	buf    []byte
	count  int
	opened time.Time
	acks   []ack             // per file key of the open batch: where it ends
	events map[string]string // per event log channel of the open batch: its bookmark
	extra  []record.Field    // the agent's own fields of a file record
	z      spool.Compressor
}

type joinState struct {
	j    *multiline.Joiner
	key  string
	path string
}

// ack is where a file key may resume once its batch is spooled.
type ack struct {
	t      *tail.Tailer
	key    string
	offset int64
}

func newBuilder(a *Agent, files map[string]*fileSource, marks *bookmarks, spools []*spool.Spool) *builder {
	return &builder{a: a, files: files, sp: startSpooler(a, marks, spools)}
}

func (b *builder) loop(ctx context.Context, lines <-chan []tail.Line, events <-chan eventlog.Event, errc <-chan error) error {
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return b.seal()
		case err := <-errc:
			if err != nil && !errors.Is(err, context.Canceled) {
				// What was read is spooled before stopping: it is not lost.
				return errors.Join(err, b.seal())
			}
		case <-b.sp.done:
			return b.sp.err // the spool failed: stop reading
		case ls := <-lines:
			b.a.m.lines.Add(float64(len(ls)))
			if err := b.lines(ls); err != nil {
				return err
			}
		case ev := <-events:
			b.a.m.lines.Inc()
			if err := b.addEvent(ev); err != nil {
				return err
			}
		case now := <-tick.C:
			if err := b.flushDue(now); err != nil {
				return err
			}
			if b.count > 0 && now.Sub(b.opened) >= batchAge {
				if err := b.seal(); err != nil {
					return err
				}
			}
		}
	}
}

// lines takes a batch of lines, which come from one file.
func (b *builder) lines(ls []tail.Line) error {
	now := time.Now()
	var fs *fileSource
	var js *joinState
	for _, l := range ls {
		if fs == nil || l.Source != fs.src {
			if fs = b.files[l.Source]; fs == nil {
				return fmt.Errorf("agent: a line from unknown source %q", l.Source)
			}
			js = nil
		}
		if js == nil || l.Key != js.key {
			if js = fs.joiners[l.Key]; js == nil {
				js = &joinState{j: multiline.New(fs.rule), key: l.Key}
				fs.joiners[l.Key] = js
			}
		}
		js.path = l.Path
		if l.Truncated {
			b.a.m.truncated.Inc()
		}
		if done, ok := js.j.Add(l.Text, l.Offset, now); ok {
			if err := b.record(fs, l.Key, js.path, done, now); err != nil {
				return err
			}
		}
	}
	return nil
}

// flushDue takes the records no line has followed for their timeout: the
// last record of a quiet file.
func (b *builder) flushDue(now time.Time) error {
	for _, fs := range b.files {
		for key, js := range fs.joiners {
			if !js.j.Due(now) {
				continue
			}
			r, _ := js.j.Flush()
			if err := b.record(fs, key, js.path, r, now); err != nil {
				return err
			}
		}
	}
	return nil
}

// record encodes a file record into the open batch, with the agent's fields:
// file, and truncated when the record was cut.
func (b *builder) record(fs *fileSource, key, path string, jr multiline.Record, now time.Time) error {
	b.extra = append(b.extra[:0], record.Field{Key: "file", Value: path})
	if jr.Truncated {
		b.extra = append(b.extra, record.Field{Key: record.FieldTruncated, Value: "true"})
		b.a.m.truncated.Inc()
	}
	b.open()
	if fa, ok := fs.format.(record.JSONAppender); ok {
		b.buf = fa.AppendRecordJSON(b.buf, jr.Text, now, b.extra...)
	} else {
		rec := fs.format.Parse(jr.Text, now)
		for _, f := range b.extra {
			rec.SetField(f.Key, f.Value)
		}
		b.buf = rec.AppendJSON(b.buf)
	}
	b.buf = append(b.buf, '\n')
	b.count++
	// Records of a key come in file order: its last offset covers them all.
	if n := len(b.acks); n > 0 && b.acks[n-1].key == key && b.acks[n-1].t == fs.tailer {
		b.acks[n-1].offset = jr.Offset
	} else if i := slices.IndexFunc(b.acks, func(a ack) bool { return a.key == key && a.t == fs.tailer }); i >= 0 {
		b.acks[i].offset = jr.Offset
	} else {
		b.acks = append(b.acks, ack{t: fs.tailer, key: key, offset: jr.Offset})
	}
	return b.sealIfFull()
}

// addEvent appends an event log record to the open batch.
func (b *builder) addEvent(ev eventlog.Event) error {
	b.open()
	b.buf = append(ev.Record.AppendJSON(b.buf), '\n')
	b.count++
	if b.events == nil {
		b.events = map[string]string{}
	}
	b.events[ev.Channel] = ev.Bookmark
	return b.sealIfFull()
}

func (b *builder) open() {
	if b.count == 0 {
		b.opened = time.Now()
	}
	if b.buf == nil {
		b.buf = make([]byte, 0, batchBytes+batchBytes/8) // sealed past batchBytes: room for the last record
	}
}

func (b *builder) sealIfFull() error {
	if b.count >= batchRecords || len(b.buf) >= batchBytes {
		return b.seal()
	}
	return nil
}

// seal compresses the open batch and hands it to the spooler, with the
// checkpoint that says where each of its sources may resume. The sources
// move on once the spooler has written it; meanwhile the next batch fills.
func (b *builder) seal() error {
	if b.count == 0 {
		return nil
	}
	s := sealed{count: b.count, acks: slices.Clone(b.acks), events: b.events}
	s.checkpoint = make(map[string]string, len(b.acks)+len(b.events))
	for _, a := range b.acks {
		s.checkpoint[fileCheckpoint+a.key] = strconv.FormatInt(a.offset, 10)
	}
	for ch, mark := range b.events {
		s.checkpoint[eventCheckpoint+ch] = mark
	}
	// Spooled compressed: what the vigie output sends as is.
	var gz []byte
	select {
	case gz = <-b.sp.free:
	default:
	}
	s.gz = b.z.Append(gz[:0], b.buf)
	select {
	case b.sp.in <- s:
	case <-b.sp.done:
		return b.sp.err
	}
	b.buf, b.count, b.acks, b.events = b.buf[:0], 0, b.acks[:0], nil
	return nil
}

// finish waits until every sealed batch is spooled and acknowledged.
func (b *builder) finish() error {
	close(b.sp.in)
	<-b.sp.done
	return b.sp.err
}

// sealed is a batch on its way to the spool.
type sealed struct {
	gz         []byte // the records, gzip-compressed
	count      int
	checkpoint map[string]string
	acks       []ack
	events     map[string]string
}

// spooler writes the sealed batches to the spools, in order, then lets
// their sources move on. It runs beside the builder, so that the next batch
// is built while this one's fsyncs wait for the disk.
type spooler struct {
	in   chan sealed
	free chan []byte   // compressed buffers back to the builder
	done chan struct{} // closed when the spooler stops, err then set
	err  error
}

func startSpooler(a *Agent, marks *bookmarks, spools []*spool.Spool) *spooler {
	sp := &spooler{in: make(chan sealed, 1), free: make(chan []byte, 2), done: make(chan struct{})}
	go func() {
		defer close(sp.done)
		for s := range sp.in {
			if sp.err = sp.write(a, marks, spools, s); sp.err != nil {
				// The builder sees done and stops; batches behind this one
				// are not acknowledged, so their lines are read again.
				return
			}
			select {
			case sp.free <- s.gz:
			default:
			}
		}
	}()
	return sp
}

func (sp *spooler) write(a *Agent, marks *bookmarks, spools []*spool.Spool, s sealed) error {
	for _, p := range spools {
		if _, err := p.Append(spool.Batch{Records: s.gz, Gzip: true, Count: s.count, Checkpoint: s.checkpoint}); err != nil {
			return fmt.Errorf("agent: spool: %w", err)
		}
	}
	a.m.records.Add(float64(s.count))
	for _, k := range s.acks {
		k.t.Ack(k.key, k.offset)
	}
	for ch, mark := range s.events {
		marks.set(ch, mark)
	}
	return marks.save()
}
