package eventlog

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"vigie/record"
)

func init() {
	waitTimeout = 5 * time.Millisecond
	backoffMin = 5 * time.Millisecond
	backoffMax = 20 * time.Millisecond
}

// syncBuf is a log sink safe for the reader goroutines.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type harness struct {
	t      *testing.T
	sys    *fakeSystem
	out    chan Event
	cancel context.CancelFunc
	done   chan error
	logs   *syncBuf
}

func start(t *testing.T, sys *fakeSystem, cfg Config, bookmarks map[string]string) *harness {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	h := &harness{t: t, sys: sys, out: make(chan Event), cancel: cancel, done: make(chan error, 1), logs: &syncBuf{}}
	logger := slog.New(slog.NewTextHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	go func() { h.done <- run(ctx, cfg, bookmarks, h.out, logger, sys.newAPI) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-h.done:
		case <-time.After(5 * time.Second):
			t.Error("run did not return after cancel")
		}
	})
	return h
}

func (h *harness) take(n int) []Event {
	h.t.Helper()
	var evs []Event
	for len(evs) < n {
		select {
		case ev := <-h.out:
			evs = append(evs, ev)
		case err := <-h.done:
			h.t.Fatalf("run returned %v after %d events", err, len(evs))
		case <-time.After(5 * time.Second):
			h.t.Fatalf("got %d events, want %d; log:\n%s", len(evs), n, h.logs.String())
		}
	}
	return evs
}

func (h *harness) none() {
	h.t.Helper()
	select {
	case ev := <-h.out:
		h.t.Fatalf("unexpected event %+v", ev)
	case <-time.After(50 * time.Millisecond):
	}
}

// stop cancels and checks that run returns nil with every handle closed.
func (h *harness) stop() {
	h.t.Helper()
	h.cancel()
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("run = %v, want nil", err)
		}
	case <-time.After(5 * time.Second):
		h.t.Fatal("run did not return after cancel")
	}
	h.done <- nil // for the cleanup
	h.sys.check(h.t)
}

func recordID(t *testing.T, ev Event) uint64 {
	t.Helper()
	bi, err := parseBookmark(ev.Bookmark)
	if err != nil {
		t.Fatalf("event bookmark %q: %v", ev.Bookmark, err)
	}
	if ev.Record.Fields[record.FieldRecordID] != "" && ev.Record.Fields[record.FieldRecordID] != itoa(bi.RecordID) {
		t.Errorf("bookmark at %d, event record_id %s", bi.RecordID, ev.Record.Fields[record.FieldRecordID])
	}
	return bi.RecordID
}

func itoa(n uint64) string {
	var b [20]byte
	i := len(b)
	for {
		i--
		b[i] = byte('0' + n%10)
		n /= 10
		if n == 0 {
			return string(b[i:])
		}
	}
}

