package store

import (
	"context"
	"math"
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

// applyRetention deletes whole days: those past the age limit, then the
// oldest while the logs are over the size limit. Today is never deleted for
// size: that would throw away what was just acknowledged. Deleting a file
// costs the same for a hundred records as for a billion, and a writer only
// waits if it is writing into the very file deleted.
func (s *Store) applyRetention(now time.Time, days int, maxSize int64) {
	today := now.UnixMilli() / dayMs
	byDay := s.daysNewestFirst(0, math.MaxInt64)
	slices.Reverse(byDay) // oldest first
	if days > 0 {
		oldest := today - int64(days) + 1
		for len(byDay) > 0 && byDay[0][0].day < oldest {
			s.dropDay(byDay[0], "age")
			byDay = byDay[1:]
		}
	}
	if maxSize <= 0 {
		return
	}
	total := int64(0)
	for _, day := range byDay {
		total += daySize(day)
	}
	for len(byDay) > 0 && total > maxSize && byDay[0][0].day < today {
		total -= daySize(byDay[0])
		s.dropDay(byDay[0], "size")
		byDay = byDay[1:]
	}
	if total > maxSize {
		s.log.Warn("store: over retention.max_size with only today's partition left", "bytes", total, "max", maxSize)
	}
}

func daySize(day []*partition) int64 {
	var n int64
	for _, p := range day {
		n += p.size()
	}
	return n
}

func (s *Store) dropDay(day []*partition, reason string) {
	for _, p := range day {
		s.drop(p, reason)
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
