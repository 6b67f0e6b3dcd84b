// Package query parses vigie's search language (DESIGN.md, "Query language"),
// evaluates it on records in memory (live tail, alert rules) and compiles it
// to SQL for the store: an FTS5 MATCH expression plus a WHERE clause over the
// logs table. Both evaluations give the same answer for every record.
package query

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"

	"vigie/record"
)

// Limits keep a hostile or pasted query from costing much to parse, compile
// or run.
const (
	MaxLength = 4096 // bytes
	MaxDepth  = 32   // nested parentheses and negations
)

// Error is a syntax error; Col counts runes from 1.
type Error struct {
	Col int
	Msg string
}

func (e *Error) Error() string { return fmt.Sprintf("column %d: %s", e.Col, e.Msg) }

// Query is a parsed query; the zero Query (from an empty string) matches
// every record.
type Query struct {
	root *node
}

type kind uint8

const (
	kAnd   kind = iota // kids, ≥ 2
	kOr                // kids, ≥ 2
	kNot               // kids[0]
	kText              // full-text: phrase of words, last one a prefix when prefix
	kEq                // name equals text
	kGlob              // name matches glob, the literal parts between *
	kNum               // field compared as a number
	kLevel             // severity or facility compared as an integer
)

type node struct {
	kind   kind
	kids   []*node
	name   string // column or field key
	column bool   // name is a column of logs, not a key of Fields
	cmp    string // kNum, kLevel: "=", "<", "<=", ">", ">="
	text   string // kText: the words as written; kEq: the value
	prefix bool   // kText
	words  []string
	glob   []string
	num    float64
	level  int
}

// columnSQL returns the SQL column of a text column name, "" for other
// names (severity, facility and message are handled apart).
func columnSQL(name string) string {
	switch name {
	case "host", "app", "procid", "msgid", "source":
		return "l." + name
	}
	return ""
}

func (n *node) field(r *record.Record) (string, bool) {
	return Field{n.name, n.column}.Get(r)
}

// String returns the canonical form of the query: explicit AND, NOT instead
// of -, parentheses only where needed, names for severities and facilities.
// Parse(q.String()) gives back the same query.
func (q *Query) String() string {
	if q == nil || q.root == nil {
		return ""
	}
	var b strings.Builder
	q.root.write(&b)
	return b.String()
}

func (n *node) write(b *strings.Builder) {
	switch n.kind {
	case kAnd, kOr:
		sep := " AND "
		if n.kind == kOr {
			sep = " OR "
		}
		for i, k := range n.kids {
			if i > 0 {
				b.WriteString(sep)
			}
			k.writeGrouped(b, n.kind == kAnd && k.kind == kOr)
		}
	case kNot:
		b.WriteString("NOT ")
		k := n.kids[0]
		k.writeGrouped(b, k.kind == kAnd || k.kind == kOr)
	case kText:
		if bare(n.text, true) {
			b.WriteString(n.text)
		} else {
			quote(b, n.text)
		}
		if n.prefix {
			b.WriteByte('*')
		}
	case kEq:
		b.WriteString(n.name + ":")
		if n.text != "" && bare(n.text, false) {
			b.WriteString(n.text)
		} else {
			quote(b, n.text)
		}
	case kGlob:
		b.WriteString(n.name + ":")
		plain := true
		for _, s := range n.glob {
			plain = plain && (s == "" || bare(s, false))
		}
		if !plain {
			b.WriteByte('"')
		}
		for i, s := range n.glob {
			if i > 0 {
				b.WriteByte('*')
			}
			escape(b, s)
		}
		if !plain {
			b.WriteByte('"')
		}
	case kNum:
		b.WriteString(n.name + n.cmp + strconv.FormatFloat(n.num, 'g', -1, 64))
	case kLevel:
		cmp := n.cmp
		if cmp == "=" {
			cmp = ":"
		}
		name := record.SeverityName(n.level)
		if n.name == "facility" {
			name = record.FacilityName(n.level)
		}
		b.WriteString(n.name + cmp + name)
	}
}

func (n *node) writeGrouped(b *strings.Builder, group bool) {
	if group {
		b.WriteByte('(')
	}
	n.write(b)
	if group {
		b.WriteByte(')')
	}
}

// bare reports whether s can be written without quotes, as a free word
// (text) or as a value after "name:".
func bare(s string, text bool) bool {
	if s == "" {
		return false
	}
	if text && (s == "AND" || s == "OR" || s == "NOT" || s[0] == '-' || strings.ContainsAny(s, ":<>=")) {
		return false
	}
	for _, r := range s {
		if endsWord(r) || r == '"' || r == '\\' || r == '*' || unicode.IsControl(r) {
			return false
		}
	}
	return true
}

// quote writes s as a quoted string.
func quote(b *strings.Builder, s string) {
	b.WriteByte('"')
	escape(b, s)
	b.WriteByte('"')
}

// escape writes s with a backslash before the characters the lexer would
// otherwise take as syntax: quote, backslash and the * wildcard.
func escape(b *strings.Builder, s string) {
	for _, r := range s {
		if r == '"' || r == '\\' || r == '*' {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
}
