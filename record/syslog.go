package record

import (
	"bytes"
	"encoding/base64"
	"strings"
	"time"
	"unicode/utf8"
)

// FieldRawBase64 keeps the exact bytes of a line kept raw whose bytes are not
// valid UTF-8: Message then holds a repaired copy, because JSON and the
// full-text index would mangle the invalid bytes anyway.
const FieldRawBase64 = "raw_base64"

// FieldCharset says a message was not UTF-8 and was decoded from this
// character set.
const FieldCharset = "charset"

// SyslogOptions tunes ParseSyslog for one listener.
type SyslogOptions struct {
	// Location is the zone of RFC 3164 stamps that carry none (nil = UTC).
	Location *time.Location
	// Received is the receive time: used for year inference and as Time when
	// the message has none. Zero means time.Now().
	Received time.Time
	// SnareDelimiter separates Snare fields; "" detects a tab or the "#011"
	// that rsyslog escapes tabs into.
	SnareDelimiter string
}

// syslogParser carries the per-call settings through the format parsers.
type syslogParser struct {
	loc      *time.Location
	received time.Time // UTC
	snareSep string
	hasPRI   bool // the line had a PRI; otherwise a device severity may replace the default
}

// ParseSyslog parses one syslog message (already de-framed, no trailing
// newline): RFC 5424, RFC 3164 in its real-world shapes (Cisco IOS, NX-OS,
// ASA, rsyslog forwarding formats, Odoo's --syslog lines) and Snare
// MSWinEventLog. It never fails: a
// message that cannot be parsed is returned raw in Message with
// Fields["parse_error"] set to a short reason, Time = Received, Facility 1 and
// Severity 5 (<13>). Source is left for the caller.
func ParseSyslog(msg []byte, opt SyslogOptions) Record {
	p := syslogParser{loc: opt.Location, received: opt.Received, snareSep: opt.SnareDelimiter}
	if p.loc == nil {
		p.loc = time.UTC
	}
	if p.received.IsZero() {
		p.received = time.Now()
	}
	p.received = p.received.UTC()

	// Python's SysLogHandler ends messages with NUL, and some senders keep the
	// line end: neither is content.
	line := bytes.TrimRight(msg, "\x00\r\n")
	switch {
	case len(line) == 0:
		return p.raw(msg, "empty message")
	case bytes.IndexByte(line, 0) >= 0:
		return p.raw(msg, "binary data")
	}
	// Text that is not UTF-8 is almost always Windows-1252 or Latin-1 (French
	// Windows servers, old Unix daemons: "transfert est terminé"). Decoding it
	// keeps it searchable and parsed instead of mangled.
	legacy := !utf8.Valid(line)
	if legacy {
		line = decodeCP1252(line)
		msg = line // a raw fallback then keeps the decoded text
	}
	r := p.parse(msg, line)
	if legacy {
		r.SetField(FieldCharset, "windows-1252")
	}
	return r
}

// parse dispatches a clean (UTF-8, trimmed, non-empty) line to its format.
func (p *syslogParser) parse(msg, line []byte) Record {

	pri, n, reason := parsePRI(line)
	if reason != "" {
		return p.raw(msg, reason)
	}
	if n == len(line) {
		return p.raw(msg, "nothing after PRI")
	}
	p.hasPRI = n > 0
	if p.hasPRI && is5424(line[n:]) {
		return p.parse5424(msg, line)
	}

	s := string(line) // the only copy: every string field below is a substring of it
	r := Record{
		Time:     p.received,
		Received: p.received,
		Facility: pri / 8,
		Severity: pri % 8,
	}
	rest := s[n:]
	if i := strings.Index(rest, snareMarker); i >= 0 && p.parseSnare(&r, rest, i) {
		return r
	}
	p.parse3164(&r, rest)
	return r
}

// raw is the never-lose-the-line fallback.
func (p *syslogParser) raw(msg []byte, reason string) Record {
	r := Record{
		Time:     p.received,
		Received: p.received,
		Facility: FacUser,
		Severity: SevNotice,
		Fields:   map[string]string{FieldParseError: reason},
	}
	if utf8.Valid(msg) {
		r.Message = string(msg)
	} else {
		r.Message = strings.ToValidUTF8(string(msg), "\uFFFD")
		r.Fields[FieldRawBase64] = base64.StdEncoding.EncodeToString(msg)
	}
	return r
}

// parsePRI reads "<N>" at the start of b. A line without PRI gets <13>
// (user.notice, as RFC 3164 section 4.3.3 says for relays); n is then 0.
func parsePRI(b []byte) (pri, n int, reason string) {
	if b[0] != '<' {
		return FacUser*8 + SevNotice, 0, ""
	}
	i := 1
	for ; i < len(b) && i <= 4 && b[i] >= '0' && b[i] <= '9'; i++ {
		pri = pri*10 + int(b[i]-'0')
	}
	if i == 1 || i > 4 || i >= len(b) || b[i] != '>' {
		return 0, 0, "invalid PRI"
	}
	if pri > 191 {
		return 0, 0, "PRI out of range"
	}
	return pri, i + 1, ""
}

// is5424 tells an RFC 5424 header ("1 " then a stamp or "-") from RFC 3164
// text, which may start with a digit too (Cisco sequence numbers "1: ").
func is5424(b []byte) bool {
	if len(b) < 2 || b[0] != '1' || b[1] != ' ' {
		return false
	}
	return len(b) == 2 || b[2] == '-' || (b[2] >= '0' && b[2] <= '9')
}

// cp1252High maps the bytes 0x80-0x9F of Windows-1252; its five undefined
// codes keep their Latin-1 (C1 control) meaning.
var cp1252High = [32]rune{
	'€', 0x81, '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', 0x8D, 'Ž', 0x8F,
	0x90, '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', 0x9D, 'ž', 'Ÿ',
}

// decodeCP1252 converts Windows-1252 (a superset of Latin-1's printable
// characters) to UTF-8. Every byte maps to a character, so nothing is lost.
func decodeCP1252(b []byte) []byte {
	out := make([]byte, 0, len(b)+len(b)/4)
	for _, c := range b {
		switch {
		case c < 0x80:
			out = append(out, c)
		case c < 0xA0:
			out = utf8.AppendRune(out, cp1252High[c-0x80])
		default:
			out = utf8.AppendRune(out, rune(c))
		}
	}
	return out
}
