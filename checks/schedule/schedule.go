// Package schedule runs the configured checks on their intervals: jittered,
// never two runs of one check at once, under a global concurrency limit, and
// on demand for the API. Each finished run goes to Options.OnResult and to
// the Prometheus metrics.
package schedule

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"runtime/debug"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"vigie/checks"
	"vigie/checks/history"
	"vigie/cmd/config"
)

// Errors of RunNow, for errors.Is.
var (
	ErrUnknownCheck  = errors.New("no check of that name in the configuration")
	ErrCheckDisabled = errors.New("the check is disabled (enabled: false)")
	ErrStopped       = errors.New("the check scheduler has stopped")
)

// SLA is where the availability gauges come from: *history.History.
type SLA interface {
	Availability(ctx context.Context, check string, from, to time.Time, slowIsDown bool) (history.Availability, error)
}

var _ SLA = (*history.History)(nil)

// Options configure a Scheduler.
type Options struct {
	Checks []config.Check
	// Run runs one check (all its attempts) and returns its result:
	// checks.Run in vigie serve, fakes in tests.
	Run func(ctx context.Context, c *config.Check) *checks.Result
	// OnResult gets every finished run, synchronously, before the check
	// may run again: vigie serve stores it, feeds the rules and logs it.
	// Runs cut short by the scheduler stopping are not passed on.
	OnResult func(*checks.Result)
	// Concurrency is how many runs may go at once, all checks together
	// (default DefaultConcurrency).
	Concurrency int
	Logger      *slog.Logger
	// Registerer receives the metrics; nil registers nothing.
	Registerer prometheus.Registerer
	// SLA, when set, feeds vigie_check_sla_ratio after each run.
	SLA SLA
	// Now is the clock of the SLA windows (default time.Now). Runs are
	// timed with real timers whatever it says.
	Now func() time.Time
	// Seed makes the jitter repeatable; 0 picks a random one.
	Seed uint64
}

// Scheduler runs checks. Create it with New, start it with Run.
type Scheduler struct {
	opt     Options
	log     *slog.Logger
	checks  map[string]*entry
	enabled []*entry
	sem     chan struct{}
	metrics *metrics

	// base is the context of every run: Run cancels it when its own ends.
	base   context.Context
	cancel context.CancelFunc

	mu       sync.Mutex // guards started, stopped and the inflight.Add calls
	started  bool
	stopped  bool
	inflight sync.WaitGroup

	rngMu sync.Mutex
	rng   *rand.Rand
}

// entry is one configured check and its run in progress.
type entry struct {
	cfg config.Check

	mu  sync.Mutex
	cur *flight // the run in progress, nil when idle
	// steps are the step labels last written to the per-step metrics,
	// so steps not reached this time lose their series.
	steps []string

	slaMu sync.Mutex
	slaAt [len(slaWindows)]time.Time // last refresh of each window
	sla   [len(slaWindows)]history.Availability
}

// flight is one run that several callers may wait for.
type flight struct {
	done chan struct{}
	res  *checks.Result
	err  error
}

// New prepares a scheduler for the checks. A repeated name keeps the first.
func New(opt Options) *Scheduler {
	if opt.Concurrency <= 0 {
		opt.Concurrency = DefaultConcurrency
	}
	if opt.Logger == nil {
		opt.Logger = slog.New(slog.DiscardHandler)
	}
	if opt.Now == nil {
		opt.Now = time.Now
	}
	if opt.OnResult == nil {
		opt.OnResult = func(*checks.Result) {}
	}
	seed := opt.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	s := &Scheduler{
		opt:    opt,
		log:    opt.Logger,
		checks: make(map[string]*entry, len(opt.Checks)),
		sem:    make(chan struct{}, opt.Concurrency),
		rng:    rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)),
	}
	s.base, s.cancel = context.WithCancel(context.Background())
	for _, c := range opt.Checks {
		if _, dup := s.checks[c.Name]; dup {
			s.log.Warn("checks: a second check has the same name and is ignored", "check", c.Name)
			continue
		}
		e := &entry{cfg: c}
		s.checks[c.Name] = e
		if c.IsEnabled() {
			s.enabled = append(s.enabled, e)
		}
	}
	s.metrics = newMetrics(opt.Registerer, s.enabled)
	return s
}

