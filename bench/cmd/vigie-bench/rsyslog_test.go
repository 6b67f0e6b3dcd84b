package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The configuration the harness writes must be one rsyslogd accepts (-N1:
// check only). Skipped when rsyslog is not installed, unless CI=true.
func TestRsyslogConfigValid(t *testing.T) {
	if _, err := os.Stat(defaultRsyslogd); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s missing (CI=true)", defaultRsyslogd)
		}
		t.Skipf("%s missing", defaultRsyslogd)
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "rsyslog.conf")
	text := rsyslogConfig(dir, filepath.Join(dir, "out.log"), 40514, 40515)
	for _, want := range []string{`module(load="imtcp")`, `module(load="imudp")`, `type="omfile"`, `maxMessageSize="64k"`, `address="127.0.0.1"`} {
		if !strings.Contains(text, want) {
			t.Errorf("configuration lacks %s", want)
		}
	}
	if strings.Contains(text, "imuxsock") || strings.Contains(text, "imklog") {
		t.Error("configuration loads imuxsock or imklog")
	}
	os.WriteFile(conf, []byte(text), 0o644)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, defaultRsyslogd, "-N1", "-f", conf).CombinedOutput()
	if err != nil {
		t.Fatalf("rsyslogd -N1: %v\n%s", err, out)
	}
}
