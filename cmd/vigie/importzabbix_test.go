package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"vigie/checks/zabbix"
)

// TestImportZabbixGolden: the command prints exactly the golden files the
// converter's own tests keep (testdata/zabbix/*.expected.*).
func TestImportZabbixGolden(t *testing.T) {
	for _, name := range []string{"6.0.yaml", "7.0.yaml", "6.4.xml", "7.2.json"} {
		t.Run(name, func(t *testing.T) {
			dir := "../../testdata/zabbix"
			var stdout, stderr bytes.Buffer
			if code := importZabbixCmd([]string{filepath.Join(dir, name)}, &stdout, &stderr); code != 0 {
				t.Fatalf("exit %d, stderr:\n%s", code, stderr.String())
			}
			base := strings.TrimSuffix(name, filepath.Ext(name))
			for file, got := range map[string]string{base + ".expected.yml": stdout.String(), base + ".expected.stderr": stderr.String()} {
				want, err := os.ReadFile(filepath.Join(dir, file))
				if err != nil {
					t.Fatal(err)
				}
				if got != string(want) {
					t.Errorf("output differs from %s:\n--- got\n%s\n--- want\n%s", file, got, want)
				}
			}
		})
	}
}

func TestImportZabbixFailures(t *testing.T) {
	dir := t.TempDir()
	notExport := filepath.Join(dir, "notes.yaml")
	os.WriteFile(notExport, []byte("shopping: [bread, milk]\n"), 0o644)
	broken := filepath.Join(dir, "broken.xml")
	os.WriteFile(broken, []byte("<zabbix_export><version>6.0</zabbix_export>"), 0o644)
	huge := filepath.Join(dir, "huge.yaml")
	f, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	f.Truncate(zabbix.MaxInput + 1) // sparse: nothing written
	f.Close()

	for name, tc := range map[string]struct {
		args []string
		code int
		msg  string
	}{
		"no file":          {nil, 2, "usage: vigie import-zabbix FILE"},
		"two files":        {[]string{"a", "b"}, 2, "usage:"},
		"unknown flag":     {[]string{"-x", "a"}, 2, "flag provided but not defined"},
		"help":             {[]string{"-h"}, 0, "usage:"},
		"missing file":     {[]string{filepath.Join(dir, "nope.yaml")}, 1, "no such file"},
		"not an export":    {[]string{notExport}, 1, notExport + ": not a Zabbix export: no zabbix_export"},
		"broken XML":       {[]string{broken}, 1, "cannot read it as XML"},
		"larger than 32MB": {[]string{huge}, 1, "larger than 32 MiB"},
	} {
		t.Run(name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := importZabbixCmd(tc.args, &stdout, &stderr)
			if code != tc.code || !strings.Contains(stderr.String(), tc.msg) {
				t.Errorf("exit %d, stderr %q; want exit %d saying %q", code, stderr.String(), tc.code, tc.msg)
			}
			if code != 0 && stdout.Len() > 0 {
				t.Errorf("a failure wrote to stdout: %q", stdout.String())
			}
		})
	}
}

// TestImportZabbixDispatch: `vigie import-zabbix` reaches the command, and
// a failure it already explained is not printed a second time by main.
func TestImportZabbixDispatch(t *testing.T) {
	var stdout, stderr bytes.Buffer
	err := run(context.Background(), []string{"import-zabbix"}, nil, &stdout, &stderr)
	var ee exitError
	if !errors.As(err, &ee) || ee.code != 2 || !errors.Is(err, flag.ErrHelp) {
		t.Errorf("run: %v, want exit 2 that main does not print", err)
	}
	if !strings.Contains(stderr.String(), "usage: vigie import-zabbix") {
		t.Errorf("stderr %q", stderr.String())
	}
	if err := run(context.Background(), []string{"import-zabbix", "../../testdata/zabbix/6.4.xml"}, nil, &stdout, &stderr); err != nil {
		t.Errorf("run: %v", err)
	}
	if !strings.Contains(stdout.String(), "checks:\n") {
		t.Errorf("no checks on stdout: %q", stdout.String())
	}
}