func TestRunFromOldestWithMessages(t *testing.T) {
	sys := newFakeSystem()
	sys.publishers["Service Control Manager"] = "The service entered state %d.\r\nSecond line.\r\n"
	sys.publishers["EmptyMessages"] = "" // metadata, but no message for the event
	sys.add("Application", "Service Control Manager", "srv1")
	sys.add("Application", "NoMetadata", "")
	sys.add("Application", "Service Control Manager", "srv1")
	sys.add("Application", "NoMetadata", "srv1")
	sys.add("Application", "EmptyMessages", "srv1")
	sys.addRaw("Application", `<Event><System><Provider Name='Service Control Manager'/><EventRecordID>6</EventRecordID>`+
		`<TimeCreated SystemTime='2026-03-01T10:00:00Z'/><Computer>far</Computer></System>`+
		`<RenderingInfo Culture='en-US'><Message>Forwarded message</Message></RenderingInfo></Event>`)

	h := start(t, sys, Config{Channels: []string{"Application"}, Host: "agenthost", BatchSize: 4}, nil)
	evs := h.take(6)
	h.none()

	for i, ev := range evs {
		if ev.Channel != "Application" || ev.Record.Fields[record.FieldChannel] != "Application" {
			t.Errorf("event %d channel %q / %q", i, ev.Channel, ev.Record.Fields[record.FieldChannel])
		}
		if id := recordID(t, ev); id != uint64(i+1) {
			t.Errorf("event %d bookmark at record %d", i, id)
		}
		if ev.Record.Received.IsZero() {
			t.Errorf("event %d has no Received", i)
		}
	}
	if m := evs[0].Record.Message; m != "The service entered state 1.\nSecond line." {
		t.Errorf("formatted message %q", m)
	}
	if m := evs[1].Record.Message; m != "param1=v2" {
		t.Errorf("no metadata: message %q, want the event data", m)
	}
	if evs[1].Record.Host != "agenthost" || evs[0].Record.Host != "srv1" {
		t.Errorf("hosts %q %q", evs[0].Record.Host, evs[1].Record.Host)
	}
	if evs[1].Record.Fields["data.param1"] != "v2" || evs[0].Record.Fields["data.param1"] != "v1" {
		t.Errorf("event data fields lost: %v / %v", evs[0].Record.Fields, evs[1].Record.Fields)
	}
	if m := evs[4].Record.Message; m != "param1=v5" {
		t.Errorf("publisher without that message: %q", m)
	}
	if m := evs[5].Record.Message; m != "Forwarded message" {
		t.Errorf("RenderingInfo message %q", m)
	}
	sys.mu.Lock()
	if sys.pubOpens["Service Control Manager"] != 1 || sys.pubOpens["NoMetadata"] != 1 || sys.pubOpens["EmptyMessages"] != 1 {
		t.Errorf("publisher metadata opened %v, want once each", sys.pubOpens)
	}
	if sys.formats != 3 { // 2 SCM + 1 EmptyMessages; not the forwarded one
		t.Errorf("%d EvtFormatMessage calls, want 3", sys.formats)
	}
	if len(sys.subscribes) != 1 || sys.subscribes[0] != "Application oldest" {
		t.Errorf("subscriptions %v", sys.subscribes)
	}
	sys.mu.Unlock()

	// Events logged later arrive too.
	sys.add("Application", "NoMetadata", "srv1")
	if id := recordID(t, h.take(1)[0]); id != 7 {
		t.Errorf("live event at %d", id)
	}
	h.stop()
}

func TestRunResumesAfterBookmark(t *testing.T) {
	sys := newFakeSystem()
	for range 5 {
		sys.add("System", "P", "h")
	}
	first := start(t, sys, Config{Channels: []string{"System"}}, nil)
	evs := first.take(5)
	first.stop()
	saved := evs[2].Bookmark // only 3 were spooled before the restart

	sys.mu.Lock()
	sys.subscribes = nil
	sys.mu.Unlock()
	h := start(t, sys, Config{Channels: []string{"System"}}, map[string]string{"system": saved})
	got := h.take(2)
	h.none()
	if a, b := recordID(t, got[0]), recordID(t, got[1]); a != 4 || b != 5 {
		t.Errorf("resumed at %d, %d; want 4, 5", a, b)
	}
	sys.mu.Lock()
	if len(sys.subscribes) != 1 || sys.subscribes[0] != "System after:3 strict=true" {
		t.Errorf("subscriptions %v", sys.subscribes)
	}
	sys.mu.Unlock()
	if !strings.Contains(h.logs.String(), "record_id=3") {
		t.Errorf("resume not logged:\n%s", h.logs.String())
	}
	h.stop()
}

