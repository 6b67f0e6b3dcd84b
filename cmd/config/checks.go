package config

import (
	"fmt"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Check is one entry of the server's `checks:` list (DESIGN.md, docs/checks.md).
// One struct holds every probe type's keys, as blackbox_exporter's Module
// does: the type decides which of them apply, and validation says when a key
// is given to a type that ignores it.
type Check struct {
	Name     string   `yaml:"name,omitempty"`
	Type     string   `yaml:"type,omitempty"` // scenario | tcp | tls | ping | backup | dns
	Enabled  *bool    `yaml:"enabled,omitempty"`
	Interval Duration `yaml:"interval,omitempty"` // default 1m
	Timeout  Duration `yaml:"timeout,omitempty"`  // whole run (ping, tcp, tls, dns, backup) or each step (scenario); default 10s
	Attempts int      `yaml:"attempts,omitempty"` // tries before a run is down; default 1
	SLA      *SLA     `yaml:"sla,omitempty"`
	Labels   Pairs    `yaml:"labels,omitempty"`

	// scenario
	Variables  Pairs       `yaml:"variables,omitempty"`
	Headers    Pairs       `yaml:"headers,omitempty"`
	UserAgent  string      `yaml:"user_agent,omitempty"`
	HTTPProxy  string      `yaml:"http_proxy,omitempty"`
	Auth       *HTTPAuth   `yaml:"auth,omitempty"`
	VerifyPeer *bool       `yaml:"verify_peer,omitempty"` // default true
	VerifyHost *bool       `yaml:"verify_host,omitempty"` // default true
	ClientCert *ClientCert `yaml:"client_cert,omitempty"`
	Steps      []Step      `yaml:"steps,omitempty"`

	// ping, dns
	Host  string `yaml:"host,omitempty"`
	Count int    `yaml:"count,omitempty"` // ping packets, default 3
	// Privileged asks for raw ICMP sockets (root or CAP_NET_RAW); the default
	// tries unprivileged datagram ICMP first and raw sockets second.
	Privileged *bool `yaml:"privileged,omitempty"`

	// tcp, tls
	Address     string `yaml:"address,omitempty"`     // host:port
	Send        string `yaml:"send,omitempty"`        // tcp: written after connecting
	Expect      string `yaml:"expect,omitempty"`      // tcp: regex the first answer must match; dns: regex one answer must match
	TLS         bool   `yaml:"tls,omitempty"`         // tcp: start TLS after connecting
	ServerName  string `yaml:"server_name,omitempty"` // tls/tcp+tls: name verified (default: the address's host)
	MinDaysLeft int    `yaml:"min_days_left,omitempty"`
	CAFile      string `yaml:"ca_file,omitempty"` // extra trusted CA (PEM) for tls, tcp+tls and scenario

	// backup
	Path     string     `yaml:"path,omitempty"` // glob
	MaxAge   Duration   `yaml:"max_age,omitempty"`
	MinSize  Size       `yaml:"min_size,omitempty"`
	MinCount int        `yaml:"min_count,omitempty"`
	Format   string     `yaml:"format,omitempty"` // "" | pg_dump
	Log      *BackupLog `yaml:"log,omitempty"`

	// dns
	Server     string `yaml:"server,omitempty"`      // host:port of the resolver; default the system's
	RecordType string `yaml:"record_type,omitempty"` // A (default), AAAA, CNAME, MX, TXT, NS, PTR
}

// SLA is a check's service-level target.
type SLA struct {
	Target       float64  `yaml:"target,omitempty"`        // percent available, e.g. 99.5
	ResponseTime Duration `yaml:"response_time,omitempty"` // a run slower than this is "slow"
	// SlowIsDown counts a slow run as down time for availability (default
	// false: slow runs are reported against response_time only).
	SlowIsDown bool `yaml:"slow_is_down,omitempty"`
}

// HTTPAuth is a scenario's HTTP authentication.
type HTTPAuth struct {
	Type     string `yaml:"type,omitempty"` // basic | digest
	User     string `yaml:"user,omitempty"`
	Password string `yaml:"password,omitempty"`
}

// ClientCert is a TLS client certificate for scenario steps.
type ClientCert struct {
	CertFile string `yaml:"cert_file,omitempty"`
	KeyFile  string `yaml:"key_file,omitempty"`
}

// BackupLog is the backup script's own log: its last lines must match.
type BackupLog struct {
	Path    string `yaml:"path,omitempty"`
	Success string `yaml:"success,omitempty"` // regex one of the last `lines` lines must match
	Failure string `yaml:"failure,omitempty"` // regex none of them may match
	Lines   int    `yaml:"lines,omitempty"`   // default 20
}

// Step is one HTTP request of a scenario.
type Step struct {
	Name            string      `yaml:"name,omitempty"`
	URL             string      `yaml:"url,omitempty"`
	Method          string      `yaml:"method,omitempty"` // default GET, POST when posts or body are set
	Query           Pairs       `yaml:"query,omitempty"`
	Posts           Pairs       `yaml:"posts,omitempty"` // form fields, sent as application/x-www-form-urlencoded
	Body            string      `yaml:"body,omitempty"`  // raw body instead of posts
	Headers         Pairs       `yaml:"headers,omitempty"`
	Variables       Pairs       `yaml:"variables,omitempty"` // "regex:PATTERN", "json:PATH", "header:NAME" or a literal
	FollowRedirects bool        `yaml:"follow_redirects,omitempty"`
	RetrieveMode    string      `yaml:"retrieve_mode,omitempty"` // body (default) | headers | both
	Timeout         Duration    `yaml:"timeout,omitempty"`       // default: the check's timeout
	Required        string      `yaml:"required,omitempty"`      // regex the retrieved part must match
	StatusCodes     StatusCodes `yaml:"status_codes,omitempty"`  // empty: any
}

// Pair is one key and value of an ordered mapping.
type Pair struct {
	Key, Value string
}

// Pairs is a YAML mapping that keeps its order (form fields, headers and
// variables are applied in the order written) and allows repeated keys in
// the list form `[{name: k, value: v}]` that Zabbix exports use.
type Pairs []Pair

func (p *Pairs) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if v.Kind != yaml.ScalarNode {
				return &Error{Line: v.Line, Field: k.Value, Msg: "must be a plain value"}
			}
			*p = append(*p, Pair{k.Value, v.Value})
		}
	case yaml.SequenceNode:
		for _, e := range n.Content {
			var kv struct {
				Name  string `yaml:"name"`
				Value string `yaml:"value"`
			}
			if err := e.Decode(&kv); err != nil || kv.Name == "" {
				return &Error{Line: e.Line, Msg: "must be {name: ..., value: ...}"}
			}
			*p = append(*p, Pair{kv.Name, kv.Value})
		}
	case yaml.ScalarNode:
		if n.Tag != "!!null" {
			return &Error{Line: n.Line, Msg: "must be a mapping of names to values"}
		}
	default:
		return &Error{Line: n.Line, Msg: "must be a mapping of names to values"}
	}
	return nil
}

