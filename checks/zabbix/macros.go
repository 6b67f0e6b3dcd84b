package zabbix

import (
	"fmt"
	"regexp"
	"strings"

	"vigie/cmd/config"
)

// mode says whether vigie expands {variables} in the field a text goes to.
// Where it does (URL, query, posts, body, headers, user agent, auth, check
// variables), a macro with a value becomes a check variable, so the value
// is written once; where it does not (required, regex captures, proxy,
// certificate files, status codes, durations), the value is written in.
type mode int

const (
	literal mode = iota
	expand
	// probe resolves like literal but records nothing: for fields (delay,
	// timeout) that fall back to a default when a macro has no value.
	probe
)

// Bounds on a user macro, so a text full of "{$A:" is read in linear
// time: Zabbix names are short, contexts a path or a word.
const (
	maxMacroName    = 255
	maxMacroContext = 1024
)

// parseUserMacro reads {$NAME}, {$NAME:context} or {$NAME:"quoted
// context"} at the start of s; n is its length, 0 when s starts with none.
func parseUserMacro(s string) (name, ctx string, hasCtx bool, n int) {
	if !strings.HasPrefix(s, "{$") {
		return "", "", false, 0
	}
	i := 2
	for i < len(s) && i-2 <= maxMacroName && (s[i] >= 'A' && s[i] <= 'Z' || s[i] >= '0' && s[i] <= '9' || s[i] == '_' || s[i] == '.') {
		i++
	}
	if i == 2 || i-2 > maxMacroName || i >= len(s) {
		return "", "", false, 0
	}
	name = s[2:i]
	switch s[i] {
	case '}':
		return name, "", false, i + 1
	case ':':
	default:
		return "", "", false, 0
	}
	rest := s[i+1:]
	if strings.HasPrefix(rest, `"`) {
		var b strings.Builder
		for j := 1; j < len(rest) && j <= maxMacroContext; j++ {
			switch c := rest[j]; {
			case c == '\\' && j+1 < len(rest):
				b.WriteByte(rest[j+1])
				j++
			case c == '"':
				if j+1 < len(rest) && rest[j+1] == '}' {
					return name, b.String(), true, i + 1 + j + 2
				}
				return "", "", false, 0
			default:
				b.WriteByte(c)
			}
		}
		return "", "", false, 0
	}
	end := strings.IndexByte(rest[:min(len(rest), maxMacroContext+1)], '}')
	if end < 0 {
		return "", "", false, 0
	}
	return name, rest[:end], true, i + 1 + end + 1
}

