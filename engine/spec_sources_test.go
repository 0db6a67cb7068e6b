package engine_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/deskfleet/deskfleet/engine"
)

// TestSpecSources: a spec lists the files it read, sorted, for whoever must know when it changes
// (--changed-since); so does a spec with errors, the file in error included.
func TestSpecSources(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	accounts := write("b-accounts.yaml", "version: 1\nfleet: lab\naccounts:\n  - {email: ana@example.com, name: ana}\n")
	fleet := write("a-fleet.yaml", `version: 1
fleet: lab
defaults: {site: 宿迁A, profile: win}
profiles:
  win: {product: {gpu: NVIDIA T4, os: windows}, image: Windows10-公共镜像-图像处理型}
desktops:
  - {name: ws}
`)
	write("notes.txt", "not a spec\n")
	sp, err := engine.LoadSpec([]string{dir})
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{fleet, accounts}; !slices.Equal(sp.Sources, want) || sp.Files != 2 {
		t.Errorf("a folder's spec read %v (%d files), want %v: its *.yaml files, sorted, nothing else", sp.Sources, sp.Files, want)
	}
	bad := write("c-bad.yaml", "bogus: 1\n")
	_, err = engine.LoadSpec([]string{dir})
	var se *engine.SpecError
	if !errors.As(err, &se) || !slices.Contains(se.Sources, bad) || len(se.Sources) != 3 || se.Files != 3 {
		t.Errorf("a spec with errors names the files it read, the one in error included: %v", err)
	}
}
