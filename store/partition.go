package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"vigie/store/schema"
)

// A partition is one UTC day of records in its own SQLite file. Retention
// then deletes a file instead of running a DELETE over millions of rows, and a
// search visits partitions newest first and stops as soon as it has enough.
type partition struct {
	day   int64 // days since the Unix epoch, UTC
	shard int   // the writer that owns it: one file per writer per day
	path  string

	// mu guards the open handles against deletion: users hold it shared,
	// retention takes it exclusively to close and unlink.
	mu      sync.RWMutex
	deleted bool
	wdb     *sql.DB   // the writer's pool of one, opened on first write
	wconn   *sql.Conn // its connection, pinned so its pragmas hold
	rdb     *sql.DB   // read pool, opened on first read
	openMu  sync.Mutex
	// schemaSeen: a reader found the tables; a file the writer has only just
	// created may not have them yet.
	schemaSeen atomic.Bool
}

const partPrefix, partSuffix = "logs-", ".db"

// partitionName is logs-YYYYMMDD-S.db, S the writer shard.
func partitionName(day int64, shard int) string {
	return partPrefix + time.UnixMilli(day*dayMs).UTC().Format("20060102") + "-" + strconv.Itoa(shard) + partSuffix
}

// parsePartitionName returns the day and shard of a partition file name.
func parsePartitionName(name string) (day int64, shard int, ok bool) {
	rest, found := strings.CutPrefix(name, partPrefix)
	if !found {
		return 0, 0, false
	}
	if rest, found = strings.CutSuffix(rest, partSuffix); !found || len(rest) != 10 || rest[8] != '-' {
		return 0, 0, false
	}
	t, err := time.Parse("20060102", rest[:8])
	if err != nil {
		return 0, 0, false
	}
	shard = int(rest[9] - '0')
	if shard < 0 || shard >= MaxWriters {
		return 0, 0, false
	}
	return t.UnixMilli() / dayMs, shard, true
}

func (p *partition) minID() int64 { return (p.day * dayMs) << seqBits }
func (p *partition) maxID() int64 { return ((p.day+1)*dayMs)<<seqBits - 1 }

func writerDSN(path string) string {
	// synchronous=NORMAL in WAL mode: a power cut may lose the last commits
	// but never corrupts; each commit is a batch, fsynced at checkpoints.
	return "file:" + path + "?_journal_mode=WAL&_synchronous=NORMAL&_busy_timeout=10000&_txlock=immediate&_foreign_keys=0&_cache_size=-16000"
}

func readerDSN(path string) string {
	return "file:" + path + "?mode=ro&_busy_timeout=10000&_cache_size=-8000"
}

// writer opens (creating and migrating when new) the write connection.
func (p *partition) writer(ctx context.Context) (*sql.Conn, error) {
	p.openMu.Lock()
	defer p.openMu.Unlock()
	if p.wconn != nil {
		return p.wconn, nil
	}
	db, err := sql.Open(driverName, writerDSN(p.path))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	db.SetConnMaxIdleTime(0)
	if err := schema.Migrate(ctx, db, partitionMigrations); err != nil {
		db.Close()
		return nil, fmt.Errorf("partition %s: %w", filepath.Base(p.path), err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, err
	}
	// Logs are for the operators, not every local user.
	if err := schema.RestrictMode(p.path, 0o640); err != nil {
		conn.Close()
		db.Close()
		return nil, err
	}
	// Checkpoint every ~40 MB of WAL instead of 4 MB: each checkpoint
	// fsyncs, and at 100k records/s the default meant several a second.
	if _, err := conn.ExecContext(ctx, "PRAGMA wal_autocheckpoint = 10000"); err != nil {
		conn.Close()
		db.Close()
		return nil, err
	}
	p.wdb, p.wconn = db, conn
	return conn, nil
}

// reader opens the read pool. A partition file that does not exist yet has
// nothing to read: the caller skips it.
func (p *partition) reader() (*sql.DB, error) {
	p.openMu.Lock()
	defer p.openMu.Unlock()
	if p.rdb != nil {
		return p.rdb, nil
	}
	if _, err := os.Stat(p.path); err != nil {
		return nil, err
	}
	db, err := sql.Open(driverName, readerDSN(p.path))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(4)
	db.SetConnMaxIdleTime(time.Minute)
	p.rdb = db
	return db, nil
}

// hasSchema reports whether the partition's tables exist yet.
func (p *partition) hasSchema(db *sql.DB) bool {
	if p.schemaSeen.Load() {
		return true
	}
	var n int
	if db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE name = 'logs'`).Scan(&n) != nil || n == 0 {
		return false
	}
	p.schemaSeen.Store(true)
	return true
}

// closeHandles closes both pools; the caller holds p.mu exclusively or the
// store is shutting down.
func (p *partition) closeHandles() error {
	p.openMu.Lock()
	defer p.openMu.Unlock()
	var errs []error
	if p.wconn != nil {
		// Fold the WAL back so the file on disk is whole on its own.
		p.wconn.ExecContext(context.Background(), "PRAGMA wal_checkpoint(TRUNCATE)")
		errs = append(errs, p.wconn.Close(), p.wdb.Close())
		p.wdb, p.wconn = nil, nil
	}
	if p.rdb != nil {
		errs = append(errs, p.rdb.Close())
		p.rdb = nil
	}
	return errors.Join(errs...)
}

// size is the bytes the partition takes on disk, WAL included.
func (p *partition) size() int64 {
	var n int64
	for _, suffix := range []string{"", "-wal", "-shm"} {
		if fi, err := os.Stat(p.path + suffix); err == nil {
			n += fi.Size()
		}
	}
	return n
}

// remove closes and unlinks the partition's files.
func (p *partition) remove() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.deleted = true
	err := p.closeHandles()
	for _, suffix := range []string{"-wal", "-shm", ""} {
		if e := os.Remove(p.path + suffix); e != nil && !errors.Is(e, os.ErrNotExist) {
			err = errors.Join(err, e)
		}
	}
	return err
}
