// Package rules watches the stream of committed records and the check runs,
// fires and resolves alerts (threshold, absent, check and SLA rules, see
// docs/rules.md), keeps them in <data_dir>/alerts.db, and has them
// delivered by package rules/notify.
//
// Records are matched as they are committed (Observe, called by the hub
// from the store's writers): only counters are updated there. Everything
// else (deciding, persisting, notifying) happens in Run's loop, every
// second.
package rules

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"vigie/checks"
	"vigie/checks/history"
	"vigie/cmd/config"
	"vigie/record"
	"vigie/rules/notify"
	"vigie/store"
	"vigie/store/query"
)

// Searcher is the store's search (store.Store satisfies it).
type Searcher interface {
	Search(ctx context.Context, req store.Request) (store.Result, error)
}

// SLASource computes a check's availability (checks/history.History
// satisfies it).
type SLASource interface {
	Availability(ctx context.Context, check string, from, to time.Time, slowIsDown bool) (history.Availability, error)
}

// Options configure an Engine; zero values take the defaults.
type Options struct {
	Rules       []config.Rule
	Notifiers   []config.Notifier
	Maintenance []config.Maintenance
	// Checks gives sla_below rules their check's sla.slow_is_down.
	Checks []config.Check
	// DataDir holds alerts.db.
	DataDir string
	// Search finds, at start, the records threshold windows already hold
	// and the last record of each absent rule. Required with such rules.
	Search Searcher
	// SLA is required with sla_below rules.
	SLA SLASource
	// BaseURL is the UI's address as receivers reach it
	// ("http://vigie.lan:8080"); an alert's url is BaseURL/alerts/ID.
	BaseURL    string
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	Now        func() time.Time

	// Tick is how often rules are evaluated (default 1s).
	Tick time.Duration
	// Backoff spaces delivery retries (default 5s doubling to 10m).
	Backoff notify.Backoff
	// DeliveryPoll is how often the delivery queue is read without a
	// kick (default 1s).
	DeliveryPoll time.Duration
}

// matcher is one distinct query and the rules that use it: rules sharing a
// query pay for one match per record.
type matcher struct {
	q      *query.Query
	th     []*thresholdState
	absent []*absentState
}

// Engine evaluates rules and keeps alerts. Observe and ObserveRun are safe
// for concurrent use; the rest of the work happens in Run.
type Engine struct {
	opt      Options
	log      *slog.Logger
	now      func() time.Time
	db       *sql.DB
	rules    []*rule
	byCheck  map[string][]*rule
	matchers []*matcher
	index    matcherIndex
	host     string // this server's name, for check rules' sample records
	maint    []maintenance
	clients  map[string]*notify.Client
	worker   *notify.Worker
	m        *metrics
	scratch  sync.Pool // *[]int32: indexes of matching records
	wake     chan struct{}
	bg       sync.WaitGroup // Alertmanager refreshes

	mu      sync.Mutex // firing, and every alert transition
	firing  map[string]*alert
	lastAM  time.Time // last Alertmanager refresh
	amBusy  bool
	lastGC  time.Time
	stopped bool
}