// Run runs the enabled checks until ctx ends, then waits for the runs in
// progress (their context is cancelled) and returns nil. It may be called
// once.
func (s *Scheduler) Run(ctx context.Context) error {
	s.mu.Lock()
	if s.started || s.stopped {
		s.mu.Unlock()
		return errors.New("checks: the scheduler was already started")
	}
	s.started = true
	s.mu.Unlock()
	stop := context.AfterFunc(ctx, s.cancel)
	defer stop()
	var loops sync.WaitGroup
	for _, e := range s.enabled {
		loops.Go(func() { s.loop(e) })
	}
	s.log.Info("checks: scheduler started", "checks", len(s.enabled), "concurrency", s.opt.Concurrency)
	<-s.base.Done()
	s.mu.Lock()
	s.stopped = true // no run starts after this: inflight.Wait is safe
	s.mu.Unlock()
	loops.Wait()
	s.inflight.Wait()
	s.log.Info("checks: scheduler stopped")
	return nil
}

// RunNow runs a check at once and returns its result. When the check is
// already running (on schedule or for another caller) it waits for that run
// and returns its result instead of starting a second one. The run itself
// belongs to the scheduler: ctx ending only stops the wait.
func (s *Scheduler) RunNow(ctx context.Context, name string) (*checks.Result, error) {
	e := s.checks[name]
	if e == nil {
		return nil, fmt.Errorf("%w: %q", ErrUnknownCheck, name)
	}
	if !e.cfg.IsEnabled() {
		return nil, fmt.Errorf("%w: %q", ErrCheckDisabled, name)
	}
	f, err := s.join(e, time.Time{})
	if err != nil {
		return nil, err
	}
	select {
	case <-f.done:
		return f.res, f.err
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// DefaultConcurrency is how many runs go at once by default. Runs wait on
// the network, not the CPU: 16 slots fit 500 four-step walks of a second
// each per minute.
const DefaultConcurrency = 16

// loop runs one check on its interval until the scheduler stops.
func (s *Scheduler) loop(e *entry) {
	iv := interval(&e.cfg)
	next := time.Now().Add(s.firstDelay(iv))
	timer := time.NewTimer(time.Until(next))
	defer timer.Stop()
	for {
		select {
		case <-s.base.Done():
			return
		case <-timer.C:
		}
		f, err := s.join(e, next)
		if err != nil {
			return
		}
		select {
		case <-f.done:
		case <-s.base.Done():
			return
		}
		planned := next.Add(s.nextDelay(iv))
		if n := missed(planned, time.Now(), iv); n > 0 {
			// The run outlasted its successor's slot: the next run starts
			// now, one run late, and the slots it covered are lost.
			s.metrics.skipped.WithLabelValues(e.cfg.Name).Add(float64(n))
			planned = time.Now()
		}
		next = planned
		timer.Reset(time.Until(next))
	}
}

// missed is how many planned starts passed by now: 0 when the next start
// is still ahead, else the late one plus every whole interval after it.
func missed(planned, now time.Time, iv time.Duration) int {
	late := now.Sub(planned)
	if late <= 0 {
		return 0
	}
	return 1 + int(late/iv)
}

// join returns the check's run in progress, or starts one.
func (s *Scheduler) join(e *entry, planned time.Time) (*flight, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.cur != nil {
		s.metrics.joined.Inc()
		return e.cur, nil
	}
	s.mu.Lock()
	if s.stopped {
		s.mu.Unlock()
		return nil, ErrStopped
	}
	s.inflight.Add(1)
	s.mu.Unlock()
	f := &flight{done: make(chan struct{})}
	e.cur = f
	go s.execute(e, f, planned)
	return f, nil
}

// execute is one run: wait for a slot, probe, hand the result on, refresh
// the SLA gauges, then let waiters go.
func (s *Scheduler) execute(e *entry, f *flight, planned time.Time) {
	defer s.inflight.Done()
	c := e.cfg // the prober gets its own copy
	select {
	case s.sem <- struct{}{}:
	case <-s.base.Done():
		f.err = ErrStopped
		s.finish(e, f)
		return
	}
	if !planned.IsZero() {
		s.metrics.lateness.Observe(max(time.Since(planned), 0).Seconds())
	}
	res := s.probe(&c)
	<-s.sem
	if s.base.Err() != nil {
		// Cut short by the shutdown: a "context canceled" failure would
		// count as down time that never happened.
		s.log.Debug("checks: run interrupted by shutdown, not recorded", "check", c.Name)
		f.res, f.err = res, ErrStopped
		s.finish(e, f)
		return
	}
	s.opt.OnResult(res)
	s.metrics.observe(e, res)
	// Before letting waiters go, so the API's answer and the gauges agree.
	s.refreshSLA(e)
	f.res = res
	s.finish(e, f)
}

func (s *Scheduler) finish(e *entry, f *flight) {
	e.mu.Lock()
	e.cur = nil
	e.mu.Unlock()
	close(f.done)
}

// probe calls the run function with a backstop deadline, and turns a panic
// or a missing result into a failed run instead of a crash.
func (s *Scheduler) probe(c *config.Check) (res *checks.Result) {
	ctx, cancel := context.WithTimeout(s.base, backstop(c))
	defer cancel()
	start := time.Now()
	failed := func(msg string) *checks.Result {
		return &checks.Result{Check: c.Name, Type: c.Type, Start: start, Duration: time.Since(start),
			FailedStep: -1, Attempts: 1, Error: msg}
	}
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("checks: prober crashed", "check", c.Name, "type", c.Type, "panic", p, "stack", string(debug.Stack()))
			res = failed(fmt.Sprintf("the %s prober crashed (a vigie bug, please report it): %v", c.Type, p))
		}
		if res == nil {
			res = failed(fmt.Sprintf("the %s prober returned no result (a vigie bug, please report it)", c.Type))
		}
		if res.Check == "" {
			res.Check = c.Name
		}
		if res.Type == "" {
			res.Type = c.Type
		}
		if res.Start.IsZero() {
			res.Start = start
		}
	}()
	return s.opt.Run(ctx, c)
}

