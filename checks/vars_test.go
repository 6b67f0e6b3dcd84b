package checks

import (
	"encoding/json"
	"strings"
	"testing"

	"vigie/cmd/config"
)

func TestExpand(t *testing.T) {
	v := vars{"base": "http://erp.lan:8069", "user": "admin", "x": "{user}", "_a1": "ok"}
	tests := []struct{ in, want string }{
		{"{base}/web/login", "http://erp.lan:8069/web/login"},
		{"{user}:{user}", "admin:admin"},
		{"{unknown} stays", "{unknown} stays"},
		{`{"login": "{user}"}`, `{"login": "admin"}`},
		{"{{base}}", "{http://erp.lan:8069}"},
		{"{x}", "{user}"}, // values are not expanded again
		{"{_a1}{", "ok{"},
		{"no braces", "no braces"},
		{"{}", "{}"},
		{"{ user }", "{ user }"},
		{"{$MACRO}", "{$MACRO}"},
	}
	for _, tc := range tests {
		if got := v.expand(tc.in); got != tc.want {
			t.Errorf("expand(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCheckVarsUseEarlierOnes(t *testing.T) {
	c := &config.Check{Variables: config.Pairs{{Key: "base", Value: "http://erp"}, {Key: "login", Value: "{base}/web/login"}, {Key: "early", Value: "{late}"}, {Key: "late", Value: "x"}}}
	v := checkVars(c)
	if v["login"] != "http://erp/web/login" || v["early"] != "{late}" {
		t.Errorf("%v", v)
	}
}

func FuzzExpand(f *testing.F) {
	f.Add("{base}/web/login?db={db}", "base", "http://x")
	f.Add("{{a}}{", "a", "{a}")
	f.Fuzz(func(t *testing.T, s, name, val string) {
		v := vars{name: val}
		got := v.expand(s)
		if !strings.Contains(s, "{") && got != s {
			t.Fatalf("%q changed without braces: %q", s, got)
		}
		if got2 := (vars{}).expand(s); got2 != s {
			t.Fatalf("no variables changed %q into %q", s, got2)
		}
		// With a value that has no braces, every {name} is gone after one pass.
		if isVarName(name) && !strings.ContainsAny(val, "{}") && strings.Contains(got, "{"+name+"}") {
			t.Fatalf("%q: {%s} left in %q", s, name, got)
		}
	})
}

func TestJSONPath(t *testing.T) {
	var doc any
	json.Unmarshal([]byte(`{"result": {"token": "abc", "uid": 2, "ok": true, "ratio": 0.5, "big": 12345678901234},
		"items": [{"id": 7, "tags": ["a", "b"]}], "nested": {"a": {"b": [[1, 2], [3]]}}, "nul": null, "obj": {"k": "v"}}`), &doc)
	tests := []struct{ path, want, err string }{
		{path: "result.token", want: "abc"},
		{path: "result.uid", want: "2"},
		{path: "result.ok", want: "true"},
		{path: "result.ratio", want: "0.5"},
		{path: "result.big", want: "12345678901234"},
		{path: "items[0].id", want: "7"},
		{path: "items[0].tags[1]", want: "b"},
		{path: "nested.a.b[1][0]", want: "3"},
		{path: "obj", want: `{"k":"v"}`},
		{path: "items[0].tags", want: `["a","b"]`},
		{path: "nul", err: "json:nul: the value is null"},
		{path: "items[1]", err: "json:items[1]: index 1 is past the end of items (1 elements)"},
		{path: "result.token.x", err: "json:result.token.x: result.token is a string, not an object"},
		{path: "[0]", err: "json:[0]: the top level is an object, not an array"},
		{path: "missing", err: `json:missing: no key "missing" in the top level`},
		{path: "a..b", err: "json:a..b: a key is missing after a dot"},
		{path: "a[x]", err: `json:a[x]: "x" is not an index (use [0], [1]...)`},
		{path: "a[1", err: "json:a[1: [ without ]"},
		{path: "", err: "json: empty path (example: json:result.token)"},
	}
	for _, tc := range tests {
		got, err := jsonPath(doc, tc.path)
		if tc.err != "" {
			if err == nil || err.Error() != tc.err {
				t.Errorf("%q: error %v, want %q", tc.path, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("%q = %q, %v; want %q", tc.path, got, err, tc.want)
		}
	}
}

func FuzzJSONPath(f *testing.F) {
	f.Add("result.token", `{"result": {"token": "x"}}`)
	f.Add("items[0].id", `{"items": [{"id": 1}]}`)
	f.Add("[1][0]", `[[0], [1]]`)
	f.Fuzz(func(t *testing.T, path, body string) {
		steps, err := parseJSONPath(path)
		if err != nil {
			return
		}
		// A parsed path writes back to one that parses to the same steps.
		again, err := parseJSONPath(formatJSONPath(steps))
		if err != nil || len(again) != len(steps) {
			t.Fatalf("%q → %q: %v", path, formatJSONPath(steps), err)
		}
		for i := range steps {
			if again[i] != steps[i] {
				t.Fatalf("%q → %q: step %d %+v became %+v", path, formatJSONPath(steps), i, steps[i], again[i])
			}
		}
		var doc any
		if json.Unmarshal([]byte(body), &doc) == nil {
			jsonPath(doc, path) // must not panic
		}
	})
}
