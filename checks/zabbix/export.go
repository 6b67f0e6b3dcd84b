package zabbix

import (
	"fmt"
	"strconv"
	"strings"
)

// export is what the converter needs from a Zabbix export: the templates
// and hosts (each with its macros and web scenarios) and a count of what
// cannot be carried over.
type export struct {
	version  string
	owners   []*owner          // templates first, then hosts, in file order
	byName   map[string]*owner // templates by technical name
	notCarry []carried
}

// owner is a template or a host: what web scenarios belong to.
type owner struct {
	isHost    bool
	name      string           // technical name: template.template, host.host
	visible   string           // name shown in Zabbix (host.name), "" when the same
	macros    map[string]macro // by normalised name; the first definition wins
	links     []string         // names of the templates it links
	iface     *iface           // a host's main interface, nil for templates
	httptests []*node
}

func (o *owner) kind() string {
	if o.isHost {
		return "host"
	}
	return "template"
}

// macro is a user macro defined on a template or host. name is the macro as
// written ({$ODOO.URL}, {$LOW:"/tmp"}) with any context unquoted.
type macro struct {
	name, value string
	secret      bool // SECRET_TEXT or VAULT: the export holds no usable value
	vault       bool
}

// iface is the interface {HOST.IP}, {HOST.DNS}, {HOST.CONN} and
// {HOST.PORT} resolve to.
type iface struct {
	ip, dns, port string
	useIP         bool
}

func (f *iface) conn() string {
	if f.useIP || f.dns == "" {
		return f.ip
	}
	return f.dns
}

// carried is one kind of Zabbix object that has no vigie equivalent,
// counted so it is reported once rather than dropped in silence.
type carried struct {
	kind   kind
	count  int
	owners []string // templates or hosts it came from ("" for the export level)
}

// Defaults of web scenario fields when an export leaves them out. Exports
// since 5.2 omit a field that has its default value; the values below are
// those of the import validators of 6.0, 6.2, 6.4, 7.0, 7.2 and 7.4
// (ui/include/classes/import/validators/C60XmlValidator.php … C74), which
// agree for every web scenario field. Older exports (4.x, 5.0) wrote every
// field, with numbers (0/1) where newer ones write names; both are read.
const (
	defaultDelay       = "1m"
	defaultAttempts    = 1
	defaultAgent       = "Zabbix"
	defaultStepTimeout = "15s"
	// verify_peer and verify_host default to NO, follow_redirects to YES,
	// retrieve_mode to BODY, status to ENABLED, authentication to NONE.
)

// interfaceTypeRank is the order in which Zabbix picks the interface that
// {HOST.*} macros refer to: agent first, then SNMP, JMX, IPMI.
var interfaceTypeRank = map[string]int{"ZABBIX": 0, "1": 0, "": 0, "SNMP": 1, "2": 1, "JMX": 2, "4": 2, "IPMI": 3, "3": 3}

// Keys of a template or host that hold things vigie does not import.
var ownerNotCarried = []struct {
	key  string
	kind kind
}{
	{"items", kind{"item", "items"}},
	{"discovery_rules", kind{"discovery rule (LLD)", "discovery rules (LLD)"}},
	{"dashboards", kind{"template dashboard", "template dashboards"}},
	{"valuemaps", kind{"value map", "value maps"}},
}

// Keys at the top of an export that vigie does not import.
var exportNotCarried = []struct {
	key  string
	kind kind
}{
	{"triggers", triggerKind},
	{"graphs", kind{"graph", "graphs"}},
	{"maps", kind{"network map", "network maps"}},
	{"media_types", kind{"media type", "media types"}},
	{"images", kind{"image", "images"}},
	{"value_maps", kind{"value map", "value maps"}},
	{"screens", kind{"screen", "screens"}},
}

// kind names a kind of Zabbix object in the singular and the plural.
type kind struct{ one, many string }

func (k kind) count(n int) string {
	if n == 1 {
		return "1 " + k.one
	}
	return fmt.Sprintf("%d %s", n, k.many)
}

var (
	triggerKind  = kind{"trigger", "triggers"}
	snmpItemKind = kind{"SNMP item", "SNMP items"}
	snmpIfKind   = kind{"SNMP interface", "SNMP interfaces"}
)

