package record

import (
	"strings"
	"time"
)

// Fields set on Odoo werkzeug request lines.
const (
	FieldHTTPMethod      = "http.method"
	FieldHTTPPath        = "http.path"
	FieldHTTPStatus      = "http.status"
	FieldHTTPClient      = "http.client"
	FieldOdooQueryCount  = "odoo.query_count"
	FieldOdooQueryTimeMS = "odoo.query_time_ms"
	FieldOdooRemainingMS = "odoo.remaining_time_ms"
)

// pythonLevels maps Python logging level names, with the custom ones of
// OpenERP 6.0 (DEBUG_RPC, DEBUG_SQL, TEST), to syslog severities. TEST
// (level 15, test results) is info: it is what a test run is read for.
var pythonLevels = map[string]int{
	"NOTSET": SevDebug, "DEBUG": SevDebug, "DEBUG_RPC": SevDebug, "DEBUG_RPC_ANSWER": SevDebug, "DEBUG_SQL": SevDebug,
	"TEST": SevInfo, "INFO": SevInfo,
	"WARNING": SevWarning, "WARN": SevWarning,
	"ERROR":    SevErr,
	"CRITICAL": SevCrit, "FATAL": SevCrit,
}

// odooFormat reads Odoo 6.1+ log files:
//
//	%(asctime)s %(pid)s %(levelname)s %(dbname)s %(name)s: %(message)s %(perf_info)s
//
// perf_info ("12 0.003 0.021": query count, query time and remaining time in
// seconds) follows the first line logged in a request thread, the werkzeug
// access line; elsewhere it is empty and leaves a trailing space. Odoo sets
// TZ=UTC on itself, so asctime is UTC.
type odooFormat struct{ fileBase }

func newOdoo(opt FormatOptions) (Format, error) {
	f := &odooFormat{newBase(opt, "odoo")}
	if opt.Location == nil {
		f.loc = time.UTC
	}
	return f, nil
}

func (*odooFormat) Name() string         { return "odoo" }
func (*odooFormat) Open(rec []byte) bool { return false }

// Starts: the stamp, a space and the pid's first digit. Traceback lines
// never start that way.
func (*odooFormat) Starts(line []byte) bool {
	return len(line) > 25 && isOdooStamp(line[:23]) && line[23] == ' ' && isDigit(line[24])
}

// isOdooStamp checks the shape of Python's asctime, "2026-11-22 10:00:00,123".
func isOdooStamp(b []byte) bool {
	const shape = "0000-00-00 00:00:00,000"
	if len(b) < len(shape) {
		return false
	}
	for i := 0; i < len(shape); i++ {
		if shape[i] == '0' {
			if !isDigit(b[i]) {
				return false
			}
		} else if b[i] != shape[i] {
			return false
		}
	}
	return true
}

// odooStamp reads asctime at the start of s.
func odooStamp(s string) (stamp, bool) {
	if !isOdooStamp([]byte(s[:min(len(s), 23)])) {
		return stamp{}, false
	}
	st, _, ok := parseISO(s[:19])
	ms, _ := digitsN(s, 20, 3)
	st.nsec = ms * 1e6
	return st, ok
}

func (f *odooFormat) Parse(rec []byte, received time.Time) Record {
	var p parsed
	f.parse(&p, rec, received)
	return p.record()
}

func (f *odooFormat) AppendRecordJSON(dst, rec []byte, received time.Time, extra ...Field) []byte {
	var p parsed
	f.parse(&p, rec, received)
	return p.appendJSON(dst, extra)
}

func (f *odooFormat) parse(r *parsed, rec []byte, received time.Time) {
	s := f.start(r, rec, received)
	if strings.IndexByte(s, '\x1b') >= 0 {
		s = stripANSI(s) // a log captured from a terminal (docker logs)
	}
	first, rest, _ := strings.Cut(s, "\n")
	st, ok := odooStamp(first)
	if !ok || len(first) < 24 || !settle(&r.Record, st, f.loc) {
		r.raw(s, "no Odoo timestamp")
		return
	}
	pid, after, ok1 := strings.Cut(first[24:], " ")
	level, after, ok2 := strings.Cut(after, " ")
	db, after, ok3 := strings.Cut(after, " ")
	logger, msg, ok4 := strings.Cut(after, ": ")
	if !ok4 && strings.HasSuffix(after, ":") {
		logger, ok4 = after[:len(after)-1], true
	}
	if !ok1 || !ok2 || !ok3 || !ok4 || !allDigits(pid) || pid == "" || level == "" || strings.IndexByte(logger, ' ') >= 0 {
		r.raw(s, "not an Odoo log line")
		return
	}
	r.ProcID = pid
	r.SetField(FieldPID, pid)
	setLevel(r, level)
	if db != "?" && db != "" { // "?": outside a database
		r.SetField(FieldDB, db)
	}
	r.SetField(FieldLogger, logger)
	msg = strings.TrimRight(msg, " ") // the empty perf_info
	if logger == "werkzeug" {
		parseWerkzeug(r, msg)
	}
	r.Message = joinBody(r, msg, rest)
}

