package schedule

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"vigie/checks"
	"vigie/cmd/config"
)

// fake is a run function that counts runs, simultaneous ones per check and
// in all, and can hold runs until released.
type fake struct {
	hold    time.Duration // each run lasts this long (or until its ctx ends)
	release chan struct{} // when set, runs wait for it to close (or ctx)
	started chan string   // when set, gets the check name as a run starts

	afterCancel time.Duration // a cancelled run still takes this long to wrap up

	mu          sync.Mutex
	runs        map[string]int
	running     map[string]int
	maxPerCheck int
	total       int
	maxTotal    int
	wrappedUp   int // runs that ended by their ctx
}

func newFake() *fake {
	return &fake{runs: map[string]int{}, running: map[string]int{}}
}

func (f *fake) run(ctx context.Context, c *config.Check) *checks.Result {
	start := time.Now()
	f.mu.Lock()
	f.runs[c.Name]++
	f.running[c.Name]++
	f.total++
	f.maxPerCheck = max(f.maxPerCheck, f.running[c.Name])
	f.maxTotal = max(f.maxTotal, f.total)
	f.mu.Unlock()
	select {
	case f.started <- c.Name:
	default: // nobody listening any more (a nil channel never takes)
	}
	var hold <-chan time.Time
	if f.hold > 0 {
		hold = time.After(f.hold)
	}
	res := &checks.Result{Check: c.Name, Type: c.Type, Start: start, Success: true, FailedStep: -1, Attempts: 1}
	instant := make(chan struct{})
	if f.hold == 0 && f.release == nil {
		close(instant)
	}
	select {
	case <-instant:
	case <-hold:
	case <-f.release:
	case <-ctx.Done():
		time.Sleep(f.afterCancel)
		res.Success, res.Error = false, ctx.Err().Error()
		f.mu.Lock()
		f.wrappedUp++
		f.mu.Unlock()
	}
	res.Duration = time.Since(start)
	f.mu.Lock()
	f.running[c.Name]--
	f.total--
	f.mu.Unlock()
	return res
}

func (f *fake) count(name string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.runs[name]
}

// results collects what OnResult gets.
type results struct {
	mu  sync.Mutex
	got []*checks.Result
}

func (r *results) add(res *checks.Result) {
	r.mu.Lock()
	r.got = append(r.got, res)
	r.mu.Unlock()
}

func (r *results) list() []*checks.Result {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*checks.Result(nil), r.got...)
}

// waitFor polls cond until it holds, failing after a generous deadline:
// the tests assert what happens, never how fast.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func check(name string, every time.Duration) config.Check {
	return config.Check{Name: name, Type: "tcp", Interval: config.Duration(every), Attempts: 1}
}

// start runs the scheduler in the background; the returned stop cancels it
// and waits for Run to return.
func start(t *testing.T, s *Scheduler) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
		})
	}
	t.Cleanup(stop)
	return stop
}

func TestNoOverlappingRuns(t *testing.T) {
	f := newFake()
	f.hold = 130 * time.Millisecond // longer than the 50ms interval
	var got results
	reg := prometheus.NewRegistry()
	s := New(Options{Checks: []config.Check{check("slow", 50*time.Millisecond)}, Run: f.run, OnResult: got.add, Registerer: reg, Seed: 1})
	stop := start(t, s)
	waitFor(t, "4 runs", func() bool { return len(got.list()) >= 4 })
	stop()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.maxPerCheck != 1 {
		t.Errorf("%d runs of one check at once, want 1", f.maxPerCheck)
	}
	// Every finished run outlasted the next slot: each was followed by at
	// least one skip (the last one's may not be counted yet at the stop).
	recorded := len(got.list())
	if skipped := testutil.ToFloat64(s.metrics.skipped.WithLabelValues("slow")); skipped < float64(recorded-1) {
		t.Errorf("vigie_check_runs_skipped_total = %v after %d runs of 130ms every 50ms", skipped, recorded)
	}
}

