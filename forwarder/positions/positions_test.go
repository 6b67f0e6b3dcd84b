package positions

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRoundTrip(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sub", "positions.json")
	f, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if f.Started("s") {
		t.Fatal("fresh file: source already started")
	}
	e := Entry{Source: "s", Path: "/var/log/a.log", Offset: 42, Fingerprint: "ab", FingerprintLen: 10, Dev: 1, Ino: 2}
	f.Set("k1", e)
	f.Set("k2", Entry{Source: "t", Path: "/b"})
	f.MarkStarted("s")
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	g, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, ok := g.Get("k1"); !ok || got != e {
		t.Fatalf("Get(k1) = %+v, %v; want %+v", got, ok, e)
	}
	if !g.Started("s") || g.Started("t") {
		t.Fatal("Started lost")
	}
	if n := len(g.Entries("s")); n != 1 {
		t.Fatalf("Entries(s): %d entries, want 1", n)
	}
	g.Remove("k2")
	if err := g.Save(); err != nil {
		t.Fatal(err)
	}
	h, _ := Open(path)
	if ks := h.Keys(); len(ks) != 1 || ks[0] != "k1" {
		t.Fatalf("keys after Remove: %v", ks)
	}
}

func TestSaveNoOpWhenUnchanged(t *testing.T) {
	path := filepath.Join(t.TempDir(), "positions.json")
	f, _ := Open(path)
	f.Set("k", Entry{Path: "/a", Offset: 1})
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	st1, _ := os.Stat(path)
	f.Set("k", Entry{Path: "/a", Offset: 1}) // same value
	if f.Dirty() {
		t.Fatal("setting an equal entry made the file dirty")
	}
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	st2, _ := os.Stat(path)
	if !os.SameFile(st1, st2) {
		t.Fatal("unchanged positions were rewritten")
	}
	f.Set("k", Entry{Path: "/a", Offset: 2})
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	st3, _ := os.Stat(path)
	if os.SameFile(st1, st3) {
		t.Fatal("changed positions were not written by rename")
	}
}

// A crash between writing the temporary file and renaming it leaves the
// temporary file: Open ignores its content (and removes it).
func TestLeftoverTempIgnored(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "positions.json")
	f, _ := Open(path)
	f.Set("k", Entry{Path: "/a", Offset: 10})
	if err := f.Save(); err != nil {
		t.Fatal(err)
	}
	tmp := filepath.Join(dir, "positions.json"+tmpPrefix+"123456")
	if err := os.WriteFile(tmp, []byte(`{"version":1,"files":{"k":{"path":"/a","offset":99`), 0o600); err != nil {
		t.Fatal(err)
	}
	g, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	if e, _ := g.Get("k"); e.Offset != 10 {
		t.Fatalf("offset %d, want 10 (the temp file must be ignored)", e.Offset)
	}
	if _, err := os.Stat(tmp); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("leftover temp file not removed: %v", err)
	}
	ents, _ := os.ReadDir(dir)
	if len(ents) != 1 {
		t.Fatalf("dir holds %d files, want 1", len(ents))
	}
}

func TestCorrupt(t *testing.T) {
	for _, tc := range []struct{ name, content, want string }{
		{"truncated", `{"version":1,"files":{"k":{"pa`, "unexpected EOF"},
		{"empty", "", "empty file"},
		{"not json", "offsets: 12\n", "invalid character"},
		{"version", `{"version":7,"files":{}}`, "unsupported version 7"},
		{"unknown field", `{"version":1,"files":{},"extra":1}`, "unknown field"},
		{"negative", `{"version":1,"files":{"k":{"path":"/a","offset":-5,"dev":1,"ino":2}}}`, "negative offset"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "positions.json")
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := Open(path)
			if !errors.Is(err, ErrCorrupt) {
				t.Fatalf("err = %v, want ErrCorrupt", err)
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %q, want the path and %q", err, tc.want)
			}
			b, _ := os.ReadFile(path)
			if string(b) != tc.content {
				t.Fatal("corrupt file was modified")
			}
		})
	}
}
