package checks

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"vigie/cmd/config"
)

// vars holds a scenario run's variables: the check's, then those captured
// by its steps (a later value replaces an earlier one of the same name).
type vars map[string]string

// maxVarValue bounds a captured value so a runaway regex or JSON node cannot
// grow every later request.
const maxVarValue = 64 << 10

// expand replaces each {name} whose name is a known variable by its value.
// An unknown {name} is left as written, as Zabbix leaves an unknown macro:
// JSON bodies and URLs with literal braces pass through untouched. The
// expansion is a single pass: a value that itself contains {x} is not
// expanded again, so a captured token cannot inject a variable.
func (v vars) expand(s string) string {
	if !strings.Contains(s, "{") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i])
		s = s[i:]
		// The name ends at the next brace of either kind: "{{base}" expands
		// its inner {base}, and a run of "{" costs one scan, not one each.
		j := strings.IndexAny(s[1:], "{}") + 1
		if j == 0 {
			b.WriteString(s)
			return b.String()
		}
		if s[j] == '}' {
			name := s[1:j]
			if val, ok := v[name]; ok && isVarName(name) {
				b.WriteString(val)
				s = s[j+1:]
				continue
			}
		}
		// Not a variable: keep the text up to the next brace as written.
		b.WriteString(s[:j])
		s = s[j:]
	}
}

