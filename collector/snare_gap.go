package collector

import (
	"container/list"
	"strconv"
	"sync"
)

// snareReorderWindow: a counter this much below the last one is taken as a
// late (reordered, duplicated) datagram and ignored; further below, as a
// restart of Snare, which begins again from a low number.
const snareReorderWindow = 16

// snareGaps follows Snare's per-sender event counter to count the events
// that never arrived (UDP loss, a Snare queue overflow). It is shared by all
// listeners; its size is bounded by evicting the sender seen least recently.
type snareGaps struct {
	mu      sync.Mutex
	max     int
	senders map[string]*list.Element // key: source IP + "\x00" + computer
	lru     *list.List               // of *snareSender, most recent first
}

type snareSender struct {
	key  string
	last uint64
}

func newSnareGaps(maxSenders int) *snareGaps {
	return &snareGaps{max: maxSenders, senders: make(map[string]*list.Element), lru: list.New()}
}

// observe records a counter value for a sender and returns how many events
// are missing before it.
func (g *snareGaps) observe(ip, computer, counter string) uint64 {
	cur, err := strconv.ParseUint(counter, 10, 64)
	if err != nil {
		return 0
	}
	key := ip + "\x00" + computer
	g.mu.Lock()
	defer g.mu.Unlock()
	if e, ok := g.senders[key]; ok {
		g.lru.MoveToFront(e)
		s := e.Value.(*snareSender)
		switch {
		case cur > s.last:
			lost := cur - s.last - 1
			s.last = cur
			return lost
		case s.last-cur <= snareReorderWindow:
			return 0 // late or duplicate
		default:
			s.last = cur // Snare restarted: resynchronise
			return 0
		}
	}
	g.senders[key] = g.lru.PushFront(&snareSender{key: key, last: cur})
	if g.lru.Len() > g.max {
		old := g.lru.Back()
		g.lru.Remove(old)
		delete(g.senders, old.Value.(*snareSender).key)
	}
	return 0
}
