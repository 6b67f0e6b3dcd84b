package record

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Fields set on PostgreSQL records besides the common ones (format.go).
// The continuation kinds (DETAIL, HINT...) are fields named after them in
// lower case: detail, hint, context, statement, query, location.
const (
	FieldClientPort   = "client_port"
	FieldSessionID    = "session_id"
	FieldLineNum      = "line_num"
	FieldSessionStart = "session_start"
	FieldVXID         = "vxid"
	FieldTXID         = "txid"
	FieldBackendType  = "backend_type"
	FieldCommandTag   = "command_tag"
	FieldQueryID      = "query_id"
	FieldLeaderPID    = "leader_pid"
	FieldStatement    = "statement"
	FieldDetail       = "detail"
	FieldHint         = "hint"
	FieldContext      = "context"
	FieldQuery        = "query"
	FieldLocation     = "location"
)

// pgWord is the meaning of a severity word found after the line prefix.
type pgWord struct {
	sev   int
	field string // for continuation kinds: the field the text goes to
}

// pgWords maps PostgreSQL's severity words, English and French (fr.po), to
// syslog severities. PostgreSQL's own syslog mapping is one step milder
// (ERROR→warning, FATAL→err, PANIC→crit); here ERROR is err so that
// "severity<=err" finds what PostgreSQL calls errors, FATAL (a session
// killed) is crit and PANIC (the server going down) alert. The continuation
// kinds (DETAIL...) never start a record; alone they are info.
var pgWords = map[string]pgWord{
	"DEBUG": {SevDebug, ""}, "DEBUG1": {SevDebug, ""}, "DEBUG2": {SevDebug, ""}, "DEBUG3": {SevDebug, ""},
	"DEBUG4": {SevDebug, ""}, "DEBUG5": {SevDebug, ""},
	"LOG": {SevInfo, ""}, "INFO": {SevInfo, ""},
	"NOTICE": {SevNotice, ""}, "NOTE": {SevNotice, ""},
	"WARNING": {SevWarning, ""}, "ATTENTION": {SevWarning, ""},
	"ERROR": {SevErr, ""}, "ERREUR": {SevErr, ""},
	"FATAL":     {SevCrit, ""},
	"PANIC":     {SevAlert, ""},
	"STATEMENT": {SevInfo, FieldStatement}, "INSTRUCTION": {SevInfo, FieldStatement},
	"DETAIL": {SevInfo, FieldDetail}, "DÉTAIL": {SevInfo, FieldDetail},
	"HINT": {SevInfo, FieldHint}, "ASTUCE": {SevInfo, FieldHint},
	"CONTEXT": {SevInfo, FieldContext}, "CONTEXTE": {SevInfo, FieldContext},
	"QUERY": {SevInfo, FieldQuery}, "REQUÊTE": {SevInfo, FieldQuery},
	"LOCATION": {SevInfo, FieldLocation}, "EMPLACEMENT": {SevInfo, FieldLocation},
}

// pgWordPattern matches a severity word and its colon: "ERROR:  " and, in
// French, "DÉTAIL : ". Longer words come first (DEBUG1 before DEBUG).
const pgWordPattern = `(DEBUG[1-5]|DEBUG|LOG|INFO|NOTICE|NOTE|WARNING|ATTENTION|ERROR|ERREUR|FATAL|PANIC|` +
	`STATEMENT|INSTRUCTION|DETAIL|DÉTAIL|HINT|ASTUCE|CONTEXTE|CONTEXT|QUERY|REQUÊTE|LOCATION|EMPLACEMENT)` +
	`[ \x{a0}]?:(?: +|$)`

// anyValue is the pattern of the free-text escapes.
const anyValue = `(.*?)`

// pgEscapes holds what each log_line_prefix escape prints, as a regexp, and
// the field its value goes to ("" for the stamps, read into Time).
var pgEscapes = map[byte]struct{ pat, field string }{
	'm': {`(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} [^ ]+)`, ""},
	't': {`(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [^ ]+)`, ""},
	'n': {`(\d+\.\d{3})`, ""},
	'p': {`(\d+)`, FieldPID},
	'P': {`(\d*)`, FieldLeaderPID},
	'u': {`(.*?)`, FieldUser},
	'd': {`(.*?)`, FieldDB},
	'a': {`(.*?)`, FieldApplication},
	'h': {`(.*?)`, FieldClient},
	'r': {`(.*?)`, FieldClient}, // host(port)
	'L': {`(.*?)`, "server_address"},
	'b': {`(.*?)`, FieldBackendType},
	'i': {`(.*?)`, FieldCommandTag},
	'l': {`(\d+)`, FieldLineNum},
	'c': {`([0-9a-f]+\.[0-9a-f]+)`, FieldSessionID},
	's': {`(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d [^ ]+)`, FieldSessionStart},
	'v': {`(.*?)`, FieldVXID},
	'x': {`(\d+)`, FieldTXID},
	'e': {`([0-9A-Z]{5})`, FieldSQLState},
	'Q': {`(-?\d+)`, FieldQueryID},
}

