package query

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"vigie/record"
)

// Grammar (NOT binds tighter than AND, AND tighter than OR):
//
//	query   = [ or ]
//	or      = and { "OR" and }
//	and     = unary { [ "AND" ] unary }
//	unary   = ( "NOT" | "-" ) unary | "(" or ")" | term
//	term    = text | name op value
//	text    = word | '"' chars '"'          free text; a trailing * makes a prefix
//	name    = [A-Za-z0-9_.@-]+
//	op      = ":" | "=" | "<" | "<=" | ">" | ">="
//	value   = word | '"' chars '"'
//
// A word runs up to a space or a parenthesis. Inside words and quotes, \x
// stands for x and an unescaped * is the wildcard. AND, OR and NOT are
// keywords only in capitals and unquoted.

type tokKind uint8

const (
	tEOF tokKind = iota
	tLParen
	tRParen
	tAnd
	tOr
	tNot
	tMinus
	tTerm
)

type token struct {
	kind   tokKind
	col    int
	name   string   // tTerm: "" for free text
	op     string   // tTerm with a name
	valCol int      // tTerm: column of the value
	segs   []string // tTerm: the value cut at each wildcard
	quoted bool
}

// Parse parses a query. The empty (or blank) query matches everything.
func Parse(s string) (*Query, error) {
	if len(s) > MaxLength {
		return nil, &Error{Col: utf8.RuneCountInString(s[:MaxLength]) + 1,
			Msg: fmt.Sprintf("query longer than %d bytes", MaxLength)}
	}
	rs := make([]rune, 0, len(s))
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		col := len(rs) + 1
		switch {
		case r == utf8.RuneError && size == 1:
			return nil, &Error{Col: col, Msg: "invalid UTF-8"}
		case unicode.IsControl(r) && !unicode.IsSpace(r):
			return nil, &Error{Col: col, Msg: fmt.Sprintf("control character %U", r)}
		}
		rs = append(rs, r)
		i += size
	}
	toks, err := lex(rs)
	if err != nil {
		return nil, err
	}
	p := parser{toks: toks}
	if p.peek().kind == tEOF {
		return &Query{}, nil
	}
	root, err := p.or()
	if err != nil {
		return nil, err
	}
	if t := p.peek(); t.kind != tEOF { // only a ) can be left over
		return nil, &Error{Col: t.col, Msg: "unbalanced parenthesis: ) without ("}
	}
	q := &Query{root: root}
	// The canonical form may be longer than the input (explicit AND,
	// quotes, names for numbers); bounding it too keeps Parse(q.String())
	// valid for every parsed query.
	if n := len(q.String()); n > MaxLength {
		return nil, &Error{Col: 1, Msg: fmt.Sprintf("query longer than %d bytes once written in canonical form (%d)", MaxLength, n)}
	}
	return q, nil
}

// endsWord reports whether r ends an unquoted word.
func endsWord(r rune) bool { return unicode.IsSpace(r) || r == '(' || r == ')' }

func isNameRune(r rune) bool {
	return 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' ||
		r == '_' || r == '.' || r == '@' || r == '-'
}

func lex(rs []rune) ([]token, error) {
	var toks []token
	i, n := 0, len(rs)
	for {
		for i < n && unicode.IsSpace(rs[i]) {
			i++
		}
		if i == n {
			return append(toks, token{kind: tEOF, col: n + 1}), nil
		}
		col := i + 1
		switch c := rs[i]; {
		case c == '(':
			toks = append(toks, token{kind: tLParen, col: col})
			i++
		case c == ')':
			toks = append(toks, token{kind: tRParen, col: col})
			i++
		case c == '-':
			if i+1 == n || unicode.IsSpace(rs[i+1]) || rs[i+1] == ')' {
				return nil, &Error{Col: col, Msg: "- must be followed by the term it negates"}
			}
			toks = append(toks, token{kind: tMinus, col: col})
			i++
		default:
			t := token{kind: tTerm, col: col, valCol: col}
			k := i
			for k < n && isNameRune(rs[k]) {
				k++
			}
			if k > i && k < n && strings.ContainsRune(":=<>", rs[k]) {
				t.name, t.op = string(rs[i:k]), string(rs[k])
				k++
				if k < n && rs[k] == '=' && (t.op == "<" || t.op == ">") {
					t.op += "="
					k++
				}
				t.valCol = k + 1
			} else {
				k = i
				end := k
				for end < n && !endsWord(rs[end]) {
					end++
				}
				switch string(rs[k:end]) {
				case "AND":
					t.kind = tAnd
				case "OR":
					t.kind = tOr
				case "NOT":
					t.kind = tNot
				}
				if t.kind != tTerm {
					toks = append(toks, t)
					i = end
					continue
				}
			}
			var err error
			t.segs, t.quoted, i, err = readValue(rs, k)
			if err != nil {
				return nil, err
			}
			toks = append(toks, t)
		}
	}
}