func isVarName(s string) bool {
	if s == "" {
		return false
	}
	for i, c := range s {
		switch {
		case c == '_', c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z':
		case c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return true
}

// checkVars are the check-level variables; each may use the ones before it
// ({base}/web in a later variable).
func checkVars(c *config.Check) vars {
	v := vars{}
	for _, p := range c.Variables {
		v[p.Key] = v.expand(p.Value)
	}
	return v
}

// response is what a step's variables and patterns are taken from.
type response struct {
	header    http.Header
	body      []byte
	retrieved string // the part retrieve_mode names
	cut       bool   // the body was longer than the read limit
}

// capture sets the step's variables from its response, in the order written.
func (v vars) capture(step *config.Step, r *response) error {
	for _, p := range step.Variables {
		val, err := v.captureOne(p.Value, r)
		if err != nil {
			return fmt.Errorf("variable %s: %w", p.Key, err)
		}
		if len(val) > maxVarValue {
			return fmt.Errorf("variable %s: captured value is %s, more than the %s allowed", p.Key, humanBytes(int64(len(val))), humanBytes(maxVarValue))
		}
		v[p.Key] = val
	}
	return nil
}

func (v vars) captureOne(spec string, r *response) (string, error) {
	switch {
	case strings.HasPrefix(spec, "regex:"):
		expr := strings.TrimPrefix(spec, "regex:")
		re, err := regexp.Compile(expr)
		if err != nil {
			return "", fmt.Errorf("bad regular expression %q: %v", expr, err)
		}
		m := re.FindStringSubmatch(r.retrieved)
		if m == nil {
			return "", fmt.Errorf("pattern %s did not match%s", expr, cutNote(r))
		}
		if len(m) < 2 {
			return "", fmt.Errorf("pattern %s has no group ( ) to capture", expr)
		}
		return m[1], nil
	case strings.HasPrefix(spec, "json:"):
		path := strings.TrimPrefix(spec, "json:")
		var doc any
		if err := json.Unmarshal(r.body, &doc); err != nil {
			return "", fmt.Errorf("json:%s: the body is not JSON (%v)%s", path, err, cutNote(r))
		}
		return jsonPath(doc, path)
	case strings.HasPrefix(spec, "header:"):
		name := strings.TrimSpace(strings.TrimPrefix(spec, "header:"))
		vals := r.header.Values(name)
		if len(vals) == 0 {
			return "", fmt.Errorf("the response has no %s header", http.CanonicalHeaderKey(name))
		}
		return vals[0], nil
	}
	return v.expand(spec), nil
}

func cutNote(r *response) string {
	if r.cut {
		return fmt.Sprintf(" (body cut at %s)", humanBytes(maxBody))
	}
	return ""
}

// jsonPath walks a dotted path with [n] indexes (result.token,
// items[0].id, [2], a.b[1][0]) and returns the value as text: strings as
// they are, numbers and booleans as written in JSON, objects and arrays as
// compact JSON.
func jsonPath(doc any, path string) (string, error) {
	steps, err := parseJSONPath(path)
	if err != nil {
		return "", err
	}
	cur := doc
	for i, s := range steps {
		where := "the top level"
		if i > 0 {
			where = formatJSONPath(steps[:i])
		}
		if !s.isIndex {
			obj, ok := cur.(map[string]any)
			if !ok {
				return "", fmt.Errorf("json:%s: %s is %s, not an object", path, where, jsonKind(cur))
			}
			next, ok := obj[s.key]
			if !ok {
				return "", fmt.Errorf("json:%s: no key %q in %s", path, s.key, where)
			}
			cur = next
			continue
		}
		arr, ok := cur.([]any)
		if !ok {
			return "", fmt.Errorf("json:%s: %s is %s, not an array", path, where, jsonKind(cur))
		}
		if s.index >= len(arr) {
			return "", fmt.Errorf("json:%s: index %d is past the end of %s (%d elements)", path, s.index, where, len(arr))
		}
		cur = arr[s.index]
	}
	switch x := cur.(type) {
	case string:
		return x, nil
	case nil:
		return "", fmt.Errorf("json:%s: the value is null", path)
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case bool:
		return strconv.FormatBool(x), nil
	}
	b, err := json.Marshal(cur)
	return string(b), err
}

type pathStep struct {
	key     string
	index   int
	isIndex bool
}

// maxPathSteps bounds a path; real ones have a handful of parts.
const maxPathSteps = 64

func parseJSONPath(path string) ([]pathStep, error) {
	if path == "" {
		return nil, fmt.Errorf("json: empty path (example: json:result.token)")
	}
	var steps []pathStep
	s := path
	for s != "" {
		if len(steps) >= maxPathSteps {
			return nil, fmt.Errorf("json:%s: more than %d parts", path, maxPathSteps)
		}
		switch s[0] {
		case '[':
			end := strings.IndexByte(s, ']')
			if end < 0 {
				return nil, fmt.Errorf("json:%s: [ without ]", path)
			}
			n, err := strconv.Atoi(s[1:end])
			if err != nil || n < 0 || s[1] == '+' {
				return nil, fmt.Errorf("json:%s: %q is not an index (use [0], [1]...)", path, s[1:end])
			}
			steps = append(steps, pathStep{index: n, isIndex: true})
			s = s[end+1:]
			if s != "" && s[0] == '.' {
				s = s[1:]
				if s == "" || s[0] == '.' || s[0] == '[' {
					return nil, fmt.Errorf("json:%s: a key is missing after a dot", path)
				}
			}
		case '.':
			return nil, fmt.Errorf("json:%s: a key is missing before a dot", path)
		default:
			end := strings.IndexAny(s, ".[")
			if end < 0 {
				end = len(s)
			}
			steps = append(steps, pathStep{key: s[:end]})
			s = s[end:]
			if s != "" && s[0] == '.' {
				s = s[1:]
				if s == "" || s[0] == '.' || s[0] == '[' {
					return nil, fmt.Errorf("json:%s: a key is missing after a dot", path)
				}
			}
		}
	}
	return steps, nil
}

func formatJSONPath(steps []pathStep) string {
	var b strings.Builder
	for _, s := range steps {
		if s.isIndex {
			fmt.Fprintf(&b, "[%d]", s.index)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(s.key)
	}
	return b.String()
}

func jsonKind(v any) string {
	switch v.(type) {
	case map[string]any:
		return "an object"
	case []any:
		return "an array"
	case string:
		return "a string"
	case float64:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// humanBytes writes a byte count the way the errors show it: 512 B, 5.1 KiB.
func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}