// MarshalYAML writes a flow mapping, or the [{name, value}] list form when
// a key repeats (a mapping with a key twice is not portable YAML).
func (p Pairs) MarshalYAML() (any, error) {
	seen := map[string]bool{}
	repeated := false
	for _, kv := range p {
		repeated = repeated || seen[kv.Key]
		seen[kv.Key] = true
	}
	scalar := func(v string) *yaml.Node { return &yaml.Node{Kind: yaml.ScalarNode, Value: v} }
	if repeated {
		n := &yaml.Node{Kind: yaml.SequenceNode}
		for _, kv := range p {
			n.Content = append(n.Content, &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle,
				Content: []*yaml.Node{scalar("name"), scalar(kv.Key), scalar("value"), scalar(kv.Value)}})
		}
		return n, nil
	}
	n := &yaml.Node{Kind: yaml.MappingNode, Style: yaml.FlowStyle}
	for _, kv := range p {
		n.Content = append(n.Content, scalar(kv.Key), scalar(kv.Value))
	}
	return n, nil
}

// Get is the value of the first pair with the key.
func (p Pairs) Get(key string) (string, bool) {
	for _, kv := range p {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return "", false
}

// StatusRange is an inclusive range of HTTP status codes.
type StatusRange struct{ Min, Max int }

// StatusCodes accepts [200, 302], ["200-299", 401] and Zabbix's "200,301-302".
type StatusCodes []StatusRange

// Match reports whether code is allowed; an empty list allows every code.
func (s StatusCodes) Match(code int) bool {
	if len(s) == 0 {
		return true
	}
	for _, r := range s {
		if code >= r.Min && code <= r.Max {
			return true
		}
	}
	return false
}

// ParseStatusCodes reads "200,301-302" (Zabbix's form).
func ParseStatusCodes(s string) (StatusCodes, error) {
	var out StatusCodes
	for part := range strings.SplitSeq(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		a, err1 := strconv.Atoi(strings.TrimSpace(lo))
		b := a
		var err2 error
		if isRange {
			b, err2 = strconv.Atoi(strings.TrimSpace(hi))
		}
		if err1 != nil || err2 != nil || a < 100 || b > 599 || a > b {
			return nil, fmt.Errorf("%q is not a status code or range (examples: 200, 200-299)", part)
		}
		out = append(out, StatusRange{a, b})
	}
	return out, nil
}

func (s *StatusCodes) UnmarshalYAML(n *yaml.Node) error {
	var parts []string
	switch n.Kind {
	case yaml.ScalarNode:
		parts = []string{n.Value}
	case yaml.SequenceNode:
		for _, e := range n.Content {
			if e.Kind != yaml.ScalarNode {
				return &Error{Line: e.Line, Msg: "status codes are numbers or ranges such as 200-299"}
			}
			parts = append(parts, e.Value)
		}
	default:
		return &Error{Line: n.Line, Msg: "status codes are a list: [200, 300-399]"}
	}
	codes, err := ParseStatusCodes(strings.Join(parts, ","))
	if err != nil {
		return &Error{Line: n.Line, Msg: err.Error()}
	}
	*s = codes
	return nil
}

func (s StatusCodes) MarshalYAML() (any, error) {
	n := &yaml.Node{Kind: yaml.SequenceNode, Style: yaml.FlowStyle}
	for _, r := range s {
		v := strconv.Itoa(r.Min)
		if r.Max != r.Min {
			v += "-" + strconv.Itoa(r.Max)
		}
		n.Content = append(n.Content, &yaml.Node{Kind: yaml.ScalarNode, Value: v})
	}
	return n, nil
}

// IsEnabled is false only when the check says enabled: false.
func (c *Check) IsEnabled() bool { return c.Enabled == nil || *c.Enabled }
