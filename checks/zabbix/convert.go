package zabbix

import (
	"fmt"
	"maps"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"vigie/cmd/config"
)

// converter turns the web scenarios of one export into checks.
type converter struct {
	exp     *export
	notes   notes
	env     map[string]string // environment variable → what it stands for
	lookups map[lookupKey]lookupResult
}

// Fields of a web scenario and of a step that are read; any other one is
// reported, never dropped in silence.
var (
	scenarioKeys = set("uuid", "name", "delay", "attempts", "retries", "agent", "http_proxy", "variables", "headers",
		"status", "authentication", "http_user", "http_password", "verify_peer", "verify_host",
		"ssl_cert_file", "ssl_key_file", "ssl_key_password", "steps", "tags")
	stepKeys = set("name", "no", "url", "query_fields", "posts", "post_type", "variables", "headers",
		"follow_redirects", "retrieve_mode", "timeout", "required", "status_codes")
)

func set(keys ...string) map[string]bool {
	m := make(map[string]bool, len(keys))
	for _, k := range keys {
		m[k] = true
	}
	return m
}

func (c *converter) run() *Import {
	im := &Import{Version: c.exp.version, EnvFrom: map[string]string{}}
	switch {
	case c.exp.version == "":
		c.notes.add("", "the export has no version: read with the defaults of Zabbix 6.0–7.4")
	case !versionKnown(c.exp.version):
		c.notes.add("", "Zabbix %s export: only 6.0 to 7.4 were checked; read with their defaults", c.exp.version)
	}
	for _, nc := range c.exp.notCarry {
		where := ""
		if len(nc.owners) > 0 {
			where = " (" + listNames(nc.owners) + ")"
		}
		c.notes.add("", "not carried: %s%s: vigie imports web scenarios only", nc.kind.count(nc.count), where)
	}
	var ps []*pending
	for _, o := range c.exp.owners {
		for _, t := range o.httptests {
			ps = append(ps, &pending{owner: o, test: t})
		}
	}
	assignNames(ps)
	for _, p := range ps {
		env := maps.Clone(c.env)
		if ch, ok := c.scenario(p); ok {
			im.Checks = append(im.Checks, ch)
		} else {
			im.Skipped++
			c.env = env // a skipped check needs no environment
		}
	}
	im.Scenarios = len(ps)
	im.Warnings = c.notes.lines()
	for name, why := range c.env {
		im.Env = append(im.Env, name)
		im.EnvFrom[name] = why
	}
	slices.Sort(im.Env)
	return im
}

// scenario converts one web scenario; false means it was skipped (a note
// says why).
func (c *converter) scenario(p *pending) (config.Check, bool) {
	t, o := p.test, p.owner
	s := &scen{c: c, o: o, check: p.name, zvars: map[string]string{}, taken: map[string]bool{}, next: map[string]int{}, mvarOf: map[string]string{}}
	ch := config.Check{Name: p.name, Type: "scenario"}
	if t.kind != mapNode {
		c.notes.add(p.name, "not a web scenario (%s %s): skipped", o.kind(), o.name)
		return ch, false
	}
	for _, k := range t.keys {
		if !scenarioKeys[k] {
			c.notes.add(p.name, "scenario field %s is not carried", k)
		}
	}
	steps := t.items("steps")
	if len(steps) == 0 {
		c.notes.add(p.name, "the scenario has no steps: skipped")
		return ch, false
	}
	s.declare(t.items("variables"))
	for _, st := range steps {
		s.declare(st.items("variables"))
	}

	ch.Interval = config.Duration(s.duration("delay", t, "delay", defaultDelay, time.Second, 24*time.Hour))
	attempts := t.text("attempts")
	if attempts == "" {
		attempts = t.text("retries")
	}
	if attempts != "" {
		n, err := strconv.Atoi(strings.TrimSpace(attempts))
		switch {
		case err != nil || n < 1:
			c.notes.add(p.name, "attempts %q is not a number from 1 to 10: 1 used", attempts)
		case n > 10:
			c.notes.add(p.name, "attempts %d is more than 10: 10 used", n)
			ch.Attempts = 10
		case n > defaultAttempts:
			ch.Attempts = n
		}
	}
	if a := t.text("agent"); a != "" && a != defaultAgent {
		ch.UserAgent = s.conv("agent", a, expand)
	}
	if px := t.text("http_proxy"); px != "" {
		ch.HTTPProxy = s.proxy(px)
	}

	var scenarioVars config.Pairs
	for _, v := range t.items("variables") {
		if name, ok := s.zvars[braceless(v.text("name"))]; ok {
			scenarioVars = append(scenarioVars, config.Pair{Key: name, Value: s.conv("variable "+name, v.text("value"), expand)})
		}
	}
	ch.Headers = s.pairs("header", t.items("headers"), literal, expand)
	s.auth(&ch, t)
	vp, vh := yes(t.text("verify_peer"), false), yes(t.text("verify_host"), false)
	ch.VerifyPeer, ch.VerifyHost = &vp, &vh
	s.clientCert(&ch, t)
	if st := strings.ToUpper(t.text("status")); st == "DISABLED" || st == "1" {
		off := false
		ch.Enabled = &off
	}
	ch.Labels = labels(t.items("tags"))

	timeouts := make([]time.Duration, len(steps))
	for i, st := range steps {
		step, timeout, ok := s.step(i, st)
		if !ok {
			return ch, false
		}
		ch.Steps = append(ch.Steps, step)
		timeouts[i] = timeout
	}
	// The check's timeout is the steps' most common one; a step whose
	// timeout differs carries its own.
	common := mostCommon(timeouts)
	ch.Timeout = config.Duration(common)
	for i := range ch.Steps {
		if timeouts[i] != common {
			ch.Steps[i].Timeout = config.Duration(timeouts[i])
		}
	}
	ch.Variables = append(s.mvars, scenarioVars...)
	s.placeholderURLs(&ch)
	return ch, true
}