// DefaultLinePrefix is PostgreSQL's default log_line_prefix (since 10).
const DefaultLinePrefix = "%m [%p] "

// postgresFormat reads PostgreSQL's stderr log (log_destination = stderr,
// usually through logging_collector). Each line starts with log_line_prefix
// then a severity word; the lines of a multi-line message after the first
// start with a TAB, and DETAIL, HINT, CONTEXT, QUERY, STATEMENT and LOCATION
// come as prefixed lines of their own that belong to the record before.
type postgresFormat struct {
	fileBase
	re     *regexp.Regexp // prefix then severity word
	escs   []byte         // the escape of each capture group before the word
	prefix string
}

func newPostgres(opt FormatOptions) (Format, error) {
	f := &postgresFormat{fileBase: newBase(opt, "postgres"), prefix: opt.LinePrefix}
	if f.prefix == "" {
		f.prefix = DefaultLinePrefix
	}
	var err error
	f.re, f.escs, err = compilePrefix(f.prefix)
	if err != nil {
		return nil, err
	}
	return f, nil
}

// compilePrefix turns log_line_prefix into one anchored regexp ending with the
// severity word. Padding ("%-10u") is allowed; "%q" makes the rest optional,
// as PostgreSQL leaves it out for processes without a session.
func compilePrefix(prefix string) (*regexp.Regexp, []byte, error) {
	var b strings.Builder
	var escs []byte
	b.WriteString(`^`)
	lit := 0 // start of the pending literal run
	optional := false
	for i := 0; i < len(prefix); i++ {
		if prefix[i] != '%' {
			continue
		}
		b.WriteString(regexp.QuoteMeta(prefix[lit:i]))
		j := i + 1
		if j < len(prefix) && prefix[j] == '-' {
			j++
		}
		width := 0
		for j < len(prefix) && isDigit(prefix[j]) {
			width = min(width*10+int(prefix[j]-'0'), 10000)
			j++
		}
		padded := j > i+1
		if j >= len(prefix) {
			return nil, nil, fmt.Errorf("log_line_prefix %q: lone %% at the end", prefix)
		}
		c := prefix[j]
		i, lit = j, j+1
		switch c {
		case '%':
			b.WriteString(`%`)
		case 'q':
			if !optional {
				b.WriteString(`(?:`)
				optional = true
			}
		default:
			e, ok := pgEscapes[c]
			if !ok {
				return nil, nil, fmt.Errorf("log_line_prefix %q: unknown escape %%%c", prefix, c)
			}
			switch {
			case padded && e.pat == anyValue && width > 0:
				// Padded text is at least width long, spaces included: the
				// only way to tell "client backend   " from a value and a
				// space.
				if width > 1000 {
					return nil, nil, fmt.Errorf("log_line_prefix %q: padding %d too wide", prefix, width)
				}
				fmt.Fprintf(&b, `(.{%d,}?)`, width)
			case padded:
				b.WriteString(` *` + e.pat + ` *`)
			default:
				b.WriteString(e.pat)
			}
			escs = append(escs, c)
		}
	}
	b.WriteString(regexp.QuoteMeta(prefix[lit:]))
	if optional {
		b.WriteString(`)?`)
	}
	b.WriteString(pgWordPattern)
	re, err := regexp.Compile(b.String())
	if err != nil {
		return nil, nil, fmt.Errorf("log_line_prefix %q: %v", prefix, err)
	}
	return re, escs, nil
}

func (*postgresFormat) Name() string         { return "postgres" }
func (*postgresFormat) Open(rec []byte) bool { return false }

// Starts: the prefix and a severity word that is not a continuation kind.
func (f *postgresFormat) Starts(line []byte) bool {
	if len(line) == 0 || line[0] == '\t' {
		return false
	}
	m := f.re.FindSubmatchIndex(line)
	if m == nil {
		return false
	}
	w := m[len(m)-2:]
	return pgWords[string(line[w[0]:w[1]])].field == ""
}

