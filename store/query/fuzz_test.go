package query

import (
	"strings"
	"testing"

	"vigie/record"
)

// FuzzParse checks that parsing never panics and that the canonical form
// parses back to itself; compiling and matching must not panic either.
func FuzzParse(f *testing.F) {
	for _, s := range append(append([]string{}, compileCases...), agreeQueries...) {
		f.Add(s)
	}
	for _, s := range []string{`"a\"b\\c\*"*`, `host:"x" OR (-a:"b*c")`, "a\\ b:c", "NOT-a", "x:y:z", "é:1", "-\"AND\""} {
		f.Add(s)
	}
	r := record.Record{Host: "erp1", App: "postgres", Message: "connection refused: Tâche terminée",
		Fields: map[string]string{"db": "Specibike", "duration_ms": "501"}}
	f.Fuzz(func(t *testing.T, s string) {
		q, err := Parse(s)
		if err != nil {
			if _, ok := err.(*Error); !ok {
				t.Fatalf("Parse(%q): error of type %T", s, err)
			}
			return
		}
		canon := q.String()
		q2, err := Parse(canon)
		if err != nil {
			t.Fatalf("Parse(%q) ok, but its String %q: %v", s, canon, err)
		}
		if got := q2.String(); got != canon {
			t.Fatalf("Parse(%q).String() = %q, reparsed %q", s, canon, got)
		}
		c := q.Compile()
		if n := strings.Count(c.Where, "?"); n != len(c.Args) {
			t.Fatalf("Parse(%q): %d placeholders, %d args", s, n, len(c.Args))
		}
		if q.Match(&r) != q2.Match(&r) {
			t.Fatalf("Parse(%q): Match differs after the round trip", s)
		}
	})
}
