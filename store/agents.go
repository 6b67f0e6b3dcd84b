package store

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"sync"

	"vigie/record"
)

// agentBatches remembers the last batch sequence committed per agent, so a
// batch an agent resends after a timeout is acknowledged, not stored twice.
// The truth is in the partition files (table agent_batches, written in the
// batch's own transaction); this is its cache, rebuilt at start.
type agentBatches struct {
	mu   sync.Mutex
	last map[string]int64
	// busy serialises one agent's batches: a resend racing its original
	// must see the original's outcome.
	busy map[string]*sync.Mutex
}

func (a *agentBatches) lock(agent string) *sync.Mutex {
	a.mu.Lock()
	defer a.mu.Unlock()
	m, ok := a.busy[agent]
	if !ok {
		m = &sync.Mutex{}
		a.busy[agent] = m
	}
	return m
}

// SubmitAgentBatch stores one batch of an agent and returns once it is
// committed. A batch whose sequence is not above the last one committed for
// that agent is a resend: it is not stored again and duplicate is true.
// Agents number their batches from 1 and resend a batch until acknowledged.
func (s *Store) SubmitAgentBatch(ctx context.Context, agent string, seq int64, recs []record.Record) (duplicate bool, err error) {
	if seq <= 0 {
		return false, errors.New("store: agent batch sequence must be positive")
	}
	m := s.agents.lock(agent)
	m.Lock()
	defer m.Unlock()
	s.agents.mu.Lock()
	last := s.agents.last[agent]
	s.agents.mu.Unlock()
	if seq <= last {
		return true, nil
	}
	if len(recs) == 0 {
		return false, nil
	}
	done := make(chan error, 1)
	if err := s.submit(ctx, batch{recs: recs, done: done, mark: &agentMark{agent: agent, seq: seq}}); err != nil {
		return false, err
	}
	// Wait for the commit even if the client goes away: the outcome must be
	// known before this agent's next batch is looked at.
	if err := <-done; err != nil {
		return false, err
	}
	s.agents.mu.Lock()
	s.agents.last[agent] = max(s.agents.last[agent], seq)
	s.agents.mu.Unlock()
	return false, nil
}

// loadAgentBatches reads every partition's agent_batches into the cache.
func (s *Store) loadAgentBatches(ctx context.Context) error {
	s.agents = &agentBatches{last: map[string]int64{}, busy: map[string]*sync.Mutex{}}
	for _, day := range s.daysNewestFirst(0, 1<<62) {
		for _, p := range day {
			if err := s.loadAgentBatchesOf(ctx, p); err != nil {
				return err
			}
		}
	}
	return nil
}

func (s *Store) loadAgentBatchesOf(ctx context.Context, p *partition) error {
	if _, err := os.Stat(p.path); err != nil {
		return nil
	}
	db, err := sql.Open(driverName, readerDSN(p.path))
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT agent, seq FROM agent_batches`)
	if err != nil {
		return nil // a partition from before migration 2: no agent batches in it
	}
	defer rows.Close()
	for rows.Next() {
		var agent string
		var seq int64
		if err := rows.Scan(&agent, &seq); err != nil {
			return err
		}
		s.agents.last[agent] = max(s.agents.last[agent], seq)
	}
	return rows.Err()
}