// New opens <DataDir>/alerts.db, loads the alerts still firing, and fills
// threshold windows and absent clocks from the store. Register Observe with
// the hub after New returns, so no record is counted twice.
func New(ctx context.Context, opt Options) (*Engine, error) {
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.Tick <= 0 {
		opt.Tick = time.Second
	}
	e := &Engine{
		opt: opt, log: opt.Logger, now: opt.Now,
		byCheck: map[string][]*rule{}, clients: map[string]*notify.Client{},
		firing: map[string]*alert{}, wake: make(chan struct{}, 1),
	}
	e.scratch.New = func() any { return &observeScratch{} }
	var err error
	if e.maint, err = parseMaintenance(opt.Maintenance); err != nil {
		return nil, fmt.Errorf("rules: %w", err)
	}
	for _, n := range opt.Notifiers {
		c, err := notify.NewClient(n)
		if err != nil {
			return nil, fmt.Errorf("rules: %w", err)
		}
		e.clients[n.Name] = c
	}
	byQuery := map[string]*matcher{}
	for _, rc := range opt.Rules {
		r, err := compileRule(rc, opt.Checks)
		if err != nil {
			return nil, fmt.Errorf("rules: %w", err)
		}
		for _, n := range rc.Notify {
			if e.clients[n] == nil {
				return nil, fmt.Errorf("rules: rule %s: notifier %q is not configured", rc.Name, n)
			}
		}
		e.rules = append(e.rules, r)
		switch r.kind {
		case kindThreshold, kindAbsent:
			if opt.Search == nil {
				return nil, fmt.Errorf("rules: rule %s needs the store's search (Options.Search)", rc.Name)
			}
			m := byQuery[r.query]
			if m == nil {
				q, _ := query.Parse(r.query) // compileRule checked it
				m = &matcher{q: q}
				byQuery[r.query] = m
				e.matchers = append(e.matchers, m)
			}
			if r.th != nil {
				m.th = append(m.th, r.th)
			} else {
				m.absent = append(m.absent, r.ab)
			}
		case kindSLA:
			if opt.SLA == nil {
				return nil, fmt.Errorf("rules: rule %s needs check availability (Options.SLA)", rc.Name)
			}
			fallthrough
		case kindCheck:
			e.byCheck[rc.Check] = append(e.byCheck[rc.Check], r)
		}
	}
	e.index = indexMatchers(e.matchers)
	e.host, _ = os.Hostname()
	e.m = newMetrics(opt.Registerer)
	if e.db, err = openDB(ctx, opt.DataDir); err != nil {
		return nil, err
	}
	if err := e.load(ctx); err != nil {
		e.db.Close()
		return nil, err
	}
	e.worker = notify.NewWorker(notify.WorkerOptions{
		Queue: queue{e.db}, Clients: e.clients, Backoff: opt.Backoff, Now: opt.Now,
		Poll: opt.DeliveryPoll, Logger: opt.Logger, Registerer: opt.Registerer,
	})
	return e, nil
}

// load restores what a restart must not lose: firing alerts, the clocks of
// absent and check rules, and the records threshold windows hold.
func (e *Engine) load(ctx context.Context) error {
	now := e.now()
	if err := e.loadFiring(ctx, now); err != nil {
		return fmt.Errorf("rules: loading firing alerts: %w", err)
	}
	states, err := loadRuleStates(ctx, e.db)
	if err != nil {
		return fmt.Errorf("rules: loading rule state: %w", err)
	}
	for _, r := range e.rules {
		s, ok := states[r.cfg.Name]
		switch r.kind {
		case kindAbsent:
			// Watched since its first start with this query: with no matching
			// record in the store at all, it fires one window after that.
			if !ok || s.detail != r.query {
				s = ruleState{since: now, detail: r.query}
				if err := saveRuleState(ctx, e.db, r.cfg.Name, s); err != nil {
					return fmt.Errorf("rules: %w", err)
				}
			}
			r.ab.since = s.since
			if err := e.seedAbsent(ctx, r, now); err != nil {
				return err
			}
		case kindCheck:
			if ok {
				r.ck.failing, r.ck.since, r.ck.err = true, s.since, s.detail
			}
		case kindThreshold:
			if err := e.seedThreshold(ctx, r, now); err != nil {
				return err
			}
		}
	}
	return nil
}

// maxSeed bounds the records read to refill one threshold rule's window.
const maxSeed = 100_000

func (e *Engine) seedThreshold(ctx context.Context, r *rule, now time.Time) error {
	req := store.Request{Query: r.query, From: now.Add(-r.window), To: now.Add(time.Hour), Limit: store.MaxLimit}
	var recs []record.Record
	for len(recs) < maxSeed {
		res, err := e.opt.Search.Search(ctx, req)
		if err != nil {
			return fmt.Errorf("rules: rule %s: reading its window from the store: %w", r.cfg.Name, err)
		}
		recs = append(recs, res.Records...)
		// Without groups, reaching the count is all that matters.
		if res.Next == "" || (len(r.cfg.GroupBy) == 0 && len(recs) >= r.count+maxSamples) {
			break
		}
		req.Before = res.Next
	}
	for i := len(recs) - 1; i >= 0; i-- { // oldest first: samples end newest
		r.th.seed(&recs[i], now)
	}
	return nil
}

func (e *Engine) seedAbsent(ctx context.Context, r *rule, now time.Time) error {
	res, err := e.opt.Search.Search(ctx, store.Request{Query: r.query, Limit: 1})
	if err != nil {
		return fmt.Errorf("rules: rule %s: finding its last record in the store: %w", r.cfg.Name, err)
	}
	if len(res.Records) > 0 {
		r.ab.seen(res.Records[0].Time, now)
	}
	return nil
}

