package query

import (
	"fmt"
	"strings"
)

// Compiled is a query translated for the store, which runs
//
//	SELECT ... FROM fts JOIN logs l ON l.id = fts.rowid
//	WHERE fts MATCH :Match AND (Where) ...     when Match != ""
//	SELECT ... FROM logs l WHERE (Where) ...  otherwise
//
// User text only ever reaches SQLite through bound parameters.
type Compiled struct {
	// Match is an FTS5 expression every result satisfies; "" when none.
	Match string
	// Where is a boolean SQL expression over the logs table aliased l;
	// "" when none.
	Where string
	// Args are Where's parameters, in order; Match is bound on its own.
	Args []any
}

// The full-text subquery used where a text term cannot drive the search.
const (
	inFTS    = "l.id IN (SELECT rowid FROM fts WHERE fts MATCH ?)"
	notInFTS = "l.id NOT IN (SELECT rowid FROM fts WHERE fts MATCH ?)"
)

// Compile translates the query. Full-text conjuncts of the top-level AND go
// into Match so the FTS index drives the search; text under OR with other
// predicates, or negated alone, becomes an fts subquery in Where.
func (q *Query) Compile() Compiled {
	if q == nil || q.root == nil {
		return Compiled{}
	}
	conj := []*node{q.root}
	if q.root.kind == kAnd {
		conj = q.root.kids
	}
	var pos, neg []string
	var rest []*node
	for _, n := range conj {
		if e, ok := ftsExpr(n); ok {
			pos = append(pos, e)
		} else if e, ok := ftsNegated(n); ok {
			neg = append(neg, e)
		} else {
			rest = append(rest, n)
		}
	}
	var out Compiled
	if len(pos) > 0 {
		out.Match = ftsAnd(pos, neg)
	}
	c := &compiler{}
	var parts []string
	if len(pos) == 0 && len(neg) > 0 {
		// FTS5 has no unary NOT: lone negations become one NOT IN.
		c.arg(ftsOr(neg))
		parts = append(parts, notInFTS)
	}
	for _, n := range rest {
		parts = append(parts, c.where(n))
	}
	out.Where, out.Args = strings.Join(parts, " AND "), c.args
	return out
}

// ftsExpr returns the FTS5 expression of a subtree made only of text terms,
// false when it holds other predicates or cannot be written in FTS5 (a
// negation needs a positive term beside it).
func ftsExpr(n *node) (string, bool) {
	switch n.kind {
	case kText:
		e := `"` + strings.ReplaceAll(strings.Join(rawWords(n.text), " "), `"`, `""`) + `"`
		if n.prefix {
			e += " *"
		}
		return e, true
	case kOr:
		es := make([]string, len(n.kids))
		for i, k := range n.kids {
			e, ok := ftsExpr(k)
			if !ok {
				return "", false
			}
			es[i] = e
		}
		return ftsOr(es), true
	case kAnd:
		var pos, neg []string
		for _, k := range n.kids {
			if e, ok := ftsExpr(k); ok {
				pos = append(pos, e)
			} else if e, ok := ftsNegated(k); ok {
				neg = append(neg, e)
			} else {
				return "", false
			}
		}
		if len(pos) == 0 {
			return "", false
		}
		return "(" + ftsAnd(pos, neg) + ")", true
	case kNot:
		if k := n.kids[0]; k.kind == kNot {
			return ftsExpr(k.kids[0])
		}
	}
	return "", false
}

// ftsNegated returns the FTS5 expression of x when n is NOT x.
func ftsNegated(n *node) (string, bool) {
	if n.kind != kNot {
		return "", false
	}
	return ftsExpr(n.kids[0])
}

// ftsAnd writes p1 AND p2 ... NOT n1 NOT n2: FTS5's NOT is binary and binds
// tighter than AND, which gives the same set.
func ftsAnd(pos, neg []string) string {
	e := strings.Join(pos, " AND ")
	for _, n := range neg {
		e += " NOT " + n
	}
	return e
}

// ftsOr writes e1 OR e2 ..., in parentheses when there are several.
func ftsOr(es []string) string {
	if len(es) == 1 {
		return es[0]
	}
	return "(" + strings.Join(es, " OR ") + ")"
}

type compiler struct {
	args []any
}

func (c *compiler) arg(a ...any) { c.args = append(c.args, a...) }

