package config

import (
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Check defaults, applied by validation.
const (
	DefaultCheckInterval = time.Minute
	DefaultCheckTimeout  = 10 * time.Second
	DefaultPingCount     = 3
	DefaultBackupLogTail = 20
)

// CheckTypes are the probe types a check may have.
var CheckTypes = []string{"scenario", "tcp", "tls", "ping", "backup", "dns"}

var checkName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$`)

// validateChecks applies defaults and reports every mistake in `checks:`.
func (c *Server) validateChecks(bad func(n *yaml.Node, field, format string, a ...any)) {
	seen := map[string]bool{}
	for i := range c.Checks {
		ch := &c.Checks[i]
		f := func(key string) string { return fmt.Sprintf("checks[%d].%s", i, key) }
		if !checkName.MatchString(ch.Name) {
			bad(nil, f("name"), "%q: names are 1-100 letters, digits, '.', '_' or '-' (used in URLs and metrics)", ch.Name)
		} else if seen[ch.Name] {
			bad(nil, f("name"), "%q is used twice", ch.Name)
		}
		seen[ch.Name] = true
		if ch.Interval == 0 {
			ch.Interval = Duration(DefaultCheckInterval)
		}
		if ch.Interval < Duration(time.Second) {
			bad(nil, f("interval"), "must be at least 1s")
		}
		if ch.Timeout == 0 {
			ch.Timeout = Duration(DefaultCheckTimeout)
		}
		if ch.Attempts == 0 {
			ch.Attempts = 1
		}
		if ch.Attempts < 1 || ch.Attempts > 10 {
			bad(nil, f("attempts"), "must be between 1 and 10")
		}
		if s := ch.SLA; s != nil && (s.Target <= 0 || s.Target > 100) {
			bad(nil, f("sla.target"), "must be a percentage above 0 and at most 100 (example: 99.5)")
		}
		for _, v := range ch.Variables {
			if !varName.MatchString(v.Key) {
				bad(nil, f("variables."+v.Key), "variable names are letters, digits and _ (used as {name})")
			}
		}
		mustRegex := func(key, expr string) {
			if _, err := regexp.Compile(expr); err != nil {
				bad(nil, f(key), "bad regular expression: %v", err)
			}
		}
		mustAddr := func(key, addr string) {
			if addr == "" {
				bad(nil, f(key), "is required for type %s", ch.Type)
			} else if _, _, err := net.SplitHostPort(addr); err != nil {
				bad(nil, f(key), "%q is not host:port", addr)
			}
		}
		// scenario, tcp with tls and tls present client_cert.
		if cc := ch.ClientCert; cc != nil && (cc.CertFile == "" || cc.KeyFile == "") {
			bad(nil, f("client_cert"), "cert_file and key_file go together")
		}
		switch ch.Type {
		case "scenario":
			if len(ch.Steps) == 0 {
				bad(nil, f("steps"), "a scenario needs at least one step")
			}
			if a := ch.Auth; a != nil && a.Type != "basic" && a.Type != "digest" {
				bad(nil, f("auth.type"), "%q: must be basic or digest", a.Type)
			}
			if ch.HTTPProxy != "" {
				if u, err := url.Parse(ch.HTTPProxy); err != nil || u.Host == "" {
					bad(nil, f("http_proxy"), "%q is not a URL (example: http://proxy.lan:3128)", ch.HTTPProxy)
				}
			}
			for j := range ch.Steps {
				st := &ch.Steps[j]
				sf := func(key string) string { return f(fmt.Sprintf("steps[%d].%s", j, key)) }
				if st.Name == "" {
					st.Name = fmt.Sprintf("step %d", j+1)
				}
				if st.URL == "" {
					bad(nil, sf("url"), "is required")
				} else if !strings.Contains(st.URL, "{") {
					if u, err := url.Parse(st.URL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
						bad(nil, sf("url"), "%q is not an http(s) URL", st.URL)
					}
				}
				if st.Method == "" {
					st.Method = "GET"
					if len(st.Posts) > 0 || st.Body != "" {
						st.Method = "POST"
					}
				}
				st.Method = strings.ToUpper(st.Method)
				if len(st.Posts) > 0 && st.Body != "" {
					bad(nil, sf("body"), "posts and body exclude each other")
				}
				switch st.RetrieveMode {
				case "":
					st.RetrieveMode = "body"
				case "body", "headers", "both":
				default:
					bad(nil, sf("retrieve_mode"), "%q: must be body, headers or both", st.RetrieveMode)
				}
				if st.Timeout == 0 {
					st.Timeout = ch.Timeout
				}
				if st.Required != "" {
					mustRegex(fmt.Sprintf("steps[%d].required", j), st.Required)
				}
				for _, v := range st.Variables {
					key := fmt.Sprintf("steps[%d].variables.%s", j, v.Key)
					if !varName.MatchString(v.Key) {
						bad(nil, f(key), "variable names are letters, digits and _ (used as {name})")
					}
					if expr, ok := strings.CutPrefix(v.Value, "regex:"); ok {
						if re, err := regexp.Compile(expr); err != nil {
							bad(nil, f(key), "bad regular expression: %v", err)
						} else if re.NumSubexp() < 1 {
							bad(nil, f(key), "the regex needs a group ( ) around the value to capture")
						}
					}
				}
			}
		case "tcp":
			mustAddr("address", ch.Address)
			if ch.Expect != "" {
				mustRegex("expect", ch.Expect)
			}
		case "tls":
			mustAddr("address", ch.Address)
			if ch.MinDaysLeft < 0 {
				bad(nil, f("min_days_left"), "must be 0 or more")
			}
		case "ping":
			if ch.Host == "" {
				bad(nil, f("host"), "is required for type ping")
			}
			if ch.Count == 0 {
				ch.Count = DefaultPingCount
			}
			if ch.Count < 1 || ch.Count > 100 {
				bad(nil, f("count"), "must be between 1 and 100")
			}
		case "backup":
			if ch.Path == "" {
				bad(nil, f("path"), "is required for type backup (a glob such as /srv/backup/erp-*.dump)")
			} else if _, err := filepath.Match(ch.Path, ""); err != nil {
				bad(nil, f("path"), "bad glob: %v", err)
			}
			if ch.MaxAge == 0 && ch.MinSize == 0 && ch.MinCount == 0 && ch.Log == nil {
				bad(nil, f("max_age"), "a backup check needs at least one of max_age, min_size, min_count or log")
			}
			if ch.Format != "" && ch.Format != "pg_dump" {
				bad(nil, f("format"), "%q: only pg_dump is known", ch.Format)
			}
			if l := ch.Log; l != nil {
				if l.Path == "" {
					bad(nil, f("log.path"), "is required")
				}
				if l.Success == "" && l.Failure == "" {
					bad(nil, f("log.success"), "give success and/or failure patterns")
				}
				if l.Success != "" {
					mustRegex("log.success", l.Success)
				}
				if l.Failure != "" {
					mustRegex("log.failure", l.Failure)
				}
				if l.Lines == 0 {
					l.Lines = DefaultBackupLogTail
				}
			}
		case "dns":
			if ch.Host == "" {
				bad(nil, f("host"), "is required for type dns (the name to resolve)")
			}
			if ch.Server != "" {
				if _, _, err := net.SplitHostPort(ch.Server); err != nil {
					bad(nil, f("server"), "%q is not host:port (example 192.168.2.1:53)", ch.Server)
				}
			}
			switch ch.RecordType {
			case "":
				ch.RecordType = "A"
			case "A", "AAAA", "CNAME", "MX", "TXT", "NS", "PTR":
			default:
				bad(nil, f("record_type"), "%q: must be A, AAAA, CNAME, MX, TXT, NS or PTR", ch.RecordType)
			}
			if ch.Expect != "" {
				mustRegex("expect", ch.Expect)
			}
		case "":
			bad(nil, f("type"), "is required: one of %s", strings.Join(CheckTypes, ", "))
		default:
			bad(nil, f("type"), "%q: must be one of %s", ch.Type, strings.Join(CheckTypes, ", "))
		}
		if own, ok := typeKeys[ch.Type]; ok {
			prefix := fmt.Sprintf("checks[%d].", i)
			for field := range c.lines {
				key, ok := strings.CutPrefix(field, prefix)
				if !ok || strings.ContainsAny(key, ".[") || commonKeys[key] || own[key] {
					continue
				}
				bad(nil, field, "does not apply to a %s check (it would be ignored)", ch.Type)
			}
		}
	}
}

// commonKeys apply to every check type, typeKeys to one type each: a key
// of another type is a mistake worth saying (min_days_left on a tcp check
// would otherwise be silently ignored).
var (
	commonKeys = keySet("name", "type", "enabled", "interval", "timeout", "attempts", "sla", "labels")
	typeKeys   = map[string]map[string]bool{
		"scenario": keySet("variables", "headers", "user_agent", "http_proxy", "auth", "verify_peer", "verify_host", "client_cert", "ca_file", "steps"),
		"tcp":      keySet("address", "send", "expect", "tls", "server_name", "ca_file", "client_cert", "verify_peer", "verify_host"),
		"tls":      keySet("address", "server_name", "min_days_left", "ca_file", "client_cert", "verify_peer", "verify_host"),
		"ping":     keySet("host", "count", "privileged"),
		"backup":   keySet("path", "max_age", "min_size", "min_count", "format", "log"),
		"dns":      keySet("host", "server", "record_type", "expect"),
	}
)

func keySet(keys ...string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}

var varName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
