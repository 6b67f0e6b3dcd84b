package record

import (
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
	var fast Record
	if decodeFast(data, &fast) {
		*r = fast
		return nil
	}
	return json.Unmarshal(data, r)
}

// decoder reads one JSON object of the record's shape; any surprise makes
// it give up (ok false) rather than guess.
type decoder struct {
	b  []byte
	i  int
	ok bool
}

func decodeFast(data []byte, r *Record) bool {
	d := &decoder{b: data, ok: true}
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
		key := d.str()
		d.ws()
		if !d.eat(':') {
			return false
		}
		d.ws()
		switch key {
		case "id":
			r.ID = d.int()
		case "time":
			r.Time = d.time()
		case "received":
			r.Received = d.time()
		case "host":
			r.Host = d.str()
		case "app":
			r.App = d.str()
		case "procid":
			r.ProcID = d.str()
		case "msgid":
			r.MsgID = d.str()
		case "facility":
			r.Facility = int(d.int())
		case "severity":
			r.Severity = int(d.int())
		case "source":
			r.Source = d.str()
		case "message":
			r.Message = d.str()
		case "fields":
			r.Fields = d.fields(r.Fields)
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
	for d.i < len(d.b) && (d.b[d.i] == ' ' || d.b[d.i] == '\t' || d.b[d.i] == '\n' || d.b[d.i] == '\r') {
		d.i++
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
	start := d.i
	s := d.str()
	if !d.ok {
		return time.Time{}
	}
	var t time.Time
	// time.Time's own decoder, on the quoted text: the same rules exactly.
	if err := t.UnmarshalJSON(d.b[start:d.i]); err != nil || len(s) == 0 {
		d.ok = false
	}
	return t
}

func (d *decoder) fields(m map[string]string) map[string]string {
	if !d.eat('{') {
		return nil
	}
	d.ws()
	if d.peek() == '}' {
		d.i++
		if m == nil {
			m = map[string]string{}
		}
		return m
	}
	for d.ok {
		k := d.str()
		d.ws()
		if !d.eat(':') {
			return nil
		}
		d.ws()
		v := d.str()
		if !d.ok {
			return nil
		}
		if m == nil {
			m = map[string]string{}
		}
		m[k] = v
		d.ws()
		if d.peek() == ',' {
			d.i++
			d.ws()
			continue
		}
		d.eat('}')
		return m
	}
	return nil
}

// str reads a JSON string; invalid UTF-8 gives up (encoding/json would
// replace it, and the fallback does exactly that).
func (d *decoder) str() string {
	if !d.eat('"') {
		return ""
	}
	start := d.i
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			s := d.b[start:d.i]
			d.i++
			if !utf8.Valid(s) {
				d.ok = false
				return ""
			}
			return string(s)
		case c == '\\':
			return d.escaped(start)
		case c < 0x20:
			d.ok = false
			return ""
		}
		d.i++
	}
	d.ok = false
	return ""
}

// escaped finishes a string that holds escapes, from its start.
func (d *decoder) escaped(start int) string {
	out := append([]byte(nil), d.b[start:d.i]...)
	for d.i < len(d.b) {
		c := d.b[d.i]
		switch {
		case c == '"':
			d.i++
			if !utf8.Valid(out) {
				d.ok = false
				return ""
			}
			return string(out)
		case c < 0x20:
			d.ok = false
			return ""
		case c != '\\':
			out = append(out, c)
			d.i++
			continue
		}
		if d.i+1 >= len(d.b) {
			break
		}
		e := d.b[d.i+1]
		d.i += 2
		switch e {
		case '"', '\\', '/':
			out = append(out, e)
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r := d.hex4()
			if utf16.IsSurrogate(r) {
				// A pair, or encoding/json's U+FFFD for a lone half:
				// leave those to it.
				if d.i+6 > len(d.b) || d.b[d.i] != '\\' || d.b[d.i+1] != 'u' {
					d.ok = false
					return ""
				}
				d.i += 2
				r = utf16.DecodeRune(r, d.hex4())
				if r == utf8.RuneError {
					d.ok = false
					return ""
				}
			}
			out = utf8.AppendRune(out, r)
		default:
			d.ok = false
			return ""
		}
		if !d.ok {
			return ""
		}
	}
	d.ok = false
	return ""
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