func readExport(root *node) (*export, error) {
	top := root.get("zabbix_export")
	if top == nil || top.kind != mapNode {
		return nil, fmt.Errorf("%w: no zabbix_export at the top of the file (export templates or hosts from Zabbix 6.0–7.4: Data collection → Templates → Export)", ErrNotExport)
	}
	e := &export{version: top.text("version"), byName: map[string]*owner{}}
	counts := map[kind]*carried{}
	var kinds []kind
	count := func(kind kind, ownerName string, n int) {
		if n == 0 {
			return
		}
		c := counts[kind]
		if c == nil {
			c = &carried{kind: kind}
			counts[kind] = c
			kinds = append(kinds, kind)
		}
		c.count += n
		if ownerName != "" && (len(c.owners) == 0 || c.owners[len(c.owners)-1] != ownerName) {
			c.owners = append(c.owners, ownerName)
		}
	}
	for _, isHost := range []bool{false, true} {
		list := "templates"
		if isHost {
			list = "hosts"
		}
		for _, t := range top.items(list) {
			o := readOwner(t, isHost)
			if o.name == "" {
				continue
			}
			e.owners = append(e.owners, o)
			if _, dup := e.byName[o.name]; !dup && !isHost {
				e.byName[o.name] = o // what hosts and templates link
			}
			for _, k := range ownerNotCarried {
				count(k.kind, o.name, len(t.items(k.key)))
			}
			triggers, snmp := 0, 0
			for _, it := range t.items("items") {
				triggers += len(it.items("triggers"))
				if typ := it.text("type"); typ == "SNMP_AGENT" || typ == "20" {
					snmp++
				}
			}
			count(triggerKind, o.name, triggers)
			count(snmpItemKind, o.name, snmp)
			for _, f := range t.items("interfaces") {
				if typ := f.text("type"); typ == "SNMP" || typ == "2" {
					count(snmpIfKind, o.name, 1)
				}
			}
		}
	}
	for _, k := range exportNotCarried {
		count(k.kind, "", len(top.items(k.key)))
	}
	for _, k := range kinds {
		e.notCarry = append(e.notCarry, *counts[k])
	}
	return e, nil
}

func readOwner(t *node, isHost bool) *owner {
	o := &owner{isHost: isHost, httptests: t.items("httptests"), macros: map[string]macro{}}
	if isHost {
		o.name = t.text("host")
		if v := t.text("name"); v != "" && v != o.name {
			o.visible = v
		}
		o.iface = mainInterface(t.items("interfaces"))
	} else {
		o.name = t.text("template")
	}
	for _, l := range t.items("templates") {
		if n := l.text("name"); n != "" {
			o.links = append(o.links, n)
		}
	}
	for _, m := range t.items("macros") {
		name := normMacro(m.text("macro"))
		if name == "" {
			continue
		}
		mac := macro{name: name, value: m.text("value")}
		switch strings.ToUpper(m.text("type")) {
		case "SECRET_TEXT", "1":
			mac.secret = true
		case "VAULT", "2":
			mac.secret, mac.vault = true, true
		}
		if _, dup := o.macros[name]; !dup {
			o.macros[name] = mac
		}
	}
	return o
}

// mainInterface is the default interface of the first type in Zabbix's
// order; exports leave out default: YES, useip: YES, ip: 127.0.0.1 and
// port: 10050.
func mainInterface(list []*node) *iface {
	var best *iface
	bestRank := len(interfaceTypeRank) + 1
	for _, f := range list {
		if d, ok := f.str("default"); ok && !yes(d, true) {
			continue
		}
		rank, known := interfaceTypeRank[strings.ToUpper(f.text("type"))]
		if !known || rank >= bestRank {
			continue
		}
		ip, ok := f.str("ip")
		if !ok {
			ip = "127.0.0.1"
		}
		port, ok := f.str("port")
		if !ok {
			port = "10050"
		}
		useIP := true
		if u, ok := f.str("useip"); ok {
			useIP = yes(u, true)
		}
		best, bestRank = &iface{ip: ip, dns: f.text("dns"), port: port, useIP: useIP}, rank
	}
	return best
}

// yes reads YES/NO (names since 5.2, 1/0 before); def is for anything else.
func yes(s string, def bool) bool {
	switch strings.ToUpper(strings.TrimSpace(s)) {
	case "YES", "1", "TRUE":
		return true
	case "NO", "0", "FALSE":
		return false
	}
	return def
}

// normMacro writes {$NAME:"ctx"} as {$NAME:ctx}, the form lookups use.
func normMacro(s string) string {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "{$") || !strings.HasSuffix(s, "}") {
		return ""
	}
	name, ctx, hasCtx := strings.Cut(s[2:len(s)-1], ":")
	if !hasCtx {
		return "{$" + name + "}"
	}
	if u, err := strconv.Unquote(ctx); err == nil && strings.HasPrefix(ctx, `"`) {
		ctx = u
	}
	return "{$" + name + ":" + ctx + "}"
}

// versionKnown reports whether the export's version is one whose shape and
// defaults were checked (6.0 to 7.4).
func versionKnown(v string) bool {
	major, minor, ok := strings.Cut(v, ".")
	if !ok {
		return false
	}
	ma, err1 := strconv.Atoi(major)
	mi, err2 := strconv.Atoi(minor)
	if err1 != nil || err2 != nil {
		return false
	}
	return (ma == 6 && mi <= 4) || (ma == 7 && mi <= 4)
}