// match reads the prefix of line: the index of the severity word, the word's
// meaning and the end of "WORD:  ".
func (f *postgresFormat) match(line string) (m []int, word string, kind pgWord, ok bool) {
	m = f.re.FindStringSubmatchIndex(line)
	if m == nil {
		return nil, "", pgWord{}, false
	}
	w := m[len(m)-2:]
	word = line[w[0]:w[1]]
	return m, word, pgWords[word], true
}

func (f *postgresFormat) Parse(rec []byte, received time.Time) Record {
	r, s := f.begin(rec, received)
	lines := strings.Split(s, "\n")
	m, word, kind, ok := f.match(lines[0])
	if !ok {
		raw(&r, s, "log_line_prefix does not match")
		return r
	}
	f.prefixFields(&r, lines[0], m)
	r.SetField(FieldLevel, word)
	r.Severity = kind.sev
	msg := lines[0][m[1]:]
	if d, ok := pgDuration(msg); ok {
		r.SetField(FieldDurationMS, d)
	}

	// The message keeps every line, prefixes dropped: the first line's text,
	// then each continuation as "DETAIL:  text", and the TAB-led lines of a
	// multi-line text without their TAB. Each continuation kind also goes to
	// its field.
	var b, part strings.Builder
	b.WriteString(msg)
	field := kind.field
	part.WriteString(msg)
	flush := func() {
		if field != "" {
			v := part.String()
			if old, ok := r.Fields[field]; ok {
				v = old + "\n" + v
			}
			r.SetField(field, v)
		}
		part.Reset()
	}
	for _, line := range lines[1:] {
		text := line
		if strings.HasPrefix(line, "\t") {
			text = line[1:]
		} else if m, _, k, ok := f.match(line); ok && k.field != "" {
			flush()
			field = k.field
			b.WriteString("\n")
			b.WriteString(line[m[len(m)-2]:])
			part.WriteString(line[m[1]:])
			continue
		}
		b.WriteString("\n")
		b.WriteString(text)
		if part.Len() > 0 {
			part.WriteString("\n")
		}
		part.WriteString(text)
	}
	flush()
	r.Message = b.String()
	return r
}

// prefixFields stores the values of the prefix escapes.
func (f *postgresFormat) prefixFields(r *Record, line string, m []int) {
	var ts, epoch string
	for k, c := range f.escs {
		a, z := m[2+2*k], m[3+2*k]
		if a < 0 {
			continue // left out after %q
		}
		v := strings.TrimSpace(line[a:z])
		switch c {
		case 'm', 't':
			if ts == "" || c == 'm' {
				ts = v
			}
		case 'n':
			epoch = v
		case 'r':
			host, port, ok := strings.Cut(v, "(")
			if ok && strings.HasSuffix(port, ")") {
				setPG(r, FieldClient, host)
				setPG(r, FieldClientPort, port[:len(port)-1])
			} else {
				setPG(r, FieldClient, v)
			}
		default:
			setPG(r, pgEscapes[c].field, v)
		}
	}
	switch {
	case ts != "":
		if t, ok := pgTime(ts, f.loc); ok {
			r.Time = t
		}
	case epoch != "":
		if t, ok := pgEpoch(epoch); ok {
			r.Time = t
		}
	}
}

// setPG stores a PostgreSQL value, leaving out the ones that say "none":
// empty, "[unknown]" (user, db, application before authentication), a zero
// transaction or query id. pid is also Record.ProcID.
func setPG(r *Record, field, v string) {
	if v == "" || v == "[unknown]" {
		return
	}
	switch field {
	case FieldTXID, FieldQueryID, FieldLeaderPID:
		if v == "0" {
			return
		}
	case FieldPID:
		r.ProcID = v
	case FieldLevel:
		if w, ok := pgWords[v]; ok {
			r.Severity = w.sev
		}
	}
	r.SetField(field, v)
}

