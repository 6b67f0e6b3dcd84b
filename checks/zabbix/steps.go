package zabbix

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"time"

	"vigie/cmd/config"
)

// step converts step i of a scenario; false skips the whole scenario (a
// note says why), since a scenario missing a step tests something else.
func (s *scen) step(i int, st *node) (config.Step, time.Duration, bool) {
	at := fmt.Sprintf("step %d", i+1)
	out := config.Step{Name: st.text("name")}
	timeout, _ := zabbixDuration(defaultStepTimeout)
	if st.kind != mapNode {
		s.c.notes.add(s.check, "%s is not a step: scenario skipped", at)
		return out, timeout, false
	}
	for _, k := range st.keys {
		if !stepKeys[k] {
			s.c.notes.add(s.check, "%s field %s is not carried", at, k)
		}
	}
	raw := strings.TrimSpace(st.text("url"))
	if raw == "" {
		s.c.notes.add(s.check, "%s has no URL: scenario skipped", at)
		return out, timeout, false
	}
	u := s.conv(at+" url", raw, expand)
	if !strings.Contains(u, "://") && !strings.HasPrefix(u, "{") {
		u = "http://" + u // curl's guess, which Zabbix relies on
	}
	if !strings.Contains(u, "{") {
		if pu, err := url.Parse(u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			s.c.notes.add(s.check, "%s url %q is not an http(s) URL: scenario skipped", at, raw)
			return out, timeout, false
		}
	}
	out.URL = u
	out.Query = s.pairs(at+" query field", st.items("query_fields"), expand, expand)
	s.posts(at, st, &out)
	for _, v := range st.items("variables") {
		name, ok := s.zvars[braceless(v.text("name"))]
		if !ok {
			continue
		}
		if val, ok := s.capture(at, name, v.text("value")); ok {
			out.Variables = append(out.Variables, config.Pair{Key: name, Value: val})
		}
	}
	out.Headers = s.pairs(at+" header", st.items("headers"), literal, expand)
	out.FollowRedirects = true
	if f, ok := st.str("follow_redirects"); ok {
		out.FollowRedirects = yes(f, true)
	}
	switch m := strings.ToUpper(st.text("retrieve_mode")); m {
	case "", "BODY", "0":
	case "HEADERS", "1":
		out.RetrieveMode = "headers"
	case "BOTH", "2":
		out.RetrieveMode = "both"
	default:
		s.c.notes.add(s.check, "%s retrieve_mode %q is not known: body used", at, m)
	}
	timeout = s.duration(at+" timeout", st, "timeout", defaultStepTimeout, time.Second, time.Hour)
	if req := st.text("required"); req != "" {
		out.Required = s.pattern(at+" required", req)
	}
	if codes := st.text("status_codes"); codes != "" {
		v := s.conv(at+" status_codes", codes, literal)
		sc, err := config.ParseStatusCodes(v)
		if err != nil {
			s.c.notes.add(s.check, "%s status_codes: %v: dropped (any code passes)", at, err)
		}
		out.StatusCodes = sc
	}
	return out, timeout, true
}

// posts are form fields (a list in the export) or a raw body (a string);
// a raw body marked post_type FORM is split into fields.
func (s *scen) posts(at string, st *node, out *config.Step) {
	p := st.get("posts")
	switch {
	case p == nil:
	case p.kind != scalarNode:
		out.Posts = s.pairs(at+" post field", st.items("posts"), expand, expand)
	case p.value == "":
	case isForm(st.text("post_type")):
		for part := range strings.SplitSeq(p.value, "&") {
			k, v, _ := strings.Cut(part, "=")
			if uk, err := url.QueryUnescape(k); err == nil {
				k = uk
			}
			if uv, err := url.QueryUnescape(v); err == nil {
				v = uv
			}
			if k != "" {
				field := fmt.Sprintf("%s post field %q", at, k)
				out.Posts = append(out.Posts, config.Pair{Key: s.conv(field, k, expand), Value: s.conv(field, v, expand)})
			}
		}
	default:
		out.Body = s.conv(at+" posts", p.value, expand)
	}
}

