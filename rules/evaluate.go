package rules

import (
	"context"
	"crypto/rand"
	"time"

	"vigie/checks/history"
	"vigie/checks/schedule"
	"vigie/record"
	"vigie/rules/notify"
)

// Intervals of the evaluation loop's slower duties.
const (
	slaEvery     = time.Minute // sla rules, besides after each run of their check
	slaTimeout   = 30 * time.Second
	amRefresh    = time.Minute // Alertmanager forgets an alert not posted again within resolve_timeout (5m)
	gcEvery      = time.Hour
	keepResolved = 180 * 24 * time.Hour // resolved alerts and their deliveries are deleted after this
)

// evaluate decides every rule once: fire, resolve, remind.
func (e *Engine) evaluate(ctx context.Context) {
	now := e.now()
	slas := e.availability(ctx, now) // slow queries, outside the lock
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.stopped || ctx.Err() != nil {
		return
	}
	firing := map[*rule]int{}
	for _, r := range e.rules {
		switch r.kind {
		case kindThreshold:
			e.evalThreshold(ctx, r, now)
		case kindAbsent:
			e.evalAbsent(ctx, r, now)
		case kindCheck:
			e.evalCheck(ctx, r, now)
		case kindSLA:
			if av, ok := slas[r]; ok {
				e.evalSLA(ctx, r, av, now)
			}
		}
	}
	e.followUp(ctx, now)
	for _, a := range e.firing {
		firing[a.rule]++
	}
	for _, r := range e.rules {
		e.m.firing.WithLabelValues(r.cfg.Name).Set(float64(firing[r]))
	}
	if now.Sub(e.lastAM) >= amRefresh {
		e.lastAM = now
		e.refreshAlertmanager(ctx)
	}
	if now.Sub(e.lastGC) >= gcEvery {
		e.lastGC = now
		if _, err := e.db.ExecContext(ctx, `DELETE FROM alerts WHERE state = 'resolved' AND resolved_at < ?`, now.Add(-keepResolved).UnixMicro()); err != nil {
			e.log.Error("rules: deleting old resolved alerts", "err", err)
		}
	}
}

func (e *Engine) evalThreshold(ctx context.Context, r *rule, now time.Time) {
	counts, overflow := r.th.counts(now)
	if overflow > 0 {
		e.m.overflow.WithLabelValues(r.cfg.Name).Add(float64(overflow))
		e.log.Warn("rules: too many groups; records of new groups not counted", "rule", r.cfg.Name, "max_groups", MaxGroups, "records", overflow)
	}
	byKey := make(map[string]int, len(counts))
	for _, gc := range counts {
		key := r.alertKey(gc.labels)
		byKey[key] = gc.count
		if gc.count < r.count {
			continue
		}
		if a := e.firing[key]; a != nil {
			a.data.Count = gc.count
			continue
		}
		d := r.data(key, gc.labels, now)
		d.Count, d.Samples = gc.count, r.th.samples(gc.key)
		e.fire(ctx, r, key, gc.labels, d, now)
	}
	for key, a := range e.firing {
		if a.rule == r && byKey[key] < r.count {
			e.resolve(ctx, a, now)
		}
	}
}

func (e *Engine) evalAbsent(ctx context.Context, r *rule, now time.Time) {
	var last time.Time // the newest matching record, zero when none
	if ns := r.ab.last.Load(); ns != 0 {
		last = time.Unix(0, ns).UTC()
	}
	// The clock is the last match; without any, the time the rule was
	// first watched, so an empty store fires one window after that.
	clock := last
	if last.IsZero() {
		clock = r.ab.since
	}
	silent := now.Sub(clock)
	a := e.firing[r.cfg.Name]
	switch {
	case a == nil && silent >= r.window:
		d := r.data(r.cfg.Name, nil, now)
		d.LastSeen, d.For = last, duration(silent)
		e.fire(ctx, r, r.cfg.Name, nil, d, now)
	case a != nil && silent < r.window:
		e.resolve(ctx, a, now)
	case a != nil:
		a.data.For = duration(silent)
	}
}

