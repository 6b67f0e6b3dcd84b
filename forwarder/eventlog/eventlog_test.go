package eventlog

import (
	"encoding/xml"
	"errors"
	"strings"
	"syscall"
	"testing"
	"time"

	"vigie/record"
)

func TestNormalized(t *testing.T) {
	c, err := Config{Channels: []string{" Application ", "Microsoft-Windows-Sysmon/Operational"}}.normalized()
	if err != nil {
		t.Fatal(err)
	}
	if c.XPath != "*" || c.BatchSize != defaultBatchSize || c.Channels[0] != "Application" {
		t.Errorf("defaults: %+v", c)
	}
	if c, _ := (Config{Channels: []string{"A"}, BatchSize: 5000}).normalized(); c.BatchSize != maxBatchSize {
		t.Errorf("batch %d not capped", c.BatchSize)
	}
	for name, cfg := range map[string]Config{
		"no channel": {},
		"empty":      {Channels: []string{"System", ""}},
		"duplicate":  {Channels: []string{"Security", "SECURITY"}},
		"querylist":  {Channels: []string{"System"}, XPath: " <QueryList><Query/></QueryList>"},
	} {
		if _, err := cfg.normalized(); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func TestBuildQuery(t *testing.T) {
	got := buildQuery("Security", "")
	want := `<QueryList><Query Id="0" Path="Security"><Select Path="Security">*</Select></Query></QueryList>`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	// Names and filters with XML specials stay one well-formed query that
	// says what was asked.
	for _, tc := range []struct{ ch, xp string }{
		{"Microsoft-Windows-Sysmon/Operational", "*[System[(Level=1 or Level=2) and TimeCreated[timediff(@SystemTime) <= 86400000]]]"},
		{`Odd "quoted" & <angled> 'chan'`, `*[EventData[Data[@Name='TargetUserName']="a&b"]]`},
	} {
		q := buildQuery(tc.ch, tc.xp)
		var ql struct {
			XMLName xml.Name `xml:"QueryList"`
			Query   []struct {
				ID     string `xml:"Id,attr"`
				Path   string `xml:"Path,attr"`
				Select []struct {
					Path  string `xml:"Path,attr"`
					XPath string `xml:",chardata"`
				}
			}
		}
		if err := xml.Unmarshal([]byte(q), &ql); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if len(ql.Query) != 1 || ql.Query[0].Path != tc.ch || len(ql.Query[0].Select) != 1 ||
			ql.Query[0].Select[0].Path != tc.ch || ql.Query[0].Select[0].XPath != tc.xp {
			t.Errorf("%s decodes to %+v", q, ql)
		}
	}
}

func TestBookmarks(t *testing.T) {
	m := map[string]string{"Application": " <BookmarkList/> ", "security": "S"}
	if got := bookmarkFor(m, "Application"); got != "<BookmarkList/>" {
		t.Errorf("exact: %q", got)
	}
	if got := bookmarkFor(m, "Security"); got != "S" {
		t.Errorf("case-insensitive: %q", got)
	}
	if got := bookmarkFor(m, "System"); got != "" {
		t.Errorf("missing: %q", got)
	}
	if got := bookmarkFor(nil, "System"); got != "" {
		t.Errorf("nil map: %q", got)
	}

	// As EvtRender(EvtRenderBookmark) writes it.
	bm := "<BookmarkList>\r\n  <Bookmark Channel='Security' RecordId='123456789012' IsCurrent='true'/>\r\n</BookmarkList>"
	bi, err := checkBookmark(bm, "security")
	if err != nil || bi.Channel != "Security" || bi.RecordID != 123456789012 {
		t.Errorf("checkBookmark = %+v, %v", bi, err)
	}
	multi := "<BookmarkList Direction='backward'><Bookmark Channel='A' RecordId='1'/><Bookmark Channel='B' RecordId='9' IsCurrent='true'/></BookmarkList>"
	if bi, err := parseBookmark(multi); err != nil || bi.Channel != "B" || bi.RecordID != 9 {
		t.Errorf("current one: %+v, %v", bi, err)
	}
	for name, s := range map[string]string{
		"none":        "",
		"not xml":     "<Bookmark",
		"empty list":  "<BookmarkList></BookmarkList>",
		"bad id":      "<BookmarkList><Bookmark Channel='Security' RecordId='x'/></BookmarkList>",
		"other chan":  "<BookmarkList><Bookmark Channel='System' RecordId='3'/></BookmarkList>",
		"wrong root":  "<Event/>",
		"negative id": "<BookmarkList><Bookmark Channel='Security' RecordId='-3'/></BookmarkList>",
	} {
		if _, err := checkBookmark(s, "Security"); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

const eventWithData = `<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System>` +
	`<Provider Name='Microsoft-Windows-Security-Auditing'/><EventID>4625</EventID><Level>0</Level>` +
	`<Keywords>0x8010000000000000</Keywords><TimeCreated SystemTime='2026-03-01T10:00:00.5Z'/>` +
	`<EventRecordID>42</EventRecordID><Channel>Security</Channel><Computer></Computer></System>` +
	`<EventData><Data Name='TargetUserName'>bob</Data><Data Name='IpAddress'>10.0.0.9</Data></EventData></Event>`

func TestMessageInsertion(t *testing.T) {
	r, err := record.ParseEventXML([]byte(eventWithData))
	if err != nil {
		t.Fatal(err)
	}
	raw := r.Message
	if raw != "TargetUserName=bob; IpAddress=10.0.0.9" {
		t.Fatalf("raw message %q", raw)
	}
	if applyMessage(&r, " \r\n ") || r.Message != raw {
		t.Errorf("blank message replaced the event data: %q", r.Message)
	}
	if !applyMessage(&r, "An account failed to log on.\r\n\r\nAccount Name:\t\tbob\r\n") {
		t.Fatal("message not applied")
	}
	if r.Message != "An account failed to log on.\n\nAccount Name:\t\tbob" {
		t.Errorf("message %q", r.Message)
	}
	if r.Fields["data.TargetUserName"] != "bob" || r.Fields[record.FieldAudit] != "failure" {
		t.Errorf("fields lost: %v", r.Fields)
	}

	now := time.Date(2026, 3, 1, 11, 0, 0, 0, time.FixedZone("x", 3600))
	finishRecord(&r, "agenthost", "Security", now)
	if r.Host != "agenthost" || !r.Received.Equal(now) || r.Received.Location() != time.UTC {
		t.Errorf("finish: host %q received %v", r.Host, r.Received)
	}
	r.Host = "dc1"
	finishRecord(&r, "agenthost", "Security", now)
	if r.Host != "dc1" {
		t.Error("Computer overwritten by the agent host")
	}
	var bare record.Record
	finishRecord(&bare, "h", "System", now)
	if bare.Fields[record.FieldChannel] != "System" {
		t.Errorf("channel not set: %v", bare.Fields)
	}

	if !hasRenderingInfo(`<Event><RenderingInfo Culture='en-US'><Message>m</Message></RenderingInfo></Event>`) ||
		hasRenderingInfo(eventWithData) {
		t.Error("hasRenderingInfo")
	}

	u := unrenderedRecord("h", "Application", now, errors.New("boom"))
	if u.Fields[record.FieldParseError] == "" || !strings.Contains(u.Message, "boom") || u.Fields[record.FieldChannel] != "Application" {
		t.Errorf("unrendered %+v", u)
	}
}

func TestFill(t *testing.T) {
	short := fakeErr("EvtRender", codeInsufficientBuffer)
	text := []uint16{'h', 'e', 'l', 'l', 'o', 0}

	// Too small: the call says how much it needs, the buffer grows once.
	calls := 0
	buf, used, err := fill(make([]uint16, 2), func(b []uint16) (uint32, error) {
		calls++
		if len(b) < len(text) {
			return uint32(len(text)), short
		}
		copy(b, text)
		return uint32(len(text)), nil
	}, isShortBuffer)
	if err != nil || calls != 2 || used != 6 || len(buf) != 6 || string(rune(buf[0])) != "h" {
		t.Errorf("grow: calls %d used %d len %d err %v", calls, used, len(buf), err)
	}

	// Success that reports a larger need (truncated message) grows too.
	calls = 0
	_, used, err = fill(make([]uint16, 4), func(b []uint16) (uint32, error) {
		calls++
		copy(b, text)
		return uint32(len(text)), nil
	}, isShortBuffer)
	if err != nil || calls != 2 || used != 6 {
		t.Errorf("truncation: calls %d used %d err %v", calls, used, err)
	}

	// Too small without a size: doubling.
	var sizes []int
	_, _, err = fill(make([]uint16, 8), func(b []uint16) (uint32, error) {
		sizes = append(sizes, len(b))
		if len(b) < 32 {
			return 0, short
		}
		return 3, nil
	}, isShortBuffer)
	if err != nil || len(sizes) != 3 || sizes[2] != 32 {
		t.Errorf("doubling: sizes %v err %v", sizes, err)
	}

	// A big enough buffer is reused as is; other errors pass through.
	orig := make([]uint16, 64)
	other := fakeErr("EvtRender", 87)
	buf, _, err = fill(orig, func(b []uint16) (uint32, error) { return 0, other }, isShortBuffer)
	if err != other || &buf[0] != &orig[0] {
		t.Errorf("other error: %v", err)
	}

	// An absurd size is refused, not allocated.
	_, _, err = fill(nil, func(b []uint16) (uint32, error) { return 1 << 31, short }, isShortBuffer)
	if !errors.Is(err, errBufferTooLarge) {
		t.Errorf("huge: %v", err)
	}

	// A call that is never satisfied ends.
	calls = 0
	_, _, err = fill(make([]uint16, 1), func(b []uint16) (uint32, error) { calls++; return uint32(len(b) + 1), nil }, isShortBuffer)
	if err == nil || calls > 9 {
		t.Errorf("endless: %d calls, err %v", calls, err)
	}
}

func TestErrorClassification(t *testing.T) {
	for _, tc := range []struct {
		code uint32
		n    int
		want nextOutcome
	}{
		{codeNoMoreItems, 0, nextDrained},
		{codeTimeout, 0, nextDrained},
		{codeInvalidOperation, 0, nextDrained},
		{codeInvalidOperation, 3, nextResubscribe},
		{codeEvtQueryResultStale, 0, nextResubscribe},
		{codeRPCInvalidBound, 0, nextShrink},
		{codeAccessDenied, 0, nextFail},
		{1722, 0, nextFail}, // RPC_S_SERVER_UNAVAILABLE: event log service restarting
	} {
		if got := classifyNext(fakeErr("EvtNext", tc.code), tc.n); got != tc.want {
			t.Errorf("EvtNext error %d (n=%d): %v, want %v", tc.code, tc.n, got, tc.want)
		}
	}
	if classifyNext(errors.New("not an api error"), 0) != nextFail {
		t.Error("plain error")
	}

	for _, c := range []uint32{codeAccessDenied, codeEvtChannelNotFound, codeEvtInvalidQuery, codeEvtInvalidChannelPath, 15017, codeEvtFilterTooComplex} {
		if !isQueryOrAccessError(c) {
			t.Errorf("%d should not fall back to the oldest record", c)
		}
	}
	for _, c := range []uint32{codeNotFound, 87, codeEvtQueryResultStale, 0} {
		if isQueryOrAccessError(c) {
			t.Errorf("%d should fall back to the oldest record", c)
		}
	}

	denied := subscribeError("Security", "*", fakeErr("EvtSubscribe", codeAccessDenied))
	for _, s := range []string{`"Security"`, "access denied", "LocalSystem", "Event Log Readers"} {
		if !strings.Contains(denied.Error(), s) {
			t.Errorf("%q lacks %q", denied, s)
		}
	}
	if !errors.Is(denied, syscall.Errno(codeAccessDenied)) || codeOf(denied) != codeAccessDenied {
		t.Errorf("%v does not unwrap", denied)
	}
	if e := subscribeError("Foo", "*", fakeErr("EvtSubscribe", codeEvtChannelNotFound)); !strings.Contains(e.Error(), `"Foo" does not exist`) {
		t.Errorf("not found: %v", e)
	}
	if e := subscribeError("System", "*[", fakeErr("EvtSubscribe", codeEvtInvalidQuery)); !strings.Contains(e.Error(), `invalid xpath "*["`) {
		t.Errorf("bad query: %v", e)
	}
	if e := subscribeError("System", "*", fakeErr("EvtSubscribe", 1722)); !strings.Contains(e.Error(), `"System"`) {
		t.Errorf("other: %v", e)
	}

	if !formatTolerable(fakeErr("EvtFormatMessage", codeEvtUnresolvedValue)) || formatTolerable(fakeErr("EvtFormatMessage", 15027)) {
		t.Error("formatTolerable")
	}
	if (&apiError{Op: "EvtNext", Code: 7}).Error() != "EvtNext: error 7" {
		t.Error("apiError without Err")
	}
}
