// Package unicode61gen derives the tables of vigie/store/query from SQLite's
// own FTS5 unicode61 tokenizer: it feeds every code point to a live tokenizer
// and records what comes out. It holds no data of its own.
//
// It is used by ../../gen_unicode61.go, which writes unicode61_tables.go,
// and by the test that checks that file is up to date.
package unicode61gen

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"go/format"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Classes of a code point, as the tokenizer treats it.
const (
	Sep  = 0 // separates words
	Word = 1 // token character: starts or continues a word
	Mark = 2 // continues a word, never starts one (a diacritic)
)

// Tables is what the tokenizer does with each code point 0..utf8.MaxRune.
type Tables struct {
	Version string  // sqlite_version()
	Class   []uint8 // Sep, Word or Mark
	Fold    []rune  // folded form of word and mark code points; 0 means dropped
	Probed  []bool  // false for the surrogates, which cannot be fed in
}

const (
	perRow   = 128     // code points per inserted row, one column per probe
	perChunk = 1 << 16 // code points indexed before reading the tokens back
)

// Each code point r is fed as two probes, each in a column of its own so
// that no separator is needed between probes: "q" r "q" (inside a word)
// and r "q" (at the start of one). Both tokenizers are probed: the default
// one (remove_diacritics=1) gives the folding; the one with
// remove_diacritics=0 never folds a character to nothing, so it tells a
// word character whose default folding is empty from a diacritic.
var tokenizers = []string{"unicode61", "unicode61 remove_diacritics 0"}

// Probe runs the tokenizer of db over every code point. db must have FTS5
// (mattn/go-sqlite3 with build tag sqlite_fts5).
func Probe(ctx context.Context, db *sql.DB) (*Tables, error) {
	conn, err := db.Conn(ctx) // one connection: ":memory:" is per connection
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	t := &Tables{
		Class:  make([]uint8, utf8.MaxRune+1),
		Fold:   make([]rune, utf8.MaxRune+1),
		Probed: make([]bool, utf8.MaxRune+1),
	}
	if err := conn.QueryRowContext(ctx, `SELECT sqlite_version()`).Scan(&t.Version); err != nil {
		return nil, err
	}
	cols := make([]string, 2*perRow)
	for i := range cols {
		cols[i] = "c" + strconv.Itoa(i)
	}
	for i, tok := range tokenizers {
		q := fmt.Sprintf(`CREATE VIRTUAL TABLE p%d USING fts5(%s, content='', tokenize='%s')`,
			i, strings.Join(cols, ", "), tok)
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("%s: %w (is the sqlite_fts5 build tag set?)", q, err)
		}
		q = fmt.Sprintf(`CREATE VIRTUAL TABLE v%d USING fts5vocab(p%d, 'instance')`, i, i)
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return nil, fmt.Errorf("%s: %w", q, err)
		}
	}
	// tokens[tokenizer][probe][code point - chunk start]
	var tokens [2][2][perChunk][]string
	for start := rune(0); start <= utf8.MaxRune; start += perChunk {
		for i := range tokenizers {
			if err := feed(ctx, conn, i, start, cols); err != nil {
				return nil, err
			}
			for p := range tokens[i] {
				clear(tokens[i][p][:])
			}
			if err := readBack(ctx, conn, i, start, &tokens[i]); err != nil {
				return nil, err
			}
			q := fmt.Sprintf(`INSERT INTO p%d(p%d) VALUES('delete-all')`, i, i)
			if _, err := conn.ExecContext(ctx, q); err != nil {
				return nil, fmt.Errorf("%s: %w", q, err)
			}
		}
		for k := range perChunk {
			r := start + rune(k)
			if r > utf8.MaxRune {
				break
			}
			if !utf8.ValidRune(r) {
				continue
			}
			class, fold, err := classify(r, tokens[0][0][k], tokens[0][1][k], tokens[1][0][k], tokens[1][1][k])
			if err != nil {
				return nil, err
			}
			t.Class[r], t.Fold[r], t.Probed[r] = class, fold, true
		}
	}
	return t, nil
}

