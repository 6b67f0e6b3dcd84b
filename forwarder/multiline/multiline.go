// Package multiline joins a file's lines into records: a Python traceback
// under its Odoo line, PostgreSQL's DETAIL and STATEMENT under their ERROR, a
// quoted newline inside a CSV field.
package multiline

import (
	"regexp"
	"time"

	"vigie/record"
)

// Rule decides where records start. A nil Start uses the format's own rule.
type Rule struct {
	Format record.Format
	Start  *regexp.Regexp
	// Timeout flushes a record no line has followed for that long (default 2s):
	// the last record of a quiet file must not wait for the next one.
	Timeout time.Duration
	// MaxSize cuts longer records; the rest of the record is skipped, and
	// the record is marked (default 1 MiB).
	MaxSize int
}

// Record is a joined record and where it ends in its file.
type Record struct {
	Text []byte // a one-line record's Text is the line given to Add
	// Offset is the file offset just after the record's last line: what the
	// positions may advance to once the record is safe.
	Offset    int64
	Truncated bool
	Lines     int
}

// Joiner joins the lines of one file. It is not safe for concurrent use.
type Joiner struct {
	rule      Rule
	single    bool   // every line is a record: record.LineFormat and no Start override
	cur       []byte // the pending record: its first line as given while it is alone, then the joiner's own copy
	owned     bool   // cur is the joiner's own buffer, which it may append to
	lines     int
	offset    int64
	truncated bool
	last      time.Time // when the pending record last grew
}

// New returns a joiner for one file.
func New(rule Rule) *Joiner {
	if rule.Timeout <= 0 {
		rule.Timeout = 2 * time.Second
	}
	if rule.MaxSize <= 0 {
		rule.MaxSize = 1 << 20
	}
	_, lines := rule.Format.(record.LineFormat)
	return &Joiner{rule: rule, single: lines && rule.Start == nil}
}

func (j *Joiner) starts(line []byte) bool {
	if j.rule.Start != nil {
		return j.rule.Start.Match(line)
	}
	if j.rule.Format != nil {
		return j.rule.Format.Starts(line)
	}
	return true
}

// Add takes the next line (without its newline) ending at offset, and
// returns the record it completes, if any. A record of one line is that line
// (or its start) and no copy: the caller must not modify line afterwards.
func (j *Joiner) Add(line []byte, offset int64, now time.Time) (done Record, ok bool) {
	if j.single {
		j.append(line)
		j.lines, j.offset = 1, offset
		return j.take(), true
	}
	continues := j.lines > 0 && ((j.rule.Format != nil && j.rule.Format.Open(j.cur)) || !j.starts(line))
	if !continues && j.lines > 0 {
		done, ok = j.take(), true
	}
	if j.lines > 0 {
		j.append([]byte{'\n'})
	}
	j.append(line)
	j.lines++
	j.offset = offset
	j.last = now
	return done, ok
}

func (j *Joiner) append(b []byte) {
	room := j.rule.MaxSize - len(j.cur)
	if len(b) > room {
		b, j.truncated = b[:max(room, 0)], true
	}
	switch {
	case j.lines == 0:
		// The first line is kept as given: most records are one line, and
		// are then taken without a copy.
		j.cur, j.owned = b, false
	case !j.owned:
		own := make([]byte, len(j.cur), max(2*(len(j.cur)+len(b)), 256))
		copy(own, j.cur)
		j.cur, j.owned = append(own, b...), true
	default:
		j.cur = append(j.cur, b...)
	}
}

// Due reports whether the pending record has waited its timeout.
func (j *Joiner) Due(now time.Time) bool {
	return j.lines > 0 && now.Sub(j.last) >= j.rule.Timeout
}

// Flush returns the pending record, complete or not (timeout, file gone,
// shutdown).
func (j *Joiner) Flush() (Record, bool) {
	if j.lines == 0 {
		return Record{}, false
	}
	return j.take(), true
}

// Pending reports whether a record is waiting for more lines. While one is,
// the file's saved position must stay at the end of the last record taken.
func (j *Joiner) Pending() bool { return j.lines > 0 }

func (j *Joiner) take() Record {
	r := Record{Text: j.cur, Offset: j.offset, Truncated: j.truncated, Lines: j.lines}
	j.cur, j.owned, j.lines, j.truncated = nil, false, 0, false
	return r
}
