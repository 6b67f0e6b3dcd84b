package config

import (
	_ "embed"
	"fmt"
	"net"
	"net/url"
	"os"
	"time"

	"go.yaml.in/yaml/v3"
)

// Server is the configuration of `vigie serve` (DESIGN.md, "Config").
type Server struct {
	DataDir     string        `yaml:"data_dir"`
	Retention   Retention     `yaml:"retention"`
	Syslog      Syslog        `yaml:"syslog"`
	HTTP        HTTP          `yaml:"http"`
	Auth        Auth          `yaml:"auth"`
	Checks      []Check       `yaml:"checks"`
	Notifiers   []Notifier    `yaml:"notifiers"`
	Rules       []Rule        `yaml:"rules"`
	Maintenance []Maintenance `yaml:"maintenance"`

	// File is where this configuration came from ("(embedded default)").
	File  string `yaml:"-"`
	lines Lines
}

type Retention struct {
	Days    int  `yaml:"days"`
	MaxSize Size `yaml:"max_size"`
}

type Syslog struct {
	UDP            string     `yaml:"udp"`
	TCP            string     `yaml:"tcp"`
	TLS            *SyslogTLS `yaml:"tls"`
	MaxMessageSize Size       `yaml:"max_message_size"`
	Timezone       string     `yaml:"timezone"`
	// SnareDelimiter is the field separator of Snare agents ("" = tab or #011).
	SnareDelimiter string `yaml:"snare_delimiter"`
	// UDPReadBuffer is the socket receive buffer asked for (default 8MiB).
	UDPReadBuffer Size `yaml:"udp_read_buffer"`
}

type SyslogTLS struct {
	Addr         string `yaml:"addr"`
	CertFile     string `yaml:"cert_file"`
	KeyFile      string `yaml:"key_file"`
	ClientCAFile string `yaml:"client_ca_file"`
}

type HTTP struct {
	Addr string  `yaml:"addr"`
	TLS  HTTPTLS `yaml:"tls"`
	// PublicURL is the dashboard's address as people and alert receivers
	// reach it (links in notifications); default: this host's name and port.
	PublicURL string `yaml:"public_url"`
}

type HTTPTLS struct {
	CertFile string `yaml:"cert_file"`
	KeyFile  string `yaml:"key_file"`
}

type Auth struct {
	Users       []User  `yaml:"users"`
	APITokens   []Token `yaml:"api_tokens"`
	AgentTokens []Token `yaml:"agent_tokens"`
}

type User struct {
	Name         string `yaml:"name"`
	PasswordHash string `yaml:"password_hash"`
}

type Token struct {
	Name  string `yaml:"name"`
	Token string `yaml:"token"`
}

//go:embed default.yml
var defaultYAML []byte

// DefaultFile names the embedded default in messages.
const DefaultFile = "(embedded default)"

// Default is the embedded default configuration.
func Default() (*Server, error) {
	return parseServer(DefaultFile, defaultYAML)
}

// Load reads a configuration file over the defaults.
func Load(path string) (*Server, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return parseServer(path, data)
}

func parseServer(file string, data []byte) (*Server, error) {
	c := &Server{}
	// Defaults first, then the file over them: keys it leaves out keep them.
	if err := decodeFile(DefaultFile, defaultYAML, c, nil); err != nil {
		return nil, fmt.Errorf("embedded default: %w", err)
	}
	c.lines = Lines{}
	if file != DefaultFile {
		if err := decodeFile(file, data, c, c.lines); err != nil {
			return nil, err
		}
	}
	c.File = file
	if err := c.validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// MinMessageSize and MaxMessageSize bound syslog.max_message_size.
const (
	MinMessageSize = 480 // RFC 3164's minimum
	MaxMessageSize = 16 << 20
)

func (c *Server) validate() error {
	var errs Errors
	bad := func(n *yaml.Node, field, format string, a ...any) {
		e := &Error{File: c.File, Field: field, Line: c.lines.lineOf(field), Msg: fmt.Sprintf(format, a...)}
		if n != nil {
			e.Line = n.Line
		}
		errs = append(errs, e)
	}
	c.validateChecks(bad)
	c.validateRules(bad)
	if c.DataDir == "" {
		bad(nil, "data_dir", "must not be empty")
	}
	if c.Retention.Days < 0 {
		bad(nil, "retention.days", "must be 0 (keep) or more")
	}
	if c.Syslog.MaxMessageSize < MinMessageSize || c.Syslog.MaxMessageSize > MaxMessageSize {
		bad(nil, "syslog.max_message_size", "must be between %d bytes and 16MiB", MinMessageSize)
	}
	if _, err := c.Location(); err != nil {
		bad(nil, "syslog.timezone", "%v", err)
	}
	for field, addr := range map[string]string{"syslog.udp": c.Syslog.UDP, "syslog.tcp": c.Syslog.TCP, "http.addr": c.HTTP.Addr} {
		if addr != "" {
			if _, _, err := net.SplitHostPort(addr); err != nil {
				bad(nil, field, "%q is not host:port (example \":514\")", addr)
			}
		}
	}
	if t := c.Syslog.TLS; t != nil && t.Addr != "" {
		if _, _, err := net.SplitHostPort(t.Addr); err != nil {
			bad(nil, "syslog.tls.addr", "%q is not host:port (example \":6514\")", t.Addr)
		}
		if t.CertFile == "" || t.KeyFile == "" {
			bad(nil, "syslog.tls", "cert_file and key_file are required with addr")
		}
	}
	if c.HTTP.Addr == "" {
		bad(nil, "http.addr", "must not be empty: the API, the dashboard and the agents' ingest need it (example \":8080\")")
	}
	if u := c.HTTP.PublicURL; u != "" {
		if pu, err := url.Parse(u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			bad(nil, "http.public_url", "%q is not an http(s) URL (example https://vigie.lan:8080)", u)
		}
	}
	if (c.HTTP.TLS.CertFile == "") != (c.HTTP.TLS.KeyFile == "") {
		bad(nil, "http.tls", "cert_file and key_file go together")
	}
	seen := map[string]bool{}
	for i, u := range c.Auth.Users {
		f := fmt.Sprintf("auth.users[%d]", i)
		if u.Name == "" {
			bad(nil, f+".name", "must not be empty")
		}
		if len(u.PasswordHash) < 4 || u.PasswordHash[0] != '$' || u.PasswordHash[1] != '2' {
			bad(nil, f+".password_hash", "must be a bcrypt hash ($2a$..., $2b$...); make one with `vigie hash-password`")
		}
	}
	for _, list := range []struct {
		name   string
		tokens []Token
	}{{"auth.api_tokens", c.Auth.APITokens}, {"auth.agent_tokens", c.Auth.AgentTokens}} {
		for i, t := range list.tokens {
			f := fmt.Sprintf("%s[%d]", list.name, i)
			if t.Name == "" {
				bad(nil, f+".name", "must not be empty")
			}
			if len(t.Token) < 16 {
				bad(nil, f+".token", "must be at least 16 characters")
			}
			if seen[t.Token] {
				bad(nil, f+".token", "is used twice")
			}
			seen[t.Token] = true
		}
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// IsSet reports whether the configuration file wrote a field, as opposed to
// the field keeping its default.
func (c *Server) IsSet(field string) bool {
	_, ok := c.lines[field]
	return ok
}

// Location is the zone for RFC 3164 stamps that carry none.
func (c *Server) Location() (*time.Location, error) {
	switch c.Syslog.Timezone {
	case "", "Local":
		return time.Local, nil
	case "UTC":
		return time.UTC, nil
	}
	return time.LoadLocation(c.Syslog.Timezone)
}
