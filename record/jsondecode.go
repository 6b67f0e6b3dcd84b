package record

import (
	"encoding/binary"
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// UnmarshalJSONFast decodes a record written as AppendJSON writes it, and
// falls back to encoding/json for anything else (other key spellings,
// nulls, unknown keys, invalid UTF-8): the result is always what
// json.Unmarshal gives (a test holds them together), at a fraction of the
// cost on the collector's agent ingest path.
func UnmarshalJSONFast(data []byte, r *Record) error {
	var d Decoder
	return d.Decode(data, r)
}

// Decoder decodes records one after the other as UnmarshalJSONFast does,
// keeping its scratch space between calls: every string of a record (host,
// message, field keys and values) then shares one allocation, where
// decoding each apart cost a dozen (a string kept alone, a rule's group
// key say, keeps its record's few hundred bytes of text alive with it). A
// Decoder is not safe for concurrent use; its zero value is ready.
type Decoder struct {
	d decoder
}

// Decode is UnmarshalJSONFast with the Decoder's scratch space. r is only
// written by the fast path once the whole line has been read, so the
// fallback sees r as the caller passed it.
func (dec *Decoder) Decode(data []byte, r *Record) error {
	d := &dec.d
	d.reset(data)
	var f fastRecord
	if !d.record(&f) {
		return json.Unmarshal(data, r)
	}
	// One allocation for the record's text; its strings are slices of it.
	text := string(d.out)
	at := func(s span) string { return text[s.lo:s.hi] }
	*r = Record{ID: f.id, Time: f.time, Received: f.received, Host: at(f.host), App: at(f.app),
		ProcID: at(f.procid), MsgID: at(f.msgid), Facility: f.facility, Severity: f.severity,
		Source: at(f.source), Message: at(f.message)}
	if f.fields {
		r.Fields = make(map[string]string, len(d.kv)/2)
		for i := 0; i+1 < len(d.kv); i += 2 {
			r.Fields[at(d.kv[i])] = at(d.kv[i+1])
		}
	}
	return nil
}

// span is a string of a record being decoded, as offsets into decoder.out.
type span struct{ lo, hi int }

// fastRecord is a record as the fast path reads it, before its text is
// made a string.
type fastRecord struct {
	id                                        int64
	time, received                            time.Time
	host, app, procid, msgid, source, message span
	facility, severity                        int
	fields                                    bool // "fields" was present, even empty
}

// decoder reads one JSON object of the record's shape; any surprise makes
// it give up (ok false) rather than guess.
type decoder struct {
	b  []byte
	i  int
	ok bool
	// out holds the unescaped text of every string read, back to back.
	out []byte
	// kv holds the fields as key, value, key, value...: duplicate keys and
	// a repeated "fields" object then merge as encoding/json merges them.
	kv []span
}

func (d *decoder) reset(data []byte) {
	d.b, d.i, d.ok = data, 0, true
	d.out, d.kv = d.out[:0], d.kv[:0]
}

func (d *decoder) record(r *fastRecord) bool {
	d.ws()
	if !d.eat('{') {
		return false
	}
	d.ws()
	if d.peek() == '}' {
		d.i++
		return d.end()
	}
	for d.ok {
		key := d.key()
		d.ws()
		if !d.eat(':') {
			return false
		}
		d.ws()
		switch string(key) {
		case "id":
			r.id = d.int()
		case "time":
			r.time = d.time()
		case "received":
			r.received = d.time()
		case "host":
			r.host = d.str()
		case "app":
			r.app = d.str()
		case "procid":
			r.procid = d.str()
		case "msgid":
			r.msgid = d.str()
		case "facility":
			r.facility = int(d.int())
		case "severity":
			r.severity = int(d.int())
		case "source":
			r.source = d.str()
		case "message":
			r.message = d.str()
		case "fields":
			d.fields()
			r.fields = true
		default:
			return false
		}
		d.ws()
		if d.peek() == ',' {
			d.i++
			d.ws()
			continue
		}
		if d.eat('}') {
			return d.end()
		}
		return false
	}
	return false
}

func (d *decoder) end() bool {
	d.ws()
	return d.ok && d.i == len(d.b)
}

func (d *decoder) peek() byte {
	if d.i < len(d.b) {
		return d.b[d.i]
	}
	return 0
}

func (d *decoder) eat(c byte) bool {
	if d.peek() != c {
		d.ok = false
		return false
	}
	d.i++
	return true
}

func (d *decoder) ws() {
	for d.i < len(d.b) {
		switch d.b[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// int reads a JSON integer that fits an int64 (json.Unmarshal's int).
func (d *decoder) int() int64 {
	start := d.i
	if d.peek() == '-' {
		d.i++
	}
	for d.i < len(d.b) && d.b[d.i] >= '0' && d.b[d.i] <= '9' {
		d.i++
	}
	digits := d.b[start:d.i]
	if len(digits) == 0 || (len(digits) > 1 && digits[0] == '0') || (len(digits) > 2 && digits[0] == '-' && digits[1] == '0') {
		d.ok = false
		return 0
	}
	if c := d.peek(); c == '.' || c == 'e' || c == 'E' {
		d.ok = false
		return 0
	}
	n, err := strconv.ParseInt(string(digits), 10, 64)
	if err != nil {
		d.ok = false
	}
	return n
}

func (d *decoder) time() time.Time {
	start, mark := d.i, len(d.out)
	s := d.str()
	d.out = d.out[:mark] // checked as a JSON string, kept as a time only
	if !d.ok {
		return time.Time{}
	}
	var t time.Time
	// time.Time's own decoder, on the quoted text: the same rules exactly.
	if err := t.UnmarshalJSON(d.b[start:d.i]); err != nil || s.hi == s.lo {
		d.ok = false
	}
	return t
}

func (d *decoder) fields() {
	if !d.eat('{') {
		return
	}
	d.ws()
	if d.peek() == '}' {
		d.i++
		return
	}
	for d.ok {
		k := d.str()
		d.ws()
		if !d.eat(':') {
			return
		}
		d.ws()
		v := d.str()
		if !d.ok {
			return
		}
		d.kv = append(d.kv, k, v)
		d.ws()
		if d.peek() == ',' {
			d.i++
			d.ws()
			continue
		}
		d.eat('}')
		return
	}
}

// plain marks the bytes a JSON string may hold as they are and that are
// valid UTF-8 on their own: printable ASCII but the quote and backslash.
var plain = func() (t [256]bool) {
	for c := 0x20; c < utf8.RuneSelf; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

// key reads an object key in place, without copying it; a key with
// escapes or other than ASCII is left to encoding/json, which also matches
// keys without regard to case.
func (d *decoder) key() []byte {
	if !d.eat('"') {
		return nil
	}
	start := d.i
	for d.i < len(d.b) && plain[d.b[d.i]] {
		d.i++
	}
	if d.peek() != '"' {
		d.ok = false
		return nil
	}
	d.i++
	return d.b[start : d.i-1]
}

// str reads a JSON string into out; invalid UTF-8 gives up (encoding/json
// would replace it, and the fallback does exactly that).
func (d *decoder) str() span {
	if !d.eat('"') {
		return span{}
	}
	start := d.i
	ascii := true
	for {
		d.skipPlain()
		if d.i == len(d.b) {
			d.ok = false
			return span{}
		}
		switch c := d.b[d.i]; {
		case c == '"':
			s := d.b[start:d.i]
			d.i++
			lo := len(d.out)
			d.out = append(d.out, s...)
			if !ascii && !utf8.Valid(s) {
				d.ok = false
			}
			return span{lo, len(d.out)}
		case c == '\\':
			return d.escaped(start)
		case c < 0x20:
			d.ok = false
			return span{}
		}
		ascii = false // checked as a whole at the end
		d.i++
	}
}

// Eight bytes at a time: each constant repeats one byte value.
const (
	ones  = 0x0101010101010101
	highs = 0x8080808080808080
)

// skipPlain moves past printable ASCII other than the quote and the
// backslash, eight bytes at a time while none of them needs a look: most
// of a record's text is such bytes.
func (d *decoder) skipPlain() {
	b, i := d.b, d.i
	for ; i+8 <= len(b); i += 8 {
		x := binary.LittleEndian.Uint64(b[i:])
		quote, backslash := x^('"'*ones), x^('\\'*ones)
		// A byte is flagged when it is below 0x20, has its high bit set,
		// or is zero after the xor with the quote or the backslash.
		if ((x-0x20*ones)|x|(quote-ones)&^quote|(backslash-ones)&^backslash)&highs != 0 {
			break
		}
	}
	for ; i < len(b) && plain[b[i]]; i++ {
	}
	d.i = i
}

// escaped finishes a string that holds escapes, from its start.
func (d *decoder) escaped(start int) span {
	lo := len(d.out)
	d.out = append(d.out, d.b[start:d.i]...)
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			d.i++
			if !utf8.Valid(d.out[lo:]) {
				d.ok = false
			}
			return span{lo, len(d.out)}
		case c < 0x20:
			d.ok = false
			return span{}
		case c != '\\':
			run := d.i
			for {
				d.skipPlain()
				if d.i == len(d.b) || d.b[d.i] < utf8.RuneSelf {
					break
				}
				d.i++ // not ASCII: checked as a whole at the end
			}
			d.out = append(d.out, d.b[run:d.i]...)
			continue
		}
		if d.i+1 >= len(d.b) {
			break
		}
		e := d.b[d.i+1]
		d.i += 2
		switch e {
		case '"', '\\', '/':
			d.out = append(d.out, e)
		case 'b':
			d.out = append(d.out, '\b')
		case 'f':
			d.out = append(d.out, '\f')
		case 'n':
			d.out = append(d.out, '\n')
		case 'r':
			d.out = append(d.out, '\r')
		case 't':
			d.out = append(d.out, '\t')
		case 'u':
			r := d.hex4()
			if utf16.IsSurrogate(r) {
				// A pair, or encoding/json's U+FFFD for a lone half:
				// leave those to it.
				if d.i+6 > len(d.b) || d.b[d.i] != '\\' || d.b[d.i+1] != 'u' {
					d.ok = false
					return span{}
				}
				d.i += 2
				r = utf16.DecodeRune(r, d.hex4())
				if r == utf8.RuneError {
					d.ok = false
					return span{}
				}
			}
			d.out = utf8.AppendRune(d.out, r)
		default:
			d.ok = false
			return span{}
		}
		if !d.ok {
			return span{}
		}
	}
	d.ok = false
	return span{}
}

func (d *decoder) hex4() rune {
	if d.i+4 > len(d.b) {
		d.ok = false
		return 0
	}
	var r rune
	for _, c := range d.b[d.i : d.i+4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			d.ok = false
			return 0
		}
	}
	d.i += 4
	return r
}
