// Package store keeps log records in day-partitioned SQLite databases with a
// full-text index, behind one batching writer, and answers searches, facets
// and histograms written in the query language of package store/query.
package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"

	_ "github.com/mattn/go-sqlite3"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/semaphore"

	"vigie/record"
	"vigie/store/schema"
)

const driverName = "sqlite3"

// Options tune the store; zero values take the defaults.
type Options struct {
	// QueueSize bounds the records waiting for the writers (default 50,000:
	// half a second of a 100,000/s UDP burst, about 40 MiB).
	// When it is full, Submit blocks and TrySubmit refuses.
	QueueSize int
	// MaxBatch is the most records committed in one transaction (default 20,000).
	MaxBatch int
	// Writers is how many writer goroutines commit in parallel, each into
	// its own file per day (default: one per CPU, at most MaxWriters). SQLite
	// writes one file from one thread at a time: on two cores, two writers
	// store about twice as much.
	Writers int
	// RetentionDays drops partitions older than this many days (0 = keep).
	RetentionDays int
	// MaxSize drops the oldest partitions while the logs take more bytes (0 = no limit).
	MaxSize int64
	// RetentionEvery is how often retention runs (default 1 minute).
	RetentionEvery time.Duration
	// SourcesEvery is how often sender counts are saved (default 5 seconds).
	SourcesEvery time.Duration
	// OnCommit, when set, is called by the writer with every committed batch
	// (ids assigned). It must not block: it feeds the live tail and rules.
	OnCommit func([]record.Record)
	Logger   *slog.Logger
	// Registerer receives the store's metrics; nil registers nothing.
	Registerer prometheus.Registerer
}

// Store is the log store. It is safe for concurrent use.
type Store struct {
	dir     string
	opt     Options
	log     *slog.Logger
	meta    *sql.DB
	metrics *metrics

	mu    sync.Mutex
	parts []*partition // sorted by day then shard, oldest first

	queue   chan batch
	room    *semaphore.Weighted // records the queue may still take
	stopped chan struct{}       // closed when the writer has drained and exited
	closing chan struct{}
	closeMu sync.RWMutex // held shared by Submit, exclusively by Close
	closed  bool
	// readOnly stores (OpenReadOnly) have no writer, retention or meta.
	readOnly bool
	agents   *agentBatches
	sources  *sources
	cancel   context.CancelFunc
	bg       sync.WaitGroup
}

// ErrClosed is returned by Submit after Close.
var ErrClosed = errors.New("store: closed")