// setLevel stores a Python level name and its severity; an unknown name
// (a custom level) stays at notice.
func setLevel(r *parsed, level string) {
	r.SetField(FieldLevel, level)
	if sev, ok := pythonLevels[level]; ok {
		r.Severity = sev
	}
}

// joinBody appends the continuation lines to the first line's message and
// notes the exception of a traceback.
func joinBody(r *parsed, msg, rest string) string {
	rest = strings.TrimRight(rest, " \t\n")
	if rest == "" {
		return msg
	}
	setNonEmpty(r, FieldException, pyException(rest))
	return msg + "\n" + rest
}

// pyException finds the exception line of the last traceback in s: the
// first unindented line after its frames ("psycopg2.errors.UniqueViolation:
// duplicate key..."); the lines after it (psycopg2's DETAIL) are its text.
func pyException(s string) string {
	const head = "Traceback (most recent call last):"
	i := strings.LastIndex(s, head)
	if i < 0 {
		return ""
	}
	frames := false
	for _, line := range strings.Split(s[i+len(head):], "\n") {
		switch {
		case strings.HasPrefix(line, " "):
			frames = true
		case frames && strings.TrimSpace(line) != "":
			return strings.TrimSpace(line)
		}
	}
	return ""
}

// parseWerkzeug reads the access line werkzeug logs for each request:
//
//	10.0.0.5 - - [22/Nov/2026 10:00:00] "POST /web/path HTTP/1.1" 200 - 12 0.003 0.021
//
// the last three numbers being Odoo's perf_info. Anything else (werkzeug's
// "code 400, message ..." lines) sets no field.
func parseWerkzeug(r *parsed, msg string) {
	client, _, _ := strings.Cut(msg, " ")
	open := strings.Index(msg, "] \"")
	end := strings.LastIndex(msg, "\" ")
	if client == "" || open < 0 || end <= open+3 {
		return
	}
	req := msg[open+3 : end]
	var tail [5]string
	nt := firstFields(msg[end+2:], tail[:])
	if nt < 2 || len(tail[0]) != 3 || !allDigits(tail[0]) {
		return
	}
	method, path, _ := strings.Cut(req, " ")
	if i := strings.LastIndex(path, " HTTP/"); i >= 0 {
		path = path[:i]
	}
	r.SetField(FieldHTTPClient, client)
	r.SetField(FieldClient, client)
	setNonEmpty(r, FieldHTTPMethod, method)
	setNonEmpty(r, FieldHTTPPath, path)
	r.SetField(FieldHTTPStatus, tail[0])
	// tail[1] is the size, "-" when streamed; then perf_info, possibly
	// followed by Odoo 18's cursor mode.
	if nt < 5 || !allDigits(tail[2]) {
		return
	}
	qus, ok1 := secondsToMicros(tail[3])
	rus, ok2 := secondsToMicros(tail[4])
	if !ok1 || !ok2 {
		return
	}
	// The three values in one string: one allocation.
	var b [80]byte
	buf := appendMS(b[:0], qus)
	q := len(buf)
	buf = appendMS(buf, rus)
	rm := len(buf)
	ms := string(appendMS(buf, qus+rus))
	r.SetField(FieldOdooQueryCount, tail[2])
	r.SetField(FieldOdooQueryTimeMS, ms[:q])
	r.SetField(FieldOdooRemainingMS, ms[q:rm])
	r.SetField(FieldDurationMS, ms[rm:])
}

