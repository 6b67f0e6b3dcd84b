// Package config loads vigie's YAML configuration: strict keys, ${ENV}
// expansion, defaults, and errors that name file:line and the field.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"reflect"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Error is a configuration mistake at a place in a file.
type Error struct {
	File  string
	Line  int
	Field string // dotted path: syslog.tls.cert_file
	Msg   string
}

func (e *Error) Error() string {
	loc := e.File
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", e.File, e.Line)
	}
	if e.Field != "" {
		return fmt.Sprintf("%s: %s: %s", loc, e.Field, e.Msg)
	}
	return fmt.Sprintf("%s: %s", loc, e.Msg)
}

// Errors is every mistake found in one file, so a user fixes them in one go.
type Errors []*Error

func (es Errors) Error() string {
	s := make([]string, len(es))
	for i, e := range es {
		s[i] = e.Error()
	}
	return strings.Join(s, "\n")
}

var envRef = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)

// decodeFile decodes YAML into out. ${NAME} in scalar values is replaced by
// the environment variable (an unset one is an error, not a silent empty
// string); keys unknown to out's type are errors naming their line.
// Lines maps a field path (syslog.tls.addr, auth.users[0].name) to the line
// it was written on, so validation after decoding can still name the line.
type Lines map[string]int

// lineOf is the line of a field, or of its nearest parent written in the
// file (a missing key is reported where its parent is).
func (l Lines) lineOf(field string) int {
	for field != "" {
		if n, ok := l[field]; ok {
			return n
		}
		i := strings.LastIndexAny(field, ".[")
		if i < 0 {
			return 0
		}
		field = field[:i]
	}
	return 0
}

func decodeFile(file string, data []byte, out any, lines Lines) error {
	var root yaml.Node
	dec := yaml.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&root); err != nil {
		if err.Error() == "EOF" {
			return nil // empty file: all defaults
		}
		return &Error{File: file, Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	}
	var errs Errors
	expandEnv(file, &root, &errs)
	checkKnown(file, &root, reflect.TypeOf(out), "", &errs, lines)
	if len(errs) > 0 {
		return errs
	}
	if err := root.Decode(out); err != nil {
		return wrapDecodeErr(file, err)
	}
	return nil
}

func wrapDecodeErr(file string, err error) error {
	var te *yaml.TypeError
	if errors.As(err, &te) {
		var es Errors
		for _, m := range te.Errors {
			es = append(es, lineError(file, m))
		}
		return es
	}
	var ce *Error
	if errors.As(err, &ce) {
		ce.File = file
		return ce
	}
	return lineError(file, err.Error())
}

// lineError turns yaml's "line 3: msg" into an Error.
func lineError(file, msg string) *Error {
	msg = strings.TrimPrefix(msg, "yaml: ")
	var line int
	if n, _ := fmt.Sscanf(msg, "line %d:", &line); n == 1 {
		msg = strings.TrimSpace(msg[strings.Index(msg, ":")+1:])
	}
	return &Error{File: file, Line: line, Msg: msg}
}

func expandEnv(file string, n *yaml.Node, errs *Errors) {
	if n.Kind == yaml.ScalarNode && strings.Contains(n.Value, "${") {
		n.Value = envRef.ReplaceAllStringFunc(n.Value, func(ref string) string {
			name := ref[2 : len(ref)-1]
			v, ok := os.LookupEnv(name)
			if !ok {
				*errs = append(*errs, &Error{File: file, Line: n.Line, Msg: "environment variable " + name + " is not set"})
			}
			return v
		})
	}
	for _, c := range n.Content {
		expandEnv(file, c, errs)
	}
}

// checkKnown walks the document beside the Go type and reports every mapping
// key that no field takes. yaml's own KnownFields cannot be used: it works on
// text, and the text must be decoded after ${ENV} expansion.
func checkKnown(file string, n *yaml.Node, t reflect.Type, path string, errs *Errors, lines Lines) {
	if path != "" && lines != nil {
		lines[path] = n.Line
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if n.Kind == yaml.DocumentNode {
		for _, c := range n.Content {
			checkKnown(file, c, t, path, errs, lines)
		}
		return
	}
	if reflect.PointerTo(t).Implements(reflect.TypeFor[yaml.Unmarshaler]()) && t.Kind() != reflect.Struct {
		return // a leaf type that decodes itself (Size, Duration)
	}
	if t == reflect.TypeFor[yaml.Node]() {
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			return // the decoder reports the type mismatch
		}
		fields := yamlFields(t)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			ft, ok := fields[k.Value]
			if !ok {
				*errs = append(*errs, &Error{File: file, Line: k.Line, Field: join(path, k.Value), Msg: "unknown key" + suggest(k.Value, fields)})
				continue
			}
			checkKnown(file, v, ft, join(path, k.Value), errs, lines)
		}
	case reflect.Slice:
		if n.Kind == yaml.SequenceNode {
			for i, c := range n.Content {
				checkKnown(file, c, t.Elem(), fmt.Sprintf("%s[%d]", path, i), errs, lines)
			}
		}
	case reflect.Map:
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				checkKnown(file, n.Content[i+1], t.Elem(), join(path, n.Content[i].Value), errs, lines)
			}
		}
	}
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

// yamlFields maps the YAML keys of a struct (inline fields included) to types.
func yamlFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("yaml")
		name, opts, _ := strings.Cut(tag, ",")
		if name == "-" || !f.IsExported() {
			continue
		}
		if strings.Contains(opts, "inline") {
			for k, v := range yamlFields(f.Type) {
				out[k] = v
			}
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		out[name] = f.Type
	}
	return out
}

func suggest(key string, fields map[string]reflect.Type) string {
	best, bestD := "", 3
	for k := range fields {
		// Ties go to the alphabetically first, so the hint is stable.
		if d := distance(key, k); d < bestD || (d == bestD && k < best) {
			best, bestD = k, d
		}
	}
	if best != "" {
		return " (did you mean " + best + "?)"
	}
	return ""
}

// distance is the edit distance counting a swap of two neighbours as one
// edit (tpc → tcp), for "did you mean".
func distance(a, b string) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				d[i][j] = min(d[i][j], d[i-2][j-2]+1)
			}
		}
	}
	return d[len(a)][len(b)]
}