func (e *Engine) evalCheck(ctx context.Context, r *rule, now time.Time) {
	ck := r.ck
	ck.mu.Lock()
	seen, failing, since, msg, dirty := ck.seen, ck.failing, ck.since, ck.err, ck.dirty
	ck.dirty = false
	ck.mu.Unlock()
	if dirty {
		if err := saveRuleState(ctx, e.db, r.cfg.Name, ruleState{since: since, detail: msg}); err != nil {
			e.fail(r, "saving the check's failing state", err)
			ck.mu.Lock()
			ck.dirty = true
			ck.mu.Unlock()
		}
	}
	a := e.firing[r.cfg.Name]
	switch {
	case a == nil && failing && now.Sub(since) >= r.forDur:
		d := r.data(r.cfg.Name, nil, now)
		d.For, d.Error = duration(now.Sub(since)), msg
		d.Samples = []record.Record{checkRecord(e.host, r.cfg.Check, since, msg)}
		e.fire(ctx, r, r.cfg.Name, nil, d, now)
	case a != nil && seen && !failing:
		e.resolve(ctx, a, now)
	case a != nil && failing:
		a.data.For, a.data.Error = duration(now.Sub(since)), msg
	}
}

// checkRecord describes a failing run as a record, so receivers get the
// error in the same shape as a log sample; host and app are those of the
// stored run records, so a sample's values lead to them in a search.
func checkRecord(host, check string, at time.Time, msg string) record.Record {
	return record.Record{
		Time: at.UTC(), Received: at.UTC(), Host: host, App: schedule.LogApp, Severity: 3, Facility: 3,
		Source: "check " + check, Message: msg, Fields: map[string]string{"check": check},
	}
}

type slaResult struct {
	av  history.Availability
	err error
}

// availability queries the SLA source for the sla rules due: after a run
// of their check, or every slaEvery.
func (e *Engine) availability(ctx context.Context, now time.Time) map[*rule]slaResult {
	var out map[*rule]slaResult
	for _, r := range e.rules {
		if r.kind != kindSLA {
			continue
		}
		ck := r.ck
		ck.mu.Lock()
		due := ck.slaDue || now.Sub(ck.slaLast) >= slaEvery
		if due {
			ck.slaDue, ck.slaLast = false, now
		}
		ck.mu.Unlock()
		if !due {
			continue
		}
		qctx, cancel := context.WithTimeout(ctx, slaTimeout)
		av, err := e.opt.SLA.Availability(qctx, r.cfg.Check, now.Add(-r.window), now, r.slowIsDown)
		cancel()
		if out == nil {
			out = map[*rule]slaResult{}
		}
		out[r] = slaResult{av, err}
	}
	return out
}

func (e *Engine) evalSLA(ctx context.Context, r *rule, res slaResult, now time.Time) {
	if res.err != nil {
		if ctx.Err() == nil {
			e.fail(r, "computing the check's availability", res.err)
		}
		return
	}
	if !res.av.Known {
		return // no run covers the window: neither fire nor resolve
	}
	pct := res.av.Ratio * 100
	a := e.firing[r.cfg.Name]
	switch {
	case a == nil && pct < r.cfg.SLABelow:
		d := r.data(r.cfg.Name, nil, now)
		d.Availability = pct
		e.fire(ctx, r, r.cfg.Name, nil, d, now)
	case a != nil && pct >= r.cfg.SLABelow:
		e.resolve(ctx, a, now)
	case a != nil:
		a.data.Availability = pct
	}
}

// refreshAlertmanager posts the firing alerts again to the Alertmanager
// notifiers that were told about them: Alertmanager resolves by itself an
// alert not posted again within its resolve_timeout. One attempt each, in
// the background; a refresh that fails is made good by the next one.
func (e *Engine) refreshAlertmanager(ctx context.Context) {
	if e.amBusy {
		return
	}
	type post struct {
		c    *notify.Client
		body []byte
	}
	var posts []post
	for _, a := range e.firing {
		if !a.notified || a.silenced != "" || a.lastNotified.IsZero() {
			continue
		}
		for _, name := range a.rule.cfg.Notify {
			c := e.clients[name]
			if c.Type() != "alertmanager" {
				continue
			}
			body, err := c.Body(e.message(a, notify.Firing, nil))
			if err == nil {
				posts = append(posts, post{c, body})
			}
		}
	}
	if len(posts) == 0 {
		return
	}
	e.amBusy = true
	e.bg.Go(func() {
		for _, p := range posts {
			if res := e.worker.Refresh(ctx, p.c, "refresh-"+rand.Text(), p.body); !res.OK() && ctx.Err() == nil {
				e.log.Warn("rules: refreshing a firing alert in Alertmanager failed", "notifier", p.c.Name(), "err", res.Error(p.c.Timeout()))
			}
		}
		e.mu.Lock()
		e.amBusy = false
		e.mu.Unlock()
	})
}
