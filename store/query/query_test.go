package query

import (
	"errors"
	"strings"
	"testing"
)

func TestParseString(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", ""},
		{"   ", ""},
		{"timeout", "timeout"},
		{"Timeout*", "Timeout*"},
		{`"connection refused"`, `"connection refused"`},
		{`"connection ref"*`, `"connection ref"*`},
		{`"connection ref*"`, `"connection ref"*`},
		{"host:erp1", "host:erp1"},
		{"host:erp1 timeout", "host:erp1 AND timeout"},
		{"host:erp1 AND timeout", "host:erp1 AND timeout"},
		{"a b OR c", "a AND b OR c"},
		{"a (b OR c)", "a AND (b OR c)"},
		{"(a OR b) (c OR d)", "(a OR b) AND (c OR d)"},
		{"((a))", "a"},
		{"a AND (b AND c)", "a AND b AND c"},
		{"a OR (b OR c)", "a OR b OR c"},
		{"-a", "NOT a"},
		{"-host:x", "NOT host:x"},
		{"NOT a b", "NOT a AND b"},
		{"NOT (a b)", "NOT (a AND b)"},
		{"-(a OR b)", "NOT (a OR b)"},
		{"--a", "NOT NOT a"},
		{"a OR NOT b c", "a OR NOT b AND c"},
		{"app:post*", "app:post*"},
		{"app:*gres*", "app:*gres*"},
		{"app:a**b", "app:a*b"},
		{"host:*", "host:*"},
		{`host:"a b"`, `host:"a b"`},
		{`host:"a b*"`, `host:"a b*"`},
		{`host:a\ b`, `host:"a b"`},
		{`host:"a\*b"`, `host:"a\*b"`},
		{`host:a\*b`, `host:"a\*b"`},
		{`host:""`, `host:""`},
		{`host:a:b`, `host:a:b`},
		{`host:-x`, `host:-x`},
		{`db:Specibike`, `db:Specibike`},
		{`db:"My DB"`, `db:"My DB"`},
		{`exampleSDID@32473.iut:3`, `exampleSDID@32473.iut:3`},
		{"severity:err", "severity:err"},
		{"severity:error", "severity:err"},
		{"severity:3", "severity:err"},
		{"severity=3", "severity:err"},
		{"severity:WARN", "severity:warning"},
		{"severity<=warning", "severity<=warning"},
		{"severity>info", "severity>info"},
		{"facility:local0", "facility:local0"},
		{"facility>=16", "facility>=local0"},
		{"duration_ms>500", "duration_ms>500"},
		{"duration_ms>=500.50", "duration_ms>=500.5"},
		{"x<-1e3", "x<-1000"},
		{"x=.5", "x=0.5"},
		{"message:timeout", "timeout"},
		{`message:"a b"`, `"a b"`},
		{`"AND"`, `"AND"`},
		{"and or not", "and AND or AND not"},
		{`"host:x"`, `"host:x"`},
		{`"-x"`, `"-x"`},
		{`"a\"b"`, `"a\"b"`},
		{`terminé`, `terminé`},
		{"foo.bar", "foo.bar"},
		{"12:30", "12:30"},
		{"a\tb\nc", "a AND b AND c"},
		{"(a)(b)", "a AND b"},
		{"a -b", "a AND NOT b"},
	}
	for _, tt := range tests {
		q, err := Parse(tt.in)
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.in, err)
			continue
		}
		if got := q.String(); got != tt.want {
			t.Errorf("Parse(%q).String() = %q, want %q", tt.in, got, tt.want)
			continue
		}
		q2, err := Parse(q.String())
		if err != nil || q2.String() != tt.want {
			t.Errorf("reparse of %q: %v, %v", tt.want, q2, err)
		}
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in  string
		col int
		msg string
	}{
		{"(a", 1, "unbalanced parenthesis: ( never closed"},
		{"a (b (c)", 3, "unbalanced parenthesis: ( never closed"},
		{"a)", 2, "unbalanced parenthesis: ) without ("},
		{")", 1, "unbalanced parenthesis: ) without ("},
		{"()", 1, "empty parentheses"},
		{"host:", 6, "empty value after host:"},
		{"a host: b", 8, "empty value after host:"},
		{"db:", 4, "empty value after db:"},
		{"x>", 3, "empty value after x>"},
		{"severity:bogus", 10, `unknown severity "bogus" (want emerg..debug or 0-7)`},
		{"severity<=8", 11, `unknown severity "8" (want emerg..debug or 0-7)`},
		{"facility:local9", 10, `unknown facility "local9" (want kern, user, ..., local7 or 0-23)`},
		{"severity:err*", 10, "severity takes no wildcard"},
		{"duration_ms>abc", 13, `> needs a number, not "abc"`},
		{"duration_ms>=0x10", 14, `>= needs a number, not "0x10"`},
		{"x<inf", 3, `< needs a number, not "inf"`},
		{"x=5*", 3, `= needs a number, not "5*"`},
		{"x>1e999", 3, "number 1e999 out of range"},
		{"host>5", 1, "host is text: use host:value"},
		{"message<5", 1, "message is searched as text: use message:word"},
		{"a OR", 3, "dangling OR: no term after it"},
		{"a OR )", 3, "dangling OR: no term after it"},
		{"OR a", 1, "OR without a term before it"},
		{"a AND", 3, "dangling AND: no term after it"},
		{"AND a", 1, "AND without a term before it"},
		{"a OR OR b", 3, "dangling OR: no term after it"},
		{"NOT", 1, "dangling NOT: no term after it"},
		{"a NOT", 3, "dangling NOT: no term after it"},
		{"a -", 3, "- must be followed by the term it negates"},
		{"-)", 1, "- must be followed by the term it negates"},
		{`"abc`, 1, "unterminated quote"},
		{`a "b\`, 3, "unterminated quote"},
		{`"ab"c`, 5, "expected a space or a parenthesis after the closing quote"},
		{`host:a"b"`, 7, `unexpected " inside a word; quote the whole value`},
		{`a\`, 2, `nothing to escape after \`},
		{"...", 1, "nothing to search: no letter or digit"},
		{"*", 1, "nothing to search: no letter or digit"},
		{`""`, 1, "nothing to search: no letter or digit"},
		{"message:", 9, "empty value after message:"},
		{"fo*o", 1, "full-text search takes * only at the end of a word"},
		{"*foo", 1, "full-text search takes * only at the end of a word"},
		{"é a\x01", 4, "control character U+0001"},
		{"é \xff", 3, "invalid UTF-8"},
		{strings.Repeat("(", 33) + "a" + strings.Repeat(")", 33), 33, "nested deeper than 32 levels"},
		{strings.Repeat("-", 33) + "a", 33, "nested deeper than 32 levels"},
		{strings.Repeat("NOT ", 33) + "a", 129, "nested deeper than 32 levels"},
		{strings.Repeat("é", MaxLength/2) + "a", MaxLength/2 + 1, "query longer than 4096 bytes"},
		{strings.Repeat("a ", 2000), 1, "query longer than 4096 bytes once written in canonical form (11995)"},
	}
	for _, tt := range tests {
		_, err := Parse(tt.in)
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("Parse(%.40q) = %v, want an *Error", tt.in, err)
			continue
		}
		if e.Col != tt.col || e.Msg != tt.msg {
			t.Errorf("Parse(%.40q): column %d: %s\n\twant column %d: %s", tt.in, e.Col, e.Msg, tt.col, tt.msg)
		}
	}
	if got := (&Error{Col: 3, Msg: "x"}).Error(); got != "column 3: x" {
		t.Errorf("Error() = %q", got)
	}
}

func TestLimitsAccepted(t *testing.T) {
	deep := strings.Repeat("(", 32) + "a" + strings.Repeat(")", 32)
	if _, err := Parse(deep); err != nil {
		t.Errorf("32 levels: %v", err)
	}
	long := `"` + strings.Repeat("ab ", (MaxLength-2)/3) + `"` // its canonical form is itself
	if _, err := Parse(long); err != nil {
		t.Errorf("%d bytes: %v", len(long), err)
	}
}