func TestConcurrencyLimit(t *testing.T) {
	f := newFake()
	f.release = make(chan struct{})
	var cs []config.Check
	names := []string{"a", "b", "c", "d", "e"}
	for _, n := range names {
		cs = append(cs, check(n, 50*time.Millisecond))
	}
	s := New(Options{Checks: cs, Run: f.run, Concurrency: 2, Seed: 2})
	stop := start(t, s)
	waitFor(t, "2 runs at once", func() bool { f.mu.Lock(); defer f.mu.Unlock(); return f.total == 2 })
	// Give the other three every chance to break the limit.
	time.Sleep(100 * time.Millisecond)
	f.mu.Lock()
	held := f.maxTotal
	f.mu.Unlock()
	if held != 2 {
		t.Errorf("%d runs at once while 2 were held, want 2", held)
	}
	close(f.release)
	waitFor(t, "every check to run", func() bool {
		for _, n := range names {
			if f.count(n) < 2 {
				return false
			}
		}
		return true
	})
	stop()
	if f.maxTotal > 2 {
		t.Errorf("%d runs at once with concurrency 2", f.maxTotal)
	}
}

func TestRunNowJoinsTheRunInProgress(t *testing.T) {
	f := newFake()
	f.release = make(chan struct{})
	f.started = make(chan string, 4)
	var got results
	s := New(Options{Checks: []config.Check{check("a", time.Hour)}, Run: f.run, OnResult: got.add})
	type answer struct {
		res *checks.Result
		err error
	}
	answers := make(chan answer, 2)
	call := func() {
		res, err := s.RunNow(context.Background(), "a")
		answers <- answer{res, err}
	}
	go call()
	<-f.started
	go call()
	waitFor(t, "the second call to join", func() bool { return testutil.ToFloat64(s.metrics.joined) == 1 })
	close(f.release)
	a, b := <-answers, <-answers
	if a.err != nil || b.err != nil || a.res == nil || a.res != b.res {
		t.Fatalf("answers %+v and %+v: want one result for both", a, b)
	}
	if n := f.count("a"); n != 1 {
		t.Errorf("%d runs, want 1", n)
	}
	if l := got.list(); len(l) != 1 || l[0] != a.res {
		t.Errorf("OnResult got %v, want the one result", l)
	}
}

func TestScheduledSlotAndRunNowShareARun(t *testing.T) {
	f := newFake()
	f.release = make(chan struct{})
	f.started = make(chan string, 16)
	var got results
	s := New(Options{Checks: []config.Check{check("a", 50*time.Millisecond)}, Run: f.run, OnResult: got.add, Seed: 3})
	stop := start(t, s)
	<-f.started // the scheduled run, held
	done := make(chan *checks.Result, 1)
	go func() {
		res, err := s.RunNow(context.Background(), "a")
		if err != nil {
			t.Error(err)
		}
		done <- res
	}()
	waitFor(t, "RunNow to join the scheduled run", func() bool { return testutil.ToFloat64(s.metrics.joined) >= 1 })
	close(f.release)
	res := <-done
	stop()
	if l := got.list(); len(l) == 0 || l[0] != res {
		t.Fatalf("RunNow answered %p, the scheduled run was %v", res, l)
	}
	if f.maxPerCheck != 1 {
		t.Errorf("%d runs at once", f.maxPerCheck)
	}
}

func TestDisabledAndUnknownChecks(t *testing.T) {
	f := newFake()
	off := false
	disabled := check("off", 50*time.Millisecond)
	disabled.Enabled = &off
	s := New(Options{Checks: []config.Check{check("on", 50*time.Millisecond), disabled}, Run: f.run, Seed: 4})
	stop := start(t, s)
	waitFor(t, "3 runs of the enabled check", func() bool { return f.count("on") >= 3 })
	if _, err := s.RunNow(context.Background(), "off"); !errors.Is(err, ErrCheckDisabled) {
		t.Errorf("RunNow(disabled) = %v, want ErrCheckDisabled", err)
	}
	if _, err := s.RunNow(context.Background(), "nope"); !errors.Is(err, ErrUnknownCheck) {
		t.Errorf("RunNow(unknown) = %v, want ErrUnknownCheck", err)
	}
	stop()
	if n := f.count("off"); n != 0 {
		t.Errorf("the disabled check ran %d times", n)
	}
}

