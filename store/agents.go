package store

import (
	"context"
	"database/sql"
	"errors"
	"os"
	"slices"
	"sync"

	"vigie/record"
)

// MaxAgentWindow is the most batches an agent may have in flight at once
// (X-Vigie-Window). It bounds what the store must remember per agent.
const MaxAgentWindow = 64

// agentBatches remembers which batch sequences of each agent are committed,
// so a batch an agent resends after a timeout is acknowledged, not stored
// twice. The truth is in the partition files (agent_batch_seqs, written in
// the batch's own transaction); this is its cache, rebuilt at start.
//
// An agent keeps at most `window` batches in flight and sends batch S only
// once every batch up to S-window is settled (acknowledged, or refused for
// good): it never sends those again. So per agent the store keeps a
// watermark below which nothing can come back, and the exact set of
// committed sequences above it. Batches of one agent may then commit in any
// order, on every writer at once.
type agentBatches struct {
	mu     sync.Mutex
	agents map[string]*agentState
}

type agentState struct {
	floor     int64                   // no sequence at or below will be sent again
	committed map[int64]bool          // committed sequences above floor
	inflight  map[int64]chan struct{} // being committed; closed when settled
}

func (a *agentBatches) state(agent string) *agentState {
	st, ok := a.agents[agent]
	if !ok {
		st = &agentState{committed: map[int64]bool{}, inflight: map[int64]chan struct{}{}}
		a.agents[agent] = st
	}
	return st
}

// raise moves the floor up and forgets what it passes.
func (st *agentState) raise(floor int64) {
	if floor <= st.floor {
		return
	}
	st.floor = floor
	for seq := range st.committed {
		if seq <= floor {
			delete(st.committed, seq)
		}
	}
}

// SubmitAgentBatch stores one batch of an agent and returns once it is
// committed. A batch already committed, or at or below the agent's floor,
// is a resend: it is not stored again and duplicate is true. window is how
// many batches the agent keeps in flight (1 to MaxAgentWindow; agents that
// send one at a time say 1). Agents number their batches from 1 and resend
// a batch until acknowledged.
func (s *Store) SubmitAgentBatch(ctx context.Context, agent string, seq int64, window int, recs []record.Record) (duplicate bool, err error) {
	if seq <= 0 {
		return false, errors.New("store: agent batch sequence must be positive")
	}
	window = min(max(window, 1), MaxAgentWindow)
	a := s.agents
	for {
		a.mu.Lock()
		st := a.state(agent)
		st.raise(seq - int64(window))
		if seq <= st.floor || st.committed[seq] {
			a.mu.Unlock()
			return true, nil
		}
		wait, busy := st.inflight[seq]
		if !busy {
			// A resend racing its original waits for the original's outcome.
			done := make(chan struct{})
			st.inflight[seq] = done
			a.mu.Unlock()
			err := s.commitAgentBatch(ctx, agent, seq, recs)
			a.mu.Lock()
			delete(st.inflight, seq)
			if err == nil && seq > st.floor {
				st.committed[seq] = true
			}
			a.mu.Unlock()
			close(done)
			return false, err
		}
		a.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return false, ctx.Err()
		}
	}
}

func (s *Store) commitAgentBatch(ctx context.Context, agent string, seq int64, recs []record.Record) error {
	if len(recs) == 0 {
		return nil
	}
	done := make(chan error, 1)
	if err := s.submit(ctx, batch{recs: recs, done: done, mark: &agentMark{agent: agent, seq: seq}}); err != nil {
		return err
	}
	// Wait for the commit even if the client goes away: the outcome must be
	// known before a resend of this batch is looked at.
	return <-done
}

// loadAgentBatches reads every partition's agent_batches into the cache.
func (s *Store) loadAgentBatches(ctx context.Context) error {
	s.agents = &agentBatches{agents: map[string]*agentState{}}
	seqs := map[string][]int64{}
	for _, day := range s.daysNewestFirst(0, 1<<62) {
		for _, p := range day {
			if err := loadAgentBatchesOf(ctx, p, seqs); err != nil {
				return err
			}
		}
	}
	// The agent's window at the time is not known: the widest one bounds
	// what it may still resend.
	for agent, list := range seqs {
		st := s.agents.state(agent)
		top := slices.Max(list)
		st.floor = top - MaxAgentWindow
		for _, seq := range list {
			if seq > st.floor {
				st.committed[seq] = true
			}
		}
	}
	return nil
}

func loadAgentBatchesOf(ctx context.Context, p *partition, seqs map[string][]int64) error {
	if _, err := os.Stat(p.path); err != nil {
		return nil
	}
	db, err := sql.Open(driverName, readerDSN(p.path))
	if err != nil {
		return err
	}
	defer db.Close()
	// agent_batches (migration 2) kept only each agent's highest sequence,
	// from agents that sent one batch at a time; agent_batch_seqs (3) keeps
	// every sequence.
	rows, err := db.QueryContext(ctx, `SELECT agent, seq FROM agent_batches UNION ALL SELECT agent, seq FROM agent_batch_seqs`)
	if err != nil {
		return nil // a partition from before migration 3 was opened read-only
	}
	defer rows.Close()
	for rows.Next() {
		var agent string
		var seq int64
		if err := rows.Scan(&agent, &seq); err != nil {
			return err
		}
		seqs[agent] = append(seqs[agent], seq)
	}
	return rows.Err()
}
