package eventlog

import (
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"vigie/record"
)

// Config is one eventlog source.
type Config struct {
	// Channels are the event log channels to read, by name: Application,
	// System, Security, "Microsoft-Windows-Sysmon/Operational"...
	Channels []string
	// XPath selects events in every channel; "" means "*" (all).
	XPath string
	// Host is the agent's host name, used when an event has no Computer.
	Host string
	// BatchSize is the number of events asked of each EvtNext (default 64,
	// at most 1024).
	BatchSize int
}

// Event is one rendered event and the bookmark just after it.
type Event struct {
	Record  record.Record
	Channel string
	// Bookmark is the bookmark XML (EvtRender EvtRenderBookmark) pointing
	// at this event: save it, under Channel, once the event is safely
	// spooled; it is what Run takes back in its bookmarks map.
	Bookmark string
}

// ErrUnsupported is what Run returns at once on systems other than Windows.
var ErrUnsupported = errors.New("eventlog: the Windows event log exists only on Windows")

const (
	defaultBatchSize = 64
	maxBatchSize     = 1024 // EvtNext refuses larger arrays on some versions
)

// normalized checks c and fills the defaults.
func (c Config) normalized() (Config, error) {
	if len(c.Channels) == 0 {
		return c, errors.New("eventlog: no channel configured")
	}
	seen := make(map[string]string, len(c.Channels))
	chans := make([]string, 0, len(c.Channels))
	for _, ch := range c.Channels {
		ch = strings.TrimSpace(ch)
		if ch == "" {
			return c, errors.New("eventlog: empty channel name")
		}
		k := strings.ToLower(ch) // channel names are case-insensitive
		if prev, dup := seen[k]; dup {
			return c, fmt.Errorf("eventlog: channel %q listed twice (as %q)", ch, prev)
		}
		seen[k] = ch
		chans = append(chans, ch)
	}
	c.Channels = chans
	c.XPath = strings.TrimSpace(c.XPath)
	if c.XPath == "" {
		c.XPath = "*"
	}
	if strings.HasPrefix(c.XPath, "<") {
		return c, errors.New("eventlog: xpath must be an XPath expression such as *[System[Level<=3]], not a <QueryList>: the channels come from channels")
	}
	switch {
	case c.BatchSize <= 0:
		c.BatchSize = defaultBatchSize
	case c.BatchSize > maxBatchSize:
		c.BatchSize = maxBatchSize
	}
	return c, nil
}

// buildQuery gives the structured query (EvtSubscribe's Query, with a nil
// ChannelPath) selecting xpath in channel:
//
//	<QueryList><Query Id="0" Path="Security"><Select Path="Security">*</Select></Query></QueryList>
//
// The channel name and the XPath are XML-escaped, so a name or a filter
// holding & < > ' " stays one well-formed query.
func buildQuery(channel, xpath string) string {
	if xpath == "" {
		xpath = "*"
	}
	var b strings.Builder
	b.WriteString(`<QueryList><Query Id="0" Path="`)
	escape(&b, channel)
	b.WriteString(`"><Select Path="`)
	escape(&b, channel)
	b.WriteString(`">`)
	escape(&b, xpath)
	b.WriteString(`</Select></Query></QueryList>`)
	return b.String()
}

func escape(b *strings.Builder, s string) {
	// xml.EscapeText writes to an io.Writer and never fails on a Builder.
	_ = xml.EscapeText(b, []byte(s))
}

// bookmarkFor finds the saved bookmark of channel: the exact key first, then
// a key differing only in case (the event log ignores case). "" means none.
func bookmarkFor(bookmarks map[string]string, channel string) string {
	if bm, ok := bookmarks[channel]; ok {
		return strings.TrimSpace(bm)
	}
	for k, bm := range bookmarks {
		if strings.EqualFold(k, channel) {
			return strings.TrimSpace(bm)
		}
	}
	return ""
}

// bookmarkInfo is what a bookmark XML says:
//
//	<BookmarkList>
//	  <Bookmark Channel='Application' RecordId='4711' IsCurrent='true'/>
//	</BookmarkList>
type bookmarkInfo struct {
	Channel  string
	RecordID uint64
}