// backstop bounds a run that its prober fails to end: every attempt's
// steps at their timeout, plus slack for connection set-up and the pauses
// between attempts.
func backstop(c *config.Check) time.Duration {
	timeout := time.Duration(c.Timeout)
	if timeout <= 0 {
		timeout = config.DefaultCheckTimeout
	}
	steps := time.Duration(max(len(c.Steps), 1))
	attempts := time.Duration(max(c.Attempts, 1))
	return attempts * (steps*timeout + 10*time.Second)
}

func interval(c *config.Check) time.Duration {
	if c.Interval <= 0 {
		return config.DefaultCheckInterval
	}
	return time.Duration(c.Interval)
}

// firstDelay spreads the first runs over min(interval, 1m): with hundreds
// of checks of one minute, a narrower spread keeps them bunched for many
// intervals, since each next run is planned from the previous one (the
// checks-scale benchmark: 500 walks of 200 ms in a 10 s spread made starts
// up to 28 s late; over the whole minute, p99 under 0.1 s). The cost: after
// a restart, first results take up to a minute.
func (s *Scheduler) firstDelay(iv time.Duration) time.Duration {
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	return time.Duration(s.rng.Int64N(int64(min(iv, time.Minute))))
}

// nextDelay is the interval ± up to 10 %, so checks started together drift
// apart instead of hitting a server in step forever.
func (s *Scheduler) nextDelay(iv time.Duration) time.Duration {
	s.rngMu.Lock()
	defer s.rngMu.Unlock()
	spread := iv / 10
	if spread <= 0 {
		return iv
	}
	return iv - spread + time.Duration(s.rng.Int64N(int64(2*spread)+1))
}
