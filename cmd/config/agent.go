package config

import (
	"fmt"
	"net"
	"net/url"
	"os"
	"regexp"
	"strings"

	"vigie/record"
)

// Agent is the configuration of `vigie-agent` (DESIGN.md, "Agent").
type Agent struct {
	AgentID  string        `yaml:"agent_id"`
	Server   AgentServer   `yaml:"server"`
	StateDir string        `yaml:"state_dir"`
	Spool    AgentSpool    `yaml:"spool"`
	Metrics  AgentMetrics  `yaml:"metrics"`
	Syslog   *AgentSyslog  `yaml:"syslog"`
	Sources  []AgentSource `yaml:"sources"`

	File  string `yaml:"-"`
	lines Lines
}

// AgentServer is the collector the agent ships to.
type AgentServer struct {
	URL    string `yaml:"url"`
	Token  string `yaml:"token"`
	CAFile string `yaml:"ca_file"`
}

type AgentSpool struct {
	MaxSize Size `yaml:"max_size"`
}

type AgentMetrics struct {
	Addr string `yaml:"addr"`
}

// AgentSyslog is the optional second output: RFC 5424 over TCP or TLS,
// octet-counted, to feed an existing rsyslog or syslog-ng.
type AgentSyslog struct {
	Address string `yaml:"address"`
	TLS     bool   `yaml:"tls"`
	CAFile  string `yaml:"ca_file"`
}

// AgentSource is one thing the agent reads: files or a Windows event log.
type AgentSource struct {
	Type string `yaml:"type"` // file | eventlog
	// file
	Paths      []string   `yaml:"paths"`
	Exclude    []string   `yaml:"exclude"`
	Format     string     `yaml:"format"`
	StartAt    string     `yaml:"start_at"`
	LinePrefix string     `yaml:"line_prefix"`
	App        string     `yaml:"app"`
	Multiline  *Multiline `yaml:"multiline"`
	// eventlog
	Channels []string `yaml:"channels"`
	XPath    string   `yaml:"xpath"`
}

// Multiline overrides how lines are joined into records.
type Multiline struct {
	// Start is a regular expression a record's first line matches; other
	// lines continue the record (default: the format's own rule).
	Start   string   `yaml:"start"`
	Timeout Duration `yaml:"timeout"`
	MaxSize Size     `yaml:"max_size"`
}

// LoadAgent reads an agent configuration file.
func LoadAgent(path string) (*Agent, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return ParseAgent(path, data)
}

// ParseAgent decodes and validates an agent configuration.
func ParseAgent(file string, data []byte) (*Agent, error) {
	a := &Agent{
		StateDir: defaultAgentStateDir(),
		Spool:    AgentSpool{MaxSize: 1 << 30},
		File:     file,
		lines:    Lines{},
	}
	if err := decodeFile(file, data, a, a.lines); err != nil {
		return nil, err
	}
	if err := a.validate(); err != nil {
		return nil, err
	}
	return a, nil
}

func defaultAgentStateDir() string {
	if os.PathSeparator == '\\' {
		return `C:\ProgramData\vigie-agent`
	}
	return "/var/lib/vigie-agent"
}

var agentIDPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$`)

func (a *Agent) validate() error {
	var errs Errors
	bad := func(field, format string, args ...any) {
		errs = append(errs, &Error{File: a.File, Line: a.lines.lineOf(field), Field: field, Msg: fmt.Sprintf(format, args...)})
	}
	if !agentIDPattern.MatchString(a.AgentID) {
		bad("agent_id", "required: letters, digits, '.', '_' or '-', at most 64 (the name of this agent's entry in the server's auth.agent_tokens)")
	}
	if u, err := url.Parse(a.Server.URL); a.Server.URL == "" || err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		bad("server.url", "required: the collector's base URL, such as https://vigie.lan:8080")
	} else if u.Scheme == "http" && !isLoopback(u.Hostname()) {
		bad("server.url", "http:// sends logs and the token in clear across the network: use https:// (http is accepted for localhost only)")
	}
	if len(a.Server.Token) < 16 {
		bad("server.token", "required, at least 16 characters (an entry of the server's auth.agent_tokens)")
	}
	if a.StateDir == "" {
		bad("state_dir", "must not be empty")
	}
	if a.Spool.MaxSize < 1<<20 {
		bad("spool.max_size", "at least 1MiB")
	}
	if a.Metrics.Addr != "" {
		if _, _, err := net.SplitHostPort(a.Metrics.Addr); err != nil {
			bad("metrics.addr", "%q is not host:port (example \"127.0.0.1:9514\")", a.Metrics.Addr)
		}
	}
	if s := a.Syslog; s != nil {
		if _, _, err := net.SplitHostPort(s.Address); err != nil {
			bad("syslog.address", "%q is not host:port (example \"rsyslog.lan:6514\")", s.Address)
		}
	}
	if len(a.Sources) == 0 {
		bad("sources", "at least one source (type: file or eventlog)")
	}
	for i, s := range a.Sources {
		f := fmt.Sprintf("sources[%d]", i)
		switch s.Type {
		case "file":
			if len(s.Paths) == 0 {
				bad(f+".paths", "at least one path or glob")
			}
			if len(s.Channels) > 0 || s.XPath != "" {
				bad(f, "channels and xpath belong to type: eventlog")
			}
			if _, err := record.NewFormat(s.Format, record.FormatOptions{LinePrefix: s.LinePrefix}); err != nil {
				field := f + ".format"
				if s.LinePrefix != "" && s.Format == "postgres" {
					field = f + ".line_prefix"
				}
				bad(field, "%v", err)
			}
			if s.LinePrefix != "" && s.Format != "postgres" {
				bad(f+".line_prefix", "only for format: postgres")
			}
			switch s.StartAt {
			case "", "beginning", "end":
			default:
				bad(f+".start_at", "beginning or end, not %q", s.StartAt)
			}
			if m := s.Multiline; m != nil && m.Start != "" {
				if _, err := regexp.Compile(m.Start); err != nil {
					bad(f+".multiline.start", "%v", err)
				}
			}
		case "eventlog":
			if len(s.Channels) == 0 {
				bad(f+".channels", "at least one channel (Application, System, Security, ...)")
			}
			if len(s.Paths) > 0 || s.Format != "" || s.StartAt != "" {
				bad(f, "paths, format and start_at belong to type: file")
			}
		default:
			bad(f+".type", "file or eventlog, not %q", s.Type)
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
