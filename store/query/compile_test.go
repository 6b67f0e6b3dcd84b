package query

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/query")

// compileCases are shared by the golden test and the SQLite agreement test.
var compileCases = []string{
	"",
	"timeout",
	"Timeout*",
	`"connection refused"`,
	`"connection ref"*`,
	"terminé",
	"host:erp1",
	"host:erp1 timeout",
	"timeout host:erp1 refused",
	"(timeout OR refused) host:erp1",
	"timeout -refused",
	"-timeout",
	"-timeout -refused host:erp1",
	"timeout OR host:erp1",
	"(timeout OR host:erp1) (refused OR app:cron)",
	"host:erp1 (timeout -refused OR app:cron)",
	"host:erp1 (-timeout OR app:cron)",
	"NOT (timeout OR refused)",
	"NOT NOT timeout",
	"app:post*",
	"app:*gres",
	"app:p*s*s",
	`host:"a[b]?c*"`,
	`host:"a[b]?c*d"`,
	"-timeout -refused",
	`host:a\*b*`,
	"host:*",
	"app:posté*",
	"db:Specibike",
	`db:"My DB"`,
	"db:Spec*",
	"-db:Specibike",
	"db:*",
	`exampleSDID@32473.iut:3`,
	"severity:err",
	"severity<=warning",
	"-severity<=warning",
	"facility:local0",
	"duration_ms>500",
	"duration_ms<=1.5 OR duration_ms>=1e3",
	"-duration_ms>500",
	"procid:1234 msgid:ID47 source:*udp*",
	"message:user*",
	"Connection ORIGIN",
}

func TestCompileGolden(t *testing.T) {
	var b strings.Builder
	for _, s := range compileCases {
		q, err := Parse(s)
		if err != nil {
			t.Fatalf("Parse(%q): %v", s, err)
		}
		c := q.Compile()
		fmt.Fprintf(&b, "query: %s\nmatch: %s\nwhere: %s\nargs:  %s\n\n", s, c.Match, c.Where, fmtArgs(c.Args))
		if n := strings.Count(c.Where, "?"); n != len(c.Args) {
			t.Errorf("%q: %d placeholders, %d args", s, n, len(c.Args))
		}
	}
	golden := filepath.Join("..", "..", "testdata", "query", "compile.golden")
	if *update {
		if err := os.WriteFile(golden, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got := b.String(); got != string(want) {
		t.Errorf("compile output differs from %s (run with -update and review the diff):\n%s", golden, got)
	}
}

func fmtArgs(args []any) string {
	parts := make([]string, len(args))
	for i, a := range args {
		parts[i] = fmt.Sprintf("%#v", a)
	}
	return "[" + strings.Join(parts, ", ") + "]"
}
