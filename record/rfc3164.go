package record

import "strings"

// parse3164 reads everything after the PRI of a non-5424 message, best
// effort: RFC 3164 says anything goes, so every part is optional.
//
//	[stamp] [host] [app[pid]:] message
//
// plus the Cisco layouts (cisco.go). Nothing here fails: what is not
// recognised stays in Message.
func (p *syslogParser) parse3164(r *Record, s string) {
	st, n, ok := parseStamp(s)
	plain := ok && n < len(s) && s[n] == ' ' && (n+1 == len(s) || s[n+1] < 'A' || s[n+1] > 'Z')
	if !plain && maybeCisco(s) && p.parseCisco(r, s) {
		return
	}
	if ok && n < len(s) && s[n] != ' ' {
		ok = false // "Nov 22 10:00:00x" is text, not a stamp
	}
	if !ok {
		// Without a stamp a leading word cannot be told from a host name, so
		// none is taken (rsyslog does the same and uses the sender).
		p.tagAndMessage(r, s)
		return
	}
	p.setStamp(r, st)
	rest := trimSpaces(s[n:])
	tok := rest
	if i := strings.IndexByte(rest, ' '); i >= 0 {
		tok = rest[:i]
	}
	// A token ending in ':' or holding '[' is the tag: the host was left out
	// (logger to a remote host, many embedded devices).
	if tok != "" && !strings.HasSuffix(tok, ":") && strings.IndexByte(tok, '[') < 0 {
		r.Host = tok
		rest = trimSpaces(rest[len(tok):])
		// A Cisco device behind a relay: "sw1 45: *Nov 22 ...: %LINK-3-UPDOWN: ..."
		if rest != "" && (isDigit(rest[0]) || rest[0] == '%') && p.parseCisco(r, rest) {
			return
		}
	}
	p.tagAndMessage(r, rest)
}

// maybeCisco is a cheap pre-check of parseCisco's possible starts: sequence
// number, NX-OS ": ", clock marker, stamp or "%FAC".
func maybeCisco(s string) bool {
	return s != "" && (isDigit(s[0]) || s[0] == '%' || s[0] == ':' || s[0] == '*' || s[0] == '.' ||
		(s[0] >= 'A' && s[0] <= 'Z'))
}

// setStamp stores a parsed stamp; an impossible date (Feb 30) leaves the
// receive time.
func (p *syslogParser) setStamp(r *Record, st stamp) {
	if t, ok := st.time(p.loc, p.received); ok {
		r.Time = t
	}
}

// tagAndMessage splits "app[pid]: text", "app: text" and "app[pid] text";
// anything else is all message.
func (p *syslogParser) tagAndMessage(r *Record, s string) {
	if p.parseOdoo(r, s) {
		return
	}
	end := strings.IndexByte(s, ' ')
	if end < 0 {
		end = len(s)
	}
	tok := s[:end]
	switch {
	case len(tok) > 1 && tok[len(tok)-1] == ':':
		tok = tok[:len(tok)-1]
	case len(tok) > 2 && tok[len(tok)-1] == ']':
	default:
		r.Message = s
		return
	}
	app, pid := tok, ""
	if tok[len(tok)-1] == ']' {
		i := strings.IndexByte(tok, '[')
		if i <= 0 {
			r.Message = s
			return
		}
		app, pid = tok[:i], tok[i+1:len(tok)-1]
	}
	r.App, r.ProcID = app, pid
	// Exactly one separating space: further ones belong to the text.
	msg := s[end:]
	if msg != "" {
		msg = msg[1:]
	}
	r.Message = msg
}

// parseOdoo reads the line Odoo (and OpenERP before it) sends with --syslog:
// "Odoo Server 17.0:DB:LEVEL:logger:text". The syslog severity already
// follows the Python level, so only app, db and logger are taken.
func (p *syslogParser) parseOdoo(r *Record, s string) bool {
	var rest string
	switch {
	case strings.HasPrefix(s, "Odoo Server "):
		rest = s[len("Odoo Server "):]
	case strings.HasPrefix(s, "OpenERP Server "):
		rest = s[len("OpenERP Server "):]
	default:
		return false
	}
	version, rest, ok1 := strings.Cut(rest, ":")
	db, rest, ok2 := strings.Cut(rest, ":")
	_, rest, ok3 := strings.Cut(rest, ":") // level: the PRI has it already
	logger, text, ok4 := strings.Cut(rest, ":")
	if !ok1 || !ok2 || !ok3 || !ok4 || strings.IndexByte(logger, ' ') >= 0 {
		return false
	}
	r.App = "odoo"
	r.Fields = make(map[string]string, 3)
	r.Fields["odoo.version"] = version
	if db != "?" && db != "" { // Odoo writes "?" outside a database
		r.Fields["db"] = db
	}
	r.Fields["logger"] = logger
	r.Message = strings.TrimPrefix(text, " ")
	return true
}

func trimSpaces(s string) string {
	for len(s) > 0 && s[0] == ' ' {
		s = s[1:]
	}
	return s
}
