// Package zabbix converts the web scenarios of a Zabbix 6.0–7.4 export
// (YAML, XML or JSON, templates and/or hosts) into vigie scenario checks.
//
// Macros with a value become check variables, secret ones environment
// references (${NAME}); whatever has no vigie equivalent is reported in
// Warnings, never dropped in silence. docs/zabbix-import.md has the table
// of what maps to what.
package zabbix

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"

	"vigie/cmd/config"
)

// MaxInput is the largest export Convert reads. The biggest real template
// exports are a few MiB.
const MaxInput = 32 << 20

var (
	// ErrTooLarge: the export is larger than MaxInput.
	ErrTooLarge = errors.New("the export is larger than 32 MiB")
	// ErrNotExport: the file is not a Zabbix export.
	ErrNotExport = errors.New("not a Zabbix export")
)

// Import is the result of converting one export.
type Import struct {
	// Source names the export in the YAML header (a file name); the caller
	// sets it, Convert only sees bytes.
	Source string
	// Version is the export's zabbix_export.version ("6.0", "7.4").
	Version string
	Checks  []config.Check
	// Warnings are what was not carried over or was changed, one line per
	// kind of problem, naming the checks it touches.
	Warnings []string
	// Env are the environment variables the checks reference (${NAME}),
	// sorted; EnvFrom says what each stands for.
	Env     []string
	EnvFrom map[string]string
	// Scenarios is how many web scenarios the export holds; Skipped how
	// many of them did not become a check (each has a warning).
	Scenarios, Skipped int
}

// Convert reads an export in YAML, XML or JSON, told apart by content.
func Convert(data []byte) (*Import, error) {
	return convert(data, detect(data))
}

func convert(data []byte, f format) (*Import, error) {
	if len(data) > MaxInput {
		return nil, fmt.Errorf("%w (%d bytes): export fewer templates at a time", ErrTooLarge, len(data))
	}
	root, err := decode(data, f)
	if err != nil {
		return nil, fmt.Errorf("%w: cannot read it as %s: %v", ErrNotExport, f, err)
	}
	exp, err := readExport(root)
	if err != nil {
		return nil, err
	}
	c := &converter{exp: exp, env: map[string]string{}, lookups: map[lookupKey]lookupResult{}}
	return c.run(), nil
}

// YAML writes the checks as a vigie configuration that config.Load reads
// as it is: a header comment, then a top-level checks: list. The output
// depends only on the export (no date), so it can be kept under version
// control and compared.
func (im *Import) YAML() ([]byte, error) {
	var b bytes.Buffer
	src := "a Zabbix export"
	if im.Version != "" {
		src = "a Zabbix " + im.Version + " export"
	}
	if im.Source != "" {
		src += " (" + oneLine(im.Source) + ")"
	}
	fmt.Fprintf(&b, "# vigie checks converted by `vigie import-zabbix` from %s.\n", src)
	fmt.Fprintf(&b, "# %s. Review the warnings it printed before use.\n", im.summary())
	if len(im.Env) > 0 {
		fmt.Fprintf(&b, "# Set in the environment before loading: %s.\n", strings.Join(im.Env, ", "))
	}
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	doc := struct {
		Checks []config.Check `yaml:"checks"`
	}{im.Checks}
	if doc.Checks == nil {
		doc.Checks = []config.Check{}
	}
	if err := enc.Encode(doc); err != nil {
		return nil, err
	}
	if err := enc.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Report is what `vigie import-zabbix` prints on stderr: a summary, the
// warnings, then each environment variable to set.
func (im *Import) Report() string {
	var b strings.Builder
	b.WriteString(im.summary() + "\n")
	for _, w := range im.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", w)
	}
	for _, e := range im.Env {
		fmt.Fprintf(&b, "set %s in the environment (%s)\n", e, im.EnvFrom[e])
	}
	return b.String()
}

// summary is "4 web scenarios, 3 checks, 1 skipped".
func (im *Import) summary() string {
	s := kind{"web scenario", "web scenarios"}.count(im.Scenarios) + ", " + kind{"check", "checks"}.count(len(im.Checks))
	if im.Skipped > 0 {
		s += fmt.Sprintf(", %d skipped", im.Skipped)
	}
	return s
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
