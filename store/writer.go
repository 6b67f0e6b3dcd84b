package store

import (
	"context"
	"database/sql/driver"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mattn/go-sqlite3"

	"vigie/record"
)

// batch is what producers hand to the writer: records from one connection
// read or one agent request, and, for SubmitSync, where to say it committed.
type batch struct {
	recs []record.Record
	done chan error
	mark *agentMark // an agent batch: its sequence is recorded with it
}

// agentMark is an agent's batch sequence, committed in the same transaction
// as the batch's last records so that "stored" and "known as stored" cannot
// disagree after a crash.
type agentMark struct {
	agent string
	seq   int64
	// from, to: the batch's records in the flattened commit.
	from, to int
}

// Submit queues records for the writer, blocking while the queue is full:
// that is the backpressure a TCP reader passes on to its sender.
func (s *Store) Submit(ctx context.Context, recs []record.Record) error {
	return s.submit(ctx, batch{recs: recs})
}

// TrySubmit queues records if there is room and reports whether it did; a
// UDP reader must never block, so it counts a refusal as a drop.
func (s *Store) TrySubmit(recs []record.Record) bool {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed {
		return false
	}
	if !s.room.TryAcquire(s.weight(recs)) {
		return false
	}
	s.metrics.queued.Add(int64(len(recs)))
	s.queue <- batch{recs: recs}
	return true
}

// weight is what a batch takes of the queue's room; a batch larger than the
// whole queue takes all of it rather than waiting forever.
func (s *Store) weight(recs []record.Record) int64 {
	return max(1, min(int64(len(recs)), int64(s.opt.QueueSize)))
}

