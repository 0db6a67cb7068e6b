package fleets

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/deskfleet/deskfleet/engine"
)

// specYAML is a valid one-fleet spec named name, with one desktop of the same name.
func specYAML(name string) string {
	return `version: 1
fleet: ` + name + `
defaults: {site: 宿迁A, profile: win}
profiles:
  win: {product: {gpu: NVIDIA A5000, os: windows}, image: Windows10-公共镜像-图像处理型}
desktops:
  - {name: ` + name + `-ws, label: x}
`
}

// writeTree writes files (path -> content) under a new temporary folder and returns it.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, content := range files {
		full := filepath.Join(root, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return root
}

func TestDiscovery(t *testing.T) {
	tests := []struct {
		reason string
		files  map[string]string
		arg    string // the -f path below the root ("" is the root)
		repo   bool
		fleets []string // fleet folders found, relative to the root
	}{
		{reason: "a folder with a spec of its own is one fleet, as before",
			files: map[string]string{"fleet.yaml": specYAML("a"), "sub/fleet.yaml": specYAML("b")}, repo: false},
		{reason: "a folder of fleet folders is a repository, each folder one fleet, in folder order",
			files: map[string]string{"lab/fleet.yaml": specYAML("lab"), "course/fleet.yaml": specYAML("course")},
			repo:  true, fleets: []string{"course", "lab"}},
		{reason: "fleet.yml counts as fleet.yaml",
			files: map[string]string{"lab/fleet.yml": specYAML("lab")}, repo: true, fleets: []string{"lab"}},
		{reason: "a hidden file (a CI file) is not a spec: the root is still a repository",
			files: map[string]string{".gitlab-ci.yml": "stages: [plan]\n", "lab/fleet.yaml": specYAML("lab")},
			repo:  true, fleets: []string{"lab"}},
		{reason: "a folder without fleet.yaml (a shared base) is not a fleet",
			files: map[string]string{"base/common.yaml": specYAML("base"), "lab/fleet.yaml": specYAML("lab")},
			repo:  true, fleets: []string{"lab"}},
		{reason: "fleet folders are found below plain folders, up to three levels",
			files: map[string]string{"sites/eu/lab/fleet.yaml": specYAML("eu"), "a/b/c/d/fleet.yaml": specYAML("deep")},
			repo:  true, fleets: []string{"sites/eu/lab"}},
		{reason: "hidden folders (.git, .deskfleet) are not searched",
			files: map[string]string{".deskfleet/x/fleet.yaml": specYAML("x"), "lab/fleet.yaml": specYAML("lab")},
			repo:  true, fleets: []string{"lab"}},
		{reason: "fleets do not nest: a folder inside a fleet folder is part of that fleet",
			files: map[string]string{"lab/fleet.yaml": specYAML("lab"), "lab/old/fleet.yaml": specYAML("old")},
			repo:  true, fleets: []string{"lab"}},
		{reason: "a folder with no spec and no fleet folder is not a repository (the loader's error stands)",
			files: map[string]string{"docs/readme.md": "x"}, repo: false},
		{reason: "a spec file is one fleet's spec",
			files: map[string]string{"lab/fleet.yaml": specYAML("lab")}, arg: "lab/fleet.yaml", repo: false},
	}
	for _, tt := range tests {
		root := writeTree(t, tt.files)
		arg := filepath.Join(root, filepath.FromSlash(tt.arg))
		if got := IsRepo([]string{arg}); got != tt.repo {
			t.Errorf("%s: IsRepo = %v, want %v", tt.reason, got, tt.repo)
			continue
		}
		if !tt.repo {
			continue
		}
		r, err := Open(arg)
		if err != nil {
			t.Errorf("%s: Open: %v", tt.reason, err)
			continue
		}
		var got []string
		for _, f := range r.Fleets {
			rel, _ := filepath.Rel(root, f.Dir)
			got = append(got, filepath.ToSlash(rel))
		}
		if !slices.Equal(got, tt.fleets) {
			t.Errorf("%s: fleets %v, want %v", tt.reason, got, tt.fleets)
		}
	}
}

func TestIsRepoNeedsOnePath(t *testing.T) {
	root := writeTree(t, map[string]string{"lab/fleet.yaml": specYAML("lab"), "course/fleet.yaml": specYAML("course")})
	if IsRepo([]string{root, root}) {
		t.Error("two -f paths make one fleet's spec, never a repository")
	}
}

func TestOpenKeepsBrokenFleets(t *testing.T) {
	root := writeTree(t, map[string]string{"lab/fleet.yaml": specYAML("lab"), "bad/fleet.yaml": "version: 1\nfleet: bad\nbogus: 1\n"})
	r, err := Open(root)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Fleets) != 2 || r.Fleets[0].Err == nil || r.Fleets[0].Name() != "bad" || r.Fleets[1].Spec == nil {
		t.Fatalf("a fleet whose spec has errors is kept with its error and name, the others load: %+v", r.Fleets)
	}
	if src := r.Fleets[0].Sources(); len(src) != 1 || filepath.Base(src[0]) != "fleet.yaml" {
		t.Errorf("a broken fleet's sources are the files read: %v", src)
	}
}

func TestOpenRefusesDuplicateNames(t *testing.T) {
	root := writeTree(t, map[string]string{"lab/fleet.yaml": specYAML("lab"), "lab2/fleet.yaml": specYAML("lab")})
	_, err := Open(root)
	var dup *DuplicateError
	if !asDuplicate(err, &dup) || dup.Fleet != "lab" || !strings.Contains(err.Error(), "lab2") {
		t.Fatalf("two folders naming fleet lab must be refused, naming both: %v", err)
	}
	if exit, hint := Classify(err); exit != ExitError || !strings.Contains(hint, "fleet:") {
		t.Errorf("a duplicate is exit 1 with a hint: %v %q", exit, hint)
	}
}

func asDuplicate(err error, dup **DuplicateError) bool {
	d, ok := err.(*DuplicateError)
	*dup = d
	return ok
}

func TestIsBase(t *testing.T) {
	root := t.TempDir()
	base := &Fleet{Dir: filepath.Join(root, "base"), Spec: &engine.Spec{Sources: []string{filepath.Join(root, "base", "fleet.yaml")}}}
	staging := &Fleet{Dir: filepath.Join(root, "staging"), Spec: &engine.Spec{Sources: []string{
		filepath.Join(root, "base", "fleet.yaml"), filepath.Join(root, "staging", "fleet.yaml")}}}
	other := &Fleet{Dir: filepath.Join(root, "other"), Spec: &engine.Spec{Sources: []string{filepath.Join(root, "other", "fleet.yaml")}}}
	all := []*Fleet{base, staging, other}
	tests := []struct {
		reason string
		f      *Fleet
		want   bool
	}{
		{"a folder another fleet's spec reads (extends) is a base, not run", base, true},
		{"a fleet that extends another is a fleet", staging, false},
		{"a fleet nobody reads is a fleet", other, false},
	}
	for _, tt := range tests {
		if got := isBase(tt.f, all); got != tt.want {
			t.Errorf("%s: isBase(%s) = %v", tt.reason, filepath.Base(tt.f.Dir), got)
		}
	}
}
