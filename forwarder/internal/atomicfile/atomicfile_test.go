package atomicfile

import (
	"os"
	"path/filepath"
	"testing"
)

func TestWriteReplacesWholeAndLeavesNoTemp(t *testing.T) {
	p := filepath.Join(t.TempDir(), "state.json")
	for _, content := range []string{"first, longer content", "second"} {
		if err := WriteDurable(p, []byte(content)); err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(p)
		if err != nil || string(got) != content {
			t.Fatalf("read %q, %v; want %q", got, err, content)
		}
	}
	if _, err := os.Stat(p + TempSuffix); !os.IsNotExist(err) {
		t.Errorf("temporary file left: %v", err)
	}
	if fi, _ := os.Stat(p); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode().Perm())
	}
}

func TestWriteFailureKeepsTheOldFile(t *testing.T) {
	p := filepath.Join(t.TempDir(), "state.json")
	if err := WriteDurable(p, []byte("old")); err != nil {
		t.Fatal(err)
	}
	// A directory where the temporary file goes makes the write fail.
	if err := os.MkdirAll(filepath.Join(p+TempSuffix, "x"), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := WriteDurable(p, []byte("new")); err == nil {
		t.Fatal("write succeeded with its temporary path blocked")
	}
	if got, _ := os.ReadFile(p); string(got) != "old" {
		t.Errorf("old content lost: %q", got)
	}
}

func TestWritePartsInOrder(t *testing.T) {
	p := filepath.Join(t.TempDir(), "batch")
	if err := Write(p, []byte("head,"), nil, []byte("records,"), []byte("tail")); err != nil {
		t.Fatal(err)
	}
	if got, err := os.ReadFile(p); err != nil || string(got) != "head,records,tail" {
		t.Fatalf("read %q, %v", got, err)
	}
}