// where returns the SQL of n; every predicate is true or false, never NULL,
// so that NOT gives the complement Match computes.
func (c *compiler) where(n *node) string {
	if e, ok := ftsExpr(n); ok {
		c.arg(e)
		return inFTS
	}
	if e, ok := ftsNegated(n); ok {
		c.arg(e)
		return notInFTS
	}
	switch n.kind {
	case kNot:
		w := c.where(n.kids[0])
		if !strings.HasPrefix(w, "(") {
			w = "(" + w + ")"
		}
		return "NOT " + w
	case kAnd, kOr:
		return c.group(n)
	case kEq:
		if n.column {
			c.arg(n.text)
			return columnSQL(n.name) + " = ?"
		}
		c.arg(JSONPath(n.name), n.text)
		return "json_extract(l.fields, ?) IS ?"
	case kGlob:
		return c.glob(n)
	case kNum:
		c.arg(JSONPath(n.name), JSONPath(n.name), n.num)
		return "(IFNULL(ltrim(ltrim(json_extract(l.fields, ?), '+-'), '.') GLOB '[0-9]*', 0)" +
			" AND CAST(json_extract(l.fields, ?) AS REAL) " + n.cmp + " ?)"
	case kLevel:
		c.arg(n.level)
		return "l." + n.name + " " + n.cmp + " ?"
	}
	panic(fmt.Sprintf("query: cannot compile node kind %d", n.kind))
}

// group compiles AND/OR, gathering the kids that are pure full-text into a
// single fts subquery.
func (c *compiler) group(n *node) string {
	var pos, neg []string
	var others []*node
	for _, k := range n.kids {
		if e, ok := ftsExpr(k); ok {
			pos = append(pos, e)
		} else if e, ok := ftsNegated(k); ok && n.kind == kAnd {
			neg = append(neg, e)
		} else {
			others = append(others, k)
		}
	}
	var parts []string
	sep := " AND "
	switch {
	case n.kind == kOr:
		sep = " OR "
		if len(pos) > 0 {
			c.arg(ftsOr(pos))
			parts = append(parts, inFTS)
		}
	case len(pos) > 0:
		c.arg(ftsAnd(pos, neg))
		parts = append(parts, inFTS)
	case len(neg) > 0:
		c.arg(ftsOr(neg))
		parts = append(parts, notInFTS)
	}
	for _, k := range others {
		parts = append(parts, c.where(k))
	}
	return "(" + strings.Join(parts, sep) + ")"
}

func (c *compiler) glob(n *node) string {
	if !n.column {
		c.arg(JSONPath(n.name), globPattern(n.glob))
		return "IFNULL(json_extract(l.fields, ?) GLOB ?, 0)"
	}
	col := columnSQL(n.name)
	if len(n.glob) == 2 && n.glob[1] == "" {
		// A prefix: a range the column's index can serve, where GLOB
		// would scan.
		lo := n.glob[0]
		if hi, ok := upperBound(lo); ok {
			c.arg(lo, hi)
			return "(" + col + " >= ? AND " + col + " < ?)"
		}
		c.arg(lo)
		return col + " >= ?"
	}
	c.arg(globPattern(n.glob))
	return col + " GLOB ?"
}

// upperBound returns the least string above every string starting with p,
// under SQLite's BINARY (memcmp) order: p without its trailing 0xFF bytes,
// last byte plus one. It may not be valid UTF-8; SQLite compares bytes.
func upperBound(p string) (string, bool) {
	b := []byte(p)
	for len(b) > 0 && b[len(b)-1] == 0xFF {
		b = b[:len(b)-1]
	}
	if len(b) == 0 {
		return "", false
	}
	b[len(b)-1]++
	return string(b), true
}

// globPattern joins literal parts with *, escaping GLOB's other
// metacharacters (and a literal *) as one-character classes.
func globPattern(parts []string) string {
	var b strings.Builder
	for i, p := range parts {
		if i > 0 {
			b.WriteByte('*')
		}
		for _, r := range p {
			switch r {
			case '[', '?', '*':
				b.WriteString("[" + string(r) + "]")
			default:
				b.WriteRune(r)
			}
		}
	}
	return b.String()
}

// jsonPath returns the SQLite JSON path of a top-level key, `$."key"`. The
// quoted label ends at the first ", so one inside the key is written \u0022;
// SQLite decodes JSON escapes in labels that contain a backslash.
func JSONPath(key string) string {
	var b strings.Builder
	b.WriteString(`$."`)
	for _, r := range key {
		switch {
		case r == '"':
			b.WriteString(`\u0022`)
		case r == '\\':
			b.WriteString(`\\`)
		case r < 0x20:
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}