// seen moves the absent clock to t (never back, never past now).
func (a *absentState) seen(t, now time.Time) {
	v := min(t.UnixNano(), now.UnixNano())
	for {
		old := a.last.Load()
		if v <= old || a.last.CompareAndSwap(old, v) {
			return
		}
	}
}

// Observe counts committed records; the hub calls it from the store's
// writers. It matches each distinct query once per record and never blocks
// on anything but the per-rule counters.
func (e *Engine) Observe(recs []record.Record) {
	if len(recs) == 0 || len(e.matchers) == 0 {
		return
	}
	now := e.now()
	sc := e.scratch.Get().(*observeScratch)
	if len(sc.idx) < len(e.matchers) {
		sc.idx = make([][]int32, len(e.matchers))
	}
	if len(sc.seen) < len(e.matchers) {
		sc.seen = make([]uint64, len(e.matchers))
	}
	// Record by record, so every query shares one split of the message,
	// and only against the queries whose keys the record meets.
	for i := range recs {
		sc.words.Reset(&recs[i])
		sc.gen++
		try := func(js []int32) {
			for _, j := range js {
				if sc.seen[j] == sc.gen {
					continue // filed under several keys the record meets
				}
				sc.seen[j] = sc.gen
				if e.matchers[j].q.MatchWords(&sc.words) {
					sc.idx[j] = append(sc.idx[j], int32(i))
				}
			}
		}
		e.index.candidates(&recs[i], &sc.words, try)
	}
	sc.words.Reset(nil)
	for j, m := range e.matchers {
		idx := sc.idx[j]
		sc.idx[j] = idx[:0]
		if len(idx) == 0 {
			continue
		}
		for _, t := range m.th {
			t.observe(recs, idx, t.bucket(now))
		}
		if len(m.absent) > 0 {
			newest := recs[idx[0]].Time
			for _, i := range idx[1:] {
				if recs[i].Time.After(newest) {
					newest = recs[i].Time
				}
			}
			for _, a := range m.absent {
				a.seen(newest, now)
			}
		}
	}
	e.scratch.Put(sc)
}

// observeScratch is what Observe reuses from one batch to the next: the
// matching indexes per query and the split message.
type observeScratch struct {
	idx   [][]int32
	words query.Words
	seen  []uint64 // per matcher: the record (gen) it was last tried on
	gen   uint64
}

// ObserveRun takes the result of a check run (the scheduler calls it after
// each run). Check rules see it at the next evaluation, within a second.
func (e *Engine) ObserveRun(res *checks.Result) {
	rs := e.byCheck[res.Check]
	for _, r := range rs {
		ck := r.ck
		ck.mu.Lock()
		ck.seen = true
		if r.kind == kindSLA {
			ck.slaDue = true
		} else if !res.Success {
			if !ck.failing {
				ck.failing, ck.since, ck.dirty = true, res.Start, true
			}
			if ck.err != res.Error {
				ck.err, ck.dirty = res.Error, true
			}
		} else if ck.failing {
			ck.failing, ck.since, ck.err, ck.dirty = false, time.Time{}, "", true
		}
		ck.mu.Unlock()
	}
	if len(rs) > 0 {
		select {
		case e.wake <- struct{}{}:
		default:
		}
	}
}

// Run evaluates rules every Tick and delivers notifications until ctx
// ends. Close the engine after Run has returned.
func (e *Engine) Run(ctx context.Context) error {
	var wg sync.WaitGroup
	wg.Go(func() { e.worker.Run(ctx) })
	t := time.NewTicker(e.opt.Tick)
	defer t.Stop()
	e.evaluate(ctx)
	for {
		select {
		case <-ctx.Done():
			wg.Wait()
			e.bg.Wait()
			return nil
		case <-t.C:
		case <-e.wake:
		}
		e.evaluate(ctx)
	}
}

// Close closes alerts.db. Call it after Run has returned.
func (e *Engine) Close() error {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopped {
		return nil
	}
	e.stopped = true
	return e.db.Close()
}

// ErrNotFound is returned for an alert id that does not exist.
var ErrNotFound = errors.New("rules: no such alert")

// RuleNames lists the configured rules, in configuration order.
func (e *Engine) RuleNames() []string {
	out := make([]string, len(e.rules))
	for i, r := range e.rules {
		out[i] = r.cfg.Name
	}
	return out
}
