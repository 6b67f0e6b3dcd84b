package eventlog

import (
	"encoding/xml"
	"fmt"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// fakeSystem stands for the event log service behind wevtapi.dll: channels
// of events, handles with a leak check, and faults to inject. Every fakeAPI
// (one per reader) shares it.
type fakeSystem struct {
	mu       sync.Mutex
	channels map[string]*fakeChannel // lower-cased name
	live     map[handle]any
	nextH    handle
	problems []string // double closes, unknown handles

	publishers map[string]string // provider → message format ("%d" = record id)
	pubOpens   map[string]int
	formats    int
	subscribes []string // "Channel oldest" / "Channel after:N strict"
	released   int
	apis       int
}

type fakeChannel struct {
	name       string
	events     []fakeEvent
	oldest     uint64 // records below are gone (log cleared or overwritten)
	denied     bool
	staleAfter int // EvtNext fails stale once after this many events were handed out (0: never)
	handedOut  int
	maxBatch   int // EvtNext with more than this fails with RPC_S_INVALID_BOUND (0: no limit)
	unrender   map[uint64]bool
}

type fakeEvent struct {
	id  uint64
	xml string
}

type fakeSub struct {
	ch  *fakeChannel
	pos uint64 // next record id to hand out
}

type fakeBookmark struct {
	channel string
	id      uint64
}

type fakeEventH struct {
	ch *fakeChannel
	ev fakeEvent
}

type fakePublisher struct{ name string }

func newFakeSystem() *fakeSystem {
	return &fakeSystem{channels: map[string]*fakeChannel{}, live: map[handle]any{},
		publishers: map[string]string{}, pubOpens: map[string]int{}}
}

func (s *fakeSystem) channel(name string) *fakeChannel {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := strings.ToLower(name)
	c := s.channels[k]
	if c == nil {
		c = &fakeChannel{name: name, oldest: 1, unrender: map[uint64]bool{}}
		s.channels[k] = c
	}
	return c
}

// add appends an event from provider to the channel; computer "" leaves
// Computer empty. It returns the record id.
func (s *fakeSystem) add(channel, provider, computer string) uint64 {
	c := s.channel(channel)
	s.mu.Lock()
	defer s.mu.Unlock()
	id := uint64(len(c.events)) + 1
	if len(c.events) > 0 {
		id = c.events[len(c.events)-1].id + 1
	}
	x := fmt.Sprintf(`<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider Name='%s'/>`+
		`<EventID>7036</EventID><Level>4</Level><TimeCreated SystemTime='2026-03-01T10:00:00.000000000Z'/>`+
		`<EventRecordID>%d</EventRecordID><Channel>%s</Channel><Computer>%s</Computer></System>`+
		`<EventData><Data Name='param1'>v%d</Data></EventData></Event>`, provider, id, c.name, computer, id)
	c.events = append(c.events, fakeEvent{id: id, xml: x})
	return id
}

func (s *fakeSystem) addRaw(channel string, x string) uint64 {
	c := s.channel(channel)
	s.mu.Lock()
	defer s.mu.Unlock()
	id := uint64(len(c.events)) + 1
	c.events = append(c.events, fakeEvent{id: id, xml: x})
	return id
}

func (s *fakeSystem) newHandle(v any) handle {
	s.nextH++
	s.live[s.nextH] = v
	return s.nextH
}

func fakeErr(op string, code uint32) error {
	return &apiError{Op: op, Code: code, Err: syscall.Errno(code)}
}

func (s *fakeSystem) liveCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.live)
}

func (s *fakeSystem) check(t *testing.T) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.live) != 0 {
		t.Errorf("%d handles left open: %v", len(s.live), s.live)
	}
	if len(s.problems) > 0 {
		t.Errorf("handle misuse: %v", s.problems)
	}
	if s.released != s.apis {
		t.Errorf("%d apis made, %d released", s.apis, s.released)
	}
}

func (s *fakeSystem) newAPI() (api, error) {
	s.mu.Lock()
	s.apis++
	s.mu.Unlock()
	return &fakeAPI{s: s}, nil
}

type fakeAPI struct{ s *fakeSystem }

func (a *fakeAPI) subscribe(query string, bm handle, flags uint32) (handle, error) {
	var ql struct {
		Query []struct {
			Path   string `xml:"Path,attr"`
			Select []struct {
				Path  string `xml:"Path,attr"`
				XPath string `xml:",chardata"`
			}
		}
	}
	if err := xml.Unmarshal([]byte(query), &ql); err != nil || len(ql.Query) != 1 || len(ql.Query[0].Select) != 1 {
		return 0, fakeErr("EvtSubscribe", codeEvtInvalidQuery)
	}
	if x := ql.Query[0].Select[0].XPath; x == "" || strings.Contains(x, "[[") {
		return 0, fakeErr("EvtSubscribe", codeEvtInvalidQuery)
	}
	name := ql.Query[0].Path
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	c := a.s.channels[strings.ToLower(name)]
	if c == nil {
		return 0, fakeErr("EvtSubscribe", codeEvtChannelNotFound)
	}
	if c.denied {
		return 0, fakeErr("EvtSubscribe", codeAccessDenied)
	}
	sub := &fakeSub{ch: c, pos: c.oldest}
	switch flags &^ evtSubscribeStrict {
	case evtSubscribeStartAtOldestRecord:
		a.s.subscribes = append(a.s.subscribes, c.name+" oldest")
	case evtSubscribeStartAfterBookmark:
		b, ok := a.s.live[bm].(*fakeBookmark)
		if !ok {
			a.s.problems = append(a.s.problems, "subscribe with a bad bookmark handle")
			return 0, fakeErr("EvtSubscribe", 6)
		}
		strict := flags&evtSubscribeStrict != 0
		a.s.subscribes = append(a.s.subscribes, fmt.Sprintf("%s after:%d strict=%v", c.name, b.id, strict))
		if strict && !c.has(b.id) {
			return 0, fakeErr("EvtSubscribe", codeNotFound)
		}
		sub.pos = b.id + 1
	default:
		return 0, fakeErr("EvtSubscribe", 87)
	}
	return a.s.newHandle(sub), nil
}