// feed inserts the probes of the chunk at start into table p<i>.
func feed(ctx context.Context, conn *sql.Conn, i int, start rune, cols []string) error {
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(cols)+1), ", ")
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	st, err := tx.PrepareContext(ctx, fmt.Sprintf(`INSERT INTO p%d(rowid, %s) VALUES(%s)`, i, strings.Join(cols, ", "), marks))
	if err != nil {
		return err
	}
	defer st.Close()
	args := make([]any, len(cols)+1)
	for row := 0; row < perChunk/perRow; row++ {
		args[0] = row + 1
		for j := range perRow {
			r := start + rune(row*perRow+j)
			if r > utf8.MaxRune || !utf8.ValidRune(r) {
				args[1+2*j], args[2+2*j] = "", ""
				continue
			}
			args[1+2*j], args[2+2*j] = "q"+string(r)+"q", string(r)+"q"
		}
		if _, err := st.ExecContext(ctx, args...); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// readBack reads the tokens of table p<i> into tokens[probe][offset].
func readBack(ctx context.Context, conn *sql.Conn, i int, start rune, tokens *[2][perChunk][]string) error {
	rows, err := conn.QueryContext(ctx, fmt.Sprintf(`SELECT doc, col, offset, term FROM v%d`, i))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var doc, offset int
		var col, term string
		if err := rows.Scan(&doc, &col, &offset, &term); err != nil {
			return err
		}
		c, err := strconv.Atoi(strings.TrimPrefix(col, "c"))
		if err != nil || doc < 1 || doc > perChunk/perRow || c < 0 || c >= 2*perRow {
			return fmt.Errorf("unexpected token %q in doc %d, column %q", term, doc, col)
		}
		k, probe := (doc-1)*perRow+c/2, c%2
		ts := &tokens[probe][k]
		for len(*ts) <= offset {
			*ts = append(*ts, "\x00missing")
		}
		(*ts)[offset] = term
	}
	return rows.Err()
}

// classify derives the class and folding of r from the tokens of its
// probes: in is "q" r "q", at is r "q"; 1 is the default tokenizer,
// 0 the one that keeps diacritics. Anything unexpected is an error.
func classify(r rune, in1, at1, in0, at0 []string) (uint8, rune, error) {
	bad := func(what string) (uint8, rune, error) {
		return 0, 0, fmt.Errorf("U+%04X: %s; tokens %q %q, without diacritic removal %q %q", r, what, in1, at1, in0, at0)
	}
	middle := func(in []string) (string, bool) {
		if len(in) != 1 || len(in[0]) < 2 || !strings.HasPrefix(in[0], "q") || !strings.HasSuffix(in[0], "q") {
			return "", false
		}
		return in[0][1 : len(in[0])-1], true
	}
	isSep := func(in []string) bool { return len(in) == 2 && in[0] == "q" && in[1] == "q" }
	one := func(at []string, want string) bool { return len(at) == 1 && at[0] == want }

	if isSep(in1) || isSep(in0) {
		if !isSep(in1) || !isSep(in0) || !one(at1, "q") || !one(at0, "q") {
			return bad("separator for one tokenizer only")
		}
		return Sep, 0, nil
	}
	f1, ok1 := middle(in1)
	f0, ok0 := middle(in0)
	if !ok1 || !ok0 {
		return bad("neither a separator nor part of a word")
	}
	if f0 == "" {
		return bad("folds to nothing even without diacritic removal")
	}
	var class uint8
	switch {
	case one(at0, f0+"q"):
		class = Word
		if !one(at1, f1+"q") {
			return bad("folds differently at the start of a word")
		}
	case one(at0, "q"):
		class = Mark
		if !one(at1, "q") {
			return bad("starts a word for one tokenizer only")
		}
	default:
		return bad("unexpected start of a word")
	}
	switch n := utf8.RuneCountInString(f1); {
	case f1 == "":
		return class, 0, nil
	case n != 1 || !utf8.ValidString(f1) || f1 == "\x00":
		return bad("does not fold to one character")
	}
	f, _ := utf8.DecodeRuneInString(f1)
	return class, f, nil
}

// Generate probes db and returns the Go source of unicode61_tables.go.
func Generate(ctx context.Context, db *sql.DB) ([]byte, error) {
	t, err := Probe(ctx, db)
	if err != nil {
		return nil, err
	}
	return t.Source()
}

type foldRun struct {
	lo, hi, val rune
	kind        uint8
}