// SubmitSync queues records and returns once they are committed, for callers
// that must acknowledge only what is durable (the agent ingest endpoint).
func (s *Store) SubmitSync(ctx context.Context, recs []record.Record) error {
	done := make(chan error, 1)
	if err := s.submit(ctx, batch{recs: recs, done: done}); err != nil {
		return err
	}
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (s *Store) submit(ctx context.Context, b batch) error {
	s.closeMu.RLock()
	defer s.closeMu.RUnlock()
	if s.closed {
		return ErrClosed
	}
	if err := s.room.Acquire(ctx, s.weight(b.recs)); err != nil {
		return err
	}
	s.metrics.queued.Add(int64(len(b.recs)))
	// The room was reserved, so the channel (one slot per record) has space.
	s.queue <- b
	return nil
}

// writer is one of the goroutines that commit; each owns one file per day
// (its shard) and the ids whose low bits are its shard number.
type writer struct {
	s     *Store
	shard int
	// next remembers, per millisecond, the next free id, so a crowded
	// millisecond costs one map lookup instead of a failed insert.
	next map[int64]int64
	buf  []byte
	// dayOf and byDay group a commit's records by partition; kept from
	// commit to commit, as a commit may hold 20,000 records.
	dayOf, byDay []int
}

func newWriter(s *Store, shard int) *writer {
	return &writer{s: s, shard: shard, next: make(map[int64]int64, 1024)}
}

func (w *writer) run() {
	for {
		select {
		case b := <-w.s.queue:
			w.commit(w.gather(b))
		case <-w.s.closing:
			// Close holds out new producers; everything queued is committed.
			for {
				select {
				case b := <-w.s.queue:
					w.commit(w.gather(b))
				default:
					return
				}
			}
		}
	}
}

// gather takes what else is already queued, up to MaxBatch records: under
// load batches grow by themselves, idle a record is committed at once.
func (w *writer) gather(first batch) []batch {
	bs := []batch{first}
	n := len(first.recs)
	for n < w.s.opt.MaxBatch {
		select {
		case b := <-w.s.queue:
			bs = append(bs, b)
			n += len(b.recs)
		default:
			return bs
		}
	}
	return bs
}

// commit writes the batches, retrying while the database refuses (disk
// full, locked by an outside process): records are kept, not dropped, and
// the queue filling up pushes back on the senders meanwhile.
func (w *writer) commit(bs []batch) {
	var recs []record.Record
	var marks []agentMark
	if len(bs) == 1 {
		recs = bs[0].recs
	} else {
		for _, b := range bs {
			recs = append(recs, b.recs...)
		}
	}
	n := 0
	for _, b := range bs {
		if b.mark != nil {
			m := *b.mark
			m.from, m.to = n, n+len(b.recs)
			marks = append(marks, m)
		}
		n += len(b.recs)
	}
	err := w.writeRetrying(recs, marks)
	// Records in the writer's hands counted against the queue's bound until
	// now, so memory stayed bounded while a commit stalled. The room is given
	// back before anyone is told, so a producer woken by its commit finds it.
	w.s.metrics.queued.Add(-int64(len(recs)))
	for _, b := range bs {
		w.s.room.Release(w.s.weight(b.recs))
	}
	if err == nil && len(recs) > 0 {
		w.s.sources.count(recs)
		if w.s.opt.OnCommit != nil {
			w.s.opt.OnCommit(recs)
		}
	}
	for _, b := range bs {
		if b.done != nil {
			b.done <- err
		}
	}
}

func (w *writer) writeRetrying(recs []record.Record, marks []agentMark) error {
	start := time.Now()
	for attempt := 0; ; attempt++ {
		err := w.write(recs, marks)
		if err == nil {
			w.s.metrics.commitSeconds.Observe(time.Since(start).Seconds())
			w.s.metrics.stored.Add(float64(len(recs)))
			return nil
		}
		w.s.metrics.commitErrors.Inc()
		w.s.log.Error("store: commit failed, will retry", "records", len(recs), "attempt", attempt+1, "err", err)
		select {
		case <-w.s.closing:
			if attempt >= 5 {
				w.s.log.Error("store: giving up at shutdown; records not stored", "records", len(recs), "err", err)
				w.s.metrics.lost.Add(float64(len(recs)))
				return err
			}
		default:
		}
		time.Sleep(min(5*time.Second, 100*time.Millisecond<<min(attempt, 6)))
	}
}

// write stores recs, one transaction per partition touched (almost always
// one), assigning ids in place.
func (w *writer) write(recs []record.Record, marks []agentMark) error {
	if len(w.next) > 1<<16 {
		clear(w.next)
	}
	// Group by partition without reordering within one: the day of each
	// record, then a counting sort of their indexes by day.
	w.dayOf = slices.Grow(w.dayOf[:0], len(recs))[:len(recs)]
	dayIndex := make(map[int64]int, 1)
	var days []int64
	cur := -1 // the previous record's day, as an index into days
	for i := range recs {
		d := placeMs(recs[i].Time, recs[i].Received) / dayMs
		if cur < 0 || days[cur] != d { // neighbours mostly share their day
			var ok bool
			if cur, ok = dayIndex[d]; !ok {
				cur = len(days)
				dayIndex[d] = cur
				days = append(days, d)
			}
		}
		w.dayOf[i] = cur
	}
	starts := make([]int, len(days)+1) // day k's records: byDay[starts[k]:starts[k+1]]
	for _, k := range w.dayOf {
		starts[k+1]++
	}
	for k := range days {
		starts[k+1] += starts[k]
	}
	fill := slices.Clone(starts[:len(days)])
	w.byDay = slices.Grow(w.byDay[:0], len(recs))[:len(recs)]
	for i, k := range w.dayOf {
		w.byDay[fill[k]] = i
		fill[k]++
	}
	// A batch's mark goes with the last of its transactions: a crash between
	// two leaves it unmarked, so the agent resends (doubles, never losses).
	marksOf := make([][]agentMark, len(days))
	for _, m := range marks {
		last := 0
		for i := m.from; i < m.to; i++ {
			last = max(last, w.dayOf[i])
		}
		if m.from < m.to {
			marksOf[last] = append(marksOf[last], m)
		}
	}
	for i, d := range days {
		if err := w.writeDay(d, recs, w.byDay[starts[i]:starts[i+1]], marksOf[i]); err != nil {
			return err
		}
	}
	return nil
}

func (w *writer) writeDay(day int64, recs []record.Record, idx []int, marks []agentMark) error {
	for {
		p := w.s.partitionFor(day, w.shard)
		p.mu.RLock()
		if p.deleted { // retention got there first; partitionFor makes a new one
			p.mu.RUnlock()
			continue
		}
		err := w.writeTx(p, recs, idx, marks)
		p.mu.RUnlock()
		return err
	}
}

const insertLog = `INSERT OR IGNORE INTO logs(id, ts, received, host, app, procid, msgid, facility, severity, source, message, fields)
VALUES(?,?,?,?,?,?,?,?,?,?,?,?)`

// writeTx commits the records of one partition in one transaction. It talks
// to the SQLite driver directly: database/sql's per-statement conversions,
// locks and context checks cost a tenth of the insert itself, twice per
// record, on the path that bounds ingestion.
func (w *writer) writeTx(p *partition, recs []record.Record, idx []int, marks []agentMark) error {
	conn, err := p.writer(context.Background())
	if err != nil {
		return err
	}
	return conn.Raw(func(dc any) error {
		sc, ok := dc.(*sqlite3.SQLiteConn)
		if !ok {
			return fmt.Errorf("store: unexpected driver connection %T", dc)
		}
		if err := w.insert(sc, recs, idx, marks); err != nil {
			return fmt.Errorf("%s: %w", filepath.Base(p.path), err)
		}
		return nil
	})
}

func (w *writer) insert(sc *sqlite3.SQLiteConn, recs []record.Record, idx []int, marks []agentMark) (err error) {
	// No cancellation: a context without Done keeps go-sqlite3 from starting
	// a watcher goroutine per statement, and a started batch is finished.
	ctx := context.Background()
	tx, err := sc.BeginTx(ctx, driver.TxOptions{})
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tx.Rollback()
		}
	}()
	ins, err := prepare(sc, insertLog)
	if err != nil {
		return err
	}
	defer ins.Close()
	fts, err := prepare(sc, `INSERT INTO fts(rowid, message) VALUES(?, ?)`)
	if err != nil {
		return err
	}
	defer fts.Close()
	top, err := prepare(sc, `SELECT max(id) FROM logs WHERE id BETWEEN ? AND ?`)
	if err != nil {
		return err
	}
	defer top.Close()
	args := make([]driver.NamedValue, 12)
	for i := range args {
		args[i].Ordinal = i + 1
	}
	ftsArgs := []driver.NamedValue{{Ordinal: 1}, {Ordinal: 2}}
	// ids handed out in this transaction: on rollback they are forgotten.
	assigned := make(map[int64]int64, 4)
	for _, i := range idx {
		r := &recs[i]
		sanitize(r)
		ms := placeMs(r.Time, r.Received)
		id := w.candidate(ms, assigned)
		args[0].Value = id
		setInt(&args[1], r.Time.UnixMicro())
		setInt(&args[2], r.Received.UnixMicro())
		setText(&args[3], r.Host)
		setText(&args[4], r.App)
		setText(&args[5], r.ProcID)
		setText(&args[6], r.MsgID)
		setInt(&args[7], int64(r.Facility))
		setInt(&args[8], int64(r.Severity))
		setText(&args[9], r.Source)
		setText(&args[10], r.Message)
		if len(r.Fields) > 0 {
			w.buf = appendFieldsJSON(w.buf[:0], r.Fields)
			if p, ok := args[11].Value.(string); !ok || p != string(w.buf) {
				args[11].Value = string(w.buf)
			}
		} else {
			args[11].Value = nil
		}
		for {
			res, err := ins.ExecContext(ctx, args)
			if err != nil {
				return fmt.Errorf("insert: %w", err)
			}
			if n, _ := res.RowsAffected(); n == 1 {
				break
			}
			// Taken by an earlier run (restart) or a crowded millisecond.
			if id, err = w.freeID(ctx, top, id); err != nil {
				return err
			}
			args[0].Value = id
		}
		// Keyed by the record's own millisecond even when a crowded one
		// spilled into the next: its following records go on from here
		// instead of colliding, one query each, all the way.
		assigned[ms] = id + slotStep
		if r.Message != "" {
			// The boxes already made for the row: no new allocation.
			ftsArgs[0].Value, ftsArgs[1].Value = args[0].Value, args[10].Value
			if _, err := fts.ExecContext(ctx, ftsArgs); err != nil {
				return fmt.Errorf("index: %w", err)
			}
		}
		r.ID = id
	}
	if err := insertMarks(ctx, sc, marks); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return err
	}
	for ms, id := range assigned {
		w.next[ms] = id
	}
	return nil
}