func (a *fakeAPI) next(h handle, events []handle) (int, error) {
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	sub, ok := a.s.live[h].(*fakeSub)
	if !ok {
		a.s.problems = append(a.s.problems, "EvtNext on a bad handle")
		return 0, fakeErr("EvtNext", 6)
	}
	c := sub.ch
	if c.maxBatch > 0 && len(events) > c.maxBatch {
		return 0, fakeErr("EvtNext", codeRPCInvalidBound)
	}
	if c.staleAfter > 0 && c.handedOut >= c.staleAfter {
		c.staleAfter = 0
		return 0, fakeErr("EvtNext", codeEvtQueryResultStale)
	}
	n := 0
	for _, ev := range c.events {
		if n == len(events) || (c.staleAfter > 0 && c.handedOut >= c.staleAfter) {
			break
		}
		if ev.id < sub.pos || ev.id < c.oldest {
			continue
		}
		events[n] = a.s.newHandle(&fakeEventH{ch: c, ev: ev})
		n++
		c.handedOut++
		sub.pos = ev.id + 1
	}
	if n == 0 {
		return 0, fakeErr("EvtNext", codeNoMoreItems)
	}
	return n, nil
}

func (a *fakeAPI) wait(timeout time.Duration) (bool, error) {
	time.Sleep(min(timeout, time.Millisecond))
	return false, nil
}

func (a *fakeAPI) renderXML(h handle) (string, error) {
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	e, ok := a.s.live[h].(*fakeEventH)
	if !ok {
		a.s.problems = append(a.s.problems, "render of a bad event handle")
		return "", fakeErr("EvtRender", 6)
	}
	if e.ch.unrender[e.ev.id] {
		return "", fakeErr("EvtRender", 15005)
	}
	return e.ev.xml, nil
}

func (a *fakeAPI) createBookmark(x string) (handle, error) {
	b := &fakeBookmark{}
	if x != "" {
		bi, err := parseBookmark(x)
		if err != nil {
			return 0, fakeErr("EvtCreateBookmark", 87)
		}
		b.channel, b.id = bi.Channel, bi.RecordID
	}
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	return a.s.newHandle(b), nil
}

func (a *fakeAPI) updateBookmark(bm, ev handle) error {
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	b, ok1 := a.s.live[bm].(*fakeBookmark)
	e, ok2 := a.s.live[ev].(*fakeEventH)
	if !ok1 || !ok2 {
		a.s.problems = append(a.s.problems, "EvtUpdateBookmark on bad handles")
		return fakeErr("EvtUpdateBookmark", 6)
	}
	b.channel, b.id = e.ch.name, e.ev.id
	return nil
}

func (a *fakeAPI) renderBookmark(bm handle) (string, error) {
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	b, ok := a.s.live[bm].(*fakeBookmark)
	if !ok {
		a.s.problems = append(a.s.problems, "render of a bad bookmark handle")
		return "", fakeErr("EvtRender", 6)
	}
	return fmt.Sprintf("<BookmarkList>\r\n  <Bookmark Channel='%s' RecordId='%d' IsCurrent='true'/>\r\n</BookmarkList>", b.channel, b.id), nil
}

func (a *fakeAPI) openPublisher(p string) (handle, error) {
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	a.s.pubOpens[p]++
	if _, ok := a.s.publishers[p]; !ok {
		return 0, fakeErr("EvtOpenPublisherMetadata", 15002)
	}
	return a.s.newHandle(&fakePublisher{name: p}), nil
}

func (a *fakeAPI) formatMessage(pub, ev handle) (string, error) {
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	p, ok1 := a.s.live[pub].(*fakePublisher)
	e, ok2 := a.s.live[ev].(*fakeEventH)
	if !ok1 || !ok2 {
		a.s.problems = append(a.s.problems, "EvtFormatMessage on bad handles")
		return "", fakeErr("EvtFormatMessage", 6)
	}
	a.s.formats++
	f := a.s.publishers[p.name]
	if f == "" {
		return "", fakeErr("EvtFormatMessage", 15027) // ERROR_EVT_MESSAGE_NOT_FOUND
	}
	return fmt.Sprintf(f, e.ev.id), nil
}

func (a *fakeAPI) close(h handle) {
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	if _, ok := a.s.live[h]; !ok {
		a.s.problems = append(a.s.problems, fmt.Sprintf("close of unknown handle %d", h))
		return
	}
	delete(a.s.live, h)
}

func (a *fakeAPI) release() {
	a.s.mu.Lock()
	defer a.s.mu.Unlock()
	a.s.released++
}

func (c *fakeChannel) has(id uint64) bool {
	for _, ev := range c.events {
		if ev.id == id {
			return id >= c.oldest
		}
	}
	return false
}
