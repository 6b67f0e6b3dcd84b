package store

import (
	"context"

	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"vigie/record"
)

// Source is one sender as the store has seen it: a syslog sender by
// transport and address, or an agent by name.
type Source struct {
	Source      string    `json:"source"` // "syslog/udp 10.0.0.5", "agent/erp1 10.0.0.7"
	Kind        string    `json:"kind"`   // "syslog", "agent"
	Transport   string    `json:"transport,omitempty"`
	Name        string    `json:"name,omitempty"` // the agent's name
	Address     string    `json:"address"`
	Host        string    `json:"host"` // the host name in its last record
	FirstSeen   time.Time `json:"first_seen"`
	LastSeen    time.Time `json:"last_seen"`
	Records     int64     `json:"records"`
	ParseErrors int64     `json:"parse_errors"`
}

// sources counts records per sender as they are committed and writes the
// counts to vigie.db every few seconds: a crash loses a few seconds of
// counting, never a record.
type sources struct {
	mu    sync.Mutex
	all   map[string]*Source
	dirty map[string]bool
}

func newSources() *sources {
	return &sources{all: map[string]*Source{}, dirty: map[string]bool{}}
}

// count adds a committed batch, aggregated first so the lock is taken once.
func (ss *sources) count(recs []record.Record) {
	type tally struct {
		n, errs         int64
		host            string
		first, received time.Time
	}
	local := map[string]*tally{}
	var t *tally // the previous record's: a batch mostly has one sender
	for i := range recs {
		r := &recs[i]
		if t == nil || r.Source != recs[i-1].Source {
			if t = local[r.Source]; t == nil {
				t = &tally{}
				local[r.Source] = t
			}
		}
		if t.n == 0 || r.Received.Before(t.first) {
			t.first = r.Received
		}
		t.n++
		if r.Fields[record.FieldParseError] != "" {
			t.errs++
		}
		if !r.Received.Before(t.received) {
			t.received, t.host = r.Received, r.Host
		}
	}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for src, t := range local {
		s := ss.all[src]
		if s == nil {
			s = describeSource(src)
			s.FirstSeen = t.first
			ss.all[src] = s
		}
		s.Records += t.n
		s.ParseErrors += t.errs
		if !t.received.Before(s.LastSeen) {
			s.LastSeen, s.Host = t.received, t.host
		}
		ss.dirty[src] = true
	}
}

// describeSource splits "syslog/udp 10.0.0.5" and "agent/erp1 10.0.0.7".
func describeSource(src string) *Source {
	s := &Source{Source: src}
	how, addr, _ := strings.Cut(src, " ")
	s.Address = addr
	kind, detail, _ := strings.Cut(how, "/")
	s.Kind = kind
	switch kind {
	case "agent":
		s.Name = detail
	default:
		s.Transport = detail
	}
	return s
}

// Sources lists the senders seen, most recently seen first.
func (s *Store) Sources() []Source {
	s.sources.mu.Lock()
	out := make([]Source, 0, len(s.sources.all))
	for _, src := range s.sources.all {
		out = append(out, *src)
	}
	s.sources.mu.Unlock()
	slices.SortFunc(out, func(a, b Source) int {
		if c := b.LastSeen.Compare(a.LastSeen); c != 0 {
			return c
		}
		return strings.Compare(a.Source, b.Source)
	})
	return out
}

func (s *Store) loadSources(ctx context.Context) error {
	s.sources = newSources()
	rows, err := s.meta.QueryContext(ctx, `SELECT source, first_seen, last_seen, records, parse_errors, host FROM sources`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var src, host string
		var first, last, n, errs int64
		if err := rows.Scan(&src, &first, &last, &n, &errs, &host); err != nil {
			return err
		}
		d := describeSource(src)
		d.FirstSeen, d.LastSeen = time.UnixMicro(first).UTC(), time.UnixMicro(last).UTC()
		d.Records, d.ParseErrors, d.Host = n, errs, host
		s.sources.all[src] = d
	}
	return rows.Err()
}

// flushSources writes the senders counted since the last flush.
func (s *Store) flushSources(ctx context.Context) error {
	s.sources.mu.Lock()
	var batch []Source
	for src := range s.sources.dirty {
		batch = append(batch, *s.sources.all[src])
	}
	clear(s.sources.dirty)
	s.sources.mu.Unlock()
	if len(batch) == 0 {
		return nil
	}
	tx, err := s.meta.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, src := range batch {
		if _, err := tx.ExecContext(ctx, `INSERT INTO sources(source, first_seen, last_seen, records, parse_errors, host)
			VALUES(?, ?, ?, ?, ?, ?) ON CONFLICT(source) DO UPDATE SET
			last_seen = excluded.last_seen, records = excluded.records, parse_errors = excluded.parse_errors, host = excluded.host`,
			src.Source, src.FirstSeen.UnixMicro(), src.LastSeen.UnixMicro(), src.Records, src.ParseErrors, src.Host); err != nil {
			return fmt.Errorf("sources: %w", err)
		}
	}
	return tx.Commit()
}

func (s *Store) sourcesLoop(ctx context.Context, every time.Duration) {
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if err := s.flushSources(ctx); err != nil {
				s.log.Error("store: saving sender counts", "err", err)
			}
		}
	}
}
