package query

import "vigie/record"

// Key is a condition that every record the query matches meets: an exact
// app or host, or a word of the message. The rules index their queries by
// it, so a record is tried only against the queries that can match it.
type Key struct {
	Field string // "app", "host", "word", or "" when the query has none
	Value string // the column's value, or the folded word
}

// Key returns the most selective necessary condition it finds among the
// top-level terms of an AND (or the query's single term): app or host
// equality first, else the longest whole word of a phrase.
func (q *Query) Key() Key {
	if q == nil || q.root == nil {
		return Key{}
	}
	terms := []*node{q.root}
	if q.root.kind == kAnd {
		terms = q.root.kids
	}
	for _, field := range []string{"app", "host"} {
		for _, n := range terms {
			if n.kind == kEq && n.column && n.name == field {
				return Key{field, n.text}
			}
		}
	}
	var best Key
	for _, n := range terms {
		if n.kind != kText {
			continue
		}
		ws := n.words
		if n.prefix && len(ws) > 0 {
			ws = ws[:len(ws)-1] // the last word may be longer in the message
		}
		for _, w := range ws {
			if len(w) > len(best.Value) {
				best = Key{"word", w}
			}
		}
	}
	return best
}

// Holds reports whether r (with its words in w) meets the key.
func (k Key) Holds(w *Words) bool {
	switch k.Field {
	case "app":
		return w.r.App == k.Value
	case "host":
		return w.r.Host == k.Value
	case "word":
		for _, x := range w.get() {
			if x == k.Value {
				return true
			}
		}
		return false
	}
	return true
}

// List returns the record's folded words (splitting them on first use).
func (w *Words) List() []string { return w.get() }

// Record is the record w was last Reset to.
func (w *Words) Record() *record.Record { return w.r }