// Open opens (creating when needed) the store under dir and starts its writer
// and retention. Close it to commit what is queued.
func Open(ctx context.Context, dir string, opt Options) (*Store, error) {
	if opt.QueueSize <= 0 {
		opt.QueueSize = 50_000
	}
	if opt.MaxBatch <= 0 {
		opt.MaxBatch = 20_000
	}
	if opt.Writers <= 0 {
		opt.Writers = runtime.GOMAXPROCS(0)
	}
	opt.Writers = min(opt.Writers, MaxWriters)
	if opt.RetentionEvery <= 0 {
		opt.RetentionEvery = time.Minute
	}
	if opt.SourcesEvery <= 0 {
		opt.SourcesEvery = 5 * time.Second
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	logDir := filepath.Join(dir, "logs")
	if err := os.MkdirAll(logDir, 0o750); err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	meta, err := openMeta(ctx, filepath.Join(dir, "vigie.db"))
	if err != nil {
		return nil, err
	}
	s := &Store{
		dir:     dir,
		opt:     opt,
		log:     opt.Logger,
		meta:    meta,
		queue:   make(chan batch, opt.QueueSize),
		room:    semaphore.NewWeighted(int64(opt.QueueSize)),
		stopped: make(chan struct{}),
		closing: make(chan struct{}),
	}
	if err := s.loadPartitions(); err != nil {
		meta.Close()
		return nil, err
	}
	if err := s.loadAgentBatches(ctx); err != nil {
		meta.Close()
		return nil, fmt.Errorf("store: agent batches: %w", err)
	}
	if err := s.loadSources(ctx); err != nil {
		meta.Close()
		return nil, fmt.Errorf("store: sources: %w", err)
	}
	s.metrics = newMetrics(s, opt.Registerer)
	bgCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	s.cancel = cancel
	var writers sync.WaitGroup
	for shard := range opt.Writers {
		writers.Go(newWriter(s, shard).run)
	}
	go func() { writers.Wait(); close(s.stopped) }()
	s.bg.Add(1)
	go func() { defer s.bg.Done(); s.retentionLoop(bgCtx) }()
	s.bg.Go(func() { s.sourcesLoop(bgCtx, opt.SourcesEvery) })
	return s, nil
}

func openMeta(ctx context.Context, path string) (*sql.DB, error) {
	// It holds password hashes: owner only.
	db, err := schema.Open(ctx, path, metaMigrations, 0o600, "")
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	// Without FTS5 every commit would fail and be retried forever: say so
	// once, at start.
	var fts5 bool
	if err := db.QueryRowContext(ctx, "SELECT sqlite_compileoption_used('ENABLE_FTS5')").Scan(&fts5); err != nil || !fts5 {
		db.Close()
		return nil, fmt.Errorf("store: this binary's SQLite has no FTS5 full-text index: build with -tags sqlite_fts5 (make build does)")
	}
	return db, nil
}

// loadPartitions finds the partition files already on disk.
func (s *Store) loadPartitions() error {
	entries, err := os.ReadDir(filepath.Join(s.dir, "logs"))
	if err != nil {
		return fmt.Errorf("store: %w", err)
	}
	for _, e := range entries {
		if day, shard, ok := parsePartitionName(e.Name()); ok && !e.IsDir() {
			s.parts = append(s.parts, &partition{day: day, shard: shard, path: filepath.Join(s.dir, "logs", e.Name())})
		}
	}
	slices.SortFunc(s.parts, comparePartitions)
	return nil
}

func comparePartitions(a, b *partition) int {
	if a.day != b.day {
		return cmp.Compare(a.day, b.day)
	}
	return cmp.Compare(a.shard, b.shard)
}

// partitionFor returns a writer shard's partition of a day, creating its
// entry when new.
func (s *Store) partitionFor(day int64, shard int) *partition {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := &partition{day: day, shard: shard}
	i, found := slices.BinarySearchFunc(s.parts, key, comparePartitions)
	if found {
		return s.parts[i]
	}
	key.path = filepath.Join(s.dir, "logs", partitionName(day, shard))
	s.parts = slices.Insert(s.parts, i, key)
	return key
}

// daysNewestFirst lists the partitions overlapping [lo, hi] ids, grouped by
// day, newest day first.
func (s *Store) daysNewestFirst(lo, hi int64) [][]*partition {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out [][]*partition
	for i := len(s.parts) - 1; i >= 0; i-- {
		p := s.parts[i]
		if p.maxID() < lo || p.minID() > hi {
			continue
		}
		if n := len(out); n > 0 && out[n-1][0].day == p.day {
			out[n-1] = append(out[n-1], p)
		} else {
			out = append(out, []*partition{p})
		}
	}
	return out
}

// Size is the bytes all log partitions take on disk.
func (s *Store) Size() int64 {
	s.mu.Lock()
	parts := slices.Clone(s.parts)
	s.mu.Unlock()
	var n int64
	for _, p := range parts {
		n += p.size()
	}
	return n
}

// Meta is vigie.db, for the parts of vigie that keep state besides logs.
func (s *Store) Meta() *sql.DB { return s.meta }

// OpenReadOnly opens an existing store for searching only, beside a running
// server or without one: no writer, no retention, nothing created.
func OpenReadOnly(ctx context.Context, dir string) (*Store, error) {
	if _, err := os.Stat(filepath.Join(dir, "logs")); err != nil {
		return nil, fmt.Errorf("store: no vigie data under %s: %w", dir, err)
	}
	s := &Store{dir: dir, log: slog.New(slog.DiscardHandler), stopped: make(chan struct{}), closing: make(chan struct{}), readOnly: true, sources: newSources()}
	close(s.stopped)
	s.closed = true
	if err := s.loadPartitions(); err != nil {
		return nil, err
	}
	s.metrics = newMetrics(s, nil)
	return s, nil
}

// Close stops taking records, commits everything queued, and closes the
// databases. It waits for the writer however long the commit takes: an
// accepted record is never thrown away at shutdown.
func (s *Store) Close() error {
	s.closeMu.Lock()
	if s.readOnly {
		s.closeMu.Unlock()
		s.mu.Lock()
		defer s.mu.Unlock()
		var errs []error
		for _, p := range s.parts {
			errs = append(errs, p.closeHandles())
		}
		return errors.Join(errs...)
	}
	if s.closed {
		s.closeMu.Unlock()
		return nil
	}
	s.closed = true
	close(s.closing)
	s.closeMu.Unlock()
	<-s.stopped
	s.cancel()
	s.bg.Wait()
	if err := s.flushSources(context.Background()); err != nil {
		s.log.Error("store: saving sender counts", "err", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var errs []error
	for _, p := range s.parts {
		errs = append(errs, p.closeHandles())
	}
	errs = append(errs, s.meta.Close())
	return errors.Join(errs...)
}