func isForm(postType string) bool {
	t := strings.ToUpper(strings.TrimSpace(postType))
	return t == "FORM" || t == "2"
}

// capture converts a step variable: regex: as it is (vigie takes the first
// group too), jsondata: to vigie's json: path, anything else a literal.
func (s *scen) capture(at, name, raw string) (string, bool) {
	field := at + " variable " + name
	switch {
	case strings.HasPrefix(raw, "regex:"):
		expr := s.conv(field, strings.TrimPrefix(raw, "regex:"), literal)
		re, err := regexp.Compile(expr)
		if err != nil {
			s.c.notes.add(s.check, "%s: %s is not a regular expression vigie (RE2) reads (%v): dropped", field, expr, reErr(err))
			return "", false
		}
		if re.NumSubexp() == 0 {
			expr = "(" + expr + ")" // Zabbix then takes the whole match
		}
		return "regex:" + expr, true
	case strings.HasPrefix(raw, "jsondata:"):
		path, ok := jsonPath(strings.TrimSpace(strings.TrimPrefix(raw, "jsondata:")))
		if !ok {
			s.c.notes.add(s.check, "%s: JSONPath %s needs more than vigie's dotted paths (a.b[0].c): dropped", field, strings.TrimPrefix(raw, "jsondata:"))
			return "", false
		}
		return "json:" + path, true
	case strings.HasPrefix(raw, "xmldata:"):
		s.c.notes.add(s.check, "%s: XPath captures (xmldata:) have no vigie equivalent: dropped", field)
		return "", false
	}
	return s.conv(field, raw, expand), true
}

// jsonPath turns a JSONPath of keys and indexes ($.result.token,
// $['data'][0].id) into vigie's form (result.token, data[0].id); filters,
// wildcards and deep scans have no equivalent.
func jsonPath(p string) (string, bool) {
	p = strings.TrimPrefix(p, "$")
	var b strings.Builder
	for p != "" {
		switch {
		case strings.HasPrefix(p, ".."):
			return "", false
		case p[0] == '.':
			p = p[1:]
			end := strings.IndexAny(p, ".[")
			if end < 0 {
				end = len(p)
			}
			key := p[:end]
			if key == "" || strings.ContainsAny(key, "*?@()") {
				return "", false
			}
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(key)
			p = p[end:]
		case p[0] == '[':
			end := strings.IndexByte(p, ']')
			if end < 0 {
				return "", false
			}
			in := p[1:end]
			p = p[end+1:]
			if q := strings.Trim(in, `'"`); len(q) == len(in)-2 && q != "" && !strings.ContainsAny(q, ".[]") {
				if b.Len() > 0 {
					b.WriteByte('.')
				}
				b.WriteString(q)
				continue
			}
			if in == "" || strings.Trim(in, "0123456789") != "" {
				return "", false
			}
			b.WriteString("[" + in + "]")
		default:
			if b.Len() > 0 {
				return "", false
			}
			p = "." + p // a path written without $.
		}
	}
	return b.String(), b.Len() > 0
}

// pattern converts a required string: Zabbix reads PCRE, vigie RE2; one
// RE2 cannot read is dropped with a note rather than failing the load.
func (s *scen) pattern(field, raw string) string {
	expr := s.conv(field, raw, literal)
	if _, err := regexp.Compile(expr); err != nil {
		s.c.notes.add(s.check, "%s %s is not a regular expression vigie (RE2) reads (%v): dropped, rewrite it", field, expr, reErr(err))
		return ""
	}
	return expr
}

// reErr is the regexp error without its repeated "error parsing regexp:".
func reErr(err error) string {
	return strings.TrimPrefix(err.Error(), "error parsing regexp: ")
}