// setText and setInt keep the previous record's value when it is the same:
// making a driver.Value of a string or a large integer allocates, and
// neighbouring records mostly share host, app, source and receive time.
func setText(a *driver.NamedValue, s string) {
	if p, ok := a.Value.(string); !ok || p != s {
		a.Value = s
	}
}

func setInt(a *driver.NamedValue, n int64) {
	if p, ok := a.Value.(int64); !ok || p != n {
		a.Value = n
	}
}

func insertMarks(ctx context.Context, sc *sqlite3.SQLiteConn, marks []agentMark) error {
	for _, m := range marks {
		_, err := sc.ExecContext(ctx, `INSERT OR IGNORE INTO agent_batch_seqs(agent, seq) VALUES(?, ?)`,
			[]driver.NamedValue{{Ordinal: 1, Value: m.agent}, {Ordinal: 2, Value: m.seq}})
		if err != nil {
			return fmt.Errorf("agent batch mark: %w", err)
		}
	}
	return nil
}

// stmt is what the writer needs of a prepared driver statement.
type stmt interface {
	driver.StmtExecContext
	driver.StmtQueryContext
	Close() error
}

func prepare(sc *sqlite3.SQLiteConn, query string) (stmt, error) {
	st, err := sc.PrepareContext(context.Background(), query)
	if err != nil {
		return nil, err
	}
	return st.(stmt), nil
}