// pgDuration reads the duration log_min_duration_statement and
// log_duration put first: "duration: 1234.567 ms  statement: ...",
// "duration: 0.120 ms  execute <unnamed>: ...", "durée : 12.3 ms, ...".
func pgDuration(msg string) (string, bool) {
	var rest string
	switch {
	case strings.HasPrefix(msg, "duration: "):
		rest = msg[len("duration: "):]
	case strings.HasPrefix(msg, "durée : "):
		rest = msg[len("durée : "):]
	case strings.HasPrefix(msg, "durée: "):
		rest = msg[len("durée: "):]
	default:
		return "", false
	}
	num, _, ok := strings.Cut(rest, " ms")
	if !ok || num == "" || len(num) > 20 {
		return "", false
	}
	num = strings.Replace(num, ",", ".", 1)
	dot := false
	for i := 0; i < len(num); i++ {
		switch {
		case isDigit(num[i]):
		case num[i] == '.' && !dot && i > 0 && i < len(num)-1:
			dot = true
		default:
			return "", false
		}
	}
	return num, true
}

// pgTime reads a %m / %t / csvlog stamp: "2026-11-22 10:00:00.123 CET".
// The zone is an abbreviation: a numeric one ("+03") or UTC is exact; a
// name is looked up in loc (the host's zone, which PostgreSQL's log_timezone
// usually is) around that date, then in a short table of unambiguous
// abbreviations; an unknown one leaves the stamp in loc.
func pgTime(s string, loc *time.Location) (time.Time, bool) {
	if len(s) < 19 {
		return time.Time{}, false
	}
	st, n, ok := parseISO(s)
	if !ok || st.hasOffset {
		return time.Time{}, false
	}
	zone := ""
	if n < len(s) {
		if s[n] != ' ' {
			return time.Time{}, false
		}
		zone = s[n+1:]
	}
	if off, ok := zoneOffset(st, zone, loc); ok {
		st.offset, st.hasOffset = off, true
	}
	return st.time(loc, time.Time{})
}

// zoneAbbrevs holds the abbreviations that mean one offset wherever they
// are used (CST, IST and the like do not).
var zoneAbbrevs = map[string]int{
	"UTC": 0, "UCT": 0, "GMT": 0, "Z": 0, "WET": 0, "WEST": 3600,
	"CET": 3600, "CEST": 7200, "MET": 3600, "MEST": 7200, "EET": 7200, "EEST": 10800, "MSK": 10800,
	"EST": -5 * 3600, "EDT": -4 * 3600, "MDT": -6 * 3600, "PST": -8 * 3600, "PDT": -7 * 3600,
	"JST": 9 * 3600, "KST": 9 * 3600, "AEST": 10 * 3600, "AEDT": 11 * 3600, "NZST": 12 * 3600, "NZDT": 13 * 3600,
}

func zoneOffset(st stamp, zone string, loc *time.Location) (int, bool) {
	if zone == "" {
		return 0, false
	}
	if zone[0] == '+' || zone[0] == '-' {
		h, ok := digitsN(zone, 1, 2)
		m := 0
		switch rest := zone[min(3, len(zone)):]; {
		case rest == "":
		case len(rest) == 3 && rest[0] == ':':
			m, ok = digitsN(rest, 1, 2)
		case len(rest) == 2:
			m, ok = digitsN(rest, 0, 2)
		default:
			ok = false
		}
		if !ok || len(zone) < 3 || h > 15 || m > 59 {
			return 0, false
		}
		off := h*3600 + m*60
		if zone[0] == '-' {
			off = -off
		}
		return off, true
	}
	t := time.Date(st.year, time.Month(st.month), st.day, st.hour, st.min, st.sec, 0, loc)
	for _, d := range [3]time.Duration{0, -time.Hour, time.Hour} {
		// Around a DST change the wall time is ambiguous: the name says which.
		if name, off := t.Add(d).Zone(); name == zone {
			return off, true
		}
	}
	off, ok := zoneAbbrevs[zone]
	return off, ok
}

// pgEpoch reads %n: "1763805600.123".
func pgEpoch(s string) (time.Time, bool) {
	sec, frac, _ := strings.Cut(s, ".")
	if len(sec) == 0 || len(sec) > 11 || !allDigits(sec) || (frac != "" && !allDigits(frac)) {
		return time.Time{}, false
	}
	var n, ns int64
	for i := 0; i < len(sec); i++ {
		n = n*10 + int64(sec[i]-'0')
	}
	scale := int64(1e8)
	for i := 0; i < len(frac) && scale > 0; i++ {
		ns += int64(frac[i]-'0') * scale
		scale /= 10
	}
	t := time.Unix(n, ns).UTC()
	return t, t.Year() > 1 && t.Year() < 10000
}
