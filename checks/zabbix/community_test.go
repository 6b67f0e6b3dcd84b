package zabbix

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// communityDir is where the real community template exports are kept,
// beside the repository (never copied into it): ../shared/zabbix-exports
// from the repository root, or VIGIE_ZABBIX_EXPORTS.
func communityDir(t *testing.T) string {
	dir := os.Getenv("VIGIE_ZABBIX_EXPORTS")
	if dir == "" {
		dir = "../../../shared/zabbix-exports"
	}
	if _, err := os.Stat(dir); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the community Zabbix exports are required in CI: %v", err)
		}
		t.Skipf("no community Zabbix exports at %s (set VIGIE_ZABBIX_EXPORTS): %v", dir, err)
	}
	return dir
}

// TestCommunityExports converts every real export there: no error, every
// web scenario either a check or skipped with a warning, the counts taken
// from the file by a separate reading, and the output loads with
// config.Load.
func TestCommunityExports(t *testing.T) {
	dir := communityDir(t)
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries {
		ext := strings.ToLower(filepath.Ext(e.Name()))
		if e.IsDir() || (ext != ".yaml" && ext != ".yml" && ext != ".xml" && ext != ".json") {
			continue
		}
		n++
		t.Run(e.Name(), func(t *testing.T) {
			data, err := os.ReadFile(filepath.Join(dir, e.Name()))
			if err != nil {
				t.Fatal(err)
			}
			im, err := Convert(data)
			if err != nil {
				t.Fatalf("Convert: %v", err)
			}
			im.Source = e.Name()
			want := countHTTPTests(t, ext, data)
			if want == 0 {
				t.Fatalf("the file holds no web scenario: not a useful sample")
			}
			if im.Scenarios != want {
				t.Errorf("found %d web scenarios, the file holds %d", im.Scenarios, want)
			}
			if len(im.Checks)+im.Skipped != want {
				t.Errorf("%d checks + %d skipped, want %d scenarios", len(im.Checks), im.Skipped, want)
			}
			if im.Skipped > 0 && !strings.Contains(strings.Join(im.Warnings, "\n"), "skipped") {
				t.Errorf("%d scenarios skipped without a warning saying so:\n%s", im.Skipped, strings.Join(im.Warnings, "\n"))
			}
			for _, name := range im.Env {
				// A value that passes any field's check: a host for
				// {HOST.CONN}, a URL for a {$…URL} macro.
				v := "env.invalid"
				if strings.HasSuffix(name, "URL") {
					v = "http://env.invalid"
				}
				t.Setenv(name, v)
			}
			loaded := load(t, im)
			if len(loaded) != len(im.Checks) {
				t.Errorf("config.Load read %d checks, the conversion has %d", len(loaded), len(im.Checks))
			}
			for i := range loaded {
				if loaded[i].Name != im.Checks[i].Name || len(loaded[i].Steps) != len(im.Checks[i].Steps) {
					t.Errorf("check %d: loaded %s with %d steps, converted %s with %d", i,
						loaded[i].Name, len(loaded[i].Steps), im.Checks[i].Name, len(im.Checks[i].Steps))
				}
			}
		})
	}
	if n == 0 {
		t.Fatalf("no export in %s", dir)
	}
}

// countHTTPTests counts web scenarios without the converter's reader: XML
// by its <httptest> elements, YAML and JSON through a plain decode.
func countHTTPTests(t *testing.T, ext string, data []byte) int {
	t.Helper()
	if ext == ".xml" {
		return strings.Count(string(data), "<httptest>")
	}
	var doc struct {
		Export struct {
			Templates []struct {
				HTTPTests []any `yaml:"httptests"`
			} `yaml:"templates"`
			Hosts []struct {
				HTTPTests []any `yaml:"httptests"`
			} `yaml:"hosts"`
		} `yaml:"zabbix_export"`
	}
	if err := yaml.Unmarshal(data, &doc); err != nil { // JSON is YAML too
		t.Fatal(err)
	}
	n := 0
	for _, tpl := range doc.Export.Templates {
		n += len(tpl.HTTPTests)
	}
	for _, h := range doc.Export.Hosts {
		n += len(h.HTTPTests)
	}
	return n
}
