package spec

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad feeds arbitrary bytes to Load through a file. Load must not panic, every diagnostic must
// name its file, and a spec with no error must keep the invariants later stages rely on. The seed
// corpus is every example plus spec/testdata/fuzz/FuzzLoad (run as ordinary tests by `go test`).
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob("../examples/*/*.yaml")
	seeds = append(seeds, "testdata/spec-example.yaml")
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	// One file per fuzzing process, rewritten for each input: a temporary folder per input would cost
	// more than Load itself.
	p := filepath.Join(f.TempDir(), "fleet.yaml")
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		fl, ds := Load(p)
		if fl == nil {
			t.Fatal("Load returned a nil fleet")
		}
		for _, d := range ds {
			if d.Pos.File != p {
				t.Errorf("diagnostic not naming the file: %s", d)
			}
			if d.Message == "" {
				t.Errorf("diagnostic without a message at %s", d.Pos)
			}
			if d.Severity == Error && d.Pos.Line < 1 {
				t.Errorf("error without a line: %s", d)
			}
		}
		if ds.HasErrors() {
			return
		}
		if len(fl.Desktops) > MaxDesktops {
			t.Errorf("%d desktops, over the limit of %d", len(fl.Desktops), MaxDesktops)
		}
		seen := map[string]bool{}
		for _, d := range fl.Desktops {
			if seen[d.Name] {
				t.Errorf("valid spec with a duplicate desktop %q", d.Name)
			}
			seen[d.Name] = true
			if d.Site == "" || d.Product.IsZero() || d.Image == "" || d.Bandwidth < 1 || d.Network.VPC == "" {
				t.Errorf("valid spec with an incomplete desktop %+v", d)
			}
		}
		if fl.Name == "" || fl.Version != 1 {
			t.Errorf("valid spec without fleet or version: %q %d", fl.Name, fl.Version)
		}
	})
}