// readValue reads a word or a quoted string at rs[i], cut at each
// unescaped *, and returns the index after it.
func readValue(rs []rune, i int) (segs []string, quoted bool, next int, err error) {
	n := len(rs)
	var b strings.Builder
	if i < n && rs[i] == '"' {
		open := i + 1
		for i++; ; i++ {
			if i >= n || rs[i] == '\\' && i+1 == n {
				return nil, false, 0, &Error{Col: open, Msg: "unterminated quote"}
			}
			c := rs[i]
			if c == '"' {
				break
			}
			switch c {
			case '\\':
				i++
				b.WriteRune(rs[i])
			case '*':
				segs = append(segs, b.String())
				b.Reset()
			default:
				b.WriteRune(c)
			}
		}
		i++
		segs = append(segs, b.String())
		if i < n && rs[i] == '*' {
			segs = append(segs, "")
			i++
		}
		if i < n && !endsWord(rs[i]) {
			return nil, false, 0, &Error{Col: i + 1, Msg: "expected a space or a parenthesis after the closing quote"}
		}
		return segs, true, i, nil
	}
	for ; i < n && !endsWord(rs[i]); i++ {
		switch c := rs[i]; c {
		case '\\':
			if i+1 == n {
				return nil, false, 0, &Error{Col: i + 1, Msg: `nothing to escape after \`}
			}
			i++
			b.WriteRune(rs[i])
		case '"':
			return nil, false, 0, &Error{Col: i + 1, Msg: `unexpected " inside a word; quote the whole value`}
		case '*':
			segs = append(segs, b.String())
			b.Reset()
		default:
			b.WriteRune(c)
		}
	}
	return append(segs, b.String()), false, i, nil
}

type parser struct {
	toks  []token
	pos   int
	depth int
}

func (p *parser) peek() *token { return &p.toks[p.pos] }

func (p *parser) next() *token {
	t := &p.toks[p.pos]
	if t.kind != tEOF {
		p.pos++
	}
	return t
}

// startsTerm reports whether k can begin an operand of AND, OR or NOT.
func startsTerm(k tokKind) bool { return k == tTerm || k == tLParen || k == tNot || k == tMinus }

func (p *parser) or() (*node, error) {
	left, err := p.and()
	if err != nil {
		return nil, err
	}
	for p.peek().kind == tOr {
		t := p.next()
		if !startsTerm(p.peek().kind) {
			return nil, &Error{Col: t.col, Msg: "dangling OR: no term after it"}
		}
		right, err := p.and()
		if err != nil {
			return nil, err
		}
		left = join(kOr, left, right)
	}
	return left, nil
}

func (p *parser) and() (*node, error) {
	left, err := p.unary()
	if err != nil {
		return nil, err
	}
	for {
		t := p.peek()
		if t.kind == tAnd {
			p.next()
			if !startsTerm(p.peek().kind) {
				return nil, &Error{Col: t.col, Msg: "dangling AND: no term after it"}
			}
		} else if !startsTerm(t.kind) {
			return left, nil
		}
		right, err := p.unary()
		if err != nil {
			return nil, err
		}
		left = join(kAnd, left, right)
	}
}

func (p *parser) unary() (*node, error) {
	t := p.next()
	switch t.kind {
	case tNot, tMinus:
		if err := p.enter(t); err != nil {
			return nil, err
		}
		if !startsTerm(p.peek().kind) {
			return nil, &Error{Col: t.col, Msg: "dangling NOT: no term after it"}
		}
		kid, err := p.unary()
		if err != nil {
			return nil, err
		}
		p.depth--
		return &node{kind: kNot, kids: []*node{kid}}, nil
	case tLParen:
		if err := p.enter(t); err != nil {
			return nil, err
		}
		if p.peek().kind == tRParen {
			return nil, &Error{Col: t.col, Msg: "empty parentheses"}
		}
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.next().kind != tRParen {
			return nil, &Error{Col: t.col, Msg: "unbalanced parenthesis: ( never closed"}
		}
		p.depth--
		return n, nil
	case tTerm:
		return leaf(t)
	case tAnd:
		return nil, &Error{Col: t.col, Msg: "AND without a term before it"}
	case tOr:
		return nil, &Error{Col: t.col, Msg: "OR without a term before it"}
	case tRParen:
		return nil, &Error{Col: t.col, Msg: "unbalanced parenthesis: ) without ("}
	}
	return nil, &Error{Col: t.col, Msg: "unexpected end of query"}
}

// enter counts one more level of nesting; the limit keeps the recursive
// parser, matcher and compiler shallow.
func (p *parser) enter(t *token) error {
	if p.depth++; p.depth > MaxDepth {
		return &Error{Col: t.col, Msg: fmt.Sprintf("nested deeper than %d levels", MaxDepth)}
	}
	return nil
}

// join builds a AND b (or a OR b), flattening nested nodes of the same kind
// since both operators are associative.
func join(k kind, a, b *node) *node {
	if a.kind != k {
		a = &node{kind: k, kids: []*node{a}}
	}
	if b.kind == k {
		a.kids = append(a.kids, b.kids...)
	} else {
		a.kids = append(a.kids, b)
	}
	return a
}

// leaf turns a term token into a predicate, checking its value.
func leaf(t *token) (*node, error) {
	segs := t.segs
	if len(segs) > 2 { // a**b is a*b
		mid := segs[1 : len(segs)-1]
		kept := []string{segs[0]}
		for _, s := range mid {
			if s != "" {
				kept = append(kept, s)
			}
		}
		segs = append(kept, segs[len(segs)-1])
	}
	empty := len(segs) == 1 && segs[0] == "" && !t.quoted
	if empty && t.name != "" {
		return nil, &Error{Col: t.valCol, Msg: fmt.Sprintf("empty value after %s%s", t.name, t.op)}
	}
	switch {
	case t.name == "" || t.name == "message":
		if t.op != "" && t.op != ":" {
			return nil, &Error{Col: t.col, Msg: "message is searched as text: use message:word"}
		}
		return textLeaf(segs, t.valCol)
	case columnSQL(t.name) != "":
		if t.op != ":" {
			return nil, &Error{Col: t.col, Msg: fmt.Sprintf("%s is text: use %s:value", t.name, t.name)}
		}
		return stringLeaf(t.name, true, segs), nil
	case t.name == "severity" || t.name == "facility":
		if len(segs) > 1 {
			return nil, &Error{Col: t.valCol, Msg: t.name + " takes no wildcard"}
		}
		parse, want := record.ParseSeverity, "emerg..debug or 0-7"
		if t.name == "facility" {
			parse, want = record.ParseFacility, "kern, user, ..., local7 or 0-23"
		}
		lv, ok := parse(segs[0])
		if !ok {
			return nil, &Error{Col: t.valCol, Msg: fmt.Sprintf("unknown %s %q (want %s)", t.name, segs[0], want)}
		}
		cmp := t.op
		if cmp == ":" {
			cmp = "="
		}
		return &node{kind: kLevel, name: t.name, column: true, cmp: cmp, level: lv}, nil
	case t.op == ":":
		return stringLeaf(t.name, false, segs), nil
	}
	if len(segs) > 1 || !isNumber(segs[0]) {
		return nil, &Error{Col: t.valCol, Msg: fmt.Sprintf("%s needs a number, not %q", t.op, strings.Join(segs, "*"))}
	}
	f, err := strconv.ParseFloat(segs[0], 64)
	if err != nil {
		return nil, &Error{Col: t.valCol, Msg: fmt.Sprintf("number %s out of range", segs[0])}
	}
	return &node{kind: kNum, name: t.name, cmp: t.op, num: f}, nil
}

func textLeaf(segs []string, col int) (*node, error) {
	prefix := len(segs) == 2 && segs[1] == ""
	if prefix {
		segs = segs[:1]
	}
	if len(segs) > 1 {
		return nil, &Error{Col: col, Msg: "full-text search takes * only at the end of a word"}
	}
	ws := words(segs[0])
	if len(ws) == 0 {
		return nil, &Error{Col: col, Msg: "nothing to search: no letter or digit"}
	}
	return &node{kind: kText, text: segs[0], prefix: prefix, words: ws}, nil
}

func stringLeaf(name string, column bool, segs []string) *node {
	if len(segs) == 1 {
		return &node{kind: kEq, name: name, column: column, text: segs[0]}
	}
	return &node{kind: kGlob, name: name, column: column, glob: segs}
}

// isNumber accepts [+-]digits[.digits][e[+-]digits] and .5, nothing else
// (no hex, inf or nan, which ParseFloat would take).
func isNumber(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		i++
	}
	digits := 0
	for ; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
		digits++
	}
	if i < len(s) && s[i] == '.' {
		for i++; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
			digits++
		}
	}
	if digits == 0 {
		return false
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		start := i
		for ; i < len(s) && '0' <= s[i] && s[i] <= '9'; i++ {
		}
		if i == start {
			return false
		}
	}
	return i == len(s)
}