func TestRunStaleBookmarkStartsAtOldest(t *testing.T) {
	sys := newFakeSystem()
	for range 5 {
		sys.add("Security", "P", "h")
	}
	sys.channel("Security").oldest = 4 // 1-3 overwritten, bookmark at 2
	bm := "<BookmarkList>\r\n  <Bookmark Channel='Security' RecordId='2' IsCurrent='true'/>\r\n</BookmarkList>"
	h := start(t, sys, Config{Channels: []string{"Security"}}, map[string]string{"Security": bm})
	got := h.take(2)
	if a, b := recordID(t, got[0]), recordID(t, got[1]); a != 4 || b != 5 {
		t.Errorf("got %d, %d; want 4, 5", a, b)
	}
	sys.mu.Lock()
	want := []string{"Security after:2 strict=true", "Security oldest"}
	if strings.Join(sys.subscribes, "|") != strings.Join(want, "|") {
		t.Errorf("subscriptions %v, want %v", sys.subscribes, want)
	}
	sys.mu.Unlock()
	if !strings.Contains(h.logs.String(), "level=WARN") || !strings.Contains(h.logs.String(), "oldest record") {
		t.Errorf("no warning:\n%s", h.logs.String())
	}
	h.stop()
}

func TestRunUnusableBookmarks(t *testing.T) {
	for name, bm := range map[string]string{
		"other channel": "<BookmarkList><Bookmark Channel='System' RecordId='2' IsCurrent='true'/></BookmarkList>",
		"garbage":       "not xml",
		"blank":         "  ",
	} {
		t.Run(name, func(t *testing.T) {
			sys := newFakeSystem()
			sys.add("Application", "P", "h")
			sys.add("Application", "P", "h")
			h := start(t, sys, Config{Channels: []string{"Application"}}, map[string]string{"Application": bm})
			got := h.take(2)
			if recordID(t, got[0]) != 1 {
				t.Errorf("did not start at the oldest record")
			}
			sys.mu.Lock()
			if len(sys.subscribes) != 1 || sys.subscribes[0] != "Application oldest" {
				t.Errorf("subscriptions %v", sys.subscribes)
			}
			sys.mu.Unlock()
			h.stop()
		})
	}
}

func TestRunRecoversFromStaleResultSet(t *testing.T) {
	sys := newFakeSystem()
	for range 10 {
		sys.add("Application", "P", "h")
	}
	sys.channel("Application").staleAfter = 3
	h := start(t, sys, Config{Channels: []string{"Application"}, BatchSize: 2}, nil)
	got := h.take(10)
	h.none()
	for i, ev := range got {
		if id := recordID(t, ev); id != uint64(i+1) {
			t.Fatalf("event %d is record %d: lost or repeated events", i, id)
		}
	}
	sys.mu.Lock()
	want := "Application oldest|Application after:3 strict=true"
	if strings.Join(sys.subscribes, "|") != want {
		t.Errorf("subscriptions %v, want %s", sys.subscribes, want)
	}
	sys.mu.Unlock()
	if !strings.Contains(h.logs.String(), "stale") {
		t.Errorf("stale not logged:\n%s", h.logs.String())
	}
	h.stop()
}

func TestRunStaleBeforeAnyEventResubscribesAtOldest(t *testing.T) {
	sys := newFakeSystem()
	sys.channel("Application")
	h := start(t, sys, Config{Channels: []string{"Application"}}, nil)
	h.none()
	// Now make the next EvtNext stale, with nothing read yet.
	sys.mu.Lock()
	sys.channels["application"].staleAfter = 1
	sys.channels["application"].handedOut = 1
	sys.mu.Unlock()
	time.Sleep(30 * time.Millisecond)
	sys.add("Application", "P", "h")
	if recordID(t, h.take(1)[0]) != 1 {
		t.Error("wrong first record")
	}
	sys.mu.Lock()
	if len(sys.subscribes) != 2 || sys.subscribes[1] != "Application oldest" {
		t.Errorf("subscriptions %v", sys.subscribes)
	}
	sys.mu.Unlock()
	h.stop()
}

func TestRunShrinksBatch(t *testing.T) {
	sys := newFakeSystem()
	for range 40 {
		sys.add("Application", "P", "h")
	}
	sys.channel("Application").maxBatch = 16
	h := start(t, sys, Config{Channels: []string{"Application"}, BatchSize: 64}, nil)
	got := h.take(40)
	for i, ev := range got {
		if recordID(t, ev) != uint64(i+1) {
			t.Fatalf("event %d out of order", i)
		}
	}
	if !strings.Contains(h.logs.String(), "batch=16") {
		t.Errorf("shrink not logged:\n%s", h.logs.String())
	}
	h.stop()
}

