package spec

import (
	"os"
	"path/filepath"
	"testing"
)

// fuzzBase is the base.yaml that inputs of FuzzLoad may extend.
const fuzzBase = `version: 1
fleet: base
defaults: {site: s, profile: p, bandwidth: 5}
billing: {m: {cycle: month, months: 1}}
profiles: {p: {product: {gpu: g}, image: i}}
accounts: [{email: a@example.com, name: a}]
desktops: [{name: d, count: 2, billing: m}, {name: e}]
bindings: {d: a@example.com}
`

// FuzzLoad feeds arbitrary bytes to Load through a file. Load must not panic, every diagnostic must
// name its file, and a spec with no error must keep the invariants later stages rely on. The seed
// corpus is every example plus spec/testdata/fuzz/FuzzLoad (run as ordinary tests by `go test`).
func FuzzLoad(f *testing.F) {
	seeds, _ := filepath.Glob("../examples/*/*.yaml")
	envs, _ := filepath.Glob("../examples/*/*/*.yaml")
	seeds = append(append(seeds, envs...), "testdata/spec-example.yaml")
	for _, s := range seeds {
		data, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	// One file per fuzzing process, rewritten for each input: a temporary folder per input would cost
	// more than Load itself. Next to it, base.yaml, a base an input may extend (the seeds with extends
	// in testdata/fuzz/FuzzLoad do).
	dir := f.TempDir()
	p := filepath.Join(dir, "fleet.yaml")
	if err := os.WriteFile(filepath.Join(dir, "base.yaml"), []byte(fuzzBase), 0o600); err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		fl, ds := Load(p)
		if fl == nil {
			t.Fatal("Load returned a nil fleet")
		}
		for _, d := range ds {
			// A diagnostic names the file, or a base it extends (a file that exists).
			if _, err := os.Stat(d.Pos.File); d.Pos.File != p && (d.Pos.File == "" || err != nil) {
				t.Errorf("diagnostic not naming the file or a base: %s", d)
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
