// Package record holds the log Record shared by the collector, the store and
// the agent, the syslog severity and facility names, and the parsers of every
// format vigie reads. It must stay free of cgo: the agent cross-compiles.
package record

import "time"

// Record is one log event. Its JSON form is the contract of DESIGN.md
// (search API, websocket tail, agent ingest).
type Record struct {
	// ID is assigned by the store on commit; zero before that.
	ID int64 `json:"id,omitempty"`
	// Time is the event's own time, UTC.
	Time time.Time `json:"time"`
	// Received is when the collector (or agent) took the event in, UTC.
	Received time.Time `json:"received"`
	Host     string    `json:"host"`
	App      string    `json:"app"`
	ProcID   string    `json:"procid"`
	MsgID    string    `json:"msgid"`
	Facility int       `json:"facility"`
	Severity int       `json:"severity"`
	// Source says how and from where it came: "syslog/udp 10.0.0.5".
	Source  string `json:"source"`
	Message string `json:"message"`
	// Fields holds RFC 5424 structured data ("sdid.param") and what format
	// parsers extract; "parse_error" marks a line kept raw.
	Fields map[string]string `json:"fields,omitempty"`
}

// Well-known field names set by parsers and the collector.
const (
	FieldParseError = "parse_error"
	FieldTruncated  = "truncated"
)

// SetField sets a field, allocating the map on first use.
func (r *Record) SetField(k, v string) {
	if r.Fields == nil {
		r.Fields = make(map[string]string, 4)
	}
	r.Fields[k] = v
}