var (
	// A built-in macro: {HOST.CONN}, {ITEM.VALUE1}.
	builtinRe = regexp.MustCompile(`^[A-Z][A-Z0-9_]*\.[A-Z0-9_.]+$`)
	// What config.Load reads as an environment reference.
	envRefRe = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)\}`)
)

// scen converts the texts of one web scenario.
type scen struct {
	c      *converter
	o      *owner
	check  string            // the check name, for notes
	zvars  map[string]string // Zabbix variable name (braces off) → vigie name
	taken  map[string]bool   // vigie variable names in use
	next   map[string]int    // next number to try after a taken name
	mvars  config.Pairs      // variables made from macros, in first-use order
	mvarOf map[string]string // macro → its variable
}

// conv rewrites the macros and variables of a Zabbix text for field.
func (s *scen) conv(field, in string, m mode) string {
	out := s.rewrite(field, in, m)
	s.foreignEnv(field, out)
	return out
}

func (s *scen) rewrite(field, in string, m mode) string {
	if !strings.Contains(in, "{") {
		return in
	}
	var b strings.Builder
	for in != "" {
		i := strings.IndexByte(in, '{')
		if i < 0 {
			b.WriteString(in)
			break
		}
		b.WriteString(in[:i])
		in = in[i:]
		if name, ctx, hasCtx, n := parseUserMacro(in); n > 0 {
			b.WriteString(s.userMacro(name, ctx, hasCtx, m))
			in = in[n:]
			continue
		}
		if j := strings.IndexAny(in[1:], "{}"); j >= 0 && in[1+j] == '}' {
			if rep, ok := s.braced(field, in[1:1+j], m); ok {
				b.WriteString(rep)
				in = in[2+j:]
				continue
			}
		}
		b.WriteByte('{')
		in = in[1:]
	}
	return b.String()
}

// braced handles {name}: a scenario variable or a built-in macro. ok is
// false when the text is to be kept as written.
func (s *scen) braced(field, name string, m mode) (string, bool) {
	if v, ok := s.zvars[name]; ok {
		if m != expand {
			s.c.notes.add(s.check, "%s uses the scenario variable {%s}, which vigie does not expand there", field, name)
		}
		return "{" + v + "}", true
	}
	switch {
	case strings.HasPrefix(name, "#"):
		s.c.notes.add(s.check, "%s uses the discovery macro {%s}, which only exists in Zabbix low-level discovery: left as written", field, name)
		return "", false
	case strings.HasPrefix(name, "?"):
		s.c.notes.add(s.check, "%s uses an expression macro {%s}: left as written", field, name)
		return "", false
	case name == "HOSTNAME", name == "IPADDRESS", builtinRe.MatchString(name):
		return s.builtin(field, name, m)
	}
	return "", false
}

// builtin resolves {HOST.*} from the host when the export has it; a
// template's scenario only learns its host when linked, so there the macro
// becomes an environment reference.
func (s *scen) builtin(field, name string, m mode) (string, bool) {
	o := s.o
	var val, why string
	switch name {
	case "HOST.HOST", "HOSTNAME":
		val = o.name
	case "HOST.NAME":
		val = o.name
		if o.visible != "" {
			val = o.visible
		}
	case "HOST.IP", "IPADDRESS", "HOST.DNS", "HOST.CONN", "HOST.PORT":
		if f := o.iface; f != nil {
			val = map[string]string{"HOST.IP": f.ip, "IPADDRESS": f.ip, "HOST.DNS": f.dns, "HOST.CONN": f.conn(), "HOST.PORT": f.port}[name]
		}
		why = fmt.Sprintf("host %q has no value for {%s} in the export", o.name, name)
	default:
		s.c.notes.add(s.check, "%s uses the macro {%s}, which has no vigie equivalent: left as written", field, name)
		return "", false
	}
	if !o.isHost && m != probe {
		why = fmt.Sprintf("{%s} of the host that template %q is linked to", name, o.name)
		s.c.notes.add(s.check, "%s uses {%s}, known only on a host: replaced by ${%s}", field, name, envName(name))
	}
	if o.isHost && val != "" {
		return val, true
	}
	if m == probe {
		return "${" + envName(name) + "}", true
	}
	ref := "${" + s.c.envRef(envName(name), why) + "}"
	if m == literal {
		return ref, true
	}
	return "{" + s.macroVariable("{"+name+"}", strings.ToLower(envName(name)), ref) + "}", true
}

// userMacro resolves {$NAME} (or {$NAME:ctx}) on the scenario's template
// or host, then on the templates they link, as Zabbix does; a macro with
// context falls back to the one without.
func (s *scen) userMacro(name, ctx string, hasCtx bool, m mode) string {
	key := "{$" + name + "}"
	if hasCtx {
		key = "{$" + name + ":" + ctx + "}"
	}
	mac, found := s.c.lookup(s.o, key)
	if !found && hasCtx {
		key = "{$" + name + "}"
		mac, found = s.c.lookup(s.o, key)
	}
	ident := strings.TrimSuffix(strings.TrimPrefix(key, "{$"), "}")
	if found && !mac.secret && mac.value != "" {
		if m != expand {
			return mac.value
		}
		return "{" + s.macroVariable(key, macroVar(ident), mac.value) + "}"
	}
	if m == probe {
		return "${" + envName(ident) + "}"
	}
	var why string
	switch {
	case found && mac.vault:
		why = key + " is a vault secret"
	case found && mac.secret:
		why = key + " is a secret macro"
	case found:
		why = key + " has no value in the export"
	default:
		why = key + " is not defined in this export (a global macro?)"
		if missing := s.c.missingLinks(s.o); len(missing) > 0 {
			why = fmt.Sprintf("%s is not defined in this export: it may come from the linked %s not exported with it, or be global", key, listNames(quoteAll(missing)))
		}
	}
	ref := "${" + s.c.envRef(envName(ident), why) + "}"
	if m == literal {
		return ref
	}
	return "{" + s.macroVariable(key, macroVar(ident), ref) + "}"
}

// macroVariable is the check variable holding a macro's value, made on
// first use under a name no scenario variable has.
func (s *scen) macroVariable(key, want, value string) string {
	if v, ok := s.mvarOf[key]; ok {
		return v
	}
	name := s.unique(want)
	s.mvarOf[key] = name
	s.mvars = append(s.mvars, config.Pair{Key: name, Value: value})
	s.foreignEnv("variable "+name, value)
	return name
}

// unique takes a variable name no other variable of the scenario has:
// want, else want_2, want_3…
func (s *scen) unique(want string) string {
	name := want
	for n := max(2, s.next[want]); s.taken[name]; n++ {
		name = fmt.Sprintf("%s_%d", want, n)
		s.next[want] = n + 1
	}
	s.taken[name] = true
	return name
}

// foreignEnv warns about ${NAME} the export itself holds: vigie would read
// it as an environment reference.
func (s *scen) foreignEnv(field, out string) {
	for _, m := range envRefRe.FindAllStringSubmatch(out, -1) {
		if _, ours := s.c.env[m[1]]; !ours {
			s.c.notes.add(s.check, "%s contains ${%s}, which vigie reads as an environment variable", field, m[1])
		}
	}
}

// lookup finds a macro on o, then on the templates it links (breadth
// first, each once).
func (c *converter) lookup(o *owner, key string) (macro, bool) {
	k := lookupKey{o, key}
	if r, ok := c.lookups[k]; ok {
		return r.m, r.found
	}
	m, found := c.search(o, key)
	c.lookups[k] = lookupResult{m, found}
	return m, found
}

type lookupKey struct {
	o   *owner
	key string
}

type lookupResult struct {
	m     macro
	found bool
}

func (c *converter) search(o *owner, key string) (macro, bool) {
	seen := map[*owner]bool{}
	queue := []*owner{o}
	for len(queue) > 0 {
		cur := queue[0]
		queue = queue[1:]
		if seen[cur] {
			continue
		}
		seen[cur] = true
		if m, ok := cur.macros[key]; ok {
			return m, true
		}
		for _, l := range cur.links {
			if t := c.exp.byName[l]; t != nil {
				queue = append(queue, t)
			}
		}
	}
	return macro{}, false
}

// missingLinks are the templates o links, directly or through the ones
// exported, that the export does not hold.
func (c *converter) missingLinks(o *owner) []string {
	var out []string
	seen := map[string]bool{}
	var walk func(o *owner, depth int)
	walk = func(o *owner, depth int) {
		for _, l := range o.links {
			if seen[l] || depth > maxDepth {
				continue
			}
			seen[l] = true
			if t := c.exp.byName[l]; t != nil {
				walk(t, depth+1)
			} else {
				out = append(out, l)
			}
		}
	}
	walk(o, 0)
	return out
}

func quoteAll(names []string) []string {
	out := make([]string, len(names))
	for i, n := range names {
		out[i] = fmt.Sprintf("%q", n)
	}
	return out
}

// envRef records an environment variable the output needs and why.
func (c *converter) envRef(name, why string) string {
	if _, ok := c.env[name]; !ok {
		c.env[name] = why
	}
	return name
}
