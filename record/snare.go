package record

import (
	"strings"
)

// snareMarker names the Snare for Windows event format.
const snareMarker = "MSWinEventLog"

// Fields set on Snare records.
const (
	FieldSnareCriticality = "snare.criticality"
	// FieldSnareCounter is the agent's own event counter (the number after
	// the log name). Snare documents it as a per-agent sequence that rotates at
	// MAXDWORD and exists to measure UDP loss, so it is the one kept as the
	// sender's sequence; the number after the description is the Windows event
	// log record counter (FieldSnareRecord).
	FieldSnareCounter = "snare.counter"
	FieldSnareRecord  = "snare.eventlog_counter"
)

// snareNames are the fixed fields after "MSWinEventLog", in order.
var snareNames = [11]string{
	FieldSnareCriticality, "log_name", FieldSnareCounter, "", // date: Time
	"event_id", "event_source", "user", "sid_type", "event_type", "computer", "category",
}

// parseSnare reads a Snare line, with a syslog header or without one
// ("HOST<TAB>MSWinEventLog<TAB>..."); s is the text after the PRI and i the
// index of "MSWinEventLog" in it. Layout (Snare "Appendix A"):
//
//	MSWinEventLog criticality logname counter date eventid source user sidtype
//	eventtype computer category [data] expanded [eventlogcounter] [key=value...]
//
// It returns false, leaving r untouched, when the line is not Snare after all.
//
// App is the event source (the Windows provider, "Microsoft-Windows-
// Security-Auditing"), like the agent's own event log records: searching per
// provider matters more than per transport. Host is the computer field.
func (p *syslogParser) parseSnare(r *Record, s string, i int) bool {
	body := s[i+len(snareMarker):]
	sep := p.snareSep
	if sep == "" {
		switch {
		case strings.HasPrefix(body, "\t"):
			sep = "\t"
		case strings.HasPrefix(body, "#011"):
			sep = "#011"
		default:
			return false
		}
	}
	if !strings.HasPrefix(body, sep) || i > 512 {
		return false
	}
	body = body[len(sep):]

	var f [len(snareNames)]string
	for k := range f {
		v, rest, ok := strings.Cut(body, sep)
		if !ok {
			return false // truncated: let the 3164 parser keep it as text
		}
		f[k], body = v, rest
	}
	if !allDigits(f[0]) || !allDigits(f[4]) {
		return false
	}

	// Header: "[stamp ]host " or "host<sep>" or nothing.
	head := s[:i]
	if st, n, ok := parseStamp(head); ok {
		p.setStamp(r, st)
		head = head[n:]
	}
	head = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(head), sep))

	r.Fields = make(map[string]string, 16)
	for k, name := range snareNames {
		if name != "" && f[k] != "" && f[k] != "N/A" {
			r.Fields[name] = f[k]
		}
	}
	// The event's own time, with a year, in the Windows host's local zone.
	if st, ok := parseSnareDate(f[3]); ok {
		p.setStamp(r, st)
	}
	r.Host = f[9]
	if r.Host == "" {
		r.Host = head
	}
	r.App = f[5]
	if r.App == "" {
		r.App = snareMarker
	}
	if sev, ok := snareSeverity(f[8]); ok {
		r.Severity = sev
	}
	r.Message = p.snareTail(r, body, sep)
	return true
}

// snareTail reads "[data<sep>]expanded[<sep>counter][<sep>key=value...]" and
// returns the description.
func (p *syslogParser) snareTail(r *Record, tail, sep string) string {
	parts := strings.Split(strings.TrimRight(tail, " \t\n"), sep)
	for len(parts) > 0 && strings.TrimSpace(parts[len(parts)-1]) == "" {
		parts = parts[:len(parts)-1]
	}
	// Optional "key=value" fields of recent agents follow the counter.
	for len(parts) > 2 && isKeyValue(parts[len(parts)-1]) {
		k, v, _ := strings.Cut(parts[len(parts)-1], "=")
		r.Fields["snare."+k] = v
		parts = parts[:len(parts)-1]
	}
	if len(parts) > 1 {
		last := strings.TrimSpace(parts[len(parts)-1])
		switch {
		case allDigits(last):
			r.Fields[FieldSnareRecord] = last
			parts = parts[:len(parts)-1]
		case len(last) == 32 && isHex(last): // MD5 checksum option
			r.Fields["snare.md5"] = last
			parts = parts[:len(parts)-1]
		}
	}
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	case 2: // data string, expanded string
		if parts[1] == "" {
			return parts[0]
		}
		if parts[0] != "" {
			r.Fields["snare.data"] = parts[0]
		}
		return parts[1]
	}
	// More: the description held the delimiter itself.
	return strings.Join(parts, "\t")
}

// parseSnareDate reads "Sun Nov 22 10:00:00 2026".
func parseSnareDate(s string) (stamp, bool) {
	if len(s) < 4 || s[3] != ' ' {
		return stamp{}, false
	}
	st, n, ok := parseBSD(s[4:], false)
	if !ok || n+5 > len(s)-4 || s[4+n] != ' ' {
		return stamp{}, false
	}
	st.year, ok = digitsN(s, 4+n+1, 4)
	return st, ok
}

// snareSeverity maps the Windows event type; audit failures are worth a
// warning, audit successes are routine.
func snareSeverity(t string) (int, bool) {
	switch strings.ToLower(t) {
	case "critical":
		return SevCrit, true
	case "error":
		return SevErr, true
	case "warning", "failure audit", "audit failure":
		return SevWarning, true
	case "information", "success audit", "audit success", "success":
		return SevInfo, true
	case "verbose":
		return SevDebug, true
	}
	return 0, false
}

func allDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i] | 0x20
		if !isDigit(s[i]) && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// isKeyValue tells a Snare optional field ("EventSourceId=AU_123").
func isKeyValue(s string) bool {
	k, v, ok := strings.Cut(s, "=")
	return ok && k != "" && v != "" && strings.IndexAny(s, " \t") < 0
}
