package query

import "vigie/record"

// KeyKind says what a Key tests.
type KeyKind uint8

const (
	KeyEq     KeyKind = iota + 1 // the field equals Text
	KeyPrefix                    // the field starts with Text (a glob's literal start)
	KeyWord                      // the message holds the folded word Text
	KeyNum                       // the field, as a number, compares to Num by Cmp
)

// Field names a record column (app, host, procid, msgid, source) or a key
// of its Fields.
type Field struct {
	Name   string
	Column bool
}

// Get returns the field's value in r; ok is false for an absent Fields key.
func (f Field) Get(r *record.Record) (v string, ok bool) {
	if !f.Column {
		v, ok = r.Fields[f.Name]
		return v, ok
	}
	switch f.Name {
	case "host":
		return r.Host, true
	case "app":
		return r.App, true
	case "procid":
		return r.ProcID, true
	case "msgid":
		return r.MsgID, true
	default:
		return r.Source, true
	}
}

// Key is a condition that every record a query matches meets. The rules
// index their queries by their keys, so a record is tried only against the
// queries that can match it.
type Key struct {
	Kind  KeyKind
	Field Field   // KeyEq, KeyPrefix, KeyNum
	Text  string  // KeyEq: the value; KeyPrefix: the prefix; KeyWord: the word
	Cmp   string  // KeyNum: "=", "<", "<=", ">", ">="
	Num   float64 // KeyNum
}

// Keys returns conditions of which every record the query matches meets at
// least one, chosen as selective as it finds among the top-level terms of
// an AND (or the query's single term); an OR gives the keys of all its
// branches. Nil means none: the query must be tried on every record.
func (q *Query) Keys() []Key {
	if q == nil || q.root == nil {
		return nil
	}
	return keysOf(q.root)
}

func keysOf(n *node) []Key {
	switch n.kind {
	case kAnd:
		var best []Key
		for _, k := range n.kids {
			if ks := keysOf(k); ks != nil && (best == nil || better(ks, best)) {
				best = ks
			}
		}
		return best
	case kOr:
		var all []Key
		for _, k := range n.kids {
			ks := keysOf(k)
			if ks == nil {
				return nil // a branch that can match anything
			}
			all = append(all, ks...)
		}
		return all
	case kEq:
		return []Key{{Kind: KeyEq, Field: Field{n.name, n.column}, Text: n.text}}
	case kGlob:
		if n.glob[0] == "" {
			return nil
		}
		return []Key{{Kind: KeyPrefix, Field: Field{n.name, n.column}, Text: n.glob[0]}}
	case kNum:
		return []Key{{Kind: KeyNum, Field: Field{Name: n.name}, Cmp: n.cmp, Num: n.num}}
	case kText:
		ws := n.words
		if n.prefix {
			ws = ws[:len(ws)-1] // the last word may be longer in the message
		}
		var best string
		for _, w := range ws {
			if len(w) > len(best) {
				best = w
			}
		}
		if best == "" {
			return nil
		}
		return []Key{{Kind: KeyWord, Text: best}}
	}
	return nil // NOT and severity/facility ranges: no index
}

// better reports whether the key set a narrows records more than b, as far
// as can be told without data: app or host equality over other equality
// over words over prefixes over numbers (judged by a set's loosest key),
// then fewer alternatives, then longer words and prefixes.
func better(a, b []Key) bool {
	ra, rb := loosest(a), loosest(b)
	if ra != rb {
		return ra < rb
	}
	if len(a) != len(b) {
		return len(a) < len(b)
	}
	return len(a[0].Text) > len(b[0].Text)
}

func loosest(ks []Key) int {
	r := 0
	for _, k := range ks {
		r = max(r, rank(k))
	}
	return r
}

func rank(k Key) int {
	switch {
	case k.Kind == KeyEq && k.Field.Column && (k.Field.Name == "app" || k.Field.Name == "host"):
		return 0
	case k.Kind == KeyEq:
		return 1
	case k.Kind == KeyWord:
		return 2
	case k.Kind == KeyPrefix:
		return 3
	}
	return 4
}

// Holds reports whether r (with its words in w) meets the key.
func (k Key) Holds(w *Words) bool {
	switch k.Kind {
	case KeyWord:
		for _, x := range w.get() {
			if x == k.Text {
				return true
			}
		}
		return false
	case KeyNum:
		v, ok := Number(w.r.Fields[k.Field.Name])
		return ok && k.Compare(v)
	}
	v, ok := k.Field.Get(w.r)
	if !ok {
		return false
	}
	if k.Kind == KeyEq {
		return v == k.Text
	}
	return len(v) >= len(k.Text) && v[:len(k.Text)] == k.Text
}

// Compare applies a KeyNum's comparison to a field's value from Number.
func (k Key) Compare(v float64) bool { return compare(v, k.Cmp, k.Num) }

// Number reads a field's value the way a numeric comparison does (as the
// SQL's CAST after its guard); ok is false when the query would not treat
// it as a number.
func Number(v string) (float64, bool) {
	if !numeric(v) {
		return 0, false
	}
	return castReal(v), true
}

// List returns the record's folded words (splitting them on first use).
func (w *Words) List() []string { return w.get() }

// Record is the record w was last Reset to.
func (w *Words) Record() *record.Record { return w.r }
