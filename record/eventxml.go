package record

import (
	"bytes"
	"encoding/xml"
	"errors"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Fields set on Windows event log records.
const (
	FieldChannel   = "channel"
	FieldEventID   = "event_id"
	FieldRecordID  = "record_id"
	FieldProvider  = "provider"
	FieldTask      = "task"
	FieldOpcode    = "opcode"
	FieldKeywords  = "keywords"
	FieldProcessID = "process_id"
	FieldThreadID  = "thread_id"
	FieldAudit     = "audit" // "success" or "failure", from the keywords
	// FieldDataPrefix prefixes the EventData (and UserData) values:
	// "data.TargetUserName"; unnamed ones are "data.0", "data.1"...
	FieldDataPrefix = "data."
)

// ErrNotEvent is returned by ParseEventXML for input that is not an <Event>.
var ErrNotEvent = errors.New("not a Windows event XML")

// Keyword bits of the Security log (winmeta.xml).
const (
	keywordAuditFailure = 0x10000000000000
	keywordAuditSuccess = 0x20000000000000
)

// eventXML is the event schema (event.xsd) as EvtRender writes it with
// EvtRenderEventXml, and as EvtFormatMessage(EvtFormatMessageXml) extends it
// with RenderingInfo.
type eventXML struct {
	XMLName xml.Name `xml:"Event"`
	System  struct {
		Provider struct {
			Name            string `xml:"Name,attr"`
			EventSourceName string `xml:"EventSourceName,attr"`
		}
		EventID     string
		Level       string
		Task        string
		Opcode      string
		Keywords    string
		TimeCreated struct {
			SystemTime string `xml:"SystemTime,attr"`
		}
		EventRecordID string
		Execution     struct {
			ProcessID string `xml:"ProcessID,attr"`
			ThreadID  string `xml:"ThreadID,attr"`
		}
		Channel  string
		Computer string
		Security struct {
			UserID string `xml:"UserID,attr"`
		}
	}
	EventData struct {
		Data []struct {
			Name  string `xml:"Name,attr"`
			Value string `xml:",chardata"`
		}
		Binary string
	}
	UserData struct {
		Inner []byte `xml:",innerxml"`
	}
	RenderingInfo struct {
		Message  string
		Level    string
		Task     string
		Opcode   string
		Keywords struct{ Keyword []string }
	}
}

// ParseEventXML maps a Windows event, rendered as XML, to a Record: App is
// the provider, Host the computer, Time TimeCreated, Severity from Level
// (1 critical→crit, 2 error→err, 3 warning→warning, 4 and 0 information→info,
// 5 verbose and provider levels→debug; an audit failure→warning), Message the
// rendered message when RenderingInfo has one, else the EventData values
// joined ("Name=value; ..."). Received and Source are left for the caller.
//
// Input that is not an <Event> gives ErrNotEvent (wrapping the XML error)
// with a Record still usable: the text kept raw with fields.parse_error and
// Time now. A missing or bad TimeCreated also gives Time now, with
// parse_error, and no error.
func ParseEventXML(x []byte) (Record, error) {
	var ev eventXML
	d := xml.NewDecoder(bytes.NewReader(x))
	// The agent converts EvtRender's UTF-16 to UTF-8; a declaration that
	// still says UTF-16 must not stop the decoder.
	d.CharsetReader = func(_ string, in io.Reader) (io.Reader, error) { return in, nil }
	if err := d.Decode(&ev); err != nil {
		r := Record{Time: time.Now().UTC(), Facility: FacUser, Severity: SevNotice}
		raw(&r, strings.ToValidUTF8(string(x), "\uFFFD"), "event xml: "+err.Error())
		return r, errors.Join(ErrNotEvent, err)
	}
	sys := &ev.System
	r := Record{
		Host:     strings.TrimSpace(sys.Computer),
		App:      strings.TrimSpace(sys.Provider.Name),
		Facility: FacUser,
		Severity: SevInfo,
		Fields:   make(map[string]string, 16+len(ev.EventData.Data)),
	}
	if r.App == "" {
		r.App = strings.TrimSpace(sys.Provider.EventSourceName)
	}
	if pid := strings.TrimSpace(sys.Execution.ProcessID); pid != "0" {
		r.ProcID = pid // 0: a classic event logged without its process
	}
	if t, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(sys.TimeCreated.SystemTime)); err == nil && t.Year() > 1 && t.Year() < 10000 {
		r.Time = t.UTC()
	} else {
		r.Time = time.Now().UTC()
		r.Fields[FieldParseError] = "no TimeCreated"
	}
	for k, v := range map[string]string{
		FieldChannel: sys.Channel, FieldEventID: sys.EventID, FieldRecordID: sys.EventRecordID,
		FieldProvider: sys.Provider.Name, FieldLevel: sys.Level, FieldTask: sys.Task, FieldOpcode: sys.Opcode,
		FieldKeywords: sys.Keywords, FieldUser: sys.Security.UserID,
		FieldProcessID: sys.Execution.ProcessID, FieldThreadID: sys.Execution.ThreadID,
		"level_name": ev.RenderingInfo.Level, "task_name": ev.RenderingInfo.Task, "opcode_name": ev.RenderingInfo.Opcode,
	} {
		if v = strings.TrimSpace(v); v != "" {
			r.Fields[k] = v
		}
	}
	r.Severity = eventSeverity(sys.Level)
	if kw, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimSpace(sys.Keywords), "0x"), 16, 64); err == nil {
		switch {
		case kw&keywordAuditFailure != 0:
			r.Fields[FieldAudit] = "failure"
			r.Severity = min(r.Severity, SevWarning)
		case kw&keywordAuditSuccess != 0:
			r.Fields[FieldAudit] = "success"
		}
	}

	var parts []string
	n := 0
	for _, dt := range ev.EventData.Data {
		name := strings.TrimSpace(dt.Name)
		if name == "" {
			name = strconv.Itoa(n)
			n++
			if strings.TrimSpace(dt.Value) != "" {
				parts = append(parts, dt.Value)
			}
		} else {
			parts = append(parts, name+"="+dt.Value)
		}
		r.Fields[FieldDataPrefix+name] = dt.Value
	}
	if b := strings.TrimSpace(ev.EventData.Binary); b != "" {
		r.Fields["binary"] = b
	}
	parts = userData(&r, ev.UserData.Inner, parts)

	r.Message = strings.TrimSpace(ev.RenderingInfo.Message)
	if r.Message == "" {
		r.Message = strings.Join(parts, "; ")
	}
	if r.Message == "" {
		r.Message = "event " + strings.TrimSpace(sys.EventID)
	}
	if !utf8.ValidString(r.Message) { // a CharsetReader-passed legacy byte
		r.Message = strings.ToValidUTF8(r.Message, "\uFFFD")
	}
	return r, nil
}