// placeholderURLs warns about step URLs that the check's variables turn
// into something that is not a URL: templates often ship a macro such as
// {$URL} = "<Put the page URL here>" for the user to fill in.
func (s *scen) placeholderURLs(ch *config.Check) {
	vals := map[string]string{}
	for _, v := range ch.Variables {
		vals[v.Key] = expandKnown(v.Value, vals)
	}
	for i, st := range ch.Steps {
		u := expandKnown(st.URL, vals)
		if u == st.URL || strings.Contains(u, "{") {
			continue // no variable, or one known only at run time
		}
		if pu, err := url.Parse(u); err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			s.c.notes.add(s.check, "step %d url is %q with the macro values of the export: not an http(s) URL yet, set the macro's value", i+1, u)
		}
	}
}

// expandKnown replaces each {name} by its value in one pass, as vigie
// does at run time.
func expandKnown(s string, vals map[string]string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(s, '{')
		if i < 0 {
			return b.String() + s
		}
		b.WriteString(s[:i])
		s = s[i:]
		// Look no further than the next brace, so a text of many "{"
		// is read once.
		if j := strings.IndexAny(s[1:], "{}"); j >= 0 && s[1+j] == '}' {
			if v, ok := vals[s[1:1+j]]; ok {
				b.WriteString(v)
				s = s[j+2:]
				continue
			}
		}
		b.WriteByte('{')
		s = s[1:]
	}
}

// declare names the scenario's and steps' variables for vigie before any
// text is converted, since a step may use a variable a later one sets.
func (s *scen) declare(vars []*node) {
	for _, v := range vars {
		z := braceless(v.text("name"))
		if z == "" {
			continue
		}
		if _, done := s.zvars[z]; done {
			continue
		}
		name := s.unique(varName(z))
		if name != z {
			s.c.notes.add(s.check, "variable {%s} is renamed {%s} (vigie names are letters, digits and _)", z, name)
		}
		s.zvars[z] = name
	}
}

// braceless is a Zabbix variable name without its braces: {csrf} → csrf.
func braceless(s string) string {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "{") && strings.HasSuffix(s, "}") {
		return s[1 : len(s)-1]
	}
	return s
}

// pairs converts name/value lists; kmode is for the names (vigie expands
// query and form names, not header names).
func (s *scen) pairs(what string, list []*node, kmode, vmode mode) config.Pairs {
	var out config.Pairs
	for _, kv := range list {
		name := kv.text("name")
		if name == "" {
			continue
		}
		field := fmt.Sprintf("%s %q", what, name)
		out = append(out, config.Pair{Key: s.conv(field, name, kmode), Value: s.conv(field, kv.text("value"), vmode)})
	}
	return out
}

func (s *scen) proxy(raw string) string {
	v := s.conv("http_proxy", raw, literal)
	if !strings.Contains(v, "://") {
		v = "http://" + v // Zabbix (curl) takes host:port as an HTTP proxy
	}
	if !strings.Contains(v, "${") {
		if u, err := url.Parse(v); err != nil || u.Host == "" {
			s.c.notes.add(s.check, "http_proxy %q is not a proxy URL: dropped", raw)
			return ""
		}
	}
	return v
}