func TestRunSeveralChannels(t *testing.T) {
	sys := newFakeSystem()
	sys.add("Application", "P", "h")
	sys.add("System", "P", "h")
	sys.add("System", "P", "h")
	h := start(t, sys, Config{Channels: []string{"Application", "System"}}, nil)
	count := map[string]int{}
	for _, ev := range h.take(3) {
		count[ev.Channel]++
		if bi, _ := parseBookmark(ev.Bookmark); bi.Channel != ev.Channel {
			t.Errorf("bookmark of %s for an event of %s", bi.Channel, ev.Channel)
		}
	}
	if count["Application"] != 1 || count["System"] != 2 {
		t.Errorf("per channel %v", count)
	}
	h.stop()
}

func TestRunUnrenderableEventIsSent(t *testing.T) {
	sys := newFakeSystem()
	sys.add("Application", "P", "h")
	sys.add("Application", "P", "h")
	sys.channel("Application").unrender[1] = true
	h := start(t, sys, Config{Channels: []string{"Application"}, Host: "agenthost"}, nil)
	got := h.take(2)
	r := got[0].Record
	if r.Fields[record.FieldParseError] == "" || r.Host != "agenthost" || r.Fields[record.FieldChannel] != "Application" {
		t.Errorf("unrendered record %+v", r)
	}
	if recordID(t, got[0]) != 1 || recordID(t, got[1]) != 2 {
		t.Error("bookmarks do not move past the unrendered event")
	}
	h.stop()
}

func TestRunStartupErrors(t *testing.T) {
	sys := newFakeSystem()
	sys.add("Application", "P", "h")
	sys.channel("Security").denied = true
	out := make(chan Event, 10)
	ctx := context.Background()

	err := run(ctx, Config{Channels: []string{"Application", "Security"}}, nil, out, nil, sys.newAPI)
	if err == nil || !strings.Contains(err.Error(), `"Security"`) || !strings.Contains(err.Error(), "Event Log Readers") ||
		!strings.Contains(err.Error(), "LocalSystem") {
		t.Errorf("access denied: %v", err)
	}
	if !errors.Is(err, syscall.Errno(codeAccessDenied)) {
		t.Errorf("access denied does not unwrap to the errno: %v", err)
	}
	sys.check(t) // the Application reader opened first is closed again

	err = run(ctx, Config{Channels: []string{"Nope"}}, nil, out, nil, sys.newAPI)
	if err == nil || !strings.Contains(err.Error(), `"Nope" does not exist`) {
		t.Errorf("missing channel: %v", err)
	}
	err = run(ctx, Config{Channels: []string{"Application"}, XPath: "*[[bad"}, nil, out, nil, sys.newAPI)
	if err == nil || !strings.Contains(err.Error(), "invalid xpath") {
		t.Errorf("bad xpath: %v", err)
	}
	for _, cfg := range []Config{{}, {Channels: []string{"A", "a"}}, {Channels: []string{" "}}, {Channels: []string{"A"}, XPath: "<QueryList/>"}} {
		if err := run(ctx, cfg, nil, out, nil, sys.newAPI); err == nil {
			t.Errorf("config %+v accepted", cfg)
		}
	}
	sys.check(t)
	if len(out) != 0 {
		t.Errorf("%d events sent by failed runs", len(out))
	}
}

func TestRunCancelWhileBlockedClosesHandles(t *testing.T) {
	sys := newFakeSystem()
	for range 20 {
		sys.add("Application", "P", "h")
	}
	h := start(t, sys, Config{Channels: []string{"Application"}, BatchSize: 8}, nil)
	h.take(3) // the reader now blocks sending the 4th, 5 handles of the batch pending
	time.Sleep(20 * time.Millisecond)
	if sys.liveCount() == 0 {
		t.Fatal("expected open handles while running")
	}
	h.stop() // checks every handle is closed
}
