package zabbix

import (
	"fmt"
	"strings"
)

// maxName is the longest check name vigie accepts.
const maxName = 100

// slug turns a Zabbix name into [a-z0-9_.-]: letters are lowered, every
// run of other characters becomes one '-', and the result starts with a
// letter or digit (check names appear in URLs and metric labels).
func slug(s string) string {
	var b strings.Builder
	dash := false
	for _, r := range accents.Replace(strings.ToLower(s)) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '_', r == '.':
			b.WriteRune(r)
			dash = false
		default:
			if !dash {
				b.WriteByte('-')
				dash = true
			}
		}
	}
	out := strings.TrimLeft(b.String(), "-_.")
	out = strings.TrimRight(out, "-_.")
	if len(out) > maxName {
		out = strings.TrimRight(out[:maxName], "-_.")
	}
	return out
}

// accents folds the accented letters of Western European names (scenario
// names are often French or German) so "Sauvegarde générale" keeps its
// letters; other scripts become '-'.
var accents = strings.NewReplacer(
	"à", "a", "á", "a", "â", "a", "ä", "a", "ã", "a", "å", "a", "æ", "ae",
	"ç", "c", "è", "e", "é", "e", "ê", "e", "ë", "e",
	"ì", "i", "í", "i", "î", "i", "ï", "i", "ñ", "n",
	"ò", "o", "ó", "o", "ô", "o", "ö", "o", "õ", "o", "ø", "o", "œ", "oe",
	"ù", "u", "ú", "u", "û", "u", "ü", "u", "ý", "y", "ÿ", "y", "ß", "ss",
)

// pending is a scenario waiting for its check name.
type pending struct {
	owner *owner
	test  *node
	name  string // the check name, once assigned
}

// assignNames gives each scenario a unique check name: its own name when
// no other scenario has it, else prefixed by its template or host
// ("odoo-by-http.odoo-login"), and numbered when even that collides.
func assignNames(ps []*pending) {
	base := make([]string, len(ps))
	seen := map[string]int{}
	for i, p := range ps {
		base[i] = slug(p.test.text("name"))
		if base[i] == "" {
			base[i] = "scenario"
		}
		seen[base[i]]++
	}
	used := map[string]bool{}
	next := map[string]int{} // per name, the number to try next
	for i, p := range ps {
		name := base[i]
		if seen[name] > 1 {
			prefix := slug(p.owner.name)
			if prefix == "" {
				prefix = p.owner.kind()
			}
			name = clip(prefix + "." + name)
		}
		if used[name] {
			for n := max(2, next[name]); ; n++ {
				suffix := fmt.Sprintf("-%d", n)
				cand := clip(name[:min(len(name), maxName-len(suffix))] + suffix)
				if !used[cand] {
					next[name] = n + 1
					name = cand
					break
				}
			}
		}
		used[name] = true
		p.name = name
	}
}

func clip(s string) string {
	if len(s) > maxName {
		s = strings.TrimRight(s[:maxName], "-_.")
	}
	return s
}

// varName makes a vigie variable name ([A-Za-z_][A-Za-z0-9_]*) of s.
func varName(s string) string {
	var b strings.Builder
	for i, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r == '_':
			b.WriteRune(r)
		case r >= '0' && r <= '9':
			if i == 0 {
				b.WriteByte('_')
			}
			b.WriteRune(r)
		default:
			b.WriteByte('_')
		}
	}
	if b.Len() == 0 {
		return "var"
	}
	return b.String()
}

// macroVar is the variable a user macro becomes: {$ERP.URL} → erp_url.
func macroVar(name string) string { return strings.ToLower(varName(name)) }

// envName is the environment variable a macro becomes: {$ERP.PASSWORD} →
// ERP_PASSWORD, {HOST.CONN} → HOST_CONN.
func envName(name string) string { return strings.ToUpper(varName(name)) }
