package record

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"strconv"
	"strings"
	"time"
)

// Cursor positions of the csvlog and jsonlog columns.
const (
	FieldStatementPos = "statement_pos" // csvlog query_pos, jsonlog cursor_position
	FieldQueryPos     = "query_pos"     // csvlog internal_query_pos, jsonlog internal_position
)

// The csvlog columns, by the field each goes to ("" = read elsewhere). PG 12
// and older write 23 columns, PG 13 adds backend_type, PG 14 to 17 add
// leader_pid and query_id.
var pgCSVColumns = [26]string{
	"log_time", FieldUser, FieldDB, FieldPID, "connection_from", FieldSessionID, FieldLineNum,
	FieldCommandTag, FieldSessionStart, FieldVXID, FieldTXID, FieldLevel, FieldSQLState,
	"message", FieldDetail, FieldHint, FieldQuery, FieldQueryPos, FieldContext, FieldStatement,
	FieldStatementPos, FieldLocation, FieldApplication,
	FieldBackendType,             // PG 13
	FieldLeaderPID, FieldQueryID, // PG 14
}

// postgresCSVFormat reads csvlog files (log_destination = csvlog). Quoted
// values hold the newlines of multi-line messages and statements, so a
// record is open while its quotes are unbalanced.
type postgresCSVFormat struct{ fileBase }

func newPostgresCSV(opt FormatOptions) (Format, error) {
	return &postgresCSVFormat{newBase(opt, "postgres")}, nil
}

func (*postgresCSVFormat) Name() string { return "postgres-csv" }

// Starts: the log_time column, "2026-11-22 10:00:00.123 CET".
func (*postgresCSVFormat) Starts(line []byte) bool {
	const shape = "0000-00-00 00:00:00"
	if len(line) < len(shape) {
		return false
	}
	for i := 0; i < len(shape); i++ {
		if shape[i] == '0' != isDigit(line[i]) || (shape[i] != '0' && line[i] != shape[i]) {
			return false
		}
	}
	return true
}

// Open: an odd number of quotes leaves a quoted value open (quotes inside
// values are doubled, so they come in pairs).
func (*postgresCSVFormat) Open(rec []byte) bool {
	return bytes.Count(rec, []byte{'"'})%2 == 1
}

func (f *postgresCSVFormat) Parse(rec []byte, received time.Time) Record {
	r, s := f.begin(rec, received)
	cr := csv.NewReader(strings.NewReader(s))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	cols, err := cr.Read()
	if err != nil {
		raw(&r, s, "csv: "+err.Error())
		return r
	}
	if n := len(cols); n != 23 && n != 24 && n != 26 {
		raw(&r, s, "csvlog with "+strconv.Itoa(n)+" columns (want 23, 24 or 26)")
		return r
	}
	if t, ok := pgTime(cols[0], f.loc); ok {
		r.Time = t
	}
	for i, v := range cols {
		switch name := pgCSVColumns[i]; name {
		case "log_time", "message":
		case "connection_from": // host:port, or [local]
			if i := strings.LastIndexByte(v, ':'); i > 0 && allDigits(v[i+1:]) && v != "[local]" {
				setPG(&r, FieldClient, v[:i])
				setPG(&r, FieldClientPort, v[i+1:])
			} else {
				setPG(&r, FieldClient, v)
			}
		default:
			setPG(&r, name, v)
		}
	}
	r.Message = pgMessage(&r, cols[13])
	return r
}

// pgMessage rebuilds what the stderr log shows: the message, then each
// continuation on its own line in PostgreSQL's order, so that a search
// matches the same text whatever the log destination.
func pgMessage(r *Record, msg string) string {
	if d, ok := pgDuration(msg); ok {
		r.SetField(FieldDurationMS, d)
	}
	var b strings.Builder
	b.WriteString(msg)
	for _, k := range [...]struct{ field, word string }{
		{FieldDetail, "DETAIL"}, {FieldHint, "HINT"}, {FieldQuery, "QUERY"}, {FieldContext, "CONTEXT"},
		{FieldLocation, "LOCATION"}, {FieldStatement, "STATEMENT"},
	} {
		if v := r.Fields[k.field]; v != "" {
			b.WriteString("\n" + k.word + ":  " + v)
		}
	}
	return b.String()
}

// postgresJSONFormat reads jsonlog files (PostgreSQL 15+): one JSON object
// per line, keys left out when empty.
type postgresJSONFormat struct{ fileBase }

func newPostgresJSON(opt FormatOptions) (Format, error) {
	return &postgresJSONFormat{newBase(opt, "postgres")}, nil
}

func (*postgresJSONFormat) Name() string         { return "postgres-json" }
func (*postgresJSONFormat) Open(rec []byte) bool { return false }
func (*postgresJSONFormat) OneRecordPerLine()    {}
func (*postgresJSONFormat) Starts(line []byte) bool {
	return len(bytes.TrimLeft(line, " \t")) > 0 && bytes.TrimLeft(line, " \t")[0] == '{'
}

// pgJSONKeys maps jsonlog keys to fields ("" = read elsewhere).
var pgJSONKeys = map[string]string{
	"timestamp": "", "message": "", "func_name": "", "file_name": "", "file_line_num": "",
	"user": FieldUser, "dbname": FieldDB, "pid": FieldPID, "remote_host": FieldClient,
	"remote_port": FieldClientPort, "session_id": FieldSessionID, "line_num": FieldLineNum,
	"ps": FieldCommandTag, "session_start": FieldSessionStart, "vxid": FieldVXID, "txid": FieldTXID,
	"error_severity": FieldLevel, "state_code": FieldSQLState, "detail": FieldDetail, "hint": FieldHint,
	"internal_query": FieldQuery, "internal_position": FieldQueryPos, "context": FieldContext,
	"statement": FieldStatement, "cursor_position": FieldStatementPos,
	"application_name": FieldApplication, "backend_type": FieldBackendType,
	"leader_pid": FieldLeaderPID, "query_id": FieldQueryID,
}

func (f *postgresJSONFormat) Parse(rec []byte, received time.Time) Record {
	r, s := f.begin(rec, received)
	dec := json.NewDecoder(strings.NewReader(s))
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil || obj == nil {
		reason := "not a JSON object"
		if err != nil {
			reason = "json: " + err.Error()
		}
		raw(&r, s, reason)
		return r
	}
	str := func(k string) string {
		switch v := obj[k].(type) {
		case string:
			return v
		case json.Number:
			return v.String()
		case bool:
			return strconv.FormatBool(v)
		}
		return ""
	}
	if t, ok := pgTime(str("timestamp"), f.loc); ok {
		r.Time = t
	}
	for k := range obj {
		if name := pgJSONKeys[k]; name != "" {
			setPG(&r, name, str(k))
		}
	}
	// The stderr LOCATION line: "exec_simple_query, postgres.c:1234".
	if fn, file := str("func_name"), str("file_name"); fn != "" || file != "" {
		loc := file
		if n := str("file_line_num"); n != "" {
			loc += ":" + n
		}
		if fn != "" {
			loc = fn + ", " + loc
		}
		r.SetField(FieldLocation, loc)
	}
	r.Message = pgMessage(&r, str("message"))
	return r
}
