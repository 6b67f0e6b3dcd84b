package zabbix

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// The fuzz targets feed each decoder directly (Convert would send a YAML
// input starting with { to the JSON one). Whatever the input: no panic,
// and a conversion that succeeds writes YAML whose check names are valid
// and unique.

func FuzzConvertYAML(f *testing.F) {
	seed(f, ".yaml", ".yml")
	f.Add([]byte("zabbix_export:\n  templates:\n    - template: T\n      httptests:\n        - name: W\n          steps:\n            - {name: s, url: 'http://{$A:\"x\"}/{HOST.CONN}/{v}'}\n"))
	f.Add([]byte("a: &x [*x]\n"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzOne(t, data, formatYAML) })
}

func FuzzConvertXML(f *testing.F) {
	seed(f, ".xml")
	f.Add([]byte("<zabbix_export><templates><template><template>T</template><httptests><httptest><name>W</name><steps><step><url>x</url><posts>a=1</posts></step></steps></httptest></httptests></template></templates></zabbix_export>"))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzOne(t, data, formatXML) })
}

func FuzzConvertJSON(f *testing.F) {
	seed(f, ".json")
	f.Add([]byte(`{"zabbix_export":{"hosts":[{"host":"h","interfaces":[{"ip":"1.2.3.4"}],"httptests":[{"name":"W","steps":[{"url":"http://{HOST.IP}/","posts":[{"name":"a","value":"{$B}"}]}]}]}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) { fuzzOne(t, data, formatJSON) })
}

// seed adds the fixtures with one of the extensions.
func seed(f *testing.F, exts ...string) {
	entries, err := os.ReadDir(fixtureDir)
	if err != nil {
		f.Fatal(err)
	}
	for _, e := range entries {
		name := e.Name()
		for _, ext := range exts {
			if strings.HasSuffix(name, ext) && !strings.Contains(name, ".expected.") {
				data, err := os.ReadFile(filepath.Join(fixtureDir, name))
				if err != nil {
					f.Fatal(err)
				}
				f.Add(data)
			}
		}
	}
}

var validName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$`)

func fuzzOne(t *testing.T, data []byte, f format) {
	im, err := convert(data, f)
	if err != nil {
		return
	}
	if _, err := im.YAML(); err != nil {
		t.Fatalf("YAML: %v", err)
	}
	seen := map[string]bool{}
	for _, c := range im.Checks {
		if !validName.MatchString(c.Name) || seen[c.Name] {
			t.Fatalf("check name %q is invalid or repeated", c.Name)
		}
		seen[c.Name] = true
	}
	if len(im.Checks)+im.Skipped != im.Scenarios {
		t.Fatalf("%d checks + %d skipped != %d scenarios", len(im.Checks), im.Skipped, im.Scenarios)
	}
}