func (s *scen) auth(ch *config.Check, t *node) {
	user, pass := t.text("http_user"), t.text("http_password")
	switch a := strings.ToUpper(t.text("authentication")); a {
	case "", "NONE", "0":
	case "BASIC", "1", "DIGEST", "4":
		typ := "basic"
		if a == "DIGEST" || a == "4" {
			typ = "digest"
		}
		ch.Auth = &config.HTTPAuth{Type: typ, User: s.conv("http_user", user, expand), Password: s.conv("http_password", pass, expand)}
		if pass != "" && !strings.Contains(pass, "{") {
			s.c.notes.add(s.check, "the HTTP password is written in clear in the output: move it to a secret (${NAME})")
		}
	case "NTLM", "2", "KERBEROS", "3":
		kind := map[string]string{"2": "NTLM", "3": "KERBEROS"}[a]
		if kind == "" {
			kind = a
		}
		s.c.notes.add(s.check, "%s authentication has no vigie equivalent (basic and digest only): the check runs without authentication", kind)
	default:
		s.c.notes.add(s.check, "authentication %q is not known: the check runs without authentication", a)
	}
}

func (s *scen) clientCert(ch *config.Check, t *node) {
	cert := s.conv("ssl_cert_file", t.text("ssl_cert_file"), literal)
	key := s.conv("ssl_key_file", t.text("ssl_key_file"), literal)
	switch {
	case cert != "":
		if key == "" {
			key = cert // Zabbix reads the key from the certificate file then
			s.c.notes.add(s.check, "no ssl_key_file: the certificate file must also hold the key")
		}
		ch.ClientCert = &config.ClientCert{CertFile: cert, KeyFile: key}
		s.c.notes.add(s.check, "client certificate paths are relative to the Zabbix server's SSLCertLocation and SSLKeyLocation: make them absolute")
	case key != "":
		s.c.notes.add(s.check, "ssl_key_file without ssl_cert_file: dropped")
	}
	if t.text("ssl_key_password") != "" {
		s.c.notes.add(s.check, "ssl_key_password is not carried: vigie needs an unencrypted key file")
	}
}

// labels are the scenario's tags; a repeated tag keeps every value.
func labels(tags []*node) config.Pairs {
	var names []string
	vals := map[string][]string{}
	for _, t := range tags {
		name := t.text("tag")
		if name == "" {
			continue
		}
		if _, seen := vals[name]; !seen {
			names = append(names, name)
		}
		vals[name] = append(vals[name], t.text("value"))
	}
	var out config.Pairs
	for _, n := range names {
		out = append(out, config.Pair{Key: n, Value: strings.Join(vals[n], ",")})
	}
	return out
}

// zabbixTimeRe is a Zabbix time: seconds, or a number with s, m, h, d or w.
var zabbixTimeRe = regexp.MustCompile(`^(\d{1,9})([smhdw]?)$`)

func zabbixDuration(s string) (time.Duration, bool) {
	m := zabbixTimeRe.FindStringSubmatch(strings.TrimSpace(s))
	if m == nil {
		return 0, false
	}
	n, _ := strconv.ParseInt(m[1], 10, 64)
	unit := map[string]time.Duration{"": time.Second, "s": time.Second, "m": time.Minute, "h": time.Hour, "d": 24 * time.Hour, "w": 7 * 24 * time.Hour}[m[2]]
	return time.Duration(n) * unit, true
}

// duration reads a Zabbix time field (macros resolved), falling back to
// Zabbix's default with a note when it cannot be used.
func (s *scen) duration(field string, n *node, key, def string, lo, hi time.Duration) time.Duration {
	d, _ := zabbixDuration(def)
	raw, ok := n.str(key)
	if !ok || raw == "" {
		return d
	}
	v := s.rewrite(field, raw, probe)
	got, ok := zabbixDuration(v)
	switch {
	case strings.Contains(v, "${"):
		s.c.notes.add(s.check, "%s %s has no value in the export: Zabbix's default %s used", field, raw, def)
	case !ok:
		s.c.notes.add(s.check, "%s %q is not a Zabbix time (30s, 5m, 1h): Zabbix's default %s used", field, v, def)
	case got < lo || got > hi:
		s.c.notes.add(s.check, "%s %s is outside %s–%s: Zabbix's default %s used", field, v, config.Duration(lo), config.Duration(hi), def)
	default:
		return got
	}
	return d
}

// mostCommon is the most frequent duration, the first met on a tie.
func mostCommon(ds []time.Duration) time.Duration {
	count := map[time.Duration]int{}
	best, bestN := time.Duration(0), 0
	for _, d := range ds {
		count[d]++
	}
	for _, d := range ds {
		if count[d] > bestN {
			best, bestN = d, count[d]
		}
	}
	return best
}