// candidate is the first id worth trying for a record placed at ms.
func (w *writer) candidate(ms int64, assigned map[int64]int64) int64 {
	if id, ok := assigned[ms]; ok {
		return id
	}
	if id, ok := w.next[ms]; ok {
		return id
	}
	return ms<<seqBits | int64(w.shard)
}

// slotStep is the distance between two ids of the same shard.
const slotStep = 1 << shardBits

// freeID finds the next unused id of this shard at or after id within the
// partition, spilling into the following milliseconds when one is full.
func (w *writer) freeID(ctx context.Context, top stmt, id int64) (int64, error) {
	for {
		msEnd := (id>>seqBits+1)<<seqBits - 1
		highest, err := queryMax(ctx, top, id, msEnd)
		if err != nil {
			return 0, err
		}
		if highest < 0 {
			return id, nil
		}
		// Every id in this file carries this shard's low bits.
		if next := highest + slotStep; next <= msEnd {
			return next, nil
		}
		id = msEnd + 1 + int64(w.shard)
		if dayOf(id) != dayOf(msEnd) {
			return 0, fmt.Errorf("no free id left in the day of %s", idTime(msEnd).Format(time.RFC3339))
		}
	}
}

// queryMax runs the max(id) statement; -1 when there is no row in range.
func queryMax(ctx context.Context, top stmt, lo, hi int64) (int64, error) {
	rows, err := top.QueryContext(ctx, []driver.NamedValue{{Ordinal: 1, Value: lo}, {Ordinal: 2, Value: hi}})
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	dest := make([]driver.Value, 1)
	if err := rows.Next(dest); err != nil {
		return 0, err
	}
	if v, ok := dest[0].(int64); ok {
		return v, nil
	}
	return -1, nil
}

// sanitize makes a record safe to store: text columns must be valid UTF-8
// for the full-text tokenizer and for JSON answers.
func sanitize(r *record.Record) {
	if r.Received.IsZero() {
		r.Received = time.Now()
	}
	if r.Time.IsZero() {
		r.Time = r.Received
	}
	r.Time = r.Time.UTC()
	r.Received = r.Received.UTC()
	for _, p := range []*string{&r.Host, &r.App, &r.ProcID, &r.MsgID, &r.Source, &r.Message} {
		if !utf8.ValidString(*p) {
			*p = strings.ToValidUTF8(*p, "\uFFFD")
		}
	}
}
