package store

import "time"

// Record ids encode time: id = unix_ms<<seqBits | seq<<shardBits | shard.
// Ordering by id is then ordering by time, which lets every query walk the
// rowid (or the FTS5 doclist, which is in rowid order) newest first and stop
// at LIMIT instead of sorting every hit. The low bits name the writer shard,
// so writers never hand out the same id; each has 1024 slots per millisecond
// and moves on to the next millisecond when one is crowded.
const (
	seqBits   = 12
	shardBits = 2
	// MaxWriters is the most writer shards the id layout leaves room for.
	MaxWriters = 1 << shardBits
)

// maxFuture bounds how far ahead of its receive time a record may be placed.
// A sender with a wrong clock must not park records in a partition that the
// retention by age would keep for years.
const maxFuture = time.Hour

const dayMs = int64(24 * time.Hour / time.Millisecond)

func idFloor(t time.Time) int64 { return t.UnixMilli() << seqBits }

// idCeil is the largest id whose millisecond is t's.
func idCeil(t time.Time) int64 { return (t.UnixMilli()+1)<<seqBits - 1 }

func idMs(id int64) int64 { return id >> seqBits }

func idTime(id int64) time.Time { return time.UnixMilli(idMs(id)).UTC() }

// dayOf is the partition (UTC day number) an id belongs to.
func dayOf(id int64) int64 { return idMs(id) / dayMs }

// placeMs is the millisecond a record is filed under: its own time, unless
// that is unknown or too far in the future, then its receive time.
func placeMs(ts, received time.Time) int64 {
	if ts.IsZero() || (!received.IsZero() && ts.After(received.Add(maxFuture))) {
		if received.IsZero() {
			return time.Now().UnixMilli()
		}
		return received.UnixMilli()
	}
	if ms := ts.UnixMilli(); ms > 0 {
		return ms
	}
	return 0
}
