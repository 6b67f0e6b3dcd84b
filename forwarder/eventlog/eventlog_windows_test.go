//go:build windows

package eventlog

// These tests need a real Windows host; they were compiled (GOOS=windows go
// test -c) but never run by their author: see doc.go.

import (
	"context"
	"strings"
	"testing"
	"time"
)

// first runs Run on the Application channel until it has one event or a few
// seconds pass.
func first(t *testing.T, bookmarks map[string]string) (Event, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	out := make(chan Event, 1)
	done := make(chan error, 1)
	go func() {
		done <- Run(ctx, Config{Channels: []string{"Application"}, Host: "testhost"}, bookmarks, out, nil)
	}()
	select {
	case ev := <-out:
		cancel()
		if err := <-done; err != nil {
			t.Fatalf("Run: %v", err)
		}
		return ev, true
	case err := <-done:
		if err != nil {
			t.Fatalf("Run: %v", err)
		}
		return Event{}, false
	}
}

func TestWindowsApplicationAndResume(t *testing.T) {
	ev, ok := first(t, nil)
	if !ok {
		t.Skip("the Application log is empty")
	}
	if ev.Channel != "Application" || ev.Record.Fields["channel"] != "Application" || ev.Record.Message == "" {
		t.Errorf("event %+v", ev)
	}
	bi, err := checkBookmark(ev.Bookmark, "Application")
	if err != nil {
		t.Fatalf("bookmark %q: %v", ev.Bookmark, err)
	}
	next, ok := first(t, map[string]string{"Application": ev.Bookmark})
	if !ok {
		return // it was the only event
	}
	nbi, err := checkBookmark(next.Bookmark, "Application")
	if err != nil || nbi.RecordID <= bi.RecordID {
		t.Errorf("resumed at %+v (%v) after %+v", nbi, err, bi)
	}
}

func TestWindowsStaleBookmark(t *testing.T) {
	bm := "<BookmarkList>\r\n  <Bookmark Channel='Application' RecordId='1' IsCurrent='true'/>\r\n</BookmarkList>"
	first(t, map[string]string{"Application": bm}) // must not fail: falls back to the oldest record
}

func TestWindowsStartupErrors(t *testing.T) {
	ctx := context.Background()
	err := Run(ctx, Config{Channels: []string{"Vigie-No-Such-Channel"}}, nil, make(chan Event), nil)
	if err == nil || !strings.Contains(err.Error(), "does not exist") {
		t.Errorf("missing channel: %v", err)
	}
	err = Run(ctx, Config{Channels: []string{"Application"}, XPath: "*[System[[Level"}, nil, make(chan Event), nil)
	if err == nil || !strings.Contains(err.Error(), "xpath") {
		t.Errorf("bad xpath: %v", err)
	}
}
