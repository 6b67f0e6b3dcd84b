package record

import (
	"strings"

	"github.com/leodido/go-syslog/v4/rfc5424"
)

const utf8BOM = "\xEF\xBB\xBF"

// parse5424 parses with go-syslog's RFC 5424 machine. Any error keeps the
// line raw: a partial result (best-effort mode) would silently drop the part
// after the error, so best-effort mode is not used.
func (p *syslogParser) parse5424(msg, line []byte) Record {
	// A machine per call: machines are not safe for concurrent use and are a
	// single small allocation, cheaper than a lock or a pool.
	m, err := rfc5424.NewMachine().Parse(line)
	if err != nil {
		return p.raw(msg, "rfc5424: "+shortError(err.Error()))
	}
	sm, ok := m.(*rfc5424.SyslogMessage)
	if !ok || sm == nil || sm.Priority == nil {
		return p.raw(msg, "rfc5424: no message")
	}
	r := Record{
		Time:     p.received,
		Received: p.received,
		Facility: int(*sm.Facility),
		Severity: int(*sm.Severity),
		Host:     deref(sm.Hostname),
		App:      deref(sm.Appname),
		ProcID:   deref(sm.ProcID),
		MsgID:    deref(sm.MsgID),
		Message:  strings.TrimPrefix(deref(sm.Message), utf8BOM),
	}
	if sm.Timestamp != nil && !sm.Timestamp.IsZero() {
		r.Time = sm.Timestamp.UTC()
	}
	if sm.StructuredData != nil {
		n := 0
		for _, params := range *sm.StructuredData {
			n += len(params)
		}
		if n > 0 {
			r.Fields = make(map[string]string, n)
			for id, params := range *sm.StructuredData {
				for k, v := range params {
					r.Fields[id+"."+k] = v
				}
			}
		}
	}
	return r
}

// deref maps go-syslog's absent values (NILVALUE "-" included) to "".
func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// shortError keeps go-syslog's first clause and column:
// "expecting an app-name (from 1 to max 48 ...) [col 35]" → "expecting an app-name [col 35]".
func shortError(e string) string {
	col := ""
	if i := strings.LastIndex(e, " [col "); i >= 0 {
		col, e = e[i:], e[:i]
	}
	if i := strings.IndexAny(e, "(`"); i > 0 {
		e = strings.TrimRight(e[:i], " ")
	}
	return e + col
}
