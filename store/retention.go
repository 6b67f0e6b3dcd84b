package store

import (
	"context"
	"slices"
	"time"
)

func (s *Store) retentionLoop(ctx context.Context) {
	t := time.NewTicker(s.opt.RetentionEvery)
	defer t.Stop()
	for {
		s.applyRetention(time.Now(), s.opt.RetentionDays, s.opt.MaxSize)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// applyRetention deletes whole day partitions: those past the age limit, then
// the oldest while the logs are over the size limit. Today's partition is
// never deleted for size: that would throw away what was just acknowledged.
// Deleting a file costs the same for a hundred records as for a billion, and
// the writer only waits if it is writing into the very partition deleted.
func (s *Store) applyRetention(now time.Time, days int, maxSize int64) {
	today := now.UnixMilli() / dayMs
	s.mu.Lock()
	parts := slices.Clone(s.parts)
	s.mu.Unlock()
	if days > 0 {
		oldest := today - int64(days) + 1
		for len(parts) > 0 && parts[0].day < oldest {
			s.drop(parts[0], "age")
			parts = parts[1:]
		}
	}
	if maxSize > 0 {
		total := int64(0)
		for _, p := range parts {
			total += p.size()
		}
		for len(parts) > 0 && total > maxSize && parts[0].day < today {
			total -= parts[0].size()
			s.drop(parts[0], "size")
			parts = parts[1:]
		}
		if total > maxSize {
			s.log.Warn("store: over retention.max_size with only today's partition left", "bytes", total, "max", maxSize)
		}
	}
}

func (s *Store) drop(p *partition, reason string) {
	s.mu.Lock()
	if i := slices.Index(s.parts, p); i >= 0 {
		s.parts = slices.Delete(s.parts, i, i+1)
	}
	s.mu.Unlock()
	size := p.size()
	if err := p.remove(); err != nil {
		s.log.Error("store: retention could not delete a partition", "file", p.path, "err", err)
		return
	}
	s.metrics.retained.WithLabelValues(reason).Inc()
	s.log.Info("store: retention deleted a partition", "file", p.path, "bytes", size, "reason", reason)
}