// parseBookmark reads the current position out of a bookmark XML.
func parseBookmark(s string) (bookmarkInfo, error) {
	var bl struct {
		XMLName   xml.Name `xml:"BookmarkList"`
		Bookmarks []struct {
			Channel   string `xml:"Channel,attr"`
			RecordID  string `xml:"RecordId,attr"`
			IsCurrent string `xml:"IsCurrent,attr"`
		} `xml:"Bookmark"`
	}
	if err := xml.Unmarshal([]byte(s), &bl); err != nil {
		return bookmarkInfo{}, fmt.Errorf("bad bookmark XML: %w", err)
	}
	if len(bl.Bookmarks) == 0 {
		return bookmarkInfo{}, errors.New("bad bookmark XML: no <Bookmark>")
	}
	pick := bl.Bookmarks[0]
	for _, b := range bl.Bookmarks {
		if strings.EqualFold(b.IsCurrent, "true") {
			pick = b
			break
		}
	}
	id, err := strconv.ParseUint(strings.TrimSpace(pick.RecordID), 10, 64)
	if err != nil {
		return bookmarkInfo{}, fmt.Errorf("bad bookmark XML: RecordId %q", pick.RecordID)
	}
	return bookmarkInfo{Channel: pick.Channel, RecordID: id}, nil
}

// checkBookmark says whether the saved bookmark s may be used for channel:
// "" (no bookmark) and a bookmark of another channel give an error.
func checkBookmark(s, channel string) (bookmarkInfo, error) {
	if s == "" {
		return bookmarkInfo{}, errors.New("no bookmark")
	}
	bi, err := parseBookmark(s)
	if err != nil {
		return bi, err
	}
	if bi.Channel != "" && !strings.EqualFold(bi.Channel, channel) {
		return bi, fmt.Errorf("bookmark is for channel %q", bi.Channel)
	}
	return bi, nil
}

// hasRenderingInfo says whether rendered event XML already carries its
// message: events forwarded by Windows Event Collector do, and the local
// publisher metadata may well not exist for them.
func hasRenderingInfo(x string) bool {
	return strings.Contains(x, "<RenderingInfo")
}

// normalizeMessage turns an EvtFormatMessage string into the record's
// message: LF line ends, no surrounding blanks.
func normalizeMessage(msg string) string {
	msg = strings.ReplaceAll(msg, "\r\n", "\n")
	msg = strings.ReplaceAll(msg, "\r", "\n")
	return strings.TrimSpace(msg)
}

// applyMessage makes msg, the publisher's formatted message, the record's
// Message. An empty one keeps what ParseEventXML put there (the EventData
// values joined), which stay in the data.* fields either way. It reports
// whether the message was used.
func applyMessage(r *record.Record, msg string) bool {
	msg = normalizeMessage(msg)
	if msg == "" {
		return false
	}
	r.Message = msg
	return true
}

// finishRecord sets what ParseEventXML leaves to the caller.
func finishRecord(r *record.Record, host, channel string, now time.Time) {
	if r.Host == "" {
		r.Host = host
	}
	if r.Fields[record.FieldChannel] == "" {
		r.SetField(record.FieldChannel, channel)
	}
	r.Received = now.UTC()
}

// unrenderedRecord stands for an event EvtRender could not render: it is
// still sent (never a silent drop), kept with parse_error.
func unrenderedRecord(host, channel string, now time.Time, err error) record.Record {
	r := record.Record{
		Time: now.UTC(), Received: now.UTC(), Host: host, App: "eventlog",
		Facility: record.FacUser, Severity: record.SevWarning,
		Message: "eventlog: an event of channel " + channel + " could not be rendered: " + err.Error(),
	}
	r.SetField(record.FieldChannel, channel)
	r.SetField(record.FieldParseError, "EvtRender: "+err.Error())
	return r
}

// maxBufferUnits bounds buffer growth (64 MiB of UTF-16): a size beyond it
// is a corrupt answer, not an event.
const maxBufferUnits = 32 << 20

// errBufferTooLarge is returned when a call asks for more than maxBufferUnits.
var errBufferTooLarge = errors.New("eventlog: buffer size asked is too large")

// fill runs call with buf, growing buf while the answer does not fit: call
// returns the size it used or needs, in buffer units, and its error; isShort
// says whether that error means "buffer too small". A need larger than the
// buffer with no error (EvtFormatMessage truncating) counts as too small
// too. fill returns the (possibly grown) buffer for reuse, the size used and
// call's last error.
func fill(buf []uint16, call func([]uint16) (uint32, error), isShort func(error) bool) ([]uint16, uint32, error) {
	if len(buf) == 0 {
		buf = make([]uint16, 1024)
	}
	for attempt := 0; ; attempt++ {
		used, err := call(buf)
		short := (err != nil && isShort(err)) || int64(used) > int64(len(buf))
		if !short {
			return buf, used, err
		}
		if attempt >= 8 {
			return buf, used, fmt.Errorf("eventlog: buffer still too small after %d attempts (last asked %d units)", attempt+1, used)
		}
		n := int64(used)
		if n <= int64(len(buf)) { // too small, yet no size given
			n = 2 * int64(len(buf))
		}
		if n > maxBufferUnits {
			return buf, used, errBufferTooLarge
		}
		buf = make([]uint16, n)
	}
}
