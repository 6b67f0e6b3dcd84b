package checks

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"vigie/cmd/config"
)

func TestPingLoopback(t *testing.T) {
	if os.Getuid() != 0 {
		// Unprivileged ICMP may still be allowed by ping_group_range.
		if b, _ := os.ReadFile("/proc/sys/net/ipv4/ping_group_range"); strings.TrimSpace(string(b)) == "1\t0" {
			t.Skip("neither root nor allowed by net.ipv4.ping_group_range")
		}
	}
	for _, keys := range []string{"", "privileged: true"} {
		c := loadCheck(t, "name: lo\ntype: ping\nhost: 127.0.0.1\ncount: 2\ntimeout: 5s\n"+keys)
		res := run(t, c)
		if !res.Success {
			t.Fatalf("%q: %s", keys, res.Error)
		}
		v := res.Values
		if v["sent"] != 2 || v["received"] != 2 || v["loss_ratio"] != 0 ||
			v["rtt_min_ms"] <= 0 || v["rtt_min_ms"] > v["rtt_avg_ms"] || v["rtt_avg_ms"] > v["rtt_max_ms"] {
			t.Errorf("%q: values %v", keys, v)
		}
	}
}

// TestPingWithoutPrivileges runs the probe as nobody, where the kernel
// refuses both socket kinds, and checks that the error names both fixes.
func TestPingWithoutPrivileges(t *testing.T) {
	if os.Getenv("VIGIE_PING_CHILD") == "1" {
		c := &config.Check{Name: "lo", Type: "ping", Host: "127.0.0.1", Count: 1, Timeout: config.Duration(2e9)}
		json.NewEncoder(os.Stdout).Encode(Run(context.Background(), c, nil))
		return
	}
	if os.Getuid() != 0 {
		t.Skip("needs root to drop to nobody")
	}
	if b, _ := os.ReadFile("/proc/sys/net/ipv4/ping_group_range"); strings.TrimSpace(string(b)) != "1\t0" {
		t.Skipf("net.ipv4.ping_group_range is %q: unprivileged ICMP is allowed here", b)
	}
	// Copy the test binary where nobody can run it.
	dir := t.TempDir()
	os.Chmod(dir, 0o755)
	os.Chmod(filepath.Dir(dir), 0o755) // the test's own temporary folder
	bin := filepath.Join(dir, "checks.test")
	src, err := os.Open(os.Args[0])
	if err != nil {
		t.Fatal(err)
	}
	dst, _ := os.OpenFile(bin, os.O_CREATE|os.O_WRONLY, 0o755)
	io.Copy(dst, src)
	src.Close()
	dst.Close()
	for d := dir; d != "/" && d != "."; d = filepath.Dir(d) {
		if fi, err := os.Stat(d); err == nil && fi.Mode().Perm()&0o001 == 0 {
			t.Skipf("%s is not reachable by nobody", d)
		}
	}
	cmd := exec.Command(bin, "-test.run=^TestPingWithoutPrivileges$")
	cmd.Env = append(os.Environ(), "VIGIE_PING_CHILD=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	var res Result
	line, _, _ := strings.Cut(string(out), "\n")
	if err := json.Unmarshal([]byte(line), &res); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	t.Logf("as nobody: %s", res.Error)
	for _, want := range []string{"cannot send ICMP", "net.ipv4.ping_group_range", "CAP_NET_RAW", "setcap cap_net_raw+ep"} {
		if res.Success || !strings.Contains(res.Error, want) {
			t.Errorf("error %q does not say %q", res.Error, want)
		}
	}
}

func TestPermissionMessage(t *testing.T) {
	eperm := fmt.Errorf("socket: %w", syscall.EPERM)
	if !isPermission(eperm) || !isPermission(&os.SyscallError{Syscall: "socket", Err: syscall.EACCES}) || isPermission(errors.New("no route")) {
		t.Error("isPermission")
	}
	// privileged: true tries only raw sockets: only their fix is named.
	msg := permissionMessage(nil, eperm)
	if strings.Contains(msg, "ping_group_range") || !strings.Contains(msg, "CAP_NET_RAW") {
		t.Error(msg)
	}
}