// eventSeverity maps the event Level (winmeta.xml).
func eventSeverity(level string) int {
	switch strings.TrimSpace(level) {
	case "1":
		return SevCrit
	case "2":
		return SevErr
	case "3":
		return SevWarning
	case "", "0", "4":
		return SevInfo
	}
	return SevDebug // 5 verbose, and provider-defined levels (16+)
}

// userData flattens <UserData><SomeEvent xmlns=...><Name>v</Name>...: each
// leaf under the event element becomes data.Name (nested ones data.A.B).
func userData(r *Record, inner []byte, parts []string) []string {
	if len(bytes.TrimSpace(inner)) == 0 {
		return parts
	}
	d := xml.NewDecoder(bytes.NewReader(inner))
	d.CharsetReader = func(_ string, in io.Reader) (io.Reader, error) { return in, nil }
	var path []string
	var text strings.Builder
	leaf := false
	for {
		tok, err := d.Token()
		if err != nil {
			return parts
		}
		switch t := tok.(type) {
		case xml.StartElement:
			path = append(path, t.Name.Local)
			text.Reset()
			leaf = true
		case xml.CharData:
			text.Write(t)
		case xml.EndElement:
			if leaf && len(path) >= 2 {
				name := strings.Join(path[1:], ".")
				v := text.String()
				r.Fields[FieldDataPrefix+name] = v
				parts = append(parts, name+"="+v)
			}
			leaf = false
			if len(path) > 0 {
				path = path[:len(path)-1]
			}
		}
	}
}