// Source renders the tables as Go source for package query.
func (t *Tables) Source() ([]byte, error) {
	// Surrogates cannot occur in Go strings: give them the class of the
	// code point before them, so that they extend its run.
	class := append([]uint8(nil), t.Class...)
	fold := make([]rune, len(t.Fold))
	for r := range fold {
		switch {
		case !t.Probed[r]:
			class[r], fold[r] = class[r-1], rune(r)
		case class[r] == Sep:
			fold[r] = rune(r) // never folded: a separator is never part of a word
		default:
			fold[r] = t.Fold[r]
		}
	}

	var b bytes.Buffer
	fmt.Fprintf(&b, "// Code generated by gen_unicode61.go from SQLite's FTS5 unicode61 tokenizer; DO NOT EDIT.\n")
	fmt.Fprintf(&b, "// SQLite %s, tokenize='unicode61' (remove_diacritics=1).\n\n", t.Version)
	fmt.Fprintf(&b, "package query\n\n")

	var ascii [2]uint64
	var asciiFold strings.Builder
	for r := range utf8.RuneSelf {
		if class[r] == Word {
			ascii[r>>6] |= 1 << (r & 63)
		} else if class[r] == Mark {
			return nil, fmt.Errorf("U+%04X: an ASCII diacritic", r)
		}
		if fold[r] >= utf8.RuneSelf || (fold[r] == 0 && class[r] != Sep) {
			return nil, fmt.Errorf("U+%04X: ASCII folds outside ASCII", r)
		}
		asciiFold.WriteByte(byte(fold[r]))
	}
	fmt.Fprintf(&b, "// asciiWord has bit r set when ASCII r is a word character.\n")
	fmt.Fprintf(&b, "var asciiWord = [2]uint64{%#016x, %#016x}\n\n", ascii[0], ascii[1])
	fmt.Fprintf(&b, "// asciiFold[r] is ASCII r folded.\n")
	fmt.Fprintf(&b, "const asciiFold = %q\n\n", asciiFold.String())

	fmt.Fprintf(&b, "// classRuns: start<<2 | class of each run of code points of one class\n")
	fmt.Fprintf(&b, "// (%d separator, %d word character, %d diacritic), by start.\n", Sep, Word, Mark)
	fmt.Fprintf(&b, "var classRuns = [...]uint32{")
	n := 0
	for r := range class {
		if r == 0 || class[r] != class[r-1] {
			if n%6 == 0 {
				b.WriteString("\n")
			}
			n++
			fmt.Fprintf(&b, "%#x<<2 | %d, ", r, class[r])
		}
	}
	fmt.Fprintf(&b, "\n}\n\n")

	runs, singles := foldTables(fold)
	fmt.Fprintf(&b, "// foldRuns: how the code points lo..hi fold: kind %d, to r+val; kind %d,\n", runOffset, runEvery2)
	fmt.Fprintf(&b, "// lo, lo+2, ... to r+val and the others to themselves; kind %d, to val.\n", runTarget)
	fmt.Fprintf(&b, "// By lo, not overlapping.\n")
	fmt.Fprintf(&b, "var foldRuns = [...]foldRun{")
	for i, e := range runs {
		if i%3 == 0 {
			b.WriteString("\n")
		}
		val := strconv.Itoa(int(e.val))
		if e.kind == runTarget {
			val = fmt.Sprintf("%#x", e.val)
		}
		fmt.Fprintf(&b, "{%#x, %#x, %s, %d}, ", e.lo, e.hi, val, e.kind)
	}
	fmt.Fprintf(&b, "\n}\n\n")
	fmt.Fprintf(&b, "// foldSingles: the other code points that do not fold to themselves\n")
	fmt.Fprintf(&b, "// (to 0: dropped from the word), by code point.\n")
	fmt.Fprintf(&b, "var foldSingles = [...]foldSingle{")
	for i, s := range singles {
		if i%4 == 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "{%#x, %#x}, ", s[0], s[1])
	}
	fmt.Fprintf(&b, "\n}\n")
	return format.Source(b.Bytes())
}

// Kinds of fold runs.
const (
	runOffset = 0 // every code point folds to r + val
	runEvery2 = 1 // every second one folds to r + val, the others to themselves
	runTarget = 2 // every code point folds to val
)

// foldTables splits the code points that do not fold to themselves into
// runs (see the run kinds) and single exceptions. It is greedy: from each
// code point not yet covered it takes the run that covers the most, if it
// covers two code points at least.
func foldTables(fold []rune) (runs []foldRun, singles [][2]rune) {
	mapped := func(r rune) bool { return int(r) < len(fold) && fold[r] != r }
	for r := rune(0); int(r) < len(fold); r++ {
		if !mapped(r) {
			continue
		}
		d, to := fold[r]-r, fold[r]
		offset := func(s rune) bool { return mapped(s) && fold[s] != 0 && fold[s]-s == d }
		best := foldRun{lo: r, hi: r}
		n := 1
		try := func(e foldRun, m int) {
			if m > n {
				best, n = e, m
			}
		}
		m := 0
		for offset(r + rune(m)) {
			m++
		}
		try(foldRun{r, r + rune(m) - 1, d, runOffset}, m)
		m = 0
		for offset(r+2*rune(m)) && (m == 0 || !mapped(r+2*rune(m)-1)) {
			m++
		}
		try(foldRun{r, r + 2*rune(m-1), d, runEvery2}, m)
		m = 0
		for mapped(r+rune(m)) && fold[r+rune(m)] == to {
			m++
		}
		try(foldRun{r, r + rune(m) - 1, to, runTarget}, m)
		if n < 2 {
			singles = append(singles, [2]rune{r, to})
			continue
		}
		runs = append(runs, best)
		r = best.hi
	}
	return runs, singles
}
