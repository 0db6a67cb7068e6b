package spec

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDigest: the digest changes with any byte of any file and with the files' order, and the files
// are read within the spec's bounds (a file past them is an error, not a read without end).
func TestDigest(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml")
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(a, "version: 1\nfleet: x\n")
	write(b, "desktops: []\n")
	digest := func(files ...string) string {
		d, err := Digest(files)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	base := digest(a, b)
	if !strings.HasPrefix(base, "sha256:") || base != digest(a, b) {
		t.Fatalf("digest %q is not stable", base)
	}
	if digest(b, a) == base {
		t.Error("the files' order does not change the digest")
	}
	write(b, "desktops: [ ]\n")
	if digest(a, b) == base {
		t.Error("a changed byte does not change the digest")
	}
	big := filepath.Join(dir, "big.yaml")
	if err := os.WriteFile(big, make([]byte, maxFileSize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Digest([]string{big}); err == nil {
		t.Error("a file over the spec's bound was read")
	}
}
