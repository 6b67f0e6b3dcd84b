package rules

import (
	"cmp"
	"slices"
	"strings"
	"sync"
	"time"

	"vigie/record"
)

// Sliding windows are counted in nBuckets fixed sub-buckets of window/60:
// a record is counted in the bucket of its arrival, and the sum over the
// last nBuckets buckets is the count "within the window", give or take one
// bucket (5 seconds of a 5-minute window) at its old edge.
const nBuckets = 60

// MaxGroups bounds the groups a group_by rule follows; records of further
// groups are not counted (vigie_rule_groups_overflow_total says so).
const MaxGroups = 1000

// maxSamples is how many matching records an alert carries.
const maxSamples = 5

type window struct {
	counts [nBuckets]uint32
	epochs [nBuckets]int64 // the bucket number each slot holds
}

func (w *window) add(b int64, n int) {
	s := b % nBuckets
	if w.epochs[s] != b {
		w.epochs[s], w.counts[s] = b, 0
	}
	w.counts[s] += uint32(n)
}

// sum counts the buckets in (now-nBuckets, now].
func (w *window) sum(now int64) int {
	n := 0
	for s, e := range w.epochs {
		if e > now-nBuckets && e <= now {
			n += int(w.counts[s])
		}
	}
	return n
}

// group is the count and latest samples of one group_by value set.
type group struct {
	labels  []label
	win     window
	samples [maxSamples]record.Record // ring; next is the oldest once full
	n, next int
}

// push keeps a copy of a matching record. Committed records are never
// changed again (the hub's contract), so the copy may share Fields.
func (g *group) push(r *record.Record) {
	g.samples[g.next] = *r
	g.next = (g.next + 1) % maxSamples
	g.n = min(g.n+1, maxSamples)
}

// latest returns the samples newest first, with their own Fields maps.
// Newest by id, which follows time: the store's writers commit (and so
// report) records of one moment in any order.
func (g *group) latest() []record.Record {
	out := make([]record.Record, 0, g.n)
	for i := range g.n {
		r := g.samples[(g.next-1-i+2*maxSamples)%maxSamples]
		if r.Fields != nil {
			f := make(map[string]string, len(r.Fields))
			for k, v := range r.Fields {
				f[k] = v
			}
			r.Fields = f
		}
		out = append(out, r)
	}
	slices.SortStableFunc(out, func(a, b record.Record) int { return cmp.Compare(b.ID, a.ID) })
	return out
}

// thresholdState counts a threshold rule's matches per group.
type thresholdState struct {
	width   int64 // bucket width, ns
	groupBy []string

	mu       sync.Mutex
	groups   map[string]*group
	overflow int64 // records of groups past MaxGroups, not yet reported
}

func newThresholdState(window time.Duration, groupBy []string) *thresholdState {
	return &thresholdState{width: max(int64(window)/nBuckets, 1), groupBy: groupBy, groups: map[string]*group{}}
}

func (t *thresholdState) bucket(at time.Time) int64 { return at.UnixNano() / t.width }

// groupKey is the map key of a record's group: its values joined by NUL,
// without allocating when there is one field.
func (t *thresholdState) groupKey(r *record.Record) string {
	switch len(t.groupBy) {
	case 0:
		return ""
	case 1:
		return fieldValue(r, t.groupBy[0])
	}
	var b strings.Builder
	for i, f := range t.groupBy {
		if i > 0 {
			b.WriteByte(0)
		}
		b.WriteString(fieldValue(r, f))
	}
	return b.String()
}

// groupFor finds or makes a group; nil when the rule already has MaxGroups.
func (t *thresholdState) groupFor(key string, r *record.Record) *group {
	if g := t.groups[key]; g != nil {
		return g
	}
	if len(t.groups) >= MaxGroups {
		t.overflow++
		return nil
	}
	g := &group{}
	for _, f := range t.groupBy {
		g.labels = append(g.labels, label{f, fieldValue(r, f)})
	}
	t.groups[key] = g
	return g
}

// observe counts the matching records recs[idx] in bucket b.
func (t *thresholdState) observe(recs []record.Record, idx []int32, b int64) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if len(t.groupBy) == 0 {
		g := t.groupFor("", nil)
		g.win.add(b, len(idx))
		for _, i := range idx[max(0, len(idx)-maxSamples):] {
			g.push(&recs[i])
		}
		return
	}
	for _, i := range idx {
		r := &recs[i]
		if g := t.groupFor(t.groupKey(r), r); g != nil {
			g.win.add(b, 1)
			g.push(r)
		}
	}
}

// seed counts a record found in the store at start, in the bucket of its
// receive time (clamped to the window), older records first.
func (t *thresholdState) seed(r *record.Record, now time.Time) {
	at := r.Received
	if at.IsZero() || at.After(now) {
		at = now
	}
	b, nb := t.bucket(at), t.bucket(now)
	if b <= nb-nBuckets {
		return
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if g := t.groupFor(t.groupKey(r), r); g != nil {
		g.win.add(b, 1)
		g.push(r)
	}
}

// groupCount is one group's count at an evaluation.
type groupCount struct {
	key    string // map key
	labels []label
	count  int
}

// counts returns the groups with matches in the window and forgets the
// others; it also hands over the overflow count since the last call.
func (t *thresholdState) counts(now time.Time) ([]groupCount, int64) {
	nb := t.bucket(now)
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make([]groupCount, 0, len(t.groups))
	for k, g := range t.groups {
		n := g.win.sum(nb)
		if n == 0 {
			delete(t.groups, k)
			continue
		}
		out = append(out, groupCount{key: k, labels: g.labels, count: n})
	}
	ov := t.overflow
	t.overflow = 0
	return out, ov
}

// samples returns a group's latest matching records, newest first.
func (t *thresholdState) samples(key string) []record.Record {
	t.mu.Lock()
	defer t.mu.Unlock()
	if g := t.groups[key]; g != nil {
		return g.latest()
	}
	return nil
}
