package query

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"os"
	"strings"
	"testing"
	"unicode/utf8"

	_ "github.com/mattn/go-sqlite3"

	"vigie/store/query/internal/unicode61gen"
)

// TestUnicode61TablesUpToDate checks that unicode61_tables.go is what
// gen_unicode61.go writes from the SQLite linked in: run go generate when
// SQLite changes.
func TestUnicode61TablesUpToDate(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: every code point")
	}
	db, err := sql.Open("sqlite3", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	want, err := unicode61gen.Generate(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	have, err := os.ReadFile("unicode61_tables.go")
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(have, want) {
		return
	}
	hl, wl := strings.Split(string(have), "\n"), strings.Split(string(want), "\n")
	for i := 0; i < len(hl) || i < len(wl); i++ {
		var h, w string
		if i < len(hl) {
			h = hl[i]
		}
		if i < len(wl) {
			w = wl[i]
		}
		if h != w {
			t.Fatalf("unicode61_tables.go is out of date (run go generate ./store/query/); line %d:\nhave %q\nwant %q", i+1, h, w)
		}
	}
}

// TestRuneTables checks that the ASCII fast paths agree with the tables
// and that the tables are well formed for binary search.
func TestRuneTables(t *testing.T) {
	for r := rune(0); r < utf8.RuneSelf; r++ {
		if runeClass(r) != classOf(r) {
			t.Errorf("U+%04X: ASCII class %d, table %d", r, runeClass(r), classOf(r))
		}
		if foldRune(r) != foldOf(r) {
			t.Errorf("U+%04X: ASCII fold %q, table %q", r, foldRune(r), foldOf(r))
		}
	}
	for i := 1; i < len(classRuns); i++ {
		if classRuns[i]>>2 <= classRuns[i-1]>>2 || classRuns[i]&3 == classRuns[i-1]&3 {
			t.Errorf("classRuns[%d] out of order or not merged", i)
		}
	}
	for i := 1; i < len(foldRuns); i++ {
		if foldRuns[i].lo <= foldRuns[i-1].hi {
			t.Errorf("foldRuns[%d] overlaps the one before", i)
		}
	}
	for i := 1; i < len(foldSingles); i++ {
		if foldSingles[i].from <= foldSingles[i-1].from {
			t.Errorf("foldSingles[%d] out of order", i)
		}
	}
	for _, s := range foldSingles {
		if s.from == s.to {
			t.Errorf("foldSingles has U+%04X to itself", s.from)
		}
	}
}

func BenchmarkWords(b *testing.B) {
	s := "Tâche terminée: connection REFUSED by peer 10.0.0.1, Ça coûte 5€ — Ελληνικά Кириллица 日本語 done🤔later"
	b.SetBytes(int64(len(s)))
	b.ReportAllocs()
	for b.Loop() {
		words(s)
	}
}

// TestWordsAgreeWithFTS5 feeds every code point to SQLite's unicode61
// tokenizer, at the start of a word and inside one, and compares the words
// it indexes with words().
func TestWordsAgreeWithFTS5(t *testing.T) {
	if testing.Short() {
		t.Skip("slow: every code point")
	}
	db, err := sql.Open("sqlite3", ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	mustExec(t, db, `CREATE VIRTUAL TABLE t USING fts5(x, content='', tokenize='unicode61')`)
	mustExec(t, db, `CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')`)
	doc := func(r rune) string { return "q" + string(r) + "q " + string(r) + "q" }
	tx, err := db.Begin()
	if err != nil {
		t.Fatal(err)
	}
	st, err := tx.Prepare(`INSERT INTO t(rowid, x) VALUES(?, ?)`)
	if err != nil {
		t.Fatal(err)
	}
	for r := rune(1); r <= utf8.MaxRune; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		if _, err := st.Exec(r, doc(r)); err != nil {
			t.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(`SELECT doc, term FROM v ORDER BY doc, offset`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	got := map[rune][]string{}
	for rows.Next() {
		var r rune
		var term string
		if err := rows.Scan(&r, &term); err != nil {
			t.Fatal(err)
		}
		got[r] = append(got[r], term)
	}
	bad := 0
	for r := rune(1); r <= utf8.MaxRune; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		want := strings.Join(got[r], " ")
		if have := strings.Join(words(doc(r)), " "); have != want {
			if bad++; bad <= 20 {
				t.Errorf("U+%04X %q: words %q, fts5 %q", r, r, have, want)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d code points disagree", bad)
	}
}

func mustExec(t testing.TB, db *sql.DB, q string, args ...any) {
	t.Helper()
	if _, err := db.Exec(q, args...); err != nil {
		t.Fatal(fmt.Errorf("%s: %w", q, err))
	}
}
