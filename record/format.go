package record

import (
	"fmt"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// Fields set by the file format parsers (Odoo, OpenERP, PostgreSQL), common
// to all of them so that one query finds the same thing whatever the source.
const (
	FieldDB          = "db"
	FieldUser        = "user"
	FieldPID         = "pid"
	FieldLogger      = "logger"      // Python logger name (Odoo, OpenERP)
	FieldLevel       = "level"       // the level word as written: "ERROR", "ERREUR", "WARNING"
	FieldSQLState    = "sql_state"   // PostgreSQL SQLSTATE
	FieldDurationMS  = "duration_ms" // decimal milliseconds: "1234.567"
	FieldApplication = "application" // PostgreSQL application_name
	FieldClient      = "client"      // remote address (PostgreSQL %h/%r, Odoo werkzeug client)
	FieldException   = "exception"   // last line of a Python traceback
)

// FormatOptions configure a file format.
type FormatOptions struct {
	// Location is the zone of stamps without one (nil = time.Local). Odoo is
	// the exception: it forces TZ=UTC on itself, so its stamps are read as UTC
	// unless a Location is given.
	Location *time.Location
	// LinePrefix is PostgreSQL's log_line_prefix ("" = "%m [%p] ").
	LinePrefix string
	// App is the app of formats that have none (plain lines).
	App string
	// Host is the agent's host name, used as Record.Host.
	Host string
}

// Format knows one log file format: where its records start, and how to read
// one. The joining loop (flush timeout, max size) belongs to the caller.
type Format interface {
	Name() string
	// Starts reports whether line (no trailing newline) begins a new record.
	Starts(line []byte) bool
	// Open reports whether rec (lines joined with "\n") is syntactically
	// unfinished and must take the next line whatever it looks like (an open
	// CSV quote).
	Open(rec []byte) bool
	// Parse turns one complete record into a Record. It never fails: what it
	// cannot read is kept raw with Fields["parse_error"]. Time falls back to
	// received (time.Now() when zero); Received is received in UTC; Source is
	// left for the caller.
	Parse(rec []byte, received time.Time) Record
}

// LineFormat is a Format whose every line is a whole record (plain text,
// JSON lines): a joiner takes such a line at once instead of waiting for the
// next line to show the record complete.
type LineFormat interface {
	Format
	OneRecordPerLine()
}

// formatMakers is the registry of file formats; "" is plain.
var formatMakers = map[string]func(FormatOptions) (Format, error){
	"plain":         newPlain,
	"odoo":          newOdoo,
	"openerp6":      newOpenERP6,
	"postgres":      newPostgres,
	"postgres-csv":  newPostgresCSV,
	"postgres-json": newPostgresJSON,
}

// FormatNames lists the valid names of NewFormat, sorted ("" means plain).
func FormatNames() []string {
	names := make([]string, 0, len(formatMakers))
	for n := range formatMakers {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// NewFormat returns the named file format: "odoo", "openerp6", "postgres",
// "postgres-csv", "postgres-json", or "" / "plain" (one record per line).
func NewFormat(name string, opt FormatOptions) (Format, error) {
	if name == "" {
		name = "plain"
	}
	mk, ok := formatMakers[name]
	if !ok {
		return nil, fmt.Errorf("unknown log format %q (valid: %s)", name, strings.Join(FormatNames(), ", "))
	}
	return mk(opt)
}

// fileBase holds what every file format shares.
type fileBase struct {
	loc  *time.Location
	host string
	app  string
}

func newBase(opt FormatOptions, app string) fileBase {
	loc := opt.Location
	if loc == nil {
		loc = time.Local
	}
	return fileBase{loc: loc, host: opt.Host, app: app}
}

// begin cleans rec and returns the Record every parser starts from: times at
// received, notice, user facility. Windows line ends are dropped, and text
// that is not UTF-8 is read as Windows-1252 (like ParseSyslog) with
// fields.charset set.
func (b *fileBase) begin(rec []byte, received time.Time) (Record, string) {
	var p parsed
	s := b.start(&p, rec, received)
	return p.record(), s
}

// start is begin for a parser that fills a parsed.
func (b *fileBase) start(p *parsed, rec []byte, received time.Time) string {
	if received.IsZero() {
		received = time.Now()
	}
	received = received.UTC()
	p.Record = Record{
		Time:     received,
		Received: received,
		Host:     b.host,
		App:      b.app,
		Facility: FacUser,
		Severity: SevNotice,
	}
	p.n, p.more = 0, nil
	if !utf8.Valid(rec) {
		rec = decodeCP1252(rec)
		p.SetField(FieldCharset, "windows-1252")
	}
	s := string(rec)
	if strings.IndexByte(s, '\r') >= 0 {
		s = strings.ReplaceAll(s, "\r\n", "\n")
	}
	return strings.TrimRight(s, "\r\n")
}

// raw keeps text as the message of an unreadable record.
func raw(r *Record, text, reason string) {
	r.Message = text
	r.SetField(FieldParseError, reason)
}

// Field is one entry of Record.Fields.
type Field struct{ Key, Value string }

// parsed is a Record being parsed. Its fields go to a list rather than to
// the Record's map: the agent writes them out at once (AppendRecordJSON),
// and a dozen map assignments per line, with the map's allocations, cost
// more than the rest of the parse.
type parsed struct {
	Record // Fields stays nil: SetField below shadows Record's
	// The fields in the order set, a later key winning over an earlier one:
	// the first ones in arr (no allocation; a slice of arr stored in p would
	// send p to the heap), the others in more.
	arr  [16]Field
	n    int
	more []Field
}

// SetField sets a field; a key set again replaces the earlier value.
func (p *parsed) SetField(k, v string) {
	if p.n < len(p.arr) {
		p.arr[p.n] = Field{k, v}
		p.n++
		return
	}
	p.more = append(p.more, Field{k, v})
}

// list returns the fields in the order set.
func (p *parsed) list() []Field {
	if len(p.more) == 0 {
		return p.arr[:p.n]
	}
	return append(append(make([]Field, 0, p.n+len(p.more)), p.arr[:p.n]...), p.more...)
}

// raw keeps text as the message of an unreadable record.
func (p *parsed) raw(text, reason string) {
	p.Message = text
	p.SetField(FieldParseError, reason)
}

// record returns the Record with its fields in the map.
func (p *parsed) record() Record {
	r := p.Record
	if fs := p.list(); len(fs) > 0 {
		r.Fields = make(map[string]string, len(fs))
		for _, f := range fs {
			r.Fields[f.Key] = f.Value
		}
	}
	return r
}

// appendJSON writes what p.record().AppendJSON would, extra's fields set
// after p's own.
func (p *parsed) appendJSON(dst []byte, extra []Field) []byte {
	for _, f := range extra {
		p.SetField(f.Key, f.Value)
	}
	dst = p.appendHead(dst)
	dst = appendFields(dst, p.list())
	return append(dst, '}')
}

// JSONAppender is a Format that writes a record's JSON without building
// its Record: what the agent does with every record it reads.
type JSONAppender interface {
	Format
	// AppendRecordJSON appends to dst the JSON form (Record.AppendJSON) of
	// Parse(rec, received) with extra's fields set on it, in order: the
	// same bytes, without the Record's map.
	AppendRecordJSON(dst, rec []byte, received time.Time, extra ...Field) []byte
}

// settle converts a local stamp; an impossible date leaves the received time.
func settle(r *Record, st stamp, loc *time.Location) bool {
	t, ok := st.time(loc, r.Received)
	if ok {
		r.Time = t
	}
	return ok
}

// setNonEmpty sets a field unless v is empty.
func setNonEmpty(p *parsed, k, v string) {
	if v != "" {
		p.SetField(k, v)
	}
}

// plainFormat makes each line a record.
type plainFormat struct{ fileBase }

func newPlain(opt FormatOptions) (Format, error) {
	return &plainFormat{newBase(opt, opt.App)}, nil
}

func (*plainFormat) Name() string            { return "plain" }
func (*plainFormat) Starts(line []byte) bool { return true }
func (*plainFormat) Open(rec []byte) bool    { return false }
func (*plainFormat) OneRecordPerLine()       {}

// Parse keeps the line as is, at notice: a line without a format says
// nothing reliable about its severity.
func (f *plainFormat) Parse(rec []byte, received time.Time) Record {
	r, s := f.begin(rec, received)
	r.Message = s
	return r
}

func (f *plainFormat) AppendRecordJSON(dst, rec []byte, received time.Time, extra ...Field) []byte {
	var p parsed
	p.Message = f.start(&p, rec, received)
	return p.appendJSON(dst, extra)
}
