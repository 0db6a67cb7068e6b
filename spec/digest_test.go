package spec

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDigest: Fleet.Digest sums the bytes the loader parsed, each file once in order, in the form saved
// plans have always recorded (so they stay valid); it changes with any byte and with the files' order.
func TestDigest(t *testing.T) {
	dir := t.TempDir()
	a, b := filepath.Join(dir, "a.yaml"), filepath.Join(dir, "b.yaml")
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(a, "version: 1\nfleet: x\n---\nversion: 1\nfleet: x\n")
	write(b, "version: 1\nfleet: x\ndesktops: []\n")
	digest := func(files ...string) string {
		fl, diags := Load(files...)
		if diags.HasErrors() || fl == nil {
			t.Fatalf("load %v: %v", files, diags)
		}
		return fl.Digest
	}
	h := sha256.New()
	for _, f := range []string{a, b} {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(h, "%s\x00%d\x00", f, len(data))
		h.Write(data)
	}
	want := "sha256:" + hex.EncodeToString(h.Sum(nil))
	base := digest(a, b)
	if base != want {
		t.Fatalf("digest %s, want %s (file a's two documents counted once, in the form saved plans record)", base, want)
	}
	if digest(b, a) == base {
		t.Error("the files' order does not change the digest")
	}
	write(b, strings.Replace("version: 1\nfleet: x\ndesktops: []\n", "[]", "[ ]", 1))
	if digest(a, b) == base {
		t.Error("a changed byte does not change the digest")
	}
}