func TestStopCancelsAndWaits(t *testing.T) {
	f := newFake()
	f.release = make(chan struct{}) // never closed: runs end with their ctx
	f.started = make(chan string, 16)
	f.afterCancel = 30 * time.Millisecond
	var got results
	s := New(Options{Checks: []config.Check{check("a", 50*time.Millisecond), check("b", 50*time.Millisecond), check("c", 50*time.Millisecond)},
		Run: f.run, OnResult: got.add, Seed: 5})
	stop := start(t, s)
	for range 3 {
		<-f.started
	}
	stop()
	f.mu.Lock()
	wrapped, running := f.wrappedUp, f.total
	f.mu.Unlock()
	if wrapped != 3 || running != 0 {
		t.Errorf("Run returned with %d runs wrapped up and %d still running; want 3 and 0", wrapped, running)
	}
	if l := got.list(); len(l) != 0 {
		t.Errorf("runs cut short by the stop were recorded: %v", l)
	}
	if _, err := s.RunNow(context.Background(), "a"); !errors.Is(err, ErrStopped) {
		t.Errorf("RunNow after the stop = %v, want ErrStopped", err)
	}
	if err := s.Run(context.Background()); err == nil {
		t.Error("a second Run was accepted")
	}
}

func TestProberFaultsBecomeFailedRuns(t *testing.T) {
	tests := []struct {
		name string
		run  func(context.Context, *config.Check) *checks.Result
		want string
	}{
		{"panic", func(context.Context, *config.Check) *checks.Result { panic("boom") }, "the tcp prober crashed (a vigie bug, please report it): boom"},
		{"nil result", func(context.Context, *config.Check) *checks.Result { return nil }, "the tcp prober returned no result (a vigie bug, please report it)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got results
			s := New(Options{Checks: []config.Check{check("a", time.Hour)}, Run: tc.run, OnResult: got.add})
			res, err := s.RunNow(context.Background(), "a")
			if err != nil {
				t.Fatal(err)
			}
			if res.Success || res.Error != tc.want || res.Check != "a" || res.Type != "tcp" || res.Start.IsZero() || res.FailedStep != -1 {
				t.Errorf("result %+v", res)
			}
			if len(got.list()) != 1 {
				t.Error("the failed run was not passed to OnResult")
			}
		})
	}
}

func TestMissed(t *testing.T) {
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		late time.Duration
		want int
	}{
		{-time.Second, 0}, {0, 0}, {time.Millisecond, 1}, {59 * time.Second, 1}, {time.Minute, 2}, {150 * time.Second, 3},
	}
	for _, tc := range tests {
		if got := missed(at, at.Add(tc.late), time.Minute); got != tc.want {
			t.Errorf("late %v: missed %d, want %d", tc.late, got, tc.want)
		}
	}
}

func TestJitter(t *testing.T) {
	a, b := New(Options{Seed: 42}), New(Options{Seed: 42})
	seen := map[time.Duration]bool{}
	for range 1000 {
		d := a.firstDelay(50 * time.Millisecond)
		if d < 0 || d >= 50*time.Millisecond {
			t.Fatalf("first delay %v outside [0, interval)", d)
		}
		if d2 := b.firstDelay(50 * time.Millisecond); d2 != d {
			t.Fatalf("same seed, different delays: %v and %v", d, d2)
		}
		seen[d] = true
		if d := a.firstDelay(time.Hour); d >= time.Minute {
			t.Fatalf("first delay %v of an hourly check, want under 1m", d)
		}
		if d := a.nextDelay(time.Minute); d < 54*time.Second || d > 66*time.Second {
			t.Fatalf("next delay %v outside 1m ± 10%%", d)
		}
		b.firstDelay(time.Hour)
		b.nextDelay(time.Minute)
	}
	if len(seen) < 100 {
		t.Errorf("only %d distinct first delays in 1000: no spread", len(seen))
	}
}

func TestBackstop(t *testing.T) {
	c := config.Check{Timeout: config.Duration(15 * time.Second), Attempts: 2, Steps: make([]config.Step, 3)}
	if got, want := backstop(&c), 2*(3*15*time.Second+10*time.Second); got != want {
		t.Errorf("backstop = %v, want %v", got, want)
	}
	if got := backstop(&config.Check{}); got != config.DefaultCheckTimeout+10*time.Second {
		t.Errorf("backstop of a bare check = %v", got)
	}
}