// stripANSI removes the colour sequences (ESC [ ... letter) Odoo writes
// when its output is a terminal.
func stripANSI(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == '\x1b' && i+1 < len(s) && s[i+1] == '[' {
			j := i + 2
			for j < len(s) && (isDigit(s[j]) || s[j] == ';') {
				j++
			}
			if j < len(s) && s[j] >= '@' && s[j] <= '~' {
				i = j
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// openerp6Format reads OpenERP 6.0 log files:
//
//	[%(asctime)s][%(dbname)s] %(levelname)s:%(name)s:%(message)s
//
// ("[?]" outside a database; "[asctime] level:..." without the dbname part
// in early 6.0 builds). 6.0's netsvc.Logger splits a multi-line message into
// one line per text line, each with the whole prefix and a "[NN]: " counter:
// lines "[02]: " and up continue the record of "[01]: ". Tracebacks logged
// through Python's logging come as bare lines. Stamps are local time.
type openerp6Format struct{ fileBase }

func newOpenERP6(opt FormatOptions) (Format, error) {
	return &openerp6Format{newBase(opt, "openerp")}, nil
}

func (*openerp6Format) Name() string         { return "openerp6" }
func (*openerp6Format) Open(rec []byte) bool { return false }

func (*openerp6Format) Starts(line []byte) bool {
	if len(line) < 26 || line[0] != '[' || !isOdooStamp(line[1:24]) || line[24] != ']' {
		return false
	}
	l, ok := splitOpenERP(string(line))
	return !ok || l.part <= 1
}

// openerpLine is one parsed OpenERP 6.0 line.
type openerpLine struct {
	st                stamp
	db, level, logger string
	msg               string
	part              int // the "[NN]: " counter, 0 when none
}

// splitOpenERP reads one OpenERP 6.0 line.
func splitOpenERP(line string) (l openerpLine, ok bool) {
	if len(line) < 26 || line[0] != '[' || line[24] != ']' {
		return l, false
	}
	if l.st, ok = odooStamp(line[1:]); !ok {
		return l, false
	}
	rest := line[25:]
	if strings.HasPrefix(rest, "[") {
		i := strings.Index(rest, "] ")
		if i < 0 {
			return l, false
		}
		l.db, rest = rest[1:i], rest[i+1:]
	}
	rest = strings.TrimPrefix(rest, " ")
	var ok1, ok2 bool
	l.level, rest, ok1 = strings.Cut(rest, ":")
	l.logger, l.msg, ok2 = strings.Cut(rest, ":")
	if !ok1 || !ok2 || l.level == "" || strings.IndexByte(l.level, ' ') >= 0 || strings.IndexByte(l.logger, ' ') >= 0 {
		return l, false
	}
	if len(l.msg) >= 6 && l.msg[0] == '[' && l.msg[3] == ']' && l.msg[4] == ':' && l.msg[5] == ' ' {
		if n, ok := digitsN(l.msg, 1, 2); ok {
			l.part, l.msg = n, l.msg[6:]
		}
	}
	return l, true
}

func (f *openerp6Format) Parse(rec []byte, received time.Time) Record {
	var p parsed
	f.parse(&p, rec, received)
	return p.record()
}

func (f *openerp6Format) AppendRecordJSON(dst, rec []byte, received time.Time, extra ...Field) []byte {
	var p parsed
	f.parse(&p, rec, received)
	return p.appendJSON(dst, extra)
}

func (f *openerp6Format) parse(r *parsed, rec []byte, received time.Time) {
	s := f.start(r, rec, received)
	first, rest, _ := strings.Cut(s, "\n")
	l, ok := splitOpenERP(first)
	if !ok {
		if st, ok := odooStamp(strings.TrimPrefix(first, "[")); ok {
			settle(&r.Record, st, f.loc)
		}
		r.raw(s, "not an OpenERP log line")
		return
	}
	settle(&r.Record, l.st, f.loc)
	setLevel(r, l.level)
	if l.db != "?" && l.db != "" {
		r.SetField(FieldDB, l.db)
	}
	setNonEmpty(r, FieldLogger, l.logger)
	if l.part > 0 && rest != "" {
		// Drop the repeated prefixes of the "[NN]: " lines.
		lines := strings.Split(rest, "\n")
		for i, line := range lines {
			if c, ok := splitOpenERP(line); ok && c.part > 1 {
				lines[i] = c.msg
			}
		}
		rest = strings.Join(lines, "\n")
	}
	r.Message = joinBody(r, l.msg, rest)
}
